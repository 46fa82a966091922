//! Non-streamed chat completions: shape, limits, stop, n, logprobs, formats, reasoning.

use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

fn text_of(v: &Value, i: usize) -> String {
    v["choices"][i]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn basic_completion_has_the_documented_shape() {
    let app = app(Profile::OpenAi);
    let r = post(&app, "/v1/chat/completions", &json!({
        "model": "ref-chat",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Héllo wörld 👋 from a test"}],
        "seed": 7, "temperature": 0.2, "top_p": 0.9, "user": "u1", "metadata": {"k": "v"}, "store": false,
        "some_unknown_param": true
    })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("content-type").starts_with("application/json"));
    assert!(r.header("x-request-id").starts_with("req_"));
    assert!(!r.header("openai-processing-ms").is_empty());
    let v = r.json();
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "ref-chat");
    assert!(v["created"].is_u64());
    assert!(v["system_fingerprint"].is_string());
    let choice = &v["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["refusal"], Value::Null);
    assert_eq!(choice["message"]["annotations"], json!([]));
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(choice["finish_reason"], "stop");
    let content = text_of(&v, 0);
    assert!(
        content.starts_with("Reference reply: Héllo wörld 👋 from a test"),
        "{content}"
    );
    let u = &v["usage"];
    assert_eq!(u["prompt_tokens"], 8);
    assert_eq!(
        u["completion_tokens"].as_u64().unwrap(),
        content.split_whitespace().count() as u64
    );
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        u["prompt_tokens_details"],
        json!({"cached_tokens": 0, "audio_tokens": 0})
    );
    assert_eq!(u["completion_tokens_details"]["reasoning_tokens"], 0);
    // Deterministic: the same request gives the same content and id.
    let again = post(
        &app,
        "/v1/chat/completions",
        &chat_body("Héllo wörld 👋 from a test"),
    )
    .await
    .json();
    assert_eq!(text_of(&again, 0), content);
}

