//! The fault corpus: a raw TCP (and TLS) server on 127.0.0.1 that breaks HTTP in every way the
//! harness must survive. Each test runs two cases against it in one run — `faults/fault` meets
//! the fault, `faults/healthy` gets a conformant answer — and asserts that the fault ends as an
//! outcome with a specific reason, the healthy case still passes, and the run ends within its
//! deadlines. Retries (`--retries`) are tested against the same server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// Two cases: the first answered by the fault, the second by a healthy endpoint.
const SUITE: &str = r#"suite: faults
description: The fault corpus.
areas: [faults]
cases:
  - id: fault
    feature: faults.fault
    request:
      path: /fault
      body: { model: m, messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      jsonpath:
        - { path: $.ok, equals: true }
  - id: healthy
    feature: faults.healthy
    request:
      path: /healthy
      body: { model: m, messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      jsonpath:
        - { path: $.ok, equals: true }
"#;

/// What the server does to a request for `/fault`.
#[derive(Clone, Debug)]
enum Fault {
    /// Read the request, never answer.
    StallBeforeHeaders,
    /// Send the headers and one SSE event, then go silent with the connection open.
    StallMidStream,
    /// Read the request, then reset the connection (RST, no response at all).
    ResetBeforeHeaders,
    /// Promise 1000 bytes, send 10, then reset.
    ResetMidBody,
    /// Promise 1000 bytes, send 10, then close cleanly: the Content-Length lies.
    LyingContentLength,
    /// A chunked body whose terminating chunk never comes.
    ChunkedCutOff,
    /// Bytes that are not HTTP at all.
    Garbage,
    /// A 200 JSON response whose body is not UTF-8.
    InvalidUtf8,
    /// A body of this many bytes.
    Huge(usize),
    /// An event stream that never ends (an event every 50 ms).
    EndlessSse,
    /// An error status, with an optional `Retry-After`.
    Status(u16, Option<&'static str>),
    /// A 307 to this URL.
    Redirect(String),
    /// A healthy answer.
    Ok,
    /// The n-th `/fault` request gets the n-th fault (the last one repeats).
    Script(Vec<Fault>),
}

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    /// Request heads (request line and headers) received, in order.
    fn heads(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, path: &str) -> usize {
        self.heads()
            .iter()
            .filter(|h| h.lines().next().is_some_and(|l| l.contains(path)))
            .count()
    }
}

/// Serve the fault on 127.0.0.1 (plain TCP).
async fn serve(fault: Fault) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (fault, seen) = (fault.clone(), s.clone());
            tokio::spawn(async move { handle(sock, fault, seen).await });
        }
    });
    (addr, seen)
}

async fn handle(mut sock: TcpStream, fault: Fault, seen: Seen) {
    let Some(head) = read_request(&mut sock).await else {
        return;
    };
    let n = {
        let mut v = seen.0.lock().unwrap();
        v.push(head.clone());
        v.iter().filter(|h| is_fault(h)).count()
    };
    if !is_fault(&head) {
        return respond(&mut sock, 200, &[], &json!({"ok": true}).to_string()).await;
    }
    let fault = match fault {
        Fault::Script(list) => list[(n - 1).min(list.len() - 1)].clone(),
        f => f,
    };
    match fault {
        Fault::ResetBeforeHeaders => reset(sock),
        Fault::ResetMidBody => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"ok\":true,")
                .await;
            let _ = sock.flush().await;
            reset(sock)
        }
        other => act(&mut sock, other).await,
    }
}

fn is_fault(head: &str) -> bool {
    head.lines().next().is_some_and(|l| l.contains("/fault"))
}

/// Close with RST instead of FIN. (`SO_LINGER` is deprecated in tokio because a positive linger
/// blocks on drop; a zero linger resets at once and never blocks.)
#[allow(deprecated)]
fn reset(sock: TcpStream) {
    let _ = sock.set_linger(Some(Duration::ZERO));
    drop(sock);
}

