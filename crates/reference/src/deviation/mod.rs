//! Deviations on demand: each documented way a real endpoint differs from OpenAI, switchable
//! one at a time, so llm-parity's checks and the official client libraries can be run against
//! exactly one deviation (`llm-parity serve --deviation S1`).
//!
//! Every deviation is an **emulation** of a row of llm-parity's `docs/quirks.md` as reported
//! there, not the provider's code. A [`Profile`] is a named bundle of deviations: `openai` has
//! none, `gemini-compat` the ones documented for Gemini's OpenAI-compatibility endpoint.
//!
//! Where each deviation acts: request validation ([`request`]), non-streamed completions and
//! streams ([`chat`]), error bodies ([`errors`]); embeddings, model ids, the Responses API,
//! files and audio ask [`Deviations::has`] in their handlers.

pub(crate) mod chat;
pub(crate) mod errors;
pub(crate) mod google;
pub(crate) mod request;

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

    fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A set of switched-on deviations (empty: OpenAI's behaviour).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Deviations(u64);

impl Deviations {
    /// No deviation: OpenAI's documented behaviour.
    pub const NONE: Deviations = Deviations(0);

    /// Whether `d` is switched on.
    pub fn has(self, d: Deviation) -> bool {
        self.0 & d.bit() != 0
    }

    /// This set with `d` switched on.
    pub fn with(self, d: Deviation) -> Deviations {
        Deviations(self.0 | d.bit())
    }

    /// Both sets together.
    pub fn union(self, other: Deviations) -> Deviations {
        Deviations(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The switched-on deviations, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Deviation> {
        DEVIATIONS
            .iter()
            .map(|i| i.deviation)
            .filter(move |d| self.has(*d))
    }

    /// Parses one id: a deviation's id (`S4-no-id`), or a row id (`S4`) for every deviation
    /// of that row. Case does not matter. The error lists the known ids.
    pub fn parse_id(id: &str) -> Result<Deviations, String> {
        let want = id.trim();
        let mut set = Deviations::NONE;
        for i in DEVIATIONS {
            if i.id.eq_ignore_ascii_case(want) || i.deviation.row().eq_ignore_ascii_case(want) {
                set = set.with(i.deviation);
            }
        }
        if set.is_empty() {
            return Err(format!(
                "unknown deviation `{want}` (known: {})",
                DEVIATIONS
                    .iter()
                    .map(|i| i.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(set)
    }

    /// Parses `+`- or `,`-separated ids (`S1+T2`).
    pub fn parse_list(list: &str) -> Result<Deviations, String> {
        let mut set = Deviations::NONE;
        for id in list.split(['+', ',']) {
            if id.trim().is_empty() {
                return Err(format!("empty deviation id in `{list}`"));
            }
            set = set.union(Deviations::parse_id(id)?);
        }
        Ok(set)
    }
}

impl fmt::Debug for Deviations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Deviation::id))
            .finish()
    }
}

impl fmt::Display for Deviations {
    /// `S1+T2`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let ids: Vec<&str> = self.iter().map(Deviation::id).collect();
        f.write_str(&ids.join("+"))
    }
}

/// A named bundle of deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// OpenAI's documented behaviour (the baseline): no deviation.
    OpenAi,
    /// An emulation of the documented deviations of Gemini's OpenAI-compatibility endpoint
    /// (rows E1, E2, S1, S4, S5, S7, T1, T2, L1, Q2, R2, R3, A1 of `docs/quirks.md`). Not Google's
    /// code.
    GeminiCompat,
}

impl Profile {
    /// The profile's name as used on the command line: `openai` or `gemini-compat`.
    pub fn name(&self) -> &'static str {
        match self {
            Profile::OpenAi => "openai",
            Profile::GeminiCompat => "gemini-compat",
        }
    }

    /// Parses a profile name (as produced by [`Profile::name`]); `None` for unknown names.
    pub fn parse(s: &str) -> Option<Profile> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(Profile::OpenAi),
            "gemini-compat" | "gemini_compat" | "gemini" => Some(Profile::GeminiCompat),
            _ => None,
        }
    }

    /// The deviations the profile switches on.
    pub fn deviations(&self) -> Deviations {
        use Deviation::*;
        match self {
            Profile::OpenAi => Deviations::NONE,
            Profile::GeminiCompat => [
                ListWrappedError,
                BadKey400,
                ToolDeltaWithoutIndex,
                ChunkWithoutId,
                RoleOnEveryDelta,
                UsageIgnored,
                FinishOnContent,
                StopWithToolCalls,
                EmptyToolCallIds,
                PrefixedModelIds,
                MultipleChoicesRefused,
                MediumEffortRefused,
                GoogleExtension,
                NoResponsesApi,
            ]
            .into_iter()
            .fold(Deviations::NONE, Deviations::with),
        }
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

    #[test]
    fn ids_parse_alone_by_row_and_in_lists() {
        assert_eq!(
            Deviations::parse_id("s1").unwrap().to_string(),
            "S1",
            "case does not matter"
        );
        assert_eq!(
            Deviations::parse_id("S4").unwrap().to_string(),
            "S4-no-id+S4-role"
        );
        assert_eq!(
            Deviations::parse_list("T2+S1").unwrap().to_string(),
            "S1+T2"
        );
        assert_eq!(
            Deviations::parse_list("E1,E2").unwrap().to_string(),
            "E1+E2"
        );
        let e = Deviations::parse_id("X9").unwrap_err();
        assert!(
            e.contains("unknown deviation `X9`") && e.contains("S4-no-id"),
            "{e}"
        );
        let e = Deviations::parse_list("S1+").unwrap_err();
        assert!(e.contains("empty deviation id in `S1+`"), "{e}");
        let e = Deviations::parse_id("S").unwrap_err();
        assert!(
            e.contains("unknown deviation `S`"),
            "a prefix is not a row: {e}"
        );
    }

    #[test]
    fn profiles_are_bundles() {
        assert!(Profile::OpenAi.deviations().is_empty());
        let g = Profile::GeminiCompat.deviations();
        assert!(g.has(Deviation::ToolDeltaWithoutIndex) && !g.has(Deviation::FlatError));
        for p in [Profile::OpenAi, Profile::GeminiCompat] {
            assert_eq!(Profile::parse(p.name()), Some(p));
        }
        assert_eq!(Profile::parse("vllm"), None);
    }
}
