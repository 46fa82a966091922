//! The terminal while a run is going, on stderr. On a TTY: a progress bar whose line counts
//! failures, errors and retries as they happen and names a slow case. Without one (a CI log):
//! plain lines, never a carriage return or a bar — one when an area's last case finishes, one
//! at most every few seconds in between, one per slow case —
//! `[34/69] streaming: 9 pass, 1 fail (12.3 s)`. And the one line an interrupt prints. Built
//! from the run's events only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::events::{Cause, Consumer, Event};
use crate::judge::Outcome;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A progress bar (stderr is a terminal).
    Bar,
    /// Plain lines (stderr is a file or a pipe: a CI log).
    Lines,
    /// Nothing (`--no-progress`).
    Off,
}

impl Display {
    /// The display for a run: `--no-progress` turns it off; else a bar on a terminal, lines
    /// elsewhere.
    pub fn for_stderr(no_progress: bool) -> Self {
        use std::io::IsTerminal as _;
        if no_progress {
            Display::Off
        } else if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Lines
        }
    }
}

/// In `Lines`, the longest quiet stretch while cases keep finishing.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// One area's count of finished cases, by outcome, against its planned cases.
#[derive(Debug, Default)]
struct AreaTally {
    planned: usize,
    done: usize,
    by_outcome: BTreeMap<&'static str, usize>,
}

impl AreaTally {
    /// `9 pass, 1 fail` (outcomes in the report's order).
    fn summary(&self) -> String {
        let order = ["pass", "fail", "error", "unsupported", "skip"];
        let mut parts: Vec<String> = order
            .iter()
            .filter_map(|o| self.by_outcome.get(o).map(|n| format!("{n} {o}")))
            .collect();
        parts.extend(
            self.by_outcome
                .iter()
                .filter(|(o, _)| !order.contains(o))
                .map(|(o, n)| format!("{n} {o}")),
        );
        parts.join(", ")
    }
}

pub struct Progress {
    display: Display,
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    done: u64,
    failed: u64,
    errored: u64,
    retries: u64,
    /// The last slow case, until it finishes: (plan index, "target suite/case (30s)").
    slow: Option<(usize, String)>,
    /// `Lines`: the run's planned cases, each area's tally, and when the last line was printed.
    total: usize,
    areas: BTreeMap<String, AreaTally>,
    last_line: Instant,
}

impl Progress {
    /// `areas`: the area of every planned case (repeats included), for the per-area lines.
    pub fn new<'a>(display: Display, areas: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tallies: BTreeMap<String, AreaTally> = BTreeMap::new();
        let mut total = 0;
        for a in areas {
            tallies.entry(a.to_string()).or_default().planned += 1;
            total += 1;
        }
        Progress {
            display,
            total,
            areas: tallies,
            last_line: Instant::now(),
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

    /// `Lines`: count a finished case; print its area's line when the area is complete or the
    /// log has been quiet for `LINE_EVERY`.
    fn line_for(&mut self, area: &str, outcome: Outcome) {
        let tally = self.areas.entry(area.to_string()).or_default();
        tally.done += 1;
        *tally.by_outcome.entry(outcome.as_str()).or_default() += 1;
        let complete = tally.done >= tally.planned;
        if complete || self.last_line.elapsed() >= LINE_EVERY {
            let line = format!(
                "[{}/{}] {area}: {}{} ({:.1} s)",
                self.done,
                self.total.max(self.done as usize),
                tally.summary(),
                if complete { "" } else { " so far" },
                self.start.elapsed().as_secs_f64()
            );
            eprintln!("{line}");
            self.last_line = Instant::now();
        }
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
            Event::RunStarted { cases } if self.display == Display::Lines => {
                self.total = self.total.max(*cases);
                eprintln!("running {cases} case(s)");
                self.last_line = Instant::now();
            }
            Event::RunStarted { cases } if self.display == Display::Bar => {
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
                if self.display == Display::Lines {
                    eprintln!(
                        "still running: {} {} ({}s)",
                        target.name,
                        case.full_id(),
                        elapsed.as_secs()
                    );
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
                if self.display == Display::Lines {
                    self.line_for(
                        crate::load::feature::area_of(&finished.case.feature),
                        outcome.outcome,
                    );
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
