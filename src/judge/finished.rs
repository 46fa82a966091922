//! A finished case: what happened when one case ran once on one target — each step's exchange
//! and verdict, why the steps stopped, the checks on the case as a whole — with the outcome and
//! reason derived from it ([`case_outcome`]). Built by the case driver (`run`), read by every
//! output: the report, snapshots, recordings and the runbook.

use std::sync::Arc;
use std::time::Duration;

use super::outcome::{
    CaseOutcome, CheckResult, CheckStatus, Ending, Outcome, StepEnding, Verdict, case_outcome,
};
use crate::execute::exchange::Exchange;
use crate::load::suite::AuthOverride;
use crate::load::{Case, Target};
use crate::plan::{Decided, PlannedCase};

/// One step as it ran: its exchange and the judge's verdict on it.
#[derive(Debug)]
pub struct FinishedStep {
    pub name: String,
    /// The credentials the step's request was sent with (its `auth:`).
    pub auth: AuthOverride,
    pub exchange: Exchange,
    pub verdict: Verdict,
}

/// Why a case's steps stopped (or never started).
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Decided by the plan; nothing was sent.
    Decided(Decided),
    /// A step's request could not be rendered; the steps before it ran.
    NotPrepared { reason: String },
    /// llm-parity panicked while running the case (a bug).
    Crashed { message: String },
    /// The steps ran: all of them, or up to the first that did not pass.
    Ran,
}

/// Everything known about one case on one target once it ended.
#[derive(Debug)]
pub struct FinishedCase {
    pub target: Arc<Target>,
    pub case: Arc<Case>,
    pub stop: Stop,
    pub steps: Vec<FinishedStep>,
    /// Checks on the case as a whole, after its steps: the snapshot comparison.
    pub case_checks: Vec<CheckResult>,
    pub duration: Duration,
}

impl FinishedCase {
    /// A case about to run (`Stop::Ran`, no steps yet) or decided without running.
    pub fn new(pc: &PlannedCase, stop: Stop) -> Self {
        FinishedCase {
            target: pc.target.clone(),
            case: pc.case.clone(),
            stop,
            // Sized exactly: an empty Vec grows to 4 slots, which for large records stays wasted.
            steps: Vec::with_capacity(pc.case.steps.len()),
            case_checks: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    /// Every check, the steps' in order and then the case's own.
    pub fn checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.steps
            .iter()
            .flat_map(|s| s.verdict.checks.iter())
            .chain(&self.case_checks)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks().filter(|c| c.status == CheckStatus::Warn)
    }

    /// How this run ended, in the terms its outcome is derived from
    /// ([`case_outcome`]).
    pub fn ending(&self) -> Ending {
        match &self.stop {
            Stop::Decided(d) => Ending::Decided {
                outcome: d.outcome,
                reason: d.reason.clone(),
            },
            Stop::NotPrepared { reason } => Ending::NotPrepared {
                reason: reason.clone(),
            },
            Stop::Crashed { message } => Ending::Crashed {
                message: message.clone(),
            },
            Stop::Ran => Ending::Ran {
                many_steps: self.case.steps.len() > 1,
                // The steps stop at the first that does not pass: it is the last one.
                stopped: self
                    .steps
                    .last()
                    .filter(|s| s.verdict.outcome != Outcome::Pass)
                    .map(|s| StepEnding {
                        name: s.name.clone(),
                        outcome: s.verdict.outcome,
                        reason: s.verdict.reason.clone(),
                        attempts: s.exchange.attempt_log.len().max(1),
                    }),
                failed_after: self
                    .case_checks
                    .iter()
                    .find(|c| c.status == CheckStatus::Fail)
                    .map(|c| c.message.lines().next().unwrap_or_default().to_string()),
            },
        }
    }

    /// The role the target has no model for, when the plan skipped the case for it.
    pub fn missing_model(&self) -> Option<&str> {
        match &self.stop {
            Stop::Decided(d) => d.missing_model.as_deref(),
            _ => None,
        }
    }

    /// The outcome of this run alone (no repeats merged).
    pub fn outcome(&self) -> CaseOutcome {
        case_outcome(std::slice::from_ref(&self.ending()))
    }
}
