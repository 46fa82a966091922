//! Severity from the clients' point of view: every failed check carries an impact from the
//! verified client catalogue (`breaks` naming a client, its version and the symptom, or
//! `deviates`), every report format shows it, `--fail-on breaking` gates on it, and the
//! runbook's decision follows it.

use serde_json::Value;

use crate::support::*;

/// The result of `suite/case` on `target` in a report.json.
fn result<'a>(report: &'a Value, target: &str, case: &str) -> &'a Value {
    let (suite, id) = case.split_once('/').unwrap();
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"] == target && r["suite"] == suite && r["case"] == id)
        .unwrap_or_else(|| panic!("no result for {target} {case}"))
}

/// The failed check `check` of a result.
fn check<'a>(r: &'a Value, check: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["check"] == check && c["status"] != "warn")
        .unwrap_or_else(|| panic!("no failed check {check} in {r}"))
}

/// `client call: symptom` of every verified client effect of a check.
fn cited(c: &Value) -> Vec<String> {
    c["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{} {} {}: {}",
                e["client"].as_str().unwrap(),
                e["version"].as_str().unwrap(),
                e["call"].as_str().unwrap(),
                e["symptom"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn gemini_compat_breaks_name_the_client_and_the_symptom() {
    let out = run_cli(
        &[
            "run",
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
            "--format",
            "json,md,html,junit",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    let gc = "reference:gemini-compat";
    // (case, check, deviation, a client effect the real SDK showed)
    let breaking = [
        (
            "tools/stream-named",
            "tools.stream_deltas",
            "S1",
            "openai-python 3.57.0 tools_stream: TypeError: list indices must be integers",
        ),
        (
            "tools/required",
            "tools.calls",
            "T2",
            "openai-node 6.49.0 tools: tool call id is \"\"",
        ),
        (
            "errors/bad-model",
            "errors.envelope",
            "E1",
            "openai-node 6.49.0 error_bad_model: e.code is undefined",
        ),
        (
            "errors/bad-key",
            "status",
            "E2",
            "openai-python 3.57.0 error_bad_key: raised BadRequestError, not AuthenticationError",
        ),
    ];
    for (case, name, deviation, effect) in breaking {
        let r = result(&report, gc, case);
        assert_eq!(r["outcome"], "fail", "{case}: {r}");
        assert_eq!(r["impact"], "breaks", "{case}: {r}");
        let c = check(r, name);
        assert_eq!(c["impact"], "breaks", "{case}: {c}");
        assert!(
            c["deviations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d == deviation),
            "{case}: {c}"
        );
        let cited = cited(c);
        assert!(
            cited.iter().any(|l| l.starts_with(effect)),
            "{case}: {effect} not among {cited:#?}"
        );
        // The reference itself passes the case: nothing to attach there.
        assert!(result(&report, "reference", case)["impact"].is_null());
    }
    // The matrix cells carry the impact, and every format shows it.
    let features = report["features"].as_array().unwrap();
    let cell = |feature: &str| {
        features
            .iter()
            .find(|f| f["feature"] == feature)
            .unwrap_or_else(|| panic!("no feature {feature}"))["impacts"][gc]
            .clone()
    };
    assert_eq!(cell("tools.streaming"), "breaks");
    let md = std::fs::read_to_string(out.report_dir.join("report.md")).unwrap();
    assert!(md.contains("✗ breaks"), "{md}");
    // (report.md is cut to fit a PR comment: the tools cases come after the cut.)
    assert!(
        md.contains("- clients: breaks openai-python 3.57.0"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.report_dir.join("report.html")).unwrap();
    assert!(html.contains("✗ breaks"));
    assert!(
        html.contains("breaks openai-python 3.57.0 tools_stream: raises TypeError"),
        "the HTML report cites the client"
    );
    let junit = std::fs::read_to_string(out.report_dir.join("junit.xml")).unwrap();
    assert!(junit.contains("breaks openai-python 3.57.0"), "{junit}");
    assert!(out.stdout.contains("break a client"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("breaks openai-python 3.57.0 tools_stream"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn deviations_no_client_notices_are_marked_deviates() {
    let targets = [
        ("reference:deviation=S10", "streaming.identity"),
        ("reference:deviation=S5-on-finish", "streaming.usage"),
        ("reference:deviation=S7-no-done", "streaming.done"),
    ];
    let mut args = vec!["run", "--target", "reference:deviation=E12"];
    for (t, _) in &targets {
        args.extend(["--target", t]);
    }
    let out = run_cli(&args, &[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    for (target, name) in targets {
        let failing: Vec<&Value> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["target"] == target && r["outcome"] == "fail")
            .collect();
        assert!(!failing.is_empty(), "{target} fails somewhere");
        for r in &failing {
            assert_eq!(r["impact"], "deviates", "{target}: {r}");
        }
        let c = failing
            .iter()
            .flat_map(|r| r["checks"].as_array().unwrap())
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("{target}: no failed {name}"));
        assert_eq!(c["impact"], "deviates", "{c}");
        assert!(c["clients"].is_null(), "{c}");
    }
    // A nullable field left out (E12: no `error.param`) is a warning, never a failure.
    let e12: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"] == "reference:deviation=E12")
        .collect();
    assert!(
        e12.iter().all(|r| r["outcome"] != "fail"),
        "E12 fails a case"
    );
    assert!(
        e12.iter()
            .flat_map(|r| r["checks"].as_array().into_iter().flatten())
            .any(|c| c["check"] == "errors.envelope"
                && c["status"] == "warn"
                && c["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("error.param is absent")),
        "E12 is not warned about"
    );
    assert!(out.stdout.contains("≠"), "{}", out.stdout);
    assert!(
        out.stdout.contains(" fail (0 break a client, "),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn fail_on_breaking_passes_deviations_and_fails_a_break() {
    let only_deviations = run_cli(
        &[
            "run",
            "--target",
            "reference:deviation=S10",
            "--fail-on",
            "breaking",
        ],
        &[],
    )
    .await;
    assert_eq!(
        only_deviations.code, 0,
        "{}\n{}",
        only_deviations.stdout, only_deviations.stderr
    );
    let plain = run_cli(&["run", "--target", "reference:deviation=S10"], &[]).await;
    assert_eq!(plain.code, 1, "without --fail-on a deviation fails the run");

    let a_break = run_cli(
        &[
            "run",
            "--target",
            "reference:deviation=S1",
            "--fail-on",
            "breaking",
        ],
        &[],
    )
    .await;
    assert_eq!(a_break.code, 1, "{}", a_break.stdout);
    assert!(
        a_break.stderr.contains("break a client") && a_break.stderr.contains("tools/"),
        "{}",
        a_break.stderr
    );
}

#[tokio::test]
async fn both_targets_failing_with_different_bodies_are_a_difference() {
    let out = run_cli(
        &[
            "run",
            "--target",
            "reference:deviation=E1",
            "--target",
            "reference:deviation=E13",
            "--suite",
            "errors",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    let d = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["case"] == "bad-model")
        .unwrap_or_else(|| panic!("no difference for bad-model: {}", report["differences"]));
    assert!(
        d["outcomes"]
            .as_object()
            .unwrap()
            .values()
            .all(|o| o == "fail"),
        "{d}"
    );
    let diff = d["shape_diffs"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("+{") || diff.contains("-["), "{diff}");
    assert!(
        d["reasons"]["reference:deviation=E13"]
            .as_str()
            .unwrap()
            .contains("clients find no `error`"),
        "{d}"
    );
    assert!(
        out.stdout.contains("differences between targets"),
        "{}",
        out.stdout
    );
}

/// `llm-parity runbook --from reference --to NEW --uses USES`: (exit code, runbook.json).
async fn runbook(new: &str, uses: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().to_str().unwrap().to_string();
    let out = run_cli(
        &[
            "runbook",
            "--report-dir",
            &report_dir,
            "--from",
            "reference",
            "--to",
            new,
            "--uses",
            uses,
        ],
        &[],
    )
    .await;
    let text = std::fs::read_to_string(dir.path().join("runbook.json"))
        .unwrap_or_else(|e| panic!("no runbook.json ({e}): {}\n{}", out.stdout, out.stderr));
    (out.code, serde_json::from_str(&text).unwrap(), out.stdout)
}

#[tokio::test]
async fn the_runbook_blocks_on_a_break_naming_client_and_symptom_and_accepts_deviations() {
    // A used feature that only deviates (no client notices): GO WITH CAVEATS.
    let (code, j, stdout) = runbook("reference:deviation=S10", "streaming").await;
    assert_eq!(code, 4, "{stdout}");
    assert_eq!(j["verdict"]["decision"], "go_with_caveats");
    let caveats = j["verdict"]["caveats"].to_string();
    assert!(caveats.contains("fail (deviates)"), "{caveats}");
    assert!(caveats.contains("every verified client works"), "{caveats}");

    // A used feature that breaks a client: NO-GO, naming the client and the symptom.
    let (code, j, stdout) = runbook("reference:deviation=S1", "tools").await;
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(j["verdict"]["decision"], "no_go");
    let blockers = j["verdict"]["blockers"].to_string();
    assert!(
        blockers.contains(
            "breaks openai-python 3.57.0 tools_stream: raises TypeError: list indices must be integers"
        ),
        "{blockers}"
    );
    assert!(stdout.contains("openai-python 3.57.0"), "{stdout}");

    // A used feature NEW refuses: NO-GO.
    let (code, j, stdout) = runbook("reference:deviation=Q2", "chat").await;
    assert_eq!(code, 1, "{stdout}");
    let blockers = j["verdict"]["blockers"].to_string();
    assert!(
        blockers.contains("n_choices: raises BadRequestError"),
        "{blockers}"
    );
}

#[tokio::test]
async fn a_refusal_in_a_reshaped_body_is_unsupported_with_the_reshaped_body_named() {
    let (both, plain) = ("reference:deviation=Q2+E13", "reference:deviation=Q2");
    let out = run_cli(
        &[
            "run",
            "--suite",
            "chat",
            "--target",
            "reference",
            "--target",
            both,
            "--target",
            plain,
        ],
        &[],
    )
    .await;
    let report = out.report();
    assert_eq!(
        result(&report, "reference", "chat/n-two")["outcome"],
        "pass"
    );
    let named = |r: &Value| -> Vec<Value> {
        r["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| {
                c["deviations"]
                    .as_array()
                    .is_some_and(|d| d.contains(&"E13".into()))
            })
            .cloned()
            .collect()
    };
    // `n` refused in `{"0": {"error": …}}`: the refusal is found where the message sits, and
    // the reshaped body is its own deviation, a warning with what it does to the clients.
    let r = result(&report, both, "chat/n-two");
    assert_eq!(r["outcome"], "unsupported", "{r}");
    let e13 = named(r);
    assert_eq!(e13.len(), 1, "{r}");
    assert_eq!(e13[0]["check"], "errors.envelope");
    assert_eq!(e13[0]["status"], "warn");
    assert!(
        e13[0].get("impact").is_none(),
        "a warning has no impact: {r}"
    );
    assert!(
        cited(&e13[0])
            .iter()
            .any(|c| c.starts_with("openai-node ")
                && c.contains("error_bad_model: e.code is undefined")),
        "{r}"
    );
    // The same refusal in OpenAI's envelope names no reshaped body.
    let r = result(&report, plain, "chat/n-two");
    assert_eq!(r["outcome"], "unsupported", "{r}");
    assert!(named(r).is_empty(), "{r}");
}
