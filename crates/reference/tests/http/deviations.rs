//! Each deviation switched on by itself: it changes what it names and nothing else.

use axum::body::Body;
use llm_parity_reference::{router, Config, Deviations, DEVIATIONS};
use serde_json::{json, Value};

use crate::support::*;

fn with(ids: &str) -> axum::Router {
    router(Config {
        deviations: Deviations::parse_list(ids).expect("known ids"),
        ..Config::default()
    })
}

fn tool_body(stream: bool) -> Value {
    json!({
        "model": "ref-chat",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "tool_choice": "required",
        "stream": stream
    })
}

fn usage_body() -> Value {
    let mut b = chat_body("Say hello");
    b["stream"] = json!(true);
    b["stream_options"] = json!({"include_usage": true});
    b
}

/// The parsed chunks of a stream (`[DONE]` and error events kept as they are) and whether it
/// ended with `[DONE]`.
async fn stream(app: &axum::Router, body: &Value) -> (Vec<Value>, bool) {
    let r = post(app, "/v1/chat/completions", body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let data = sse_data(&r.text());
    let done = data.last().map(String::as_str) == Some("[DONE]");
    let chunks = data
        .iter()
        .filter(|d| d.as_str() != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("JSON chunk"))
        .collect();
    (chunks, done)
}

async fn bad_model(app: &axum::Router) -> Reply {
    post(
        app,
        "/v1/chat/completions",
        &json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await
}

#[tokio::test]
async fn no_deviation_is_openai_and_every_id_switches_something_on() {
    let (chunks, done) = stream(&router(Config::default()), &usage_body()).await;
    assert!(done && chunks.iter().all(|c| c["id"].is_string()));
    for i in DEVIATIONS {
        let set = Deviations::parse_id(i.id).unwrap();
        assert!(set.has(i.deviation), "{}", i.id);
        assert!(!i.summary.is_empty());
    }
}

#[tokio::test]
async fn e2_alone_is_a_400_in_openai_shape() {
    let app = router(Config {
        deviations: Deviations::parse_id("E2").unwrap(),
        api_key: Some("the-right-key-value".into()),
        ..Config::default()
    });
    let r = send(
        &app,
        "GET",
        "/v1/models",
        Body::empty(),
        &[("authorization", "Bearer wrong-key-value")],
    )
    .await;
    let v = assert_openai_error(&r, 400, None);
    let e = &v["error"];
    assert_eq!(
        e["message"],
        "API key not valid. Please pass a valid API key."
    );
    assert_eq!(e["code"], "invalid_api_key");
}

#[tokio::test]
async fn e4_errors_are_flat() {
    let r = bad_model(&with("E4")).await;
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["object"], "error");
    assert_eq!(v["type"], "NotFoundError");
    assert_eq!(v["code"], 404);
    assert!(v.get("error").is_none() && v["message"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn e12_errors_have_no_param() {
    let r = bad_model(&with("E12")).await;
    assert_eq!(r.status, 404);
    let v = r.json();
    assert!(v["error"].get("param").is_none(), "{v}");
    assert_eq!(v["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn e13_list_wrapped_errors_are_reshaped_into_an_object() {
    let v = bad_model(&with("E13")).await.json();
    assert_eq!(v["0"]["error"]["code"], 404, "{v}");
    assert_eq!(v["0"]["error"]["status"], "NOT_FOUND");
}

/// A chat request whose prompt is `words` words (one token each on this endpoint).
fn long_prompt(words: usize) -> Value {
    chat_body(&"lorem ".repeat(words))
}

#[tokio::test]
async fn a_prompt_beyond_the_context_is_context_length_exceeded() {
    let app = router(Config::default());
    let fits = post(&app, "/v1/chat/completions", &long_prompt(128_000)).await;
    assert_eq!(
        fits.status,
        200,
        "exactly the context fits: {}",
        fits.text()
    );
    let r = post(&app, "/v1/chat/completions", &long_prompt(128_001)).await;
    let v = assert_openai_error(&r, 400, Some("messages"));
    assert_eq!(v["error"]["code"], "context_length_exceeded");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("maximum context length is 128000 tokens") && m.contains("128001"),
        "{m}"
    );
}

#[tokio::test]
async fn e15_the_context_overflow_has_no_code() {
    let r = post(&with("E15"), "/v1/chat/completions", &long_prompt(128_001)).await;
    let v = assert_openai_error(&r, 400, None);
    assert!(v["error"]["code"].is_null(), "{v}");
    assert_eq!(
        v["error"]["message"],
        "The input token count (128001) exceeds the maximum number of tokens allowed (128000)."
    );
    // With E1 (as in gemini-compat) the same error is list-wrapped, as Google sends it.
    let v = post(
        &with("E1+E15"),
        "/v1/chat/completions",
        &long_prompt(128_001),
    )
    .await
    .json();
    assert_eq!(v[0]["error"]["code"], 400, "{v}");
    assert_eq!(v[0]["error"]["status"], "INVALID_ARGUMENT");
    assert!(v[0]["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The input token count"));
}

#[tokio::test]
async fn t7_the_first_tool_call_is_signed_and_the_next_turn_must_echo_it() {
    let app = with("T7");
    let v = post(&app, "/v1/chat/completions", &tool_body(false))
        .await
        .json();
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    let sig = call["extra_content"]["google"]["thought_signature"]
        .as_str()
        .unwrap();
    assert!(sig.len() > 20, "{v}");
    // Streamed: a signature on the call's first delta only.
    let (chunks, _) = stream(&app, &tool_body(true)).await;
    let signed: Vec<&Value> = tool_call_deltas(&chunks)
        .into_iter()
        .filter(|d| d.get("extra_content").is_some())
        .collect();
    assert_eq!(signed.len(), 1, "{chunks:?}");
    assert!(signed[0]["extra_content"]["google"]["thought_signature"].is_string());
    // The next turn: refused without the signature, answered with it (or Google's bypass value).
    let next = |call: Value| {
        let mut b = tool_body(false);
        b["messages"] = json!([
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "18C"}
        ]);
        b["tool_choice"] = json!("auto");
        b
    };
    let bare = json!({"id": "c1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}});
    let r = post(&app, "/v1/chat/completions", &next(bare.clone())).await;
    let e = assert_openai_error(&r, 400, None);
    let m = e["error"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("Function call is missing a thought_signature")
            && m.contains("`default_api:get_weather` , position 1"),
        "{m}"
    );
    for s in [sig, "skip_thought_signature_validator"] {
        let mut signed = bare.clone();
        signed["extra_content"] = json!({"google": {"thought_signature": s}});
        let r = post(&app, "/v1/chat/completions", &next(signed)).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Only the current turn is validated: an unsigned call before a later user message passes.
    let mut earlier = next(bare);
    earlier["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "user", "content": "And Rome?"}));
    assert_eq!(
        post(&app, "/v1/chat/completions", &earlier).await.status,
        200
    );
    // Without T7 nothing is added.
    let v = post(
        &router(Config::default()),
        "/v1/chat/completions",
        &tool_body(false),
    )
    .await
    .json();
    assert!(v["choices"][0]["message"]["tool_calls"][0]
        .get("extra_content")
        .is_none());
}

#[tokio::test]
async fn e8_the_stream_breaks_off_with_an_error_event() {
    let (chunks, done) = stream(&with("E8"), &chat_body_stream()).await;
    assert!(done);
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert!(chunks[2]["error"]["message"].is_string());
    assert!(chunks[1]["choices"][0]["delta"]["content"].is_string());
}

fn chat_body_stream() -> Value {
    let mut b = chat_body("Tell me a story");
    b["stream"] = json!(true);
    b
}

#[tokio::test]
async fn s4_variants_switch_on_alone() {
    let (chunks, _) = stream(&with("S4-no-id"), &chat_body_stream()).await;
    assert!(chunks.iter().all(|c| c.get("id").is_none()));
    assert_eq!(
        chunks
            .iter()
            .filter(|c| c["choices"][0]["delta"].get("role").is_some())
            .count(),
        1
    );
    let (chunks, _) = stream(&with("S4-role"), &chat_body_stream()).await;
    assert!(chunks.iter().all(|c| c["id"].is_string()));
    assert!(chunks
        .iter()
        .all(|c| c["choices"][0]["delta"]["role"] == "assistant"));
}

#[tokio::test]
async fn s5_usage_ignored_or_on_the_finish_chunk() {
    let (chunks, _) = stream(&with("S5-ignored"), &usage_body()).await;
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    let (chunks, _) = stream(&with("S5-on-finish"), &usage_body()).await;
    let last = chunks.last().unwrap();
    assert!(last["usage"]["total_tokens"].is_u64(), "{last}");
    assert!(!last["choices"].as_array().unwrap().is_empty());
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(chunks[..chunks.len() - 1]
        .iter()
        .all(|c| c["usage"].is_null()));
}

#[tokio::test]
async fn s7_variants_switch_on_alone() {
    let (chunks, done) = stream(&with("S7-no-done"), &chat_body_stream()).await;
    assert!(!done);
    assert!(chunks.last().unwrap()["choices"][0]["delta"]
        .as_object()
        .unwrap()
        .is_empty());
    let (chunks, done) = stream(&with("S7-finish-on-content"), &chat_body_stream()).await;
    assert!(done);
    let last = &chunks.last().unwrap()["choices"][0];
    assert_eq!(last["finish_reason"], "stop");
    assert!(last["delta"]["content"].is_string());
}

#[tokio::test]
async fn s10_created_changes_per_chunk() {
    let (chunks, _) = stream(&with("S10"), &chat_body_stream()).await;
    let created: Vec<u64> = chunks
        .iter()
        .map(|c| c["created"].as_u64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[1] == w[0] + 1), "{created:?}");
}

#[tokio::test]
async fn s1_and_t2_in_a_stream() {
    let (chunks, _) = stream(&with("S1"), &tool_body(true)).await;
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls.len(), 1, "whole call in one delta");
    assert!(
        calls[0].get("index").is_none() && calls[0]["id"].as_str().unwrap().starts_with("call_")
    );
    let (chunks, _) = stream(&with("T2"), &tool_body(true)).await;
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert!(calls.len() > 1 && calls.iter().all(|c| c["index"] == 0));
    assert_eq!(calls[0]["id"], "");
    assert!(
        calls[1..].iter().all(|c| c.get("id").is_none()),
        "fragments gain no id"
    );
}

#[tokio::test]
async fn t1_t3_non_streamed_tool_calls() {
    let v = post(&with("T3"), "/v1/chat/completions", &tool_body(false))
        .await
        .json();
    let choice = &v["choices"][0];
    assert!(choice["message"]["tool_calls"][0]["function"]["arguments"].is_object());
    assert_eq!(choice["finish_reason"], "tool_calls");
    let v = post(&with("T1"), "/v1/chat/completions", &tool_body(false))
        .await
        .json();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["message"]["tool_calls"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("call_"));
}

#[tokio::test]
async fn o2_response_format_is_ignored() {
    let mut body = chat_body("Give me JSON");
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}});
    let v = post(&with("O2"), "/v1/chat/completions", &body)
        .await
        .json();
    let content = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(serde_json::from_str::<Value>(content).is_err(), "{content}");
}

#[tokio::test]
async fn b1_b3_embedding_parameters_are_ignored() {
    let body = json!({"model": "ref-embed", "input": "hello", "encoding_format": "base64", "dimensions": 8});
    let v = post(&with("B1"), "/v1/embeddings", &body).await.json();
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 8);
    let v = post(&with("B3"), "/v1/embeddings", &body).await.json();
    let b64 = v["data"][0]["embedding"].as_str().unwrap();
    assert!(b64.len() > 8 * 4, "the native length, base64-encoded");
}
