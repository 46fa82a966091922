//! The report model: the machine contract (`report.json`, `schemas/report.schema.json`) and the
//! one input of every renderer. Built once from the run's records; redaction happens here, so no
//! renderer ever sees a secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compare::{self, Difference, HopLatency, LatencyRow};
use crate::execute::exchange::{Exchange, Timings};
use crate::execute::stream::StreamCut;
use crate::judge::FinishedCase;
use crate::judge::{CaseOutcome, CheckResult, CheckStatus, Ending, Outcome, case_outcome};
use crate::load::Target;
use crate::load::feature::{area_of, sort_by_area};
use crate::redact::Redactor;
use crate::util::text::excerpt;

pub const SCHEMA_VERSION: u32 = 1;

/// Bodies kept in the report are cut at this many characters (the report stays readable and
/// small; the full exchange belongs in a recording).
const BODY_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub started_at: String,
    pub duration_ms: u64,
    /// True when the run was interrupted: `results` holds only the cases that finished.
    #[serde(default)]
    pub partial: bool,
    /// `--report-bodies`: which exchanges kept their headers and bodies (absent: all).
    #[serde(default, skip_serializing_if = "BodyPolicy::is_all")]
    pub report_bodies: BodyPolicy,
    pub targets: Vec<TargetInfo>,
    pub results: Vec<CaseResult>,
    pub features: Vec<FeatureRow>,
    /// Cases whose outcome differs between targets, with the shape diffs of their responses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// Latency per target and area (`all` included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency: Vec<LatencyRow>,
    /// Latency a router adds over the target it routes to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<HopLatency>,
    /// The suites the run loaded, every case listed (for `baseline prune` and `merge`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<SuiteInfo>,
    /// `--shard I/N`: which part of the run this report holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// `--baseline`: the run compared with the baseline (rendered first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetInfo {
    pub name: String,
    pub base_url: String,
    pub models: BTreeMap<String, String>,
    /// The name of the variable holding the key (never the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaseResult {
    pub target: String,
    pub suite: String,
    pub case: String,
    pub feature: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// Status of the last response received, if any.
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Timings of the last exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
    /// Every check that did not pass (passing ones are counted, not listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    #[serde(default)]
    pub checks_passed: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<ExchangeSummary>,
    /// Outcome of each repeat (`--repeat K`, K > 1); `outcome` is the most severe of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<Outcome>,
    /// Passed on some repeats and failed or errored on others.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSummary {
    pub step: String,
    pub method: String,
    pub url: String,
    pub request_headers: HeaderList,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<JsonText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "HeaderList::is_empty")]
    pub response_headers: HeaderList,
    /// The response body (JSON when it parsed, otherwise text, cut at 16 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<JsonText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_error: Option<String>,
    /// What a stream sent beyond what one exchange keeps: counted, not kept or judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_cut: Option<StreamCut>,
    /// Every attempt, when the exchange was retried (`--retries`); the last one is the exchange.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AttemptSummary {
    /// 1-based.
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// `HTTP 429`, `HTTP 503`, `connection failed`, or `retry::RESENT` (the one re-send of a
    /// connection closed before any response byte); absent for the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried_because: Option<String>,
    /// The wait before the next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `retry_after` (the endpoint's `Retry-After`, capped) or `backoff` (jittered exponential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureRow {
    pub feature: String,
    /// Target name → the most severe outcome among the cases evidencing the feature.
    pub outcomes: BTreeMap<String, Outcome>,
}

/// A suite the run loaded, with every case id in declaration order (whether or not a filter or
/// a shard selected it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SuiteInfo {
    pub id: String,
    pub cases: Vec<String>,
}

/// `--shard I/N`: this run holds shard `index` of `count`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
}

/// `--fail-on`: what fails a run that has a baseline.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailOn {
    /// A feature × target that passed in the baseline and now does not (and expired entries).
    #[default]
    Regression,
    /// A regression, or a case not in the baseline that fails.
    New,
    /// Any failing case, as without a baseline (the comparison is still reported).
    Any,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Regression => "regression",
            FailOn::New => "new",
            FailOn::Any => "any",
        }
    }
}

/// The run compared with a baseline: rendered first by every report format.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaselineSection {
    /// The baseline file (or report) compared against.
    pub source: String,
    pub fail_on: FailOn,
    /// The gate's decision under `fail_on`.
    pub passed: bool,
    /// Passed in the baseline, does not pass now: these fail the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regressions: Vec<CellChange>,
    /// Accepted deviations whose `expires` date has passed and that still do not pass: these
    /// fail the run again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired: Vec<CellChange>,
    /// Failing cases the baseline does not know (a new case, feature or target).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_failures: Vec<NewFailure>,
    /// Did not pass in the baseline, passes now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub improvements: Vec<CellChange>,
    /// Did not pass in the baseline and still does not: known deviations, listed, not failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known: Vec<CellChange>,
}

