//! Integration tests for the `embeddings` area.

#[allow(unused_imports)]
use crate::support::*;
