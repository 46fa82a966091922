//! Integration tests for the `media` area.

#[allow(unused_imports)]
use crate::support::*;
