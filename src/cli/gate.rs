//! `llm-parity baseline save|prune` and `llm-parity merge` (which gates and publishes like
//! `run`, through the same `config::GateConfig` and `config::OutputConfig`).

use std::path::Path;

use super::args::{BaselineAction, BaselineArgs, MergeArgs};
use super::config::{GateConfig, OutputConfig};
use super::error::CliError;
use super::out::outln;
use crate::exit;
use crate::gate;
use crate::gate::baseline::BaselineError;
use crate::redact::{Redactor, SecretRegistry};
use crate::util::fs::{atomic_write, read_bounded_string};

pub fn baseline(a: &BaselineArgs) -> Result<u8, CliError> {
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

fn save(from: &Path, output: &Path) -> Result<u8, CliError> {
    let report = gate::baseline::read_report(from)?;
    let previous = if output.exists() {
        match gate::baseline::load(output) {
            Ok(b) if !b.from_report => Some(b),
            Ok(_) => {
                return Err(CliError::usage(format!(
                    "{} is a report, not a baseline file: choose another -o",
                    output.display()
                )));
            }
            Err(e) => {
                // Its problems, then why they stop the save.
                CliError::from(e).print();
                return Err(CliError::usage(format!(
                    "cannot keep the notes of the existing {} (fix it, remove it or choose another -o)",
                    output.display()
                )));
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
    let text = redactor.text(&render(&file, output)?).into_owned();
    write(output, &text)?;
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
    Ok(exit::OK)
}

fn prune(
    baseline: &Path,
    report: &Path,
    output: Option<&Path>,
    dry_run: bool,
) -> Result<u8, CliError> {
    let parsed = gate::baseline::load(baseline)?;
    if parsed.from_report {
        return Err(CliError::usage(format!(
            "{} is a report, not a baseline file: there is nothing to prune (write a baseline with `llm-parity baseline save`)",
            baseline.display()
        )));
    }
    let mut file = parsed.into_file();
    let report = gate::baseline::read_report(report)?;
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
        return Ok(exit::OK);
    }
    let out = output.unwrap_or(baseline);
    write(out, &render(&file, out)?)?;
    Ok(exit::OK)
}

/// A baseline file's text, as `path`'s extension asks (JSON or YAML).
fn render(file: &gate::baseline::BaselineFile, path: &Path) -> Result<String, CliError> {
    gate::baseline::render(file, path).map_err(|e| CliError::Render {
        what: "the baseline",
        message: e.to_string(),
    })
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    atomic_write(path, text.as_bytes()).map_err(|source| CliError::Write {
        what: "the baseline",
        path: path.to_path_buf(),
        source,
    })
}

pub fn merge(a: &MergeArgs) -> Result<u8, CliError> {
    let gate = GateConfig::new(&a.gate)?;
    let output = OutputConfig::new(&a.output);
    // Each report is read and parsed once; when one cannot be, reports of different schema
    // versions are the clearer message.
    let mut reports = Vec::new();
    let mut failed = None;
    let mut versions = Vec::new();
    for p in &a.reports {
        let source = p.display().to_string();
        let text = read_bounded_string(p, gate::baseline::REPORT_FILE_LIMIT).map_err(|error| {
            BaselineError::Read {
                what: "report",
                error,
            }
        })?;
        match gate::baseline::report_from_text(p, &text) {
            Ok(r) => {
                versions.push((source.clone(), Some(u64::from(r.schema_version))));
                reports.push((source, r));
            }
            Err(e) => {
                versions.push((source, gate::baseline::report_version(&text)));
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        if versions.iter().any(|(_, v)| *v != versions[0].1) {
            let list: Vec<String> = versions
                .iter()
                .map(|(s, v)| match v {
                    Some(v) => format!("{s} has schema_version {v}"),
                    None => format!("{s} has no schema_version"),
                })
                .collect();
            return Err(CliError::usage(format!(
                "cannot merge reports of different schema versions: {}",
                list.join(", ")
            )));
        }
        return Err(e.into());
    }
    let merged = gate::merge::merge(reports)?;
    for w in &merged.warnings {
        eprintln!("warning: {w}");
    }
    let redactor = Redactor::new(SecretRegistry::default());
    let report = gate.attach(merged.report, &redactor);
    let written = output.publish(&report, &redactor)?;
    eprintln!(
        "merged {} report(s): {}",
        a.reports.len(),
        written.join(", ")
    );
    Ok(if gate.passes(&report, &redactor) {
        exit::OK
    } else {
        exit::FAILED
    })
}
