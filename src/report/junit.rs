//! `junit.xml`: one testsuite per target × suite, one testcase per case; `fail` → `<failure>`,
//! `error` → `<error>`, `unsupported` and `skip` → `<skipped>` with the reason.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::model::RunReport;
use crate::judge::Outcome;

pub fn render(r: &RunReport) -> String {
    let mut report = Report::new("llm-parity");
    report.set_time(Duration::from_millis(r.duration_ms));
    let mut suites: Vec<TestSuite> = Vec::new();
    for res in &r.results {
        let name = format!("{}/{}", res.target, res.suite);
        let idx = match suites.iter().position(|s| s.name.as_str() == name) {
            Some(i) => i,
            None => {
                let mut suite = TestSuite::new(name);
                if let Some(dir) = &r.replayed_from {
                    // Said on every suite: a CI view shows suites, not the report's root.
                    suite.add_property(Property::new("replayed_from", dir.as_str()));
                    suite.set_system_out(format!(
                        "replayed from the recordings in {dir}: no endpoint was contacted"
                    ));
                }
                suites.push(suite);
                suites.len() - 1
            }
        };
        let reason = res.reason.clone().unwrap_or_default();
        let mut status = match res.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Outcome::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            Outcome::Unsupported | Outcome::Skip => TestCaseStatus::skipped(),
        };
        if res.outcome != Outcome::Pass {
            status.set_message(format!("{}: {reason}", res.outcome));
            status.set_type(res.outcome.as_str());
            let mut details = Vec::new();
            for c in &res.checks {
                details.push(format!("[{:?}] {}: {}", c.status, c.check, c.reason()));
            }
            if let Some(n) = &res.notes {
                details.push(format!("note: {n}"));
            }
            if !details.is_empty() {
                status.set_description(details.join("\n"));
            }
        }
        let mut case = TestCase::new(format!("{} [{}]", res.case, res.feature), status);
        case.set_classname(format!("{}.{}", res.target, res.suite));
        case.set_time(Duration::from_millis(res.duration_ms));
        suites[idx].add_test_case(case);
    }
    report.add_test_suites(suites);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- failed to render JUnit XML: {e} -->\n"))
}
