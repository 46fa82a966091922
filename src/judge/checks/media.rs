//! `vision.*` and `audio.*`: image (`image_url`) and audio (`input_audio`) parts of a chat
//! request. A refusal of the modality is the judge's business (the refusal rule makes a 400
//! naming the part `unsupported`, and a 5xx a status failure, QUIRKS E10); these checks look at
//! what is left on the wire once a request was accepted: whether the media came back as text
//! (a server that stringified the part into the prompt), whether the per-modality token
//! breakdown is consistent, and whether a malformed part is refused as OpenAI refuses it.
//!
//! What cannot be seen on the wire, and is therefore not checked: whether the model actually
//! looked at the image. `prompt_tokens` alone does not tell (a 32×32 image legitimately costs
//! 1 token on mllama, 85 on OpenAI `detail: low`, 258 on Gemini and several thousand on tiling
//! models such as Idefics3, overlapping the cost of the same image stringified as base64), so
//! no threshold on it could avoid failing a conformant server.

use std::collections::HashSet;

use serde_json::Value;

use super::{CheckDef, CheckInput, at_choice};
use crate::judge::errors::error_message;
use crate::judge::outcome::CheckResult;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "vision.not_stringified",
        description: "no choice's content repeats the base64 data of an image that was sent (a server that pasted the `image_url` part into the prompt as text, as llama-cpp-python without a vision handler does, and the model echoed it)",
        run: vision_not_stringified,
    },
    CheckDef {
        name: "vision.usage",
        description: "when `usage.prompt_tokens_details.image_tokens` is reported: an integer ≤ prompt_tokens, with text + image + audio tokens ≤ prompt_tokens; 0 image tokens for a request with images is a warning (ignored or not counted)",
        run: vision_usage,
    },
    CheckDef {
        name: "vision.strict_part_validation",
        description: "an `image_url` given as a bare string instead of `{\"url\": …}` is refused with HTTP 400/422 as OpenAI does; accepting it is the lenient behaviour of QUIRKS M2",
        run: strict_part_validation,
    },
    CheckDef {
        name: "audio.not_stringified",
        description: "no choice's content repeats the base64 data of an `input_audio` clip that was sent (the part was pasted into the prompt as text)",
        run: audio_not_stringified,
    },
    CheckDef {
        name: "audio.usage",
        description: "when `usage.prompt_tokens_details.audio_tokens` is reported: an integer ≤ prompt_tokens, with text + image + audio tokens ≤ prompt_tokens; 0 audio tokens for a request with audio is a warning (ignored or not counted)",
        run: audio_usage,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modality {
    Image,
    Audio,
}

impl Modality {
    fn noun(self) -> &'static str {
        match self {
            Modality::Image => "image",
            Modality::Audio => "audio clip",
        }
    }
    /// The `prompt_tokens_details` key OpenAI's `CompletionUsage` uses for this modality.
    fn detail_key(self) -> &'static str {
        match self {
            Modality::Image => "image_tokens",
            Modality::Audio => "audio_tokens",
        }
    }
}

/// The media parts of the request as sent.
#[derive(Debug, Default)]
struct SentMedia {
    images: usize,
    audio: usize,
    /// `image_url` parts given as a bare string (QUIRKS M2).
    bare_image_urls: usize,
    /// base64 payloads (data-URI images, `input_audio.data`) per modality.
    image_payloads: Vec<String>,
    audio_payloads: Vec<String>,
}

