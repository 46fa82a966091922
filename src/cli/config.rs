//! Flags resolved once into a checked configuration, shared by every command that takes them
//! (as ripgrep turns its `LowArgs` into `HiArgs`): how cases run (`run`, `runbook`), the gate
//! (`run`, `merge`) and where reports go (`run`, `merge`). Everything that can be wrong with a
//! flag is found here, before anything runs: a command either gets a configuration that
//! works or an error that names the flag.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::args::{ExecArgs, FailOnFlag, GateArgs, OutputArgs, ReportFormat};
use super::error::CliError;
use super::out::out;
use crate::execute::ScheduleOptions;
use crate::execute::http::ClientOptions;
use crate::execute::retry::RetryPolicy;
use crate::gate::{self, Baseline};
use crate::load::SchemaStore;
use crate::plan::PlannedCase;
use crate::redact::{Redactor, SecretRegistry};
use crate::report::model::FailOn;
use crate::report::{self, RunReport};
use crate::run::{Session, Stopper, runner};
use crate::snapshot::Verifier;
use crate::util::fs::{MIB, atomic_write, atomic_write_with, read_bounded};

/// The largest `--ca-cert` file read (a PEM bundle of every public root is about 200 KiB).
const CA_CERT_LIMIT: u64 = MIB;

/// How cases run: one configuration for `run` and `runbook`, and the one way both run them.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    pub schedule: ScheduleOptions,
    /// `--run-timeout`: the whole run's deadline.
    pub run_timeout: Option<Duration>,
    /// How progress is shown: a bar on a terminal, plain lines in a log, nothing with
    /// `--no-progress`.
    pub progress: crate::run::progress::Display,
}

impl ExecConfig {
    /// Resolve the execution flags; `concurrency` is the command's default for `--concurrency`.
    pub fn new(a: &ExecArgs, concurrency: u32) -> Result<Self, CliError> {
        let ca_cert = match &a.ca_cert {
            None => None,
            Some(p) => Some(read_ca_cert(p)?),
        };
        let concurrency = a.concurrency.unwrap_or(concurrency).max(1) as usize;
        Ok(ExecConfig {
            schedule: ScheduleOptions {
                concurrency,
                per_target: concurrency,
                // A case still running at half its exchange deadline is worth naming.
                slow_after: a.timeout / 2,
                client: ClientOptions {
                    timeout: a.timeout,
                    idle_timeout: a.idle_timeout,
                    max_body: a.max_body,
                    ca_cert,
                    retry: RetryPolicy {
                        retries: a.retries,
                        base_delay: a.retry_delay,
                        max_delay: a.retry_max_delay,
                    },
                    ..ClientOptions::default()
                },
            },
            run_timeout: a.run_timeout,
            progress: crate::run::progress::Display::for_stderr(a.no_progress),
        })
    }

    /// Run `plan`, telling `session` everything as it happens. SIGINT/SIGTERM and
    /// `--run-timeout` stop it early; the session hears the cause with the cancellation.
    pub async fn run(
        &self,
        plan: Vec<PlannedCase>,
        schemas: Arc<SchemaStore>,
        secrets: SecretRegistry,
        snapshots: Option<&mut Verifier<'_>>,
        session: &mut Session<'_>,
    ) -> Result<(), CliError> {
        let stopper = Stopper::default();
        let signals = stopper.on_signals();
        let deadline = self.run_timeout.map(|d| stopper.deadline(d));
        let result = runner::run(
            plan,
            schemas,
            &self.schedule,
            secrets,
            &stopper,
            snapshots,
            session,
        )
        .await;
        signals.abort();
        if let Some(t) = deadline {
            t.abort();
        }
        result?;
        Ok(())
    }
}

/// `--ca-cert`: read (bounded) and checked to be a PEM certificate now, so a bad file is a
/// usage error before anything is sent.
fn read_ca_cert(p: &Path) -> Result<Vec<u8>, CliError> {
    let pem = read_bounded(p, CA_CERT_LIMIT).map_err(|e| {
        CliError::usage(format!("cannot read --ca-cert {}: {}", p.display(), e.kind))
    })?;
    reqwest::Certificate::from_pem(&pem)
        .map_err(|e| CliError::usage(format!("invalid --ca-cert {}: {e}", p.display())))?;
    Ok(pem)
}

