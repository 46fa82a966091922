//! What real endpoints showed the judge got wrong (false alarms, misses, inconsistent
//! severity, wrong reasons, reshaped errors), and the findings added for them — each row the
//! shape a real provider sent.

use serde_json::{Value, json};

use super::kit::{
    Row, ask, chunk, completion_with, hello_chunks, json, judge, plus, sse, table, usage_chunk,
};
use crate::judge::{CheckStatus, Outcome};

fn u(p: u64, c: u64, t: u64) -> Value {
    json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": t})
}

fn tool_answer(usage: Value) -> crate::execute::exchange::Response {
    json(
        200,
        completion_with(
            json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}),
            "tool_calls",
            usage,
        ),
    )
}

fn weather_request() -> Value {
    plus(
        ask("weather in Paris?"),
        json!({"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}),
    )
}

#[test]
fn false_alarms_no_more() {
    let legacy = plus(
        ask("hi"),
        json!({"functions": [{"name": "f", "parameters": {"type": "object"}}], "stream": true}),
    );
    let think = plus(ask("2+2?"), json!({"stream": true}));
    let rows = vec![
        Row::new(
            "a streamed legacy function_call (deprecated `functions`)",
            &["streaming.chunks", "streaming.reassembled"],
            legacy,
            sse(
                &[
                    chunk(
                        json!({"role": "assistant", "content": null, "function_call": {"name": "f", "arguments": ""}}),
                        None,
                    ),
                    chunk(json!({"function_call": {"arguments": "{\"a\":"}}), None),
                    chunk(json!({"function_call": {"arguments": "1}"}}), None),
                    chunk(json!({}), Some("function_call")),
                ],
                true,
            ),
        ),
        Row::new(
            "a streamed inline <think> block",
            &["reasoning.thoughts"],
            think,
            sse(
                &[
                    chunk(json!({"role": "assistant", "content": "<think>"}), None),
                    chunk(json!({"content": "2+2 is 4</think>"}), None),
                    chunk(json!({"content": "4"}), Some("stop")),
                ],
                true,
            ),
        ),
        Row::new(
            "`tool_calls: null` in stream deltas (Mistral)",
            &["streaming.chunks"],
            plus(ask("hi"), json!({"stream": true})),
            sse(
                &hello_chunks()
                    .into_iter()
                    .map(|mut c| {
                        c["choices"][0]["delta"]["tool_calls"] = Value::Null;
                        c
                    })
                    .collect::<Vec<_>>(),
                true,
            ),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
    for r in &rows {
        assert_eq!(judge(r).outcome, Outcome::Pass, "{}", r.what);
    }
}

#[test]
fn usage_on_every_answer() {
    let tools = &["tools.calls"];
    let rows = vec![
        Row::new(
            "Gemini's tool answer: 66 + 6 ≠ 100, in a tools case",
            tools,
            weather_request(),
            tool_answer(u(66, 6, 100)),
        ),
        Row::new(
            "Ollama: prompt_tokens 0 for a non-empty prompt",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion_with(super::kit::said("hi"), "stop", u(0, 3, 3)),
            ),
        ),
        Row::new(
            "cached beyond prompt, reasoning beyond completion",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion_with(
                    super::kit::said("hi"),
                    "stop",
                    json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "prompt_tokens_details": {"cached_tokens": 9}, "completion_tokens_details": {"reasoning_tokens": 4}}),
                ),
            ),
        ),
        Row::new(
            "hostile counts near u64::MAX: checked, not wrapped",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion_with(super::kit::said("hi"), "stop", u(u64::MAX, 2, 1)),
            ),
        ),
        Row::new(
            "hostile counts near u64::MAX in chat.usage",
            &["chat.usage"],
            ask("hi"),
            json(
                200,
                completion_with(super::kit::said("hi"), "stop", u(u64::MAX, 2, 1)),
            ),
        ),
        Row::new(
            "hostile counts near u64::MAX in reasoning.usage",
            &["reasoning.usage"],
            ask("hi"),
            json(
                200,
                completion_with(
                    super::kit::said("hi"),
                    "stop",
                    json!({"prompt_tokens": u64::MAX, "completion_tokens": 2, "total_tokens": 1, "completion_tokens_details": {"reasoning_tokens": 1}}),
                ),
            ),
        ),
        Row::new(
            "Gemini's stream: usage on every chunk, prompt 4 then 3, in a plain stream case",
            &["streaming.done"],
            plus(ask("hi"), json!({"stream": true})),
            sse(
                &hello_chunks()
                    .into_iter()
                    .enumerate()
                    .map(|(k, mut c)| {
                        c["usage"] = if k == 0 { u(4, 0, 4) } else { u(3, 2, 5) };
                        c
                    })
                    .collect::<Vec<_>>(),
                true,
            ),
        ),
        Row::new(
            "a stream whose one usage chunk does not add up, in a tools stream case",
            &["streaming.done"],
            plus(
                weather_request(),
                json!({"stream": true, "stream_options": {"include_usage": true}}),
            ),
            sse(
                &[hello_chunks(), vec![usage_chunk(u(66, 6, 100))]].concat(),
                true,
            ),
        ),
        Row::new(
            "sound usage: no finding at all",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion_with(super::kit::said("hi"), "stop", u(5, 3, 8)),
            ),
        ),
        Row::new(
            "a named usage check judges it once",
            &["chat.usage"],
            ask("hi"),
            json(
                200,
                completion_with(super::kit::said("hi"), "stop", u(66, 6, 100)),
            ),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
    let outcomes: Vec<Outcome> = rows.iter().map(|r| judge(r).outcome).collect();
    use Outcome::*;
    assert_eq!(
        outcomes,
        [Fail, Fail, Fail, Fail, Fail, Fail, Fail, Fail, Pass, Fail]
    );
}

