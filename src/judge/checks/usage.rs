//! Token accounting, wherever a chat completion or a chat stream reports it: the arithmetic
//! (`total = prompt + completion`, reasoning inside completion, cached inside prompt), a prompt
//! counted as zero tokens, and usage that changes between the chunks of one stream. Named checks
//! (`chat.usage`, `streaming.usage`) use it, and the judge runs it on every chat answer that
//! carries usage ([`on_every_answer`]): an app that bills by tokens reads usage on every call,
//! not only in a usage test. Sums are checked: hostile counts near `u64::MAX` are a finding,
//! never a wrap or a panic.

use serde_json::Value;

use super::CheckInput;
use crate::execute::stream::{ChatStream, EventKind};
use crate::judge::outcome::{CheckResult, CheckStatus};

/// The name of the usage findings on answers whose case names no usage check.
pub const IMPLICIT: &str = "usage";

/// The checks that judge usage themselves: a step naming one gets no implicit finding.
const NAMED: &[&str] = &["chat.usage", "streaming.usage", "reasoning.usage"];

/// The arithmetic of one usage object at `at`: non-negative integer counts, `total = prompt +
/// completion`, `reasoning_tokens ≤ completion_tokens`, `cached_tokens ≤ prompt_tokens`, and no
/// zero prompt for a request that sent one. One pass result when all hold.
pub fn arithmetic(check: &str, u: &Value, at: &str, request: Option<&Value>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let field =
        |k: &str| -> Result<u64, CheckResult> {
            match u.get(k) {
                Some(v) => v.as_u64().ok_or_else(|| {
                    CheckResult::fail(
                        check,
                        format!("usage.{k} is {v}, expected a non-negative integer"),
                    )
                    .at(format!("{at}.{k}"))
                }),
                None => Err(CheckResult::fail(check, format!("usage.{k} is missing"))
                    .at(format!("{at}.{k}"))),
            }
        };
    let (p, c, t) = match (
        field("prompt_tokens"),
        field("completion_tokens"),
        field("total_tokens"),
    ) {
        (Ok(p), Ok(c), Ok(t)) => (p, c, t),
        (p, c, t) => return [p.err(), c.err(), t.err()].into_iter().flatten().collect(),
    };
    match p.checked_add(c) {
        Some(sum) if sum == t => {}
        Some(sum) => out.push(
            CheckResult::fail(
                check,
                format!("total_tokens {t} ≠ prompt_tokens {p} + completion_tokens {c}"),
            )
            .at(format!("{at}.total_tokens"))
            .expected(sum.to_string())
            .actual(t.to_string()),
        ),
        None => out.push(
            CheckResult::fail(
                check,
                format!("prompt_tokens {p} + completion_tokens {c} overflows a 64-bit count (total_tokens {t}): not a token count"),
            )
            .at(format!("{at}.total_tokens")),
        ),
    }
    if let Some(r) = u
        .pointer("/completion_tokens_details/reasoning_tokens")
        .and_then(Value::as_u64)
        && r > c
    {
        out.push(CheckResult::fail(check, format!("reasoning_tokens {r} > completion_tokens {c} (reasoning must be counted inside completion tokens, QUIRKS U1)")).at(format!("{at}.completion_tokens_details.reasoning_tokens")));
    }
    if let Some(cached) = u
        .pointer("/prompt_tokens_details/cached_tokens")
        .and_then(Value::as_u64)
        && cached > p
    {
        out.push(
            CheckResult::fail(
                check,
                format!("cached_tokens {cached} > prompt_tokens {p} (cached tokens are part of the prompt, QUIRKS U3)"),
            )
            .at(format!("{at}.prompt_tokens_details.cached_tokens")),
        );
    }
    if p == 0 && sent_a_prompt(request) {
        out.push(
            CheckResult::fail(
                check,
                "prompt_tokens is 0 for a non-empty prompt: the prompt is not counted (QUIRKS U2), so costs and context budgets read it as free",
            )
            .at(format!("{at}.prompt_tokens"))
            .actual("0"),
        );
    }
    if out.is_empty() {
        out.push(CheckResult::pass(check, format!("{p} + {c} = {t}")));
    }
    out
}

