//! `structured_output.*` against scripted responses: valid JSON passes; prose (O2), fenced JSON,
//! a parsed object as content (O4), schema violations and truncation each fail with their own
//! reason; a refusal of the format (O1, O3) is `unsupported`.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn so_case(case: &str, status: u16, body: Value) -> (String, String) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
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

/// An order valid against the `json-schema-strict` case's schema.
fn order() -> Value {
    json!({
        "customer": {"name": "Ada Lovelace", "city": "London"},
        "items": [
            {"product": "mug", "colour": "red", "quantity": 2},
            {"product": "notebook", "colour": "blue", "quantity": 1}
        ],
        "shipping": "express",
        "gift": false
    })
}

const STRICT: &str = "structured_output/json-schema-strict";

#[tokio::test]
async fn json_schema_passes_on_valid_json_string() {
    let body = chat_completion(&order().to_string());
    assert_outcome(so_case(STRICT, 200, body).await, "pass", "");
}

#[tokio::test]
async fn json_schema_violations_are_named() {
    let mut bad = order();
    bad["items"][0]["colour"] = json!("purple");
    bad.as_object_mut().unwrap().remove("gift");
    assert_outcome(
        so_case(STRICT, 200, chat_completion(&bad.to_string())).await,
        "fail",
        "content does not match the requested schema",
    );
    let mut extra = order();
    extra["customer"]["email"] = json!("ada@example.org");
    assert_outcome(
        so_case(STRICT, 200, chat_completion(&extra.to_string())).await,
        "fail",
        "at `/customer`",
    );
}

#[tokio::test]
async fn prose_is_the_format_silently_ignored_o2() {
    assert_outcome(
        so_case(
            STRICT,
            200,
            chat_completion("Ada ordered two red mugs and a blue notebook."),
        )
        .await,
        "fail",
        "content is prose, not JSON",
    );
    assert_outcome(
        so_case(
            "structured_output/json-object",
            200,
            chat_completion("The capital of France is Paris."),
        )
        .await,
        "fail",
        "QUIRKS O2",
    );
}

#[tokio::test]
async fn fenced_json_fails_as_fenced() {
    let fenced = format!("```json\n{}\n```", order());
    assert_outcome(
        so_case(STRICT, 200, chat_completion(&fenced)).await,
        "fail",
        "fenced",
    );
}

#[tokio::test]
async fn content_object_instead_of_string_is_o4() {
    let mut body = chat_completion("");
    body["choices"][0]["message"]["content"] = order();
    assert_outcome(so_case(STRICT, 200, body).await, "fail", "QUIRKS O4");
}

#[tokio::test]
async fn truncation_at_the_token_limit_is_a_warning_not_a_deviation() {
    // A well-formed JSON prefix cut by `max_tokens` (finish_reason "length") is the request's
    // limit at work: the case passes with a warning naming the token limit.
    let text = order().to_string();
    let mut body = chat_completion(&text[..text.len() / 2]);
    body["choices"][0]["finish_reason"] = json!("length");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let out = run_case(&format!("{}/v1", server.uri()), STRICT, &["chat=m"]).await;
    assert_outcome(out.outcome("adhoc", STRICT), "pass", "");
    let warnings = out.report()["results"][0]["warnings"].to_string();
    assert!(warnings.contains("token limit"), "{warnings}");

    // Broken JSON is a deviation even when the output also hit the limit.
    let mut broken = chat_completion("{\"customer\": }");
    broken["choices"][0]["finish_reason"] = json!("length");
    assert_outcome(so_case(STRICT, 200, broken).await, "fail", "token limit");
}

#[tokio::test]
async fn json_object_must_be_an_object() {
    let case = "structured_output/json-object";
    assert_outcome(
        so_case(case, 200, chat_completion("{\"capital\": \"Paris\"}")).await,
        "pass",
        "",
    );
    assert_outcome(
        so_case(case, 200, chat_completion("[\"Paris\"]")).await,
        "fail",
        "content parses to an array, expected a JSON object",
    );
}

#[tokio::test]
async fn refused_format_or_keywords_are_unsupported() {
    // llama.cpp-style refusal naming response_format (QUIRKS O3, as a 400).
    let refused = json!({"error": {"message": "'response_format' type must be one of \"text\" or \"json_object\", but got: json_schema", "type": "invalid_request_error", "param": "response_format", "code": null}});
    assert_outcome(
        so_case(STRICT, 400, refused).await,
        "unsupported",
        "response_format",
    );
    // Gemini's rejection of `$schema` (QUIRKS O1): list-wrapped, Unknown name.
    let gemini = json!([{"error": {"code": 400, "message": "Invalid JSON payload received. Unknown name \"$schema\" at 'generation_config.response_schema': Cannot find field.", "status": "INVALID_ARGUMENT"}}]);
    assert_outcome(
        so_case("structured_output/schema-keywords", 400, gemini).await,
        "unsupported",
        "Unknown name \"$schema\"",
    );
    // Accepted: the output must still validate.
    assert_outcome(
        so_case(
            "structured_output/schema-keywords",
            200,
            chat_completion("{\"name\": \"Tom\", \"age\": 3}"),
        )
        .await,
        "pass",
        "",
    );
    assert_outcome(
        so_case(
            "structured_output/schema-keywords",
            200,
            chat_completion("{\"name\": \"Tom\", \"age\": \"three\"}"),
        )
        .await,
        "fail",
        "at `/age`",
    );
}
