//! What real endpoints showed the judge got wrong, each replayed by a wiremock server sending
//! the real shape to a shipped case: false alarms that must pass (with the warning naming the
//! effect), misses that must fail with their reason, reshaped refusals that must read as
//! `unsupported`, and the findings added for them.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// Serve `body` as `content_type` with `status` (and `headers`) for every chat call.
async fn serve(
    status: u16,
    body: String,
    content_type: &str,
    headers: &[(&str, &str)],
) -> MockServer {
    let server = MockServer::start().await;
    let mut template = ResponseTemplate::new(status).set_body_raw(body.into_bytes(), content_type);
    for (k, v) in headers {
        template = template.insert_header(*k, *v);
    }
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// Run shipped case `case` (opt-in ones included) against `server` with a `chat` model; the
/// report's entry for it.
async fn entry(server: &MockServer, case: &str) -> Value {
    let base = format!("{}/v1", server.uri());
    let suite = case.split('/').next().unwrap();
    let mut args = case_args(suite, case, &base, &["chat=m", "reasoning=m"]);
    args.push("--opt-in");
    let out = run_cli(&args, &[]).await;
    let (suite, id) = case.split_once('/').unwrap();
    out.report()["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["suite"] == suite && r["case"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no result for {case}\n{}", out.stderr))
}

async fn json_entry(case: &str, status: u16, body: Value, headers: &[(&str, &str)]) -> Value {
    entry(
        &serve(status, body.to_string(), "application/json", headers).await,
        case,
    )
    .await
}

async fn sse_entry(case: &str, chunks: &[Value], done: bool) -> Value {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    entry(&serve(200, body, "text/event-stream", &[]).await, case).await
}

fn outcome(e: &Value) -> &str {
    e["outcome"].as_str().unwrap_or_default()
}

fn reason(e: &Value) -> &str {
    e["reason"].as_str().unwrap_or_default()
}

/// Whether some check result of the entry has `status` and a message containing `part`.
fn has_check(e: &Value, check: &str, status: &str, part: &str) -> bool {
    e["checks"].as_array().into_iter().flatten().any(|c| {
        c["check"] == check
            && c["status"] == status
            && c["message"].as_str().is_some_and(|m| m.contains(part))
    })
}

fn assert_check(e: &Value, check: &str, status: &str, part: &str) {
    assert!(
        has_check(e, check, status, part),
        "no {status} {check} containing {part:?} in {}",
        serde_json::to_string_pretty(&e["checks"]).unwrap()
    );
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_735_689_600, "model": "m",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
}

fn hello() -> Vec<Value> {
    vec![
        chunk(json!({"role": "assistant", "content": ""}), None),
        chunk(json!({"content": "Hello"}), None),
        chunk(json!({}), Some("stop")),
    ]
}

// --- false alarms ------------------------------------------------------------------------------

#[tokio::test]
async fn a_legacy_function_call_answer_passes() {
    let mut body = chat_completion("");
    body["choices"][0]["message"] = json!({"role": "assistant", "content": null,
        "function_call": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}});
    body["choices"][0]["finish_reason"] = json!("function_call");
    let e = json_entry("chat/system-message", 200, body, &[]).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    // The report lists the checks that did not pass: none.
    assert_eq!(e["checks"], Value::Null, "{e}");
}

#[tokio::test]
async fn an_inline_think_block_warns_of_thoughts_shown_to_users() {
    let mut body = chat_completion("<think>17 + 25 is 42.</think>\n42");
    body["usage"] = json!({"prompt_tokens": 15, "completion_tokens": 40, "total_tokens": 55});
    let e = json_entry("reasoning/token-accounting", 200, body, &[]).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    assert_check(
        &e,
        "reasoning.thoughts",
        "warn",
        "show the model's thoughts to end users",
    );
}

/// A reasoning stream whose content is `parts`, with a usage chunk.
fn reasoning_stream(parts: &[&str]) -> Vec<Value> {
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    chunks.extend(parts.iter().map(|p| chunk(json!({"content": p}), None)));
    chunks.push(chunk(json!({}), Some("stop")));
    let mut usage = chunk(json!({}), None);
    usage["choices"] = json!([]);
    usage["usage"] = json!({"prompt_tokens": 15, "completion_tokens": 40, "total_tokens": 55,
        "completion_tokens_details": {"reasoning_tokens": 30}});
    chunks.push(usage);
    chunks
}

