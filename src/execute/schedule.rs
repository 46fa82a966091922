//! Scheduling a plan: bounded concurrency per target and overall, the overall slots shared out
//! between targets (a free slot goes to the target with the fewest cases in flight) so a slow
//! one cannot hold them, and every case handed to the caller as soon as it ends (so a run of
//! any size holds only the cases in flight). What a case *is* — render, send, judge — is the
//! caller's: the scheduler starts the future the caller makes for each case and reports what
//! happens to it, with the notes the case sends while it runs, to one consumer. Cancellation
//! stops scheduling and drops the in-flight cases; finished ones are kept.
//!
//! Cases are spawned only when a slot is free: one scheduler loop owns every count, so no task
//! waits on a semaphore and none exists before it can run.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::http::{ClientOptions, TargetClient};
use crate::load::{Case, Target};
use crate::plan::PlannedCase;
use crate::redact::SecretRegistry;

#[derive(Debug, Clone)]
pub struct ScheduleOptions {
    /// Overall cap on cases in flight.
    pub concurrency: usize,
    /// Default per-target cap (a target's `concurrency` overrides it).
    pub per_target: usize,
    pub client: ClientOptions,
    /// A case still running after this long is reported slow, and again after each further
    /// period (as nextest's slow-timeout does).
    pub slow_after: Duration,
}

/// One case the scheduler starts: its place in the plan, what to run, its target's client
/// (shared by the target's cases: connection reuse) and where to send notes while it runs.
pub struct CaseSlot<N> {
    pub index: usize,
    pub planned: PlannedCase,
    pub client: Arc<TargetClient>,
    pub notes: Notes<N>,
}

/// Sends a running case's notes (a retry, say) to the scheduler's consumer.
pub struct Notes<N> {
    index: usize,
    tx: mpsc::UnboundedSender<(usize, Msg<N>)>,
}

impl<N> Notes<N> {
    pub fn send(&self, note: N) {
        // The consumer outlives every case; a send after the run ended is moot.
        let _ = self.tx.send((self.index, Msg::Note(note)));
    }
}

/// What reaches the scheduler loop from a running case.
enum Msg<N> {
    Note(N),
    Slow(Duration),
}

/// What the scheduler tells its one consumer, in the order it happens.
#[derive(Debug)]
pub enum Scheduled<R, N> {
    /// Plan entry `index` was started: the case on the target. (What names a running case is
    /// the consumer's to keep, for as long as it runs: the plan is not kept.)
    Started {
        index: usize,
        target: Arc<Target>,
        case: Arc<Case>,
    },
    /// A running case sent a note.
    Note { index: usize, note: N },
    /// Plan entry `index` has been running for `elapsed` (each `slow_after`).
    Slow { index: usize, elapsed: Duration },
    /// Plan entry `index` finished with `output`. Entries arrive as they finish, except that
    /// the repeats of one case arrive in plan order (see `RepeatOrder`).
    Finished { index: usize, output: R },
    /// The run was cancelled: nothing more starts, the cases in flight are dropped.
    Cancelled,
}

/// Why the scheduler could not run the plan.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Client(#[from] super::http::ClientError),
    /// Panics are caught by the caller's case futures; this is the runtime failing a task.
    #[error("internal error: a case task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Run every planned case: `start` makes each case's future when its slot is free, and `on`
