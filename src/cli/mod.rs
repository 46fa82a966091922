//! The command line: parse flags, dispatch, map every outcome to the documented exit code.

pub mod args;
mod clients;
mod completions;
pub mod config;
mod dispatch;
pub mod error;
pub mod gate;
mod init;
mod list;
mod out;
mod project;
mod run;
pub mod runbook;
mod runtime;
mod serve;
mod snapshots;
pub mod targets;
mod validate;

pub use args::parse_size;
pub use dispatch::main;
pub use project::{load, load_options};
use runtime::runtime;
