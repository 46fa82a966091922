//! `llm-parity runbook`: the migration smoke test end to end — the built-in reference endpoint
//! and its gemini-compat profile for GO, GO WITH CAVEATS and NO-GO, and a wiremock router whose
//! catalogue uses different model ids (configuration warning, cost ratio, error shape, no key in
//! any output).

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

struct Runbook {
    out: RunOutput,
    dir: tempfile::TempDir,
}

impl Runbook {
    fn json(&self) -> Value {
        let p = self.dir.path().join("runbook.json");
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "no runbook.json ({e})\nexit {}\nstdout:\n{}\nstderr:\n{}",
                self.out.code, self.out.stdout, self.out.stderr
            )
        });
        serde_json::from_str(&text).expect("runbook.json is JSON")
    }
    fn md(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("runbook.md")).expect("runbook.md")
    }
    /// Every byte written: stdout, stderr, runbook.md and runbook.json.
    fn all_output(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.out.stdout,
            self.out.stderr,
            self.md(),
            serde_json::to_string(&self.json()).unwrap()
        )
    }
    /// Features of the blocking items.
    fn blockers(&self) -> Vec<String> {
        items(&self.json()["verdict"]["blockers"])
    }
    fn caveats(&self) -> Vec<String> {
        items(&self.json()["verdict"]["caveats"])
    }
}

fn items(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["feature"]
                .as_str()
                .or(i["step"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn runbook(args: &[&str], env: &[(&str, &str)]) -> Runbook {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().to_str().unwrap().to_string();
    let mut full = vec!["runbook", "--report-dir", &report_dir];
    full.extend_from_slice(args);
    let out = run_cli(&full, env).await;
    let rb = Runbook { out, dir };
    // Every runbook.json a test produces holds to the published contract.
    if rb.dir.path().join("runbook.json").exists() {
        validate_runbook(&rb.json());
    }
    rb
}

/// The runbook from the reference endpoint to its gemini-compat profile, using `uses`.
async fn reference_to_gemini_compat(uses: &str) -> Runbook {
    runbook(
        &[
            "--from",
            "reference",
            "--to",
            "reference:gemini-compat",
            "--uses",
            uses,
        ],
        &[],
    )
    .await
}

/// Ports and latencies change with every run.
fn snapshot_md(name: &str, md: &str) {
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"[+-]?\d+\.\d ms", "[T] ms"),
    ]}, {
        insta::assert_snapshot!(name, md);
    });
}

