//! `errors.*`: the error envelope `{"error": {"message", "type", "param", "code"}}` and the named
//! ways endpoints deviate from it.

use serde_json::Value;

use super::{CheckDef, CheckInput};
use crate::judge::errors::{ErrorShape, describe_deviation, envelope_fields, shape_of};
use crate::judge::outcome::CheckResult;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "errors.envelope",
        description: "the body is OpenAI's error envelope: an object with `error.message` (string), `error.type` (string), `error.param` and `error.code` (string or null); list-wrapped, flat, FastAPI `detail`, string, non-JSON bodies and HTTP 200 errors are named",
        run: envelope,
    },
    CheckDef {
        name: "errors.model_not_found",
        description: "a bad model id gets HTTP 404 with code `model_not_found` as OpenAI sends (another 4xx is a warning)",
        run: model_not_found,
    },
    CheckDef {
        name: "errors.invalid_api_key",
        description: "a bad key gets HTTP 401 with code `invalid_api_key` (code differences are warnings)",
        run: invalid_api_key,
    },
    CheckDef {
        name: "errors.auth_meaning",
        description: "a bad key's error says what happened: `error.type` is not a server-error type (`api_error`, `server_error`, … — apps and retry wrappers then treat a bad key as an outage) and `error.code` is not an error type name (`invalid_request_error` — apps testing `code == \"invalid_api_key\"` to ask for a new key miss it)",
        run: auth_meaning,
    },
    CheckDef {
        name: "errors.context_length",
        description: "a prompt longer than the model's context is refused as OpenAI does: HTTP 400 with `error.code` `context_length_exceeded` (what apps test, as `e.code` in the OpenAI SDKs and LangChain, to trim the history and retry); `type` `invalid_request_error` and `param` `messages` (differences are warnings); a 200 (the input truncated or ignored), 413 or 429 fails",
        run: context_length,
    },
];

fn envelope(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "errors.envelope";
    let resp = i.response;
    let mut out = Vec::new();
    if (200..300).contains(&resp.status) {
        let carries_error = matches!(
            shape_of(resp),
            ErrorShape::Envelope(_)
                | ErrorShape::ListWrapped(_)
                | ErrorShape::Flat(_)
                | ErrorShape::StringError(_)
                | ErrorShape::Reshaped(_)
        );
        out.push(if carries_error {
            CheckResult::fail(
                C,
                format!(
                    "HTTP {} carrying an error body (clients treat it as success)",
                    resp.status
                ),
            )
        } else {
            CheckResult::fail(
                C,
                format!("HTTP {} success where an error was expected", resp.status),
            )
        });
        return out;
    }
    let ct = resp.content_type().unwrap_or("").to_ascii_lowercase();
    let shape = shape_of(resp);
    if let Some(reason) = describe_deviation(&shape, resp) {
        out.push(CheckResult::fail(C, reason).at("$"));
        return out;
    }
    if !ct.contains("json") {
        out.push(CheckResult::fail(
            C,
            format!(
                "error body is JSON but Content-Type is {}",
                if ct.is_empty() { "missing" } else { &ct }
            ),
        ));
    }
    if let ErrorShape::Envelope(e) = shape {
        out.extend(envelope_fields(C, e));
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, "OpenAI error envelope"));
    }
    out
}

fn code_of(i: &CheckInput<'_>) -> Option<Value> {
    i.json?.get("error")?.get("code").cloned()
}

fn model_not_found(i: &CheckInput<'_>) -> Vec<CheckResult> {
    preferred(i, "errors.model_not_found", 404, "model_not_found")
}

fn invalid_api_key(i: &CheckInput<'_>) -> Vec<CheckResult> {
    preferred(i, "errors.invalid_api_key", 401, "invalid_api_key")
}

/// The exact status and code OpenAI sends: differences within the right class are warnings
/// (clients branch on the class), so they are visible without failing the case.
fn preferred(i: &CheckInput<'_>, check: &str, status: u16, code: &str) -> Vec<CheckResult> {
    let mut out = Vec::new();
    if i.response.status != status {
        out.push(CheckResult::warn(
            check,
            format!("HTTP {} where OpenAI sends {status}", i.response.status),
        ));
    }
    match code_of(i) {
        Some(Value::String(c)) if c == code => {}
        other => out.push(
            CheckResult::warn(
                check,
                format!(
                    "error.code is {}, OpenAI sends \"{code}\"",
                    other
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "missing".into())
                ),
            )
            .at("$.error.code"),
        ),
    }
    if out.is_empty() {
        out.push(CheckResult::pass(check, format!("HTTP {status} {code}")));
    }
    out
}

