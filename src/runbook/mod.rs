//! runbook: the migration smoke test (`llm-parity runbook --from OLD --to NEW`) as plain
//! functions over one run of the existing pipeline — configuration, a plain chat call and the
//! message shape an app parses, usage and cost, the bad-model error shape, every used area's
//! suite, latency — ending in GO / GO WITH CAVEATS / NO-GO and OLD's rollback configuration.

mod build;
pub mod decision;
pub mod markdown;
pub mod model;
pub mod sections;
pub mod terminal;
pub mod uses;

pub use build::{build, redact};
pub use model::{Decision, Runbook};
pub use uses::Uses;
