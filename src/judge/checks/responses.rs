//! `responses.*`: the Responses API (`POST /responses`, `GET`/`DELETE /responses/{id}`) beyond
//! its schema — the response object's lifecycle and echoes, usage arithmetic, the output-token
//! limit, function calls against the flat tool definitions the request declared, structured
//! output via `text.format`, and the stored-response routes. A streamed response is judged on
//! the `response` of its terminal event, as a client's final handler sees it; the stream itself
//! is `responses_stream`'s. A refused route (404/405/501) never reaches these checks: the
//! judge's refusal rule makes it `unsupported`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::responses_stream::terminal_response;
use super::tools::{arguments, schema_violations};
use super::{CheckDef, CheckInput};
use crate::judge::CheckStatus;
use crate::judge::outcome::CheckResult;
use crate::util::json::show;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "responses.object",
        description: "a response object: `object: response`, a non-empty `id`, `created_at` in seconds, a final `status` (not `failed`) consistent with `incomplete_details` and `error`, assistant `message` items of `output_text`/`refusal` parts, `output_text` (when sent) equal to the parts' text, and `instructions` and `previous_response_id` echoed as sent",
        run: object,
    },
    CheckDef {
        name: "responses.usage",
        description: "`usage` present with non-negative integers, `total_tokens = input_tokens + output_tokens`, cached tokens ≤ input tokens, reasoning tokens ≤ output tokens, and output tokens for output text",
        run: usage,
    },
    CheckDef {
        name: "responses.max_output_tokens",
        description: "`max_output_tokens` honoured: `output_tokens` ≤ the limit; output that reached it ends `status: incomplete` with `incomplete_details.reason: max_output_tokens`",
        run: max_output_tokens,
    },
    CheckDef {
        name: "responses.function_calls",
        description: "`function_call` output items with a unique non-empty `call_id`, a declared `name` and `arguments` a JSON string parsing to an object valid against the declared `parameters`; `tool_choice` honoured (`required` and a named function call, `none` does not, `parallel_tool_calls: false` makes at most one call)",
        run: function_calls,
    },
    CheckDef {
        name: "responses.final_answer",
        description: "after a `function_call_output` item, the response answers with an assistant message of non-empty text (the round trip completes)",
        run: final_answer,
    },
    CheckDef {
        name: "responses.structured_output",
        description: "with `text.format: {type: json_schema}`, the output text is a JSON string that parses and validates against `text.format.schema`",
        run: structured_output,
    },
    CheckDef {
        name: "responses.retrieved",
        description: "`GET /responses/{id}` returns the response asked for (its `id`), in a final status",
        run: retrieved,
    },
    CheckDef {
        name: "responses.deleted",
        description: "`DELETE /responses/{id}` answers `{id, object: response, deleted: true}` for the id asked for",
        run: deleted,
    },
    CheckDef {
        name: "responses.media_not_echoed",
        description: "the output text does not repeat the base64 data of an `input_image` sent inline (the part was pasted into the prompt as text)",
        run: media_not_echoed,
    },
];

/// 2020-01-01 and 2100-01-01: outside this a timestamp is a placeholder or milliseconds.
const PLAUSIBLE_SECONDS: std::ops::Range<f64> = 1_577_836_800.0..4_102_444_800.0;

/// Every finding of one check, or one pass with `ok` when none of them fails.
pub(super) fn finish(check: &str, mut out: Vec<CheckResult>, ok: String) -> Vec<CheckResult> {
    if out.iter().all(|r| r.status != CheckStatus::Fail) {
        out.push(CheckResult::pass(check, ok));
    }
    out
}

/// `v[key]` when it is a string.
pub(super) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "missing".into(), show)
}

/// The response object to judge: the JSON body, or the terminal event's `response` of a stream.
fn response<'a>(check: &str, i: &'a CheckInput<'_>) -> Result<Cow<'a, Value>, CheckResult> {
    if let Some(b) = i.json.filter(|b| b.is_object()) {
        return Ok(Cow::Borrowed(b));
    }
    if i.response.stream.is_some() {
        return terminal_response(i.response)
            .map(Cow::Owned)
            .ok_or_else(|| {
                CheckResult::fail(
                    check,
                    "the stream has no terminal event carrying the final response",
                )
            });
    }
    Err(CheckResult::fail(
        check,
        "the response body is not a JSON object",
    ))
}

