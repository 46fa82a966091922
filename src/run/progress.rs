//! The terminal while a run is going: a progress bar (when stderr is a TTY and not
//! `--no-progress`) whose line counts failures, errors and retries as they happen and names a
//! slow case, and the one line an interrupt prints. Built from the run's events only, so a
//! later terminal (non-TTY progress lines, say) needs nothing more than they carry.

use std::time::Instant;

use super::events::{Cause, Consumer, Event};
use crate::judge::Outcome;

pub struct Progress {
    show: bool,
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    done: u64,
    failed: u64,
    errored: u64,
    retries: u64,
    /// The last slow case, until it finishes: (plan index, "target suite/case (30s)").
    slow: Option<(usize, String)>,
}

impl Progress {
    /// `show`: draw the progress bar (stderr is a terminal and not `--no-progress`).
    pub fn new(show: bool) -> Self {
        Progress {
            show,
            bar: None,
            start: Instant::now(),
            done: 0,
            failed: 0,
            errored: 0,
            retries: 0,
            slow: None,
        }
    }

    /// The bar's message: rate, what went wrong so far, the last slow case or the last one done.
    fn message(&self, last: &str) -> String {
        let rate = self.done as f64 / self.start.elapsed().as_secs_f64().max(1e-3);
        let mut m = format!("{rate:.1} cases/s");
        for (n, what) in [
            (self.failed, "failed"),
            (self.errored, "errored"),
            (self.retries, "retried"),
        ] {
            if n > 0 {
                m.push_str(&format!(", {n} {what}"));
            }
        }
        match &self.slow {
            Some((_, s)) => m.push_str(&format!("  slow: {s}")),
            None => m.push_str(&format!("  {last}")),
        }
        m
    }

    /// Print a line without tearing the bar.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{}", crate::util::text::inert(text))),
            None => eprintln!("{}", crate::util::text::inert(text)),
        }
    }
}

impl Consumer for Progress {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::RunStarted { cases } if self.show => {
                let b = indicatif::ProgressBar::new(*cases as u64);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {pos}/{len} {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                self.bar = Some(b);
            }
            Event::Retry {
                target,
                case,
                retry,
                ..
            } => {
                self.retries += 1;
                if let Some(b) = &self.bar {
                    b.set_message(self.message(&format!(
                        "{} {} retrying ({})",
                        target.name,
                        case.full_id(),
                        retry.because
                    )));
                }
            }
            Event::CaseSlow {
                index,
                target,
                case,
                elapsed,
            } => {
                self.slow = Some((
                    *index,
                    format!(
                        "{} {} ({}s)",
                        target.name,
                        case.full_id(),
                        elapsed.as_secs()
                    ),
                ));
                if let Some(b) = &self.bar {
                    b.set_message(self.message(""));
                }
            }
            Event::CaseFinished {
                index,
                finished,
                outcome,
                ..
            } => {
                self.done += 1;
                match outcome.outcome {
                    Outcome::Fail => self.failed += 1,
                    Outcome::Error => self.errored += 1,
                    _ => {}
                }
                if self.slow.as_ref().is_some_and(|(i, _)| i == index) {
                    self.slow = None;
                }
                if let Some(b) = &self.bar {
                    b.inc(1);
                    b.set_message(self.message(&format!(
                        "{} {}",
                        finished.target.name,
                        finished.case.full_id()
                    )));
                }
            }
            Event::Cancelled {
                cause: Cause::Interrupt,
            } => self.line(
                "\ninterrupt received: stopping, writing reports for finished cases (press Ctrl-C again to abort)",
            ),
            Event::RunFinished { .. } => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}
