//! JSON value helpers shared by the judge, the report and the snapshots: how a value is named
//! and quoted in a message, and its *shape* — keys and types, values replaced by their type
//! names, arrays of one shape collapsed — which shows how two responses differ structurally
//! without showing (or caring about) the text a model produced.

use serde_json::{Map, Value};

use super::text::excerpt;

/// serde_json reads at most 128 nested arrays and objects. A JSON value an endpoint sent is
/// kept as JSON in a file the tool writes (a report, a recording) only when nested at most this
/// deep, else as its text in a string: the containers around it (a report's results, exchanges…)
/// take the rest, so every file the tool writes reads back.
pub const KEPT_DEPTH: usize = 100;

/// The bytes of JSON text outside its string literals (a literal's opening quote is kept):
/// what its structure is read from without parsing it (a bracket in a string is text).
pub fn structural_bytes(text: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *text.get(i)?;
        i += 1;
        if b == b'"' {
            // Past the literal: to just after its closing quote, or to the end.
            i = string_end(&text[i..]).map_or(text.len(), |k| i + k + 1);
        }
        Some(b)
    })
}

/// Where the double-quoted string that `text` starts inside (just after its opening quote)
/// ends: the index of its closing quote, a `\\` escaping the byte after it. `None` when it does
/// not close in `text`. JSON strings and YAML's double-quoted scalars end by the same rule.
pub fn string_end(text: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let k = i + memchr::memchr2(b'"', b'\\', text.get(i..)?)?;
        if text[k] == b'"' {
            return Some(k);
        }
        i = k + 2;
    }
}

/// Whether JSON text nests arrays and objects deeper than `max`. Text with no more than `max`
/// opening brackets in all (inside strings or not) cannot, and counting bytes is a fraction of
/// following the strings: the common case, a body with a few dozen brackets, stops there.
pub fn nests_deeper_than(text: &str, max: usize) -> bool {
    let opening = text.bytes().filter(|&b| b == b'[' || b == b'{').count();
    opening > max && nesting(text) > max
}

/// The deepest nesting of arrays and objects in JSON text.
pub fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in structural_bytes(text.as_bytes()) {
        match b {
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The JSON type of a value with its article, for messages ("expected a string, got an array").
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value as compact JSON, cut to 80 characters: how a message quotes what it found.
pub fn show(v: &Value) -> String {
    excerpt(&v.to_string(), 80)
}

/// Replace every value by its type; collapse arrays whose items share one shape.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Null => Value::String("null".into()),
        Value::Bool(_) => Value::String("boolean".into()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Value::String("integer".into()),
        Value::Number(_) => Value::String("number".into()),
        Value::String(_) => Value::String("string".into()),
        Value::Array(items) => {
            let shapes: Vec<Value> = items.iter().map(shape).collect();
            let mut uniq: Vec<Value> = Vec::new();
            for s in shapes {
                if !uniq.contains(&s) {
                    uniq.push(s);
                }
            }
            Value::Array(uniq)
        }
        Value::Object(o) => {
            // serde_json's default map is ordered by key, so the shape is canonical.
            let m: Map<String, Value> = o.iter().map(|(k, v)| (k.clone(), shape(v))).collect();
            Value::Object(m)
        }
    }
}

/// A unified diff of two values' shapes (pretty JSON, sorted keys), empty when they are
/// identical.
pub fn shape_diff(left_name: &str, left: &Value, right_name: &str, right: &Value) -> String {
    diff_shapes(left_name, &shape(left), right_name, &shape(right))
}

/// A unified diff of two values that already are shapes (see [`shape`]).
pub fn diff_shapes(left_name: &str, left: &Value, right_name: &str, right: &Value) -> String {
    let a = serde_json::to_string_pretty(left).unwrap_or_default() + "\n";
    let b = serde_json::to_string_pretty(right).unwrap_or_default() + "\n";
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(left_name, right_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_string_ends_at_its_first_unescaped_quote() {
        assert_eq!(string_end(br#"abc" tail"#), Some(3));
        assert_eq!(string_end(br#"a\"b\\" tail"#), Some(6));
        assert_eq!(string_end(br#"""#), Some(0));
        assert_eq!(string_end(br#"never closed"#), None);
        assert_eq!(string_end(br#"ends in an escape\"#), None);
        assert_eq!(string_end(br#"escaped quote last\""#), None);
    }

    #[test]
    fn deeper_than_counts_structure_only_past_the_bracket_count() {
        let deep = format!("{}1{}", "[".repeat(5), "]".repeat(5));
        assert!(nests_deeper_than(&deep, 4));
        assert!(!nests_deeper_than(&deep, 5));
        // More brackets than the limit, but in a string or side by side: not deep.
        let in_string = format!("[\"{}\"]", "[".repeat(10));
        assert!(!nests_deeper_than(&in_string, 4));
        assert!(!nests_deeper_than("[[],[],[],[],[],[]]", 4));
    }

    #[test]
    fn brackets_inside_strings_are_not_structure() {
        let text = r#"{"a": "[[{\"]]", "b": [[1], {"c": "\\"}], "d": "{"}"#;
        assert_eq!(nesting(text), 3);
        let outside: Vec<u8> = structural_bytes(text.as_bytes()).collect();
        assert_eq!(
            String::from_utf8(outside).unwrap(),
            r#"{": ", ": [[1], {": "}], ": "}"#
        );
        // A literal left open, or ending in an escape, takes the rest of the text.
        for (text, outside) in [
            (r#"[1,"a\"]"#, r#"[1,""#),
            (r#"["x",["#, r#"[",["#),
            ("[\"", "[\""),
        ] {
            let got: Vec<u8> = structural_bytes(text.as_bytes()).collect();
            assert_eq!(String::from_utf8(got).unwrap(), outside, "{text}");
        }
    }

    #[test]
    fn shapes_collapse_arrays_and_hide_values() {
        let v = json!({"id": "x", "n": [1, 2, 3], "c": [{"a": 1}, {"a": 2}], "f": 0.5, "z": null});
        assert_eq!(
            shape(&v),
            json!({"id": "string", "n": ["integer"], "c": [{"a": "integer"}], "f": "number", "z": "null"})
        );
    }

    #[test]
    fn diff_shows_list_wrapped_error() {
        let a = json!({"error": {"message": "m", "type": "t", "param": null, "code": "c"}});
        let b = json!([{"error": {"code": 404, "message": "m", "status": "NOT_FOUND"}}]);
        let d = shape_diff("reference", &a, "gemini", &b);
        assert!(d.contains("-{") && d.contains("+["), "{d}");
        assert!(shape_diff("a", &a, "b", &a).is_empty());
    }

    #[test]
    fn type_names_and_quotes() {
        assert_eq!(type_name(&json!(1)), "an integer");
        assert_eq!(type_name(&json!(1.5)), "a number");
        assert_eq!(type_name(&json!(null)), "null");
        let long = json!("x".repeat(100));
        assert_eq!(
            show(&long).chars().count(),
            81,
            "80 characters and the cut mark"
        );
    }
}
