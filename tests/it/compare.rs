//! Comparing targets: the difference view, repeats and flakiness, router hop latency, report
//! formats; and the auth styles a target can use.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn reference_vs_gemini_compat_names_the_emulated_deviations() {
    // As a user's CI runs it: from a directory of its own (the shipped snapshots of both
    // targets come from the binary), `CI=true`, 80 columns, no colour.
    let cwd = tempfile::tempdir().unwrap();
    let out = run_cli_in(
        cwd.path(),
        &[
            "run",
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
        ],
        &[("CI", "true"), ("COLUMNS", "80")],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    let diffs = report["differences"].as_array().expect("differences");
    let find = |case: &str| {
        diffs
            .iter()
            .find(|d| {
                format!(
                    "{}/{}",
                    d["suite"].as_str().unwrap(),
                    d["case"].as_str().unwrap()
                ) == case
            })
            .cloned()
    };
    // E1: list-wrapped error bodies — the shape diff shows an object turning into an array.
    let bad_model = find("errors/bad-model").expect("errors/bad-model differs");
    let diff = bad_model["shape_diffs"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("-{") && diff.contains("+["), "{diff}");
    // E2: bad key answered with 400.
    assert!(find("errors/bad-key").is_some());
    // L1: models/ prefixed ids.
    assert!(find("models/configured-ids").is_some());
    // Conformant behaviour is not reported as a difference.
    assert!(find("chat/basic").is_none(), "chat/basic must pass on both");
    // The terminal leads with the failures and their reasons, then the difference view; no
    // shape diff without --diff.
    let d = out
        .stdout
        .find("differences between targets")
        .expect("difference view");
    let f = out.stdout.find("not passing").expect("failures");
    assert!(f < d, "{}", out.stdout);
    assert!(!out.stdout.contains("@@ "), "{}", out.stdout);
    assert!(out.stdout.contains("list-wrapped"), "{}", out.stdout);
    // Readable in a CI log: under 200 lines, none wider than the terminal, and no case fails
    // for want of a snapshot the project ships.
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() < 200, "{} lines:\n{}", lines.len(), out.stdout);
    for l in &lines {
        assert!(l.chars().count() <= 80, "wider than 80 columns: {l:?}");
    }
    assert!(!out.stdout.contains("snapshot missing"), "{}", out.stdout);
    // The same refusal at different steps of several cases is one group, each case naming
    // the step it stopped at.
    let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        flat.matches("Invalid URL (POST /v1/responses)").count(),
        2,
        "one group's reason and its client note: {}",
        out.stdout
    );
}

#[tokio::test]
async fn flaky_case_is_marked_and_gated_unless_allowed() {
    let server = MockServer::start().await;
    // First response conformant, then a broken one: pass then fail across repeats.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion("Hello")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let mut broken = chat_completion("Hello");
    broken["choices"][0]["finish_reason"] = json!("STOP");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(broken))
        .with_priority(2)
        .mount(&server)
        .await;
    let url = format!("{}/v1", server.uri());
    let mut args = case_args("chat", "chat/basic", &url, &["chat=m"]);
    args.extend(["--repeat", "3", "--concurrency", "1"]);
    let out = run_cli(&args, &[]).await;
    assert_eq!(out.code, 1);
    let r = &out.report()["results"][0];
    assert_eq!(r["flaky"], true, "{r}");
    assert_eq!(r["repeats"].as_array().unwrap().len(), 3);
    assert!(
        r["reason"].as_str().unwrap().starts_with("flaky (2/3"),
        "{}",
        r["reason"]
    );

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion("Hello")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let mut broken = chat_completion("Hello");
    broken["choices"][0]["finish_reason"] = json!("STOP");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(broken))
        .with_priority(2)
        .mount(&server)
        .await;
    let mut allowed = args.to_vec();
    allowed.push("--allow-flaky");
    let out = run_cli(&allowed, &[]).await;
    assert_eq!(out.code, 0, "{}", out.stdout);
}