#[tokio::test]
async fn request_errors_use_the_openai_envelope() {
    let app = app(Profile::OpenAi);
    let r = send(
        &app,
        "POST",
        "/v1/chat/completions",
        "{not json".into(),
        &[],
    )
    .await;
    let v = assert_openai_error(&r, 400, None);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("We could not parse the JSON body of your request."));

    let r = post(&app, "/v1/chat/completions", &json!({"model": "ref-chat"})).await;
    let v = assert_openai_error(&r, 400, Some("messages"));
    assert_eq!(
        v["error"]["message"],
        "Missing required parameter: 'messages'."
    );
    assert_eq!(v["error"]["code"], "missing_required_parameter");

    let r = post(
        &app,
        "/v1/chat/completions",
        &json!({"messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_openai_error(&r, 400, Some("model"));

    let r = post(
        &app,
        "/v1/chat/completions",
        &json!({"model": "gpt-nope", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    let v = assert_openai_error(&r, 404, None);
    assert_eq!(
        v["error"]["message"],
        "The model `gpt-nope` does not exist or you do not have access to it."
    );
    assert_eq!(v["error"]["code"], "model_not_found");
    assert_eq!(v["error"]["type"], "invalid_request_error");

    let mut body = chat_body("x");
    body["messages"] = json!("hello");
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("messages"),
    );
    for (key, value) in [
        ("n", json!(0)),
        ("max_tokens", json!(0)),
        ("max_completion_tokens", json!(-1)),
        ("temperature", json!(3)),
    ] {
        let mut body = chat_body("x");
        body[key] = value;
        assert_openai_error(
            &post(&app, "/v1/chat/completions", &body).await,
            400,
            Some(key),
        );
    }
    let mut body = chat_body("x");
    body["messages"][0]["role"] = json!("wizard");
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("messages[0].role"),
    );
    let mut body = chat_body("x");
    body["stop"] = json!(["a", "b", "c", "d", "e"]);
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("stop"),
    );
    // An embedding model is not a chat model.
    let mut body = chat_body("x");
    body["model"] = json!("ref-embed");
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("model"),
    );
}

#[tokio::test]
async fn max_tokens_truncates_with_length() {
    let app = app(Profile::OpenAi);
    for key in ["max_tokens", "max_completion_tokens"] {
        let mut body = chat_body("Tell me a story");
        body[key] = json!(5);
        let v = post(&app, "/v1/chat/completions", &body).await.json();
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        assert_eq!(v["usage"]["completion_tokens"], 5);
        assert_eq!(text_of(&v, 0), "Reference reply: Tell me a");
    }
    let mut body = chat_body("Tell me a story");
    body["max_tokens"] = json!(9);
    body["max_completion_tokens"] = json!(3);
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    assert_eq!(v["usage"]["completion_tokens"], 3);
    let mut body = chat_body("hi");
    body["max_tokens"] = json!(1000);
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn stop_sequences_cut_the_content() {
    let app = app(Profile::OpenAi);
    let mut body = chat_body("anything");
    body["stop"] = json!("reply");
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    assert_eq!(text_of(&v, 0), "Reference ");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    body["stop"] = json!(["zzz", "deterministic"]);
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    let content = text_of(&v, 0);
    assert!(!content.contains("deterministic") && content.starts_with("Reference reply: anything"));
}

#[tokio::test]
async fn n_gives_indexed_choices() {
    let app = app(Profile::OpenAi);
    let mut body = chat_body("two please");
    body["n"] = json!(3);
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    let choices = v["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    for (i, c) in choices.iter().enumerate() {
        assert_eq!(c["index"], i);
    }
}

#[tokio::test]
async fn logprobs_cover_every_token() {
    let app = app(Profile::OpenAi);
    let mut body = chat_body("Grüße aus Köln");
    body["logprobs"] = json!(true);
    body["top_logprobs"] = json!(2);
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    let lp = &v["choices"][0]["logprobs"];
    assert_eq!(lp["refusal"], Value::Null);
    let entries = lp["content"].as_array().unwrap();
    let joined: String = entries
        .iter()
        .map(|e| e["token"].as_str().unwrap())
        .collect();
    assert_eq!(joined, text_of(&v, 0));
    assert_eq!(
        entries.len() as u64,
        v["usage"]["completion_tokens"].as_u64().unwrap()
    );
    for e in entries {
        assert!(e["logprob"].as_f64().unwrap() <= 0.0);
        let bytes: Vec<u8> = e["bytes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(bytes, e["token"].as_str().unwrap().as_bytes());
        assert_eq!(e["top_logprobs"].as_array().unwrap().len(), 2);
    }
    let mut body = chat_body("x");
    body["top_logprobs"] = json!(2);
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("top_logprobs"),
    );
    body["logprobs"] = json!(true);
    body["top_logprobs"] = json!(21);
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("top_logprobs"),
    );
}

#[tokio::test]
async fn structured_output_follows_the_schema() {
    let app = app(Profile::OpenAi);
    let schema = json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "genre": {"type": "string", "enum": ["drama", "comedy"]},
            "cast": {"type": "array", "items": {"type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}},
                "required": ["name", "age"], "additionalProperties": false}},
            "studio": {"type": "object", "properties": {"name": {"type": "string"}, "founded": {"type": "integer"}},
                "required": ["name", "founded"], "additionalProperties": false}
        },
        "required": ["title", "rating", "genre", "cast", "studio"],
        "additionalProperties": false
    });
    let mut body = chat_body("Review a film");
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "review", "schema": schema, "strict": true}});
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    let parsed: Value = serde_json::from_str(&text_of(&v, 0)).unwrap();
    assert_valid(&schema, &parsed);

    body["response_format"] = json!({"type": "json_schema", "json_schema": {"schema": schema}});
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("response_format.json_schema.name"),
    );

    let mut body = chat_body("Answer in JSON please");
    body["response_format"] = json!({"type": "json_object"});
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    let parsed: Value = serde_json::from_str(&text_of(&v, 0)).unwrap();
    assert!(parsed.is_object());
    body["response_format"] = json!({"type": "xml"});
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("response_format.type"),
    );
}