macro_rules! response_or_fail {
    ($check:expr, $i:expr) => {
        match response($check, $i) {
            Ok(r) => r,
            Err(e) => return vec![e],
        }
    };
}

/// The `output` items, or a failure naming what is there instead.
fn output_items<'a>(check: &str, r: &'a Value) -> Result<&'a [Value], CheckResult> {
    r.get("output")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| {
            CheckResult::fail(
                check,
                format!("`output` is {}, expected an array", shown(r.get("output"))),
            )
            .at("$.output")
        })
}

/// The text of every `output_text` part of the assistant messages, in order.
fn output_text(items: &[Value]) -> String {
    items
        .iter()
        .filter(|it| str_at(it, "type") == Some("message"))
        .flat_map(|it| {
            it.get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|p| str_at(p, "type") == Some("output_text"))
        .filter_map(|p| str_at(p, "text"))
        .collect()
}

fn function_call_items(items: &[Value]) -> Vec<(usize, &Value)> {
    items
        .iter()
        .enumerate()
        .filter(|(_, it)| str_at(it, "type") == Some("function_call"))
        .collect()
}

fn object(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.object";
    let r = response_or_fail!(C, i);
    let r = r.as_ref();
    let mut out = Vec::new();
    if str_at(r, "object") != Some("response") {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`object` is {}, expected \"response\"",
                    shown(r.get("object"))
                ),
            )
            .at("$.object"),
        );
    }
    if str_at(r, "id").is_none_or(|s| s.trim().is_empty()) {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`id` is {}, expected a non-empty string",
                    shown(r.get("id"))
                ),
            )
            .at("$.id"),
        );
    }
    match r.get("created_at").and_then(Value::as_f64) {
        Some(t) if PLAUSIBLE_SECONDS.contains(&t) => {}
        Some(t) => out.push(
            CheckResult::fail(
                C,
                format!("`created_at` is {t}, not a plausible Unix time in seconds"),
            )
            .at("$.created_at"),
        ),
        None => out.push(
            CheckResult::fail(
                C,
                format!(
                    "`created_at` is {}, expected a number",
                    shown(r.get("created_at"))
                ),
            )
            .at("$.created_at"),
        ),
    }
    let status = str_at(r, "status");
    let background = i
        .request
        .and_then(|q| q.get("background"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let reason = r.pointer("/incomplete_details/reason");
    let error = r.get("error").filter(|e| !e.is_null());
    match status {
        None => out.push(
            CheckResult::warn(C, "no `status`: a client cannot tell a complete response from a cut one")
                .at("$.status"),
        ),
        Some("in_progress" | "queued") if !background => out.push(
            CheckResult::fail(
                C,
                format!("a request without `background: true` answered with status `{}`: the output is not final", status.unwrap_or("")),
            )
            .at("$.status"),
        ),
        Some("incomplete") if reason.is_none_or(Value::is_null) => out.push(
            CheckResult::fail(C, "status `incomplete` without `incomplete_details.reason`: clients cannot tell why")
                .at("$.incomplete_details"),
        ),
        Some("completed") if r.get("incomplete_details").is_some_and(|d| !d.is_null()) => out.push(
            CheckResult::fail(
                C,
                format!("status `completed` with `incomplete_details` {}", show(&r["incomplete_details"])),
            )
            .at("$.incomplete_details"),
        ),
        Some("failed") => out.push(
            CheckResult::fail(
                C,
                match error {
                    Some(e) => format!(
                        "the response failed: {}{}",
                        str_at(e, "code").map(|c| format!("{c}: ")).unwrap_or_default(),
                        excerpt(str_at(e, "message").unwrap_or("(no message)"), 160)
                    ),
                    None => "status `failed` without an `error` object".into(),
                },
            )
            .at("$.status"),
        ),
        Some("cancelled") => out.push(
            CheckResult::fail(C, "status `cancelled` for a request nobody cancelled").at("$.status"),
        ),
        _ => {}
    }
    if status.is_some_and(|s| s != "failed")
        && let Some(e) = error
    {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "status `{}` with an `error`: {}",
                    status.unwrap_or(""),
                    show(e)
                ),
            )
            .at("$.error"),
        );
    }
    let items = match output_items(C, r) {
        Ok(items) => items,
        Err(e) => {
            out.push(e);
            return finish(C, out, String::new());
        }
    };
    if items.is_empty() && status == Some("completed") {
        out.push(CheckResult::fail(C, "status `completed` with no output items").at("$.output"));
    }
    for (k, it) in items.iter().enumerate() {
        if str_at(it, "type") != Some("message") {
            continue;
        }
        if str_at(it, "role") != Some("assistant") {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "output message {k} has role {}, expected \"assistant\"",
                        shown(it.get("role"))
                    ),
                )
                .at(format!("$.output[{k}].role")),
            );
        }
        for (c, part) in it
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let ok = match str_at(part, "type") {
                Some("output_text") => part.get("text").is_some_and(Value::is_string),
                Some("refusal") => part.get("refusal").is_some_and(Value::is_string),
                _ => false,
            };
            if !ok {
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "content part {c} of output message {k} is {}, expected an `output_text` part with a string `text` (or a `refusal`)",
                            excerpt(&part.to_string(), 80)
                        ),
                    )
                    .at(format!("$.output[{k}].content[{c}]")),
                );
            }
        }
    }
    if let Some(convenience) = r.get("output_text").and_then(Value::as_str) {
        let parts = output_text(items);
        if convenience != parts {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "`output_text` is {:?}, but the output_text parts say {:?}",
                        excerpt(convenience, 60),
                        excerpt(&parts, 60)
                    ),
                )
                .at("$.output_text"),
            );
        }
    }
    for key in ["instructions", "previous_response_id"] {
        let Some(sent) = i.request.and_then(|q| q.get(key)).filter(|v| !v.is_null()) else {
            continue;
        };
        if r.get(key) != Some(sent) {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "`{key}` is {}, the request sent {}",
                        shown(r.get(key)),
                        show(sent)
                    ),
                )
                .at(format!("$.{key}"))
                .expected(show(sent))
                .actual(shown(r.get(key))),
            );
        }
    }
    finish(
        C,
        out,
        format!(
            "response {} with {} output item(s)",
            status.map_or_else(|| "without status".into(), |s| format!("`{s}`")),
            items.len()
        ),
    )
}