/// The CI gate: the baseline (read and checked once), what fails the run, flaky cases.
#[derive(Debug, Clone)]
pub struct GateConfig {
    pub baseline: Option<Baseline>,
    pub fail_on: FailOn,
    /// `--fail-on skip`: a case skipped for a missing model fails the run.
    pub fail_on_skip: bool,
    pub allow_flaky: bool,
}

impl GateConfig {
    pub fn new(a: &GateArgs) -> Result<Self, CliError> {
        let modes: Vec<FailOn> = a.fail_on.iter().filter_map(|f| f.mode()).collect();
        if modes.len() > 1 {
            let named: Vec<&str> = modes.iter().map(|m| m.as_str()).collect();
            return Err(CliError::usage(format!(
                "--fail-on takes one of regression, new, any, breaking (got {}); skip may be added to it",
                named.join(", ")
            )));
        }
        let fail_on = modes.first().copied();
        if let Some(m) = fail_on
            && m != FailOn::Breaking
            && a.baseline.is_none()
        {
            return Err(CliError::usage(format!(
                "--fail-on {} needs --baseline (only `--fail-on breaking` and `--fail-on skip` work without one)",
                m.as_str()
            )));
        }
        let baseline = match &a.baseline {
            None => None,
            Some(p) => Some(gate::baseline::load(p)?),
        };
        Ok(GateConfig {
            baseline,
            fail_on: fail_on.unwrap_or_default(),
            fail_on_skip: a.fail_on.contains(&FailOnFlag::Skip),
            allow_flaky: a.allow_flaky,
        })
    }

    /// The report with its comparison against the baseline, when there is one.
    pub fn attach(&self, report: RunReport, redactor: &Redactor) -> RunReport {
        match &self.baseline {
            Some(b) => gate::attach(report, b, self.fail_on, self.allow_flaky, redactor),
            None => report,
        }
    }

    /// The gate's decision; when a baseline or `--fail-on skip` failed it, one line on stderr
    /// naming what did.
    pub fn passes(&self, report: &RunReport, redactor: &Redactor) -> bool {
        let line = match &report.baseline {
            Some(b) => gate::failure_line(b),
            None if self.fail_on == FailOn::Breaking => {
                gate::decision::breaking_line(report, self.allow_flaky)
            }
            None => None,
        };
        if let Some(line) = line {
            eprintln!("{}", redactor.text(&line));
        }
        let mut passes = gate::passes(report, self.fail_on, self.allow_flaky);
        if self.fail_on_skip
            && let Some(line) = gate::decision::skip_line(report)
        {
            eprintln!("{}", redactor.text(&line));
            passes = false;
        }
        passes
    }
}

/// Where the reports go and how the terminal shows them.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub report_dir: PathBuf,
    pub formats: Vec<ReportFormat>,
    pub wide: bool,
    pub diff: bool,
}

impl OutputConfig {
    pub fn new(a: &OutputArgs) -> Self {
        OutputConfig {
            report_dir: a.report_dir.clone(),
            formats: a.format.clone(),
            wide: a.wide,
            diff: a.diff,
        }
    }

    /// Write the report files, print the terminal rendering and append the step summary; the
    /// files written, or why one could not be (after the terminal output, which does not
    /// depend on the files).
    pub fn publish(
        &self,
        report: &RunReport,
        redactor: &Redactor,
    ) -> Result<Vec<String>, CliError> {
        // Rendered once, whether for report.md, the step summary or both.
        let markdown = OnceLock::new();
        let written = write_reports(report, &self.report_dir, &self.formats, &markdown);
        out!(
            "{}",
            redactor.text(&report::terminal::render(
                report,
                report::terminal::Look::for_stdout(self.wide, self.diff)
            ))
        );
        write_step_summary(report, &markdown);
        // Reading a spooled run's entries back failed (the disk did): what was written lacks
        // the entries after the failure.
        if let Some(e) = report.results.error() {
            return Err(CliError::Write {
                what: "reports",
                path: self.report_dir.clone(),
                source: std::io::Error::other(e),
            });
        }
        written
    }
}

