//! Tool calling: choices, generated arguments, parallel calls, round trips, validation.

use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

fn weather_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "location": {"type": "object", "properties": {
                "city": {"type": "string", "minLength": 2},
                "country": {"type": "string", "enum": ["FR", "DE"]},
                "coords": {"type": "array", "items": {"type": "number", "minimum": -180, "maximum": 180}, "minItems": 2, "maxItems": 2}
            }, "required": ["city", "country", "coords"], "additionalProperties": false},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "unit": {"anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}]},
            "alerts": {"type": "boolean"},
            "when": {"type": "string", "format": "date"}
        },
        "required": ["location", "days", "unit"],
        "additionalProperties": false
    })
}

fn tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": weather_schema(), "strict": true}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    ])
}

fn body(extra: Value) -> Value {
    let mut b = json!({"model": "ref-chat", "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": tools()});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[tokio::test]
async fn auto_calls_two_tools_in_parallel_with_valid_arguments() {
    let app = app(Profile::OpenAi);
    let v = post(&app, "/v1/chat/completions", &body(json!({})))
        .await
        .json();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_ne!(calls[0]["id"], calls[1]["id"]);
    for c in calls {
        let id = c["id"].as_str().unwrap();
        assert!(id.starts_with("call_") && id.len() == 29, "{id}");
        assert_eq!(c["type"], "function");
    }
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_valid(&weather_schema(), &args);
    assert_eq!(calls[1]["function"]["arguments"], "{}");
}

#[tokio::test]
async fn tool_choice_variants() {
    let app = app(Profile::OpenAi);
    let v = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"parallel_tool_calls": false, "tool_choice": "required"})),
    )
    .await
    .json();
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let named = json!({"tool_choice": {"type": "function", "function": {"name": "get_time"}}});
    let v = post(&app, "/v1/chat/completions", &body(named))
        .await
        .json();
    // OpenAI finishes a named tool_choice with `stop`.
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let calls = v["choices"][0]["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "get_time");

    let v = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"tool_choice": "none"})),
    )
    .await
    .json();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["message"]["content"].is_string());
    assert!(v["choices"][0]["message"].get("tool_calls").is_none());
}

#[tokio::test]
async fn round_trip_answers_in_text() {
    let app = app(Profile::OpenAi);
    let first = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"parallel_tool_calls": false})),
    )
    .await
    .json();
    let call = first["choices"][0]["message"]["tool_calls"][0].clone();
    for content in [Value::Null, json!("")] {
        let messages = json!([
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": content, "tool_calls": [call.clone()]},
            {"role": "tool", "tool_call_id": call["id"], "content": "{\"temp\": 21}"}
        ]);
        let v = post(
            &app,
            "/v1/chat/completions",
            &body(json!({"messages": messages})),
        )
        .await
        .json();
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        let text = v["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(text.contains("the tool returned {\"temp\": 21}"), "{text}");
    }
    // Content omitted entirely is accepted too.
    let messages = json!([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [call.clone()]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}
    ]);
    assert_eq!(
        post(
            &app,
            "/v1/chat/completions",
            &body(json!({"messages": messages}))
        )
        .await
        .status,
        200
    );
    let messages = json!([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "tool", "tool_call_id": "call_unknown", "content": "sunny"}
    ]);
    let r = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"messages": messages})),
    )
    .await;
    assert_openai_error(&r, 400, Some("messages[1].tool_call_id"));
}

#[tokio::test]
async fn tool_validation_errors() {
    let app = app(Profile::OpenAi);
    let r = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"tools": [{"type": "code_interpreter"}]})),
    )
    .await;
    assert_openai_error(&r, 400, Some("tools[0].type"));
    let r = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"tools": [{"type": "function", "function": {"name": "bad name!"}}]})),
    )
    .await;
    assert_openai_error(&r, 400, Some("tools[0].function.name"));
    let r = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"tool_choice": {"type": "function", "function": {"name": "missing"}}})),
    )
    .await;
    assert_openai_error(&r, 400, Some("tool_choice"));
    let r = post(
        &app,
        "/v1/chat/completions",
        &body(json!({"tool_choice": "sometimes"})),
    )
    .await;
    assert_openai_error(&r, 400, Some("tool_choice"));
}
