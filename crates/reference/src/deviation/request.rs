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
    // T7: the current turn's function calls must carry the signature they were answered with.
    if dev.has(Deviation::ThoughtSignature) {
        unsigned_call(req)?;
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

/// T7: Gemini validates the signatures of the current turn only (the assistant tool calls after
/// the last user message): the first call of each such message must echo
/// `extra_content.google.thought_signature` (any non-empty string: the endpoint keeps no state;
/// Google documents `skip_thought_signature_validator` as the value for histories not made by
/// Gemini). The refusal is Gemini's 400 wording.
fn unsigned_call(req: &Map<String, Value>) -> Result<(), ApiError> {
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return Ok(());
    };
    let turn = messages
        .iter()
        .rposition(|m| m["role"] == "user")
        .map_or(0, |i| i + 1);
    for (position, m) in messages.iter().enumerate().skip(turn) {
        let Some(first) = m["tool_calls"].as_array().and_then(|c| c.first()) else {
            continue;
        };
        let signed = first["extra_content"]["google"]["thought_signature"]
            .as_str()
            .is_some_and(|s| !s.is_empty());
        if m["role"] == "assistant" && !signed {
            let name = first["function"]["name"].as_str().unwrap_or("");
            return Err(ApiError::bad_request(
                format!(
                    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {position}. please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                ),
                None,
                None,
            ));
        }
    }
    Ok(())
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
