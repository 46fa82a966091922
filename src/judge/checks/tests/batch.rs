//! `batch.*`.

use serde_json::json;

use super::kit::{Row, json, table};

fn batch(status: &str) -> serde_json::Value {
    json!({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file_1", "completion_window": "24h", "status": status, "created_at": 1_700_000_000, "request_counts": {"total": 2, "completed": 1, "failed": 1}})
}

#[test]
fn batches() {
    let create = json!({"input_file_id": "file_1", "endpoint": "/v1/chat/completions", "completion_window": "24h"});
    let both = &["batch.object", "batch.status"];
    let rows = vec![
        Row::new("file: a batch input file", &["batch.input_file"], json!(null), json(200, json!({"id": "file_1", "object": "file", "purpose": "batch", "bytes": 120, "filename": "in.jsonl", "created_at": 1_700_000_000}))).path("/files"),
        Row::new("file: wrong purpose, no bytes, created in ms", &["batch.input_file"], json!(null), json(200, json!({"id": "", "object": "file", "purpose": "fine-tune", "bytes": 0, "filename": "", "created_at": 1_700_000_000_000i64}))).path("/files"),
        Row::new("create: echoes the request", both, create.clone(), json(200, batch("validating"))).path("/batches"),
        Row::new("create: another window, foreign status", both, create, json(200, { let mut b = batch("queued"); b["completion_window"] = json!("1h"); b })).path("/batches"),
        Row::new("completed without an output file", both, json!(null), json(200, batch("completed"))).path("/batches/{{capture.id}}"),
        Row::new("failed without errors; US spelling of cancelled", both, json!(null), json(200, batch("canceled"))).path("/batches/{{capture.id}}"),
        Row::new("upper-case status, counts not adding up", both, json!(null), json(200, { let mut b = batch("IN_PROGRESS"); b["request_counts"] = json!({"total": 1, "completed": 1, "failed": 1}); b })).path("/batches/{{capture.id}}"),
    ];
    insta::assert_snapshot!(table(&rows));
}
