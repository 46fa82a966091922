//! Interruption: a real run receives SIGINT or SIGTERM (or reaches `--run-timeout`) while a case
//! is in flight; it must stop, write valid partial reports holding the finished cases, and exit
//! with the documented code. No sleeps decide anything: the signal is sent when the server has
//! seen the request that will never be answered, which (with `--concurrency 1`) is only sent
//! once the case before it has finished.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::support::*;

const SUITE: &str = r#"suite: slow
description: Three cases; the server answers the first request and stalls the others.
areas: [slow]
cases:
  - id: one
    feature: slow.one
    request: { path: /chat, body: { n: 1 } }
    expect: { status: 200 }
  - id: two
    feature: slow.two
    request: { path: /chat, body: { n: 2 } }
    expect: { status: 200 }
  - id: three
    feature: slow.three
    request: { path: /chat, body: { n: 3 } }
    expect: { status: 200 }
"#;

/// Answers the first request, then holds every later one open; `stalled` is notified when a
/// request is being held. Returns the address and the count of requests seen.
async fn first_then_stall(stalled: Arc<Notify>) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (seen, stalled) = (count.clone(), stalled.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                // Read the head and the (small) body.
                loop {
                    let Ok(n) = sock.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got);
                    if let Some(i) = text.find("\r\n\r\n") {
                        let len = text[..i]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if got.len() >= i + 4 + len {
                            break;
                        }
                    }
                }
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    let body = "{}";
                    let _ = sock
                        .write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).as_bytes())
                        .await;
                    let _ = sock.shutdown().await;
                } else {
                    stalled.notify_one();
                    tokio::time::sleep(Duration::from_secs(600)).await;
                }
            });
        }
    });
    (addr, seen)
}

struct Interrupted {
    code: Option<i32>,
    stderr: String,
    report: Value,
    report_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Start a real run, wait until a case is stalled, send `signal`, and collect the result.
async fn run_and_signal(signal: &str) -> Interrupted {
    let stalled = Arc::new(Notify::new());
    let (addr, _) = first_then_stall(stalled.clone()).await;
    let (_sdir, suite) = temp_suite(SUITE);
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("reports");
    let child = tokio::process::Command::new(bin())
        .args(["run", "--suite"])
        .arg(&suite)
        .args(["--base-url", &format!("http://{addr}/v1")])
        .args(["--concurrency", "1", "--no-progress", "--report-dir"])
        .arg(&report_dir)
        .current_dir(repo())
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), stalled.notified())
        .await
        .expect("the run never reached its second case");
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the interrupted run did not exit within 60 s")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let text = std::fs::read_to_string(report_dir.join("report.json"))
        .unwrap_or_else(|e| panic!("no report.json ({e}); stderr:\n{stderr}"));
    Interrupted {
        code: out.status.code(),
        stderr,
        report: serde_json::from_str(&text).expect("report.json is complete JSON"),
        report_dir,
        _dir: dir,
    }
}

fn assert_valid_partial(run: &Interrupted) {
    let r = &run.report;
    assert_eq!(r["partial"], true, "{r:#}");
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "only the finished case: {r:#}");
    assert_eq!(results[0]["outcome"], "pass", "{r:#}");
    validate_report(r);
    // Every format was written whole; no temporary file is left beside them.
    let mut names: Vec<String> = walk(&run.report_dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["junit.xml", "report.html", "report.json", "report.md"],
        "{}",
        run.stderr
    );
    let junit = std::fs::read_to_string(run.report_dir.join("junit.xml")).unwrap();
    roxmltree::Document::parse(&junit).expect("junit.xml is whole XML");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test]
async fn sigint_stops_the_run_and_writes_a_valid_partial_report() {
    let run = run_and_signal("-INT").await;
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("interrupted: partial reports written for 1 finished case(s)"),
        "{}",
        run.stderr
    );
    assert_valid_partial(&run);
}

#[tokio::test]
async fn sigterm_is_handled_like_sigint() {
    let run = run_and_signal("-TERM").await;
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert_valid_partial(&run);
}

#[tokio::test]
async fn the_run_deadline_stops_the_run_like_an_interrupt_and_rpm_is_respected() {
    // `rpm: 1`: the first request goes at once, the next could only start a minute later; the
    // 3-second run deadline falls in between. (No stall here: the limiter alone holds them.)
    let stalled = Arc::new(Notify::new());
    let (addr, seen) = first_then_stall(stalled).await;
    let (_dir, targets) = temp_file(
        "targets.yaml",
        &format!("targets:\n  limited:\n    base_url: http://{addr}/v1\n    rpm: 1\n"),
    );
    let (_sdir, suite) = temp_suite(SUITE);
    let out = run_cli(
        &[
            "run",
            "--targets",
            targets.to_str().unwrap(),
            "--target",
            "limited",
            "--suite",
            suite.to_str().unwrap(),
            "--run-timeout",
            "3",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 124, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("run deadline reached (--run-timeout)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "the rpm limit let a second request through"
    );
    let report = out.report();
    assert_eq!(report["partial"], true);
    assert_eq!(report["results"].as_array().unwrap().len(), 1, "{report:#}");
}

#[tokio::test]
async fn a_zero_rpm_is_a_configuration_error() {
    let (_dir, targets) = temp_file(
        "targets.yaml",
        "targets:\n  t:\n    base_url: http://127.0.0.1:9/v1\n    rpm: 0\n",
    );
    let out = run_cli(&["validate", "--targets", targets.to_str().unwrap()], &[]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("rpm must be at least 1"),
        "{}",
        out.stderr
    );
}
