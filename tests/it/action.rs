//! The GitHub Action (`action.yml`): its documented shape (a composite action: required keys,
//! every input used and described, every `run:` step with a `shell:`, no `${{ }}` spliced
//! into a script), and its shell steps run here as a runner would run them — with fake
//! `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY` and `RUNNER_TEMP`, a fake
//! `cargo` that "installs" the binary under test, and the `uses:` steps (cache, artifacts)
//! stood in for by what they would leave on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use crate::support::*;

fn action() -> Value {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

fn steps(a: &Value) -> Vec<Value> {
    a["runs"]["steps"]
        .as_sequence()
        .expect("runs.steps")
        .clone()
}

fn inputs(a: &Value) -> Vec<(String, Value)> {
    a["inputs"]
        .as_mapping()
        .expect("inputs")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

/// Every `${{ … }}` expression in `text`.
fn expressions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        let after = &rest[i + 3..];
        let Some(j) = after.find("}}") else { break };
        out.push(after[..j].trim().to_string());
        rest = &after[j + 2..];
    }
    out
}

#[test]
fn action_yml_has_the_documented_shape() {
    let a = action();
    for key in ["name", "description", "inputs", "outputs", "runs"] {
        assert!(a.get(key).is_some(), "action.yml lacks `{key}`");
    }
    assert_eq!(a["runs"]["using"], "composite", "runs.using");
    let all =
        serde_yaml::to_string(&a["runs"]).unwrap() + &serde_yaml::to_string(&a["outputs"]).unwrap();
    let exprs = expressions(&all);
    for (name, def) in inputs(&a) {
        assert!(
            def["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input `{name}` has no description"
        );
        assert!(
            def.get("default").is_some() || def["required"] == true,
            "input `{name}` has neither a default nor `required: true`"
        );
        assert!(
            exprs.iter().any(|e| e.contains(&format!("inputs.{name}"))),
            "input `{name}` is never used"
        );
    }
    let declared: Vec<String> = inputs(&a).into_iter().map(|(n, _)| n).collect();
    for e in &exprs {
        for word in e.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-' || c == '_')) {
            if let Some(name) = word.strip_prefix("inputs.") {
                assert!(
                    declared.iter().any(|d| d == name),
                    "`{e}` uses an undeclared input"
                );
            }
        }
    }
    for (name, out) in a["outputs"].as_mapping().unwrap() {
        assert!(
            out["value"].as_str().is_some(),
            "output {name:?} has no value"
        );
    }
    for s in steps(&a) {
        let what = s["name"].as_str().unwrap_or("?").to_string();
        match (s.get("run"), s.get("uses")) {
            (Some(run), None) => {
                assert!(s["shell"].as_str().is_some(), "step `{what}` has no shell:");
                // Inputs reach a script through `env:`, never spliced into it (injection).
                assert!(
                    expressions(run.as_str().unwrap()).is_empty(),
                    "step `{what}` splices an expression into its script"
                );
            }
            (None, Some(uses)) => assert!(
                uses.as_str().is_some_and(|u| u.contains('@')),
                "step `{what}` uses an action without a version"
            ),
            _ => panic!("step `{what}` needs exactly one of run: and uses:"),
        }
    }
}

/// A composite action's run, as far as its shell steps go.
struct Runner {
    dir: tempfile::TempDir,
    inputs: BTreeMap<String, String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
}

struct Finished {
    /// The exit status of the last shell step that ran.
    last_exit: i32,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    summary: String,
    cargo_calls: String,
    /// Every shell step's output, for the assertion messages.
    log: String,
    /// The runner's directory (reports, temp), kept until the test is done with it.
    _dir: tempfile::TempDir,
}

