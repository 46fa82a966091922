//! `stream: true` on `/v1/responses`: the named-event stream. Every event is written as
//! `event: <type>` + `data: <json>` with a `sequence_number` counting from 0, in the documented
//! order: `response.created`, `response.in_progress`, then per output item
//! `response.output_item.added` → for a message `response.content_part.added`, one
//! `response.output_text.delta` per token, `response.output_text.done`,
//! `response.content_part.done`; for a function call `response.function_call_arguments.delta`
//! fragments and `.done` → `response.output_item.done`, and finally `response.completed` (or
//! `response.incomplete` when the output-token limit cut the text). No `[DONE]`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::responses::{call_item_id, output_items, Generated};
use crate::Config;

/// Argument strings are sent in about this many fragments.
const ARGUMENT_FRAGMENTS: usize = 3;

/// The SSE response: `in_progress` is the response object before any output, `done` the final
/// one (also what `GET /responses/{id}` returns).
pub(crate) fn respond(g: &Generated, in_progress: Value, done: Value, config: &Config) -> Response {
    let frames: Vec<Bytes> = events(g, in_progress, done)
        .into_iter()
        .map(|e| {
            let ty = e["type"].as_str().unwrap_or("").to_string();
            Bytes::from(format!("event: {ty}\ndata: {e}\n\n"))
        })
        .collect();
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

/// Every event of the stream, in order, each with its `sequence_number`.
pub(crate) fn events(g: &Generated, in_progress: Value, done: Value) -> Vec<Value> {
    let mut out = vec![
        json!({ "type": "response.created", "response": in_progress }),
        json!({ "type": "response.in_progress", "response": in_progress }),
    ];
    for (k, item) in output_items(g).into_iter().enumerate() {
        let id = item["id"].clone();
        let mut added = item.clone();
        added["status"] = json!("in_progress");
        if item["type"] == "message" {
            added["content"] = json!([]);
            out.push(
                json!({ "type": "response.output_item.added", "output_index": k, "item": added }),
            );
            let part = &item["content"][0];
            let mut empty = part.clone();
            empty["text"] = json!("");
            out.push(
                json!({ "type": "response.content_part.added", "item_id": id,
                "output_index": k, "content_index": 0, "part": empty }),
            );
            for piece in g.text.iter().flatten() {
                out.push(json!({ "type": "response.output_text.delta", "item_id": id,
                    "output_index": k, "content_index": 0, "delta": piece, "logprobs": [] }));
            }
            out.push(json!({ "type": "response.output_text.done", "item_id": id,
                "output_index": k, "content_index": 0, "text": part["text"], "logprobs": [] }));
            out.push(json!({ "type": "response.content_part.done", "item_id": id,
                "output_index": k, "content_index": 0, "part": part }));
        } else {
            added["arguments"] = json!("");
            out.push(
                json!({ "type": "response.output_item.added", "output_index": k, "item": added }),
            );
            let call = &g.calls[k];
            debug_assert_eq!(id, json!(call_item_id(call)));
            for fragment in fragments(&call.arguments) {
                out.push(json!({ "type": "response.function_call_arguments.delta",
                    "item_id": id, "output_index": k, "delta": fragment }));
            }
            out.push(
                json!({ "type": "response.function_call_arguments.done", "item_id": id,
                "name": call.name, "output_index": k, "arguments": call.arguments }),
            );
        }
        out.push(json!({ "type": "response.output_item.done", "output_index": k, "item": item }));
    }
    let terminal = if done["status"] == "incomplete" {
        "response.incomplete"
    } else {
        "response.completed"
    };
    out.push(json!({ "type": terminal, "response": done }));
    for (n, e) in out.iter_mut().enumerate() {
        e["sequence_number"] = json!(n);
    }
    out
}

/// `s` cut into about [`ARGUMENT_FRAGMENTS`] pieces on character boundaries.
fn fragments(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let size = chars.len().div_ceil(ARGUMENT_FRAGMENTS).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_concatenate() {
        for s in ["", "{}", "{\"city\": \"Zürich\"}"] {
            assert_eq!(fragments(s).concat(), s);
        }
    }
}
