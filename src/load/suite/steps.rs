//! A case's compiled steps, held in memory or compiled again when the case runs.
//!
//! Compiled steps are the bulk of a loaded case (~2.4 KB for a one-step chat case: the request
//! template, its expectations, the JSONPath assertions), and the rest of a run needs only the
//! case's name, feature, tags and roles until the case's turn comes. So past the first few
//! thousand cases (`load::LoadOptions::held_cases`), a suite file is loaded and validated as
//! always — every problem reported at once, with file:line:col — and its cases then keep only
//! where their steps come from ([`SuiteSource`]): the validated cases as serde read them,
//! written to the load's spill file ([`super::spill`]) a window of [`WINDOW`] cases at a time.
//! When a case runs, its window is read back and compiled, shared by the window's cases
//! running at that time, and freed when the last of them is done. A loaded project is then
//! flat in the number of cases, and what runs is what was validated, whatever happens to the
//! suite file meanwhile.

use std::collections::{HashMap, VecDeque};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use super::compile::{SuiteEnv, compile_suite};
use super::model::{Step, Suite};
use super::spill::{SpillFile, Spilled, WINDOW};

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

    /// The compiled steps: held, or compiled again from the validated cases (on a thread of its
    /// own, awaited here). Fails only if they can no longer be read back, or no longer compile
    /// because what they refer to changed (the message says which).
    pub async fn get(&self) -> Result<StepsRef, String> {
        match &self.source {
            Source::Held(steps) => Ok(StepsRef::held(steps)),
            Source::File { file, index } => {
                StepsRef::of_file(file.compiled(*index).await?, *index).ok_or_else(|| file.failed())
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

/// What compiling a window again needs: the borrowed [`SuiteEnv`] of the load, owned, the spill
/// file the windows are read from, and the windows compiled last, shared by every released file
/// of the project.
#[derive(Debug)]
pub struct StepsEnv {
    fixtures_root: Option<PathBuf>,
    allow_fixture_escape: bool,
    schema_ids: Vec<String>,
    check_names: Vec<&'static str>,
    /// Where every released file's validated cases are.
    pub(crate) spill: SpillFile,
    /// The last [`RECENT`] windows compiled, kept even while none of their cases runs: a run at
    /// `--concurrency 1` has no case in flight between two of a file's cases, and targets
    /// running at different places of the plan move between files at different times.
    recent: Mutex<VecDeque<Arc<Compiled>>>,
}

/// How many compiled windows stay alive after their last running case (each of [`WINDOW`]
/// cases at most).
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
            spill: SpillFile::default(),
            recent: Mutex::new(VecDeque::with_capacity(RECENT + 1)),
        }
    }
}

/// A suite file whose cases' steps were dropped after validation, and compiles them again from
/// its spilled windows.
#[derive(Debug)]
pub struct SuiteSource {
    path: PathBuf,
    spilled: Spilled,
    cases: usize,
    env: Arc<StepsEnv>,
    /// The windows compiled or compiling.
    slots: Mutex<HashMap<usize, Slot>>,
}

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

