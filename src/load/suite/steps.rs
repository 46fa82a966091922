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
//! them is done. A loaded project is then flat in the number of cases; the transient cost is one
//! file's compiled cases, which loading the file already had.
//!
//! The file is read again, not kept: a file edited during the run is noticed (its length and
//! hash no longer match what was validated) and its cases end as not prepared, saying so,
//! rather than running requests nobody validated.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use super::compile::{SuiteEnv, load_suite};
use super::model::Step;
use crate::load::yaml::MAX_INPUT_BYTES;
use crate::util::fs::read_bounded_string;

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

    /// Case `index`'s steps of a compiled file, keeping the file compiled.
    fn of_file(all: Arc<Compiled>, index: usize) -> Option<StepsRef> {
        let steps = all.get(index)?.clone();
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

/// Every case's steps of one compiled file, in file order.
type Compiled = Vec<Arc<[Step]>>;

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
            Source::File { file, index } => {
                StepsRef::of_file(file.compiled().await?, *index).ok_or_else(|| file.changed())
            }
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
    /// The last [`RECENT`] files compiled, kept even while none of their cases runs: a run at
    /// `--concurrency 1` has no case in flight between two of a file's cases, and targets
    /// running at different places of the plan move between files at different times.
    recent: Mutex<VecDeque<Arc<Compiled>>>,
}

/// How many compiled files stay alive after their last running case (each bounded by the
/// suite file's size, as loading it was).
const RECENT: usize = 2;

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
    env: Arc<StepsEnv>,
    slot: Mutex<Slot>,
}

/// A file's compiled cases while any of them is in use, and the compilation under way.
#[derive(Debug, Default)]
struct Slot {
    compiled: Weak<Compiled>,
    /// Set while the file compiles: every case of the file that starts meanwhile awaits this
    /// one compilation. Its thread clears it (and sets `compiled`) before it tells the result.
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
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        TextStamp {
            len: text.len(),
            hash: h.finish(),
        }
    }
}

impl SuiteSource {
    /// The file at `path`, validated with the text of this `stamp` in `env`.
    pub fn new(path: PathBuf, stamp: TextStamp, env: Arc<StepsEnv>) -> Self {
        SuiteSource {
            path,
            stamp,
            env,
            slot: Mutex::new(Slot::default()),
        }
    }

    fn changed(&self) -> String {
        format!(
            "suite file {} changed during the run (its cases were validated before it was edited); run again",
            self.path.display()
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read and compile the file, checked against what was validated.
    fn compile(&self) -> Compilation {
        let text = read_bounded_string(&self.path, MAX_INPUT_BYTES as u64).map_err(|e| {
            format!(
                "cannot read suite file {} again to run its case: {}",
                self.path.display(),
                e.kind
            )
        })?;
        if TextStamp::of(&text) != self.stamp {
            return Err(self.changed());
        }
        let env = SuiteEnv {
            fixtures_root: self.env.fixtures_root.as_deref(),
            allow_fixture_escape: self.env.allow_fixture_escape,
            schema_ids: &self.env.schema_ids,
            check_names: &self.env.check_names,
            builtin: false,
        };
        // The same text in the same environment compiled once already; a problem now is in
        // what it refers to (a fixture removed since).
        let suite = load_suite(&self.path, &text, &env).map_err(|d| {
            let first = d.0.first().map(ToString::to_string).unwrap_or_default();
            format!(
                "suite file {} no longer compiles: {first}",
                self.path.display()
            )
        })?;
        Ok(Arc::new(
            suite.cases.iter().filter_map(|c| c.steps.held()).collect(),
        ))
    }

    /// The file's compiled cases: the ones in use, or compiled again. The compilation runs on
    /// a thread of its own and the file's cases that start meanwhile await that one
    /// compilation: no runtime thread blocks (a blocked worker would hand its tasks to a new
    /// thread, one per waiting case), and the text, the parser's buffers and the compiled cases
    /// come and go on one thread, in one allocator arena.
    async fn compiled(self: &Arc<Self>) -> Compilation {
        let mut compiling = {
            let mut slot = self.lock();
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
                        .spawn(move || file.compile_and_tell(tx));
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
    fn compile_and_tell(&self, tx: watch::Sender<Option<Compilation>>) {
        struct Clear<'a>(&'a SuiteSource);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0.lock().compiling = None;
            }
        }
        let clear = Clear(self);
        let result = self.compile();
        if let Ok(all) = &result {
            self.lock().compiled = Arc::downgrade(all);
            let mut recent = self.env.recent.lock().unwrap_or_else(|e| e.into_inner());
            recent.push_back(all.clone());
            if recent.len() > RECENT {
                recent.pop_front();
            }
        }
        drop(clear);
        tx.send_replace(Some(result));
    }

    /// Whether the file's cases are compiled now (for the tests).
    #[cfg(test)]
    fn is_compiled(&self) -> bool {
        self.lock().compiled.strong_count() > 0
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
        assert!(file_of(&a.steps).lock().compiling.is_none());
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
        assert!(
            file_of(&p.suites[0].cases[0].steps)
                .lock()
                .compiling
                .is_none()
        );

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
}
