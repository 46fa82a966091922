//! The compiled suite model the rest of the pipeline uses: `Suite`, `Case`, `Step`, `Expect`,
//! and the suite syntax they carry (assertions, snapshot mode and scrub selectors), all checked
//! and compiled at load time.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json_path::JsonPath;

use super::steps::Steps;
use crate::load::template::{Expr, TValue};

#[derive(Debug)]
pub struct Suite {
    pub id: String,
    pub description: String,
    pub file: std::path::PathBuf,
    /// Shipped inside the binary (`load::builtin`), not read from a file: its snapshots and
    /// fixtures are the built-in ones too.
    pub builtin: bool,
    pub cases: Vec<Arc<Case>>,
    /// Snapshot scrub selectors (the suite's `redact:` key), applied to every snapshotted case.
    pub scrub: Vec<ScrubSelector>,
}

#[derive(Debug)]
pub struct Case {
    /// Shared by the suite's cases (a large suite holds many thousands, so a loaded case keeps
    /// its own text boxed, without spare capacity, and shares what cases repeat).
    pub suite: Arc<str>,
    pub id: Box<str>,
    /// Shared by the suite's cases of the same feature.
    pub feature: Arc<str>,
    pub description: Option<Box<str>>,
    /// Shared by the suite's cases with the same tags.
    pub tags: Arc<[Box<str>]>,
    /// Free text shown with a failure: what the deviation means and how apps work around it.
    pub notes: Option<Box<str>>,
    /// Held, or compiled again from its validated definition when the case runs
    /// ([`Steps::get`]).
    pub steps: Steps,
    /// Model roles the request templates need (`load::template::ROLES`), in the order they are
    /// first used; a target missing one skips the case. Shared by the suite's cases with the
    /// same roles.
    pub roles: Arc<[&'static str]>,
    /// How the case's responses are snapshotted (`snapshot:`); `None`: not snapshotted.
    pub snapshot: Option<SnapshotMode>,
}

impl Case {
    /// `suite/case`, the id `--filter` globs match.
    pub fn full_id(&self) -> String {
        format!("{}/{}", self.suite, self.id)
    }
    pub fn is_opt_in(&self) -> bool {
        self.tags.iter().any(|t| &**t == "opt-in")
    }
}

#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub request: RequestTemplate,
    pub expect: Expect,
    /// name → JSONPath into the response body; available as `{{capture.name}}` afterwards.
    pub capture: Vec<(String, JsonPath)>,
    /// Re-send the step while its response says the job is still running (a batch).
    pub poll: Option<Poll>,
}

/// How a step polls: re-sent every `every` while `pending` holds (the job is still running),
/// `at_most` sends in all. A step still pending after the last send is a skip (not judged), not
/// a failure: real endpoints may take far longer (a batch up to 24 h) than a conformance run
/// waits. Any other answer — finished, or a state the condition does not name — is judged.
#[derive(Debug)]
pub struct Poll {
    pub pending: JsonPathAssert,
    pub every: std::time::Duration,
    pub at_most: u32,
}

impl Step {
    /// Whether the request path names something an earlier step returned
    /// (`/batches/{{capture.batch_id}}`).
    pub fn path_uses_capture(&self) -> bool {
        let mut uses = false;
        self.request
            .path
            .visit_exprs(&mut |e| uses |= matches!(e, Expr::Capture(_)));
        uses
    }
}

#[derive(Debug)]
pub struct RequestTemplate {
    pub method: reqwest::Method,
    pub path: TValue,
    pub body: Option<TValue>,
    /// Sent verbatim (e.g. deliberately malformed JSON).
    pub raw_body: Option<String>,
    pub headers: Vec<(String, TValue)>,
    pub auth: AuthOverride,
    /// `multipart/form-data` fields: name → text value or fixture file.
    pub multipart: Vec<(String, MultipartValue)>,
    /// Whether the body asks for a stream (`"stream": true`), decided at load time.
    pub stream: bool,
}