impl SentMedia {
    fn of(request: Option<&Value>) -> Self {
        let mut s = SentMedia::default();
        let parts = request
            .and_then(|r| r.get("messages"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("content").and_then(Value::as_array))
            .flatten();
        for part in parts {
            match part.get("type").and_then(Value::as_str) {
                Some("image_url") => {
                    s.images += 1;
                    let url = match part.get("image_url") {
                        Some(Value::String(u)) => {
                            s.bare_image_urls += 1;
                            Some(u.as_str())
                        }
                        Some(o) => o.get("url").and_then(Value::as_str),
                        None => None,
                    };
                    // Only inline data can be echoed; a remote URL may be quoted legitimately.
                    if let Some((_, data)) = url
                        .and_then(|u| u.strip_prefix("data:"))
                        .and_then(|u| u.split_once(";base64,"))
                    {
                        s.image_payloads.push(data.to_string());
                    }
                }
                Some("input_audio") => {
                    s.audio += 1;
                    if let Some(d) = part.pointer("/input_audio/data").and_then(Value::as_str) {
                        s.audio_payloads.push(d.to_string());
                    }
                }
                _ => {}
            }
        }
        s
    }

    fn count(&self, m: Modality) -> usize {
        match m {
            Modality::Image => self.images,
            Modality::Audio => self.audio,
        }
    }

    fn payloads(&self, m: Modality) -> &[String] {
        match m {
            Modality::Image => &self.image_payloads,
            Modality::Audio => &self.audio_payloads,
        }
    }
}

/// Window length and stride of the echo search: any run of ≥ 47 payload characters in the
/// output contains a whole window. 32 base64 characters are 24 bytes of media — no model
/// produces them without having been shown them as text.
const WINDOW: usize = 32;
const STRIDE: usize = 16;

/// Whether `content` reproduces part of the base64 `payload`: a window of it, or the data-URI
/// header `;base64,` with the payload's first characters (the usual start of an echo).
pub(super) fn echoes(content: &str, payload: &str) -> bool {
    if !payload.is_ascii() || payload.len() < 16 {
        return false;
    }
    if content.contains(&format!(";base64,{}", &payload[..8])) {
        return true;
    }
    if payload.len() < WINDOW {
        return content.contains(payload);
    }
    // Solid-colour fixtures repeat: test each distinct window once.
    let mut seen = HashSet::new();
    (0..=payload.len() - WINDOW)
        .step_by(STRIDE)
        .map(|k| &payload[k..k + WINDOW])
        .filter(|w| seen.insert(*w))
        .any(|w| content.contains(w))
}

fn vision_not_stringified(i: &CheckInput<'_>) -> Vec<CheckResult> {
    not_stringified(i, "vision.not_stringified", Modality::Image)
}

fn audio_not_stringified(i: &CheckInput<'_>) -> Vec<CheckResult> {
    not_stringified(i, "audio.not_stringified", Modality::Audio)
}

fn not_stringified(i: &CheckInput<'_>, check: &str, m: Modality) -> Vec<CheckResult> {
    let sent = SentMedia::of(i.request);
    let payloads = sent.payloads(m);
    if payloads.is_empty() {
        return vec![CheckResult::fail(
            check,
            format!(
                "the request sends no base64 {} to look for (suite error)",
                m.noun()
            ),
        )];
    }
    let Some(choices) = i
        .json
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
    else {
        return vec![CheckResult::fail(check, "response has no `choices` array").at("$.choices")];
    };
    let mut out = Vec::new();
    for (k, c) in choices.iter().enumerate() {
        let Some(content) = c.pointer("/message/content").and_then(Value::as_str) else {
            continue;
        };
        if let Some(n) = payloads.iter().position(|p| echoes(content, p)) {
            out.push(
                CheckResult::fail(
                    check,
                    format!(
                        "the reply repeats the base64 data of {} {} sent: the part was pasted into the prompt as text instead of being decoded",
                        m.noun(),
                        n + 1
                    ),
                )
                .at(at_choice(k, ".message.content")),
            );
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            check,
            format!("no {} data echoed in the reply", m.noun()),
        ));
    }
    out
}

fn vision_usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    modality_usage(i, "vision.usage", Modality::Image)
}

fn audio_usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    modality_usage(i, "audio.usage", Modality::Audio)
}