/// The faults that work over any stream (plain TCP or TLS).
async fn act<S: AsyncRead + AsyncWrite + Unpin>(sock: &mut S, fault: Fault) {
    match fault {
        Fault::StallBeforeHeaders => tokio::time::sleep(Duration::from_secs(600)).await,
        Fault::StallMidStream => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: {\"ok\":true}\n\n")
                .await;
            let _ = sock.flush().await;
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
        Fault::LyingContentLength => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"ok\":true,")
                .await;
            let _ = sock.shutdown().await;
        }
        Fault::ChunkedCutOff => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nb\r\n{\"ok\":true,\r\n")
                .await;
            let _ = sock.shutdown().await;
        }
        Fault::Garbage => {
            let _ = sock
                .write_all(b"\x00\xff\xfeGARBAGE \x80\x81 not http at all\r\n\r\n\xc3\x28")
                .await;
            let _ = sock.shutdown().await;
        }
        Fault::InvalidUtf8 => {
            let body = b"{\"ok\": \"\xff\xfe\xc3\x28\"}";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body).await;
            let _ = sock.shutdown().await;
        }
        Fault::Huge(size) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let chunk = vec![b' '; 64 * 1024];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len());
                if sock.write_all(&chunk[..n]).await.is_err() {
                    return; // the client stopped reading: expected
                }
                left -= n;
            }
            let _ = sock.shutdown().await;
        }
        Fault::EndlessSse => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
                .await;
            let mut i = 0u64;
            loop {
                let ev = format!("data: {{\"ok\":true,\"n\":{i}}}\n\n");
                if sock.write_all(ev.as_bytes()).await.is_err() || sock.flush().await.is_err() {
                    return;
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Fault::Status(code, retry_after) => {
            let extra: Vec<(&str, &str)> = retry_after
                .map(|v| ("retry-after", v))
                .into_iter()
                .collect();
            let body = json!({"error": {"message": format!("status {code}"), "type": "server_error", "param": null, "code": null}});
            respond(sock, code, &extra, &body.to_string()).await
        }
        Fault::Redirect(to) => respond(sock, 307, &[("location", to.as_str())], "").await,
        Fault::Ok => respond(sock, 200, &[], &json!({"ok": true}).to_string()).await,
        Fault::ResetBeforeHeaders | Fault::ResetMidBody | Fault::Script(_) => {
            unreachable!("handled by the caller")
        }
    }
}

async fn respond<S: AsyncWrite + Unpin>(
    sock: &mut S,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) {
    let mut head = format!(
        "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(body.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// Run the two-case suite against `base_url` with extra flags.
async fn run_suite(base_url: &str, extra: &[&str], env: &[(&str, &str)]) -> RunOutput {
    let (_dir, suite) = temp_suite(SUITE);
    let suite = suite.to_str().unwrap().to_string();
    let mut args = vec!["run", "--suite", &suite, "--base-url", base_url];
    args.extend_from_slice(extra);
    run_cli(&args, env).await
}

fn result<'a>(report: &'a Value, target: &str, case: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"] == target && r["case"] == case)
        .unwrap_or_else(|| panic!("no result for {target} {case}: {report:#}"))
}

/// The fault case ended as `outcome` with a reason containing `needle`; the healthy case passed;
/// the run ended well inside the test's own limit (its deadlines are a few seconds).
fn assert_fault(out: &RunOutput, outcome: &str, needles: &[&str]) {
    let ctx = format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        out.code, out.stdout, out.stderr
    );
    assert_eq!(out.code, 1, "{ctx}");
    let (o, reason) = out.outcome("adhoc", "faults/fault");
    assert_eq!(o, outcome, "{reason}\n{ctx}");
    for n in needles {
        let found = reason.contains(n) || reason.to_lowercase().contains(&n.to_lowercase());
        assert!(found, "reason {reason:?} lacks {n:?}");
    }
    let (h, why) = out.outcome("adhoc", "faults/healthy");
    assert_eq!(h, "pass", "the healthy case was affected: {why}");
    let report = out.report();
    assert_eq!(report["partial"], false);
    assert!(
        report["duration_ms"].as_u64().unwrap() < 60_000,
        "{report:#}"
    );
    assert!(!out.stderr.contains("panicked"), "{ctx}");
}

