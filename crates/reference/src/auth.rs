//! API-key authentication of `/v1` routes.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::{ApiError, INVALID_REQUEST};
use crate::util::sha256;
use crate::{images, AppState};

/// Rejects `/v1` requests without the configured key (401, OpenAI's `invalid_api_key`).
pub(crate) async fn require_key(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.config.api_key.as_deref() else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    // Generated image URLs work like signed URLs: fetchable without the key.
    if !path.starts_with("/v1") || path.starts_with(images::SERVE_PREFIX) {
        return next.run(req).await;
    }
    match presented_keys(req.headers()) {
        keys if keys.iter().any(|k| same_key(k, expected)) => next.run(req).await,
        keys => unauthorized(keys.first().map(String::as_str)).into_response(),
    }
}

/// Every key the request presents, in the order OpenAI, Gemini and Azure clients send them.
fn presented_keys(headers: &HeaderMap) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or(v);
        keys.push(token.trim().to_string());
    }
    for name in ["x-goog-api-key", "api-key"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            keys.push(v.trim().to_string());
        }
    }
    keys
}

/// Compares digests so the comparison time does not depend on how much of the key matched.
fn same_key(presented: &str, expected: &str) -> bool {
    sha256(&[presented.as_bytes()]) == sha256(&[expected.as_bytes()])
}

/// The 401 envelope. The presented key is never echoed: at most its first three characters,
/// and none at all when it is too short for three characters to be a small part of it.
fn unauthorized(presented: Option<&str>) -> ApiError {
    let message = match presented {
        None | Some("") => "You didn't provide an API key. You need to provide your API key in an \
             Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as \
             the password field (with blank username) if you're accessing the API from your \
             browser and are prompted for a username and password. You can obtain an API key \
             from https://platform.openai.com/account/api-keys."
            .to_string(),
        Some(key) => {
            let shown: String = if key.chars().count() >= 8 {
                key.chars().take(3).collect()
            } else {
                String::new()
            };
            format!(
                "Incorrect API key provided: {shown}***. You can find your API key at \
                 https://platform.openai.com/account/api-keys."
            )
        }
    };
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        message,
        kind: INVALID_REQUEST,
        param: None,
        code: Some("invalid_api_key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_never_contains_the_key() {
        let key = "sk-secret-value-123";
        let e = unauthorized(Some(key));
        assert!(!e.message.contains(key));
        assert!(e.message.starts_with("Incorrect API key provided: sk-***."));
        let e = unauthorized(Some("abc"));
        assert!(!e.message.contains("abc"));
    }
}
