//! The client catalogue (clients/catalogue.yaml) is verified, not asserted: the probes run the
//! pinned client libraries (scripts/clients/install.sh) against the reference endpoint with
//! each deviation switched on, and every claim must be exactly what happens. The checks named
//! as detecting a deviation must be the ones that fail on it.
//!
//! The tests that run the libraries are `#[ignore]`d in a plain `cargo test`; `scripts/test.sh`
//! installs them and runs them with `--include-ignored`.
//!
//! Re-verifying after a library upgrade: bump the pins in clients/, run
//! `scripts/clients/install.sh`, then `LLM_PARITY_UPDATE_CATALOGUE=1 cargo test --test it
//! clients:: -- --include-ignored` rewrites the results (never in CI), and review the diff.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use llm_parity::clients::catalogue::{CATALOGUE_YAML, Catalogue, Status};
use llm_parity::clients::probe::{self, Interpreters, Job, ProbeRun};
use llm_parity::clients::verify::{self, CONTROL};
use llm_parity_reference::{Config, Deviations};

use crate::support::*;

const KEY: &str = "probe-key-for-the-catalogue";

/// The pinned clients installed by scripts/clients/install.sh. The tests that need them are
/// `#[ignore]`d (a plain `cargo test` lists them as ignored); `scripts/test.sh` installs the
/// clients and runs them with `--include-ignored`, and when they run, a missing install is a
/// failure.
fn pinned_clients() -> Interpreters {
    let cache = std::env::var_os("LLM_PARITY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/llm-parity")
        });
    let python = cache.join("clients/venv/bin/python");
    let node_modules = cache.join("clients/node/node_modules");
    assert!(
        python.is_file() && node_modules.is_dir(),
        "the pinned client libraries are not installed in {}: run scripts/clients/install.sh (scripts/test.sh does)",
        cache.join("clients").display()
    );
    Interpreters {
        python,
        node: PathBuf::from("node"),
        node_path: Some(node_modules.into_os_string()),
    }
}

/// Starts the reference endpoint with `deviations` on an ephemeral port; returns its base URL.
async fn reference(deviations: Deviations) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Config {
        deviations,
        api_key: Some(KEY.into()),
        ..Config::default()
    };
    tokio::spawn(llm_parity_reference::serve(listener, config));
    format!("http://127.0.0.1:{port}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned client libraries (scripts/clients/install.sh; scripts/test.sh runs it)"]
