//! `llm-parity run`: load → plan → execute (+ judge) → report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::args::{ReportFormat, RunArgs};
use super::out::out;
use super::targets;
use crate::execute::ScheduleOptions;
use crate::execute::http::ClientOptions;
use crate::execute::retry::RetryPolicy;
use crate::exit;
use crate::plan::{self, Selection};
use crate::redact::{Redactor, SecretRegistry};
use crate::report::{self, model::RunMeta};
use crate::run::progress::{self, Progress};
use crate::run::{Cause, Session, Stopper};
use crate::util::fs::{MIB, atomic_write, atomic_write_with, read_bounded};

/// The largest `--ca-cert` file read (a PEM bundle of every public root is about 200 KiB).
const CA_CERT_LIMIT: u64 = MIB;

pub fn run(args: RunArgs) -> u8 {
    let args = args.in_project();
    let project = match super::load(&args.project) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let resolved =
        match targets::resolve_keyless(&args.project, &args.target, args.replay.is_some()) {
            Ok(r) => r,
            Err(d) => return super::report_diagnostics(&d),
        };
    let max_body = match parse_size(&args.max_body) {
        Some(n) => n,
        None => {
            return super::usage_error(&format!(
                "invalid --max-body `{}` (expected bytes, e.g. 8M, 512k)",
                args.max_body
            ));
        }
    };
    if !(args.timeout > 0.0 && args.idle_timeout > 0.0) {
        return super::usage_error("--timeout and --idle-timeout must be positive");
    }
    let secs = |v: f64| (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v));
    let (Some(retry_delay), Some(retry_max_delay)) =
        (secs(args.retry_delay), secs(args.retry_max_delay))
    else {
        return super::usage_error(
            "--retry-delay and --retry-max-delay must be zero or more seconds",
        );
    };
    let run_timeout = match args.run_timeout {
        None => None,
        Some(v) if v > 0.0 && v.is_finite() => Some(Duration::from_secs_f64(v)),
        Some(v) => {
            return super::usage_error(&format!(
                "invalid --run-timeout `{v}` (expected a positive number of seconds)"
            ));
        }
    };
    let ca_cert = match &args.ca_cert {
        None => None,
        Some(p) => match read_bounded(p, CA_CERT_LIMIT) {
            Ok(b) => Some(b),
            Err(e) => {
                return super::usage_error(&format!(
                    "cannot read --ca-cert {}: {}",
                    p.display(),
                    e.kind
                ));
            }
        },
    };
    let selection = Selection {
        filters: args.filters.clone(),
        include_opt_in: args.opt_in,
        repeat: args.repeat,
    };
    if let Err(e) = selection.compile() {
        return super::usage_error(&e);
    }
    let baseline = match super::gate::load_baseline(&args) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mut opts = ScheduleOptions {
        concurrency: args.concurrency.max(1),
        per_target: args.concurrency.max(1),
        slow_after: Duration::from_secs_f64(args.timeout / 2.0),
        client: ClientOptions {
            timeout: Duration::from_secs_f64(args.timeout),
            idle_timeout: Duration::from_secs_f64(args.idle_timeout),
            max_body,
            ca_cert,
            retry: RetryPolicy {
                retries: args.retries,
                base_delay: retry_delay,
                max_delay: retry_max_delay,
            },
            ..ClientOptions::default()
        },
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let secrets = SecretRegistry::default();
        let redactor = Redactor::new(secrets.clone());
        let mut targets: Vec<Arc<_>> = resolved.targets.into_iter().map(Arc::new).collect();
        for b in &resolved.builtins {
            match targets::start_builtin(b).await {
                Ok(t) => targets.push(t),
                Err(e) => return super::usage_error(&e),
            }
        }
        for t in &targets {
            for s in t.secrets() {
                secrets.add(&s);
            }
        }
        if let Some(b) = &args.baseline_target
            && !targets.iter().any(|t| &t.name == b)
        {
            return super::usage_error(&format!(
                "--baseline-target `{b}` is not one of the run's targets"
            ));
        }
        // `--replay`: the same targets, served from recordings by a local server.
        let replay = match &args.replay {
            None => None,
            Some(dir) => match crate::record::start_replay(dir, &targets).await {
                Ok(r) => Some(r),
                Err(e) => return super::usage_error(&e),
            },
        };
        let run_targets = replay.as_ref().map_or(&targets, |r| &r.targets);
        opts.client.finisher = replay.as_ref().map(|r| r.finisher.clone());
        let planned = match plan::plan(&project.suites, run_targets, &selection) {
            Ok(p) => p,
            Err(e) => return super::usage_error(&e),
        };
        if planned.is_empty() {
            return super::usage_error(
                "no case matches the selection (check --suite and --filter)",
            );
        }
        let planned = match args.shard {
            Some(s) => plan::shard::select(planned, s),
            None => planned,
        };
        let started_at = now_rfc3339();
        let start = Instant::now();
        let stopper = Stopper::default();
        let signals = stopper.on_signals();
        // `--run-timeout`: the run's own deadline stops it the way an interrupt does.
        let run_deadline = run_timeout.map(|d| stopper.deadline(d));
        let snapshot_options = crate::snapshot::Options {
            action: args.snapshots.into(),
            dir: args.snapshots_dir.clone(),
            ci: crate::snapshot::is_ci(),
        };
        // Each case is judged (its snapshot last) as it finishes, then goes through the
        // session to every output (terminal, recording, report entry) and is dropped: the run
        // holds the cases in flight and one compact report entry per finished case, never all
        // the exchanges.
        let mut snapshots =
            crate::snapshot::Verifier::new(&project.suites, &snapshot_options, &redactor);
        let mut session = Session::new(
            Progress::new(
                progress::Display::for_stderr(args.no_progress),
                planned
                    .iter()
                    .map(|p| crate::load::feature::area_of(&p.case.feature)),
            ),
            report::model::Collector::new(&redactor, args.report_bodies, run_targets.len()),
        );
        session.recorder = args
            .record
            .as_deref()
            .map(|dir| crate::record::Recorder::new(dir, &redactor));
        let result = crate::run::runner::run(
            planned,
            project.schemas.clone(),
            &opts,
            secrets.clone(),
            &stopper,
            Some(&mut snapshots),
            &mut session,
        )
        .await;
        signals.abort();
        if let Some(t) = run_deadline {
            t.abort();
        }
        if let Err(e) = result {
            return super::usage_error(&e.to_string());
        }
        let Session {
            report: cases,
            recorder,
            cancelled,
            ..
        } = session;
        let snapshots = snapshots.finish();
        let meta = RunMeta {
            started_at,
            duration_ms: start.elapsed().as_millis() as u64,
            partial: cancelled.is_some(),
            targets: &targets,
            hop_pairs: hop_pairs(&targets, args.baseline_target.as_deref()),
        };
        let report = cases.finish(&meta);
        let report =
            super::gate::finish(report, &project.suites, &args, baseline.as_ref(), &redactor);
        let written = write_reports(&report, &args.report_dir, &args.format);
        out!(
            "{}",
            redactor.text(&report::terminal::render(&report, args.wide))
        );
        write_step_summary(&report);
        if !snapshots.is_empty() {
            eprintln!(
                "{}",
                redactor.text(&snapshots.line(snapshot_options.action))
            );
        }
        match written {
            Ok(paths) => eprintln!("reports: {}", paths.join(", ")),
            Err(e) => {
                eprintln!("error: failed to write reports: {e}");
                return exit::CONFIG;
            }
        }
        if let (Some(dir), Some(recorder)) = (&args.record, recorder) {
            match recorder.finish() {
                Ok(n) => eprintln!("recordings: {n} exchange(s) in {}", dir.display()),
                Err(e) => {
                    eprintln!("error: failed to write recordings: {e}");
                    return exit::CONFIG;
                }
            }
        }
        if let Some(Cause::RunTimeout(_)) = cancelled {
            eprintln!(
                "run deadline reached (--run-timeout): partial reports written for {} finished case(s)",
                report.results.len()
            );
            exit::RUN_TIMEOUT
        } else if cancelled.is_some() {
            eprintln!(
                "interrupted: partial reports written for {} finished case(s)",
                report.results.len()
            );
            exit::INTERRUPTED
        } else if super::gate::verdict(&report, args.allow_flaky, &redactor) {
            if snapshot_options.ci && !snapshots.pending.is_empty() {
                exit::SNAPSHOTS_PENDING
            } else {
                exit::OK
            }
        } else {
            exit::FAILED
        }
    })
}

