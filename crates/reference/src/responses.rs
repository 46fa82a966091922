//! `/v1/responses`: the Responses API — create (JSON or a named-event stream), retrieve and
//! delete stored responses, `previous_response_id` conversations, flat function tools and the
//! `function_call_output` round trip, `text.format` structured output and `input_image` parts.
//!
//! Generation reuses the chat reply rules (see the crate docs): the input items become the
//! same message summaries the chat endpoint builds, so text, token counts, tool calls and
//! structured output follow one model. `instructions` count as a developer message and are not
//! carried into a continuation, as OpenAI documents.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::body::JsonObject;
use crate::content::{self, words, Message, Role};
use crate::errors::{self, ApiError};
use crate::models::{self, Kind};
use crate::reply::{self, spaced_json, Finish};
use crate::schema_gen;
use crate::store::StoredResponse;
use crate::tools::{self, ToolCall, ToolSettings};
use crate::util::{hex, now_unix, sha256};
use crate::validate::{
    field, metadata, opt_bool, opt_int, opt_number, opt_object, opt_str, req_str,
};
use crate::{responses_stream, AppState, Deviation, Deviations};

/// OpenAI's lower bound on `max_output_tokens`.
const MIN_OUTPUT_TOKENS: i64 = 16;

/// The requested `text.format`.
#[derive(Debug, Clone)]
enum Format {
    Text,
    JsonObject,
    JsonSchema(Value),
}

/// A validated `POST /v1/responses` body.
#[derive(Debug, Clone)]
pub(crate) struct ResponsesRequest {
    model: String,
    /// The conversation: the previous response's (when continuing), then this input.
    history: Vec<Message>,
    /// `instructions` as a developer message, counted but not stored in the history.
    instructions: Option<String>,
    max_output_tokens: Option<u64>,
    pub stream: bool,
    store: bool,
    previous_response_id: Option<String>,
    tools: ToolSettings,
    format: Format,
    /// Call ids this conversation has made (function_call_output items must quote one).
    call_ids: Vec<String>,
    /// Request fields echoed in the response object as sent.
    echo: Map<String, Value>,
}

/// One generated response before rendering.
#[derive(Debug, Clone)]
pub(crate) struct Generated {
    pub id: String,
    pub created: u64,
    /// The message text's tokens (they concatenate to the text), when the model answered.
    pub text: Option<Vec<String>>,
    pub calls: Vec<ToolCall>,
    pub message_id: String,
    /// Whether the output-token limit cut the text.
    pub cut: bool,
    pub usage: Value,
}

/// `POST /v1/responses`.
pub(crate) async fn create(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    body: JsonObject,
) -> Result<Response, ApiError> {
    errors::absent_if(
        state.config.deviations,
        Deviation::NoResponsesApi,
        method,
        uri,
    )
    .await?;
    let dev = state.config.deviations;
    let (req, seq) = {
        let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
        let req = parse(dev, &body.map, |id| store.response(id).cloned())?;
        (req, store.next())
    };
    let generated = generate(&req, &body.raw, seq);
    let object = render(&req, &generated, "final");
    if req.store {
        let mut history = req.history.clone();
        history.push(output_message(&generated));
        let mut call_ids = req.call_ids.clone();
        call_ids.extend(generated.calls.iter().map(|c| c.id.clone()));
        let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
        store.add_response(StoredResponse {
            object: object.clone(),
            history,
            call_ids,
        });
    }
    if req.stream {
        let in_progress = render(&req, &generated, "in_progress");
        return Ok(responses_stream::respond(
            &generated,
            in_progress,
            object,
            &state.config,
        ));
    }
    Ok(Json(object).into_response())
}

/// `GET /v1/responses/{id}`.
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    errors::absent_if(
        state.config.deviations,
        Deviation::NoResponsesApi,
        method,
        uri,
    )
    .await?;
    let store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    store
        .response(&id)
        .map(|r| Json(r.object.clone()))
        .ok_or_else(|| not_found(&id))
}

/// `DELETE /v1/responses/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    errors::absent_if(
        state.config.deviations,
        Deviation::NoResponsesApi,
        method,
        uri,
    )
    .await?;
    let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
    if !store.remove_response(&id) {
        return Err(not_found(&id));
    }
    Ok(Json(
        json!({ "id": id, "object": "response", "deleted": true }),
    ))
}

