//! Generates a JSON value that satisfies a JSON Schema.
//!
//! Used for tool-call arguments (the declared `parameters`) and for `json_schema` structured
//! output. It covers the keywords OpenAI's structured outputs and common tool schemas use:
//! `type` (also as an array), `properties`, `required`, `additionalProperties`,
//! `min/maxProperties`, `items`, `prefixItems`, `min/maxItems`, `uniqueItems`, `enum`,
//! `const`, `anyOf`/`oneOf` (first branch), `allOf` (merged), `$ref` into the same document,
//! `minimum`/`maximum` and their exclusive forms, `multipleOf`, `min/maxLength` and common
//! `format`s. `pattern` is not interpreted: a string schema with only a `pattern` gets a
//! plain word.

use serde_json::{Map, Number, Value};

/// Below this depth every declared property is generated; deeper, only required ones (and
/// arrays only get `minItems` elements), which ends recursive schemas.
const SOFT_DEPTH: usize = 6;
/// A hard stop for pathological `$ref` chains.
const HARD_DEPTH: usize = 48;

/// A value valid against `schema`.
pub(crate) fn generate(schema: &Value) -> Value {
    Generator { root: schema }.value(schema, 0, 0)
}

struct Generator<'a> {
    root: &'a Value,
}

impl Generator<'_> {
    /// `salt` varies otherwise identical values (array elements under `uniqueItems`).
    fn value(&self, schema: &Value, depth: usize, salt: usize) -> Value {
        if depth > HARD_DEPTH {
            return Value::Null;
        }
        let s = match schema {
            Value::Object(s) => s,
            // `true` (or anything non-schema) accepts every value; `false` accepts none.
            _ => return Value::String("example".into()),
        };
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
        {
            return self.value(target, depth + 1, salt);
        }
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        if let Some(options) = s
            .get("enum")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
        {
            return options[salt % options.len()].clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
                // The branch alone may lack sibling keywords (e.g. `description`), which
                // never constrain the value, so generating from the branch is enough.
                return self.value(first, depth + 1, salt);
            }
        }
        if s.get("allOf").and_then(Value::as_array).is_some() {
            let merged = self.merge_all_of(s);
            return self.value(&merged, depth + 1, salt);
        }
        match type_of(s) {
            "object" => self.object(s, depth, salt),
            "array" => self.array(s, depth, salt),
            "integer" => integer(s, salt),
            "number" => number(s, salt),
            "boolean" => Value::Bool(salt.is_multiple_of(2)),
            "null" => Value::Null,
            _ => string(s, salt),
        }
    }

    /// Resolves a same-document reference (`#`, `#/$defs/X`, `#/definitions/X`, …).
    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            Some(self.root)
        } else {
            self.root.pointer(pointer)
        }
    }

    /// Folds `allOf` branches into one schema: properties and required lists are unioned,
    /// other keywords are taken from the first schema that has them.
    fn merge_all_of(&self, s: &Map<String, Value>) -> Value {
        let mut merged = s.clone();
        merged.remove("allOf");
        let mut properties = merged
            .remove("properties")
            .and_then(|p| p.as_object().cloned())
            .unwrap_or_default();
        let mut required: Vec<Value> = merged
            .remove("required")
            .and_then(|r| r.as_array().cloned())
            .unwrap_or_default();
        for branch in s["allOf"].as_array().into_iter().flatten() {
            let branch = match branch.get("$ref").and_then(Value::as_str) {
                Some(r) => self.resolve(r).unwrap_or(branch),
                None => branch,
            };
            let Some(b) = branch.as_object() else {
                continue;
            };
            for (k, v) in b {
                match k.as_str() {
                    "properties" => {
                        for (name, sub) in v.as_object().into_iter().flatten() {
                            properties
                                .entry(name.clone())
                                .or_insert_with(|| sub.clone());
                        }
                    }
                    "required" => {
                        for r in v.as_array().into_iter().flatten() {
                            if !required.contains(r) {
                                required.push(r.clone());
                            }
                        }
                    }
                    _ => {
                        merged.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
        if !properties.is_empty() {
            merged.insert("properties".into(), Value::Object(properties));
        }
        if !required.is_empty() {
            merged.insert("required".into(), Value::Array(required));
        }
        Value::Object(merged)
    }

    fn object(&self, s: &Map<String, Value>, depth: usize, salt: usize) -> Value {
        let empty = Map::new();
        let properties = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let additional = s.get("additionalProperties");
        let closed = matches!(additional, Some(Value::Bool(false)));
        let extra_schema = additional.filter(|a| a.is_object());

        let mut out = Map::new();
        for (name, sub) in properties {
            if required.contains(&name.as_str()) || depth < SOFT_DEPTH {
                out.insert(name.clone(), self.value(sub, depth + 1, salt));
            }
        }
        // Required names without a declared schema still have to be present.
        for name in &required {
            if !out.contains_key(*name) {
                let v = match extra_schema {
                    Some(x) => self.value(x, depth + 1, salt),
                    None => Value::String("example".into()),
                };
                out.insert((*name).to_string(), v);
            }
        }
        let min = s.get("minProperties").and_then(Value::as_u64).unwrap_or(0) as usize;
        let mut i = 1;
        while out.len() < min && !closed {
            let v = match extra_schema {
                Some(x) => self.value(x, depth + 1, i),
                None => Value::String("example".into()),
            };
            out.insert(format!("extra_{i}"), v);
            i += 1;
        }
        if let Some(max) = s.get("maxProperties").and_then(Value::as_u64) {
            let optional: Vec<String> = out
                .keys()
                .filter(|k| !required.contains(&k.as_str()))
                .cloned()
                .collect();
            for k in optional.into_iter().rev() {
                if out.len() as u64 <= max {
                    break;
                }
                out.remove(&k);
            }
        }
        Value::Object(out)
    }

    fn array(&self, s: &Map<String, Value>, depth: usize, salt: usize) -> Value {
        let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = s
            .get("maxItems")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        let prefix: &[Value] = s
            .get("prefixItems")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let items = s.get("items");
        let closed = matches!(items, Some(Value::Bool(false)));
        let wanted = if depth >= SOFT_DEPTH {
            min
        } else {
            min.max(1).max(prefix.len())
        };
        let mut count = max.map_or(wanted, |m| wanted.min(m));
        if closed {
            count = count.min(prefix.len());
        }
        let any = Value::Object(Map::new());
        let unique = s
            .get("uniqueItems")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let out = (0..count)
            .map(|i| {
                let sub = prefix.get(i).or(items).unwrap_or(&any);
                // Distinct salts keep `uniqueItems` arrays unique.
                let element_salt = if unique { i } else { salt };
                self.value(sub, depth + 1, element_salt)
            })
            .collect();
        Value::Array(out)
    }
}

/// The schema's type: `type` (the first non-null entry of a type array), else inferred from
/// the keywords present.
fn type_of(s: &Map<String, Value>) -> &str {
    match s.get("type") {
        Some(Value::String(t)) => return t,
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            return names
                .iter()
                .find(|t| **t != "null")
                .or(names.first())
                .copied()
                .unwrap_or("string");
        }
        _ => {}
    }
    let has = |keys: &[&str]| keys.iter().any(|k| s.contains_key(*k));
    if has(&[
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
    ]) {
        "object"
    } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
        "array"
    } else if has(&[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ]) {
        "number"
    } else {
        "string"
    }
}

/// Inclusive numeric bounds, handling both the draft-4 boolean and the numeric forms of
/// `exclusiveMinimum`/`exclusiveMaximum`. `step` is the smallest move past an exclusive bound.
fn bounds(s: &Map<String, Value>, step: f64) -> (Option<f64>, Option<f64>) {
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut lo = num("minimum").map(|m| {
        if flag("exclusiveMinimum") {
            m + step
        } else {
            m
        }
    });
    let mut hi = num("maximum").map(|m| {
        if flag("exclusiveMaximum") {
            m - step
        } else {
            m
        }
    });
    if let Some(x) = num("exclusiveMinimum") {
        lo = Some(lo.map_or(x + step, |l| l.max(x + step)));
    }
    if let Some(x) = num("exclusiveMaximum") {
        hi = Some(hi.map_or(x - step, |h| h.min(x - step)));
    }
    (lo, hi)
}

fn integer(s: &Map<String, Value>, salt: usize) -> Value {
    let (lo, hi) = bounds(s, 1.0);
    let lo = lo.map(f64::ceil);
    let hi = hi.map(f64::floor);
    let mut v = match (lo, hi) {
        (Some(l), _) => l + salt as f64,
        (None, Some(h)) => h.min(1.0) - salt as f64,
        (None, None) => 1.0 + salt as f64,
    };
    if let Some(h) = hi {
        v = v.min(h);
    }
    if let Some(m) = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        let up = (v / m).ceil() * m;
        v = if hi.is_some_and(|h| up > h) {
            (v / m).floor() * m
        } else {
            up
        };
    }
    Value::Number(Number::from(v as i64))
}

