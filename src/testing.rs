//! Fixtures for unit tests: a target, a case and a finished case, built through the real
//! loaders so they are what a run would produce, and a bare report entry.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::execute::exchange::{Exchange, Response, SentRequest, Timings};
use crate::judge::{CheckResult, Outcome, Verdict};
use crate::judge::{FinishedCase, FinishedStep, Stop};
use crate::load::suite::{SuiteEnv, load_suite};
use crate::load::target::load_targets;
use crate::load::{Case, Target};
use crate::report::CaseResult;

/// A target named `name` on 127.0.0.1 with a `chat` model.
pub fn target(name: &str) -> Arc<Target> {
    target_at(name, "http://127.0.0.1:9/v1")
}

/// A target named `name` at `base_url` with a `chat` model.
pub fn target_at(name: &str, base_url: &str) -> Arc<Target> {
    let text =
        format!("targets:\n  {name}:\n    base_url: {base_url}\n    models: {{ chat: m }}\n");
    let mut t = load_targets(Path::new("targets.yaml"), &text, &|_| None).expect("target loads");
    Arc::new(t.remove(0))
}

/// Case `id` of suite `s`: one chat request expecting HTTP 200.
pub fn case(id: &str) -> Arc<Case> {
    let text = format!(
        "suite: s\ndescription: test\ncases:\n  - id: {id}\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: {{ model: \"{{{{model.chat}}}}\", messages: [] }}\n    expect: {{ status: 200 }}\n"
    );
    let env = SuiteEnv {
        fixtures_root: Some(Path::new("fixtures")),
        allow_fixture_escape: false,
        schema_ids: &[],
        check_names: &[],
        builtin: false,
    };
    let suite = load_suite(Path::new("s.yaml"), &text, &env).expect("suite loads");
    suite.cases[0].clone()
}

/// A finished case: one exchange answered 200 with `body` (JSON), its step judged `outcome`
/// (pass, or failed by its `status` check).
pub fn finished(
    target: &Arc<Target>,
    case: &Arc<Case>,
    outcome: Outcome,
    body: Value,
) -> FinishedCase {
    let text = body.to_string();
    let check = match outcome {
        Outcome::Pass => CheckResult::pass("status", "200"),
        _ => CheckResult::fail("status", "not what was expected"),
    };
    FinishedCase {
        target: target.clone(),
        case: case.clone(),
        stop: Stop::Ran,
        steps: vec![FinishedStep {
            name: "main".into(),
            exchange: Exchange {
                request: SentRequest {
                    method: "POST".into(),
                    url: format!("{}chat/completions", target.base_url),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: Some(serde_json::json!({"model": "m", "messages": []})),
                    raw_body: None,
                },
                response: Some(Response {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: text.into(),
                    stream: None,
                    arrivals: Default::default(),
                    json: Some(body),
                    json_error: None,
                }),
                error: None,
                timings: Timings {
                    headers_ms: Some(1.0),
                    total_ms: 2.0,
                    ..Timings::default()
                },
                attempts: 1,
                attempt_log: vec![],
            },
            verdict: Verdict::from_checks(vec![check]),
        }],
        case_checks: vec![],
        duration: Duration::from_millis(2),
    }
}

/// A report entry of `suite/case` on `target` with `outcome` and nothing else: tests set the
/// fields they are about with struct update syntax.
pub fn entry(target: &str, suite: &str, case: &str, feature: &str, outcome: Outcome) -> CaseResult {
    CaseResult {
        target: target.into(),
        suite: suite.into(),
        case: case.into(),
        feature: feature.into(),
        outcome,
        reason: None,
        step: None,
        impact: None,
        duration_ms: 0,
        http_status: None,
        warnings: vec![],
        notes: None,
        timings: None,
        checks: vec![],
        checks_passed: 0,
        exchanges: vec![],
        repeats: vec![],
        flaky: false,
        missing_model: None,
    }
}
