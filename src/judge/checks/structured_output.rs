//! `structured_output.*`: `response_format` honoured. With `json_schema` the content must be a
//! JSON *string* that parses and validates against the schema the request sent; with
//! `json_object` it must parse as a JSON object. Prose (the format silently ignored), fenced
//! JSON, a parsed object in place of the string and schema violations each get their own
//! reason. A refusal of the format (HTTP 400 naming `response_format`, or Gemini's `Unknown
//! name "$schema"`) never reaches these checks: the judge's refusal rule makes it `unsupported`.

use serde_json::Value;

use super::tools::schema_violations;
use super::{CheckDef, CheckInput, at_choice};
use crate::judge::outcome::CheckResult;
use crate::util::json::type_name;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "structured_output.json_schema",
        description: "with `response_format: json_schema`, `message.content` is a JSON string that parses and validates against `response_format.json_schema.schema` (nested objects, arrays, enums, required fields); prose (the format silently ignored, O2), fenced ```json, a parsed object instead of a string (O4), truncated JSON and schema violations each fail with their own reason",
        run: json_schema,
    },
    CheckDef {
        name: "structured_output.json_object",
        description: "with `response_format: json_object`, `message.content` is a JSON string that parses as an object; prose (O2), fenced JSON, a parsed object instead of a string (O4) and non-object JSON fail",
        run: json_object,
    },
];

fn json_schema(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "structured_output.json_schema";
    let Some(schema) = i
        .request
        .and_then(|r| r.pointer("/response_format/json_schema/schema"))
    else {
        return vec![CheckResult::fail(
            C,
            "the request has no `response_format.json_schema.schema` (suite error)",
        )];
    };
    judge_contents(C, i, |n, value| match schema_violations(schema, value) {
        Ok(v) => v
            .into_iter()
            .map(|(path, msg)| {
                CheckResult::fail(
                    C,
                    format!(
                        "content does not match the requested schema at `{}`: {msg}",
                        if path.is_empty() { "/" } else { &path }
                    ),
                )
                .at(at_choice(n, ".message.content"))
            })
            .collect(),
        Err(e) => vec![CheckResult::fail(
            C,
            format!("the requested schema does not compile (suite error): {e}"),
        )],
    })
}

fn json_object(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "structured_output.json_object";
    judge_contents(C, i, |n, value| {
        if value.is_object() {
            Vec::new()
        } else {
            vec![
                CheckResult::fail(
                    C,
                    format!(
                        "content parses to {}, expected a JSON object",
                        type_name(value)
                    ),
                )
                .at(at_choice(n, ".message.content")),
            ]
        }
    })
}

/// Parse every choice's content as JSON and hand the value to `judge`; report why it could not.
fn judge_contents(
    check: &str,
    i: &CheckInput<'_>,
    judge: impl Fn(usize, &Value) -> Vec<CheckResult>,
) -> Vec<CheckResult> {
    let choices = match i
        .json
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
    {
        Some(c) if !c.is_empty() => c,
        Some(_) => return vec![CheckResult::fail(check, "`choices` is empty").at("$.choices")],
        None => {
            return vec![
                CheckResult::fail(check, "response has no `choices` array").at("$.choices"),
            ];
        }
    };
    let mut out = Vec::new();
    for (n, choice) in choices.iter().enumerate() {
        match parsed_content(check, choice, n) {
            Ok(v) => out.extend(judge(n, &v)),
            Err(e) => out.push(e),
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            check,
            format!("{} choice(s) of valid JSON", choices.len()),
        ));
    }
    out
}

/// The JSON value a choice's `message.content` string holds, or the reason there is none.
fn parsed_content(check: &str, choice: &Value, n: usize) -> Result<Value, CheckResult> {
    let at = at_choice(n, ".message.content");
    let fail = |m: String| CheckResult::fail(check, m).at(at.clone());
    // A safety refusal is a different answer, not a format deviation: say so plainly.
    if let Some(r) = choice
        .pointer("/message/refusal")
        .and_then(Value::as_str)
        .filter(|r| !r.trim().is_empty())
    {
        return Err(fail(format!(
            "the model refused instead of answering: {:?}",
            excerpt(r, 80)
        ))
        .at(at_choice(n, ".message.refusal")));
    }
    let text = match choice.pointer("/message/content") {
        Some(Value::String(s)) => s,
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            return Err(fail(format!(
                "content is a parsed JSON {} ({}), not a JSON string (QUIRKS O4: typed clients expect a string and crash)",
                type_name(v),
                excerpt(&v.to_string(), 60)
            )));
        }
        other => {
            let tools = choice
                .pointer("/message/tool_calls")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            return Err(fail(format!(
                "content is {}{}, expected a JSON string",
                other.map_or("missing", type_name),
                if tools {
                    " (the model called a tool)"
                } else {
                    ""
                }
            )));
        }
    };
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Ok(v),
        Err(e) => {
            let trimmed = text.trim_start();
            // RFC 8259 sets no limit on numbers; serde_json cannot hold one beyond f64. That is
            // our parser's limit, not a deviation (JavaScript parses it as Infinity).
            if e.to_string().contains("number out of range") {
                return Err(CheckResult::warn(check, format!("content holds a number beyond double precision ({e}); valid JSON, but it could not be checked against the schema")).at(at_choice(n, ".message.content")));
            }
            let reason = if trimmed.starts_with("```") || text.contains("\n```") {
                format!(
                    "content is JSON fenced in a ``` code block, not bare JSON (JSON.parse / json.loads fail on it): {:?}",
                    excerpt(text, 60)
                )
            } else if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
                // Running out of tokens is the request's limit, not a deviation: a well-formed
                // JSON prefix cut at the end is only a warning (the schema cannot be verified).
                let prefix = e.is_eof() && trimmed.starts_with(['{', '[']);
                let msg = format!(
                    "content is not valid JSON ({e}): cut off at the token limit (finish_reason \"length\")"
                );
                if prefix {
                    return Err(CheckResult::warn(check, format!("{msg}; the JSON before the cut is well-formed, so the output could not be verified against the schema")).at(at_choice(n, ".message.content")));
                }
                msg
            } else if trimmed.starts_with(['{', '[']) {
                format!("content is malformed JSON ({e}): {:?}", excerpt(text, 60))
            } else {
                format!(
                    "content is prose, not JSON: {:?} (response_format was silently ignored, QUIRKS O2)",
                    excerpt(text, 60)
                )
            };
            Err(fail(reason))
        }
    }
}
