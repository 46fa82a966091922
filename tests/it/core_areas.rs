//! chat, errors and models against scripted deviations: each check passes on the conformant
//! shape and fails, with a reason naming the deviation, on the deviating one.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn server_with(status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

async fn chat_case(case: &str, status: u16, body: Value) -> (String, String) {
    let server = server_with(status, body).await;
    let out = run_case(&format!("{}/v1", server.uri()), case, &["chat=m"]).await;
    out.outcome("adhoc", case)
}

fn assert_outcome(got: (String, String), outcome: &str, reason_part: &str) {
    assert_eq!(got.0, outcome, "reason: {}", got.1);
    assert!(
        got.1.contains(reason_part),
        "reason {:?} lacks {:?}",
        got.1,
        reason_part
    );
}

#[tokio::test]
async fn basic_passes_on_conformant_response() {
    assert_outcome(
        chat_case("chat/basic", 200, chat_completion("Hello there.")).await,
        "pass",
        "",
    );
}

#[tokio::test]
async fn basic_fails_on_wrong_finish_reason_enum() {
    let mut body = chat_completion("Hello");
    body["choices"][0]["finish_reason"] = json!("STOP");
    assert_outcome(
        chat_case("chat/basic", 200, body).await,
        "fail",
        "/choices/0/finish_reason",
    );
}

#[tokio::test]
async fn basic_fails_on_missing_id_and_empty_choices() {
    let mut body = chat_completion("Hello");
    body.as_object_mut().unwrap().remove("id");
    assert_outcome(chat_case("chat/basic", 200, body).await, "fail", "id");
    let mut body = chat_completion("Hello");
    body["choices"] = json!([]);
    assert_outcome(chat_case("chat/basic", 200, body).await, "fail", "choices");
}

#[tokio::test]
async fn basic_fails_on_content_object_instead_of_string() {
    let mut body = chat_completion("x");
    body["choices"][0]["message"]["content"] = json!({"text": "x"});
    assert_outcome(chat_case("chat/basic", 200, body).await, "fail", "content");
}

#[tokio::test]
async fn extensions_are_not_deviations() {
    let mut body = chat_completion("Hello");
    body["timings"] = json!({"predicted_ms": 1.5});
    body["choices"][0]["message"]["provider_specific_fields"] = json!({"refusal": null});
    body["choices"][0]["provider_specific_fields"] = json!({});
    assert_outcome(chat_case("chat/basic", 200, body).await, "pass", "");
}

#[tokio::test]
async fn usage_arithmetic_is_checked() {
    assert_outcome(
        chat_case("chat/usage", 200, chat_completion("a b c")).await,
        "pass",
        "",
    );
    let mut body = chat_completion("a b c");
    body["usage"]["total_tokens"] = json!(99);
    assert_outcome(
        chat_case("chat/usage", 200, body).await,
        "fail",
        "total_tokens 99",
    );
    let mut body = chat_completion("a b c");
    body.as_object_mut().unwrap().remove("usage");
    assert_outcome(
        chat_case("chat/usage", 200, body).await,
        "fail",
        "`usage` is missing",
    );
}

