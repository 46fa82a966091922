//! The case driver: running one case on one target — render each step's request, send it,
//! judge the exchange, capture values for the next step — stopping at the first step that does
//! not pass. It sits above `execute` (which sends) and `judge` (which decides), so neither
//! knows the other. A finished case (`judge::FinishedCase`) holds what happened; its outcome and
//! reason are derived from it by `judge::case_outcome`, never set here.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use serde_json::Value;

use crate::execute::exchange::Attempt;
use crate::execute::exchange::Exchange;
use crate::execute::http::{Body, MultipartPart, PreparedRequest, TargetClient};
use crate::judge::{
    self, CheckResult, FinishedCase, FinishedStep, Outcome, PollState, StepInput, Stop, Verdict,
};
use crate::load::suite::{FileContent, MultipartValue, Step};
use crate::load::template::{RenderContext, RenderError};
use crate::load::{SchemaStore, Target};
use crate::plan::PlannedCase;

/// A retried attempt of one of a case's steps, as it happens.
#[derive(Debug, Clone)]
pub struct RetryNote {
    pub step: String,
    /// The retried attempt, 1-based.
    pub attempt: usize,
    /// `HTTP 503`, `connection failed`, or the free re-send of a closed connection.
    pub because: String,
    /// The wait before the next attempt (none for the free re-send).
    pub delay: Option<Duration>,
}

/// Run a case, catching a panic inside it as the case's `error` so the run and its reports go
/// on. `on_retry` hears of each retried attempt as it happens.
pub async fn run(
    client: Arc<TargetClient>,
    pc: PlannedCase,
    schemas: Arc<SchemaStore>,
    mut on_retry: impl FnMut(RetryNote) + Send,
) -> FinishedCase {
    AssertUnwindSafe(run_case(&client, &pc, &schemas, &mut on_retry))
        .catch_unwind()
        .await
        .unwrap_or_else(|p| crashed(&pc, &*p))
}

/// A case whose run panicked, finished.
fn crashed(pc: &PlannedCase, payload: &(dyn std::any::Any + Send)) -> FinishedCase {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    FinishedCase::new(pc, Stop::Crashed { message })
}

/// Run one case: its steps in order, captures flowing forward, stopping at the first non-pass.
pub async fn run_case(
    client: &TargetClient,
    pc: &PlannedCase,
    schemas: &SchemaStore,
    on_retry: &mut (dyn FnMut(RetryNote) + Send),
) -> FinishedCase {
    let start = Instant::now();
    if let Some(d) = &pc.decided {
        return FinishedCase::new(pc, Stop::Decided(d.clone()));
    }
    let mut finished = FinishedCase::new(pc, Stop::Ran);
    let mut captures: BTreeMap<String, Value> = BTreeMap::new();
    for step in &pc.case.steps {
        let prepared = match prepare(step, &pc.target, &captures) {
            Ok(p) => p,
            Err(e) => {
                finished.stop = Stop::NotPrepared {
                    reason: e.to_string(),
                };
                break;
            }
        };
        let mut sends = 0u32;
        let (exchange, mut verdict) = loop {
            sends += 1;
            let exchange = client
                .send_observed(&prepared, &mut |number, a: &Attempt| {
                    on_retry(RetryNote {
                        step: step.name.clone(),
                        attempt: number,
                        because: a.retried_because.clone().unwrap_or_default(),
                        delay: a.delay,
                    })
                })
                .await;
            let body = match &prepared.body {
                Body::Json(v) => Some(v),
                _ => None,
            };
            let form = match &prepared.body {
                Body::Multipart(parts) => parts.as_slice(),
                _ => &[],
            };
            // A polled step is re-sent while the endpoint answers success and the condition
            // does not hold yet; it is judged on the answer that ends the polling.
            let state = step.poll.as_ref().map(|poll| {
                (
                    poll,
                    judge::poll_state(poll, &exchange, &pc.target, &captures),
                )
            });
            if let Some((poll, PollState::Again)) = state {
                if sends < poll.at_most {
                    tokio::time::sleep(poll.every).await;
                    continue;
                }
                let verdict = judge::poll_exhausted(poll, &exchange);
                break (exchange, verdict);
            }
            let verdict = judge::judge_step(&StepInput {
                step,
                request: body,
                request_path: &prepared.path,
                form,
                captures: &captures,
                exchange: &exchange,
                schemas,
                target: &pc.target,
            });
            break (exchange, verdict);
        };
        if verdict.outcome == Outcome::Pass {
            capture(step, &exchange, &mut captures, &mut verdict);
        }
        let passed = verdict.outcome == Outcome::Pass;
        finished.steps.push(FinishedStep {
            name: step.name.clone(),
            exchange,
            verdict,
        });
        if !passed {
            break;
        }
    }
    finished.duration = start.elapsed();
    finished
}

/// Take the step's captures from its response; a capture that cannot be taken fails the step.
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
) -> Result<PreparedRequest, RenderError> {
    let ctx = RenderContext {
        models: &target.models,
        captures,
    };
    let r = &step.request;
    let as_text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let path = as_text(r.path.render(&ctx)?);
    let mut headers = Vec::new();
    for (k, v) in &r.headers {
        headers.push((k.clone(), as_text(v.render(&ctx)?)));
    }
    let body = if let Some(b) = &r.body {
        Body::Json(b.render(&ctx)?)
    } else if let Some(raw) = &r.raw_body {
        Body::Raw(raw.clone())
    } else if !r.multipart.is_empty() {
        let mut parts = Vec::new();
        for (name, m) in &r.multipart {
            parts.push((
                name.clone(),
                match m {
                    MultipartValue::Text(t) => MultipartPart::Text(as_text(t.render(&ctx)?)),
                    MultipartValue::File { filename, content } => MultipartPart::File {
                        filename: filename.clone(),
                        bytes: match content {
                            FileContent::Template(t) => as_text(t.render(&ctx)?).into_bytes(),
                            FileContent::Bytes(b) => b.to_vec(),
                        },
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

    #[tokio::test]
    async fn a_panicking_case_becomes_its_error_and_the_run_goes_on() {
        let pc = PlannedCase {
            target: testing::target("t"),
            case: testing::case("a"),
            decided: None,
        };
        let rec = AssertUnwindSafe(async { panic!("boom at step 2") })
            .catch_unwind()
            .await
            .unwrap_or_else(|p| crashed(&pc, &*p));
        let o = rec.outcome();
        assert_eq!(o.outcome, Outcome::Error);
        let reason = o.reason.unwrap();
        assert!(
            reason.contains("internal error") && reason.contains("boom at step 2"),
            "{reason}"
        );
    }

    #[test]
    fn a_record_ends_where_its_last_step_stopped_and_its_snapshot_comes_after() {
        let (t, c) = (testing::target("t"), testing::case("a"));
        let mut rec = testing::finished(&t, &c, Outcome::Pass, serde_json::json!({}));
        assert_eq!(rec.outcome().outcome, Outcome::Pass);
        rec.case_checks.push(CheckResult::fail(
            "snapshot",
            "snapshot mismatch: line 1: `a` became `b`\n--- the diff",
        ));
        let o = rec.outcome();
        assert_eq!(
            (o.outcome, o.reason.as_deref()),
            (
                Outcome::Fail,
                Some("snapshot mismatch: line 1: `a` became `b`")
            )
        );
        let failed = testing::finished(&t, &c, Outcome::Fail, serde_json::json!({}));
        let o = failed.outcome();
        assert_eq!(
            (o.outcome, o.reason.as_deref()),
            (Outcome::Fail, Some("status: not what was expected"))
        );
    }
}
