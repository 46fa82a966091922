//! `junit.xml`: one testsuite per target × suite, one testcase per case; `fail` → `<failure>`,
//! `error` → `<error>`, `unsupported` and `skip` → `<skipped>` with the reason.
//!
//! Written one testsuite at a time: the entries of a spooled run are read back suite by suite,
//! so the XML of 100,000 cases is never held whole (as a tree it took ~1.5 KB per case). Each
//! entry is read as a brief view (`report::entry`): its exchanges and bodies are skipped, not
//! parsed.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use serde::de::IgnoredAny;

use super::entry::{Brief, EntryView};
use super::impact;
use super::model::RunReport;
use crate::judge::Outcome;
use crate::util::text::inert;

pub fn render(r: &RunReport) -> String {
    let mut out = Vec::new();
    match write(r, &mut out) {
        Ok(()) => String::from_utf8(out)
            .unwrap_or_else(|e| format!("<!-- failed to render JUnit XML: {e} -->\n")),
        Err(e) => format!("<!-- failed to render JUnit XML: {e} -->\n"),
    }
}

/// Stream `junit.xml` into `w`: quick-junit renders the document's head (with the totals, from
/// the entries' summaries) and then each testsuite on its own, of which only the suite's
/// element is kept — the same bytes as one document rendered whole.
pub fn write(r: &RunReport, w: &mut dyn Write) -> std::io::Result<()> {
    // Each testsuite's entries by their place in the report, suites in first-seen order.
    let mut suites: Vec<((&str, &str), Vec<usize>)> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, k) in r.results.keys().enumerate() {
        let key = (k.target, k.suite);
        let at = *index.entry(key).or_insert_with(|| {
            suites.push((key, Vec::new()));
            suites.len() - 1
        });
        suites[at].1.push(i);
    }
    drop(index);
    let mut head = Report::new("llm-parity");
    head.set_time(Duration::from_millis(r.duration_ms));
    for s in r.results.summaries() {
        head.tests += 1;
        match s.outcome {
            Outcome::Pass => {}
            Outcome::Fail => head.failures += 1,
            Outcome::Error => head.errors += 1,
            Outcome::Unsupported | Outcome::Skip => head.skipped += 1,
        }
    }
    let head = xml(&head)?;
    w.write_all(cut(&head, 0, head.rfind(END)).as_bytes())?;
    for ((target, suite), entries) in suites {
        let mut suite = TestSuite::new(format!("{target}/{suite}"));
        if let Some(dir) = &r.replayed_from {
            // Said on every suite: a CI view shows suites, not the report's root.
            suite.add_property(Property::new("replayed_from", dir.as_str()));
            suite.set_system_out(format!(
                "replayed from the recordings in {dir}: no endpoint was contacted"
            ));
        }
        r.results.each::<Brief>(entries, |res| {
            suite.add_test_case(test_case(&res));
        });
        let mut one = Report::new("llm-parity");
        one.add_test_suite(suite);
        let one = xml(&one)?;
        let start = one.find(SUITE).map(|i| i + 1);
        w.write_all(cut(&one, start.unwrap_or(one.len()), one.rfind(END)).as_bytes())?;
    }
    w.write_all(END.as_bytes())?;
    w.write_all(b"\n")
}

/// Where the document's closing tag starts, and a testsuite element's first line (quick-junit
/// indents each level by four spaces; endpoint text inside is escaped, so neither can occur in
/// it).
const END: &str = "</testsuites>";
const SUITE: &str = "\n    <testsuite ";

fn cut(s: &str, start: usize, end: Option<usize>) -> &str {
    s.get(start..end.unwrap_or(s.len())).unwrap_or_default()
}

fn xml(report: &Report) -> std::io::Result<String> {
    report.to_string().map_err(std::io::Error::other)
}

fn test_case(res: &EntryView<'_, IgnoredAny>) -> TestCase {
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
    let mut case = TestCase::new(format!("{} [{}]", &*res.case, &*res.feature), status);
    case.set_classname(format!("{}.{}", &*res.target, &*res.suite));
    case.set_time(Duration::from_millis(res.duration_ms));
    case
}
