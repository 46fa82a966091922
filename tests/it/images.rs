//! Integration tests for the `images` area.

#[allow(unused_imports)]
use crate::support::*;
