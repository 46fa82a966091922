//! Integration tests for the `streaming` area.

#[allow(unused_imports)]
use crate::support::*;
