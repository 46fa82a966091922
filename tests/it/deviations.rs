//! Deviations on demand: `llm-parity serve --deviation ID` and the built-in target
//! `reference:deviation=ID[+ID…]`.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;

/// A running `llm-parity serve` (killed when dropped) and its base URL.
pub struct Served {
    _child: tokio::process::Child,
    pub base_url: String,
}

/// Starts `llm-parity serve --port 0` with `args` and waits for the line naming its address.
pub async fn serve(args: &[&str], env: &[(&str, &str)]) -> Served {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(["serve", "--port", "0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("llm-parity serve starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base_url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr") {
            if let Some(at) = line.find("http://") {
                return line[at..].trim().to_string();
            }
        }
        panic!("serve exited without naming its address");
    })
    .await
    .expect("serve names its address within 30 s");
    // Keep draining stderr so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Served {
        _child: child,
        base_url,
    }
}

async fn stream_text(base_url: &str) -> String {
    reqwest::Client::new()
        .post(format!("{base_url}/chat/completions"))
        .json(&serde_json::json!({"model": "ref-chat", "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

#[tokio::test]
async fn serve_switches_on_the_named_deviations_and_nothing_else() {
    let plain = serve(&[], &[]).await;
    let text = stream_text(&plain.base_url).await;
    assert!(
        text.contains("data: [DONE]") && text.contains("\"id\""),
        "{text}"
    );

    let deviating = serve(
        &["--deviation", "S7-no-done", "--deviation", "s4-no-id"],
        &[],
    )
    .await;
    let text = stream_text(&deviating.base_url).await;
    assert!(!text.contains("[DONE]"), "{text}");
    assert!(!text.contains("\"id\""), "{text}");
    assert!(text.contains("\"index\""), "S1 stays off: {text}");
}

#[tokio::test]
async fn serve_refuses_an_unknown_deviation_listing_the_known_ones() {
    let out = run_cli(&["serve", "--port", "0", "--deviation", "S99"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown deviation `S99`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("S4-no-id"), "{}", out.stderr);
}

#[tokio::test]
async fn a_deviation_target_fails_exactly_the_cases_its_deviation_touches() {
    let out = run_cli(
        &[
            "run",
            "--target",
            "reference:deviation=S1",
            "--suite",
            "tools",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    let failed: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] != "pass")
        .map(|r| format!("{} {}", r["case"], r["reason"]))
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed.iter().all(|f| f.contains("has no `index`")),
        "{failed:#?}"
    );
}

#[tokio::test]
async fn an_unknown_deviation_target_is_a_configuration_error() {
    let out = run_cli(&["run", "--target", "reference:deviation=S1+Z9"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown deviation `Z9`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was sent"), "{}", out.stderr);
}
