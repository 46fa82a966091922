//! `llm-parity merge`: shard reports (`--shard I/N`) combined into the report of the whole run.
//!
//! Results, the feature matrix and the differences between targets are exact: every target's
//! copy of a case runs in the same shard, so a shard's differences are complete for its cases.
//! Latency percentiles cannot be recomputed from percentiles: a merged row sums the sample
//! counts, keeps the largest maximum, and takes the largest shard p50/p95 — an upper bound of
//! the true percentile of all samples (at least half of every shard's samples lie at or under
//! its p50, so at least half of all samples lie at or under the largest one).

use std::collections::BTreeMap;

use crate::report::feature_rows;
use crate::report::model::SuiteInfo;
use crate::report::model::{Difference, LatencyRow};
use crate::report::targets;
use crate::report::{CaseResult, RunReport};

/// A case's place in the suites' declaration order (suite index, case index), when known.
type CasePos = Option<(usize, Option<usize>)>;

/// The merged report and what the merge noticed (missing or mismatched shards).
#[derive(Debug)]
pub struct Merged {
    pub report: RunReport,
    pub warnings: Vec<String>,
}

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("merge needs at least one report")]
    Nothing,
    #[error(
        "{report}: duplicate result for target `{target}`, case `{case}` (also in {other}): \
         the reports overlap (the same shard twice, or not shards of one run)"
    )]
    Overlap {
        /// The report holding the second copy.
        report: String,
        target: String,
        /// `suite/case`.
        case: String,
        other: String,
    },
}

pub fn merge(reports: Vec<(String, RunReport)>) -> Result<Merged, MergeError> {
    let Some((_, first)) = reports.first() else {
        return Err(MergeError::Nothing);
    };
    let mut out = first.clone();
    out.results = Default::default();
    let mut results: Vec<CaseResult> = Vec::new();
    out.differences.clear();
    out.latency.clear();
    out.hops.clear();
    out.shard = None;
    out.baseline = None;
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let mut latency: BTreeMap<(String, String, String), LatencyRow> = BTreeMap::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (source, r) in &reports {
        if r.started_at < out.started_at {
            out.started_at = r.started_at.clone();
        }
        out.duration_ms = out.duration_ms.max(r.duration_ms);
        out.partial |= r.partial;
        if out.replayed_from.is_none() {
            out.replayed_from.clone_from(&r.replayed_from);
        }
        for t in &r.targets {
            if !out.targets.iter().any(|x| x.name == t.name) {
                out.targets.push(t.clone());
            }
        }
        for s in &r.suites {
            match out.suites.iter_mut().find(|x| x.id == s.id) {
                Some(known) => {
                    for c in &s.cases {
                        if !known.cases.contains(c) {
                            known.cases.push(c.clone());
                        }
                    }
                }
                None => out.suites.push(s.clone()),
            }
        }
        for res in &r.results {
            let key = (res.target.clone(), res.suite.clone(), res.case.clone());
            if let Some(other) = seen.insert(key, source.clone()) {
                return Err(MergeError::Overlap {
                    report: source.clone(),
                    target: res.target.clone(),
                    case: format!("{}/{}", res.suite, res.case),
                    other,
                });
            }
            let mut res = res.into_owned();
            // A report written before impacts were recorded gets them now, from its checks.
            crate::report::impact::assess_entry(&mut res);
            results.push(res);
        }
        for d in &r.differences {
            if !out
                .differences
                .iter()
                .any(|x| x.suite == d.suite && x.case == d.case)
            {
                out.differences.push(d.clone());
            }
        }
        for row in &r.latency {
            let key = (row.target.clone(), row.area.clone(), row.metric.clone());
            latency
                .entry(key)
                .and_modify(|m| {
                    m.count += row.count;
                    m.p50_ms = m.p50_ms.max(row.p50_ms);
                    m.p95_ms = m.p95_ms.max(row.p95_ms);
                    m.max_ms = m.max_ms.max(row.max_ms);
                })
                .or_insert_with(|| row.clone());
        }
        for h in &r.hops {
            let pair = (h.router.clone(), h.upstream.clone());
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    // Plan order: target, then suite and case as the suites declare them.
    let target_pos = |t: &str| out.targets.iter().position(|x| x.name == t);
    let case_pos = |suites: &[SuiteInfo], s: &str, c: &str| {
        suites.iter().position(|x| x.id == s).map(|si| {
            let ci = suites[si].cases.iter().position(|x| x == c);
            (si, ci)
        })
    };
    let mut keyed: Vec<_> = results
        .into_iter()
        .map(|r| {
            (
                target_pos(&r.target),
                case_pos(&out.suites, &r.suite, &r.case),
                r,
            )
        })
        .collect();
    keyed.sort_by_key(|a| (a.0, a.1)); // stable: reports without their loaded suites keep their order
    let results: Vec<CaseResult> = keyed.into_iter().map(|(.., r)| r).collect();
    let mut diffs: Vec<(CasePos, Difference)> = out
        .differences
        .iter()
        .map(|d| (case_pos(&out.suites, &d.suite, &d.case), d.clone()))
        .collect();
    diffs.sort_by_key(|a| a.0);
    out.differences = diffs.into_iter().map(|(_, d)| d).collect();
    out.features = feature_rows(&results);
    out.results = results.into();
    out.latency = latency.into_values().collect();
    out.hops = targets::hops(&out.latency, &pairs);
    Ok(Merged {
        warnings: shard_warnings(&reports),
        report: out,
    })
}

/// Merging is allowed with shards missing (a failed runner); say so.
fn shard_warnings(reports: &[(String, RunReport)]) -> Vec<String> {
    let shards: Vec<_> = reports.iter().filter_map(|(_, r)| r.shard).collect();
    if shards.is_empty() {
        return vec![];
    }
    let mut out = Vec::new();
    if shards.len() < reports.len() {
        out.push("some reports are not shards (run without --shard)".to_string());
    }
    let n = shards[0].count;
    if shards.iter().any(|s| s.count != n) {
        out.push(
            "the reports are shards of different counts (--shard I/N with different N)".into(),
        );
        return out;
    }
    let missing: Vec<String> = (1..=n)
        .filter(|i| !shards.iter().any(|s| s.index == *i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "shard(s) {} missing: the merged report covers only part of the run",
            missing.join(", ")
        ));
    }
    out
}
