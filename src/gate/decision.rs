//! The gate's decision: whether a run passes — against the baseline when there is one (under
//! `--fail-on`), else when no case failed — and the comparison it decides on, attached to the
//! report.

use super::baseline::{self, Baseline};
use super::compare;
use crate::redact::Redactor;
use crate::report::RunReport;
use crate::report::model::{BaselineSection, FailOn};

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
        None => report.no_failures(allow_flaky),
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
