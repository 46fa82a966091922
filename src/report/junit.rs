//! `junit.xml`: one testsuite per target × suite, one testcase per case; `fail` → `<failure>`,
//! `error` → `<error>`, `unsupported` and `skip` → `<skipped>` with the reason.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::impact;
use super::model::RunReport;
use crate::judge::Outcome;
use crate::util::text::inert;

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
        // XML 1.0 forbids most control characters: shown escaped, like bidi overrides.
        let reason = inert(res.reason.as_deref().unwrap_or_default()).into_owned();
        let mut status = match res.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Outcome::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            Outcome::Unsupported | Outcome::Skip => TestCaseStatus::skipped(),
        };
        if res.outcome != Outcome::Pass {
            let mark = res.mark();
            let note = impact::note(res)
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            status.set_message(format!("{}: {reason}{note}", mark.label()));
            status.set_type(mark.label());
            let mut details = Vec::new();
            for c in &res.checks {
                let tag = match c.impact {
                    Some(i) => format!("{:?}, {i}", c.status),
                    None => format!("{:?}", c.status),
                };
                details.push(format!("[{tag}] {}: {}", c.check, inert(&c.reason())));
                for e in &c.clients {
                    details.push(format!("  breaks {}", inert(&impact::cite(e))));
                }
            }
            if let Some(n) = &res.notes {
                details.push(format!("note: {}", inert(n)));
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
