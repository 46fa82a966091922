//! A case's compiled steps, held in memory or compiled again from the suite file when the case
//! runs.
//!
//! Compiled steps are the bulk of a loaded case (~2.4 KB for a one-step chat case: the request
//! template, its expectations, the JSONPath assertions), and the rest of a run needs only the
//! case's name, feature, tags and roles until the case's turn comes. So past the first few
//! thousand cases (`load::LoadOptions::held_cases`), a suite file is loaded and validated as
//! always — every problem reported at once, with file:line:col — and its cases then keep only
//! where their steps come from ([`SuiteSource`]): when one of them runs, the file is read and
//! compiled again, shared by the file's cases running at that time, and freed when the last of
//! them is done. A loaded project is then flat in the number of cases.
//!
//! Only a window of a file's cases is compiled at a time ([`WINDOW`] cases: the document cut
//! down to the suite's own keys and the window's case items, `load::sequence`), so the transient
//! cost is a window's parse and compiled cases, not a whole file's (the parser's events for a
//! 1,000-case file alone are ~10 MB). A file whose cases cannot be cut apart safely is compiled
//! whole, as it was validated.
//!
//! The file is read again, not kept: whole the first time (its length and hash checked against
//! what was validated, and where its windows are found), then only the parts of a window's
//! document, each checked against the hash of the same part of the validated text. So a window
//! is always compiled from exactly the bytes that were validated: an edit that changes the
//! file's length, the suite's own keys or the window's cases ends the window's cases as not
//! prepared, saying so, rather than running requests nobody validated (an edit of the same
//! length in another window's cases is noticed when that window runs). A file that is no longer
//! a regular file of the validated length is read whole again, for the reason.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use super::compile::{SuiteEnv, load_suite_on};
use super::model::{Step, Suite};
use crate::load::sequence::{self, Items};
use crate::load::yaml::MAX_INPUT_BYTES;
use crate::util::fs::{read_bounded_string, read_ranges};

/// A case's compiled steps, or where to compile them from.
#[derive(Debug)]
pub struct Steps {
    len: usize,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Held(Arc<[Step]>),
    File {
        file: Arc<SuiteSource>,
        index: usize,
    },
}

/// A case's compiled steps while it is used: they stay compiled until the last holder of any
/// of its file's cases is dropped.
#[derive(Debug, Clone)]
pub struct StepsRef {
    steps: Arc<[Step]>,
    /// Keeps the file's compiled cases alive for its other running cases.
    _file: Option<Arc<Compiled>>,
}

impl StepsRef {
    fn held(steps: &Arc<[Step]>) -> StepsRef {
        StepsRef {
            steps: steps.clone(),
            _file: None,
        }
    }

    /// Case `index`'s steps (its place in the file) of a compiled window, keeping the window
    /// compiled.
    fn of_file(all: Arc<Compiled>, index: usize) -> Option<StepsRef> {
        let steps = all.steps.get(index.checked_sub(all.first)?)?.clone();
        Some(StepsRef {
            steps,
            _file: Some(all),
        })
    }
}

impl Deref for StepsRef {
    type Target = [Step];
    fn deref(&self) -> &[Step] {
        &self.steps
    }
}

/// The steps of a window of a file's cases (or of all of them), in file order from `first`.
#[derive(Debug)]
struct Compiled {
    first: usize,
    steps: Vec<Arc<[Step]>>,
}

impl Compiled {
    /// The steps of `suite`, just compiled (so held), its first case being the file's `first`.
    fn of(first: usize, suite: &Suite) -> Compiled {
        Compiled {
            first,
            steps: suite.cases.iter().filter_map(|c| c.steps.held()).collect(),
        }
    }
}

impl From<Vec<Step>> for Steps {
    fn from(steps: Vec<Step>) -> Self {
        Steps {
            len: steps.len(),
            source: Source::Held(steps.into()),
        }
    }
}

