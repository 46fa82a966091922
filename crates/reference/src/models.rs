//! The model catalogue and `GET /v1/models`, `GET /v1/models/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::deviation::{self, Deviations};
use crate::errors::ApiError;
use crate::AppState;

/// `created` of every model object (a fixed time keeps listings byte-stable).
const CREATED: u64 = 1_700_000_000;

/// What a model can be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `/v1/chat/completions` (text, images, audio and tools alike).
    Chat,
    /// `/v1/embeddings`.
    Embedding,
    /// `/v1/images/generations`.
    Image,
    /// `/v1/audio/speech`.
    Speech,
    /// `/v1/audio/transcriptions`.
    Transcription,
}

/// One served model.
#[derive(Debug)]
pub(crate) struct ModelEntry {
    pub id: &'static str,
    pub role: &'static str,
    pub kind: Kind,
    /// Reasoning models report `reasoning_tokens` according to `reasoning_effort`.
    pub reasoning: bool,
    /// Chat models: the most prompt tokens a request may carry; a longer prompt is refused with
    /// OpenAI's `context_length_exceeded` error.
    pub context_length: Option<u64>,
}

/// The context window of the chat models: gpt-4o's 128k tokens, so a prompt that overflows
/// it overflows the reference endpoint too.
pub(crate) const CHAT_CONTEXT: u64 = 128_000;

/// Every model, one per logical role.
pub(crate) const CATALOGUE: &[ModelEntry] = &[
    ModelEntry {
        id: "ref-chat",
        role: "chat",
        kind: Kind::Chat,
        reasoning: false,
        context_length: Some(CHAT_CONTEXT),
    },
    ModelEntry {
        id: "ref-vision",
        role: "vision",
        kind: Kind::Chat,
        reasoning: false,
        context_length: Some(CHAT_CONTEXT),
    },
    ModelEntry {
        id: "ref-audio",
        role: "audio",
        kind: Kind::Chat,
        reasoning: false,
        context_length: Some(CHAT_CONTEXT),
    },
    ModelEntry {
        id: "ref-embed",
        role: "embedding",
        kind: Kind::Embedding,
        reasoning: false,
        context_length: None,
    },
    ModelEntry {
        id: "ref-image",
        role: "image",
        kind: Kind::Image,
        reasoning: false,
        context_length: None,
    },
    ModelEntry {
        id: "ref-reasoning",
        role: "reasoning",
        kind: Kind::Chat,
        reasoning: true,
        context_length: Some(CHAT_CONTEXT),
    },
    ModelEntry {
        id: "ref-tts",
        role: "speech",
        kind: Kind::Speech,
        reasoning: false,
        context_length: None,
    },
    ModelEntry {
        id: "ref-transcribe",
        role: "transcription",
        kind: Kind::Transcription,
        reasoning: false,
        context_length: None,
    },
];

/// The catalogue entry for a requested id, if any.
pub(crate) fn lookup(dev: Deviations, requested: &str) -> Option<&'static ModelEntry> {
    let id = deviation::request::model_id(dev, requested);
    CATALOGUE.iter().find(|m| m.id == id)
}

/// The entry for the request's `model`, which must exist (404) and be of `kind` (400).
pub(crate) fn require(
    dev: Deviations,
    requested: &str,
    kind: Kind,
) -> Result<&'static ModelEntry, ApiError> {
    let entry = lookup(dev, requested).ok_or_else(|| ApiError::model_not_found(requested))?;
    if entry.kind != kind {
        let what = match kind {
            Kind::Chat => "chat completions",
            Kind::Embedding => "embeddings",
            Kind::Image => "image generation",
            Kind::Speech => "speech generation",
            Kind::Transcription => "transcription",
        };
        return Err(ApiError::bad_request(
            format!("The model `{requested}` does not support {what}."),
            Some("model"),
            Some("model_not_supported"),
        ));
    }
    Ok(entry)
}

fn model_object(dev: Deviations, entry: &ModelEntry) -> Value {
    let id = deviation::request::listed_model_id(dev, entry.id);
    json!({ "id": id, "object": "model", "created": CREATED, "owned_by": "llm-parity" })
}

/// `GET /v1/models`.
pub(crate) async fn list(State(state): State<AppState>) -> Json<Value> {
    let dev = state.config.deviations;
    let data: Vec<Value> = CATALOGUE.iter().map(|m| model_object(dev, m)).collect();
    Json(json!({ "object": "list", "data": data }))
}

/// `GET /v1/models/{id}`.
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let dev = state.config.deviations;
    let entry = lookup(dev, &id).ok_or_else(|| ApiError::model_not_found(&id))?;
    Ok((StatusCode::OK, Json(model_object(dev, entry))))
}
