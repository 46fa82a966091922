//! The binary as a shell sees it: a reader that closes the pipe early, the umask of the files
//! it writes, its completion scripts and its manual pages.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

/// `llm-parity <args>` run in `cwd` with stdout a pipe whose reading end is already closed (as
/// after `| head -1` has read its line), so the first write fails with EPIPE every time.
fn with_closed_stdout(args: &[&str], cwd: &Path) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("CI")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    let empty = tempfile::tempdir().unwrap();
    for args in [
        &["list", "checks"][..],
        &["list", "cases"],
        &["list", "suites"],
        &["list", "features"],
        &["list", "targets"],
        &["validate"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
    ] {
        let out = with_closed_stdout(args, empty.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "llm-parity {args:?} with a closed stdout: {:?}\n{stderr}",
            out.status
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "llm-parity {args:?} was not quiet about the closed pipe:\n{stderr}"
        );
    }
}

/// A run whose terminal report cannot be printed still writes its reports and keeps its exit code.
#[test]
fn a_run_with_a_closed_stdout_still_writes_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let out = with_closed_stdout(
        &[
            "run",
            "--suite",
            "models",
            "--no-progress",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(reports.join("report.json").is_file(), "{stderr}");
}

/// The mode bits of every file under `dir`, by name.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out: Vec<(String, u32)> = walk(dir)
        .into_iter()
        .map(|p| {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            (p.strip_prefix(dir).unwrap().display().to_string(), mode)
        })
        .collect();
    out.sort();
    out
}

/// Reports, recordings and baselines get the mode any new file gets under the caller's umask
/// (`0o666 & !umask`), not the temporary file's private `0o600`.
#[test]
fn written_files_respect_the_umask() {
    for (umask, want) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let sh = |cmd: &str| {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("umask {umask} && exec \"$0\" {cmd}"))
                .arg(bin())
                .current_dir(d)
                .env_remove("OPENAI_BASE_URL")
                .env_remove("CI")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{cmd}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        sh("run --suite models --no-progress --report-dir out/reports --record out/recordings");
        sh("baseline save --from out/reports/report.json -o out/baseline.yaml");
        let files = modes(&d.join("out"));
        assert!(
            files.iter().any(|(n, _)| n.starts_with("recordings/"))
                && files.iter().any(|(n, _)| n == "baseline.yaml")
                && files.iter().any(|(n, _)| n == "reports/report.html"),
            "{files:?}"
        );
        for (name, mode) in &files {
            assert_eq!(*mode, want, "{name} under umask {umask}: {mode:o}");
        }
    }
}

#[test]
fn completion_scripts_cover_every_command_and_flag() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in [
            "runbook",
            "snapshots",
            "completions",
            "report-dir",
            "fail-on",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = Command::new(bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// The bash script, loaded into a real bash, completes subcommands and values.
#[test]
fn bash_completes_subcommands_and_values() {
    let script = Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let (_dir, path) = temp_file("llm-parity.bash", &String::from_utf8(script).unwrap());
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let probe = format!(
            "source {path}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\nCOMP_POINT={point}\n\
             _llm__parity llm-parity '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path = path.display(),
            words = words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            cword = words.len() - 1,
            point = line.len(),
            cur = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let out = Command::new("bash").arg("-c").arg(probe).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        got.sort();
        got
    };
    assert_eq!(complete("llm-parity ru"), ["run", "runbook"]);
    assert_eq!(
        complete("llm-parity run --snapshots "),
        ["new", "pending", "update", "verify"]
    );
    assert_eq!(complete("llm-parity completions p"), ["powershell"]);
}

#[test]
fn the_manual_pages_describe_every_command() {
    let out = Command::new(bin()).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with(".ie"), "{}", &page[..80.min(page.len())]);
    assert!(page.contains(".TH llm-parity 1"), "no title line");
    for cmd in [
        "run",
        "list",
        "validate",
        "serve",
        "runbook",
        "merge",
        "init",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!("llm\\-parity\\-{cmd}(1)")),
            "the main page does not name `{cmd}`"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::fs::read_to_string(dir.path().join("llm-parity-run.1")).unwrap();
    assert!(run.contains(".TH llm-parity-run 1"), "{run}");
    for flag in ["report\\-dir", "snapshots\\-dir", "fail\\-on", "shard"] {
        assert!(run.contains(flag), "llm-parity-run.1 lacks --{flag}");
    }
    for page in [
        "llm-parity.1",
        "llm-parity-man.1",
        "llm-parity-baseline-save.1",
    ] {
        assert!(dir.path().join(page).is_file(), "no {page}");
    }
}

/// Without a terminal (a CI log) a run is not silent: plain lines as areas finish, never a
/// carriage return or a bar; `--no-progress` silences them.
#[test]
fn a_run_without_a_terminal_prints_plain_progress_lines() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(bin())
            .args([
                "run",
                "--suite",
                "models",
                "--suite",
                "errors",
                "--report-dir",
            ])
            .arg(dir.path().join("reports"))
            .args(extra)
            .current_dir(dir.path())
            .env_remove("OPENAI_BASE_URL")
            .env_remove("CI")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    };
    let stderr = run(&[]);
    assert!(
        !stderr.contains('\r'),
        "carriage returns in a log:\n{stderr:?}"
    );
    // 3 models and 6 errors cases, the opt-in context-length one a skip.
    assert!(stderr.starts_with("running 9 case(s)\n"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    let area = |name: &str, counts: &str| {
        lines.iter().any(|l| {
            l.split_once("] ").is_some_and(|(n, rest)| {
                n.ends_with("/9") && rest.starts_with(&format!("{name}: {counts} ("))
            })
        })
    };
    assert!(area("models", "3 pass"), "{stderr}");
    assert!(area("errors", "5 pass, 1 skip"), "{stderr}");
    assert!(lines.iter().any(|l| l.starts_with("[9/9] ")), "{stderr}");

    let quiet = run(&["--no-progress"]);
    assert!(!quiet.contains("running 9"), "{quiet}");
    assert!(!quiet.lines().any(|l| l.starts_with('[')), "{quiet}");
}
