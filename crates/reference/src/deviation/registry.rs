//! The registry: every deviation, its id on the command line and its line of description.

use std::fmt;

/// One deviation the endpoint can switch on. The id ([`Deviation::id`]) is the row of
/// `docs/quirks.md` it emulates, with a suffix where a row covers several behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Deviation {
    /// E1: error bodies are a JSON array of a Google-style error.
    ListWrappedError,
    /// E2: a bad key is answered 400, not 401.
    BadKey400,
    /// E4: errors are vLLM's flat `{"object": "error", …}`.
    FlatError,
    /// E8: the stream breaks off with an error event inside the HTTP 200 response.
    ErrorInStream,
    /// E12: the error object has no `param` key.
    ErrorWithoutParam,
    /// E13: a list-wrapped error re-shaped by a router into `{"0": {"error": …}}`.
    ReshapedListError,
    /// E15: a prompt longer than the context is refused without `code: context_length_exceeded`.
    ContextOverflowWithoutCode,
    /// S1: streamed tool calls arrive whole, without `index`.
    ToolDeltaWithoutIndex,
    /// S4-no-id: chunks carry no `id`.
    ChunkWithoutId,
    /// S4-role: every delta repeats `role: "assistant"`.
    RoleOnEveryDelta,
    /// S5-ignored: `stream_options.include_usage` is ignored.
    UsageIgnored,
    /// S5-on-finish: the usage rides on the last chunk with choices, not on its own chunk.
    UsageOnFinishChunk,
    /// S7-finish-on-content: `finish_reason` on the last content chunk (no empty terminal delta).
    FinishOnContent,
    /// S7-no-done: the stream ends without `data: [DONE]`.
    NoDone,
    /// S10: `created` changes from chunk to chunk.
    CreatedChanges,
    /// T1: `finish_reason: stop` beside tool calls (non-streamed).
    StopWithToolCalls,
    /// T2: tool-call ids are empty strings.
    EmptyToolCallIds,
    /// T3: `function.arguments` is a JSON object instead of a string (non-streamed).
    ArgumentsAsObject,
    /// T7: the first tool call of a turn carries `extra_content.google.thought_signature`, which
    /// the next request must echo back on that assistant tool call.
    ThoughtSignature,
    /// O2: `response_format` is ignored (prose comes back).
    ResponseFormatIgnored,
    /// B1: `encoding_format: base64` is ignored (floats come back).
    Base64Ignored,
    /// B3: `dimensions` is ignored (the native length comes back).
    DimensionsIgnored,
    /// L1: `/models` lists `models/`-prefixed ids; requests accept both forms.
    PrefixedModelIds,
    /// Q2: `n > 1` is refused.
    MultipleChoicesRefused,
    /// R2: `reasoning_effort: medium` is refused.
    MediumEffortRefused,
    /// R3: Gemini's `google` extension (`thinking_config`, `cached_content`) is understood.
    GoogleExtension,
    /// A1: there is no Responses API: every `/responses` route answers 404.
    NoResponsesApi,
    /// A4: the Files API is not configured: an upload answers 500.
    FilesNotConfigured,
    /// A5: uploads work, but downloading a file's content answers 500.
    FileContentFails,
    /// A6: there are no audio routes: `/audio/speech` and `/audio/transcriptions` answer 404.
    NoAudioApi,
}

/// What `docs/quirks.md` and `llm-parity list deviations` say about a deviation.
#[derive(Debug, Clone, Copy)]
pub struct DeviationInfo {
    pub deviation: Deviation,
    /// The id on the command line and in the catalogue (`S1`, `S4-no-id`).
    pub id: &'static str,
    /// What the endpoint does differently, in a line.
    pub summary: &'static str,
}

