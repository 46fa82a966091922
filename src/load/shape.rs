//! The expected shape of a YAML input (which keys each mapping takes, which are required, what
//! type each value has), and the check of a parsed document against it that finds *every*
//! structural problem at once: unknown keys (with "did you mean", or where the key belongs when
//! it is valid at another level), missing keys and wrong types, each with its path.
//!
//! serde stops at the first problem of a file; this check runs when it does, so one run of
//! `validate` shows them all. The shape mirrors serde's leniency (a plain scalar is accepted
//! where a string is expected, as `serde_yaml` reads `id: 12` as `"12"`), so it reports
//! exactly what serde would refuse; a test holds each shape's keys to its serde struct's.

use serde_yaml::Value;

use super::diag::did_you_mean;
use super::spans::Seg;

/// What a value must be.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A mapping with fixed keys.
    Map(&'static MapShape),
    /// A mapping with the user's own keys (headers, captures), each value of this shape.
    Dict(&'static Shape),
    List(&'static Shape),
    /// Any scalar (read as its text).
    Str,
    Bool,
    /// A whole number from 0 to the bound.
    UInt(u64),
    /// Any number.
    Number,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// Anything (a request body, a value to compare with).
    Any,
}

/// A mapping with fixed keys: `name` says what it is in messages ("a case").
#[derive(Debug)]
pub struct MapShape {
    pub name: &'static str,
    pub fields: &'static [Field],
}

#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub shape: Shape,
    pub required: bool,
    /// Whether an empty value (`key:` or `key: ~`) means "absent" (an `Option` in serde).
    pub nullable: bool,
}

impl Field {
    /// A key that must be there.
    pub const fn required(key: &'static str, shape: Shape) -> Field {
        Field {
            key,
            shape,
            required: true,
            nullable: false,
        }
    }
    /// A key that may be left out (or left empty).
    pub const fn optional(key: &'static str, shape: Shape) -> Field {
        Field {
            key,
            shape,
            required: false,
            nullable: true,
        }
    }
    /// A key that may be left out, but not left empty (a list or mapping with a default).
    pub const fn defaulted(key: &'static str, shape: Shape) -> Field {
        Field {
            key,
            shape,
            required: false,
            nullable: false,
        }
    }
}

/// One structural problem, at a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<Seg>,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// A key the mapping does not take (`path` ends with it). `accepted` lists the keys of
    /// this level; `help` is a "did you mean" or where the key belongs.
    UnknownKey {
        key: String,
        within: &'static str,
        accepted: Vec<&'static str>,
        help: Option<String>,
    },
    /// A required key is absent from the mapping at `path`.
    MissingKey {
        key: &'static str,
        within: &'static str,
    },
    /// The value at `path` has the wrong type.
    WrongType { expected: String, found: String },
    /// The value at `path` is not one of the accepted words.
    BadWord {
        found: String,
        accepted: &'static [&'static str],
    },
}

/// Every structural problem of `doc` against `shape`, in document order of the walk.
pub fn check(doc: &Value, shape: Shape, root: &'static MapShape) -> Vec<Problem> {
    let mut out = Vec::new();
    walk(doc, shape, root, &mut Vec::new(), &mut out);
    out
}

