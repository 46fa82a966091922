//! plan: which case runs on which target, and which are decided without sending anything
//! (declared unsupported, no model for a role, opt-in). Deterministic order: target, suite, case.

mod cases;
pub mod shard;

pub use cases::{
    Decided, PlannedCase, Selection, SelectionError, Uncovered, missing_role, plan, uncovered,
};
