//! The report model: the machine contract (`report.json`, `schemas/report.schema.json`) and the
//! one input of every renderer — types only. It is built by `build` (case by case, redacted as
//! each case arrives, so no renderer ever sees a secret) and aggregated by `aggregate`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::body::{HeaderList, JsonText};
pub use super::results::{Entry, Results, Summary};
use crate::execute::exchange::Timings;
use crate::execute::stream::StreamCut;
use crate::judge::{CheckResult, Impact, Mark, Outcome};

pub const SCHEMA_VERSION: u32 = 1;

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
    /// `--replay DIR`: every response came from the recordings in DIR, not from an endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_from: Option<String>,
    /// `--report-bodies`: which exchanges kept their headers and bodies (absent: all).
    #[serde(default, skip_serializing_if = "BodyPolicy::is_all")]
    pub report_bodies: BodyPolicy,
    pub targets: Vec<TargetInfo>,
    pub results: Results,
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
    /// The step of a case of several steps whose result decided the outcome; `reason` starts
    /// with its name and `: `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A failure's impact on clients: its worst failed check's (`breaks` for an error: no
    /// usable response reaches any client). Absent for pass, unsupported and skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
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
    /// Outcome of each repeat (`--repeat K`, K > 1); `outcome` is the most severe of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<Outcome>,
    /// Passed on some repeats and failed or errored on others.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
    /// Skipped because the target has no model for this role (`chat`, `embedding`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_model: Option<String>,
    /// Last, so that a spooled entry's other fields are a prefix of its line that can be read
    /// without them (`report::results`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<ExchangeSummary>,
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
    /// Target name → the worst impact among the cell's failing cases (cells that fail or
    /// error only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub impacts: BTreeMap<String, Impact>,
}

impl FeatureRow {
    /// The cell of `target`, as every format shows it.
    pub fn mark(&self, target: &str) -> Option<Mark> {
        let o = *self.outcomes.get(target)?;
        Some(Mark::new(o, self.impacts.get(target).copied()))
    }
}

impl CaseResult {
    /// The case as every format shows it.
    pub fn mark(&self) -> Mark {
        Mark::new(self.outcome, self.impact)
    }
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
    /// Only failures that break a client (impact `breaks`; errors included): with a baseline,
    /// regressions, expired entries and new failures that break one; without, any case that
    /// breaks one.
    Breaking,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Regression => "regression",
            FailOn::New => "new",
            FailOn::Any => "any",
            FailOn::Breaking => "breaking",
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
    /// The worst impact among the cell's failing cases now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
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
    pub impact: Option<Impact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RunReport {
    pub fn target_names(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.name.as_str()).collect()
    }
    /// The failing entries (only these are read from a spooled run).
    pub fn failures(&self) -> impl Iterator<Item = Entry<'_>> {
        self.results.iter_where(|s| s.outcome.is_failure())
    }
    /// Whether no case failed or errored (flaky ones excused when `allow_flaky`): the fact the
    /// gate decides on without a baseline (`gate::passes` is the decision).
    pub fn no_failures(&self, allow_flaky: bool) -> bool {
        self.results
            .summaries()
            .all(|s| !s.outcome.is_failure() || (allow_flaky && s.flaky))
    }
    /// The failing cases that break a client (`--fail-on breaking`), flaky ones excused when
    /// `allow_flaky`.
    pub fn breaking(&self, allow_flaky: bool) -> impl Iterator<Item = Entry<'_>> {
        self.results.iter_where(move |s| {
            s.outcome.is_failure() && s.impact == Some(Impact::Breaks) && !(allow_flaky && s.flaky)
        })
    }
    /// How many failed cases have `impact`.
    pub fn count_impact(&self, impact: Impact) -> usize {
        self.results
            .summaries()
            .filter(|s| s.outcome == Outcome::Fail && s.impact == Some(impact))
            .count()
    }
    /// What counting needs of each entry of `target` (of every entry with `None`), read from
    /// the entries' summaries: a spooled run reads no entry back.
    pub fn summaries_of<'a>(
        &'a self,
        target: Option<&'a str>,
    ) -> impl Iterator<Item = Summary> + 'a {
        self.results
            .keys()
            .zip(self.results.summaries())
            .filter(move |(k, _)| target.is_none_or(|t| k.target == t))
            .map(|(_, s)| s)
    }
    pub fn count(&self, o: Outcome) -> usize {
        self.results.summaries().filter(|s| s.outcome == o).count()
    }
    /// How many entries are flaky.
    pub fn count_flaky(&self) -> usize {
        self.results.summaries().filter(|s| s.flaky).count()
    }
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

/// A case whose outcome differs between targets, or that fails on every target with responses
/// of different shapes (a router rewriting the upstream's error).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    pub feature: String,
    pub suite: String,
    pub case: String,
    pub outcomes: BTreeMap<String, Outcome>,
    /// The reason of each target that did not pass.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, String>,
    /// For each passing/non-passing pair (or, when none passes, the first target and each
    /// other): the unified diff of their response shapes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shape_diffs: Vec<ShapeDiff>,
}

impl Difference {
    /// Every target has the same outcome: only the shapes of the responses differ.
    pub fn same_outcome(&self) -> bool {
        let mut o = self.outcomes.values();
        let first = o.next();
        o.all(|x| Some(x) == first)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShapeDiff {
    /// The passing target (`-` lines); when no target passes, the first one.
    pub pass: String,
    /// The target that did not pass (`+` lines).
    pub other: String,
    /// What was compared: the response body, or the first chunk of a stream.
    pub subject: String,
    pub diff: String,
    /// A success against an error in one line (`200 chat.completion vs 400 error envelope`):
    /// the terminal shows it instead of the diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Latency of one metric for one target and area.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LatencyRow {
    pub target: String,
    /// An area, or `all`.
    pub area: String,
    /// `headers` (time to response headers), `ttft` (first content event), `total`.
    pub metric: String,
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// What a router adds over the target it routes to (`via:` or `--baseline-target`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HopLatency {
    pub router: String,
    pub upstream: String,
    pub metric: String,
    pub p50_delta_ms: f64,
    pub p95_delta_ms: f64,
    pub samples_router: usize,
    pub samples_upstream: usize,
}
