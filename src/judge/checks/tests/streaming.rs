//! `streaming.*` on event streams.

use serde_json::{Value, json};

use super::kit::{Row, ask, chunk, hello_chunks, json, plus, sse, sse_raw, table, usage_chunk};

const ALL: &[&str] = &[
    "streaming.content_type",
    "streaming.framing",
    "streaming.chunks",
    "streaming.identity",
    "streaming.role",
    "streaming.finish",
    "streaming.done",
    "streaming.usage",
    "streaming.n",
    "streaming.error_event",
    "streaming.reassembled",
];

fn streamed() -> Value {
    plus(ask("hi"), json!({"stream": true}))
}

fn with_usage() -> Value {
    plus(
        ask("hi"),
        json!({"stream": true, "stream_options": {"include_usage": true}}),
    )
}

fn u(p: u64, c: u64, t: u64) -> Value {
    json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": t})
}

#[test]
fn a_sound_stream_passes_every_check() {
    let mut chunks = hello_chunks();
    chunks.push(usage_chunk(u(5, 2, 7)));
    let rows = vec![Row::new(
        "OpenAI's shape, with include_usage",
        ALL,
        with_usage(),
        sse(&chunks, true),
    )];
    insta::assert_snapshot!(table(&rows));
}

/// The hello stream with no id on chunk 2, another id on chunk 3 and `created: 0` on chunk 4.
fn identity_broken() -> Vec<Value> {
    let mut c = hello_chunks();
    c[1].as_object_mut().map(|o| o.remove("id"));
    c[2]["id"] = json!("other");
    c[3]["created"] = json!(0);
    c
}

#[test]
fn streaming_deviations() {
    let h = hello_chunks;
    let edit = |k: usize, f: &dyn Fn(&mut Value)| {
        let mut c = h();
        f(&mut c[k]);
        c
    };
    let rows = vec![
        Row::new("stream: true ignored (a whole completion)", &["streaming.content_type", "streaming.chunks"], streamed(), json(200, super::kit::completion(super::kit::said("hi")))),
        Row::new("no [DONE]", &["streaming.done"], streamed(), sse(&h(), false)),
        Row::new("[DONE] twice, then a chunk", &["streaming.done"], streamed(), sse_raw(&format!("data: {}\n\ndata: [DONE]\n\ndata: [DONE]\n\ndata: {}\n\n", h()[0], h()[3]))),
        Row::new("an unterminated last event, an unknown field", &["streaming.framing"], streamed(), sse_raw(&format!("data: {}\n\ndta: x\n\ndata: [DONE]", h()[0]))),
        Row::new("an event that is not JSON, an empty data event", &["streaming.chunks"], streamed(), sse_raw(&format!("data: {}\n\ndata: nope\n\ndata: \n\ndata: [DONE]\n\n", h()[0]))),
        Row::new("`choices: []` without usage (Azure filter chunk)", &["streaming.chunks"], streamed(), sse(&[h(), vec![json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "", "choices": []})]].concat(), true)),
        Row::new("no id on a chunk, another id, created 0", &["streaming.identity"], streamed(), sse(&identity_broken(), true)),
        Row::new("role on every delta (S4)", &["streaming.role"], streamed(), sse(&h().into_iter().map(|mut c| { c["choices"][0]["delta"]["role"] = json!("assistant"); c }).collect::<Vec<_>>(), true)),
        Row::new("no role at all", &["streaming.role"], streamed(), sse(&edit(0, &|c| { c["choices"][0]["delta"] = json!({"content": ""}); }), true)),
        Row::new("no finish_reason", &["streaming.finish"], streamed(), sse(&edit(3, &|c| { c["choices"][0]["finish_reason"] = Value::Null; }), true)),
        Row::new("finish_reason on every chunk", &["streaming.finish"], streamed(), sse(&h().into_iter().map(|mut c| { c["choices"][0]["finish_reason"] = json!("stop"); c }).collect::<Vec<_>>(), true)),
        Row::new("include_usage ignored", &["streaming.usage"], with_usage(), sse(&h(), true)),
        Row::new("usage without include_usage", &["streaming.usage"], streamed(), sse(&[h(), vec![usage_chunk(u(5, 2, 7))]].concat(), true)),
        Row::new("usage on the finish chunk (S5)", &["streaming.usage"], with_usage(), sse(&edit(3, &|c| { c["usage"] = u(5, 2, 7); }), true)),
        Row::new("usage on every chunk, changing (Gemini)", &["streaming.usage"], with_usage(), sse(&h().into_iter().enumerate().map(|(k, mut c)| { c["usage"] = if k == 0 { u(4, 0, 4) } else { u(3, 2, 5) }; c }).collect::<Vec<_>>(), true)),
        Row::new("usage that does not add up", &["streaming.usage"], with_usage(), sse(&[h(), vec![usage_chunk(u(66, 6, 100))]].concat(), true)),
        Row::new("usage chunk followed by a chunk", &["streaming.usage"], with_usage(), sse(&[vec![usage_chunk(u(5, 2, 7))], h()].concat(), true)),
        Row::new("n: 2 ignored", &["streaming.n"], plus(streamed(), json!({"n": 2})), sse(&h(), true)),
        Row::new("an error event inside a 200 stream, carrying usage", &["streaming.error_event", "streaming.usage"], with_usage(), sse(&[vec![h()[0].clone()], vec![json!({"error": {"message": "overloaded", "type": "server_error", "code": 503}, "usage": u(5, 0, 5)})]].concat(), false)),
        Row::new("`event: error`", &["streaming.error_event"], streamed(), sse_raw(&format!("data: {}\n\nevent: error\ndata: {{\"message\": \"boom\"}}\n\n", h()[0]))),
        Row::new("a stream of role only: nothing reassembles", &["streaming.reassembled"], streamed(), sse(&[chunk(json!({"role": "assistant"}), Some("stop"))], true)),
    ];
    insta::assert_snapshot!(table(&rows));
}
