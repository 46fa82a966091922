//! The canonical snapshot document of a case: what its responses look like once the volatile
//! parts are gone, in one of three modes. Pure: no I/O, so it is unit-tested like the judge.
//!
//! - `shape`: every value replaced by its type, arrays of one shape collapsed
//!   ([`crate::util::json::shape`]) — it pins the wire structure, not the wording;
//! - `exact`: the body as received — for deterministic requests;
//! - `stream`: the reassembled message plus the collapsed sequence of event kinds
//!   ([`super::stream`]) — stable however the endpoint chunks its stream.
//!
//! In every mode volatile fields are scrubbed afterwards (the built-in rules below plus the
//! suite's JSONPath selectors, its `redact:` key), and object keys are sorted, so the document is
//! canonical. (Scrubbing is not secret redaction: secrets are masked by `crate::redact` in every
//! output, snapshots included.)

use serde_json::{Map, Value};

use super::stream;
use crate::execute::exchange::Exchange;
use crate::load::suite::{ScrubSelector, SnapshotMode};
use crate::util::json::shape;

/// What a scrubbed value becomes (the marker keeps insta's word: stored snapshots hold it).
pub const SCRUBBED: &str = "[redacted]";

/// Keys whose scalar values change on every call: ids, timestamps, fingerprints.
fn volatile_key(key: &str) -> bool {
    matches!(key, "id" | "created" | "system_fingerprint") || key.ends_with("_at")
}

/// The built-in scrubbing: scalar values of volatile keys anywhere, and every scalar inside a
/// `usage` object (token counts differ between calls even for the same answer).
pub fn scrub_volatile(v: &mut Value) {
    fn walk(v: &mut Value, in_usage: bool) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    let scalar = !child.is_object() && !child.is_array();
                    if scalar && (in_usage || volatile_key(k)) {
                        *child = Value::String(SCRUBBED.into());
                    } else {
                        walk(child, in_usage || (k == "usage" && child.is_object()));
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, in_usage)),
            _ => {}
        }
    }
    walk(v, false);
}

/// Replace every node a selector matches by [`SCRUBBED`].
pub fn scrub_selected(v: &mut Value, selectors: &[ScrubSelector]) {
    for s in selectors {
        let pointers: Vec<String> = s
            .path
            .query_located(v)
            .locations()
            .map(|l| l.to_json_pointer())
            .collect();
        for p in pointers {
            if let Some(node) = v.pointer_mut(&p) {
                *node = Value::String(SCRUBBED.into());
            }
        }
    }
}

/// Object keys sorted at every level (independent of serde_json's map features).
pub fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The scrubbed, canonical view of a value in `shape` or `exact` mode.
fn canonical_value(mode: SnapshotMode, v: &Value, selectors: &[ScrubSelector]) -> Value {
    let mut out = if mode == SnapshotMode::Shape {
        shape(v)
    } else {
        v.clone()
    };
    scrub_volatile(&mut out);
    scrub_selected(&mut out, selectors);
    out
}

/// The body of a response as a JSON value: the parsed JSON, the SSE data events (JSON where they
/// parse), or the text.
fn body_value(ex: &Exchange) -> Value {
    let Some(resp) = &ex.response else {
        return Value::Null;
    };
    if let Some(j) = &resp.json {
        return j.clone();
    }
    if let Some(stream) = &resp.stream {
        return Value::Array(
            stream
                .events()
                .map(|e| {
                    e.value()
                        .unwrap_or_else(|| Value::String(e.data().to_string()))
                })
                .collect(),
        );
    }
    if resp.body.is_empty() {
        Value::Null
    } else {
        Value::String(String::from_utf8_lossy(&resp.body).into_owned())
    }
}