fn not_found(id: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!("Response with id '{id}' not found."),
        kind: errors::INVALID_REQUEST,
        param: None,
        code: None,
    }
}

/// Validates the body; `previous` looks up a stored response by id.
fn parse(
    dev: Deviations,
    req: &Map<String, Value>,
    previous: impl Fn(&str) -> Option<StoredResponse>,
) -> Result<ResponsesRequest, ApiError> {
    let model = req_str(field(req, "model"), "model")?.to_string();
    let instructions = opt_str(field(req, "instructions"), "instructions")?.map(str::to_string);
    let max_output_tokens = opt_int(
        field(req, "max_output_tokens"),
        "max_output_tokens",
        MIN_OUTPUT_TOKENS,
        None,
    )?
    .map(|n| n as u64);
    let stream = opt_bool(field(req, "stream"), "stream")?.unwrap_or(false);
    if opt_object(field(req, "stream_options"), "stream_options")?.is_some() && !stream {
        return Err(ApiError::invalid_value(
            "stream_options",
            "Invalid value for 'stream_options': Stream options can only be defined when `stream=True`.",
        ));
    }
    let store = opt_bool(field(req, "store"), "store")?.unwrap_or(true);
    if opt_bool(field(req, "background"), "background")? == Some(true) {
        return Err(ApiError::invalid_value(
            "background",
            "The reference endpoint answers every response at once; 'background' mode is not available.",
        ));
    }
    opt_number(field(req, "temperature"), "temperature", 0.0, 2.0)?;
    opt_number(field(req, "top_p"), "top_p", 0.0, 1.0)?;
    opt_str(field(req, "user"), "user")?;
    metadata(field(req, "metadata"), "metadata")?;
    opt_object(field(req, "reasoning"), "reasoning")?;

    let previous_response_id =
        opt_str(field(req, "previous_response_id"), "previous_response_id")?.map(str::to_string);
    let (mut history, mut call_ids) = match &previous_response_id {
        Some(id) => {
            let prev = previous(id).ok_or_else(|| {
                ApiError::bad_request(
                    format!("Previous response with id '{id}' not found."),
                    Some("previous_response_id"),
                    Some("previous_response_not_found"),
                )
            })?;
            (prev.history, prev.call_ids)
        }
        None => (Vec::new(), Vec::new()),
    };
    parse_input(field(req, "input"), &mut history, &mut call_ids)?;
    let tools = tools::parse_shaped(req, tools::Shape::Responses)?;
    let format = parse_format(req)?;
    if matches!(format, Format::JsonObject)
        && !history
            .iter()
            .chain(instructions_message(&instructions).iter())
            .any(|m| m.text.to_lowercase().contains("json"))
    {
        return Err(ApiError::invalid_value(
            "input",
            "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.",
        ));
    }
    models::require(dev, &model, Kind::Chat)?;

    let mut echo = Map::new();
    for key in [
        "tools",
        "tool_choice",
        "text",
        "metadata",
        "temperature",
        "top_p",
    ] {
        if let Some(v) = field(req, key) {
            echo.insert(key.into(), v.clone());
        }
    }
    Ok(ResponsesRequest {
        model,
        history,
        instructions,
        max_output_tokens,
        stream,
        store,
        previous_response_id,
        tools,
        format,
        call_ids,
        echo,
    })
}

fn instructions_message(instructions: &Option<String>) -> Option<Message> {
    instructions
        .as_ref()
        .map(|t| message(Role::Developer, t.clone()))
}

fn message(role: Role, text: String) -> Message {
    Message {
        role,
        text,
        images: 0,
        audio_clips: 0,
        image_tokens: 0,
        audio_tokens: 0,
        call_words: 0,
    }
}