#[test]
fn routers_that_reshape_errors() {
    let with_n = plus(ask("hi"), json!({"n": 2}));
    let reshaped = json!({"0": {"error": {"code": 400, "message": "Multiple candidates is not enabled for this model", "status": "INVALID_ARGUMENT"}}});
    let rows = vec![
        Row::new(
            "a refusal of `n` reshaped into {\"0\": {\"error\": …}}: unsupported, and the body named",
            &["chat.n_choices"],
            with_n.clone(),
            json(400, reshaped.clone()),
        ),
        Row::new(
            "the same refusal list-wrapped (Gemini)",
            &["chat.n_choices"],
            with_n.clone(),
            json(400, json!([reshaped["0"].clone()])),
        ),
        Row::new(
            "the same refusal in OpenAI's envelope: nothing beside it",
            &["chat.n_choices"],
            with_n.clone(),
            json(
                400,
                json!({"error": {"message": "n is not supported", "type": "invalid_request_error", "param": "n", "code": null}}),
            ),
        ),
        Row::new(
            "a refusal whose param sits deep in a router's wrapper",
            &["chat.n_choices"],
            with_n,
            json(
                400,
                json!({"upstream": {"error": {"message": "Invalid value", "param": "n"}}}),
            ),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
    for r in &rows {
        assert_eq!(judge(r).outcome, Outcome::Unsupported, "{}", r.what);
    }
}

#[test]
fn new_findings() {
    let seed = json!({"id": "x", "object": "chat.completion", "created": 1_700_000_000, "model": "m", "seed": 7_228_414_683_750_928_000u64, "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop", "logprobs": null}], "usage": u(5, 3, 8)});
    let mut no_id = json(
        200,
        completion_with(super::kit::said("hi"), "stop", u(5, 3, 8)),
    );
    no_id.headers.retain(|(k, _)| k != "x-request-id");
    let key = |body: Value| {
        Row::new("", &[], ask("hi"), json(401, body))
            .expect("{ status: [401, 403], checks: [errors.auth_meaning] }")
    };
    let mut rows = vec![
        Row::new("Together's seed beyond 2^53, whatever the case checks", &["chat.response"], ask("hi"), json(200, seed)),
        Row::new("a number beyond 2^53 in a stream chunk, and a negative one", &["streaming.done"], plus(ask("hi"), json!({"stream": true})), sse(&[hello_chunks(), vec![json!({"id": "c", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m", "choices": [], "x": [-9_007_199_254_740_993i64, 9_007_199_254_740_993u64]})]].concat(), true)),
        Row::new("2^53 - 1 and floats are safe", &["chat.response"], ask("hi"), json(200, { let mut b = completion_with(super::kit::said("hi"), "stop", u(5, 3, 8)); b["a"] = json!(9_007_199_254_740_991u64); b["b"] = json!(1e300); b })),
        Row::new("x-request-id present", &["chat.request_id"], ask("hi"), json(200, completion_with(super::kit::said("hi"), "stop", u(5, 3, 8)))),
        Row::new("x-request-id absent (Gemini, Ollama, Perplexity, xAI)", &["chat.request_id"], ask("hi"), no_id),
    ];
    let mut k = key(
        json!({"error": {"message": "Incorrect API key", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
    );
    k.what = "bad key: OpenAI's meaning";
    rows.push(k);
    let mut k = key(
        json!({"error": {"message": "bad key", "type": "api_error", "param": null, "code": null}}),
    );
    k.what = "bad key typed api_error (a server failure)";
    rows.push(k);
    let mut k = key(
        json!({"error": {"message": "bad key", "type": "invalid_request_error", "param": null, "code": "invalid_request_error"}}),
    );
    k.what = "bad key with code invalid_request_error (a type name)";
    rows.push(k);
    let mut k = key(json!({"detail": "bad key"}));
    k.what = "bad key without an error object";
    rows.push(k);
    insta::assert_snapshot!(table(&rows));
    let failed: Vec<bool> = rows
        .iter()
        .map(|r| {
            judge(r)
                .checks
                .iter()
                .any(|c| c.status == CheckStatus::Fail)
        })
        .collect();
    assert_eq!(
        failed,
        [true, true, false, false, true, false, true, true, true]
    );
}
