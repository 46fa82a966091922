//! The report's entries (`RunReport::results`): in memory (a report read back, a test, a run
//! with repeats to merge) or spooled — each entry written, already redacted, as JSON in
//! `report.json`'s pretty layout (a "line", though it spans many) to an unnamed temporary file
//! as its case finishes, or once the entries before it
//! in the plan have when it finished early (its exchanges last), and
//! read back one at a time by every renderer; in a run with one target, each line is followed
//! by the entry's HTML detail, rendered as the case finished. A run's memory then holds a few
//! bytes per case (where its line and detail are, and what counting needs: outcome, impact,
//! flaky), not its entry.
//!
//! `report.json` copies the lines, each checked against the checksum it was written with
//! (no entry is parsed); the other formats read each entry
//! they show as a view borrowing from its line ([`Results::each`], `report::entry`; a brief
//! view only the part before the exchanges), one at a time, and the HTML copies the details
//! ([`Results::each_detail`]). Reading our own unlinked file back fails only if the disk does:
//! the first such error is kept ([`Results::error`]) and the command reports it after writing.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::body::compact_as_is;
use super::entry::View;
use super::json::{ENTRY_DEPTH, reindent};
use super::model::CaseResult;
use crate::judge::{Impact, Outcome};
use crate::util::fs::read_at;

/// An entry as read: borrowed from memory or parsed from the spool.
pub type Entry<'a> = Cow<'a, CaseResult>;

/// What counting and filtering need of an entry, without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub outcome: Outcome,
    pub impact: Option<Impact>,
    pub flaky: bool,
    /// The entry has warnings.
    pub warned: bool,
    /// The entry merges more than one repeat.
    pub repeated: bool,
}

impl Summary {
    pub fn of(r: &CaseResult) -> Self {
        Summary {
            outcome: r.outcome,
            impact: r.impact,
            flaky: r.flaky,
            warned: !r.warnings.is_empty(),
            repeated: r.repeats.len() > 1,
        }
    }
}

#[derive(Clone)]
pub struct Results {
    inner: Inner,
    /// The first error reading an entry back (shared by the clones, as the spool is).
    error: Arc<Mutex<Option<String>>>,
}

#[derive(Clone)]
enum Inner {
    Memory(Vec<CaseResult>),
    Spool(Arc<Spool>),
}

/// Where each line is, in report order, and the file holding them.
struct Spool {
    file: File,
    slots: Vec<Slot>,
    /// Every entry's HTML detail follows its line ([`Results::each_detail`]).
    details: bool,
    /// The targets, suites and features the slots name (each once).
    names: Vec<Box<str>>,
    /// The entries were written out of plan order and copied in order at the end.
    #[cfg(test)]
    reordered: bool,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
    /// Where the comma before the `"exchanges"` key starts in the line (the entry's last
    /// field), or `len` when it has none: the line up to there and a `}` is the entry without
    /// its exchanges, which is all that a brief view reads.
    exchanges_at: u32,
    /// The length of the entry's HTML detail, written after the line and its line break
    /// (0: none).
    detail_len: u32,
    summary: Summary,
    /// Target, suite and feature, as indexes into [`Spool::names`].
    key: [u32; 3],
    /// The CRC-32 of the line as it was written: `report.json` copies the line without parsing
    /// it, and a line damaged on disk must fail there, not make a malformed file.
    crc: u32,
}

impl Slot {
    /// Where the entry's detail starts: after its line and the line break.
    fn detail_at(&self) -> u64 {
        self.offset + u64::from(self.len) + 1
    }

    /// How many bytes of the file are the entry's: its line, the line break and its detail.
    fn block_len(&self) -> u64 {
        u64::from(self.len) + 1 + u64::from(self.detail_len)
    }
}

/// Where an entry belongs (what grouping the entries needs), without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    pub target: &'a str,
    pub suite: &'a str,
    pub feature: &'a str,
}

impl Default for Results {
    fn default() -> Self {
        Results::from(Vec::new())
    }
}

