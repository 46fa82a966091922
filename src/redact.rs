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
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = self.text(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if is_sensitive_header(k) && v.is_string() {
                        *v = Value::String(MASK.into());
                    } else {
                        self.json(v);
                    }
                }
            }
            _ => {}
        }
    }

    /// Redact every string of a serialisable value (a report, a runbook): one pass over its
    /// JSON form, so no field can be forgotten.
    pub fn value<T: serde::Serialize + serde::de::DeserializeOwned>(&self, item: T) -> T {
        let Ok(mut v) = serde_json::to_value(&item) else {
            return item;
        };
        self.json(&mut v);
        serde_json::from_value(v).unwrap_or(item)
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