/// Router → upstream pairs: `via:` declarations among the run's targets, and every target
/// against `--baseline-target`.
fn hop_pairs(
    targets: &[Arc<crate::load::Target>],
    baseline: Option<&str>,
) -> Vec<(String, String)> {
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let mut pairs: Vec<(String, String)> = targets
        .iter()
        .filter_map(|t| {
            t.via
                .as_ref()
                .filter(|v| names.contains(&v.as_str()))
                .map(|v| (t.name.clone(), v.clone()))
        })
        .collect();
    if let Some(b) = baseline.filter(|b| names.contains(b)) {
        for t in names.iter().filter(|n| **n != b) {
            let pair = (t.to_string(), b.to_string());
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    pairs
}

pub fn write_reports(
    report: &report::RunReport,
    dir: &std::path::Path,
    formats: &[ReportFormat],
) -> Result<Vec<String>, String> {
    // Each file is rendered and written before the next (JSON streamed), so at most one
    // rendering is in memory at a time.
    let mut out = Vec::new();
    let mut written: Vec<&str> = Vec::new();
    for f in formats {
        let name = match f {
            ReportFormat::Json => "report.json",
            ReportFormat::Md => "report.md",
            ReportFormat::Html => "report.html",
            ReportFormat::Junit => "junit.xml",
        };
        if written.contains(&name) {
            continue;
        }
        written.push(name);
        let p = dir.join(name);
        let res = match f {
            ReportFormat::Json => atomic_write_with(&p, |w| {
                serde_json::to_writer_pretty(&mut *w, report)?;
                w.write_all(b"\n")
            }),
            ReportFormat::Md => atomic_write(&p, report::markdown::render(report).as_bytes()),
            ReportFormat::Html => atomic_write_with(&p, |w| report::html::write(report, w)),
            ReportFormat::Junit => atomic_write(&p, report::junit::render(report).as_bytes()),
        };
        res.map_err(|e| format!("{}: {e}", p.display()))?;
        out.push(p.display().to_string());
    }
    Ok(out)
}

/// In GitHub Actions, append the Markdown report to the job's step summary.
pub(super) fn write_step_summary(report: &report::RunReport) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let md = report::markdown::render(report);
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

/// `8M`, `512k`, `1048576`.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1024),
        'm' | 'M' => (&s[..s.len() - 1], 1024 * 1024),
        'g' | 'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim()
        .parse::<usize>()
        .ok()?
        .checked_mul(mult)
        .filter(|n| *n > 0)
}

pub(super) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
