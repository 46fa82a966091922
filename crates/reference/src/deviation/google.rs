//! R3: Gemini's `google` extension object (what `extra_body={"google": …}` puts on the wire):
//! `thinking_config` (budget, `include_thoughts`) and `cached_content`.

use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::validate::{field, opt_bool, opt_int, opt_object, opt_str};

/// The parsed `google` object.
#[derive(Debug, Clone, Default)]
pub(crate) struct GoogleExtension {
    /// `google.thinking_config.thinking_budget` (-1 means dynamic).
    pub thinking_budget: Option<i64>,
    /// `google.thinking_config.include_thoughts`.
    pub include_thoughts: bool,
    /// Whether `google.cached_content` was given.
    pub cached_content: bool,
}

/// Parses `google: {thinking_config: {thinking_budget, include_thoughts}, cached_content}`;
/// unknown keys are refused in Gemini's "Unknown name" wording (E3).
pub(crate) fn parse(req: &Map<String, Value>) -> Result<GoogleExtension, ApiError> {
    let mut ext = GoogleExtension::default();
    let Some(google) = opt_object(field(req, "google"), "google")? else {
        return Ok(ext);
    };
    for (key, value) in google {
        match key.as_str() {
            "thinking_config" => {
                let tc = opt_object(Some(value), "google.thinking_config")?
                    .cloned()
                    .unwrap_or_default();
                for k in tc.keys() {
                    if !["thinking_budget", "include_thoughts", "thinking_level"]
                        .contains(&k.as_str())
                    {
                        return Err(unknown_name(k, "google.thinking_config"));
                    }
                }
                ext.thinking_budget = opt_int(
                    field(&tc, "thinking_budget"),
                    "google.thinking_config.thinking_budget",
                    -1,
                    None,
                )?;
                ext.include_thoughts = opt_bool(
                    field(&tc, "include_thoughts"),
                    "google.thinking_config.include_thoughts",
                )?
                .unwrap_or(false);
                opt_str(
                    field(&tc, "thinking_level"),
                    "google.thinking_config.thinking_level",
                )?;
            }
            "cached_content" => {
                ext.cached_content = opt_str(Some(value), "google.cached_content")?.is_some();
            }
            other => return Err(unknown_name(other, "google")),
        }
    }
    Ok(ext)
}

/// With `include_thoughts`, a reasoning model's thoughts are returned in the content, wrapped
/// in `<thought>` tags. The real display format is unverified (QUIRKS §13); this is one
/// plausible rendering, so the harness has something to record.
pub(crate) fn thoughts(ext: &GoogleExtension, reasoning_tokens: u64) -> Option<&'static str> {
    (ext.include_thoughts && reasoning_tokens > 0)
        .then_some("<thought>The reference endpoint thinks deterministically.</thought> ")
}

/// E3-style rejection of an unknown field.
fn unknown_name(name: &str, at: &str) -> ApiError {
    ApiError::bad_request(
        format!(
            "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
        ),
        Some(at),
        None,
    )
}