impl SuiteSource {
    /// The file at `path`, whose `cases` validated cases were spilled as `spilled` to `env`'s
    /// spill file.
    pub fn new(path: PathBuf, spilled: Spilled, cases: usize, env: Arc<StepsEnv>) -> Self {
        SuiteSource {
            path,
            spilled,
            cases,
            env,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read `window` of the file's validated cases back and compile it. It compiled when it was
    /// validated, in the same environment: a problem now is in what it refers to (a fixture
    /// removed since).
    fn compile(&self, window: usize) -> Compilation {
        let env = SuiteEnv {
            fixtures_root: self.env.fixtures_root.as_deref(),
            allow_fixture_escape: self.env.allow_fixture_escape,
            schema_ids: &self.env.schema_ids,
            check_names: &self.env.check_names,
            builtin: false,
        };
        let file = self.path.display();
        let def = self.env.spill.window(&self.spilled, window).map_err(|e| {
            format!("cannot read the validated cases of suite file {file} back: {e}")
        })?;
        let suite = compile_suite(&self.path, &Arc::from(""), def, &env, 1).map_err(|d| {
            let first = d.0.first().map(ToString::to_string).unwrap_or_default();
            format!("suite file {file} no longer compiles: {first}")
        })?;
        let first = window * WINDOW;
        let compiled = Compiled::of(first, &suite);
        let want = self.cases.saturating_sub(first).min(WINDOW);
        if compiled.steps.len() != want {
            return Err(format!(
                "suite file {file}: {} cases read back from cases {first}.., not {want}",
                compiled.steps.len()
            ));
        }
        Ok(Arc::new(compiled))
    }

    /// The file's compiled cases: the ones in use, or compiled again. The compilation runs on
    /// a thread of its own and the window's cases that start meanwhile await that one
    /// compilation: no runtime thread blocks (a blocked worker would hand its tasks to a new
    /// thread, one per waiting case), and the window's JSON, the compiled cases and what
    /// compiling them allocates come and go on one thread, in one allocator arena.
    async fn compiled(self: &Arc<Self>, index: usize) -> Compilation {
        let window = index / WINDOW;
        let mut compiling = {
            let mut slots = self.lock();
            // A window nobody uses any more leaves the map.
            slots.retain(|w, s| {
                *w == window || s.compiling.is_some() || s.compiled.strong_count() > 0
            });
            let slot = slots.entry(window).or_default();
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
                self.0.lock().entry(self.1).or_default().compiling = None;
            }
        }
        let clear = Clear(self, window);
        let result = self.compile(window);
        if let Ok(all) = &result {
            self.lock().entry(window).or_default().compiled = Arc::downgrade(all);
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
        self.lock().values().any(|s| s.compiled.strong_count() > 0)
    }

    /// Whether a compilation is under way (for the tests).
    #[cfg(test)]
    fn is_compiling(&self) -> bool {
        self.lock().values().any(|s| s.compiling.is_some())
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
    async fn what_runs_is_what_was_validated_and_a_fixture_removed_since_is_said() {
        let (dir, file) = project();
        let held = load(dir.path(), usize::MAX);
        // Validated, then edited (or removed) before its cases ran: the validated cases run.
        let p = load(dir.path(), 0);
        std::fs::write(&file, SUITE.replace("/models", "/files")).unwrap();
        let (a, b) = tokio::join!(
            p.suites[0].cases[0].steps.get(),
            p.suites[0].cases[1].steps.get()
        );
        for (got, held) in [a.unwrap(), b.unwrap()].iter().zip(&held.suites[0].cases) {
            let held = held.steps.held().unwrap();
            assert_eq!(format!("{:?}", &**got), format!("{held:?}"));
        }
        drop(p);

        // What a case refers to is gone: said, with the file and the fixture.
        std::fs::write(&file, SUITE).unwrap();
        let p2 = load(dir.path(), 0);
        std::fs::remove_file(&file).unwrap();
        std::fs::remove_file(dir.path().join("fixtures/own.txt")).unwrap();
        let e = p2.suites[0].cases[1].steps.get().await.unwrap_err();
        assert!(
            e.contains("no longer compiles") && e.contains("own.txt") && e.contains("s.yaml"),
            "{e}"
        );
        assert!(!file_of(&p2.suites[0].cases[0].steps).is_compiling());
        // A failed compilation is not kept: the fixture back, the next case compiles.
        std::fs::write(dir.path().join("fixtures/own.txt"), "fixture text").unwrap();
        assert!(p2.suites[0].cases[0].steps.get().await.is_ok());
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
    async fn a_file_with_an_alias_is_compiled_in_windows_to_the_same_steps() {
        // An alias, whose anchor is in another window than the case naming it.
        let text = many(100, "    tags: *t2\n");
        let dir = project_of(&text);
        let held = held_steps(&load(dir.path(), usize::MAX));
        let got = released(&load(dir.path(), 0)).await;
        assert_eq!(got.len(), 100);
        for (i, (held, (steps, first, len))) in held.into_iter().zip(got).enumerate() {
            assert_eq!(held, steps, "case {i}");
            assert_eq!(
                (first, len),
                (i / WINDOW * WINDOW, WINDOW.min(100 - first)),
                "case {i}"
            );
        }
    }

    /// Values JSON has no word for, in every place a case holds a YAML value: tags, keys that
    /// are not text (some equal once made text), numbers that are not finite, integers past
    /// `i64`, floats that look whole, nulls.
    #[tokio::test]
    async fn values_json_cannot_say_compile_to_the_same_steps_read_back() {
        let value = "{ !t tagged: !!str 1, 1: one, \"1\": uno, true: t, null: n, [a]: seq, f: .inf, g: -.inf, h: .nan, big: 18446744073709551615, neg: -9223372036854775808, whole: 2.0, tiny: 1e-300, z: ~, list: [!x 1, ~, 0.1] }";
        // Keys that are all text, or tagged text (`!t a` is another key than `a`).
        let texts = "{ a: !x 1, b: 18446744073709551615, c: -9223372036854775808, d: 2.0, e: 1e-300, f: .inf, g: ~, h: [!y ~, .nan], i: { !t a: 1, a: 2 } }";
        let mut text = String::from("suite: odd\ncases:\n");
        for i in 0..70 {
            text.push_str(&format!(
                "  - id: c{i}\n    feature: chat.basic\n    request: {{ path: /chat/completions, body: {texts} }}\n    expect:\n      status: [200, \"2xx\", 201]\n      jsonpath:\n        - {{ path: $.a, equals: {value} }}\n        - {{ path: $.b, contains: !tag {{ k: [1, 2.5] }} }}\n        - {{ path: $.c, one_of: [{value}, .inf, !q x] }}\n        - {{ path: $.d, gte: 0.1 }}\n"
            ));
        }
        let dir = project_of(&text);
        let held = held_steps(&load(dir.path(), usize::MAX));
        let got = released(&load(dir.path(), 0)).await;
        assert_eq!(got.len(), 70);
        for (i, (held, (steps, _, _))) in held.into_iter().zip(got).enumerate() {
            assert_eq!(held, steps, "case {i}");
        }
    }

    /// A value given that is `null` in JSON (`equals: .nan`, a tagged null body) would read
    /// back as no value at all: such a file is not spilled, its cases keep their compiled steps,
    /// and the load says so.
    #[tokio::test]
    async fn a_file_whose_values_json_cannot_tell_apart_keeps_its_steps_saying_so() {
        let case_b =
            "  - id: b\n    feature: chat.basic\n    request: { path: /models, method: GET }\n";
        for odd in [
            "    request: { path: /chat/completions, body: !x ~ }\n",
            "    request: { path: /chat/completions, body: { a: 1 } }\n    expect: { jsonpath: [{ path: $.a, equals: .nan }] }\n",
        ] {
            let text =
                format!("suite: odd\ncases:\n  - id: a\n    feature: chat.basic\n{odd}{case_b}");
            let dir = project_of(&text);
            let p = load(dir.path(), 0);
            assert!(
                p.suites[0].cases.iter().all(|c| c.steps.held().is_some()),
                "{text}"
            );
            assert!(
                p.notes
                    .iter()
                    .any(|n| n.contains("keep their compiled steps in memory")
                        && n.contains("many.yaml")
                        && n.contains("null in JSON")),
                "{:?}",
                p.notes
            );
        }
    }
}