async fn models_and_chat(server: &MockServer, delay: Duration) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat_completion("Hello"))
                .set_delay(delay),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn router_hop_latency_is_reported() {
    let direct = MockServer::start().await;
    let router = MockServer::start().await;
    models_and_chat(&direct, Duration::ZERO).await;
    models_and_chat(&router, Duration::from_millis(300)).await;
    let (_dir, targets) = temp_file(
        "targets.yaml",
        &format!(
            "targets:\n  direct:\n    base_url: {}/v1\n    models: {{ chat: m }}\n  router:\n    base_url: {}/v1\n    models: {{ chat: m }}\n    via: direct\n",
            direct.uri(),
            router.uri()
        ),
    );
    let t = targets.to_str().unwrap();
    let out = run_cli(
        &[
            "run",
            "--targets",
            t,
            "--target",
            "direct",
            "--target",
            "router",
            "--suite",
            "chat",
            "--filter",
            "chat/basic",
            "--repeat",
            "3",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.report();
    let hop = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["metric"] == "total")
        .cloned()
        .expect("hop row");
    assert_eq!(hop["router"], "router");
    assert_eq!(hop["upstream"], "direct");
    assert_eq!(hop["samples_router"], 3);
    // The router cannot answer before its injected 300 ms delay: a lower bound, not a timing race.
    assert!(hop["p50_delta_ms"].as_f64().unwrap() >= 150.0, "{hop}");
    assert!(
        out.stdout.contains("router hop router → direct"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn formats_and_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let out = run_cli(
        &["run", "--suite", "models", "--format", "junit,md"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    )
    .await;
    assert_eq!(out.code, 0);
    assert!(out.report_dir.join("junit.xml").is_file());
    assert!(out.report_dir.join("report.md").is_file());
    assert!(!out.report_dir.join("report.json").exists());
    assert!(!out.report_dir.join("report.html").exists());
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(
        s.contains("# llm-parity report") && s.contains("models.list"),
        "{s}"
    );
    // The summary is report.md, rendered once for both.
    let md = std::fs::read_to_string(out.report_dir.join("report.md")).unwrap();
    assert_eq!(s, md);
    let junit = std::fs::read_to_string(out.report_dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"reference/models\"") && junit.contains("tests=\"3\""),
        "{junit}"
    );
    // Without report.md, the summary is still the Markdown report.
    let alone = dir.path().join("alone.md");
    let out = run_cli(
        &["run", "--suite", "models", "--format", "junit"],
        &[("GITHUB_STEP_SUMMARY", alone.to_str().unwrap())],
    )
    .await;
    assert_eq!(out.code, 0);
    assert!(!out.report_dir.join("report.md").exists());
    let alone = std::fs::read_to_string(&alone).unwrap();
    assert!(alone.starts_with("# llm-parity report") && alone.contains("models.list"));
}

#[tokio::test]
async fn token_command_auth_is_used_and_refreshed_once_on_401() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [{"id": "m", "object": "model", "created": 1_700_000_000, "owned_by": "x"}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_envelope(
            "expired",
            "invalid_request_error",
            Some("invalid_api_key"),
        )))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    // The command prints tok-1 the first time and tok-2 the second: the first token is "expired".
    let cmd = counting_token_command(dir.path());
    let targets = dir.path().join("targets.yaml");
    std::fs::write(&targets, format!("targets:\n  vertex:\n    base_url: {}/v1\n    auth:\n      command: {:?}\n    models: {{ chat: m }}\n", server.uri(), cmd)).unwrap();
    let out = run_cli(
        &[
            "run",
            "--targets",
            targets.to_str().unwrap(),
            "--target",
            "vertex",
            "--suite",
            "models",
            "--filter",
            "models/list",
        ],
        &[],
    )
    .await;
    assert_eq!(
        out.outcome("vertex", "models/list").0,
        "pass",
        "{}",
        out.stdout
    );
    let all = out.all_output();
    assert!(
        !all.contains("tok-1") && !all.contains("tok-2"),
        "tokens from the command are secrets"
    );
}

#[tokio::test]
async fn named_header_auth_sends_the_key_there() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-goog-api-key", CANARY))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": []})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({})))
        .mount(&server)
        .await;
    let (_dir, targets) = temp_file(
        "targets.yaml",
        &format!(
            "targets:\n  g:\n    base_url: {}/v1beta/openai/\n    auth: {{ api_key_env: LLM_PARITY_CANARY, header: x-goog-api-key }}\n    models: {{ chat: m }}\n",
            server.uri()
        ),
    );
    let out = run_cli(
        &[
            "run",
            "--targets",
            targets.to_str().unwrap(),
            "--target",
            "g",
            "--suite",
            "models",
            "--filter",
            "models/list",
        ],
        &[("LLM_PARITY_CANARY", CANARY)],
    )
    .await;
    // Reached the mock that requires the header: the list is empty but well-formed.
    let (o, reason) = out.outcome("g", "models/list");
    assert_eq!(o, "pass", "{reason}");
    assert!(!shows_canary(&out.all_output()));
    let report: Value = out.report();
    assert!(
        report["results"][0]["exchanges"][0]["url"]
            .as_str()
            .unwrap()
            .contains("/v1beta/openai/models")
    );
}

#[tokio::test]
async fn example_targets_file_is_valid_when_uncommented() {
    let text = std::fs::read_to_string(repo().join("targets.example.yaml")).unwrap();
    // Uncomment the example targets (after the marker), not the explanatory header.
    let (head, examples) = text.split_once("# --- Hosted endpoints").expect("marker");
    let uncommented: String = examples
        .lines()
        .skip(1)
        .map(|l| {
            l.strip_prefix("#  ")
                .map(|r| format!("  {r}"))
                .unwrap_or_else(|| l.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n");
    let uncommented = format!("{head}\n{uncommented}\n");
    let (_dir, p) = temp_file("targets.yaml", &uncommented);
    let vars = [
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
        "FLATKEY_API_KEY",
        "OPENROUTER_API_KEY",
        "LITELLM_MASTER_KEY",
        "VERTEX_LOCATION",
        "VERTEX_PROJECT",
        "FLATKEY_GEMINI_MODEL",
    ];
    let env: Vec<(&str, &str)> = vars.iter().map(|v| (*v, "x-value")).collect();
    let out = run_cli(&["validate", "--targets", p.to_str().unwrap()], &env).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("10 target(s)"), "{}", out.stdout);
}
