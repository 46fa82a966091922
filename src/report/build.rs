//! Building the report model from what a run loaded and ran: each finished case becomes its
//! entry (redacted) the moment it arrives, and the rest is assembled at the end.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::aggregate::{FeatureRows, feature_rows, merge_repeats, set_outcome};
use super::body::{BODY_LIMIT, JsonText};
use super::html;
use super::impact;
use super::model::{
    AttemptSummary, BodyPolicy, CaseResult, ExchangeSummary, RunReport, SCHEMA_VERSION, SuiteInfo,
    TargetInfo, Tool,
};
use super::redact::Redact;
use super::results::{HOLD_BYTES, Results, SpoolWriter};
use super::targets::{self, Comparison, Latency};
use crate::execute::exchange::Exchange;
use crate::judge::{CaseOutcome, CheckStatus, Ending, FinishedCase, Outcome};
use crate::load::{Suite, Target};
use crate::redact::Redactor;
use crate::util::text::excerpt;

/// The suites a run loaded, every case listed (`report.json` `suites`).
pub fn loaded_suites(suites: &[Suite]) -> Vec<SuiteInfo> {
    suites
        .iter()
        .map(|s| SuiteInfo {
            id: s.id.clone(),
            cases: s.cases.iter().map(|c| c.id.to_string()).collect(),
        })
        .collect()
}

/// Everything the report needs besides the cases.
pub struct RunMeta<'a> {
    pub started_at: String,
    pub duration_ms: u64,
    pub partial: bool,
    /// `--replay DIR`: the recordings the responses came from.
    pub replayed_from: Option<String>,
    pub targets: &'a [Arc<Target>],
    /// (router, upstream) pairs whose hop latency to report.
    pub hop_pairs: Vec<(String, String)>,
}

/// Builds the report case by case, as the run hands finished cases over: each case's entry is
/// made (and redacted) at once and its raw exchanges dropped. Spooled ([`Collector::spool_to`]),
/// the entry goes to disk as soon as the entries before it have (held in memory until then, a
/// few at a time) and the run keeps a few bytes per case; otherwise (repeats to merge, the
/// runbook's small runs) the entries are held until the end.
pub struct Collector<'r> {
    redactor: &'r Redactor,
    bodies: BodyPolicy,
    /// More than one target: what comparing them needs.
    across_targets: Option<Comparison>,
    store: Store,
    /// The feature matrix, cell by cell as cases arrive (spooled runs).
    features: FeatureRows,
    latency: Latency,
    /// A spooled case's HTML detail, rendered as it finishes when the run has one target
    /// (`html::write_detail`; reused from case to case).
    detail: String,
}

enum Store {
    /// (plan index, entry, how the run ended: repeats are merged from these)
    Memory(Vec<(usize, CaseResult, Ending)>),
    /// The first write error ends the spooling: the run goes on, and `finish` reports it.
    Spool(Result<Box<SpoolWriter>, std::io::Error>),
}

impl<'r> Collector<'r> {
    /// `targets`: how many targets the run has.
    pub fn new(redactor: &'r Redactor, bodies: BodyPolicy, targets: usize) -> Self {
        Collector {
            redactor,
            bodies,
            across_targets: (targets > 1).then(|| Comparison::new(targets)),
            store: Store::Memory(Vec::new()),
            features: FeatureRows::default(),
            latency: Latency::default(),
            detail: String::new(),
        }
    }

    /// Spool the entries to an unnamed file in `dir` (the report directory) as they arrive,
    /// for a run whose every case runs once (repeats are merged from entries in memory). When
    /// the file cannot be made there, the entries stay in memory: writing the reports will
    /// name the problem, after the terminal has shown the run.
    pub fn spool_to(mut self, dir: &Path) -> Self {
        // With one target, cases finish at most about the concurrency apart in plan order, and
        // the spool holds the few that come early to write every entry in order. With several,
        // the targets run side by side while the plan lists one target's cases after
        // another's: no bounded hold could order them, so they are put in order at the end.
        let hold = match self.across_targets {
            None => HOLD_BYTES,
            Some(_) => 0,
        };
        if let Ok(spool) = SpoolWriter::holding(dir, hold) {
            self.store = Store::Spool(Ok(Box::new(spool)));
            // Every case once on each target: a case is compared as its last target ends it.
            if let Some(c) = &mut self.across_targets {
                c.every_case_once();
            }
        }
        self
    }

    /// Take a finished case (`idx` is its place in the plan; cases may arrive in any order)
    /// with how it ended and the outcome derived from that.
    pub fn add(&mut self, idx: usize, rec: &FinishedCase, ending: &Ending, outcome: &CaseOutcome) {
        self.latency.add(rec);
        if let Some(c) = &mut self.across_targets {
            c.add(idx, rec, outcome);
        }
        // Redacted where its text is (strings, headers, bodies), once.
        let mut entry = case_result(rec, outcome, self.bodies.keeps(outcome.outcome));
        entry.redact(self.redactor);
        match &mut self.store {
            Store::Memory(results) => {
                let mut ending = ending.clone();
                ending.redact(self.redactor);
                results.push((idx, entry, ending));
            }
            Store::Spool(Ok(spool)) => {
                self.features.add(idx, &entry);
                // With one target the detail needs nothing but the entry: rendered now, while
                // the run goes on, not while the reports are written.
                let detail = self.across_targets.is_none().then(|| {
                    self.detail.clear();
                    html::write_detail(&mut self.detail, &entry, self.bodies);
                    self.detail.as_str()
                });
                if let Err(e) = spool.add(idx, &mut entry, detail) {
                    self.store = Store::Spool(Err(e));
                }
            }
            Store::Spool(Err(_)) => {}
        }
    }

