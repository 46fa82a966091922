//! The OpenAI error envelope and the constructors for the errors the endpoint produces.
//!
//! Every error is built as an [`ApiError`] and rendered in OpenAI's shape
//! `{"error":{"message","type","param","code"}}`. The response also carries the `ApiError`
//! as an extension so the Gemini profile can re-render it in one place (`gemini.rs`).

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::{Deviation, Deviations};

/// `type` of client errors.
pub(crate) const INVALID_REQUEST: &str = "invalid_request_error";

/// One error response, independent of how a profile renders it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl ApiError {
    /// A 400 `invalid_request_error`.
    pub fn bad_request(
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&'static str>,
    ) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: INVALID_REQUEST,
            param: param.map(str::to_string),
            code,
        }
    }

    /// `Missing required parameter: 'x'.`
    pub fn missing(param: &str) -> Self {
        Self::bad_request(
            format!("Missing required parameter: '{param}'."),
            Some(param),
            Some("missing_required_parameter"),
        )
    }

    /// `Invalid type for 'x': expected an integer, but got a string instead.`
    pub fn invalid_type(param: &str, expected: &str, got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid type for '{param}': expected {expected}, but got {} instead.",
                json_type_phrase(got)
            ),
            Some(param),
            Some("invalid_type"),
        )
    }

    /// `Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'.`
    pub fn invalid_enum(param: &str, got: &str, supported: &[&str]) -> Self {
        Self::bad_request(
            format!(
                "Invalid value: '{got}'. Supported values are: {}.",
                english_list(supported)
            ),
            Some(param),
            Some("invalid_value"),
        )
    }

    /// A free-form invalid value for `param`.
    pub fn invalid_value(param: &str, message: impl Into<String>) -> Self {
        Self::bad_request(message, Some(param), Some("invalid_value"))
    }

    /// The 404 for an unknown model id.
    pub fn model_not_found(model: &str) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("The model `{model}` does not exist or you do not have access to it."),
            kind: INVALID_REQUEST,
            param: None,
            code: Some("model_not_found"),
        }
    }

    /// A 404 for a stored object (file, batch) that does not exist.
    pub fn object_not_found(message: impl Into<String>, param: Option<&str>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            kind: INVALID_REQUEST,
            param: param.map(str::to_string),
            code: None,
        }
    }

    /// A 500 with OpenAI's `server_error` type: the endpoint failed, not the request.
    pub fn server_error(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
            kind: "server_error",
            param: None,
            code: None,
        }
    }

    /// The 400 for a body that is not JSON (OpenAI's own wording).
    pub fn unparseable_json() -> Self {
        Self::bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
             but what was sent was not valid JSON. If you have trouble figuring out how to fix \
             this, please contact us through our help center at help.openai.com.)",
            None,
            None,
        )
    }

    /// The 413 for an oversized body.
    pub fn too_large(limit: usize) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "Request body too large: the maximum request size is {} bytes.",
                limit
            ),
            kind: INVALID_REQUEST,
            param: None,
            code: Some("request_too_large"),
        }
    }

    /// The OpenAI envelope of this error.
    pub fn openai_body(&self) -> Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.openai_body())).into_response();
        // Kept so a profile can re-render the same error in its own shape.
        response.extensions_mut().insert(self);
        response
    }
}

/// Fallback for routes that do not exist: 404 `Invalid URL (METHOD /path)`.
pub(crate) async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        // Path only: query strings may carry secrets and are never echoed.
        message: format!("Invalid URL ({method} {})", uri.path()),
        kind: INVALID_REQUEST,
        param: None,
        code: None,
    }
}

/// A route the deviation `d` removes (A1, A6) answers as unknown while `d` is switched on.
pub(crate) async fn absent_if(
    deviations: Deviations,
    d: Deviation,
    method: Method,
    uri: Uri,
) -> Result<(), ApiError> {
    if deviations.has(d) {
        return Err(unknown_route(method, uri).await);
    }
    Ok(())
}

/// Fallback for a known route called with the wrong method: 405.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("Invalid method for URL ({method} {})", uri.path()),
        kind: INVALID_REQUEST,
        param: None,
        code: None,
    }
}

/// "a string", "an integer", … as OpenAI's messages phrase a JSON value's type.
pub(crate) fn json_type_phrase(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `'a', 'b', and 'c'` (OpenAI's enumeration style).
fn english_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        2 => format!("{} and {}", quoted[0], quoted[1]),
        n => format!("{}, and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_read_like_openai() {
        let e = ApiError::invalid_enum("x", "q", &["a", "b", "c"]);
        assert_eq!(
            e.message,
            "Invalid value: 'q'. Supported values are: 'a', 'b', and 'c'."
        );
        let e = ApiError::invalid_enum("x", "q", &["a", "b"]);
        assert_eq!(
            e.message,
            "Invalid value: 'q'. Supported values are: 'a' and 'b'."
        );
    }

    #[test]
    fn envelope_has_four_fields() {
        let body = ApiError::missing("messages").openai_body();
        assert_eq!(body["error"]["param"], "messages");
        assert_eq!(body["error"]["code"], "missing_required_parameter");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
}