/// `error.type` values that say the server failed, not the request.
const SERVER_ERROR_TYPES: &[&str] = &[
    "api_error",
    "server_error",
    "internal_error",
    "internal_server_error",
    "service_unavailable",
];

fn auth_meaning(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "errors.auth_meaning";
    let Some(e) = i
        .json
        .and_then(|b| b.get("error"))
        .filter(|e| e.is_object())
    else {
        return vec![CheckResult::fail(
            C,
            "no `error` object: the body does not say what went wrong (the envelope is errors.envelope's finding)",
        )
        .at("$.error")];
    };
    let mut out = Vec::new();
    if let Some(t) = e.get("type").and_then(Value::as_str)
        && SERVER_ERROR_TYPES.contains(&t.to_ascii_lowercase().as_str())
    {
        out.push(
            CheckResult::fail(
                C,
                format!("error.type \"{t}\" says the server failed, not the key: apps and retry wrappers treat a bad key as an outage (QUIRKS E14; OpenAI sends \"invalid_request_error\" with code \"invalid_api_key\")"),
            )
            .at("$.error.type")
            .actual(t),
        );
    }
    if let Some(c) = e.get("code").and_then(Value::as_str)
        && c.ends_with("_error")
    {
        out.push(
            CheckResult::fail(
                C,
                format!("error.code \"{c}\" is an error type, not a code (QUIRKS E14): apps testing code == \"invalid_api_key\" to ask for a new key miss it"),
            )
            .at("$.error.code")
            .expected("invalid_api_key")
            .actual(c),
        );
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, "the error says the key was refused"));
    }
    out
}

/// The context-overflow error clients can recognise: what they branch on is the status (the
/// SDKs' error class) and `error.code`.
fn context_length(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "errors.context_length";
    const CODE: &str = "context_length_exceeded";
    let status = i.response.status;
    if (200..300).contains(&status) {
        return vec![CheckResult::fail(
            C,
            format!(
                "HTTP {status}: a prompt longer than the context was accepted (the input was truncated or ignored without an error, or the model's context is larger than the case's filler)"
            ),
        )];
    }
    let mut out = Vec::new();
    if status != 400 {
        let class = match status {
            413 => "APIStatusError (413), not BadRequestError",
            429 => "RateLimitError after retrying (a 429 is retried), not BadRequestError",
            _ => "another error class than BadRequestError",
        };
        out.push(CheckResult::fail(
            C,
            format!("HTTP {status} where OpenAI sends 400: the OpenAI SDKs raise {class}, so context-overflow handling misses it"),
        ));
    }
    let e = i
        .json
        .and_then(|b| b.get("error"))
        .filter(|e| e.is_object());
    let field = |k: &str| e.and_then(|e| e.get(k));
    match field("code") {
        Some(Value::String(c)) if c == CODE => {}
        other => out.push(
            CheckResult::fail(
                C,
                format!(
                    "error.code is {}, not \"{CODE}\": the SDKs expose that code as `e.code`, which apps test to trim the history and retry; without it the overflow is an ordinary bad request (QUIRKS E15)",
                    other.map(Value::to_string).unwrap_or_else(|| "missing".into())
                ),
            )
            .at("$.error.code")
            .expected(CODE),
        ),
    }
    if let Some(t) = field("type").filter(|t| t.as_str() != Some("invalid_request_error")) {
        out.push(
            CheckResult::warn(
                C,
                format!("error.type is {t}, OpenAI sends \"invalid_request_error\""),
            )
            .at("$.error.type"),
        );
    }
    if let Some(p) = field("param").filter(|p| p.as_str() != Some("messages")) {
        out.push(
            CheckResult::warn(C, format!("error.param is {p}, OpenAI sends \"messages\""))
                .at("$.error.param"),
        );
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, format!("HTTP 400 {CODE}")));
    }
    out
}
