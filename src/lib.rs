//! llm-parity: a conformance and smoke-test harness for OpenAI-compatible LLM HTTP APIs.
//!
//! The pipeline is the architecture: `load` → `plan` → `execute` → `judge` → `report`, with
//! `run` driving each case through `execute` and `judge` and telling one session about it.

// Standard output goes through `cli::out`, where a closed pipe ends the output quietly;
// `println!` would panic on it (exit 101).
#![deny(clippy::print_stdout)]

pub mod cli;
pub mod clients;
pub mod execute;
pub mod exit;
pub mod gate;
pub mod judge;
pub mod load;
pub mod outcome;
pub mod plan;
pub mod record;
pub mod redact;
pub mod report;
pub mod run;
pub mod runbook;
pub mod snapshot;
#[cfg(test)]
pub(crate) mod testing;
pub mod util;
