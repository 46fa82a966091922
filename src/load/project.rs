//! Loading a project: the built-in suites and the project's own (by name, path or directory)
//! and the schemas they refer to, with all problems of all files reported together.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::builtin;
use super::diag::{self, Diagnostic, Diagnostics};
use super::schemas::{SchemaSources, SchemaStore};
use super::suite::{self, Spill, SpillFile, Spilled, StepsEnv, Suite, SuiteEnv, SuiteSource};
use super::yaml;
use crate::util::fs::read_bounded_string;
use crate::util::threads::in_order;

/// Where suites come from and what they may refer to.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--suite` values: names (a suite file in `suites_dir`, else a built-in suite) or paths
    /// (a file, or a directory of them). Empty: every built-in suite and every suite file in
    /// `suites_dir`.
    pub suites: Vec<String>,
    /// The project's suites directory (`<project>/suites`); a missing one holds no suites.
    pub suites_dir: PathBuf,
    /// `--suites-dir` (deprecated): the suites are exactly those of `suites_dir`, which must
    /// exist, and no built-in one.
    pub only_suites_dir: bool,
    pub fixtures_dir: PathBuf,
    pub schemas_dir: Option<PathBuf>,
    pub allow_fixture_escape: bool,
    /// The built-in checks a suite may name (the judge's `checks::names()`).
    pub check_names: Vec<&'static str>,
    /// How many cases of suite files keep their compiled steps in memory: past them, each suite
    /// file's cases are validated, spilled to a temporary file and compiled again from it when
    /// they run (`suite::Steps`), so a project of any size loads into memory flat in its number
    /// of cases. The built-in suites, compiled from the binary, are always held. [`HELD_CASES`].
    pub held_cases: usize,
}

/// The cases whose compiled steps are held (~2.4 KB each for a chat case, ~5 MB in all): a run
/// of up to this many cases compiles nothing twice.
pub const HELD_CASES: usize = 2_000;

#[derive(Debug)]
pub struct Project {
    pub suites: Vec<Suite>,
    pub schemas: Arc<SchemaStore>,
    /// What the user should know about where the suites came from (a project suite replacing a
    /// built-in one), one line each, for stderr.
    pub notes: Vec<String>,
}

/// Where one suite's text comes from.
enum Source {
    BuiltIn {
        file: &'static str,
        text: &'static str,
    },
    File(PathBuf),
}

