//! `llm-parity runbook --from OLD --to NEW [--uses …]`: resolve both sides, run the core cases
//! and every used area's suite on both through the ordinary pipeline (plan → execute → report
//! model), then build, print and write the runbook.

use std::sync::Arc;
use std::time::Instant;

use super::args::{ProjectArgs, RunbookArgs, TargetArgs};
use super::config::ExecConfig;
use super::error::CliError;
use super::out::out;
use super::targets::{self, BuiltinNeeded};
use crate::exit;
use crate::load::Target;
use crate::plan::{self, Selection};
use crate::redact::{Redactor, SecretRegistry};
use crate::report::{self, RunMeta};
use crate::run::progress::Progress;
use crate::run::{Cause, Session};
use crate::runbook::{self, Uses, sections::Input};
use crate::util::fs::atomic_write;

/// One side's flags, in the shape target resolution takes.
struct SideFlags<'a> {
    label: &'static str,
    flag: &'static str,
    name: &'a Option<String>,
    base_url: &'a Option<String>,
    api_key_env: &'a Option<String>,
    models: &'a [String],
}

enum Side {
    Ready(Box<Target>),
    Builtin(BuiltinNeeded),
}

fn resolve_side(
    p: &ProjectArgs,
    s: &SideFlags<'_>,
) -> Result<(Side, Vec<(String, String)>), CliError> {
    let f = s.flag;
    match (s.name, s.base_url) {
        (Some(_), Some(_)) => {
            return Err(CliError::usage(format!(
                "{} is named twice: give --{f} NAME or --{f}-base-url URL, not both",
                s.label
            )));
        }
        (None, None) => {
            return Err(CliError::usage(format!(
                "missing {}: give --{f} NAME (targets file or built-in `reference`, `reference:gemini-compat`) or --{f}-base-url URL",
                s.label
            )));
        }
        (Some(_), None) if s.api_key_env.is_some() => {
            return Err(CliError::usage(format!(
                "--{f}-api-key-env applies to an ad-hoc target (--{f}-base-url); a named target's key comes from the targets file"
            )));
        }
        _ => {}
    }
    let t = TargetArgs {
        names: s.name.iter().cloned().collect(),
        all_targets: false,
        base_url: s.base_url.clone(),
        api_key_env: s.api_key_env.clone(),
        models: s.models.to_vec(),
        name: Some(s.label.to_ascii_lowercase()),
    };
    let resolved = targets::resolve(p, &t).map_err(|d| {
        eprintln!("error: cannot resolve {} (--{f}…)", s.label);
        CliError::Input(d)
    })?;
    // Role names were validated by `resolve`; overrides apply to named targets too.
    let overrides: Vec<(String, String)> = s
        .models
        .iter()
        .filter_map(|m| m.split_once('='))
        .map(|(r, id)| (r.to_string(), id.to_string()))
        .collect();
    let side = match (
        resolved.targets.into_iter().next(),
        resolved.builtins.into_iter().next(),
    ) {
        (Some(t), _) => Side::Ready(Box::new(t)),
        (None, Some(b)) => Side::Builtin(b),
        (None, None) => return Err(CliError::usage(format!("no target for {}", s.label))),
    };
    Ok((side, overrides))
}