/// `markdown` holds report.md once rendered (for the step summary).
fn write_reports(
    report: &RunReport,
    dir: &Path,
    formats: &[ReportFormat],
    markdown: &OnceLock<String>,
) -> Result<Vec<String>, CliError> {
    let mut files: Vec<(ReportFormat, PathBuf)> = Vec::new();
    for &f in formats {
        let p = dir.join(match f {
            ReportFormat::Json => "report.json",
            ReportFormat::Md => "report.md",
            ReportFormat::Html => "report.html",
            ReportFormat::Junit => "junit.xml",
        });
        if !files.iter().any(|(_, q)| *q == p) {
            files.push((f, p));
        }
    }
    // Each file rendered and written on its own thread, side by side: after the last response
    // the other core is idle. Every renderer streams into its file (JSON entry by entry, HTML
    // case by case, JUnit one testsuite at a time) or is cut to a bounded size (Markdown), so
    // the renderings in memory at once stay a few small buffers.
    let write = |f: ReportFormat, p: &Path| match f {
        ReportFormat::Json => atomic_write_with(p, |w| report::json::write(report, w)),
        ReportFormat::Md => atomic_write(p, markdown_of(report, markdown).as_bytes()),
        ReportFormat::Html => atomic_write_with(p, |w| report::html::write(report, w)),
        ReportFormat::Junit => atomic_write_with(p, |w| report::junit::write(report, w)),
    };
    let results: Vec<std::io::Result<()>> = std::thread::scope(|s| {
        let running: Vec<_> = files
            .iter()
            .map(|(f, p)| {
                // A thread the system refuses: that file is written here, in turn.
                std::thread::Builder::new()
                    .name("report".into())
                    .spawn_scoped(s, move || write(*f, p))
                    .map_err(|_| (*f, p.as_path()))
            })
            .collect();
        running
            .into_iter()
            .map(|t| match t {
                Ok(t) => t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err((f, p)) => write(f, p),
            })
            .collect()
    });
    // The first failure in the order asked, as when the files were written one after another.
    let mut out = Vec::new();
    for ((_, p), res) in files.into_iter().zip(results) {
        res.map_err(|source| CliError::Write {
            what: "reports",
            path: p.clone(),
            source,
        })?;
        out.push(p.display().to_string());
    }
    Ok(out)
}

fn markdown_of<'a>(report: &RunReport, markdown: &'a OnceLock<String>) -> &'a str {
    markdown.get_or_init(|| report::markdown::render(report))
}

