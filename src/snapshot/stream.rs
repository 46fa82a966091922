//! The `stream` snapshot mode: a streamed chat completion reduced to what does not depend on
//! how the endpoint cut it into chunks — the message the deltas reassemble to (the executor's
//! one model, `ChatStream::reassembled`), and the sequence of event kinds with runs collapsed
//! (`role`, `content×N`, `finish`, `usage`, `[DONE]`).

use crate::execute::stream::{ChatStream, Event, EventKind, JsonType};

/// Kinds carried by fragments whose number depends on chunking: a run of them is written
/// `<kind>×N` whatever its length (one chunk or twenty).
const FRAGMENT_KINDS: &[&str] = &["reasoning", "content", "tool_calls", "refusal"];

/// The kinds one event carries, in a fixed order (so `role` + `content` in one chunk or in two
/// gives the same sequence).
fn kinds_of(e: &Event<'_>) -> Vec<&'static str> {
    let chunk = match e.kind() {
        EventKind::Done => return vec!["[DONE]"],
        EventKind::NotJson => return vec!["invalid-json"],
        EventKind::Json(_) => return vec![],
        EventKind::Chunk(c) if c.is_error() => return vec!["error"],
        EventKind::Chunk(c) => c,
    };
    let non_empty =
        |v: Option<crate::execute::stream::Json<'_>>| v.is_some_and(|v| v.is_non_empty_str());
    let mut out = Vec::new();
    for entry in chunk.entries() {
        if entry.role().is_some_and(|r| !r.is_null()) {
            out.push("role");
        }
        if non_empty(entry.reasoning_content()) || non_empty(entry.reasoning()) {
            out.push("reasoning");
        }
        if non_empty(entry.content()) {
            out.push("content");
        }
        if entry
            .tool_calls()
            .is_some_and(|t| t.kind() == JsonType::Array && !t.is_empty_array())
        {
            out.push("tool_calls");
        }
        if non_empty(entry.refusal()) {
            out.push("refusal");
        }
        if entry.finish().is_some() {
            out.push("finish");
        }
    }
    if chunk.usage().is_some_and(|u| u.kind() == JsonType::Object) {
        out.push("usage");
    }
    out
}

/// The sequence of event kinds, runs collapsed. Events carrying nothing (keep-alive chunks with
/// an empty delta) are left out: whether an endpoint sends them is chunking, not protocol.
pub fn event_kinds(stream: &ChatStream) -> Vec<String> {
    let mut runs: Vec<(&'static str, usize)> = Vec::new();
    for e in stream.events() {
        for k in kinds_of(&e) {
            match runs.last_mut() {
                Some((last, n)) if *last == k => *n += 1,
                _ => runs.push((k, 1)),
            }
        }
    }
    runs.into_iter()
        .map(|(k, n)| {
            if FRAGMENT_KINDS.contains(&k) {
                format!("{k}×N")
            } else if n > 1 {
                // A repeated `finish` or `usage` is not chunking: the count is the finding.
                format!("{k}×{n}")
            } else {
                k.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A stream of the given data events (JSON compact, strings as they are).
    fn stream(events: &[Value]) -> ChatStream {
        let body: String = events
            .iter()
            .map(|e| match e {
                Value::String(s) => format!("data: {s}\n\n"),
                v => format!("data: {v}\n\n"),
            })
            .collect();
        ChatStream::parse(body.as_bytes())
    }

    fn reassemble(events: &[Value]) -> Value {
        stream(events).reassembled().completion
    }

    fn chunk(delta: Value, finish: Option<&str>) -> Value {
        json!({"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    }

    fn done() -> Value {
        json!("[DONE]")
    }

    #[test]
    fn kinds_and_message_do_not_depend_on_chunking() {
        let split = [
            chunk(json!({"role": "assistant"}), None),
            chunk(json!({"content": "Hel"}), None),
            chunk(json!({"content": "lo"}), None),
            chunk(json!({}), Some("stop")),
            done(),
        ];
        let whole = [
            chunk(json!({"role": "assistant", "content": "Hello"}), None),
            chunk(json!({}), None),
            chunk(json!({}), Some("stop")),
            done(),
        ];
        let k = event_kinds(&stream(&split));
        assert_eq!(k, ["role", "content×N", "finish", "[DONE]"]);
        assert_eq!(k, event_kinds(&stream(&whole)));
        assert_eq!(reassemble(&split), reassemble(&whole));
        assert_eq!(
            reassemble(&split)["choices"][0]["message"]["content"],
            "Hello"
        );
    }

    #[test]
    fn tool_call_fragments_concatenate() {
        let evs = [
            chunk(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get", "arguments": ""}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
        ];
        let m = reassemble(&evs);
        let call = &m["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["arguments"], "{\"a\":1}");
        assert_eq!(call["function"]["name"], "get");
        assert_eq!(call["id"], "call_1");
        assert_eq!(
            event_kinds(&stream(&evs)),
            ["role", "tool_calls×N", "finish"]
        );
    }

    #[test]
    fn calls_without_index_stay_apart_as_in_the_tools_checks() {
        // Gemini's shape (QUIRKS S1): each call whole in one delta, no `index`.
        let evs = [
            chunk(
                json!({"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"id": "b", "type": "function", "function": {"name": "g", "arguments": "{\"y\":2}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
        ];
        let m = reassemble(&evs);
        let calls = m["choices"][0]["message"]["tool_calls"].as_array().unwrap();
        let args: Vec<&Value> = calls.iter().map(|c| &c["function"]["arguments"]).collect();
        assert_eq!(args, [&json!("{\"x\":1}"), &json!("{\"y\":2}")]);
    }

    #[test]
    fn repeated_finish_is_counted() {
        let evs = [
            chunk(json!({}), Some("stop")),
            chunk(json!({}), Some("stop")),
        ];
        assert_eq!(event_kinds(&stream(&evs)), ["finish×2"]);
    }
}
