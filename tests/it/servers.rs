//! Real third-party OpenAI-compatible servers: llama-cpp-python (direct) and the LiteLLM proxy
//! (a router in front of it, and its own mock models). Every suite runs against all three in one
//! comparison run, and the feature matrix must equal the pinned table
//! `fixtures/servers/expected-matrix.json` (each non-pass cell explained in docs/servers.md).
//!
//! The servers are installed by `scripts/servers/install.sh`. The test is `#[ignore]`d, so a
//! plain `cargo test` lists it as ignored (a skip reads as a skip); `scripts/test.sh` installs
//! the servers and runs it with `--include-ignored`, and when it runs, servers that are not
//! installed are a failure.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

struct Servers {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("scripts/servers/servers.sh"))
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .status();
    }
}

fn script() -> PathBuf {
    repo().join("scripts/servers/servers.sh")
}

/// Start both servers in a fresh run folder; servers that are not installed fail the test.
fn start() -> Servers {
    let installed = Command::new("bash")
        .arg(script())
        .arg("status")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        installed,
        "llama-cpp-python and the LiteLLM proxy are not installed: run scripts/servers/install.sh \
         (~10-25 min the first time), or scripts/test.sh, which installs them"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(script())
        .args(["start", "--dir"])
        .arg(dir.path())
        .output()
        .expect("servers.sh runs");
    assert!(
        out.status.success(),
        "servers failed to start:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // From here on the servers are stopped when this is dropped, whatever fails below.
    let mut servers = Servers {
        dir,
        env: Vec::new(),
    };
    // The script's own shell must run cleanly too: a backquote in an unquoted here-document
    // once ran `responses` as a command while the LiteLLM config was written.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("command not found"),
        "servers.sh start ran something it only meant to write:\n{stderr}"
    );
    let text =
        std::fs::read_to_string(servers.dir.path().join("servers.env")).expect("servers.env");
    servers.env = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                v.trim().trim_matches('"').trim_matches('\'').to_string(),
            )
        })
        .collect();
    servers
}

fn accepts(pinned: &Value, outcome: &str) -> bool {
    match pinned {
        Value::String(s) => s == outcome,
        Value::Array(a) => a.iter().any(|x| x == outcome),
        _ => false,
    }
}

#[tokio::test]
#[ignore = "needs llama-cpp-python and the LiteLLM proxy (scripts/servers/install.sh; scripts/test.sh runs it)"]
async fn comparison_matches_the_pinned_parity_table() {
    let servers = start();
    let env: Vec<(&str, &str)> = servers
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Generous deadlines: on a loaded 2-core CI machine LiteLLM's first requests take seconds.
    let args = [
        "run",
        "--targets",
        "fixtures/servers/targets.yaml",
        "--all-targets",
        "--timeout",
        "180",
        "--idle-timeout",
        "90",
        "--concurrency",
        "4",
    ];
    let out = run_cli(&args, &env).await;
    assert!(
        out.code == 0 || out.code == 1,
        "exit {}:\n{}\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
    let report = out.report();

    let pinned: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("fixtures/servers/expected-matrix.json")).unwrap(),
    )
    .unwrap();
    let pinned = pinned["features"].as_object().unwrap();
    let mut got: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in report["features"].as_array().unwrap() {
        for (t, o) in f["outcomes"].as_object().unwrap() {
            got.insert(
                (f["feature"].as_str().unwrap().to_string(), t.clone()),
                o.as_str().unwrap().to_string(),
            );
        }
    }
    let mut mismatches = Vec::new();
    for ((feature, target), outcome) in &got {
        match pinned.get(feature).and_then(|c| c.get(target)) {
            Some(p) if accepts(p, outcome) => {}
            Some(p) => {
                let why = report["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| {
                        r["feature"] == feature.as_str()
                            && r["target"] == target.as_str()
                            && r["outcome"] == outcome.as_str()
                    })
                    .map(|r| r["reason"].to_string())
                    .unwrap_or_default();
                mismatches.push(format!(
                    "{feature} on {target}: {outcome}, pinned {p} — {why}"
                ));
            }
            None => mismatches.push(format!(
                "{feature} on {target}: {outcome}, not in the pinned table"
            )),
        }
    }
    for (feature, cells) in pinned {
        for target in cells.as_object().unwrap().keys() {
            if !got.contains_key(&(feature.clone(), target.clone())) {
                mismatches.push(format!("{feature} on {target}: pinned but not run"));
            }
        }
    }
    // These are real servers with a random-weight model: before failing, re-run only the cases
    // behind the moved cells once. A cell that moves again is a real change.
    if !mismatches.is_empty() {
        eprintln!("re-checking moved cells once:\n{}", mismatches.join("\n"));
        let moved: Vec<String> = mismatches
            .iter()
            .filter_map(|m| m.split(' ').next().map(str::to_string))
            .collect();
        let mut again: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        for r in report["results"].as_array().unwrap() {
            if moved.iter().any(|f| r["feature"] == f.as_str()) {
                again.push("--filter".into());
                again.push(format!(
                    "{}/{}",
                    r["suite"].as_str().unwrap(),
                    r["case"].as_str().unwrap()
                ));
            }
        }
        let again: Vec<&str> = again.iter().map(String::as_str).collect();
        let retry = run_cli(&again, &env).await.report();
        mismatches.retain(|m| {
            let (feature, rest) = m.split_once(" on ").unwrap_or((m, ""));
            let target = rest.split(':').next().unwrap_or("");
            let now = retry["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["feature"] == feature)
                .and_then(|f| f["outcomes"].get(target))
                .and_then(Value::as_str)
                .unwrap_or("");
            !pinned
                .get(feature)
                .and_then(|c| c.get(target))
                .is_some_and(|p| accepts(p, now))
        });
    }
    assert!(
        mismatches.is_empty(),
        "the parity table moved (update fixtures/servers/expected-matrix.json and docs/servers.md deliberately):\n{}",
        mismatches.join("\n")
    );

    // The router's added latency over the server it routes to is reported.
    let hops = report["hops"].as_array().expect("hops");
    assert!(
        hops.iter().any(|h| h["router"] == "litellm-router"
            && h["upstream"] == "llama-direct"
            && h["metric"] == "total"),
        "{hops:?}"
    );
    // Keys never leak, even from servers that echo request details in errors.
    let all = out.all_output();
    for (k, v) in &servers.env {
        if k.ends_with("_API_KEY") {
            assert!(!all.contains(v.as_str()), "{k} leaked");
        }
    }
}