/// One feature × target cell of the matrix, then and now.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CellChange {
    pub target: String,
    pub feature: String,
    pub baseline: Outcome,
    pub now: Outcome,
    /// The cell's cases that do not pass now (`suite/case`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<String>,
    /// The reason of the first case that does not pass now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The baseline entry's note (e.g. "known Gemini deviation, tracked upstream").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The baseline entry's expiry date (`YYYY-MM-DD`, accepted through that day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A failing case the baseline does not know.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewFailure {
    pub target: String,
    pub suite: String,
    pub case: String,
    pub feature: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl BaselineSection {
    /// One line for the terminal and logs: what changed, counted.
    pub fn summary(&self) -> String {
        format!(
            "{} regression(s), {} expired, {} new failure(s), {} improvement(s), {} known deviation(s)",
            self.regressions.len(),
            self.expired.len(),
            self.new_failures.len(),
            self.improvements.len(),
            self.known.len()
        )
    }
}

impl RunReport {
    pub fn target_names(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.name.as_str()).collect()
    }
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| r.outcome.is_failure())
    }
    /// Whether the run passes the gate: no fail or error outcome (flaky ones excused when
    /// `allow_flaky`).
    pub fn gate_passes(&self, allow_flaky: bool) -> bool {
        self.failures().all(|r| allow_flaky && r.flaky)
    }
    pub fn count(&self, o: Outcome) -> usize {
        self.results.iter().filter(|r| r.outcome == o).count()
    }
    /// Whether the run passes the gate with no exemptions.
    pub fn passed(&self) -> bool {
        self.gate_passes(false)
    }
}

/// Everything the report needs besides the cases.
pub struct RunMeta<'a> {
    pub started_at: String,
    pub duration_ms: u64,
    pub partial: bool,
    pub targets: &'a [std::sync::Arc<Target>],
    /// (router, upstream) pairs whose hop latency to report.
    pub hop_pairs: Vec<(String, String)>,
}

/// How much of each exchange the report keeps (`--report-bodies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyPolicy {
    /// Headers and bodies of every exchange.
    #[default]
    All,
    /// Headers and bodies only for cases that did not pass; passing ones keep method, URL,
    /// status, timings and attempts.
    Failures,
    /// No headers or bodies at all.
    None,
}

impl BodyPolicy {
    pub fn is_all(&self) -> bool {
        *self == BodyPolicy::All
    }

    /// The flag's value (`all`, `failures`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            BodyPolicy::All => "all",
            BodyPolicy::Failures => "failures",
            BodyPolicy::None => "none",
        }
    }

    /// Whether a case with this outcome keeps its headers and bodies.
    pub fn keeps(self, outcome: Outcome) -> bool {
        match self {
            BodyPolicy::All => true,
            BodyPolicy::Failures => outcome != Outcome::Pass,
            BodyPolicy::None => false,
        }
    }
}

/// Builds the report case by case, as the run hands finished cases over: each case's entry is
/// made (and redacted) at once and its raw exchanges dropped, so a run holds one compact copy
/// of each case, not the exchanges and their summaries side by side.
pub struct Collector<'r> {
    redactor: &'r Redactor,
    bodies: BodyPolicy,
    /// More than one target: keep what the difference view compares.
    compare: bool,
    /// (plan index, entry, how the run ended: repeats are merged from these)
    results: Vec<(usize, CaseResult, Ending)>,
    /// (plan index, what comparing targets needs)
    digests: Vec<(usize, compare::CaseDigest)>,
    /// Response shapes seen so far (see [`compare::CaseDigest::of`]).
    shapes: std::collections::HashSet<std::sync::Arc<str>>,
}

impl<'r> Collector<'r> {
    /// `targets`: how many targets the run has.
    pub fn new(redactor: &'r Redactor, bodies: BodyPolicy, targets: usize) -> Self {
        Collector {
            redactor,
            bodies,
            compare: targets > 1,
            results: Vec::new(),
            digests: Vec::new(),
            shapes: Default::default(),
        }
    }

    /// Take a finished case (`idx` is its place in the plan; cases may arrive in any order)
    /// with how it ended and the outcome derived from that.
    pub fn add(&mut self, idx: usize, rec: &FinishedCase, ending: &Ending, outcome: &CaseOutcome) {
        let digest = compare::CaseDigest::of(rec, outcome.outcome, self.compare, &mut self.shapes);
        let entry = case_result(rec, outcome, self.bodies.keeps(outcome.outcome));
        // An ending with text (a reason from the endpoint) is redacted like the entry.
        let ending = match ending {
            Ending::Ran {
                stopped: None,
                failed_after: None,
                ..
            } => ending.clone(),
            _ => self.redactor.value(ending.clone()),
        };
        self.results.push((idx, self.redactor.value(entry), ending));
        self.digests.push((idx, digest));
    }

