//! The deterministic reply text, its tokenisation, and `stop` / `max_tokens` handling.
//!
//! A token is a whitespace-separated word together with the whitespace before it: `"a b"`
//! is `["a", " b"]`. The pieces concatenate to the text exactly, which is what makes stream
//! deltas and logprob tokens add up to the non-streamed content.

use serde_json::Value;

use crate::content::{words, Message, Role};

/// Words of the user's text echoed in the reply.
const ECHO_WORDS: usize = 8;

/// Ends every text reply; long enough that small `max_tokens` always truncate, and full of
/// common letters so `stop` sequences such as `"e"` or `"the"` trigger.
const FILLER: &str = "This deterministic answer comes from the llm-parity reference endpoint \
                      and repeats the same words every time.";

/// The reply to the conversation: `Reference reply: <echo> <attachments> <filler>`.
pub(crate) fn reply_text(messages: &[Message]) -> String {
    let mut out = vec!["Reference".to_string(), "reply:".to_string()];
    let last = messages.last();
    if let Some(tool) = last.filter(|m| m.role == Role::Tool) {
        // The round trip: answer from the tool result.
        out.push("the tool returned".into());
        out.extend(
            tool.text
                .split_whitespace()
                .take(ECHO_WORDS)
                .map(str::to_string),
        );
        out.push("-".into());
    } else if let Some(user) = messages.iter().rev().find(|m| m.role == Role::User) {
        out.extend(
            user.text
                .split_whitespace()
                .take(ECHO_WORDS)
                .map(str::to_string),
        );
        if user.images > 0 {
            out.push(format!("- I see {} image(s).", user.images));
        }
        if user.audio_clips > 0 {
            out.push(format!("- I hear {} audio clip(s).", user.audio_clips));
        }
    }
    out.push(FILLER.to_string());
    // Re-joining on single spaces normalises the echoed whitespace.
    out.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits `text` into tokens (each word with its leading whitespace).
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_space = false;
    for c in text.chars() {
        let space = c.is_whitespace();
        // A new token starts with the whitespace that follows a word.
        if space && !prev_space && current.chars().any(|c| !c.is_whitespace()) {
            pieces.push(std::mem::take(&mut current));
        }
        current.push(c);
        prev_space = space;
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    Stop,
    Length,
}

impl Finish {
    /// The wire value of `finish_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
        }
    }
}

/// Applies `stop` sequences and a token limit the way sampling would meet them: the content
/// ends before the first stop sequence (excluded), unless the token limit is reached first.
/// A token cut by a stop sequence keeps its part before the sequence.
pub(crate) fn limit(
    pieces: Vec<String>,
    stop: &[String],
    max_tokens: Option<u64>,
) -> (Vec<String>, Finish) {
    let text: String = pieces.concat();
    let cut = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    let mut kept = pieces;
    if let Some(cut) = cut {
        let mut out = Vec::new();
        let mut offset = 0;
        for p in kept {
            if offset >= cut {
                break;
            }
            let end = offset + p.len();
            out.push(if end <= cut {
                p
            } else {
                p[..cut - offset].to_string()
            });
            offset = end;
        }
        kept = out;
    }
    if let Some(max) = max_tokens {
        // Reaching the limit exactly is not truncation: the reply ended naturally.
        if (kept.len() as u64) > max {
            kept.truncate(max as usize);
            return (kept, Finish::Length);
        }
    }
    (kept, Finish::Stop)
}

/// Serialises JSON with a space after `:` and `,` (like Python's `json.dumps`), so structured
/// output tokenises into several tokens instead of one.
pub(crate) fn spaced_json(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(spaced_json).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), spaced_json(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// Prompt tokens of a conversation: words of all text plus images, audio and the tool calls
/// of earlier assistant turns (at least 1).
pub(crate) fn prompt_tokens(messages: &[Message]) -> u64 {
    let total: u64 = messages
        .iter()
        .map(|m| words(&m.text) + m.call_words + m.image_tokens + m.audio_tokens)
        .sum();
    total.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msgs(v: Value) -> Vec<Message> {
        crate::content::parse_messages(Some(&v)).unwrap()
    }

    #[test]
    fn reply_echoes_unicode_and_is_about_twenty_tokens() {
        let m = msgs(json!([{"role": "user", "content": "Grüße  aus 東京 🚀"}]));
        let r = reply_text(&m);
        assert!(r.starts_with("Reference reply: Grüße aus 東京 🚀 This"));
        let n = tokenize(&r).len();
        assert!((18..=30).contains(&n), "{n}");
    }

    #[test]
    fn tokens_concatenate_exactly() {
        for text in ["a b", "  a\n\nb c ", "", "x"] {
            assert_eq!(tokenize(text).concat(), text);
        }
        assert_eq!(tokenize("a  b"), vec!["a", "  b"]);
    }

    #[test]
    fn stop_cuts_before_the_sequence() {
        let p = tokenize("Reference reply: hello there");
        let (kept, finish) = limit(p.clone(), &["reply".into()], None);
        assert_eq!(kept.concat(), "Reference ");
        assert_eq!(finish, Finish::Stop);
        let (kept, _) = limit(p, &["e".into(), "zzz".into()], None);
        assert_eq!(kept.concat(), "R");
    }

    #[test]
    fn max_tokens_truncates_with_length() {
        let p = tokenize("one two three four");
        let (kept, finish) = limit(p.clone(), &[], Some(2));
        assert_eq!(kept, vec!["one", " two"]);
        assert_eq!(finish, Finish::Length);
        let (kept, finish) = limit(p, &[], Some(4));
        assert_eq!(kept.len(), 4);
        assert_eq!(finish, Finish::Stop);
    }

    #[test]
    fn spaced_json_is_valid_json() {
        let v = json!({"a": [1, "x y"], "b": {"c": null}});
        let s = spaced_json(&v);
        assert_eq!(s, r#"{"a": [1, "x y"], "b": {"c": null}}"#);
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}
