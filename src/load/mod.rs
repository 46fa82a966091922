//! load: read and compile every input (suites, targets, schemas, fixtures) before anything
//! touches the network, reporting every problem at once with file, line and column.

pub mod builtin;
pub mod diag;
pub mod feature;
mod locate;
mod project;
pub mod schemas;
mod sequence;
pub mod shape;
pub mod spans;
pub mod suite;
pub mod target;
pub mod template;
pub mod yaml;
mod yaml_subset;

pub use diag::{Diagnostic, Diagnostics};
pub use project::{HELD_CASES, LoadOptions, Project, load_project};
pub use schemas::SchemaStore;
pub use suite::{Case, Step, Suite};
pub use target::{Auth, AuthHeader, Secret, Target};
