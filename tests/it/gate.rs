//! The CI gate: a run against a baseline (a previous report or a baseline file with notes and
//! expiry dates), `--fail-on`, `baseline save|prune`, and `--shard I/N` + `merge`. A wiremock
//! server is switched between runs (conformant → deviation) to make a feature regress.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// Three cases, three features; the endpoint decides which pass.
const SUITE: &str = r#"suite: gate
description: the gate's test suite
cases:
  - id: basic
    feature: chat.basic
    request:
      path: /chat/completions
      body: { model: "{{model.chat}}", messages: [{ role: user, content: "case-basic" }] }
    expect: { status: 200, schema: chat.completion, checks: [chat.response] }
  - id: system
    feature: chat.system_message
    request:
      path: /chat/completions
      body: { model: "{{model.chat}}", messages: [{ role: system, content: "terse" }, { role: user, content: "case-system" }] }
    expect: { status: 200, schema: chat.completion, checks: [chat.response] }
"#;

/// The same suite with one more case, evidencing a feature the baseline does not know. (A new
/// failing case in a feature that passed makes that feature regress.)
const SUITE_WITH_NEW_CASE: &str = r#"  - id: added
    feature: chat.stop
    request:
      path: /chat/completions
      body: { model: "{{model.chat}}", messages: [{ role: user, content: "case-added" }] }
    expect: { status: 200, schema: chat.completion, checks: [chat.response] }
"#;

struct Endpoint {
    server: MockServer,
}

impl Endpoint {
    async fn start() -> Self {
        let e = Self {
            server: MockServer::start().await,
        };
        e.conformant().await;
        e
    }

    fn url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    async fn conformant(&self) {
        self.server.reset().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion("Hi.")))
            .with_priority(5)
            .mount(&self.server)
            .await;
    }

    /// Requests whose body contains `marker` get a response without `choices`.
    async fn deviate_on(&self, marker: &str) {
        let mut broken = chat_completion("Hi.");
        broken.as_object_mut().unwrap().remove("choices");
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_string_contains(marker))
            .respond_with(ResponseTemplate::new(200).set_body_json(broken))
            .with_priority(1)
            .mount(&self.server)
            .await;
    }
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

/// Run the suite file against the endpoint (ad-hoc target `adhoc`) with extra flags.
async fn run_suite(suite: &str, url: &str, extra: &[&str]) -> RunOutput {
    let mut args = vec![
        "run",
        "--suite",
        suite,
        "--base-url",
        url,
        "--model",
        "chat=m",
        "--api-key-env",
        "GATE_KEY",
    ];
    args.extend_from_slice(extra);
    run_cli(&args, &[("GATE_KEY", CANARY)]).await
}

fn keep_report(out: &RunOutput, dir: &Dir, name: &str) -> String {
    let dest = dir.path(name);
    std::fs::copy(out.report_dir.join("report.json"), &dest).unwrap_or_else(|e| {
        panic!(
            "no report.json ({e}); exit {}\n{}\n{}",
            out.code, out.stdout, out.stderr
        )
    });
    dest.display().to_string()
}

fn validate_baseline_file(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let value: Value = serde_yaml::from_str(&text).unwrap();
    let errors = schema_errors("baseline.schema.json", &value);
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
}

