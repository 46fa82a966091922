//! Shared helpers for the integration tests: run the real `llm-parity` binary against real local
//! HTTP servers (wiremock, the built-in reference endpoint, small axum/tokio servers) and read
//! the report it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_llm-parity"))
}

/// A planted key: no output byte may ever contain it.
pub const CANARY: &str = "canary-Zq9xLmP2vT8wRk4Qy7Ns";

/// What gives a secret away: its part after the last `-`. A terminal renderer may wrap a line
/// at a hyphen, which splits the whole string but never this part.
pub fn tell(secret: &str) -> &str {
    secret.rsplit('-').next().unwrap_or(secret)
}

/// Whether `text` holds the canary, whole or wrapped at its hyphen.
pub fn shows_canary(text: &str) -> bool {
    text.contains(tell(CANARY))
}

pub struct RunOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl RunOutput {
    /// The parsed `report.json` (panics with the run's output when missing).
    pub fn report(&self) -> Value {
        let p = self.report_dir.join("report.json");
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "no report.json ({e})\nexit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            )
        });
        serde_json::from_str(&text).expect("report.json is JSON")
    }

    /// `(outcome, reason)` of `suite/case` on `target`.
    pub fn outcome(&self, target: &str, case: &str) -> (String, String) {
        let (suite, id) = case.split_once('/').expect("suite/case");
        let report = self.report();
        let r = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["target"] == target && r["suite"] == suite && r["case"] == id)
            .unwrap_or_else(|| {
                panic!(
                    "no result for {target} {case}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout, self.stderr
                )
            });
        outcome_of(r)
    }

    /// `(outcome, reason)` of every result, in the report's order.
    pub fn outcomes(&self) -> Vec<(String, String)> {
        self.report()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(outcome_of)
            .collect()
    }

    /// Every byte written: stdout, stderr and every file under the report directory.
    pub fn all_output(&self) -> String {
        let mut s = format!("{}\n{}\n", self.stdout, self.stderr);
        for entry in walk(&self.report_dir) {
            s.push_str(&String::from_utf8_lossy(
                &std::fs::read(entry).unwrap_or_default(),
            ));
        }
        s
    }
}

/// `(outcome, reason)` of one result of a report (no reason: empty).
fn outcome_of(result: &Value) -> (String, String) {
    (
        result["outcome"].as_str().unwrap().to_string(),
        result["reason"].as_str().unwrap_or("").to_string(),
    )
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// How long [`run_cli`] lets one run take before failing the test as a hang.
pub const RUN_DEADLINE_SECS: u64 = 360;

/// Run the CLI with `args`; the repo's suites, a fresh report directory (unless `args` names
/// one), no inherited `OPENAI_*` variables, and a hard deadline (a hang is a test failure, not
/// a stuck CI). The deadline is far above any run's time: the largest, every built-in suite
/// against each of the 30 reference deviations, takes ~27 s in a release build and ~90 s in
/// the tests' debug build on two cores, and passed 120 s once on a machine shared with a build.
/// Diagnostics as one line per problem: the renderer wraps long messages and help at 80
/// columns (`  │ ` and deep indentation continue a line), which a phrase search must not see.
pub fn unwrapped(stderr: &str) -> String {
    stderr.replace("\n  │ ", " ").replace("\n        ", " ")
}

pub async fn run_cli(args: &[&str], env: &[(&str, &str)]) -> RunOutput {
    run_cli_in(&repo(), args, env).await
}

/// `run_cli` with `cwd` as the current directory (a user's project, an empty directory).
pub async fn run_cli_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> RunOutput {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("reports");
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_MODEL")
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    if args.first() == Some(&"run") {
        if !args.contains(&"--report-dir") {
            cmd.arg("--report-dir").arg(&report_dir);
        }
        cmd.arg("--no-progress");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(RUN_DEADLINE_SECS), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("llm-parity did not finish within {RUN_DEADLINE_SECS} s"))
        .expect("llm-parity runs");
    RunOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report_dir,
        _dir: dir,
    }
}

/// The arguments of a `run` of `case` from `suite` (a shipped suite's name or a suite file)
/// against an ad-hoc target at `base_url` (named `adhoc`) with the given `ROLE=ID` models.
pub fn case_args<'a>(
    suite: &'a str,
    case: &'a str,
    base_url: &'a str,
    models: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--suite",
        suite,
        "--filter",
        case,
        "--base-url",
        base_url,
    ];
    for m in models {
        args.extend(["--model", m]);
    }
    args
}

/// Run one case of the shipped suites against an ad-hoc target at `base_url` (named `adhoc`).
pub async fn run_case(base_url: &str, case: &str, models: &[&str]) -> RunOutput {
    let suite = case.split('/').next().unwrap();
    run_cli(&case_args(suite, case, base_url, models), &[]).await
}

/// Start the built-in reference endpoint (OpenAI profile, no delays) requiring `api_key`; its
/// address and the serving task.
pub async fn reference_endpoint(
    api_key: &str,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(llm_parity_reference::serve(
        listener,
        llm_parity_reference::Config {
            deviations: llm_parity_reference::Deviations::NONE,
            api_key: Some(api_key.into()),
            delay_ms: 0,
            stream_delay_ms: 0,
        },
    ));
    (addr, server)
}

