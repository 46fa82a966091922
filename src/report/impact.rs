//! What a failure means for the applications on top of the endpoint: each failed or refused
//! check is looked up in the client catalogue (`clients/catalogue.yaml`, verified by running the
//! real client libraries) through its `detected_by` mapping, and carries the verified effect on
//! each client. This file is the only place that mapping is applied; the renderers, the gate and
//! the runbook read the result (`CheckResult::impact`, `CaseResult::impact`).
//!
//! - **breaks**: the catalogue names a client call that raises or silently loses or changes
//!   data; a case that errored (no usable response: a transport failure, a timeout, a body that
//!   cannot be read), or an error status where a success was expected, breaks every client
//!   (every client library raises on both).
//! - **deviates**: differs from OpenAI's spec and behaviour, and no verified client is known to
//!   break (a deviation the catalogue lists as working in every client, or a failed check the
//!   catalogue does not map). This is the default: a failure is `breaks` only when the catalogue
//!   or an error status says so, and a failed case whose impact was never recorded reads as
//!   `deviates` too ([`of_result`]).
//!
//! A warning names the catalogued deviation it shows (its `deviations` and `clients`, e.g. a
//! refusal whose error body a router reshaped, E13) but never gets an impact: warnings stay
//! warnings, and a case's impact comes from its failed checks only.

use std::sync::OnceLock;

use super::model::{CaseResult, RunReport};
use crate::clients::Catalogue;
use crate::clients::catalogue::{DeviationEntry, Status};
use crate::judge::{CheckResult, CheckStatus, ClientEffect, Impact, Outcome};

/// The shipped catalogue, parsed once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(Catalogue::shipped)
}

/// Attach to every failed or refused check of `case` (`suite/case`) its impact and the verified
/// client effects of the deviations it shows; to a warning, the deviations and effects only.
/// Passing checks get none.
pub fn assess_checks(catalogue: &Catalogue, case: &str, checks: &mut [CheckResult]) {
    for c in checks {
        if c.status == CheckStatus::Pass {
            continue;
        }
        let found: Vec<&DeviationEntry> = catalogue
            .deviations_for_check(case, &c.check, &c.message)
            .collect();
        c.deviations = found.iter().map(|d| d.id.clone()).collect();
        c.clients = found.iter().flat_map(|d| effects(catalogue, d)).collect();
        if c.status == CheckStatus::Warn {
            continue;
        }
        let generic = if error_instead_of_success(c) {
            Impact::Breaks
        } else {
            Impact::Deviates
        };
        c.impact = Some(found.iter().map(|d| d.impact).fold(generic, Impact::max));
    }
}

/// A `status` check that got an error status where a success was expected: every client
/// library raises on an error status (the probes' error calls show it for each), so whatever
/// the call was, it breaks every client.
fn error_instead_of_success(c: &CheckResult) -> bool {
    c.check == "status"
        && c.expected.as_deref().is_some_and(|e| e.starts_with('2'))
        && c.actual
            .as_deref()
            .and_then(|a| a.parse::<u16>().ok())
            .is_some_and(|s| s >= 400)
}

/// The effects of one deviation on the clients that break, in the catalogue's client and call
/// order.
fn effects(catalogue: &Catalogue, d: &DeviationEntry) -> Vec<ClientEffect> {
    let mut out = Vec::new();
    for client in &catalogue.clients {
        for call in &client.calls {
            let e = d.effect(&client.id, call);
            if e.status.breaks() {
                out.push(ClientEffect {
                    deviation: d.id.clone(),
                    client: client.name.clone(),
                    version: client.version().to_string(),
                    call: call.clone(),
                    status: e.status,
                    symptom: e.symptom,
                });
            }
        }
    }
    out
}

/// A case's impact: its worst failed check's when it failed, `breaks` when it errored (no
/// usable response reaches any client), none otherwise.
pub fn of_case(outcome: Outcome, checks: &[CheckResult]) -> Option<Impact> {
    match outcome {
        Outcome::Error => Some(Impact::Breaks),
        Outcome::Fail => Some(
            checks
                .iter()
                .filter(|c| c.status == CheckStatus::Fail)
                .filter_map(|c| c.impact)
                .max()
                .unwrap_or(Impact::Deviates),
        ),
        _ => None,
    }
}

