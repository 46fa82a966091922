//! report: pure renderers from the one report model, and atomic writing of the files.

pub mod baseline;
pub mod build;
pub mod compare;
pub mod escape;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;

pub use model::{CaseResult, FeatureRow, RunReport};

#[cfg(test)]
mod tests;
