//! Suite files: the compiled model the rest of the pipeline uses (`model`), the YAML format
//! (`format`), and the compilation from one to the other with every problem reported (`compile`).

mod compile;
mod format;
pub mod model;
mod spill;
mod steps;

pub use compile::{SuiteEnv, load_suite, load_suite_on, load_suite_spilling};
pub use model::{
    AuthOverride, Case, CompareOp, Expect, ExpectedBody, FileContent, JsonPathAssert, JsonPathOp,
    JsonType, MultipartValue, Poll, RequestTemplate, ScrubSelector, SnapshotMode, StatusExpect,
    Step, Suite,
};
pub use spill::{Spill, SpillFile, Spilled};
pub use steps::{Steps, StepsEnv, StepsRef, SuiteSource};
