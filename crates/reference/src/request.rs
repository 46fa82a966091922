//! Validation of a `POST /v1/chat/completions` body into a [`ChatRequest`].

use serde_json::{Map, Value};

use crate::content::{parse_messages, Message};
use crate::deviation::google::GoogleExtension;
use crate::deviation::{self, Deviation, Deviations};
use crate::errors::ApiError;
use crate::models::{self, Kind, ModelEntry};
use crate::tools::{self, ToolSettings};
use crate::validate::{
    field, metadata, opt_bool, opt_int, opt_number, opt_object, opt_str, req_str,
};

/// The accepted `reasoning_effort` values.
pub(crate) const EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high"];

/// The requested output format.
#[derive(Debug, Clone)]
pub(crate) enum ResponseFormat {
    Text,
    JsonObject,
    /// The `json_schema.schema` (an empty object when none was given).
    JsonSchema(Value),
}

/// A validated chat completion request.
#[derive(Debug, Clone)]
pub(crate) struct ChatRequest {
    /// The model id exactly as requested (echoed in responses).
    pub model: String,
    pub entry: &'static ModelEntry,
    pub messages: Vec<Message>,
    pub n: usize,
    /// The smaller of `max_tokens` and `max_completion_tokens`.
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    pub stream: bool,
    pub include_usage: bool,
    pub logprobs: bool,
    pub top_logprobs: usize,
    pub tools: ToolSettings,
    pub response_format: ResponseFormat,
    pub reasoning_effort: Option<String>,
    pub google: GoogleExtension,
}

/// Validates the body. Schema problems are 400s naming the parameter; an unknown model is
/// a 404, checked after the body is known to be well-formed (as OpenAI orders them).
pub(crate) fn parse(dev: Deviations, req: &Map<String, Value>) -> Result<ChatRequest, ApiError> {
    let model = req_str(field(req, "model"), "model")?.to_string();
    let messages = parse_messages(field(req, "messages"))?;

    let n = opt_int(field(req, "n"), "n", 1, Some(128))?.unwrap_or(1) as usize;
    let max_tokens = opt_int(field(req, "max_tokens"), "max_tokens", 1, None)?;
    let max_completion = opt_int(
        field(req, "max_completion_tokens"),
        "max_completion_tokens",
        1,
        None,
    )?;
    let max_tokens = match (max_tokens, max_completion) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .map(|m| m as u64);
    let stop = parse_stop(field(req, "stop"))?;

    let stream = opt_bool(field(req, "stream"), "stream")?.unwrap_or(false);
    let stream_options = opt_object(field(req, "stream_options"), "stream_options")?;
    if stream_options.is_some() && !stream {
        return Err(ApiError::invalid_value(
            "stream_options",
            "Invalid value for 'stream_options': Stream options can only be defined when `stream=True`.",
        ));
    }
    let include_usage = match stream_options {
        Some(o) => {
            opt_bool(field(o, "include_usage"), "stream_options.include_usage")?.unwrap_or(false)
        }
        None => false,
    };

    let logprobs = opt_bool(field(req, "logprobs"), "logprobs")?.unwrap_or(false);
    let top_logprobs = opt_int(field(req, "top_logprobs"), "top_logprobs", 0, Some(20))?;
    if top_logprobs.is_some() && !logprobs {
        return Err(ApiError::invalid_value(
            "top_logprobs",
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
        ));
    }

    // Sampling knobs are accepted (and have no effect: the output is deterministic), but
    // their types and ranges are checked like OpenAI does.
    opt_number(field(req, "temperature"), "temperature", 0.0, 2.0)?;
    opt_number(field(req, "top_p"), "top_p", 0.0, 1.0)?;
    opt_number(
        field(req, "presence_penalty"),
        "presence_penalty",
        -2.0,
        2.0,
    )?;
    opt_number(
        field(req, "frequency_penalty"),
        "frequency_penalty",
        -2.0,
        2.0,
    )?;
    opt_int(field(req, "seed"), "seed", i64::MIN, None)?;
    opt_str(field(req, "user"), "user")?;
    opt_bool(field(req, "store"), "store")?;
    metadata(field(req, "metadata"), "metadata")?;

    let tools = tools::parse(req)?;
    let response_format = parse_response_format(field(req, "response_format"))?;
    if matches!(response_format, ResponseFormat::JsonObject)
        && !messages
            .iter()
            .any(|m| m.text.to_lowercase().contains("json"))
    {
        return Err(ApiError::invalid_value(
            "messages",
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        ));
    }

    let reasoning_effort = opt_str(field(req, "reasoning_effort"), "reasoning_effort")?;
    if let Some(effort) = reasoning_effort {
        if !EFFORTS.contains(&effort) {
            return Err(ApiError::invalid_enum("reasoning_effort", effort, EFFORTS));
        }
    }

    let google = deviation::request::check_chat(dev, req, n, reasoning_effort)?;
    // O2: the requested format is read (and validated) but not followed.
    let response_format = if dev.has(Deviation::ResponseFormatIgnored) {
        ResponseFormat::Text
    } else {
        response_format
    };

    let entry = models::require(dev, &model, Kind::Chat)?;
    Ok(ChatRequest {
        model,
        entry,
        messages,
        n,
        max_tokens,
        stop,
        stream,
        include_usage,
        logprobs,
        top_logprobs: top_logprobs.unwrap_or(0) as usize,
        tools,
        response_format,
        reasoning_effort: reasoning_effort.map(str::to_string),
        google,
    })
}

/// `stop`: a string or an array of at most 4 strings.
fn parse_stop(v: Option<&Value>) -> Result<Vec<String>, ApiError> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => {
            if items.len() > 4 {
                return Err(ApiError::bad_request(
                    format!("Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length {} instead.", items.len()),
                    Some("stop"),
                    Some("array_above_max_length"),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ApiError::invalid_type(&format!("stop[{i}]"), "a string", s))
                })
                .collect()
        }
        Some(other) => Err(ApiError::invalid_type(
            "stop",
            "a string or an array of strings",
            other,
        )),
    }
}

fn parse_response_format(v: Option<&Value>) -> Result<ResponseFormat, ApiError> {
    let Some(rf) = opt_object(v, "response_format")? else {
        return Ok(ResponseFormat::Text);
    };
    let ty = req_str(field(rf, "type"), "response_format.type")?;
    match ty {
        "text" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            let js = opt_object(field(rf, "json_schema"), "response_format.json_schema")?
                .ok_or_else(|| ApiError::missing("response_format.json_schema"))?;
            let name_path = "response_format.json_schema.name";
            let name = req_str(field(js, "name"), name_path)?;
            tools::check_name(name, name_path)?;
            opt_bool(field(js, "strict"), "response_format.json_schema.strict")?;
            let schema = opt_object(field(js, "schema"), "response_format.json_schema.schema")?
                .map(|s| Value::Object(s.clone()))
                .unwrap_or_else(|| serde_json::json!({"type": "object"}));
            Ok(ResponseFormat::JsonSchema(schema))
        }
        other => Err(ApiError::invalid_enum(
            "response_format.type",
            other,
            &["text", "json_object", "json_schema"],
        )),
    }
}
