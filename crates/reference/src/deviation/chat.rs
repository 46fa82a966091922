//! Deviations of chat completions: the non-streamed body (T1, T2, T3, T7) and the stream (S1,
//! S4, S5, S7, S10, T2, T7, E8). Each takes what OpenAI would send and changes only its own part, so
//! any combination composes; the order below is the one the `gemini-compat` bundle needs.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{Deviation, Deviations};
use crate::util::sha256;

/// T7: the opaque signature Gemini attaches to the first function call of a step, here derived
/// from the call's id (before T2 empties it) so streamed and non-streamed answers agree.
fn thought_signature(call_id: &str) -> Value {
    use base64::Engine as _;
    let digest = sha256(&[b"llm-parity thought signature ", call_id.as_bytes()]);
    json!({ "google": {
        "thought_signature": base64::engine::general_purpose::STANDARD.encode(digest)
    }})
}

/// The error event E8 puts in the stream.
pub(crate) const STREAM_ERROR_MESSAGE: &str =
    "The upstream model failed while generating the response.";

/// Non-streamed completion deviations.
pub(crate) fn completion(dev: Deviations, v: &mut Value) {
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
        if dev.has(Deviation::ThoughtSignature) {
            if let Some(first) = calls.first_mut() {
                first["extra_content"] = thought_signature(first["id"].as_str().unwrap_or(""));
            }
        }
        for call in calls.iter_mut() {
            if dev.has(Deviation::EmptyToolCallIds) {
                call["id"] = json!("");
            }
            if dev.has(Deviation::ArgumentsAsObject) {
                let args = &mut call["function"]["arguments"];
                if let Some(parsed) = args.as_str().and_then(|s| serde_json::from_str(s).ok()) {
                    *args = parsed;
                }
            }
        }
        if dev.has(Deviation::StopWithToolCalls) {
            choice["finish_reason"] = json!("stop");
        }
    }
}

/// The data payloads of a stream (`[DONE]` included unless S7-no-done), from the chunks
/// OpenAI would send.
pub(crate) fn stream_events(dev: Deviations, chunks: Vec<Value>) -> Vec<String> {
    let mut chunks = stream_chunks(dev, chunks);
    if dev.has(Deviation::ErrorInStream) {
        // The opener and one delta get out, then the upstream fails.
        chunks.truncate(2);
        chunks.push(json!({ "error": {
            "message": STREAM_ERROR_MESSAGE,
            "type": "server_error",
            "param": null,
            "code": "internal_error"
        }}));
    }
    let mut events: Vec<String> = chunks.iter().map(Value::to_string).collect();
    if !dev.has(Deviation::NoDone) {
        events.push("[DONE]".into());
    }
    events
}

fn stream_chunks(dev: Deviations, mut chunks: Vec<Value>) -> Vec<Value> {
    if dev.has(Deviation::ToolDeltaWithoutIndex) {
        chunks = whole_tool_calls(chunks);
    }
    if dev.has(Deviation::FinishOnContent) {
        chunks = finish_on_last_content(chunks);
    }
    if dev.has(Deviation::UsageIgnored) {
        chunks = without_usage(chunks);
    } else if dev.has(Deviation::UsageOnFinishChunk) {
        chunks = usage_on_last_choice_chunk(chunks);
    }
    let base_created = chunks
        .first()
        .and_then(|c| c["created"].as_u64())
        .unwrap_or(0);
    // T7: the choices whose first tool call already got its signature.
    let mut signed: Vec<Value> = Vec::new();
    for (i, chunk) in chunks.iter_mut().enumerate() {
        if dev.has(Deviation::ChunkWithoutId) {
            if let Some(o) = chunk.as_object_mut() {
                o.remove("id");
            }
        }
        if dev.has(Deviation::CreatedChanges) {
            // One second per chunk, as a stream spanning seconds stamped per chunk shows.
            chunk["created"] = json!(base_created + i as u64);
        }
        for choice in chunk["choices"].as_array_mut().into_iter().flatten() {
            if dev.has(Deviation::RoleOnEveryDelta) {
                choice["delta"]["role"] = json!("assistant");
            }
            let index = choice["index"].clone();
            for call in choice
                .get_mut("delta")
                .and_then(|d| d.get_mut("tool_calls"))
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if dev.has(Deviation::ToolDeltaWithoutIndex) {
                    if let Some(o) = call.as_object_mut() {
                        o.remove("index");
                    }
                }
                // The call's first delta (the one with its id) of the choice's first call.
                if dev.has(Deviation::ThoughtSignature) && !signed.contains(&index) {
                    if let Some(id) = call.get("id").and_then(Value::as_str) {
                        call["extra_content"] = thought_signature(id);
                        signed.push(index.clone());
                    }
                }
                if dev.has(Deviation::EmptyToolCallIds) && call.get("id").is_some() {
                    call["id"] = json!("");
                }
            }
        }
    }
    chunks
}

/// S5-ignored: no usage chunk and no `usage` keys.
fn without_usage(chunks: Vec<Value>) -> Vec<Value> {
    chunks
        .into_iter()
        .filter(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty()))
        .map(|mut c| {
            if let Some(o) = c.as_object_mut() {
                o.remove("usage");
            }
            c
        })
        .collect()
}

/// S5-on-finish: the usage chunk is folded into the last chunk that has choices.
fn usage_on_last_choice_chunk(chunks: Vec<Value>) -> Vec<Value> {
    let usage = chunks
        .iter()
        .find(|c| c["choices"].as_array().is_some_and(Vec::is_empty) && !c["usage"].is_null())
        .map(|c| c["usage"].clone());
    let Some(usage) = usage else {
        return chunks;
    };
    let mut out: Vec<Value> = chunks
        .into_iter()
        .filter(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    if let Some(last) = out.last_mut() {
        last["usage"] = usage;
    }
    out
}

/// S1: each tool call arrives whole in one delta (there is no `index` to join fragments by),
/// so argument fragments are folded into the call's first delta.
fn whole_tool_calls(chunks: Vec<Value>) -> Vec<Value> {
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
    merged
}

/// S7-finish-on-content: the empty terminal delta is dropped and its `finish_reason` moves to
/// the choice's previous chunk.
fn finish_on_last_content(chunks: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for chunk in chunks {
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
    out
}
