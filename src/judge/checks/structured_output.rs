//! `structured_output.*` checks (filled in by the feature-area work).

use super::CheckDef;

pub const CHECKS: &[CheckDef] = &[];