async fn the_catalogue_is_what_the_pinned_clients_do() {
    let interpreters = pinned_clients();
    let catalogue = Catalogue::shipped();
    let mut targets = vec![(CONTROL.to_string(), reference(Deviations::NONE).await)];
    for d in &catalogue.deviations {
        let set = Deviations::parse_id(&d.id).unwrap();
        targets.push((d.id.clone(), reference(set).await));
    }
    let models: BTreeMap<String, String> = llm_parity_reference::models()
        .into_iter()
        .map(|(role, id)| (role.to_string(), id))
        .collect();
    let job = Job {
        targets,
        key: Some(KEY.into()),
        models,
        calls: vec![],
        // Just over the reference endpoint's 128,000-token context (one token a word there).
        context_words: Some(CONTEXT_WORDS),
    };
    let dir = tempfile::tempdir().unwrap();
    probe::write_scripts(dir.path()).unwrap();

    // Two probes at a time: one Python, one Node.
    let mut runs = Vec::new();
    for client in &catalogue.clients {
        let (client, interpreters, job, path) = (
            client.clone(),
            interpreters.clone(),
            job.clone(),
            dir.path().to_path_buf(),
        );
        runs.push(tokio::spawn(async move {
            let run = probe::run(
                &client,
                &interpreters,
                &job,
                &path,
                Duration::from_secs(600),
            )
            .await;
            (client.id, run)
        }));
    }
    let mut updated = catalogue.clone();
    let mut differences = Vec::new();
    for handle in runs {
        let (client, run) = handle.await.unwrap();
        let ProbeRun::Ran {
            versions,
            observations,
        } = run
        else {
            panic!("{client}: the probe did not run: {run:?}");
        };
        assert!(
            observations
                .iter()
                .all(|o| o.status != Status::NotApplicable),
            "{client}: {observations:?}"
        );
        differences.extend(verify::differences(
            &catalogue,
            &client,
            &versions,
            &observations,
        ));
        updated = verify::with_observed(&updated, &client, &versions, &observations);
    }
    if std::env::var_os("LLM_PARITY_UPDATE_CATALOGUE").is_some() && std::env::var_os("CI").is_none()
    {
        std::fs::write(
            repo().join("clients/catalogue.yaml"),
            updated.to_yaml(CATALOGUE_YAML),
        )
        .unwrap();
        eprintln!("clients/catalogue.yaml rewritten from the observations: review the diff");
        return;
    }
    assert!(
        differences.is_empty(),
        "the catalogue no longer matches the clients ({} difference(s)):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[tokio::test]
async fn the_detecting_checks_are_the_ones_that_fail_on_each_deviation() {
    let catalogue = Catalogue::shipped();
    let snapshots = tempfile::tempdir().unwrap();
    let mut args = vec![
        "run".to_string(),
        "--snapshots-dir".into(),
        snapshots.path().display().to_string(),
    ];
    for d in &catalogue.deviations {
        args.push("--target".into());
        args.push(format!("reference:deviation={}", d.id));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_cli(&args, &[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let mut results = out.report()["results"].as_array().unwrap().clone();
    // A detection naming an opt-in case (errors/context-length sends a prompt beyond the
    // context): run that case too, against the deviations naming it.
    let ran: std::collections::BTreeSet<String> = results
        .iter()
        .filter(|r| r["outcome"] != "skip")
        .map(|r| {
            format!(
                "{}/{}",
                r["suite"].as_str().unwrap(),
                r["case"].as_str().unwrap()
            )
        })
        .collect();
    let mut opt_in = vec![
        "run".to_string(),
        "--opt-in".into(),
        "--snapshots-dir".into(),
    ];
    opt_in.push(snapshots.path().display().to_string());
    let mut cases = std::collections::BTreeSet::new();
    for d in &catalogue.deviations {
        for case in d.detected_by.iter().filter_map(|det| det.case.as_ref()) {
            if !ran.contains(case) {
                cases.insert(case.clone());
                opt_in.extend(["--target".into(), format!("reference:deviation={}", d.id)]);
            }
        }
    }
    if !cases.is_empty() {
        for case in &cases {
            opt_in.extend(["--filter".into(), case.clone()]);
        }
        let args: Vec<&str> = opt_in.iter().map(String::as_str).collect();
        let out = run_cli(&args, &[]).await;
        assert_eq!(out.code, 1, "{}", out.stderr);
        results.extend(out.report()["results"].as_array().unwrap().iter().cloned());
    }
    let mut problems = Vec::new();
    for d in &catalogue.deviations {
        let target = format!("reference:deviation={}", d.id);
        let mut fired = vec![false; d.detected_by.len()];
        for r in results.iter().filter(|r| r["target"] == target.as_str()) {
            if !["fail", "unsupported", "error"].contains(&r["outcome"].as_str().unwrap()) {
                continue;
            }
            let case = format!(
                "{}/{}",
                r["suite"].as_str().unwrap(),
                r["case"].as_str().unwrap()
            );
            for c in r["checks"].as_array().into_iter().flatten() {
                if !["fail", "unsupported", "error"].contains(&c["status"].as_str().unwrap_or("")) {
                    continue;
                }
                let (check, message) = (
                    c["check"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap_or(""),
                );
                let mut known = false;
                for (i, det) in d.detected_by.iter().enumerate() {
                    if det.matches(&case, check, message) {
                        fired[i] = true;
                        known = true;
                    }
                }
                known |= d
                    .also_fails
                    .iter()
                    .any(|det| det.matches(&case, check, message));
                if !known {
                    problems.push(format!(
                        "{}: {case} fails {check} ({message}), which the catalogue does not name",
                        d.id
                    ));
                }
            }
        }
        for (det, fired) in d.detected_by.iter().zip(fired) {
            if !fired {
                problems.push(format!(
                    "{}: {} `{}` never fails",
                    d.id, det.check, det.reason
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Runs `llm-parity clients ARGS` from an empty temporary directory (the command must work
/// outside this repository) with `env`.
async fn clients_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("clients")
        .args(args)
        .current_dir(cwd.path())
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("LLM_PARITY_CLIENTS_PYTHON")
        .env_remove("LLM_PARITY_CLIENTS_NODE_PATH")
        .env_remove("NODE_PATH")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(600), cmd.output())
        .await
        .expect("llm-parity clients finished")
        .expect("llm-parity runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The environment pointing `clients` at the pinned libraries.
fn pinned_env(i: &Interpreters) -> Vec<(&'static str, String)> {
    vec![
        ("LLM_PARITY_CLIENTS_PYTHON", i.python.display().to_string()),
        (
            "LLM_PARITY_CLIENTS_NODE_PATH",
            i.node_path.as_ref().unwrap().to_string_lossy().into_owned(),
        ),
    ]
}

fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The line of `call` in the section of `client` (`openai-python`, …) of the output.
fn line_of<'a>(stdout: &'a str, client: &str, call: &str) -> &'a str {
    let section = stdout
        .split("\n\n")
        .find(|s| s.starts_with(client))
        .unwrap_or_else(|| panic!("no {client} section in:\n{stdout}"));
    section
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{call} ")))
        .unwrap_or_else(|| panic!("no {call} line for {client} in:\n{section}"))
}

/// The `context_length` probes' prompt: just over the reference endpoint's 128,000-token context.
const CONTEXT_WORDS: u64 = 130_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned client libraries (scripts/clients/install.sh; scripts/test.sh runs it)"]
async fn clients_against_gemini_compat_reproduce_what_the_sdks_do() {
    let i = pinned_clients();
    let env = pinned_env(&i);
    let (code, stdout, stderr) =
        clients_cli(&["--target", "reference:gemini-compat"], &as_refs(&env)).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    // What it will send is said before any result.
    let announce = stdout
        .find("short requests in all")
        .expect("the request count");
    assert!(announce < stdout.find("✗").unwrap(), "{stdout}");
    assert!(stdout.contains("at most 87 short requests"), "{stdout}");
    // The banner says what beyond prompts is sent: a file, a batch, audio (the target has the
    // models for them).
    let banner = stdout.lines().find(|l| l.starts_with("probing")).unwrap();
    for sent in [
        "uploads a one-line batch input file",
        "creates a batch of one chat request",
        "asks for one sentence of speech",
        "half a second of WAV audio",
    ] {
        assert!(banner.contains(sent), "{sent}: {banner}");
    }
    // openai-python's stream helper raises on tool-call deltas without `index` (S1).
    assert!(
        line_of(&stdout, "openai-python", "tools_stream")
            .contains("TypeError: list indices must be integers or slices, not NoneType")
    );
    // openai-node silently drops them, and runTools never calls the tool.
    assert!(line_of(&stdout, "openai-node", "tools_stream").contains("0 tool calls, expected 1"));
    assert!(line_of(&stdout, "openai-node", "run_tools").contains("the tool was never called"));
    // A bad key answered 400 is a BadRequestError, not an AuthenticationError (E2).
    assert!(
        line_of(&stdout, "openai-python", "error_bad_key")
            .contains("raised BadRequestError, not AuthenticationError")
    );
    assert!(
        line_of(&stdout, "openai-node", "error_bad_key")
            .contains("raised BadRequestError, not AuthenticationError")
    );
    // A list-wrapped error: openai-node reports "404 status code (no body)" (E1).
    assert!(
        line_of(&stdout, "openai-node", "error_bad_model").contains("404 status code (no body)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned client libraries (scripts/clients/install.sh; scripts/test.sh runs it)"]
async fn clients_against_the_reference_all_work_and_one_client_can_be_chosen() {
    let i = pinned_clients();
    let env = pinned_env(&i);
    let (code, stdout, stderr) = clients_cli(
        &["--target", "reference", "--client", "vercel"],
        &as_refs(&env),
    )
    .await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Vercel AI SDK") && !stdout.contains("openai-python"),
        "{stdout}"
    );
    assert!(stdout.contains("at most 13 short requests"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
    assert!(
        !stdout.contains("context_length"),
        "the long prompt is opt-in: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned client libraries (scripts/clients/install.sh; scripts/test.sh runs it)"]
async fn clients_probe_the_context_overflow_only_when_asked() {
    let i = pinned_clients();
    let env = pinned_env(&i);
    let words = CONTEXT_WORDS.to_string();
    for (target, code, result) in [
        ("reference", 0, "✓ works"),
        (
            "reference:gemini-compat",
            1,
            "✗ wrong  e.code is None, not 'context_length_exceeded'",
        ),
    ] {
        let (got, stdout, stderr) = clients_cli(
            &[
                "--target",
                target,
                "--client",
                "langchain",
                "--context-words",
                &words,
            ],
            &as_refs(&env),
        )
        .await;
        assert_eq!(got, code, "{stdout}\n{stderr}");
        // Said before it is sent: a long prompt, so not "short requests".
        let banner = stdout.lines().find(|l| l.starts_with("probing")).unwrap();
        assert!(
            banner.contains("requests in all")
                && !banner.contains("short requests")
                && banner.contains("sends one prompt of --context-words filler words"),
            "{banner}"
        );
        let line = line_of(&stdout, "LangChain", "context_length");
        assert!(line.contains(result), "{target}: {line}");
    }
}

#[tokio::test]
async fn clients_says_which_libraries_are_not_installed() {
    let empty = tempfile::tempdir().unwrap();
    let env = [
        ("LLM_PARITY_CLIENTS_PYTHON", "/nonexistent/python3"),
        (
            "LLM_PARITY_CLIENTS_NODE_PATH",
            empty.path().to_str().unwrap(),
        ),
    ];
    let (code, stdout, stderr) = clients_cli(&["--target", "reference"], &env).await;
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    for name in ["openai-python", "openai-node", "Vercel AI SDK", "LangChain"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {stdout}"));
        assert!(line.contains("not installed"), "{line}");
    }
    assert!(
        stderr.contains("none of the client libraries is installed"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("requests in all"),
        "nothing is sent: {stdout}"
    );
}

#[tokio::test]
async fn clients_refuses_several_targets_and_a_target_without_a_chat_model() {
    let (code, _, stderr) = clients_cli(
        &[
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2);
    assert!(stderr.contains("probes one target"), "{stderr}");
    let (code, _, stderr) = clients_cli(&["--base-url", "http://127.0.0.1:9/v1"], &[]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("no chat model"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned client libraries (scripts/clients/install.sh; scripts/test.sh runs it)"]
async fn the_key_never_leaves_the_probes_even_when_the_endpoint_echoes_it() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let i = pinned_clients();
    let server = MockServer::start().await;
    let echo = format!("Incorrect API key provided: {CANARY}. Bearer {CANARY}");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_envelope(
            &echo,
            "invalid_request_error",
            Some("invalid_api_key"),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "object": "list", "data": [{"id": CANARY, "object": "model", "created": 1, "owned_by": CANARY}]})))
        .mount(&server)
        .await;
    let mut env = pinned_env(&i);
    env.push(("CANARY_KEY", CANARY.to_string()));
    let url = format!("{}/v1", server.uri());
    let (code, stdout, stderr) = clients_cli(
        &[
            "--base-url",
            &url,
            "--api-key-env",
            "CANARY_KEY",
            "--model",
            "chat=m",
            "--client",
            "python",
            "--client",
            "node",
        ],
        &as_refs(&env),
    )
    .await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    // Only a chat model: no audio is sent, and the banner does not claim any.
    let banner = stdout.lines().find(|l| l.starts_with("probing")).unwrap();
    assert!(
        !banner.contains("speech") && !banner.contains("audio") && !banner.contains("embedding"),
        "{banner}"
    );
    assert!(
        banner.contains("uploads a one-line batch input file"),
        "{banner}"
    );
    assert!(
        stdout.contains("***"),
        "the echoed key is shown masked: {stdout}"
    );
    assert!(
        !shows_canary(&stdout) && !shows_canary(&stderr),
        "{stdout}\n{stderr}"
    );
}

const TABLE_START: &str = "<!-- catalogue table: generated from clients/catalogue.yaml -->\n";
const TABLE_END: &str = "<!-- end of the catalogue table -->";

/// docs/quirks.md with its "clients (verified)" column (re)set from the catalogue: the cell of
/// a row the catalogue covers is its summary, every other row's is "—".
fn quirks_with_clients(text: &str, catalogue: &Catalogue) -> String {
    const COLUMN: &str = "clients (verified)";
    let mut out = String::new();
    for line in text.lines() {
        let mut cells: Vec<String> = line.split(" | ").map(str::to_string).collect();
        let is_header = line.starts_with("| id | deviation |");
        let is_rule = line.starts_with("|---|---|---|---|---|---|");
        let row = line
            .strip_prefix("| <a id=\"")
            .and_then(|r| r.split('"').next());
        if is_rule {
            let n = if line.matches("---").count() == 6 {
                7
            } else {
                line.matches("---").count()
            };
            out.push_str(&format!("|{}\n", "---|".repeat(n)));
            continue;
        }
        if is_header || row.is_some() {
            let value = if is_header {
                COLUMN.to_string()
            } else {
                catalogue
                    .quirks_cell(row.unwrap())
                    .unwrap_or_else(|| "—".into())
            };
            // id | deviation | seen on | what breaks | caught by | [clients] | source
            if cells.len() == 6 {
                cells.insert(5, value);
            } else {
                cells[5] = value;
            }
            out.push_str(&cells.join(" | "));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// docs/clients.md with its table replaced by the catalogue's.
fn clients_doc_with_table(text: &str, catalogue: &Catalogue) -> String {
    let start = text
        .find(TABLE_START)
        .expect("docs/clients.md has the table's start marker")
        + TABLE_START.len();
    let end = text
        .find(TABLE_END)
        .expect("docs/clients.md has the table's end marker");
    format!(
        "{}{}{}",
        &text[..start],
        catalogue.markdown_table(),
        &text[end..]
    )
}

#[test]
fn the_documents_show_the_verified_catalogue() {
    let catalogue = Catalogue::shipped();
    let quirks_path = repo().join("docs/quirks.md");
    let clients_path = repo().join("docs/clients.md");
    let quirks = std::fs::read_to_string(&quirks_path).unwrap();
    let clients = std::fs::read_to_string(&clients_path).unwrap();
    let (want_quirks, want_clients) = (
        quirks_with_clients(&quirks, &catalogue),
        clients_doc_with_table(&clients, &catalogue),
    );
    if std::env::var_os("LLM_PARITY_UPDATE_CATALOGUE").is_some() && std::env::var_os("CI").is_none()
    {
        std::fs::write(&quirks_path, &want_quirks).unwrap();
        std::fs::write(&clients_path, &want_clients).unwrap();
        return;
    }
    assert!(
        want_quirks == quirks,
        "docs/quirks.md's clients column differs from clients/catalogue.yaml (LLM_PARITY_UPDATE_CATALOGUE=1 cargo test --test it clients:: -- --include-ignored rewrites it)"
    );
    assert!(
        want_clients == clients,
        "docs/clients.md's table differs from clients/catalogue.yaml (LLM_PARITY_UPDATE_CATALOGUE=1 cargo test --test it clients:: -- --include-ignored rewrites it)"
    );
    // The check can fail: a changed claim shows.
    let mut changed = catalogue.clone();
    changed.deviations.retain(|d| d.id != "S1");
    assert_ne!(quirks_with_clients(&quirks, &changed), quirks);
}