fn walk(
    v: &Value,
    shape: Shape,
    root: &'static MapShape,
    path: &mut Vec<Seg>,
    out: &mut Vec<Problem>,
) {
    let v = untagged(v);
    let wrong = |out: &mut Vec<Problem>, path: &Vec<Seg>| {
        out.push(Problem {
            path: path.clone(),
            kind: ProblemKind::WrongType {
                expected: describe(shape),
                found: found(v),
            },
        })
    };
    match shape {
        Shape::Any => {}
        Shape::Str => {
            if matches!(v, Value::Sequence(_) | Value::Mapping(_)) {
                wrong(out, path);
            }
        }
        Shape::Bool => {
            if !matches!(v, Value::Bool(_)) {
                wrong(out, path);
            }
        }
        Shape::Number => {
            if !matches!(v, Value::Number(_)) {
                wrong(out, path);
            }
        }
        Shape::UInt(max) => {
            if !matches!(v, Value::Number(n) if n.as_u64().is_some_and(|n| n <= max)) {
                wrong(out, path);
            }
        }
        Shape::Enum(words) => match v {
            Value::String(s) if words.contains(&s.as_str()) => {}
            Value::String(s) => out.push(Problem {
                path: path.clone(),
                kind: ProblemKind::BadWord {
                    found: s.clone(),
                    accepted: words,
                },
            }),
            _ => wrong(out, path),
        },
        Shape::List(item) => match v {
            Value::Sequence(items) => {
                for (i, it) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(it, *item, root, path, out);
                    path.pop();
                }
            }
            _ => wrong(out, path),
        },
        Shape::Dict(value) => match v {
            Value::Mapping(m) => {
                for (k, it) in m {
                    if matches!(untagged(k), Value::Sequence(_) | Value::Mapping(_)) {
                        out.push(Problem {
                            path: path.clone(),
                            kind: ProblemKind::WrongType {
                                expected: "a name as the key".into(),
                                found: found(k),
                            },
                        });
                        continue;
                    }
                    path.push(Seg::Key(key_text(k)));
                    walk(it, *value, root, path, out);
                    path.pop();
                }
            }
            _ => wrong(out, path),
        },
        Shape::Map(map) => match v {
            Value::Mapping(m) => {
                for (k, it) in m {
                    let key = key_text(k);
                    path.push(Seg::Key(key.clone()));
                    match map.fields.iter().find(|f| f.key == key) {
                        Some(f) if f.nullable && matches!(untagged(it), Value::Null) => {}
                        Some(f) => walk(it, f.shape, root, path, out),
                        None => out.push(Problem {
                            path: path.clone(),
                            kind: ProblemKind::UnknownKey {
                                help: unknown_key_help(&key, it, map, root),
                                key,
                                within: map.name,
                                accepted: map.fields.iter().map(|f| f.key).collect(),
                            },
                        }),
                    }
                    path.pop();
                }
                for f in map.fields.iter().filter(|f| f.required) {
                    if !m.contains_key(f.key) {
                        out.push(Problem {
                            path: path.clone(),
                            kind: ProblemKind::MissingKey {
                                key: f.key,
                                within: map.name,
                            },
                        });
                    }
                }
            }
            _ => wrong(out, path),
        },
    }
}

/// The help for a key `map` does not take: where it belongs when another level of the shape
/// takes it (the levels below this one first: `body` in a case belongs under `request`; where
/// several do, the ones whose shape `value` fits), else a "did you mean" among this level's keys.
fn unknown_key_help(
    key: &str,
    value: &Value,
    map: &'static MapShape,
    root: &'static MapShape,
) -> Option<String> {
    let mut below = Vec::new();
    homes(map, key, &mut Vec::new(), false, &mut below);
    below.retain(|h| !h.path.is_empty());
    if !below.is_empty() {
        let fits: Vec<&Home> = below.iter().filter(|h| h.fits(key, value, root)).collect();
        let mut chosen: Vec<&Home> = if fits.is_empty() {
            below.iter().collect()
        } else {
            fits
        };
        let shortest = chosen.iter().map(|h| h.path.len()).min().unwrap_or(0);
        chosen.retain(|h| h.path.len() == shortest);
        let mut places: Vec<String> = chosen.iter().map(|h| h.describe()).collect();
        places.dedup();
        return Some(format!("`{key}` belongs {}", places.join(" or ")));
    }
    if let Some(d) = did_you_mean(key, map.fields.iter().map(|f| f.key)) {
        return Some(d);
    }
    let mut anywhere = Vec::new();
    homes(root, key, &mut Vec::new(), false, &mut anywhere);
    let mut owners: Vec<&str> = Vec::new();
    for h in &anywhere {
        if !owners.contains(&h.owner.name) {
            owners.push(h.owner.name);
        }
    }
    (!owners.is_empty()).then(|| {
        format!(
            "`{key}` is a key of {}, not of {}",
            owners.join(" or "),
            map.name
        )
    })
}

