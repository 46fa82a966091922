//! The CLI as a user meets it: the no-key default run, configuration errors, hostile endpoint
//! behaviour, and secrets.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn default_run_uses_reference_endpoint_and_passes_everything() {
    let out = run_cli(&["run"], &[]).await;
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let report = out.report();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "llm-parity");
    assert_eq!(report["targets"][0]["name"], "reference");
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 19, "{} results", results.len());
    for r in results {
        // Opt-in cases (remote URLs, provider extensions) are skipped unless asked for.
        let opt_in_skip = r["outcome"] == "skip"
            && r["reason"]
                .as_str()
                .is_some_and(|s| s.starts_with("opt-in case"));
        if opt_in_skip {
            continue;
        }
        assert_eq!(
            r["outcome"], "pass",
            "{} {}: {}",
            r["suite"], r["case"], r["reason"]
        );
    }
    assert!(out.report_dir.join("report.md").is_file());
    validate_report(&report);
}

/// A broken suite stops `run` before anything is sent (each kind of mistake's rendering is
/// pinned in `suite_errors`).
#[tokio::test]
async fn a_bad_suite_stops_the_run_before_anything_is_sent() {
    let out = run_cli(
        &["run", "--suite", "tests/fixtures/bad-suites/not-yaml.yaml"],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("tests/fixtures/bad-suites/not-yaml.yaml:"),
        "{}",
        out.stderr
    );
    assert!(
        !out.report_dir.join("report.json").exists(),
        "nothing runs before load succeeds"
    );
}

#[tokio::test]
async fn bad_targets_and_flags_exit_2_with_reasons() {
    let out = run_cli(
        &[
            "validate",
            "--targets",
            "tests/fixtures/bad-targets/targets.yaml",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    insta::assert_snapshot!("bad_targets", out.stderr);
    let out = run_cli(&["run", "--target", "refrence"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown target `refrence`")
            && out.stderr.contains("did you mean `reference`?"),
        "{}",
        out.stderr
    );
    let out = run_cli(
        &[
            "run",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--api-key-env",
            "LLM_PARITY_TEST_UNSET_KEY",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("LLM_PARITY_TEST_UNSET_KEY"),
        "{}",
        out.stderr
    );
    let out = run_cli(
        &[
            "run",
            "--model",
            "chta=x",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("did you mean `chat`?"),
        "{}",
        out.stderr
    );
    let out = run_cli(&["run", "--max-body", "lots"], &[]).await;
    assert_eq!(out.code, 2);
    let out = run_cli(&["run", "--bogus-flag"], &[]).await;
    assert_eq!(out.code, 2);
}

#[tokio::test]
async fn unreachable_host_is_an_error_outcome_and_reports_are_written() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let out = run_case("http://127.0.0.1:9/v1", "chat/basic", &["chat=m"]).await;
    assert_eq!(out.code, 1);
    let (o, reason) = out.outcome("adhoc", "chat/basic");
    assert_eq!(o, "error");
    assert!(reason.to_lowercase().contains("connect"), "{reason}");
}

#[tokio::test]
async fn slow_server_times_out_as_error_and_the_run_continues() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat_completion("late"))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [{"id": "m", "object": "model", "created": 1_700_000_000, "owned_by": "me"}]})))
        .mount(&server)
        .await;
    let url = format!("{}/v1", server.uri());
    let out = run_cli(
        &[
            "run",
            "--suite",
            "chat",
            "--suite",
            "models",
            "--filter",
            "chat/basic",
            "--filter",
            "models/list",
            "--base-url",
            &url,
            "--model",
            "chat=m",
            "--timeout",
            "1",
        ],
        &[],
    )
    .await;
    let (o, reason) = out.outcome("adhoc", "chat/basic");
    assert_eq!(o, "error");
    assert!(reason.contains("no response headers within"), "{reason}");
    assert_eq!(out.outcome("adhoc", "models/list").0, "pass");
}

#[tokio::test]
async fn non_json_and_huge_bodies_are_outcomes_not_crashes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("<html>gateway</html>")
                .insert_header("content-type", "text/html"),
        )
        .mount(&server)
        .await;
    let out = run_case(&format!("{}/v1", server.uri()), "chat/basic", &["chat=m"]).await;
    let (o, reason) = out.outcome("adhoc", "chat/basic");
    assert_eq!(o, "fail");
    assert!(
        reason.contains("not JSON") || reason.contains("Content-Type"),
        "{reason}"
    );

    let server = MockServer::start().await;
    let huge = "x".repeat(20 * 1024 * 1024);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let out = run_case(&format!("{}/v1", server.uri()), "chat/basic", &["chat=m"]).await;
    let (o, reason) = out.outcome("adhoc", "chat/basic");
    assert_eq!(o, "error");
    assert!(reason.contains("--max-body"), "{reason}");
}

#[tokio::test]
async fn connection_reset_mid_body_is_an_error_outcome() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 65536];
            let _ = sock.read(&mut buf).await;
            // Promise 1000 bytes, send 10, then close.
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\":\"x\",").await;
            drop(sock);
        }
    });
    let out = run_case(&format!("http://{addr}/v1"), "chat/basic", &["chat=m"]).await;
    let (o, reason) = out.outcome("adhoc", "chat/basic");
    assert_eq!(o, "error", "{reason}");
    assert!(reason.contains("while reading the body"), "{reason}");
}

