//! The `batch` suite against a scripted Files + Batch API: the conformant flow passes, each
//! shape deviation fails the check that names it, and a refused route (404/405/501) is
//! `unsupported`, not a crash or a failure — except a 404 for the batch the case just created.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::embeddings::assert_check;
use crate::files::file_part;
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
    // `bytes: 412` in the script stands for "the size of what was uploaded".
    let file = script.file;
    Mock::given(method("POST"))
        .and(path("/v1/files"))
        .respond_with(move |req: &Request| {
            let (status, mut body) = file.clone();
            if body["bytes"] == 412
                && let Some((_, bytes)) = file_part(req)
            {
                body["bytes"] = json!(bytes.len());
            }
            reply((status, body))
        })
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
        "files.object",
        "fail",
        "`purpose` is \"user_data\", the file was uploaded with \"batch\"",
    );
    let mut s = Script::conformant();
    s.file.1["bytes"] = json!(0);
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "files.object",
        "fail",
        "`bytes` is 0, but",
    );
    let mut s = Script::conformant();
    s.file.1["created_at"] = json!(1_735_689_600_000i64);
    assert_check(
        &run(s).await,
        CASE,
        "fail",
        "files.object",
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

// --- the batch run to completion, listed and cancelled ---------------------------------------

/// One output line as OpenAI documents it, for the request `custom_id`.
fn output_line(custom_id: &str, body: Value) -> String {
    json!({"id": format!("batch_req_{custom_id}"), "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": "req_c187b3", "body": body},
        "error": null})
    .to_string()
}

