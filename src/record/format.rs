//! The recording file format and the recording key.
//!
//! One file per distinct request: `DIR/<target>/<key>.json`. The key is a hash of what the
//! request *means*, computed identically from an `Exchange` after a live run (recording) and
//! from the bytes the replay server receives (replay): method, the path relative to the base
//! URL with its query (credential parameters removed), which credential mode the step used
//! (`default`, `none`, `invalid`) and the canonical body. Headers are never part of the key, so
//! keys, tokens and per-run header values cannot make a recording unreachable.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::fs::safe_chars;

/// The `format` field of every recording file.
pub const FORMAT: &str = "llm-parity-recording/1";

/// Hex digits of the SHA-256 kept as the key (64 bits: collisions are not a practical concern
/// for the few thousand requests of a suite run, and the key stays readable in reasons).
const KEY_HEX_DIGITS: usize = 16;

/// Query parameters that carry credentials (Gemini's `?key=`): never part of a key or a file.
const CREDENTIAL_PARAMS: &[&str] = &[
    "key",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "access-token",
    "token",
];

// Every struct below declares its fields in alphabetical order: a file is written in
// declaration order, and so reads exactly as when recordings were rendered through a
// `serde_json::Value` (whose maps are sorted), without that copy of the whole recording.

/// One recorded exchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub case: String,
    /// Why the live exchange ended without a (complete) response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordedError>,
    pub format: String,
    pub key: String,
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    pub step: String,
    /// Where it was first recorded (informational: replay looks recordings up by key only).
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// `default`, `none` or `invalid`: the step's `auth`.
    pub auth: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Headers as sent, credential headers dropped.
    pub headers: Vec<(String, String)>,
    pub method: String,
    /// Relative to the target's base URL, query included (credential parameters removed).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    /// The body as base64, when it is not UTF-8 (audio, images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// The body as JSON, when it parsed (readable diffs in fixtures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_json: Option<Value>,
    /// The body as text, when it is UTF-8 but not JSON (or JSON whose bytes must be kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// For event streams, the raw body cut into events, each with its arrival offsets; the
    /// body fields are then absent (the body is the events' concatenation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<RecordedChunk>>,
    /// Response headers minus credentials and hop-by-hop headers.
    pub headers: Vec<(String, String)>,
    /// Milliseconds from the start of the exchange to the response headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers_ms: Option<f64>,
    /// The endpoint kept the connection open after `data: [DONE]` until the live run gave up;
    /// replay holds it open too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_open: bool,
    pub status: u16,
    /// What the live run counted but did not keep of the stream (it outgrew what one exchange
    /// keeps). The events above still hold the whole body: replay cuts it the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_cut: Option<crate::execute::stream::StreamCut>,
}

/// One or more raw SSE events (their lines up to and including the blank line that ends the
/// last), which arrived together.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecordedChunk {
    /// When it was complete.
    pub at_ms: f64,
    /// When its first byte arrived (ms from the start of the exchange).
    pub first_byte_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedError {
    /// A `TransportErrorKind` in snake case (`idle_timeout`, `body`, …).
    pub kind: String,
    pub message: String,
}

/// What a request body contributes to the key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyBody<'a> {
    None,
    Json(&'a Value),
    /// Text sent as is (parsed as JSON when it is JSON, so formatting does not matter).
    Raw(&'a str),
    /// `name=value, file=@name (N bytes)` — the multipart summary the executor records.
    Multipart(&'a str),
}

/// The recording key of a request.
pub fn key(method: &str, path: &str, auth: &str, body: &KeyBody<'_>) -> String {
    let body = match body {
        KeyBody::None => String::new(),
        KeyBody::Json(v) => format!("json:{}", canonical_json(v)),
        KeyBody::Raw("") => String::new(),
        KeyBody::Raw(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => format!("json:{}", canonical_json(&v)),
            Err(_) => format!("raw:{s}"),
        },
        KeyBody::Multipart(s) => format!("multipart:{s}"),
    };
    let canonical = format!(
        "{}\n{}\n{auth}\n{body}",
        method.to_ascii_uppercase(),
        strip_credential_params(path)
    );
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(KEY_HEX_DIGITS);
    hex
}

/// JSON with object keys sorted at every level and no insignificant whitespace, whatever map
/// ordering serde_json was built with.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

/// Drop credential parameters from a path's query (`models?key=…&alt=sse` → `models?alt=sse`).
pub fn strip_credential_params(path: &str) -> String {
    let Some((p, q)) = path.split_once('?') else {
        return path.to_string();
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !CREDENTIAL_PARAMS
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name))
        })
        .collect();
    if kept.is_empty() {
        p.to_string()
    } else {
        format!("{p}?{}", kept.join("&"))
    }
}

/// A target's directory (and replay URL segment): its name with anything outside
/// `[A-Za-z0-9._-]` replaced by `_` (`reference:gemini-compat` → `reference_gemini-compat`),
/// never starting with a dot.
pub fn target_dir(name: &str) -> String {
    let mut s = safe_chars(name);
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

/// Headers that describe one connection, not the message: never recorded or replayed.
pub fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_ignores_key_order_formatting_and_credential_params() {
        let a = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let b: Value =
            serde_json::from_str(r#"{ "messages":[{"content":"hi","role":"user"}], "model":"m" }"#)
                .unwrap();
        let k = key("POST", "chat/completions", "default", &KeyBody::Json(&a));
        assert_eq!(k.len(), 16);
        assert_eq!(
            k,
            key("post", "chat/completions", "default", &KeyBody::Json(&b))
        );
        let raw = serde_json::to_string(&b).unwrap();
        assert_eq!(
            k,
            key("POST", "chat/completions", "default", &KeyBody::Raw(&raw))
        );
        assert_eq!(
            key(
                "GET",
                "models?key=AIzaSECRET&alt=sse",
                "default",
                &KeyBody::None
            ),
            key("GET", "models?alt=sse", "default", &KeyBody::None)
        );
        assert_eq!(
            key("GET", "models?key=x", "default", &KeyBody::None),
            key("GET", "models", "default", &KeyBody::None)
        );
    }

    #[test]
    fn key_separates_what_matters() {
        let a = json!({"model": "m"});
        let k = key("POST", "chat/completions", "default", &KeyBody::Json(&a));
        for other in [
            key("POST", "chat/completions", "none", &KeyBody::Json(&a)),
            key("POST", "chat/completions", "invalid", &KeyBody::Json(&a)),
            key("PUT", "chat/completions", "default", &KeyBody::Json(&a)),
            key("POST", "completions", "default", &KeyBody::Json(&a)),
            key(
                "POST",
                "chat/completions",
                "default",
                &KeyBody::Json(&json!({"model": "n"})),
            ),
            key(
                "POST",
                "chat/completions",
                "default",
                &KeyBody::Raw("{oops"),
            ),
        ] {
            assert_ne!(k, other);
        }
        assert_eq!(
            key("GET", "models", "default", &KeyBody::Raw("")),
            key("GET", "models", "default", &KeyBody::None)
        );
    }

    #[test]
    fn target_dirs_are_safe() {
        assert_eq!(
            target_dir("reference:gemini-compat"),
            "reference_gemini-compat"
        );
        assert_eq!(target_dir(".."), "_..");
        assert_eq!(target_dir("gemini"), "gemini");
    }
}
