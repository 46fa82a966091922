//! gate: the CI gate against a baseline (`--baseline`, `--fail-on`, `baseline save|prune`) and
//! scaling across runners (`merge` of `--shard I/N` reports; the sharding itself is a plan step,
//! `plan::shard`).

pub mod baseline;
pub mod compare;
pub mod merge;
pub mod model;
pub mod prune;
pub mod render;

pub use baseline::Baseline;
pub use model::{BaselineSection, FailOn, ShardInfo, SuiteInfo};

use crate::load::Suite;
use crate::redact::Redactor;
use crate::report::RunReport;

/// The suites a run loaded, every case listed (`report.json` `suites`).
pub fn catalogue(suites: &[Suite]) -> Vec<SuiteInfo> {
    suites
        .iter()
        .map(|s| SuiteInfo {
            id: s.id.clone(),
            cases: s.cases.iter().map(|c| c.id.clone()).collect(),
        })
        .collect()
}

/// Compare a built report with the baseline and attach the result (redacted like the rest:
/// baseline notes are text from a file, reasons came from endpoints).
pub fn attach(
    report: RunReport,
    baseline: &Baseline,
    fail_on: FailOn,
    allow_flaky: bool,
    redactor: &Redactor,
) -> RunReport {
    let opts = compare::Options {
        fail_on,
        allow_flaky,
        today: baseline::today(),
    };
    // The report itself is redacted already; only the new section needs it.
    let section = redactor.value(compare::compare(&report, baseline, &opts));
    RunReport {
        baseline: Some(section),
        ..report
    }
}

/// The gate's decision: against the baseline when there is one, else no failing case.
pub fn passes(report: &RunReport, allow_flaky: bool) -> bool {
    match &report.baseline {
        Some(b) => b.passed,
        None => report.gate_passes(allow_flaky),
    }
}

/// One line naming what failed the gate, for stderr.
pub fn failure_line(b: &BaselineSection) -> Option<String> {
    if b.passed {
        return None;
    }
    let mut named: Vec<String> = b
        .regressions
        .iter()
        .map(|c| format!("regression {} on {}", c.feature, c.target))
        .chain(
            b.expired
                .iter()
                .map(|c| format!("expired {} on {}", c.feature, c.target)),
        )
        .collect();
    if b.fail_on != FailOn::Regression {
        named.extend(
            b.new_failures
                .iter()
                .map(|n| format!("new failure {}/{} on {}", n.suite, n.case, n.target)),
        );
    }
    if named.is_empty() {
        named.push("failing cases (--fail-on any)".into());
    }
    Some(format!(
        "gate failed against baseline {}: {}",
        b.source,
        named.join(", ")
    ))
}