/// The per-modality breakdown of `prompt_tokens` (`CompletionUsage.prompt_tokens_details`),
/// when the endpoint reports one. Its absence is normal (OpenAI reports no `image_tokens` in
/// Chat Completions) and says nothing; its presence must add up.
fn modality_usage(i: &CheckInput<'_>, check: &str, m: Modality) -> Vec<CheckResult> {
    let sent = SentMedia::of(i.request).count(m);
    if sent == 0 {
        return vec![CheckResult::fail(
            check,
            format!("the request sends no {} (suite error)", m.noun()),
        )];
    }
    let usage = i.json.and_then(|b| b.get("usage")).filter(|u| !u.is_null());
    // A missing or malformed `usage` is `chat.usage`'s finding; here it only hides the breakdown.
    let Some(prompt) = usage
        .and_then(|u| u.get("prompt_tokens"))
        .and_then(Value::as_u64)
    else {
        return vec![
            CheckResult::warn(
                check,
                "no integer usage.prompt_tokens: the media accounting cannot be checked",
            )
            .at("$.usage.prompt_tokens"),
        ];
    };
    let key = m.detail_key();
    let details = usage
        .and_then(|u| u.get("prompt_tokens_details"))
        .filter(|d| d.is_object());
    let at = format!("$.usage.prompt_tokens_details.{key}");
    let value = match details.and_then(|d| d.get(key)) {
        None | Some(Value::Null) => {
            return vec![CheckResult::pass(
                check,
                format!(
                    "{prompt} prompt tokens; no prompt_tokens_details.{key} breakdown (whether the {} was used is not visible on the wire)",
                    m.noun()
                ),
            )];
        }
        Some(v) => v,
    };
    let Some(tokens) = value.as_u64() else {
        return vec![
            CheckResult::fail(
                check,
                format!("{key} is {value}, expected a non-negative integer"),
            )
            .at(at),
        ];
    };
    let mut out = Vec::new();
    if tokens > prompt {
        out.push(
            CheckResult::fail(
                check,
                format!("{key} {tokens} > prompt_tokens {prompt} (the breakdown must be part of the prompt count)"),
            )
            .at(at.clone())
            .expected(format!("≤ {prompt}"))
            .actual(tokens.to_string()),
        );
    }
    // The modality parts are disjoint; `cached_tokens` overlaps them and is left out.
    let parts: Vec<(&str, u64)> = ["text_tokens", "image_tokens", "audio_tokens"]
        .into_iter()
        .filter_map(|k| Some((k, details?.get(k)?.as_u64()?)))
        .collect();
    // Checked: a sum past 2^64 - 1 is more than any prompt.
    let sum = parts.iter().try_fold(0u64, |s, (_, v)| s.checked_add(*v));
    if parts.len() > 1 && sum.is_none_or(|s| s > prompt) && tokens <= prompt {
        let shown: Vec<String> = parts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let sum = sum.map_or_else(|| "more than 2^64 - 1".to_string(), |s| s.to_string());
        out.push(
            CheckResult::fail(
                check,
                format!("{} = {sum} > prompt_tokens {prompt}", shown.join(" + ")),
            )
            .at("$.usage.prompt_tokens_details"),
        );
    }
    if tokens == 0 {
        out.push(
            CheckResult::warn(
                check,
                format!(
                    "{key} is 0 although {sent} {}(s) were sent: the input was ignored, or is not counted in the breakdown",
                    m.noun()
                ),
            )
            .at(at),
        );
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            check,
            format!("{key} {tokens} of prompt_tokens {prompt}"),
        ));
    }
    out
}

/// QUIRKS M2: OpenAI refuses `"image_url": "<url>"` with 400 "Invalid type for
/// 'messages[0].content[1].image_url': expected an object, but got a string instead." Lenient
/// servers (Ollama documents the bare string) accept it, which hides client bugs until the
/// client moves to a strict endpoint. The case accepts both 2xx and 400/422 at the status level
/// so that this check, not the generic status check, names the deviation.
fn strict_part_validation(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "vision.strict_part_validation";
    if SentMedia::of(i.request).bare_image_urls == 0 {
        return vec![CheckResult::fail(
            C,
            "the request sends no bare-string `image_url` (suite error)",
        )];
    }
    let status = i.response.status;
    let said = error_message(i.response)
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    match status {
        200..=299 => vec![
            CheckResult::fail(
                C,
                format!("HTTP {status}: a bare-string `image_url` was accepted (lenient, QUIRKS M2); OpenAI refuses it with 400 \"expected an object, but got a string\""),
            )
            .expected("HTTP 400")
            .actual(status.to_string()),
        ],
        400 | 422 => vec![CheckResult::pass(
            C,
            format!("refused with HTTP {status}{said}"),
        )],
        _ => vec![
            CheckResult::fail(
                C,
                format!("HTTP {status}{said}, expected 400 (a validation error)"),
            )
            .expected("HTTP 400")
            .actual(status.to_string()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn echo_needs_a_real_run_of_the_payload() {
        let payload = "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAMKUlEQVR4nAEeDOHz";
        assert!(echoes(
            &format!("Sure: data:image/png;base64,{}", &payload[..10]),
            payload
        ));
        assert!(echoes(&format!("xx {} yy", &payload[10..60]), payload));
        assert!(!echoes("The image is red.", payload));
        // A short coincidental overlap is not an echo.
        assert!(!echoes("AAAA", payload));
    }

    #[test]
    fn sent_media_counts_parts_and_bare_strings() {
        let req = json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
            {"type": "image_url", "image_url": "https://example.com/a.png"},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
        ]}]});
        let s = SentMedia::of(Some(&req));
        assert_eq!((s.images, s.audio, s.bare_image_urls), (2, 1, 1));
        assert_eq!(s.image_payloads, vec!["QUJD".to_string()]);
        assert_eq!(s.audio_payloads, vec!["UklGRg==".to_string()]);
    }
}