fn number(s: &Map<String, Value>, salt: usize) -> Value {
    let (lo, hi) = bounds(s, 0.5);
    let mut v = match (lo, hi) {
        (Some(l), Some(h)) => (l + h) / 2.0,
        (Some(l), None) => l + 1.0 + salt as f64,
        (None, Some(h)) => h - 1.0 - salt as f64,
        (None, None) => 1.5 + salt as f64,
    };
    if let Some(m) = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        let up = (v / m).ceil() * m;
        v = if hi.is_some_and(|h| up > h) {
            (v / m).floor() * m
        } else {
            up
        };
    }
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn string(s: &Map<String, Value>, salt: usize) -> Value {
    let suffix = if salt == 0 {
        String::new()
    } else {
        format!("-{salt}")
    };
    let mut text = match s.get("format").and_then(Value::as_str) {
        Some("date") => format!("2024-01-{:02}", 1 + salt % 28),
        Some("date-time") => format!("2024-01-{:02}T12:00:00Z", 1 + salt % 28),
        Some("time") => format!("12:00:{:02}", salt % 60),
        Some("duration") => format!("P{}D", 1 + salt),
        Some("email") => format!("user{suffix}@example.com"),
        Some("hostname") => format!("host{suffix}.example.com"),
        Some("ipv4") => format!("192.0.2.{}", 1 + salt % 250),
        Some("ipv6") => format!("2001:db8::{:x}", 1 + salt),
        Some("uri") | Some("url") | Some("iri") => format!("https://example.com/item{suffix}"),
        Some("uuid") => format!("00000000-0000-4000-8000-{:012x}", salt),
        _ => format!("example{suffix}"),
    };
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    while text.chars().count() < min {
        text.push('x');
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        text = text.chars().take(max as usize).collect();
    }
    Value::String(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_arrays_and_enums() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 10},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 3, "maximum": 7},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": true},
                "loc": {"type": "object", "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}},
                        "required": ["lat"], "additionalProperties": false}
            },
            "required": ["name", "unit"],
            "additionalProperties": false
        });
        let v = generate(&schema);
        assert!(v["name"].as_str().unwrap().len() >= 10);
        assert_eq!(v["unit"], "celsius");
        assert_eq!(v["days"], 3);
        assert_eq!(v["tags"], json!(["example", "example-1"]));
        assert_eq!(v["loc"]["lat"], 0.0);
    }

    #[test]
    fn refs_any_of_const_and_type_arrays() {
        let schema = json!({
            "$defs": {"step": {"type": "object", "properties": {"n": {"type": ["integer", "null"]}}, "required": ["n"]}},
            "type": "object",
            "properties": {
                "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
                "kind": {"const": "fixed"},
                "maybe": {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
            }
        });
        let v = generate(&schema);
        assert_eq!(v["steps"], json!([{"n": 1}]));
        assert_eq!(v["kind"], "fixed");
        assert_eq!(v["maybe"], true);
    }

    #[test]
    fn recursive_schemas_terminate() {
        let schema = json!({
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#"}}},
            "required": ["children"]
        });
        let v = generate(&schema);
        assert!(v["children"].is_array());
    }

    #[test]
    fn parameterless_tool_is_empty_object() {
        assert_eq!(
            generate(&json!({"type": "object", "properties": {}})),
            json!({})
        );
        assert_eq!(generate(&json!({"type": "object"})), json!({}));
    }

    #[test]
    fn exclusive_bounds_and_multiples() {
        let v = generate(&json!({"type": "integer", "exclusiveMinimum": 5, "multipleOf": 4}));
        assert_eq!(v, 8);
        let v = generate(&json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}));
        assert_eq!(v, 0.5);
    }
}
