//! Outcomes and check results: a failed assertion is data, not an error.

use serde::{Deserialize, Serialize};

pub use crate::outcome::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Worth knowing, not a failure (e.g. `finish_reason: stop` next to tool calls, which
    /// OpenAI itself sometimes sends).
    Warn,
    /// The check found the endpoint refusing the feature.
    Unsupported,
}

/// One assertion's result, with where it was seen and what was expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: String,
    pub status: CheckStatus,
    pub message: String,
    /// JSON path, JSON Pointer or SSE event where the deviation was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl CheckResult {
    pub fn pass(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, CheckStatus::Pass, message)
    }
    pub fn fail(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, CheckStatus::Fail, message)
    }
    pub fn warn(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, CheckStatus::Warn, message)
    }
    pub fn unsupported(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, CheckStatus::Unsupported, message)
    }
    pub fn new(check: &str, status: CheckStatus, message: impl Into<String>) -> Self {
        Self {
            check: check.to_string(),
            status,
            message: message.into(),
            at: None,
            expected: None,
            actual: None,
        }
    }
    pub fn at(mut self, at: impl Into<String>) -> Self {
        self.at = Some(at.into());
        self
    }
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    pub fn actual(mut self, a: impl Into<String>) -> Self {
        self.actual = Some(a.into());
        self
    }

    /// The one-line reason shown for a non-pass: `message (at …)`.
    pub fn reason(&self) -> String {
        match &self.at {
            Some(at) => format!("{} (at {at})", self.message),
            None => self.message.clone(),
        }
    }
}

/// The verdict on one step (or a whole case): outcome plus the reason for a non-pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub checks: Vec<CheckResult>,
}

impl Verdict {
    /// Derive the outcome from check results: any failure fails; otherwise an unsupported
    /// finding makes the step unsupported; otherwise it passes (warnings included).
    pub fn from_checks(checks: Vec<CheckResult>) -> Self {
        let first = |s: CheckStatus| checks.iter().find(|c| c.status == s);
        let (outcome, reason) = if let Some(f) = first(CheckStatus::Fail) {
            (Outcome::Fail, Some(format!("{}: {}", f.check, f.reason())))
        } else if let Some(u) = first(CheckStatus::Unsupported) {
            (Outcome::Unsupported, Some(u.reason()))
        } else {
            (Outcome::Pass, None)
        };
        Verdict {
            outcome,
            reason,
            checks,
        }
    }

    pub fn error(check: &str, message: String) -> Self {
        Verdict {
            outcome: Outcome::Error,
            reason: Some(message.clone()),
            checks: vec![CheckResult::new(check, CheckStatus::Fail, message)],
        }
    }
}
