//! `stream: true` on `/v1/responses`: the named-event stream. Every event is written as
//! `event: <type>` + `data: <json>` with a `sequence_number` counting from 0, in the documented
//! order: `response.created`, `response.in_progress`, then per output item
//! `response.output_item.added` → for a message `response.content_part.added`, one
//! `response.output_text.delta` per token, `response.output_text.done`,
//! `response.content_part.done`; for a function call `response.function_call_arguments.delta`
//! fragments and `.done` → `response.output_item.done`, and finally `response.completed` (or
//! `response.incomplete` when the output-token limit cut the text). No `[DONE]`.

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{json, Value};

use crate::responses::{call_item_id, output_items, Generated};
use crate::{stream, Config};

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
    stream::sse_response(frames, config)
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
            for fragment in stream::fragments(&call.arguments, stream::ARGUMENT_FRAGMENTS) {
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
