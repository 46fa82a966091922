//! The YAML format of a suite file: private `*Def` structs with `deny_unknown_fields`, and the
//! same format as a [`Shape`] (which keys each level takes, which are required, what type each
//! value has), against which a file serde refuses is checked to report every structural problem
//! of the file at once. A test holds the two to the same keys.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{AuthOverride, JsonType, SnapshotMode};
use crate::load::shape::{Field, MapShape, Shape};

/// The shape of a whole suite file.
pub(super) const SUITE: MapShape = MapShape {
    name: "the suite",
    fields: &[
        Field::required("suite", Shape::Str),
        Field::optional("description", Shape::Str),
        Field::defaulted("areas", Shape::List(&Shape::Str)),
        Field::required("cases", Shape::List(&Shape::Map(&CASE))),
        Field::defaulted("redact", Shape::List(&Shape::Str)),
    ],
};

const CASE: MapShape = MapShape {
    name: "a case",
    fields: &[
        Field::required("id", Shape::Str),
        Field::required("feature", Shape::Str),
        Field::optional("description", Shape::Str),
        Field::defaulted("tags", Shape::List(&Shape::Str)),
        Field::optional("notes", Shape::Str),
        Field::optional("request", Shape::Map(&REQUEST)),
        Field::optional("expect", Shape::Map(&EXPECT)),
        Field::defaulted("steps", Shape::List(&Shape::Map(&STEP))),
        Field::optional("snapshot", Shape::Enum(&["shape", "exact", "stream"])),
    ],
};

const STEP: MapShape = MapShape {
    name: "a step",
    fields: &[
        Field::optional("name", Shape::Str),
        Field::required("request", Shape::Map(&REQUEST)),
        Field::optional("expect", Shape::Map(&EXPECT)),
        Field::defaulted("capture", Shape::Dict(&Shape::Str)),
        Field::optional("poll", Shape::Map(&POLL)),
    ],
};

const POLL: MapShape = MapShape {
    name: "a poll",
    fields: &[
        Field::required("while", Shape::Map(&JSONPATH)),
        Field::required("every_seconds", Shape::Number),
        Field::required("at_most", Shape::UInt(u32::MAX as u64)),
    ],
};

const REQUEST: MapShape = MapShape {
    name: "a request",
    fields: &[
        Field::optional("method", Shape::Str),
        Field::required("path", Shape::Str),
        Field::optional("body", Shape::Any),
        Field::optional("raw_body", Shape::Str),
        Field::defaulted("headers", Shape::Dict(&Shape::Str)),
        Field::defaulted("auth", Shape::Enum(&["default", "none", "invalid"])),
        Field::defaulted("multipart", Shape::Dict(&Shape::Map(&MULTIPART))),
    ],
};

const MULTIPART: MapShape = MapShape {
    name: "a multipart field",
    fields: &[
        Field::optional("text", Shape::Str),
        Field::optional("filename", Shape::Str),
        Field::optional("content", Shape::Str),
        Field::optional("fixture", Shape::Str),
    ],
};

const EXPECT: MapShape = MapShape {
    name: "an expect",
    fields: &[
        Field::optional("status", Shape::Any),
        Field::optional("content_type", Shape::Str),
        Field::optional("schema", Shape::Str),
        Field::defaulted("jsonpath", Shape::List(&Shape::Map(&JSONPATH))),
        Field::defaulted("checks", Shape::List(&Shape::Str)),
        Field::optional("body", Shape::Map(&BODY)),
    ],
};

const BODY: MapShape = MapShape {
    name: "an expected body",
    fields: &[Field::required("fixture", Shape::Str)],
};

const JSONPATH: MapShape = MapShape {
    name: "a JSONPath assertion",
    fields: &[
        Field::required("path", Shape::Str),
        Field::optional("exists", Shape::Bool),
        Field::optional("equals", Shape::Any),
        Field::optional("contains", Shape::Any),
        Field::optional(
            "type",
            Shape::Enum(&[
                "string", "number", "integer", "boolean", "array", "object", "null",
            ]),
        ),
        Field::optional("matches", Shape::Str),
        Field::optional("one_of", Shape::List(&Shape::Any)),
        Field::optional("length", Shape::UInt(u64::MAX)),
        Field::optional("gt", Shape::Number),
        Field::optional("gte", Shape::Number),
        Field::optional("lt", Shape::Number),
        Field::optional("lte", Shape::Number),
    ],
};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuiteDef {
    pub(super) suite: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    /// The suite's own feature areas (`areas: [myapp]`): its cases may evidence features in
    /// them besides the built-in areas (`load::feature::check_feature`).
    #[serde(default)]
    pub(super) areas: Vec<String>,
    pub(super) cases: Vec<CaseDef>,
    #[serde(default)]
    pub(super) redact: Vec<String>,
}

#[derive(Deserialize, Serialize)]
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

