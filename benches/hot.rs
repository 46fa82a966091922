//! Benchmarks of the hot pure parts of a run: SSE parsing, the chat-stream model built from it,
//! JSON Schema validation of a response, shape canonicalisation and diff, and the report
//! (redaction and every renderer) for 10,000 results. `cargo bench --bench hot`; the end-to-end
//! scenarios are in `scripts/bench.sh`.
//! Results and the machine they were measured on: docs/performance.md.

use std::sync::Arc;
use std::time::Duration;

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use llm_parity::execute::sse::{SseItem, SseParser};
use llm_parity::execute::stream::{StreamBuilder, StreamLimits};
use llm_parity::load::SchemaStore;
use llm_parity::redact::{Redactor, SecretRegistry};
use llm_parity::report::RunReport;
use llm_parity::report::redact::Redact;
use llm_parity::util::json::{shape, shape_diff};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

/// A chat completion as the reference endpoint and most providers send it.
fn chat_completion() -> Value {
    json!({
        "id": "chatcmpl-0123456789abcdef",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "ref-chat",
        "system_fingerprint": "fp_ref",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 14, "completion_tokens": 9, "total_tokens": 23,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}
        }
    })
}

/// A stream of `n` content chunks (plus the role chunk, the finish chunk and `[DONE]`), in the
/// framing providers use: `data: {json}\n\n`.
fn chat_stream(n: usize) -> Vec<u8> {
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": "chatcmpl-0123456789abcdef", "object": "chat.completion.chunk",
            "created": 1_700_000_000, "model": "ref-chat",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        })
    };
    let mut out = String::new();
    let mut push = |v: Value| {
        out.push_str("data: ");
        out.push_str(&v.to_string());
        out.push_str("\n\n");
    };
    push(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    for i in 0..n {
        push(chunk(json!({"content": format!("word{i} ")}), Value::Null));
    }
    push(chunk(json!({}), json!("stop")));
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

const STREAM_CHUNKS: usize = 5_000;

/// Parsing a ~1 MB stream delivered in network-sized reads.
#[divan::bench(args = [1024, 16 * 1024])]
fn sse_parse(bencher: Bencher, read_size: usize) {
    let stream = chat_stream(STREAM_CHUNKS);
    bencher
        .counter(BytesCount::new(stream.len()))
        .counter(ItemsCount::new(STREAM_CHUNKS + 3))
        .bench(|| {
            let mut items: Vec<SseItem> = Vec::new();
            parse(&stream, read_size, &mut |item| items.push(item));
            black_box(items)
        });
}

/// Feed `stream` to a parser in reads of `read_size` bytes, as the executor does.
fn parse(stream: &[u8], read_size: usize, sink: &mut dyn FnMut(SseItem)) {
    let mut parser = SseParser::new();
    for (i, piece) in stream.chunks(read_size).enumerate() {
        parser.feed_with(piece, Duration::from_micros(i as u64), sink);
    }
    parser.finish_with(Duration::from_secs(1), sink);
}

/// Reading the same stream into the one chat-stream model as the executor does (parse every
/// chunk once, resolve choices and tool calls), then folding it into the reassembled message:
/// the work of a streamed step before and after its checks.
#[divan::bench]
fn chat_stream_build_and_fold(bencher: Bencher) {
    let stream = chat_stream(STREAM_CHUNKS);
    bencher
        .counter(BytesCount::new(stream.len()))
        .counter(ItemsCount::new(STREAM_CHUNKS + 3))
        .bench(|| {
            let mut model = StreamBuilder::new(StreamLimits::default());
            parse(&stream, 16 * 1024, &mut |item| model.push(item));
            let model = model.finish(None);
            black_box(model.reassembled())
        });
}

/// Validating one chat completion against the shipped `chat.completion` schema (compiled once).
#[divan::bench]
fn schema_validate_chat_completion(bencher: Bencher) {
    let store: Arc<SchemaStore> = SchemaStore::load(None).expect("shipped schemas compile");
    let body = chat_completion();
    bencher.bench(|| {
        let v = store
            .validate(black_box("chat.completion"), black_box(&body))
            .expect("schema exists");
        assert!(v.is_empty());
        v
    });
}

/// Compiling every shipped schema (start-up cost of `run` and `validate`).
#[divan::bench(sample_count = 20)]
fn schema_compile_all() -> Arc<SchemaStore> {
    SchemaStore::load(None).expect("shipped schemas compile")
}

#[divan::bench]
fn shape_canonicalise(bencher: Bencher) {
    let body = chat_completion();
    bencher.bench(|| shape(black_box(&body)));
}

/// The diff shown when two targets disagree: a response missing `usage` and with a number id.
#[divan::bench]
fn shape_diff_two_responses(bencher: Bencher) {
    let a = chat_completion();
    let mut b = chat_completion();
    b.as_object_mut().unwrap().remove("usage");
    b["id"] = json!(42);
    bencher.bench(|| shape_diff("reference", black_box(&a), "other", black_box(&b)));
}

const RESULTS: usize = 10_000;

/// A report of 10,000 chat results on two targets, each with its exchange (request and
/// response headers and bodies), one in fifty failing.
fn big_report() -> RunReport {
    let body = chat_completion();
    let mut results = Vec::with_capacity(RESULTS);
    for i in 0..RESULTS {
        let target = if i % 2 == 0 { "reference" } else { "other" };
        let fail = i % 50 == 0;
        results.push(json!({
            "target": target,
            "suite": "bench",
            "case": format!("c{:05}", i / 2),
            "feature": format!("chat.f{}", (i / 2) % 40),
            "outcome": if fail { "fail" } else { "pass" },
            "reason": if fail { json!("schema: /usage is required") } else { Value::Null },
            "duration_ms": 3,
            "http_status": 200,
            "timings": {"headers_ms": 1.2, "first_byte_ms": 1.3, "ttft_ms": null, "total_ms": 1.4,
                        "chunk_count": 0, "gap_max_ms": null, "gap_p50_ms": null},
            "checks": if fail { json!([{"check": "schema", "status": "fail",
                "message": "`usage` is a required property", "at": "/usage"}]) } else { json!([]) },
            "checks_passed": 6,
            "exchanges": [{
                "step": "main", "method": "POST",
                "url": "http://127.0.0.1:8080/v1/chat/completions",
                "request_headers": {"authorization": "Bearer sk-test-000000000000000000000000",
                    "content-type": "application/json", "accept": "application/json"},
                "request_body": {"model": "ref-chat", "max_tokens": 32,
                    "messages": [{"role": "user", "content": format!("Say hello ({i}).")}]},
                "status": 200,
                "response_headers": {"content-type": "application/json", "content-length": "412",
                    "x-request-id": format!("req-{i:08}"), "date": "Fri, 21 Nov 2025 20:00:00 GMT"},
                "response_body": body
            }]
        }));
    }
    let report = json!({
        "schema_version": 1,
        "tool": {"name": "llm-parity", "version": "0.0.0"},
        "started_at": "2025-11-21T20:00:00Z",
        "duration_ms": 1000,
        "targets": [
            {"name": "reference", "base_url": "http://127.0.0.1:8080/v1", "models": {"chat": "ref-chat"}},
            {"name": "other", "base_url": "http://127.0.0.1:8081/v1", "models": {"chat": "ref-chat"}}
        ],
        "results": results,
        "features": []
    });
    let mut report: RunReport = serde_json::from_value(report).expect("a valid report");
    report.features = llm_parity::report::feature_rows(&report.results);
    report
}

/// A clean text (a chat completion's compact JSON, ~0.45 KB, no secret, no key shape): what the
/// redactor sees for nearly every string and body of a run.
#[divan::bench]
fn redact_clean_text(bencher: Bencher) {
    let text = chat_completion().to_string();
    let redactor = Redactor::new(SecretRegistry::default());
    redactor.registry().add("sk-canary-secret-0123456789");
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| redactor.text(black_box(&text)).len());
}

