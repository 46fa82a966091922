//! Files and batches: upload, create, status progression, output, not-found errors.

use axum::body::Body;
use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

async fn upload(app: &axum::Router, purpose: &str, filename: &str, content: &str) -> Reply {
    let boundary = "XrefBOUNDARY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    send(
        app,
        "POST",
        "/v1/files",
        Body::from(body),
        &[("content-type", ct.as_str())],
    )
    .await
}

#[tokio::test]
async fn batch_lifecycle() {
    let app = app(Profile::OpenAi);
    let line = |id: &str, text: &str| {
        json!({"custom_id": id, "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "ref-chat", "messages": [{"role": "user", "content": text}]}})
        .to_string()
    };
    let content = format!("{}\n{}\n", line("a", "first"), line("b", "second"));
    let r = upload(&app, "batch", "input.jsonl", &content).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file = r.json();
    assert!(file["id"].as_str().unwrap().starts_with("file-"));
    assert_eq!(file["object"], "file");
    assert_eq!(file["bytes"], content.len());
    assert_eq!(file["filename"], "input.jsonl");
    assert_eq!(file["purpose"], "batch");
    assert_eq!(file["status"], "processed");
    let id = file["id"].as_str().unwrap();
    assert_eq!(get(&app, &format!("/v1/files/{id}")).await.json(), file);

    let r = post(
        &app,
        "/v1/batches",
        &json!({"input_file_id": id, "endpoint": "/v1/chat/completions",
        "completion_window": "24h", "metadata": {"run": "test"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let batch = r.json();
    assert!(batch["id"].as_str().unwrap().starts_with("batch_"));
    assert_eq!(batch["object"], "batch");
    assert_eq!(batch["status"], "validating");
    assert_eq!(
        batch["request_counts"],
        json!({"total": 2, "completed": 0, "failed": 0})
    );
    assert_eq!(batch["metadata"], json!({"run": "test"}));
    let path = format!("/v1/batches/{}", batch["id"].as_str().unwrap());
    assert_eq!(get(&app, &path).await.json()["status"], "in_progress");
    let done = get(&app, &path).await.json();
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["request_counts"],
        json!({"total": 2, "completed": 2, "failed": 0})
    );
    let out = get(
        &app,
        &format!(
            "/v1/files/{}/content",
            done["output_file_id"].as_str().unwrap()
        ),
    )
    .await;
    let lines: Vec<Value> = out
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["custom_id"], "a");
    assert_eq!(lines[0]["response"]["status_code"], 200);
    assert_eq!(lines[0]["response"]["body"]["object"], "chat.completion");
}

#[tokio::test]
async fn files_and_batches_errors() {
    let app = app(Profile::OpenAi);
    assert_openai_error(&get(&app, "/v1/files/file-nope").await, 404, Some("id"));
    assert_openai_error(&get(&app, "/v1/batches/batch_nope").await, 404, Some("id"));
    let r = post(&app, "/v1/batches", &json!({"input_file_id": "file-nope", "endpoint": "/v1/chat/completions", "completion_window": "24h"})).await;
    assert_openai_error(&r, 404, Some("input_file_id"));
    let r = post(&app, "/v1/batches", &json!({"input_file_id": "file-nope", "endpoint": "/v1/chat/completions", "completion_window": "1h"})).await;
    assert_openai_error(&r, 400, Some("completion_window"));
    let r = post(
        &app,
        "/v1/batches",
        &json!({"endpoint": "/v1/chat/completions", "completion_window": "24h"}),
    )
    .await;
    assert_openai_error(&r, 400, Some("input_file_id"));
    assert_openai_error(
        &upload(&app, "homework", "a.txt", "x").await,
        400,
        Some("purpose"),
    );

    // Malformed lines fail the batch at validation.
    let file = upload(&app, "batch", "bad.jsonl", "{not json}\n")
        .await
        .json();
    let batch = post(&app, "/v1/batches", &json!({"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})).await.json();
    let failed = get(
        &app,
        &format!("/v1/batches/{}", batch["id"].as_str().unwrap()),
    )
    .await
    .json();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["errors"]["data"][0]["code"], "invalid_json_line");
    assert_eq!(failed["errors"]["data"][0]["line"], 1);
}

#[tokio::test]
async fn embeddings_batches_run_and_batches_cancel_list_and_delete() {
    let app = app(Profile::OpenAi);
    let line = json!({"custom_id": "e1", "method": "POST", "url": "/v1/embeddings",
        "body": {"model": "ref-embed", "input": "hello"}})
    .to_string();
    let id = upload(&app, "batch", "emb.jsonl", &line).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |endpoint: &'static str| json!({"input_file_id": id, "endpoint": endpoint, "completion_window": "24h"});
    let batch = post(&app, "/v1/batches", &create("/v1/embeddings"))
        .await
        .json();
    let path = format!("/v1/batches/{}", batch["id"].as_str().unwrap());
    get(&app, &path).await;
    let done = get(&app, &path).await.json();
    assert_eq!(done["status"], "completed", "{done}");
    let out = get(
        &app,
        &format!(
            "/v1/files/{}/content",
            done["output_file_id"].as_str().unwrap()
        ),
    )
    .await;
    let line: Value = serde_json::from_str(out.text().lines().next().unwrap()).unwrap();
    assert_eq!(line["response"]["body"]["object"], "list");
    assert_eq!(line["response"]["body"]["data"][0]["object"], "embedding");

    // Cancel: cancelling at once, cancelled when retrieved; a finished batch cannot be cancelled.
    let other = post(&app, "/v1/batches", &create("/v1/embeddings"))
        .await
        .json();
    let other_path = format!("/v1/batches/{}", other["id"].as_str().unwrap());
    let c = post(&app, &format!("{other_path}/cancel"), &json!({}))
        .await
        .json();
    assert_eq!(c["status"], "cancelling");
    assert_eq!(get(&app, &other_path).await.json()["status"], "cancelled");
    assert_eq!(
        post(&app, &format!("{path}/cancel"), &json!({}))
            .await
            .status,
        400
    );

    // Lists are newest first, with OpenAI's pagination fields.
    let list = get(&app, "/v1/batches?limit=1").await.json();
    assert_eq!(list["data"][0]["id"], other["id"]);
    assert_eq!(list["has_more"], true);
    let files = get(&app, "/v1/files").await.json();
    assert_eq!(files["object"], "list");
    assert_eq!(files["first_id"], files["data"][0]["id"]);

    // Delete: deleted, then gone.
    let d = send(
        &app,
        "DELETE",
        &format!("/v1/files/{id}"),
        Body::empty(),
        &[],
    )
    .await
    .json();
    assert_eq!(d, json!({"id": id, "object": "file", "deleted": true}));
    assert_openai_error(
        &get(&app, &format!("/v1/files/{id}")).await,
        404,
        Some("id"),
    );
}
