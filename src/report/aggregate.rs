//! Aggregating a run's entries: the feature matrix, and the repeats of a case merged into one
//! entry.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};

use super::model::{CaseResult, FeatureRow};
use super::results::Results;
use crate::judge::{CaseOutcome, Ending, Outcome, case_outcome};
use crate::load::feature::{area_of, sort_by_area};

/// Features in first-seen order; each cell the most severe outcome of its cases, and the worst
/// impact of its failing ones.
pub fn feature_rows<R: Borrow<CaseResult>>(
    results: impl IntoIterator<Item = R>,
) -> Vec<FeatureRow> {
    let mut rows = FeatureRows::default();
    for (i, r) in results.into_iter().enumerate() {
        rows.add(i, r.borrow());
    }
    rows.finish()
}

/// The feature matrix built entry by entry, in any order: each row remembers the first place
/// in the report that evidenced it (cells take the most severe outcome and the worst impact,
/// which do not depend on the order).
#[derive(Default)]
pub struct FeatureRows {
    /// (first report index, row)
    rows: Vec<(usize, FeatureRow)>,
    index: HashMap<String, usize>,
}

impl FeatureRows {
    /// Take the entry at report index `idx`.
    pub fn add(&mut self, idx: usize, r: &CaseResult) {
        let at = match self.index.get(r.feature.as_str()) {
            Some(&i) => i,
            None => {
                self.index.insert(r.feature.clone(), self.rows.len());
                self.rows.push((
                    idx,
                    FeatureRow {
                        feature: r.feature.clone(),
                        outcomes: BTreeMap::new(),
                        impacts: BTreeMap::new(),
                    },
                ));
                self.rows.len() - 1
            }
        };
        let (first, row) = &mut self.rows[at];
        *first = (*first).min(idx);
        let cell = row.outcomes.entry(r.target.clone()).or_insert(r.outcome);
        if r.outcome.severity() > cell.severity() {
            *cell = r.outcome;
        }
        if let Some(i) = r.impact.filter(|_| r.outcome.is_failure()) {
            let worst = row.impacts.entry(r.target.clone()).or_insert(i);
            *worst = (*worst).max(i);
        }
    }

    /// The rows grouped by area in the order of `load::feature::AREAS`, first-seen order inside
    /// an area.
    pub fn finish(mut self) -> Vec<FeatureRow> {
        self.rows.sort_by_key(|(first, _)| *first);
        let mut rows: Vec<FeatureRow> = self.rows.into_iter().map(|(_, r)| r).collect();
        sort_by_area(&mut rows, |r| area_of(&r.feature));
        rows
    }
}

/// Cases skipped because their target (or `target` alone) has no model for a role: each role
/// with its count, most first (ties in role order).
pub fn missing_models(results: &Results, target: Option<&str>) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    // Only skipped entries can name a missing model: the others are not read back.
    for r in results
        .iter_where(|s| s.outcome == Outcome::Skip)
        .filter(|r| target.is_none_or(|t| r.target == t))
    {
        if let Some(role) = &r.missing_model {
            match counts.iter_mut().find(|(x, _)| x == role) {
                Some(c) => c.1 += 1,
                None => counts.push((role.clone(), 1)),
            }
        }
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counts
}

/// `27 skipped: no model for embedding, vision, audio` (`None` when nothing was).
pub fn missing_models_line(results: &Results, target: Option<&str>) -> Option<String> {
    let missing = missing_models(results, target);
    if missing.is_empty() {
        return None;
    }
    let n: usize = missing.iter().map(|(_, n)| n).sum();
    let roles: Vec<&str> = missing.iter().map(|(r, _)| r.as_str()).collect();
    Some(format!("{n} skipped: no model for {}", roles.join(", ")))
}

/// One result per (target, suite, case): the repeats of a case merged into the entry of the
/// run that stands for it, with the outcome and reason `judge::case_outcome` derives from all
/// of them.
pub(super) fn merge_repeats(results: Vec<(CaseResult, Ending)>) -> Vec<CaseResult> {
    // Without `--repeat` every key is distinct: nothing to merge, nothing to copy.
    let mut seen = std::collections::HashSet::with_capacity(results.len());
    if results
        .iter()
        .all(|(r, _)| seen.insert((r.target.as_str(), r.suite.as_str(), r.case.as_str())))
    {
        return results.into_iter().map(|(r, _)| r).collect();
    }
    drop(seen);
    let mut groups: Vec<Vec<(CaseResult, Ending)>> = Vec::new();
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (r, e) in results {
        let key = (r.target.clone(), r.suite.clone(), r.case.clone());
        match index.get(&key) {
            Some(&i) => groups[i].push((r, e)),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![(r, e)]);
            }
        }
    }
    groups
        .into_iter()
        .map(|g| {
            if g.len() == 1 {
                return g.into_iter().next().expect("one").0;
            }
            let (entries, endings): (Vec<CaseResult>, Vec<Ending>) = g.into_iter().unzip();
            let outcome = case_outcome(&endings);
            let mut res = entries
                .into_iter()
                .nth(outcome.stands_for)
                .expect("index in range");
            set_outcome(&mut res, outcome);
            res
        })
        .collect()
}

/// A report entry's outcome, reason and repeat fields, as `judge::case_outcome` derived them,
/// and the impact that follows from the outcome and the entry's checks.
pub(super) fn set_outcome(r: &mut CaseResult, o: CaseOutcome) {
    r.outcome = o.outcome;
    r.impact = super::impact::of_case(o.outcome, &r.checks);
    r.reason = o.reason;
    r.repeats = o.repeats;
    r.flaky = o.flaky;
}