#[tokio::test]
async fn go_when_new_passes_every_used_feature() {
    let rb = runbook(
        &["--from", "reference:gemini-compat", "--to", "reference"],
        &[],
    )
    .await;
    assert_eq!(rb.out.code, 0, "{}\n{}", rb.out.stdout, rb.out.stderr);
    let j = rb.json();
    assert_eq!(j["verdict"]["decision"], "go");
    assert!(rb.blockers().is_empty() && rb.caveats().is_empty());
    assert!(
        rb.out.stdout.contains("verdict: GO (exit 0)"),
        "{}",
        rb.out.stdout
    );
    // Without --uses every area runs.
    let areas: Vec<&str> = j["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["area"].as_str().unwrap())
        .collect();
    for a in [
        "chat",
        "streaming",
        "tools",
        "vision",
        "audio",
        "structured_output",
        "embeddings",
    ] {
        assert!(areas.contains(&a), "{areas:?}");
    }
    // The rollback block is OLD's configuration.
    let old_url = j["from"]["base_url"].as_str().unwrap();
    let env_block = j["rollback"]["env_block"].as_str().unwrap();
    assert!(env_block.contains(&format!("export OPENAI_BASE_URL='{old_url}'")));
    assert!(env_block.contains("export OPENAI_MODEL='ref-chat'"));
    assert_eq!(j["rollback"]["target"], "reference:gemini-compat");
    snapshot_md("go", &rb.md());
}

#[tokio::test]
async fn caveats_when_deviations_are_outside_the_used_areas() {
    let rb = reference_to_gemini_compat("vision,structured_output").await;
    assert_eq!(rb.out.code, 4, "{}\n{}", rb.out.stdout, rb.out.stderr);
    let j = rb.json();
    assert_eq!(j["verdict"]["decision"], "go_with_caveats");
    assert!(rb.blockers().is_empty(), "{:?}", rb.blockers());
    let caveats = rb.caveats();
    // The list-wrapped error body (not a used feature) and the `models/`-prefixed catalogue.
    assert!(
        caveats.contains(&"errors.bad_model".to_string()),
        "{caveats:?}"
    );
    assert!(
        caveats.contains(&"configuration".to_string()),
        "{caveats:?}"
    );
    let bad_model = j["verdict"]["caveats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["feature"] == "errors.bad_model")
        .unwrap();
    assert!(
        bad_model["workaround"]
            .as_str()
            .unwrap()
            .contains("error.message"),
        "the case's notes are the workaround: {bad_model}"
    );
    let warnings = j["configuration"]["warnings"].to_string();
    assert!(warnings.contains("models/ref-chat"), "{warnings}");
    // The error shapes side by side, as an OpenAI SDK would see them.
    assert_eq!(j["bad_model"]["old"]["sdk_message_readable"], true);
    assert_eq!(j["bad_model"]["new"]["sdk_message_readable"], false);
    assert!(j["bad_model"]["new"]["body"].is_array());
    assert!(rb.out.stdout.contains("GO WITH CAVEATS (exit 4)"));
    // Only the used areas have a section.
    assert_eq!(j["areas"].as_array().unwrap().len(), 2);
    snapshot_md("caveats", &rb.md());
}

#[tokio::test]
async fn no_go_names_the_used_area_that_deviates() {
    let rb = reference_to_gemini_compat("streaming,tools").await;
    assert_eq!(rb.out.code, 1, "{}\n{}", rb.out.stdout, rb.out.stderr);
    let j = rb.json();
    assert_eq!(j["verdict"]["decision"], "no_go");
    let blockers = rb.blockers();
    assert!(
        blockers.iter().any(|b| b.starts_with("streaming.")),
        "{blockers:?}"
    );
    assert!(
        blockers.iter().any(|b| b.starts_with("tools.")),
        "{blockers:?}"
    );
    assert!(
        blockers
            .iter()
            .all(|b| b.starts_with("streaming.") || b.starts_with("tools.")),
        "only used features block: {blockers:?}"
    );
    for a in j["areas"].as_array().unwrap() {
        assert_eq!(a["verdict"], "no_go", "{a}");
    }
    // The plain chat call itself is fine; the error shape is a caveat (errors not used).
    assert_eq!(j["chat"]["verdict"], "pass");
    assert_eq!(j["bad_model"]["verdict"], "caveat");
    assert!(
        rb.out.stdout.contains("blocking: streaming."),
        "{}",
        rb.out.stdout
    );
    snapshot_md("no_go", &rb.md());
}

/// A router whose catalogue names models differently (`google/…`), priced higher than OLD.
async fn router_and_old() -> (MockServer, MockServer) {
    let old = MockServer::start().await;
    let router = MockServer::start().await;
    for (server, ids) in [
        (&old, vec!["gpt-4o-mini"]),
        (
            &router,
            vec!["google/gemini-2.5-flash", "openai/gpt-4o-mini"],
        ),
    ] {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "x"}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data})),
            )
            .mount(server)
            .await;
    }
    // OLD: OpenAI's envelope — hostile: it echoes the caller's key in the message.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"model": "llm-parity-no-such-model"}),
        ))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_envelope(
            &format!("The model does not exist (key {CANARY})"),
            "invalid_request_error",
            Some("model_not_found"),
        )))
        .with_priority(1)
        .mount(&old)
        .await;
    // The router: a flat body with no `error` object.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"model": "llm-parity-no-such-model"}),
        ))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "unknown model", "code": 400})),
        )
        .with_priority(1)
        .mount(&router)
        .await;
    for server in [&old, &router] {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion("Hello")))
            .with_priority(5)
            .mount(server)
            .await;
    }
    (old, router)
}

fn targets_file(old: &MockServer, router: &MockServer) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("targets.yaml");
    std::fs::write(
        &p,
        format!(
            r#"targets:
  openai:
    base_url: {}/v1
    auth: {{ api_key_env: OLD_KEY }}
    models: {{ chat: gpt-4o-mini }}
    pricing: {{ input_per_mtok: 0.15, output_per_mtok: 0.60 }}
  flatkey:
    base_url: {}/v1
    auth: {{ api_key_env: NEW_KEY }}
    models: {{ chat: gemini-2.5-flash }}
    pricing: {{ input_per_mtok: 0.30, output_per_mtok: 2.50 }}
"#,
            old.uri(),
            router.uri()
        ),
    )
    .unwrap();
    let s = p.to_str().unwrap().to_string();
    (dir, s)
}