#[tokio::test]
async fn reasoning_effort_sets_reasoning_tokens() {
    let app = app(Profile::OpenAi);
    let mut last = None;
    for effort in ["none", "minimal", "low", "medium", "high"] {
        let mut body = chat_body("think");
        body["model"] = json!("ref-reasoning");
        body["reasoning_effort"] = json!(effort);
        let v = post(&app, "/v1/chat/completions", &body).await.json();
        let u = &v["usage"];
        let reasoning = u["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap();
        let visible = text_of(&v, 0).split_whitespace().count() as u64;
        assert_eq!(
            u["completion_tokens"].as_u64().unwrap(),
            visible + reasoning
        );
        if effort == "none" {
            assert_eq!(reasoning, 0);
        }
        if let Some(prev) = last {
            assert!(reasoning > prev);
        }
        last = Some(reasoning);
    }
    let mut body = chat_body("think");
    body["reasoning_effort"] = json!("extreme");
    assert_openai_error(
        &post(&app, "/v1/chat/completions", &body).await,
        400,
        Some("reasoning_effort"),
    );
    // The Gemini extension is just an unknown key under the OpenAI profile.
    let mut body = chat_body("think");
    body["google"] = json!({"whatever": 1});
    assert_eq!(post(&app, "/v1/chat/completions", &body).await.status, 200);
}

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[tokio::test]
async fn images_and_audio_parts() {
    let app = app(Profile::OpenAi);
    let png = data_uri("image/png", b"\x89PNG\r\n\x1a\n0000");
    let jpeg = data_uri("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]);
    let wav = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(b"RIFF\x24\0\0\0WAVEfmt ")
    };
    let body = json!({"model": "ref-vision", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": png, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": jpeg}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
        {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}}
    ]}]});
    let v = post(&app, "/v1/chat/completions", &body).await.json();
    let content = text_of(&v, 0);
    assert!(content.contains("I see 3 image(s)"), "{content}");
    assert!(content.contains("I hear 1 audio clip(s)"), "{content}");
    assert!(
        v["usage"]["prompt_tokens_details"]["audio_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 85 + 765 * 2);

    let bad = |part: Value| json!({"model": "ref-vision", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, part]}]});
    let r = post(
        &app,
        "/v1/chat/completions",
        &bad(json!({"type": "image_url", "image_url": "https://example.com/a.png"})),
    )
    .await;
    let v = assert_openai_error(&r, 400, Some("messages[0].content[1].image_url"));
    assert_eq!(v["error"]["message"], "Invalid type for 'messages[0].content[1].image_url': expected an object, but got a string instead.");
    let r = post(
        &app,
        "/v1/chat/completions",
        &bad(json!({"type": "image_url", "image_url": {"url": data_uri("image/png", b"GIF89a")}})),
    )
    .await;
    assert_openai_error(&r, 400, Some("messages[0].content[1].image_url"));
    let r = post(
        &app,
        "/v1/chat/completions",
        &bad(json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}})),
    )
    .await;
    assert_openai_error(&r, 400, Some("messages[0].content[1].image_url"));
    let r = post(
        &app,
        "/v1/chat/completions",
        &bad(json!({"type": "input_audio", "input_audio": {"data": wav, "format": "ogg"}})),
    )
    .await;
    assert_openai_error(&r, 400, Some("messages[0].content[1].input_audio.format"));
    let r = post(
        &app,
        "/v1/chat/completions",
        &bad(json!({"type": "input_audio", "input_audio": {"data": wav, "format": "mp3"}})),
    )
    .await;
    assert_openai_error(&r, 400, Some("messages[0].content[1].input_audio"));
}
