//! Judging one step: its exchange against the step's expectations and named checks.

use serde_json::Value;

use super::outcome::{CheckResult, Verdict};
use super::{assert, checks, errors};
use crate::execute::exchange::{Exchange, TransportErrorKind};
use crate::load::suite::Step;
use crate::load::{SchemaStore, Target};

/// Everything one step's judgement depends on.
pub struct StepInput<'a> {
    pub step: &'a Step,
    /// The request body as sent (rendered), when it was JSON.
    pub request: Option<&'a Value>,
    /// The request path as sent (rendered), relative to the base URL.
    pub request_path: &'a str,
    pub exchange: &'a Exchange,
    pub schemas: &'a SchemaStore,
    pub target: &'a Target,
}

/// Judge one step.
pub fn judge_step(input: &StepInput<'_>) -> Verdict {
    let ex = input.exchange;
    let Some(resp) = &ex.response else {
        let e = ex.error.as_ref();
        // A replay without a recording names the replay, not the network.
        let check = match e.map(|e| e.kind) {
            Some(TransportErrorKind::Replay) => "replay",
            _ => "transport",
        };
        return Verdict::error(
            check,
            e.map(|e| e.message.clone())
                .unwrap_or_else(|| "no response".into()),
        );
    };
    // A body that could not be read completely cannot be judged; say why.
    if let Some(e) = &ex.error {
        let what = match e.kind {
            TransportErrorKind::IdleTimeout if resp.sse.is_some() => {
                let n = resp.sse_events().count();
                format!("stream stalled after {n} events: {}", e.message)
            }
            _ => e.message.clone(),
        };
        return Verdict::error("transport", format!("HTTP {}: {what}", resp.status));
    }

    let expect = &input.step.expect;
    let mut results = Vec::new();

    if let Some(status) = &expect.status {
        if !status.accepts(resp.status) {
            // A 404 for what an earlier step of the case returned (the batch it just created)
            // is not a missing route: the endpoint lost or never kept the resource.
            let lost = resp.status == 404 && input.step.path_uses_capture();
            if status.expects_success()
                && !lost
                && let Some(refusal) = errors::classify_refusal(resp, input.request)
            {
                return Verdict::from_checks(vec![refusal]);
            }
            results.push(
                CheckResult::fail(
                    "status",
                    format!(
                        "HTTP {}, expected {}{}{}",
                        resp.status,
                        status.describe(),
                        if lost {
                            " (not found, though an earlier step of this case returned it)"
                        } else {
                            ""
                        },
                        errors::status_detail(resp)
                    ),
                )
                .expected(status.describe())
                .actual(resp.status.to_string()),
            );
            // Nothing else about the body is meaningful against the wrong status.
            return Verdict::from_checks(results);
        }
        results.push(CheckResult::pass("status", format!("HTTP {}", resp.status)));
    }

    if let Some(ct) = &expect.content_type {
        results.push(assert::content_type(resp, ct));
    }

    let needs_json = expect.schema.is_some() || !expect.jsonpath.is_empty();
    if needs_json && resp.json.is_none() && resp.sse.is_none() {
        results.push(
            CheckResult::fail(
                "json",
                format!(
                    "body is not JSON ({}): {:?}",
                    resp.json_error.as_deref().unwrap_or("empty body"),
                    resp.body_excerpt(120)
                ),
            )
            .expected("a JSON body"),
        );
        return Verdict::from_checks(results);
    }

    if let (Some(id), Some(body)) = (&expect.schema, resp.json.as_ref()) {
        results.extend(assert::schema(input.schemas, id, body));
    }
    if let Some(body) = resp.json.as_ref() {
        for a in &expect.jsonpath {
            results.push(assert::jsonpath(a, body));
        }
    }
    let ctx = checks::CheckInput {
        request: input.request,
        request_path: input.request_path,
        response: resp,
        json: resp.json.as_ref(),
        target: input.target,
        schemas: input.schemas,
    };
    for name in &expect.checks {
        match checks::lookup(name) {
            Some(def) => results.extend((def.run)(&ctx)),
            None => results.push(CheckResult::fail(
                name,
                "unknown check (should have been caught at load)",
            )),
        }
    }
    Verdict::from_checks(results)
}
