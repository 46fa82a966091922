//! What the report says across targets: where they disagree (with the structural diff of their
//! responses' shapes), what each costs in latency, and what a router hop adds over the target it
//! routes to.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::model::{Difference, HopLatency, LatencyRow, ShapeDiff};
use crate::judge::Outcome;
use crate::judge::{CaseOutcome, FinishedCase};
use crate::load::feature::area_of;
use crate::load::{Case, Target};
use crate::util::json::{diff_shapes, shape};

/// What comparing targets needs of one finished case, kept after its raw exchanges are dropped
/// (only in a run of more than one target: with one, nothing differs across targets).
#[derive(Debug, Clone)]
pub struct CaseDigest {
    pub target: Arc<Target>,
    pub case: Arc<Case>,
    pub outcome: Outcome,
    /// The case's reason when it did not pass.
    pub reason: Option<String>,
    /// What the response's shape was taken from (`response body`, `first stream chunk`), and
    /// that shape (see [`shape`]) as compact JSON, shared by every case of the same shape.
    pub shape: Option<(&'static str, Arc<str>)>,
    /// What the last response was, in a few words (`200 chat.completion`), and whether its
    /// status was a success.
    pub label: Option<(String, bool)>,
}

impl CaseDigest {
    /// `shapes` interns the shapes seen so far: thousands of cases answered in one shape keep
    /// one copy of it.
    pub fn of(r: &FinishedCase, outcome: &CaseOutcome, shapes: &mut HashSet<Arc<str>>) -> Self {
        let mut intern = |text: String| match shapes.get(text.as_str()) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = text.into();
                shapes.insert(s.clone());
                s
            }
        };
        CaseDigest {
            label: label(r),
            target: r.target.clone(),
            case: r.case.clone(),
            outcome: outcome.outcome,
            reason: outcome.reason.clone(),
            shape: shape_subject(r).map(|(subject, v)| (subject, intern(shape(&v).to_string()))),
        }
    }
}

/// (suite, case)
type CaseKey = (String, String);

/// Cases whose outcomes disagree across targets, and cases that do not pass on any target but
/// whose responses differ in shape (a router rewriting the upstream's error body).
pub fn differences(digests: &[CaseDigest]) -> Vec<Difference> {
    // (suite, case) → target → last digest (the last repeat stands for the case)
    let mut by_case: Vec<(CaseKey, BTreeMap<String, &CaseDigest>)> = Vec::new();
    // Position of each case in `by_case` (first-seen order kept; no linear search per case).
    let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in digests {
        match index.get(&(&*r.case.suite, &*r.case.id)) {
            Some(&i) => {
                by_case[i].1.insert(r.target.name.clone(), r);
            }
            None => {
                index.insert((&r.case.suite, &r.case.id), by_case.len());
                let key = (r.case.suite.to_string(), r.case.id.to_string());
                by_case.push((key, BTreeMap::from([(r.target.name.clone(), r)])));
            }
        }
    }
    let mut out = Vec::new();
    for ((suite, case), per_target) in by_case {
        if per_target.len() < 2 {
            continue;
        }
        let outcomes: BTreeMap<String, Outcome> = per_target
            .iter()
            .map(|(t, r)| (t.clone(), r.outcome))
            .collect();
        let first = outcomes.values().next().copied();
        let same = outcomes.values().all(|o| Some(*o) == first);
        if same && matches!(first, Some(Outcome::Pass | Outcome::Skip)) {
            continue;
        }
        let mut shape_diffs = Vec::new();
        // Compared with the passing target, or with the first when none passes.
        let base = per_target
            .iter()
            .find(|(_, r)| r.outcome == Outcome::Pass)
            .or_else(|| per_target.iter().next());
        if let Some((pass_name, pass)) = base {
            for (other_name, other) in per_target
                .iter()
                .filter(|(n, r)| *n != pass_name && r.outcome != Outcome::Pass)
            {
                if let (Some((subject, a)), Some((_, b))) = (&pass.shape, &other.shape) {
                    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
                    let diff = diff_shapes(pass_name, &parse(a), other_name, &parse(b));
                    if !diff.is_empty() {
                        let summary = match (&pass.label, &other.label) {
                            (Some((a, true)), Some((b, false))) => Some(format!("{a} vs {b}")),
                            _ => None,
                        };
                        shape_diffs.push(ShapeDiff {
                            pass: pass_name.to_string(),
                            other: other_name.to_string(),
                            subject: subject.to_string(),
                            diff,
                            summary,
                        });
                    }
                }
            }
        }
        if same && shape_diffs.is_empty() {
            continue;
        }
        let feature = per_target
            .values()
            .next()
            .map(|r| r.case.feature.to_string())
            .unwrap_or_default();
        let reasons = per_target
            .iter()
            .filter_map(|(t, r)| Some((t.clone(), r.reason.clone()?)))
            .collect();
        out.push(Difference {
            feature,
            suite,
            case,
            outcomes,
            reasons,
            shape_diffs,
        });
    }
    out
}

