//! `chat.*` on non-streamed completions.

use serde_json::json;

use super::kit::{Row, ask, completion, completion_with, json, plus, said, table, text};

#[test]
fn chat_response() {
    let mut no_id = completion(said("hi"));
    no_id["id"] = json!("");
    let mut ms = completion(said("hi"));
    ms["created"] = json!(1_700_000_000_000i64);
    let mut two = completion(said("a"));
    two["choices"] = json!([
        {"index": 0, "message": said("a"), "finish_reason": "stop"},
        {"index": 2, "message": {"role": "user", "content": "b"}, "finish_reason": null},
    ]);
    let rows = vec![
        Row::new(
            "a plain answer",
            &["chat.response"],
            ask("hi"),
            json(200, completion(said("Hello."))),
        ),
        Row::new(
            "null content beside tool calls",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion_with(
                    json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
                    "tool_calls",
                    json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}),
                ),
            ),
        ),
        Row::new(
            "a legacy function_call answer (deprecated `functions`)",
            &["chat.response"],
            plus(
                ask("hi"),
                json!({"functions": [{"name": "f", "parameters": {"type": "object"}}]}),
            ),
            json(
                200,
                completion_with(
                    json!({"role": "assistant", "content": null, "function_call": {"name": "f", "arguments": "{}"}}),
                    "function_call",
                    json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}),
                ),
            ),
        ),
        Row::new(
            "null content without tool calls",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion(json!({"role": "assistant", "content": null})),
            ),
        ),
        Row::new(
            "content as a list of parts",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                completion(
                    json!({"role": "assistant", "content": [{"type": "text", "text": "hi"}]}),
                ),
            ),
        ),
        Row::new(
            "empty id, created in milliseconds",
            &["chat.response"],
            ask("hi"),
            json(200, {
                let mut b = ms;
                b["id"] = json!("");
                b
            }),
        ),
        Row::new(
            "no id",
            &["chat.response"],
            ask("hi"),
            json(200, {
                let mut b = no_id;
                b.as_object_mut().unwrap().remove("id");
                b
            }),
        ),
        Row::new(
            "wrong indices, a user role, a null finish_reason",
            &["chat.response"],
            ask("hi"),
            json(200, two),
        ),
        Row::new(
            "no choices at all",
            &["chat.response"],
            ask("hi"),
            json(
                200,
                json!({"id": "x", "created": 1_700_000_000, "model": "m"}),
            ),
        ),
        Row::new(
            "a body that is not JSON",
            &["chat.response"],
            ask("hi"),
            text(200, "text/plain", "hello"),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn chat_usage() {
    let u = |v: serde_json::Value| json(200, completion_with(said("hi"), "stop", v));
    let rows = vec![
        Row::new(
            "adds up",
            &["chat.usage"],
            ask("hi"),
            u(json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})),
        ),
        Row::new(
            "Gemini: 66 + 6 ≠ 100 (thought tokens in the total only)",
            &["chat.usage"],
            ask("hi"),
            u(json!({"prompt_tokens": 66, "completion_tokens": 6, "total_tokens": 100})),
        ),
        Row::new(
            "missing usage",
            &["chat.usage"],
            ask("hi"),
            json(200, {
                let mut b = completion(said("hi"));
                b.as_object_mut().unwrap().remove("usage");
                b
            }),
        ),
        Row::new(
            "a negative and a string count",
            &["chat.usage"],
            ask("hi"),
            u(json!({"prompt_tokens": -1, "completion_tokens": "3", "total_tokens": 8})),
        ),
        Row::new(
            "reasoning tokens beyond completion tokens",
            &["chat.usage"],
            ask("hi"),
            u(
                json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "completion_tokens_details": {"reasoning_tokens": 9}}),
            ),
        ),
        Row::new(
            "cached tokens beyond prompt tokens",
            &["chat.usage"],
            ask("hi"),
            u(
                json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "prompt_tokens_details": {"cached_tokens": 6}}),
            ),
        ),
        Row::new(
            "zero prompt tokens for a non-empty prompt (Ollama)",
            &["chat.usage"],
            ask("hi"),
            u(json!({"prompt_tokens": 0, "completion_tokens": 3, "total_tokens": 3})),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn chat_parameters_honoured() {
    let limited = plus(ask("hi"), json!({"max_tokens": 4}));
    let usage = |c: u64| json!({"prompt_tokens": 5, "completion_tokens": c, "total_tokens": 5 + c});
    let with_n = plus(ask("hi"), json!({"n": 2}));
    let stop = plus(ask("count"), json!({"stop": ["5", "END"]}));
    let lp = plus(ask("hi"), json!({"logprobs": true, "top_logprobs": 1}));
    let with_lp = |logprobs: serde_json::Value| {
        let mut b = completion(said("Hi"));
        b["choices"][0]["logprobs"] = logprobs;
        json(200, b)
    };
    let entry = json!({"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}]});
    let unicode = json!({"model": "m", "messages": [{"role": "user", "content": "Répète: café"}]});
    let rows = vec![
        Row::new(
            "max_tokens: within the limit",
            &["chat.max_tokens_honoured"],
            limited.clone(),
            json(200, completion_with(said("a"), "stop", usage(2))),
        ),
        Row::new(
            "max_tokens: reached, finish length",
            &["chat.max_tokens_honoured"],
            limited.clone(),
            json(200, completion_with(said("a b c d"), "length", usage(4))),
        ),
        Row::new(
            "max_tokens: reached, finish stop",
            &["chat.max_tokens_honoured"],
            limited.clone(),
            json(200, completion_with(said("a b c d"), "stop", usage(4))),
        ),
        Row::new(
            "max_tokens: ignored",
            &["chat.max_tokens_honoured"],
            limited.clone(),
            json(200, completion_with(said("long"), "stop", usage(40))),
        ),
        Row::new(
            "max_tokens: length below the limit",
            &["chat.max_tokens_honoured"],
            limited.clone(),
            json(200, completion_with(said("a"), "length", usage(1))),
        ),
        Row::new(
            "max_tokens: the request sets none (suite error)",
            &["chat.max_tokens_honoured"],
            ask("hi"),
            json(200, completion(said("a"))),
        ),
        Row::new(
            "n: two choices",
            &["chat.n_choices"],
            with_n.clone(),
            json(200, {
                let mut b = completion(said("a"));
                b["choices"] = json!([{"index": 0, "message": said("a"), "finish_reason": "stop"}, {"index": 1, "message": said("b"), "finish_reason": "stop"}]);
                b
            }),
        ),
        Row::new(
            "n: ignored",
            &["chat.n_choices"],
            with_n,
            json(200, completion(said("a"))),
        ),
        Row::new(
            "stop: honoured",
            &["chat.stop_honoured"],
            stop.clone(),
            json(200, completion(said("1 2 3 4"))),
        ),
        Row::new(
            "stop: ignored",
            &["chat.stop_honoured"],
            stop,
            json(200, completion(said("1 2 3 4 5 END"))),
        ),
        Row::new(
            "logprobs: well-formed",
            &["chat.logprobs"],
            lp.clone(),
            with_lp(json!({"content": [entry.clone()]})),
        ),
        Row::new(
            "logprobs: ignored (null)",
            &["chat.logprobs"],
            lp.clone(),
            with_lp(json!(null)),
        ),
        Row::new(
            "logprobs: bytes absent, a positive logprob, top_logprobs short",
            &["chat.logprobs"],
            lp.clone(),
            with_lp(json!({"content": [{"token": "Hi", "logprob": 0.5, "top_logprobs": []}]})),
        ),
        Row::new(
            "logprobs: empty for non-empty output",
            &["chat.logprobs"],
            lp,
            with_lp(json!({"content": []})),
        ),
        Row::new(
            "unicode: intact",
            &["chat.unicode_round_trip"],
            unicode.clone(),
            json(200, completion(said("café"))),
        ),
        Row::new(
            "unicode: mojibake",
            &["chat.unicode_round_trip"],
            unicode.clone(),
            json(200, completion(said("cafÃ©"))),
        ),
        Row::new(
            "unicode: double-encoded",
            &["chat.unicode_round_trip"],
            unicode,
            json(200, completion(said("caf\\u00e9"))),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn expectations_of_the_step() {
    let rows = vec![
        Row::new("schema: a valid chat.completion", &[], ask("hi"), json(200, completion(said("hi"))))
            .expect("{ status: 200, schema: chat.completion }"),
        Row::new("schema: `tool_calls: null` (Mistral)", &[], ask("hi"), json(200, completion(json!({"role": "assistant", "content": "hi", "tool_calls": null}))))
            .expect("{ status: 200, schema: chat.completion }"),
        Row::new("schema: no `logprobs` on the choice", &[], ask("hi"), json(200, { let mut b = completion(said("hi")); b["choices"][0].as_object_mut().unwrap().remove("logprobs"); b }))
            .expect("{ status: 200, schema: chat.completion }"),
        Row::new("content type and jsonpath", &[], ask("hi"), json(200, completion(said("hi"))))
            .expect("{ status: 200, content_type: text/plain, jsonpath: [{ path: $.object, equals: chat.completion }, { path: $.model, equals: other }] }"),
        Row::new("a JSON expectation on a body that is not JSON", &[], ask("hi"), text(200, "text/html", "<html>"))
            .expect("{ status: 200, schema: chat.completion }"),
        Row::new("the wrong status: nothing else is judged", &["chat.response"], ask("hi"), json(500, json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}))),
    ];
    insta::assert_snapshot!(table(&rows));
}