/// In GitHub Actions, append the Markdown report to the job's step summary (`markdown`: as
/// report.md was rendered, if it was).
fn write_step_summary(report: &RunReport, markdown: &OnceLock<String>) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let md = markdown_of(report, markdown);
    let res = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| {
            use std::io::Write as _;
            f.write_all(md.as_bytes())
        });
    if let Err(e) = res {
        eprintln!("warning: could not write GITHUB_STEP_SUMMARY: {e}");
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};
    use proptest::prelude::*;

    use super::*;
    use crate::cli::args::{Cli, Command};
    use crate::util::duration;

    /// Every numeric or duration flag, with the command that takes it.
    const NUMERIC_FLAGS: &[(&str, &str)] = &[
        ("run", "--concurrency"),
        ("run", "--timeout"),
        ("run", "--idle-timeout"),
        ("run", "--max-body"),
        ("run", "--retries"),
        ("run", "--retry-delay"),
        ("run", "--retry-max-delay"),
        ("run", "--run-timeout"),
        ("run", "--repeat"),
        ("run", "--shard"),
        ("runbook", "--concurrency"),
        ("runbook", "--timeout"),
        ("runbook", "--idle-timeout"),
        ("runbook", "--max-body"),
        ("runbook", "--retries"),
        ("runbook", "--retry-delay"),
        ("runbook", "--retry-max-delay"),
        ("runbook", "--run-timeout"),
        ("serve", "--port"),
        ("serve", "--delay-ms"),
        ("serve", "--stream-delay-ms"),
    ];

    /// Values that broke flag parsing before (issue 14) and their relatives.
    const EXTREMES: &[&str] = &[
        "0",
        "-0",
        "-1",
        "1",
        "0.5",
        "inf",
        "-inf",
        "NaN",
        "1e19",
        "1e20",
        "1e300",
        "1e-300",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999s",
        "604800",
        "604801",
        "4294967296",
        "9223372036854775807",
        "8M",
        "99999999999G",
        "1/0",
        "0/0",
        "2/1",
        "",
        " ",
        "many",
        "1h",
        "500ms",
    ];

    /// Parse `command flag value`; resolve what parses. Never a panic: a value is a checked
    /// configuration or a usage error (exit 2).
    fn check(command: &str, flag: &str, value: &str) -> Result<(), TestCaseError> {
        let mut argv = vec!["llm-parity", command];
        if command == "runbook" {
            argv.extend(["--from", "reference", "--to", "reference:gemini-compat"]);
        }
        argv.extend([flag, value]);
        let parsed = std::panic::catch_unwind(|| Cli::try_parse_from(&argv));
        let parsed = parsed.map_err(|_| TestCaseError::fail(format!("{argv:?} panicked")))?;
        let cli = match parsed {
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2, "{:?}: {}", argv, e);
                return Ok(());
            }
            Ok(cli) => cli,
        };
        let exec = match &cli.command {
            Command::Run(a) => &a.exec,
            Command::Runbook(a) => &a.exec,
            _ => return Ok(()),
        };
        let config = std::panic::catch_unwind(|| ExecConfig::new(exec, 8))
            .map_err(|_| TestCaseError::fail(format!("{argv:?}: resolving panicked")))?
            .map_err(|e| TestCaseError::fail(format!("{argv:?}: {e}")))?;
        let c = &config.schedule.client;
        for d in [
            c.timeout,
            c.idle_timeout,
            c.retry.base_delay,
            c.retry.max_delay,
        ]
        .into_iter()
        .chain(config.run_timeout)
        {
            prop_assert!(d <= duration::MAX, "{:?}: {:?}", argv, d);
            // Every deadline is `now + d`: it must not overflow.
            prop_assert!(std::time::Instant::now().checked_add(d).is_some());
            prop_assert!(tokio::time::Instant::now().checked_add(d).is_some());
        }
        prop_assert!(!c.timeout.is_zero() && !c.idle_timeout.is_zero());
        prop_assert!(config.schedule.concurrency >= 1 && c.max_body >= 1);
        Ok(())
    }

    #[test]
    fn every_numeric_flag_is_known_to_its_command() {
        let cli = Cli::command();
        for (command, flag) in NUMERIC_FLAGS {
            let sub = cli.find_subcommand(command).expect("a command");
            assert!(
                sub.get_arguments()
                    .any(|a| a.get_long() == Some(flag.trim_start_matches('-'))),
                "{command} {flag}"
            );
        }
    }

    #[test]
    fn extreme_values_of_every_numeric_flag_are_checked_or_refused() {
        for (command, flag) in NUMERIC_FLAGS {
            for v in EXTREMES {
                check(command, flag, v).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    #[test]
    fn the_values_from_issue_14_are_usage_errors() {
        for (flag, v) in [
            ("--timeout", "inf"),
            ("--timeout", "1e20"),
            ("--timeout", "1e19"),
            ("--timeout", "NaN"),
            ("--timeout", "-5"),
            ("--idle-timeout", "1e20"),
            ("--run-timeout", "1e300"),
            ("--retry-delay", "1e300"),
            ("--retry-max-delay", "inf"),
        ] {
            let e = Cli::try_parse_from(["llm-parity", "run", flag, v]).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{flag} {v}");
            let text = e.to_string();
            assert!(text.contains(flag) && text.contains(v), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_value_of_any_numeric_flag_is_checked_or_refused(
            which in 0..NUMERIC_FLAGS.len(),
            value in prop_oneof![
                proptest::sample::select(EXTREMES).prop_map(str::to_string),
                any::<f64>().prop_map(|f| f.to_string()),
                any::<u64>().prop_map(|n| n.to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
                (any::<u32>(), prop_oneof![Just("ms"), Just("s"), Just("m"), Just("h"), Just("k"), Just("M"), Just("G")])
                    .prop_map(|(n, u)| format!("{n}{u}")),
                "\\PC{0,12}",
            ],
        ) {
            let (command, flag) = NUMERIC_FLAGS[which];
            check(command, flag, &value)?;
        }
    }

    /// Flags only `run` takes, and why a runbook does not: everything else `run` accepts,
    /// `runbook` accepts too.
    const RUN_ONLY: &[(&str, &str)] = &[
        (
            "suite",
            "runbook runs the used areas' suites (--uses), loaded from --suites-dir",
        ),
        ("target", "runbook names its two sides with --from and --to"),
        ("all-targets", "a runbook compares exactly two sides"),
        ("base-url", "--from-base-url / --to-base-url"),
        ("api-key-env", "--from-api-key-env / --to-api-key-env"),
        ("model", "--from-model / --to-model"),
        ("name", "the sides are named OLD and NEW"),
        ("filter", "--uses chooses the cases"),
        (
            "opt-in",
            "a runbook judges what the app uses, not opt-in extras",
        ),
        ("format", "a runbook writes runbook.md and runbook.json"),
        ("wide", "the runbook's terminal summary has no matrix"),
        (
            "diff",
            "the runbook's terminal summary has no shape diffs (runbook.md has them)",
        ),
        (
            "baseline",
            "a runbook's verdict is GO / NO-GO, not a baseline gate",
        ),
        ("fail-on", "as --baseline"),
        ("allow-flaky", "a runbook runs each case once"),
        ("repeat", "a runbook runs each case once"),
        ("baseline-target", "OLD is the baseline of a runbook"),
        (
            "report-bodies",
            "the runbook quotes bodies from every exchange",
        ),
        ("record", "recording is a run's"),
        ("replay", "replaying is a run's"),
        (
            "snapshots",
            "snapshots pin a target's responses; a runbook compares two",
        ),
        ("snapshots-dir", "as --snapshots"),
        ("shard", "a runbook is one run"),
        (
            "allow-missing-models",
            "a runbook does not stop for a missing model: a case NEW skips is a regression in its verdict",
        ),
    ];

    #[test]
    fn runbook_accepts_every_reliability_flag_run_accepts() {
        let cli = Cli::command();
        let longs = |name: &str| -> Vec<String> {
            cli.find_subcommand(name)
                .expect("a command")
                .get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string))
                .collect()
        };
        let (run, runbook) = (longs("run"), longs("runbook"));
        for flag in &run {
            assert!(
                runbook.contains(flag) || RUN_ONLY.iter().any(|(f, _)| f == flag),
                "`run --{flag}` is neither accepted by `runbook` nor listed as run-only"
            );
        }
        for (flag, _) in RUN_ONLY {
            assert!(
                run.contains(&flag.to_string()),
                "stale run-only flag --{flag}"
            );
        }
        // The reliability flags by name, so a regrouping cannot drop one from both lists.
        for flag in [
            "concurrency",
            "timeout",
            "idle-timeout",
            "max-body",
            "ca-cert",
            "retries",
            "retry-delay",
            "retry-max-delay",
            "run-timeout",
            "no-progress",
        ] {
            assert!(runbook.contains(&flag.to_string()), "runbook --{flag}");
        }
    }

    /// The four files are written side by side, yet the outcome is what writing them one
    /// after another gives: the files listed in the order asked (each once), and of several
    /// that fail, the first in that order is the error, whichever thread failed first.
    #[test]
    fn reports_written_side_by_side_keep_the_order_asked() {
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "schema_version": report::model::SCHEMA_VERSION,
            "tool": {"name": "llm-parity", "version": "0"},
            "started_at": "t",
            "duration_ms": 1,
            "targets": [],
            "results": [],
            "features": []
        }))
        .unwrap();
        use ReportFormat::{Html, Json, Junit, Md};
        let dir = tempfile::tempdir().unwrap();
        let written = write_reports(
            &report,
            dir.path(),
            &[Junit, Json, Md, Json, Html],
            &OnceLock::new(),
        )
        .unwrap();
        let names: Vec<_> = written
            .iter()
            .map(|p| Path::new(p).file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["junit.xml", "report.json", "report.md", "report.html"]
        );
        // Directories where report.md and junit.xml go: both renames fail.
        let dir = tempfile::tempdir().unwrap();
        for taken in ["report.md/x", "junit.xml/x"] {
            std::fs::create_dir_all(dir.path().join(taken)).unwrap();
        }
        let err = write_reports(
            &report,
            dir.path(),
            &[Json, Md, Html, Junit],
            &OnceLock::new(),
        )
        .unwrap_err();
        match err {
            CliError::Write { path, .. } => assert_eq!(path, dir.path().join("report.md")),
            other => panic!("{other:?}"),
        }
        let err = write_reports(&report, dir.path(), &[Junit, Md], &OnceLock::new()).unwrap_err();
        match err {
            CliError::Write { path, .. } => assert_eq!(path, dir.path().join("junit.xml")),
            other => panic!("{other:?}"),
        }
        // The others were written all the same.
        assert!(
            dir.path().join("report.json").is_file() && dir.path().join("report.html").is_file()
        );
    }
}