/// Load schemas and suites; all problems of all files come back together.
///
/// The rule for ids: a suite file (the project's `suites/`, or a `--suite` path) whose `suite:`
/// id is a built-in suite's replaces that built-in suite, with a note saying so (none when the
/// file is the built-in suite, byte for byte, as in a checkout of llm-parity itself). Two files
/// with the same id are an error.
pub fn load_project(opts: &LoadOptions) -> Result<Project, Diagnostics> {
    // Parsing in parts frees and allocates the same buffers part after part: their pages are
    // kept until loading is done, then given back (below).
    let _kept = crate::util::mem::PagesKept::new();
    let schema_sources = SchemaSources::read(opts.schemas_dir.as_deref());
    let ids = schema_sources.ids();
    let mut diags = Diagnostics::default();
    let mut notes = Vec::new();
    let sources = suite_sources(opts, &mut diags, &mut notes);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let files = sources
        .iter()
        .filter(|s| matches!(s, Source::File(_)))
        .count();
    // The threads each file loading at the same time parses its parts on: every core for one
    // large file, two each (at most twice as many threads as cores) when files keep every core
    // busy — their smaller parse buffers still count: 10,000 cases in 10 files peak at 36 MiB
    // instead of 40 — and none extra on one core.
    let parts = (threads / files.clamp(1, threads)).max(2).min(threads);
    let env = |fixtures_root, builtin| suite::SuiteEnv {
        fixtures_root,
        allow_fixture_escape: opts.allow_fixture_escape,
        schema_ids: &ids,
        check_names: &opts.check_names,
        builtin,
    };
    let (builtin_env, file_env) = (env(None, true), env(Some(&opts.fixtures_dir), false));
    let steps_env = Arc::new(StepsEnv::new(
        Some(opts.fixtures_dir.clone()),
        opts.allow_fixture_escape,
        ids.clone(),
        opts.check_names.clone(),
    ));
    // The schemas compile on their own thread while the suites load (only their ids are needed
    // for that); a broken schema is still an error before anything runs.
    let (schemas, loaded) = std::thread::scope(|scope| {
        let schemas = scope.spawn(|| schema_sources.compile());
        // In source order, as they would load one after the other: the first `held_cases`
        // cases keep their compiled steps, a file's steps are released as soon as the files
        // before it are known (not after every file loaded: 10,000 cases' steps are ~24 MB).
        // `decided`: how many files that is, and how many cases they hold. A file whose
        // predecessors are all decided when it is parsed knows whether it will be held, and is
        // then not spilled for nothing; any other file is spilled in case it is released.
        let decided = Mutex::new((0, 0));
        let mut unspilled: Vec<String> = Vec::new();
        let indexed: Vec<(usize, &Source)> = sources.iter().enumerate().collect();
        let loaded = in_order(
            &indexed,
            threads,
            |&(i, source)| {
                let spill_if = |cases: usize| {
                    let (files, held) = *decided.lock().unwrap_or_else(|e| e.into_inner());
                    files != i || held + cases > opts.held_cases
                };
                load_source(
                    source,
                    &builtin_env,
                    &file_env,
                    parts,
                    &steps_env.spill,
                    &spill_if,
                )
            },
            |loaded| {
                let mut decided = decided.lock().unwrap_or_else(|e| e.into_inner());
                let (files, held) = &mut *decided;
                *files += 1;
                // A file of the project (a built-in suite has no spill and is always held).
                if let Ok((s, Some(spill))) = loaded {
                    let spill = std::mem::replace(spill, Spill::NotNeeded);
                    if *held + s.cases.len() <= opts.held_cases {
                        *held += s.cases.len();
                    } else {
                        match spill {
                            Spill::Written(spilled) => release_steps(s, spilled, &steps_env),
                            Spill::Failed(why) => unspilled.push(format!(
                                "note: the {} cases of {} keep their compiled steps in memory \
                                 (~2.4 KB each): {why}",
                                s.cases.len(),
                                s.file.display()
                            )),
                            // Decided held when it loaded, so held now.
                            Spill::NotNeeded => {}
                        }
                    }
                }
            },
        );
        let schemas = schemas
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        notes.extend(unspilled);
        (schemas, loaded)
    });
    let schemas = schemas?;
    // In source order: the diagnostics and the replacement of built-in suites do not depend on
    // the threads.
    let mut kept: Vec<Suite> = Vec::new();
    for result in loaded {
        match result {
            Ok((s, _)) => kept.push(s),
            Err(d) => diags.extend(d),
        }
    }
    // Duplicate ids are said after every file's own problems.
    let mut suites: Vec<Suite> = Vec::new();
    for s in kept {
        match suites.iter().position(|x| x.id == s.id) {
            None => suites.push(s),
            Some(i) if suites[i].builtin && !s.builtin => {
                notes.push(format!(
                    "note: suite `{}` from {} replaces the built-in suite `{}`",
                    s.id,
                    s.file.display(),
                    s.id
                ));
                suites[i] = s;
            }
            // The same built-in suite named twice (`--suite chat --suite chat`).
            Some(i) if suites[i].builtin && s.builtin => {}
            Some(i) => diags.push(
                Diagnostic::new(&s.file, format!("duplicate suite id `{}`", s.id))
                    .help(format!("also defined in {}", suites[i].file.display())),
            ),
        }
    }
    if diags.is_empty() {
        // What parsing took is free now; the run should not carry it.
        crate::util::mem::give_back_free_memory();
        Ok(Project {
            suites,
            schemas,
            notes,
        })
    } else {
        Err(diags)
    }
}

/// A loaded suite and, for a file, what became of its validated cases (`suite::spill`).
type Loaded = Result<(Suite, Option<Spill>), Diagnostics>;

/// Load one source: read the file, parse and validate it, its cases spilled to `spill` if
/// `spill_if` their number. A large suite is parsed in parts on `parts` threads
/// (`suite::load_suite_spilling`).
fn load_source(
    source: &Source,
    builtin_env: &SuiteEnv<'_>,
    file_env: &SuiteEnv<'_>,
    parts: usize,
    spill: &SpillFile,
    spill_if: &dyn Fn(usize) -> bool,
) -> Loaded {
    match source {
        Source::BuiltIn { file, text } => {
            let path = PathBuf::from(format!("{}{file}", builtin::SUITE_PREFIX));
            suite::load_suite_on(&path, text, builtin_env, Some(parts)).map(|s| (s, None))
        }
        Source::File(path) => {
            let text = read_bounded_string(path, yaml::MAX_INPUT_BYTES as u64)
                .map_err(|e| Diagnostics(vec![diag::read_problem(path, "suite", &e)]))?;
            let (mut s, spilled) =
                suite::load_suite_spilling(path, &text, file_env, Some(parts), spill, spill_if)?;
            // The built-in suite itself (a checkout of llm-parity, a copied file): the
            // built-in one, silently.
            s.builtin = builtin_text(&s.id).is_some_and(|t| t == text);
            Ok((s, Some(spilled)))
        }
    }
}

