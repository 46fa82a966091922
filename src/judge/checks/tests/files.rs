//! `files.*`.

use serde_json::json;

use super::kit::{Row, json, table};

fn file(bytes: u64, purpose: &str) -> serde_json::Value {
    json!({"id": "file_1", "object": "file", "bytes": bytes, "created_at": 1_700_000_000, "filename": "in.jsonl", "purpose": purpose, "status": "processed"})
}

#[test]
fn files() {
    let sent = b"{\"custom_id\": \"a\"}\n";
    let upload = |what, body| {
        Row::new(what, &["files.object"], json!(null), json(200, body))
            .path("/files")
            .form(&[("purpose", "batch")], Some(("in.jsonl", sent)))
    };
    let rows = vec![
        upload("upload: what was sent", file(19, "batch")),
        upload("upload: another size and purpose, renamed", {
            let mut f = file(18, "user_data");
            f["filename"] = json!("upload.bin");
            f
        }),
        upload("upload: no id, created in ms, bytes as a string", {
            let mut f = file(19, "batch");
            f["id"] = json!("");
            f["created_at"] = json!(1_700_000_000_000i64);
            f["bytes"] = json!("19");
            f
        }),
        Row::new("retrieve: another file", &["files.object"], json!(null), json(200, file(19, "batch"))).path("/files/file_2"),
        Row::new("list: files", &["files.list"], json!(null), json(200, json!({"object": "list", "data": [file(1, "batch"), {"id": "file_2", "object": "file"}], "has_more": false}))).path("/files"),
        Row::new("list: the same file twice", &["files.list"], json!(null), json(200, json!({"object": "list", "data": [file(1, "batch"), file(1, "batch")]}))).path("/files"),
        Row::new("list: data not an array", &["files.list"], json!(null), json(200, json!({"object": "page", "data": {}}))).path("/files"),
        Row::new("delete: deleted", &["files.deleted"], json!(null), json(200, json!({"id": "file_1", "object": "file", "deleted": true}))).path("/files/file_1"),
        Row::new("delete: a string, another id", &["files.deleted"], json!(null), json(200, json!({"id": "file_9", "object": "file", "deleted": "true"}))).path("/files/file_1"),
    ];
    insta::assert_snapshot!(table(&rows));
}
