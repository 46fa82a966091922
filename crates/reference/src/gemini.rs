//! The `gemini-compat` profile: an **emulation** of the documented deviations of Google's
//! Gemini OpenAI-compatibility endpoint (`v1beta/openai`), so the harness's deviation
//! reporting can be exercised offline. It is not Google's behaviour verified on the wire:
//! each deviation reproduces one row of llm-parity's `docs/quirks.md` as reported there, and lives in exactly
//! one marked place in this file (search for the row id).

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::ApiError;
use crate::validate::{field, opt_bool, opt_int, opt_object, opt_str};
use crate::{AppState, Profile};

/// The `google` extension object (what `extra_body={"google": …}` puts on the wire).
#[derive(Debug, Clone, Default)]
pub(crate) struct GoogleExtension {
    /// `google.thinking_config.thinking_budget` (-1 means dynamic).
    pub thinking_budget: Option<i64>,
    /// `google.thinking_config.include_thoughts`.
    pub include_thoughts: bool,
    /// Whether `google.cached_content` was given.
    pub cached_content: bool,
}

/// Profile-specific request checks of a chat completion body.
pub(crate) fn validate_chat(
    req: &Map<String, Value>,
    n: usize,
    reasoning_effort: Option<&str>,
) -> Result<GoogleExtension, ApiError> {
    // Q2: more than one candidate is refused.
    if n > 1 {
        return Err(ApiError::bad_request(
            "Multiple candidates is not enabled for this model",
            Some("n"),
            None,
        ));
    }
    // R2: the `medium` thinking level is refused (as reported for Gemini 3 Pro).
    if reasoning_effort == Some("medium") {
        return Err(ApiError::bad_request(
            "Thinking level MEDIUM is not supported for this model.",
            Some("reasoning_effort"),
            None,
        ));
    }
    // R3: `google: {thinking_config: {thinking_budget, include_thoughts}, cached_content}`.
    let mut ext = GoogleExtension::default();
    let Some(google) = opt_object(field(req, "google"), "google")? else {
        return Ok(ext);
    };
    for (key, value) in google {
        match key.as_str() {
            "thinking_config" => {
                let tc = opt_object(Some(value), "google.thinking_config")?
                    .cloned()
                    .unwrap_or_default();
                for k in tc.keys() {
                    if !["thinking_budget", "include_thoughts", "thinking_level"]
                        .contains(&k.as_str())
                    {
                        return Err(unknown_name(k, "google.thinking_config"));
                    }
                }
                ext.thinking_budget = opt_int(
                    field(&tc, "thinking_budget"),
                    "google.thinking_config.thinking_budget",
                    -1,
                    None,
                )?;
                ext.include_thoughts = opt_bool(
                    field(&tc, "include_thoughts"),
                    "google.thinking_config.include_thoughts",
                )?
                .unwrap_or(false);
                opt_str(
                    field(&tc, "thinking_level"),
                    "google.thinking_config.thinking_level",
                )?;
            }
            "cached_content" => {
                ext.cached_content = opt_str(Some(value), "google.cached_content")?.is_some();
            }
            other => return Err(unknown_name(other, "google")),
        }
    }
    Ok(ext)
}

/// R3: with `include_thoughts`, a reasoning model's thoughts are returned in the content,
/// wrapped in `<thought>` tags. The real display format is unverified (QUIRKS §13); this is
/// one plausible rendering, so the harness has something to record.
pub(crate) fn r3_thoughts(ext: &GoogleExtension, reasoning_tokens: u64) -> Option<&'static str> {
    (ext.include_thoughts && reasoning_tokens > 0)
        .then_some("<thought>The reference endpoint thinks deterministically.</thought> ")
}

/// E3-style rejection of an unknown field.
fn unknown_name(name: &str, at: &str) -> ApiError {
    ApiError::bad_request(
        format!(
            "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
        ),
        Some(at),
        None,
    )
}

/// L1: requests accept both `ref-chat` and `models/ref-chat` ("the model name will be
/// prefixed by 'models/' if no slash appears in it").
pub(crate) fn l1_request_model_id(requested: &str) -> &str {
    requested.strip_prefix("models/").unwrap_or(requested)
}

/// L1: `/v1/models` lists ids with the `models/` prefix.
pub(crate) fn l1_listed_model_id(id: &str) -> String {
    format!("models/{id}")
}

