//! What an error response looks like: the OpenAI envelope and the named ways endpoints deviate
//! from it, plus the rule that decides when a refusal means "unsupported".

use serde_json::Value;

use super::outcome::CheckResult;
use crate::execute::exchange::Response;
use crate::util::json::{show, type_name};
use crate::util::text::excerpt;

/// The recognised shapes of an error body.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorShape<'a> {
    /// `{"error": {...}}` — OpenAI's envelope (its fields still need checking).
    Envelope(&'a serde_json::Map<String, Value>),
    /// `[{"error": {...}}]` — Gemini's list-wrapped body (QUIRKS E1).
    ListWrapped(&'a Value),
    /// `{"object": "error", "message": ...}` without the wrapper (vLLM/sglang, E4).
    Flat(&'a Value),
    /// `{"detail": ...}` (FastAPI/Starlette servers, E9).
    Detail(&'a Value),
    /// `{"error": "text"}` (E6).
    StringError(&'a str),
    /// `{"0": {"error": {...}}}` — a list-wrapped body reshaped by a router into an object
    /// keyed by position (E13).
    Reshaped(&'a Value),
    /// `{"error_code": ..., "message": ...}` and other objects.
    OtherObject(&'a Value),
    /// Valid JSON but not an object.
    OtherJson(&'a Value),
    /// Not JSON at all.
    NotJson,
    Empty,
}

pub fn shape_of(resp: &Response) -> ErrorShape<'_> {
    if resp.body.is_empty() {
        return ErrorShape::Empty;
    }
    let Some(v) = resp.json.as_ref() else {
        return ErrorShape::NotJson;
    };
    match v {
        Value::Object(o) => match o.get("error") {
            Some(Value::Object(inner)) => ErrorShape::Envelope(inner),
            Some(Value::String(s)) => ErrorShape::StringError(s),
            _ if o.get("object").and_then(Value::as_str) == Some("error") => ErrorShape::Flat(v),
            _ if o.contains_key("detail") => ErrorShape::Detail(v),
            _ if !o.is_empty()
                && o.iter().all(|(k, item)| {
                    k.bytes().all(|b| b.is_ascii_digit()) && item.get("error").is_some()
                }) =>
            {
                ErrorShape::Reshaped(v)
            }
            _ => ErrorShape::OtherObject(v),
        },
        Value::Array(items) if items.first().and_then(|i| i.get("error")).is_some() => {
            ErrorShape::ListWrapped(v)
        }
        other => ErrorShape::OtherJson(other),
    }
}

/// The human message an error body carries, wherever this endpoint puts it: the known shapes'
/// places first, then the first `message` string anywhere in the body (routers wrap upstream
/// errors in shapes of their own, and a refusal must be recognised wherever its words sit).
pub fn error_message(resp: &Response) -> Option<String> {
    let s = match shape_of(resp) {
        ErrorShape::Envelope(e) => match e.get("message").and_then(Value::as_str) {
            Some(m) => m.to_string(),
            None => find_string(resp.json.as_ref()?, "message", 0)?.to_string(),
        },
        ErrorShape::Detail(v) => match &v["detail"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        ErrorShape::StringError(s) => s.to_string(),
        ErrorShape::ListWrapped(v)
        | ErrorShape::Reshaped(v)
        | ErrorShape::Flat(v)
        | ErrorShape::OtherObject(v)
        | ErrorShape::OtherJson(v) => find_string(v, "message", 0)?.to_string(),
        ErrorShape::Empty => return None,
        ErrorShape::NotJson => resp.body_excerpt(200),
    };
    Some(excerpt(&s, 200))
}

/// How deep [`find_string`] looks: enough for any wrapping seen, bounded for hostile bodies.
const MAX_ERROR_DEPTH: usize = 6;

/// The first string member named `key`, breadth first by level (the outermost wins), at most
/// [`MAX_ERROR_DEPTH`] levels down.
fn find_string<'a>(v: &'a Value, key: &str, depth: usize) -> Option<&'a str> {
    if depth > MAX_ERROR_DEPTH {
        return None;
    }
    match v {
        Value::Object(o) => o.get(key).and_then(Value::as_str).or_else(|| {
            o.values()
                .find_map(|item| find_string(item, key, depth + 1))
        }),
        Value::Array(items) => items
            .iter()
            .take(8)
            .find_map(|item| find_string(item, key, depth + 1)),
        _ => None,
    }
}

/// `: <message>` to append to a status failure, so the reason shows what the endpoint said.
pub fn status_detail(resp: &Response) -> String {
    match error_message(resp) {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ if !resp.body.is_empty() => format!(": {}", resp.body_excerpt(120)),
        _ => String::new(),
    }
}

/// The deviation a non-envelope error shape represents, as a one-line reason.
pub fn describe_deviation(shape: &ErrorShape<'_>, resp: &Response) -> Option<String> {
    Some(match shape {
        ErrorShape::Envelope(_) => return None,
        ErrorShape::ListWrapped(_) => {
            "error body is a JSON array `[{\"error\": …}]` (list-wrapped, Gemini-style), not an object".into()
        }
        ErrorShape::Flat(_) => {
            "error body is flat `{\"object\": \"error\", \"message\": …}` without the `error` wrapper (vLLM-style)".into()
        }
        ErrorShape::Detail(_) => "error body is `{\"detail\": …}` (FastAPI-style), not `{\"error\": {…}}`".into(),
        ErrorShape::Reshaped(_) => {
            "error body is a list-wrapped error reshaped into an object keyed by position `{\"0\": {\"error\": …}}` (a router rewriting Gemini's `[{\"error\": …}]`, QUIRKS E13): clients find no `error` and lose the message".into()
        }
        ErrorShape::StringError(_) => "`error` is a string, not an object with `message`/`type`/`param`/`code`".into(),
        ErrorShape::OtherObject(v) => {
            let keys: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            format!("error body has no `error` object (keys: {})", keys.join(", "))
        }
        ErrorShape::OtherJson(v) => format!("error body is {}, not an object", type_name(v)),
        ErrorShape::NotJson => format!(
            "error body is not JSON (Content-Type {}): {:?}",
            resp.content_type().unwrap_or("missing"),
            resp.body_excerpt(80)
        ),
        ErrorShape::Empty => "error response has an empty body".into(),
    })
}

/// Check the fields of an OpenAI error envelope: message, type, param, code.
pub fn envelope_fields(check: &str, e: &serde_json::Map<String, Value>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let field = |k: &str| e.get(k);
    match field("message") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => {
            out.push(CheckResult::warn(check, "error.message is empty").at("$.error.message"))
        }
        other => out.push(
            CheckResult::fail(
                check,
                format!("error.message is {}, expected a string", shown(other)),
            )
            .at("$.error.message"),
        ),
    }
    match field("type") {
        Some(Value::String(s)) if s == "None" => out.push(
            CheckResult::fail(
                check,
                "error.type is the string \"None\" (a Python None rendered as text)",
            )
            .at("$.error.type"),
        ),
        Some(Value::String(_)) => {}
        other => out.push(
            CheckResult::fail(
                check,
                format!("error.type is {}, expected a string", shown(other)),
            )
            .at("$.error.type"),
        ),
    }
    match field("param") {
        Some(Value::String(s)) if s == "None" => out.push(
            CheckResult::fail(
                check,
                "error.param is the string \"None\", expected null or a parameter name",
            )
            .at("$.error.param"),
        ),
        Some(Value::String(s)) if s.is_empty() => out.push(
            CheckResult::warn(check, "error.param is \"\" (OpenAI sends null)").at("$.error.param"),
        ),
        Some(Value::String(_)) | Some(Value::Null) => {}
        // Required but nullable: every OpenAI SDK reads an absent field as null (QUIRKS E12).
        None => out.push(
            CheckResult::warn(
                check,
                "error.param is absent (OpenAI sends it, null when not applicable; QUIRKS E12) — clients read absent as null",
            )
            .at("$.error.param"),
        ),
        other => out.push(
            CheckResult::fail(
                check,
                format!("error.param is {}, expected a string or null", shown(other)),
            )
            .at("$.error.param"),
        ),
    }
    match field("code") {
        Some(Value::String(_)) | Some(Value::Null) => {}
        Some(Value::Number(n)) => out.push(
            CheckResult::fail(
                check,
                format!("error.code is the number {n}; OpenAI sends a string code or null"),
            )
            .at("$.error.code"),
        ),
        None => out.push(
            CheckResult::warn(
                check,
                "error.code is absent (OpenAI sends it, null when there is none) — clients read absent as null",
            )
            .at("$.error.code"),
        ),
        other => out.push(
            CheckResult::fail(
                check,
                format!("error.code is {}, expected a string or null", shown(other)),
            )
            .at("$.error.code"),
        ),
    }
    out
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None => "missing".into(),
        Some(v) => format!("{} ({})", type_name(v), show(v)),
    }
}

/// Words endpoints use when they refuse a parameter or feature.
const REFUSAL_WORDS: &[&str] = &[
    "not support",
    "unsupported",
    "not enabled",
    "not available",
    "not implemented",
    "unrecognized request argument",
    "unknown name",
    "unknown parameter",
    "unknown field",
    "not allowed",
    "extra inputs are not permitted",
    "extra_forbidden",
    "not permitted",
    "cannot be used",
    "is not one of",
];

/// The "unsupported" rule. A case that expected success is `unsupported` (not `fail`) when the
/// endpoint *clearly refuses* it:
/// - HTTP 404, 405 or 501 — the route does not exist here (unless the body says the *model*
///   does not exist: that is a configuration problem, reported as a failure);
/// - HTTP 400 or 422 whose error names a parameter the request sent (`error.param`, or the
///   parameter's name in the message) or uses refusal wording ("not supported", "Unknown name",
///   "Unrecognized request argument", …).
///
/// A 5xx is never a refusal: a server error for a client choice is itself a deviation. (Nor,
/// decided by `judge_step`, is a 404 for a path that names what an earlier step returned.)
pub fn classify_refusal(resp: &Response, request: Option<&Value>) -> Option<CheckResult> {
    let msg = error_message(resp).unwrap_or_default();
    let lower = msg.to_ascii_lowercase();
    let says = |m: &str| {
        if m.is_empty() {
            String::new()
        } else {
            format!(": {m}")
        }
    };
    match resp.status {
        404 | 405 | 501 => {
            if lower.contains("model") && resp.status == 404 {
                return None;
            }
            Some(
                CheckResult::unsupported(
                    "refusal",
                    format!(
                        "endpoint refused: HTTP {} (route not implemented){}",
                        resp.status,
                        says(&msg)
                    ),
                )
                .actual(resp.status.to_string()),
            )
        }
        400 | 422 => {
            let param = error_param(resp);
            let sent = request.map(sent_parameter_names).unwrap_or_default();
            let names_param = param.as_deref().is_some_and(|p| {
                let root = p.split(['.', '[']).next().unwrap_or(p);
                sent.iter().any(|s| s == root) && !matches!(root, "model" | "messages")
            }) || sent
                .iter()
                .filter(|s| {
                    !matches!(
                        s.as_str(),
                        "model" | "messages" | "role" | "content" | "type" | "text"
                    )
                })
                .any(|s| s.len() > 3 && lower.contains(&s.to_ascii_lowercase()));
            let refusal_words = REFUSAL_WORDS.iter().any(|w| lower.contains(w));
            (names_param || refusal_words).then(|| {
                CheckResult::unsupported(
                    "refusal",
                    format!(
                        "endpoint refused the request: HTTP {}{}",
                        resp.status,
                        says(&msg)
                    ),
                )
                .actual(resp.status.to_string())
            })
        }
        _ => None,
    }
}

/// The parameter an error names (`param`), wherever the body puts it.
fn error_param(resp: &Response) -> Option<String> {
    match shape_of(resp) {
        ErrorShape::Envelope(e) => e.get("param")?.as_str().map(str::to_string),
        ErrorShape::Empty | ErrorShape::NotJson | ErrorShape::StringError(_) => None,
        _ => find_string(resp.json.as_ref()?, "param", 0).map(str::to_string),
    }
}

/// A refusal whose body is not OpenAI's envelope: the refusal decides the outcome
/// (`unsupported`), and the body's shape is its own finding beside it, as a warning — the
/// `errors.*` cases judge the shape; here it must not turn a clear refusal into a failure.
pub fn refusal_body_finding(resp: &Response) -> Option<CheckResult> {
    let shape = shape_of(resp);
    if matches!(shape, ErrorShape::Empty | ErrorShape::NotJson) {
        return None;
    }
    describe_deviation(&shape, resp)
        .map(|d| CheckResult::warn("errors.envelope", format!("the refusal's {d}")).at("$"))
}

/// Every object key in the request body (at any depth): the parameters a refusal may name.
fn sent_parameter_names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    if !out.contains(k) {
                        out.push(k.clone());
                    }
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}
