//! `tools.*`, non-streamed and streamed.

use serde_json::{Value, json};

use super::kit::{Row, ask, chunk, completion_with, json, plus, said, sse, table};

fn weather() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}})
}

fn asking(choice: Value) -> Value {
    let mut r = plus(ask("weather in Paris?"), json!({"tools": [weather()]}));
    if !choice.is_null() {
        r["tool_choice"] = choice;
    }
    r
}

fn call(id: &str, name: &str, args: Value) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}})
}

fn answer(calls: Vec<Value>, finish: &str) -> crate::execute::exchange::Response {
    let msg = if calls.is_empty() {
        said("It is sunny.")
    } else {
        json!({"role": "assistant", "content": null, "tool_calls": calls})
    };
    json(
        200,
        completion_with(
            msg,
            finish,
            json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}),
        ),
    )
}

const NON_STREAMED: &[&str] = &[
    "tools.calls",
    "tools.finish_reason",
    "tools.choice_honoured",
];

#[test]
fn tool_calls() {
    let paris = || call("call_1", "get_weather", json!("{\"city\":\"Paris\"}"));
    let rows = vec![
        Row::new(
            "a well-formed call",
            NON_STREAMED,
            asking(json!("required")),
            answer(vec![paris()], "tool_calls"),
        ),
        Row::new(
            "finish stop beside calls (T1)",
            NON_STREAMED,
            asking(Value::Null),
            answer(vec![paris()], "stop"),
        ),
        Row::new(
            "a named choice ending with stop (as OpenAI)",
            NON_STREAMED,
            asking(json!({"type": "function", "function": {"name": "get_weather"}})),
            answer(vec![paris()], "stop"),
        ),
        Row::new(
            "an empty id (T2), arguments an object (T3)",
            NON_STREAMED,
            asking(json!("required")),
            answer(
                vec![call("", "get_weather", json!({"city": "Paris"}))],
                "tool_calls",
            ),
        ),
        Row::new(
            "an undeclared function, arguments not matching",
            NON_STREAMED,
            asking(json!("required")),
            answer(
                vec![
                    call("call_1", "get_time", json!("{}")),
                    call("call_1", "get_weather", json!("{\"town\":1}")),
                ],
                "tool_calls",
            ),
        ),
        Row::new(
            "required but no call (T4)",
            NON_STREAMED,
            asking(json!("required")),
            answer(vec![], "stop"),
        ),
        Row::new(
            "none but a call (T4)",
            NON_STREAMED,
            asking(json!("none")),
            answer(vec![paris()], "tool_calls"),
        ),
        Row::new(
            "finish tool_calls without calls",
            &["tools.finish_reason"],
            asking(Value::Null),
            answer(vec![], "tool_calls"),
        ),
        Row::new(
            "parallel: two calls",
            &["tools.parallel"],
            asking(Value::Null),
            answer(
                vec![
                    paris(),
                    call("call_2", "get_weather", json!("{\"city\":\"Rome\"}")),
                ],
                "tool_calls",
            ),
        ),
        Row::new(
            "parallel off: two calls",
            &["tools.parallel"],
            plus(asking(Value::Null), json!({"parallel_tool_calls": false})),
            answer(
                vec![
                    paris(),
                    call("call_2", "get_weather", json!("{\"city\":\"Rome\"}")),
                ],
                "tool_calls",
            ),
        ),
        Row::new(
            "parallel: one call",
            &["tools.parallel"],
            asking(Value::Null),
            answer(vec![paris()], "tool_calls"),
        ),
        Row::new(
            "final answer after the tool result",
            &["tools.final_answer"],
            asking(Value::Null),
            answer(vec![], "stop"),
        ),
        Row::new(
            "a call again instead of the final answer",
            &["tools.final_answer"],
            asking(Value::Null),
            answer(vec![paris()], "tool_calls"),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn streamed_tool_calls() {
    let streamed = plus(asking(json!("required")), json!({"stream": true}));
    let d = |tc: Value, finish: Option<&str>| chunk(json!({"tool_calls": tc}), finish);
    let first = || chunk(json!({"role": "assistant", "content": null}), None);
    let end = || chunk(json!({}), Some("tool_calls"));
    let rows = vec![
        Row::new(
            "OpenAI's delta protocol",
            &["tools.stream_deltas"],
            streamed.clone(),
            sse(
                &[
                    first(),
                    d(
                        json!([{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]),
                        None,
                    ),
                    d(
                        json!([{"index": 0, "function": {"arguments": "{\"city\":"}}]),
                        None,
                    ),
                    d(
                        json!([{"index": 0, "function": {"arguments": "\"Paris\"}"}}]),
                        None,
                    ),
                    end(),
                ],
                true,
            ),
        ),
        Row::new(
            "two calls without index (Gemini, S1)",
            &["tools.stream_deltas"],
            streamed.clone(),
            sse(
                &[
                    first(),
                    d(
                        json!([{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]),
                        None,
                    ),
                    d(
                        json!([{"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]),
                        None,
                    ),
                    end(),
                ],
                true,
            ),
        ),
        Row::new(
            "name repeated, id missing (S2)",
            &["tools.stream_deltas"],
            streamed.clone(),
            sse(
                &[
                    first(),
                    d(
                        json!([{"index": 0, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":"}}]),
                        None,
                    ),
                    d(
                        json!([{"index": 0, "function": {"name": "get_weather", "arguments": "\"Paris\"}"}}]),
                        None,
                    ),
                    end(),
                ],
                true,
            ),
        ),
        Row::new(
            "arguments that do not parse, finish stop",
            &["tools.stream_deltas"],
            streamed.clone(),
            sse(
                &[
                    first(),
                    d(
                        json!([{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\""}}]),
                        None,
                    ),
                    chunk(json!({}), Some("stop")),
                ],
                true,
            ),
        ),
        Row::new(
            "no call at all for required",
            &["tools.stream_deltas"],
            streamed,
            sse(&super::kit::hello_chunks(), true),
        ),
        Row::new(
            "not a stream",
            &["tools.stream_deltas"],
            asking(Value::Null),
            answer(vec![], "stop"),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}