#[tokio::test]
async fn router_with_another_catalogue_warns_prices_and_never_leaks_the_key() {
    let (old, router) = router_and_old().await;
    let (_tdir, targets) = targets_file(&old, &router);
    let env = [("OLD_KEY", CANARY), ("NEW_KEY", "router-key-Hx81")];
    let rb = runbook(
        &[
            "--targets",
            &targets,
            "--from",
            "openai",
            "--to",
            "flatkey",
            "--uses",
            "chat.basic",
        ],
        &env,
    )
    .await;
    assert_eq!(rb.out.code, 4, "{}\n{}", rb.out.stdout, rb.out.stderr);
    let j = rb.json();
    // Configuration: the Google-style id is not in the router's list, which has it prefixed.
    let warnings = j["configuration"]["warnings"].to_string();
    assert!(warnings.contains("`gemini-2.5-flash`"), "{warnings}");
    assert!(warnings.contains("looks like a Google id"), "{warnings}");
    assert!(warnings.contains("google/gemini-2.5-flash"), "{warnings}");
    assert_eq!(j["from"]["api_key_env"], "OLD_KEY");
    // Usage and cost on each side, and the ratio.
    assert_eq!(j["usage"]["old"]["prompt_tokens"], 18);
    assert_eq!(j["usage"]["new"]["completion_tokens"], 6);
    let ratio = j["usage"]["cost_ratio"].as_f64().unwrap();
    assert!((ratio - 3.238).abs() < 0.001, "{ratio}");
    // The error shapes, verbatim: OLD's (redacted) next to the router's flat body.
    assert_eq!(j["bad_model"]["new"]["status"], 400);
    assert_eq!(j["bad_model"]["new"]["body"]["message"], "unknown model");
    assert!(
        j["bad_model"]["new"]["sdk_view"]
            .as_str()
            .unwrap()
            .starts_with("BadRequestError (HTTP 400); the body has no `error.message`")
    );
    assert!(
        j["bad_model"]["old"]["sdk_view"]
            .as_str()
            .unwrap()
            .starts_with("NotFoundError (HTTP 404) with message")
    );
    assert!(rb.caveats().contains(&"errors.bad_model".to_string()));
    // Rollback: OLD's base URL, key variable and model; the key itself nowhere.
    let env_block = j["rollback"]["env_block"].as_str().unwrap();
    assert!(env_block.contains(&format!("export OPENAI_BASE_URL='{}/v1'", old.uri())));
    assert!(
        env_block.contains("export OPENAI_API_KEY=\"${OLD_KEY}\""),
        "{env_block}"
    );
    assert!(env_block.contains("export OPENAI_MODEL='gpt-4o-mini'"));
    let snippet = j["rollback"]["targets_snippet"].as_str().unwrap();
    assert!(snippet.contains("api_key_env: \"OLD_KEY\""), "{snippet}");
    assert!(snippet.contains("input_per_mtok: 0.15"), "{snippet}");
    let all = rb.all_output();
    assert!(!shows_canary(&all), "the OLD key leaked");
    assert!(!all.contains("router-key-Hx81"), "the NEW key leaked");
    snapshot_md("router", &rb.md());

    // Using the id as the router lists it clears the warning.
    let rb = runbook(
        &[
            "--targets",
            &targets,
            "--from",
            "openai",
            "--to",
            "flatkey",
            "--uses",
            "chat.basic",
            "--to-model",
            "chat=google/gemini-2.5-flash",
        ],
        &env,
    )
    .await;
    let j = rb.json();
    assert_eq!(j["configuration"]["warnings"], json!([]), "{j}");
    assert_eq!(j["to"]["models"]["chat"], "google/gemini-2.5-flash");
}

