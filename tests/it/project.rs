//! llm-parity outside its own repository: the built-in suites, fixtures and snapshots are inside
//! the binary, so it runs from any directory; a user's project (the current directory or
//! `--project DIR`, scaffolded by `init`) adds suites, fixtures and snapshots to them.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// A suite `id` of one chat case `only`, as a user would write it.
fn chat_suite(id: &str, snapshot: bool) -> String {
    let snap = if snapshot {
        "    snapshot: shape\n"
    } else {
        ""
    };
    format!(
        "suite: {id}\ndescription: mine\ncases:\n  - id: only\n    feature: chat.mine\n{snap}    request:\n      path: /chat/completions\n      body: {{ model: \"{{{{model.chat}}}}\", messages: [{{ role: user, content: hi }}], max_tokens: 8 }}\n    expect:\n      status: 200\n      checks: [chat.response]\n"
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn outcomes(out: &RunOutput) -> Vec<(String, String)> {
    out.report()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["suite"].as_str().unwrap(),
                    r["case"].as_str().unwrap()
                ),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_built_in_suite_passes_from_an_empty_directory_in_ci() {
    let empty = tempfile::tempdir().unwrap();
    let out = run_cli_in(empty.path(), &["run"], &[("CI", "true")]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let results = outcomes(&out);
    assert!(results.len() >= 60, "{results:?}");
    for (case, outcome) in &results {
        assert!(
            outcome == "pass" || outcome == "skip",
            "{case}: {outcome}\n{}",
            out.stderr
        );
    }
    // The shipped snapshots were found (in CI a missing one fails) and nothing was written here.
    assert!(
        out.stderr.contains("0 mismatched, 0 missing") && !out.stderr.contains(" 0 matched"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "the run wrote into the current directory"
    );
    for args in [&["validate"][..], &["list", "suites"], &["list", "cases"]] {
        let out = run_cli_in(empty.path(), args, &[]).await;
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
}

#[tokio::test]
async fn init_scaffolds_a_project_that_validates_and_runs_beside_the_built_ins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_cli_in(d, &["init", "--action", "acme/llm-parity@v1"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for f in [
        "targets.yaml",
        "suites/my-app.yaml",
        ".github/workflows/llm-parity.yml",
    ] {
        assert!(
            d.join(f).is_file(),
            "init did not write {f}:\n{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&format!("wrote   ./{f}")),
            "{}",
            out.stdout
        );
    }
    let workflow = std::fs::read_to_string(d.join(".github/workflows/llm-parity.yml")).unwrap();
    assert!(workflow.contains("uses: acme/llm-parity@v1"), "{workflow}");
    let targets = std::fs::read_to_string(d.join("targets.yaml")).unwrap();
    // Each role's line names the built-in suites that need it.
    let role = |r: &str, suite: &str| {
        targets
            .lines()
            .any(|l| l.starts_with(&format!("#   {r} ")) && l.contains(suite))
    };
    assert!(
        role("vision", "vision") && role("embedding", "embeddings") && role("chat", "chat"),
        "the role map is not explained:\n{targets}"
    );

    // Nothing is overwritten, and the skip is said.
    write(&d.join("targets.yaml"), "targets: {}\n");
    let again = run_cli_in(d, &["init"], &[]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("targets.yaml")).unwrap(),
        "targets: {}\n"
    );
    assert_eq!(
        again.stdout.matches("skipped ").count(),
        3,
        "{}",
        again.stdout
    );
    std::fs::write(d.join("targets.yaml"), targets).unwrap();

    let validate = run_cli_in(d, &["validate"], &[]).await;
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stdout.contains("1 from files") && validate.stdout.contains("1 target(s)"),
        "{}",
        validate.stdout
    );

    // The example suite runs beside the built-in ones, and passes, in CI too.
    let run = run_cli_in(d, &["run"], &[("CI", "true")]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = outcomes(&run);
    let mine: Vec<_> = results
        .iter()
        .filter(|(c, _)| c.starts_with("my-app/"))
        .collect();
    assert_eq!(mine.len(), 3, "{results:?}");
    assert!(mine.iter().all(|(_, o)| o == "pass"), "{mine:?}");
    assert!(
        results.iter().any(|(c, _)| c == "chat/basic"),
        "no built-in suite ran"
    );

    // The same project from elsewhere, with --project.
    let elsewhere = tempfile::tempdir().unwrap();
    let p = d.to_str().unwrap();
    let out = run_cli_in(elsewhere.path(), &["validate", "--project", p], &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("1 from files"), "{}", out.stdout);
}

#[tokio::test]
async fn a_project_suite_with_a_built_in_id_replaces_it_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("suites/chat.yaml"), &chat_suite("chat", false));
    // A byte-for-byte copy of a built-in suite is that suite: no note.
    std::fs::copy(
        repo().join("suites/models.yaml"),
        d.join("suites/models.yaml"),
    )
    .unwrap();

    let list = run_cli_in(d, &["list", "suites"], &[]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let line = |id: &str| {
        list.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no {id} in\n{}", list.stdout))
            .to_string()
    };
    assert!(line("chat").contains("1 case(s)") && line("chat").contains("suites/chat.yaml"));
    assert!(line("models").contains("built-in"), "{}", line("models"));
    assert!(line("tools").contains("built-in"), "{}", line("tools"));
    assert_eq!(
        list.stderr.trim(),
        "note: suite `chat` from suites/chat.yaml replaces the built-in suite `chat`"
    );

    let run = run_cli_in(d, &["run", "--suite", "chat"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        outcomes(&run),
        [("chat/only".to_string(), "pass".to_string())]
    );
    assert!(
        run.stderr
            .contains("note: `--suite chat` is suites/chat.yaml, not the built-in suite `chat`"),
        "{}",
        run.stderr
    );

    // The identical copy, named: the built-in suite runs.
    let run = run_cli_in(d, &["run", "--suite", "models"], &[]).await;
    assert_eq!(outcomes(&run).len(), 3, "{}", run.stderr);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);

    // An explicit --suite PATH replaces the built-in suite of its id the same way.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = d.join("suites/chat.yaml");
    let run = run_cli_in(
        elsewhere.path(),
        &["run", "--suite", "chat", "--suite", file.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(
        outcomes(&run),
        [("chat/only".to_string(), "pass".to_string())]
    );

    // Two files of one id are still an error.
    write(&d.join("suites/chat2.yaml"), &chat_suite("chat", false));
    let out = run_cli_in(d, &["validate"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("duplicate suite id `chat`"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn snapshots_resolve_against_the_project_then_the_shipped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let basic = ["run", "--suite", "chat", "--filter", "chat/basic"];

    // No project snapshot: the shipped one, from the binary.
    let out = run_cli_in(d, &basic, &[("CI", "true")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // In CI a missing snapshot fails: this one was found, in the binary.
    assert!(
        out.stderr.contains("snapshots: 1 matched"),
        "{}",
        out.stderr
    );

    // The project's own snapshot of the same case wins.
    let shipped =
        std::fs::read_to_string(repo().join("snapshots/reference/chat/basic.snap")).unwrap();
    let mine = d.join("snapshots/reference/chat/basic.snap");
    write(
        &mine,
        &shipped.replace(
            "\"finish_reason\": \"string\"",
            "\"finish_reason\": \"integer\"",
        ),
    );
    let out = run_cli_in(d, &basic, &[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (outcome, reason) = out.outcome("reference", "chat/basic");
    assert_eq!(outcome, "fail");
    assert!(reason.contains("snapshot"), "{reason}");
    assert!(
        out.report()["results"][0]
            .to_string()
            .contains("snapshots/reference/chat/basic.snap"),
        "the failure does not name the project's file"
    );

    // `--project`: a new snapshot of a project suite is written under the project, not here.
    let project = tempfile::tempdir().unwrap();
    write(
        &project.path().join("suites/mine.yaml"),
        &chat_suite("mine", true),
    );
    let here = tempfile::tempdir().unwrap();
    let p = project.path().to_str().unwrap();
    let out = run_cli_in(
        here.path(),
        &[
            "run",
            "--project",
            p,
            "--suite",
            "mine",
            "--snapshots",
            "new",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        project
            .path()
            .join("snapshots/reference/mine/only.snap")
            .is_file()
    );
    assert_eq!(std::fs::read_dir(here.path()).unwrap().count(), 0);

    // … and recordings too.
    let out = run_cli_in(
        here.path(),
        &["run", "--project", p, "--suite", "mine", "--record"],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        project
            .path()
            .join("fixtures/recordings/reference")
            .is_dir(),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(here.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_user_suite_sends_built_in_fixtures_and_its_own_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let suite = |fixture: &str| {
        format!(
            "suite: pics\ndescription: d\ncases:\n  - id: one\n    feature: vision.mine\n    request:\n      path: /chat/completions\n      body: {{ model: \"{{{{model.vision}}}}\", messages: [{{ role: user, content: [{{ type: image_url, image_url: {{ url: \"{{{{fixture:{fixture}|data_uri}}}}\" }} }}] }}] }}\n    expect: {{ status: 200 }}\n"
        )
    };
    write(&d.join("suites/pics.yaml"), &suite("media/images/red.png"));
    let out = run_cli_in(d, &["run", "--suite", "pics"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    // A project fixture of the same path is the one sent.
    write(&d.join("fixtures/media/images/red.png"), "not a png at all");
    let out = run_cli_in(d, &["run", "--suite", "pics", "--record", "rec"], &[]).await;
    let recorded: String = walk(&d.join("rec"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        recorded.contains(&base64_of("not a png at all")),
        "the project's fixture was not sent\n{}",
        out.stderr
    );

    // A fixture neither in the project nor built in names both places.
    write(&d.join("suites/pics.yaml"), &suite("media/images/nope.png"));
    let out = run_cli_in(d, &["validate"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no built-in fixture `media/images/nope.png`"),
        "{}",
        out.stderr
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn a_missing_project_directory_and_the_deprecated_suites_dir_are_said() {
    let here = tempfile::tempdir().unwrap();
    let out = run_cli_in(here.path(), &["validate", "--project", "no/such/dir"], &[]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--project no/such/dir: not a directory"),
        "{}",
        out.stderr
    );

    write(
        &here.path().join("old/only.yaml"),
        &chat_suite("only", false),
    );
    let out = run_cli_in(here.path(), &["list", "suites", "--suites-dir", "old"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("--suites-dir is deprecated"),
        "{}",
        out.stderr
    );
    let ids: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["only"], "--suites-dir runs only its own suites");
}

/// Every built-in suite's file is named after its id (`--suite NAME` finds it by that name).
#[tokio::test]
async fn built_in_suites_are_named_after_their_ids() {
    let empty = tempfile::tempdir().unwrap();
    let out = run_cli_in(empty.path(), &["list", "suites"], &[]).await;
    for line in out.stdout.lines() {
        let id = line.split_whitespace().next().unwrap();
        let path = repo().join(format!("suites/{id}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let doc: Value = serde_yaml::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            doc["suite"],
            id,
            "{} is not the suite `{id}`",
            path.display()
        );
    }
}
