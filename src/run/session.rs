//! The one consumer of a run's events. It fans each event out to the parts the command asked
//! for — the terminal, the report builder, the recorder, the runbook's usage tally — so a
//! finished case goes everywhere it is needed through one named hand-over, and is then dropped.

use std::collections::BTreeMap;

use super::events::{Cause, Consumer, Event};
use super::progress::Progress;
use crate::record::Recorder;
use crate::report::Collector;
use crate::runbook::model::UsageTotals;

pub struct Session<'r> {
    pub progress: Progress,
    pub report: Collector<'r>,
    /// `--record`: every exchange written as a recording.
    pub recorder: Option<Recorder<'r>>,
    /// `runbook`: token usage per target, tallied from the raw responses.
    pub usage: Option<BTreeMap<String, UsageTotals>>,
    /// Why the run stopped early, as the run said.
    pub cancelled: Option<Cause>,
}

impl<'r> Session<'r> {
    pub fn new(progress: Progress, report: Collector<'r>) -> Self {
        Session {
            progress,
            report,
            recorder: None,
            usage: None,
            cancelled: None,
        }
    }
}

impl Consumer for Session<'_> {
    fn event(&mut self, event: &Event<'_>) {
        self.progress.event(event);
        match event {
            Event::CaseFinished {
                index,
                finished,
                ending,
                outcome,
            } => {
                if let Some(r) = self.recorder.as_mut() {
                    r.add(*index, finished);
                }
                if let Some(u) = self.usage.as_mut() {
                    crate::runbook::sections::tally_usage(u, finished);
                }
                self.report.add(*index, finished, ending, outcome);
            }
            Event::Cancelled { cause } => self.cancelled = Some(*cause),
            _ => {}
        }
    }
}