/// Drop the compiled steps of `s`'s cases: they are compiled again from the validated cases,
/// `spilled`, when they run.
fn release_steps(s: &mut Suite, spilled: Spilled, env: &Arc<StepsEnv>) {
    let file = Arc::new(SuiteSource::new(
        s.file.clone(),
        spilled,
        s.cases.len(),
        env.clone(),
    ));
    for (index, case) in s.cases.iter_mut().enumerate() {
        // Just loaded: nothing else holds the case yet.
        if let Some(case) = Arc::get_mut(case) {
            case.steps.release(&file, index);
        }
    }
}

/// The text of the built-in suite whose id is `id` (the file stem of every built-in suite is its
/// id: tests/it/project.rs checks it).
fn builtin_text(id: &str) -> Option<&'static str> {
    builtin::suite(id).map(|(_, text)| text)
}

fn suite_paths_in(dir: &Path, diags: &mut Diagnostics) -> Vec<Source> {
    yaml_files(dir, diags)
        .into_iter()
        .map(Source::File)
        .collect()
}

fn suite_sources(
    opts: &LoadOptions,
    diags: &mut Diagnostics,
    notes: &mut Vec<String>,
) -> Vec<Source> {
    let builtins = || {
        builtin::suites()
            .filter(|_| !opts.only_suites_dir)
            .map(|(file, text)| Source::BuiltIn { file, text })
    };
    if opts.suites.is_empty() {
        let mut out: Vec<Source> = builtins().collect();
        // A project without a suites directory just has none of its own.
        if opts.only_suites_dir || opts.suites_dir.exists() {
            out.extend(suite_paths_in(&opts.suites_dir, diags));
        }
        return out;
    }
    let mut out = Vec::new();
    for s in &opts.suites {
        let as_path = Path::new(s);
        if as_path.is_file() {
            out.push(Source::File(as_path.to_path_buf()));
        } else if as_path.is_dir() {
            out.extend(suite_paths_in(as_path, diags));
        } else {
            let named = [
                opts.suites_dir.join(format!("{s}.yaml")),
                opts.suites_dir.join(format!("{s}.yml")),
            ];
            if let Some(p) = named.iter().find(|p| p.is_file()) {
                // The project's file of that name is taken before the built-in suite.
                if let Some((_, text)) = builtin::suite(s).filter(|_| !opts.only_suites_dir)
                    && read_bounded_string(p, yaml::MAX_INPUT_BYTES as u64).is_ok_and(|t| t != text)
                {
                    notes.push(format!(
                        "note: `--suite {s}` is {}, not the built-in suite `{s}`",
                        p.display()
                    ));
                }
                out.push(Source::File(p.clone()));
            } else if let Some((file, text)) = builtin::suite(s).filter(|_| !opts.only_suites_dir) {
                out.push(Source::BuiltIn { file, text });
            } else {
                let mut known: Vec<String> =
                    yaml_files(&opts.suites_dir, &mut Diagnostics::default())
                        .iter()
                        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
                        .collect();
                known.extend(builtins().filter_map(|src| match src {
                    Source::BuiltIn { file, .. } => file.split('.').next().map(str::to_string),
                    Source::File(_) => None,
                }));
                known.sort();
                known.dedup();
                diags.push(
                    Diagnostic::new(Path::new(s), format!("no suite named `{s}`"))
                        .expected(format!("a file path or one of: {}", known.join(", ")))
                        .help_opt(diag::did_you_mean(s, known.iter().map(String::as_str))),
                );
            }
        }
    }
    out
}

