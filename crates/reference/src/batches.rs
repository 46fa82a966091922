//! `/v1/batches`: create, retrieve, list and cancel, kept in memory.
//!
//! A batch starts `validating`; the first retrieval moves it to `in_progress` (or `failed`
//! when input lines are malformed), the second to `completed`, at which point the
//! `/v1/chat/completions` lines are actually executed by the reference chat generator and
//! written to an output file (failed requests to an error file). Unset optional timestamps
//! and file ids are omitted, since the OpenAPI schema does not declare them nullable.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::body::JsonObject;
use crate::deviation::Deviations;
use crate::errors::ApiError;
use crate::files::add_file;
use crate::store::{Store, StoredBatch};
use crate::util::{alnum_id, hex, now_unix, page, sha256};
use crate::validate::{field, metadata, opt_object, req_str};
use crate::{chat, embeddings, request, AppState};

const ENDPOINTS: &[&str] = &[
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
];

/// `POST /v1/batches`.
pub(crate) async fn create(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    let req = &body.map;
    let input_file_id = req_str(field(req, "input_file_id"), "input_file_id")?;
    let endpoint = req_str(field(req, "endpoint"), "endpoint")?;
    if !ENDPOINTS.contains(&endpoint) {
        return Err(ApiError::invalid_enum("endpoint", endpoint, ENDPOINTS));
    }
    let window = req_str(field(req, "completion_window"), "completion_window")?;
    if window != "24h" {
        return Err(ApiError::invalid_enum(
            "completion_window",
            window,
            &["24h"],
        ));
    }
    metadata(field(req, "metadata"), "metadata")?;
    opt_object(field(req, "output_expires_after"), "output_expires_after")?;

    let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    // A missing input file is reported like any missing object: 404.
    let file = store.file(input_file_id).ok_or_else(|| {
        ApiError::object_not_found(
            format!("No such File object: {input_file_id}"),
            Some("input_file_id"),
        )
    })?;
    if file.object["purpose"] != "batch" {
        return Err(ApiError::invalid_value(
            "input_file_id",
            format!("Invalid 'input_file_id': file '{input_file_id}' must be uploaded with purpose 'batch'."),
        ));
    }
    let total = lines(&file.content).count();
    let seq = store.next();
    let created = now_unix();
    let object = json!({
        "id": format!("batch_{}", &hex(&sha256(&[&seq.to_le_bytes(), &body.raw]))[..32]),
        "object": "batch",
        "endpoint": endpoint,
        "input_file_id": input_file_id,
        "completion_window": window,
        "status": "validating",
        "created_at": created,
        "expires_at": created + 24 * 3600,
        "request_counts": { "total": total, "completed": 0, "failed": 0 },
        "metadata": field(req, "metadata").cloned().unwrap_or(Value::Null)
    });
    store.add_batch(StoredBatch {
        object: object.clone(),
        retrievals: 0,
    });
    Ok(Json(object))
}

/// `GET /v1/batches/{id}`: returns the batch, advancing its status one step.
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let dev = state.config.deviations;
    let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let batch = store.batch_mut(&id).ok_or_else(|| not_found(&id))?;
    batch.retrievals += 1;
    let status = batch.object["status"].as_str().unwrap_or("").to_string();
    match status.as_str() {
        "validating" => start(&mut store, &id),
        "in_progress" => finish(&mut store, &id, dev),
        "cancelling" => {
            let batch = store.batch_mut(&id).ok_or_else(|| not_found(&id))?;
            batch.object["status"] = json!("cancelled");
            batch.object["cancelled_at"] = json!(now_unix());
        }
        _ => {}
    }
    let batch = store.batch_mut(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(batch.object.clone()))
}

/// `GET /v1/batches` (`limit`, default 20, and `after`; newest first).
pub(crate) async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let batches = store.batches.iter().map(|b| b.object.clone()).collect();
    page(batches, query.as_deref(), 20).map(Json)
}

/// `POST /v1/batches/{id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    let batch = store.batch_mut(&id).ok_or_else(|| not_found(&id))?;
    let status = batch.object["status"].as_str().unwrap_or("");
    if !["validating", "in_progress", "finalizing"].contains(&status) {
        return Err(ApiError::bad_request(
            format!("Cannot cancel a batch with status '{status}'."),
            None,
            None,
        ));
    }
    batch.object["status"] = json!("cancelling");
    batch.object["cancelling_at"] = json!(now_unix());
    Ok(Json(batch.object.clone()))
}

fn not_found(id: &str) -> ApiError {
    ApiError::object_not_found(format!("No such Batch object: {id}"), Some("id"))
}

/// Non-blank lines of a JSONL file, numbered from 1.
fn lines(content: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    content
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
}

