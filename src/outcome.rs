//! The outcome of a case on a target — the one word every layer shares: the plan decides some
//! without sending anything (declared unsupported, skipped), the judge derives the others, and
//! the report, the gate and the runbook read them.

use serde::{Deserialize, Serialize};

/// The outcome of a case on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    /// A deviation: schema, protocol, assertion, semantic, or a parameter silently ignored.
    Fail,
    /// The endpoint clearly refused the feature, or the target declares it unsupported.
    Unsupported,
    /// Transport failure, timeout, unreadable body.
    Error,
    /// Not applicable (no model for the role, opt-in case) — never a failure.
    Skip,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Unsupported,
        Outcome::Error,
        Outcome::Skip,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unsupported => "unsupported",
            Outcome::Error => "error",
            Outcome::Skip => "skip",
        }
    }

    /// A symbol readable without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Outcome::Pass => "✓",
            Outcome::Fail => "✗",
            Outcome::Unsupported => "–",
            Outcome::Error => "!",
            Outcome::Skip => "·",
        }
    }

    /// Whether this outcome fails a run (the CI gate without a baseline).
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Error)
    }

    /// When several cases evidence one feature, the feature shows the most severe outcome.
    pub fn severity(self) -> u8 {
        match self {
            Outcome::Fail => 5,
            Outcome::Error => 4,
            Outcome::Unsupported => 3,
            Outcome::Pass => 2,
            Outcome::Skip => 1,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