fn yaml_files(dir: &Path, diags: &mut Diagnostics) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                })
                .collect();
            files.sort();
            files
        }
        Err(e) => {
            diags.push(Diagnostic::new(
                dir,
                format!("failed to read suites directory: {e}"),
            ));
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path, held_cases: usize) -> LoadOptions {
        LoadOptions {
            suites: vec![dir.display().to_string()],
            suites_dir: dir.join("no-suites"),
            only_suites_dir: false,
            fixtures_dir: dir.join("fixtures"),
            schemas_dir: None,
            allow_fixture_escape: false,
            check_names: vec![],
            held_cases,
        }
    }

    fn suite(id: &str, cases: usize) -> String {
        let mut s = format!("suite: {id}\ncases:\n");
        for i in 0..cases {
            s.push_str(&format!(
                "  - id: c{i}\n    feature: chat.basic\n    request: {{ path: /models, method: GET }}\n"
            ));
        }
        s
    }

    /// Many files loaded side by side: the suites in file order, the held cases those of the
    /// first files (as when loading one after the other), every broken file's diagnostics in
    /// file order, duplicate ids said against the first file.
    #[test]
    fn files_loaded_side_by_side_keep_the_order_of_suites_diagnostics_and_held_cases() {
        let dir = tempfile::tempdir().unwrap();
        for k in 0..12 {
            std::fs::write(
                dir.path().join(format!("s{k:02}.yaml")),
                suite(&format!("s{k:02}"), 3),
            )
            .unwrap();
        }
        let project = load_project(&options(dir.path(), 10)).expect("loads");
        let ids: Vec<&str> = project.suites.iter().map(|s| s.id.as_str()).collect();
        let expected: Vec<String> = (0..12).map(|k| format!("s{k:02}")).collect();
        assert_eq!(ids, expected);
        // 10 held cases: the first three files' nine; the fourth would pass the budget.
        let held: Vec<bool> = project
            .suites
            .iter()
            .map(|s| s.cases.iter().all(|c| c.steps.held().is_some()))
            .collect();
        assert_eq!(held, [[true; 3].as_slice(), &[false; 9]].concat());

        std::fs::write(dir.path().join("s03.yaml"), "suite: s03\ncases: [\n").unwrap();
        std::fs::write(dir.path().join("s07.yaml"), suite("s01", 1)).unwrap();
        std::fs::write(
            dir.path().join("s09.yaml"),
            "suite: s09\ncases:\n  - id: a\n    featur: chat.basic\n",
        )
        .unwrap();
        let diags = load_project(&options(dir.path(), 10)).unwrap_err();
        let said: Vec<(String, String)> = diags
            .0
            .iter()
            .map(|d| {
                let file = d.file.file_name().unwrap().to_string_lossy().to_string();
                (file, d.message.clone())
            })
            .collect();
        assert_eq!(said.len(), 4, "{said:?}");
        assert_eq!(said[0].0, "s03.yaml");
        assert!(said[0].1.starts_with("invalid YAML"), "{}", said[0].1);
        // s09's two problems, in their order in the file.
        assert_eq!(
            (said[1].0.as_str(), said[2].0.as_str()),
            ("s09.yaml", "s09.yaml")
        );
        assert!(
            said[1].1.starts_with("missing key `feature`"),
            "{}",
            said[1].1
        );
        assert!(
            said[2].1.starts_with("unknown key `featur`"),
            "{}",
            said[2].1
        );
        assert_eq!(
            said[3],
            ("s07.yaml".into(), "duplicate suite id `s01`".into())
        );
        // The same, load after load.
        let again = load_project(&options(dir.path(), 10)).unwrap_err();
        assert_eq!(format!("{again:?}"), format!("{diags:?}"));
    }

    /// A broken schema in `--schemas-dir` is the error, whatever the suites (compiled beside
    /// them, reported before anything runs).
    #[test]
    fn a_broken_schema_is_the_error_while_suites_load_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let suites = dir.path().join("suites");
        std::fs::create_dir(&suites).unwrap();
        std::fs::write(suites.join("a.yaml"), suite("a", 2)).unwrap();
        let schemas = dir.path().join("schemas");
        std::fs::create_dir(&schemas).unwrap();
        std::fs::write(schemas.join("mine.json"), "{\"type\": 12}").unwrap();
        let mut opts = options(&suites, 10);
        opts.schemas_dir = Some(schemas.clone());
        let diags = load_project(&opts).unwrap_err();
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert!(
            diags.0[0].message.starts_with("invalid JSON Schema"),
            "{}",
            diags.0[0].message
        );
        std::fs::write(schemas.join("mine.json"), "{\"type\": \"object\"}").unwrap();
        let project = load_project(&opts).expect("loads");
        assert!(project.schemas.ids().contains(&"mine".to_string()));
    }
}
