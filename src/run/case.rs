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
        return FinishedCase::new(pc, Stop::Decided(d.as_ref().clone()));
    }
    let mut finished = FinishedCase::new(pc, Stop::Ran);
    let steps = pc.case.steps.get().await;
    let steps = match steps {
        Ok(steps) => steps,
        Err(reason) => {
            finished.stop = Stop::NotPrepared { reason };
            return finished;
        }
    };
    let mut captures: BTreeMap<String, Value> = BTreeMap::new();
    for step in steps.iter() {
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
            auth: step.request.auth,
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

    /// The bytes a prepared request puts on the wire (method, path, headers, credentials
    /// mode, body as `TargetClient` serialises it).
    fn wire(p: &PreparedRequest) -> Vec<u8> {
        let mut out = format!(
            "{} {}\n{:?}\n{:?} stream={}\n",
            p.method, p.path, p.headers, p.auth, p.stream
        )
        .into_bytes();
        match &p.body {
            Body::None => {}
            Body::Json(v) => out.extend(serde_json::to_vec(v).unwrap()),
            Body::Raw(r) => out.extend(r.as_bytes()),
            Body::Multipart(parts) => {
                for (name, part) in parts {
                    out.extend(format!("\n--{name}\n").as_bytes());
                    match part {
                        MultipartPart::Text(t) => out.extend(t.as_bytes()),
                        MultipartPart::File { filename, bytes } => {
                            out.extend(filename.as_bytes());
                            out.extend(bytes);
                        }
                    }
                }
            }
        }
        out
    }

    /// Cases whose steps were dropped after validation compile again, when they run, to the
    /// same steps and the same requests byte for byte as cases that held theirs: every shipped
    /// suite, loaded as a project's own files (templates, fixtures, multipart, captures, polls).
    #[tokio::test]
    async fn released_steps_compile_again_to_the_same_requests() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let load = |held_cases| {
            crate::load::load_project(&crate::load::LoadOptions {
                suites: vec![],
                suites_dir: root.join("suites"),
                only_suites_dir: true,
                fixtures_dir: root.join("fixtures"),
                schemas_dir: None,
                allow_fixture_escape: false,
                check_names: crate::judge::checks::names().collect(),
                held_cases,
            })
            .expect("the shipped suites load")
        };
        let (held, released) = (load(usize::MAX), load(0));
        let models = crate::load::template::ROLES
            .iter()
            .map(|r| format!("{r}: m-{r}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "targets:\n  t:\n    base_url: http://127.0.0.1:9/v1\n    models: {{ {models} }}\n"
        );
        let target =
            crate::load::target::load_targets(std::path::Path::new("targets.yaml"), &text, &|_| {
                None
            })
            .expect("target loads")
            .remove(0);
        let cases = |p: &crate::load::Project| -> Vec<Arc<crate::load::Case>> {
            p.suites.iter().flat_map(|s| s.cases.clone()).collect()
        };
        let (a, b) = (cases(&held), cases(&released));
        assert_eq!(a.len(), b.len());
        let mut requests = 0;
        for (a, b) in a.iter().zip(&b) {
            let id = a.full_id();
            assert!(a.steps.held().is_some(), "{id}");
            assert!(b.steps.held().is_none(), "{id} was not released");
            let (sa, sb) = (a.steps.held().unwrap(), b.steps.get().await.unwrap());
            assert_eq!(format!("{:?}", &*sa), format!("{:?}", &*sb), "{id}");
            let captures: BTreeMap<String, Value> = sa
                .iter()
                .flat_map(|s| &s.capture)
                .map(|(n, _)| (n.clone(), Value::String(format!("captured-{n}"))))
                .collect();
            for (x, y) in sa.iter().zip(sb.iter()) {
                let (x, y) = (
                    prepare(x, &target, &captures).unwrap(),
                    prepare(y, &target, &captures).unwrap(),
                );
                assert_eq!(wire(&x), wire(&y), "{id}");
                requests += 1;
            }
        }
        assert!(requests > 100, "{requests} requests compared");
    }
}
