//! record: `--record DIR` writes every exchange of a run as a redacted recording keyed by a
//! canonical hash of the request; `--replay DIR` serves those recordings from a local server
//! the run targets instead of the live endpoints (keyless CI).

pub mod format;
pub mod replay;
pub mod write;

pub use replay::{Replay, start as start_replay};
pub use write::Recorder;
