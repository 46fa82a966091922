//! Profiles: named bundles of deviations (`openai`, `gemini-compat`).

use super::registry::Deviation;
use super::set::Deviations;

/// A named bundle of deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// OpenAI's documented behaviour (the baseline): no deviation.
    OpenAi,
    /// An emulation of the documented deviations of Gemini's OpenAI-compatibility endpoint
    /// (rows E1, E2, E15, S1, S4, S5, S7, T1, T2, T7, L1, Q2, R2, R3, A1, A6 of `docs/quirks.md`): the
    /// routes Google does not document for the endpoint (`/responses`, `/audio/*`) answer 404;
    /// files and batches are served, as Google documents them. Not Google's code.
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
                ContextOverflowWithoutCode,
                ToolDeltaWithoutIndex,
                ChunkWithoutId,
                RoleOnEveryDelta,
                UsageIgnored,
                FinishOnContent,
                StopWithToolCalls,
                EmptyToolCallIds,
                ThoughtSignature,
                PrefixedModelIds,
                MultipleChoicesRefused,
                MediumEffortRefused,
                GoogleExtension,
                NoResponsesApi,
                NoAudioApi,
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