impl From<Vec<CaseResult>> for Results {
    fn from(v: Vec<CaseResult>) -> Self {
        Results {
            inner: Inner::Memory(v),
            error: Arc::default(),
        }
    }
}

impl FromIterator<CaseResult> for Results {
    fn from_iter<I: IntoIterator<Item = CaseResult>>(iter: I) -> Self {
        Results::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl Results {
    pub fn len(&self) -> usize {
        match &self.inner {
            Inner::Memory(v) => v.len(),
            Inner::Spool(s) => s.slots.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, in report order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Entry<'_>> + '_> {
        self.iter_where(|_| true)
    }

    /// The entries whose summary `keep` accepts (the others are not read).
    pub fn iter_where<'a>(
        &'a self,
        keep: impl Fn(&Summary) -> bool + 'a,
    ) -> Box<dyn Iterator<Item = Entry<'a>> + 'a> {
        match &self.inner {
            Inner::Memory(v) => Box::new(
                v.iter()
                    .filter(move |r| keep(&Summary::of(r)))
                    .map(Cow::Borrowed),
            ),
            Inner::Spool(_) => self.pick(self.indexes_where(keep)),
        }
    }

    /// The places in report order of the entries whose summary `keep` accepts.
    pub fn indexes_where<'a>(
        &'a self,
        keep: impl Fn(&Summary) -> bool + 'a,
    ) -> impl Iterator<Item = usize> + 'a {
        (self.summaries().enumerate())
            .filter(move |(_, s)| keep(s))
            .map(|(i, _)| i)
    }

    /// What counting needs of every entry, in report order, without reading the entries.
    pub fn summaries(&self) -> Box<dyn Iterator<Item = Summary> + '_> {
        match &self.inner {
            Inner::Memory(v) => Box::new(v.iter().map(Summary::of)),
            Inner::Spool(s) => Box::new(s.slots.iter().map(|s| s.summary)),
        }
    }

    /// Where every entry belongs, in report order, without reading the entries.
    pub fn keys(&self) -> Box<dyn Iterator<Item = Key<'_>> + '_> {
        match &self.inner {
            Inner::Memory(v) => Box::new(v.iter().map(|r| Key {
                target: &r.target,
                suite: &r.suite,
                feature: &r.feature,
            })),
            Inner::Spool(s) => {
                let name = |i: u32| s.names.get(i as usize).map_or("", |n| &**n);
                Box::new(s.slots.iter().map(move |slot| Key {
                    target: name(slot.key[0]),
                    suite: name(slot.key[1]),
                    feature: name(slot.key[2]),
                }))
            }
        }
    }

