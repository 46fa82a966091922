//! Integration tests for the `tools` area.

#[allow(unused_imports)]
use crate::support::*;
