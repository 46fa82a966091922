//! The runtime snapshot store (`--snapshots`, `llm-parity snapshots …`): modes, redaction,
//! the verify/new/update/pending workflows, CI behaviour and the pending exit code. Every run
//! uses its own `--snapshots-dir`, so no test writes into the repository.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A scripted endpoint whose response can be swapped between runs.
struct Endpoint {
    server: MockServer,
}

impl Endpoint {
    async fn new() -> Self {
        Endpoint {
            server: MockServer::start().await,
        }
    }
    async fn json(&self, status: u16, body: Value) {
        self.server.reset().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
    }
    async fn sse(&self, body: String) {
        self.server.reset().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "text/event-stream"),
            )
            .mount(&self.server)
            .await;
    }
    fn url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }
}

/// `llm-parity run` of one case against the endpoint (target `adhoc`) with a snapshot dir.
async fn run_snap(
    ep: &Endpoint,
    suite: &str,
    case: &str,
    dir: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> RunOutput {
    let url = ep.url();
    let dir = dir.display().to_string();
    let mut args = case_args(suite, case, &url, &["chat=m"]);
    args.extend(["--snapshots-dir", &dir]);
    args.extend_from_slice(extra);
    run_cli(&args, env).await
}

/// A fresh endpoint answering `chat_completion("Hello there.")`, and an empty snapshot dir.
async fn hello_endpoint() -> (Endpoint, tempfile::TempDir) {
    let ep = Endpoint::new().await;
    let dir = tempfile::tempdir().unwrap();
    ep.json(200, chat_completion("Hello there.")).await;
    (ep, dir)
}

/// Store the snapshot of one case: [`run_snap`] with `--snapshots new`.
async fn record(ep: &Endpoint, suite: &str, case: &str, dir: &Path) -> RunOutput {
    run_snap(ep, suite, case, dir, &["--snapshots", "new"], &[]).await
}

/// `llm-parity snapshots <args…> --snapshots-dir <dir>`.
async fn snapshots_cmd(args: &[&str], dir: &str) -> RunOutput {
    let mut full = vec!["snapshots"];
    full.extend_from_slice(args);
    full.extend(["--snapshots-dir", dir]);
    run_cli(&full, &[]).await
}

fn snap_file(dir: &Path, case: &str) -> PathBuf {
    dir.join("adhoc").join(format!("{case}.snap"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The result entry of the one case of a run.
fn result(out: &RunOutput) -> Value {
    let r = out.report();
    assert_eq!(r["results"].as_array().unwrap().len(), 1, "{}", out.stderr);
    r["results"][0].clone()
}

fn assert_pass(out: &RunOutput) {
    let r = result(out);
    assert_eq!(r["outcome"], "pass", "{r:#}\n{}", out.stderr);
}

/// A chat completion with every volatile field different from `chat_completion`'s.
fn other_wording() -> Value {
    let mut b = chat_completion("Completely different words, and more of them.");
    b["id"] = json!("chatcmpl-zzz999");
    b["created"] = json!(1_800_000_000);
    b["system_fingerprint"] = json!("fp_other");
    b["usage"] = json!({"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29});
    b
}

/// `chat_completion("Hello there.")` plus an extension field: it passes every check but changes
/// the wire structure.
fn with_extension_field() -> Value {
    let mut b = chat_completion("Hello there.");
    b["x_provider"] = json!("router");
    b
}

/// A streamed answer: `pieces` are the content deltas (the role rides on the first chunk when
/// `role_alone` is false).
fn sse(id: &str, pieces: &[&str], role_alone: bool) -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 1_735_689_600, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = Vec::new();
    if role_alone {
        events.push(chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        ));
        for p in pieces {
            events.push(chunk(json!({"content": p}), Value::Null));
        }
    } else {
        let (first, rest) = pieces.split_first().unwrap();
        events.push(chunk(
            json!({"role": "assistant", "content": first}),
            Value::Null,
        ));
        for p in rest {
            events.push(chunk(json!({"content": p}), Value::Null));
        }
    }
    events.push(chunk(json!({}), json!("stop")));
    let mut s: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

const EXACT_SUITE: &str = r#"
suite: snapx
description: snapshot modes on a scripted endpoint
redact: ["$.choices[*].message.refusal"]
cases:
  - id: exact
    feature: chat.basic
    snapshot: exact
    request:
      path: /chat/completions
      body:
        model: "{{model.chat}}"
        messages: [{ role: user, content: "Say hi." }]
    expect:
      status: 200
  - id: masked
    feature: chat.basic
    snapshot: exact
    request:
      path: /chat/completions
      body:
        model: "{{model.chat}}"
        messages: [{ role: user, content: "Say hi." }]
    expect:
      status: 200
"#;

const MASKED_SUITE: &str = r#"
suite: snapm
description: a redaction selector hides the wording in exact mode
redact: ["$.choices[*].message.content"]
cases:
  - id: masked
    feature: chat.basic
    snapshot: exact
    request:
      path: /chat/completions
      body:
        model: "{{model.chat}}"
        messages: [{ role: user, content: "Say hi." }]
    expect:
      status: 200
"#;

#[tokio::test]
async fn shape_is_stable_across_wording_and_volatile_fields() {
    let (ep, dir) = hello_endpoint().await;
    let out = record(&ep, "chat", "chat/basic", dir.path()).await;
    assert_pass(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let snap = read(&snap_file(dir.path(), "chat/basic"));
    assert!(
        snap.starts_with("---\nsuite: chat\ncase: basic\ntarget: adhoc\nmodel: m\n"),
        "{snap}"
    );
    assert!(
        snap.contains("mode: shape") && snap.contains("\"content\": \"string\""),
        "{snap}"
    );
    assert!(
        snap.contains("\"id\": \"[redacted]\"")
            && snap.contains("\"prompt_tokens\": \"[redacted]\""),
        "{snap}"
    );
    assert!(
        !snap.contains("Hello there"),
        "shape mode keeps no wording: {snap}"
    );

    ep.json(200, other_wording()).await;
    let out = run_snap(&ep, "chat", "chat/basic", dir.path(), &[], &[]).await;
    assert_pass(&out);
    assert!(
        out.stderr.contains("snapshots: 1 matched, 0 mismatched"),
        "{}",
        out.stderr
    );
    assert_eq!(
        read(&snap_file(dir.path(), "chat/basic")),
        snap,
        "verify writes nothing"
    );
}

#[tokio::test]
async fn a_shape_mismatch_fails_with_a_diff() {
    let (ep, dir) = hello_endpoint().await;
    record(&ep, "chat", "chat/basic", dir.path()).await;
    let stored = read(&snap_file(dir.path(), "chat/basic"));

    // An extension field passes every check but changes the wire structure.
    ep.json(200, with_extension_field()).await;
    let out = run_snap(&ep, "chat", "chat/basic", dir.path(), &[], &[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = result(&out);
    assert_eq!(r["outcome"], "fail");
    assert_eq!(
        r["reason"], "snapshot mismatch: line 25: `\"x_provider\": \"string\"` added",
        "{r:#}"
    );
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "snapshot")
        .expect("a snapshot check");
    let msg = check["message"].as_str().unwrap();
    assert!(
        msg.contains("--- ") && msg.contains("+++ this run"),
        "{msg}"
    );
    assert!(msg.contains("+    \"x_provider\": \"string\"\n"), "{msg}");
    assert!(
        check["at"].as_str().unwrap().ends_with("basic.snap"),
        "{check}"
    );
    assert!(out.stdout.contains("snapshot mismatch"), "{}", out.stdout);
    assert!(read(&out.report_dir.join("junit.xml")).contains("x_provider"));
    // `new` does not overwrite a changed snapshot either.
    let out = record(&ep, "chat", "chat/basic", dir.path()).await;
    assert_eq!(result(&out)["outcome"], "fail");
    assert_eq!(read(&snap_file(dir.path(), "chat/basic")), stored);
}

#[tokio::test]
async fn exact_mode_pins_values_but_not_volatile_fields() {
    let (ep, dir) = hello_endpoint().await;
    let (_sdir, suite) = temp_suite(EXACT_SUITE);
    let suite = suite.display().to_string();
    let out = record(&ep, &suite, "snapx/exact", dir.path()).await;
    assert_pass(&out);
    let snap = read(&snap_file(dir.path(), "snapx/exact"));
    assert!(snap.contains("\"content\": \"Hello there.\""), "{snap}");
    assert!(
        snap.contains("\"refusal\": \"[redacted]\""),
        "suite selector: {snap}"
    );
    assert!(snap.contains("\"created\": \"[redacted]\""), "{snap}");

    // Same answer, every volatile field different: still a match.
    let mut same = other_wording();
    same["choices"][0]["message"]["content"] = json!("Hello there.");
    ep.json(200, same).await;
    assert_pass(&run_snap(&ep, &suite, "snapx/exact", dir.path(), &[], &[]).await);

    // Other wording: exact mode notices.
    ep.json(200, other_wording()).await;
    let out = run_snap(&ep, &suite, "snapx/exact", dir.path(), &[], &[]).await;
    let r = result(&out);
    assert_eq!(r["outcome"], "fail");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .starts_with("snapshot mismatch: line 9: `\"content\": \"Hello there.\"` became `\"content\": \"Completely different"),
        "{r:#}"
    );
}

#[tokio::test]
async fn redaction_selectors_hide_chosen_values() {
    let (ep, dir) = hello_endpoint().await;
    let (_sdir, suite) = temp_suite(MASKED_SUITE);
    let suite = suite.display().to_string();
    record(&ep, &suite, "snapm/masked", dir.path()).await;
    ep.json(200, other_wording()).await;
    assert_pass(&run_snap(&ep, &suite, "snapm/masked", dir.path(), &[], &[]).await);
}

#[tokio::test]
async fn stream_mode_is_stable_across_rechunking() {
    let ep = Endpoint::new().await;
    let dir = tempfile::tempdir().unwrap();
    ep.sse(sse("chatcmpl-a", &["Hel", "lo", " the", "re."], true))
        .await;
    let out = record(&ep, "streaming", "streaming/basic", dir.path()).await;
    assert_pass(&out);
    let snap = read(&snap_file(dir.path(), "streaming/basic"));
    assert!(snap.contains("mode: stream"), "{snap}");
    assert!(
        snap.contains(
            "\"events\": [\n    \"role\",\n    \"content×N\",\n    \"finish\",\n    \"[DONE]\"\n  ]"
        ),
        "{snap}"
    );
    assert!(snap.contains("\"content\": \"Hello there.\""), "{snap}");

    // One content chunk carrying the role, another id: the same snapshot.
    ep.sse(sse("chatcmpl-b", &["Hello there."], false)).await;
    assert_pass(&run_snap(&ep, "streaming", "streaming/basic", dir.path(), &[], &[]).await);

    // Other words: the reassembled message differs.
    ep.sse(sse("chatcmpl-c", &["Goodbye."], false)).await;
    let out = run_snap(&ep, "streaming", "streaming/basic", dir.path(), &[], &[]).await;
    let r = result(&out);
    assert_eq!(r["outcome"], "fail", "{r:#}");
    assert!(r["reason"].as_str().unwrap().contains("Goodbye."), "{r:#}");
}

#[tokio::test]
async fn update_overwrites_a_changed_snapshot() {
    let (ep, dir) = hello_endpoint().await;
    record(&ep, "chat", "chat/basic", dir.path()).await;
    ep.json(200, with_extension_field()).await;
    let out = run_snap(
        &ep,
        "chat",
        "chat/basic",
        dir.path(),
        &["--snapshots", "update"],
        &[],
    )
    .await;
    assert_pass(&out);
    assert_eq!(out.code, 0);
    let r = result(&out);
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .contains("snapshot updated"),
        "{r:#}"
    );
    assert!(read(&snap_file(dir.path(), "chat/basic")).contains("x_provider"));
    assert_pass(&run_snap(&ep, "chat", "chat/basic", dir.path(), &[], &[]).await);
}

#[tokio::test]
async fn pending_review_accept_and_reject() {
    let (ep, dir) = hello_endpoint().await;
    let d = dir.path().display().to_string();
    record(&ep, "chat", "chat/basic", dir.path()).await;
    let snap = snap_file(dir.path(), "chat/basic");
    let new = dir.path().join("adhoc/chat/basic.snap.new");
    let stored = read(&snap);

    ep.json(200, with_extension_field()).await;
    let pending = |extra: &'static [&'static str]| {
        let ep = &ep;
        let dir = dir.path().to_path_buf();
        async move { run_snap(ep, "chat", "chat/basic", &dir, extra, &[]).await }
    };
    // Outside CI, pending changes do not fail the run.
    let out = pending(&["--snapshots", "pending"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_pass(&out);
    assert!(out.stderr.contains("1 pending review"), "{}", out.stderr);
    assert!(new.is_file());
    assert_eq!(
        read(&snap),
        stored,
        "pending leaves the stored snapshot alone"
    );

    let out = snapshots_cmd(&["review"], &d).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("adhoc/chat/basic"), "{}", out.stdout);
    assert!(
        out.stdout.contains("+    \"x_provider\": \"string\"\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 pending snapshot(s)"),
        "{}",
        out.stdout
    );

    let out = snapshots_cmd(&["accept", "other/*"], &d).await;
    assert!(
        out.stdout
            .contains("no pending snapshots matching `other/*`"),
        "{}",
        out.stdout
    );
    assert!(new.is_file());

    let out = snapshots_cmd(&["reject", "adhoc/chat/*"], &d).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !new.exists() && read(&snap) == stored,
        "reject deletes only the .new file"
    );

    pending(&["--snapshots", "pending"]).await;
    let out = snapshots_cmd(&["accept", "adhoc/*"], &d).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("accepted adhoc/chat/basic"),
        "{}",
        out.stdout
    );
    assert!(!new.exists() && read(&snap).contains("x_provider"));
    assert_pass(&pending(&[]).await);

    let out = snapshots_cmd(&["review", "["], &d).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("invalid snapshot glob `[`"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn snapshot_commands_take_the_target_as_the_user_writes_it() {
    let (ep, dir) = hello_endpoint().await;
    let d = dir.path().display().to_string();
    let named = |mode| ["--name", "local:gw", "--snapshots", mode];
    let (new_mode, pending) = (named("new"), named("pending"));
    run_snap(&ep, "chat", "chat/basic", dir.path(), &new_mode, &[]).await;
    ep.json(200, with_extension_field()).await;
    run_snap(&ep, "chat", "chat/basic", dir.path(), &pending, &[]).await;
    // Stored under the directory form of the name (`local_gw`), shown and matched by the name.
    let new = dir.path().join("local_gw/chat/basic.snap.new");
    assert!(new.is_file());
    let out = snapshots_cmd(&["review", "local:gw/*"], &d).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("── local:gw/chat/basic"),
        "{}",
        out.stdout
    );
    // The directory form still matches.
    let out = snapshots_cmd(&["review", "local_gw/chat/*"], &d).await;
    assert!(
        out.stdout.contains("1 pending snapshot(s)"),
        "{}",
        out.stdout
    );
    let out = snapshots_cmd(&["accept", "local:gw/chat/basic"], &d).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("accepted local:gw/chat/basic"),
        "{}",
        out.stdout
    );
    assert!(!new.exists());
}

#[tokio::test]
async fn a_missing_snapshot_fails_only_in_ci() {
    let (ep, dir) = hello_endpoint().await;
    let out = run_snap(&ep, "chat", "chat/basic", dir.path(), &[], &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = result(&out);
    assert_eq!(r["outcome"], "pass");
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no stored snapshot"),
        "{r:#}"
    );
    assert!(out.stderr.contains("1 missing"), "{}", out.stderr);
    assert!(support_walk_empty(dir.path()), "verify writes nothing");

    let out = run_snap(
        &ep,
        "chat",
        "chat/basic",
        dir.path(),
        &[],
        &[("CI", "true")],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = result(&out);
    assert_eq!(r["outcome"], "fail");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .starts_with("snapshot missing: "),
        "{r:#}"
    );
    assert!(
        support_walk_empty(dir.path()),
        "CI never writes snapshots silently"
    );
}

fn support_walk_empty(dir: &Path) -> bool {
    walk(dir).is_empty()
}

#[tokio::test]
async fn pending_in_ci_has_its_own_exit_code() {
    let (ep, dir) = hello_endpoint().await;
    let ci = [("CI", "true")];
    let out = run_snap(
        &ep,
        "chat",
        "chat/basic",
        dir.path(),
        &["--snapshots", "pending"],
        &ci,
    )
    .await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_pass(&out);
    assert!(dir.path().join("adhoc/chat/basic.snap.new").is_file());

    // A failure takes precedence over pending snapshots.
    let mut b = chat_completion("Hello there.");
    b["choices"][0]["finish_reason"] = json!("STOP");
    ep.json(200, b).await;
    let out = run_snap(
        &ep,
        "chat",
        "chat/basic",
        dir.path(),
        &["--snapshots", "pending"],
        &ci,
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);

    let out = run_cli(&["--help"], &[]).await;
    assert!(
        out.stdout.contains("3 snapshots pending review"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn the_canary_never_reaches_a_snapshot() {
    let ep = Endpoint::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (_sdir, suite) = temp_suite(EXACT_SUITE);
    let suite = suite.display().to_string();
    // A hostile endpoint echoes the key in the answer.
    let mut b = chat_completion(&format!("your key is {CANARY}, Bearer {CANARY}"));
    b["model"] = json!(CANARY);
    ep.json(200, b).await;
    let env = [("SNAP_CANARY_KEY", CANARY)];
    let key = ["--api-key-env", "SNAP_CANARY_KEY"];
    let new: Vec<&str> = key.iter().copied().chain(["--snapshots", "new"]).collect();
    let out = run_snap(&ep, &suite, "snapx/exact", dir.path(), &new, &env).await;
    assert_pass(&out);
    ep.json(200, chat_completion(&format!("now {CANARY}!")))
        .await;
    let pending: Vec<&str> = key
        .iter()
        .copied()
        .chain(["--snapshots", "pending"])
        .collect();
    let out2 = run_snap(&ep, &suite, "snapx/exact", dir.path(), &pending, &env).await;
    let d = dir.path().display().to_string();
    let review = snapshots_cmd(&["review"], &d).await;

    let files = walk(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let mut all = out.all_output() + &out2.all_output() + &review.stdout + &review.stderr;
    for f in &files {
        all.push_str(&read(f));
    }
    assert!(!shows_canary(&all), "the canary leaked");
    assert!(read(&snap_file(dir.path(), "snapx/exact")).contains("your key is ***"));
}

/// `llm-parity validate` of a suite with a bad redaction selector and snapshot mode `mode`.
async fn validate_bad_suite(mode: &str) -> RunOutput {
    let (_d, p) = temp_suite(&format!(
        r#"suite: bad
description: bad snapshot settings
redact: ["$.ok", "$.choices[", "$..fine"]
cases:
  - id: one
    feature: chat.basic
    snapshot: {mode}
    request: {{ path: /models }}
"#
    ));
    run_cli(&["validate", "--suite", &p.display().to_string()], &[]).await
}

#[tokio::test]
async fn bad_snapshot_settings_are_load_errors() {
    let out = validate_bad_suite("shap").await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("`cases[0].snapshot` cannot be `shap`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("shape") && out.stderr.contains("stream"),
        "{}",
        out.stderr
    );

    let out = validate_bad_suite("shape").await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("suite.yaml:3:19]")
            && out
                .stderr
                .contains("invalid redaction selector `$.choices[`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("expected a JSONPath"), "{}", out.stderr);

    let out = run_cli(&["run", "--snapshots", "sometimes"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("verify, new, update, pending"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn the_reference_snapshots_verify_by_default() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "chat",
            "--suite",
            "streaming",
            "--suite",
            "errors",
        ],
        &[("CI", "true")],
    )
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("snapshots: 4 matched, 0 mismatched, 0 missing"),
        "{}",
        out.stderr
    );
}

const CALLS_SUITE: &str = r#"
suite: snapt
description: streamed tool calls, snapshot and check side by side
cases:
  - id: snap
    feature: tools.streaming
    snapshot: stream
    request: &request
      path: /chat/completions
      body:
        model: "{{model.chat}}"
        stream: true
        messages: [{ role: user, content: "Weather and time in Paris." }]
        tool_choice: required
        tools:
          - { type: function, function: { name: get_weather, parameters: { type: object, properties: { city: { type: string } }, required: [city] } } }
          - { type: function, function: { name: get_time, parameters: { type: object, properties: { tz: { type: string } }, required: [tz] } } }
    expect:
      status: 200
  - id: check
    feature: tools.streaming
    request: *request
    expect:
      status: 200
      checks: [tools.stream_deltas]
"#;

/// Issue 15's bug: two calls streamed without `index` (Gemini's shape, QUIRKS S1) were one
/// call `{"x":1}{"y":2}` in the stream snapshot and two in the tools check. Both now read the
/// executor's one model: two calls, each with its own arguments, and the only finding is the
/// missing index.
#[tokio::test]
async fn stream_snapshots_and_the_tools_check_agree_on_calls_without_index() {
    let ep = Endpoint::new().await;
    let dir = tempfile::tempdir().unwrap();
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1_735_689_600, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let call = |id: &str, name: &str, args: &str| json!({"tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": args}}]});
    let mut first = call("call_a", "get_weather", "{\"city\":\"Paris\"}");
    first["role"] = json!("assistant");
    let events = [
        chunk(first, Value::Null),
        chunk(
            call("call_b", "get_time", "{\"tz\":\"Europe/Paris\"}"),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ];
    let mut body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    ep.sse(body).await;
    let (_d, suite) = temp_suite(CALLS_SUITE);
    let suite = suite.display().to_string();
    let url = ep.url();
    let snaps = dir.path().display().to_string();
    let args = [
        "run",
        "--suite",
        &suite,
        "--base-url",
        &url,
        "--model",
        "chat=m",
        "--snapshots-dir",
        &snaps,
        "--snapshots",
        "new",
    ];
    let out = run_cli(&args, &[]).await;
    let (outcome, reason) = out.outcome("adhoc", "snapt/snap");
    assert_eq!(outcome, "pass", "{reason}");
    let report = out.report();
    let check = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == "check")
        .unwrap();
    assert_eq!(check["outcome"], "fail", "{check:#}");
    let failures: Vec<&str> = check["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0].contains("has no `index` (QUIRKS S1"),
        "{failures:?}"
    );
    let snap = read(&snap_file(dir.path(), "snapt/snap"));
    let body = &snap[snap.find("\n{").expect("a JSON document") + 1..];
    let doc: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {snap}"));
    let calls = doc["message"]["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap_or_else(|| panic!("{snap}"));
    let args: Vec<&Value> = calls.iter().map(|c| &c["function"]["arguments"]).collect();
    assert_eq!(
        args,
        [
            &json!("{\"city\":\"Paris\"}"),
            &json!("{\"tz\":\"Europe/Paris\"}")
        ],
        "{snap}"
    );
}
