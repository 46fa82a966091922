//! util: the ground floor — helpers that several layers share (files, text, JSON values). It
//! imports nothing from the rest of the crate, so every layer may use it.

pub mod duration;
pub mod fs;
pub mod intern;
pub mod json;
pub mod mem;
pub mod scope;
pub mod text;
pub mod threads;
