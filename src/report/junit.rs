//! `junit.xml`: one testsuite per target × suite, one testcase per case; `fail` → `<failure>`,
//! `error` → `<error>`, `unsupported` and `skip` → `<skipped>` with the reason.
//!
//! Written straight to the file as the entries are read back, suite by suite, so the XML of
//! 100,000 cases is never held whole (as a tree it took ~1.5 KB per case). Each entry is read
//! as a brief view (`report::entry`): its exchanges and bodies are skipped, not parsed. The
//! layout is quick-junit's (the format nextest writes): four spaces per level, the same
//! attributes in the same order, times in seconds with three decimals.
//!
//! Every text is escaped with [`EscXml`]: the five XML specials as entities, and every unsafe
//! character (`util::text::is_unsafe_char`: the control characters but tab and newline — a
//! superset of those XML 1.0 forbids —, bidi and invisible characters, U+FFFE and U+FFFF)
//! shown escaped (`\x1b[31m`, `\u{202e}`), as in every other report.
//!
//! An entry that cannot be read back from the spool fails the file (as it fails
//! `report.json`): the testsuites' counts come from the entries' summaries, and a file whose
//! counts name cases it does not hold must not be written.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::de::IgnoredAny;

use super::entry::{Brief, EntryView};
use super::escape::EscXml;
use super::impact;
use super::model::RunReport;
use crate::judge::Outcome;

pub fn render(r: &RunReport) -> String {
    let mut out = Vec::new();
    match write(r, &mut out) {
        Ok(()) => String::from_utf8(out)
            .unwrap_or_else(|e| format!("<!-- failed to render JUnit XML: {e} -->\n")),
        Err(e) => format!("<!-- failed to render JUnit XML: {e} -->\n"),
    }
}

/// The counts a `<testsuites>` or `<testsuite>` element carries.
#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    skipped: usize,
    failures: usize,
    errors: usize,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        self.tests += 1;
        match outcome {
            Outcome::Pass => {}
            Outcome::Fail => self.failures += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Unsupported | Outcome::Skip => self.skipped += 1,
        }
    }
}

/// Stream `junit.xml` into `w`: the counts come from the entries' summaries (nothing is read),
/// then each testsuite's testcases are written as its entries are read back.
pub fn write(r: &RunReport, w: &mut dyn Write) -> io::Result<()> {
    // Each testsuite's counts and entries by their place in the report, suites in first-seen
    // order.
    let mut suites: Vec<((&str, &str), Counts, Vec<usize>)> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut total = Counts::default();
    for (i, (k, s)) in r.results.keys().zip(r.results.summaries()).enumerate() {
        let key = (k.target, k.suite);
        let at = *index.entry(key).or_insert_with(|| {
            suites.push((key, Counts::default(), Vec::new()));
            suites.len() - 1
        });
        suites[at].1.add(s.outcome);
        suites[at].2.push(i);
        total.add(s.outcome);
    }
    drop(index);
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"llm-parity\" tests=\"{}\" \
         skipped=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">",
        total.tests,
        total.skipped,
        total.failures,
        total.errors,
        Seconds(r.duration_ms)
    )?;
    for ((target, suite), n, entries) in suites {
        write!(
            w,
            "\n    <testsuite name=\"{}/{}\" tests=\"{}\" skipped=\"{}\" errors=\"{}\" \
             failures=\"{}\">",
            EscXml(target),
            EscXml(suite),
            n.tests,
            n.skipped,
            n.errors,
            n.failures
        )?;
        if let Some(dir) = &r.replayed_from {
            // Said on every suite: a CI view shows suites, not the report's root.
            write!(
                w,
                "\n        <properties>\n            <property name=\"replayed_from\" \
                 value=\"{}\"/>\n        </properties>",
                EscXml(dir.as_str())
            )?;
        }
        let mut written = Ok(());
        r.results.each::<Brief>(entries, |res| {
            if written.is_ok() {
                written = test_case(w, &res);
            }
        });
        written?;
        if let Some(e) = r.results.error() {
            return Err(io::Error::other(e));
        }
        if let Some(dir) = &r.replayed_from {
            write!(
                w,
                "\n        <system-out>replayed from the recordings in {}: no endpoint was \
                 contacted</system-out>",
                EscXml(dir.as_str())
            )?;
        }
        w.write_all(b"\n    </testsuite>")?;
    }
    w.write_all(b"\n</testsuites>\n")
}

