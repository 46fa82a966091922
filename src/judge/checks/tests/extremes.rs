//! Extreme numbers from an endpoint never panic the judge. Every number in a well-formed
//! answer of each area (usage counts, indexes, `created`, `sequence_number`, `output_index`,
//! `request_counts`, file `bytes`, embedding `dimensions`) is replaced in turn by a value a
//! hostile endpoint may send — 2^64−1, −1, i64::MIN, 1e308, 2^53+1, a fraction — and the answer
//! is judged by every check. Debug builds panic on integer overflow, so an unchecked `a + b`
//! on endpoint numbers fails here; the judge must turn it into a check result.

use proptest::prelude::*;
use serde_json::{Number, Value, json};

use super::kit::{Row, ask, completion_with, json as json_response, judge, render, said, sse};
use crate::judge::checks::names;

/// What a hostile endpoint puts where a number belongs.
fn extremes() -> Vec<Value> {
    vec![
        json!(u64::MAX),
        json!(u64::MAX - 1),
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!((1u64 << 53) + 1),
        Value::Number(Number::from_f64(1e308).expect("finite")),
        Value::Number(Number::from_f64(-1e308).expect("finite")),
        json!(0.5),
        json!(0),
    ]
}

/// A well-formed answer of each area, with the request it answers and its path.
fn seeds() -> Vec<(&'static str, Value, Value, bool)> {
    let usage = json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8,
        "prompt_tokens_details": {"cached_tokens": 1, "text_tokens": 3, "image_tokens": 1, "audio_tokens": 1},
        "completion_tokens_details": {"reasoning_tokens": 1, "accepted_prediction_tokens": 0}});
    let tool_call = json!({"index": 0, "id": "call_1", "type": "function",
        "function": {"name": "f", "arguments": "{\"x\":1}"}});
    vec![
        (
            "/chat/completions",
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 2,
                "max_completion_tokens": 10, "logprobs": true, "top_logprobs": 2,
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
            json!({"id": "c", "object": "chat.completion", "created": 1_700_000_000, "model": "m",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "a", "tool_calls": [tool_call]},
                     "finish_reason": "tool_calls",
                     "logprobs": {"content": [{"token": "a", "logprob": -0.5, "bytes": [97],
                        "top_logprobs": [{"token": "a", "logprob": -0.5, "bytes": [97]}]}]}},
                    {"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "stop"}],
                "usage": usage}),
            false,
        ),
        (
            "/chat/completions",
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true,
                "stream_options": {"include_usage": true}, "n": 1}),
            json!([
                {"id": "c", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "a",
                    "tool_calls": [tool_call]}, "finish_reason": null}]},
                {"id": "c", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m",
                 "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]},
                    "finish_reason": "tool_calls"}]},
                {"id": "c", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m",
                 "choices": [], "usage": usage}
            ]),
            true,
        ),
        (
            "/embeddings",
            json!({"model": "e", "input": ["a", "b"], "dimensions": 4, "encoding_format": "float"}),
            json!({"object": "list", "model": "e",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.5, 0.5, 0.5]},
                         {"object": "embedding", "index": 1, "embedding": [0.5, -0.5, 0.5, -0.5]}],
                "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
            false,
        ),
        (
            "/embeddings",
            json!({"model": "e", "input": "a", "dimensions": 2, "encoding_format": "base64"}),
            json!({"object": "list", "model": "e",
                "data": [{"object": "embedding", "index": 0, "embedding": "AAAAPwAAAD8="}],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
            false,
        ),
        (
            "/batches",
            json!({"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
            json!({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": "file-1", "completion_window": "24h", "status": "completed",
                "created_at": 1_700_000_000, "in_progress_at": 1_700_000_001, "completed_at": 1_700_000_002,
                "expires_at": 1_700_086_400, "output_file_id": "file-2", "errors": null,
                "request_counts": {"total": 3, "completed": 2, "failed": 1}}),
            false,
        ),
        (
            "/files",
            json!({"purpose": "batch"}),
            json!({"id": "file-1", "object": "file", "bytes": 2, "created_at": 1_700_000_000,
                "expires_at": 1_700_086_400, "filename": "a.jsonl", "purpose": "batch", "status": "processed"}),
            false,
        ),
        (
            "/images/generations",
            json!({"model": "i", "prompt": "p", "n": 1, "size": "1024x1024", "response_format": "b64_json"}),
            json!({"created": 1_700_000_000, "data": [{"b64_json": "iVBORw0KGgo="}],
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                    "input_tokens_details": {"text_tokens": 1, "image_tokens": 0}}}),
            false,
        ),
        (
            "/audio/transcriptions",
            json!({"model": "a"}),
            json!({"text": "hi", "usage": {"type": "tokens", "input_tokens": 3, "output_tokens": 1,
                "total_tokens": 4, "input_token_details": {"text_tokens": 1, "audio_tokens": 2}},
                "duration": 1.5, "segments": [{"id": 0, "start": 0.0, "end": 1.5, "text": "hi"}]}),
            false,
        ),
        (
            "/models",
            json!({}),
            json!({"object": "list", "data": [{"id": "m", "object": "model", "created": 1_700_000_000, "owned_by": "o"}]}),
            false,
        ),
        (
            "/responses",
            json!({"model": "m", "input": "hi", "max_output_tokens": 10}),
            json!({"id": "resp_1", "object": "response", "created_at": 1_700_000_000, "status": "completed",
                "model": "m", "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "a", "annotations": []}]}],
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                    "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 1}}}),
            false,
        ),
        (
            "/responses",
            json!({"model": "m", "input": "hi", "stream": true}),
            json!([
                {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "object": "response",
                    "created_at": 1_700_000_000, "status": "in_progress", "model": "m", "output": []}},
                {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
                    "item": {"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant", "content": []}},
                {"type": "response.content_part.added", "sequence_number": 2, "output_index": 0, "content_index": 0,
                    "item_id": "msg_1", "part": {"type": "output_text", "text": "", "annotations": []}},
                {"type": "response.output_text.delta", "sequence_number": 3, "output_index": 0, "content_index": 0,
                    "item_id": "msg_1", "delta": "a"},
                {"type": "response.output_text.done", "sequence_number": 4, "output_index": 0, "content_index": 0,
                    "item_id": "msg_1", "text": "a"},
                {"type": "response.output_item.done", "sequence_number": 5, "output_index": 0,
                    "item": {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": "a", "annotations": []}]}},
                {"type": "response.completed", "sequence_number": 6, "response": {"id": "resp_1", "object": "response",
                    "created_at": 1_700_000_000, "status": "completed", "model": "m", "output": [],
                    "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}}
            ]),
            true,
        ),
    ]
}

/// JSON Pointers of every number in `v`.
fn numbers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(at),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| numbers(x, format!("{at}/{i}"), out)),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| numbers(x, format!("{at}/{k}"), out)),
        _ => {}
    }
}

/// Judges `body` (a list of chunks when `stream`) for `request` at `path` with every check.
fn judge_all(path: &'static str, request: &Value, body: &Value, stream: bool) {
    let all: Vec<&str> = names().collect();
    let response = if stream {
        let chunks = body.as_array().expect("a stream seed is a list of chunks");
        sse(chunks, true)
    } else {
        json_response(200, body.clone())
    };
    let row = Row::new("extreme", &all, request.clone(), response)
        .path(path)
        .form(&[("purpose", "batch")], Some(("a.jsonl", b"{}")));
    let _ = judge(&row);
}

#[test]
fn every_number_of_every_area_at_every_extreme_is_judged_without_a_panic() {
    let mut judged = 0;
    for (path, request, body, stream) in seeds() {
        judge_all(path, &request, &body, stream);
        let mut at = Vec::new();
        numbers(&body, String::new(), &mut at);
        assert!(!at.is_empty(), "{path}: a seed without numbers");
        for p in &at {
            for x in extremes() {
                let mut b = body.clone();
                *b.pointer_mut(p).expect("a pointer just found") = x;
                judge_all(path, &request, &b, stream);
                judged += 1;
            }
        }
    }
    assert!(judged > 500, "only {judged} answers judged");
}

/// The usage checks turn a sum that does not fit into a failure, not a wrapped "equal" total.
#[test]
fn usage_sums_that_overflow_fail_with_a_reason() {
    let req = ask("hi");
    let usage = json!({"prompt_tokens": u64::MAX, "completion_tokens": 2, "total_tokens": 1});
    let body = completion_with(said("a"), "stop", usage);
    let v = judge(&Row::new(
        "overflow",
        &["chat.usage"],
        req,
        json_response(200, body),
    ));
    assert!(
        v.checks
            .iter()
            .any(|c| c.check == "chat.usage" && c.status == crate::judge::CheckStatus::Fail),
        "{}",
        render(&v)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // Any integer or float, anywhere a number sits in a chat stream or an embeddings answer.
    #[test]
    fn any_number_anywhere_is_judged_without_a_panic(
        seed in 0usize..11,
        pick in any::<prop::sample::Index>(),
        n in prop_oneof![
            any::<u64>().prop_map(|n| json!(n)),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        ],
    ) {
        let (path, request, mut body, stream) = seeds().swap_remove(seed % seeds().len());
        let mut at = Vec::new();
        numbers(&body, String::new(), &mut at);
        let p = pick.get(&at).clone();
        *body.pointer_mut(&p).expect("a pointer just found") = n;
        judge_all(path, &request, &body, stream);
    }
}