/// Every deviation, in catalogue order.
pub const DEVIATIONS: &[DeviationInfo] = &[
    info(Deviation::ListWrappedError, "E1", "error bodies are a JSON array [{\"error\": {\"code\": int, \"message\", \"status\"}}]"),
    info(Deviation::BadKey400, "E2", "a bad key is answered HTTP 400 (\"API key not valid\"), not 401"),
    info(Deviation::FlatError, "E4", "error bodies are flat {\"object\": \"error\", \"message\", \"type\", \"param\", \"code\": int} (vLLM)"),
    info(Deviation::ErrorInStream, "E8", "the stream breaks off with data: {\"error\": …} inside the HTTP 200 response, then [DONE]"),
    info(Deviation::ErrorWithoutParam, "E12", "the error object has no `param` key"),
    info(Deviation::ReshapedListError, "E13", "error bodies are a list-wrapped error re-shaped into {\"0\": {\"error\": …}}"),
    info(Deviation::ContextOverflowWithoutCode, "E15", "a prompt longer than the context gets a 400 in Gemini's words (\"The input token count … exceeds …\"), without code context_length_exceeded"),
    info(Deviation::ToolDeltaWithoutIndex, "S1", "streamed tool calls arrive whole in one delta, without `index`"),
    info(Deviation::ChunkWithoutId, "S4-no-id", "stream chunks carry no `id`"),
    info(Deviation::RoleOnEveryDelta, "S4-role", "every stream delta repeats role: \"assistant\""),
    info(Deviation::UsageIgnored, "S5-ignored", "stream_options.include_usage is ignored: no usage in the stream"),
    info(Deviation::UsageOnFinishChunk, "S5-on-finish", "the stream's usage rides on the last chunk with choices, not on a chunk of its own"),
    info(Deviation::FinishOnContent, "S7-finish-on-content", "finish_reason arrives on the last content chunk (no empty terminal delta)"),
    info(Deviation::NoDone, "S7-no-done", "the stream ends without data: [DONE]"),
    info(Deviation::CreatedChanges, "S10", "`created` changes from one chunk to the next"),
    info(Deviation::StopWithToolCalls, "T1", "finish_reason \"stop\" beside tool calls (non-streamed)"),
    info(Deviation::EmptyToolCallIds, "T2", "tool-call ids are empty strings"),
    info(Deviation::ArgumentsAsObject, "T3", "function.arguments is a JSON object, not a string (non-streamed)"),
    info(Deviation::ThoughtSignature, "T7", "tool calls carry extra_content.google.thought_signature, and a tool-call history without it is refused with 400"),
    info(Deviation::ResponseFormatIgnored, "O2", "response_format is ignored: prose comes back"),
    info(Deviation::Base64Ignored, "B1", "encoding_format: base64 is ignored: float arrays come back"),
    info(Deviation::DimensionsIgnored, "B3", "`dimensions` is ignored: the native 256 components come back"),
    info(Deviation::PrefixedModelIds, "L1", "/models lists ids as models/<id>; requests accept both forms"),
    info(Deviation::MultipleChoicesRefused, "Q2", "n > 1 is refused with 400 \"Multiple candidates is not enabled\""),
    info(Deviation::MediumEffortRefused, "R2", "reasoning_effort: medium is refused with 400"),
    info(Deviation::GoogleExtension, "R3", "Gemini's `google` extension is understood; include_thoughts puts <thought> tags in the content"),
    info(Deviation::NoResponsesApi, "A1", "no Responses API: every /responses route answers 404"),
    info(Deviation::FilesNotConfigured, "A4", "the Files API is not configured: POST /files answers 500 (\"files_settings is not set\")"),
    info(Deviation::FileContentFails, "A5", "uploads work, but GET /files/{id}/content answers 500"),
    info(Deviation::NoAudioApi, "A6", "no audio routes: /audio/speech and /audio/transcriptions answer 404"),
];

const fn info(deviation: Deviation, id: &'static str, summary: &'static str) -> DeviationInfo {
    DeviationInfo {
        deviation,
        id,
        summary,
    }
}

impl Deviation {
    /// The catalogue entry of this deviation.
    pub fn info(self) -> &'static DeviationInfo {
        DEVIATIONS
            .iter()
            .find(|i| i.deviation == self)
            .expect("every deviation is in DEVIATIONS")
    }

    /// The id on the command line and in `docs/quirks.md` (`S1`, `S4-no-id`).
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The `docs/quirks.md` row (`S4` for `S4-no-id`).
    pub fn row(self) -> &'static str {
        self.id().split('-').next().unwrap_or(self.id())
    }

    /// The deviation's bit in a [`Deviations`](super::Deviations) set.
    pub(super) fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deviation_is_listed_once_with_a_distinct_id() {
        let mut ids: Vec<&str> = DEVIATIONS.iter().map(|i| i.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), DEVIATIONS.len());
        assert!(DEVIATIONS.len() < 64, "the set is a u64 bitset");
        for i in DEVIATIONS {
            assert_eq!(i.deviation.info().id, i.id);
        }
    }
}