    /// The entry at `i` in report order.
    pub fn get(&self, i: usize) -> Option<Entry<'_>> {
        self.pick([i]).next()
    }

    /// The entries at `indexes` (in report order, as a cell or a testsuite lists them), read
    /// through one reader: neighbours cost one read.
    pub fn pick<'a>(
        &'a self,
        indexes: impl IntoIterator<Item = usize> + 'a,
    ) -> Box<dyn Iterator<Item = Entry<'a>> + 'a> {
        match &self.inner {
            Inner::Memory(v) => Box::new(
                indexes
                    .into_iter()
                    .filter_map(|i| v.get(i))
                    .map(Cow::Borrowed),
            ),
            Inner::Spool(s) => {
                let mut reader = s.reader();
                let mut line = Vec::new();
                Box::new(
                    indexes
                        .into_iter()
                        .filter_map(|i| s.slots.get(i))
                        .map_while(move |slot| {
                            let res = reader.line(slot, &mut line).and_then(|()| parse(&line));
                            self.keep(res).map(Cow::Owned)
                        }),
                )
            }
        }
    }

    /// The entries at `indexes` (in report order), each read as the view `V` borrowing from its
    /// line while `f` runs: no entry is built, and what the view does not show is skipped (an
    /// entry in memory is viewed in place). Reading stops at the first damaged line (kept for
    /// [`Results::error`]).
    pub fn each<V: View>(
        &self,
        indexes: impl IntoIterator<Item = usize>,
        mut f: impl for<'l> FnMut(V::Of<'l>),
    ) {
        let mut line = Vec::new();
        let mut view = |line: &[u8]| {
            serde_json::from_slice::<V::Of<'_>>(line)
                .map(&mut f)
                .map_err(std::io::Error::other)
        };
        match &self.inner {
            Inner::Memory(v) => {
                for r in indexes.into_iter().filter_map(|i| v.get(i)) {
                    f(V::of(r));
                }
            }
            Inner::Spool(s) => {
                let mut reader = s.reader();
                for slot in indexes.into_iter().filter_map(|i| s.slots.get(i)) {
                    let res = if V::EXCHANGES {
                        reader.line(slot, &mut line)
                    } else {
                        reader.without_exchanges(slot, &mut line)
                    };
                    let res = res.and_then(|()| view(&line));
                    if self.keep(res).is_none() {
                        return;
                    }
                }
            }
        }
    }

    /// The entries in memory (a spooled run's are read back: only for reports of a known
    /// small size, such as a merge's inputs or a test's).
    pub fn into_vec(self) -> Vec<CaseResult> {
        match self.inner {
            Inner::Memory(v) => v,
            Inner::Spool(_) => self.iter().map(Cow::into_owned).collect(),
        }
    }

    /// Each spooled entry's line (in `report.json`'s layout) in report order, checked against
    /// the checksum it was written with: a line damaged on disk is an error, not a malformed
    /// `report.json`.
    /// Entries in memory have no lines: an error.
    pub(super) fn each_line(
        &self,
        mut f: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Inner::Spool(spool) = &self.inner else {
            return Err(std::io::Error::other(
                "the entries are in memory, not spooled",
            ));
        };
        let mut reader = spool.reader();
        let mut line = Vec::new();
        spool.slots.iter().enumerate().try_for_each(|(i, slot)| {
            reader.line(slot, &mut line)?;
            if crc32fast::hash(&line) != slot.crc {
                return Err(std::io::Error::other(format!(
                    "entry {} of the run's results was damaged on disk (its checksum is not \
                     the one it was written with)",
                    i + 1
                )));
            }
            f(&line)
        })
    }

    /// For each spooled entry, where its exchanges start in its line and the line's length.
    #[cfg(test)]
    pub(super) fn exchanges_at(&self) -> Vec<(usize, usize)> {
        match &self.inner {
            Inner::Memory(_) => Vec::new(),
            Inner::Spool(s) => (s.slots.iter())
                .map(|s| (s.exchanges_at as usize, s.len as usize))
                .collect(),
        }
    }

    /// Whether the entries are spooled to disk rather than held in memory.
    pub fn is_spooled(&self) -> bool {
        matches!(self.inner, Inner::Spool(_))
    }

    /// Whether every entry's HTML detail was written as its case finished.
    pub fn has_details(&self) -> bool {
        matches!(&self.inner, Inner::Spool(s) if s.details)
    }

    /// The HTML details of the entries at `indexes` (in report order), each as `f` sees it; none
    /// without [`Results::has_details`]. Reading stops at the first one that cannot be read
    /// (kept for [`Results::error`]).
    pub fn each_detail(&self, indexes: impl IntoIterator<Item = usize>, mut f: impl FnMut(&str)) {
        let Inner::Spool(s) = &self.inner else {
            return;
        };
        if !s.details {
            return;
        }
        let mut reader = s.reader();
        let mut detail = Vec::new();
        for slot in indexes.into_iter().filter_map(|i| s.slots.get(i)) {
            let res = reader.detail(slot, &mut detail).and_then(|()| {
                std::str::from_utf8(&detail)
                    .map(&mut f)
                    .map_err(std::io::Error::other)
            });
            if self.keep(res).is_none() {
                return;
            }
        }
    }

    /// Why reading the spool back failed, if it did (entries after the failure were missing
    /// from what was rendered).
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }

    /// What was read, or nothing when it failed (the first failure kept for [`Results::error`]).
    fn keep<T>(&self, res: std::io::Result<T>) -> Option<T> {
        match res {
            Ok(r) => Some(r),
            Err(e) => {
                if let Ok(mut first) = self.error.lock() {
                    first.get_or_insert_with(|| format!("reading the run's results back: {e}"));
                }
                None
            }
        }
    }
}