fn usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.usage";
    let r = response_or_fail!(C, i);
    let Some(u) = r.get("usage").filter(|u| u.is_object()) else {
        return vec![
            CheckResult::fail(
                C,
                format!("`usage` is {}, expected an object", shown(r.get("usage"))),
            )
            .at("$.usage"),
        ];
    };
    let mut out = Vec::new();
    let mut n = |key: &str| -> Option<u64> {
        match u.pointer(key) {
            Some(v) if v.as_u64().is_some() => v.as_u64(),
            other => {
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "`usage{}` is {}, expected a non-negative integer",
                            key.replace('/', "."),
                            shown(other)
                        ),
                    )
                    .at(format!("$.usage{}", key.replace('/', "."))),
                );
                None
            }
        }
    };
    let (input, output, total) = (n("/input_tokens"), n("/output_tokens"), n("/total_tokens"));
    if let (Some(a), Some(b), Some(t)) = (input, output, total)
        && a.checked_add(b) != Some(t)
    {
        // Checked: endpoint counts may be anything up to 2^64 - 1.
        let (reason, sum) = match a.checked_add(b) {
            Some(sum) => (
                format!("total_tokens {t} ≠ input_tokens {a} + output_tokens {b}"),
                sum.to_string(),
            ),
            None => (
                format!("input_tokens {a} + output_tokens {b} does not fit a 64-bit count"),
                "a sum ≤ 2^64 - 1".to_string(),
            ),
        };
        out.push(
            CheckResult::fail(C, reason)
                .at("$.usage.total_tokens")
                .expected(sum)
                .actual(t.to_string()),
        );
    }
    let detail = |p: &str| u.pointer(p).and_then(Value::as_u64);
    if let (Some(cached), Some(a)) = (detail("/input_tokens_details/cached_tokens"), input)
        && cached > a
    {
        out.push(
            CheckResult::fail(C, format!("cached_tokens {cached} > input_tokens {a}"))
                .at("$.usage.input_tokens_details.cached_tokens"),
        );
    }
    if let (Some(reasoning), Some(b)) = (detail("/output_tokens_details/reasoning_tokens"), output)
        && reasoning > b
    {
        out.push(
            CheckResult::fail(
                C,
                format!("reasoning_tokens {reasoning} > output_tokens {b}"),
            )
            .at("$.usage.output_tokens_details.reasoning_tokens"),
        );
    }
    if output == Some(0) && output_items(C, &r).is_ok_and(|items| !output_text(items).is_empty()) {
        out.push(
            CheckResult::fail(
                C,
                "output_tokens is 0 although the response has output text",
            )
            .at("$.usage.output_tokens"),
        );
    }
    if input == Some(0) {
        out.push(
            CheckResult::warn(C, "input_tokens is 0 for a non-empty input")
                .at("$.usage.input_tokens"),
        );
    }
    finish(
        C,
        out,
        format!(
            "usage {} + {} = {}",
            input.unwrap_or(0),
            output.unwrap_or(0),
            total.unwrap_or(0)
        ),
    )
}

