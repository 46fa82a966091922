//! Running a plan: bounded concurrency per target and overall, the overall slots shared out
//! between targets (a free slot goes to the target with the fewest cases in flight) so a slow
//! one cannot hold them, every case judged as soon as its exchange ends and handed to the
//! caller's sink at once (so a run of any size holds only the cases in flight), and events sent
//! to one consumer (the terminal). Cancellation stops scheduling and drops the in-flight
//! exchanges; finished cases are kept.
//!
//! Cases are spawned only when a slot is free: one scheduler loop owns every count, so no task
//! waits on a semaphore and none exists before it can run.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::exchange::Exchange;
use super::http::{Body, ClientOptions, MultipartPart, PreparedRequest, TargetClient};
use crate::judge::{self, CheckResult, Outcome, StepInput, Verdict};
use crate::load::suite::{MultipartValue, Step};
use crate::load::template::RenderContext;
use crate::load::{Case, SchemaStore, Target};
use crate::plan::PlannedCase;
use crate::redact::SecretRegistry;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overall cap on cases in flight.
    pub concurrency: usize,
    /// Default per-target cap (a target's `concurrency` overrides it).
    pub per_target: usize,
    pub client: ClientOptions,
}

#[derive(Debug)]
pub struct StepRecord {
    pub name: String,
    pub exchange: Exchange,
    pub verdict: Verdict,
}

/// Everything known about one case on one target once it ended.
#[derive(Debug)]
pub struct CaseRecord {
    pub target: Arc<Target>,
    pub case: Arc<Case>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub steps: Vec<StepRecord>,
    pub duration: Duration,
}

impl CaseRecord {
    pub fn warnings(&self) -> impl Iterator<Item = &CheckResult> {
        self.steps
            .iter()
            .flat_map(|s| s.verdict.checks.iter())
            .filter(|c| c.status == judge::CheckStatus::Warn)
    }
}

/// What the runner tells its one consumer.
#[derive(Debug)]
pub enum Event {
    Started { total: usize },
    CaseFinished { target: String, case: String },
}

pub struct RunResult {
    /// Whether the run was cancelled: only the cases handed to the sink finished.
    pub cancelled: bool,
}

/// Run every planned case, handing each finished one to `sink` with its index in the plan (in
/// the order they finish). Clients are built per target once (connection reuse).
pub async fn run(
    plan: Vec<PlannedCase>,
    schemas: Arc<SchemaStore>,
    opts: &RunOptions,
    secrets: SecretRegistry,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
    sink: &mut dyn FnMut(usize, CaseRecord),
) -> Result<RunResult, String> {
    let _ = events.send(Event::Started { total: plan.len() });
    let mut order = RepeatOrder::new(&plan);
    // One queue per target, in first-seen order, each keeping its cases in plan order.
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
                    queue: VecDeque::new(),
                });
                lanes.len() - 1
            }
        };
        lanes[lane].queue.push_back((idx, pc));
    }
    let mut slots = Slots {
        lanes,
        global: opts.concurrency.max(1),
        next_lane: 0,
        tasks: tokio::task::JoinSet::new(),
    };
    slots.fill(&schemas, &cancel);
    let mut finished = Vec::new();
    loop {
        let joined = tokio::select! {
            j = slots.tasks.join_next() => j,
            // Wake the loop to stop scheduling; the in-flight tasks end on their own.
            _ = cancel.cancelled(), if !cancel.is_cancelled() => continue,
        };
        let Some(joined) = joined else { break };
        // Take every case that has ended, refill their slots, and only then hand them over:
        // the sink's work (report entry, snapshot, recording) must not delay the next request.
        let mut next = Some(joined);
        while let Some(joined) = next {
            match joined {
                Ok((idx, lane, rec)) => {
                    slots.lanes[lane].in_flight -= 1;
                    finished.extend(order.arrive(idx, rec));
                }
                // Panics are caught inside the task; this is the runtime failing the task.
                Err(e) => return Err(format!("internal error: a case task failed: {e}")),
            }
            next = slots.tasks.try_join_next();
        }
        slots.fill(&schemas, &cancel);
        for (idx, rec) in finished.drain(..) {
            let _ = events.send(Event::CaseFinished {
                target: rec.target.name.clone(),
                case: rec.case.full_id(),
            });
            sink(idx, rec);
        }
    }
    // Cancelled: repeats held behind one that never finished.
    for (idx, rec) in order.rest() {
        sink(idx, rec);
    }
    Ok(RunResult {
        cancelled: cancel.is_cancelled(),
    })
}

