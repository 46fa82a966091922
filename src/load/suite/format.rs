//! The YAML format of a suite file: private `*Def` structs with `deny_unknown_fields`, so a
//! misspelt key is an error with the accepted keys and a "did you mean".

use std::collections::BTreeMap;

use serde::Deserialize;

use super::model::{AuthOverride, JsonType, SnapshotMode};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuiteDef {
    pub(super) suite: String,
    pub(super) description: String,
    pub(super) cases: Vec<CaseDef>,
    #[serde(default)]
    pub(super) redact: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CaseDef {
    pub(super) id: String,
    pub(super) feature: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) notes: Option<String>,
    #[serde(default)]
    pub(super) request: Option<RequestDef>,
    #[serde(default)]
    pub(super) expect: Option<ExpectDef>,
    #[serde(default)]
    pub(super) steps: Vec<StepDef>,
    #[serde(default)]
    pub(super) snapshot: Option<SnapshotMode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepDef {
    #[serde(default)]
    pub(super) name: Option<String>,
    pub(super) request: RequestDef,
    #[serde(default)]
    pub(super) expect: Option<ExpectDef>,
    #[serde(default)]
    pub(super) capture: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) poll: Option<PollDef>,
}

/// `poll:` — re-send a step while its response satisfies `while` (a job still running).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PollDef {
    #[serde(rename = "while")]
    pub(super) pending: JsonPathDef,
    pub(super) every_seconds: f64,
    pub(super) at_most: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RequestDef {
    #[serde(default)]
    pub(super) method: Option<String>,
    pub(super) path: String,
    #[serde(default)]
    pub(super) body: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(super) raw_body: Option<String>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) auth: AuthOverride,
    #[serde(default)]
    pub(super) multipart: BTreeMap<String, MultipartDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MultipartDef {
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) filename: Option<String>,
    #[serde(default)]
    pub(super) content: Option<String>,
    /// A file under `fixtures/`, sent byte for byte (binary files such as audio).
    #[serde(default)]
    pub(super) fixture: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectDef {
    #[serde(default)]
    pub(super) status: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(super) content_type: Option<String>,
    #[serde(default)]
    pub(super) schema: Option<String>,
    #[serde(default)]
    pub(super) jsonpath: Vec<JsonPathDef>,
    #[serde(default)]
    pub(super) checks: Vec<String>,
    #[serde(default)]
    pub(super) body: Option<BodyDef>,
}

/// `expect.body`: the exact bytes the response body must be.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BodyDef {
    pub(super) fixture: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JsonPathDef {
    pub(super) path: String,
    #[serde(default)]
    pub(super) exists: Option<bool>,
    #[serde(default)]
    pub(super) equals: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(super) contains: Option<serde_yaml::Value>,
    #[serde(default, rename = "type")]
    pub(super) type_: Option<JsonType>,
    #[serde(default)]
    pub(super) matches: Option<String>,
    #[serde(default)]
    pub(super) one_of: Option<Vec<serde_yaml::Value>>,
    #[serde(default)]
    pub(super) length: Option<usize>,
    #[serde(default)]
    pub(super) gt: Option<f64>,
    #[serde(default)]
    pub(super) gte: Option<f64>,
    #[serde(default)]
    pub(super) lt: Option<f64>,
    #[serde(default)]
    pub(super) lte: Option<f64>,
}