impl<'a> IntoIterator for &'a Results {
    type Item = Entry<'a>;
    type IntoIter = Box<dyn Iterator<Item = Entry<'a>> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for Results {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Memory(v) => f.debug_list().entries(v).finish(),
            Inner::Spool(s) => write!(f, "Results(spooled, {} entries)", s.slots.len()),
        }
    }
}

impl PartialEq for Results {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Serialize for Results {
    /// A spooled entry is written as the raw JSON of its line (serde_json's `RawValue`, each
    /// line checked as JSON so that any serializer can embed it): a compact serializer copies
    /// it, and no entry is parsed into a `CaseResult` or transcoded. The lines keep their
    /// own layout (the same value, other whitespace). `report.json` does not come here: it
    /// writes the lines itself ([`super::json::write`], [`Results::each_line`]).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        match &self.inner {
            Inner::Memory(v) => v.serialize(s),
            // report.json writes the spooled lines itself (`Results::each_line`).
            Inner::Spool(_) if LEFT_OUT.get() => s.serialize_seq(Some(0))?.end(),
            Inner::Spool(spool) => {
                let mut seq = s.serialize_seq(Some(spool.slots.len()))?;
                let mut reader = spool.reader();
                let mut line = Vec::new();
                for slot in &spool.slots {
                    reader.line(slot, &mut line).map_err(S::Error::custom)?;
                    // Checked as one JSON value (a damaged spool fails here, not in the file).
                    let raw: &RawValue = serde_json::from_slice(&line).map_err(S::Error::custom)?;
                    seq.serialize_element(raw)?;
                }
                seq.end()
            }
        }
    }
}