impl Steps {
    /// How many steps the case has (known without compiling them).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The compiled steps: held, or compiled again from the suite file (on a thread of its own,
    /// awaited here). Fails only if the file can no longer be read, or changed since it was
    /// validated (the message says which).
    pub async fn get(&self) -> Result<StepsRef, String> {
        match &self.source {
            Source::Held(steps) => Ok(StepsRef::held(steps)),
            Source::File { file, index } => StepsRef::of_file(file.compiled(*index).await?, *index)
                .ok_or_else(|| file.changed()),
        }
    }

    /// The steps, if they are held in memory.
    pub fn held(&self) -> Option<Arc<[Step]>> {
        match &self.source {
            Source::Held(steps) => Some(steps.clone()),
            Source::File { .. } => None,
        }
    }

    /// Drop the compiled steps: `file` compiles them again when they are needed. `index` is the
    /// case's place in the file.
    pub(crate) fn release(&mut self, file: &Arc<SuiteSource>, index: usize) {
        self.source = Source::File {
            file: file.clone(),
            index,
        };
    }
}

/// What compiling a suite file again needs: the borrowed [`SuiteEnv`] of the load, owned, and
/// the files compiled last, shared by every released file of the project.
#[derive(Debug)]
pub struct StepsEnv {
    fixtures_root: Option<PathBuf>,
    allow_fixture_escape: bool,
    schema_ids: Vec<String>,
    check_names: Vec<&'static str>,
    /// The last [`RECENT`] windows compiled, kept even while none of their cases runs: a run at
    /// `--concurrency 1` has no case in flight between two of a file's cases, and targets
    /// running at different places of the plan move between files at different times.
    recent: Mutex<VecDeque<Arc<Compiled>>>,
}

/// How many compiled windows stay alive after their last running case (each bounded by
/// [`WINDOW`] cases, or by the suite file's size for a file compiled whole, as loading it was).
const RECENT: usize = 2;

/// How many of a released file's cases are compiled together: enough that the suite's own
/// keys, parsed again with every window, are a small part of the work and that the cases in
/// flight at the default concurrency mostly share one window; few enough that a window's parse
/// stays well under a megabyte.
pub const WINDOW: usize = 64;

impl StepsEnv {
    pub fn new(
        fixtures_root: Option<PathBuf>,
        allow_fixture_escape: bool,
        schema_ids: Vec<String>,
        check_names: Vec<&'static str>,
    ) -> Self {
        StepsEnv {
            fixtures_root,
            allow_fixture_escape,
            schema_ids,
            check_names,
            recent: Mutex::new(VecDeque::with_capacity(RECENT + 1)),
        }
    }
}

/// A suite file whose cases' steps were dropped after validation, and compiles them again.
#[derive(Debug)]
pub struct SuiteSource {
    path: PathBuf,
    /// The text as validated, to notice an edit during the run.
    stamp: TextStamp,
    /// The hash of each window's case ids, to check that a window cut from the file holds the
    /// cases it should.
    window_ids: Vec<u64>,
    cases: usize,
    env: Arc<StepsEnv>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    cuts: Cuts,
    /// The windows compiled or compiling, by window ([`WHOLE`] for the whole file).
    slots: HashMap<usize, Slot>,
}

/// How the file is cut into windows, found when it is first compiled again.
#[derive(Debug, Default)]
enum Cuts {
    #[default]
    Unknown,
    /// Where each window is, and how to check what is read of it.
    Items(Arc<Cut>),
    /// The file's cases cannot be cut apart safely, or a window did not compile alone.
    Whole,
}

/// Where a file's windows are (item `w` of `items` is window `w`: `Items::windows`), and the
/// hash of each part of the validated text that a window's document is made of: the text before
/// the cases, each window's cases and the text after them. Once the file has been cut, a window
/// is compiled from those parts alone, read from the file and checked against these hashes: an
/// edit during the run is still noticed, without reading and hashing the whole file again for
/// every window.
#[derive(Debug)]
struct Cut {
    items: Items,
    head: u64,
    windows: Vec<u64>,
    tail: u64,
}