fn features(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c["feature"].as_str().unwrap(),
                        c["target"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A baseline file accepting the chat.basic deviation on `adhoc` until `expires`.
fn accepting(expires: &str) -> String {
    json!({
        "schema_version": 1,
        "entries": [
            {"target": "adhoc", "feature": "chat.basic", "outcome": "fail", "cases": ["gate/basic"],
             "note": "known Gemini deviation, tracked upstream", "expires": expires},
            {"target": "adhoc", "feature": "chat.system_message", "outcome": "pass", "cases": ["gate/system"]}
        ]
    })
    .to_string()
}

#[tokio::test]
async fn a_regression_fails_the_run_naming_exactly_the_feature() {
    let ep = Endpoint::start().await;
    let dir = Dir::new();
    let suite = dir.write("gate.yaml", SUITE);
    let before = run_suite(&suite, &ep.url(), &[]).await;
    assert_eq!(before.code, 0, "{}\n{}", before.stdout, before.stderr);
    let previous = keep_report(&before, &dir, "previous.json");

    ep.deviate_on("case-basic").await;
    let after = run_suite(&suite, &ep.url(), &["--baseline", &previous]).await;
    assert_eq!(after.code, 1, "{}\n{}", after.stdout, after.stderr);
    assert!(
        after.stderr.contains(&format!(
            "gate failed against baseline {previous}: regression chat.basic on adhoc\n"
        )),
        "{}",
        after.stderr
    );
    let report = after.report();
    validate_report(&report);
    let b = &report["baseline"];
    assert_eq!(features(&b["regressions"]), ["chat.basic adhoc"]);
    assert_eq!(b["regressions"][0]["baseline"], "pass");
    assert_eq!(b["regressions"][0]["now"], "fail");
    assert_eq!(b["regressions"][0]["cases"], json!(["gate/basic"]));
    assert!(
        b.get("new_failures").is_none() && b.get("known").is_none(),
        "{b}"
    );
    assert_eq!(b["passed"], false);
    // Shown first: the terminal, Markdown and HTML reports open with the comparison.
    assert!(
        after.stdout.starts_with("against baseline"),
        "{}",
        after.stdout
    );
    assert!(
        after
            .stdout
            .contains("REGRESSION  chat.basic on adhoc: ✓ pass → ≠ deviates")
    );
    let md = std::fs::read_to_string(after.report_dir.join("report.md")).unwrap();
    assert!(
        md.starts_with("# llm-parity report\n\n## Against the baseline\n\n**Gate failed**"),
        "{md}"
    );
    assert!(md.contains("### Regressions\n\n- `chat.basic` on `adhoc`: ✓ pass → ≠ deviates"));
    let html = std::fs::read_to_string(after.report_dir.join("report.html")).unwrap();
    assert!(html.find("id=\"baseline\"").unwrap() < html.find("Parity matrix").unwrap());
    assert!(!shows_canary(&after.all_output()));

    // Back to conformant: nothing regressed against the same baseline.
    ep.conformant().await;
    let fixed = run_suite(&suite, &ep.url(), &["--baseline", &previous]).await;
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
}

#[tokio::test]
async fn an_accepted_deviation_passes_until_it_expires() {
    let ep = Endpoint::start().await;
    let dir = Dir::new();
    let suite = dir.write("gate.yaml", SUITE);
    ep.deviate_on("case-basic").await;

    let future = dir.write("future.json", &accepting("2999-12-31"));
    let out = run_suite(&suite, &ep.url(), &["--baseline", &future]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let b = out.report()["baseline"].clone();
    assert_eq!(features(&b["known"]), ["chat.basic adhoc"]);
    assert_eq!(
        b["known"][0]["note"],
        "known Gemini deviation, tracked upstream"
    );
    assert_eq!(b["known"][0]["expires"], "2999-12-31");
    assert!(out.stdout.contains("KNOWN       chat.basic on adhoc: ✗ fail → ≠ deviates [note: known Gemini deviation, tracked upstream; expires 2999-12-31]"), "{}", out.stdout);

    let past = dir.write("past.yaml", &accepting("2000-01-01"));
    let out = run_suite(&suite, &ep.url(), &["--baseline", &past]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let b = out.report()["baseline"].clone();
    assert_eq!(features(&b["expired"]), ["chat.basic adhoc"]);
    assert!(b.get("known").is_none());
    assert!(
        out.stderr.contains("expired chat.basic on adhoc"),
        "{}",
        out.stderr
    );
    validate_report(&out.report());
}

#[tokio::test]
async fn fail_on_decides_what_a_new_failing_case_does() {
    let ep = Endpoint::start().await;
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("v1")).unwrap();
    std::fs::create_dir_all(dir.path("v2")).unwrap();
    let v1 = dir.write("v1/gate.yaml", SUITE);
    let v2 = dir.write("v2/gate.yaml", &format!("{SUITE}{SUITE_WITH_NEW_CASE}"));
    let before = run_suite(&v1, &ep.url(), &[]).await;
    assert_eq!(before.code, 0, "{}", before.stderr);
    let previous = keep_report(&before, &dir, "previous.json");
    // A baseline file from that report, for good measure.
    let saved = dir.s("baseline.yaml");
    let save = run_cli(
        &["baseline", "save", "--from", &previous, "-o", &saved],
        &[],
    )
    .await;
    assert_eq!(save.code, 0, "{}", save.stderr);
    assert!(
        save.stdout.contains("2 entries (0 not passing)"),
        "{}",
        save.stdout
    );
    validate_baseline_file(Path::new(&saved));

    ep.deviate_on("case-added").await;
    for (fail_on, code) in [("regression", 0), ("new", 1), ("any", 1)] {
        for base in [&previous, &saved] {
            let out = run_suite(&v2, &ep.url(), &["--baseline", base, "--fail-on", fail_on]).await;
            assert_eq!(
                out.code, code,
                "--fail-on {fail_on} with {base}: {}\n{}",
                out.stdout, out.stderr
            );
            let b = out.report()["baseline"].clone();
            assert_eq!(b["fail_on"], fail_on);
            assert!(b.get("regressions").is_none(), "{b}");
            let new: Vec<String> = b["new_failures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    format!(
                        "{}/{} {}",
                        n["suite"].as_str().unwrap(),
                        n["case"].as_str().unwrap(),
                        n["feature"].as_str().unwrap()
                    )
                })
                .collect();
            assert_eq!(new, ["gate/added chat.stop"]);
        }
    }
    let out = run_suite(
        &v2,
        &ep.url(),
        &["--baseline", &previous, "--fail-on", "new"],
    )
    .await;
    assert!(
        out.stderr.contains("new failure gate/added on adhoc"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn improvements_are_listed_not_failed() {
    let ep = Endpoint::start().await;
    let dir = Dir::new();
    let suite = dir.write("gate.yaml", SUITE);
    ep.deviate_on("case-system").await;
    let before = run_suite(&suite, &ep.url(), &[]).await;
    assert_eq!(before.code, 1);
    let previous = keep_report(&before, &dir, "previous.json");
    ep.conformant().await;
    let out = run_suite(&suite, &ep.url(), &["--baseline", &previous]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let b = out.report()["baseline"].clone();
    assert_eq!(features(&b["improvements"]), ["chat.system_message adhoc"]);
    assert!(
        out.stdout
            .contains("IMPROVED    chat.system_message on adhoc: ✗ fail → ✓ pass")
    );
    let md = std::fs::read_to_string(out.report_dir.join("report.md")).unwrap();
    assert!(md.contains("### Improvements\n\n- `chat.system_message` on `adhoc`: ✗ fail → ✓ pass"));
}

#[tokio::test]
async fn prune_removes_missing_cases_only_in_suites_that_ran() {
    let ep = Endpoint::start().await;
    let dir = Dir::new();
    let suite = dir.write("gate.yaml", SUITE);
    // A filtered run still knows every case of the suites it loaded.
    let out = run_suite(&suite, &ep.url(), &["--filter", "gate/basic"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = keep_report(&out, &dir, "report.json");
    let baseline = dir.write(
        "baseline.yaml",
        "schema_version: 1\nentries:\n\
         - {target: adhoc, feature: chat.basic, outcome: pass, cases: [gate/basic, gate/removed]}\n\
         - {target: adhoc, feature: chat.system_message, outcome: fail, cases: [gate/system], note: kept, expires: 2999-01-01}\n\
         - {target: adhoc, feature: chat.gone, outcome: fail, cases: [gate/gone]}\n\
         - {target: adhoc, feature: tools.parallel, outcome: fail, cases: [tools/parallel]}\n",
    );
    let dry = run_cli(
        &[
            "baseline",
            "prune",
            "--baseline",
            &baseline,
            "--report",
            &report,
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("removed entry adhoc chat.gone"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("removed case gate/removed"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("suites judged: gate"), "{}", dry.stdout);
    let out = run_cli(
        &[
            "baseline",
            "prune",
            "--baseline",
            &baseline,
            "--report",
            &report,
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&baseline).unwrap();
    let pruned: Value = serde_yaml::from_str(&text).unwrap();
    let kept: Vec<(String, Value)> = pruned["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["feature"].as_str().unwrap().to_string(),
                e["cases"].clone(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            ("chat.basic".to_string(), json!(["gate/basic"])),
            ("chat.system_message".to_string(), json!(["gate/system"])),
            ("tools.parallel".to_string(), json!(["tools/parallel"])),
        ]
    );
    assert_eq!(pruned["entries"][1]["note"], "kept");
    validate_baseline_file(Path::new(&baseline));
}

/// Results and matrix of a report, without timings.
fn essence(report: &Value) -> (Vec<String>, Value, Vec<String>) {
    let results = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}/{} {} {} {}",
                r["target"].as_str().unwrap(),
                r["suite"].as_str().unwrap(),
                r["case"].as_str().unwrap(),
                r["feature"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
                r["reason"].as_str().unwrap_or("")
            )
        })
        .collect();
    let differences = report["differences"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| {
                    format!(
                        "{}/{} {}",
                        x["suite"].as_str().unwrap(),
                        x["case"].as_str().unwrap(),
                        x["outcomes"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (results, report["features"].clone(), differences)
}

#[tokio::test]
async fn three_shards_merged_equal_the_unsharded_run() {
    let dir = Dir::new();
    let targets = [
        "--target",
        "reference",
        "--target",
        "reference:gemini-compat",
    ];
    let snaps = dir.s("snapshots");
    let mut common: Vec<&str> = targets.to_vec();
    common.extend(["--snapshots-dir", &snaps]);
    let mut args = vec!["run"];
    args.extend(&common);
    let full = run_cli(&args, &[]).await;
    assert!(full.code == 0 || full.code == 1, "{}", full.stderr);
    let full_report = full.report();

    let mut shards = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let mut args = vec!["run"];
        args.extend(&common);
        args.extend(["--shard", &shard]);
        let out = run_cli(&args, &[]).await;
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        let report = out.report();
        assert_eq!(report["shard"], json!({"index": i, "count": 3}));
        let n = report["results"].as_array().unwrap().len();
        let total = full_report["results"].as_array().unwrap().len();
        assert!(
            n * 3 >= total - 6 && n * 3 <= total + 6,
            "shard {i}: {n} of {total}"
        );
        shards.push(keep_report(&out, &dir, &format!("shard-{i}.json")));
    }
    let merged_dir = dir.s("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--report-dir", &merged_dir]);
    let merged = run_cli(&args, &[]).await;
    assert_eq!(
        merged.code, full.code,
        "{}\n{}",
        merged.stdout, merged.stderr
    );
    assert!(!merged.stderr.contains("warning"), "{}", merged.stderr);
    let merged_report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("merged/report.json")).unwrap())
            .unwrap();
    validate_report(&merged_report);
    assert_eq!(essence(&merged_report), essence(&full_report));
    assert!(merged_report.get("shard").is_none());
    for f in ["report.md", "report.html", "junit.xml"] {
        assert!(dir.path("merged").join(f).is_file(), "{f}");
    }
    // A missing shard is said, and the merge still works.
    let partial = run_cli(
        &["merge", &shards[0], &shards[2], "--report-dir", &merged_dir],
        &[],
    )
    .await;
    assert!(
        partial.stderr.contains("warning: shard(s) 2/3 missing"),
        "{}",
        partial.stderr
    );
    // The same shard twice is refused.
    let dup = run_cli(
        &["merge", &shards[0], &shards[0], "--report-dir", &merged_dir],
        &[],
    )
    .await;
    assert_eq!(dup.code, 2);
    assert!(
        dup.stderr.contains("duplicate result for target"),
        "{}",
        dup.stderr
    );
}

#[tokio::test]
async fn bad_inputs_are_configuration_errors() {
    let dir = Dir::new();
    for bad in ["0/3", "4/3", "two", "1/0"] {
        let out = run_cli(&["run", "--shard", bad], &[]).await;
        assert_eq!(out.code, 2, "--shard {bad}: {}", out.stderr);
        assert!(
            out.stderr.contains("--shard") && out.stderr.contains("expected I/N with 1 ≤ I ≤ N"),
            "{}",
            out.stderr
        );
    }
    let missing = dir.s("nope.yaml");
    let out = run_cli(&["run", "--baseline", &missing], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains(&format!("cannot read baseline {missing}")),
        "{}",
        out.stderr
    );
    assert!(
        !out.report_dir.join("report.json").exists(),
        "nothing runs before the baseline is read"
    );
    let garbage = dir.write("garbage.yaml", "entries: [1, 2\n");
    let out = run_cli(&["run", "--baseline", &garbage], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(&format!("{garbage}:1:10]")),
        "{}",
        out.stderr
    );
    let bad_date = dir.write("bad-date.yaml", "schema_version: 1\nentries:\n  - {target: t, feature: chat.basic, outcome: fail, expires: soon}\n");
    let out = run_cli(&["run", "--baseline", &bad_date], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(&format!("{bad_date}:3:62]"))
            && unwrapped(&out.stderr).contains("entry 1 (t / chat.basic): invalid expires `soon`")
            && out.stderr.contains("expected a date YYYY-MM-DD"),
        "{}",
        out.stderr
    );
    let out = run_cli(&["run", "--fail-on", "new"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--baseline"), "{}", out.stderr);

    // Merging reports of different schema versions.
    let v1 = dir.write("v1.json", &json!({"schema_version": 1, "tool": {"name": "llm-parity", "version": "0"}, "started_at": "", "duration_ms": 0, "targets": [], "results": [], "features": []}).to_string());
    let v2 = dir.write(
        "v2.json",
        &json!({"schema_version": 2, "anything": true}).to_string(),
    );
    let out = run_cli(&["merge", &v1, &v2, "--report-dir", &dir.s("m")], &[]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains(&format!("cannot merge reports of different schema versions: {v1} has schema_version 1, {v2} has schema_version 2")), "{}", out.stderr);
    let out = run_cli(&["merge", &v2, "--report-dir", &dir.s("m")], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("report schema_version 2 is not supported"),
        "{}",
        out.stderr
    );
    let out = run_cli(&["merge", &missing], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains(&format!("cannot read report {missing}")),
        "{}",
        out.stderr
    );
    let out = run_cli(
        &["baseline", "prune", "--baseline", &v1, "--report", &v1],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is a report, not a baseline file"),
        "{}",
        out.stderr
    );
}

/// A hand-edited baseline gets the diagnostics a suite gets: file:line:col, the source line,
/// what was expected and a suggestion — from `run`, `merge` and `baseline prune` alike.
#[tokio::test]
async fn a_typo_in_a_baseline_file_is_located_with_a_suggestion() {
    let dir = Dir::new();
    let typo = dir.write(
        "baseline.yaml",
        "schema_version: 1\nentries:\n  - target: reference\n    feature: chat.basic\n    outcome: fail\n    note: known\n    expirse: 2099-01-01\n",
    );
    for args in [
        vec!["run", "--baseline", typo.as_str()],
        vec!["baseline", "prune", "--baseline", typo.as_str()],
    ] {
        let out = run_cli(&args, &[]).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.report_dir.join("report.json").exists(), "nothing ran");
        let tmp = regex::escape(&dir.s(""));
        insta::with_settings!({filters => vec![(tmp.as_str(), "[DIR]/")]}, {
            insta::assert_snapshot!("baseline_typo", out.stderr);
        });
    }
}

/// `OPENAI_BASE_URL` + `OPENAI_API_KEY` without `OPENAI_MODEL`: the default run would skip most
/// of its cases, so it stops before sending anything and names the fix. A selection narrowed
/// to what the target has (`--suite models`: one case of three needs a chat model) runs, the
/// skip counted on the summary line and in report.md, and `--fail-on skip` gates on it.
#[tokio::test]
async fn a_target_without_models_stops_unless_the_selection_fits_it() {
    let server = MockServer::start().await;
    let base = format!("{}/v1", server.uri());
    let env = [
        ("OPENAI_BASE_URL", base.as_str()),
        ("OPENAI_API_KEY", "sk-test-key"),
    ];
    let out = run_cli(&["run"], &env).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    let said = out.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    for fix in [
        "target `env` has no `chat` model",
        "set OPENAI_MODEL",
        "--model chat=MODEL_ID",
        "`models: {chat: MODEL_ID}`",
        "--allow-missing-models",
    ] {
        assert!(said.contains(fix), "{fix:?} in {said}");
    }
    let sent = server.received_requests().await.unwrap();
    assert!(sent.is_empty(), "nothing is sent: {sent:?}");

    let (addr, _reference) = reference_endpoint("sk-test-key").await;
    let base = format!("http://{addr}/v1");
    let env = [
        ("OPENAI_BASE_URL", base.as_str()),
        ("OPENAI_API_KEY", "sk-test-key"),
    ];
    let out = run_cli(&["run", "--suite", "models"], &env).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let summary = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        summary.contains("1 skipped: no model for chat"),
        "{summary}"
    );
    let md = std::fs::read_to_string(out.report_dir.join("report.md")).unwrap();
    assert!(md.contains("1 skipped: no model for chat"), "{md}");
    let gated = run_cli(&["run", "--suite", "models", "--fail-on", "skip"], &env).await;
    assert_eq!(gated.code, 1, "{}", gated.stderr);
    assert!(
        gated
            .stderr
            .contains("gate failed (--fail-on skip): 1 skipped: no model for chat"),
        "{}",
        gated.stderr
    );
}