/// Finished cases are handed over as they finish, except that the repeats of one case
/// (`--repeat`, consecutive in the plan) are handed over in plan order: the first repeat is the
/// one a snapshot is written from and later ones are compared with, whichever finishes first.
struct RepeatOrder {
    /// Whether a plan entry repeats the one before it (same target and case).
    repeats_previous: Vec<bool>,
    /// Whether a plan entry was handed over (or will never be: cancelled).
    done: Vec<bool>,
    /// Repeats waiting for an earlier one.
    held: BTreeMap<usize, CaseRecord>,
}

impl RepeatOrder {
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
    fn arrive(&mut self, idx: usize, rec: Option<CaseRecord>) -> Vec<(usize, CaseRecord)> {
        let mut out = Vec::new();
        if self.repeats_previous[idx] && !self.done[idx - 1] {
            if let Some(rec) = rec {
                self.held.insert(idx, rec);
            } else {
                self.done[idx] = true;
            }
            return out;
        }
        self.done[idx] = true;
        out.extend(rec.map(|r| (idx, r)));
        // Later repeats that were waiting for this one.
        let mut next = idx + 1;
        while next < self.done.len() && self.repeats_previous[next] {
            match self.held.remove(&next) {
                Some(r) => {
                    self.done[next] = true;
                    out.push((next, r));
                }
                None if self.done[next] => {}
                None => break,
            }
            next += 1;
        }
        out
    }

    /// Whatever is still held (a run cancelled before an earlier repeat finished), in order.
    fn rest(self) -> impl Iterator<Item = (usize, CaseRecord)> {
        self.held.into_iter()
    }
}

/// The run's slots: every target's queue and count, the overall count, the running tasks.
struct Slots {
    lanes: Vec<Lane>,
    global: usize,
    /// Where the next round-robin turn starts.
    next_lane: usize,
    /// The cases in flight (their number is the overall count); each yields (plan index,
    /// lane, the record unless cancelled).
    tasks: tokio::task::JoinSet<(usize, usize, Option<CaseRecord>)>,
}

