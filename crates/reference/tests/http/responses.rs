//! The Responses API: the response object, the named-event stream, tools and the round trip,
//! structured output, stored responses and continuations, and the Gemini profile's refusal.

use axum::body::Body;
use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "strict": true,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"], "additionalProperties": false}})
}

async fn create(app: &axum::Router, body: Value) -> Value {
    let r = post(app, "/v1/responses", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn a_string_input_gets_a_completed_response() {
    let app = app(Profile::OpenAi);
    let r = create(
        &app,
        json!({"model": "ref-chat", "input": "Say hello", "instructions": "Be brief."}),
    )
    .await;
    assert!(r["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["instructions"], "Be brief.");
    assert!(r["incomplete_details"].is_null() && r["error"].is_null());
    let item = &r["output"][0];
    assert_eq!(item["type"], "message");
    assert_eq!(item["role"], "assistant");
    assert_eq!(item["content"][0]["type"], "output_text");
    assert!(item["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Reference reply: Say hello"));
    assert!(r.get("output_text").is_none(), "an SDK-only property");
    let u = &r["usage"];
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["input_tokens"].as_u64().unwrap() + u["output_tokens"].as_u64().unwrap()
    );
    // The instructions count as input: two words more than without them.
    let plain = create(&app, json!({"model": "ref-chat", "input": "Say hello"})).await;
    assert_eq!(
        u["input_tokens"].as_u64().unwrap(),
        plain["usage"]["input_tokens"].as_u64().unwrap() + 2
    );
    assert_ne!(plain["id"], r["id"]);
}

#[tokio::test]
async fn requests_are_validated_like_openai() {
    let app = app(Profile::OpenAi);
    let cases = [
        (json!({"model": "ref-chat"}), 400, Some("input")),
        (
            json!({"model": "ref-chat", "input": "x", "max_output_tokens": 8}),
            400,
            Some("max_output_tokens"),
        ),
        (
            json!({"model": "ref-chat", "input": "x", "tools": [{"type": "function", "function": {"name": "f"}}]}),
            400,
            Some("tools[0].name"),
        ),
        (
            json!({"model": "ref-chat", "input": "x", "tools": [weather_tool()], "tool_choice": {"type": "function", "name": "nope"}}),
            400,
            Some("tool_choice"),
        ),
        (
            json!({"model": "ref-chat", "input": "x", "text": {"format": {"type": "json_object"}}}),
            400,
            Some("input"),
        ),
        (
            json!({"model": "ref-chat", "input": [{"type": "function_call_output", "call_id": "call_1", "output": "1"}]}),
            400,
            Some("input[0].call_id"),
        ),
        (
            json!({"model": "ref-chat", "input": "x", "previous_response_id": "resp_nope"}),
            400,
            Some("previous_response_id"),
        ),
        (json!({"model": "nope", "input": "x"}), 404, None),
    ];
    for (body, status, param) in cases {
        let r = post(&app, "/v1/responses", &body).await;
        assert_openai_error(&r, status, param);
    }
}

#[tokio::test]
async fn max_output_tokens_makes_an_incomplete_response() {
    let app = app(Profile::OpenAi);
    let r = create(
        &app,
        json!({"model": "ref-chat", "input": "Write a long story.", "max_output_tokens": 16}),
    )
    .await;
    assert_eq!(r["status"], "incomplete");
    assert_eq!(r["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(r["output"][0]["status"], "incomplete");
    assert_eq!(r["usage"]["output_tokens"], 16);
    assert_eq!(r["max_output_tokens"], 16);
}

/// `(event name, data)` of every frame of an SSE body.
fn named_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (event, data) = f.split_once('\n').expect("two lines");
            (
                event
                    .strip_prefix("event: ")
                    .expect("event line")
                    .to_string(),
                serde_json::from_str(data.strip_prefix("data: ").expect("data line")).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_stream_follows_the_documented_order() {
    let app = app(Profile::OpenAi);
    let r = post(
        &app,
        "/v1/responses",
        &json!({"model": "ref-chat", "input": "Say hello", "stream": true}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/event-stream"));
    let evs = named_events(&r.text());
    let types: Vec<&str> = evs
        .iter()
        .map(|(_, d)| d["type"].as_str().unwrap())
        .collect();
    for (k, (name, data)) in evs.iter().enumerate() {
        assert_eq!(name, data["type"].as_str().unwrap());
        assert_eq!(data["sequence_number"], k);
    }
    assert_eq!(
        &types[..5],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta"
        ]
    );
    assert_eq!(
        &types[types.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas: String = evs
        .iter()
        .filter(|(_, d)| d["type"] == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    let done = &evs.last().unwrap().1["response"];
    assert_eq!(done["output"][0]["content"][0]["text"], deltas);
    assert_eq!(evs[0].1["response"]["status"], "in_progress");
    assert!(!r.text().contains("[DONE]"));
    // The stored response is the final one.
    let id = done["id"].as_str().unwrap();
    assert_eq!(
        get(&app, &format!("/v1/responses/{id}")).await.json(),
        *done
    );
}

#[tokio::test]
async fn function_calls_stream_their_arguments_and_round_trip() {
    let app = app(Profile::OpenAi);
    let body = json!({"model": "ref-chat", "input": "Weather in Paris?", "tools": [weather_tool()], "tool_choice": "required", "stream": true});
    let evs = named_events(&post(&app, "/v1/responses", &body).await.text());
    let args: String = evs
        .iter()
        .filter(|(_, d)| d["type"] == "response.function_call_arguments.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    let done = evs
        .iter()
        .find(|(_, d)| d["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done.1["arguments"], args);
    assert_eq!(done.1["name"], "get_weather");
    let parsed: Value = serde_json::from_str(&args).unwrap();
    assert_valid(&weather_tool()["parameters"], &parsed);

    let mut body = body;
    body["stream"] = json!(false);
    let first = create(&app, body).await;
    let call = first["output"][0].clone();
    assert_eq!(call["type"], "function_call");
    assert!(call["call_id"].as_str().unwrap().starts_with("call_"));
    let second = create(
        &app,
        json!({"model": "ref-chat", "tools": [weather_tool()], "input": [
        {"role": "user", "content": "Weather in Paris?"}, call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "18 degrees"}]}),
    )
    .await;
    let text = second["output"][0]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("the tool returned 18 degrees"), "{text}");
    // tool_choice none answers in text; parallel calls are the first two functions.
    let none = create(&app, json!({"model": "ref-chat", "input": "x", "tools": [weather_tool()], "tool_choice": "none"})).await;
    assert_eq!(none["output"][0]["type"], "message");
}

#[tokio::test]
async fn structured_output_follows_text_format() {
    let app = app(Profile::OpenAi);
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["name", "n"], "additionalProperties": false});
    let r = create(&app, json!({"model": "ref-chat", "input": "A city", "text": {"format": {"type": "json_schema", "name": "city", "strict": true, "schema": schema}}})).await;
    let text = r["output"][0]["content"][0]["text"].as_str().unwrap();
    assert_valid(&schema, &serde_json::from_str(text).unwrap());
    assert_eq!(r["text"]["format"]["type"], "json_schema");
}

#[tokio::test]
async fn stored_responses_continue_and_can_be_deleted() {
    let app = app(Profile::OpenAi);
    let first = create(
        &app,
        json!({"model": "ref-chat", "input": "My colour is teal", "instructions": "Be brief."}),
    )
    .await;
    let id = first["id"].as_str().unwrap();
    let next = create(
        &app,
        json!({"model": "ref-chat", "input": "What colour?", "previous_response_id": id}),
    )
    .await;
    assert_eq!(next["previous_response_id"], id);
    assert!(
        next["instructions"].is_null(),
        "instructions are not carried over"
    );
    // The earlier turn (without its instructions) is part of the input now.
    let alone = create(&app, json!({"model": "ref-chat", "input": "What colour?"})).await;
    assert_eq!(
        next["usage"]["input_tokens"].as_u64().unwrap(),
        alone["usage"]["input_tokens"].as_u64().unwrap()
            + first["usage"]["input_tokens"].as_u64().unwrap()
            - 2
            + first["usage"]["output_tokens"].as_u64().unwrap()
    );
    let path = format!("/v1/responses/{id}");
    assert_eq!(get(&app, &path).await.json(), first);
    let r = send(&app, "DELETE", &path, Body::empty(), &[]).await;
    assert_eq!(
        r.json(),
        json!({"id": id, "object": "response", "deleted": true})
    );
    assert_openai_error(&get(&app, &path).await, 404, None);
    assert_openai_error(
        &send(&app, "DELETE", &path, Body::empty(), &[]).await,
        404,
        None,
    );
    // store: false is not kept.
    let unstored = create(
        &app,
        json!({"model": "ref-chat", "input": "x", "store": false}),
    )
    .await;
    let path = format!("/v1/responses/{}", unstored["id"].as_str().unwrap());
    assert_openai_error(&get(&app, &path).await, 404, None);
}

#[tokio::test]
async fn images_are_accepted_and_counted() {
    let app = app(Profile::OpenAi);
    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
    let body = |detail: &str| {
        json!({"model": "ref-vision", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is it?"}, {"type": "input_image", "image_url": png, "detail": detail}]}]})
    };
    let low = create(&app, body("low")).await;
    let high = create(&app, body("high")).await;
    assert!(high["usage"]["input_tokens"].as_u64() > low["usage"]["input_tokens"].as_u64());
    let bad = post(
        &app,
        "/v1/responses",
        &json!({"model": "ref-vision", "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": png.replace("image/png", "image/jpeg")}]}]}),
    )
    .await;
    assert_openai_error(&bad, 400, Some("input[0].content[0].image_url"));
}

#[tokio::test]
async fn the_gemini_profile_has_no_responses_api() {
    let app = app(Profile::GeminiCompat);
    let r = post(
        &app,
        "/v1/responses",
        &json!({"model": "ref-chat", "input": "x"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(get(&app, "/v1/responses/resp_1").await.status, 404);
}