#[tokio::test]
async fn ad_hoc_sides_from_flags() {
    let (old, router) = router_and_old().await;
    let (old_url, new_url) = (format!("{}/v1", old.uri()), format!("{}/v1", router.uri()));
    let rb = runbook(
        &[
            "--from-base-url",
            &old_url,
            "--from-api-key-env",
            "OLD_KEY",
            "--from-model",
            "chat=gpt-4o-mini",
            "--to-base-url",
            &new_url,
            "--to-model",
            "chat=google/gemini-2.5-flash",
            "--uses",
            "chat.basic",
        ],
        &[("OLD_KEY", CANARY)],
    )
    .await;
    // Only the router's error shape deviates, and errors are not used.
    assert_eq!(rb.out.code, 4, "{}\n{}", rb.out.stdout, rb.out.stderr);
    let j = rb.json();
    assert_eq!(j["from"]["target"], "old");
    assert_eq!(j["to"]["target"], "new");
    assert_eq!(j["rollback"]["api_key_env"], "OLD_KEY");
    assert!(!shows_canary(&rb.all_output()));
}

#[tokio::test]
async fn bad_flags_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["--to", "reference"], "missing OLD: give --from NAME"),
        (
            &["--from", "reference", "--to", "reference", "--uses", "chat"],
            "the same target `reference`",
        ),
        (
            &[
                "--from",
                "reference",
                "--to",
                "reference:gemini-compat",
                "--uses",
                "streamng",
            ],
            "unknown area `streamng`",
        ),
        (
            &[
                "--from",
                "reference",
                "--from-base-url",
                "http://x/v1",
                "--to",
                "reference",
            ],
            "OLD is named twice",
        ),
        (
            &["--from", "nope", "--to", "reference"],
            "unknown target `nope`",
        ),
        (
            &[
                "--from-base-url",
                "http://127.0.0.1:9/v1",
                "--from-api-key-env",
                "LLM_PARITY_UNSET_VAR",
                "--to",
                "reference",
            ],
            "LLM_PARITY_UNSET_VAR",
        ),
    ];
    for (args, expected) in cases {
        let rb = runbook(args, &[]).await;
        assert_eq!(rb.out.code, 2, "{args:?}: {}", rb.out.stderr);
        assert!(
            rb.out.stderr.contains(expected),
            "{args:?}: expected `{expected}` in\n{}",
            rb.out.stderr
        );
    }
    let rb = reference_to_gemini_compat("streamng").await;
    assert!(
        rb.out.stderr.contains("did you mean `streaming`"),
        "{}",
        rb.out.stderr
    );
}

/// The schema has teeth: a real runbook.json validates, and each kind of drift from the model
/// (an unknown field, a value outside an enum, a missing required field, null where the model
/// never writes it) is rejected with exactly one error, at the value that drifted.
#[tokio::test]
async fn runbook_schema_rejects_drift() {
    let rb = reference_to_gemini_compat("streaming,tools").await;
    let real = rb.json();
    assert_eq!(
        schema_errors("runbook.schema.json", &real),
        Vec::<String>::new()
    );
    assert!(
        !real["verdict"]["blockers"].as_array().unwrap().is_empty()
            && real["chat"]["new"].is_object(),
        "the mutations below need a blocker and NEW's chat case: {real}"
    );
    type Mutation = fn(&mut Value);
    // (what, mutation, expected error: message part, instance path)
    let mutations: &[(&str, Mutation, &str, &str)] = &[
        (
            "unknown top-level field",
            |j| j["surprise"] = json!(true),
            "'surprise' was unexpected",
            "",
        ),
        (
            "unknown field in a verdict item",
            |j| j["verdict"]["blockers"][0]["severity"] = json!("high"),
            "'severity' was unexpected",
            "/verdict/blockers/0",
        ),
        (
            "step verdict outside the enum",
            |j| j["chat"]["verdict"] = json!("ok"),
            "\"ok\" is not one of",
            "/chat/verdict",
        ),
        (
            "area verdict in another spelling",
            |j| j["areas"][0]["verdict"] = json!("no-go"),
            "\"no-go\" is not one of",
            "/areas/0/verdict",
        ),
        (
            "decision outside the enum",
            |j| j["verdict"]["decision"] = json!("GO"),
            "\"GO\" is not one of",
            "/verdict/decision",
        ),
        (
            "outcome outside the enum",
            |j| j["chat"]["new"]["outcome"] = json!("passed"),
            "\"passed\" is not one of",
            "/chat/new/outcome",
        ),
        (
            "missing required top-level field",
            |j| {
                j.as_object_mut().unwrap().remove("rollback");
            },
            "\"rollback\" is a required property",
            "",
        ),
        (
            "missing required nested field",
            |j| {
                j["verdict"].as_object_mut().unwrap().remove("caveats");
            },
            "\"caveats\" is a required property",
            "/verdict",
        ),
        (
            "missing nullable field (serde writes null, never omits it)",
            |j| {
                j["chat"].as_object_mut().unwrap().remove("old");
            },
            "\"old\" is a required property",
            "/chat",
        ),
        (
            "null where the model has no Option",
            |j| j["to"]["base_url"] = Value::Null,
            "null is not of type \"string\"",
            "/to/base_url",
        ),
        (
            "another schema_version",
            |j| j["schema_version"] = json!(2),
            "1 was expected",
            "/schema_version",
        ),
    ];
    for (what, mutate, message, at) in mutations {
        let mut j = real.clone();
        mutate(&mut j);
        assert_ne!(j, real, "{what}: the mutation changed nothing");
        let errors = schema_errors("runbook.schema.json", &j);
        assert!(
            errors.len() == 1
                && errors[0].contains(message)
                && errors[0].ends_with(&format!(" at {at}")),
            "{what}: expected one error with {message:?} at {at:?}, got {errors:#?}"
        );
    }
}