/// The reference endpoint's (OpenAI profile) models as a targets file's `models` map body:
/// `chat: …, embedding: …`.
pub fn reference_models() -> String {
    llm_parity_reference::models()
        .into_iter()
        .map(|(r, id)| format!("{r}: {id}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A conformant chat.completion as OpenAI documents it, for tests to break one field at a time.
pub fn chat_completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1_735_689_600,
        "model": "m",
        "system_fingerprint": "fp_1",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    })
}

/// OpenAI's error envelope.
pub fn error_envelope(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// Write `text` to a file `name` in a temporary directory and return (dir, path).
pub fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

/// A targets file `targets.yaml` in `dir` with one target `t` at `{uri}/v1` with the chat model
/// `m`, and `fields` (more of its fields, each line indented by four spaces) after; its path.
pub fn target_t(dir: &Path, uri: &str, fields: &str) -> String {
    let p = dir.join("targets.yaml");
    std::fs::write(
        &p,
        format!("targets:\n  t:\n    base_url: {uri}/v1\n    models: {{ chat: m }}\n{fields}"),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

/// `run --targets <targets> --target t` (the file [`target_t`] writes) and `args`.
pub async fn run_t(targets: &str, args: &[&str], env: &[(&str, &str)]) -> RunOutput {
    let mut all = vec!["run", "--targets", targets, "--target", "t"];
    all.extend(args);
    run_cli(&all, env).await
}

/// An `auth: command:` helper counting its runs in a file in `dir`: its n-th run prints `tok-n`,
/// so an endpoint accepting only `tok-2` refuses the first token and takes the refreshed one.
pub fn counting_token_command(dir: &Path) -> String {
    format!(
        "echo x >> {0}; printf 'tok-%s' $(wc -l < {0})",
        dir.join("n").display()
    )
}

/// Write a suite file into a temporary directory and return (dir, path).
pub fn temp_suite(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    temp_file("suite.yaml", yaml)
}

/// A wiremock server answering `POST /v1/chat/completions` with `body`.
pub async fn chat_server(status: u16, body: Value) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(wiremock::ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

/// A run of `args` whose selection needs `role`, which no model is mapped to, stops before
/// sending anything, naming the role; with `--allow-missing-models` it runs: that run.
pub async fn run_allowing_missing(args: &[&str], role: &str) -> RunOutput {
    let out = run_cli(args, &[]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("no `{role}` model")),
        "{}",
        out.stderr
    );
    let mut args = args.to_vec();
    args.push("--allow-missing-models");
    run_cli(&args, &[]).await
}

/// Run one shipped case against a server that answers chat completions with `body`;
/// `(outcome, reason)`.
pub async fn json_case(case: &str, status: u16, body: Value) -> (String, String) {
    let server = chat_server(status, body).await;
    let out = run_case(&format!("{}/v1", server.uri()), case, &["chat=m"]).await;
    out.outcome("adhoc", case)
}

/// The outcome is `outcome` and its reason mentions `reason_part`.
pub fn assert_outcome(got: (String, String), outcome: &str, reason_part: &str) {
    assert_eq!(got.0, outcome, "reason: {}", got.1);
    assert!(
        got.1.contains(reason_part),
        "reason {:?} lacks {:?}",
        got.1,
        reason_part
    );
}

/// Run one case (opt-in cases included) against a server answering every chat request with
/// `status` and `body`, with the given `ROLE=ID` models; `(outcome, reason, warnings)`.
pub async fn case_with_warnings(
    models: &[&str],
    case: &str,
    status: u16,
    body: Value,
) -> (String, String, Vec<String>) {
    let server = chat_server(status, body).await;
    let base = format!("{}/v1", server.uri());
    let suite = case.split('/').next().unwrap();
    let mut args = case_args(suite, case, &base, models);
    args.push("--opt-in");
    let out = run_cli(&args, &[]).await;
    let (outcome, reason) = out.outcome("adhoc", case);
    let warnings = out.report()["results"][0]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect();
    (outcome, reason, warnings)
}

/// [`assert_outcome`] for a `(outcome, reason, warnings)` triple.
pub fn assert_outcome_of(got: &(String, String, Vec<String>), outcome: &str, reason_part: &str) {
    assert_eq!(got.0, outcome, "reason: {} warnings: {:?}", got.1, got.2);
    assert!(
        got.1.contains(reason_part),
        "reason {:?} lacks {:?}",
        got.1,
        reason_part
    );
}

/// Every violation of `value` against the published schema `schemas/<file>` (empty when it
/// validates), each as "message at /json/pointer".
pub fn schema_errors(file: &str, value: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("schemas").join(file)).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("schemas/{file} does not compile: {e}"));
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The report validates against its own published contract (`schemas/report.schema.json`).
pub fn validate_report(report: &Value) {
    let errors = schema_errors("report.schema.json", report);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The runbook validates against its own published contract (`schemas/runbook.schema.json`).
pub fn validate_runbook(runbook: &Value) {
    let errors = schema_errors("runbook.schema.json", runbook);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Read one request (head and a Content-Length body) from a raw test server's socket; the head
/// as text, `None` when the client closed first.
pub async fn read_request<S: tokio::io::AsyncRead + Unpin>(sock: &mut S) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

/// The first exchange of case `id` (its id within its suite) in a report.
pub fn exchange<'a>(report: &'a Value, id: &str) -> &'a Value {
    let r = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {report:#}"));
    &r["exchanges"][0]
}