impl Slots {
    /// Start cases while both limits have room. Each free slot goes to the target with the
    /// fewest cases in flight among those with work and room under their own cap (ties: in
    /// turn), so a slow target's cases cannot pile up in the overall slots while another
    /// target waits: the slots are shared out, not just the turns.
    fn fill(&mut self, schemas: &Arc<SchemaStore>, cancel: &CancellationToken) {
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
            let (idx, pc) = l.queue.pop_front().expect("checked non-empty");
            l.in_flight += 1;
            let (client, schemas, cancel) = (l.client.clone(), schemas.clone(), cancel.clone());
            self.tasks.spawn(async move {
                let case = guarded(&pc, run_case(&client, &pc, &schemas));
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => (idx, lane, None),
                    rec = case => (idx, lane, Some(rec)),
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

/// Run a case; a bug that panics inside becomes that case's `error`, and the run and its
/// reports go on.
async fn guarded(pc: &PlannedCase, case: impl Future<Output = CaseRecord>) -> CaseRecord {
    AssertUnwindSafe(case)
        .catch_unwind()
        .await
        .unwrap_or_else(|p| panicked(pc, &*p))
}

/// The record of a case whose run panicked (a bug in llm-parity, reported as the case's error).
fn panicked(pc: &PlannedCase, payload: &(dyn std::any::Any + Send)) -> CaseRecord {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    CaseRecord {
        target: pc.target.clone(),
        case: pc.case.clone(),
        outcome: Outcome::Error,
        reason: Some(format!(
            "internal error in llm-parity (please report it): {what}"
        )),
        steps: Vec::new(),
        duration: Duration::ZERO,
    }
}

/// Run one case: its steps in order, captures flowing forward, stopping at the first non-pass.
pub async fn run_case(
    client: &TargetClient,
    pc: &PlannedCase,
    schemas: &SchemaStore,
) -> CaseRecord {
    let start = Instant::now();
    let mut record = CaseRecord {
        target: pc.target.clone(),
        case: pc.case.clone(),
        outcome: Outcome::Pass,
        reason: None,
        // Sized exactly: an empty Vec grows to 4 slots, which for large records stays wasted.
        steps: Vec::with_capacity(pc.case.steps.len()),
        duration: Duration::ZERO,
    };
    if let Some((outcome, reason)) = &pc.decided {
        record.outcome = *outcome;
        record.reason = Some(reason.clone());
        return record;
    }
    let mut captures: BTreeMap<String, Value> = BTreeMap::new();
    let many = pc.case.steps.len() > 1;
    for step in &pc.case.steps {
        let prepared = match prepare(step, &pc.target, &captures) {
            Ok(p) => p,
            Err(e) => {
                record.outcome = Outcome::Skip;
                record.reason = Some(e);
                break;
            }
        };
        let exchange = client.send(&prepared).await;
        let body = match &prepared.body {
            Body::Json(v) => Some(v),
            _ => None,
        };
        let mut verdict = judge::judge_step(&StepInput {
            step,
            request: body,
            request_path: &prepared.path,
            exchange: &exchange,
            schemas,
            target: &pc.target,
        });
        if verdict.outcome == Outcome::Pass {
            capture(step, &exchange, &mut captures, &mut verdict);
        }
        let outcome = verdict.outcome;
        let mut reason = verdict.reason.clone();
        // Retries must not hide flakiness: a result reached after retries says so.
        if exchange.attempt_log.len() > 1 {
            reason = reason.map(|r| format!("{r} (after {} attempts)", exchange.attempts));
        }
        record.steps.push(StepRecord {
            name: step.name.clone(),
            exchange,
            verdict,
        });
        if outcome != Outcome::Pass {
            record.outcome = outcome;
            record.reason = reason.map(|r| {
                if many {
                    format!("{}: {r}", step.name)
                } else {
                    r
                }
            });
            break;
        }
    }
    record.duration = start.elapsed();
    record
}

fn capture(
    step: &Step,
    ex: &Exchange,
    captures: &mut BTreeMap<String, Value>,
    verdict: &mut Verdict,
) {
    let Some(body) = ex.response.as_ref().and_then(|r| r.json.as_ref()) else {
        if !step.capture.is_empty() {
            *verdict = Verdict::from_checks(vec![CheckResult::fail(
                "capture",
                "nothing to capture from: the body is not JSON",
            )]);
        }
        return;
    };
    for (name, path) in &step.capture {
        match path.query(body).first() {
            Some(v) => {
                captures.insert(name.clone(), v.clone());
            }
            None => {
                let mut checks = std::mem::take(&mut verdict.checks);
                checks.push(
                    CheckResult::fail("capture", format!("`{name}`: the path matched nothing"))
                        .at(path.to_string()),
                );
                *verdict = Verdict::from_checks(checks);
                return;
            }
        }
    }
}

/// Render a step's templates for this target.
pub fn prepare(
    step: &Step,
    target: &Target,
    captures: &BTreeMap<String, Value>,
) -> Result<PreparedRequest, String> {
    let ctx = RenderContext {
        models: &target.models,
        captures,
    };
    let r = &step.request;
    let as_text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let path = as_text(r.path.render(&ctx).map_err(|e| e.to_string())?);
    let mut headers = Vec::new();
    for (k, v) in &r.headers {
        headers.push((
            k.clone(),
            as_text(v.render(&ctx).map_err(|e| e.to_string())?),
        ));
    }
    let body = if let Some(b) = &r.body {
        Body::Json(b.render(&ctx).map_err(|e| e.to_string())?)
    } else if let Some(raw) = &r.raw_body {
        Body::Raw(raw.clone())
    } else if !r.multipart.is_empty() {
        let mut parts = Vec::new();
        for (name, m) in &r.multipart {
            parts.push((
                name.clone(),
                match m {
                    MultipartValue::Text(t) => MultipartPart::Text(t.clone()),
                    MultipartValue::File { filename, content } => MultipartPart::File {
                        filename: filename.clone(),
                        bytes: as_text(content.render(&ctx).map_err(|e| e.to_string())?)
                            .into_bytes(),
                    },
                },
            ));
        }
        Body::Multipart(parts)
    } else {
        Body::None
    };
    Ok(PreparedRequest {
        method: r.method.clone(),
        path,
        headers,
        body,
        auth: r.auth,
        stream: r.stream,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn rec(t: &Arc<Target>, c: &Arc<Case>) -> Option<CaseRecord> {
        Some(testing::record(t, c, Outcome::Pass, serde_json::json!({})))
    }

    fn indices(v: Vec<(usize, CaseRecord)>) -> Vec<usize> {
        v.into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn repeats_are_handed_over_in_plan_order_other_cases_at_once() {
        let (t, u) = (testing::target("t"), testing::target("u"));
        let (a, b) = (testing::case("a"), testing::case("b"));
        // t/a ×3, t/b, u/a ×2
        let p = plan(&[(&t, &a), (&t, &a), (&t, &a), (&t, &b), (&u, &a), (&u, &a)]);
        let mut o = RepeatOrder::new(&p);
        assert_eq!(indices(o.arrive(2, rec(&t, &a))), Vec::<usize>::new());
        assert_eq!(indices(o.arrive(3, rec(&t, &b))), [3]);
        assert_eq!(indices(o.arrive(5, rec(&u, &a))), Vec::<usize>::new());
        assert_eq!(indices(o.arrive(4, rec(&u, &a))), [4, 5]);
        assert_eq!(indices(o.arrive(1, rec(&t, &a))), Vec::<usize>::new());
        assert_eq!(indices(o.arrive(0, rec(&t, &a))), [0, 1, 2]);
        assert_eq!(o.rest().count(), 0);
    }

    #[test]
    fn a_cancelled_repeat_does_not_hold_the_others_forever() {
        let t = testing::target("t");
        let a = testing::case("a");
        let p = plan(&[(&t, &a), (&t, &a), (&t, &a)]);
        let mut o = RepeatOrder::new(&p);
        assert!(o.arrive(2, rec(&t, &a)).is_empty());
        // The second was cancelled; the first's arrival releases the third.
        assert!(o.arrive(1, None).is_empty());
        assert_eq!(indices(o.arrive(0, rec(&t, &a))), [0, 2]);
        // Cancelled before the first finished: what is held comes out at the end, in order.
        let mut o = RepeatOrder::new(&p);
        assert!(o.arrive(2, rec(&t, &a)).is_empty());
        assert!(o.arrive(1, rec(&t, &a)).is_empty());
        assert_eq!(o.rest().map(|(i, _)| i).collect::<Vec<_>>(), [1, 2]);
    }

    #[tokio::test]
    async fn a_panicking_case_becomes_its_error_and_the_run_goes_on() {
        let t = testing::target("t");
        let a = testing::case("a");
        let pc = &plan(&[(&t, &a)])[0];
        let rec = guarded(pc, async { panic!("boom at step 2") }).await;
        assert_eq!(rec.outcome, Outcome::Error);
        let reason = rec.reason.unwrap();
        assert!(
            reason.contains("internal error") && reason.contains("boom at step 2"),
            "{reason}"
        );
    }
}
