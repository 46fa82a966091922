//! Secrets never reach an output. Every byte the tool writes (reports, terminal, snapshots,
//! recordings, error messages) passes through one `Redactor`, which knows:
//! - every configured secret value (API keys read from the environment, tokens printed by auth
//!   commands — registered as they are obtained), replaced by `***`;
//! - credential-bearing header names (`Authorization`, `x-goog-api-key`, `api-key`, …), whose
//!   values become `***` wherever a header map is serialised;
//! - key-like strings that were never configured (`Bearer …`, `sk-…`, `AIza…`, `ya29.…`,
//!   `?key=…` query parameters), so a key echoed by an endpoint in an error message is caught too.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;
use serde_json::Value;

pub const MASK: &str = "***";

/// Header names whose values are credentials.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-goog-api-key",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
];

pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// Secrets learnt while running (auth command tokens), shared with the redactor. Kept longest
/// first (a secret containing another is masked whole) and handed out as a shared list, so
/// redacting a string does not copy them.
#[derive(Debug, Clone, Default)]
pub struct SecretRegistry(Arc<Mutex<Arc<Vec<String>>>>);

impl SecretRegistry {
    pub fn add(&self, secret: &str) {
        // Very short values would mask ordinary words; real credentials are longer.
        if secret.len() >= 4 {
            let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if !v.iter().any(|s| s == secret) {
                let mut next = Vec::clone(&v);
                next.push(secret.to_string());
                next.sort_by_key(|s| std::cmp::Reverse(s.len()));
                *v = Arc::new(next);
            }
        }
    }

    /// Every secret registered so far, longest first.
    pub fn snapshot(&self) -> Arc<Vec<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    registry: SecretRegistry,
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            // `Bearer <token>` anywhere (error messages quoting request headers).
            (r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}", "$1 ***"),
            // OpenAI-style and Google API keys, Google OAuth access tokens.
            (r"\bsk-[A-Za-z0-9_-]{16,}", "***"),
            (r"\bAIza[0-9A-Za-z_-]{30,}", "***"),
            (r"\bya29\.[0-9A-Za-z_-]{20,}", "***"),
            // Credentials in query strings: ?key=…, &api_key=…, &access_token=…
            (
                r"(?i)([?&](?:key|api[_-]?key|access[_-]?token|token)=)[^&\s\x22'#]+",
                "${1}***",
            ),
            // `"x-goog-api-key": "…"` / `api-key: …` as text (headers quoted in messages).
            (
                r#"(?i)((?:x-goog-api-key|api-key|x-api-key|authorization)["']?\s*[:=]\s*["']?)[^"',\s}]{4,}"#,
                "${1}***",
            ),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid redaction pattern"), r))
        .collect()
    })
}

impl Redactor {
    pub fn new(registry: SecretRegistry) -> Self {
        Self { registry }
    }

    pub fn registry(&self) -> &SecretRegistry {
        &self.registry
    }