/// `input`: a string (one user message) or a list of input items.
fn parse_input(
    v: Option<&Value>,
    history: &mut Vec<Message>,
    call_ids: &mut Vec<String>,
) -> Result<(), ApiError> {
    let items = match v {
        None => return Err(ApiError::missing("input")),
        Some(Value::String(s)) => {
            history.push(message(Role::User, s.clone()));
            return Ok(());
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::invalid_type(
                "input",
                "a string or an array",
                other,
            ))
        }
    };
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("input"),
            Some("empty_array"),
        ));
    }
    for (k, item) in items.iter().enumerate() {
        let path = format!("input[{k}]");
        let o = item
            .as_object()
            .ok_or_else(|| ApiError::invalid_type(&path, "an object", item))?;
        let ty = opt_str(field(o, "type"), &format!("{path}.type"))?.unwrap_or("message");
        match ty {
            "message" => history.push(input_message(o, &path)?),
            "function_call" => {
                let call_id = req_str(field(o, "call_id"), &format!("{path}.call_id"))?;
                let name = req_str(field(o, "name"), &format!("{path}.name"))?;
                let args = req_str(field(o, "arguments"), &format!("{path}.arguments"))?;
                let mut m = message(Role::Assistant, String::new());
                m.call_words = words(name) + words(args);
                history.push(m);
                call_ids.push(call_id.to_string());
            }
            "function_call_output" => {
                let id_path = format!("{path}.call_id");
                let call_id = req_str(field(o, "call_id"), &id_path)?;
                if !call_ids.iter().any(|c| c == call_id) {
                    return Err(ApiError::bad_request(
                        format!(
                            "No tool call found for function call output with call_id {call_id}."
                        ),
                        Some(&id_path),
                        Some("invalid_value"),
                    ));
                }
                let output = match field(o, "output") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    Some(other) => {
                        return Err(ApiError::invalid_type(
                            &format!("{path}.output"),
                            "a string or an array",
                            other,
                        ))
                    }
                    None => return Err(ApiError::missing(&format!("{path}.output"))),
                };
                history.push(message(Role::Tool, output));
            }
            other => {
                return Err(ApiError::invalid_enum(
                    &format!("{path}.type"),
                    other,
                    &["message", "function_call", "function_call_output"],
                ))
            }
        }
    }
    Ok(())
}

/// A message item (`{role, content}`, `type: message` optional).
fn input_message(o: &Map<String, Value>, path: &str) -> Result<Message, ApiError> {
    let role_path = format!("{path}.role");
    let role = match req_str(field(o, "role"), &role_path)? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "system" => Role::System,
        "developer" => Role::Developer,
        other => {
            return Err(ApiError::invalid_enum(
                &role_path,
                other,
                &["user", "assistant", "system", "developer"],
            ))
        }
    };
    let mut m = message(role, String::new());
    let content_path = format!("{path}.content");
    let allowed: &[&str] = if role == Role::Assistant {
        &["output_text", "refusal"]
    } else {
        &["input_text", "input_image", "input_file"]
    };
    match field(o, "content") {
        None => return Err(ApiError::missing(&content_path)),
        Some(Value::String(s)) => m.text = s.clone(),
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                input_part(part, &format!("{content_path}[{j}]"), allowed, &mut m)?;
            }
        }
        Some(other) => {
            return Err(ApiError::invalid_type(
                &content_path,
                "a string or an array",
                other,
            ))
        }
    }
    Ok(m)
}

fn input_part(part: &Value, path: &str, allowed: &[&str], m: &mut Message) -> Result<(), ApiError> {
    let p = part
        .as_object()
        .ok_or_else(|| ApiError::invalid_type(path, "an object", part))?;
    let type_path = format!("{path}.type");
    let ty = req_str(field(p, "type"), &type_path)?;
    if !allowed.contains(&ty) {
        return Err(ApiError::invalid_enum(&type_path, ty, allowed));
    }
    match ty {
        "input_text" | "output_text" => {
            let text = req_str(field(p, "text"), &format!("{path}.text"))?;
            if !m.text.is_empty() {
                m.text.push('\n');
            }
            m.text.push_str(text);
        }
        "refusal" => {
            req_str(field(p, "refusal"), &format!("{path}.refusal"))?;
        }
        "input_image" => {
            let tokens = content::image_tokens(field(p, "detail"), &format!("{path}.detail"))?;
            let url_path = format!("{path}.image_url");
            match opt_str(field(p, "image_url"), &url_path)? {
                Some(url) => content::check_image_url(url, &url_path, &url_path)?,
                None if field(p, "file_id").is_some() => {
                    opt_str(field(p, "file_id"), &format!("{path}.file_id"))?;
                }
                None => return Err(ApiError::missing(&url_path)),
            }
            m.images += 1;
            m.image_tokens += tokens;
        }
        _ => {
            // input_file: a file id, URL or inline data, accepted without reading it.
            if ["file_id", "file_url", "file_data"]
                .iter()
                .all(|k| field(p, k).is_none())
            {
                return Err(ApiError::missing(&format!("{path}.file_id")));
            }
        }
    }
    Ok(())
}

