//! Loading a project: the built-in suites and the project's own (by name, path or directory)
//! and the schemas they refer to, with all problems of all files reported together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::builtin;
use super::diag::{self, Diagnostic, Diagnostics};
use super::schemas::SchemaStore;
use super::suite::{self, StepsEnv, Suite, SuiteSource};
use super::yaml;
use crate::util::fs::read_bounded_string;

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
    /// How many cases keep their compiled steps in memory: past them, each suite file's cases
    /// are validated, then compiled again from the file when they run (`suite::Steps`), so a
    /// project of any size loads into memory flat in its number of cases. [`HELD_CASES`].
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
    let schemas = SchemaStore::load(opts.schemas_dir.as_deref())?;
    let ids = schemas.ids();
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
    let mut held = 0;
    let mut diags = Diagnostics::default();
    let mut loaded: Vec<Suite> = Vec::new();
    let mut notes = Vec::new();
    for source in suite_sources(opts, &mut diags, &mut notes) {
        match source {
            Source::BuiltIn { file, text } => {
                let path = PathBuf::from(format!("{}{file}", builtin::SUITE_PREFIX));
                match suite::load_suite(&path, text, &builtin_env) {
                    Ok(s) => loaded.push(s),
                    Err(d) => diags.extend(d),
                }
            }
            Source::File(path) => match read_bounded_string(&path, yaml::MAX_INPUT_BYTES as u64) {
                Ok(text) => match suite::load_suite(&path, &text, &file_env) {
                    Ok(mut s) => {
                        // The built-in suite itself (a checkout of llm-parity, a copied file):
                        // the built-in one, silently.
                        s.builtin = builtin_text(&s.id).is_some_and(|t| t == text);
                        if held + s.cases.len() <= opts.held_cases {
                            held += s.cases.len();
                        } else {
                            release_steps(&mut s, &text, &steps_env);
                        }
                        loaded.push(s);
                    }
                    Err(d) => diags.extend(d),
                },
                Err(e) => diags.push(super::diag::read_problem(&path, "suite", &e)),
            },
        }
    }
    let mut suites: Vec<Suite> = Vec::new();
    for s in loaded {
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
        Ok(Project {
            suites,
            schemas,
            notes,
        })
    } else {
        Err(diags)
    }
}

/// Drop the compiled steps of `s`'s cases: they are compiled again from its file, `text` as
/// validated, when they run.
fn release_steps(s: &mut Suite, text: &str, env: &Arc<StepsEnv>) {
    let file = Arc::new(SuiteSource::new(s.file.clone(), text, env.clone()));
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