fn max_output_tokens(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.max_output_tokens";
    let Some(limit) = i
        .request
        .and_then(|q| q.get("max_output_tokens"))
        .and_then(Value::as_u64)
    else {
        return vec![CheckResult::fail(
            C,
            "the request sets no `max_output_tokens` (suite error)",
        )];
    };
    let r = response_or_fail!(C, i);
    let status = str_at(&r, "status").unwrap_or("");
    let reason = r
        .pointer("/incomplete_details/reason")
        .and_then(Value::as_str);
    let Some(used) = r.pointer("/usage/output_tokens").and_then(Value::as_u64) else {
        return vec![
            CheckResult::fail(
                C,
                format!("no usage.output_tokens: cannot verify the limit of {limit}"),
            )
            .at("$.usage.output_tokens"),
        ];
    };
    let mut out = Vec::new();
    if used > limit {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "output_tokens {used} exceeds max_output_tokens {limit} (the limit was ignored)"
                ),
            )
            .at("$.usage.output_tokens")
            .expected(format!("≤ {limit}"))
            .actual(used.to_string()),
        );
    } else if used == limit && status != "incomplete" {
        out.push(
            CheckResult::fail(
                C,
                format!("the output reached the {limit}-token limit but status is `{status}`, expected `incomplete` (clients take the cut answer for a whole one)"),
            )
            .at("$.status")
            .expected("incomplete")
            .actual(status),
        );
    }
    if status == "incomplete" && reason != Some("max_output_tokens") {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "status `incomplete` with incomplete_details.reason {}, expected \"max_output_tokens\"",
                    shown(r.pointer("/incomplete_details/reason"))
                ),
            )
            .at("$.incomplete_details.reason"),
        );
    }
    if reason == Some("max_output_tokens") && used < limit {
        out.push(
            CheckResult::warn(
                C,
                format!("incomplete for max_output_tokens with {used} output tokens, below the limit of {limit}"),
            )
            .at("$.usage.output_tokens"),
        );
    }
    finish(
        C,
        out,
        format!("{used} of at most {limit} output tokens, status `{status}`"),
    )
}

