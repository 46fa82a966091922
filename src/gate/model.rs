//! What the gate adds to the report model (`report.json`, additive and optional): the suites a
//! run loaded (so a shard's report still knows every case, for `baseline prune` and `merge`),
//! the shard a run was, and the comparison against a baseline.

use serde::{Deserialize, Serialize};

use crate::judge::Outcome;

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
