//! Parsing a YAML input into a typed definition, turning serde errors into diagnostics with
//! file:line:col and a "did you mean" for misspelt keys.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::diag::{Diagnostic, Diagnostics, did_you_mean};

/// Input files larger than this are refused before parsing (a suite is a few KB); the files
/// are read with this limit too, so a larger one is never read whole.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;

pub fn parse_yaml<T: DeserializeOwned>(path: &Path, source: &Arc<str>) -> Result<T, Diagnostics> {
    if source.len() > MAX_INPUT_BYTES {
        return Err(Diagnostics(vec![
            Diagnostic::new(
                path,
                format!(
                    "file is {} bytes, larger than the {} byte limit",
                    source.len(),
                    MAX_INPUT_BYTES
                ),
            )
            .expected("a suite or targets file of a few kilobytes"),
        ]));
    }
    serde_yaml::from_str::<T>(source).map_err(|e| Diagnostics(vec![yaml_error(path, source, &e)]))
}

/// One serde/YAML error as a diagnostic: location, message without the trailing position, the
/// accepted keys as `expected`, and a suggestion for the misspelt one.
pub fn yaml_error(path: &Path, source: &Arc<str>, e: &serde_yaml::Error) -> Diagnostic {
    let raw = e.to_string();
    let message = strip_position(&raw);
    let mut d = Diagnostic::new(path, message.clone()).with_source(source);
    if let Some(loc) = e.location() {
        d = d.at(loc.line(), loc.column());
    }
    if let Some((field, expected)) = unknown_field(&message) {
        let candidates: Vec<&str> = expected.iter().map(String::as_str).collect();
        d = d
            .expected(format!(
                "one of {}",
                expected
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .help_opt(did_you_mean(&field, candidates));
    } else if message.contains("recursion limit exceeded")
        || message.contains("repetition limit exceeded")
    {
        d = d.help("the document nests too deeply or expands too many aliases (a YAML bomb?)");
    }
    d
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => msg[..i].to_string(),
        _ => msg.to_string(),
    }
}

/// Parse serde's "unknown field `x`, expected one of `a`, `b`" (also "expected `a` or `b`").
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = &msg[msg.find("unknown field `")? + "unknown field `".len()..];
    let field = rest[..rest.find('`')?].to_string();
    let expected_part = &rest[rest.find("expected")?..];
    let names = expected_part
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    Some((field, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        suite: String,
        cases: Vec<u8>,
    }

    #[test]
    fn unknown_key_gets_location_and_suggestion() {
        let src: Arc<str> = "suite: x\ncasse: []\n".into();
        let d = parse_yaml::<Doc>(Path::new("s.yaml"), &src)
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!((d.line, d.column), (Some(2), Some(1)));
        assert!(d.message.contains("unknown field `casse`"), "{}", d.message);
        assert_eq!(d.help.as_deref(), Some("did you mean `cases`?"));
        assert!(!d.message.contains(" at line "), "{}", d.message);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let src: Arc<str> = s.into();
        let r = parse_yaml::<serde_yaml::Value>(Path::new("bomb.yaml"), &src);
        let e = r.unwrap_err();
        assert!(e.to_string().contains("repetition limit exceeded"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src: Arc<str> = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into();
        let d = parse_yaml::<serde_yaml::Value>(Path::new("deep.yaml"), &src).unwrap_err();
        assert!(
            d.0[0].message.contains("recursion limit"),
            "{}",
            d.0[0].message
        );
    }
}
