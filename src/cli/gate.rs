//! `llm-parity baseline save|prune`, `llm-parity merge`, and the run command's gate hooks
//! (`--baseline`, `--fail-on`, `--shard`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::args::{ReportFormat, RunArgs};
use super::out::{out, outln};
use crate::exit;
use crate::gate::{self, Baseline};
use crate::load::Suite;
use crate::redact::{Redactor, SecretRegistry};
use crate::report::model::{FailOn, ShardInfo};
use crate::report::{self, RunReport};
use crate::util::fs::{atomic_write, read_bounded_string};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnFlag {
    /// A feature × target that passed in the baseline and now does not (or an expired entry).
    Regression,
    /// A regression, or a failing case the baseline does not know.
    New,
    /// Any failing case (the comparison is still reported).
    Any,
}

impl From<FailOnFlag> for FailOn {
    fn from(f: FailOnFlag) -> Self {
        match f {
            FailOnFlag::Regression => Self::Regression,
            FailOnFlag::New => Self::New,
            FailOnFlag::Any => Self::Any,
        }
    }
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub action: BaselineAction,
}

#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Write a baseline file from a report: every feature × target cell with its cases (notes and
    /// expiry dates of an existing file are kept for cells that still do not pass).
    Save {
        /// The report to take the baseline from.
        #[arg(long, value_name = "FILE", default_value = "reports/report.json")]
        from: PathBuf,
        /// The baseline file to write (`.json` for JSON, YAML otherwise).
        #[arg(
            short = 'o',
            long = "output",
            value_name = "FILE",
            default_value = "baseline.yaml"
        )]
        output: PathBuf,
    },
    /// Remove references to cases that no longer exist, judged only for the suites the report's
    /// run loaded.
    Prune {
        /// The baseline file to prune (rewritten in place unless -o).
        #[arg(long, value_name = "FILE", default_value = "baseline.yaml")]
        baseline: PathBuf,
        /// A report of a run that loaded the suites to judge.
        #[arg(long, value_name = "FILE", default_value = "reports/report.json")]
        report: PathBuf,
        /// Write the pruned baseline here instead.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only print what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard reports (`report.json` of `run --shard I/N`) to combine.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Where the merged reports go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// Report files to write (comma-separated): json, md, html, junit. Default: all.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FORMATS",
        default_value = "json,md,html,junit"
    )]
    pub format: Vec<ReportFormat>,
    /// Gate the merged run against a baseline file or a previous report.json.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: what fails the run (default: regression).
    #[arg(long, value_enum, value_name = "WHAT", requires = "baseline")]
    pub fail_on: Option<FailOnFlag>,
    /// Do not fail the run for flaky cases.
    #[arg(long)]
    pub allow_flaky: bool,
    /// Full-width terminal matrix.
    #[arg(long)]
    pub wide: bool,
}

/// `run`: read `--baseline` before anything touches the network.
pub fn load_baseline(args: &RunArgs) -> Result<Option<Baseline>, u8> {
    match &args.baseline {
        None => Ok(None),
        Some(p) => gate::baseline::load(p)
            .map(Some)
            .map_err(|e| super::usage_error(&e)),
    }
}

/// `run`: what the gate adds to a built report: the suites loaded, the shard, the comparison.
pub fn finish(
    mut report: RunReport,
    suites: &[Suite],
    args: &RunArgs,
    baseline: Option<&Baseline>,
    redactor: &Redactor,
) -> RunReport {
    report.suites = redactor.value(report::build::loaded_suites(suites));
    report.shard = args.shard.map(|s| ShardInfo {
        index: s.index,
        count: s.count,
    });
    match baseline {
        Some(b) => gate::attach(
            report,
            b,
            args.fail_on.map(Into::into).unwrap_or_default(),
            args.allow_flaky,
            redactor,
        ),
        None => report,
    }
}

/// The gate's decision; when a baseline failed it, one line naming what did.
pub fn verdict(report: &RunReport, allow_flaky: bool, redactor: &Redactor) -> bool {
    if let Some(line) = report.baseline.as_ref().and_then(gate::failure_line) {
        eprintln!("{}", redactor.text(&line));
    }
    gate::passes(report, allow_flaky)
}

pub fn baseline(a: &BaselineArgs) -> u8 {
    match &a.action {
        BaselineAction::Save { from, output } => save(from, output),
        BaselineAction::Prune {
            baseline,
            report,
            output,
            dry_run,
        } => prune(baseline, report, output.as_deref(), *dry_run),
    }
}

fn save(from: &Path, output: &Path) -> u8 {
    let report = match gate::baseline::read_report(from) {
        Ok(r) => r,
        Err(e) => return super::usage_error(&e),
    };
    let previous = if output.exists() {
        match gate::baseline::load(output) {
            Ok(b) if !b.from_report => Some(b),
            Ok(_) => {
                return super::usage_error(&format!(
                    "{} is a report, not a baseline file: choose another -o",
                    output.display()
                ));
            }
            Err(e) => {
                return super::usage_error(&format!(
                    "cannot keep the notes of the existing {}: {e} (remove it or choose another -o)",
                    output.display()
                ));
            }
        }
    } else {
        None
    };
    if let Some(s) = report.shard {
        eprintln!(
            "warning: {} is shard {}/{}: the baseline covers only its cases (merge the shards first: `llm-parity merge`)",
            from.display(),
            s.index,
            s.count
        );
    }
    if report.partial {
        eprintln!(
            "warning: {} is a partial (interrupted) run: the baseline covers only its finished cases",
            from.display()
        );
    }
    let file = gate::baseline::save(&report, &from.display().to_string(), previous.as_ref());
    let redactor = Redactor::new(SecretRegistry::default());
    let text = match gate::baseline::render(&file, output) {
        Ok(t) => redactor.text(&t).into_owned(),
        Err(e) => return super::usage_error(&format!("cannot serialise the baseline: {e}")),
    };
    if let Err(e) = atomic_write(output, text.as_bytes()) {
        return super::usage_error(&format!("cannot write {}: {e}", output.display()));
    }
    let failing = file
        .entries
        .iter()
        .filter(|e| e.outcome != crate::judge::Outcome::Pass)
        .count();
    outln!(
        "baseline: {} entr{} ({} not passing) from {} written to {}",
        file.entries.len(),
        if file.entries.len() == 1 { "y" } else { "ies" },
        failing,
        from.display(),
        output.display()
    );
    exit::OK
}

