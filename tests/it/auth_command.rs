//! Hostile token helpers (`auth: command:`): one that hangs, one that prints forever, one that
//! outlives the run. Every run ends inside its deadlines with a report, the helper runs once for
//! all concurrent cases, and no process it started survives.

use std::path::Path;

use crate::support::*;

/// A targets file with one target `t` at `uri` whose token comes from `command`.
fn targets(dir: &Path, uri: &str, command: &str) -> String {
    let command = command.replace('\\', "\\\\").replace('"', "\\\"");
    target_t(
        dir,
        uri,
        &format!("    auth: {{ command: \"{command}\" }}\n"),
    )
}

/// A helper that records each run in `runs` and the pid of a child it leaves waiting in
/// `pids`, then waits for that child forever.
fn hanging(dir: &Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let (runs, pids) = (dir.join("runs"), dir.join("pids"));
    let cmd = format!(
        "echo run >> {}; sleep 600 & echo $! >> {}; wait",
        runs.display(),
        pids.display()
    );
    (cmd, runs, pids)
}

/// Whether process `pid` still runs (a zombie waiting for its reaper does not).
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Every pid in `pids` is gone (polled: the kill is asynchronous; a survivor fails after 20 s).
async fn no_orphans(pids: &Path) {
    let text = std::fs::read_to_string(pids).expect("the helper ran and wrote its child's pid");
    let pids: Vec<&str> = text.split_whitespace().collect();
    assert!(!pids.is_empty());
    for _ in 0..200 {
        if !pids.iter().any(|p| alive(p)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let left: Vec<_> = pids.iter().filter(|p| alive(p)).collect();
    panic!("the helper's processes survived the run: {left:?}");
}

/// A helper that never finishes: it runs once for all the concurrent cases, each case ends at
/// its exchange deadline (`--timeout`) with an error naming the helper, and the helper's whole
/// process group is killed.
#[tokio::test]
async fn a_hanging_helper_runs_once_ends_at_the_deadline_and_leaves_no_orphan() {
    let server = chat_server(200, chat_completion("hi")).await;
    let dir = tempfile::tempdir().unwrap();
    let (cmd, runs, pids) = hanging(dir.path());
    let t = targets(dir.path(), &server.uri(), &cmd);
    let out = run_t(
        &t,
        &["--filter", "chat/*", "--timeout", "2", "--concurrency", "4"],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.all_output());
    let results = out.outcomes();
    let errors: Vec<_> = results.iter().filter(|(o, _)| o == "error").collect();
    assert!(errors.len() >= 2, "{results:?}");
    for (_, reason) in &errors {
        assert!(
            reason.contains("did not finish within") && reason.contains("exchange deadline"),
            "{reason}"
        );
    }
    let ran = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(ran.lines().count(), 1, "the helper ran once: {ran}");
    no_orphans(&pids).await;
}

/// A helper that prints forever is stopped at the output limit; the run goes on and reports.
#[tokio::test]
async fn a_helper_printing_forever_is_stopped_at_the_output_limit() {
    let server = chat_server(200, chat_completion("hi")).await;
    let dir = tempfile::tempdir().unwrap();
    let t = targets(dir.path(), &server.uri(), "yes sk-flood");
    let out = run_t(&t, &["--filter", "chat/*"], &[]).await;
    assert_eq!(out.code, 1, "{}", out.all_output());
    let results = out.outcomes();
    assert!(!results.is_empty());
    for (outcome, reason) in &results {
        if outcome == "error" {
            assert!(reason.contains("printed more than 65536 bytes"), "{reason}");
        }
    }
}

/// `--run-timeout` stops a run waiting for a helper like any request: exit 124, a partial
/// report, and the helper's process group killed.
#[tokio::test]
async fn the_run_deadline_stops_a_hanging_helper_and_kills_its_group() {
    let server = chat_server(200, chat_completion("hi")).await;
    let dir = tempfile::tempdir().unwrap();
    let (cmd, _runs, pids) = hanging(dir.path());
    let t = targets(dir.path(), &server.uri(), &cmd);
    let out = run_t(
        &t,
        &[
            "--filter",
            "chat/*",
            "--timeout",
            "600",
            "--run-timeout",
            "2",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 124, "{}", out.all_output());
    assert_eq!(out.report()["partial"], true);
    no_orphans(&pids).await;
}

/// A token the endpoint refuses (401) is refreshed once, and the re-send is an attempt in the
/// report's attempt log.
#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_logged() {
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion("hi")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let t = targets(
        dir.path(),
        &server.uri(),
        &counting_token_command(dir.path()),
    );
    let out = run_t(&t, &["--filter", "chat/basic"], &[]).await;
    let report = out.report();
    let ex = exchange(&report, "basic");
    let log = ex["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("{ex:#}"));
    assert_eq!(log.len(), 2, "{ex:#}");
    assert!(
        log[0]["retried_because"]
            .as_str()
            .unwrap()
            .contains("token refreshed"),
        "{log:?}"
    );
    assert_eq!(log[1]["status"], 200);
}
