//! The `batch` suite against a scripted Files + Batch API: the conformant flow passes, each
//! shape deviation fails the check that names it, and a refused route (404/405/501) is
//! `unsupported`, not a crash or a failure — except a 404 for the batch the case just created.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::embeddings::assert_check;
use crate::support::*;

const CASE: &str = "batch/create-and-retrieve";

fn file_object() -> Value {
    json!({"id": "file-abc123", "object": "file", "bytes": 412, "created_at": 1_735_689_600,
        "filename": "requests.jsonl", "purpose": "batch", "status": "processed"})
}

fn batch_object(status: &str) -> Value {
    json!({"id": "batch_abc123", "object": "batch", "endpoint": "/v1/chat/completions",
        "errors": null, "input_file_id": "file-abc123", "completion_window": "24h",
        "status": status, "output_file_id": null, "error_file_id": null,
        "created_at": 1_735_689_600, "in_progress_at": null, "expires_at": 1_735_776_000,
        "completed_at": null, "failed_at": null,
        "request_counts": {"total": 2, "completed": 0, "failed": 0}, "metadata": null})
}

/// The three responses of the flow: upload, create, retrieve.
struct Script {
    file: (u16, Value),
    create: (u16, Value),
    retrieve: (u16, Value),
}

impl Script {
    fn conformant() -> Self {
        Script {
            file: (200, file_object()),
            create: (200, batch_object("validating")),
            retrieve: (200, batch_object("in_progress")),
        }
    }
}

async fn run(script: Script) -> RunOutput {
    let server = MockServer::start().await;
    let reply = |(status, body): (u16, Value)| ResponseTemplate::new(status).set_body_json(body);
    Mock::given(method("POST"))
        .and(path("/v1/files"))
        .respond_with(reply(script.file))
        .mount(&server)
        .await;
    // Echo what a real server would store, so only the scripted deviation differs.
    let create = script.create;
    Mock::given(method("POST"))
        .and(path("/v1/batches"))
        .respond_with(move |_: &Request| reply(create.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/batches/[^/]+$"))
        .respond_with(reply(script.retrieve))
        .mount(&server)
        .await;
    let out = run_case(&format!("{}/v1", server.uri()), CASE, &["chat=m"]).await;
    let requests = server.received_requests().await.unwrap_or_default();
    // The upload is real multipart carrying the JSONL with the chat model filled in.
    if let Some(upload) = requests.iter().find(|r| r.url.path() == "/v1/files") {
        let text = String::from_utf8_lossy(&upload.body);
        assert!(text.contains("name=\"purpose\""), "{text}");
        assert!(text.contains("\"model\": \"m\""), "{text}");
    }
    out
}

#[tokio::test]
async fn suite_passes_on_the_builtin_reference() {
    let out = run_cli(&["run", "--suite", "batch"], &[]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.outcome("reference", CASE).0,
        "pass",
        "{}",
        out.outcome("reference", CASE).1
    );
}

#[tokio::test]
async fn conformant_flow_passes_and_retrieves_the_created_id() {
    let out = run(Script::conformant()).await;
    let (outcome, reason) = out.outcome("adhoc", CASE);
    assert_eq!(outcome, "pass", "{reason}");
    let report = out.report();
    let r = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == "create-and-retrieve")
        .unwrap()
        .clone();
    let urls: Vec<&str> = r["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap())
        .collect();
    assert!(urls[2].ends_with("/v1/batches/batch_abc123"), "{urls:?}");
    assert_eq!(
        r["exchanges"][1]["request_body"]["input_file_id"],
        "file-abc123"
    );
}

#[tokio::test]
async fn refused_files_or_batches_routes_are_unsupported() {
    for status in [404, 405, 501] {
        let mut s = Script::conformant();
        s.file = (
            status,
            error_envelope("Not found: /v1/files", "invalid_request_error", None),
        );
        let (outcome, reason) = run(s).await.outcome("adhoc", CASE);
        assert_eq!(outcome, "unsupported", "HTTP {status}: {reason}");
        assert!(reason.contains(&format!("HTTP {status}")), "{reason}");
    }
    let mut s = Script::conformant();
    s.create = (
        501,
        json!({"error": {"message": "Batch API is not implemented", "type": "not_implemented", "param": null, "code": null}}),
    );
    let (outcome, reason) = run(s).await.outcome("adhoc", CASE);
    assert_eq!(outcome, "unsupported", "{reason}");
}

#[tokio::test]
async fn a_batch_that_cannot_be_retrieved_after_create_is_a_failure() {
    // POST /batches worked, so the route family exists; a 404 for the id it just returned is
    // the endpoint losing the batch, not a route it does not implement. A 405 or 501 on the
    // retrieve route is still a refusal.
    let mut s = Script::conformant();
    s.retrieve = (
        404,
        error_envelope(
            "No batch found with id 'batch_abc123'",
            "invalid_request_error",
            None,
        ),
    );
    let (outcome, reason) = run(s).await.outcome("adhoc", CASE);
    assert_eq!(outcome, "fail", "{reason}");
    assert!(
        reason.starts_with("retrieve batch: status: HTTP 404, expected 200 (not found, though an earlier step of this case returned it)"),
        "{reason}"
    );
    let mut s = Script::conformant();
    s.retrieve = (
        405,
        error_envelope("Method Not Allowed", "invalid_request_error", None),
    );
    let (outcome, reason) = run(s).await.outcome("adhoc", CASE);
    assert_eq!(outcome, "unsupported", "{reason}");
}

#[tokio::test]
async fn a_server_error_on_upload_is_a_failure_not_unsupported() {
    let mut s = Script::conformant();
    s.file = (500, error_envelope("internal error", "server_error", None));
    let (outcome, reason) = run(s).await.outcome("adhoc", CASE);
    assert_eq!(outcome, "fail", "{reason}");
    assert!(reason.contains("HTTP 500"), "{reason}");
}

#[tokio::test]
async fn input_file_deviations_are_named() {
    let mut s = Script::conformant();
    s.file.1["purpose"] = json!("user_data");
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.input_file",
        "fail",
        "`purpose` is \"user_data\"",
    );
    let mut s = Script::conformant();
    s.file.1["bytes"] = json!(0);
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.input_file",
        "fail",
        "`bytes` is 0",
    );
    let mut s = Script::conformant();
    s.file.1["created_at"] = json!(1_735_689_600_000i64);
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.input_file",
        "fail",
        "not a plausible Unix time",
    );
}