#[tokio::test]
async fn canary_key_never_appears_in_any_output() {
    let server = MockServer::start().await;
    // A hostile endpoint that echoes the key back in an error message and a header.
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": format!("Incorrect API key provided: {CANARY}"), "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}))
                .insert_header("x-echo-key", CANARY),
        )
        .mount(&server)
        .await;
    let url = format!("{}/v1?key={CANARY}", server.uri());
    let out = run_cli(
        &[
            "run",
            "--suite",
            "chat",
            "--suite",
            "errors",
            "--base-url",
            &url,
            "--api-key-env",
            "LLM_PARITY_CANARY",
            "--model",
            "chat=m",
        ],
        &[("LLM_PARITY_CANARY", CANARY)],
    )
    .await;
    assert!(
        out.report_dir.join("report.json").is_file(),
        "{}",
        out.stderr
    );
    let all = out.all_output();
    assert!(!shows_canary(&all), "the canary leaked");
    assert!(all.contains("***"), "redaction marker expected");
}

#[tokio::test]
async fn list_and_validate_work_offline() {
    let out = run_cli(&["validate"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run_cli(&["list", "features"], &[]).await;
    assert!(
        out.stdout.contains("chat.basic") && out.stdout.contains("errors.bad_model"),
        "{}",
        out.stdout
    );
    // Every built-in feature is described (by the first case that evidences it).
    for line in out.stdout.lines() {
        let (feature, description) = line.split_once(' ').unwrap_or((line, ""));
        let description = description.trim();
        assert!(
            !description.is_empty() && description != "-",
            "{feature} has no description"
        );
    }
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("chat.n ") && l.contains("two choices")),
        "{}",
        out.stdout
    );
    let out = run_cli(&["list", "checks"], &[]).await;
    assert!(out.stdout.contains("errors.envelope"), "{}", out.stdout);
    let out = run_cli(&["list", "targets"], &[]).await;
    assert!(
        out.stdout.contains("reference:gemini-compat"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn out_of_bounds_durations_are_usage_errors_not_panics() {
    for (flag, value, why) in [
        ("--timeout", "inf", "is not a finite number"),
        ("--timeout", "1e19", "7-day limit"),
        ("--timeout", "1e20", "7-day limit"),
        ("--timeout", "NaN", "is not a finite number"),
        ("--timeout", "-1", "is negative"),
        ("--timeout", "0", "must be more than zero"),
        ("--idle-timeout", "1e20", "7-day limit"),
        ("--run-timeout", "1e300", "7-day limit"),
        ("--retry-delay", "1e300", "7-day limit"),
        ("--retry-max-delay", "soon", "is not a duration"),
    ] {
        let out = run_cli(&["run", flag, value], &[]).await;
        assert_eq!(out.code, 2, "{flag} {value}: {}", out.stderr);
        assert!(
            out.stderr.contains(flag) && out.stderr.contains(why),
            "{flag} {value}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("panicked") && !out.stderr.contains("overflow"),
            "{}",
            out.stderr
        );
    }
}

/// The `error:` lines of stderr, with the temporary directory's path made stable.
fn error_lines(stderr: &str, dir: &std::path::Path) -> String {
    stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .map(|l| l.replace(&dir.display().to_string(), "[TMP]"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn outputs_that_cannot_be_written_exit_5_after_showing_the_result() {
    let (dir, taken) = temp_file("taken", "a file where a directory should be");
    let taken = taken.to_str().unwrap();
    // `run`: the matrix is still shown, then the write failure decides the exit code.
    let out = run_cli(&["run", "--suite", "models", "--report-dir", taken], &[]).await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stdout.contains("models"), "{}", out.stdout);
    insta::assert_snapshot!("report_write_failure", error_lines(&out.stderr, dir.path()));
    // `merge` and `baseline save`: the same code, each naming what it could not write.
    let ok = run_cli(&["run", "--suite", "models"], &[]).await;
    let report = ok.report_dir.join("report.json");
    let report = report.to_str().unwrap();
    let out = run_cli(&["merge", report, "--report-dir", taken], &[]).await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.contains("error: failed to write reports: "),
        "{}",
        out.stderr
    );
    let inside = format!("{taken}/baseline.yaml");
    let out = run_cli(&["baseline", "save", "--from", report, "-o", &inside], &[]).await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.contains("error: failed to write the baseline: "),
        "{}",
        out.stderr
    );
}

/// The executable starts jemalloc with the options compiled into the library (src/util/mem.rs),
/// not with jemalloc's defaults: the library's `malloc_conf` must reach the linked binary.
/// jemalloc lists every option it set, and where it read it, when `confirm_conf` is on.
#[cfg(unix)]
#[test]
fn the_executable_starts_its_allocator_with_the_projects_options() {
    let out = std::process::Command::new(bin())
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "confirm_conf:true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let compiled_in = stderr
        .lines()
        .find(|l| l.contains("the global variable malloc_conf)"))
        .unwrap_or_else(|| panic!("no malloc_conf source listed:\n{stderr}"));
    assert!(
        compiled_in.ends_with(r#""narenas:2,dirty_decay_ms:300,oversize_threshold:131072""#),
        "{compiled_in}"
    );
    for option in [
        "narenas:2",
        "dirty_decay_ms:300",
        "oversize_threshold:131072",
    ] {
        assert!(
            stderr.contains(&format!("Set conf value: {option}")),
            "{option} was not set:\n{stderr}"
        );
    }
}
