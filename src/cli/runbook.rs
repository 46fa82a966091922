//! `llm-parity runbook --from OLD --to NEW [--uses …]`: resolve both sides, run the core cases
//! and every used area's suite on both through the ordinary pipeline (plan → execute → report
//! model), then build, print and write the runbook.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::args::{ProjectArgs, TargetArgs};
use super::out::out;
use super::targets::{self, BuiltinNeeded};
use crate::execute::ScheduleOptions;
use crate::execute::http::ClientOptions;
use crate::exit;
use crate::load::Target;
use crate::plan::{self, Selection};
use crate::redact::{Redactor, SecretRegistry};
use crate::report::{self, model::RunMeta};
use crate::run::progress::{self, Progress};
use crate::run::{Session, Stopper};
use crate::runbook::{self, Uses, steps::Input};
use crate::util::fs::atomic_write;

#[derive(Debug, Args)]
pub struct RunbookArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// OLD (the endpoint traffic moves away from): a target from the targets file, or built in
    /// (`reference`, `reference:gemini-compat`).
    #[arg(long, value_name = "NAME")]
    pub from: Option<String>,
    /// OLD as an ad-hoc target: its base URL.
    #[arg(long, value_name = "URL")]
    pub from_base_url: Option<String>,
    /// OLD's key variable (ad-hoc target; sent as a Bearer token).
    #[arg(long, value_name = "VAR")]
    pub from_api_key_env: Option<String>,
    /// OLD's model for a role, e.g. `chat=gpt-4o-mini` (repeatable; overrides a named target's).
    #[arg(long = "from-model", value_name = "ROLE=ID")]
    pub from_models: Vec<String>,
    /// NEW (the endpoint traffic moves to): a target from the targets file, or built in.
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
    /// NEW as an ad-hoc target: its base URL.
    #[arg(long, value_name = "URL")]
    pub to_base_url: Option<String>,
    /// NEW's key variable (ad-hoc target; sent as a Bearer token).
    #[arg(long, value_name = "VAR")]
    pub to_api_key_env: Option<String>,
    /// NEW's model for a role, e.g. `chat=gemini-2.5-flash` (repeatable; overrides a named target's).
    #[arg(long = "to-model", value_name = "ROLE=ID")]
    pub to_models: Vec<String>,
    /// What the app uses (comma-separated): areas such as chat, streaming, tools, vision, audio,
    /// structured_output, embeddings — or features such as `tools.parallel`. Default: every area.
    #[arg(long, value_delimiter = ',', value_name = "AREAS")]
    pub uses: Vec<String>,
    /// Where runbook.md and runbook.json go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// Cases in flight overall.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Deadline per exchange, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Longest silence allowed inside a body or stream, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub idle_timeout: f64,
}

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

