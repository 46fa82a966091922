//! Deviations of error responses: the status of an authentication failure (E2) and the shape
//! of every error body (E1, E4, E12, E13). Handlers build every error as an [`ApiError`];
//! this middleware re-renders it, so each shape lives in one place.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{Deviation, Deviations};
use crate::errors::ApiError;
use crate::AppState;

/// The middleware: a response carrying an [`ApiError`] is rendered again with the switched-on
/// error deviations.
pub(crate) async fn rewrite(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let dev = state.config.deviations;
    if !touches_errors(dev) {
        return response;
    }
    let Some(err) = response.extensions().get::<ApiError>().cloned() else {
        return response;
    };
    let (status, body) = render(dev, &err);
    let mut rewritten = (status, Json(body)).into_response();
    rewritten.extensions_mut().insert(err);
    rewritten
}

fn touches_errors(dev: Deviations) -> bool {
    [
        Deviation::ListWrappedError,
        Deviation::BadKey400,
        Deviation::FlatError,
        Deviation::ErrorWithoutParam,
        Deviation::ReshapedListError,
    ]
    .into_iter()
    .any(|d| dev.has(d))
}

/// The status and body an error gets under `dev`.
fn render(dev: Deviations, err: &ApiError) -> (StatusCode, Value) {
    let bad_key = err.code == Some("invalid_api_key");
    // E2: a bad key is a 400 with Google's wording.
    let (status, message) = if bad_key && dev.has(Deviation::BadKey400) {
        (
            StatusCode::BAD_REQUEST,
            "API key not valid. Please pass a valid API key.".to_string(),
        )
    } else {
        (err.status, err.message.clone())
    };
    let body = if dev.has(Deviation::ListWrappedError) || dev.has(Deviation::ReshapedListError) {
        // E1: integer `code`, gRPC `status`, no `type` and no `param`.
        let mut google = json!({
            "code": status.as_u16(),
            "message": message,
            "status": grpc_status(status)
        });
        if bad_key && dev.has(Deviation::BadKey400) {
            google["details"] = json!([{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": { "service": "generativelanguage.googleapis.com" }
            }]);
        }
        let list = json!([{ "error": google }]);
        if dev.has(Deviation::ReshapedListError) {
            // E13: a router spread the array into an object keyed by position.
            json!({ "0": list[0] })
        } else {
            list
        }
    } else if dev.has(Deviation::FlatError) {
        // E4: vLLM's body: no `error` wrapper, an exception name as `type`, the status as `code`.
        json!({
            "object": "error",
            "message": message,
            "type": exception_name(status),
            "param": err.param,
            "code": status.as_u16()
        })
    } else {
        let mut body = json!({ "error": {
            "message": message,
            "type": err.kind,
            "param": err.param,
            "code": err.code
        }});
        if dev.has(Deviation::ErrorWithoutParam) {
            if let Some(e) = body["error"].as_object_mut() {
                e.remove("param");
            }
        }
        body
    };
    (status, body)
}

/// The gRPC status name Google's HTTP mapping gives an HTTP status.
fn grpc_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "INVALID_ARGUMENT",
    }
}

/// The exception name vLLM puts in `type` for an HTTP status.
fn exception_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "AuthenticationError",
        404 => "NotFoundError",
        413 => "RequestTooLargeError",
        500..=599 => "InternalServerError",
        _ => "BadRequestError",
    }
}