impl Cut {
    /// The cut of the validated `text` whose `cases` items are the file's cases, if it can be
    /// cut safely (`sequence::items`).
    fn of(text: &str, cases: usize) -> Option<Cut> {
        let items = sequence::items(text, "cases")
            .filter(|i| i.starts.len() == cases)?
            .windows(WINDOW);
        let [head, _, tail] = items.parts(0, 1).map(|r| hash_of(&text[r]));
        let windows = (0..items.starts.len())
            .map(|w| {
                let [_, kept, _] = items.parts(w, w + 1);
                hash_of(&text[kept])
            })
            .collect();
        Some(Cut {
            items,
            head,
            windows,
            tail,
        })
    }

    /// The document of window `w` cut from the validated `text`.
    fn keep(&self, text: &str, w: usize) -> Option<String> {
        (w < self.windows.len()).then(|| self.items.keep(text, w, w + 1))
    }

    /// The document of window `w` read from the file at `path`: `None` when what is read is not
    /// what was validated.
    fn read(&self, path: &Path, w: usize) -> std::io::Result<Option<String>> {
        let want = [self.head, self.windows[w], self.tail];
        let ranges = self.items.parts(w, w + 1);
        let Some(parts) = read_ranges(path, self.items.len as u64, &ranges)? else {
            return Ok(None);
        };
        let mut texts = Vec::with_capacity(3);
        for (bytes, want) in parts.into_iter().zip(want) {
            match String::from_utf8(bytes) {
                Ok(t) if hash_of(t.as_str()) == want => texts.push(t),
                _ => return Ok(None),
            }
        }
        Ok(Some(sequence::join(&texts[0], &texts[1], &texts[2])))
    }
}

/// The slot of the file compiled whole.
const WHOLE: usize = usize::MAX;

/// A window's compiled cases while any of them is in use, and the compilation under way.
#[derive(Debug, Default)]
struct Slot {
    compiled: Weak<Compiled>,
    /// Set while the window compiles: every case of the window that starts meanwhile awaits
    /// this one compilation. Its thread clears it (and sets `compiled`) before it tells the
    /// result.
    compiling: Option<watch::Receiver<Option<Compilation>>>,
}

type Compilation = Result<Arc<Compiled>, String>;

/// What identifies a suite file's text: its length and hash, to notice an edit during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextStamp {
    len: usize,
    hash: u64,
}

impl TextStamp {
    pub fn of(text: &str) -> TextStamp {
        TextStamp {
            len: text.len(),
            hash: hash_of(text),
        }
    }
}