/// The declared function tools (`{type: function, name, parameters}`, the flat shape), by name.
/// A tool in chat's nested shape (`function: {name}`) is kept under its nested name, so a call
/// to it is judged rather than called undeclared.
fn declared_functions(request: Option<&Value>) -> BTreeMap<String, Option<Value>> {
    request
        .and_then(|q| q.get("tools"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| str_at(t, "type") == Some("function"))
        .filter_map(|t| {
            let name = str_at(t, "name")
                .or_else(|| t.pointer("/function/name").and_then(Value::as_str))?;
            let params = t
                .get("parameters")
                .or_else(|| t.pointer("/function/parameters"))
                .filter(|p| !p.is_null())
                .cloned();
            Some((name.to_string(), params))
        })
        .collect()
}

fn function_calls(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.function_calls";
    let tools = declared_functions(i.request);
    if tools.is_empty() {
        return vec![CheckResult::fail(
            C,
            "the request declares no function tools (suite error)",
        )];
    }
    let r = response_or_fail!(C, i);
    let items = match output_items(C, &r) {
        Ok(items) => items,
        Err(e) => return vec![e],
    };
    let calls = function_call_items(items);
    let choice = i.request.and_then(|q| q.get("tool_choice"));
    let named = choice
        .filter(|c| str_at(c, "type") == Some("function"))
        .and_then(|c| str_at(c, "name"));
    let mut out = Vec::new();
    match (choice.and_then(Value::as_str), named) {
        (Some("none"), _) => {
            if let Some((k, _)) = calls.first() {
                out.push(
                    CheckResult::fail(
                        C,
                        format!("tool_choice `none`, but output item {k} is a function call"),
                    )
                    .at(format!("$.output[{k}]")),
                );
            }
            return finish(
                C,
                out,
                "no function call, as `tool_choice: none` asks".into(),
            );
        }
        (_, Some(name)) => {
            if let Some((k, c)) = calls.iter().find(|(_, c)| str_at(c, "name") != Some(name)) {
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "tool_choice names `{name}`, but output item {k} calls {}",
                            shown(c.get("name"))
                        ),
                    )
                    .at(format!("$.output[{k}].name")),
                );
            }
        }
        _ => {}
    }
    if calls.is_empty() {
        let text = output_text(items);
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "no `function_call` output item{} ({})",
                    match (choice.and_then(Value::as_str), named) {
                        (Some("required"), _) => " although tool_choice is `required`".to_string(),
                        (_, Some(n)) => format!(" although tool_choice names `{n}`"),
                        _ => String::new(),
                    },
                    if text.is_empty() {
                        "and no text".to_string()
                    } else {
                        format!("the model answered in text: {:?}", excerpt(&text, 60))
                    }
                ),
            )
            .at("$.output"),
        );
        return out;
    }
    if i.request.and_then(|q| q.get("parallel_tool_calls")) == Some(&Value::Bool(false))
        && calls.len() > 1
    {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "{} function calls although `parallel_tool_calls` is false",
                    calls.len()
                ),
            )
            .at("$.output"),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    for (k, call) in &calls {
        let at = format!("$.output[{k}]");
        match str_at(call, "call_id") {
            Some(id) if !id.trim().is_empty() => {
                if seen.contains(&id) {
                    out.push(CheckResult::fail(C, format!("call_id `{id}` is used twice")).at(format!("{at}.call_id")));
                }
                seen.push(id);
            }
            other => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "`call_id` is {}, expected a non-empty string (the `function_call_output` must quote it)",
                        other.map_or_else(|| shown(call.get("call_id")), |s| format!("{s:?}"))
                    ),
                )
                .at(format!("{at}.call_id")),
            ),
        }
        let name = str_at(call, "name").unwrap_or("");
        let schema = match tools.get(name) {
            Some(p) => Some(p.as_ref()),
            None => {
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "calls {}, which the request did not declare (declared: {})",
                            shown(call.get("name")),
                            tools.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .at(format!("{at}.name")),
                );
                None
            }
        };
        out.extend(arguments(
            C,
            call.get("arguments"),
            schema,
            &format!("{at}.arguments"),
        ));
    }
    let names: Vec<&str> = calls
        .iter()
        .filter_map(|(_, c)| str_at(c, "name"))
        .collect();
    finish(
        C,
        out,
        format!(
            "{} valid function call(s): {}",
            calls.len(),
            names.join(", ")
        ),
    )
}

fn final_answer(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.final_answer";
    let r = response_or_fail!(C, i);
    let items = match output_items(C, &r) {
        Ok(items) => items,
        Err(e) => return vec![e],
    };
    let text = output_text(items);
    if !text.trim().is_empty() {
        return vec![CheckResult::pass(
            C,
            format!("answered: {:?}", excerpt(&text, 60)),
        )];
    }
    let why = match function_call_items(items).first() {
        Some((k, c)) => format!(
            "the response calls {} again (output item {k}) instead of answering with the function's result",
            shown(c.get("name"))
        ),
        None => "the response has no assistant text after the function result".into(),
    };
    vec![CheckResult::fail(C, why).at("$.output")]
}

