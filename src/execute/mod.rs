//! execute: all I/O with endpoints. One client per target, deadlines on every phase, a
//! WHATWG-exact SSE parser keeping arrival times, and the scheduler that runs cases under the
//! concurrency limits. What running a case means (render, send, judge) is `run`'s.

pub mod exchange;
pub mod http;
pub mod rate;
pub mod retry;
pub mod schedule;
pub mod sse;
pub mod stream;
pub mod token;

pub use exchange::{Exchange, Response, Timings, TransportError, TransportErrorKind};
pub use schedule::{CaseSlot, ScheduleOptions, Scheduled};