/// The document of one exchange.
fn exchange_document(
    mode: SnapshotMode,
    ex: &Exchange,
    selectors: &[ScrubSelector],
) -> Map<String, Value> {
    let mut doc = Map::new();
    let Some(resp) = &ex.response else {
        doc.insert("status".into(), Value::Null);
        return doc;
    };
    doc.insert("status".into(), Value::from(resp.status));
    match (mode, &resp.stream) {
        (SnapshotMode::Stream, Some(s)) => {
            doc.insert(
                "events".into(),
                Value::Array(
                    stream::event_kinds(s)
                        .into_iter()
                        .map(Value::String)
                        .collect(),
                ),
            );
            let mut message = s.reassembled().completion;
            scrub_volatile(&mut message);
            scrub_selected(&mut message, selectors);
            doc.insert("message".into(), message);
        }
        // A `stream` case answered without a stream: the body shows what came instead.
        (SnapshotMode::Stream, None) => {
            doc.insert("events".into(), Value::Array(vec![]));
            doc.insert(
                "body".into(),
                canonical_value(SnapshotMode::Exact, &body_value(ex), selectors),
            );
        }
        (m, _) => {
            doc.insert(
                "body".into(),
                canonical_value(m, &body_value(ex), selectors),
            );
        }
    }
    doc
}

/// The canonical document of a case: one exchange's document, or `{"steps": [...]}` (each with
/// its `step` name) for a multi-step case.
pub fn document(
    mode: SnapshotMode,
    steps: &[(&str, &Exchange)],
    selectors: &[ScrubSelector],
) -> Value {
    let doc = match steps {
        [(_, ex)] => Value::Object(exchange_document(mode, ex, selectors)),
        many => Value::Object(Map::from_iter([(
            "steps".to_string(),
            Value::Array(
                many.iter()
                    .map(|(name, ex)| {
                        let mut d = exchange_document(mode, ex, selectors);
                        d.insert("step".into(), Value::String(name.to_string()));
                        Value::Object(d)
                    })
                    .collect(),
            ),
        )])),
    };
    sorted(doc)
}

/// The document as snapshot text: pretty JSON, sorted keys, a final newline.
pub fn render(doc: &Value) -> String {
    serde_json::to_string_pretty(&sorted(doc.clone())).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volatile_fields_and_usage_numbers_are_scrubbed() {
        let mut v = json!({
            "id": "chatcmpl-1", "created": 17, "model": "m", "system_fingerprint": null,
            "choices": [{"message": {"tool_calls": [{"id": "call_1", "function": {"name": "f"}}]}}],
            "usage": {"prompt_tokens": 3, "details": {"cached_tokens": 0}},
            "batch": {"created_at": 5, "status": "done"}
        });
        scrub_volatile(&mut v);
        assert_eq!(v["id"], SCRUBBED);
        assert_eq!(v["created"], SCRUBBED);
        assert_eq!(v["system_fingerprint"], SCRUBBED);
        assert_eq!(v["model"], "m");
        assert_eq!(v["choices"][0]["message"]["tool_calls"][0]["id"], SCRUBBED);
        assert_eq!(v["usage"]["prompt_tokens"], SCRUBBED);
        assert_eq!(v["usage"]["details"]["cached_tokens"], SCRUBBED);
        assert_eq!(v["batch"]["created_at"], SCRUBBED);
        assert_eq!(v["batch"]["status"], "done");
    }

    #[test]
    fn selectors_scrub_every_match() {
        let mut v =
            json!({"choices": [{"message": {"content": "a"}}, {"message": {"content": "b"}}]});
        let s = ScrubSelector::parse("$.choices[*].message.content").unwrap();
        scrub_selected(&mut v, &[s]);
        assert_eq!(v["choices"][0]["message"]["content"], SCRUBBED);
        assert_eq!(v["choices"][1]["message"]["content"], SCRUBBED);
        let e = ScrubSelector::parse("$.[").unwrap_err();
        assert!(e.to_string().contains("in dot member name"), "{e}");
    }

    #[test]
    fn rendering_sorts_keys() {
        let text = render(&json!({"b": 1, "a": {"d": 2, "c": 3}}));
        assert!(text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap());
        assert!(text.find("\"c\"").unwrap() < text.find("\"d\"").unwrap());
        assert!(text.ends_with("}\n"));
    }
}
