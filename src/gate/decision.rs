//! The gate's decision: whether a run passes — against the baseline when there is one (under
//! `--fail-on`), else when no case failed — and the comparison it decides on, attached to the
//! report.

use super::baseline::{self, Baseline};
use super::compare;
use crate::judge::Impact;
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

/// The gate's decision: against the baseline when there is one, else no failing case (under
/// `--fail-on breaking`, no case that breaks a client).
pub fn passes(report: &RunReport, fail_on: FailOn, allow_flaky: bool) -> bool {
    match &report.baseline {
        Some(b) => b.passed,
        None if fail_on == FailOn::Breaking => report.breaking(allow_flaky).next().is_none(),
        None => report.no_failures(allow_flaky),
    }
}

/// Without a baseline, under `--fail-on breaking`: one line naming the cases that break a
/// client, for stderr.
pub fn breaking_line(report: &RunReport, allow_flaky: bool) -> Option<String> {
    let cases: Vec<String> = report
        .breaking(allow_flaky)
        .map(|r| format!("{}/{} on {}", r.suite, r.case, r.target))
        .collect();
    if cases.is_empty() {
        return None;
    }
    let shown = cases
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = cases.len().saturating_sub(10);
    Some(format!(
        "gate failed (--fail-on breaking): {} case(s) break a client: {shown}{}",
        cases.len(),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// Under `--fail-on skip`: one line naming the cases skipped because their target has no
/// model for the role they need, for stderr (none when nothing was skipped for that).
pub fn skip_line(report: &RunReport) -> Option<String> {
    crate::report::aggregate::MissingModels::of(&report.results)
        .line(None)
        .map(|l| format!("gate failed (--fail-on skip): {l}"))
}

/// One line naming what failed the gate, for stderr.
pub fn failure_line(b: &BaselineSection) -> Option<String> {
    if b.passed {
        return None;
    }
    // Under `--fail-on breaking` only what breaks a client failed the gate.
    let counts = |i: Option<Impact>| b.fail_on != FailOn::Breaking || i == Some(Impact::Breaks);
    let mut named: Vec<String> = b
        .regressions
        .iter()
        .filter(|c| counts(c.impact))
        .map(|c| format!("regression {} on {}", c.feature, c.target))
        .chain(
            b.expired
                .iter()
                .filter(|c| counts(c.impact))
                .map(|c| format!("expired {} on {}", c.feature, c.target)),
        )
        .collect();
    if b.fail_on != FailOn::Regression {
        named.extend(
            b.new_failures
                .iter()
                .filter(|n| counts(n.impact))
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