/// NEW answers every request with HTTP 503; how many requests it got.
async fn failing_new(retries: &str) -> (Runbook, usize) {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let url = format!("{}/v1", server.uri());
    let rb = runbook(
        &[
            "--from",
            "reference",
            "--to-base-url",
            &url,
            "--to-model",
            "chat=m",
            "--uses",
            "models",
            "--retries",
            retries,
            "--retry-delay",
            "0",
            "--retry-max-delay",
            "0ms",
        ],
        &[],
    )
    .await;
    let n = server.received_requests().await.unwrap().len();
    (rb, n)
}

#[tokio::test]
async fn runbook_takes_the_run_options_retries_included() {
    let (rb, once) = failing_new("0").await;
    assert_eq!(rb.out.code, 1, "{}\n{}", rb.out.stdout, rb.out.stderr);
    let (rb, twice) = failing_new("1").await;
    assert_eq!(rb.out.code, 1, "{}\n{}", rb.out.stdout, rb.out.stderr);
    assert!(once > 0);
    assert_eq!(twice, 2 * once, "--retries 1 should double NEW's requests");
    // Every other reliability flag is accepted and takes effect (a bad --ca-cert is named).
    let (_dir, pem) = temp_file(
        "ca.pem",
        &rcgen::generate_simple_self_signed(vec!["x".into()])
            .unwrap()
            .cert
            .pem(),
    );
    let rb = runbook(
        &[
            "--from",
            "reference",
            "--to",
            "reference:gemini-compat",
            "--uses",
            "models",
            "--concurrency",
            "2",
            "--timeout",
            "30s",
            "--idle-timeout",
            "10",
            "--max-body",
            "4M",
            "--ca-cert",
            pem.to_str().unwrap(),
            "--run-timeout",
            "10m",
            "--no-progress",
        ],
        &[],
    )
    .await;
    assert!(matches!(rb.out.code, 0 | 1 | 4), "{}", rb.out.stderr);
    let rb = runbook(
        &[
            "--from",
            "reference",
            "--to",
            "reference:gemini-compat",
            "--ca-cert",
            "no-such.pem",
        ],
        &[],
    )
    .await;
    assert_eq!(rb.out.code, 2, "{}", rb.out.stderr);
    assert!(
        rb.out.stderr.contains("cannot read --ca-cert no-such.pem"),
        "{}",
        rb.out.stderr
    );
}

#[tokio::test]
async fn runbook_stops_at_its_run_deadline_and_writes_what_finished() {
    // NEW accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let url = format!("http://{addr}/v1");
    let rb = runbook(
        &[
            "--from",
            "reference",
            "--to-base-url",
            &url,
            "--to-model",
            "chat=m",
            "--uses",
            "models",
            "--run-timeout",
            "3",
        ],
        &[],
    )
    .await;
    assert_eq!(rb.out.code, 124, "{}\n{}", rb.out.stdout, rb.out.stderr);
    assert!(
        rb.out
            .stderr
            .contains("run deadline reached (--run-timeout)"),
        "{}",
        rb.out.stderr
    );
    assert_eq!(rb.json()["schema_version"], 1);
}