/// A case's impact as recorded, or for an entry without one (a report older than impacts),
/// derived from its checks the same way: a failure nothing maps deviates.
pub fn of_result(res: &CaseResult) -> Option<Impact> {
    res.impact.or_else(|| of_case(res.outcome, &res.checks))
}

/// What [`note`] reads of a case: an entry in memory, or one read from its spooled line
/// (`report::entry`).
pub trait Facts {
    fn suite(&self) -> &str;
    fn case(&self) -> &str;
    fn feature(&self) -> &str;
    fn outcome(&self) -> Outcome;
    fn impact(&self) -> Option<Impact>;
    fn checks(&self) -> &[CheckResult];
}

/// [`Facts`] of a type with the fields of the same names.
macro_rules! facts_of_fields {
    (impl$(<$($g:tt),*>)? for $t:ty) => {
        impl$(<$($g),*>)? $crate::report::impact::Facts for $t {
            fn suite(&self) -> &str {
                &self.suite
            }
            fn case(&self) -> &str {
                &self.case
            }
            fn feature(&self) -> &str {
                &self.feature
            }
            fn outcome(&self) -> $crate::judge::Outcome {
                self.outcome
            }
            fn impact(&self) -> Option<$crate::judge::Impact> {
                self.impact
            }
            fn checks(&self) -> &[$crate::judge::CheckResult] {
                &self.checks
            }
        }
    };
}
pub(super) use facts_of_fields;

facts_of_fields!(impl for CaseResult);

/// The case's verified client effects, most telling first (the checks' order — failures and
/// refusals before the warnings beside them — a client once per deviation and call).
pub fn effects_of(res: &(impl Facts + ?Sized)) -> impl Iterator<Item = &ClientEffect> {
    let mut seen = std::collections::HashSet::new();
    let failed =
        |c: &&CheckResult| matches!(c.status, CheckStatus::Fail | CheckStatus::Unsupported);
    let checks = res.checks();
    checks
        .iter()
        .filter(failed)
        .chain(checks.iter().filter(|c| c.status == CheckStatus::Warn))
        .flat_map(|c| c.clients.iter())
        .filter(move |e| seen.insert((&e.deviation, &e.client, &e.call)))
}

/// `openai-python 3.57.0 tools_stream: raises TypeError: …` — a client effect as the reports
/// and the runbook cite it.
pub fn cite(e: &ClientEffect) -> String {
    let what = match e.status {
        Status::Raises => format!("raises {}", e.symptom),
        _ => e.symptom.clone(),
    };
    format!("{} {} {}: {what}", e.client, e.version, e.call)
}

/// The effect whose client call is most like the case — the most words of the call's name
/// (`tools_stream`) among the words of the case's suite, id and feature — the first of equals:
/// a transcription case cites a `transcription` call, not the deviation's first (`speech`).
fn closest<'a>(
    res: &(impl Facts + ?Sized),
    effects: &[&'a ClientEffect],
) -> Option<&'a ClientEffect> {
    // Most cases have no effect to cite: their names are not split into words.
    if effects.is_empty() {
        return None;
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let case = words(&format!("{} {} {}", res.suite(), res.case(), res.feature()));
    let score = |e: &ClientEffect| words(&e.call).iter().filter(|w| case.contains(w)).count();
    let mut best: Option<(&ClientEffect, usize)> = None;
    for e in effects {
        let n = score(e);
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((e, n));
        }
    }
    best.map(|(e, _)| e)
}

