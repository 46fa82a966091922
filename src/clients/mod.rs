//! What mainstream client libraries do with each deviation: the client catalogue
//! (`clients/catalogue.yaml`, embedded) and the probes that verify it (`clients/python`,
//! `clients/node`, embedded too, so `llm-parity clients` runs them from any directory).
//!
//! A probe is a small program per client library that makes one call of each kind an
//! application makes (plain call, stream, stream helper, tool calls, structured output,
//! embeddings, errors) against one or more targets and prints one JSON line per call:
//! `works`, `raises` (the exception and its message) or `wrong` (the data lost or changed).
//! CI runs them against the reference endpoint with each deviation switched on and compares
//! with the catalogue ([`verify`]); `llm-parity clients` runs them against a user's target.

pub mod catalogue;
pub mod probe;
pub mod render;
pub mod verify;

pub use catalogue::{Catalogue, Impact};
pub use probe::{Observation, ProbeRun, Runtime};
