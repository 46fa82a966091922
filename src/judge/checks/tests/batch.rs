//! `batch.*`.

use serde_json::json;

use super::kit::{Row, completion, json, said, table, text};

fn batch(status: &str) -> serde_json::Value {
    json!({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file_1", "completion_window": "24h", "status": status, "created_at": 1_700_000_000, "request_counts": {"total": 2, "completed": 1, "failed": 1}})
}

#[test]
fn batches() {
    let create = json!({"input_file_id": "file_1", "endpoint": "/v1/chat/completions", "completion_window": "24h"});
    let both = &["batch.object", "batch.status"];
    let rows = vec![
        Row::new(
            "create: echoes the request",
            both,
            create.clone(),
            json(200, batch("validating")),
        )
        .path("/batches"),
        Row::new(
            "create: another window, foreign status",
            both,
            create,
            json(200, {
                let mut b = batch("queued");
                b["completion_window"] = json!("1h");
                b
            }),
        )
        .path("/batches"),
        Row::new(
            "completed without an output file",
            both,
            json!(null),
            json(200, batch("completed")),
        )
        .path("/batches/{{capture.id}}"),
        Row::new(
            "failed without errors; US spelling of cancelled",
            both,
            json!(null),
            json(200, batch("canceled")),
        )
        .path("/batches/{{capture.id}}"),
        Row::new(
            "upper-case status, counts not adding up",
            both,
            json!(null),
            json(200, {
                let mut b = batch("IN_PROGRESS");
                b["request_counts"] = json!({"total": 1, "completed": 1, "failed": 1});
                b
            }),
        )
        .path("/batches/{{capture.id}}"),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn batch_lists_and_outputs() {
    let line = |id: &str, status: serde_json::Value, body: serde_json::Value| {
        json!({"id": "batch_req_1", "custom_id": id, "response": {"status_code": status, "request_id": "r", "body": body}, "error": null}).to_string()
    };
    let chat = completion(said("Hello."));
    let emb = json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}], "model": "e", "usage": {"prompt_tokens": 1, "total_tokens": 1}});
    let error = json!({"error": {"message": "bad", "type": "invalid_request_error", "param": null, "code": null}});
    let out =
        |lines: Vec<String>| text(200, "application/octet-stream", &(lines.join("\n") + "\n"));
    let rows = vec![
        Row::new(
            "list: batches",
            &["batch.list"],
            json!(null),
            json(
                200,
                json!({"object": "list", "data": [batch("completed")], "has_more": false}),
            ),
        )
        .path("/batches"),
        Row::new(
            "list: a file among the batches",
            &["batch.list"],
            json!(null),
            json(
                200,
                json!({"object": "list", "data": [{"id": "file_1", "object": "file"}]}),
            ),
        )
        .path("/batches"),
        Row::new(
            "output: chat, embeddings and an error line",
            &["batch.output"],
            json!(null),
            out(vec![
                line("a", json!(200), chat.clone()),
                line("b", json!(200), emb),
                line("c", json!(400), error),
            ]),
        )
        .path("/files/{{capture.id}}/content"),
        Row::new(
            "output: a repeated id, a body of another shape, a string status",
            &["batch.output"],
            json!(null),
            out(vec![
                line("a", json!(200), chat.clone()),
                line("a", json!(200), json!({"object": "thing"})),
                line("b", json!("200"), chat),
            ]),
        )
        .path("/files/{{capture.id}}/content"),
        Row::new(
            "output: not JSON lines",
            &["batch.output"],
            json!(null),
            out(vec!["<html>".into()]),
        )
        .path("/files/{{capture.id}}/content"),
        Row::new(
            "output: empty",
            &["batch.output"],
            json!(null),
            text(200, "application/octet-stream", ""),
        )
        .path("/files/{{capture.id}}/content"),
    ];
    insta::assert_snapshot!(table(&rows));
}