fn resolve_side(p: &ProjectArgs, s: &SideFlags<'_>) -> Result<(Side, Vec<(String, String)>), u8> {
    let f = s.flag;
    match (s.name, s.base_url) {
        (Some(_), Some(_)) => {
            return Err(super::usage_error(&format!(
                "{} is named twice: give --{f} NAME or --{f}-base-url URL, not both",
                s.label
            )));
        }
        (None, None) => {
            return Err(super::usage_error(&format!(
                "missing {}: give --{f} NAME (targets file or built-in `reference`, `reference:gemini-compat`) or --{f}-base-url URL",
                s.label
            )));
        }
        (Some(_), None) if s.api_key_env.is_some() => {
            return Err(super::usage_error(&format!(
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
        super::report_diagnostics(&d)
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
        (None, None) => return Err(super::usage_error(&format!("no target for {}", s.label))),
    };
    Ok((side, overrides))
}

pub fn run(args: RunbookArgs) -> u8 {
    let project = match super::load(&args.project) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let uses = match Uses::resolve(&args.uses, &project.suites) {
        Ok(u) => u,
        Err(e) => return super::usage_error(&e),
    };
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
        (Err(c), _) | (_, Err(c)) => return c,
    };
    if !(args.timeout > 0.0 && args.idle_timeout > 0.0) {
        return super::usage_error("--timeout and --idle-timeout must be positive");
    }
    let selection = Selection {
        filters: uses.case_ids(&project.suites),
        include_opt_in: false,
        repeat: 1,
    };
    if selection.filters.is_empty() {
        return super::usage_error(
            "no case to run: the loaded suites have neither the core cases nor the used areas",
        );
    }
    let opts = ScheduleOptions {
        concurrency: args.concurrency.max(1),
        per_target: args.concurrency.max(1),
        slow_after: Duration::from_secs_f64(args.timeout / 2.0),
        client: ClientOptions {
            timeout: Duration::from_secs_f64(args.timeout),
            idle_timeout: Duration::from_secs_f64(args.idle_timeout),
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
        let mut sides = Vec::new();
        for (side, overrides) in [old, new] {
            let mut t = match side {
                Side::Ready(t) => *t,
                Side::Builtin(b) => match targets::start_builtin(&b).await {
                    Ok(t) => (*t).clone(),
                    Err(e) => return super::usage_error(&e),
                },
            };
            t.models.extend(overrides);
            for s in t.secrets() {
                secrets.add(&s);
            }
            sides.push(Arc::new(t));
        }
        if sides[0].name == sides[1].name {
            return super::usage_error(&format!(
                "--from and --to are the same target `{}`: a runbook compares two endpoints",
                sides[0].name
            ));
        }
        let planned = match plan::plan(&project.suites, &sides, &selection) {
            Ok(p) => p,
            Err(e) => return super::usage_error(&e),
        };
        eprintln!(
            "runbook: {} case run(s) on {} (OLD) and {} (NEW), uses: {}",
            planned.len(),
            sides[0].name,
            sides[1].name,
            uses.label()
        );
        let started_at = super::run::now_rfc3339();
        let start = Instant::now();
        // SIGINT and SIGTERM as in `run`: stop, write the runbook of the finished cases.
        let stopper = Stopper::default();
        let signals = stopper.on_signals();
        // Each case feeds the report and the usage totals as it finishes, then is dropped.
        let mut session = Session::new(
            Progress::new(progress::Display::Off, []),
            report::model::Collector::new(&redactor, report::model::BodyPolicy::All, sides.len()),
        );
        session.usage = Some(Default::default());
        let result = crate::run::runner::run(
            planned,
            project.schemas.clone(),
            &opts,
            secrets.clone(),
            &stopper,
            None,
            &mut session,
        )
        .await;
        signals.abort();
        if let Err(e) = result {
            return super::usage_error(&e.to_string());
        }
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
            targets: &sides,
            hop_pairs: vec![(sides[1].name.clone(), sides[0].name.clone())],
        };
        let report = cases.finish(&meta);
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
        match write(&rb, &args.report_dir, &redactor) {
            Ok(paths) => eprintln!("runbook: {}", paths.join(", ")),
            Err(e) => {
                eprintln!("error: failed to write the runbook: {e}");
                return exit::CONFIG;
            }
        }
        if cancelled.is_some() {
            exit::INTERRUPTED
        } else {
            rb.verdict.decision.exit_code()
        }
    })
}

fn write(
    rb: &runbook::Runbook,
    dir: &std::path::Path,
    redactor: &Redactor,
) -> Result<Vec<String>, String> {
    let json = serde_json::to_string_pretty(rb).map_err(|e| e.to_string())? + "\n";
    let md = runbook::markdown::render(rb);
    let mut out = Vec::new();
    for (name, text) in [("runbook.md", md), ("runbook.json", json)] {
        let p = dir.join(name);
        atomic_write(&p, redactor.text(&text).as_bytes())
            .map_err(|e| format!("{}: {e}", p.display()))?;
        out.push(p.display().to_string());
    }
    Ok(out)
}
