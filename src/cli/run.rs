//! `llm-parity run`: load → plan → execute (+ judge) → report.

use std::sync::Arc;
use std::time::Instant;

use super::args::RunArgs;
use super::config::{ExecConfig, GateConfig, OutputConfig};
use super::error::CliError;
use super::targets;
use crate::exit;
use crate::load::Target;
use crate::plan::{self, Selection};
use crate::redact::{Redactor, SecretRegistry};
use crate::report::{self, RunMeta, model::ShardInfo};
use crate::run::progress::Progress;
use crate::run::{Cause, Session};

pub fn run(args: RunArgs) -> Result<u8, CliError> {
    let args = args.in_project();
    // The process ends with the run: the loaded suites and schemas (tens of thousands of small
    // allocations for a large suite) are given back by the exit, not freed one by one after the
    // reports are written (~4 ms for 1,000 cases).
    let project = std::mem::ManuallyDrop::new(super::load(&args.project)?);
    let resolved = targets::resolve_keyless(&args.project, &args.target, args.replay.is_some())?;
    let exec = ExecConfig::new(&args.exec, 8)?;
    let gate = GateConfig::new(&args.gate)?;
    let output = OutputConfig::new(&args.output);
    let selection = Selection {
        filters: args.filters.clone(),
        include_opt_in: args.opt_in,
        repeat: args.repeat,
    };
    selection.compile()?;
    // The runtime too, when the command ends with an exit code rather than an error: every
    // case's task has been joined by then (an interrupted run's as well), and what is left on
    // it (the built-in endpoint's or a replay's server, idle connections) holds nothing the
    // exit does not release. Stopping it joins its threads one after the other (~0.4 ms),
    // which the exit does at once.
    let runtime = super::runtime()?;
    let code = runtime.block_on(async move {
        // The process's registry: every excerpt cut anywhere masks these first.
        let secrets = SecretRegistry::process().clone();
        let redactor = Redactor::new(secrets.clone());
        let mut targets: Vec<Arc<_>> = resolved.targets.into_iter().map(Arc::new).collect();
        for b in &resolved.builtins {
            targets.push(targets::start_builtin(b).await?);
        }
        for t in &targets {
            for s in t.secrets() {
                secrets.add(&s);
            }
        }
        if let Some(b) = &args.baseline_target
            && !targets.iter().any(|t| &t.name == b)
        {
            return Err(CliError::usage(format!(
                "--baseline-target `{b}` is not one of the run's targets"
            )));
        }
        // `--replay`: the same targets, served from recordings by a local server, whose marks
        // the replay targets' client applies to each exchange as it is built.
        let mut exec = exec;
        let replay = match &args.replay {
            None => None,
            Some(dir) => Some(
                crate::record::start_replay(dir, &targets)
                    .await
                    ?,
            ),
        };
        let run_targets = replay.as_ref().map_or(&targets, |r| &r.targets);
        exec.schedule.client.finisher = replay.as_ref().map(|r| r.finisher.clone());
        let planned =
            plan::plan(&project.suites, run_targets, &selection)?;
        if planned.is_empty() {
            return Err(CliError::usage(
                "no case matches the selection (check --suite and --filter)",
            ));
        }
        if !args.allow_missing_models
            && let Some(u) = plan::uncovered(&planned).first()
        {
            return Err(CliError::usage(uncovered_message(u)));
        }
        let planned = match args.shard {
            Some(s) => plan::shard::select(planned, s),
            None => planned,
        };
        let planned = if replay.is_some() {
            planned
        } else {
            mark_unreachable(planned, &exec, &secrets, &redactor).await
        };
        let started_at = now_rfc3339();
        let start = Instant::now();
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
                exec.progress,
                planned
                    .iter()
                    .map(|p| crate::load::feature::area_of(&p.case.feature)),
            ),
            {
                let c = report::Collector::new(
                    &redactor,
                    args.report_bodies.into(),
                    run_targets.len(),
                );
                // Every case runs once: its entry goes to disk as it finishes, so the run's
                // memory does not grow with its cases. Repeats are merged in memory.
                if selection.repeat <= 1 {
                    c.spool_to(&output.report_dir)
                } else {
                    c
                }
            },
        );
        session.recorder = args
            .record
            .as_deref()
            .map(|dir| crate::record::Recorder::new(dir, &redactor));
        exec.run(
            planned,
            project.schemas.clone(),
            secrets.clone(),
            Some(&mut snapshots),
            &mut session,
        )
        .await?;
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
            replayed_from: args.replay.as_ref().map(|d| d.display().to_string()),
            targets: &targets,
            hop_pairs: hop_pairs(&targets, args.baseline_target.as_deref()),
        };
        let mut report = cases.finish(&meta).map_err(|source| CliError::Write {
            what: "reports",
            path: output.report_dir.clone(),
            source,
        })?;
        report.suites = redactor.value(report::build::loaded_suites(&project.suites));
        report.shard = args.shard.map(|s| ShardInfo {
            index: s.index,
            count: s.count,
        });
        // Left to the exit with the project: dropping it closes the results file, and the
        // system gives its pages back then (~0.5 ms for 1,000 cases) instead of with the rest
        // of the process's memory at the exit.
        let report = std::mem::ManuallyDrop::new(gate.attach(report, &redactor));
        let written = output.publish(&report, &redactor);
        if !snapshots.is_empty() {
            eprintln!(
                "{}",
                redactor.text(&snapshots.line(snapshot_options.action))
            );
        }
        eprintln!("reports: {}", written?.join(", "));
        if let (Some(dir), Some(recorder)) = (&args.record, recorder) {
            let n = recorder.finish()?;
            eprintln!("recordings: {n} exchange(s) in {}", dir.display());
        }
        Ok(match cancelled {
            Some(Cause::RunTimeout(_)) => {
                eprintln!(
                    "run deadline reached (--run-timeout): partial reports written for {} finished case(s)",
                    report.results.len()
                );
                exit::RUN_TIMEOUT
            }
            Some(Cause::Interrupt) => {
                eprintln!(
                    "interrupted: partial reports written for {} finished case(s)",
                    report.results.len()
                );
                exit::INTERRUPTED
            }
            None if !gate.passes(&report, &redactor) => exit::FAILED,
            None if snapshot_options.ci && !snapshots.pending.is_empty() => {
                exit::SNAPSHOTS_PENDING
            }
            None => exit::OK,
        })
    });
    match code {
        Ok(_) => runtime.shutdown_background(),
        // A case's task may still be in flight (the scheduler stopped on an error): stopping
        // the runtime drops it before the exit, and with it any token helper it was running
        // (killed with its process group when its future is dropped).
        Err(_) => drop(runtime),
    }
    code
}

