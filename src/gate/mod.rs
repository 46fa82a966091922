//! gate: the CI gate against a baseline (`--baseline`, `--fail-on`, `baseline save|prune`) and
//! scaling across runners (`merge` of `--shard I/N` reports; the sharding itself is a plan step,
//! `plan::shard`).

pub mod baseline;
pub mod compare;
pub mod decision;
pub mod merge;
pub mod prune;

pub use baseline::Baseline;
pub use decision::{attach, failure_line, passes};