/// Whether the request sent a prompt that cannot be zero tokens: a message with content.
fn sent_a_prompt(request: Option<&Value>) -> bool {
    let Some(messages) = request
        .and_then(|r| r.get("messages"))
        .and_then(Value::as_array)
    else {
        return false;
    };
    messages.iter().any(|m| match m.get("content") {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(parts)) => !parts.is_empty(),
        _ => false,
    })
}

/// Usage that changes between the chunks of one stream (Gemini sends usage on every chunk,
/// `prompt_tokens` 4 then 3): a client keeping any but the last reports other numbers.
pub fn changes_between_chunks(check: &str, s: &ChatStream) -> Option<CheckResult> {
    let mut first: Option<(u64, Value)> = None;
    for c in chat_chunks(s) {
        let Some(u) = c.usage().filter(|u| !u.is_null()) else {
            continue;
        };
        let n = c.event().n();
        let u = u.value();
        match &first {
            None => first = Some((n, u)),
            Some((m, v)) if !same_counts(v, &u) => {
                return Some(
                    CheckResult::fail(
                        check,
                        format!(
                            "usage changes within one stream: {} at event #{m}, then {} at event #{n} (one completion has one usage; clients keep whichever chunk they read last)",
                            counts(v),
                            counts(&u)
                        ),
                    )
                    .at(format!("event #{n} $.usage")),
                );
            }
            Some(_) => {}
        }
    }
    None
}

/// The chunks of a chat stream (they carry `choices`, the usage chunk an empty one): the usage
/// of other event streams (audio speech, the Responses API) is counted in other fields.
fn chat_chunks(s: &ChatStream) -> impl Iterator<Item = crate::execute::stream::Chunk<'_>> {
    s.chunks().filter(|c| c.choices().is_some())
}

/// The three counts compared (a running completion count growing chunk by chunk is a change too).
fn same_counts(a: &Value, b: &Value) -> bool {
    ["prompt_tokens", "completion_tokens", "total_tokens"]
        .iter()
        .all(|k| a.get(k) == b.get(k))
}

fn counts(u: &Value) -> String {
    let n = |k: &str| u.get(k).map(Value::to_string).unwrap_or_else(|| "-".into());
    format!(
        "prompt {} + completion {} = total {}",
        n("prompt_tokens"),
        n("completion_tokens"),
        n("total_tokens")
    )
}

/// The usage carried by an in-stream error event, with the event's number: what a stream that
/// failed after it started says about its cost (E8).
pub fn on_error_event(s: &ChatStream) -> Option<(u64, Value)> {
    s.events().find_map(|ev| match ev.kind() {
        EventKind::Chunk(c) if c.is_error() => c
            .usage()
            .filter(|u| !u.is_null())
            .map(|u| (ev.n(), u.value())),
        _ => None,
    })
}

/// Usage findings on any successful chat answer that carries usage, whatever its case checks:
/// the arithmetic of a completion's usage, or of the last usage a stream sent and whether it
/// changed between chunks. Only findings are returned (nothing when the usage is sound or
/// absent), and nothing when the step names a usage check of its own.
pub fn on_every_answer(i: &CheckInput<'_>, named: &[String]) -> Vec<CheckResult> {
    if named.iter().any(|n| NAMED.contains(&n.as_str())) || !(200..300).contains(&i.response.status)
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(s) = &i.response.stream {
        if let Some(changed) = changes_between_chunks(IMPLICIT, s) {
            out.push(changed);
        }
        if let Some(last) = chat_chunks(s)
            .filter_map(|c| {
                c.usage()
                    .filter(|u| !u.is_null())
                    .map(|u| (c.event().n(), u.value()))
            })
            .last()
        {
            out.extend(arithmetic(
                IMPLICIT,
                &last.1,
                &format!("event #{} $.usage", last.0),
                i.request,
            ));
        }
    } else if let Some(body) = i.json
        && body.get("choices").is_some_and(Value::is_array)
        && let Some(u) = body.get("usage").filter(|u| u.is_object())
    {
        out.extend(arithmetic(IMPLICIT, u, "$.usage", i.request));
    }
    out.retain(|r| r.status != CheckStatus::Pass);
    out
}