async fn fault_run(fault: Fault, extra: &[&str]) -> RunOutput {
    let (addr, _) = serve(fault).await;
    run_suite(&format!("http://{addr}/v1"), extra, &[]).await
}

#[tokio::test]
async fn stall_before_headers_hits_the_headers_deadline() {
    let out = fault_run(Fault::StallBeforeHeaders, &["--timeout", "1"]).await;
    assert_fault(&out, "error", &["no response headers within 1s"]);
}

#[tokio::test]
async fn stall_mid_stream_hits_the_idle_timeout() {
    let out = fault_run(
        Fault::StallMidStream,
        &["--idle-timeout", "1", "--timeout", "30"],
    )
    .await;
    assert_fault(
        &out,
        "error",
        &["stream stalled after 1 events", "no data for 1s"],
    );
}

#[tokio::test]
async fn reset_before_the_response_is_a_connection_error() {
    // Re-sent once at once without --retries (it may be a stale keep-alive connection), and
    // both attempts are in the report.
    let out = fault_run(Fault::ResetBeforeHeaders, &[]).await;
    assert_fault(
        &out,
        "error",
        &[
            "error sending request for url",
            "reset",
            "(after 2 attempts)",
        ],
    );
    let a = attempts(&out);
    assert_eq!(a.len(), 2, "{a:#?}");
    assert_eq!(
        a[0]["retried_because"],
        "connection closed before any response byte; re-sent at once"
    );
}

#[tokio::test]
async fn reset_during_the_body_is_a_body_error() {
    let out = fault_run(Fault::ResetMidBody, &[]).await;
    assert_fault(
        &out,
        "error",
        &[
            "HTTP 200",
            "connection failed while reading the body after 11 bytes",
            "reset",
        ],
    );
}

#[tokio::test]
async fn a_lying_content_length_is_a_truncated_body() {
    let out = fault_run(Fault::LyingContentLength, &[]).await;
    assert_fault(
        &out,
        "error",
        &[
            "HTTP 200",
            "while reading the body after 11 bytes",
            "end of file before message length",
        ],
    );
}

#[tokio::test]
async fn chunked_encoding_cut_off_is_a_truncated_body() {
    let out = fault_run(Fault::ChunkedCutOff, &[]).await;
    assert_fault(
        &out,
        "error",
        &["HTTP 200", "while reading the body after 11 bytes", "chunk"],
    );
}

#[tokio::test]
async fn garbage_instead_of_http_is_an_error() {
    let out = fault_run(Fault::Garbage, &[]).await;
    assert_fault(
        &out,
        "error",
        &["error sending request for url", "invalid HTTP"],
    );
}

#[tokio::test]
async fn invalid_utf8_in_a_json_body_fails_as_not_json() {
    let out = fault_run(Fault::InvalidUtf8, &[]).await;
    assert_fault(&out, "fail", &["body is not JSON", "invalid unicode"]);
    // The report stays valid UTF-8 JSON (`report()` parses it).
    let report = out.report();
    let body = &result(&report, "adhoc", "fault")["exchanges"][0]["response_body"];
    assert!(body.as_str().unwrap().contains('\u{fffd}'), "{body}");
}

#[tokio::test]
async fn a_50_mb_body_is_capped_by_max_body_and_reported() {
    let out = fault_run(Fault::Huge(50 * 1024 * 1024), &["--max-body", "1M"]).await;
    assert_fault(
        &out,
        "error",
        &["exceeds the 1048576 byte limit (--max-body); stopped reading"],
    );
    // What was read is cut again for the report: the files stay small.
    for f in walk(&out.report_dir) {
        let len = std::fs::metadata(&f).unwrap().len();
        assert!(len < 512 * 1024, "{} is {len} bytes", f.display());
    }
}