/// `text: {format: {type: text | json_object | json_schema}}`.
fn parse_format(req: &Map<String, Value>) -> Result<Format, ApiError> {
    let Some(text) = opt_object(field(req, "text"), "text")? else {
        return Ok(Format::Text);
    };
    opt_str(field(text, "verbosity"), "text.verbosity")?;
    let Some(f) = opt_object(field(text, "format"), "text.format")? else {
        return Ok(Format::Text);
    };
    match req_str(field(f, "type"), "text.format.type")? {
        "text" => Ok(Format::Text),
        "json_object" => Ok(Format::JsonObject),
        "json_schema" => {
            let name = req_str(field(f, "name"), "text.format.name")?;
            tools::check_name(name, "text.format.name")?;
            opt_bool(field(f, "strict"), "text.format.strict")?;
            let schema = opt_object(field(f, "schema"), "text.format.schema")?
                .ok_or_else(|| ApiError::missing("text.format.schema"))?;
            Ok(Format::JsonSchema(Value::Object(schema.clone())))
        }
        other => Err(ApiError::invalid_enum(
            "text.format.type",
            other,
            &["text", "json_object", "json_schema"],
        )),
    }
}

/// Generates the response for a validated request; `raw` (the body) and `seq` (unique per
/// response of this endpoint) seed the ids.
pub(crate) fn generate(req: &ResponsesRequest, raw: &[u8], seq: u64) -> Generated {
    let hash = sha256(&[raw, &seq.to_le_bytes()]);
    let mut conversation: Vec<Message> = instructions_message(&req.instructions)
        .into_iter()
        .collect();
    conversation.extend(req.history.iter().cloned());
    let input_tokens = reply::prompt_tokens(&conversation);
    let calls = tools::plan_calls(&req.tools, &conversation, &hash, 0).unwrap_or_default();
    let (text, cut, output_tokens) = if calls.is_empty() {
        let full = match &req.format {
            Format::Text => reply::reply_text(&conversation),
            Format::JsonObject => {
                spaced_json(&json!({ "reply": reply::reply_text(&conversation) }))
            }
            Format::JsonSchema(schema) => spaced_json(&schema_gen::generate(schema)),
        };
        let (pieces, finish) = reply::limit(reply::tokenize(&full), &[], req.max_output_tokens);
        let n = pieces.len() as u64;
        (Some(pieces), finish == Finish::Length, n)
    } else {
        let n = calls
            .iter()
            .map(|c| 1 + reply::tokenize(&c.arguments).len() as u64)
            .sum();
        (None, false, n)
    };
    let h = hex(&hash);
    Generated {
        id: format!("resp_{}", &h[..48]),
        message_id: format!("msg_{}", &hex(&sha256(&[&hash, b"message"]))[..48]),
        created: now_unix(),
        text,
        calls,
        cut,
        usage: json!({
            "input_tokens": input_tokens,
            "input_tokens_details": { "cached_tokens": 0, "cache_write_tokens": 0 },
            "output_tokens": output_tokens,
            "output_tokens_details": { "reasoning_tokens": 0 },
            "total_tokens": input_tokens + output_tokens
        }),
    }
}

/// The assistant turn a stored response adds to its conversation.
fn output_message(g: &Generated) -> Message {
    let mut m = message(
        Role::Assistant,
        g.text.as_ref().map(|p| p.concat()).unwrap_or_default(),
    );
    m.call_words = g
        .calls
        .iter()
        .map(|c| words(&c.name) + words(&c.arguments))
        .sum();
    m
}

/// The id of the `function_call` item for a call.
pub(crate) fn call_item_id(call: &ToolCall) -> String {
    format!("fc_{}", &hex(&sha256(&[call.id.as_bytes()]))[..48])
}

/// The output items as of `stage`: `final` (every item complete) or `in_progress` (none yet).
pub(crate) fn output_items(g: &Generated) -> Vec<Value> {
    if let Some(pieces) = &g.text {
        return vec![json!({
            "id": g.message_id,
            "type": "message",
            "status": if g.cut { "incomplete" } else { "completed" },
            "role": "assistant",
            "content": [{
                "type": "output_text",
                "text": pieces.concat(),
                "annotations": [],
                "logprobs": []
            }]
        })];
    }
    g.calls
        .iter()
        .map(|c| {
            json!({
                "id": call_item_id(c),
                "type": "function_call",
                "status": "completed",
                "call_id": c.id,
                "name": c.name,
                "arguments": c.arguments
            })
        })
        .collect()
}

