//! judge: pure functions from (case step, exchange) to check results and an outcome.
//! No I/O here: everything the judge needs is in its input.

pub(crate) mod assert;
pub mod checks;
pub mod errors;
pub mod finished;
pub mod outcome;
mod step;

pub use finished::{FinishedCase, FinishedStep, Stop};
pub use outcome::{
    CaseOutcome, CheckResult, CheckStatus, ClientEffect, Ending, Impact, Mark, Outcome, StepEnding,
    Verdict, case_outcome,
};
pub use step::{PollState, StepInput, judge_step, poll_exhausted, poll_state};
