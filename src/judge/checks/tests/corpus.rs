//! No false alarm on real OpenAI responses: a corpus of recorded and documented OpenAI shapes
//! (`tests/fixtures/corpus/`: the responses openai-python records for its own tests, and the
//! examples of OpenAI's OpenAPI spec), each judged as a case would judge it — the schema, the
//! checks that need nothing from the request, and the findings the judge adds on every answer.
//! Every shape passes with no failure; the warnings each one gets are pinned, so a new one is a
//! visible change.

use serde::Deserialize;
use serde_json::{Value, json};

use super::kit::{Row, ask, json as json_response, judge, render, sse_raw};
use crate::judge::{CheckStatus, Outcome};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    source: String,
    kind: Kind,
    body: Value,
    /// The request, when a check needs it (declared tools, logprobs asked for).
    #[serde(default)]
    request: Option<Value>,
    /// The findings (check names) this shape gets, when it is not expected to pass.
    #[serde(default)]
    findings: Vec<String>,
    /// Why it gets them.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Json,
    Sse,
}

const CORPORA: &[(&str, &str)] = &[
    (
        "openai-python",
        include_str!("../../../../tests/fixtures/corpus/openai-python.json"),
    ),
    (
        "openai-spec",
        include_str!("../../../../tests/fixtures/corpus/openai-spec.json"),
    ),
];

const STREAM_CHECKS: &[&str] = &[
    "streaming.content_type",
    "streaming.framing",
    "streaming.chunks",
    "streaming.identity",
    "streaming.role",
    "streaming.finish",
    "streaming.done",
    "streaming.error_event",
    "streaming.reassembled",
];

fn row(e: &Entry) -> Row {
    // Row names are 'static; the corpus lives for the whole test run.
    let what: &'static str = Box::leak(e.name.clone().into_boxed_str());
    match e.kind {
        Kind::Json => {
            let mut checks = vec!["chat.response"];
            let request = e.request.clone().unwrap_or_else(|| ask("Hello!"));
            if request.get("tools").is_some() {
                checks.extend(["tools.calls", "tools.finish_reason"]);
            }
            if request.get("logprobs").is_some() {
                checks.push("chat.logprobs");
            }
            Row::new(what, &checks, request, json_response(200, e.body.clone())).expect(&format!(
                "{{ status: 200, schema: chat.completion, checks: [{}] }}",
                checks.join(", ")
            ))
        }
        Kind::Sse => Row::new(
            what,
            STREAM_CHECKS,
            json!({"model": "m", "messages": [{"role": "user", "content": "Hello!"}], "stream": true}),
            sse_raw(e.body.as_str().expect("an SSE body is a string")),
        ),
    }
}

#[test]
fn real_openai_responses_raise_no_false_alarm() {
    let mut pinned = String::new();
    let mut count = 0;
    for (corpus, text) in CORPORA {
        let entries: Vec<Entry> = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("tests/fixtures/corpus/{corpus}.json: {e}"));
        for e in &entries {
            count += 1;
            let v = judge(&row(e));
            let failed: Vec<&str> = v
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Fail)
                .map(|c| c.check.as_str())
                .collect();
            let want: Vec<&str> = e.findings.iter().map(String::as_str).collect();
            assert_eq!(
                failed,
                want,
                "{corpus}: {} ({}) was judged:\n{}",
                e.name,
                e.source,
                render(&v)
            );
            if want.is_empty() {
                assert_eq!(
                    v.outcome,
                    Outcome::Pass,
                    "{corpus}: {}\n{}",
                    e.name,
                    render(&v)
                );
            }
            let notes: Vec<String> = v
                .checks
                .iter()
                .filter(|c| c.status != CheckStatus::Pass)
                .map(|c| format!("   {:?} {}: {}\n", c.status, c.check, c.reason()))
                .collect();
            pinned.push_str(&format!(
                "{corpus}: {} => {}\n{}",
                e.name,
                v.outcome.as_str(),
                notes.concat()
            ));
        }
    }
    assert!(count >= 30, "the corpus shrank to {count} shapes");
    insta::assert_snapshot!(pinned);
}
