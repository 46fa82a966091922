//! HTTP-level tests of the reference endpoint, driving the router with `oneshot`.

mod audio;
mod auth_and_routing;
mod chat;
mod deviations;
mod embeddings_images;
mod files_batches;
mod gemini;
mod responses;
mod stream;
mod support;
mod tools;