thread_local! {
    /// Set while [`spooled_entries_left_out`] runs on this thread.
    static LEFT_OUT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f`, in which spooled results serialize as an empty array: `report.json` writes the rest of
/// the report with serde and puts the spooled lines in that place itself.
pub(super) fn spooled_entries_left_out<R>(f: impl FnOnce() -> R) -> R {
    crate::util::scope::with_flag(&LEFT_OUT, f)
}

impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<CaseResult>::deserialize(d).map(Results::from)
    }
}

impl Spool {
    fn reader(&self) -> LineReader<'_> {
        LineReader::new(&self.file)
    }
}

fn parse(line: &[u8]) -> std::io::Result<CaseResult> {
    serde_json::from_slice(line).map_err(std::io::Error::other)
}

/// Reads the spool's lines and details: reading on — the first read, or one at most half a
/// window past the last (over a line break, the details between lines, the lines of the
/// entries a view skips) — through a 64 KiB window, one read per window; a longer jump (a cell's
/// cases far apart) or one back reads just what it asked for.
struct LineReader<'a> {
    file: &'a File,
    /// The window (allocated once, grown for a longer line; never cleared between reads).
    buf: Vec<u8>,
    /// How much of `buf` the last read filled.
    filled: usize,
    /// File offset of `buf[0]`.
    start: u64,
    /// How many reads of the file were made (what the window saves, counted by a test).
    #[cfg(test)]
    reads: usize,
}

const WINDOW: usize = 64 * 1024;

impl<'a> LineReader<'a> {
    fn new(file: &'a File) -> Self {
        LineReader {
            file,
            buf: Vec::new(),
            filled: 0,
            start: 0,
            #[cfg(test)]
            reads: 0,
        }
    }

    /// The line of `slot` into `out`.
    fn line(&mut self, slot: &Slot, out: &mut Vec<u8>) -> std::io::Result<()> {
        self.read(slot.offset, slot.len as usize, out)
    }

    /// The entry of `slot` without its exchanges into `out`: what comes before them, closed.
    fn without_exchanges(&mut self, slot: &Slot, out: &mut Vec<u8>) -> std::io::Result<()> {
        if slot.exchanges_at >= slot.len {
            return self.line(slot, out);
        }
        self.read(slot.offset, slot.exchanges_at as usize, out)?;
        out.push(b'}');
        Ok(())
    }

    /// The HTML detail of `slot` into `out`.
    fn detail(&mut self, slot: &Slot, out: &mut Vec<u8>) -> std::io::Result<()> {
        self.read(slot.detail_at(), slot.detail_len as usize, out)
    }

    /// `len` bytes at `off` into `out`.
    fn read(&mut self, off: u64, len: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
        let end = off + len as u64;
        let window_end = self.start + self.filled as u64;
        if off < self.start || end > window_end {
            let reading_on =
                self.filled == 0 || (off >= self.start && off <= window_end + WINDOW as u64 / 2);
            let want = if reading_on { WINDOW.max(len) } else { len };
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            self.filled = read_at(self.file, &mut self.buf[..want], off)?;
            self.start = off;
            #[cfg(test)]
            {
                self.reads += 1;
            }
            if self.filled < len {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the results file is shorter than written",
                ));
            }
        }
        let at = (off - self.start) as usize;
        out.clear();
        out.extend_from_slice(&self.buf[at..at + len]);
        Ok(())
    }
}

/// Writes the entries of a run as they finish, in plan order when it can: an entry that
/// finished before an earlier one is held in memory until the earlier one comes (with one
/// target, cases finish at most about the concurrency apart), so that the file needs no
/// reordering at the end. When what is held would pass the limit ([`HOLD_BYTES`] by default: a
/// case far slower than the ones after it), everything is written as it comes and the file is
/// put in plan order once, at the end.
pub struct SpoolWriter {
    dir: std::path::PathBuf,
    out: BufWriter<File>,
    written: u64,
    /// (plan index, where its line is)
    slots: Vec<(usize, Slot)>,
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
    /// The entry's compact JSON, then its line (scratch buffers kept between entries).
    compact: Vec<u8>,
    line: Vec<u8>,
    /// Every entry so far came with its HTML detail.
    details: bool,
    /// While the file is in plan order: the plan index written next.
    next: Option<usize>,
    /// Entries after `next`, each with its line, line break and detail.
    held: BTreeMap<usize, (Slot, Vec<u8>)>,
    held_bytes: usize,
    hold_limit: usize,
}

/// How many bytes of finished entries a spool holds back to write them in plan order (laid out
/// as report.json lays them out: a kept body of numbers, such as an embedding, takes about
/// twice its compact size).
pub const HOLD_BYTES: usize = 2 << 20;

impl SpoolWriter {
    /// An unnamed temporary file in `dir` (created if missing): nothing is left behind, even
    /// when the process is killed.
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        Self::holding(dir, HOLD_BYTES)
    }

    /// [`SpoolWriter::new`] holding back at most `hold_limit` bytes (0: none, every entry
    /// written as it comes).
    pub fn holding(dir: &Path, hold_limit: usize) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let file = tempfile::tempfile_in(dir)?;
        Ok(SpoolWriter {
            dir: dir.to_path_buf(),
            out: BufWriter::with_capacity(WINDOW, file),
            written: 0,
            slots: Vec::new(),
            names: Vec::new(),
            ids: HashMap::new(),
            compact: Vec::new(),
            line: Vec::new(),
            details: true,
            next: Some(0),
            held: BTreeMap::new(),
            held_bytes: 0,
            hold_limit,
        })
    }

    /// Spool the entry of the case at `idx` in the plan: its JSON in `report.json`'s layout
    /// (serde_json's pretty one, as an element of the top-level `results` array), so that
    /// `report.json` copies it at the end and the re-indenting is done while the cases run;
    /// written as the entry without its exchanges and then, as the last field, the exchanges
    /// (the same bytes as the whole entry written at once), so that where they start is known;
    /// and after it, its HTML `detail` when the run renders them as cases finish (all or none
    /// of them).
    pub fn add(
        &mut self,
        idx: usize,
        entry: &mut CaseResult,
        detail: Option<&str>,
    ) -> std::io::Result<()> {
        let (mut compact, mut line) = (
            std::mem::take(&mut self.compact),
            std::mem::take(&mut self.line),
        );
        compact.clear();
        line.clear();
        let exchanges = std::mem::take(&mut entry.exchanges);
        // Compact JSON first: the bodies' text is written as it is.
        let (res, exchanges_at) = compact_as_is(|| {
            let mut res = serde_json::to_writer(&mut compact, &*entry);
            let mut exchanges_at = compact.len();
            if res.is_ok() && !exchanges.is_empty() {
                debug_assert_eq!(compact.last(), Some(&b'}'), "an entry is a JSON object");
                exchanges_at -= 1; // the closing brace
                compact.truncate(exchanges_at);
                compact.extend_from_slice(b",\"exchanges\":");
                res = serde_json::to_writer(&mut compact, &exchanges);
                compact.push(b'}');
            }
            (res, exchanges_at)
        });
        entry.exchanges = exchanges;
        // Re-indented in two parts: the entry without its exchanges (left open, inside the
        // entry's object), then the rest from the comma before them, one level deeper.
        let (before, from) = compact.split_at(exchanges_at);
        reindent(before, ENTRY_DEPTH, &mut line);
        let exchanges_at = line.len();
        reindent(from, ENTRY_DEPTH + 1, &mut line);
        let res = res
            .map_err(std::io::Error::from)
            .and_then(|()| self.add_line(idx, entry, &line, exchanges_at, detail));
        (self.compact, self.line) = (compact, line);
        res
    }

    /// Spool `line` as the entry of the case at `idx` (`entry` gives its summary and key), its
    /// exchanges starting at `exchanges_at` (or none, if that is the line's end).
    fn add_line(
        &mut self,
        idx: usize,
        entry: &CaseResult,
        line: &[u8],
        exchanges_at: usize,
        detail: Option<&str>,
    ) -> std::io::Result<()> {
        let len = u32::try_from(line.len()).map_err(std::io::Error::other)?;
        let exchanges_at = u32::try_from(exchanges_at).map_err(std::io::Error::other)?;
        self.details &= detail.is_some();
        let detail = detail.unwrap_or_default().as_bytes();
        let detail_len = u32::try_from(detail.len()).map_err(std::io::Error::other)?;
        let key = [&entry.target, &entry.suite, &entry.feature].map(|n| self.id(n));
        let slot = Slot {
            offset: 0,
            len,
            exchanges_at,
            detail_len,
            summary: Summary::of(entry),
            key,
            crc: crc32fast::hash(line),
        };
        let block = [line, b"\n", detail];
        match self.next {
            Some(next) if idx == next => {
                self.put(idx, slot, &block)?;
                self.next = Some(next + 1);
                self.release()
            }
            Some(_) if self.held_bytes + slot.block_len() as usize <= self.hold_limit => {
                self.held_bytes += slot.block_len() as usize;
                let before = self.held.insert(idx, (slot, block.concat()));
                debug_assert!(before.is_none(), "plan entry {idx} spooled twice");
                Ok(())
            }
            _ => {
                self.give_up_order()?;
                self.put(idx, slot, &block)
            }
        }
    }

    /// Write `block` (the entry's line, its line break and its detail) as the entry at `idx`.
    fn put(&mut self, idx: usize, mut slot: Slot, block: &[&[u8]]) -> std::io::Result<()> {
        for part in block {
            self.out.write_all(part)?;
        }
        slot.offset = self.written;
        self.written += slot.block_len();
        self.slots.push((idx, slot));
        Ok(())
    }

    /// Write the held entries that are next in plan order.
    fn release(&mut self) -> std::io::Result<()> {
        while let Some(next) = self.next
            && let Some((slot, block)) = self.held.remove(&next)
        {
            self.held_bytes -= block.len();
            self.put(next, slot, &[&block])?;
            self.next = Some(next + 1);
        }
        Ok(())
    }

    /// From now on write every entry as it comes (put in plan order at the end), the held ones
    /// first, in their order.
    fn give_up_order(&mut self) -> std::io::Result<()> {
        self.next = None;
        self.held_bytes = 0;
        for (idx, (slot, block)) in std::mem::take(&mut self.held) {
            self.put(idx, slot, &[&block])?;
        }
        Ok(())
    }

    /// A spool whose lines are `lines` (a damaged file), each standing for the entry beside it:
    /// its checksum is that of the entry's line, what the writer would have written.
    #[cfg(test)]
    pub(super) fn damaged(dir: &Path, lines: &[(CaseResult, Vec<u8>)]) -> std::io::Result<Results> {
        let mut w = SpoolWriter::new(dir)?;
        for (i, (entry, line)) in lines.iter().enumerate() {
            // Read whole by every view (as a line without exchanges is).
            w.add_line(i, entry, line, line.len(), None)?;
        }
        for ((_, slot), (entry, _)) in w.slots.iter_mut().zip(lines) {
            let mut line = Vec::new();
            reindent(&serde_json::to_vec(entry)?, ENTRY_DEPTH, &mut line);
            slot.crc = crc32fast::hash(&line);
        }
        w.finish()
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), i);
        i
    }

    /// The entries in plan order: when they were written out of it (the order given up, or
    /// never held), each line with its detail copied once into a second file in that order, so
    /// every renderer reads the file front to back.
    pub fn finish(mut self) -> std::io::Result<Results> {
        // Cancelled, or a plan entry that never came: the rest as they are.
        self.give_up_order()?;
        let SpoolWriter {
            dir,
            out,
            mut slots,
            names,
            details,
            ..
        } = self;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        let in_order = slots.is_sorted_by_key(|(i, _)| *i);
        let file = if in_order {
            file
        } else {
            slots.sort_by_key(|(i, _)| *i);
            let mut sorted = BufWriter::with_capacity(WINDOW, tempfile::tempfile_in(&dir)?);
            let mut reader = LineReader::new(&file);
            let mut block = Vec::new();
            let mut written = 0u64;
            for (_, slot) in slots.iter_mut() {
                reader.read(slot.offset, slot.block_len() as usize, &mut block)?;
                sorted.write_all(&block)?;
                slot.offset = written;
                written += slot.block_len();
            }
            sorted.into_inner().map_err(|e| e.into_error())?
        };
        Ok(Results {
            inner: Inner::Spool(Arc::new(Spool {
                file,
                details: details && !slots.is_empty(),
                slots: slots.into_iter().map(|(_, s)| s).collect(),
                names,
                #[cfg(test)]
                reordered: !in_order,
            })),
            error: Arc::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A passing entry of case `c{i}` that took `i` ms.
    fn entry(i: usize) -> CaseResult {
        serde_json::from_value(serde_json::json!({
            "target": "t", "suite": "s", "case": format!("c{i}"), "feature": "chat.basic",
            "outcome": "pass", "reason": null, "duration_ms": i, "http_status": 200,
        }))
        .unwrap()
    }

    /// Reading every line in order, or every detail, goes through the 64 KiB window: about one
    /// read of the file per window, whatever lies between what is read (the details between
    /// the lines, the lines between the details), not one read per entry.
    #[test]
    fn reading_on_reads_a_window_at_a_time_over_what_lies_between() {
        let entry = entry(1);
        let line = serde_json::to_vec(&entry).unwrap();
        let line = [
            &line[..line.len() - 1],
            &b",\"x\":\""[..],
            &[b'y'; 1200],
            b"\"}",
        ]
        .concat();
        let detail = "<p>detail</p>".repeat(130);
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWriter::new(dir.path()).unwrap();
        for i in 0..1000 {
            w.add_line(i, &entry, &line, line.len(), Some(&detail))
                .unwrap();
        }
        let results = w.finish().unwrap();
        let Inner::Spool(spool) = &results.inner else {
            panic!("spooled");
        };
        let size = spool.file.metadata().unwrap().len();
        let windows = size.div_ceil(WINDOW as u64 / 2) as usize;
        let mut out = Vec::new();
        let mut lines = spool.reader();
        for slot in &spool.slots {
            lines.line(slot, &mut out).unwrap();
            assert_eq!(out, line);
        }
        let mut details = spool.reader();
        for slot in &spool.slots {
            details.detail(slot, &mut out).unwrap();
            assert_eq!(out, detail.as_bytes());
        }
        assert!(
            lines.reads <= windows,
            "{} reads for {windows}",
            lines.reads
        );
        assert!(
            details.reads <= windows,
            "{} reads for {windows}",
            details.reads
        );
        // Details for some entries but not all: none are used (the HTML renders them all).
        let mut w = SpoolWriter::new(dir.path()).unwrap();
        w.add_line(0, &entry, &line, line.len(), Some(&detail))
            .unwrap();
        w.add_line(1, &entry, &line, line.len(), None).unwrap();
        assert!(!w.finish().unwrap().has_details());
        // A jump back reads just what it asks for.
        let first = &spool.slots[0];
        lines.line(first, &mut out).unwrap();
        assert_eq!((out.as_slice(), lines.filled), (&line[..], line.len()));
    }

    /// Entries that finish a little out of order are held and written in plan order, so the
    /// file is not copied at the end; a case far behind the others (more held than the limit)
    /// or no holding at all still give every entry in plan order, with its own line and detail,
    /// copied once at the end; an entry that never comes (a cancelled run) leaves a gap.
    #[test]
    fn entries_come_out_in_plan_order_held_or_reordered() {
        // Each group of 8 finishes backwards: case 7 first, case 0 last.
        let jittered: Vec<usize> = (0..64).map(|i| i / 8 * 8 + 7 - i % 8).collect();
        // Case 0 finishes last of all.
        let straggler: Vec<usize> = (1..64).chain([0]).collect();
        // Case 5 never finishes.
        let gap: Vec<usize> = (0..64).filter(|&i| i != 5).rev().collect();
        let dir = tempfile::tempdir().unwrap();
        // (order, bytes held at most, entries still held at the end, copied in order at the end)
        for (order, limit, held, reordered) in [
            (&jittered, HOLD_BYTES, 0, false),
            (&jittered, 0, 0, true),
            (&straggler, HOLD_BYTES, 0, false),
            (&straggler, 2_000, 0, true),
            // What is held when the run ends is written after, in order.
            (&gap, HOLD_BYTES, 58, false),
        ] {
            let mut w = SpoolWriter::holding(dir.path(), limit).unwrap();
            for &i in order {
                let detail = format!("<p>detail {i}</p>");
                w.add(i, &mut entry(i), Some(&detail)).unwrap();
            }
            assert_eq!(w.held.len(), held, "{order:?} holding {limit}");
            assert_eq!(
                w.held_bytes,
                w.held.values().map(|h| h.1.len()).sum::<usize>()
            );
            let results = w.finish().unwrap();
            let Inner::Spool(spool) = &results.inner else {
                panic!("spooled");
            };
            assert_eq!(spool.reordered, reordered, "{order:?} holding {limit}");
            let mut want: Vec<usize> = order.clone();
            want.sort();
            let cases: Vec<String> = results.iter().map(|e| e.case.clone()).collect();
            let want_cases: Vec<String> = want.iter().map(|i| format!("c{i}")).collect();
            assert_eq!(cases, want_cases, "{order:?} holding {limit}");
            assert!(
                results
                    .iter()
                    .all(|e| e.duration_ms.to_string() == e.case[1..])
            );
            let mut details = Vec::new();
            assert!(results.has_details());
            results.each_detail(0..want.len(), |d| details.push(d.to_string()));
            let want_details: Vec<String> =
                want.iter().map(|i| format!("<p>detail {i}</p>")).collect();
            assert_eq!(details, want_details, "{order:?} holding {limit}");
        }
    }
}