#[tokio::test]
async fn an_endless_stream_is_bounded_by_the_exchange_deadline() {
    let out = fault_run(
        Fault::EndlessSse,
        &["--timeout", "2", "--idle-timeout", "1"],
    )
    .await;
    assert_fault(
        &out,
        "error",
        &[
            "HTTP 200",
            "exceeded its 2s deadline while reading the body",
        ],
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_fail_with_their_status_and_are_not_retried_by_default() {
    for (code, retry_after) in [
        (429, Some("1")),
        (429, None),
        (500, None),
        (502, None),
        (503, Some("0")),
    ] {
        let (addr, seen) = serve(Fault::Status(code, retry_after)).await;
        let out = run_suite(&format!("http://{addr}/v1"), &[], &[]).await;
        assert_fault(&out, "fail", &[&format!("HTTP {code}, expected 200")]);
        assert_eq!(seen.count("/fault"), 1, "retries are off by default");
        let report = out.report();
        let ex = &result(&report, "adhoc", "fault")["exchanges"][0];
        assert!(ex.get("attempts").is_none(), "{ex}");
    }
}

#[tokio::test]
async fn a_cross_host_redirect_is_not_followed_and_the_key_never_reaches_the_other_host() {
    // The other host: answers anything healthily and records what it saw.
    let (other, other_seen) = serve(Fault::Ok).await;
    let to = format!("http://{other}/v1/fault");
    let (addr, _) = serve(Fault::Redirect(to.clone())).await;
    let out = run_suite(
        &format!("http://{addr}/v1"),
        &["--api-key-env", "FAULT_KEY"],
        &[("FAULT_KEY", CANARY)],
    )
    .await;
    assert_fault(&out, "error", &["HTTP 307 redirect to", "not followed"]);
    let heads = other_seen.heads();
    assert!(
        heads.iter().all(|h| !shows_canary(h)),
        "the other host saw the key: {heads:?}"
    );
    assert!(heads.is_empty(), "the redirect was followed: {heads:?}");
    assert!(!shows_canary(&out.all_output()));
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed() {
    let (addr, seen) = serve(Fault::Script(vec![
        Fault::Redirect("/v1/fault?again".into()),
        Fault::Ok,
    ]))
    .await;
    let out = run_suite(&format!("http://{addr}/v1"), &[], &[]).await;
    assert_eq!(
        out.outcome("adhoc", "faults/fault").0,
        "pass",
        "{}",
        out.stderr
    );
    assert_eq!(seen.count("/fault"), 2);
}

// ---------------------------------------------------------------------------------------------
// Retries.

fn attempts(out: &RunOutput) -> Vec<Value> {
    let report = out.report();
    result(&report, "adhoc", "fault")["exchanges"][0]["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn retries_recover_from_5xx_and_connection_failures_and_record_every_attempt() {
    // A reset before any response byte is re-sent once at once (it may be a stale keep-alive
    // connection), so the second attempt meets two resets.
    let (addr, seen) = serve(Fault::Script(vec![
        Fault::Status(503, None),
        Fault::ResetBeforeHeaders,
        Fault::ResetBeforeHeaders,
        Fault::Status(502, None),
        Fault::Ok,
    ]))
    .await;
    let out = run_suite(
        &format!("http://{addr}/v1"),
        &["--retries", "3", "--retry-delay", "0.01"],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.outcome("adhoc", "faults/fault").0, "pass");
    assert_eq!(seen.count("/fault"), 5);
    // The re-send is an attempt of its own, at once, and does not use up one of the three.
    let a = attempts(&out);
    assert_eq!(a.len(), 5, "{a:#?}");
    assert_eq!(a[0]["status"], 503);
    assert_eq!(a[0]["retried_because"], "HTTP 503");
    assert_eq!(a[0]["delay_source"], "backoff");
    for x in &a[1..3] {
        assert!(
            x.get("status").is_none() && x["error"].as_str().unwrap().contains("reset"),
            "{x:#}"
        );
    }
    assert_eq!(
        a[1]["retried_because"],
        "connection closed before any response byte; re-sent at once"
    );
    assert!(a[1].get("delay_ms").is_none());
    assert_eq!(a[2]["retried_because"], "connection failed");
    assert_eq!(a[3]["status"], 502);
    assert_eq!(a[4]["status"], 200);
    assert!(a[4].get("delay_ms").is_none());
    for (i, x) in a.iter().enumerate() {
        assert_eq!(x["attempt"], i + 1);
    }
    // The report stays valid against its schema with the attempts in it.
    validate_report(&out.report());
}

#[tokio::test]
async fn retries_honour_retry_after_and_give_up_after_n() {
    let (addr, seen) = serve(Fault::Script(vec![
        Fault::Status(429, Some("1")),
        Fault::Status(503, None),
    ]))
    .await;
    let out = run_suite(
        &format!("http://{addr}/v1"),
        &["--retries", "2", "--retry-delay", "0.01"],
        &[],
    )
    .await;
    assert_fault(
        &out,
        "fail",
        &["HTTP 503, expected 200", "(after 3 attempts)"],
    );
    assert_eq!(seen.count("/fault"), 3);
    let a = attempts(&out);
    assert_eq!(a.len(), 3);
    assert_eq!(
        (a[0]["status"].clone(), a[0]["delay_ms"].clone()),
        (json!(429), json!(1000))
    );
    assert_eq!(a[0]["delay_source"], "retry_after");
    assert_eq!(a[1]["delay_source"], "backoff");
    assert_eq!(a[2]["retried_because"], Value::Null);
}

#[tokio::test]
async fn retries_never_repeat_other_failures() {
    for fault in [
        Fault::Status(400, None),
        Fault::Status(404, None),
        Fault::LyingContentLength,
    ] {
        let (addr, seen) = serve(fault.clone()).await;
        let out = run_suite(&format!("http://{addr}/v1"), &["--retries", "3"], &[]).await;
        assert_eq!(out.outcome("adhoc", "faults/healthy").0, "pass");
        assert_eq!(seen.count("/fault"), 1, "{fault:?} was retried");
    }
}

#[tokio::test]
async fn bad_retry_flags_are_usage_errors() {
    for args in [
        &["--retries", "-1"][..],
        &["--retries", "many"],
        &["--retries", "21"],
        &["--retry-delay", "-1"],
        &["--retry-max-delay", "NaN"],
        &["--run-timeout", "0"],
    ] {
        let out = run_suite("http://127.0.0.1:9/v1", args, &[]).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// TLS with a self-signed certificate.

/// Serve `/healthy`-style answers for every request over TLS with a fresh self-signed
/// certificate for 127.0.0.1; returns the address and the certificate (PEM).
async fn serve_tls() -> (SocketAddr, String) {
    use tokio_rustls::rustls;
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let pem = ck.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return; // the client refused the certificate
                };
                if read_request(&mut tls).await.is_some() {
                    act(&mut tls, Fault::Ok).await;
                }
            });
        }
    });
    (addr, pem)
}