/// A mapping that takes a key, reached from another mapping by `path`.
struct Home {
    path: Vec<&'static str>,
    owner: &'static MapShape,
    /// Whether the way there goes through a list or a user-keyed mapping (one of many cases).
    through_many: bool,
}

impl Home {
    fn fits(&self, key: &str, value: &Value, root: &'static MapShape) -> bool {
        self.owner
            .fields
            .iter()
            .find(|f| f.key == key)
            .is_some_and(|f| check(value, f.shape, root).is_empty())
    }

    /// "under `request`", "in a step (under `steps`)".
    fn describe(&self) -> String {
        let path = self.path.join(".");
        if self.through_many {
            format!("in {} (under `{path}`)", self.owner.name)
        } else {
            format!("under `{path}`")
        }
    }
}

/// Every mapping reachable from `map` (itself included, with an empty path) that takes `key`.
fn homes(
    map: &'static MapShape,
    key: &str,
    path: &mut Vec<&'static str>,
    through_many: bool,
    out: &mut Vec<Home>,
) {
    if path.len() > 8 {
        return;
    }
    if map.fields.iter().any(|f| f.key == key) {
        out.push(Home {
            path: path.clone(),
            owner: map,
            through_many,
        });
    }
    for f in map.fields {
        if let Some(inner) = inner_map(f.shape) {
            path.push(f.key);
            let many = through_many || !matches!(f.shape, Shape::Map(_));
            homes(inner, key, path, many, out);
            path.pop();
        }
    }
}

/// The mapping shape a field leads to (through lists and user-keyed mappings).
fn inner_map(shape: Shape) -> Option<&'static MapShape> {
    match shape {
        Shape::Map(m) => Some(m),
        Shape::List(s) | Shape::Dict(s) => inner_map(*s),
        _ => None,
    }
}

/// "a list of strings", "one of `shape`, `exact`, `stream`", "a case (a mapping)".
pub fn describe(shape: Shape) -> String {
    match shape {
        Shape::Map(m) => format!("{} (a mapping)", m.name),
        Shape::Dict(_) => "a mapping".into(),
        Shape::List(item) => format!("a list of {}", plural(*item)),
        Shape::Str => "a string".into(),
        Shape::Bool => "`true` or `false`".into(),
        Shape::UInt(_) => "a whole number".into(),
        Shape::Number => "a number".into(),
        Shape::Enum(words) => format!("one of {}", quoted(words)),
        Shape::Any => "a value".into(),
    }
}

fn plural(shape: Shape) -> String {
    match shape {
        Shape::Map(m) => format!(
            "{}s (mappings)",
            m.name.trim_start_matches("a ").trim_start_matches("an ")
        ),
        Shape::Dict(_) => "mappings".into(),
        Shape::List(_) => "lists".into(),
        Shape::Str => "strings".into(),
        Shape::Bool => "`true` or `false`".into(),
        Shape::UInt(_) => "whole numbers".into(),
        Shape::Number => "numbers".into(),
        Shape::Enum(words) => quoted(words),
        Shape::Any => "values".into(),
    }
}

/// "`a`, `b` or `c`".
pub fn quoted(words: &[&str]) -> String {
    let q: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match q.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => q.join(""),
    }
}

/// What a value is, for "found …".
fn found(v: &Value) -> String {
    match untagged(v) {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            let cut = if short.len() < s.len() { "…" } else { "" };
            format!("the string {:?}", format!("{short}{cut}"))
        }
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        other => other,
    }
}

/// A key as its text (`12` for a number key), as the position tree names it.
fn key_text(k: &Value) -> String {
    match untagged(k) {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "~".into(),
        _ => String::new(),
    }
}

