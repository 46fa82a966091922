//! `POST /v1/chat/completions`: builds a deterministic completion from a validated request
//! and renders it as a `chat.completion` object (streams are rendered by `stream.rs`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::body::JsonObject;
use crate::deviation::{self, google};
use crate::errors::ApiError;
use crate::logprobs;
use crate::reply::{self, spaced_json, Finish};
use crate::request::{self, ChatRequest, ResponseFormat};
use crate::schema_gen;
use crate::tools::{self, ToolCall, ToolChoice};
use crate::util::{hex, now_unix, sha256};
use crate::{stream, AppState};

/// One generated choice, before rendering.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub index: usize,
    /// The content's tokens (they concatenate to the content); `None` for a tool-call turn.
    pub content: Option<Vec<String>>,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: &'static str,
    /// `ChatCompletionTokenLogprob` entries, one per content token, when requested.
    pub logprobs: Option<Vec<Value>>,
}

/// A generated completion, shared by the JSON and the streaming renderers.
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub fingerprint: String,
    pub choices: Vec<Choice>,
    /// The full `CompletionUsage` object.
    pub usage: Value,
}

/// The handler.
pub(crate) async fn create(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let dev = state.config.deviations;
    let req = request::parse(dev, &body.map)?;
    let prompt_tokens = reply::prompt_tokens(&req.messages);
    if let Some(limit) = req.entry.context_length.filter(|l| prompt_tokens > *l) {
        return Err(deviation::request::context_overflow(
            dev,
            prompt_tokens,
            limit,
        ));
    }
    let completion = complete(&req, &body.raw);
    if req.stream {
        return Ok(stream::respond(&completion, &req, &state.config));
    }
    let mut rendered = render(&completion);
    deviation::chat::completion(dev, &mut rendered);
    Ok(Json(rendered).into_response())
}

/// Reasoning tokens a reasoning model spends per choice: by `reasoning_effort` (default
/// `medium`), or by the Gemini `thinking_budget` when one is given.
fn reasoning_tokens(req: &ChatRequest) -> u64 {
    if !req.entry.reasoning {
        return 0;
    }
    if let Some(budget) = req.google.thinking_budget {
        // -1 is Gemini's "dynamic thinking".
        return if budget < 0 {
            32
        } else {
            (budget as u64).min(128)
        };
    }
    match req.reasoning_effort.as_deref() {
        Some("none") => 0,
        Some("minimal") => 8,
        Some("low") => 16,
        Some("high") => 64,
        _ => 32,
    }
}

/// Generates the completion for a validated request. `raw` (the request body) seeds the ids.
pub(crate) fn complete(req: &ChatRequest, raw: &[u8]) -> Completion {
    let hash = sha256(&[raw]);
    let budget = reasoning_tokens(req);
    // Reasoning is spent first and counts against the token limit, as on OpenAI's
    // reasoning models: a limit at or below it leaves no visible output.
    let (reasoning, visible_limit) = match req.max_tokens {
        Some(limit) if limit <= budget => (limit, Some(0)),
        Some(limit) => (budget, Some(limit - budget)),
        None => (budget, None),
    };
    let mut completion_tokens = 0u64;
    let mut choices = Vec::with_capacity(req.n);
    for index in 0..req.n {
        let calls = match visible_limit {
            Some(0) => None,
            _ => tools::plan_calls(&req.tools, &req.messages, &hash, index),
        };
        let choice = match calls {
            Some(calls) => {
                completion_tokens += calls
                    .iter()
                    .map(|c| 1 + reply::tokenize(&c.arguments).len() as u64)
                    .sum::<u64>();
                // A named tool_choice finishes with `stop` on OpenAI (QUIRKS §0).
                let finish = match req.tools.choice {
                    ToolChoice::Named(_) => "stop",
                    _ => "tool_calls",
                };
                Choice {
                    index,
                    content: None,
                    tool_calls: calls,
                    finish_reason: finish,
                    logprobs: None,
                }
            }
            None => {
                let (pieces, finish) = match visible_limit {
                    Some(0) => (Vec::new(), Finish::Length),
                    limit => {
                        let mut text = content_text(req);
                        if let Some(thoughts) = google::thoughts(&req.google, reasoning) {
                            text.insert_str(0, thoughts);
                        }
                        reply::limit(reply::tokenize(&text), &req.stop, limit)
                    }
                };
                completion_tokens += pieces.len() as u64;
                let logprobs = req
                    .logprobs
                    .then(|| logprobs::entries(&pieces, req.top_logprobs));
                Choice {
                    index,
                    content: Some(pieces),
                    tool_calls: Vec::new(),
                    finish_reason: finish.as_str(),
                    logprobs,
                }
            }
        };
        choices.push(choice);
    }
    let reasoning_total = reasoning * req.n as u64;
    let completion_tokens = completion_tokens + reasoning_total;
    let prompt_tokens = reply::prompt_tokens(&req.messages);
    let audio_tokens: u64 = req.messages.iter().map(|m| m.audio_tokens).sum();
    // Gemini `cached_content`: half the prompt is reported as served from the cache.
    let cached_tokens = if req.google.cached_content {
        prompt_tokens / 2
    } else {
        0
    };
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": { "cached_tokens": cached_tokens, "audio_tokens": audio_tokens },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_total,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    });
    Completion {
        id: format!("chatcmpl-{}", &hex(&hash)[..32]),
        created: now_unix(),
        model: req.model.clone(),
        fingerprint: format!("fp_{}", &hex(&sha256(&[req.entry.id.as_bytes()]))[..10]),
        choices,
        usage,
    }
}

/// The full (untruncated) content for the requested response format.
fn content_text(req: &ChatRequest) -> String {
    match &req.response_format {
        ResponseFormat::Text => reply::reply_text(&req.messages),
        ResponseFormat::JsonObject => {
            spaced_json(&json!({ "reply": reply::reply_text(&req.messages) }))
        }
        ResponseFormat::JsonSchema(schema) => spaced_json(&schema_gen::generate(schema)),
    }
}

/// `tool_calls[]` items of a message.
pub(crate) fn render_calls(calls: &[ToolCall]) -> Value {
    calls
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "type": "function",
                "function": { "name": c.name, "arguments": c.arguments }
            })
        })
        .collect()
}

/// The `chat.completion` object.
pub(crate) fn render(c: &Completion) -> Value {
    let choices: Vec<Value> = c
        .choices
        .iter()
        .map(|choice| {
            let mut message = json!({
                "role": "assistant",
                "content": choice.content.as_ref().map(|p| p.concat()),
                "refusal": null,
                "annotations": []
            });
            if !choice.tool_calls.is_empty() {
                message["tool_calls"] = render_calls(&choice.tool_calls);
            }
            let logprobs = match &choice.logprobs {
                Some(entries) => json!({ "content": entries, "refusal": null }),
                None => Value::Null,
            };
            json!({
                "index": choice.index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": choice.finish_reason
            })
        })
        .collect();
    json!({
        "id": c.id,
        "object": "chat.completion",
        "created": c.created,
        "model": c.model,
        "choices": choices,
        "usage": c.usage,
        "service_tier": "default",
        "system_fingerprint": c.fingerprint
    })
}
