//! The validated cases of suite files, kept on disk until they run.
//!
//! Past the first few thousand cases, a loaded case does not hold its compiled steps
//! (`suite::steps`): they are compiled again when the case runs. What they are compiled from is
//! not the suite file but what was validated: while a file loads, its cases — as serde read
//! them, before compiling — are written in JSON, [`WINDOW`] cases at a time, to one anonymous
//! temporary file shared by the whole load ([`SpillFile`]), and a window is read back and
//! compiled when its first case runs. Reading JSON back costs a fraction of parsing the YAML
//! again, every document shape can be cut into windows (aliases, flow collections), and an edit
//! of the suite file during the run cannot change what runs.
//!
//! The file is created unlinked (`tempfile::tempfile`, in the temporary directory): it takes the
//! space of the spilled cases' JSON (about their YAML's size) and is gone when the process
//! ends, however it ends. When it cannot be created or written, the file's cases keep their
//! compiled steps instead, and the load says so.

use std::fs::File;
use std::io;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

use super::format::{CaseDef, SuiteDef};
use crate::util::fs::{read_at, write_at};

/// How many of a file's cases are spilled and compiled together: enough that the suite's own
/// keys, stored with every window, are a small part of it and that the cases in flight at the
/// default concurrency mostly share one window; few enough that a window compiles in well under
/// a millisecond and its compiled steps stay small.
pub const WINDOW: usize = 64;

/// The temporary file every spilled window of a load is appended to, created on first use.
#[derive(Debug, Default)]
pub struct SpillFile {
    /// The file, or why it could not be created.
    file: OnceLock<Result<File, String>>,
    /// Where the next window goes.
    end: Mutex<u64>,
}

/// What became of a suite file's cases when it loaded.
#[derive(Debug)]
pub enum Spill {
    /// Not written: every file before it was decided, and its cases are held.
    NotNeeded,
    /// Where its windows are in the [`SpillFile`].
    Written(Spilled),
    /// Why they could not be written: its cases keep their compiled steps.
    Failed(String),
}

/// Where a suite file's spilled windows are in the [`SpillFile`]: window `w` holds the file's
/// cases `w * WINDOW ..`.
#[derive(Debug)]
pub struct Spilled {
    windows: Box<[(u64, u32)]>,
}

/// A window as it is written: the suite's own keys and the window's cases, the same keys as
/// [`SuiteDef`] so that it reads back as one.
#[derive(Serialize)]
struct WindowDoc<'a> {
    suite: &'a str,
    description: &'a Option<String>,
    areas: &'a [String],
    cases: &'a [CaseDef],
    redact: &'a [String],
}

impl SpillFile {
    fn file(&self) -> io::Result<&File> {
        self.file
            .get_or_init(|| {
                tempfile::tempfile().map_err(|e| {
                    format!(
                        "cannot create a temporary file in {}: {e}",
                        std::env::temp_dir().display()
                    )
                })
            })
            .as_ref()
            .map_err(|e| io::Error::other(e.clone()))
    }

    /// Write `def`'s cases, window by window: where they are, or why they could not be written.
    pub(super) fn spill(&self, def: &SuiteDef) -> Spill {
        match self.write(def) {
            Ok(spilled) => Spill::Written(spilled),
            Err(e) => Spill::Failed(e.to_string()),
        }
    }

    fn write(&self, def: &SuiteDef) -> io::Result<Spilled> {
        let file = self.file()?;
        let mut windows = Vec::with_capacity(def.cases.len().div_ceil(WINDOW));
        let mut doc = Vec::new();
        for cases in def.cases.chunks(WINDOW) {
            doc.clear();
            serde_json::to_writer(
                &mut doc,
                &WindowDoc {
                    suite: &def.suite,
                    description: &def.description,
                    areas: &def.areas,
                    cases,
                    redact: &def.redact,
                },
            )?;
            let len = u32::try_from(doc.len()).map_err(io::Error::other)?;
            // The window's place is taken under the lock, written outside it: files loading
            // side by side write at once. A failed write leaves a hole nothing refers to.
            let at = {
                let mut end = self.end.lock().unwrap_or_else(|e| e.into_inner());
                let at = *end;
                *end += u64::from(len);
                at
            };
            write_at(file, &doc, at)?;
            windows.push((at, len));
        }
        Ok(Spilled {
            windows: windows.into(),
        })
    }

    /// Window `w` of `spilled` read back: the suite's keys and the window's cases.
    pub(super) fn window(&self, spilled: &Spilled, w: usize) -> io::Result<SuiteDef> {
        let &(at, len) = spilled
            .windows
            .get(w)
            .ok_or_else(|| io::Error::other(format!("no window {w}")))?;
        let mut doc = vec![0; len as usize];
        if read_at(self.file()?, &mut doc, at)? < doc.len() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        serde_json::from_slice(&doc).map_err(io::Error::other)
    }
}