#[derive(Deserialize, Serialize)]
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
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PollDef {
    #[serde(rename = "while")]
    pub(super) pending: JsonPathDef,
    pub(super) every_seconds: f64,
    pub(super) at_most: u32,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RequestDef {
    #[serde(default)]
    pub(super) method: Option<String>,
    pub(super) path: String,
    #[serde(default, serialize_with = "as_json::opt")]
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

#[derive(Deserialize, Serialize)]
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

#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectDef {
    #[serde(default, serialize_with = "as_json::opt")]
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
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BodyDef {
    pub(super) fixture: String,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JsonPathDef {
    pub(super) path: String,
    #[serde(default)]
    pub(super) exists: Option<bool>,
    #[serde(default, serialize_with = "as_json::opt")]
    pub(super) equals: Option<serde_yaml::Value>,
    #[serde(default, serialize_with = "as_json::opt")]
    pub(super) contains: Option<serde_yaml::Value>,
    #[serde(default, rename = "type")]
    pub(super) type_: Option<JsonType>,
    #[serde(default)]
    pub(super) matches: Option<String>,
    #[serde(default, serialize_with = "as_json::opt_seq")]
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

/// The YAML values of a case written as the JSON they compile to (`compile::yaml_to_json`: tags
/// dropped, keys as text, a number that is not finite as `null`), so that the case read back
/// from JSON (`suite::spill`) compiles to the same steps: the JSON value read back as YAML
/// compiles to itself. A status is compiled from the YAML value itself, but a valid one is only
/// whole numbers and text, which that leaves as they are. A value given that compiles to `null`
/// (`body: !x ~`, `equals: .nan`) would read back as no value at all: it cannot be written, and
/// the file's cases keep their compiled steps instead.
pub(super) mod as_json {
    use serde::{Serialize, Serializer, ser::Error as _};
    use serde_yaml::Value;

    use super::super::compile::yaml_to_json;

    pub(in super::super) fn opt<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        match v.clone().map(yaml_to_json) {
            Some(serde_json::Value::Null) => Err(S::Error::custom(
                "a value given that is null in JSON (a tagged null, .nan, .inf) is told apart from \
                 no value only in YAML",
            )),
            json => json.serialize(s),
        }
    }

    pub(in super::super) fn opt_seq<S: Serializer>(
        v: &Option<Vec<Value>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|v| v.iter().cloned().map(yaml_to_json).collect::<Vec<_>>())
            .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::shape::Shape;

    use crate::load::shape::testing::{keys, serde_fields};

    /// A YAML value written by `as_json::opt` and read back from JSON compiles to the JSON the
    /// value itself compiles to; one that compiles to `null` is not written.
    #[test]
    fn a_yaml_value_read_back_from_its_json_compiles_the_same() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            #[serde(default, serialize_with = "as_json::opt")]
            v: Option<serde_yaml::Value>,
        }
        let compiled = |v: &Option<serde_yaml::Value>| v.clone().map(super::super::yaml_to_json);
        for yaml in [
            "{ a: !x 1, b: 18446744073709551615, c: -9223372036854775808, d: 2.0, e: 1e-300, f: .inf, g: ~, h: [!y ~, .nan] }",
            "{ !t a: 1, a: 2 }",
            "{ 1: one, \"1\": uno, true: t, null: n, [a]: seq }",
            "[1, { !k x: y }, -0.0, 0.1]",
            "!t 5",
            "text",
        ] {
            let v: Option<serde_yaml::Value> = Some(serde_yaml::from_str(yaml).unwrap());
            let json = serde_json::to_string(&Holder { v: v.clone() }).unwrap();
            let back: Holder = serde_json::from_str(&json).unwrap();
            assert_eq!(compiled(&back.v), compiled(&v), "{yaml} as {json}");
        }
        for yaml in ["!x ~", ".nan", "-.inf"] {
            let v = Some(serde_yaml::from_str(yaml).unwrap());
            assert!(serde_json::to_string(&Holder { v }).is_err(), "{yaml}");
        }
        assert_eq!(
            serde_json::to_string(&Holder { v: None }).unwrap(),
            r#"{"v":null}"#
        );
    }

    #[test]
    fn every_shape_takes_the_keys_serde_takes() {
        assert_eq!(keys(&SUITE), serde_fields::<SuiteDef>());
        assert_eq!(keys(&CASE), serde_fields::<CaseDef>());
        assert_eq!(keys(&STEP), serde_fields::<StepDef>());
        assert_eq!(keys(&POLL), serde_fields::<PollDef>());
        assert_eq!(keys(&REQUEST), serde_fields::<RequestDef>());
        assert_eq!(keys(&MULTIPART), serde_fields::<MultipartDef>());
        assert_eq!(keys(&EXPECT), serde_fields::<ExpectDef>());
        assert_eq!(keys(&BODY), serde_fields::<BodyDef>());
        assert_eq!(keys(&JSONPATH), serde_fields::<JsonPathDef>());
        // The words of the enums are serde's too.
        let words = |s: Shape| match s {
            Shape::Enum(w) => w.to_vec(),
            _ => vec![],
        };
        for (field, accepts) in [
            (CASE.fields[8].shape, "stream"),
            (REQUEST.fields[5].shape, "invalid"),
            (JSONPATH.fields[4].shape, "integer"),
        ] {
            assert!(words(field).contains(&accepts));
        }
        for w in words(CASE.fields[8].shape) {
            serde_yaml::from_str::<SnapshotMode>(w).unwrap();
        }
        for w in words(REQUEST.fields[5].shape) {
            serde_yaml::from_str::<AuthOverride>(w).unwrap();
        }
        for w in words(JSONPATH.fields[4].shape) {
            serde_yaml::from_str::<JsonType>(w).unwrap();
        }
    }
}
