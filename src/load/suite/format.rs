//! The YAML format of a suite file: private `*Def` structs with `deny_unknown_fields`, and the
//! same format as a [`Shape`] (which keys each level takes, which are required, what type each
//! value has), against which a file serde refuses is checked to report every structural problem
//! of the file at once. A test holds the two to the same keys.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
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
    pub(super) body: Option<Json>,
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
    #[serde(default, serialize_with = "as_json::opt_yaml")]
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
    pub(super) equals: Option<Json>,
    #[serde(default, serialize_with = "as_json::opt")]
    pub(super) contains: Option<Json>,
    #[serde(default, rename = "type")]
    pub(super) type_: Option<JsonType>,
    #[serde(default)]
    pub(super) matches: Option<String>,
    #[serde(default)]
    pub(super) one_of: Option<Vec<Json>>,
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

/// A YAML value as text: a string as it is, a number or bool as written, anything else as
/// yaml_serde writes it (how a key that is not text is named in JSON, or a status shown).
pub(super) fn yaml_scalar_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// YAML → JSON. Non-string keys become strings; tags are dropped (YAML-only features have no
/// meaning in a JSON request body). Bodies and `equals`/`contains`/`one_of` values are read
/// straight to this JSON as they are parsed ([`Json`], held to this function by tests);
/// a status is read as YAML and made JSON here only to be spilled.
pub(super) fn yaml_to_json(v: serde_yaml::Value) -> serde_json::Value {
    match v {
        serde_yaml::Value::Null => serde_json::Value::Null,
        serde_yaml::Value::Bool(b) => serde_json::Value::Bool(b),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_json::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                serde_json::Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        serde_yaml::Value::String(s) => serde_json::Value::String(s),
        serde_yaml::Value::Sequence(items) => {
            serde_json::Value::Array(items.into_iter().map(yaml_to_json).collect())
        }
        serde_yaml::Value::Mapping(m) => serde_json::Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        serde_yaml::Value::String(s) => s,
                        other => yaml_scalar_text(&other),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        serde_yaml::Value::Tagged(t) => yaml_to_json(t.value),
    }
}

/// A YAML value read as the JSON it compiles to: what [`yaml_to_json`] makes of the
/// `serde_yaml::Value` read from the same text (tags dropped, keys as text, a number that is
/// not finite as `null`), built as the parser reads it instead of from a YAML value built first
/// (for a generated suite's bodies, building and converting that value was a third of parsing
/// and of compiling). A key repeated is refused as `serde_yaml::Value` refuses it, with its
/// message. Read from JSON (a spilled case, `suite::spill`), a value is itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Json(pub(super) serde_json::Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

/// `serde_yaml::Value`'s visitor, each value made JSON as it comes.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(b.into())
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        Ok(i.into())
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        Ok(u.into())
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(s.into())
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(s.into())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(d).map(|j| j.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Json(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        // Keys are told apart as YAML values (`1` and `"1"` are two keys, the second one's
        // value kept, as `yaml_to_json` keeps it). While every key is text, the object's keys
        // are the keys; from the first key that is not, they are kept here.
        let mut keys: Option<HashSet<serde_yaml::Value>> = None;
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            let text = match (&mut keys, key) {
                (None, serde_yaml::Value::String(s)) if !object.contains_key(&s) => s,
                (None, key @ serde_yaml::Value::String(_)) => {
                    return Err(de::Error::custom(duplicate_key(&key)));
                }
                (None, key) => {
                    let mut seen: HashSet<serde_yaml::Value> = (object.keys().cloned())
                        .map(serde_yaml::Value::String)
                        .collect();
                    let text = yaml_scalar_text(&key);
                    seen.insert(key);
                    keys = Some(seen);
                    text
                }
                (Some(seen), key) => {
                    // Named as the first of the two is written (`-0.0` and `0.0` are one key).
                    if let Some(first) = seen.get(&key) {
                        return Err(de::Error::custom(duplicate_key(first)));
                    }
                    let text = yaml_scalar_text(&key);
                    seen.insert(key);
                    text
                }
            };
            let Json(value) = map.next_value()?;
            object.insert(text, value);
        }
        Ok(serde_json::Value::Object(object))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (tag, value): (String, _) = data.variant()?;
        if tag.is_empty() {
            return Err(de::Error::custom("empty YAML tag is not allowed"));
        }
        value.newtype_variant::<Json>().map(|j| j.0)
    }
}