fn chat_body() -> Value {
    json!({"id": "chatcmpl-xyz", "object": "chat.completion", "created": 1_711_652_795,
        "model": "m", "choices": [{"index": 0, "message": {"role": "assistant",
        "content": "Hello.", "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 22, "completion_tokens": 2, "total_tokens": 24},
        "system_fingerprint": "fp_3ba"})
}

fn embedding_body() -> Value {
    json!({"object": "list", "data": [{"object": "embedding", "index": 0,
        "embedding": [0.0023, -0.0093, 0.0158]}], "model": "e",
        "usage": {"prompt_tokens": 5, "total_tokens": 5}})
}

/// A Files + Batch API that completes a batch after `polls_to_complete` retrievals and serves
/// `output` as its output file; it lists and cancels as OpenAI documents.
async fn lifecycle_server(polls_to_complete: usize, output: String) -> MockServer {
    lifecycle_server_ending(polls_to_complete, output, "completed").await
}

/// The same, with `finished` as the status of a batch that is done.
async fn lifecycle_server_ending(
    polls_to_complete: usize,
    output: String,
    finished: &'static str,
) -> MockServer {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let server = MockServer::start().await;
    let state: Arc<Mutex<Option<Value>>> = Arc::default();
    let polls = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/v1/files"))
        .respond_with(|req: &Request| {
            let size = file_part(req).map_or(0, |(_, b)| b.len());
            ResponseTemplate::new(200).set_body_json(json!({"id": "file-in1", "object": "file",
                "bytes": size, "created_at": 1_735_689_600, "filename": "requests.jsonl",
                "purpose": "batch"}))
        })
        .mount(&server)
        .await;
    let s = state.clone();
    Mock::given(method("POST"))
        .and(path("/v1/batches"))
        .respond_with(move |req: &Request| {
            let sent: Value = serde_json::from_slice(&req.body).unwrap();
            let mut b = batch_object("validating");
            b["endpoint"] = sent["endpoint"].clone();
            b["input_file_id"] = sent["input_file_id"].clone();
            *s.lock().unwrap() = Some(b.clone());
            ResponseTemplate::new(200).set_body_json(b)
        })
        .mount(&server)
        .await;
    let s = state.clone();
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .respond_with(move |_: &Request| {
            let data: Vec<Value> = s.lock().unwrap().iter().cloned().collect();
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data,
                "first_id": "batch_abc123", "last_id": "batch_abc123", "has_more": false}))
        })
        .mount(&server)
        .await;
    let s = state.clone();
    Mock::given(method("POST"))
        .and(path("/v1/batches/batch_abc123/cancel"))
        .respond_with(move |_: &Request| {
            let mut st = s.lock().unwrap();
            let b = st.as_mut().unwrap();
            b["status"] = json!("cancelling");
            ResponseTemplate::new(200).set_body_json(b.clone())
        })
        .mount(&server)
        .await;
    let s = state;
    Mock::given(method("GET"))
        .and(path("/v1/batches/batch_abc123"))
        .respond_with(move |_: &Request| {
            let mut st = s.lock().unwrap();
            let b = st.as_mut().unwrap();
            if b["status"] == "cancelling" {
                b["status"] = json!("cancelled");
            } else if polls.fetch_add(1, Ordering::SeqCst) + 1 >= polls_to_complete {
                b["status"] = json!(finished);
                b["output_file_id"] = json!("file-out1");
                b["request_counts"] = json!({"total": 2, "completed": 2, "failed": 0});
            } else {
                b["status"] = json!("in_progress");
            }
            ResponseTemplate::new(200).set_body_json(b.clone())
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files/file-out1/content"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(output, "application/octet-stream"))
        .mount(&server)
        .await;
    server
}

/// How many times the scripted batch was retrieved.
async fn retrievals(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == "/v1/batches/batch_abc123")
        .count()
}

fn chat_output() -> String {
    format!(
        "{}\n{}\n",
        output_line("req-1", chat_body()),
        output_line("req-2", chat_body())
    )
}

async fn run_lifecycle(case: &str, polls: usize, output: String) -> RunOutput {
    let server = lifecycle_server(polls, output).await;
    run_case(
        &format!("{}/v1", server.uri()),
        case,
        &["chat=m", "embedding=e"],
    )
    .await
}

#[tokio::test]
async fn list_cancel_and_output_pass_on_a_conformant_server() {
    for case in ["batch/list", "batch/cancel"] {
        let out = run_lifecycle(case, 1, chat_output()).await;
        assert_eq!(
            out.outcome("adhoc", case).0,
            "pass",
            "{case}: {}",
            out.stdout
        );
    }
    // Completed at the first retrieval, and after a few polls (2 s apart in the suite).
    for polls in [1, 2] {
        let out = run_lifecycle("batch/chat-output", polls, chat_output()).await;
        let (outcome, reason) = out.outcome("adhoc", "batch/chat-output");
        assert_eq!(outcome, "pass", "{polls}: {reason}");
    }
    let out = run_lifecycle(
        "batch/embeddings-output",
        1,
        format!(
            "{}\n{}\n",
            output_line("emb-1", embedding_body()),
            output_line("emb-2", embedding_body())
        ),
    )
    .await;
    let (outcome, reason) = out.outcome("adhoc", "batch/embeddings-output");
    assert_eq!(outcome, "pass", "{reason}");
}

#[tokio::test]
async fn output_file_deviations_fail_batch_output() {
    let case = "batch/chat-output";
    let mut broken = chat_body();
    broken.as_object_mut().unwrap().remove("choices");
    let out = run_lifecycle(
        case,
        1,
        format!(
            "{}\n{}\n",
            output_line("req-1", chat_body()),
            output_line("req-2", broken)
        ),
    )
    .await;
    assert_check(
        &out,
        case,
        "fail",
        "batch.output",
        "fail",
        "line 2: `response.body`: does not match chat.completion",
    );

    let out = run_lifecycle(
        case,
        1,
        format!(
            "{}\n{}\n",
            output_line("req-1", chat_body()),
            output_line("req-1", chat_body())
        ),
    )
    .await;
    assert_check(
        &out,
        case,
        "fail",
        "batch.output",
        "fail",
        "`custom_id` \"req-1\" appears twice",
    );

    let out = run_lifecycle(
        case,
        1,
        "{\"custom_id\": \"req-1\", \"response\": {\"status_code\": \"200\"}}\nnot json\n".into(),
    )
    .await;
    assert_check(
        &out,
        case,
        "fail",
        "batch.output",
        "fail",
        "line 1: `response.status_code` is \"200\", expected an integer",
    );
    assert_check(
        &out,
        case,
        "fail",
        "batch.output",
        "fail",
        "line 2: not JSON",
    );

    let out = run_lifecycle(case, 1, String::new()).await;
    assert_check(
        &out,
        case,
        "fail",
        "batch.output",
        "fail",
        "the output file has no lines",
    );
}

#[tokio::test]
async fn a_batch_that_does_not_finish_within_the_polls_is_a_skip() {
    // The shipped case polls 30 × 2 s; a copy polling 3 times without a pause keeps the test
    // fast. The endpoint is not wrong for taking longer: the case is not judged.
    let suite = std::fs::read_to_string(repo().join("suites/batch.yaml"))
        .unwrap()
        .replace("every_seconds: 2", "every_seconds: 0")
        .replace("at_most: 30", "at_most: 3");
    let (_dir, file) = temp_suite(&suite);
    let server = lifecycle_server(usize::MAX, chat_output()).await;
    let base = format!("{}/v1", server.uri());
    let out = run_cli(
        &case_args(
            file.to_str().unwrap(),
            "batch/chat-output",
            &base,
            &["chat=m"],
        ),
        &[],
    )
    .await;
    let (outcome, reason) = out.outcome("adhoc", "batch/chat-output");
    assert_eq!(outcome, "skip", "{reason}");
    assert!(
        reason.contains("not finished after 3 polls") && reason.contains("\"in_progress\""),
        "{reason}"
    );
    // Exactly three retrievals were sent.
    assert_eq!(retrievals(&server).await, 3);
}

#[tokio::test]
async fn a_status_outside_the_lifecycle_ends_the_polling_and_fails() {
    // Polling waits only while the batch is in one of OpenAI's running states: a foreign
    // "succeeded" is judged at once (and named), not waited on until the polls run out.
    let server = lifecycle_server_ending(2, chat_output(), "succeeded").await;
    let out = run_case(
        &format!("{}/v1", server.uri()),
        "batch/chat-output",
        &["chat=m"],
    )
    .await;
    assert_check(
        &out,
        "batch/chat-output",
        "fail",
        "batch.status",
        "fail",
        "`status` is \"succeeded\", not one of OpenAI's values",
    );
    assert_eq!(retrievals(&server).await, 2);
}
