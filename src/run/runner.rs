//! Running a plan: the scheduler starts each case's driver when a slot is free; each case that
//! ends gets its last check (the snapshot comparison, in plan order) and its outcome, and every
//! step of the way is told to the session as a named event.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::case::{self, RetryNote};
use super::events::{Cause, Consumer, Event};
use super::stop::Stopper;
use crate::execute::schedule::{self, CaseSlot, ScheduleError, ScheduleOptions, Scheduled};
use crate::judge;
use crate::judge::FinishedCase;
use crate::load::{Case, SchemaStore, Target};
use crate::plan::PlannedCase;
use crate::redact::SecretRegistry;
use crate::snapshot::Verifier;

/// Run `plan`, telling `session` everything as it happens. `snapshots` compares (and per its
/// action writes) each finished case's snapshot before its outcome is derived: a mismatch fails
/// the case. Returns why the run stopped early, if it did.
pub async fn run(
    plan: Vec<PlannedCase>,
    schemas: Arc<SchemaStore>,
    opts: &ScheduleOptions,
    secrets: SecretRegistry,
    stopper: &Stopper,
    mut snapshots: Option<&mut Verifier<'_>>,
    session: &mut dyn Consumer,
) -> Result<Option<Cause>, ScheduleError> {
    let started = Instant::now();
    session.event(&Event::RunStarted { cases: plan.len() });
    // What names each case in flight (by plan index) for the events while it runs: as many as
    // run at once, not one per planned case.
    let mut running: HashMap<usize, (Arc<Target>, Arc<Case>)> = HashMap::new();
    let cause = || stopper.cause().unwrap_or(Cause::Interrupt);
    let start = |slot: CaseSlot<RetryNote>| {
        let notes = slot.notes;
        case::run(slot.client, slot.planned, schemas.clone(), move |n| {
            notes.send(n)
        })
    };
    let cancelled = schedule::run(
        plan,
        opts,
        secrets,
        stopper.token(),
        start,
        &mut |s: Scheduled<FinishedCase, RetryNote>| match s {
            Scheduled::Started {
                index,
                target,
                case,
            } => {
                session.event(&Event::CaseStarted {
                    index,
                    target: &target,
                    case: &case,
                });
                running.insert(index, (target, case));
            }
            Scheduled::Note { index, note } => {
                if let Some((target, case)) = running.get(&index) {
                    session.event(&Event::Retry {
                        index,
                        target,
                        case,
                        retry: &note,
                    });
                }
            }
            Scheduled::Slow { index, elapsed } => {
                if let Some((target, case)) = running.get(&index) {
                    session.event(&Event::CaseSlow {
                        index,
                        target,
                        case,
                        elapsed,
                    });
                }
            }
            Scheduled::Finished {
                index,
                output: mut finished,
            } => {
                running.remove(&index);
                if let Some(v) = snapshots.as_deref_mut() {
                    v.check(&mut finished);
                }
                let ending = finished.ending();
                let outcome = judge::case_outcome(std::slice::from_ref(&ending));
                session.event(&Event::CaseFinished {
                    index,
                    finished: &finished,
                    ending: &ending,
                    outcome: &outcome,
                });
            }
            Scheduled::Cancelled => session.event(&Event::Cancelled { cause: cause() }),
        },
    )
    .await?;
    let cancelled = cancelled.then(cause);
    session.event(&Event::RunFinished {
        cancelled,
        elapsed: started.elapsed(),
    });
    Ok(cancelled)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::execute::http::ClientOptions;
    use crate::execute::retry::RetryPolicy;
    use crate::testing;

    /// Every event, as one line.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl Consumer for Log {
        fn event(&mut self, event: &Event<'_>) {
            self.0.push(match event {
                Event::RunStarted { cases } => format!("run started: {cases}"),
                Event::CaseStarted { index, case, .. } => format!("started {index} {}", case.id),
                Event::Retry { index, retry, .. } => format!(
                    "retry {index} {} attempt {}: {}",
                    retry.step, retry.attempt, retry.because
                ),
                Event::CaseSlow { index, .. } => format!("slow {index}"),
                Event::CaseFinished { index, outcome, .. } => format!(
                    "finished {index} {} {}",
                    outcome.outcome,
                    outcome.reason.as_deref().unwrap_or("-")
                ),
                Event::Cancelled { cause } => format!("cancelled: {cause:?}"),
                Event::RunFinished { cancelled, .. } => format!("run finished: {cancelled:?}"),
            });
        }
    }

    fn options(retries: u32) -> ScheduleOptions {
        ScheduleOptions {
            concurrency: 2,
            per_target: 2,
            slow_after: Duration::ZERO,
            client: ClientOptions {
                retry: RetryPolicy {
                    retries,
                    base_delay: Duration::ZERO,
                    max_delay: Duration::ZERO,
                },
                ..ClientOptions::default()
            },
        }
    }

    fn one_case(base_url: &str) -> Vec<PlannedCase> {
        vec![PlannedCase {
            target: testing::target_at("t", base_url),
            case: testing::case("a"),
            decided: None,
        }]
    }

    #[tokio::test]
    async fn a_retry_is_told_as_it_happens_and_the_finished_case_carries_its_outcome() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let mut log = Log::default();
        let cancelled = run(
            one_case(&format!("{}/v1", server.uri())),
            SchemaStore::load(None).unwrap(),
            &options(1),
            SecretRegistry::default(),
            &Stopper::default(),
            None,
            &mut log,
        )
        .await
        .unwrap();
        assert_eq!(cancelled, None);
        assert_eq!(
            log.0,
            [
                "run started: 1",
                "started 0 a",
                "retry 0 step 1 attempt 1: HTTP 503",
                "finished 0 fail status: HTTP 500, expected 200 (after 2 attempts)",
                "run finished: None",
            ],
        );
    }

    #[tokio::test]
    async fn a_stopped_run_tells_its_cause_and_finishes_nothing() {
        let stopper = Stopper::default();
        stopper.stop(Cause::RunTimeout(Duration::from_secs(5)));
        let mut log = Log::default();
        let cancelled = run(
            one_case("http://127.0.0.1:9/v1"),
            SchemaStore::load(None).unwrap(),
            &options(0),
            SecretRegistry::default(),
            &stopper,
            None,
            &mut log,
        )
        .await
        .unwrap();
        let cause = Cause::RunTimeout(Duration::from_secs(5));
        assert_eq!(cancelled, Some(cause));
        assert_eq!(
            log.0,
            [
                "run started: 1".to_string(),
                format!("cancelled: {cause:?}"),
                format!("run finished: {:?}", Some(cause)),
            ],
        );
    }
}
