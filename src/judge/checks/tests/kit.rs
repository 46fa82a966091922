//! Table-driven tests of the pure judge: `(request, response) → check results`, rendered as
//! short text and pinned with insta. A row is one exchange; its results are what `judge_step`
//! gives for a step that expects `status: 200` (or the row's own expectations) and names the
//! row's checks — the same path a run takes, without a network or a binary.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::execute::exchange::{Exchange, Response, SentRequest, Timings};
use crate::execute::http::MultipartPart;
use crate::execute::stream::ChatStream;
use crate::judge::outcome::{CheckResult, CheckStatus, Verdict};
use crate::judge::{StepInput, judge_step};
use crate::load::suite::{SuiteEnv, load_suite};
use crate::load::{SchemaStore, Target};

/// The built-in schemas, loaded once for every test.
pub fn schemas() -> &'static SchemaStore {
    static S: OnceLock<Arc<SchemaStore>> = OnceLock::new();
    S.get_or_init(|| SchemaStore::load(None).expect("built-in schemas load"))
}

/// A response with a JSON body.
pub fn json(status: u16, body: Value) -> Response {
    let text = body.to_string();
    Response {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-request-id".into(), "req_test".into()),
        ],
        body: text.into_bytes().into(),
        stream: None,
        arrivals: Default::default(),
        json: Some(body),
        json_error: None,
    }
}

/// A response with a body that is not JSON (or an empty one), with `content_type`.
pub fn text(status: u16, content_type: &str, body: &str) -> Response {
    let json_error = serde_json::from_str::<Value>(body)
        .err()
        .map(|e| e.to_string());
    Response {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.as_bytes().to_vec().into(),
        stream: None,
        arrivals: Default::default(),
        json: serde_json::from_str(body).ok(),
        json_error,
    }
}

/// An HTTP 200 event stream of `data:` events, one per JSON chunk, ending with `[DONE]` when
/// `done`.
pub fn sse(chunks: &[Value], done: bool) -> Response {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    sse_raw(&body)
}

/// An HTTP 200 event stream with this exact body.
pub fn sse_raw(body: &str) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/event-stream".into()),
            ("x-request-id".into(), "req_test".into()),
        ],
        body: body.as_bytes().to_vec().into(),
        stream: Some(ChatStream::parse(body.as_bytes())),
        arrivals: Default::default(),
        json: None,
        json_error: None,
    }
}

fn target() -> Arc<Target> {
    crate::testing::target("t")
}

/// One table row: what was sent, what came back, what the step expects.
pub struct Row {
    pub what: &'static str,
    pub request: Value,
    pub response: Response,
    /// The step's `expect:` in suite YAML (flow style), e.g. `{ status: 200, checks: [chat.response] }`.
    pub expect: String,
    /// The step's request path (a capture in it makes a 404 "lost", not "missing").
    pub path: &'static str,
    /// The multipart fields sent (an upload), when the request was multipart.
    pub form: Vec<(String, MultipartPart)>,
}

impl Row {
    /// A row for a step expecting HTTP 200 and running `checks`.
    pub fn new(what: &'static str, checks: &[&str], request: Value, response: Response) -> Row {
        Row {
            what,
            request,
            response,
            expect: format!("{{ status: 200, checks: [{}] }}", checks.join(", ")),
            path: "/chat/completions",
            form: vec![],
        }
    }

