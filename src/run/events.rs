//! The events of a run, in the order they happen, as the one session hears them (the shape of
//! nextest's reporter events): everything a terminal, a report builder or a recorder needs to
//! follow a run live, with no other channel beside them.

use std::time::Duration;

use super::case::RetryNote;
use crate::judge::FinishedCase;
use crate::judge::{CaseOutcome, Ending};
use crate::load::{Case, Target};

/// Why a run stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// SIGINT or SIGTERM.
    Interrupt,
    /// `--run-timeout` was reached after this long.
    RunTimeout(Duration),
}

/// What happens during a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// The plan is about to run: `cases` entries (repeats counted).
    RunStarted { cases: usize },
    /// Plan entry `index` was sent on its way.
    CaseStarted {
        index: usize,
        target: &'a Target,
        case: &'a Case,
    },
    /// One of the case's exchanges is being retried (`--retries`, or the free re-send of a
    /// connection closed before any response byte).
    Retry {
        index: usize,
        target: &'a Target,
        case: &'a Case,
        retry: &'a RetryNote,
    },
    /// The case has been running for `elapsed` (told once per slow period).
    CaseSlow {
        index: usize,
        target: &'a Target,
        case: &'a Case,
        elapsed: Duration,
    },
    /// The case ended, judged (snapshot included): the finished case, how it ended, and its
    /// outcome and reason as every output shows them.
    CaseFinished {
        index: usize,
        finished: &'a FinishedCase,
        ending: &'a Ending,
        outcome: &'a CaseOutcome,
    },
    /// The run is stopping early: nothing more starts, the cases in flight are dropped.
    Cancelled { cause: Cause },
    /// The run is over; `cancelled` when it stopped early.
    RunFinished {
        cancelled: Option<Cause>,
        elapsed: Duration,
    },
}

/// Hears a run's events: the session, and each part it fans them out to.
pub trait Consumer {
    fn event(&mut self, event: &Event<'_>);
}