/// hears everything that happens, from this one loop. Returns whether the run was cancelled
/// (then only the cases reported `Finished` ran to their end).
pub async fn run<R, N, F, Fut>(
    plan: Vec<PlannedCase>,
    opts: &ScheduleOptions,
    secrets: SecretRegistry,
    cancel: CancellationToken,
    mut start: F,
    on: &mut dyn FnMut(Scheduled<R, N>),
) -> Result<bool, ScheduleError>
where
    R: Send + 'static,
    N: Send + 'static,
    F: FnMut(CaseSlot<N>) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
{
    let mut order = RepeatOrder::new(&plan);
    // One queue per target, in first-seen order, each keeping its cases in plan order: sized
    // once (a large plan is copied into its queues, not grown into them).
    let mut sizes: Vec<(&str, usize)> = Vec::new();
    for pc in &plan {
        match sizes.iter_mut().find(|(t, _)| *t == pc.target.name) {
            Some((_, n)) => *n += 1,
            None => sizes.push((&pc.target.name, 1)),
        }
    }
    let sizes: Vec<usize> = sizes.into_iter().map(|(_, n)| n).collect();
    let mut lanes: Vec<Lane> = Vec::new();
    for (idx, pc) in plan.into_iter().enumerate() {
        let lane = match lanes.iter().position(|l| l.target == pc.target.name) {
            Some(i) => i,
            None => {
                let client =
                    TargetClient::new(pc.target.clone(), opts.client.clone(), secrets.clone())?;
                lanes.push(Lane {
                    target: pc.target.name.clone(),
                    client: Arc::new(client),
                    limit: pc.target.concurrency.unwrap_or(opts.per_target).max(1),
                    in_flight: 0,
                    queue: VecDeque::with_capacity(sizes[lanes.len()]),
                });
                lanes.len() - 1
            }
        };
        lanes[lane].queue.push_back((idx, pc));
    }
    let (notes_tx, mut notes) = mpsc::unbounded_channel();
    let mut slots = Slots {
        lanes,
        global: opts.concurrency.max(1),
        next_lane: 0,
        tasks: tokio::task::JoinSet::new(),
        notes: notes_tx,
        slow_after: opts.slow_after,
    };
    let tell = |on: &mut dyn FnMut(Scheduled<R, N>), index, msg| match msg {
        Msg::Note(note) => on(Scheduled::Note { index, note }),
        Msg::Slow(elapsed) => on(Scheduled::Slow { index, elapsed }),
    };
    slots.fill(&cancel, &mut start, on);
    let mut finished = Vec::new();
    let mut told_cancelled = false;
    loop {
        let joined = tokio::select! {
            // Notes first: a case's retry is told before the case's end.
            biased;
            Some((index, msg)) = notes.recv() => {
                tell(on, index, msg);
                continue;
            }
            // Wake the loop to stop scheduling; the in-flight tasks end on their own.
            _ = cancel.cancelled(), if !told_cancelled => {
                told_cancelled = true;
                on(Scheduled::Cancelled);
                continue;
            }
            j = slots.tasks.join_next() => j,
        };
        let Some(joined) = joined else { break };
        // Take every case that has ended, refill their slots, and only then hand them over:
        // the consumer's work (report entry, snapshot, recording) must not delay the next
        // request.
        let mut next = Some(joined);
        while let Some(joined) = next {
            let (idx, lane, output) = joined?;
            slots.lanes[lane].in_flight -= 1;
            finished.extend(order.arrive(idx, output));
            next = slots.tasks.try_join_next();
        }
        slots.fill(&cancel, &mut start, on);
        // Notes sent before a case ended are told before it.
        while let Ok((index, msg)) = notes.try_recv() {
            tell(on, index, msg);
        }
        for (index, output) in finished.drain(..) {
            on(Scheduled::Finished { index, output });
        }
    }
    if cancel.is_cancelled() && !told_cancelled {
        on(Scheduled::Cancelled);
    }
    // Cancelled: repeats held behind one that never finished.
    for (index, output) in order.rest() {
        on(Scheduled::Finished { index, output });
    }
    Ok(cancel.is_cancelled())
}

/// Finished cases are handed over as they finish, except that the repeats of one case
/// (`--repeat`, consecutive in the plan) are handed over in plan order: the first repeat is the
/// one a snapshot is written from and later ones are compared with, whichever finishes first.
struct RepeatOrder<R> {
    /// Whether a plan entry repeats the one before it (same target and case).
    repeats_previous: Vec<bool>,
    /// Whether a plan entry was handed over (or will never be: cancelled).
    done: Vec<bool>,
    /// Repeats waiting for an earlier one.
    held: BTreeMap<usize, R>,
}

impl<R> RepeatOrder<R> {
    fn new(plan: &[PlannedCase]) -> Self {
        let repeats_previous = (0..plan.len())
            .map(|i| {
                i > 0
                    && Arc::ptr_eq(&plan[i].case, &plan[i - 1].case)
                    && plan[i].target.name == plan[i - 1].target.name
            })
            .collect();
        RepeatOrder {
            repeats_previous,
            done: vec![false; plan.len()],
            held: BTreeMap::new(),
        }
    }

    /// Plan entry `idx` ended (`None`: cancelled); what can be handed over now, in order.
    fn arrive(&mut self, idx: usize, out: Option<R>) -> Vec<(usize, R)> {
        let mut ready = Vec::new();
        if self.repeats_previous[idx] && !self.done[idx - 1] {
            if let Some(out) = out {
                self.held.insert(idx, out);
            } else {
                self.done[idx] = true;
            }
            return ready;
        }
        self.done[idx] = true;
        ready.extend(out.map(|r| (idx, r)));
        // Later repeats that were waiting for this one.
        let mut next = idx + 1;
        while next < self.done.len() && self.repeats_previous[next] {
            match self.held.remove(&next) {
                Some(r) => {
                    self.done[next] = true;
                    ready.push((next, r));
                }
                None if self.done[next] => {}
                None => break,
            }
            next += 1;
        }
        ready
    }

    /// Whatever is still held (a run cancelled before an earlier repeat finished), in order.
    fn rest(self) -> impl Iterator<Item = (usize, R)> {
        self.held.into_iter()
    }
}