impl Runner {
    /// `given`: the inputs set in the workflow (the others take their defaults).
    fn new(given: &[(&str, &str)]) -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let mut all: BTreeMap<String, String> = inputs(&action())
            .into_iter()
            .map(|(k, v)| (k, v["default"].as_str().unwrap_or("").to_string()))
            .collect();
        for (k, v) in given {
            assert!(all.contains_key(*k), "no input `{k}`");
            all.insert(k.to_string(), v.to_string());
        }
        for d in ["temp", "workspace", "fakebin"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        // A `cargo` that records its arguments and installs the binary under test.
        let fake = dir.path().join("fakebin/cargo");
        std::fs::write(
            &fake,
            format!(
                "#!/usr/bin/env bash\necho \"$@\" >> \"{calls}\"\nwhile [[ $# -gt 0 ]]; do [[ $1 == --root ]] && root=$2; shift; done\nmkdir -p \"$root/bin\" && cp \"{bin}\" \"$root/bin/llm-parity\"\n",
                calls = dir.path().join("cargo-calls").display(),
                bin = bin().display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        Runner {
            dir,
            inputs: all,
            outputs: BTreeMap::new(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// The value of one expression, as the runner would compute it (the subset action.yml uses).
    fn eval(&self, e: &str) -> String {
        if let Some(name) = e.strip_prefix("inputs.") {
            return self.inputs[name].clone();
        }
        if let Some(rest) = e.strip_prefix("steps.") {
            let (id, out) = rest.split_once(".outputs.").expect("steps.ID.outputs.NAME");
            return self
                .outputs
                .get(id)
                .and_then(|o| o.get(out))
                .cloned()
                .unwrap_or_default();
        }
        match e {
            "github.action_path" => repo().display().to_string(),
            "runner.temp" => self.path("temp").display().to_string(),
            other => panic!("the test runner cannot evaluate `{other}`"),
        }
    }

    fn expand(&self, text: &str) -> String {
        let mut out = text.to_string();
        for e in expressions(text) {
            out = out.replacen(&format!("${{{{ {e} }}}}"), &self.eval(&e), 1);
        }
        out
    }

    fn run(mut self) -> Finished {
        let summary = self.path("summary.md");
        let mut last_exit = 0;
        let mut log = String::new();
        for s in steps(&action()) {
            let Some(script) = s["run"].as_str() else {
                // `uses:` steps: the cache misses; the artifacts are set up by the test.
                continue;
            };
            let id = s["id"].as_str().unwrap_or("").to_string();
            let output = self.path(&format!("output-{id}"));
            std::fs::write(&output, "").unwrap();
            let cwd = match s["working-directory"].as_str() {
                Some(w) => self.path("workspace").join(self.expand(w)),
                None => self.path("workspace"),
            };
            let mut cmd = Command::new("bash");
            cmd.arg("--noprofile")
                .arg("--norc")
                .arg("-eo")
                .arg("pipefail")
                .arg("-c")
                .arg(script)
                .current_dir(&cwd)
                .env_remove("CI")
                .env_remove("OPENAI_BASE_URL")
                .env(
                    "PATH",
                    format!(
                        "{}:{}",
                        self.path("fakebin").display(),
                        std::env::var("PATH").unwrap()
                    ),
                )
                .env("GITHUB_OUTPUT", &output)
                .env("GITHUB_ENV", self.path("env"))
                .env("GITHUB_PATH", self.path("path"))
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("RUNNER_TEMP", self.path("temp"))
                .env("RUNNER_OS", "Linux");
            if let Some(env) = s["env"].as_mapping() {
                for (k, v) in env {
                    cmd.env(k.as_str().unwrap(), self.expand(v.as_str().unwrap_or("")));
                }
            }
            let out = cmd.output().unwrap();
            last_exit = out.status.code().unwrap_or(-1);
            log.push_str(&format!(
                "--- {} (exit {last_exit})\n{}{}",
                s["name"].as_str().unwrap_or("?"),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
            let text = std::fs::read_to_string(&output).unwrap();
            let map: BTreeMap<String, String> = text
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            self.outputs.insert(id, map);
            let last = s["run"].as_str() == steps(&action()).last().unwrap()["run"].as_str();
            if last_exit != 0 && !last {
                panic!(
                    "step `{}` failed ({last_exit}):\n{}\n{}",
                    s["name"].as_str().unwrap_or("?"),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        let cargo_calls = std::fs::read_to_string(self.path("cargo-calls")).unwrap_or_default();
        Finished {
            last_exit,
            outputs: self.outputs,
            summary: std::fs::read_to_string(summary).unwrap_or_default(),
            cargo_calls,
            log,
            _dir: self.dir,
        }
    }
}

fn run_output<'a>(f: &'a Finished, name: &str) -> &'a str {
    f.outputs["run"].get(name).map(String::as_str).unwrap_or("")
}

#[test]
fn a_run_installs_reports_to_the_summary_and_exits_with_the_tools_code() {
    let r = Runner::new(&[("suites", "models, errors"), ("args", "--concurrency '2'")]);
    let root = r.path("temp/llm-parity");
    let f = r.run();
    assert!(
        f.cargo_calls.contains(&format!(
            "install --locked --path {} --root {}",
            repo().display(),
            root.display()
        )),
        "{}",
        f.cargo_calls
    );
    assert_eq!(run_output(&f, "exit-code"), "0");
    assert_eq!(f.last_exit, 0);
    let reports = PathBuf::from(run_output(&f, "report-dir"));
    assert!(
        reports.join("report.json").is_file(),
        "{reports:?}\n{}",
        f.log
    );
    let md = std::fs::read_to_string(reports.join("report.md")).unwrap();
    assert_eq!(f.summary, md, "the summary is report.md, once");

    // A failing run fails the job with the tool's exit code, after the summary is written.
    let r = Runner::new(&[
        ("suites", "models"),
        ("args", "--base-url http://127.0.0.1:9/v1 --model chat=m"),
    ]);
    let f = r.run();
    assert_eq!(run_output(&f, "exit-code"), "1");
    assert_eq!(f.last_exit, 1);
    assert!(!f.summary.is_empty());

    // A configuration error is exit 2, also when no report was written.
    let f = Runner::new(&[("targets", "no-such-target")]).run();
    assert_eq!(run_output(&f, "exit-code"), "2");
    assert_eq!(f.last_exit, 2);
}

/// Shards report without gating (exit 1 is the merge job's), the merge gates once.
#[test]
fn shards_merge_into_one_gated_report() {
    let shards = tempfile::tempdir().unwrap();
    for i in [1, 2] {
        let shard = format!("{i}/2");
        let r = Runner::new(&[
            ("suites", "models errors"),
            ("shard", &shard),
            ("baseline", "ignored.json"),
        ]);
        let f = r.run();
        assert_eq!(run_output(&f, "exit-code"), "0");
        assert_eq!(run_output(&f, "shard-index"), i.to_string());
        assert!(f.summary.is_empty(), "a shard wrote the summary");
        let dir = PathBuf::from(run_output(&f, "report-dir"));
        assert!(!dir.join("report.md").exists(), "a shard renders json only");
        // What upload-artifact (`<artifact-name>-shard-<I>`) and download-artifact leave.
        let to = shards.path().join(format!("llm-parity-reports-shard-{i}"));
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(dir.join("report.json"), to.join("report.json")).unwrap();
    }
    let r = Runner::new(&[("mode", "merge")]);
    copy_dir(shards.path(), &r.path("temp/llm-parity-shards"));
    let f = r.run();
    assert_eq!(run_output(&f, "exit-code"), "0", "{:?}", f.outputs);
    assert_eq!(f.last_exit, 0);
    let merged: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(PathBuf::from(run_output(&f, "report-dir")).join("report.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        merged["results"].as_array().unwrap().len(),
        9,
        "3 models + 6 errors cases (the opt-in context-length case a skip)"
    );
    assert!(f.summary.contains("models"), "{}", f.summary);

    // A shard with failing cases does not fail its job; anything worse does.
    let f = Runner::new(&[
        ("suites", "models"),
        ("shard", "1/1"),
        ("args", "--base-url http://127.0.0.1:9/v1 --model chat=m"),
    ])
    .run();
    assert_eq!(run_output(&f, "exit-code"), "1");
    assert_eq!(f.last_exit, 0);

    // A merge without shard reports says so and fails.
    let f = Runner::new(&[("mode", "merge")]).run();
    assert_eq!(run_output(&f, "exit-code"), "2");
    assert_eq!(f.last_exit, 2);
}

fn copy_dir(from: &Path, to: &Path) {
    for f in walk(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, dest).unwrap();
    }
}
