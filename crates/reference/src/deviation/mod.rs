//! Deviations on demand: each documented way a real endpoint differs from OpenAI, switchable
//! one at a time, so llm-parity's checks and the official client libraries can be run against
//! exactly one deviation (`llm-parity serve --deviation S1`).
//!
//! Every deviation is an **emulation** of a row of llm-parity's `docs/quirks.md` as reported
//! there, not the provider's code. A [`Profile`] is a named bundle of deviations: `openai` has
//! none, `gemini-compat` the ones documented for Gemini's OpenAI-compatibility endpoint.
//!
//! Which deviations are on: the registry of deviations and their ids ([`registry`]), sets of
//! them ([`set`]) and the named bundles ([`profile`]). Where each deviation acts: request
//! validation ([`request`]), non-streamed completions and streams ([`chat`]), error bodies
//! ([`errors`]); embeddings, model ids, the Responses API, files and audio ask
//! [`Deviations::has`] in their handlers.

pub(crate) mod chat;
pub(crate) mod errors;
pub(crate) mod google;
mod profile;
mod registry;
pub(crate) mod request;
mod set;

pub use profile::Profile;
pub use registry::{Deviation, DeviationInfo, DEVIATIONS};
pub use set::Deviations;