/// The run's slots: every target's queue and count, the overall count, the running tasks.
struct Slots<R, N> {
    lanes: Vec<Lane>,
    global: usize,
    /// Where the next round-robin turn starts.
    next_lane: usize,
    /// The cases in flight (their number is the overall count); each yields (plan index,
    /// lane, the output unless cancelled).
    tasks: tokio::task::JoinSet<(usize, usize, Option<R>)>,
    notes: mpsc::UnboundedSender<(usize, Msg<N>)>,
    slow_after: Duration,
}

impl<R: Send + 'static, N: Send + 'static> Slots<R, N> {
    /// Start cases while both limits have room. Each free slot goes to the target with the
    /// fewest cases in flight among those with work and room under their own cap (ties: in
    /// turn), so a slow target's cases cannot pile up in the overall slots while another
    /// target waits: the slots are shared out, not just the turns.
    fn fill<F, Fut>(
        &mut self,
        cancel: &CancellationToken,
        start: &mut F,
        on: &mut dyn FnMut(Scheduled<R, N>),
    ) where
        F: FnMut(CaseSlot<N>) -> Fut,
        Fut: Future<Output = R> + Send + 'static,
    {
        if cancel.is_cancelled() {
            return;
        }
        let n = self.lanes.len();
        while self.tasks.len() < self.global {
            let lanes = &self.lanes;
            let Some(lane) = (0..n)
                .map(|k| (self.next_lane + k) % n)
                .filter(|&i| lanes[i].in_flight < lanes[i].limit && !lanes[i].queue.is_empty())
                .min_by_key(|&i| lanes[i].in_flight)
            else {
                return;
            };
            self.next_lane = (lane + 1) % n;
            let l = &mut self.lanes[lane];
            let (index, planned) = l.queue.pop_front().expect("checked non-empty");
            l.in_flight += 1;
            let (target, named) = (planned.target.clone(), planned.case.clone());
            // Boxed: a case's future is several KB, and the task would otherwise copy it
            // whole each time it is moved (into the task, into the runtime's cell, and with
            // the cell when the task's output is read).
            let mut case = Box::pin(start(CaseSlot {
                index,
                planned,
                client: l.client.clone(),
                notes: Notes {
                    index,
                    tx: self.notes.clone(),
                },
            }));
            on(Scheduled::Started {
                index,
                target,
                case: named,
            });
            let (cancel, notes, period) = (cancel.clone(), self.notes.clone(), self.slow_after);
            self.tasks.spawn(async move {
                let started = tokio::time::Instant::now();
                let mut slow_at = started + period;
                loop {
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return (index, lane, None),
                        out = &mut case => return (index, lane, Some(out)),
                        _ = tokio::time::sleep_until(slow_at), if !period.is_zero() => {
                            let _ = notes.send((index, Msg::Slow(slow_at - started)));
                            slow_at += period;
                        }
                    }
                }
            });
        }
    }
}