/// yaml_serde's message for a key repeated in a mapping.
fn duplicate_key(key: &serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::Null => "duplicate entry with null key".into(),
        serde_yaml::Value::Bool(b) => format!("duplicate entry with key `{b}`"),
        serde_yaml::Value::Number(n) => format!("duplicate entry with key {n}"),
        serde_yaml::Value::String(s) => format!("duplicate entry with key {s:?}"),
        _ => "duplicate entry in YAML map".into(),
    }
}

/// The YAML values of a case written as the JSON they compile to, so that the case read back
/// from JSON (`suite::spill`) compiles to the same steps: the JSON value read back as YAML
/// compiles to itself. A status is compiled from the YAML value itself, but a valid one is only
/// whole numbers and text, which that leaves as they are. A value given that compiles to `null`
/// (`body: !x ~`, `equals: .nan`) would read back as no value at all: it cannot be written, and
/// the file's cases keep their compiled steps instead.
pub(super) mod as_json {
    use serde::{Serialize, Serializer, ser::Error as _};

    use super::{Json, yaml_to_json};

    pub(in super::super) fn opt<S: Serializer>(v: &Option<Json>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(Json(serde_json::Value::Null)) => Err(S::Error::custom(
                "a value given that is null in JSON (a tagged null, .nan, .inf) is told apart from \
                 no value only in YAML",
            )),
            json => json.serialize(s),
        }
    }

    pub(in super::super) fn opt_yaml<S: Serializer>(
        v: &Option<serde_yaml::Value>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        opt(&v.clone().map(|v| Json(yaml_to_json(v))), s)
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
            v: Option<Json>,
        }
        for yaml in [
            "{ a: !x 1, b: 18446744073709551615, c: -9223372036854775808, d: 2.0, e: 1e-300, f: .inf, g: ~, h: [!y ~, .nan] }",
            "{ !t a: 1, a: 2 }",
            "{ 1: one, \"1\": uno, true: t, null: n, [a]: seq }",
            "[1, { !k x: y }, -0.0, 0.1]",
            "!t 5",
            "text",
        ] {
            let v: Option<serde_yaml::Value> = Some(serde_yaml::from_str(yaml).unwrap());
            let compiled = v.clone().map(super::yaml_to_json);
            let held = Holder {
                v: Some(serde_yaml::from_str(yaml).unwrap()),
            };
            let json = serde_json::to_string(&held).unwrap();
            let back: Holder = serde_json::from_str(&json).unwrap();
            assert_eq!(back.v.map(|j| j.0), compiled, "{yaml} as {json}");
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

    /// `text` read as [`Json`], by both readers (the subset reader where the text is in its
    /// subset, `parse_yaml`), is what `yaml_to_json` makes of it read as a `serde_yaml::Value`;
    /// what one refuses the other refuses with the same message at the same place.
    #[track_caller]
    fn reads_as_yaml_to_json(text: &str) {
        use crate::load::yaml::parse_yaml;
        let src: std::sync::Arc<str> = text.into();
        let path = std::path::Path::new("v.yaml");
        let ours = parse_yaml::<Json>(path, &src).map(|j| j.0);
        let theirs = parse_yaml::<serde_yaml::Value>(path, &src).map(super::yaml_to_json);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.render(), b.render(), "{text}"),
            (a, b) => panic!("{text}: {a:?} against {b:?}"),
        }
        let ours = serde_yaml::from_str::<Json>(text).map(|j| j.0);
        let theirs = serde_yaml::from_str(text).map(super::yaml_to_json);
        assert_eq!(
            ours.map_err(|e| e.to_string()),
            theirs.map_err(|e| e.to_string()),
            "{text}"
        );
    }

    #[test]
    fn a_yaml_value_reads_as_the_json_yaml_to_json_makes_of_it() {
        for text in [
            "model: m\nmessages:\n  - role: user\n    content: hi\nmax_tokens: 5\n",
            "{ a: 1, b: -2, c: 18446744073709551615, d: -9223372036854775808, e: 2.0, f: 1e-300 }",
            "[.inf, -.inf, .nan, 0x1f, 0o17, +5, 012, 1_000, 0.1, -0.0]",
            "[~, null, Null, '', \"\", true, False, yes, 'true']",
            "{ !t a: 1, b: !x 2, c: !x ~, d: !!str 3, e: !!int '4' }",
            "{ 1: one, \"1\": uno, true: t, null: n, [a]: seq, {k: v}: map, 1.5: f }",
            "{ 1: one, \"1\": uno, 1: again }",
            "{ a: 1, a: 2 }",
            "{ 1: a, b: c, b: d }",
            "{ a: 1, 1: x, a: 2 }",
            "{ true: 1, true: 2 }",
            "{ ~: 1, null: 2 }",
            "{ 2.5: 1, 2.5: 2 }",
            "{ -0.0: a, 0.0: b }",
            "{ 0.0: a, -0.0: b }",
            "{ [a]: 1, [a]: 2 }",
            "{ !t a: 1, !t a: 2 }",
            "{ !t a: 1, a: 2 }",
            "k: 340282366920938463463374607431768211455\n",
            "k: -170141183460469231731687303715884105728\n",
            "a:\n  b:\n    - x\n    - { c: [1, 2, { d: e }] }\n  f: |\n    line\n    two\n",
            "a: &x { b: 1 }\nc: *x\n",
            "[]",
            "{}",
            "'text'",
            "",
        ] {
            reads_as_yaml_to_json(text);
        }
    }

    /// Values of every kind (tags and keys that are not text included) written by yaml_serde's
    /// emitter, and read back as [`Json`], are what `yaml_to_json` makes of them.
    #[test]
    fn any_emitted_value_reads_as_the_json_yaml_to_json_makes_of_it() {
        use proptest::prelude::*;
        use serde_yaml::value::{Tag, TaggedValue};
        let leaf = prop_oneof![
            prop::sample::select(vec!["a", "1", "true", "~", "x y", "-", "é", "0x1", ""])
                .prop_map(|s| serde_yaml::Value::String(s.into())),
            any::<i64>().prop_map(|n| serde_yaml::Value::Number(n.into())),
            any::<u64>().prop_map(|n| serde_yaml::Value::Number(n.into())),
            any::<f64>().prop_map(|n| serde_yaml::Value::Number(n.into())),
            any::<bool>().prop_map(serde_yaml::Value::Bool),
            Just(serde_yaml::Value::Null),
        ];
        // Tags on scalars (the emitter writes no tag on a tagged value).
        let tagged =
            (prop::sample::select(vec!["t", "x"]), leaf.clone()).prop_map(|(tag, value)| {
                serde_yaml::Value::Tagged(Box::new(TaggedValue {
                    tag: Tag::new(tag),
                    value,
                }))
            });
        let values = prop_oneof![3 => leaf, 1 => tagged].prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_yaml::Value::Sequence),
                prop::collection::vec((inner.clone(), inner.clone()), 0..4)
                    .prop_map(|kv| serde_yaml::Value::Mapping(kv.into_iter().collect())),
            ]
        });
        // yaml_serde's emitter cannot write some values (a tagged key); tags on keys are in the
        // texts above. It writes most.
        let (emitted, total) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1024));
        runner
            .run(&values, |v| {
                total.set(total.get() + 1);
                if let Ok(text) = serde_yaml::to_string(&v) {
                    emitted.set(emitted.get() + 1);
                    reads_as_yaml_to_json(&text);
                }
                Ok(())
            })
            .unwrap();
        assert!(
            emitted.get() * 4 > total.get() * 3,
            "{} of {}",
            emitted.get(),
            total.get()
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
