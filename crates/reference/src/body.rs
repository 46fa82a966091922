//! The JSON body extractor: turns body problems into OpenAI error envelopes (413 for
//! oversized bodies, 400 for unparseable JSON) instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::MAX_BODY_BYTES;

/// A request body that parsed as a JSON object, with the raw bytes kept for hashing
/// (deterministic ids are derived from them).
pub(crate) struct JsonObject {
    pub map: Map<String, Value>,
    pub raw: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(MAX_BODY_BYTES)
            } else {
                ApiError::unparseable_json()
            }
        })?;
        match serde_json::from_slice::<Value>(&raw) {
            Ok(Value::Object(map)) => Ok(JsonObject { map, raw }),
            Ok(other) => Err(ApiError::invalid_type("body", "an object", &other)),
            Err(_) => Err(ApiError::unparseable_json()),
        }
    }
}