/// Why a run of a target without a model for a role most of its cases need stops, and how to
/// fix it.
fn uncovered_message(u: &plan::Uncovered) -> String {
    let narrow = match u.runnable_suites.as_slice() {
        [] => String::new(),
        suites => {
            let shown: Vec<String> = suites
                .iter()
                .take(3)
                .map(|s| format!("--suite {s}"))
                .collect();
            format!(
                "narrow the selection to what the target has ({}{}), or ",
                shown.join(", "),
                if suites.len() > 3 { ", …" } else { "" }
            )
        }
    };
    format!(
        "target `{t}` has no `{r}` model, which {n} of its {sel} selected cases need: without the models it lacks, the run would skip {skip} of them and test {run}.\n\
         Fix: set OPENAI_MODEL (the target from OPENAI_BASE_URL), pass --model {r}=MODEL_ID (with --base-url), or add `models: {{{r}: MODEL_ID}}` to the target in the targets file.\n\
         Or {narrow}pass --allow-missing-models to run the {run} case(s) it can.",
        t = u.target,
        r = u.role,
        n = u.needing,
        sel = u.selected,
        skip = u.selected - u.runnable,
        run = u.runnable,
    )
}

/// Try each target that has cases to send, once, before the run: the cases of a target that
/// cannot be reached at all are recorded as `error` with the reason (nothing is sent), and the
/// reason is said once on stderr instead of once per case.
async fn mark_unreachable(
    mut planned: Vec<plan::PlannedCase>,
    exec: &ExecConfig,
    secrets: &crate::redact::SecretRegistry,
    redactor: &Redactor,
) -> Vec<plan::PlannedCase> {
    // Each target with a case to send, once, with why it cannot be reached (if it cannot).
    let mut tried: Vec<(Arc<Target>, Option<String>)> = Vec::new();
    for pc in &planned {
        if pc.decided.is_some() || tried.iter().any(|(t, _)| t.name == pc.target.name) {
            continue;
        }
        let client = crate::execute::http::TargetClient::new(
            pc.target.clone(),
            exec.schedule.client.clone(),
            secrets.clone(),
        );
        // A client that cannot be built fails the run itself, with its own error.
        let why = match client {
            Ok(c) => c.unreachable().await,
            Err(_) => None,
        };
        tried.push((pc.target.clone(), why));
    }
    for (target, why) in &tried {
        let Some(why) = why else { continue };
        let reason = format!("cannot reach {}: {why}", target.base_url);
        let target = &target.name;
        let mut n = 0;
        for pc in planned
            .iter_mut()
            .filter(|p| p.target.name == *target && p.decided.is_none())
        {
            pc.decided = Some(Box::new(plan::Decided::unreachable(reason.clone())));
            n += 1;
        }
        eprintln!(
            "{}",
            redactor.text(&format!(
                "target `{target}`: {reason}; its {n} case(s) are recorded as error, none was sent"
            ))
        );
    }
    planned
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

pub(super) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
