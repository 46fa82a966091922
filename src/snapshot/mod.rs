//! snapshot: the runtime snapshot store — per target and case, a canonical, scrubbed document
//! of the response (`shape`, `exact` or `stream` mode) in `snapshots/<target>/<suite>/<case>.snap`,
//! compared after each run, written only on request (`--snapshots new|update|pending`), and
//! reviewed with `llm-parity snapshots review|accept|reject`. Insta's semantics, our own files.
//!
//! `canonical` and `stream` are pure (the document of an exchange); `store` owns the files;
//! `verify` compares a run's finished cases with them; `review` is the accept/reject workflow.

pub mod canonical;
pub mod review;
pub mod store;
pub mod stream;
pub mod verify;

pub use verify::{Action, Options, Summary, Verifier, is_ci};
