//! execute: all I/O with endpoints. One client per target, deadlines on every phase, a
//! WHATWG-exact SSE parser keeping arrival times, and the runner that schedules cases.

pub mod exchange;
pub mod http;
pub mod rate;
pub mod retry;
pub mod run;
pub mod sse;
pub mod stream;

pub use exchange::{Exchange, Response, Timings, TransportError, TransportErrorKind};
pub use run::{CaseRecord, Event, RunOptions, RunResult, StepRecord};