#[tokio::test]
async fn a_self_signed_certificate_is_a_clear_error_and_ca_cert_trusts_it() {
    let (tls, pem) = serve_tls().await;
    let (plain, _) = serve(Fault::Ok).await;
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:\n  tls:\n    base_url: https://{tls}/v1\n  plain:\n    base_url: http://{plain}/v1\n"
        ),
    )
    .unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    let (_sdir, suite) = temp_suite(SUITE);
    let (t, s, c) = (
        targets.to_str().unwrap(),
        suite.to_str().unwrap(),
        ca.to_str().unwrap(),
    );
    let base = ["run", "--targets", t, "--suite", s, "--all-targets"];

    let out = run_cli(&base, &[]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let (o, reason) = out.outcome("tls", "faults/healthy");
    assert_eq!(o, "error", "{reason}");
    assert!(reason.contains("certificate"), "{reason}");
    assert!(reason.contains("pass --ca-cert FILE"), "{reason}");
    // The other target is unaffected.
    assert_eq!(out.outcome("plain", "faults/healthy").0, "pass");

    let mut with_ca = base.to_vec();
    with_ca.extend(["--ca-cert", c]);
    let out = run_cli(&with_ca, &[]).await;
    assert_eq!(
        out.outcome("tls", "faults/healthy").0,
        "pass",
        "{}",
        out.stderr
    );
    assert_eq!(out.outcome("tls", "faults/fault").0, "pass");
}