/// A duration in milliseconds as JUnit's seconds, three decimals.
struct Seconds(u64);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

fn test_case(w: &mut dyn Write, res: &EntryView<'_, IgnoredAny>) -> io::Result<()> {
    write!(
        w,
        "\n        <testcase name=\"{} [{}]\" classname=\"{}.{}\" time=\"{}\"",
        EscXml(&res.case),
        EscXml(&res.feature),
        EscXml(&res.target),
        EscXml(&res.suite),
        Seconds(res.duration_ms)
    )?;
    let tag = match res.outcome {
        Outcome::Pass => return w.write_all(b"/>"),
        Outcome::Fail => "failure",
        Outcome::Error => "error",
        Outcome::Unsupported | Outcome::Skip => "skipped",
    };
    let label = res.mark().label();
    write!(
        w,
        ">\n            <{tag} message=\"{label}: {}",
        EscXml(res.reason.as_deref().unwrap_or_default())
    )?;
    if let Some(note) = impact::note(res) {
        write!(w, " — {}", EscXml(&note))?;
    }
    write!(w, "\" type=\"{label}\"")?;
    if res.checks.is_empty() && res.notes.is_none() {
        w.write_all(b"/>")?;
    } else {
        // The checks, the client calls each breaks, and the case's note: one per line.
        w.write_all(b">")?;
        let mut first = true;
        let mut line = |w: &mut dyn Write, args: std::fmt::Arguments<'_>| {
            if !std::mem::take(&mut first) {
                w.write_all(b"\n")?;
            }
            w.write_fmt(args)
        };
        for c in res.checks.iter() {
            let reason = c.reason();
            match c.impact {
                Some(i) => line(w, format_args!("[{:?}, {i}] ", c.status))?,
                None => line(w, format_args!("[{:?}] ", c.status))?,
            }
            write!(w, "{}: {}", EscXml(&c.check), EscXml(&reason))?;
            for e in &c.clients {
                line(w, format_args!("  breaks {}", EscXml(&impact::cite(e))))?;
            }
        }
        if let Some(n) = &res.notes {
            line(w, format_args!("note: {}", EscXml(n)))?;
        }
        write!(w, "</{tag}>")?;
    }
    w.write_all(b"\n        </testcase>")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

    use super::*;
    use crate::util::text::inert;

    /// The document quick-junit renders for `r` (as junit.xml was written before it was
    /// written here): the oracle. Its text goes through `XmlString`, which strips ANSI escapes
    /// and control characters (tabs and carriage returns too), and names, check names and the
    /// replay directory were not made inert; ours shows every unsafe character escaped, so the
    /// two agree on text without unsafe characters, tabs and carriage returns.
    pub(crate) fn quick_junit(r: &RunReport) -> String {
        let mut report = Report::new("llm-parity");
        report.set_time(Duration::from_millis(r.duration_ms));
        let mut suites: Vec<TestSuite> = Vec::new();
        let all: Vec<usize> = (0..r.results.len()).collect();
        // Keyed by target and suite, not by the element's name: `a/b` + `c` and `a` + `b/c` are
        // two testsuites.
        let mut keys: Vec<(String, String)> = Vec::new();
        r.results.each::<Brief>(all, |res| {
            let key = (res.target.to_string(), res.suite.to_string());
            let at = match keys.iter().position(|k| *k == key) {
                Some(at) => at,
                None => {
                    let mut suite = TestSuite::new(format!("{}/{}", key.0, key.1));
                    keys.push(key);
                    if let Some(dir) = &r.replayed_from {
                        suite.add_property(Property::new("replayed_from", dir.as_str()));
                        suite.set_system_out(format!(
                            "replayed from the recordings in {dir}: no endpoint was contacted"
                        ));
                    }
                    suites.push(suite);
                    suites.len() - 1
                }
            };
            suites[at].add_test_case(quick_junit_case(&res));
        });
        report.add_test_suites(suites);
        report.to_string().unwrap()
    }

    fn quick_junit_case(res: &EntryView<'_, IgnoredAny>) -> TestCase {
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
            for c in res.checks.iter() {
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
}
