//! Floods and giants: event streams made of floods of tiny lines (comments, unknown fields,
//! tiny data events, small valid chunks), a huge single `data:` line, JSON bodies whose
//! `serde_json::Value` would dwarf their text, and a stream that holds its connection open
//! after `[DONE]`. Each is served by a raw tokio server on 127.0.0.1; each must end as a clear
//! outcome with a report (and a recording) that says what was cut. Peak memory for the same
//! inputs is measured by `scripts/bench.sh --memory` (docs/reliability.md), never by a test.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::support::*;

/// What the server does after the body.
#[derive(Clone, Copy)]
enum After {
    Close,
    /// Keep the connection open, silent.
    Hold,
    /// Keep it open, sending a comment line every 100 ms.
    Trickle,
}

/// Serves `body` with `content_type` to every request; the body ends when the connection
/// closes (no Content-Length), so `After` decides when the client sees its end.
async fn serve(body: Vec<u8>, content_type: &'static str, after: After) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = std::sync::Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                if read_request(&mut sock).await.is_none() {
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n"
                );
                if sock.write_all(head.as_bytes()).await.is_err()
                    || sock.write_all(&body).await.is_err()
                {
                    return;
                }
                let _ = sock.flush().await;
                match after {
                    After::Close => {}
                    After::Hold => tokio::time::sleep(Duration::from_secs(600)).await,
                    After::Trickle => loop {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if sock.write_all(b": ping\n").await.is_err() {
                            break;
                        }
                    },
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

fn chunk(delta: Value, finish: Value) -> String {
    let c = json!({
        "id": "chatcmpl-flood", "object": "chat.completion.chunk", "created": 1_735_689_600,
        "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    });
    format!("data: {c}\n\n")
}

/// A valid stream with `middle` between its role chunk and its content.
fn stream_around(middle: &str) -> Vec<u8> {
    [
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        middle.to_string(),
        chunk(json!({"content": "Hello."}), Value::Null),
        chunk(json!({}), json!("stop")),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat()
    .into_bytes()
}

const STREAM_SUITE: &str = r#"suite: floods
description: Hostile streams.
cases:
  - id: stream
    feature: streaming.basic
    request:
      path: /chat/completions
      body: { model: m, stream: true, messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      checks: [streaming.error_event, streaming.content_type, streaming.done, streaming.framing, streaming.chunks, streaming.identity, streaming.role, streaming.finish, streaming.reassembled]
  - id: content-type-only
    feature: streaming.content_type
    request:
      path: /chat/completions
      body: { model: m, stream: true, messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      checks: [streaming.content_type]
"#;

async fn run_streams(base_url: &str, extra: &[&str]) -> RunOutput {
    let (_dir, suite) = temp_suite(STREAM_SUITE);
    let suite = suite.to_str().unwrap().to_string();
    let mut args = vec!["run", "--suite", &suite, "--base-url", base_url];
    args.extend_from_slice(extra);
    run_cli(&args, &[]).await
}

/// 0.9 MiB of flood, under `--max-body 1 MiB`.
const FLOOD: usize = 900 * 1024;

#[tokio::test]
async fn a_flood_of_comment_lines_is_counted_not_kept() {
    let body = stream_around(&":\n".repeat(FLOOD / 2));
    let url = serve(body, "text/event-stream", After::Close).await;
    let out = run_streams(&url, &["--max-body", "1048576"]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "pass", "{reason}\n{}", out.stderr);
    let report = out.report();
    validate_report(&report);
    assert!(exchange(&report, "stream").get("stream_cut").is_none());
}

#[tokio::test]
async fn a_flood_of_unknown_fields_is_one_counted_warning() {
    let body = stream_around(&"x: y\n".repeat(FLOOD / 5));
    let url = serve(body, "text/event-stream", After::Close).await;
    let out = run_streams(&url, &["--max-body", "1048576"]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "pass", "{reason}");
    let report = out.report();
    let said: Vec<&str> = report["results"][0]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let said = said.join("\n");
    assert!(
        said.contains(&format!(
            "{} framing problems in all ({} unknown field)",
            FLOOD / 5,
            FLOOD / 5
        )),
        "{said}"
    );
}

#[tokio::test]
async fn a_flood_of_tiny_data_events_is_cut_and_the_report_and_recording_say_so() {
    let body = stream_around(&"data:x\n\n".repeat(FLOOD / 8));
    let size = body.len();
    let url = serve(body, "text/event-stream", After::Close).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let rec_s = rec.to_str().unwrap();
    let out = run_streams(&url, &["--max-body", "1048576", "--record", rec_s]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "error", "{reason}");
    assert!(
        reason.contains("the stream is too large to judge") && reason.contains("3 × --max-body"),
        "{reason}"
    );
    let report = out.report();
    validate_report(&report);
    let cut = &exchange(&report, "stream")["stream_cut"];
    let (kept, dropped) = (
        cut["events_kept"].as_u64().unwrap(),
        cut["events_dropped"].as_u64().unwrap(),
    );
    assert!(kept > 1000 && dropped > 1000, "{cut}");
    assert_eq!(kept + dropped, (FLOOD / 8 + 4) as u64, "{cut}");
    assert_eq!(cut["limit_bytes"], 3 * 1048576);

    // The recording keeps the whole body (compactly) and says what the live run cut.
    let files = walk(&rec);
    assert_eq!(files.len(), 1, "{files:?}");
    let written = std::fs::metadata(&files[0]).unwrap().len() as usize;
    assert!(
        written < 3 * size,
        "{written} bytes recorded for a {size}-byte stream"
    );
    let recording: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(recording["response"]["stream_cut"], *cut);
    // Replay cuts the same stream the same way.
    let replayed = run_streams(
        "http://127.0.0.1:9/v1",
        &["--max-body", "1048576", "--replay", rec_s],
    )
    .await;
    assert_eq!(
        replayed.outcome("adhoc", "floods/stream"),
        (outcome, reason)
    );
}

#[tokio::test]
async fn many_small_valid_chunks_are_kept_and_judged() {
    let piece = chunk(json!({"content": "a"}), Value::Null);
    let body = stream_around(&piece.repeat(FLOOD / piece.len()));
    let url = serve(body, "text/event-stream", After::Close).await;
    let out = run_streams(&url, &["--max-body", "1048576"]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "pass", "{reason}");
    let report = out.report();
    let t = &report["results"][0]["timings"];
    assert!(t["chunk_count"].as_u64().unwrap() > 5000, "{t}");
}

#[tokio::test]
async fn a_huge_single_data_line_is_one_event() {
    let content = "x".repeat(3 << 20);
    let body = stream_around(&chunk(json!({"content": content}), Value::Null));
    let url = serve(body, "text/event-stream", After::Close).await;
    let out = run_streams(&url, &["--max-body", "4194304"]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "pass", "{reason}");
    // The report keeps 16 KiB of it, not megabytes.
    let report_len = std::fs::metadata(out.report_dir.join("report.json"))
        .unwrap()
        .len();
    assert!(report_len < 200_000, "{report_len}");
}

#[tokio::test]
async fn done_then_a_held_connection_is_judged_and_says_done_had_arrived() {
    let body = stream_around("");
    let url = serve(body.clone(), "text/event-stream", After::Hold).await;
    let out = run_streams(&url, &["--idle-timeout", "1"]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "fail", "{reason}");
    assert!(
        reason.contains("data: [DONE] arrived at event #4, but the connection stayed open after it (silent, until the idle timeout ended it)"),
        "{reason}"
    );
    // A case that does not check [DONE] still says it: the held connection is a finding.
    let (outcome, reason) = out.outcome("adhoc", "floods/content-type-only");
    assert_eq!(outcome, "fail", "{reason}");
    assert!(
        reason.starts_with("stream: data: [DONE] arrived"),
        "{reason}"
    );
    assert!(!reason.contains("stalled"), "{reason}");

    // Comments after [DONE] until the exchange deadline.
    let url = serve(body, "text/event-stream", After::Trickle).await;
    let out = run_streams(&url, &["--timeout", "2"]).await;
    let (outcome, reason) = out.outcome("adhoc", "floods/stream");
    assert_eq!(outcome, "fail", "{reason}");
    assert!(
        reason.contains("it kept sending until the exchange deadline ended it"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_held_connection_replays_as_recorded() {
    let url = serve(stream_around(""), "text/event-stream", After::Hold).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let rec_s = rec.to_str().unwrap();
    let live = run_streams(&url, &["--idle-timeout", "1", "--record", rec_s]).await;
    let replayed = run_streams(
        "http://127.0.0.1:9/v1",
        &["--idle-timeout", "1", "--replay", rec_s],
    )
    .await;
    for case in ["floods/stream", "floods/content-type-only"] {
        let (o, r) = live.outcome("adhoc", case);
        assert_eq!(o, "fail", "{r}");
        assert_eq!(replayed.outcome("adhoc", case), (o, r));
    }
}

const JSON_SUITE: &str = r#"suite: giants
description: Large JSON bodies.
cases:
  - id: json
    feature: chat.basic
    request:
      path: /chat/completions
      body: { model: m, messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      schema: chat.completion
      checks: [chat.response]
"#;

async fn run_json(body: Vec<u8>, extra: &[&str]) -> RunOutput {
    let url = serve(body, "application/json", After::Close).await;
    let (_dir, suite) = temp_suite(JSON_SUITE);
    let suite = suite.to_str().unwrap().to_string();
    let mut args = vec!["run", "--suite", &suite, "--base-url", &url];
    args.extend_from_slice(extra);
    run_cli(&args, &[]).await
}

#[tokio::test]
async fn a_body_whose_value_would_dwarf_it_is_kept_as_text() {
    // 0.9 MiB of empty objects: as a `Value`, ~600 bytes each — hundreds of megabytes.
    let mut body = b"[".to_vec();
    body.extend("{},".repeat(FLOOD / 3).as_bytes());
    body.extend(b"{}]");
    let out = run_json(body, &["--max-body", "1048576"]).await;
    let (outcome, reason) = out.outcome("adhoc", "giants/json");
    assert_eq!(outcome, "fail", "{reason}");
    assert!(
        reason.contains("body is not JSON (not parsed: as a JSON value this")
            && reason.contains("more than the 4 MiB (4 × --max-body) one exchange may use"),
        "{reason}"
    );
    validate_report(&out.report());
}

#[tokio::test]
async fn a_completion_with_ten_thousand_choices_and_a_long_string_is_judged() {
    let choices: Vec<Value> = (0..10_000)
        .map(|i| json!({"index": i, "message": {"role": "assistant", "content": "x"}, "logprobs": null, "finish_reason": "stop"}))
        .collect();
    let body = json!({"id": "c", "object": "chat.completion", "created": 1_735_689_600, "model": "m",
        "choices": choices, "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}});
    let out = run_json(body.to_string().into_bytes(), &[]).await;
    let (outcome, reason) = out.outcome("adhoc", "giants/json");
    assert_eq!(outcome, "pass", "{reason}");

    let body = json!({"id": "c", "object": "chat.completion", "created": 1_735_689_600, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x".repeat(3 << 20)}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}});
    let out = run_json(body.to_string().into_bytes(), &["--max-body", "4194304"]).await;
    let (outcome, reason) = out.outcome("adhoc", "giants/json");
    assert_eq!(outcome, "pass", "{reason}");
    let report_len = std::fs::metadata(out.report_dir.join("report.json"))
        .unwrap()
        .len();
    assert!(report_len < 200_000, "{report_len}");
}
