//! `--record` / `--replay`: record a run against a live local server, stop the server, replay
//! the recordings with no key variable set, and get the same outcomes; recordings never hold a
//! credential; a request with no recording is an `error` naming the missing key.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const KEY_VAR: &str = "LLM_PARITY_CANARY";

/// `(suite/case) → (outcome, reason)` of every result of a run.
fn outcomes(out: &RunOutput) -> BTreeMap<String, (String, String)> {
    out.report()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["suite"].as_str().unwrap(),
                    r["case"].as_str().unwrap()
                ),
                (
                    r["outcome"].as_str().unwrap().to_string(),
                    r["reason"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

fn targets_file(dir: &Path, base_url: &str, extra_auth: &str) -> String {
    let p = dir.join("targets.yaml");
    let models = reference_models();
    std::fs::write(
        &p,
        format!(
            "targets:\n  live:\n    base_url: {base_url}\n    auth: {{ api_key_env: {KEY_VAR}{extra_auth} }}\n    models: {{ {models} }}\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

fn all_files(dir: &Path) -> String {
    walk(dir)
        .into_iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn record_against_a_live_server_then_replay_it_stopped_gives_identical_outcomes() {
    // A live reference endpoint that requires the (canary) key.
    let (addr, server) = reference_endpoint(CANARY).await;
    let dir = tempfile::tempdir().unwrap();
    let targets = targets_file(dir.path(), &format!("http://{addr}/v1"), "");
    let rec_dir = dir.path().join("recordings");
    let rec = rec_dir.display().to_string();
    let args = ["run", "--targets", &targets, "--target", "live"];

    let recorded = run_cli(
        &[&args[..], &["--record", &rec]].concat(),
        &[(KEY_VAR, CANARY)],
    )
    .await;
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    assert!(
        recorded.stderr.contains("recordings: "),
        "{}",
        recorded.stderr
    );
    let files = walk(&rec_dir.join("live"));
    assert!(files.len() > 20, "{} recordings", files.len());
    let text = all_files(&rec_dir);
    assert!(!shows_canary(&text), "a recording holds the key");
    assert!(
        text.contains("\"events\""),
        "streamed responses are recorded as events"
    );

    // Stop the live server: replay must not need it, nor the key.
    server.abort();
    let _ = server.await;
    let replayed = run_cli(&[&args[..], &["--replay", &rec]].concat(), &[]).await;
    assert_eq!(replayed.code, 0, "{}\n{}", replayed.stdout, replayed.stderr);
    let (a, b) = (outcomes(&recorded), outcomes(&replayed));
    assert_eq!(a, b);
    assert!(a.values().filter(|(o, _)| o == "pass").count() > 20);

    // Streams replay event by event: the same number of chunks reaches the parser.
    let chunks = |out: &RunOutput| -> Vec<Value> {
        out.report()["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["suite"] == "streaming")
            .map(|r| r["timings"]["chunk_count"].clone())
            .collect()
    };
    let (ca, cb) = (chunks(&recorded), chunks(&replayed));
    assert!(
        ca.iter().any(|c| c.as_u64().is_some_and(|n| n > 1)),
        "{ca:?}"
    );
    assert_eq!(ca, cb);
    assert!(!shows_canary(&replayed.all_output()));
}

#[tokio::test]
async fn a_request_without_recording_is_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let targets = targets_file(dir.path(), "http://127.0.0.1:9/v1", "");
    let rec_dir = dir.path().join("empty");
    std::fs::create_dir_all(rec_dir.join("live")).unwrap();
    let out = run_cli(
        &[
            "run",
            "--targets",
            &targets,
            "--target",
            "live",
            "--suite",
            "chat",
            "--filter",
            "chat/basic",
            "--replay",
            &rec_dir.display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (o, reason) = out.outcome("live", "chat/basic");
    assert_eq!(o, "error");
    let re =
        regex::Regex::new(r"^no recording for key [0-9a-f]{16} \(POST chat/completions\)").unwrap();
    assert!(re.is_match(&reason), "{reason}");
}

#[tokio::test]
async fn replay_of_a_missing_directory_is_a_usage_error() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "chat",
            "--replay",
            "/nonexistent/recordings",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--replay /nonexistent/recordings"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn an_echoed_canary_never_reaches_a_recording_and_replay_needs_no_key() {
    // A hostile endpoint echoing the key in a body, a header and an error message.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(error_envelope(
                    &format!("Incorrect API key provided: {CANARY} (Bearer {CANARY})"),
                    "invalid_request_error",
                    Some("invalid_api_key"),
                ))
                .insert_header("x-echo-key", CANARY)
                .insert_header("x-goog-api-key", CANARY),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"object": "list", "data": [], "echo": CANARY})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}/v1?key={CANARY}", server.uri());
    let targets = targets_file(dir.path(), &base, ", header: x-goog-api-key");
    let rec_dir = dir.path().join("rec");
    let rec = rec_dir.display().to_string();
    let args = [
        "run",
        "--targets",
        &targets,
        "--target",
        "live",
        "--suite",
        "chat",
        "--suite",
        "errors",
        "--suite",
        "models",
    ];
    let recorded = run_cli(
        &[&args[..], &["--record", &rec]].concat(),
        &[(KEY_VAR, CANARY)],
    )
    .await;
    assert!(
        recorded.stderr.contains("recordings: "),
        "{}",
        recorded.stderr
    );
    let text = all_files(&rec_dir);
    assert!(!text.is_empty());
    assert!(!shows_canary(&text), "the canary reached a recording");
    assert!(!text.to_ascii_lowercase().contains("\"x-goog-api-key\""));
    assert!(!text.to_ascii_lowercase().contains("\"authorization\""));

    drop(server);
    let replayed = run_cli(&[&args[..], &["--replay", &rec]].concat(), &[]).await;
    assert_eq!(replayed.code, recorded.code, "{}", replayed.stderr);
    // The recordings hold the redacted echo, and so did the recorded run's reasons.
    assert_eq!(outcomes(&recorded), outcomes(&replayed));
    assert!(!shows_canary(&replayed.all_output()));
}

#[tokio::test]
async fn a_recorded_transport_error_replays_as_the_same_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat_completion("late"))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec").display().to_string();
    let url = format!("{}/v1", server.uri());
    let mut args = case_args("chat", "chat/basic", &url, &["chat=m"]);
    args.extend(["--timeout", "1"]);
    let recorded = run_cli(&[&args[..], &["--record", &rec]].concat(), &[]).await;
    let (o, reason) = recorded.outcome("adhoc", "chat/basic");
    assert_eq!(o, "error", "{reason}");
    drop(server);
    let replayed = run_cli(&[&args[..], &["--replay", &rec]].concat(), &[]).await;
    assert_eq!(replayed.outcome("adhoc", "chat/basic"), (o, reason));
}