/// The response object: `final` or as it stands `in_progress` (no output, no usage yet).
fn render(req: &ResponsesRequest, g: &Generated, stage: &str) -> Value {
    let done = stage == "final";
    let status = match (done, g.cut) {
        (false, _) => "in_progress",
        (true, true) => "incomplete",
        (true, false) => "completed",
    };
    let echo = |key: &str, default: Value| req.echo.get(key).cloned().unwrap_or(default);
    json!({
        "id": g.id,
        "object": "response",
        "created_at": g.created,
        "status": status,
        "completed_at": if status == "completed" { json!(g.created) } else { Value::Null },
        "error": null,
        "incomplete_details": if done && g.cut { json!({ "reason": "max_output_tokens" }) } else { Value::Null },
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "model": req.model,
        "output": if done { output_items(g) } else { Vec::new() },
        "parallel_tool_calls": req.tools.parallel,
        "previous_response_id": req.previous_response_id,
        "reasoning": { "effort": null, "summary": null },
        "store": req.store,
        "temperature": echo("temperature", json!(1.0)),
        "text": echo("text", json!({ "format": { "type": "text" } })),
        "tool_choice": echo("tool_choice", json!("auto")),
        "tools": echo("tools", json!([])),
        "top_p": echo("top_p", json!(1.0)),
        "truncation": "disabled",
        "usage": if done { g.usage.clone() } else { Value::Null },
        "user": null,
        "metadata": echo("metadata", json!({}))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(v: Value) -> ResponsesRequest {
        parse(Deviations::NONE, v.as_object().unwrap(), |_| None).unwrap()
    }

    fn parse_err(v: Value) -> ApiError {
        parse(Deviations::NONE, v.as_object().unwrap(), |_| None).unwrap_err()
    }

    #[test]
    fn string_input_is_one_user_message() {
        let r = parse_ok(json!({"model": "ref-chat", "input": "hello there"}));
        assert_eq!(r.history.len(), 1);
        assert_eq!(r.history[0].role, Role::User);
        assert!(r.store && !r.stream);
    }

    #[test]
    fn chat_shaped_tools_are_refused_naming_the_flat_field() {
        let e = parse_err(json!({"model": "ref-chat", "input": "x",
            "tools": [{"type": "function", "function": {"name": "f"}}]}));
        assert_eq!(e.param.as_deref(), Some("tools[0].name"));
    }

    #[test]
    fn a_function_result_must_answer_a_known_call() {
        let e = parse_err(json!({"model": "ref-chat", "input": [
            {"type": "function_call_output", "call_id": "call_x", "output": "18"}]}));
        assert_eq!(e.param.as_deref(), Some("input[0].call_id"));
        let ok = parse_ok(json!({"model": "ref-chat", "input": [
            {"role": "user", "content": "weather?"},
            {"type": "function_call", "call_id": "call_x", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_x", "output": "18"}]}));
        assert_eq!(ok.history.last().unwrap().role, Role::Tool);
    }

    #[test]
    fn max_output_tokens_has_openais_minimum() {
        let e = parse_err(json!({"model": "ref-chat", "input": "x", "max_output_tokens": 5}));
        assert_eq!(e.code, Some("integer_below_min_value"));
    }

    #[test]
    fn an_unknown_previous_response_is_a_400() {
        let e = parse_err(
            json!({"model": "ref-chat", "input": "x", "previous_response_id": "resp_nope"}),
        );
        assert_eq!(e.code, Some("previous_response_not_found"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_limit_cuts_the_text_and_marks_it_incomplete() {
        let r = parse_ok(
            json!({"model": "ref-chat", "input": "Write a long story.", "max_output_tokens": 16}),
        );
        let g = generate(&r, b"x", 1);
        assert!(g.cut);
        assert_eq!(g.text.as_ref().unwrap().len(), 16);
        let o = render(&r, &g, "final");
        assert_eq!(o["status"], "incomplete");
        assert_eq!(o["incomplete_details"]["reason"], "max_output_tokens");
        assert_eq!(o["usage"]["output_tokens"], 16);
    }
}
