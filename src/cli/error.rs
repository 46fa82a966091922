//! The one error type of the command line: every failure that ends a command, which exit code
//! it means and how it is printed — decided here and nowhere else (as nextest's
//! `ExpectedError`). Commands return `Result<u8, CliError>`: `Ok` carries the exit code of a
//! command that ran to its end (pass, fail, caveats, interrupted…), `Err` one that could not.

use std::path::PathBuf;

use crate::exit;
use crate::gate::baseline::BaselineError;
use crate::load::Diagnostics;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad flag or a configuration that cannot run: the user fixes the command.
    #[error("{0}")]
    Usage(String),
    /// Problems in an input file (suites, targets file), each with file:line:col, a source
    /// excerpt and what was expected.
    #[error("{0}")]
    Input(Diagnostics),
    /// A baseline file or a report that cannot be read or used (diagnostics as for a suite).
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Selection(#[from] crate::plan::SelectionError),
    #[error(transparent)]
    Uses(#[from] crate::runbook::uses::UsesError),
    #[error(transparent)]
    Replay(#[from] crate::record::replay::ReplayError),
    #[error(transparent)]
    Merge(#[from] crate::gate::merge::MergeError),
    #[error(transparent)]
    Snapshots(#[from] crate::snapshot::store::SnapshotError),
    #[error(transparent)]
    Builtin(#[from] super::targets::StartError),
    /// The run could not go on (a target's HTTP client, the async runtime failing a task).
    #[error(transparent)]
    Run(#[from] crate::execute::schedule::ScheduleError),
    #[error("failed to write recordings: {0}")]
    Recordings(#[from] crate::record::write::RecordingError),
    /// An output file could not be written: CI must not mistake the run's result for known.
    #[error("failed to write {what}: {}: {source}", path.display())]
    Write {
        /// `reports`, `recordings`, `the runbook`, `the baseline`.
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Rendering an output failed before anything was written.
    #[error("failed to write {what}: {message}")]
    Render { what: &'static str, message: String },
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// The documented exit code (`crate::exit`).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Input(_)
            | CliError::Baseline(_)
            | CliError::Selection(_)
            | CliError::Uses(_)
            | CliError::Replay(_)
            | CliError::Merge(_)
            | CliError::Snapshots(_)
            | CliError::Builtin(_)
            | CliError::Run(_) => exit::CONFIG,
            CliError::Write { .. } | CliError::Render { .. } | CliError::Recordings(_) => {
                exit::WRITE
            }
        }
    }

    /// Print the error for a person: diagnostics rendered like rustc, anything else as one
    /// `error:` line. A suite line or a message may quote control or bidi characters from a
    /// file: they are shown escaped, never sent to the terminal.
    pub fn print(&self) {
        use crate::util::text::inert;
        match self {
            CliError::Input(d) | CliError::Baseline(BaselineError::Invalid(d)) => {
                eprint!("{}", inert(&d.render()))
            }
            other => eprintln!("error: {}", inert(&other.to_string())),
        }
    }
}

impl From<Diagnostics> for CliError {
    fn from(d: Diagnostics) -> Self {
        CliError::Input(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_code() {
        assert_eq!(CliError::usage("bad flag").exit_code(), exit::CONFIG);
        assert_eq!(
            CliError::Input(Diagnostics::default()).exit_code(),
            exit::CONFIG
        );
        let write = CliError::Write {
            what: "reports",
            path: "reports/report.json".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(write.exit_code(), exit::WRITE);
        assert_eq!(
            write.to_string(),
            "failed to write reports: reports/report.json: disk full"
        );
    }
}
