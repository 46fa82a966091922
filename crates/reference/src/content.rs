//! Validation of `messages`: roles, content strings and parts (text, images, audio, files),
//! assistant tool calls and tool results. Produces a summary of each message that the reply
//! generator and the token counter use.

use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use base64::Engine;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::validate::{field, opt_object, opt_str, req_str};

/// Prompt tokens counted for an image sent with `detail: low`.
pub(crate) const IMAGE_TOKENS_LOW: u64 = 85;
/// Prompt tokens counted for an image sent with `detail: high` or `auto`.
pub(crate) const IMAGE_TOKENS_HIGH: u64 = 765;

/// A message author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

const ROLES: &[&str] = &[
    "system",
    "assistant",
    "user",
    "function",
    "tool",
    "developer",
];

/// What the generator needs to know about one message.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub role: Role,
    /// All text of the message, parts joined by newlines.
    pub text: String,
    /// Number of attached images.
    pub images: u64,
    /// Number of attached audio clips.
    pub audio_clips: u64,
    /// Prompt tokens of the images.
    pub image_tokens: u64,
    /// Prompt tokens of the audio.
    pub audio_tokens: u64,
    /// Words of tool-call names and arguments (assistant history), counted as prompt.
    pub call_words: u64,
}

/// Validates `messages` (required, a non-empty array) into message summaries.
pub(crate) fn parse_messages(v: Option<&Value>) -> Result<Vec<Message>, ApiError> {
    let v = v.ok_or_else(|| ApiError::missing("messages"))?;
    let items = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_type("messages", "an array of objects", v))?;
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    let mut call_ids: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("messages[{i}]");
        let m = item
            .as_object()
            .ok_or_else(|| ApiError::invalid_type(&path, "an object", item))?;
        out.push(parse_message(m, &path, &mut call_ids)?);
    }
    Ok(out)
}