    /// Redact one string.
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut out: Cow<'a, str> = Cow::Borrowed(s);
        // Longest first, so a secret containing another is masked whole.
        for secret in self.registry.snapshot().iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
        for (re, rep) in patterns() {
            if re.is_match(&out) {
                out = Cow::Owned(re.replace_all(&out, *rep).into_owned());
            }
        }
        out
    }

    /// Redact every string in a JSON value, and the values of credential header keys.
    pub fn json(&self, v: &mut Value) {
        self.json_noting(v, &mut String::new(), &mut |_, _| {});
    }

    /// [`json`](Self::json), telling `changed` of each string it changed: where (a JSON
    /// Pointer from `at`) and what it was.
    fn json_noting(&self, v: &mut Value, at: &mut String, changed: &mut dyn FnMut(&str, String)) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = self.text(s) {
                    changed(at, std::mem::replace(s, r));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    self.json_noting(item, at, changed);
                    at.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    if is_sensitive_header(k) && v.is_string() {
                        if let Value::String(was) = std::mem::replace(v, MASK.into())
                            && was != MASK
                        {
                            changed(at, was);
                        }
                    } else {
                        self.json_noting(v, at, changed);
                    }
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Redact every string of a serialisable value (a report, a runbook): one pass over its
    /// JSON form, so no field can be forgotten.
    ///
    /// It fails closed: a string the redactor changed is never given back as it was, with one
    /// exception. A field whose type only accepts certain words (an enum: `outcome: fail`,
    /// `report_bodies: none`) cannot hold `***`; when a secret equals or is part of such a word
    /// (a local server's key `none`), the redacted value does not fit its type, and that word
    /// alone is given back — the type's own vocabulary, never text from an endpoint or a file.
    pub fn value<T: serde::Serialize + serde::de::DeserializeOwned>(&self, item: T) -> T {
        let mut v = match serde_json::to_value(&item) {
            Ok(v) => v,
            Err(e) => return unrebuildable(item, &e),
        };
        self.json(&mut v);
        match serde_json::from_value(v) {
            Ok(t) => t,
            Err(_) => self.value_keeping_vocabulary(item),
        }
    }

    /// The slow path of [`value`](Self::value), taken only when a redacted value does not fit
    /// its type: the fewest changed words (short lowercase words, as enum variants are
    /// written) given back that let it be rebuilt; every other change kept.
    fn value_keeping_vocabulary<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        item: T,
    ) -> T {
        let is_word = |s: &str| {
            s.len() <= 32
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let mut v = match serde_json::to_value(&item) {
            Ok(v) => v,
            Err(e) => return unrebuildable(item, &e),
        };
        // (where, the word it was, what redaction made of it)
        let mut words: Vec<(String, Value, Value)> = Vec::new();
        self.json_noting(&mut v, &mut String::new(), &mut |at, was| {
            if is_word(&was) {
                words.push((at.to_string(), Value::String(was), Value::Null));
            }
        });
        let set = |v: &mut Value, at: &str, to: Value| -> Value {
            v.pointer_mut(at)
                .map(|leaf| std::mem::replace(leaf, to))
                .unwrap_or_default()
        };
        for (at, word, masked) in &mut words {
            *masked = set(&mut v, at, word.clone());
        }
        let fits = |v: &Value| T::deserialize(v).is_ok();
        if fits(&v) {
            // Mask again every word the type does not need.
            for (at, word, masked) in &words {
                set(&mut v, at, masked.clone());
                if !fits(&v) {
                    set(&mut v, at, word.clone());
                }
            }
            if let Ok(t) = serde_json::from_value(v) {
                return t;
            }
        }
        unrebuildable(item, &"a redacted string fits no value of its field")
    }

    /// Redact a header list (names kept, credential values masked, other values scanned).
    pub fn headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                let v = if is_sensitive_header(k) {
                    MASK.to_string()
                } else {
                    self.text(v).into_owned()
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// A value the redactor cannot rebuild from its own JSON form: a type whose serialisation
/// does not round-trip, a bug (every redacted type is a report contract type, which `merge`
/// reads back). The debug assertion makes such a type fail every test that builds one.
fn unrebuildable<T>(item: T, why: &dyn std::fmt::Display) -> T {
    debug_assert!(
        false,
        "the redactor cannot rebuild a {} ({why})",
        std::any::type_name::<T>()
    );
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CANARY: &str = "canary-Zq9xLmP2vT8wRk4";

    fn redactor() -> Redactor {
        let r = SecretRegistry::default();
        r.add(CANARY);
        Redactor::new(r)
    }

    #[test]
    fn masks_configured_secrets_and_key_shapes() {
        let r = redactor();
        let s = format!(
            "key {CANARY}; Authorization: Bearer abcdefghijklmnop; sk-proj-ABCDEFGHIJKLMNOPQRST; \
             https://x/v1?key=AIzaSyFAKE-not-a-real-key-0123456789&alt=sse"
        );
        let out = r.text(&s);
        assert!(!out.contains(CANARY), "{out}");
        assert!(!out.contains("abcdefghijklmnop"), "{out}");
        assert!(!out.contains("sk-proj-ABCDEFGHIJKLMNOPQRST"), "{out}");
        assert!(!out.contains("AIzaSy"), "{out}");
        assert!(out.contains("alt=sse"), "{out}");
    }

    #[test]
    fn masks_header_values_in_json() {
        let r = redactor();
        let mut v = serde_json::json!({"headers": {"Authorization": "Bearer x", "x-goog-api-key": "k", "accept": "a"}});
        r.json(&mut v);
        assert_eq!(v["headers"]["Authorization"], MASK);
        assert_eq!(v["headers"]["x-goog-api-key"], MASK);
        assert_eq!(v["headers"]["accept"], "a");
    }

    proptest! {
        // Wherever the canary sits in arbitrary text, it never survives redaction.
        #[test]
        fn canary_never_survives(prefix in ".{0,40}", suffix in ".{0,40}") {
            let r = redactor();
            let s = format!("{prefix}{CANARY}{suffix}");
            prop_assert!(!r.text(&s).contains(CANARY));
        }
    }
}

#[cfg(test)]
mod value_tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Bodies {
        All,
        None,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Entry {
        bodies: Bodies,
        outcome: crate::judge::Outcome,
        reason: String,
        words: Vec<String>,
    }

    fn redactor(secrets: &[&str]) -> Redactor {
        let r = SecretRegistry::default();
        for s in secrets {
            r.add(s);
        }
        Redactor::new(r)
    }

    #[test]
    fn free_text_is_masked_and_the_type_keeps_only_the_words_it_needs() {
        // A local server's key `none` and a key `fail`: every string holding them is masked,
        // except the enum values that can be nothing else.
        let r = redactor(&["none", "fail", "canary-Zq9xLmP2vT8wRk4"]);
        let e = Entry {
            bodies: Bodies::None,
            outcome: crate::judge::Outcome::Fail,
            reason: "key none rejected: canary-Zq9xLmP2vT8wRk4 (fail)".into(),
            words: vec!["none".into(), "fail".into(), "kept".into()],
        };
        let out = r.value(e);
        assert_eq!(out.bodies, Bodies::None);
        assert_eq!(out.outcome, crate::judge::Outcome::Fail);
        assert_eq!(out.reason, "key *** rejected: *** (***)");
        assert_eq!(out.words, ["***", "***", "kept"]);
    }

    #[test]
    fn the_fast_path_masks_every_field() {
        let r = redactor(&["canary-Zq9xLmP2vT8wRk4"]);
        let e = Entry {
            bodies: Bodies::All,
            outcome: crate::judge::Outcome::Pass,
            reason: "canary-Zq9xLmP2vT8wRk4".into(),
            words: vec!["Bearer abcdefghijklmnop".into()],
        };
        let out = r.value(e);
        assert_eq!(out.reason, "***");
        assert_eq!(out.words, ["Bearer ***"]);
    }

    /// A type that cannot be rebuilt from its JSON is a bug the debug assertion reports.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the redactor cannot rebuild")]
    fn a_type_that_does_not_round_trip_trips_the_assertion() {
        #[derive(Serialize, Deserialize)]
        struct Nan {
            x: f64,
        }
        redactor(&[]).value(Nan { x: f64::NAN });
    }
}