pub fn run(args: RunbookArgs) -> Result<u8, CliError> {
    let project = super::load(&args.project)?;
    let uses = Uses::resolve(&args.uses, &project.suites)?;
    let old_flags = SideFlags {
        label: "OLD",
        flag: "from",
        name: &args.from,
        base_url: &args.from_base_url,
        api_key_env: &args.from_api_key_env,
        models: &args.from_models,
    };
    let new_flags = SideFlags {
        label: "NEW",
        flag: "to",
        name: &args.to,
        base_url: &args.to_base_url,
        api_key_env: &args.to_api_key_env,
        models: &args.to_models,
    };
    let (old, new) = match (
        resolve_side(&args.project, &old_flags),
        resolve_side(&args.project, &new_flags),
    ) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let exec = ExecConfig::new(&args.exec, 4)?;
    let selection = Selection {
        filters: uses.case_ids(&project.suites),
        include_opt_in: false,
        repeat: 1,
    };
    if selection.filters.is_empty() {
        return Err(CliError::usage(
            "no case to run: the loaded suites have neither the core cases nor the used areas",
        ));
    }
    super::runtime()?.block_on(async move {
        // The process's registry: every excerpt cut anywhere masks these first.
        let secrets = SecretRegistry::process().clone();
        let redactor = Redactor::new(secrets.clone());
        let mut sides = Vec::new();
        for (side, overrides) in [old, new] {
            let mut t = match side {
                Side::Ready(t) => *t,
                Side::Builtin(b) => (*targets::start_builtin(&b)
                    .await
                    ?)
                .clone(),
            };
            t.models.extend(overrides);
            for s in t.secrets() {
                secrets.add(&s);
            }
            sides.push(Arc::new(t));
        }
        if sides[0].name == sides[1].name {
            return Err(CliError::usage(format!(
                "--from and --to are the same target `{}`: a runbook compares two endpoints",
                sides[0].name
            )));
        }
        let planned = plan::plan(&project.suites, &sides, &selection)?;
        eprintln!(
            "runbook: {} case run(s) on {} (OLD) and {} (NEW), uses: {}",
            planned.len(),
            sides[0].name,
            sides[1].name,
            uses.label()
        );
        let started_at = super::run::now_rfc3339();
        let start = Instant::now();
        // Each case feeds the report and the usage totals as it finishes, then is dropped.
        let mut session = Session::new(
            Progress::new(
                exec.progress,
                planned
                    .iter()
                    .map(|p| crate::load::feature::area_of(&p.case.feature)),
            ),
            report::Collector::new(&redactor, report::model::BodyPolicy::All, sides.len()),
        );
        session.usage = Some(Default::default());
        exec.run(
            planned,
            project.schemas.clone(),
            secrets.clone(),
            None,
            &mut session,
        )
        .await?;
        let Session {
            report: cases,
            usage,
            cancelled,
            ..
        } = session;
        let usage = usage.unwrap_or_default();
        let meta = RunMeta {
            started_at,
            duration_ms: start.elapsed().as_millis() as u64,
            partial: cancelled.is_some(),
            replayed_from: None,
            targets: &sides,
            hop_pairs: vec![(sides[1].name.clone(), sides[0].name.clone())],
        };
        let report = cases.finish(&meta).map_err(|source| CliError::Write {
            what: "the runbook",
            path: args.report_dir.clone(),
            source,
        })?;
        let input = Input {
            report: &report,
            usage: &usage,
            old: &sides[0],
            new: &sides[1],
            uses: &uses,
            suites: &project.suites,
        };
        let rb = runbook::build(&input, &redactor);
        out!("{}", redactor.text(&runbook::terminal::render(&rb)));
        let paths = write(&rb, &args.report_dir, &redactor)?;
        eprintln!("runbook: {}", paths.join(", "));
        Ok(match cancelled {
            Some(Cause::RunTimeout(_)) => {
                eprintln!(
                    "run deadline reached (--run-timeout): the runbook covers the {} finished case run(s)",
                    report.results.len()
                );
                exit::RUN_TIMEOUT
            }
            Some(Cause::Interrupt) => exit::INTERRUPTED,
            None => rb.decision.decision.exit_code(),
        })
    })
}

fn write(
    rb: &runbook::Runbook,
    dir: &std::path::Path,
    redactor: &Redactor,
) -> Result<Vec<String>, CliError> {
    let json = serde_json::to_string_pretty(rb).map_err(|e| CliError::Render {
        what: "the runbook",
        message: e.to_string(),
    })? + "\n";
    let md = runbook::markdown::render(rb);
    let mut out = Vec::new();
    for (name, text) in [("runbook.md", md), ("runbook.json", json)] {
        let p = dir.join(name);
        atomic_write(&p, redactor.text(&text).as_bytes()).map_err(|source| CliError::Write {
            what: "the runbook",
            path: p.clone(),
            source,
        })?;
        out.push(p.display().to_string());
    }
    Ok(out)
}