#[tokio::test]
async fn max_tokens_ignored_or_wrong_finish_reason_fails() {
    let mut ok = chat_completion("one two three four five");
    ok["choices"][0]["finish_reason"] = json!("length");
    ok["usage"] = json!({"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14});
    assert_outcome(
        chat_case("chat/max-tokens", 200, ok.clone()).await,
        "pass",
        "",
    );
    let mut ignored = ok.clone();
    ignored["usage"] = json!({"prompt_tokens": 9, "completion_tokens": 400, "total_tokens": 409});
    assert_outcome(
        chat_case("chat/max-tokens", 200, ignored).await,
        "fail",
        "exceeds the limit of 5",
    );
    let mut stop = ok;
    stop["choices"][0]["finish_reason"] = json!("stop");
    assert_outcome(
        chat_case("chat/max-completion-tokens", 200, stop).await,
        "fail",
        "expected \"length\"",
    );
}

#[tokio::test]
async fn n_ignored_fails_and_n_refused_is_unsupported() {
    assert_outcome(
        chat_case("chat/n-two", 200, chat_completion("Tom")).await,
        "fail",
        "1 choice(s) for n: 2",
    );
    let refused = json!({"error": {"message": "Field 'n': Value must be between 1 <= value <= 1, but got 2", "type": "invalid_request_error", "param": "n", "code": null}});
    assert_outcome(
        chat_case("chat/n-two", 400, refused).await,
        "unsupported",
        "Field 'n'",
    );
}

#[tokio::test]
async fn stop_string_in_output_fails() {
    assert_outcome(
        chat_case("chat/stop", 200, chat_completion("Sunny")).await,
        "pass",
        "",
    );
    assert_outcome(
        chat_case("chat/stop", 200, chat_completion("Sunny weather")).await,
        "fail",
        "stop string \"e\"",
    );
}

#[tokio::test]
async fn logprobs_null_fails_and_well_formed_passes() {
    assert_outcome(
        chat_case("chat/logprobs", 200, chat_completion("Yes")).await,
        "fail",
        "silently ignored",
    );
    let mut ok = chat_completion("Yes");
    let entry = json!({"token": "Yes", "logprob": -0.1, "bytes": [89, 101, 115],
        "top_logprobs": [{"token": "Yes", "logprob": -0.1, "bytes": [89, 101, 115]}, {"token": "No", "logprob": -2.3, "bytes": [78, 111]}]});
    ok["choices"][0]["logprobs"] = json!({"content": [entry], "refusal": null});
    assert_outcome(
        chat_case("chat/logprobs", 200, ok.clone()).await,
        "pass",
        "",
    );
    ok["choices"][0]["logprobs"]["content"][0]["logprob"] = json!(0.5);
    assert_outcome(
        chat_case("chat/logprobs", 200, ok).await,
        "fail",
        "logprob 0.5 > 0",
    );
}

#[tokio::test]
async fn mojibake_fails_unicode_round_trip() {
    assert_outcome(
        chat_case("chat/unicode", 200, chat_completion("héllo wörld 你好 🌍")).await,
        "pass",
        "",
    );
    assert_outcome(
        chat_case("chat/unicode", 200, chat_completion("hÃ©llo")).await,
        "fail",
        "Latin-1",
    );
}

#[tokio::test]
async fn server_error_is_a_fail_not_unsupported() {
    let body = json!({"error": {"message": "image input is not supported", "type": "server_error", "param": null, "code": null}});
    assert_outcome(
        chat_case("chat/basic", 500, body).await,
        "fail",
        "HTTP 500, expected 200",
    );
}

// --- errors ---------------------------------------------------------------------------------

#[tokio::test]
async fn bad_model_envelope_passes() {
    let body = error_envelope(
        "The model `x` does not exist or you do not have access to it.",
        "invalid_request_error",
        Some("model_not_found"),
    );
    assert_outcome(chat_case("errors/bad-model", 404, body).await, "pass", "");
}

#[tokio::test]
async fn bad_model_deviations_are_named() {
    let cases = [
        (
            json!([{"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}]),
            "list-wrapped",
        ),
        (
            json!({"object": "error", "message": "no such model", "type": "NotFoundError", "param": null, "code": 404}),
            "flat",
        ),
        (json!({"detail": "Not Found"}), "FastAPI"),
        (json!({"error": "model not found"}), "`error` is a string"),
        (
            json!({"error": {"message": "m", "type": "invalid_request_error", "param": null, "code": 404}}),
            "error.code is the number 404",
        ),
        (
            json!({"error": {"message": "m", "type": "None", "param": "None", "code": "400"}}),
            "\"None\"",
        ),
    ];
    for (body, reason) in cases {
        assert_outcome(
            chat_case("errors/bad-model", 400, body).await,
            "fail",
            reason,
        );
    }
}

#[tokio::test]
async fn bad_model_non_json_and_http_200_are_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string("Internal Server Error")
                .insert_header("content-type", "text/plain"),
        )
        .mount(&server)
        .await;
    let out = run_case(
        &format!("{}/v1", server.uri()),
        "errors/malformed-json",
        &["chat=m"],
    )
    .await;
    assert_outcome(
        out.outcome("adhoc", "errors/malformed-json"),
        "fail",
        "HTTP 500, expected 4xx",
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string("Not Found")
                .insert_header("content-type", "text/plain"),
        )
        .mount(&server)
        .await;
    let out = run_case(
        &format!("{}/v1", server.uri()),
        "errors/bad-model",
        &["chat=m"],
    )
    .await;
    assert_outcome(out.outcome("adhoc", "errors/bad-model"), "fail", "not JSON");

    let ok_with_error = error_envelope("model not found", "invalid_request_error", None);
    assert_outcome(
        chat_case("errors/bad-model", 200, ok_with_error).await,
        "fail",
        "HTTP 200",
    );
}

#[tokio::test]
async fn bad_key_with_400_fails() {
    let body = json!({"error": {"message": "No connected db.", "type": "no_db_connection", "param": null, "code": "400"}});
    assert_outcome(
        chat_case("errors/bad-key", 400, body).await,
        "fail",
        "HTTP 400, expected 401 or 403: No connected db.",
    );
    let ok = error_envelope(
        "Incorrect API key provided",
        "invalid_request_error",
        Some("invalid_api_key"),
    );
    assert_outcome(chat_case("errors/bad-key", 401, ok).await, "pass", "");
}

// --- models ---------------------------------------------------------------------------------

async fn models_server(list: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn models_list_and_configured_ids() {
    let good = json!({"object": "list", "data": [{"id": "m", "object": "model", "created": 1_700_000_000, "owned_by": "me"}]});
    let server = models_server(good).await;
    let out = run_cli(
        &[
            "run",
            "--suite",
            "models",
            "--filter",
            "models/list",
            "--filter",
            "models/configured-ids",
            "--base-url",
            &format!("{}/v1", server.uri()),
            "--model",
            "chat=m",
        ],
        &[],
    )
    .await;
    assert_eq!(out.outcome("adhoc", "models/list").0, "pass");
    assert_eq!(out.outcome("adhoc", "models/configured-ids").0, "pass");

    let prefixed = json!({"object": "list", "data": [{"id": "models/m", "object": "model", "created": 1_700_000_000, "owned_by": "google"}]});
    let server = models_server(prefixed).await;
    let out = run_case(
        &format!("{}/v1", server.uri()),
        "models/configured-ids",
        &["chat=m"],
    )
    .await;
    assert_outcome(
        out.outcome("adhoc", "models/configured-ids"),
        "fail",
        "listed as `models/m`",
    );

    let no_created =
        json!({"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "me"}]});
    let server = models_server(no_created).await;
    let out = run_case(&format!("{}/v1", server.uri()), "models/list", &["chat=m"]).await;
    assert_outcome(out.outcome("adhoc", "models/list"), "fail", "created");
}

#[tokio::test]
async fn absent_required_nullable_field_is_a_warning_not_a_failure() {
    // OpenAI's spec requires `choices[].logprobs` (null when unused); LiteLLM leaves it out.
    // Every SDK reads absent as null: a warning. A required, non-nullable field stays a failure.
    let mut body = chat_completion("Hello");
    body["choices"][0]
        .as_object_mut()
        .unwrap()
        .remove("logprobs");
    let server = server_with(200, body).await;
    let out = run_case(&format!("{}/v1", server.uri()), "chat/basic", &["chat=m"]).await;
    assert_outcome(out.outcome("adhoc", "chat/basic"), "pass", "");
    let warnings = out.report()["results"][0]["warnings"].to_string();
    assert!(warnings.contains("`logprobs` is absent"), "{warnings}");

    let mut body = chat_completion("Hello");
    body["choices"][0]["message"]
        .as_object_mut()
        .unwrap()
        .remove("role");
    assert_outcome(chat_case("chat/basic", 200, body).await, "fail", "role");
}