    /// The report of every case taken, in plan order.
    pub fn finish(self, meta: &RunMeta<'_>) -> RunReport {
        let Collector {
            redactor,
            bodies,
            mut results,
            mut digests,
            ..
        } = self;
        results.sort_by_key(|(idx, ..)| *idx);
        digests.sort_by_key(|(idx, _)| *idx);
        // Collected in place (same allocation): no second copy of the entries.
        let results: Vec<(CaseResult, Ending)> =
            results.into_iter().map(|(_, r, e)| (r, e)).collect();
        let digests: Vec<compare::CaseDigest> = digests.into_iter().map(|(_, d)| d).collect();
        let latency = compare::latency(&digests);
        let hops = compare::hops(&latency, &meta.hop_pairs);
        let differences = compare::differences(&digests);
        drop(digests);
        let results = merge_repeats(results);
        // Results were redacted as they came in: everything else is redacted here.
        let mut report = redactor.value(RunReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "llm-parity".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            started_at: meta.started_at.clone(),
            duration_ms: meta.duration_ms,
            partial: meta.partial,
            report_bodies: bodies,
            targets: meta
                .targets
                .iter()
                .map(|t| TargetInfo {
                    name: t.name.clone(),
                    base_url: t.base_url.to_string(),
                    models: t.models.clone(),
                    api_key_env: t.auth.key_env().map(str::to_string),
                    via: t.via.clone(),
                })
                .collect(),
            features: feature_rows(&results),
            results: vec![],
            differences: vec![],
            latency,
            hops,
            suites: vec![],
            shard: None,
            baseline: None,
        });
        report.results = results;
        report.differences = differences.into_iter().map(|d| redactor.value(d)).collect();
        report
    }
}

/// Features in first-seen order; each cell the most severe outcome of its cases.
pub fn feature_rows(results: &[CaseResult]) -> Vec<FeatureRow> {
    let mut rows: Vec<FeatureRow> = Vec::new();
    for r in results {
        let row = match rows.iter_mut().position(|f| f.feature == r.feature) {
            Some(i) => &mut rows[i],
            None => {
                rows.push(FeatureRow {
                    feature: r.feature.clone(),
                    outcomes: BTreeMap::new(),
                });
                rows.last_mut().expect("just pushed")
            }
        };
        let cell = row.outcomes.entry(r.target.clone()).or_insert(r.outcome);
        if r.outcome.severity() > cell.severity() {
            *cell = r.outcome;
        }
    }
    // Grouped by area in the catalogue's order, first-seen order inside an area.
    sort_by_area(&mut rows, |r| area_of(&r.feature));
    rows
}

