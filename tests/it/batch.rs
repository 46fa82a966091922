//! Integration tests for the `batch` area.

#[allow(unused_imports)]
use crate::support::*;
