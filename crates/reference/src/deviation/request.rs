//! Deviations in how requests are read: refused values (Q2, R2), the `google` extension (R3),
//! ignored parameters (O2, B1, B3), `models/`-prefixed ids (L1) and the context-overflow
//! error (E15).

use serde_json::{Map, Value};

use super::google::{self, GoogleExtension};
use super::{Deviation, Deviations};
use crate::errors::ApiError;

/// The deviations' checks of a chat completion body, after OpenAI's own validation.
pub(crate) fn check_chat(
    dev: Deviations,
    req: &Map<String, Value>,
    n: usize,
    reasoning_effort: Option<&str>,
) -> Result<GoogleExtension, ApiError> {
    // Q2: more than one candidate is refused.
    if dev.has(Deviation::MultipleChoicesRefused) && n > 1 {
        return Err(ApiError::bad_request(
            "Multiple candidates is not enabled for this model",
            Some("n"),
            None,
        ));
    }
    // R2: the `medium` thinking level is refused (as reported for Gemini 3 Pro).
    if dev.has(Deviation::MediumEffortRefused) && reasoning_effort == Some("medium") {
        return Err(ApiError::bad_request(
            "Thinking level MEDIUM is not supported for this model.",
            Some("reasoning_effort"),
            None,
        ));
    }
    // R3: OpenAI accepts an unknown top-level `google` key silently, like any unknown key.
    if dev.has(Deviation::GoogleExtension) {
        google::parse(req)
    } else {
        Ok(GoogleExtension::default())
    }
}

/// The error for a prompt of `tokens` tokens beyond a context of `limit` tokens: OpenAI's
/// (HTTP 400, `param: "messages"`, `code: "context_length_exceeded"`, the wording of its
/// chat models), or under E15 Gemini's wording without a code (list-wrapped as well under E1).
pub(crate) fn context_overflow(dev: Deviations, tokens: u64, limit: u64) -> ApiError {
    if dev.has(Deviation::ContextOverflowWithoutCode) {
        return ApiError::bad_request(
            format!(
                "The input token count ({tokens}) exceeds the maximum number of tokens allowed ({limit})."
            ),
            None,
            None,
        );
    }
    ApiError::bad_request(
        format!(
            "This model's maximum context length is {limit} tokens. However, your messages resulted in {tokens} tokens. Please reduce the length of the messages."
        ),
        Some("messages"),
        Some("context_length_exceeded"),
    )
}

/// L1: requests accept both `ref-chat` and `models/ref-chat` ("the model name will be
/// prefixed by 'models/' if no slash appears in it").
pub(crate) fn model_id(dev: Deviations, requested: &str) -> &str {
    if dev.has(Deviation::PrefixedModelIds) {
        requested.strip_prefix("models/").unwrap_or(requested)
    } else {
        requested
    }
}

/// L1: `/v1/models` lists ids with the `models/` prefix.
pub(crate) fn listed_model_id(dev: Deviations, id: &str) -> String {
    if dev.has(Deviation::PrefixedModelIds) {
        format!("models/{id}")
    } else {
        id.to_string()
    }
}