/// The hash of a file's text, or of a window's case ids.
fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl SuiteSource {
    /// The file at `path`, validated with the text of this `stamp` in `env`, whose cases have
    /// these `ids`, in file order.
    pub fn new(path: PathBuf, stamp: TextStamp, ids: &[&str], env: Arc<StepsEnv>) -> Self {
        SuiteSource {
            path,
            stamp,
            window_ids: ids.chunks(WINDOW).map(hash_of).collect(),
            cases: ids.len(),
            env,
            state: Mutex::new(State::default()),
        }
    }

    fn changed(&self) -> String {
        format!(
            "suite file {} changed during the run (its cases were validated before it was edited); run again",
            self.path.display()
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The slot of case `index`: its window's, or the whole file's.
    fn window_of(&self, index: usize) -> usize {
        match self.lock().cuts {
            Cuts::Whole => WHOLE,
            Cuts::Unknown | Cuts::Items(_) => index / WINDOW,
        }
    }

    /// Read the file and compile `window` of its cases (or all of them, for [`WHOLE`]),
    /// checked against what was validated. A window that does not compile alone to the cases
    /// it should hold is compiled whole, and so is every later one: a problem found then is
    /// reported at the file's own line and column.
    fn compile(&self, window: usize) -> Compilation {
        let env = SuiteEnv {
            fixtures_root: self.env.fixtures_root.as_deref(),
            allow_fixture_escape: self.env.allow_fixture_escape,
            schema_ids: &self.env.schema_ids,
            check_names: &self.env.check_names,
            builtin: false,
        };
        if window != WHOLE
            && let Some(doc) = self.window_text(window)?
            && let Some(compiled) = self.compile_window(&doc, window, &env)
        {
            return Ok(Arc::new(compiled));
        }
        let text = self.read()?;
        // The same text in the same environment compiled once already; a problem now is in
        // what it refers to (a fixture removed since).
        // On the thread of the case that asked, like a window: whole.
        let suite = load_suite_on(&self.path, &text, &env, None).map_err(|d| {
            let first = d.0.first().map(ToString::to_string).unwrap_or_default();
            format!(
                "suite file {} no longer compiles: {first}",
                self.path.display()
            )
        })?;
        Ok(Arc::new(Compiled::of(0, &suite)))
    }

    /// The file's text, checked to be the one validated.
    fn read(&self) -> Result<String, String> {
        let text = read_bounded_string(&self.path, MAX_INPUT_BYTES as u64)
            .map_err(|e| self.unreadable(e.kind))?;
        if TextStamp::of(&text) != self.stamp {
            return Err(self.changed());
        }
        Ok(text)
    }

    fn unreadable(&self, e: impl std::fmt::Display) -> String {
        format!(
            "cannot read suite file {} again to run its case: {e}",
            self.path.display()
        )
    }

    /// The document of `window` of the file's cases: cut from the whole text the first time
    /// (which finds where the windows are), read alone afterwards; `None` when the file is
    /// compiled whole.
    fn window_text(&self, window: usize) -> Result<Option<String>, String> {
        let known = match &self.lock().cuts {
            Cuts::Whole => return Ok(None),
            Cuts::Items(cut) => Some(cut.clone()),
            Cuts::Unknown => None,
        };
        let Some(cut) = known else {
            return self.first_cut(window);
        };
        if window >= cut.windows.len() {
            return Ok(None);
        }
        match cut.read(&self.path, window) {
            Ok(Some(doc)) => Ok(Some(doc)),
            // Not the validated parts: read whole, which says what is wrong with the file (no
            // longer a regular file, too large, not UTF-8, or changed) — or, if it is the
            // validated text again, cut the window from it.
            Ok(None) => Ok(cut.keep(&self.read()?, window)),
            Err(e) => Err(self.unreadable(e)),
        }
    }

    /// Read the file whole, find where its windows are (or that it is compiled whole) and cut
    /// `window` from it.
    fn first_cut(&self, window: usize) -> Result<Option<String>, String> {
        let text = self.read()?;
        let cut = Cut::of(&text, self.cases).map(Arc::new);
        let mut state = self.lock();
        match state.cuts {
            Cuts::Unknown => {
                state.cuts = match &cut {
                    Some(cut) => Cuts::Items(cut.clone()),
                    None => Cuts::Whole,
                }
            }
            // Another window found meanwhile that the file must be compiled whole.
            Cuts::Whole => return Ok(None),
            Cuts::Items(_) => {}
        }
        Ok(cut.and_then(|c| c.keep(&text, window)))
    }

    /// `window` of the file's cases compiled from `doc`, the document cut down to them, if it
    /// holds exactly the window's cases (by id); otherwise the file is compiled whole from now
    /// on.
    fn compile_window(&self, doc: &str, window: usize, env: &SuiteEnv<'_>) -> Option<Compiled> {
        let expected = *self.window_ids.get(window)?;
        let first = window * WINDOW;
        let to = (first + WINDOW).min(self.cases);
        let compiled = load_suite_on(&self.path, doc, env, None)
            .ok()
            .filter(|s| {
                let ids: Vec<&str> = s.cases.iter().map(|c| &*c.id).collect();
                hash_of(&ids[..]) == expected
            })
            .map(|s| Compiled::of(first, &s))
            .filter(|c| c.steps.len() == to - first);
        if compiled.is_none() {
            self.lock().cuts = Cuts::Whole;
        }
        compiled
    }

    /// The file's compiled cases: the ones in use, or compiled again. The compilation runs on
    /// a thread of its own and the file's cases that start meanwhile await that one
    /// compilation: no runtime thread blocks (a blocked worker would hand its tasks to a new
    /// thread, one per waiting case), and the text, the parser's buffers and the compiled cases
    /// come and go on one thread, in one allocator arena.
    async fn compiled(self: &Arc<Self>, index: usize) -> Compilation {
        let window = self.window_of(index);
        let mut compiling = {
            let mut state = self.lock();
            // A window nobody uses any more leaves the map.
            state.slots.retain(|w, s| {
                *w == window || s.compiling.is_some() || s.compiled.strong_count() > 0
            });
            let slot = state.slots.entry(window).or_default();
            if let Some(all) = slot.compiled.upgrade() {
                return Ok(all);
            }
            match &slot.compiling {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    slot.compiling = Some(rx.clone());
                    let file = self.clone();
                    let spawned = std::thread::Builder::new()
                        .name("llm-parity-compile".into())
                        .spawn(move || file.compile_and_tell(window, tx));
                    if let Err(e) = spawned {
                        slot.compiling = None;
                        return Err(format!(
                            "cannot compile suite file {} again: {e}",
                            self.path.display()
                        ));
                    }
                    rx
                }
            }
        };
        match compiling.wait_for(Option::is_some).await {
            Ok(done) => done.clone().unwrap_or_else(|| Err(self.failed())),
            Err(_) => Err(self.failed()),
        }
    }

    fn failed(&self) -> String {
        format!("compiling suite file {} again failed", self.path.display())
    }

    /// On the compiling thread: compile, settle the slot (the compiled cases for the next case
    /// that starts, none pending), then tell the cases waiting. A panic while compiling is told
    /// as a failed compilation (the sender dropped), and the next case tries again.
    fn compile_and_tell(&self, window: usize, tx: watch::Sender<Option<Compilation>>) {
        struct Clear<'a>(&'a SuiteSource, usize);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0.lock().slots.entry(self.1).or_default().compiling = None;
            }
        }
        let clear = Clear(self, window);
        let result = self.compile(window);
        if let Ok(all) = &result {
            let mut state = self.lock();
            state.slots.entry(window).or_default().compiled = Arc::downgrade(all);
            // A window compiled whole is the whole file's compilation for every other case.
            if window != WHOLE && all.first == 0 && all.steps.len() == self.cases {
                state.slots.entry(WHOLE).or_default().compiled = Arc::downgrade(all);
            }
            drop(state);
            let mut recent = self.env.recent.lock().unwrap_or_else(|e| e.into_inner());
            recent.push_back(all.clone());
            if recent.len() > RECENT {
                recent.pop_front();
            }
        }
        drop(clear);
        tx.send_replace(Some(result));
    }

    /// Whether any of the file's cases are compiled now (for the tests).
    #[cfg(test)]
    fn is_compiled(&self) -> bool {
        self.lock()
            .slots
            .values()
            .any(|s| s.compiled.strong_count() > 0)
    }

    /// Whether a compilation is under way (for the tests).
    #[cfg(test)]
    fn is_compiling(&self) -> bool {
        self.lock().slots.values().any(|s| s.compiling.is_some())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::{LoadOptions, Project, load_project};

    fn load(dir: &Path, held_cases: usize) -> Project {
        load_project(&LoadOptions {
            suites: vec![],
            suites_dir: dir.join("suites"),
            only_suites_dir: true,
            fixtures_dir: dir.join("fixtures"),
            schemas_dir: None,
            allow_fixture_escape: false,
            check_names: vec![],
            held_cases,
        })
        .expect("the suite loads")
    }

    const SUITE: &str = "suite: s\ncases:\n  - id: a\n    feature: chat.basic\n    request: { path: /chat/completions, body: { model: \"{{model.chat}}\", note: \"{{fixture:own.txt}}\" } }\n  - id: b\n    feature: chat.basic\n    request: { path: /models, method: GET }\n";

    /// A project with [`SUITE`] and its fixture.
    fn project() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("suites")).unwrap();
        std::fs::create_dir(dir.path().join("fixtures")).unwrap();
        std::fs::write(dir.path().join("fixtures/own.txt"), "fixture text").unwrap();
        let file = dir.path().join("suites/s.yaml");
        std::fs::write(&file, SUITE).unwrap();
        (dir, file)
    }

    fn file_of(steps: &Steps) -> &Arc<SuiteSource> {
        match &steps.source {
            Source::File { file, .. } => file,
            Source::Held(_) => panic!("held"),
        }
    }

    #[tokio::test]
    async fn the_cases_of_a_released_file_await_one_compilation() {
        let (dir, _) = project();
        let held = load(dir.path(), 2);
        assert!(
            held.suites[0]
                .cases
                .iter()
                .all(|c| c.steps.held().is_some())
        );

        let p = load(dir.path(), 1);
        let [a, b] = &p.suites[0].cases[..] else {
            panic!("two cases")
        };
        assert_eq!((a.steps.len(), b.steps.len()), (1, 1));
        assert!(
            !file_of(&a.steps).is_compiled(),
            "nothing is compiled before a case needs it"
        );
        // Both start before the file is compiled: the second awaits the first's compilation.
        let (sa, sb) = tokio::join!(a.steps.get(), b.steps.get());
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        assert!(Arc::ptr_eq(
            sa._file.as_ref().unwrap(),
            sb._file.as_ref().unwrap()
        ));
        assert_eq!(sb[0].request.method, reqwest::Method::GET);
        assert!(!file_of(&a.steps).is_compiling());
        // Compiled, the file's next case takes the same compilation at once.
        let again = a.steps.get().await.unwrap();
        assert!(Arc::ptr_eq(
            again._file.as_ref().unwrap(),
            sa._file.as_ref().unwrap()
        ));
    }

    #[tokio::test]
    async fn an_edited_file_or_one_that_no_longer_compiles_ends_its_cases_saying_so() {
        let (dir, file) = project();
        // Validated, then edited before its cases ran: not run from the new text.
        let p = load(dir.path(), 0);
        std::fs::write(&file, SUITE.replace("/models", "/files")).unwrap();
        let (ea, eb) = tokio::join!(
            p.suites[0].cases[0].steps.get(),
            p.suites[0].cases[1].steps.get()
        );
        for e in [ea.unwrap_err(), eb.unwrap_err()] {
            assert!(
                e.contains("changed during the run") && e.contains("s.yaml"),
                "{e}"
            );
        }
        assert!(!file_of(&p.suites[0].cases[0].steps).is_compiling());

        // The same text, but what it refers to is gone.
        std::fs::write(&file, SUITE).unwrap();
        let p2 = load(dir.path(), 0);
        std::fs::remove_file(dir.path().join("fixtures/own.txt")).unwrap();
        let e = p2.suites[0].cases[1].steps.get().await.unwrap_err();
        assert!(
            e.contains("no longer compiles") && e.contains("own.txt"),
            "{e}"
        );
        // A failed compilation is not kept: the fixture back, the next case compiles.
        std::fs::write(dir.path().join("fixtures/own.txt"), "fixture text").unwrap();
        assert!(p2.suites[0].cases[0].steps.get().await.is_ok());

        std::fs::remove_file(&file).unwrap();
        let e = p.suites[0].cases[1].steps.get().await.unwrap_err();
        assert!(e.contains("cannot read suite file"), "{e}");
    }

    /// A suite of `n` cases with the shapes a cut could get wrong: block scalars holding
    /// item-like and key-like lines, comments at the items' indentation, flow collections over
    /// several lines, an anchor, a multi-step case, and suite keys after the cases. `extra` is
    /// appended to the last case.
    fn many(n: usize, extra: &str) -> String {
        let mut text = String::from("suite: many\ndescription: cut me\ncases: # all of them\n");
        for i in 0..n {
            text.push_str(&match i % 4 {
                0 => format!(
                    "  - id: c{i}\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body:\n        model: \"{{{{model.chat}}}}\"\n        messages:\n          - role: user\n            content: |\n              - not an item {i}\n              cases:\n  # - a comment, not an item\n"
                ),
                1 => format!(
                    "  - {{ id: c{i}, feature: chat.basic,\n      request: {{ path: /models, method: GET }} }}\n\n"
                ),
                2 => format!(
                    "  -\n    id: c{i}\n    feature: chat.basic\n    tags: &t{i} [a, b]\n    request: {{ path: /chat/completions, body: {{ n: {i}, s: \"a - b\" }} }}\n    expect: {{ status: 200 }}\n"
                ),
                _ => format!(
                    "  - id: c{i}\n    feature: chat.basic\n    steps:\n      - request: {{ path: /models, method: GET }}\n        capture: {{ first: \"$.data[0].id\" }}\n      - request: {{ path: \"/models/{{{{capture.first}}}}\", method: GET }}\n"
                ),
            });
        }
        text.push_str(extra);
        text.push_str("areas: [chat]\n");
        text
    }

    fn project_of(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("suites")).unwrap();
        std::fs::write(dir.path().join("suites/many.yaml"), text).unwrap();
        dir
    }

    /// Every case's steps as loaded (held).
    fn held_steps(p: &Project) -> Vec<String> {
        let held = |c: &Arc<crate::load::Case>| format!("{:?}", &*c.steps.held().unwrap());
        p.suites[0].cases.iter().map(held).collect()
    }

    /// Every case's steps, compiled again, and what they were compiled with (the first case of
    /// the compilation and how many it holds).
    async fn released(p: &Project) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        for c in &p.suites[0].cases {
            let s = c.steps.get().await.unwrap();
            let all = s._file.clone().unwrap();
            out.push((format!("{:?}", &*s), all.first, all.steps.len()));
        }
        out
    }

    #[tokio::test]
    async fn a_window_of_a_released_file_compiles_to_the_steps_the_whole_file_had() {
        let text = many(150, "");
        let dir = project_of(&text);
        let held = held_steps(&load(dir.path(), usize::MAX));
        let got = released(&load(dir.path(), 0)).await;
        assert_eq!(got.len(), 150);
        for (i, (held, (steps, first, len))) in held.into_iter().zip(got).enumerate() {
            assert_eq!(held, steps, "case {i}");
            // Compiled in windows: 0..64, 64..128, 128..150.
            assert_eq!(
                (first, len),
                (i / WINDOW * WINDOW, WINDOW.min(150 - i / WINDOW * WINDOW)),
                "case {i}"
            );
        }
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_cut_is_compiled_whole_to_the_same_steps() {
        // An alias: a window could miss its anchor.
        let text = many(100, "    tags: *t2\n");
        let dir = project_of(&text);
        let held = held_steps(&load(dir.path(), usize::MAX));
        let got = released(&load(dir.path(), 0)).await;
        assert_eq!(got.len(), 100);
        for (i, (held, (steps, first, len))) in held.into_iter().zip(got).enumerate() {
            assert_eq!(held, steps, "case {i}");
            assert_eq!((first, len), (0, 100), "case {i} compiled whole");
        }
    }

    #[tokio::test]
    async fn a_window_that_does_not_hold_its_cases_falls_back_to_the_whole_file() {
        let text = many(100, "");
        let dir = project_of(&text);
        let held = load(dir.path(), usize::MAX);
        // A source whose second window expects other ids than the file has there.
        let mut ids: Vec<String> = held.suites[0]
            .cases
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        ids[70] = "someone-else".into();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let file = Arc::new(SuiteSource::new(
            dir.path().join("suites/many.yaml"),
            TextStamp::of(&text),
            &ids,
            Arc::new(StepsEnv::new(None, false, vec![], vec![])),
        ));
        let steps: Vec<Steps> = (0..100)
            .map(|index| Steps {
                len: 1,
                source: Source::File {
                    file: file.clone(),
                    index,
                },
            })
            .collect();
        let first = steps[0].get().await.unwrap();
        assert_eq!(
            first._file.as_ref().unwrap().steps.len(),
            WINDOW,
            "the first window is cut"
        );
        let later = steps[70].get().await.unwrap();
        let all = later._file.as_ref().unwrap();
        assert_eq!((all.first, all.steps.len()), (0, 100), "compiled whole");
        assert!(matches!(file.lock().cuts, Cuts::Whole));
        for (i, (s, held)) in steps.iter().zip(held_steps(&held)).enumerate() {
            let got = s.get().await.unwrap();
            assert_eq!(format!("{:?}", &*got), held, "case {i}");
        }
    }

    #[tokio::test]
    async fn once_cut_a_window_reads_its_own_part_of_the_file_and_notices_an_edit_there() {
        let text = many(200, "");
        let dir = project_of(&text);
        let path = dir.path().join("suites/many.yaml");
        let p = load(dir.path(), 0);
        let cases = &p.suites[0].cases;
        // The first window cuts the file (read whole once).
        let w0 = cases[0].steps.get().await.unwrap();
        assert!(matches!(
            file_of(&cases[0].steps).lock().cuts,
            Cuts::Items(_)
        ));
        // An edit of the same length in the third window (cases 128..192): the second window
        // reads only its own part and still compiles; the third notices the edit.
        let at = text.find("id: c130\n").unwrap();
        let edited = format!(
            "{}id: c13x\n{}",
            &text[..at],
            &text[at + "id: c130\n".len()..]
        );
        assert_eq!(edited.len(), text.len());
        std::fs::write(&path, &edited).unwrap();
        drop(w0);
        let w1 = cases[70].steps.get().await.unwrap();
        assert_eq!(w1._file.as_ref().unwrap().first, WINDOW);
        let e = cases[130].steps.get().await.unwrap_err();
        assert!(e.contains("changed during the run"), "{e}");
        // The text before the cases edited: every window notices.
        std::fs::write(&path, text.replace("cut me", "cut it")).unwrap();
        let e = cases[199].steps.get().await.unwrap_err();
        assert!(e.contains("changed during the run"), "{e}");
        // A different length: noticed before anything is read (window 0 and 1 are still
        // compiled, kept as the latest windows, so a case of the third asks).
        std::fs::write(&path, format!("{text}# more\n")).unwrap();
        let e = cases[150].steps.get().await.unwrap_err();
        assert!(e.contains("changed during the run"), "{e}");
        // The suite's keys after the cases (`areas:`) edited: noticed too.
        std::fs::write(&path, text.replace("areas: [chat]", "areas: [chaz]")).unwrap();
        let e = cases[199].steps.get().await.unwrap_err();
        assert!(e.contains("changed during the run"), "{e}");
        // No longer a regular file: read whole again, which says so.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let e = cases[199].steps.get().await.unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::remove_dir(&path).unwrap();
        // Back as validated: the windows compile again.
        std::fs::write(&path, &text).unwrap();
        assert!(cases[199].steps.get().await.is_ok());
    }
}
