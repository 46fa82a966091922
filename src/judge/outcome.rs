//! Outcomes and check results: a failed assertion is data, not an error. A step's verdict is
//! derived from its checks ([`Verdict::from_checks`]); a case's outcome and reason from how its
//! runs ended ([`case_outcome`]) — the one place either is decided.

use serde::{Deserialize, Serialize};

pub use crate::clients::catalogue::Status;
pub use crate::outcome::{Impact, Mark, Outcome};

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
    /// For a failed or refused check: what it means for clients (`report::impact` sets it
    /// from the client catalogue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// The catalogued deviations this check shows (`S1`, `E2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<String>,
    /// What those deviations do to each verified client call that breaks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientEffect>,
}

/// A client call a deviation breaks, as the client catalogue verified it with the real
/// library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEffect {
    /// The catalogue's deviation id.
    pub deviation: String,
    /// The library (`openai-python`).
    pub client: String,
    /// Its verified version (`3.57.0`).
    pub version: String,
    /// The call affected (`tools_stream`, `error_bad_key`; docs/clients.md lists them).
    pub call: String,
    /// `raises` or `wrong` (returned with data lost, changed or mistyped).
    pub status: Status,
    /// The exception and its message, or what was lost or changed.
    pub symptom: String,
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
            impact: None,
            deviations: Vec::new(),
            clients: Vec::new(),
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

/// How one run of a case ended: the facts its outcome and reason are derived from
/// ([`case_outcome`]). Small and owned, so the report can keep one per repeat until the repeats
/// of a case are merged; serialisable so it passes through the redactor like the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Decided by the plan without sending anything (declared unsupported, no model for a
    /// role, opt-in).
    Decided { outcome: Outcome, reason: String },
    /// A step's request could not be rendered (a template naming a capture an earlier step
    /// did not provide); the steps before it ran.
    NotPrepared { reason: String },
    /// llm-parity itself failed while running the case (a bug).
    Crashed { message: String },
    /// The steps ran, all of them or up to the first that did not pass.
    Ran {
        /// The case has more than one step: a reason names the step it comes from.
        many_steps: bool,
        /// The step that did not pass, if one did not.
        stopped: Option<StepEnding>,
        /// The first line of the first failing check on the case as a whole, after its steps
        /// (the snapshot comparison).
        failed_after: Option<String>,
    },
}

/// The step a run stopped at: its name, its verdict, and how many attempts its exchange took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepEnding {
    pub name: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// Attempts of the step's exchange (more than one only when it was retried).
    pub attempts: usize,
}

/// A case's outcome and reason, as every output shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// The step of a case of several steps that decided the outcome: the reason starts with
    /// its name and `: `.
    pub step: Option<String>,
    /// Each run's outcome when the case ran more than once (`--repeat K`); empty otherwise.
    pub repeats: Vec<Outcome>,
    /// Passed on some runs and failed or errored on others.
    pub flaky: bool,
    /// Which run stands for the case (its exchanges, checks and timings are the ones shown):
    /// the last of the most severe.
    pub stands_for: usize,
}

/// Derive a case's outcome and reason from how its runs ended — one run, or the repeats of
/// `--repeat` in plan order. This is the only place a case's outcome or reason is decided:
///
/// - a run decided by the plan keeps the plan's outcome and reason; a step that could not be
///   rendered makes it `skip`; a crash of llm-parity is an `error` saying so;
/// - otherwise the first step that did not pass decides, its reason suffixed `(after N
///   attempts)` when its exchange was retried and prefixed with the step's name when the case
///   has several steps; when every step passed, a failing check on the whole case (a snapshot
///   mismatch) fails it with that check's first line;
/// - of several runs, the most severe stands for the case (the last of equals), and a case that
///   passed on some runs and failed or errored on others is flaky: its reason says
///   `flaky (F/K repeats not passing): …`.
pub fn case_outcome(runs: &[Ending]) -> CaseOutcome {
    let each: Vec<Run> = runs.iter().map(one_run).collect();
    let Some(stands_for) = (0..each.len()).max_by_key(|&i| each[i].outcome.severity()) else {
        debug_assert!(false, "a case outcome needs at least one run");
        return CaseOutcome {
            outcome: Outcome::Skip,
            reason: Some("not run".into()),
            step: None,
            repeats: vec![],
            flaky: false,
            stands_for: 0,
        };
    };
    let repeats: Vec<Outcome> = each.iter().map(|r| r.outcome).collect();
    let Run {
        outcome,
        mut reason,
        step,
    } = each[stands_for].clone();
    let failing = repeats.iter().filter(|o| o.is_failure()).count();
    let flaky = repeats.len() > 1 && repeats.contains(&Outcome::Pass) && failing > 0;
    if flaky {
        reason = reason.map(|r| {
            format!(
                "flaky ({failing}/{} repeats not passing): {r}",
                repeats.len()
            )
        });
    }
    CaseOutcome {
        outcome,
        reason,
        step,
        repeats: if repeats.len() > 1 { repeats } else { vec![] },
        flaky,
        stands_for,
    }
}

