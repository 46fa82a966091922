//! The run against the baseline, cell by cell (feature × target, as the matrix shows it), with
//! case-level detail for failing cases the baseline does not know. Pure: the date is an input.

use std::collections::HashMap;

use super::baseline::{Baseline, Entry, parse_date};
use crate::judge::{Impact, Outcome};
use crate::report::model::{BaselineSection, CellChange, FailOn, NewFailure};
use crate::report::{CaseResult, RunReport};

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub fail_on: FailOn,
    /// `--allow-flaky`: a flaky result counts as passing.
    pub allow_flaky: bool,
    pub today: time::Date,
}

/// A cell that does not pass: refused, failed or errored (`skip` means not run: not judged).
fn not_passing(o: Outcome) -> bool {
    matches!(o, Outcome::Fail | Outcome::Error | Outcome::Unsupported)
}

fn effective(r: &CaseResult, allow_flaky: bool) -> Outcome {
    if allow_flaky && r.flaky {
        Outcome::Pass
    } else {
        r.outcome
    }
}

fn expired(e: &Entry, today: time::Date) -> bool {
    e.expires
        .as_deref()
        .and_then(parse_date)
        .is_some_and(|d| d < today)
}

pub fn compare(report: &RunReport, baseline: &Baseline, opts: &Options) -> BaselineSection {
    let mut s = BaselineSection {
        source: baseline.source.clone(),
        fail_on: opts.fail_on,
        passed: true,
        regressions: vec![],
        expired: vec![],
        new_failures: vec![],
        improvements: vec![],
        known: vec![],
    };
    // One pass over the entries (a spooled run's are read back one at a time): each cell's
    // outcome now, and its cases that do not pass.
    let mut cells: HashMap<(String, String), (Outcome, Vec<NewFailure>)> = HashMap::new();
    for r in &report.results {
        let o = effective(&r, opts.allow_flaky);
        let (now, failing) = cells
            .entry((r.target.clone(), r.feature.clone()))
            .or_insert((o, Vec::new()));
        if o.severity() >= now.severity() {
            *now = o;
        }
        if not_passing(o) {
            failing.push(NewFailure {
                target: r.target.clone(),
                suite: r.suite.clone(),
                case: r.case.clone(),
                feature: r.feature.clone(),
                outcome: r.outcome,
                impact: r.impact,
                reason: r.reason.clone(),
            });
        }
    }
    for target in report.target_names() {
        for row in &report.features {
            let Some((now, failing)) = cells.get(&(target.to_string(), row.feature.clone())) else {
                continue;
            };
            let now = *now;
            let is_failure = |r: &NewFailure| r.outcome.is_failure();
            let entry = baseline
                .entry(target, &row.feature)
                .filter(|e| e.outcome != Outcome::Skip);
            let Some(entry) = entry else {
                // Never judged before: a failing case here is new.
                s.new_failures.extend(
                    failing
                        .iter()
                        .filter(|r| is_failure(r))
                        .map(|r| (*r).clone()),
                );
                continue;
            };
            let change = CellChange {
                target: target.to_string(),
                feature: row.feature.clone(),
                baseline: entry.outcome,
                now,
                impact: failing
                    .iter()
                    .filter(|r| is_failure(r))
                    .filter_map(|r| r.impact)
                    .max(),
                cases: failing
                    .iter()
                    .map(|r| format!("{}/{}", r.suite, r.case))
                    .collect(),
                reason: failing.first().and_then(|r| r.reason.clone()),
                note: entry.note.clone(),
                expires: entry.expires.clone(),
            };
            if entry.outcome == Outcome::Pass {
                if not_passing(now) {
                    s.regressions.push(change);
                }
                continue;
            }
            if now == Outcome::Pass {
                s.improvements.push(change);
            } else if not_passing(now) {
                // A known deviation; a failing case the entry does not list is still new.
                s.new_failures.extend(
                    failing
                        .iter()
                        .filter(|r| is_failure(r))
                        .filter(|r| {
                            !entry.cases.is_empty()
                                && !entry.cases.contains(&format!("{}/{}", r.suite, r.case))
                        })
                        .map(|r| (*r).clone()),
                );
                if expired(entry, opts.today) {
                    s.expired.push(change);
                } else {
                    s.known.push(change);
                }
            }
        }
    }
    let regressed = !s.regressions.is_empty() || !s.expired.is_empty();
    s.passed = match opts.fail_on {
        FailOn::Regression => !regressed,
        FailOn::New => !regressed && s.new_failures.is_empty(),
        FailOn::Any => !regressed && report.no_failures(opts.allow_flaky),
        FailOn::Breaking => {
            let breaks = Some(Impact::Breaks);
            !s.regressions
                .iter()
                .chain(&s.expired)
                .any(|c| c.impact == breaks)
                && !s.new_failures.iter().any(|n| n.impact == breaks)
        }
    };
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::gate::baseline::{self, Entry};
    use crate::report::feature_rows;
    use crate::report::model::Tool;

    fn result(target: &str, case: &str, feature: &str, outcome: Outcome) -> CaseResult {
        let (suite, id) = case.split_once('/').unwrap();
        CaseResult {
            reason: (outcome != Outcome::Pass).then(|| format!("{case} is {outcome}")),
            duration_ms: 1,
            ..crate::testing::entry(target, suite, id, feature, outcome)
        }
    }

    fn report(results: Vec<CaseResult>) -> RunReport {
        let mut targets: Vec<String> = Vec::new();
        for r in &results {
            if !targets.contains(&r.target) {
                targets.push(r.target.clone());
            }
        }
        RunReport {
            schema_version: 1,
            tool: Tool {
                name: "llm-parity".into(),
                version: "0".into(),
            },
            started_at: String::new(),
            duration_ms: 0,
            partial: false,
            replayed_from: None,
            report_bodies: crate::report::model::BodyPolicy::All,
            targets: targets
                .into_iter()
                .map(|name| crate::report::model::TargetInfo {
                    name,
                    base_url: "http://x/v1".into(),
                    models: BTreeMap::new(),
                    api_key_env: None,
                    via: None,
                })
                .collect(),
            features: feature_rows(&results),
            results: results.into(),
            differences: vec![],
            latency: vec![],
            hops: vec![],
            suites: vec![],
            shard: None,
            baseline: None,
        }
    }

    fn opts(fail_on: FailOn) -> Options {
        Options {
            fail_on,
            allow_flaky: false,
            today: baseline::parse_date("2030-06-15").unwrap(),
        }
    }

    fn before() -> RunReport {
        report(vec![
            result("t", "chat/basic", "chat.basic", Outcome::Pass),
            result("t", "chat/stop", "chat.stop", Outcome::Pass),
            result("t", "tools/parallel", "tools.parallel", Outcome::Fail),
            result("t", "tools/named", "tools.choice", Outcome::Fail),
        ])
    }

    #[test]
    fn regression_improvement_known_and_new() {
        let base = baseline::from_report(&before(), "before.json");
        let now = report(vec![
            result("t", "chat/basic", "chat.basic", Outcome::Fail),
            result("t", "chat/stop", "chat.stop", Outcome::Pass),
            result("t", "chat/new-case", "chat.stop", Outcome::Pass),
            result("t", "tools/parallel", "tools.parallel", Outcome::Pass),
            result("t", "tools/named", "tools.choice", Outcome::Fail),
            result("t", "tools/other", "tools.choice", Outcome::Error),
            result("t", "embeddings/one", "embeddings.single", Outcome::Fail),
            result("u", "chat/basic", "chat.basic", Outcome::Pass),
        ]);
        let s = compare(&now, &base, &opts(FailOn::Regression));
        let cells = |v: &[CellChange]| -> Vec<String> {
            v.iter()
                .map(|c| format!("{} {}", c.target, c.feature))
                .collect()
        };
        assert_eq!(cells(&s.regressions), ["t chat.basic"]);
        assert_eq!(
            s.regressions[0].reason.as_deref(),
            Some("chat/basic is fail")
        );
        assert_eq!(cells(&s.improvements), ["t tools.parallel"]);
        assert_eq!(cells(&s.known), ["t tools.choice"]);
        let new: Vec<String> = s
            .new_failures
            .iter()
            .map(|n| format!("{} {}/{}", n.target, n.suite, n.case))
            .collect();
        assert_eq!(new, ["t tools/other", "t embeddings/one"]);
        assert!(!s.passed);
    }

    #[test]
    fn fail_on_levels() {
        let base = baseline::from_report(&before(), "before.json");
        let only_new = report(vec![
            result("t", "chat/basic", "chat.basic", Outcome::Pass),
            result("t", "tools/parallel", "tools.parallel", Outcome::Fail),
            result("t", "embeddings/one", "embeddings.single", Outcome::Fail),
        ]);
        assert!(compare(&only_new, &base, &opts(FailOn::Regression)).passed);
        assert!(!compare(&only_new, &base, &opts(FailOn::New)).passed);
        let only_known = report(vec![
            result("t", "chat/basic", "chat.basic", Outcome::Pass),
            result("t", "tools/parallel", "tools.parallel", Outcome::Fail),
        ]);
        assert!(compare(&only_known, &base, &opts(FailOn::New)).passed);
        assert!(!compare(&only_known, &base, &opts(FailOn::Any)).passed);
    }

    #[test]
    fn expiry_is_inclusive_of_the_day() {
        let entry = |expires: &str| Entry {
            target: "t".into(),
            feature: "chat.basic".into(),
            outcome: Outcome::Fail,
            cases: vec![],
            note: Some("tracked upstream".into()),
            expires: Some(expires.into()),
        };
        let now = report(vec![result("t", "chat/basic", "chat.basic", Outcome::Fail)]);
        for (date, passes) in [
            ("2030-06-15", true),
            ("2030-06-14", false),
            ("2031-01-01", true),
        ] {
            let base = Baseline {
                source: "b.yaml".into(),
                entries: vec![entry(date)],
                from_report: false,
                header: Default::default(),
            };
            let s = compare(&now, &base, &opts(FailOn::Regression));
            assert_eq!(s.passed, passes, "expires {date}");
            assert_eq!(s.expired.len(), usize::from(!passes));
            assert_eq!(s.known.len(), usize::from(passes));
        }
    }

    #[test]
    fn flaky_and_skipped_cells() {
        let base = baseline::from_report(&before(), "before.json");
        let mut flaky = result("t", "chat/basic", "chat.basic", Outcome::Fail);
        flaky.flaky = true;
        let now = report(vec![
            flaky,
            result("t", "chat/stop", "chat.stop", Outcome::Skip),
        ]);
        assert!(!compare(&now, &base, &opts(FailOn::Regression)).passed);
        let lenient = Options {
            allow_flaky: true,
            ..opts(FailOn::Regression)
        };
        let s = compare(&now, &base, &lenient);
        assert!(s.passed && s.regressions.is_empty(), "{s:?}");
    }
}
