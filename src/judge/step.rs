//! Judging one step: its exchange against the step's expectations and named checks.

use std::collections::BTreeMap;

use serde_json::Value;

use super::outcome::{CheckResult, CheckStatus, Outcome, Verdict};
use super::{assert, checks, errors};
use crate::execute::exchange::{Exchange, TransportErrorKind};
use crate::execute::http::MultipartPart;
use crate::load::suite::{Poll, Step};
use crate::load::template::RenderContext;
use crate::load::{SchemaStore, Target};

/// Everything one step's judgement depends on.
pub struct StepInput<'a> {
    pub step: &'a Step,
    /// The request body as sent (rendered), when it was JSON.
    pub request: Option<&'a Value>,
    /// The request path as sent (rendered), relative to the base URL.
    pub request_path: &'a str,
    /// The multipart fields as sent (empty unless the request was multipart).
    pub form: &'a [(String, MultipartPart)],
    /// What earlier steps of the case captured (an expected value may name one).
    pub captures: &'a BTreeMap<String, Value>,
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
        let what = match (e.kind, &resp.stream) {
            (TransportErrorKind::IdleTimeout, Some(s)) => {
                format!(
                    "stream stalled after {} events: {}",
                    s.event_count(),
                    e.message
                )
            }
            _ => e.message.clone(),
        };
        return Verdict::error("transport", format!("HTTP {}: {what}", resp.status));
    }
    // Nor can a stream of which only the first part was kept.
    if let Some(cut) = resp.stream.as_ref().and_then(|s| s.cut()) {
        return Verdict::error("stream", stream_cut_reason(cut));
    }

    let expect = &input.step.expect;
    let mut results = Vec::new();
    // A multipart request's text fields, for the refusal rule to see what was sent.
    let form_fields = (!input.form.is_empty()).then(|| {
        Value::Object(
            input
                .form
                .iter()
                .filter_map(|(n, p)| match p {
                    MultipartPart::Text(t) => Some((n.clone(), Value::String(t.clone()))),
                    MultipartPart::File { .. } => None,
                })
                .collect(),
        )
    });

    if let Some(status) = &expect.status {
        if !status.accepts(resp.status) {
            // A 404 for what an earlier step of the case returned (the batch it just created)
            // is not a missing route: the endpoint lost or never kept the resource.
            let lost = resp.status == 404 && input.step.path_uses_capture();
            if status.expects_success()
                && !lost
                && let Some(refusal) =
                    errors::classify_refusal(resp, input.request.or(form_fields.as_ref()))
            {
                let body = errors::refusal_body_finding(resp);
                return Verdict::from_checks([refusal].into_iter().chain(body).collect());
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
    if needs_json && resp.json.is_none() && resp.stream.is_none() {
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
    if let Some(want) = &expect.body {
        results.push(assert::body(resp, want));
    }
    if let Some(body) = resp.json.as_ref() {
        let ctx = RenderContext {
            models: &input.target.models,
            captures: input.captures,
        };
        for a in &expect.jsonpath {
            results.push(assert::jsonpath(a, body, &ctx));
        }
    }
    // The connection held open after `[DONE]` is a finding whatever the case checks.
    if let Some(s) = &resp.stream
        && let (Some(h), Some(&first)) = (s.held_after_done(), s.dones().events.first())
        && !expect.checks.iter().any(|c| c == "streaming.done")
    {
        results.push(CheckResult::fail(
            "stream",
            checks::streaming::held_reason(h, first),
        ));
    }
    let ctx = checks::CheckInput {
        request: input.request,
        request_path: input.request_path,
        form: input.form,
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
    // Usage is read on every answer an app gets, not only in a usage case.
    results.extend(checks::usage_on_every_answer(&ctx, &expect.checks));
    // So are numbers, by clients that cannot hold all of them.
    results.extend(checks::numbers::beyond_2_53(resp));
    Verdict::from_checks(results)
}

/// Why a stream that outgrew what one exchange keeps is not judged.
fn stream_cut_reason(cut: &crate::execute::stream::StreamCut) -> String {
    let mib = cut.limit_bytes as f64 / (1024.0 * 1024.0);
    format!(
        "the stream is too large to judge: after {} data events it passed the {mib:.0} MiB one exchange may keep (3 × --max-body), and {} more events ({} bytes of data) were only counted",
        cut.events_kept, cut.events_dropped, cut.bytes_dropped
    )
}

/// Where a polled step stands after one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollState {
    /// The condition holds: the step is judged on this response.
    Done,
    /// Not yet: send again (if sends remain).
    Again,
}

/// Whether a polled step is done: a success whose JSON body satisfies the `while` condition is
/// still pending; anything else (an error, a finished job, a state the condition does not name)
/// ends the polling and is judged.
pub fn poll_state(
    poll: &Poll,
    ex: &Exchange,
    target: &Target,
    captures: &BTreeMap<String, Value>,
) -> PollState {
    let Some(resp) = ex
        .response
        .as_ref()
        .filter(|r| (200..300).contains(&r.status))
    else {
        return PollState::Done;
    };
    let Some(body) = resp.json.as_ref() else {
        return PollState::Done;
    };
    let ctx = RenderContext {
        models: &target.models,
        captures,
    };
    if assert::jsonpath(&poll.pending, body, &ctx).status == CheckStatus::Pass {
        PollState::Again
    } else {
        PollState::Done
    }
}

/// The verdict on a polled step still pending after its last send: a skip, not judged (the
/// endpoint may simply take longer than the run waits), naming the last value seen.
pub fn poll_exhausted(poll: &Poll, ex: &Exchange) -> Verdict {
    let seen = ex
        .response
        .as_ref()
        .and_then(|r| r.json.as_ref())
        .and_then(|b| poll.pending.path.query(b).first().cloned())
        .map_or_else(|| "absent".to_string(), |v| crate::util::json::show(&v));
    let waited = poll.every.as_secs_f64() * f64::from(poll.at_most.saturating_sub(1));
    let reason = format!(
        "not finished after {} polls over {waited:.0} s: `{}` was still {seen} (not judged; real endpoints may take far longer)",
        poll.at_most, poll.pending.source
    );
    Verdict {
        outcome: Outcome::Skip,
        reason: Some(reason.clone()),
        checks: vec![CheckResult::new("poll", CheckStatus::Warn, reason)],
    }
}
