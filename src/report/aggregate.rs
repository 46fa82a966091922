//! Aggregating a run's entries: the feature matrix, and the repeats of a case merged into one
//! entry.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};

use super::entry::Brief;
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

/// The roles each target had no model for, each with how many cases it skipped: read in one
/// pass over the skipped entries (a spooled run reads only those back, once).
pub struct MissingModels(BTreeMap<String, BTreeMap<String, usize>>);

impl MissingModels {
    pub fn of(results: &Results) -> Self {
        let mut by_target: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        let skipped = results.indexes_where(|s| s.outcome == Outcome::Skip);
        results.each::<Brief>(skipped, |r| {
            if let Some(role) = &r.missing_model {
                *by_target
                    .entry(r.target.to_string())
                    .or_default()
                    .entry(role.to_string())
                    .or_default() += 1;
            }
        });
        MissingModels(by_target)
    }

    /// `27 skipped: no model for embedding, vision, audio` for `target` (or the whole run),
    /// roles most first; `None` when nothing was skipped for a missing model.
    pub fn line(&self, target: Option<&str>) -> Option<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, roles) in self
            .0
            .iter()
            .filter(|(t, _)| target.is_none_or(|x| x == *t))
        {
            for (role, n) in roles {
                *counts.entry(role).or_default() += n;
            }
        }
        if counts.is_empty() {
            return None;
        }
        let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let n: usize = counts.iter().map(|(_, n)| n).sum();
        let roles: Vec<&str> = counts.iter().map(|(r, _)| *r).collect();
        Some(format!("{n} skipped: no model for {}", roles.join(", ")))
    }
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
    r.step = o.step;
    r.repeats = o.repeats;
    r.flaky = o.flaky;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::entry;

    fn skipped(target: &str, case: &str, role: Option<&str>) -> CaseResult {
        CaseResult {
            missing_model: role.map(str::to_string),
            ..entry(target, "s", case, "chat.basic", Outcome::Skip)
        }
    }

    #[test]
    fn missing_models_are_counted_by_target_and_role_most_first() {
        let results: Results = vec![
            skipped("a", "1", Some("vision")),
            skipped("a", "2", Some("embedding")),
            skipped("a", "3", Some("embedding")),
            skipped("b", "1", Some("audio")),
            // Skipped for another reason (opt-in, declared unsupported): not counted.
            skipped("b", "2", None),
            entry("b", "s", "3", "chat.basic", Outcome::Pass),
        ]
        .into();
        let m = MissingModels::of(&results);
        assert_eq!(
            m.line(Some("a")).as_deref(),
            Some("3 skipped: no model for embedding, vision")
        );
        assert_eq!(
            m.line(Some("b")).as_deref(),
            Some("1 skipped: no model for audio")
        );
        // The whole run, ties in role name order.
        assert_eq!(
            m.line(None).as_deref(),
            Some("4 skipped: no model for embedding, audio, vision")
        );
        assert_eq!(m.line(Some("c")), None);
        assert_eq!(MissingModels::of(&Results::default()).line(None), None);
    }
}
