//! Named built-in semantic checks, one module per feature area. A suite names them under
//! `expect.checks`; each is a pure function of the request and the response. Adding an area means
//! adding a module with its `CHECKS` table and listing it in `registry::AREAS` — no other
//! plumbing.

mod audio;
mod batch;
mod chat;
mod embeddings;
mod errors;
mod files;
mod images;
mod media;
mod models;
pub mod numbers;
mod reasoning;
mod registry;
mod responses;
mod responses_stream;
pub mod streaming;
mod structured_output;
mod tools;
mod usage;

pub(crate) use registry::at_choice;
pub use registry::{CheckDef, CheckFn, CheckInput, all, lookup, names};
pub use usage::on_every_answer as usage_on_every_answer;

#[cfg(test)]
mod tests;
