//! Loading a project: every suite (by name, path or directory) and the schemas they refer to,
//! with all problems of all files reported together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diag::{self, Diagnostic, Diagnostics};
use super::schemas::SchemaStore;
use super::suite::{self, Suite};
use super::yaml;
use crate::util::fs::read_bounded_string;

/// Where suites come from and what they may refer to.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--suite` values: names (looked up in `suites_dir`) or paths. Empty = every suite.
    pub suites: Vec<String>,
    pub suites_dir: PathBuf,
    pub fixtures_dir: PathBuf,
    pub schemas_dir: Option<PathBuf>,
    pub allow_fixture_escape: bool,
    /// The built-in checks a suite may name (the judge's `checks::names()`).
    pub check_names: Vec<&'static str>,
}

#[derive(Debug)]
pub struct Project {
    pub suites: Vec<Suite>,
    pub schemas: Arc<SchemaStore>,
}

/// Load schemas and suites; all problems of all files come back together.
pub fn load_project(opts: &LoadOptions) -> Result<Project, Diagnostics> {
    let schemas = SchemaStore::load(opts.schemas_dir.as_deref())?;
    let ids = schemas.ids();
    let env = suite::SuiteEnv {
        fixtures_root: &opts.fixtures_dir,
        allow_fixture_escape: opts.allow_fixture_escape,
        schema_ids: &ids,
        check_names: &opts.check_names,
    };
    let mut diags = Diagnostics::default();
    let mut suites = Vec::new();
    for path in suite_paths(opts, &mut diags) {
        match read_bounded_string(&path, yaml::MAX_INPUT_BYTES as u64) {
            Ok(text) => match suite::load_suite(&path, &text, &env) {
                Ok(s) => suites.push(s),
                Err(d) => diags.extend(d),
            },
            Err(e) => diags.push(super::diag::read_problem(&path, "suite", &e)),
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for s in &suites {
        if let Some(prev) = seen.insert(s.id.clone(), s.file.clone()) {
            diags.push(
                Diagnostic::new(&s.file, format!("duplicate suite id `{}`", s.id))
                    .help(format!("also defined in {}", prev.display())),
            );
        }
    }
    if diags.is_empty() {
        Ok(Project { suites, schemas })
    } else {
        Err(diags)
    }
}

fn suite_paths(opts: &LoadOptions, diags: &mut Diagnostics) -> Vec<PathBuf> {
    if opts.suites.is_empty() {
        return yaml_files(&opts.suites_dir, diags);
    }
    let mut out = Vec::new();
    for s in &opts.suites {
        let as_path = Path::new(s);
        if as_path.is_file() {
            out.push(as_path.to_path_buf());
        } else if as_path.is_dir() {
            out.extend(yaml_files(as_path, diags));
        } else {
            let named = [
                opts.suites_dir.join(format!("{s}.yaml")),
                opts.suites_dir.join(format!("{s}.yml")),
            ];
            match named.iter().find(|p| p.is_file()) {
                Some(p) => out.push(p.clone()),
                None => {
                    let known: Vec<String> =
                        yaml_files(&opts.suites_dir, &mut Diagnostics::default())
                            .iter()
                            .filter_map(|p| {
                                p.file_stem().and_then(|s| s.to_str()).map(str::to_string)
                            })
                            .collect();
                    diags.push(
                        Diagnostic::new(Path::new(s), format!("no suite named `{s}`"))
                            .expected(format!("a file path or one of: {}", known.join(", ")))
                            .help_opt(diag::did_you_mean(s, known.iter().map(String::as_str))),
                    );
                }
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
