//! The `stream` snapshot mode: a streamed chat completion reduced to what does not depend on
//! how the endpoint cut it into chunks — the message the deltas reassemble to (the judge's one
//! fold, `judge::checks::streaming::reassemble`), and the sequence of event kinds with runs
//! collapsed (`role`, `content×N`, `finish`, `usage`, `[DONE]`).

use serde_json::Value;

use crate::execute::sse::SseEvent;

/// Kinds carried by fragments whose number depends on chunking: a run of them is written
/// `<kind>×N` whatever its length (one chunk or twenty).
const FRAGMENT_KINDS: &[&str] = &["reasoning", "content", "tool_calls", "refusal"];

fn non_empty_str(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str).is_some_and(|s| !s.is_empty())
}

/// The kinds one event carries, in a fixed order (so `role` + `content` in one chunk or in two
/// gives the same sequence).
fn kinds_of(data: &str) -> Vec<&'static str> {
    if data.trim() == "[DONE]" {
        return vec!["[DONE]"];
    }
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return vec!["invalid-json"];
    };
    if v.get("error").is_some_and(|e| !e.is_null()) {
        return vec!["error"];
    }
    let mut out = Vec::new();
    for choice in v
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let delta = choice.get("delta");
        let field = |k: &str| delta.and_then(|d| d.get(k));
        if field("role").is_some_and(|r| !r.is_null()) {
            out.push("role");
        }
        if non_empty_str(field("reasoning_content")) || non_empty_str(field("reasoning")) {
            out.push("reasoning");
        }
        if non_empty_str(field("content")) {
            out.push("content");
        }
        if field("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
        {
            out.push("tool_calls");
        }
        if non_empty_str(field("refusal")) {
            out.push("refusal");
        }
        if choice.get("finish_reason").is_some_and(|f| !f.is_null()) {
            out.push("finish");
        }
    }
    if v.get("usage").is_some_and(Value::is_object) {
        out.push("usage");
    }
    out
}

/// The sequence of event kinds, runs collapsed. Events carrying nothing (keep-alive chunks with
/// an empty delta) are left out: whether an endpoint sends them is chunking, not protocol.
pub fn event_kinds<'a>(events: impl Iterator<Item = &'a SseEvent>) -> Vec<String> {
    let mut runs: Vec<(&'static str, usize)> = Vec::new();
    for e in events {
        for k in kinds_of(&e.data) {
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
    use serde_json::json;

    fn reassemble(events: &[SseEvent]) -> Value {
        crate::judge::checks::streaming::reassemble(events.iter()).completion
    }

    fn ev(v: Value) -> SseEvent {
        SseEvent {
            event: "message".into(),
            data: v.to_string(),
            ..SseEvent::default()
        }
    }

    fn chunk(delta: Value, finish: Option<&str>) -> SseEvent {
        ev(json!({"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}))
    }

    fn done() -> SseEvent {
        SseEvent {
            event: "message".into(),
            data: "[DONE]".into(),
            ..SseEvent::default()
        }
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
        let k = event_kinds(split.iter());
        assert_eq!(k, ["role", "content×N", "finish", "[DONE]"]);
        assert_eq!(k, event_kinds(whole.iter()));
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
        assert_eq!(event_kinds(evs.iter()), ["role", "tool_calls×N", "finish"]);
    }

    #[test]
    fn repeated_finish_is_counted() {
        let evs = [
            chunk(json!({}), Some("stop")),
            chunk(json!({}), Some("stop")),
        ];
        assert_eq!(event_kinds(evs.iter()), ["finish×2"]);
    }
}
