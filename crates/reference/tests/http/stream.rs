//! Streaming framing: role first, content deltas, finish chunk, usage chunk, `[DONE]`.

use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

async fn stream(body: Value) -> (Reply, Vec<Value>) {
    let app = app(Profile::OpenAi);
    let r = post(&app, "/v1/chat/completions", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let data = sse_data(&r.text());
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    (r, chunks)
}

#[tokio::test]
async fn text_stream_concatenates_to_the_non_streamed_content() {
    let mut body = chat_body("Stream me ünïcode");
    let plain = post(&app(Profile::OpenAi), "/v1/chat/completions", &body)
        .await
        .json();
    body["stream"] = json!(true);
    let (r, chunks) = stream(body).await;
    assert!(r.header("content-type").starts_with("text/event-stream"));
    assert!(r.header("x-request-id").starts_with("req_"));
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for c in &chunks {
        assert_eq!(c["id"], id);
        assert_eq!(c["created"], chunks[0]["created"]);
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "ref-chat");
        assert!(c.get("usage").is_none(), "no usage without include_usage");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        content,
        plain["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let finishes: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finishes, vec![&json!("stop")]);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({}));
}

#[tokio::test]
async fn include_usage_adds_a_final_usage_chunk() {
    let mut body = chat_body("count me");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    body["max_tokens"] = json!(4);
    let (_, chunks) = stream(body).await;
    let (last, rest) = chunks.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert!(rest
        .iter()
        .all(|c| c["usage"].is_null() && c.get("usage").is_some()));
    assert_eq!(
        rest.last().unwrap()["choices"][0]["finish_reason"],
        "length"
    );
}

#[tokio::test]
async fn n_two_interleaves_choices_and_logprobs_ride_along() {
    let mut body = chat_body("both");
    body["stream"] = json!(true);
    body["n"] = json!(2);
    body["logprobs"] = json!(true);
    let (_, chunks) = stream(body).await;
    assert_eq!(chunks[0]["choices"][0]["index"], 0);
    assert_eq!(chunks[1]["choices"][0]["index"], 1);
    for index in [0, 1] {
        let mine: Vec<&Value> = chunks
            .iter()
            .map(|c| &c["choices"][0])
            .filter(|c| c["index"] == index)
            .collect();
        assert_eq!(mine[0]["delta"]["role"], "assistant");
        assert_eq!(mine.last().unwrap()["finish_reason"], "stop");
        for c in &mine[1..mine.len() - 1] {
            let token = c["logprobs"]["content"][0]["token"].as_str().unwrap();
            assert_eq!(token, c["delta"]["content"].as_str().unwrap());
        }
    }
}

#[tokio::test]
async fn tool_call_deltas_carry_an_index() {
    let body = json!({"model": "ref-chat", "stream": true, "messages": [{"role": "user", "content": "go"}],
    "tools": [
        {"type": "function", "function": {"name": "a", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}},
        {"type": "function", "function": {"name": "b"}}
    ]});
    let (_, chunks) = stream(body).await;
    let mut args = [String::new(), String::new()];
    let mut headers = 0;
    for c in &chunks {
        for call in c["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let i = call["index"]
                .as_u64()
                .expect("index on every tool-call delta") as usize;
            if call.get("id").is_some() {
                headers += 1;
                assert_eq!(call["type"], "function");
                assert!(call["function"]["name"].is_string());
            } else {
                assert!(call["function"].get("name").is_none());
            }
            args[i].push_str(call["function"]["arguments"].as_str().unwrap());
        }
    }
    assert_eq!(headers, 2);
    assert_eq!(
        serde_json::from_str::<Value>(&args[0]).unwrap(),
        json!({"q": "example"})
    );
    assert_eq!(args[1], "{}");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn errors_before_streaming_are_plain_json() {
    let app = app(Profile::OpenAi);
    let r = post(
        &app,
        "/v1/chat/completions",
        &json!({"model": "nope", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_openai_error(&r, 404, None);
    assert!(r.header("content-type").starts_with("application/json"));
    let mut body = chat_body("x");
    body["stream_options"] = json!({"include_usage": true});
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("stream_options"),
    );
}