/// HTML-escaping a chat completion's pretty JSON (quotes to escape on every line).
#[divan::bench]
fn html_escape(bencher: Bencher) {
    let text = serde_json::to_string_pretty(&chat_completion()).unwrap();
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| llm_parity::report::escape::esc(black_box(&text)));
}

#[divan::bench_group(sample_count = 10)]
mod report_10k {
    use super::*;

    #[divan::bench]
    fn redact(bencher: Bencher) {
        let report = big_report();
        let redactor = Redactor::new(SecretRegistry::default());
        bencher
            .counter(ItemsCount::new(RESULTS))
            .with_inputs(|| report.results.clone().into_vec())
            // As a run does: each case's entry on its own as it finishes, where its text is.
            .bench_values(|mut results| {
                for r in &mut results {
                    r.redact(&redactor);
                }
                results
            });
    }

    #[divan::bench]
    fn json(bencher: Bencher) {
        let report = big_report();
        bencher
            .counter(ItemsCount::new(RESULTS))
            .bench(|| serde_json::to_vec_pretty(black_box(&report)).unwrap());
    }

    #[divan::bench]
    fn markdown(bencher: Bencher) {
        let report = big_report();
        bencher
            .counter(ItemsCount::new(RESULTS))
            .bench(|| llm_parity::report::markdown::render(black_box(&report)));
    }

    #[divan::bench]
    fn html(bencher: Bencher) {
        let report = big_report();
        bencher
            .counter(ItemsCount::new(RESULTS))
            .bench(|| llm_parity::report::html::render(black_box(&report)));
    }

    #[divan::bench]
    fn junit(bencher: Bencher) {
        let report = big_report();
        bencher
            .counter(ItemsCount::new(RESULTS))
            .bench(|| llm_parity::report::junit::render(black_box(&report)));
    }

    #[divan::bench]
    fn terminal(bencher: Bencher) {
        let report = big_report();
        bencher
            .counter(ItemsCount::new(RESULTS))
            .bench(|| llm_parity::report::terminal::render(black_box(&report), Default::default()));
    }
}
