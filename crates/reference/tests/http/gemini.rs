//! The gemini-compat profile: each emulated QUIRKS row.

use axum::body::Body;
use llm_parity_reference::{models, router, Config, Profile};
use serde_json::{json, Value};

use crate::support::*;

fn gemini() -> axum::Router {
    app(Profile::GeminiCompat)
}

fn assert_google_error(r: &Reply, status: u16, grpc: &str) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    let v = r.json();
    // E1: a JSON array of `{error: {code:int, message, status}}`.
    let e = &v.as_array().expect("E1: the body is an array")[0]["error"];
    assert_eq!(e["code"], status);
    assert_eq!(e["status"], grpc);
    assert!(e["message"].is_string());
    assert!(e.get("type").is_none() && e.get("param").is_none());
    e.clone()
}

#[tokio::test]
async fn e1_errors_are_arrays() {
    let app = gemini();
    let r = post(
        &app,
        "/v1/chat/completions",
        &json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_google_error(&r, 404, "NOT_FOUND");
    let r = post(&app, "/v1/chat/completions", &json!({"model": "ref-chat"})).await;
    assert_google_error(&r, 400, "INVALID_ARGUMENT");
    assert_google_error(&get(&app, "/v1/nope").await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn e2_bad_key_is_400_invalid_argument() {
    let app = router(Config {
        deviations: Profile::GeminiCompat.deviations(),
        api_key: Some("AIza-test-key-123".into()),
        delay_ms: 0,
        stream_delay_ms: 0,
    });
    let r = send(
        &app,
        "GET",
        "/v1/models",
        Body::empty(),
        &[("authorization", "Bearer wrong-key-value")],
    )
    .await;
    let e = assert_google_error(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(
        e["message"],
        "API key not valid. Please pass a valid API key."
    );
    assert_eq!(e["details"][0]["reason"], "API_KEY_INVALID");
    let r = send(
        &app,
        "GET",
        "/v1/models",
        Body::empty(),
        &[("x-goog-api-key", "AIza-test-key-123")],
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn l1_models_are_prefixed_and_both_forms_work() {
    let app = gemini();
    let v = get(&app, "/v1/models").await.json();
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["id"].as_str().unwrap().starts_with("models/")));
    assert_eq!(
        get(&app, "/v1/models/models/ref-chat").await.json()["id"],
        "models/ref-chat"
    );
    assert_eq!(
        get(&app, "/v1/models/ref-chat").await.json()["id"],
        "models/ref-chat"
    );
    let (_, chat) = models().into_iter().find(|(r, _)| *r == "chat").unwrap();
    assert_eq!(chat, "ref-chat");
    for model in ["ref-chat", "models/ref-chat"] {
        let mut body = chat_body("hi");
        body["model"] = json!(model);
        assert_eq!(post(&app, "/v1/chat/completions", &body).await.status, 200);
    }
}

fn tool_body(stream: bool) -> Value {
    json!({"model": "ref-chat", "stream": stream, "tool_choice": "required",
        "messages": [{"role": "user", "content": "call"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]})
}

#[tokio::test]
async fn t1_t2_tool_calls_finish_with_stop_and_empty_ids() {
    let v = post(&gemini(), "/v1/chat/completions", &tool_body(false))
        .await
        .json();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["tool_calls"][0]["id"], "");
}

async fn gemini_stream(body: Value) -> Vec<Value> {
    let r = post(&gemini(), "/v1/chat/completions", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let data = sse_data(&r.text());
    assert_eq!(data.last().unwrap(), "[DONE]");
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn s1_stream_tool_calls_have_no_index() {
    let chunks = gemini_stream(tool_body(true)).await;
    let calls = tool_call_deltas(&chunks);
    assert_eq!(calls.len(), 1, "whole call in one delta");
    assert!(calls[0].get("index").is_none());
    assert_eq!(calls[0]["id"], "");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "example"}));
}

#[tokio::test]
async fn s4_s5_s7_stream_shape() {
    let mut body = chat_body("stream");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let chunks = gemini_stream(body).await;
    for c in &chunks {
        assert!(c.get("id").is_none(), "S4: no id");
        assert_eq!(
            c["choices"][0]["delta"]["role"], "assistant",
            "S4: role in every delta"
        );
        assert!(c.get("usage").is_none(), "S5: no usage");
        assert!(!c["choices"].as_array().unwrap().is_empty());
    }
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(
        last["choices"][0]["delta"]["content"].is_string(),
        "S7: finish on the last content chunk"
    );
}

#[tokio::test]
async fn q2_r2_and_the_google_extension() {
    let app = gemini();
    let mut body = chat_body("x");
    body["n"] = json!(2);
    let e = assert_google_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        "INVALID_ARGUMENT",
    );
    assert_eq!(
        e["message"],
        "Multiple candidates is not enabled for this model"
    );
    let mut body = chat_body("x");
    body["reasoning_effort"] = json!("medium");
    assert_google_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        "INVALID_ARGUMENT",
    );

    let mut body = chat_body("x");
    body["model"] = json!("ref-reasoning");
    body["google"] = json!({"thinking_config": {"thinking_budget": 12, "include_thoughts": true}});
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        12
    );
    assert!(v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .starts_with("<thought>"));
    let mut body = chat_body("one two three four");
    body["google"] = json!({"cached_content": "cachedContents/abc"});
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
    let mut body = chat_body("x");
    body["google"] = json!({"bogus": true});
    assert_google_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        "INVALID_ARGUMENT",
    );
}
