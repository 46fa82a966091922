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

/// What a failure means for the applications on top of the endpoint, from the clients' point
/// of view (`report::impact` decides it from the client catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// Differs from OpenAI's spec and behaviour; no mainstream client is known to break.
    Deviates,
    /// A named mainstream client raises, or silently loses or corrupts data.
    Breaks,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Deviates => "deviates",
            Impact::Breaks => "breaks",
        }
    }
}

impl std::fmt::Display for Impact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a matrix cell or a case shows in every format: its outcome, and a failure by its impact
/// (`✗ breaks`, `≠ deviates`), so a failure that breaks a client and one no client notices do
/// not look the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub outcome: Outcome,
    pub impact: Option<Impact>,
}

impl Mark {
    pub fn new(outcome: Outcome, impact: Option<Impact>) -> Self {
        Mark { outcome, impact }
    }

    /// `≠` for a failure that only deviates, the outcome's symbol otherwise.
    pub fn symbol(self) -> &'static str {
        match (self.outcome, self.impact) {
            (Outcome::Fail, Some(Impact::Deviates)) => "≠",
            (o, _) => o.symbol(),
        }
    }

    /// `breaks` / `deviates` for a failure with an impact, the outcome's word otherwise (an
    /// error keeps `error`: it breaks every client, and says so in its reason).
    pub fn label(self) -> &'static str {
        match (self.outcome, self.impact) {
            (Outcome::Fail, Some(i)) => i.as_str(),
            (o, _) => o.as_str(),
        }
    }

    /// `✗ breaks`, `≠ deviates`, `– unsupported`, …
    pub fn text(self) -> String {
        format!("{} {}", self.symbol(), self.label())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
