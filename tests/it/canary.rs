//! The canary run: every suite (opt-in cases included), every report format, recordings,
//! pending snapshots, the step summary, `snapshots review`, a replay and a runbook, with a planted
//! key sent as a Bearer token, as `x-goog-api-key`, in a `?key=` query, and as an auth command's
//! token in `api-key` — against the reference endpoint (which requires the key), a hostile
//! endpoint that echoes it back everywhere, and an unreachable one. Not one byte written anywhere
//! may contain it.

use std::path::Path;

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// The token printed by the `cmd` target's auth command: a secret learnt at run time.
const CMD_TOKEN: &str = "cmdtoken-Hq3vXw8pLr2Zk9Tn";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every file under `dir` holding a secret, as `path: secret`.
fn leaks_in(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let files = if dir.is_file() {
        vec![dir.to_path_buf()]
    } else {
        walk(dir)
    };
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        for s in [CANARY, CMD_TOKEN] {
            if contains(&bytes, tell(s)) {
                out.push(format!("{}: {s}", p.display()));
            }
        }
    }
    out
}

fn leaks_in_text(what: &str, text: &str) -> Vec<String> {
    [CANARY, CMD_TOKEN]
        .iter()
        .filter(|s| text.contains(tell(s)))
        .map(|s| format!("{what}: {s}"))
        .collect()
}

/// An endpoint that echoes every credential it can in bodies, headers and error messages.
async fn hostile() -> MockServer {
    let server = MockServer::start().await;
    let echo = format!(
        "Authorization: Bearer {CANARY}; x-goog-api-key: {CANARY}; api-key={CMD_TOKEN}; https://x.test/v1?key={CANARY}"
    );
    let mut chat = chat_completion(&echo);
    chat["model"] = json!(CANARY);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat)
                .insert_header("x-echo-key", CANARY)
                .insert_header("x-goog-api-key", CANARY)
                .insert_header("api-key", CMD_TOKEN)
                .insert_header("set-cookie", format!("session={CANARY}")),
        )
        .up_to_n_times(40)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(error_envelope(
                    &format!("Incorrect API key provided: {CANARY} (token {CMD_TOKEN})"),
                    "invalid_request_error",
                    Some("invalid_api_key"),
                ))
                .insert_header("www-authenticate", format!("Bearer {CANARY}")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [{"id": CANARY, "object": "model", "created": 1, "owned_by": CMD_TOKEN}],
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_canary_appears_in_no_byte_written_anywhere() {
    // The reference endpoint, requiring the canary as its key.
    let (addr, _server) = reference_endpoint(CANARY).await;
    let server = hostile().await;
    let models = reference_models();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let targets = d.join("targets.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:
  ref:
    base_url: http://{addr}/v1
    auth: {{ api_key_env: CANARY_KEY }}
    models: {{ {models} }}
  hostile:
    base_url: {uri}/v1beta/openai/?key=${{env:CANARY_KEY}}
    auth: {{ api_key_env: CANARY_KEY, header: x-goog-api-key }}
    models: {{ {models} }}
  cmd:
    base_url: {uri}/v1
    auth: {{ command: \"printf %s {CMD_TOKEN}\", header: api-key }}
    models: {{ {models} }}
  down:
    base_url: http://127.0.0.1:9/v1?key=${{env:CANARY_KEY}}
    auth: {{ api_key_env: CANARY_KEY }}
    models: {{ chat: m }}
",
            uri = server.uri()
        ),
    )
    .unwrap();
    let (rec, snaps, summary, runbook) = (
        d.join("recordings"),
        d.join("snapshots"),
        d.join("summary.md"),
        d.join("runbook"),
    );
    let (t, r, s) = (
        targets.to_str().unwrap(),
        rec.to_str().unwrap(),
        snaps.to_str().unwrap(),
    );
    let env = [
        ("CANARY_KEY", CANARY),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let mut leaks = vec![];

    let out = run_cli(
        &[
            "run",
            "--targets",
            t,
            "--all-targets",
            "--opt-in",
            "--format",
            "json,md,html,junit",
            "--wide",
            "--record",
            r,
            "--snapshots",
            "pending",
            "--snapshots-dir",
            s,
            "--timeout",
            "20",
        ],
        &env,
    )
    .await;
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    let suites: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["suite"].as_str().unwrap())
        .collect();
    let shipped = std::fs::read_dir(repo().join("suites")).unwrap().count();
    assert_eq!(suites.len(), shipped, "every suite ran: {suites:?}");
    assert!(
        results
            .iter()
            .any(|r| r["target"] == "ref" && r["outcome"] == "pass"),
        "the reference target accepted the key"
    );
    assert!(!walk(&rec).is_empty(), "recordings were written");
    assert!(!walk(&snaps).is_empty(), "pending snapshots were written");
    assert!(summary.is_file(), "the step summary was written");
    leaks.extend(leaks_in_text("run stdout/stderr", &out.all_output()));
    leaks.extend(leaks_in(&out.report_dir));
    assert!(
        out.all_output().contains("***"),
        "redaction marker expected"
    );

    let review = run_cli(&["snapshots", "review", "--snapshots-dir", s], &env).await;
    leaks.extend(leaks_in_text("snapshots review", &review.all_output()));

    let replay = run_cli(
        &[
            "run",
            "--targets",
            t,
            "--all-targets",
            "--opt-in",
            "--replay",
            r,
        ],
        &[],
    )
    .await;
    leaks.extend(leaks_in_text("replay", &replay.all_output()));

    let rb = run_cli(
        &[
            "runbook",
            "--targets",
            t,
            "--from",
            "ref",
            // The side whose token is learnt from its auth command (and echoed back to it).
            "--to",
            "cmd",
            "--report-dir",
            runbook.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    leaks.extend(leaks_in_text("runbook", &rb.all_output()));
    leaks.extend(leaks_in(&runbook));

    leaks.extend(leaks_in(&rec));
    leaks.extend(leaks_in(&snaps));
    leaks.extend(leaks_in(&summary));
    assert!(leaks.is_empty(), "the canary leaked:\n{}", leaks.join("\n"));
}

#[tokio::test]
async fn a_config_error_does_not_print_the_canary_it_was_built_from() {
    // A base_url that the environment fills with the key, and that is invalid once filled:
    // the error names the field as written, not its value.
    let (_dir, targets) = temp_file(
        "targets.yaml",
        "targets:\n  g:\n    base_url: \"ht tp://x/v1?key=${env:CANARY_KEY}\"\n    auth: { api_key_env: CANARY_KEY }\n    models: { chat: m }\n",
    );
    let t = targets.to_str().unwrap();
    for args in [
        &["validate", "--targets", t][..],
        &["run", "--targets", t, "--target", "g"][..],
    ] {
        let out = run_cli(args, &[("CANARY_KEY", CANARY)]).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.all_output());
        assert!(
            out.all_output().contains("invalid base_url"),
            "{args:?}: {}",
            out.all_output()
        );
        let leaks = leaks_in_text(args[0], &out.all_output());
        assert!(leaks.is_empty(), "the canary leaked:\n{}", leaks.join("\n"));
    }
}