/// One result per (target, suite, case): the repeats of a case merged into the entry of the
/// run that stands for it, with the outcome and reason `judge::case_outcome` derives from all
/// of them.
fn merge_repeats(results: Vec<(CaseResult, Ending)>) -> Vec<CaseResult> {
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

/// A report entry's outcome, reason and repeat fields, as `judge::case_outcome` derived them.
fn set_outcome(r: &mut CaseResult, o: CaseOutcome) {
    r.outcome = o.outcome;
    r.reason = o.reason;
    r.repeats = o.repeats;
    r.flaky = o.flaky;
}

fn case_result(r: &FinishedCase, outcome: &CaseOutcome, keep_bodies: bool) -> CaseResult {
    let mut checks = Vec::new();
    let mut passed = 0;
    for c in r.checks() {
        if c.status == CheckStatus::Pass {
            passed += 1;
        } else {
            checks.push(c.clone());
        }
    }
    let last = r.steps.last();
    let mut entry = CaseResult {
        target: r.target.name.clone(),
        suite: r.case.suite.clone(),
        case: r.case.id.clone(),
        feature: r.case.feature.clone(),
        outcome: Outcome::Pass,
        reason: None,
        duration_ms: r.duration.as_millis() as u64,
        http_status: last
            .and_then(|s| s.exchange.response.as_ref())
            .map(|x| x.status),
        warnings: r
            .warnings()
            .map(|w| format!("{}: {}", w.check, w.reason()))
            .collect(),
        notes: (outcome.outcome != Outcome::Pass)
            .then(|| r.case.notes.clone())
            .flatten(),
        timings: last.map(|s| s.exchange.timings.clone()),
        checks,
        checks_passed: passed,
        exchanges: r
            .steps
            .iter()
            .map(|s| summarize(&s.name, &s.exchange, keep_bodies))
            .collect(),
        repeats: vec![],
        flaky: false,
    };
    set_outcome(&mut entry, outcome.clone());
    entry
}

/// One exchange as the report shows it; headers and bodies only when `keep_bodies`.
fn summarize(step: &str, ex: &Exchange, keep_bodies: bool) -> ExchangeSummary {
    let resp = ex.response.as_ref();
    let text = |s: &str| JsonText::new(&Value::String(excerpt(s, BODY_LIMIT)));
    let (request_headers, request_body, response_headers, response_body) = if keep_bodies {
        (
            ex.request.headers.iter().cloned().collect(),
            ex.request
                .body
                .as_ref()
                .map(JsonText::capped)
                .or_else(|| ex.request.raw_body.as_deref().map(text)),
            resp.map(|r| r.headers.iter().cloned().collect())
                .unwrap_or_default(),
            resp.and_then(|r| {
                if r.body.is_empty() {
                    None
                } else if let Some(j) = &r.json {
                    Some(JsonText::capped(j))
                } else {
                    Some(JsonText::new(&Value::String(r.body_excerpt(BODY_LIMIT))))
                }
            }),
        )
    } else {
        Default::default()
    };
    ExchangeSummary {
        step: step.to_string(),
        method: ex.request.method.clone(),
        url: ex.request.url.clone(),
        request_headers,
        request_body,
        status: resp.map(|r| r.status),
        response_headers,
        response_body,
        transport_error: ex.error.as_ref().map(|e| e.message.clone()),
        stream_cut: resp.and_then(|r| r.stream.as_ref()?.cut().cloned()),
        attempts: ex
            .attempt_log
            .iter()
            .enumerate()
            .map(|(i, a)| AttemptSummary {
                attempt: i as u32 + 1,
                status: a.status,
                error: a.error.clone(),
                duration_ms: a.duration_ms.max(0.0) as u64,
                retried_because: a.retried_because.clone(),
                delay_ms: a.delay.map(|d| d.as_millis() as u64),
                delay_source: a.delay.map(|_| {
                    if a.delay_from_retry_after {
                        "retry_after".into()
                    } else {
                        "backoff".into()
                    }
                }),
            })
            .collect(),
    }
}

/// A JSON value kept as its compact text. A parsed `Value` costs ~600 B per object (B-tree
/// nodes) however few keys it holds, and the report keeps two bodies per exchange; as text a
/// chat completion takes its own length. It serialises as the value it holds (transcoded from
/// the text, no `Value` built), so `report.json` reads exactly as if it were a `Value`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonText(Box<str>);

/// serde_json's parser stops at this depth; text nested deeper is kept as a JSON string.
const MAX_DEPTH: usize = 127;

impl JsonText {
    pub fn new(v: &Value) -> Self {
        Self::from_json(v.to_string())
    }

    /// The value when its text is at most 16 KiB; otherwise the text cut, as a JSON string
    /// (base64 images and long vectors).
    pub fn capped(v: &Value) -> Self {
        let text = v.to_string();
        if text.len() <= BODY_LIMIT {
            Self::from_json(text)
        } else {
            JsonText::new(&Value::String(excerpt(&text, BODY_LIMIT)))
        }
    }

    /// Compact JSON text written by serde_json. Nested deeper than serde_json reads back, it
    /// is kept as a string holding that text, so it always parses and transcodes.
    fn from_json(text: String) -> Self {
        if nesting(&text) > MAX_DEPTH {
            JsonText(Value::String(text).to_string().into_boxed_str())
        } else {
            JsonText(text.into_boxed_str())
        }
    }

    /// The value, parsed again.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or_else(|_| Value::String(self.0.to_string()))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For people: a string as its text, anything else as pretty JSON (transcoded from the
    /// text, no `Value` built).
    pub fn pretty(&self) -> String {
        if self.0.starts_with('"')
            && let Ok(s) = serde_json::from_str::<String>(&self.0)
        {
            return s;
        }
        serde_json::to_string_pretty(self).unwrap_or_else(|_| self.0.to_string())
    }
}

/// The deepest nesting of arrays and objects in JSON text.
fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

impl From<Value> for JsonText {
    fn from(v: Value) -> Self {
        JsonText::new(&v)
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_transcode::transcode(&mut serde_json::Deserializer::from_str(&self.0), s)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut out = Vec::new();
        serde_transcode::transcode(d, &mut serde_json::Serializer::new(&mut out))
            .map_err(D::Error::custom)?;
        let text = String::from_utf8(out).map_err(D::Error::custom)?;
        Ok(Self::from_json(text))
    }
}

/// Headers as the report shows them: sorted by name, one value per name (the last), written
/// as a JSON object. A sorted list rather than a map: a B-tree node costs ~600 B however few
/// headers it holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderList(Vec<(String, String)>);

impl HeaderList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(String, String)> for HeaderList {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let map: BTreeMap<String, String> = iter.into_iter().collect();
        HeaderList(map.into_iter().collect())
    }
}

impl Serialize for HeaderList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(|m| HeaderList(m.into_iter().collect()))
    }
}