    /// The same row sent as a multipart form: text fields and one `file` part.
    pub fn form(mut self, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Row {
        self.form = fields
            .iter()
            .map(|(k, v)| (k.to_string(), MultipartPart::Text(v.to_string())))
            .collect();
        if let Some((filename, bytes)) = file {
            self.form.push((
                "file".into(),
                MultipartPart::File {
                    filename: filename.into(),
                    bytes: bytes.to_vec(),
                },
            ));
        }
        self
    }

    /// The same row with the step's whole `expect:` replaced.
    pub fn expect(mut self, expect: &str) -> Row {
        self.expect = expect.into();
        self
    }

    /// The same row with another request path.
    pub fn path(mut self, path: &'static str) -> Row {
        self.path = path;
        self
    }
}

/// Judge one row as `judge_step` would in a run.
pub fn judge(row: &Row) -> Verdict {
    let schema_ids = schemas().ids();
    let check_names: Vec<&str> = crate::judge::checks::names().collect();
    let yaml = format!(
        "suite: s\ndescription: test\ncases:\n  - id: c\n    feature: chat.basic\n    steps:\n      - name: first\n        request: {{ path: /first, body: {{}} }}\n        capture: {{ id: $.id }}\n      - name: main\n        request: {{ path: \"{}\", body: {{}} }}\n        expect: {}\n",
        row.path, row.expect
    );
    let env = SuiteEnv {
        fixtures_root: None,
        allow_fixture_escape: false,
        schema_ids: &schema_ids,
        check_names: &check_names,
        builtin: false,
    };
    let suite = match load_suite(Path::new("s.yaml"), &yaml, &env) {
        Ok(s) => s,
        Err(e) => panic!("{}: the row's suite does not load: {e:?}", row.what),
    };
    let steps = suite.cases[0].steps.held().expect("held steps");
    let step = &steps[1];
    let exchange = Exchange {
        request: SentRequest {
            method: "POST".into(),
            url: format!("http://127.0.0.1:9/v1{}", row.path),
            headers: vec![],
            body: Some(row.request.clone()),
            raw_body: None,
        },
        response: Some(row.response.clone()),
        error: None,
        timings: Timings::default(),
        attempts: 1,
        attempt_log: vec![],
    };
    let target = target();
    judge_step(&StepInput {
        step,
        request: Some(&row.request),
        request_path: row.path.trim_start_matches('/'),
        form: &row.form,
        captures: &std::collections::BTreeMap::new(),
        exchange: &exchange,
        schemas: schemas(),
        target: &target,
    })
}

/// A verdict as pinned text: the outcome and reason, then one line per check result.
pub fn render(v: &Verdict) -> String {
    let mut s = format!("=> {}", v.outcome.as_str());
    if let Some(r) = &v.reason {
        s.push_str(&format!(": {r}"));
    }
    s.push('\n');
    for c in &v.checks {
        s.push_str(&format!("   {} {}\n", status_word(c.status), line(c)));
    }
    s
}

fn status_word(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "FAIL",
        CheckStatus::Warn => "warn",
        CheckStatus::Unsupported => "unsupported",
    }
}

fn line(c: &CheckResult) -> String {
    let mut s = format!("{}: {}", c.check, c.reason());
    if let Some(e) = &c.expected {
        s.push_str(&format!(" [expected {e}]"));
    }
    if let Some(a) = &c.actual {
        s.push_str(&format!(" [actual {a}]"));
    }
    s
}

/// Every row judged and rendered, each under its name: the text a table test pins.
pub fn table(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("## {}\n{}", r.what, render(&judge(r))))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A well-formed chat.completion around `message`, finishing `stop`, with usage 5 + 3 = 8.
pub fn completion(message: Value) -> Value {
    completion_with(
        message,
        "stop",
        serde_json::json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}),
    )
}

/// A chat.completion around `message` with this finish_reason and usage.
pub fn completion_with(message: Value, finish_reason: &str, usage: Value) -> Value {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": null}],
        "usage": usage,
    })
}

/// An assistant message with this text.
pub fn said(text: &str) -> Value {
    serde_json::json!({"role": "assistant", "content": text, "refusal": null})
}

/// A chat.completion.chunk with one choice (index 0) carrying `delta` and `finish_reason`.
pub fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null}],
    })
}

/// The usage chunk of `include_usage`: `choices: []` and usage.
pub fn usage_chunk(usage: Value) -> Value {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [],
        "usage": usage,
    })
}

/// The chunks of a plain streamed answer "Hello there": role, two content deltas, the finish.
pub fn hello_chunks() -> Vec<Value> {
    vec![
        chunk(
            serde_json::json!({"role": "assistant", "content": ""}),
            None,
        ),
        chunk(serde_json::json!({"content": "Hello"}), None),
        chunk(serde_json::json!({"content": " there"}), None),
        chunk(serde_json::json!({}), Some("stop")),
    ]
}

/// A plain chat request with one user message.
pub fn ask(text: &str) -> Value {
    serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]})
}

/// The same request with `extra`'s members added.
pub fn plus(mut request: Value, extra: Value) -> Value {
    if let (Some(r), Value::Object(e)) = (request.as_object_mut(), extra) {
        r.extend(e);
    }
    request
}