fn parse_message(
    m: &Map<String, Value>,
    path: &str,
    call_ids: &mut Vec<String>,
) -> Result<Message, ApiError> {
    let role_path = format!("{path}.role");
    let role = match req_str(m.get("role"), &role_path)? {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        "function" => Role::Function,
        other => return Err(ApiError::invalid_enum(&role_path, other, ROLES)),
    };
    opt_str(field(m, "name"), &format!("{path}.name"))?;
    let mut msg = Message {
        role,
        text: String::new(),
        images: 0,
        audio_clips: 0,
        image_tokens: 0,
        audio_tokens: 0,
        call_words: 0,
    };
    let content_path = format!("{path}.content");
    let allowed: &[&str] = match role {
        Role::User => &["text", "image_url", "input_audio", "file"],
        Role::Assistant => &["text", "refusal"],
        _ => &["text"],
    };
    let has_calls = role == Role::Assistant
        && (field(m, "tool_calls").is_some() || field(m, "function_call").is_some());
    match m.get("content") {
        // An assistant turn that called tools may carry `content` null, "" or nothing.
        None | Some(Value::Null) if has_calls => {}
        None => return Err(ApiError::missing(&content_path)),
        Some(Value::Null) => {
            return Err(ApiError::bad_request(
                format!("Invalid value for '{content_path}': expected a string, got null."),
                Some(&content_path),
                Some("invalid_value"),
            ))
        }
        Some(Value::String(s)) => msg.text = s.clone(),
        Some(Value::Array(parts)) => {
            if parts.is_empty() && !has_calls {
                return Err(ApiError::bad_request(
                    format!("Invalid '{content_path}': empty array. Expected an array with minimum length 1, but got an empty array instead."),
                    Some(&content_path),
                    Some("empty_array"),
                ));
            }
            for (j, part) in parts.iter().enumerate() {
                parse_part(part, &format!("{content_path}[{j}]"), allowed, &mut msg)?;
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
    if role == Role::Assistant {
        if let Some(calls) = field(m, "tool_calls") {
            parse_history_calls(calls, &format!("{path}.tool_calls"), call_ids, &mut msg)?;
        }
    }
    if role == Role::Tool {
        let id_path = format!("{path}.tool_call_id");
        let id = req_str(field(m, "tool_call_id"), &id_path)?;
        if !call_ids.iter().any(|c| c == id) {
            return Err(ApiError::bad_request(
                format!("Invalid parameter: '{id_path}' of '{id}' not found in 'tool_calls' of a previous assistant message."),
                Some(&id_path),
                Some("invalid_value"),
            ));
        }
    }
    Ok(msg)
}

/// `tool_calls` of an assistant message in the history.
fn parse_history_calls(
    v: &Value,
    path: &str,
    call_ids: &mut Vec<String>,
    msg: &mut Message,
) -> Result<(), ApiError> {
    let calls = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_type(path, "an array of objects", v))?;
    for (k, call) in calls.iter().enumerate() {
        let cp = format!("{path}[{k}]");
        let c = call
            .as_object()
            .ok_or_else(|| ApiError::invalid_type(&cp, "an object", call))?;
        let id = req_str(field(c, "id"), &format!("{cp}.id"))?;
        let ty = req_str(field(c, "type"), &format!("{cp}.type"))?;
        if ty != "function" {
            return Err(ApiError::invalid_enum(
                &format!("{cp}.type"),
                ty,
                &["function"],
            ));
        }
        let fp = format!("{cp}.function");
        let f = opt_object(field(c, "function"), &fp)?.ok_or_else(|| ApiError::missing(&fp))?;
        let name = req_str(field(f, "name"), &format!("{fp}.name"))?;
        let args = req_str(field(f, "arguments"), &format!("{fp}.arguments"))?;
        msg.call_words += words(name) + words(args);
        call_ids.push(id.to_string());
    }
    Ok(())
}

fn parse_part(
    part: &Value,
    path: &str,
    allowed: &[&str],
    msg: &mut Message,
) -> Result<(), ApiError> {
    let p = part
        .as_object()
        .ok_or_else(|| ApiError::invalid_type(path, "an object", part))?;
    let type_path = format!("{path}.type");
    let ty = req_str(field(p, "type"), &type_path)?;
    if !allowed.contains(&ty) {
        return Err(ApiError::invalid_enum(&type_path, ty, allowed));
    }
    match ty {
        "text" => {
            let text = req_str(field(p, "text"), &format!("{path}.text"))?;
            if !msg.text.is_empty() {
                msg.text.push('\n');
            }
            msg.text.push_str(text);
        }
        "refusal" => {
            req_str(field(p, "refusal"), &format!("{path}.refusal"))?;
        }
        "image_url" => image_part(p, path, msg)?,
        "input_audio" => audio_part(p, path, msg)?,
        _ => {
            let fp = format!("{path}.file");
            opt_object(field(p, "file"), &fp)?.ok_or_else(|| ApiError::missing(&fp))?;
        }
    }
    Ok(())
}

fn image_part(p: &Map<String, Value>, path: &str, msg: &mut Message) -> Result<(), ApiError> {
    let ip = format!("{path}.image_url");
    let image = match field(p, "image_url") {
        None => return Err(ApiError::missing(&ip)),
        Some(Value::Object(o)) => o,
        // Lenient servers accept a bare string (QUIRKS M2); OpenAI does not.
        Some(other) => return Err(ApiError::invalid_type(&ip, "an object", other)),
    };
    let url = req_str(field(image, "url"), &format!("{ip}.url"))?;
    let tokens = image_tokens(field(image, "detail"), &format!("{ip}.detail"))?;
    check_image_url(url, &ip, &format!("{ip}.url"))?;
    msg.images += 1;
    msg.image_tokens += tokens;
    Ok(())
}

/// An image's `detail` (`auto`, `low` or `high`; `auto` when absent): the prompt tokens it costs.
pub(crate) fn image_tokens(detail: Option<&Value>, path: &str) -> Result<u64, ApiError> {
    let detail = opt_str(detail, path)?.unwrap_or("auto");
    match detail {
        "low" => Ok(IMAGE_TOKENS_LOW),
        "auto" | "high" => Ok(IMAGE_TOKENS_HIGH),
        other => Err(ApiError::invalid_enum(
            path,
            other,
            &["auto", "low", "high"],
        )),
    }
}

/// An image URL: a data URL whose bytes are the declared image format, or an http(s) URL,
/// accepted without fetching (the endpoint never leaves 127.0.0.1). `param` is the parameter
/// errors name, `shown` the one their message quotes.
pub(crate) fn check_image_url(url: &str, param: &str, shown: &str) -> Result<(), ApiError> {
    if let Some(rest) = url.strip_prefix("data:") {
        return check_image_data_uri(rest, param);
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::bad_request(
            format!(
                "Invalid '{shown}': expected a URL (http or https) or a base64-encoded data URL."
            ),
            Some(param),
            Some("invalid_image_url"),
        ));
    }
    Ok(())
}

/// `<mime>;base64,<data>` whose bytes must be the declared image format.
fn check_image_data_uri(rest: &str, param: &str) -> Result<(), ApiError> {
    const SUPPORTED: &str = "['image/jpeg', 'image/png', 'image/gif', 'image/webp']";
    let invalid = |why: &str| {
        ApiError::bad_request(
            format!(
                "Invalid image in '{param}': {why}. Please check your input and try again with one of the supported image formats: {SUPPORTED}."
            ),
            Some(param),
            Some("invalid_image_format"),
        )
    };
    let (mime, data) = rest
        .split_once(";base64,")
        .ok_or_else(|| invalid("the data URL is not base64-encoded"))?;
    let bytes = decode_base64(data).ok_or_else(|| invalid("the base64 data does not decode"))?;
    let matches = match mime.to_ascii_lowercase().as_str() {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" | "image/jpg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => return Err(invalid(&format!("unsupported MIME type '{mime}'"))),
    };
    if matches {
        Ok(())
    } else {
        Err(invalid(&format!(
            "the image data does not represent a valid {mime} image"
        )))
    }
}

fn audio_part(p: &Map<String, Value>, path: &str, msg: &mut Message) -> Result<(), ApiError> {
    let ap = format!("{path}.input_audio");
    let audio = opt_object(field(p, "input_audio"), &ap)?.ok_or_else(|| ApiError::missing(&ap))?;
    let data = req_str(field(audio, "data"), &format!("{ap}.data"))?;
    let format_path = format!("{ap}.format");
    let format = req_str(field(audio, "format"), &format_path)?;
    if !["wav", "mp3"].contains(&format) {
        return Err(ApiError::invalid_enum(
            &format_path,
            format,
            &["wav", "mp3"],
        ));
    }
    let bytes = decode_base64(data);
    let valid = bytes.as_deref().is_some_and(|b| match format {
        "wav" => b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE",
        // An ID3 tag, or an MPEG frame sync (11 set bits).
        _ => b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0),
    });
    if !valid {
        return Err(ApiError::bad_request(
            format!("Invalid '{ap}.data': the data is not valid base64-encoded {format} audio."),
            Some(&ap),
            Some("invalid_value"),
        ));
    }
    let len = bytes.map_or(0, |b| b.len()) as u64;
    msg.audio_clips += 1;
    // About one token per kilobyte: deterministic and proportional, which is all we need.
    msg.audio_tokens += 1 + len / 1024;
    Ok(())
}

