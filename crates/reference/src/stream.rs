//! `stream: true`: renders a completion as `chat.completion.chunk` server-sent events.
//!
//! Per choice: an opener (`role`, empty content), one delta per token (or, for tool calls,
//! a header delta per call followed by argument fragments), then an empty delta carrying
//! `finish_reason`. Choices are interleaved chunk by chunk. With
//! `stream_options.include_usage`, every chunk has `"usage": null` and a final chunk with
//! `choices: []` carries the usage. The stream ends with `data: [DONE]`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::chat::{Choice, Completion};
use crate::deviation;
use crate::request::ChatRequest;
use crate::Config;

/// Argument strings are sent in about this many fragments.
pub(crate) const ARGUMENT_FRAGMENTS: usize = 3;

/// The SSE response for a completion.
pub(crate) fn respond(c: &Completion, req: &ChatRequest, config: &Config) -> Response {
    let events = deviation::chat::stream_events(config.deviations, chunks(c, req.include_usage));
    let frames: Vec<Bytes> = events
        .iter()
        .map(|e| Bytes::from(format!("data: {e}\n\n")))
        .collect();
    sse_response(frames, config)
}

/// An HTTP 200 `text/event-stream` response sending `frames` (whole SSE events), paced by
/// `config.stream_delay_ms`.
pub(crate) fn sse_response(frames: Vec<Bytes>, config: &Config) -> Response {
    let delay = Duration::from_millis(config.stream_delay_ms);
    let body = futures_util::stream::iter(frames.into_iter().enumerate()).then(
        move |(i, frame)| async move {
            if i > 0 && !delay.is_zero() {
                crate::headers::sleep_precisely(delay).await;
            }
            Ok::<Bytes, Infallible>(frame)
        },
    );
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Every chunk of the stream, in order (without the `[DONE]` terminator).
pub(crate) fn chunks(c: &Completion, include_usage: bool) -> Vec<Value> {
    let per_choice: Vec<Vec<Value>> = c.choices.iter().map(choice_deltas).collect();
    let longest = per_choice.iter().map(Vec::len).max().unwrap_or(0);
    let wrap = |choices: Vec<Value>| {
        let mut chunk = json!({
            "id": c.id,
            "object": "chat.completion.chunk",
            "created": c.created,
            "model": c.model,
            "service_tier": "default",
            "system_fingerprint": c.fingerprint,
            "choices": choices
        });
        if include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    let mut out = Vec::new();
    // Round-robin over choices, so with `n > 1` their chunks interleave.
    for step in 0..longest {
        for deltas in &per_choice {
            if let Some(d) = deltas.get(step) {
                out.push(wrap(vec![d.clone()]));
            }
        }
    }
    if include_usage {
        let mut last = wrap(Vec::new());
        last["usage"] = c.usage.clone();
        out.push(last);
    }
    out
}

/// The `choices[]` items one choice streams, in order.
fn choice_deltas(choice: &Choice) -> Vec<Value> {
    let item = |delta: Value, logprobs: Value, finish: Value| json!({ "index": choice.index, "delta": delta, "logprobs": logprobs, "finish_reason": finish });
    let mut out = Vec::new();
    let opener_content = if choice.content.is_some() {
        json!("")
    } else {
        Value::Null
    };
    out.push(item(
        json!({ "role": "assistant", "content": opener_content, "refusal": null }),
        Value::Null,
        Value::Null,
    ));
    for (k, piece) in choice.content.iter().flatten().enumerate() {
        let logprobs = match &choice.logprobs {
            Some(entries) => json!({ "content": [entries[k].clone()], "refusal": null }),
            None => Value::Null,
        };
        out.push(item(json!({ "content": piece }), logprobs, Value::Null));
    }
    for (k, call) in choice.tool_calls.iter().enumerate() {
        // `id`, `type` and `name` only on the first delta of a call; then fragments.
        out.push(item(
            json!({ "tool_calls": [{
                "index": k,
                "id": call.id,
                "type": "function",
                "function": { "name": call.name, "arguments": "" }
            }]}),
            Value::Null,
            Value::Null,
        ));
        for fragment in fragments(&call.arguments, ARGUMENT_FRAGMENTS) {
            out.push(item(
                json!({ "tool_calls": [{ "index": k, "function": { "arguments": fragment } }] }),
                Value::Null,
                Value::Null,
            ));
        }
    }
    out.push(item(json!({}), Value::Null, json!(choice.finish_reason)));
    out
}

/// Splits `s` into at most `parts` non-empty pieces on character boundaries.
pub(crate) fn fragments(s: &str, parts: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(parts.max(1));
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_concatenate() {
        for s in ["{}", "{\"city\":\"Zürich\"}", "x"] {
            let f = fragments(s, 3);
            assert!(f.len() <= 3 && !f.is_empty());
            assert_eq!(f.concat(), s);
        }
    }
}
