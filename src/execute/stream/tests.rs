//! The model's behaviour pinned case by case: every reader (checks, snapshots, report) sees
//! what these tables say.

use serde_json::{Value, json};

use super::*;
use crate::execute::sse::SseProblemKind;

/// A stream of `data:` events (strings as they are, JSON values compact), ended by `[DONE]`.
fn sse(events: &[Value]) -> String {
    let mut out = String::new();
    for e in events {
        match e {
            Value::String(s) => out.push_str(&format!("data: {s}\n\n")),
            v => out.push_str(&format!("data: {v}\n\n")),
        }
    }
    out.push_str("data: [DONE]\n\n");
    out
}

fn chunk(choices: Value) -> Value {
    json!({"id": "c1", "object": "chat.completion.chunk", "created": 1_735_689_600, "model": "m", "choices": choices})
}

/// One choice-0 chunk whose delta carries `tool_calls`.
fn tools(calls: Value) -> Value {
    chunk(json!([{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": null}]))
}

fn finish(reason: &str) -> Value {
    chunk(json!([{"index": 0, "delta": {}, "finish_reason": reason}]))
}

/// (choice, index, implicit, id, name, arguments) of every call.
type CallRow = (u64, u64, bool, Option<String>, Option<String>, String);

fn calls(s: &ChatStream) -> Vec<CallRow> {
    s.tool_calls()
        .map(|c| {
            let text = |j: Option<Json<'_>>| j.and_then(|j| j.as_str()).map(|s| s.into_owned());
            (
                c.choice(),
                c.index(),
                c.implicit(),
                text(c.first_of(|d| d.id())),
                text(c.first_of(|d| d.name())),
                c.arguments(),
            )
        })
        .collect()
}

fn row(
    choice: u64,
    index: u64,
    implicit: bool,
    id: Option<&str>,
    name: &str,
    args: &str,
) -> CallRow {
    (
        choice,
        index,
        implicit,
        id.map(str::to_string),
        Some(name.to_string()),
        args.to_string(),
    )
}

/// The reassembled tool calls of choice 0, as (id, name, arguments).
fn folded_calls(s: &ChatStream) -> Vec<(Value, Value, Value)> {
    let r = s.reassembled();
    r.completion["choices"][0]["message"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            (
                c["id"].clone(),
                c["function"]["name"].clone(),
                c["function"]["arguments"].clone(),
            )
        })
        .collect()
}

#[test]
fn tool_calls_follow_one_rule() {
    let opener = |index: Option<u64>, id: Option<&str>, name: &str, args: &str| {
        let mut d = json!({"type": "function", "function": {"name": name, "arguments": args}});
        if let Some(i) = index {
            d["index"] = json!(i);
        }
        if let Some(id) = id {
            d["id"] = json!(id);
        }
        d
    };
    let fragment = |index: Option<u64>, args: &str| {
        let mut d = json!({"function": {"arguments": args}});
        if let Some(i) = index {
            d["index"] = json!(i);
        }
        d
    };
    let table: Vec<(&str, Vec<Value>, Vec<CallRow>)> = vec![
        (
            "OpenAI: an index on every delta, id and name on the first",
            vec![
                tools(json!([opener(Some(0), Some("a"), "f", "")])),
                tools(json!([fragment(Some(0), "{\"x\":")])),
                tools(json!([fragment(Some(0), "1}")])),
            ],
            vec![row(0, 0, false, Some("a"), "f", "{\"x\":1}")],
        ),
        (
            "no index, distinct ids (Gemini: each call whole in one delta)",
            vec![
                tools(json!([opener(None, Some("a"), "f", "{\"x\":1}")])),
                tools(json!([opener(None, Some("b"), "g", "{\"y\":2}")])),
            ],
            vec![
                row(0, 0, true, Some("a"), "f", "{\"x\":1}"),
                row(0, 1, true, Some("b"), "g", "{\"y\":2}"),
            ],
        ),
        (
            "no index, distinct ids, both in one delta",
            vec![tools(json!([
                opener(None, Some("a"), "f", "{\"x\":1}"),
                opener(None, Some("b"), "g", "{\"y\":2}")
            ]))],
            vec![
                row(0, 0, true, Some("a"), "f", "{\"x\":1}"),
                row(0, 1, true, Some("b"), "g", "{\"y\":2}"),
            ],
        ),
        (
            "no index and no ids: a name opens a call, a bare fragment continues it",
            vec![
                tools(json!([opener(None, None, "f", "{\"x\":")])),
                tools(json!([fragment(None, "1}")])),
                tools(json!([opener(None, None, "f", "{\"x\":2}")])),
            ],
            vec![
                (0, 0, true, None, Some("f".into()), "{\"x\":1}".into()),
                (0, 1, true, None, Some("f".into()), "{\"x\":2}".into()),
            ],
        ),
        (
            "an index on the openers only: fragments continue the latest call",
            vec![
                tools(json!([opener(Some(0), Some("a"), "f", "")])),
                tools(json!([fragment(None, "{\"x\":1}")])),
                tools(json!([opener(Some(1), Some("b"), "g", "")])),
                tools(json!([fragment(None, "{\"y\":2}")])),
            ],
            vec![
                row(0, 0, false, Some("a"), "f", "{\"x\":1}"),
                row(0, 1, false, Some("b"), "g", "{\"y\":2}"),
            ],
        ),
        (
            "an id repeated on a later delta without an index continues its call",
            vec![
                tools(json!([opener(None, Some("a"), "f", "{\"x\":")])),
                tools(json!([opener(None, Some("b"), "g", "{}")])),
                tools(json!([{"id": "a", "function": {"arguments": "1}"}}])),
            ],
            vec![
                row(0, 0, true, Some("a"), "f", "{\"x\":1}"),
                row(0, 1, true, Some("b"), "g", "{}"),
            ],
        ),
        (
            "a call opened without an index is continued by a delta naming the index it took",
            vec![
                tools(json!([opener(None, Some("a"), "f", "{\"x\":")])),
                tools(json!([fragment(Some(0), "1}")])),
            ],
            vec![row(0, 0, true, Some("a"), "f", "{\"x\":1}")],
        ),
        (
            "interleaved indices",
            vec![
                tools(json!([opener(Some(0), Some("a"), "f", "")])),
                tools(json!([opener(Some(1), Some("b"), "g", "")])),
                tools(json!([fragment(Some(0), "{\"x\":1}")])),
                tools(json!([fragment(Some(1), "{\"y\":2}")])),
            ],
            vec![
                row(0, 0, false, Some("a"), "f", "{\"x\":1}"),
                row(0, 1, false, Some("b"), "g", "{\"y\":2}"),
            ],
        ),
        (
            "an index that is not an integer counts as none",
            vec![
                tools(
                    json!([{"index": "0", "id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]),
                ),
                tools(
                    json!([{"index": null, "id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]),
                ),
            ],
            vec![
                row(0, 0, true, Some("a"), "f", "{}"),
                row(0, 1, true, Some("b"), "g", "{}"),
            ],
        ),
        (
            "a bare fragment before any call opens one (no name: the check reports it)",
            vec![tools(json!([fragment(None, "{}")]))],
            vec![(0, 0, true, None, None, "{}".into())],
        ),
    ];
    for (name, events, want) in table {
        let s = ChatStream::parse(sse(&events).as_bytes());
        assert_eq!(calls(&s), want, "{name}");
        // The reassembled message holds the same calls: one fold for every reader.
        let folded = folded_calls(&s);
        assert_eq!(folded.len(), want.len(), "{name}: {folded:?}");
        for ((id, fname, args), (_, _, _, wid, wname, wargs)) in folded.iter().zip(&want) {
            assert_eq!(id.as_str(), wid.as_deref(), "{name}");
            assert_eq!(fname.as_str(), wname.as_deref(), "{name}");
            assert_eq!(args, &json!(wargs), "{name}");
        }
    }
}

#[test]
fn choices_are_keyed_by_index_else_by_position() {
    let two = |a: &str, b: &str| {
        chunk(json!([
            {"index": 0, "delta": {"content": a}, "finish_reason": null},
            {"index": 1, "delta": {"content": b}, "finish_reason": null}
        ]))
    };
    // n = 2, then the choices finishing in separate chunks in reverse order.
    let s = ChatStream::parse(
        sse(&[
            two("Hel", "Bon"),
            two("lo", "jour"),
            chunk(json!([{"index": 1, "delta": {}, "finish_reason": "stop"}])),
            chunk(json!([{"index": 0, "delta": {}, "finish_reason": "length"}])),
        ])
        .as_bytes(),
    );
    let got: Vec<(u64, usize)> = s.choices().map(|c| (c.index(), c.len())).collect();
    assert_eq!(got, [(0, 3), (1, 3)]);
    let r = s.reassembled();
    let c = &r.completion["choices"];
    assert_eq!(
        (
            &c[0]["message"]["content"],
            &c[1]["message"]["content"],
            &c[0]["finish_reason"],
            &c[1]["finish_reason"]
        ),
        (
            &json!("Hello"),
            &json!("Bonjour"),
            &json!("length"),
            &json!("stop")
        )
    );
    // Without an index, an entry belongs to the choice of its position in `choices`.
    let s = ChatStream::parse(
        sse(&[chunk(json!([
            {"delta": {"content": "a"}},
            {"delta": {"content": "b"}}
        ]))])
        .as_bytes(),
    );
    let got: Vec<u64> = s.entries().map(|e| e.choice()).collect();
    assert_eq!(got, [0, 1]);
}

#[test]
fn the_usage_chunk_and_identity() {
    let mut usage = chunk(json!([]));
    usage["usage"] = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5});
    let mut first = chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
    );
    first["usage"] = Value::Null;
    first["system_fingerprint"] = json!("fp");
    let s = ChatStream::parse(sse(&[first, finish("stop"), usage]).as_bytes());
    assert_eq!(
        s.last_usage().map(|u| u.value()),
        Some(json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}))
    );
    let with_usage: Vec<u64> = s
        .chunks()
        .filter(|c| c.usage().is_some_and(|u| !u.is_null()))
        .map(|c| c.event().n())
        .collect();
    assert_eq!(with_usage, [3]);
    let last = s.chunks().last().unwrap();
    assert!(last.choices().unwrap().is_empty_array());
    assert_eq!(last.entries().count(), 0);
    let c = s.reassembled().completion;
    assert_eq!(c["id"], "c1");
    assert_eq!(c["system_fingerprint"], "fp");
    assert_eq!(c["usage"]["total_tokens"], 5);
    assert_eq!(s.chunk_count(), 3);
    assert_eq!(s.event_count(), 4);
}

#[test]
fn error_events_are_not_chunks() {
    let body = [
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
        "data: {\"error\":{\"message\":\"model overloaded\",\"code\":503}}\n\n",
        "data: [{\"error\":{\"code\":400,\"message\":\"list shaped\"}}]\n\n",
        "event: error\ndata: upstream went away\n\n",
        "data: {\"error\":null,\"choices\":[]}\n\n",
        "data: [DONE]\n\n",
    ]
    .concat();
    let s = ChatStream::parse(body.as_bytes());
    let errors: Vec<(u64, Option<String>)> = s.events().map(|e| (e.n(), e.error())).collect();
    assert_eq!(
        errors,
        [
            (1, None),
            (2, Some("model overloaded".into())),
            (3, Some("list shaped".into())),
            (4, Some("upstream went away".into())),
            (5, None),
            (6, None),
        ]
    );
    // A null `error` is no error; the error object is no chunk.
    let chunks: Vec<u64> = s.chunks().map(|c| c.event().n()).collect();
    assert_eq!(chunks, [1, 5]);
    assert_eq!(s.events().nth(3).unwrap().event_type(), "error");
    assert!(matches!(
        s.events().nth(3).unwrap().kind(),
        EventKind::NotJson
    ));
}

#[test]
fn reasoning_concatenates_and_counts_as_first_output() {
    let s = ChatStream::parse(
        sse(&[
            chunk(json!([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": null}])),
            chunk(json!([{"index": 0, "delta": {"reasoning_content": "Think"}, "finish_reason": null}])),
            chunk(json!([{"index": 0, "delta": {"reasoning": "ing."}, "finish_reason": null}])),
            chunk(json!([{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}])),
        ])
        .as_bytes(),
    );
    let m = &s.reassembled().completion["choices"][0]["message"];
    assert_eq!(m["reasoning_content"], "Thinking.");
    assert_eq!(m["content"], "Hi");
    // parse() puts every event at time zero: the first output is event #2's.
    assert_eq!(s.ttft(), Some(std::time::Duration::ZERO));
    let none = ChatStream::parse(sse(&[finish("stop")]).as_bytes());
    assert_eq!(none.ttft(), None);
}

#[test]
fn a_repeated_role_is_taken_once_and_each_entry_keeps_its_own() {
    let s = ChatStream::parse(
        sse(&[
            chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": "Hé"}}])),
            chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": "llo"}, "finish_reason": "stop"}])),
        ])
        .as_bytes(),
    );
    let roles: Vec<Option<String>> = s
        .entries()
        .map(|e| e.role().map(|r| r.text().to_string()))
        .collect();
    assert_eq!(
        roles,
        [Some("\"assistant\"".into()), Some("\"assistant\"".into())]
    );
    let m = &s.reassembled().completion["choices"][0]["message"];
    assert_eq!(
        (&m["role"], &m["content"]),
        (&json!("assistant"), &json!("Héllo"))
    );
}

#[test]
fn an_empty_stream() {
    for body in ["", ": only a comment\n\n", "\n\n\n"] {
        let s = ChatStream::parse(body.as_bytes());
        assert_eq!(s.event_count(), 0, "{body:?}");
        assert_eq!(s.events().count(), 0);
        assert_eq!(s.dones(), &DoneSummary::default());
        let r = s.reassembled();
        assert_eq!(
            r.completion,
            json!({"object": "chat.completion", "choices": []})
        );
        assert!(r.chunks_per_choice.is_empty());
        assert!(s.cut().is_none());
    }
    assert_eq!(ChatStream::parse(b": a\n: b\n\n").comment_count(), 2);
}

#[test]
fn what_each_event_is() {
    let body = "data: [DONE]\n\ndata: not json\n\ndata: \n\ndata: [1,2]\n\ndata:  {\"id\":\"x\"} \n\ndata: \"s\"\n\n";
    let s = ChatStream::parse(body.as_bytes());
    let kinds: Vec<&str> = s
        .events()
        .map(|e| match e.kind() {
            EventKind::Done => "done",
            EventKind::NotJson => "not-json",
            EventKind::Json(_) => "json",
            EventKind::Chunk(_) => "chunk",
        })
        .collect();
    assert_eq!(
        kinds,
        ["done", "not-json", "not-json", "json", "chunk", "json"]
    );
    let e = s.events().nth(1).unwrap();
    assert_eq!(e.data(), "not json");
    assert!(
        e.json_error().unwrap().contains("expected"),
        "{:?}",
        e.json_error()
    );
    let chunk = s.chunks().next().unwrap();
    assert_eq!(chunk.id().unwrap().as_str().as_deref(), Some("x"));
    assert_eq!(chunk.value(), json!({"id": "x"}));
}

#[test]
fn a_duplicated_member_reads_as_value_does_the_last_one() {
    let body = "data: {\"id\":\"a\",\"id\":\"b\",\"choices\":[{\"index\":0,\"index\":1,\"delta\":{\"content\":\"x\"}}]}\n\n";
    let s = ChatStream::parse(body.as_bytes());
    let c = s.chunks().next().unwrap();
    assert_eq!(c.id().unwrap().as_str().as_deref(), Some("b"));
    assert_eq!(s.entries().next().unwrap().choice(), 1);
    // The event's own text is untouched.
    assert!(s.events().next().unwrap().data().contains("\"id\":\"a\""));
}

#[test]
fn json_fields_are_typed_when_read() {
    let body = r#"data: {"id":"c\u0031","created":1.5,"choices":[{"index":0,"delta":{"content":7,"role":null,"refusal":""}}]}

"#;
    let s = ChatStream::parse(body.as_bytes());
    let c = s.chunks().next().unwrap();
    assert_eq!(c.id().unwrap().as_str().as_deref(), Some("c1"));
    assert_eq!(c.created().unwrap().as_i64(), None);
    assert_eq!(c.created().unwrap().type_name(), "a number");
    let e = s.entries().next().unwrap();
    assert_eq!(e.content().unwrap().type_name(), "an integer");
    assert!(e.role().unwrap().is_null());
    assert!(!e.refusal().unwrap().is_non_empty_str());
    let r = s.reassembled();
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(r.notes[0].0.contains("`content` fragment is an integer"));
    assert_eq!(r.notes[0].1, 1);
}

#[test]
fn done_and_what_follows_it() {
    let body = "data: {\"choices\":[]}\n\ndata: [DONE]\n\ndata: {\"late\":1}\n\ndata: [DONE]\n\n";
    let s = ChatStream::parse(body.as_bytes());
    assert_eq!(
        s.dones(),
        &DoneSummary {
            count: 2,
            events: vec![2, 4],
            after: 1,
            after_events: vec![3],
        }
    );
    assert_eq!(s.chunk_count(), 2);
    assert!(!s.last_unterminated());
    let cut_short = ChatStream::parse(b"data: {\"choices\":[]}\n\ndata: {\"x\":");
    assert!(cut_short.last_unterminated());
    assert_eq!(cut_short.dones().count, 0);
}

#[test]
fn problems_are_counted_and_the_first_kept() {
    let mut body = String::from("data: {}\n\n");
    for _ in 0..100 {
        body.push_str("dta: x\n");
    }
    body.push_str("data: [DONE]\n\n");
    let s = ChatStream::parse(body.as_bytes());
    assert_eq!(s.problem_count(SseProblemKind::UnknownField), 100);
    assert_eq!(s.problem_total(), 100);
    assert_eq!(s.problems().len(), 64);
    assert_eq!(s.problems()[0].after_events, 1);
}

#[test]
fn a_stream_over_the_budget_is_cut_and_the_rest_counted() {
    let limits = StreamLimits {
        max_kept_bytes: 4096,
    };
    let mut events: Vec<Value> = (0..200)
        .map(|_| chunk(json!([{"index": 0, "delta": {"content": "abc"}, "finish_reason": null}])))
        .collect();
    events.push(finish("stop"));
    let s = ChatStream::parse_with(sse(&events).as_bytes(), limits);
    let cut = s.cut().expect("cut");
    let kept = s.events().count() as u64;
    assert!(kept > 0 && kept < 50, "{kept} kept");
    assert_eq!(cut.events_kept, kept);
    assert_eq!(cut.events_kept + cut.events_dropped, 202);
    assert_eq!(cut.limit_bytes, 4096);
    assert!(cut.bytes_dropped > 0);
    // Counted events still count: the [DONE] at the end, and the chunk count.
    assert_eq!(s.event_count(), 202);
    assert_eq!(s.dones().events, vec![202]);
    assert_eq!(s.chunk_count(), 201);
    // What was kept is whole: every kept chunk's entry is filed under its choice.
    let entries: usize = s.choices().map(|c| c.len()).sum();
    assert_eq!(entries as u64, kept);
    // Comments and problems after the cut are still counted.
    let body = format!("{}: ping\n\ndta: x\n\n", sse(&events));
    let s = ChatStream::parse_with(body.as_bytes(), limits);
    assert_eq!((s.comment_count(), s.problem_total()), (1, 1));
}

#[test]
fn a_flood_of_tiny_events_stays_within_the_budget() {
    let limits = StreamLimits {
        max_kept_bytes: 64 * 1024,
    };
    let body = "data:x\n\n".repeat(100_000);
    let s = ChatStream::parse_with(body.as_bytes(), limits);
    let cut = s.cut().expect("cut");
    assert_eq!(cut.events_kept + cut.events_dropped, 100_000);
    // `finish` gives back what growing the vectors over-allocated.
    assert!(s.heap_bytes() <= 64 * 1024, "{}", s.heap_bytes());
}