fn prune(baseline: &Path, report: &Path, output: Option<&Path>, dry_run: bool) -> u8 {
    let text = match read_bounded_string(baseline, gate::baseline::REPORT_FILE_LIMIT) {
        Ok(t) => t,
        Err(e) => {
            return super::usage_error(&format!(
                "cannot read baseline {}: {}",
                baseline.display(),
                e.kind
            ));
        }
    };
    let parsed = match gate::baseline::parse(&text, &baseline.display().to_string()) {
        Ok(b) => b,
        Err(e) => return super::usage_error(&e),
    };
    if parsed.from_report {
        return super::usage_error(&format!(
            "{} is a report, not a baseline file: there is nothing to prune (write a baseline with `llm-parity baseline save`)",
            baseline.display()
        ));
    }
    let mut file: gate::baseline::BaselineFile = match serde_yaml::from_str(&text) {
        Ok(f) => f,
        Err(e) => return super::usage_error(&format!("baseline {}: {e}", baseline.display())),
    };
    let report = match gate::baseline::read_report(report) {
        Ok(r) => r,
        Err(e) => return super::usage_error(&e),
    };
    let pruned = gate::prune::prune(&mut file, &report);
    for e in &pruned.entries {
        outln!("removed entry {e} (its cases no longer exist)");
    }
    for c in &pruned.cases {
        outln!("removed case {c} (no longer exists)");
    }
    outln!(
        "pruned {} entr{} and {} case reference(s); suites judged: {}",
        pruned.entries.len(),
        if pruned.entries.len() == 1 {
            "y"
        } else {
            "ies"
        },
        pruned.cases.len(),
        if pruned.suites.is_empty() {
            "none".to_string()
        } else {
            pruned.suites.join(", ")
        }
    );
    if dry_run {
        return exit::OK;
    }
    let out = output.unwrap_or(baseline);
    let text = match gate::baseline::render(&file, out) {
        Ok(t) => t,
        Err(e) => return super::usage_error(&format!("cannot serialise the baseline: {e}")),
    };
    if let Err(e) = atomic_write(out, text.as_bytes()) {
        return super::usage_error(&format!("cannot write {}: {e}", out.display()));
    }
    exit::OK
}

pub fn merge(a: &MergeArgs) -> u8 {
    let mut raw = Vec::new();
    for p in &a.reports {
        let text = match read_bounded_string(p, gate::baseline::REPORT_FILE_LIMIT) {
            Ok(t) => t,
            Err(e) => {
                return super::usage_error(&format!(
                    "cannot read report {}: {}",
                    p.display(),
                    e.kind
                ));
            }
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return super::usage_error(&format!("{}: not JSON: {e}", p.display())),
        };
        raw.push((p.display().to_string(), value));
    }
    // Different versions first: that is the clearer message when one report is also unreadable.
    let versions: Vec<(String, Option<u64>)> = raw
        .iter()
        .map(|(s, v)| (s.clone(), v.get("schema_version").and_then(|x| x.as_u64())))
        .collect();
    if versions.iter().any(|(_, v)| *v != versions[0].1) {
        let list: Vec<String> = versions
            .iter()
            .map(|(s, v)| match v {
                Some(v) => format!("{s} has schema_version {v}"),
                None => format!("{s} has no schema_version"),
            })
            .collect();
        return super::usage_error(&format!(
            "cannot merge reports of different schema versions: {}",
            list.join(", ")
        ));
    }
    let mut reports = Vec::new();
    for (source, value) in raw {
        match gate::baseline::read_report_value(value, &source) {
            Ok(r) => reports.push((source, r)),
            Err(e) => return super::usage_error(&e),
        }
    }
    let baseline = match &a.baseline {
        None => None,
        Some(p) => match gate::baseline::load(p) {
            Ok(b) => Some(b),
            Err(e) => return super::usage_error(&e),
        },
    };
    let merged = match gate::merge::merge(reports) {
        Ok(m) => m,
        Err(e) => return super::usage_error(&e),
    };
    for w in &merged.warnings {
        eprintln!("warning: {w}");
    }
    let redactor = Redactor::new(SecretRegistry::default());
    let mut report = merged.report;
    if let Some(b) = &baseline {
        report = gate::attach(
            report,
            b,
            a.fail_on.map(Into::into).unwrap_or_default(),
            a.allow_flaky,
            &redactor,
        );
    }
    let written = super::run::write_reports(&report, &a.report_dir, &a.format);
    out!(
        "{}",
        redactor.text(&report::terminal::render(&report, a.wide))
    );
    super::run::write_step_summary(&report);
    match written {
        Ok(paths) => eprintln!("merged {} report(s): {}", a.reports.len(), paths.join(", ")),
        Err(e) => {
            eprintln!("error: failed to write reports: {e}");
            return exit::CONFIG;
        }
    }
    if verdict(&report, a.allow_flaky, &redactor) {
        exit::OK
    } else {
        exit::FAILED
    }
}
