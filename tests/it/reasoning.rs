//! Integration tests for the `reasoning` area.

#[allow(unused_imports)]
use crate::support::*;