#[tokio::test]
async fn an_inline_think_block_in_a_stream_warns_as_in_a_body() {
    // The block split across deltas, as a server streams it.
    let e = sse_entry(
        "reasoning/stream",
        &reasoning_stream(&["<thi", "nk>17 + 25 is 42.</th", "ink>\n", "42"]),
        true,
    )
    .await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    assert_check(
        &e,
        "reasoning.thoughts",
        "warn",
        "show the model's thoughts to end users",
    );
    // The same answer without the block: nothing to say.
    let e = sse_entry("reasoning/stream", &reasoning_stream(&["4", "2"]), true).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    assert!(!has_check(&e, "reasoning.thoughts", "warn", ""), "{e}");
    // Usage in the stream is judged as in a body: reasoning tokens beyond the completion fail.
    let mut chunks = reasoning_stream(&["42"]);
    chunks.last_mut().unwrap()["usage"]["completion_tokens_details"]["reasoning_tokens"] =
        json!(99);
    let e = sse_entry("reasoning/stream", &chunks, true).await;
    assert_eq!(outcome(&e), "fail", "{e}");
    assert!(
        e["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["status"] == "fail"
                && c["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("reasoning_tokens 99 > completion_tokens 40"))),
        "{e}"
    );
}

#[tokio::test]
async fn a_mistral_null_tool_calls_passes_as_openai_s_own_does() {
    let mut body = chat_completion("Blue.");
    body["choices"][0]["message"]["tool_calls"] = Value::Null;
    let e = json_entry("chat/system-message", 200, body, &[]).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    assert_eq!(e["checks"], Value::Null, "{e}");
}

#[tokio::test]
async fn a_mistral_null_tool_calls_delta_is_a_warning() {
    let chunks: Vec<Value> = hello()
        .into_iter()
        .map(|mut c| {
            c["choices"][0]["delta"]["tool_calls"] = Value::Null;
            c
        })
        .collect();
    let e = sse_entry("streaming/basic", &chunks, true).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    assert_check(&e, "streaming.chunks", "warn", "`tool_calls` is null");
}

#[tokio::test]
async fn a_groq_error_without_param_is_a_warning() {
    let body = json!({"error": {"message": "The model `nope` does not exist", "type": "invalid_request_error", "code": "model_not_found"}});
    let e = json_entry("errors/bad-model", 404, body, &[]).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
    assert_check(&e, "errors.envelope", "warn", "error.param is absent");
}

// --- misses ------------------------------------------------------------------------------------

#[tokio::test]
async fn usage_is_judged_on_a_tools_answer() {
    // Gemini: thought tokens counted in the total only.
    let body = json!({"id": "x", "object": "chat.completion", "created": 1_735_689_600, "model": "m",
        "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": 66, "completion_tokens": 6, "total_tokens": 100}});
    let e = json_entry("tools/required", 200, body, &[]).await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert!(
        reason(&e).contains("usage: total_tokens 100 ≠ prompt_tokens 66 + completion_tokens 6"),
        "{}",
        reason(&e)
    );
}

#[tokio::test]
async fn a_zero_prompt_count_fails() {
    let mut body = chat_completion("Blue.");
    body["usage"] = json!({"prompt_tokens": 0, "completion_tokens": 3, "total_tokens": 3});
    let e = json_entry("chat/system-message", 200, body, &[]).await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert!(
        reason(&e).contains("prompt_tokens is 0 for a non-empty prompt"),
        "{}",
        reason(&e)
    );
}

#[tokio::test]
async fn usage_changing_between_chunks_fails() {
    let chunks: Vec<Value> = hello()
        .into_iter()
        .enumerate()
        .map(|(k, mut c)| {
            c["usage"] = if k == 0 {
                json!({"prompt_tokens": 4, "completion_tokens": 0, "total_tokens": 4})
            } else {
                json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})
            };
            c
        })
        .collect();
    let e = sse_entry("streaming/role", &chunks, true).await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert!(
        reason(&e).contains("usage changes within one stream"),
        "{}",
        reason(&e)
    );
}

// --- wrong reason ------------------------------------------------------------------------------

#[tokio::test]
async fn usage_on_an_error_event_is_not_called_ignored() {
    let error = json!({"error": {"message": "overloaded", "type": "server_error", "code": "503"},
        "usage": {"prompt_tokens": 9, "completion_tokens": 0, "total_tokens": 9}});
    let e = sse_entry(
        "streaming/include-usage",
        &[hello()[0].clone(), error],
        false,
    )
    .await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert_check(
        &e,
        "streaming.usage",
        "fail",
        "the stream ended with an error at event #2",
    );
    assert!(!has_check(
        &e,
        "streaming.usage",
        "fail",
        "silently ignored"
    ));
}

// --- routers that reshape errors ---------------------------------------------------------------

#[tokio::test]
async fn a_reshaped_refusal_is_unsupported_with_the_body_named() {
    let body = json!({"0": {"error": {"code": 400, "message": "Multiple candidates is not enabled for models/gemini-3-pro", "status": "INVALID_ARGUMENT"}}});
    let e = json_entry("chat/n-two", 400, body, &[]).await;
    assert_eq!(outcome(&e), "unsupported", "{}", reason(&e));
    assert!(
        reason(&e).contains("Multiple candidates is not enabled"),
        "{}",
        reason(&e)
    );
    assert_check(
        &e,
        "errors.envelope",
        "warn",
        "reshaped into an object keyed by position",
    );
}

// --- new findings ------------------------------------------------------------------------------

#[tokio::test]
async fn a_missing_request_id_fails_and_a_present_one_passes() {
    let e = json_entry("chat/request-id", 200, chat_completion("Hi."), &[]).await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert!(
        reason(&e).contains("no `x-request-id` header"),
        "{}",
        reason(&e)
    );
    let e = json_entry(
        "chat/request-id",
        200,
        chat_completion("Hi."),
        &[("x-request-id", "req_1")],
    )
    .await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
}

#[tokio::test]
async fn an_integer_beyond_2_53_fails_in_any_case() {
    let mut body = chat_completion("Blue.");
    body["seed"] = json!(7_228_414_683_750_928_000u64);
    let e = json_entry("chat/system-message", 200, body, &[]).await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert!(reason(&e).contains("7228414683750928384"), "{}", reason(&e));
}

#[tokio::test]
async fn a_bad_key_typed_as_a_server_error_fails() {
    let body = json!({"error": {"message": "Invalid API key", "type": "api_error", "param": null, "code": "invalid_api_key"}});
    let e = json_entry("errors/bad-key", 401, body, &[]).await;
    assert_eq!(outcome(&e), "fail", "{}", reason(&e));
    assert!(reason(&e).contains("errors.auth_meaning"), "{}", reason(&e));
    let ok = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    let e = json_entry("errors/bad-key", 401, ok, &[]).await;
    assert_eq!(outcome(&e), "pass", "{}", reason(&e));
}