/// One run's outcome and reason, and the step of several it stopped at.
#[derive(Clone)]
struct Run {
    outcome: Outcome,
    reason: Option<String>,
    step: Option<String>,
}

/// One run's outcome and reason (see [`case_outcome`]).
fn one_run(end: &Ending) -> Run {
    let decided = |outcome, reason: &str| Run {
        outcome,
        reason: Some(reason.to_string()),
        step: None,
    };
    match end {
        Ending::Decided { outcome, reason } => decided(*outcome, reason),
        Ending::NotPrepared { reason } => decided(Outcome::Skip, reason),
        Ending::Crashed { message } => decided(
            Outcome::Error,
            &format!("internal error in llm-parity (please report it): {message}"),
        ),
        Ending::Ran {
            many_steps,
            stopped: Some(step),
            ..
        } if step.outcome != Outcome::Pass => {
            // Retries must not hide flakiness: a result reached after retries says so.
            let reason = step.reason.as_ref().map(|r| {
                let r = if step.attempts > 1 {
                    format!("{r} (after {} attempts)", step.attempts)
                } else {
                    r.clone()
                };
                if *many_steps {
                    format!("{}: {r}", step.name)
                } else {
                    r
                }
            });
            Run {
                outcome: step.outcome,
                step: (*many_steps && reason.is_some()).then(|| step.name.clone()),
                reason,
            }
        }
        Ending::Ran {
            failed_after: Some(first_line),
            ..
        } => decided(Outcome::Fail, first_line),
        Ending::Ran { .. } => Run {
            outcome: Outcome::Pass,
            reason: None,
            step: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(many_steps: bool, stopped: Option<(&str, Outcome, &str, usize)>) -> Ending {
        Ending::Ran {
            many_steps,
            stopped: stopped.map(|(name, outcome, reason, attempts)| StepEnding {
                name: name.into(),
                outcome,
                reason: Some(reason.into()),
                attempts,
            }),
            failed_after: None,
        }
    }

    fn snapshot_failed(stopped: Option<(&str, Outcome, &str, usize)>) -> Ending {
        match ran(false, stopped) {
            Ending::Ran {
                many_steps,
                stopped,
                ..
            } => Ending::Ran {
                many_steps,
                stopped,
                failed_after: Some("snapshot mismatch: line 2: `a` became `b`".into()),
            },
            _ => unreachable!(),
        }
    }

    #[test]
    fn one_run_table() {
        use Outcome::*;
        let table: Vec<(&str, Ending, Outcome, Option<&str>)> = vec![
            ("every step passed", ran(false, None), Pass, None),
            ("several steps passed", ran(true, None), Pass, None),
            (
                "a failing single step: its reason as it is",
                ran(false, Some(("main", Fail, "status: HTTP 500", 1))),
                Fail,
                Some("status: HTTP 500"),
            ),
            (
                "a failing step of several: named",
                ran(true, Some(("retrieve", Fail, "status: HTTP 404", 1))),
                Fail,
                Some("retrieve: status: HTTP 404"),
            ),
            (
                "retried: the attempts are said",
                ran(false, Some(("main", Error, "HTTP 503", 3))),
                Error,
                Some("HTTP 503 (after 3 attempts)"),
            ),
            (
                "retried step of several: name first, attempts last",
                ran(true, Some(("create", Unsupported, "refused", 2))),
                Unsupported,
                Some("create: refused (after 2 attempts)"),
            ),
            (
                "a snapshot mismatch fails a passing case with its first line",
                snapshot_failed(None),
                Fail,
                Some("snapshot mismatch: line 2: `a` became `b`"),
            ),
            (
                "a failing step outranks the snapshot",
                snapshot_failed(Some(("main", Fail, "json: not JSON", 1))),
                Fail,
                Some("json: not JSON"),
            ),
            (
                "decided by the plan",
                Ending::Decided {
                    outcome: Unsupported,
                    reason: "declared unsupported".into(),
                },
                Unsupported,
                Some("declared unsupported"),
            ),
            (
                "a step that could not be rendered is a skip",
                Ending::NotPrepared {
                    reason: "capture `id` was never set".into(),
                },
                Skip,
                Some("capture `id` was never set"),
            ),
            (
                "a crash is an error naming llm-parity",
                Ending::Crashed {
                    message: "boom".into(),
                },
                Error,
                Some("internal error in llm-parity (please report it): boom"),
            ),
        ];
        for (what, end, outcome, reason) in table {
            let got = case_outcome(std::slice::from_ref(&end));
            assert_eq!(
                (got.outcome, got.reason.as_deref()),
                (outcome, reason),
                "{what}"
            );
            assert!(!got.flaky && got.repeats.is_empty(), "{what}");
            assert_eq!(got.stands_for, 0, "{what}");
            // Only a step of several is named, and the reason starts with its name.
            assert_eq!(got.step.is_some(), what.contains("of several"), "{what}");
            if let (Some(step), Some(reason)) = (&got.step, &got.reason) {
                assert!(reason.starts_with(&format!("{step}: ")), "{what}");
            }
        }
    }

    #[test]
    fn repeats_table() {
        use Outcome::*;
        let pass = || ran(false, None);
        let fail = |r: &str| ran(false, Some(("main", Fail, r, 1)));
        let error = |r: &str| ran(false, Some(("main", Error, r, 1)));
        // (what, the runs, outcome, reason, flaky, which run stands for the case)
        type Row<'a> = (&'a str, Vec<Ending>, Outcome, Option<&'a str>, bool, usize);
        let table: Vec<Row> = vec![
            (
                "all pass",
                vec![pass(), pass(), pass()],
                Pass,
                None,
                false,
                2,
            ),
            (
                "pass and fail: flaky, the failure stands",
                vec![pass(), fail("a"), pass()],
                Fail,
                Some("flaky (1/3 repeats not passing): a"),
                true,
                1,
            ),
            (
                "fail outranks error; the last of equals stands",
                vec![error("e"), fail("a"), fail("b")],
                Fail,
                Some("b"),
                false,
                2,
            ),
            (
                "errors and passes are flaky too",
                vec![error("e"), pass()],
                Error,
                Some("flaky (1/2 repeats not passing): e"),
                true,
                0,
            ),
            (
                "unsupported is not a failure: not flaky",
                vec![
                    pass(),
                    ran(false, Some(("main", Unsupported, "refused", 1))),
                ],
                Unsupported,
                Some("refused"),
                false,
                1,
            ),
        ];
        for (what, runs, outcome, reason, flaky, stands_for) in table {
            let got = case_outcome(&runs);
            assert_eq!(
                (
                    got.outcome,
                    got.reason.as_deref(),
                    got.flaky,
                    got.stands_for
                ),
                (outcome, reason, flaky, stands_for),
                "{what}"
            );
            assert_eq!(got.repeats.len(), runs.len(), "{what}");
        }
    }

    #[test]
    fn endings_survive_the_redactors_round_trip() {
        let end = snapshot_failed(Some(("main", Outcome::Fail, "x", 2)));
        let back: Ending = serde_json::from_value(serde_json::to_value(&end).unwrap()).unwrap();
        assert_eq!(back, end);
    }
}