fn structured_output(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.structured_output";
    let Some(schema) = i.request.and_then(|q| q.pointer("/text/format/schema")) else {
        return vec![CheckResult::fail(
            C,
            "the request has no `text.format.schema` (suite error)",
        )];
    };
    let r = response_or_fail!(C, i);
    let items = match output_items(C, &r) {
        Ok(items) => items,
        Err(e) => return vec![e],
    };
    let text = output_text(items);
    if text.is_empty() {
        return vec![
            CheckResult::fail(C, "the response has no output text to parse").at("$.output"),
        ];
    }
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) if str_at(&r, "status") == Some("incomplete") => {
            return vec![CheckResult::warn(
                C,
                format!(
                    "the output is not valid JSON ({e}), but the response is incomplete (cut at its limit)"
                ),
            )];
        }
        Err(e) => {
            let what = if text.trim_start().starts_with("```") {
                "JSON fenced in a ``` code block, not bare JSON"
            } else if text.trim_start().starts_with(['{', '[']) {
                "malformed JSON"
            } else {
                "prose, not JSON (text.format was silently ignored)"
            };
            return vec![
                CheckResult::fail(
                    C,
                    format!("the output text is {what} ({e}): {:?}", excerpt(&text, 60)),
                )
                .at("$.output"),
            ];
        }
    };
    let out = match schema_violations(schema, &value) {
        Ok(v) => v
            .into_iter()
            .map(|(path, msg)| {
                CheckResult::fail(
                    C,
                    format!(
                        "the output does not match the requested schema at `{}`: {msg}",
                        if path.is_empty() { "/" } else { &path }
                    ),
                )
                .at("$.output")
            })
            .collect(),
        Err(e) => vec![CheckResult::fail(
            C,
            format!("the requested schema does not compile (suite error): {e}"),
        )],
    };
    finish(
        C,
        out,
        "output text is valid JSON matching the requested schema".into(),
    )
}

/// The id in `/responses/{id}` of the request path, when it is one.
fn path_id(i: &CheckInput<'_>) -> Option<String> {
    i.request_path
        .split('?')
        .next()?
        .trim_end_matches('/')
        .split("/responses/")
        .nth(1)
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(str::to_string)
}

fn retrieved(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.retrieved";
    let r = response_or_fail!(C, i);
    let mut out = Vec::new();
    if let (Some(asked), got) = (path_id(i), str_at(&r, "id"))
        && got != Some(asked.as_str())
    {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "retrieved response {asked:?} but got id {}",
                    shown(r.get("id"))
                ),
            )
            .at("$.id")
            .expected(asked)
            .actual(shown(r.get("id"))),
        );
    }
    match str_at(&r, "status") {
        Some("completed" | "incomplete" | "failed" | "cancelled") => {}
        other => out.push(
            CheckResult::fail(
                C,
                format!(
                    "the stored response has status {}, expected a final one",
                    other.map_or("missing".to_string(), |s| format!("`{s}`"))
                ),
            )
            .at("$.status"),
        ),
    }
    finish(C, out, "the stored response, as created".into())
}

fn deleted(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.deleted";
    let Some(b) = i.json.filter(|b| b.is_object()) else {
        return vec![CheckResult::fail(
            C,
            format!(
                "the body is not a JSON object: {:?}",
                i.response.body_excerpt(80)
            ),
        )];
    };
    let mut out = Vec::new();
    if b.get("deleted") != Some(&Value::Bool(true)) {
        out.push(
            CheckResult::fail(
                C,
                format!("`deleted` is {}, expected true", shown(b.get("deleted"))),
            )
            .at("$.deleted"),
        );
    }
    if str_at(b, "object") != Some("response") {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`object` is {}, expected \"response\"",
                    shown(b.get("object"))
                ),
            )
            .at("$.object"),
        );
    }
    if let Some(asked) = path_id(i)
        && str_at(b, "id") != Some(asked.as_str())
    {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "deleted {asked:?} but the body names {}",
                    shown(b.get("id"))
                ),
            )
            .at("$.id"),
        );
    }
    finish(C, out, "deleted".into())
}

fn media_not_echoed(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.media_not_echoed";
    let payloads: Vec<&str> = i
        .request
        .and_then(|q| q.get("input"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|m| {
            m.get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|p| str_at(p, "type") == Some("input_image"))
        .filter_map(|p| str_at(p, "image_url"))
        .filter_map(|u| {
            u.strip_prefix("data:")?
                .split_once(";base64,")
                .map(|(_, d)| d)
        })
        .collect();
    if payloads.is_empty() {
        return vec![CheckResult::fail(
            C,
            "the request sends no inline `input_image` to look for (suite error)",
        )];
    }
    let r = response_or_fail!(C, i);
    let text = output_items(C, &r).map(output_text).unwrap_or_default();
    match payloads.iter().position(|p| super::media::echoes(&text, p)) {
        Some(n) => vec![
            CheckResult::fail(
                C,
                format!("the output text repeats the base64 data of image {} (the part was treated as text)", n + 1),
            )
            .at("$.output"),
        ],
        None => vec![CheckResult::pass(C, format!("{} inline image(s) not echoed", payloads.len()))],
    }
}
