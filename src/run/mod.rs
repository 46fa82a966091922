//! run: the case driver and the run around it — one layer above `execute` (I/O, scheduling)
//! and `judge` (verdicts), so neither needs the other. A case is rendered, sent, judged and
//! captured by `case`; `runner` runs a plan and tells one session (`session`) everything that
//! happens as named events (`events`); `stop` ends a run early with its cause.

pub mod case;
pub mod events;
pub mod progress;
pub mod runner;
pub mod session;
pub mod stop;

pub use case::RetryNote;
pub use events::{Cause, Consumer, Event};
pub use session::Session;
pub use stop::Stopper;