/// `validating` → `in_progress`, or `failed` with `errors` when lines are malformed.
fn start(store: &mut Store, id: &str) {
    let (endpoint, input) = {
        let Some(batch) = store.batch_mut(id) else {
            return;
        };
        (
            batch.object["endpoint"].as_str().unwrap_or("").to_string(),
            batch.object["input_file_id"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };
    let content = store
        .file(&input)
        .map(|f| f.content.clone())
        .unwrap_or_default();
    let mut errors = Vec::new();
    if lines(&content).next().is_none() {
        errors.push(
            json!({ "code": "empty_file", "message": "The input file is empty.", "param": null }),
        );
    }
    for (line, text) in lines(&content) {
        let problem = match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(o)) if o.get("custom_id").and_then(Value::as_str).is_none() => Some((
                "missing_required_parameter",
                "The line is missing 'custom_id'.".to_string(),
            )),
            Ok(Value::Object(o))
                if o.get("url").and_then(Value::as_str) != Some(endpoint.as_str()) =>
            {
                Some((
                    "mismatched_endpoint",
                    format!(
                        "The 'url' of this line does not match the batch endpoint '{endpoint}'."
                    ),
                ))
            }
            Ok(Value::Object(_)) => None,
            _ => Some((
                "invalid_json_line",
                "This line is not parseable as valid JSON.".to_string(),
            )),
        };
        if let Some((code, message)) = problem {
            errors.push(json!({ "code": code, "line": line, "message": message, "param": null }));
        }
    }
    let now = now_unix();
    let Some(batch) = store.batch_mut(id) else {
        return;
    };
    if errors.is_empty() {
        batch.object["status"] = json!("in_progress");
        batch.object["in_progress_at"] = json!(now);
    } else {
        batch.object["status"] = json!("failed");
        batch.object["failed_at"] = json!(now);
        batch.object["errors"] = json!({ "object": "list", "data": errors });
    }
}

/// `in_progress` → `completed`: executes every line and writes the output/error files.
fn finish(store: &mut Store, id: &str, dev: Deviations) {
    let Some(batch) = store.batch_mut(id) else {
        return;
    };
    let input = batch.object["input_file_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let endpoint = batch.object["endpoint"].as_str().unwrap_or("").to_string();
    let content = store
        .file(&input)
        .map(|f| f.content.clone())
        .unwrap_or_default();
    let (mut output, mut failures) = (Vec::new(), Vec::new());
    for (line, text) in lines(&content) {
        let Ok(Value::Object(item)) = serde_json::from_slice::<Value>(text) else {
            continue;
        };
        let custom_id = item.get("custom_id").cloned().unwrap_or(Value::Null);
        let body = item
            .get("body")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let (status, response_body) = execute(dev, &endpoint, &body);
        let record = json!({
            "id": format!("batch_req_{}", alnum_id(&[id.as_bytes(), &line.to_le_bytes()], 24)),
            "custom_id": custom_id,
            "response": {
                "status_code": status,
                "request_id": hex(&sha256(&[id.as_bytes(), &line.to_le_bytes()]))[..32].to_string(),
                "body": response_body
            },
            "error": null
        });
        if status == 200 {
            output.push(record)
        } else {
            failures.push(record)
        }
    }
    let to_jsonl = |records: &[Value]| -> Vec<u8> {
        records
            .iter()
            .map(|r| format!("{r}\n"))
            .collect::<String>()
            .into_bytes()
    };
    let (completed, failed) = (output.len(), failures.len());
    let output_file = (!output.is_empty()).then(|| {
        add_file(
            store,
            "batch_output.jsonl",
            "batch_output",
            to_jsonl(&output),
        )
    });
    let error_file = (!failures.is_empty()).then(|| {
        add_file(
            store,
            "batch_errors.jsonl",
            "batch_output",
            to_jsonl(&failures),
        )
    });
    let now = now_unix();
    let Some(batch) = store.batch_mut(id) else {
        return;
    };
    let o = &mut batch.object;
    o["status"] = json!("completed");
    o["finalizing_at"] = json!(now);
    o["completed_at"] = json!(now);
    o["request_counts"] =
        json!({ "total": completed + failed, "completed": completed, "failed": failed });
    if let Some(f) = output_file {
        o["output_file_id"] = f["id"].clone();
    }
    if let Some(f) = error_file {
        o["error_file_id"] = f["id"].clone();
    }
}

/// Runs one batch line through the endpoint's own handler logic: chat completions and
/// embeddings are executed; the other batch endpoints are refused line by line.
fn execute(dev: Deviations, endpoint: &str, body: &Map<String, Value>) -> (u16, Value) {
    let result = match endpoint {
        "/v1/chat/completions" => request::parse(dev, body).map(|req| {
            let raw = Value::Object(body.clone()).to_string();
            chat::render(&chat::complete(&req, raw.as_bytes()))
        }),
        "/v1/embeddings" => embeddings::respond(dev, body),
        _ => Err(ApiError::bad_request(
            format!("The reference endpoint does not execute '{endpoint}' batch requests."),
            None,
            None,
        )),
    };
    match result {
        Ok(v) => (200, v),
        Err(e) => (e.status.as_u16(), e.openai_body()),
    }
}