#[derive(Debug, Clone)]
pub enum MultipartValue {
    /// A text field (templates allowed: `{{model.transcription}}`).
    Text(TValue),
    File {
        filename: String,
        content: FileContent,
    },
}

/// What a multipart file part carries.
#[derive(Debug, Clone)]
pub enum FileContent {
    /// Text with templates (`content:`).
    Template(TValue),
    /// A fixture file, byte for byte (`fixture:`).
    Bytes(Arc<Vec<u8>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthOverride {
    /// The target's configured credentials.
    #[default]
    Default,
    /// No credentials at all.
    None,
    /// A syntactically plausible but wrong key, in the target's auth header.
    Invalid,
}

#[derive(Debug, Default)]
pub struct Expect {
    pub status: Option<StatusExpect>,
    pub content_type: Option<String>,
    pub schema: Option<String>,
    pub jsonpath: Vec<JsonPathAssert>,
    pub checks: Vec<String>,
    /// The exact bytes the body must be (`body: { fixture: … }`).
    pub body: Option<ExpectedBody>,
}

impl Expect {
    /// Every template expression of the expectations (a capture named in `equals`).
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        for a in &self.jsonpath {
            a.op.visit(f);
        }
    }
}

impl JsonPathOp {
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        if let JsonPathOp::Equals(t) | JsonPathOp::Contains(t) = self {
            t.visit_exprs(f);
        }
    }
}

/// Bytes a response body must equal, and the fixture they come from.
#[derive(Debug)]
pub struct ExpectedBody {
    pub fixture: String,
    pub bytes: Vec<u8>,
}

/// Accepted statuses: exact codes and/or classes (`2xx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusExpect {
    pub codes: Vec<u16>,
    pub classes: Vec<u16>,
}

impl StatusExpect {
    pub fn accepts(&self, status: u16) -> bool {
        self.codes.contains(&status) || self.classes.contains(&(status / 100))
    }
    pub fn expects_success(&self) -> bool {
        self.classes.contains(&2) || self.codes.iter().any(|c| (200..300).contains(c))
    }
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.codes.iter().map(|c| c.to_string()).collect();
        parts.extend(self.classes.iter().map(|c| format!("{c}xx")));
        parts.join(" or ")
    }
}

#[derive(Debug)]
pub struct JsonPathAssert {
    pub source: String,
    /// Compiled once per suite file and shared by the cases that assert on the same path.
    pub path: Arc<JsonPath>,
    pub op: JsonPathOp,
}

#[derive(Debug, Clone)]
pub enum JsonPathOp {
    Exists(bool),
    /// Every selected value equals this one (templates such as `{{capture.id}}` resolved
    /// when the step is judged).
    Equals(TValue),
    /// At least one selected value equals this one (`{{capture.file_id}}` in a list).
    Contains(TValue),
    Type(JsonType),
    Matches(regex::Regex),
    OneOf(Vec<Value>),
    Length(usize),
    Compare(CompareOp, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

/// How a case's responses are snapshotted (the case-level `snapshot:` key of a suite; the
/// documents themselves are made by `snapshot::canonical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotMode {
    Shape,
    Exact,
    Stream,
}

impl SnapshotMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMode::Shape => "shape",
            SnapshotMode::Exact => "exact",
            SnapshotMode::Stream => "stream",
        }
    }
}

impl std::fmt::Display for SnapshotMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scrub selector of a suite (`redact: ["$.choices[*].message.content"]`), compiled at
/// load time: the values it selects are replaced in the snapshot document. It applies to the
/// document's response body — or, in `stream` mode, to the reassembled message, which has the
/// shape of a `chat.completion`.
#[derive(Debug, Clone)]
pub struct ScrubSelector {
    pub source: String,
    pub path: JsonPath,
}

impl ScrubSelector {
    pub fn parse(source: &str) -> Result<Self, serde_json_path::ParseError> {
        JsonPath::parse(source).map(|path| ScrubSelector {
            source: source.to_string(),
            path,
        })
    }
}