/// Standard base64, padding optional, ASCII whitespace ignored.
pub(crate) fn decode_base64(data: &str) -> Option<Vec<u8>> {
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD_PAD_INDIFFERENT.decode(compact).ok()
}

/// Whitespace-separated words in `s`.
pub(crate) fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn png_uri() -> String {
        let bytes = b"\x89PNG\r\n\x1a\nrest";
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    #[test]
    fn bare_string_image_url_is_rejected_like_openai() {
        let msgs = json!([{"role": "user", "content": [
            {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": "https://x/y.png"}]}]);
        let e = parse_messages(Some(&msgs)).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid type for 'messages[0].content[1].image_url': expected an object, but got a string instead."
        );
        assert_eq!(e.param.as_deref(), Some("messages[0].content[1].image_url"));
    }

    #[test]
    fn image_magic_must_match_mime() {
        let ok = json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": png_uri(), "detail": "low"}}]}]);
        let m = parse_messages(Some(&ok)).unwrap();
        assert_eq!(m[0].image_tokens, IMAGE_TOKENS_LOW);
        let wrong = png_uri().replace("image/png", "image/jpeg");
        let bad = json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": wrong}}]}]);
        let e = parse_messages(Some(&bad)).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].content[0].image_url"));
        let bad_detail = json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": png_uri(), "detail": "max"}}]}]);
        let e = parse_messages(Some(&bad_detail)).unwrap_err();
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].content[0].image_url.detail"),
            "{e:?}"
        );
    }

    #[test]
    fn tool_results_need_a_known_call_id() {
        let msgs = json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"}
        ]);
        assert!(parse_messages(Some(&msgs)).is_ok());
        let mut wrong = msgs.clone();
        wrong[2]["tool_call_id"] = json!("call_2");
        let e = parse_messages(Some(&wrong)).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[2].tool_call_id"));
    }

    #[test]
    fn bad_role_names_the_field() {
        let e = parse_messages(Some(&json!([{"role": "robot", "content": "x"}]))).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].role"));
    }
}
