//! `/v1/files`: multipart upload, retrieve, list, content and delete, kept in memory.

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::deviation::Deviation;
use crate::errors::ApiError;
use crate::store::{Store, StoredFile};
use crate::util::{alnum_id, now_unix, page};
use crate::{AppState, MAX_BODY_BYTES};

const PURPOSES: &[&str] = &[
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

/// `POST /v1/files` (multipart fields `purpose` and `file`).
pub(crate) async fn upload(
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    if state.config.deviations.has(Deviation::FilesNotConfigured) {
        // A4: LiteLLM's words for a proxy without `files_settings`.
        drain(multipart).await;
        return Err(ApiError::server_error(
            "files_settings is not set, set it on your config.yaml file.",
        ));
    }
    let mut multipart = multipart.map_err(|_| {
        ApiError::bad_request(
            "Invalid request: the body must be multipart/form-data with the fields 'purpose' and 'file'.",
            None,
            None,
        )
    })?;
    let mut purpose: Option<String> = None;
    let mut file: Option<(String, Bytes)> = None;
    loop {
        let field = multipart.next_field().await.map_err(body_error)?;
        let Some(field) = field else { break };
        match field.name() {
            Some("purpose") => purpose = Some(field.text().await.map_err(body_error)?),
            Some("file") => {
                let name = field.file_name().unwrap_or("file").to_string();
                file = Some((name, field.bytes().await.map_err(body_error)?));
            }
            _ => {}
        }
    }
    let purpose = purpose.ok_or_else(|| ApiError::missing("purpose"))?;
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err(ApiError::invalid_enum("purpose", &purpose, PURPOSES));
    }
    let (filename, content) = file.ok_or_else(|| ApiError::missing("file"))?;
    if purpose == "batch" && !filename.ends_with(".jsonl") {
        return Err(ApiError::bad_request(
            "Invalid file format for Batch API. Must be .jsonl",
            Some("file"),
            None,
        ));
    }
    let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let object = add_file(&mut store, &filename, &purpose, content.to_vec());
    Ok(Json(object))
}

/// Read an upload to its end before refusing it, as a server does that answers after reading
/// the request: answering mid-upload makes clients (openai-node) see a broken connection, not
/// the answer.
pub(crate) async fn drain(multipart: Result<Multipart, MultipartRejection>) {
    if let Ok(mut m) = multipart {
        while let Ok(Some(_)) = m.next_field().await {}
    }
}

/// A multipart body that cannot be read: too large (413) or malformed (400).
pub(crate) fn body_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(MAX_BODY_BYTES)
    } else {
        ApiError::bad_request(
            format!("Invalid multipart body: {}", e.body_text()),
            None,
            None,
        )
    }
}

/// Stores a file and returns its `file` object.
pub(crate) fn add_file(
    store: &mut Store,
    filename: &str,
    purpose: &str,
    content: Vec<u8>,
) -> Value {
    let seq = store.next();
    let id = format!(
        "file-{}",
        alnum_id(&[&seq.to_le_bytes(), filename.as_bytes(), &content], 22)
    );
    let object = json!({
        "id": id,
        "object": "file",
        "bytes": content.len(),
        "created_at": now_unix(),
        "filename": filename,
        "purpose": purpose,
        "status": "processed"
    });
    store.add_file(StoredFile {
        object: object.clone(),
        content,
    });
    object
}

fn not_found(id: &str) -> ApiError {
    ApiError::object_not_found(format!("No such File object: {id}"), Some("id"))
}

/// `GET /v1/files/{id}`.
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    store
        .file(&id)
        .map(|f| Json(f.object.clone()))
        .ok_or_else(|| not_found(&id))
}

/// `GET /v1/files/{id}/content`.
pub(crate) async fn content(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let file = store.file(&id).ok_or_else(|| not_found(&id))?;
    if state.config.deviations.has(Deviation::FileContentFails) {
        // A5: the file exists (retrieve finds it); only its download fails.
        return Err(ApiError::server_error(
            "The server had an error while processing your request.",
        ));
    }
    let mut response = file.content.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// `GET /v1/files` (`limit`, `order`, `after`, `purpose`; newest first, up to 10 000).
pub(crate) async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let files = store.files.iter().map(|f| f.object.clone()).collect();
    let mut list = page(files, query.as_deref(), 10_000)?;
    // An empty page still names no first or last file, as null.
    if list.get("first_id").is_none() {
        list["first_id"] = Value::Null;
        list["last_id"] = Value::Null;
    }
    Ok(Json(list))
}

/// `DELETE /v1/files/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let before = store.files.len();
    store.files.retain(|f| f.object["id"] != id.as_str());
    if store.files.len() == before {
        return Err(not_found(&id));
    }
    Ok(Json(json!({ "id": id, "object": "file", "deleted": true })))
}
