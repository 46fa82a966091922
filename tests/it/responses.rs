//! The `responses` suite against the built-in reference endpoint and against independent
//! scripted servers: every payload here is written by hand from OpenAI's documented examples
//! (not produced by the reference endpoint), the conformant ones pass, and each server with one
//! injected deviation fails the feature it breaks with a reason naming the deviation. An
//! endpoint without the routes is `unsupported`, never `fail`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::embeddings::{assert_check, non_passing};
use crate::support::*;

const MODELS: &[&str] = &["chat=m", "vision=v"];

// --- hand-written payloads ---------------------------------------------------------------------

fn message_item(text: &str) -> Value {
    json!({"type": "message", "id": "msg_67ccd2bf17f0", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

fn call_item(call_id: &str, name: &str, arguments: &str) -> Value {
    json!({"type": "function_call", "id": "fc_67ca09c6bedc", "call_id": call_id, "name": name,
        "arguments": arguments, "status": "completed"})
}

/// A completed response object shaped like OpenAI's "Text input" example.
fn response(output: Vec<Value>, input_tokens: u64, output_tokens: u64) -> Value {
    json!({
        "id": "resp_67ccd2bed1ec8190", "object": "response", "created_at": 1_741_476_542,
        "status": "completed", "completed_at": 1_741_476_543, "error": null,
        "incomplete_details": null, "instructions": null, "max_output_tokens": null,
        "model": "m", "output": output, "parallel_tool_calls": true,
        "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
        "store": true, "temperature": 1.0, "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": [], "top_p": 1.0, "truncation": "disabled",
        "usage": {"input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens},
        "user": null, "metadata": {}
    })
}

fn text_response(text: &str) -> Value {
    response(vec![message_item(text)], 36, 4)
}

/// The events of a conformant text stream (as OpenAI documents them), numbered from 0.
fn text_events(pieces: &[&str]) -> Vec<Value> {
    let text: String = pieces.concat();
    let mut in_progress = response(vec![], 10, 0);
    in_progress["status"] = json!("in_progress");
    in_progress["usage"] = Value::Null;
    in_progress["completed_at"] = Value::Null;
    let id = "msg_67c9fdcf37fc";
    let mut evs = vec![
        json!({"type": "response.created", "response": in_progress}),
        json!({"type": "response.in_progress", "response": in_progress}),
        json!({"type": "response.output_item.added", "output_index": 0, "item":
            {"id": id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
        json!({"type": "response.content_part.added", "item_id": id, "output_index": 0,
            "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
    ];
    for p in pieces {
        evs.push(
            json!({"type": "response.output_text.delta", "item_id": id, "output_index": 0,
            "content_index": 0, "delta": p}),
        );
    }
    let mut item = message_item(&text);
    item["id"] = json!(id);
    evs.extend([
        json!({"type": "response.output_text.done", "item_id": id, "output_index": 0,
            "content_index": 0, "text": text}),
        json!({"type": "response.content_part.done", "item_id": id, "output_index": 0,
            "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
    ]);
    let mut done = response(vec![item], 10, pieces.len() as u64);
    done["id"] = in_progress["id"].clone();
    evs.push(json!({"type": "response.completed", "response": done}));
    number(evs)
}

/// The events of a conformant function-call stream.
fn call_events(fragments: &[&str]) -> Vec<Value> {
    let args: String = fragments.concat();
    let mut in_progress = response(vec![], 10, 0);
    in_progress["status"] = json!("in_progress");
    in_progress["usage"] = Value::Null;
    let mut added = call_item("call_1", "get_weather", "");
    added["status"] = json!("in_progress");
    let id = "fc_67ca09c6bedc";
    let mut evs = vec![
        json!({"type": "response.created", "response": in_progress}),
        json!({"type": "response.in_progress", "response": in_progress}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
    ];
    for f in fragments {
        evs.push(
            json!({"type": "response.function_call_arguments.delta", "item_id": id,
            "output_index": 0, "delta": f}),
        );
    }
    let item = call_item("call_1", "get_weather", &args);
    evs.extend([
        json!({"type": "response.function_call_arguments.done", "item_id": id,
            "name": "get_weather", "output_index": 0, "arguments": args}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        json!({"type": "response.completed", "response": response(vec![item.clone()], 10, 8)}),
    ]);
    number(evs)
}

fn number(mut evs: Vec<Value>) -> Vec<Value> {
    for (n, e) in evs.iter_mut().enumerate() {
        e["sequence_number"] = json!(n);
    }
    evs
}

/// `event: <type>` + `data:` frames.
fn named(evs: &[Value]) -> String {
    evs.iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect()
}

fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "text/event-stream")
}

/// A server answering every `POST /v1/responses` with `reply`.
async fn serve(reply: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(reply)
        .mount(&server)
        .await;
    server
}

async fn run_on(server: &MockServer, case: &str) -> RunOutput {
    run_case(&format!("{}/v1", server.uri()), case, MODELS).await
}

async fn with_reply(case: &str, reply: ResponseTemplate) -> RunOutput {
    run_on(&serve(reply).await, case).await
}

async fn with_body(case: &str, body: Value) -> RunOutput {
    with_reply(case, ResponseTemplate::new(200).set_body_json(body)).await
}

async fn with_events(case: &str, evs: &[Value]) -> RunOutput {
    with_reply(case, sse(named(evs))).await
}

fn assert_pass(out: &RunOutput, case: &str) {
    let (outcome, reason) = out.outcome("adhoc", case);
    assert_eq!(
        outcome,
        "pass",
        "{case}: {reason}; checks {:#?}",
        non_passing(out, case)
    );
}

// --- the reference endpoint and missing routes -------------------------------------------------

#[tokio::test]
async fn suite_passes_on_the_reference_and_gemini_compat_refuses_the_route() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "responses",
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 30, "{}", out.stdout);
    for r in results {
        let want = if r["target"] == "reference" {
            "pass"
        } else {
            "unsupported"
        };
        assert_eq!(r["outcome"], want, "{r:#}");
    }
}

#[tokio::test]
async fn an_endpoint_without_the_routes_is_unsupported_not_failed() {
    // A bare 404 (wiremock's default) and FastAPI's `{"detail": "Not Found"}`.
    for server in [
        MockServer::start().await,
        serve(ResponseTemplate::new(404).set_body_json(json!({"detail": "Not Found"}))).await,
    ] {
        let base = format!("{}/v1", server.uri());
        let mut args = vec!["run", "--suite", "responses", "--base-url", &base];
        for m in MODELS {
            args.extend(["--model", m]);
        }
        let out = run_cli(&args, &[]).await;
        let report = out.report();
        let results = report["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for r in results {
            assert_eq!(r["outcome"], "unsupported", "{r:#}");
        }
    }
    for status in [405, 501] {
        let out = with_body_status("responses/basic", status).await;
        assert_eq!(out.outcome("adhoc", "responses/basic").0, "unsupported");
    }
}

async fn with_body_status(case: &str, status: u16) -> RunOutput {
    with_reply(
        case,
        ResponseTemplate::new(status).set_body_json(error_envelope(
            "Not implemented",
            "invalid_request_error",
            None,
        )),
    )
    .await
}

#[tokio::test]
async fn a_server_error_on_a_route_that_exists_is_a_failure() {
    let out = with_body_status("responses/basic", 500).await;
    let (outcome, reason) = out.outcome("adhoc", "responses/basic");
    assert_eq!(outcome, "fail", "{reason}");
    assert!(reason.contains("HTTP 500"), "{reason}");
}

#[tokio::test]
async fn the_role_falls_back_to_the_chat_model_and_a_mapped_role_wins() {
    let server = serve(ResponseTemplate::new(200).set_body_json(text_response("Hi."))).await;
    run_on(&server, "responses/basic").await;
    let base = format!("{}/v1", server.uri());
    let args = case_args(
        "responses",
        "responses/basic",
        &base,
        &["chat=m", "responses=r-model"],
    );
    run_cli(&args, &[]).await;
    let models: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["model"].to_string())
        .collect();
    assert_eq!(models, ["\"m\"", "\"r-model\""]);
    // Without a chat model there is nothing to fall back to: the run stops naming the role
    // (it is what the selection needs), and with --allow-missing-models it is a skip, not an
    // error.
    let args = case_args("responses", "responses/basic", &base, &["embedding=e"]);
    let out = run_allowing_missing(&args, "responses").await;
    let (outcome, reason) = out.outcome("adhoc", "responses/basic");
    assert_eq!(outcome, "skip", "{reason}");
    assert!(reason.contains("role `responses`"), "{reason}");
}

// --- the response object ------------------------------------------------------------------------

#[tokio::test]
async fn a_conformant_response_passes_and_each_shape_deviation_is_named() {
    assert_pass(
        &with_body("responses/basic", text_response("Hello there.")).await,
        "responses/basic",
    );
    let mut wrong_object = text_response("Hi.");
    wrong_object["object"] = json!("chat.completion");
    let out = with_body("responses/basic", wrong_object).await;
    assert_check(
        &out,
        "responses/basic",
        "fail",
        "responses.object",
        "fail",
        "`object` is \"chat.completion\"",
    );
    let mut mismatch = text_response("Hi.");
    mismatch["output_text"] = json!("Something else.");
    let out = with_body("responses/basic", mismatch).await;
    assert_check(
        &out,
        "responses/basic",
        "fail",
        "responses.object",
        "fail",
        "`output_text` is",
    );
    let mut in_progress = text_response("Hi.");
    in_progress["status"] = json!("in_progress");
    let out = with_body("responses/basic", in_progress).await;
    assert_check(
        &out,
        "responses/basic",
        "fail",
        "responses.object",
        "fail",
        "the output is not final",
    );
    // A chat completion where a response was expected: schema and check both say so.
    let chat = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1_741_476_542,
        "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"},
        "logprobs": null, "finish_reason": "stop"}]});
    let out = with_body("responses/basic", chat).await;
    assert_eq!(out.outcome("adhoc", "responses/basic").0, "fail");
}

#[tokio::test]
async fn instructions_must_be_echoed() {
    let out = with_body("responses/instructions", text_response("Paris.")).await;
    assert_check(
        &out,
        "responses/instructions",
        "fail",
        "responses.object",
        "fail",
        "`instructions` is null, the request sent",
    );
    let mut echoed = text_response("Paris.");
    echoed["instructions"] = json!("You are a terse assistant. Answer in five words or fewer.");
    assert_pass(
        &with_body("responses/instructions", echoed).await,
        "responses/instructions",
    );
}

#[tokio::test]
async fn usage_arithmetic_is_checked() {
    let mut bad = text_response("One, two.");
    bad["usage"]["total_tokens"] = json!(99);
    let out = with_body("responses/usage", bad).await;
    assert_check(
        &out,
        "responses/usage",
        "fail",
        "responses.usage",
        "fail",
        "total_tokens 99 ≠ input_tokens 36 + output_tokens 4",
    );
    let mut none = text_response("One, two.");
    none.as_object_mut().unwrap().remove("usage");
    let out = with_body("responses/usage", none).await;
    assert_check(
        &out,
        "responses/usage",
        "fail",
        "responses.usage",
        "fail",
        "`usage` is missing",
    );
}

#[tokio::test]
async fn max_output_tokens_ignored_or_unreported_fails() {
    let mut cut = response(vec![message_item("Once upon a time")], 12, 16);
    cut["status"] = json!("incomplete");
    cut["incomplete_details"] = json!({"reason": "max_output_tokens"});
    cut["completed_at"] = Value::Null;
    cut["max_output_tokens"] = json!(16);
    assert_pass(
        &with_body("responses/max-output-tokens", cut.clone()).await,
        "responses/max-output-tokens",
    );
    let ignored = response(vec![message_item("Once upon a time, long ago…")], 12, 240);
    let out = with_body("responses/max-output-tokens", ignored).await;
    assert_check(
        &out,
        "responses/max-output-tokens",
        "fail",
        "responses.max_output_tokens",
        "fail",
        "output_tokens 240 exceeds max_output_tokens 16",
    );
    let mut silent = cut.clone();
    silent["status"] = json!("completed");
    silent["incomplete_details"] = Value::Null;
    let out = with_body("responses/max-output-tokens", silent).await;
    assert_check(
        &out,
        "responses/max-output-tokens",
        "fail",
        "responses.max_output_tokens",
        "fail",
        "but status is `completed`, expected `incomplete`",
    );
    let mut no_reason = cut;
    no_reason["incomplete_details"] = Value::Null;
    let out = with_body("responses/max-output-tokens", no_reason).await;
    assert_check(
        &out,
        "responses/max-output-tokens",
        "fail",
        "responses.object",
        "fail",
        "without `incomplete_details.reason`",
    );
}

// --- function tools -----------------------------------------------------------------------------

fn call_response(call: Value) -> Value {
    response(vec![call], 40, 12)
}

#[tokio::test]
async fn function_calls_pass_and_their_deviations_fail() {
    let good = call_item(
        "call_1",
        "get_weather",
        r#"{"city":"Paris","unit":"celsius"}"#,
    );
    let out = with_body("responses/function-call", call_response(good)).await;
    assert_pass(&out, "responses/function-call");
    // The request really sent the flat tool shape.
    let cases = [
        (
            call_item("call_1", "get_weather", "{city: Paris"),
            "`arguments` is not valid JSON",
        ),
        (
            call_item("call_1", "get_weather", r#"{"city":"Paris"}"#),
            "do not match the declared parameters",
        ),
        (
            call_item("call_1", "lookup", r#"{"city":"Paris","unit":"celsius"}"#),
            "which the request did not declare",
        ),
        (
            call_item("", "get_weather", r#"{"city":"Paris","unit":"celsius"}"#),
            "`call_id` is \"\"",
        ),
    ];
    for (call, part) in cases {
        let out = with_body("responses/function-call", call_response(call)).await;
        assert_check(
            &out,
            "responses/function-call",
            "fail",
            "responses.function_calls",
            "fail",
            part,
        );
    }
    let mut object_args = call_item("call_1", "get_weather", "");
    object_args["arguments"] = json!({"city": "Paris", "unit": "celsius"});
    let out = with_body("responses/function-call", call_response(object_args)).await;
    assert_check(
        &out,
        "responses/function-call",
        "fail",
        "responses.function_calls",
        "fail",
        "not a JSON string",
    );
}

#[tokio::test]
async fn the_request_uses_the_flat_tool_shape() {
    let server = serve(
        ResponseTemplate::new(200).set_body_json(call_response(call_item(
            "call_1",
            "get_weather",
            r#"{"city":"Paris","unit":"celsius"}"#,
        ))),
    )
    .await;
    run_on(&server, "responses/function-call").await;
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["tools"][0]["type"], "function");
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert!(sent["tools"][0].get("function").is_none(), "{sent}");
}

#[tokio::test]
async fn tool_choice_is_honoured() {
    let text = text_response("It is probably mild.");
    let out = with_body("responses/tool-choice-required", text.clone()).await;
    assert_check(
        &out,
        "responses/tool-choice-required",
        "fail",
        "responses.function_calls",
        "fail",
        "although tool_choice is `required`",
    );
    assert_pass(
        &with_body("responses/tool-choice-none", text).await,
        "responses/tool-choice-none",
    );
    let call = call_item(
        "call_1",
        "get_weather",
        r#"{"city":"Paris","unit":"celsius"}"#,
    );
    let out = with_body("responses/tool-choice-none", call_response(call)).await;
    assert_check(
        &out,
        "responses/tool-choice-none",
        "fail",
        "responses.function_calls",
        "fail",
        "tool_choice `none`, but output item 0 is a function call",
    );
    let wrong = call_item("call_1", "get_time", r#"{"timezone":"Europe/Rome"}"#);
    let out = with_body("responses/tool-choice-named", call_response(wrong)).await;
    assert_check(
        &out,
        "responses/tool-choice-named",
        "fail",
        "responses.function_calls",
        "fail",
        "tool_choice names `get_weather`",
    );
}

#[tokio::test]
async fn the_round_trip_sends_the_call_and_its_output_back() {
    let server = MockServer::start().await;
    let call = call_item(
        "call_42",
        "get_weather",
        r#"{"city":"Paris","unit":"celsius"}"#,
    );
    let first = call_response(call.clone());
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(move |r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            if body["input"].is_array() {
                ResponseTemplate::new(200).set_body_json(text_response("It is 18°C in Paris."))
            } else {
                ResponseTemplate::new(200).set_body_json(first.clone())
            }
        })
        .mount(&server)
        .await;
    let out = run_on(&server, "responses/round-trip").await;
    assert_pass(&out, "responses/round-trip");
    let requests = server.received_requests().await.unwrap();
    let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(second["input"][1], call, "{second}");
    assert_eq!(second["input"][2]["type"], "function_call_output");
    assert_eq!(second["input"][2]["call_id"], "call_42");
}

// --- the stream ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_conformant_stream_and_its_tolerated_variants_pass() {
    let evs = text_events(&["Hello", " there", "."]);
    assert_pass(
        &with_events("responses/streaming", &evs).await,
        "responses/streaming",
    );
    // No `event:` lines and a trailing `[DONE]`: legal for the SDKs, named as warnings.
    let plain: String = evs.iter().map(|e| format!("data: {e}\r\n\r\n")).collect();
    let out = with_reply(
        "responses/streaming",
        sse(format!("{plain}data: [DONE]\n\n")),
    )
    .await;
    assert_check(
        &out,
        "responses/streaming",
        "pass",
        "responses.stream_events",
        "warn",
        "have no `event:` line",
    );
    assert_check(
        &out,
        "responses/streaming",
        "pass",
        "responses.stream_events",
        "warn",
        "`data: [DONE]` is not part",
    );
    // An extra event type (a provider extension) and sequence numbers with gaps, from 1.
    let mut extra = evs.clone();
    extra.insert(
        2,
        json!({"type": "response.x_provider.metrics", "tokens_per_second": 42}),
    );
    let mut extra = number(extra);
    for e in &mut extra {
        e["sequence_number"] = json!(e["sequence_number"].as_u64().unwrap() * 2 + 1);
    }
    assert_pass(
        &with_events("responses/streaming", &extra).await,
        "responses/streaming",
    );
}

#[tokio::test]
async fn stream_order_deviations_fail() {
    let evs = text_events(&["Hello", " there"]);
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (
            {
                // A delta before its content part was added.
                let mut e = evs.clone();
                e.swap(3, 4);
                number(e)
            },
            "before its `response.content_part.added`",
        ),
        (
            {
                // The terminal event before the item is done.
                let mut e = evs.clone();
                let n = e.len();
                e.swap(n - 2, n - 1);
                number(e)
            },
            "has no `response.output_item.done`",
        ),
        (
            {
                let mut e = evs.clone();
                e.pop();
                e
            },
            "no terminal event",
        ),
        (
            {
                let mut e = evs.clone();
                let last = e.last().unwrap().clone();
                e.push(last);
                number(e)
            },
            "2 terminal events",
        ),
        (
            {
                let mut e = evs.clone();
                e.remove(0);
                number(e)
            },
            "the first event is `response.in_progress`",
        ),
        (
            {
                let mut e = evs.clone();
                e.insert(
                    5,
                    json!({"type": "error", "code": "server_error",
                        "message": "The model crashed", "param": null}),
                );
                number(e)
            },
            "the stream reports an error: server_error: The model crashed",
        ),
    ];
    for (evs, part) in cases {
        let out = with_events("responses/streaming", &evs).await;
        assert_check(
            &out,
            "responses/streaming",
            "fail",
            "responses.stream_order",
            "fail",
            part,
        );
    }
}

#[tokio::test]
async fn sequence_numbers_must_strictly_increase() {
    let mut evs = text_events(&["Hello", " there"]);
    evs[4]["sequence_number"] = json!(3);
    let out = with_events("responses/streaming", &evs).await;
    assert_check(
        &out,
        "responses/streaming",
        "fail",
        "responses.stream_sequence",
        "fail",
        "sequence_number 3 after 3",
    );
    let mut missing = text_events(&["Hi"]);
    missing[2]
        .as_object_mut()
        .unwrap()
        .remove("sequence_number");
    let out = with_events("responses/streaming", &missing).await;
    assert_check(
        &out,
        "responses/streaming",
        "fail",
        "responses.stream_sequence",
        "fail",
        "has `sequence_number` missing",
    );
}

#[tokio::test]
async fn event_names_deltas_and_foreign_streams_are_checked() {
    let evs = text_events(&["Hello", " there"]);
    let misnamed = named(&evs).replacen(
        "event: response.output_text.delta",
        "event: message.delta",
        1,
    );
    let out = with_reply("responses/streaming", sse(misnamed)).await;
    assert_check(
        &out,
        "responses/streaming",
        "fail",
        "responses.stream_events",
        "fail",
        "is named `message.delta`",
    );
    let mut lost = evs.clone();
    lost[4]["delta"] = json!("world");
    let out = with_events("responses/streaming", &lost).await;
    assert_check(
        &out,
        "responses/streaming",
        "fail",
        "responses.stream_output",
        "fail",
        "2 deltas concatenate to \"world there\", but event #7 (response.output_text.done) says \"Hello there\" (as do 3 later",
    );
    // A chat-completions stream where the Responses stream was expected.
    let chat = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1741476542,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: [DONE]\n\n";
    let out = with_reply("responses/streaming", sse(chat.into())).await;
    assert_check(
        &out,
        "responses/streaming",
        "fail",
        "responses.stream_events",
        "fail",
        "has no string `type`",
    );
    // `stream: true` ignored: a whole JSON body.
    let out = with_body("responses/streaming", text_response("Hi.")).await;
    assert_check(
        &out,
        "responses/streaming",
        "fail",
        "responses.stream_events",
        "fail",
        "`stream: true` was ignored",
    );
}

#[tokio::test]
async fn streamed_arguments_are_checked() {
    let good = call_events(&["{\"city\":", "\"Paris\",\"unit\":", "\"celsius\"}"]);
    assert_pass(
        &with_events("responses/streaming-tools", &good).await,
        "responses/streaming-tools",
    );
    // Deltas that do not add up to the arguments the stream finally states.
    let mut drift = good.clone();
    drift[4]["delta"] = json!("\"Rome\",\"unit\":");
    let out = with_events("responses/streaming-tools", &drift).await;
    assert_check(
        &out,
        "responses/streaming-tools",
        "fail",
        "responses.stream_output",
        "fail",
        "the arguments of output item 0",
    );
    // Arguments that are not JSON at all, consistently streamed.
    let broken = call_events(&["{city: ", "Paris"]);
    let out = with_events("responses/streaming-tools", &broken).await;
    assert_check(
        &out,
        "responses/streaming-tools",
        "fail",
        "responses.function_calls",
        "fail",
        "`arguments` is not valid JSON",
    );
}

// --- structured output, stored responses --------------------------------------------------------

#[tokio::test]
async fn structured_output_must_match_the_requested_schema() {
    let json_text =
        r#"{"name": "Veloria", "population": 120000, "landmarks": ["Old Bridge", "Glass Tower"]}"#;
    assert_pass(
        &with_body("responses/structured-output", text_response(json_text)).await,
        "responses/structured-output",
    );
    let out = with_body(
        "responses/structured-output",
        text_response("Veloria is a city of bridges."),
    )
    .await;
    assert_check(
        &out,
        "responses/structured-output",
        "fail",
        "responses.structured_output",
        "fail",
        "prose, not JSON",
    );
    let out = with_body(
        "responses/structured-output",
        text_response(r#"{"name": "Veloria", "population": "many"}"#),
    )
    .await;
    assert_check(
        &out,
        "responses/structured-output",
        "fail",
        "responses.structured_output",
        "fail",
        "does not match the requested schema",
    );
}

/// A stateful scripted server: create, retrieve, delete, then 404. `deviate` breaks one step.
async fn store_server(deviate: &'static str) -> MockServer {
    let server = MockServer::start().await;
    let created = text_response("OK.");
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created.clone()))
        .mount(&server)
        .await;
    let deleted = Arc::new(AtomicBool::new(false));
    let gone = deleted.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/responses/[^/]+$"))
        .respond_with(move |_: &Request| {
            if gone.load(Ordering::SeqCst) && deviate != "still-there" {
                return ResponseTemplate::new(404).set_body_json(error_envelope(
                    "Response with id 'resp_67ccd2bed1ec8190' not found.",
                    "invalid_request_error",
                    None,
                ));
            }
            let mut r = created.clone();
            if deviate == "other-id" {
                r["id"] = json!("resp_someone_else");
            }
            ResponseTemplate::new(200).set_body_json(r)
        })
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v1/responses/[^/]+$"))
        .respond_with(move |_: &Request| {
            deleted.store(true, Ordering::SeqCst);
            let ok = deviate != "not-deleted";
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "resp_67ccd2bed1ec8190", "object": "response", "deleted": ok}),
            )
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn stored_responses_are_retrieved_and_deleted() {
    const STORE: &str = "responses/store-retrieve";
    const DELETE: &str = "responses/delete";
    assert_pass(&run_on(&store_server("none").await, STORE).await, STORE);
    assert_pass(&run_on(&store_server("none").await, DELETE).await, DELETE);
    let out = run_on(&store_server("other-id").await, STORE).await;
    assert_check(
        &out,
        STORE,
        "fail",
        "responses.retrieved",
        "fail",
        "retrieved response \"resp_67ccd2bed1ec8190\" but got id",
    );
    let out = run_on(&store_server("not-deleted").await, DELETE).await;
    assert_check(
        &out,
        DELETE,
        "fail",
        "responses.deleted",
        "fail",
        "`deleted` is false",
    );
    let out = run_on(&store_server("still-there").await, DELETE).await;
    let (outcome, reason) = out.outcome("adhoc", DELETE);
    assert_eq!(outcome, "fail", "{reason}");
    assert!(
        reason.contains("retrieve deleted") && reason.contains("HTTP 200, expected 404"),
        "{reason}"
    );
    // A stateless server (no GET route): the created response cannot be found again.
    let stateless = serve(ResponseTemplate::new(200).set_body_json(text_response("OK."))).await;
    let out = run_on(&stateless, STORE).await;
    let (outcome, reason) = out.outcome("adhoc", STORE);
    assert_eq!(outcome, "fail", "{reason}");
    assert!(reason.contains("earlier step"), "{reason}");
}

#[tokio::test]
async fn previous_response_id_must_be_echoed() {
    const CASE: &str = "responses/previous-response";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(|r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let mut resp = text_response("Teal.");
            if body.get("previous_response_id").is_some() {
                resp["id"] = json!("resp_second");
            }
            ResponseTemplate::new(200).set_body_json(resp)
        })
        .mount(&server)
        .await;
    let out = run_on(&server, CASE).await;
    assert_check(
        &out,
        CASE,
        "fail",
        "responses.object",
        "fail",
        "`previous_response_id` is null, the request sent \"resp_67ccd2bed1ec8190\"",
    );
}

#[tokio::test]
async fn the_runbook_says_no_go_when_the_app_uses_responses_and_new_lacks_them() {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().to_str().unwrap();
    let out = run_cli(
        &[
            "runbook",
            "--report-dir",
            report_dir,
            "--from",
            "reference",
            "--to",
            "reference:gemini-compat",
            "--uses",
            "responses",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let rb: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("runbook.json")).unwrap())
            .unwrap();
    assert_eq!(rb["verdict"]["decision"], "no_go");
    let blockers: Vec<&str> = rb["verdict"]["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["feature"].as_str())
        .collect();
    assert!(blockers.contains(&"responses.basic"), "{blockers:?}");
    assert!(
        blockers.iter().all(|b| b.starts_with("responses.")),
        "{blockers:?}"
    );
}
