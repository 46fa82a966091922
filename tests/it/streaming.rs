//! `streaming.*` against scripted streams: each check passes on OpenAI's shape and fails, with a
//! reason naming the deviation, on the deviating one. wiremock serves whole streams; a raw
//! tokio TCP server splits them at awkward byte boundaries or stalls them. No assertion
//! depends on how long anything took.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const ID: &str = "chatcmpl-stream-1";

fn chunk(choices: Value) -> Value {
    json!({
        "id": ID,
        "object": "chat.completion.chunk",
        "created": 1_735_689_600,
        "model": "m",
        "system_fingerprint": "fp_1",
        "choices": choices
    })
}

fn choice(index: u64, delta: Value, finish: Value) -> Value {
    json!({"index": index, "delta": delta, "logprobs": null, "finish_reason": finish})
}

/// OpenAI's stream of one choice: a role opener with empty content, one delta per piece, then
/// an empty delta carrying the finish_reason (QUIRKS §0).
fn openai_chunks(pieces: &[&str]) -> Vec<Value> {
    let mut out = vec![chunk(json!([choice(
        0,
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null
    )]))];
    for p in pieces {
        out.push(chunk(json!([choice(
            0,
            json!({"content": p}),
            Value::Null
        )])));
    }
    out.push(chunk(json!([choice(0, json!({}), json!("stop"))])));
    out
}