/// The JSON whose shape stands for a case's response: the body of its last exchange, or the
/// first data chunk of a stream.
fn shape_subject(r: &FinishedCase) -> Option<(&'static str, Cow<'_, Value>)> {
    let resp = r.steps.last()?.exchange.response.as_ref()?;
    if let Some(j) = &resp.json {
        return Some(("response body", Cow::Borrowed(j)));
    }
    let first = resp.stream.as_ref()?.first_json()?;
    Some(("first stream chunk", Cow::Owned(first)))
}

/// `200 chat.completion`, `400 error envelope`: the status of a case's last response and what
/// its body is (its `object`, an error envelope — bare or list-wrapped —, a stream), with
/// whether the status is a success.
fn label(r: &FinishedCase) -> Option<(String, bool)> {
    let resp = r.steps.last()?.exchange.response.as_ref()?;
    let what = match &resp.json {
        Some(j) => {
            let first = match j {
                Value::Array(items) => items.first().unwrap_or(j),
                _ => j,
            };
            // An object says what it is first: a Responses `response` carries `"error": null`.
            if let Some(o) = first.get("object").and_then(Value::as_str) {
                o.to_string()
            } else if first.get("error").is_some_and(|e| !e.is_null()) {
                "error envelope".to_string()
            } else {
                "JSON body".to_string()
            }
        }
        None if resp.stream.is_some() => "stream".to_string(),
        None => "non-JSON body".to_string(),
    };
    Some((
        format!("{} {what}", resp.status),
        (200..300).contains(&resp.status),
    ))
}

/// p50/p95/max of headers, TTFT and total per target and area (and `all`).
/// The latency samples of a run, taken as cases finish: time to headers, to the first content
/// event and in total of every step that got a response, by target and area (and `all`).
/// Percentiles need every sample, 16 bytes per sample and metric; nothing else of a case is kept.
#[derive(Debug, Default)]
pub struct Latency {
    /// target → area → samples of `headers`, `ttft`, `total`
    samples: BTreeMap<String, BTreeMap<String, [Vec<f64>; 3]>>,
}

const METRICS: [&str; 3] = ["headers", "ttft", "total"];

impl Latency {
    pub fn add(&mut self, r: &FinishedCase) {
        let area = area_of(&r.case.feature);
        for s in r.steps.iter().filter(|s| s.exchange.response.is_some()) {
            let t = &s.exchange.timings;
            for a in [area, "all"] {
                let per_target = match self.samples.get_mut(r.target.name.as_str()) {
                    Some(m) => m,
                    None => self.samples.entry(r.target.name.clone()).or_default(),
                };
                let per_area = match per_target.get_mut(a) {
                    Some(v) => v,
                    None => per_target.entry(a.to_string()).or_default(),
                };
                for (v, value) in
                    per_area
                        .iter_mut()
                        .zip([t.headers_ms, t.ttft_ms, Some(t.total_ms)])
                {
                    v.extend(value);
                }
            }
        }
    }

    /// One row per target, area and metric that has samples, in that order (metrics by name).
    pub fn rows(self) -> Vec<LatencyRow> {
        let mut rows: Vec<LatencyRow> = Vec::new();
        for (target, areas) in self.samples {
            for (area, metrics) in areas {
                for (metric, mut v) in METRICS.into_iter().zip(metrics) {
                    if v.is_empty() {
                        continue;
                    }
                    v.sort_by(f64::total_cmp);
                    rows.push(LatencyRow {
                        target: target.clone(),
                        area: area.clone(),
                        metric: metric.to_string(),
                        count: v.len(),
                        p50_ms: round(percentile(&v, 50.0)),
                        p95_ms: round(percentile(&v, 95.0)),
                        max_ms: round(*v.last().unwrap_or(&0.0)),
                    });
                }
            }
        }
        // The order the rows always had: by target, area, then metric name.
        rows.sort_by(|a, b| (&a.target, &a.area, &a.metric).cmp(&(&b.target, &b.area, &b.metric)));
        rows
    }
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Router hop overhead: the difference of the `all`-area percentiles of each router and its
/// upstream, for every metric both have.
pub fn hops(rows: &[LatencyRow], pairs: &[(String, String)]) -> Vec<HopLatency> {
    let mut out = Vec::new();
    for (router, upstream) in pairs {
        for metric in ["headers", "ttft", "total"] {
            let find = |t: &str| {
                rows.iter()
                    .find(|r| r.target == t && r.area == "all" && r.metric == metric)
            };
            if let (Some(r), Some(u)) = (find(router), find(upstream)) {
                out.push(HopLatency {
                    router: router.clone(),
                    upstream: upstream.clone(),
                    metric: metric.to_string(),
                    p50_delta_ms: round(r.p50_ms - u.p50_ms),
                    p95_delta_ms: round(r.p95_ms - u.p95_ms),
                    samples_router: r.count,
                    samples_upstream: u.count,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