/// One line shown after a case's reason in every report format: the first verified client
/// effect and how many more there are (`breaks openai-python 3.57.0 tools_stream: raises
/// TypeError: … (S1; 2 more client calls)`), or for a catalogued deviation no client notices,
/// that no verified client breaks. `None` when there is nothing the catalogue knows to say.
pub fn note(res: &(impl Facts + ?Sized)) -> Option<String> {
    let effects: Vec<&ClientEffect> = effects_of(res).collect();
    match (res.impact(), closest(res, &effects)) {
        (Some(Impact::Breaks) | None, Some(first)) => {
            let more = match effects.len() - 1 {
                0 => String::new(),
                1 => "; 1 more client call".into(),
                n => format!("; {n} more client calls"),
            };
            // A refusal (or a warning beside a pass) is no failure: it says what the clients
            // see, not that it breaks.
            let verb = if res.outcome().is_failure() {
                "breaks "
            } else {
                ""
            };
            Some(format!(
                "{verb}{} ({}{more})",
                cite(first),
                first.deviation
            ))
        }
        (Some(Impact::Breaks), None) if res.outcome() == Outcome::Error => {
            Some("breaks every client: no usable response".into())
        }
        (Some(Impact::Breaks), None) => {
            Some("breaks every client: an error status where a success was expected raises in every client library".into())
        }
        (Some(Impact::Deviates), None) => {
            let ids: Vec<&str> = res
                .checks()
                .iter()
                .flat_map(|c| c.deviations.iter().map(String::as_str))
                .collect();
            (!ids.is_empty()).then(|| {
                format!(
                    "deviates ({}): every verified client works ({})",
                    dedup(ids).join(", "),
                    catalogue()
                        .clients
                        .iter()
                        .map(|c| format!("{} {}", c.name, c.version()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        }
        _ => None,
    }
}

/// `3 break a client, 2 deviate`: the failed cases by impact, for the summary lines; `None`
/// when no failure has one.
pub fn fail_counts(r: &RunReport) -> Option<String> {
    let (b, d) = (
        r.count_impact(Impact::Breaks),
        r.count_impact(Impact::Deviates),
    );
    (b + d > 0).then(|| format!("{b} break a client, {d} deviate"))
}

/// Attach impacts to an entry of a report written before they were recorded (`merge` reads
/// such reports); an entry that has them keeps them.
pub fn assess_entry(r: &mut CaseResult) {
    if r.impact.is_some() || r.checks.iter().any(|c| c.impact.is_some()) {
        return;
    }
    let case = format!("{}/{}", r.suite, r.case);
    assess_checks(catalogue(), &case, &mut r.checks);
    r.impact = of_case(r.outcome, &r.checks);
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(*x));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(check: &str, message: &str) -> CheckResult {
        CheckResult::fail(check, message)
    }

    #[test]
    fn the_note_cites_the_client_call_most_like_the_case() {
        let effect = |call: &str| ClientEffect {
            deviation: "A6".into(),
            client: "openai-python".into(),
            version: "3.57.0".into(),
            call: call.into(),
            status: Status::Raises,
            symptom: format!("NotFoundError ({call})"),
        };
        let mut refused = CheckResult::fail("status", "HTTP 404");
        refused.clients = vec![effect("speech"), effect("transcription")];
        let res = |case: &str, feature: &str| CaseResult {
            checks: vec![refused.clone()],
            ..crate::testing::entry("t", "audio", case, feature, Outcome::Unsupported)
        };
        let note = |r: &CaseResult| note(r).unwrap();
        assert!(
            note(&res("transcription-json", "audio.transcription")).contains(" transcription: "),
            "{}",
            note(&res("transcription-json", "audio.transcription"))
        );
        assert!(note(&res("speech-mp3", "audio.speech_mp3")).contains(" speech: "));
        // Nothing alike: the first, as the catalogue orders them.
        assert!(note(&res("other", "audio.other")).contains(" speech: "));
    }

    #[test]
    fn a_check_the_catalogue_maps_carries_its_deviation_and_the_clients_it_breaks() {
        let mut checks = vec![
            failed(
                "tools.stream_deltas",
                "a tool-call delta has no `index` (QUIRKS S1)",
            ),
            CheckResult::warn("tools.stream_deltas", "a tool-call delta has no `index`"),
            CheckResult::pass("status", "200"),
        ];
        assess_checks(catalogue(), "tools/stream", &mut checks);
        let c = &checks[0];
        assert_eq!(c.impact, Some(Impact::Breaks));
        assert_eq!(c.deviations, ["S1"]);
        let cited: Vec<String> = c.clients.iter().map(cite).collect();
        assert!(
            cited
                .iter()
                .any(|l| l.starts_with("openai-python 3.57.0 tools_stream: raises TypeError")),
            "{cited:?}"
        );
        assert!(
            cited
                .iter()
                .any(|l| l.starts_with("openai-node 6.49.0 run_tools: the tool was never called")),
            "{cited:?}"
        );
        // A warning names the deviation it shows but gets no impact; a pass gets nothing.
        assert!(checks[1].impact.is_none());
        assert_eq!(checks[1].deviations, ["S1"]);
        assert!(checks[2].impact.is_none() && checks[2].deviations.is_empty());
        assert_eq!(of_case(Outcome::Fail, &checks), Some(Impact::Breaks));
    }

    #[test]
    fn an_unmapped_or_harmless_failure_deviates_and_an_error_breaks() {
        let mut checks = vec![
            failed("streaming.identity", "`created` changes within one stream"),
            failed("chat.response", "something the catalogue does not know"),
        ];
        assess_checks(catalogue(), "streaming/basic", &mut checks);
        assert_eq!(checks[0].impact, Some(Impact::Deviates));
        assert_eq!(checks[0].deviations, ["S10"]);
        assert!(checks[0].clients.is_empty());
        assert_eq!(checks[1].impact, Some(Impact::Deviates));
        assert!(checks[1].deviations.is_empty());
        assert_eq!(of_case(Outcome::Fail, &checks), Some(Impact::Deviates));
        assert_eq!(of_case(Outcome::Error, &[]), Some(Impact::Breaks));
        assert_eq!(of_case(Outcome::Unsupported, &checks), None);
        assert_eq!(of_case(Outcome::Pass, &checks), None);
    }

    #[test]
    fn an_error_status_where_a_success_was_expected_breaks_every_client() {
        let status = |actual: &str, expected: &str| {
            failed("status", &format!("HTTP {actual}, expected {expected}"))
                .expected(expected)
                .actual(actual)
        };
        let mut checks = vec![
            status("503", "200"),
            status("200", "400"),
            status("301", "200"),
        ];
        assess_checks(catalogue(), "chat/basic", &mut checks);
        assert_eq!(checks[0].impact, Some(Impact::Breaks));
        assert_eq!(checks[1].impact, Some(Impact::Deviates));
        assert_eq!(checks[2].impact, Some(Impact::Deviates));
        let mut res = crate::testing::entry("t", "chat", "basic", "chat.basic", Outcome::Fail);
        res.checks = checks;
        res.impact = of_case(res.outcome, &res.checks);
        assert_eq!(
            note(&res).as_deref(),
            Some(
                "breaks every client: an error status where a success was expected raises in every client library"
            )
        );
    }

    #[test]
    fn a_case_scoped_detection_only_maps_in_its_case() {
        let mut elsewhere = vec![failed("status", "HTTP 400, expected 401")];
        assess_checks(catalogue(), "chat/basic", &mut elsewhere);
        assert!(elsewhere[0].deviations.is_empty());
        let mut bad_key = vec![failed("status", "HTTP 400, expected 401")];
        assess_checks(catalogue(), "errors/bad-key", &mut bad_key);
        assert_eq!(bad_key[0].deviations, ["E2"]);
        assert_eq!(bad_key[0].impact, Some(Impact::Breaks));
    }

    #[test]
    fn the_note_cites_the_first_client_and_counts_the_rest() {
        let mut checks = vec![failed(
            "tools.stream_deltas",
            "a tool-call delta has no `index`",
        )];
        assess_checks(catalogue(), "tools/stream", &mut checks);
        let mut res = crate::testing::entry("t", "tools", "stream", "tools.stream", Outcome::Fail);
        res.impact = of_case(res.outcome, &checks);
        res.checks = checks;
        let n = note(&res).unwrap();
        assert!(
            n.starts_with(
                "breaks openai-python 3.57.0 tools_stream: raises TypeError: list indices"
            ),
            "{n}"
        );
        assert!(n.ends_with("(S1; 2 more client calls)"), "{n}");

        let mut checks = vec![failed(
            "streaming.done",
            "stream ended without data: [DONE]",
        )];
        assess_checks(catalogue(), "streaming/basic", &mut checks);
        res.impact = of_case(Outcome::Fail, &checks);
        res.checks = checks;
        let n = note(&res).unwrap();
        assert!(
            n.starts_with(
                "deviates (S7-no-done): every verified client works (openai-python 3.57.0"
            ),
            "{n}"
        );
    }
}
