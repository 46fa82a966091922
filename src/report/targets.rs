//! What the report says across targets: where they disagree (with the structural diff of their
//! responses' shapes), what each costs in latency, and what a router hop adds over the target it
//! routes to.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::model::{Difference, HopLatency, LatencyRow, ShapeDiff};
use crate::judge::Outcome;
use crate::judge::{CaseOutcome, FinishedCase};
use crate::load::feature::area_of;
use crate::load::{Case, Target};
use crate::util::intern::intern;
use crate::util::json::{diff_shapes, shape};

/// What comparing targets needs of one finished case, kept after its raw exchanges are dropped
/// (only in a run of more than one target: with one, nothing differs across targets).
#[derive(Debug, Clone)]
struct CaseDigest {
    target: Arc<Target>,
    case: Arc<Case>,
    outcome: Outcome,
    /// The case's reason when it did not pass.
    reason: Option<Box<str>>,
    /// What the response's shape was taken from (`response body`, `first stream chunk`), and
    /// that shape (see [`shape`]) as compact JSON, shared by every case of the same shape.
    shape: Option<(&'static str, Arc<str>)>,
    /// What the last response was, in a few words (`200 chat.completion`), and whether its
    /// status was a success; shared like the shape.
    label: Option<(Arc<str>, bool)>,
}

impl CaseDigest {
    /// `texts` interns the shapes and labels seen so far: thousands of cases answered in one
    /// shape keep one copy of it.
    fn of(r: &FinishedCase, outcome: &CaseOutcome, texts: &mut HashSet<Arc<str>>) -> Self {
        CaseDigest {
            label: label(r).map(|(text, ok)| (intern(texts, &text), ok)),
            target: r.target.clone(),
            case: r.case.clone(),
            outcome: outcome.outcome,
            reason: outcome.reason.as_deref().map(Box::from),
            shape: shape_subject(r)
                .map(|(subject, v)| (subject, intern(texts, &shape(&v).to_string()))),
        }
    }
}

/// The cases whose outcomes disagree across targets, and those that do not pass on any target
/// but whose responses differ in shape (a router rewriting the upstream's error body), taken
/// case by case as the run hands them over.
///
/// When every case reaches each target once (a spooled run), a case is compared as soon as
/// its last target reports it and only a difference is kept: what the run holds is the cases
/// some target has not finished yet, not every case of every target. With repeats, the last
/// repeat on each target stands for the case, so every case waits for the end of the run.
#[derive(Debug)]
pub struct Comparison {
    targets: usize,
    /// Each case reaches each target once: compare it when all of them have reported it.
    once: bool,
    /// The cases not compared yet: by case, the plan index of its first entry and, per target,
    /// its latest digest (with its plan index).
    pending: HashMap<ByCase, (usize, Vec<(usize, CaseDigest)>)>,
    /// Response shapes and labels seen so far (see [`CaseDigest::of`]).
    texts: HashSet<Arc<str>>,
    /// (plan index of the case's first entry, the difference).
    found: Vec<(usize, Difference)>,
}

/// A digest's case, compared by suite and case id.
#[derive(Debug)]
struct ByCase(Arc<Case>);

impl PartialEq for ByCase {
    fn eq(&self, other: &Self) -> bool {
        self.0.suite == other.0.suite && self.0.id == other.0.id
    }
}

impl Eq for ByCase {}

impl std::hash::Hash for ByCase {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&*self.0.suite, &*self.0.id).hash(state);
    }
}

impl Comparison {
    /// A run on `targets` targets.
    pub fn new(targets: usize) -> Self {
        Comparison {
            targets,
            once: false,
            pending: HashMap::new(),
            texts: HashSet::new(),
            found: Vec::new(),
        }
    }

    /// Every case reaches each target once from now on (a spooled run): a case is compared as
    /// soon as its last target reports it.
    pub fn every_case_once(&mut self) {
        self.once = true;
    }

    /// Plan entry `idx`, finished with `outcome` (entries may arrive in any order, a case's
    /// repeats on one target in plan order).
    pub fn add(&mut self, idx: usize, rec: &FinishedCase, outcome: &CaseOutcome) {
        let digest = CaseDigest::of(rec, outcome, &mut self.texts);
        let mut entry = match self.pending.entry(ByCase(digest.case.clone())) {
            Entry::Occupied(e) => e,
            Entry::Vacant(e) => e.insert_entry((idx, Vec::with_capacity(self.targets))),
        };
        let (first, per_target) = entry.get_mut();
        *first = (*first).min(idx);
        match per_target
            .iter_mut()
            .find(|(_, d)| d.target.name == digest.target.name)
        {
            // The last repeat stands for the case.
            Some(entry) if entry.0 < idx => *entry = (idx, digest),
            Some(_) => {}
            None => per_target.push((idx, digest)),
        }
        if self.once && per_target.len() >= self.targets {
            let (first, per_target) = entry.remove();
            self.compare(first, per_target);
        }
    }

    fn compare(&mut self, first: usize, per_target: Vec<(usize, CaseDigest)>) {
        let per_target: BTreeMap<&str, &CaseDigest> = per_target
            .iter()
            .map(|(_, d)| (d.target.name.as_str(), d))
            .collect();
        if let Some(d) = difference(&per_target) {
            self.found.push((first, d));
        }
    }

    /// How many cases wait for a target (for the tests).
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Every difference, in the order of the cases' first plan entries.
    pub fn finish(mut self) -> Vec<Difference> {
        for (_, (first, per_target)) in std::mem::take(&mut self.pending) {
            self.compare(first, per_target);
        }
        self.found.sort_by_key(|(first, _)| *first);
        self.found.into_iter().map(|(_, d)| d).collect()
    }
}

/// How one case's digests (its latest on each target, by target name) differ, if they do.
fn difference(per_target: &BTreeMap<&str, &CaseDigest>) -> Option<Difference> {
    if per_target.len() < 2 {
        return None;
    }
    let outcomes: BTreeMap<String, Outcome> = per_target
        .iter()
        .map(|(t, r)| (t.to_string(), r.outcome))
        .collect();
    let first = outcomes.values().next().copied();
    let same = outcomes.values().all(|o| Some(*o) == first);
    if same && matches!(first, Some(Outcome::Pass | Outcome::Skip)) {
        return None;
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
        return None;
    }
    let any = per_target.values().next()?;
    let reasons = per_target
        .iter()
        .filter_map(|(t, r)| Some((t.to_string(), r.reason.as_deref()?.to_string())))
        .collect();
    Some(Difference {
        feature: any.case.feature.to_string(),
        suite: any.case.suite.to_string(),
        case: any.case.id.to_string(),
        outcomes,
        reasons,
        shape_diffs,
    })
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