/// `cases[0].request.body` for messages.
pub fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAF: MapShape = MapShape {
        name: "a leaf",
        fields: &[
            Field::required("path", Shape::Str),
            Field::optional("kind", Shape::Enum(&["x", "y"])),
        ],
    };
    const INNER: MapShape = MapShape {
        name: "an inner part",
        fields: &[
            Field::defaulted("leaves", Shape::List(&Shape::Map(&LEAF))),
            Field::optional("flag", Shape::Bool),
        ],
    };
    const ROOT: MapShape = MapShape {
        name: "the document",
        fields: &[
            Field::required("name", Shape::Str),
            Field::optional("inner", Shape::Map(&INNER)),
            Field::optional("count", Shape::UInt(10)),
        ],
    };

    fn problems(yaml: &str) -> Vec<Problem> {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        check(&v, Shape::Map(&ROOT), &ROOT)
    }

    #[test]
    fn every_problem_is_found_with_its_path() {
        let p = problems(
            "nmae: x\ninner:\n  flag: yes\n  leaves:\n    - { path: a, kind: z }\n    - { kind: x }\ncount: 11\n",
        );
        let texts: Vec<String> = p
            .iter()
            .map(|p| format!("{} {:?}", path_text(&p.path), p.kind))
            .collect();
        assert_eq!(p.len(), 6, "{texts:#?}");
        assert!(
            matches!(&p[0].kind, ProblemKind::UnknownKey { key, help: Some(h), .. }
            if key == "nmae" && h == "did you mean `name`?")
        );
        assert!(
            matches!(&p[1].kind, ProblemKind::WrongType { found, .. } if found == "the string \"yes\"")
        );
        assert_eq!(path_text(&p[1].path), "inner.flag");
        assert!(matches!(&p[2].kind, ProblemKind::BadWord { found, .. } if found == "z"));
        assert_eq!(path_text(&p[2].path), "inner.leaves[0].kind");
        assert!(matches!(
            &p[3].kind,
            ProblemKind::MissingKey { key: "path", .. }
        ));
        assert_eq!(path_text(&p[3].path), "inner.leaves[1]");
        assert!(matches!(&p[4].kind, ProblemKind::WrongType { .. }));
        assert_eq!(path_text(&p[4].path), "count");
        assert!(matches!(
            &p[5].kind,
            ProblemKind::MissingKey { key: "name", .. }
        ));
    }

    #[test]
    fn a_key_at_the_wrong_level_says_where_it_belongs() {
        let p = problems("name: x\npath: /a\ninner: { kind: x }\n");
        let helps: Vec<_> = p
            .iter()
            .filter_map(|p| match &p.kind {
                ProblemKind::UnknownKey { help, .. } => help.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            helps,
            [
                "`path` belongs in a leaf (under `inner.leaves`)",
                "`kind` belongs in a leaf (under `leaves`)"
            ]
        );
        // Above the current level: named by its owner.
        let p = problems("name: x\ninner: { leaves: [{ path: a, count: 1 }] }\n");
        assert!(
            matches!(&p[0].kind, ProblemKind::UnknownKey { help: Some(h), .. }
            if h == "`count` is a key of the document, not of a leaf"),
            "{p:?}"
        );
    }

    #[test]
    fn empty_optional_values_are_absent_and_scalars_are_strings() {
        assert_eq!(problems("name: 12\ninner:\ncount: ~\n"), vec![]);
        let p = problems("name: [a]\ninner: { leaves: }\n");
        assert_eq!(p.len(), 2, "{p:?}");
    }
}

/// Holding a format's `*Def` structs and their shapes to the same keys.
#[cfg(test)]
pub mod testing {
    use serde::Deserialize;

    use super::MapShape;

    /// The field names serde's derived `Deserialize` of `T` asks for, caught by a deserializer
    /// that records them and stops.
    pub fn serde_fields<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
        struct Fields(Vec<&'static str>);
        #[derive(Debug)]
        struct Stop;
        impl std::fmt::Display for Stop {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("stop")
            }
        }
        impl std::error::Error for Stop {}
        impl serde::de::Error for Stop {
            fn custom<M: std::fmt::Display>(_: M) -> Self {
                Stop
            }
        }
        impl<'de> serde::Deserializer<'de> for &mut Fields {
            type Error = Stop;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop)
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Stop> {
                self.0 = fields.to_vec();
                Err(Stop)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
                identifier ignored_any
            }
        }
        let mut f = Fields(Vec::new());
        let _ = T::deserialize(&mut f);
        f.0
    }

    pub fn keys(m: &MapShape) -> Vec<&'static str> {
        m.fields.iter().map(|f| f.key).collect()
    }
}