/// One target's share of the run: its client, its cap and its waiting cases.
struct Lane {
    target: String,
    client: Arc<TargetClient>,
    limit: usize,
    in_flight: usize,
    queue: VecDeque<(usize, PlannedCase)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Case, Target};
    use crate::testing;

    fn plan(entries: &[(&Arc<Target>, &Arc<Case>)]) -> Vec<PlannedCase> {
        entries
            .iter()
            .map(|(t, c)| PlannedCase {
                target: (*t).clone(),
                case: (*c).clone(),
                decided: None,
            })
            .collect()
    }

    fn indices(v: Vec<(usize, &str)>) -> Vec<usize> {
        v.into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn repeats_are_handed_over_in_plan_order_other_cases_at_once() {
        let (t, u) = (testing::target("t"), testing::target("u"));
        let (a, b) = (testing::case("a"), testing::case("b"));
        // t/a ×3, t/b, u/a ×2
        let p = plan(&[(&t, &a), (&t, &a), (&t, &a), (&t, &b), (&u, &a), (&u, &a)]);
        let mut o = RepeatOrder::new(&p);
        assert_eq!(indices(o.arrive(2, Some("x"))), Vec::<usize>::new());
        assert_eq!(indices(o.arrive(3, Some("x"))), [3]);
        assert_eq!(indices(o.arrive(5, Some("x"))), Vec::<usize>::new());
        assert_eq!(indices(o.arrive(4, Some("x"))), [4, 5]);
        assert_eq!(indices(o.arrive(1, Some("x"))), Vec::<usize>::new());
        assert_eq!(indices(o.arrive(0, Some("x"))), [0, 1, 2]);
        assert_eq!(o.rest().count(), 0);
    }

    #[test]
    fn a_cancelled_repeat_does_not_hold_the_others_forever() {
        let t = testing::target("t");
        let a = testing::case("a");
        let p = plan(&[(&t, &a), (&t, &a), (&t, &a)]);
        let mut o = RepeatOrder::new(&p);
        assert!(o.arrive(2, Some("x")).is_empty());
        // The second was cancelled; the first's arrival releases the third.
        assert!(o.arrive(1, None).is_empty());
        assert_eq!(indices(o.arrive(0, Some("x"))), [0, 2]);
        // Cancelled before the first finished: what is held comes out at the end, in order.
        let mut o = RepeatOrder::new(&p);
        assert!(o.arrive(2, Some("x")).is_empty());
        assert!(o.arrive(1, Some("x")).is_empty());
        assert_eq!(o.rest().map(|(i, _)| i).collect::<Vec<_>>(), [1, 2]);
    }

    #[tokio::test]
    async fn every_case_starts_finishes_and_its_notes_come_before_its_end() {
        let t = testing::target("t");
        let (a, b) = (testing::case("a"), testing::case("b"));
        let p = plan(&[(&t, &a), (&t, &b)]);
        let opts = ScheduleOptions {
            concurrency: 2,
            per_target: 2,
            client: ClientOptions::default(),
            slow_after: Duration::ZERO,
        };
        let mut seen = Vec::new();
        let cancelled = run(
            p,
            &opts,
            SecretRegistry::default(),
            CancellationToken::new(),
            |slot: CaseSlot<&'static str>| async move {
                slot.notes.send("retry");
                slot.planned.case.id.clone()
            },
            &mut |ev| {
                seen.push(match ev {
                    Scheduled::Started { index, .. } => format!("start {index}"),
                    Scheduled::Note { index, note } => format!("note {index} {note}"),
                    Scheduled::Slow { index, .. } => format!("slow {index}"),
                    Scheduled::Finished { index, output } => format!("end {index} {output}"),
                    Scheduled::Cancelled => "cancelled".into(),
                })
            },
        )
        .await
        .unwrap();
        assert!(!cancelled);
        for i in 0..2 {
            let pos = |s: &str| seen.iter().position(|x| x.starts_with(s));
            let (start, note, end) = (
                pos(&format!("start {i}")).unwrap(),
                pos(&format!("note {i}")).unwrap(),
                pos(&format!("end {i}")).unwrap(),
            );
            assert!(start < note && note < end, "{seen:?}");
        }
        assert!(seen.contains(&"end 1 b".to_string()), "{seen:?}");
    }

    #[tokio::test]
    async fn a_cancelled_run_says_so_once_and_drops_the_cases_in_flight() {
        let t = testing::target("t");
        let a = testing::case("a");
        let cancel = CancellationToken::new();
        let mut seen = Vec::new();
        let opts = ScheduleOptions {
            concurrency: 1,
            per_target: 1,
            client: ClientOptions::default(),
            slow_after: Duration::ZERO,
        };
        let stop = cancel.clone();
        let cancelled = run(
            plan(&[(&t, &a), (&t, &a)]),
            &opts,
            SecretRegistry::default(),
            cancel,
            move |_slot: CaseSlot<()>| {
                stop.cancel();
                std::future::pending::<()>()
            },
            &mut |ev| {
                seen.push(match ev {
                    Scheduled::Started { .. } => "start",
                    Scheduled::Note { .. } => "note",
                    Scheduled::Slow { .. } => "slow",
                    Scheduled::Finished { .. } => "end",
                    Scheduled::Cancelled => "cancelled",
                })
            },
        )
        .await
        .unwrap();
        assert!(cancelled);
        assert_eq!(seen, ["start", "cancelled"]);
    }
}

#[cfg(test)]
mod slow_tests {
    use super::*;
    use crate::testing;

    // Paused time: the clock advances only when every task waits, so no wall-clock timing.
    #[tokio::test(start_paused = true)]
    async fn a_long_case_is_reported_slow_each_period() {
        let t = testing::target("t");
        let a = testing::case("a");
        let plan = vec![PlannedCase {
            target: t,
            case: a,
            decided: None,
        }];
        let opts = ScheduleOptions {
            concurrency: 1,
            per_target: 1,
            client: ClientOptions::default(),
            slow_after: Duration::from_secs(10),
        };
        let mut slow = Vec::new();
        run(
            plan,
            &opts,
            SecretRegistry::default(),
            CancellationToken::new(),
            |_slot: CaseSlot<()>| tokio::time::sleep(Duration::from_secs(25)),
            &mut |ev| {
                if let Scheduled::Slow { index, elapsed } = ev {
                    slow.push((index, elapsed.as_secs()));
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(slow, [(0, 10), (0, 20)]);
    }
}