/// Non-streamed completion deviations.
pub(crate) fn adjust_completion(v: &mut Value) {
    for choice in v["choices"].as_array_mut().into_iter().flatten() {
        // `get_mut`, not indexing: `v["k"]` on a mutable object inserts `null` for a missing key,
        // which would add a `tool_calls: null` no real endpoint sends.
        let Some(calls) = choice
            .get_mut("message")
            .and_then(|m| m.get_mut("tool_calls"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        // T2: tool-call ids are empty strings.
        for call in calls.iter_mut() {
            call["id"] = json!("");
        }
        // T1: `finish_reason` is `stop` even when tools were called.
        choice["finish_reason"] = json!("stop");
    }
}

/// Streamed completion deviations, applied to the chunks OpenAI would send.
pub(crate) fn adjust_stream(chunks: Vec<Value>) -> Vec<Value> {
    // S5: `stream_options.include_usage` is silently ignored: no usage chunk, no `usage` keys.
    let mut chunks: Vec<Value> = chunks
        .into_iter()
        .filter(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    for c in &mut chunks {
        if let Some(o) = c.as_object_mut() {
            o.remove("usage");
        }
    }

    // S1: each tool call arrives whole in one delta (there is no `index` to join fragments
    // by), so argument fragments are folded into the call's first delta.
    let mut merged: Vec<Value> = Vec::new();
    let mut call_slots: HashMap<(u64, u64), usize> = HashMap::new();
    for chunk in chunks {
        let choice = &chunk["choices"][0];
        if let Some(call) = choice["delta"]["tool_calls"].get(0) {
            let key = (
                choice["index"].as_u64().unwrap_or(0),
                call["index"].as_u64().unwrap_or(0),
            );
            match (call.get("id"), call_slots.get(&key)) {
                (None, Some(&slot)) => {
                    let fragment = call["function"]["arguments"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    let target = &mut merged[slot]["choices"][0]["delta"]["tool_calls"][0]
                        ["function"]["arguments"];
                    *target = json!(format!("{}{}", target.as_str().unwrap_or(""), fragment));
                    continue;
                }
                (Some(_), _) => {
                    call_slots.insert(key, merged.len());
                }
                _ => {}
            }
        }
        merged.push(chunk);
    }

    // S7: `finish_reason` arrives on the last content chunk; no empty terminal chunk.
    let mut out: Vec<Value> = Vec::new();
    for chunk in merged {
        let choice = &chunk["choices"][0];
        let is_terminal = !choice["finish_reason"].is_null()
            && choice["delta"].as_object().is_some_and(Map::is_empty);
        if is_terminal {
            let index = choice["index"].clone();
            if let Some(prev) = out
                .iter_mut()
                .rev()
                .find(|c| c["choices"][0]["index"] == index)
            {
                prev["choices"][0]["finish_reason"] = choice["finish_reason"].clone();
                continue;
            }
        }
        out.push(chunk);
    }

    for chunk in &mut out {
        // S4: chunks carry no `id`, and every delta repeats `role: "assistant"`.
        if let Some(o) = chunk.as_object_mut() {
            o.remove("id");
        }
        for choice in chunk["choices"].as_array_mut().into_iter().flatten() {
            choice["delta"]["role"] = json!("assistant");
            for call in choice
                .get_mut("delta")
                .and_then(|d| d.get_mut("tool_calls"))
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                // S1: streamed tool-call items have no `index`.
                if let Some(o) = call.as_object_mut() {
                    o.remove("index");
                }
                // T2: tool-call ids are empty strings.
                call["id"] = json!("");
            }
        }
    }
    out
}

/// E1 and E2: every error body becomes a JSON array of a Google-style error, and a bad key
/// is a 400 `INVALID_ARGUMENT` / `API_KEY_INVALID` instead of OpenAI's 401.
pub(crate) async fn rewrite_errors(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let response = next.run(req).await;
    if state.config.profile != Profile::GeminiCompat {
        return response;
    }
    let Some(err) = response.extensions().get::<ApiError>().cloned() else {
        return response;
    };
    let (status, body) = if err.code == Some("invalid_api_key") {
        // E2
        (
            StatusCode::BAD_REQUEST,
            json!([{ "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": { "service": "generativelanguage.googleapis.com" }
                }]
            }}]),
        )
    } else {
        // E1: integer `code`, gRPC `status`, no `type` and no `param`.
        (
            err.status,
            json!([{ "error": {
                "code": err.status.as_u16(),
                "message": err.message,
                "status": grpc_status(err.status)
            }}]),
        )
    };
    let mut rewritten = (status, Json(body)).into_response();
    rewritten.extensions_mut().insert(err);
    rewritten
}

/// The gRPC status name Google's HTTP mapping gives an HTTP status.
fn grpc_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "INVALID_ARGUMENT",
    }
}