/// The same with `stream_options.include_usage`: `usage: null` on every chunk, then the usage
/// chunk with `choices: []`.
fn openai_chunks_with_usage(pieces: &[&str]) -> Vec<Value> {
    let mut out = openai_chunks(pieces);
    for c in &mut out {
        c["usage"] = Value::Null;
    }
    let mut last = chunk(json!([]));
    last["usage"] = json!({"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11});
    out.push(last);
    out
}

fn frames(chunks: &[Value]) -> String {
    chunks.iter().map(|c| format!("data: {c}\n\n")).collect()
}

/// Chunks framed as SSE and terminated by `data: [DONE]`.
fn sse(chunks: &[Value]) -> String {
    format!("{}data: [DONE]\n\n", frames(chunks))
}

/// Serve `body` with `content_type` (none at all when `None`) for every chat call.
async fn server(body: String, content_type: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let template = match content_type {
        Some(ct) => ResponseTemplate::new(200).set_body_raw(body.into_bytes(), ct),
        None => ResponseTemplate::new(200).set_body_bytes(body.into_bytes()),
    };
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// `(outcome, reason)` of `streaming/<case>` against a server sending `body` as an event stream.
async fn stream_case(case: &str, body: String) -> (String, String) {
    stream_case_ct(case, body, Some("text/event-stream")).await
}

async fn stream_case_ct(case: &str, body: String, ct: Option<&str>) -> (String, String) {
    let server = server(body, ct).await;
    let full = format!("streaming/{case}");
    let out = run_case(&format!("{}/v1", server.uri()), &full, &["chat=m"]).await;
    out.outcome("adhoc", &full)
}

// --- the whole protocol ------------------------------------------------------------------------

#[tokio::test]
async fn basic_passes_on_openai_shaped_stream() {
    let body = sse(&openai_chunks(&["Hello", " there", "."]));
    assert_outcome(stream_case("basic", body).await, "pass", "");
}

#[tokio::test]
async fn suite_passes_against_the_reference_and_gemini_deviations_are_named() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "streaming",
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    let reference: Vec<&Value> = results
        .iter()
        .filter(|r| r["target"] == "reference")
        .collect();
    assert!(reference.len() >= 10, "{} results", reference.len());
    for r in reference {
        assert_eq!(r["outcome"], "pass", "{}: {}", r["case"], r["reason"]);
        // Every stream case records its timings, time to first token included.
        let t = &r["timings"];
        for k in [
            "headers_ms",
            "ttft_ms",
            "total_ms",
            "gap_max_ms",
            "gap_p50_ms",
        ] {
            assert!(t[k].is_number(), "{} lacks timings.{k}: {t}", r["case"]);
        }
        assert!(t["chunk_count"].as_u64().unwrap() > 2, "{t}");
    }
    let gemini = "reference:gemini-compat";
    for (case, outcome, reason) in [
        ("streaming/basic", "fail", "\"id\" is a required property"),
        ("streaming/identity", "fail", "`id` missing"),
        ("streaming/role", "fail", "`role` repeated"),
        ("streaming/include-usage", "fail", "no chunk carries usage"),
        ("streaming/n-two", "unsupported", "Multiple candidates"),
        // S7 (finish_reason on the last content chunk) is legal; so is everything Gemini sends
        // for these.
        ("streaming/finish", "pass", ""),
        ("streaming/done", "pass", ""),
        ("streaming/no-usage", "pass", ""),
        ("streaming/content-type", "pass", ""),
    ] {
        assert_outcome(out.outcome(gemini, case), outcome, reason);
    }
}

// --- streaming.content_type ----------------------------------------------------------------------

#[tokio::test]
async fn content_type_must_be_event_stream() {
    let body = sse(&openai_chunks(&["Red"]));
    assert_outcome(
        stream_case_ct(
            "content-type",
            body.clone(),
            Some("text/event-stream; charset=utf-8"),
        )
        .await,
        "pass",
        "",
    );
    // S9: no content type at all (the executor still parses the SSE body).
    assert_outcome(
        stream_case_ct("content-type", body.clone(), None).await,
        "fail",
        "Content-Type is missing, expected text/event-stream",
    );
    assert_outcome(
        stream_case_ct("content-type", body, Some("text/plain")).await,
        "fail",
        "Content-Type is text/plain",
    );
}

#[tokio::test]
async fn stream_flag_ignored_is_named() {
    let body = chat_completion("Red").to_string();
    assert_outcome(
        stream_case_ct("content-type", body, Some("application/json")).await,
        "fail",
        "`stream: true` was ignored",
    );
}

// --- streaming.framing and SSE robustness (S8) ---------------------------------------------------

/// A raw HTTP/1.1 server that answers every connection with `head` and then writes `pieces`
/// one by one (flushed, with a pause so they tend to arrive as separate reads), then either
/// closes or, with `stall`, keeps the connection open and silent.
async fn raw_server(head: &'static str, pieces: Vec<Vec<u8>>, stall: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let pieces = pieces.clone();
            tokio::spawn(async move {
                let _ = sock.set_nodelay(true);
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(head.as_bytes()).await;
                for p in pieces {
                    let _ = sock.write_all(&p).await;
                    let _ = sock.flush().await;
                    tokio::time::sleep(Duration::from_millis(15)).await;
                }
                if stall {
                    tokio::time::sleep(Duration::from_secs(120)).await;
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

/// Split `bytes` at the given offsets.
fn split_at(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cuts.iter().filter(|&&c| c > 0 && c < bytes.len()) {
        out.push(bytes[prev..c].to_vec());
        prev = c;
    }
    out.push(bytes[prev..].to_vec());
    out
}

#[tokio::test]
async fn comments_crlf_multiline_data_and_awkward_splits_are_legal() {
    let chunks = openai_chunks(&["Grüß", " dich", " 🌍"]);
    // OpenRouter-style comments and keep-alives, CRLF line ends, a chunk spread over several
    // `data:` lines (joined with "\n", which is JSON whitespace), and an `id:` field.
    let mut text = String::from(": OPENROUTER PROCESSING\r\n\r\n");
    for (k, c) in chunks.iter().enumerate() {
        if k == 1 {
            let s = c.to_string();
            let (a, b) = s.split_at(s.find("\"choices\"").unwrap());
            text.push_str(&format!("id: {k}\r\ndata: {a}\r\ndata: {b}\r\n\r\n"));
        } else {
            text.push_str(&format!("data: {c}\r\n\r\n"));
        }
        text.push_str(": ping - 2025-01-01 00:00:00.000000+00:00\r\n");
    }
    text.push_str(": keepalive\r\n\r\ndata: [DONE]\r\n\r\n");
    let bytes = text.into_bytes();
    // Cut inside a CRLF, inside "data:", inside a multi-byte character, and one byte at a time
    // around the terminator.
    let crlf = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 1;
    let field = bytes.windows(5).position(|w| w == b"data:").unwrap() + 2;
    let umlaut = bytes.windows(2).position(|w| w == "ü".as_bytes()).unwrap() + 1;
    let emoji = bytes.windows(4).position(|w| w == "🌍".as_bytes()).unwrap() + 2;
    let end = bytes.len();
    let cuts = [
        crlf,
        field,
        umlaut,
        emoji,
        end - 9,
        end - 8,
        end - 2,
        end - 1,
    ];
    let mut cuts: Vec<usize> = cuts.to_vec();
    cuts.sort();
    cuts.dedup();
    let url = raw_server(SSE_HEAD, split_at(&bytes, &cuts), false).await;
    let out = run_case(&url, "streaming/basic", &["chat=m"]).await;
    assert_outcome(out.outcome("adhoc", "streaming/basic"), "pass", "");
    let out = run_case(&url, "streaming/done", &["chat=m"]).await;
    assert_outcome(out.outcome("adhoc", "streaming/done"), "pass", "");
}

#[tokio::test]
async fn unterminated_final_event_fails_framing() {
    // `data: [DONE]` without the blank line that dispatches it.
    let body = format!("{}data: [DONE]", frames(&openai_chunks(&["Mars"])));
    assert_outcome(
        stream_case("done", body).await,
        "fail",
        "streaming.framing: stream ended before the blank line that dispatches the event",
    );
}

#[tokio::test]
async fn unknown_field_is_a_warning_not_a_failure() {
    let chunks = openai_chunks(&["Mars"]);
    let body = format!("dta: lost\n\n{}", sse(&chunks));
    let server = server(body, Some("text/event-stream")).await;
    let out = run_case(
        &format!("{}/v1", server.uri()),
        "streaming/done",
        &["chat=m"],
    )
    .await;
    assert_outcome(out.outcome("adhoc", "streaming/done"), "pass", "");
    let report = out.report();
    let warnings = report["results"][0]["warnings"].to_string();
    assert!(warnings.contains("unknown field \\\"dta\\\""), "{warnings}");
}

#[tokio::test]
async fn stalled_stream_is_an_error_outcome_not_a_hang() {
    let first = frames(&openai_chunks(&["Hel"])[..2]).into_bytes();
    let url = raw_server(SSE_HEAD, vec![first], true).await;
    let mut args = case_args("streaming", "streaming/basic", &url, &["chat=m"]);
    args.extend(["--idle-timeout", "1"]);
    let out = run_cli(&args, &[]).await;
    let (outcome, reason) = out.outcome("adhoc", "streaming/basic");
    assert_eq!(outcome, "error", "{reason}");
    assert!(reason.contains("stream stalled after 2 events"), "{reason}");
}

// --- streaming.chunks ------------------------------------------------------------------------------

#[tokio::test]
async fn chunks_must_be_json_and_valid() {
    let mut chunks = openai_chunks(&["Hi"]);
    let broken = frames(&chunks[..1]) + "data: {\"id\": \"x\",\n\n" + &sse(&chunks[1..]);
    assert_outcome(
        stream_case("basic", broken).await,
        "fail",
        "streaming.chunks: event #2 is not JSON",
    );
    // Gemini-native spelling of the finish reason.
    chunks[2]["choices"][0]["finish_reason"] = json!("STOP");
    assert_outcome(
        stream_case("basic", sse(&chunks)).await,
        "fail",
        "event #3 does not match chat.completion.chunk",
    );
}

#[tokio::test]
async fn empty_choices_chunk_other_than_usage_fails() {
    // S6: Azure's prompt-filter chunk shape, here with valid identity fields so that only the
    // empty `choices` is wrong.
    let mut chunks = openai_chunks(&["Hi"]);
    let mut filter = chunk(json!([]));
    filter["prompt_filter_results"] = json!([{"prompt_index": 0}]);
    chunks.insert(0, filter);
    assert_outcome(
        stream_case("basic", sse(&chunks)).await,
        "fail",
        "event #1 has `choices: []` but is not the usage chunk (S6",
    );
}

// --- streaming.identity ----------------------------------------------------------------------------

#[tokio::test]
async fn identity_deviations_are_named() {
    assert_outcome(
        stream_case("identity", sse(&openai_chunks(&["Apple"]))).await,
        "pass",
        "",
    );
    // S4 (Gemini sample): no id at all.
    let mut chunks = openai_chunks(&["Apple"]);
    for c in &mut chunks {
        c.as_object_mut().unwrap().remove("id");
    }
    assert_outcome(
        stream_case("identity", sse(&chunks)).await,
        "fail",
        "`id` missing (or not a string) on 3 of 3 chunks",
    );
    // A different id per chunk.
    let mut chunks = openai_chunks(&["Apple"]);
    for (k, c) in chunks.iter_mut().enumerate() {
        c["id"] = json!(format!("chatcmpl-{k}"));
    }
    assert_outcome(
        stream_case("identity", sse(&chunks)).await,
        "fail",
        "3 different ids in one stream",
    );
    // `id: ""`.
    let mut chunks = openai_chunks(&["Apple"]);
    chunks[1]["id"] = json!("");
    assert_outcome(
        stream_case("identity", sse(&chunks)).await,
        "fail",
        "`id` is an empty string on 1 chunk(s)",
    );
    // `created` that changes, or is a placeholder.
    let mut chunks = openai_chunks(&["Apple"]);
    chunks[2]["created"] = json!(1_735_689_601);
    assert_outcome(
        stream_case("identity", sse(&chunks)).await,
        "fail",
        "`created` changes within one stream",
    );
    let mut chunks = openai_chunks(&["Apple"]);
    for c in &mut chunks {
        c["created"] = json!(0);
    }
    assert_outcome(
        stream_case("identity", sse(&chunks)).await,
        "fail",
        "`created` is 0",
    );
}

// --- streaming.role --------------------------------------------------------------------------------

#[tokio::test]
async fn role_deviations_are_named() {
    assert_outcome(
        stream_case("role", sse(&openai_chunks(&["Cat"]))).await,
        "pass",
        "",
    );
    // S3: a gateway swallowed the role-only opener.
    let chunks = openai_chunks(&["Cat"]);
    assert_outcome(
        stream_case("role", sse(&chunks[1..])).await,
        "fail",
        "choice 0: the first delta has no `role` (S3",
    );
    let mut chunks = openai_chunks(&["Cat"]);
    chunks[0]["choices"][0]["delta"]["role"] = json!("");
    assert_outcome(
        stream_case("role", sse(&chunks)).await,
        "fail",
        "`role: \"\"` (S3)",
    );
    // S4 (Gemini sample): `role` on every delta.
    let mut chunks = openai_chunks(&["Cat", "s"]);
    for c in &mut chunks {
        c["choices"][0]["delta"]["role"] = json!("assistant");
    }
    assert_outcome(
        stream_case("role", sse(&chunks)).await,
        "fail",
        "`role` repeated on 3 later delta(s)",
    );
}

// --- streaming.finish ------------------------------------------------------------------------------

#[tokio::test]
async fn finish_deviations_are_named() {
    assert_outcome(
        stream_case("finish", sse(&openai_chunks(&["Rome"]))).await,
        "pass",
        "",
    );
    // S7: finish_reason on the last content chunk, without an empty terminal chunk, is legal.
    let mut chunks = openai_chunks(&["Rome"]);
    chunks.pop();
    chunks[1]["choices"][0]["finish_reason"] = json!("stop");
    assert_outcome(stream_case("finish", sse(&chunks)).await, "pass", "");
    // S7: no finish_reason at all.
    let mut chunks = openai_chunks(&["Rome"]);
    chunks.pop();
    assert_outcome(
        stream_case("finish", sse(&chunks)).await,
        "fail",
        "choice 0 never gets a finish_reason",
    );
    // S7 (Gemini native): a finish_reason on every chunk.
    let mut chunks = openai_chunks(&["Ro", "me"]);
    for c in &mut chunks {
        c["choices"][0]["finish_reason"] = json!("stop");
    }
    assert_outcome(
        stream_case("finish", sse(&chunks)).await,
        "fail",
        "choice 0 has a non-null finish_reason on 4 chunks",
    );
    // Content after the finish.
    let mut chunks = openai_chunks(&["Rome"]);
    chunks.push(chunk(json!([choice(
        0,
        json!({"content": "!"}),
        Value::Null
    )])));
    assert_outcome(
        stream_case("finish", sse(&chunks)).await,
        "fail",
        "choice 0 goes on at event #4 after its finish_reason at event #3",
    );
}

// --- streaming.done --------------------------------------------------------------------------------

#[tokio::test]
async fn done_deviations_are_named() {
    let chunks = openai_chunks(&["Mars"]);
    assert_outcome(stream_case("done", sse(&chunks)).await, "pass", "");
    assert_outcome(
        stream_case("done", frames(&chunks)).await,
        "fail",
        "stream ended without data: [DONE] after 3 event(s)",
    );
    assert_outcome(
        stream_case("done", format!("{}data: [DONE]\n\n", sse(&chunks))).await,
        "fail",
        "data: [DONE] sent 2 times",
    );
    let late = format!("{}{}", sse(&chunks[..2]), frames(&chunks[2..]));
    assert_outcome(
        stream_case("done", late).await,
        "fail",
        "1 event(s) after data: [DONE] at event #3",
    );
}

// --- streaming.usage -------------------------------------------------------------------------------

#[tokio::test]
async fn include_usage_passes_on_openai_shape_and_tgi_omission() {
    let chunks = openai_chunks_with_usage(&["one", " two"]);
    assert_outcome(stream_case("include-usage", sse(&chunks)).await, "pass", "");
    // TGI omits `usage: null` on the other chunks: absent is as good as null.
    let mut chunks = openai_chunks_with_usage(&["one"]);
    let n = chunks.len();
    for c in &mut chunks[..n - 1] {
        c.as_object_mut().unwrap().remove("usage");
    }
    assert_outcome(stream_case("include-usage", sse(&chunks)).await, "pass", "");
}

#[tokio::test]
async fn include_usage_deviations_are_named() {
    // S5: ignored.
    assert_outcome(
        stream_case("include-usage", sse(&openai_chunks(&["one"]))).await,
        "fail",
        "no chunk carries usage (silently ignored; S5)",
    );
    // S5: usage attached to the last (finish) chunk.
    let mut chunks = openai_chunks_with_usage(&["one"]);
    let usage = chunks.pop().unwrap()["usage"].clone();
    let n = chunks.len();
    chunks[n - 1]["usage"] = usage;
    assert_outcome(
        stream_case("include-usage", sse(&chunks)).await,
        "fail",
        "attached to a content or finish chunk",
    );
    // LiteLLM: the usage chunk carries an empty-delta choice.
    let mut chunks = openai_chunks_with_usage(&["one"]);
    let n = chunks.len();
    chunks[n - 1]["choices"] = json!([{"index": 0, "delta": {}}]);
    assert_outcome(
        stream_case("include-usage", sse(&chunks)).await,
        "fail",
        "an empty-delta choice, as LiteLLM sends",
    );
    // The usage chunk before the finish chunk.
    let mut chunks = openai_chunks_with_usage(&["one"]);
    let last = chunks.pop().unwrap();
    let n = chunks.len();
    chunks.insert(n - 1, last);
    assert_outcome(
        stream_case("include-usage", sse(&chunks)).await,
        "fail",
        "must be the last before [DONE]",
    );
    // Usage on every chunk.
    let mut chunks = openai_chunks_with_usage(&["one"]);
    let usage = chunks.last().unwrap()["usage"].clone();
    for c in &mut chunks {
        c["usage"] = usage.clone();
    }
    assert_outcome(
        stream_case("include-usage", sse(&chunks)).await,
        "fail",
        "usage on 4 chunks",
    );
    // Arithmetic.
    let mut chunks = openai_chunks_with_usage(&["one"]);
    let n = chunks.len();
    chunks[n - 1]["usage"]["total_tokens"] = json!(99);
    assert_outcome(
        stream_case("include-usage", sse(&chunks)).await,
        "fail",
        "total_tokens 99 ≠ prompt_tokens 9 + completion_tokens 2",
    );
}

#[tokio::test]
async fn usage_without_include_usage_fails() {
    assert_outcome(
        stream_case("no-usage", sse(&openai_chunks(&["one"]))).await,
        "pass",
        "",
    );
    assert_outcome(
        stream_case("no-usage", sse(&openai_chunks_with_usage(&["one"]))).await,
        "fail",
        "although stream_options.include_usage was not requested",
    );
}

// --- streaming.n -----------------------------------------------------------------------------------

/// Two interleaved choices, as OpenAI streams `n: 2`.
fn two_choices() -> Vec<Value> {
    let mut out = Vec::new();
    for idx in 0..2 {
        out.push(chunk(json!([choice(
            idx,
            json!({"role": "assistant", "content": ""}),
            Value::Null
        )])));
    }
    for idx in 0..2 {
        out.push(chunk(json!([choice(
            idx,
            json!({"content": "Tom"}),
            Value::Null
        )])));
    }
    for idx in 0..2 {
        out.push(chunk(json!([choice(idx, json!({}), json!("stop"))])));
    }
    out
}

#[tokio::test]
async fn n_two_streams_both_choices() {
    assert_outcome(stream_case("n-two", sse(&two_choices())).await, "pass", "");
    // Q2: n silently ignored.
    assert_outcome(
        stream_case("n-two", sse(&openai_chunks(&["Tom"]))).await,
        "fail",
        "choices streamed with indices [0], expected 0..2 (n: 2 ignored; Q2)",
    );
    // Choice 1 never completes.
    let mut chunks = two_choices();
    chunks.pop();
    assert_outcome(
        stream_case("n-two", sse(&chunks)).await,
        "fail",
        "streaming.n: choice 1 never finishes",
    );
}

// --- streaming.error_event -------------------------------------------------------------------------

#[tokio::test]
async fn error_inside_a_200_stream_fails() {
    // E8 (vLLM/sglang shape): an error event followed by [DONE].
    let chunks = openai_chunks(&["Hi"]);
    let err = json!({"error": {"object": "error", "message": "model is not multimodal", "type": "BadRequestError", "code": 400}});
    let body = sse(&[chunks[0].clone(), err]);
    assert_outcome(
        stream_case("basic", body).await,
        "fail",
        "streaming.error_event: an error inside an HTTP 200 stream at event #2: \"model is not multimodal\"",
    );
    // `event: error`.
    let body = format!("{}event: error\ndata: upstream reset\n\n", frames(&chunks));
    assert_outcome(
        stream_case("done", body).await,
        "fail",
        "at event #4: \"upstream reset\"",
    );
}

// --- streaming.reassembled -------------------------------------------------------------------------

#[tokio::test]
async fn reassembly_validates_like_a_non_streamed_response() {
    assert_outcome(
        stream_case("reassembled", sse(&openai_chunks(&["The", " sea", "."]))).await,
        "pass",
        "",
    );
    // A content fragment that is not a string cannot be concatenated.
    let mut chunks = openai_chunks(&["The", " sea"]);
    chunks[2]["choices"][0]["delta"]["content"] = json!(7);
    assert_outcome(
        stream_case("reassembled", sse(&chunks)).await,
        "fail",
        "a `content` fragment is an integer, not a string",
    );
    // Without a finish_reason the message does not validate as a completed one.
    let mut chunks = openai_chunks(&["The", " sea"]);
    chunks.pop();
    assert_outcome(
        stream_case("reassembled", sse(&chunks)).await,
        "fail",
        "the reassembled completion does not match chat.completion",
    );
    // Only a role opener and a finish: no content at all.
    let chunks = [
        chunk(json!([choice(
            0,
            json!({"role": "assistant"}),
            Value::Null
        )])),
        chunk(json!([choice(0, json!({}), json!("stop"))])),
    ];
    assert_outcome(
        stream_case("reassembled", sse(&chunks)).await,
        "fail",
        "reassembles to null content without tool calls",
    );
}
