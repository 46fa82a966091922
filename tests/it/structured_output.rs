//! Integration tests for the `structured_output` area.

#[allow(unused_imports)]
use crate::support::*;