#[tokio::test]
async fn batch_object_deviations_are_named() {
    let mut s = Script::conformant();
    s.create.1["endpoint"] = json!("/chat/completions");
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.object",
        "fail",
        "`endpoint` is \"/chat/completions\", the request sent \"/v1/chat/completions\"",
    );

    let mut s = Script::conformant();
    s.retrieve.1["id"] = json!("batch_other");
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.object",
        "fail",
        "retrieved batch \"batch_abc123\" but got id \"batch_other\"",
    );

    let mut s = Script::conformant();
    s.retrieve = (200, batch_object("completed"));
    s.retrieve.1["request_counts"] = json!({"total": 2, "completed": 2, "failed": 0});
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.object",
        "fail",
        "without `output_file_id`",
    );

    let mut s = Script::conformant();
    s.retrieve.1["request_counts"] = json!({"total": 2, "completed": 2, "failed": 1});
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "batch.object",
        "fail",
        "completed 2 + failed 1 > total 2",
    );

    let mut s = Script::conformant();
    s.retrieve = (200, batch_object("failed"));
    assert_check(
        &run(s).await,
        CASE,
        "pass",
        "batch.object",
        "warn",
        "without `errors.data`",
    );
}

#[tokio::test]
async fn status_outside_the_enum_is_named() {
    for (status, part) in [
        ("IN_PROGRESS", "wrong case"),
        ("canceled", "US spelling"),
        ("queued", "not one of OpenAI's values"),
    ] {
        let mut s = Script::conformant();
        s.retrieve.1["status"] = json!(status);
        assert_check(&run(s).await, CASE, "fail", "batch.status", "fail", part);
    }
}
