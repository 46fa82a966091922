//! report: the report model (`model`, built case by case by `build`, aggregated by `aggregate`)
//! and one pure renderer per format; the files are written by the command.

pub mod aggregate;
pub mod baseline;
pub mod body;
pub mod build;
pub mod entry;
pub mod escape;
pub mod html;
pub mod impact;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod redact;
pub mod results;
pub mod targets;
pub mod terminal;

pub use aggregate::feature_rows;
pub use build::{Collector, RunMeta};
pub use model::{CaseResult, FeatureRow, RunReport};

#[cfg(test)]
mod tests;
