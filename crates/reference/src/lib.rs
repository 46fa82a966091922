//! The built-in reference endpoint of llm-parity.
//!
//! A deterministic, offline HTTP server that speaks the OpenAI REST API as documented in
//! OpenAI's OpenAPI specification. `llm-parity run` tests against it when no keys are
//! configured, so every case of the harness must pass here. It deliberately shares no code
//! with the harness's judge: it is written from the wire specification, so the two cannot
//! "agree with themselves".
//!
//! There is no model behind it. Replies are built from the request:
//!
//! * A **token** is a whitespace-separated word together with the whitespace before it
//!   (so `"a b"` is the two tokens `"a"` and `" b"`). Prompt tokens are the words of all
//!   message text (minimum 1) plus fixed amounts for images and audio; completion tokens are
//!   the tokens of the generated content.
//! * A text reply is `"Reference reply: "`, the first eight words of the last user message,
//!   a note about attached images/audio, and a fixed filler sentence (about 20 tokens).
//! * Tool-call arguments and `json_schema` content are generated to satisfy the declared
//!   JSON Schema (see the `schema_gen` module).
//!
//! By default it follows OpenAI's documented behaviour. Each documented deviation of real
//! endpoints can be switched on by itself ([`Deviation`], [`Config::deviations`]); a
//! [`Profile`] is a named bundle of them (`gemini-compat` emulates Google's Gemini
//! OpenAI-compatibility endpoint), for testing deviation reporting and client libraries
//! offline.

use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

mod audio;
mod auth;
mod batches;
mod body;
mod chat;
mod content;
mod deviation;
mod embeddings;
mod errors;
mod files;
mod headers;
mod images;
mod logprobs;
mod models;
mod reply;
mod request;
mod responses;
mod responses_stream;
mod schema_gen;
mod store;
mod stream;
mod tools;
mod util;
mod validate;

/// Request bodies above this size get a 413 error envelope.
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

pub use deviation::{Deviation, DeviationInfo, Deviations, Profile, DEVIATIONS};

/// How the reference endpoint behaves.
#[derive(Clone)]
pub struct Config {
    /// The deviations from OpenAI's behaviour that are switched on (none by default).
    pub deviations: Deviations,
    /// `None`: no authentication. `Some(key)`: every `/v1` route requires
    /// `Authorization: Bearer <key>` (or `x-goog-api-key` / `api-key` headers).
    pub api_key: Option<String>,
    /// Milliseconds slept before the response headers of every request.
    pub delay_ms: u64,
    /// Milliseconds slept between server-sent events of a stream.
    pub stream_delay_ms: u64,
}

impl std::fmt::Debug for Config {
    /// Redacts the key: configurations may end up in logs, keys must not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("deviations", &self.deviations)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("delay_ms", &self.delay_ms)
            .field("stream_delay_ms", &self.stream_delay_ms)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            deviations: Deviations::NONE,
            api_key: None,
            delay_ms: 0,
            stream_delay_ms: 0,
        }
    }
}

/// Shared state of one endpoint instance: its configuration and the in-memory (bounded) store
/// of files, batches and responses.
#[derive(Clone)]
pub(crate) struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<Mutex<store::Store>>,
}

/// Builds the endpoint's router. Every route lives under `/v1`.
pub fn router(config: Config) -> Router {
    let state = AppState {
        config: Arc::new(config),
        store: Arc::new(Mutex::new(store::Store::default())),
    };
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .route("/v1/chat/completions", post(chat::create))
        .route("/v1/embeddings", post(embeddings::create))
        .route("/v1/images/generations", post(images::generate))
        .route("/v1/audio/speech", post(audio::speech))
        .route("/v1/audio/transcriptions", post(audio::transcription))
        .route(images::SERVE_ROUTE, get(images::serve))
        .route("/v1/files", post(files::upload).get(files::list))
        .route("/v1/files/{id}", get(files::retrieve).delete(files::delete))
        .route("/v1/files/{id}/content", get(files::content))
        .route("/v1/batches", post(batches::create).get(batches::list))
        .route("/v1/batches/{id}", get(batches::retrieve))
        .route("/v1/batches/{id}/cancel", post(batches::cancel))
        .route("/v1/responses", post(responses::create))
        .route(
            "/v1/responses/{id}",
            get(responses::retrieve).delete(responses::delete),
        )
        .fallback(errors::unknown_route)
        .method_not_allowed_fallback(errors::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Layers run outermost-last: headers (delay, request id) wrap the error deviations'
        // rewrite, which wraps authentication, so auth failures get rewritten too.
        .layer(from_fn_with_state(state.clone(), auth::require_key))
        .layer(from_fn_with_state(
            state.clone(),
            deviation::errors::rewrite,
        ))
        .layer(from_fn_with_state(state.clone(), headers::stamp))
        .with_state(state)
}

/// Serves the endpoint on an already-bound listener until the task is dropped or fails.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    // Streamed chunks go out as written: with Nagle's algorithm a small SSE event can wait for
    // the client's delayed ACK, which skews the time-to-first-token clients measure.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(config)).await
}

/// The model ids this endpoint serves for each logical role (`chat`, `vision`, `audio`,
/// `embedding`, `image`, `reasoning`, `speech`, `transcription`), as requests should send them.
///
/// With [`Deviation::PrefixedModelIds`] the `/v1/models` listing shows `models/`-prefixed ids
/// (QUIRKS L1), but requests accept the bare ids returned here, whatever the deviations.
pub fn models() -> Vec<(&'static str, String)> {
    models::CATALOGUE
        .iter()
        .map(|m| (m.role, m.id.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_the_key() {
        let c = Config {
            api_key: Some("sk-very-secret".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }
}