    /// The report of every case taken, in plan order; an error when the entries could not be
    /// spooled.
    pub fn finish(self, meta: &RunMeta<'_>) -> std::io::Result<RunReport> {
        let Collector {
            redactor,
            bodies,
            store,
            features,
            across_targets,
            latency,
            ..
        } = self;
        let latency = latency.rows();
        let hops = targets::hops(&latency, &meta.hop_pairs);
        let differences = across_targets.map(Comparison::finish).unwrap_or_default();
        let (results, features): (Results, _) = match store {
            Store::Memory(mut results) => {
                results.sort_by_key(|(idx, ..)| *idx);
                // Collected in place (same allocation): no second copy of the entries.
                let results: Vec<(CaseResult, Ending)> =
                    results.into_iter().map(|(_, r, e)| (r, e)).collect();
                let results = merge_repeats(results);
                let features = feature_rows(&results);
                (results.into(), features)
            }
            Store::Spool(spool) => (spool?.finish()?, features.finish()),
        };
        // Results were redacted as they came in: everything else is redacted here.
        let mut report = redactor.value(RunReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "llm-parity".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            started_at: meta.started_at.clone(),
            duration_ms: meta.duration_ms,
            partial: meta.partial,
            replayed_from: meta.replayed_from.clone(),
            report_bodies: bodies,
            targets: meta
                .targets
                .iter()
                .map(|t| TargetInfo {
                    name: t.name.clone(),
                    base_url: t.base_url.to_string(),
                    models: t.models.clone(),
                    api_key_env: t.auth.key_env().map(str::to_string),
                    via: t.via.clone(),
                })
                .collect(),
            features,
            results: Results::default(),
            differences: vec![],
            latency,
            hops,
            suites: vec![],
            shard: None,
            baseline: None,
        });
        report.results = results;
        report.differences = differences.into_iter().map(|d| redactor.value(d)).collect();
        Ok(report)
    }
}

fn case_result(r: &FinishedCase, outcome: &CaseOutcome, keep_bodies: bool) -> CaseResult {
    let mut checks = Vec::new();
    let mut passed = 0;
    for c in r.checks() {
        if c.status == CheckStatus::Pass {
            passed += 1;
        } else {
            checks.push(c.clone());
        }
    }
    let case = format!("{}/{}", r.case.suite, r.case.id);
    impact::assess_checks(impact::catalogue(), &case, &mut checks);
    let last = r.steps.last();
    let mut entry = CaseResult {
        target: r.target.name.clone(),
        suite: r.case.suite.to_string(),
        case: r.case.id.to_string(),
        feature: r.case.feature.to_string(),
        outcome: Outcome::Pass,
        reason: None,
        step: None,
        impact: None,
        duration_ms: r.duration.as_millis() as u64,
        http_status: last
            .and_then(|s| s.exchange.response.as_ref())
            .map(|x| x.status),
        warnings: r
            .warnings()
            .map(|w| format!("{}: {}", w.check, w.reason()))
            .collect(),
        notes: (outcome.outcome != Outcome::Pass)
            .then(|| r.case.notes.as_deref().map(str::to_string))
            .flatten(),
        timings: last.map(|s| s.exchange.timings.clone()),
        checks,
        checks_passed: passed,
        exchanges: r
            .steps
            .iter()
            .map(|s| summarize(&s.name, &s.exchange, keep_bodies))
            .collect(),
        repeats: vec![],
        flaky: false,
        missing_model: r.missing_model().map(str::to_string),
    };
    set_outcome(&mut entry, outcome.clone());
    entry
}

/// One exchange as the report shows it; headers and bodies only when `keep_bodies`.
fn summarize(step: &str, ex: &Exchange, keep_bodies: bool) -> ExchangeSummary {
    let resp = ex.response.as_ref();
    let text = |s: &str| JsonText::new(&Value::String(excerpt(s, BODY_LIMIT)));
    let (request_headers, request_body, response_headers, response_body) = if keep_bodies {
        (
            ex.request.headers.iter().cloned().collect(),
            ex.request
                .body
                .as_ref()
                .map(JsonText::capped)
                .or_else(|| ex.request.raw_body.as_deref().map(text)),
            resp.map(|r| r.headers.iter().cloned().collect())
                .unwrap_or_default(),
            resp.and_then(|r| {
                if r.body.is_empty() {
                    None
                } else if let Some(j) = &r.json {
                    Some(JsonText::capped(j))
                } else {
                    Some(JsonText::new(&Value::String(r.body_excerpt(BODY_LIMIT))))
                }
            }),
        )
    } else {
        Default::default()
    };
    ExchangeSummary {
        step: step.to_string(),
        method: ex.request.method.clone(),
        url: ex.request.url.clone(),
        request_headers,
        request_body,
        status: resp.map(|r| r.status),
        response_headers,
        response_body,
        transport_error: ex.error.as_ref().map(|e| e.message.clone()),
        stream_cut: resp.and_then(|r| r.stream.as_ref()?.cut().cloned()),
        attempts: ex
            .attempt_log
            .iter()
            .enumerate()
            .map(|(i, a)| AttemptSummary {
                attempt: i as u32 + 1,
                status: a.status,
                error: a.error.clone(),
                duration_ms: a.duration_ms.max(0.0) as u64,
                retried_because: a.retried_because.clone(),
                delay_ms: a.delay.map(|d| d.as_millis() as u64),
                delay_source: a.delay.map(|_| {
                    if a.delay_from_retry_after {
                        "retry_after".into()
                    } else {
                        "backoff".into()
                    }
                }),
            })
            .collect(),
    }
}
