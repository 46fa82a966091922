//! Loading the project (suites, fixtures, schemas) the way every command that needs it does.

use std::path::Path;

use super::args::ProjectArgs;
use super::error::CliError;
use crate::load::{self, LoadOptions, Project};

pub fn load_options(p: &ProjectArgs) -> LoadOptions {
    // `--suites-dir DIR` (deprecated) keeps its old meaning: exactly the suites in DIR, and the
    // fixtures beside it.
    let (suites_dir, only_suites_dir) = match &p.suites_dir {
        Some(dir) => {
            eprintln!(
                "warning: --suites-dir is deprecated: it runs only the suites in {} (as `--suite {}` does); \
                 `--project DIR` adds DIR/suites to the built-in suites",
                dir.display(),
                dir.display()
            );
            (dir.clone(), true)
        }
        None => (p.in_project(Path::new("suites")), false),
    };
    let fixtures_dir = match (&p.fixtures_dir, only_suites_dir) {
        (Some(dir), _) => p.in_project(dir),
        (None, true) => suites_dir
            .parent()
            .filter(|x| !x.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("fixtures"),
        (None, false) => p.in_project(Path::new("fixtures")),
    };
    LoadOptions {
        suites: p.suites.clone(),
        suites_dir,
        only_suites_dir,
        fixtures_dir,
        schemas_dir: p.schemas_dir.clone(),
        allow_fixture_escape: p.allow_fixture_escape,
        check_names: crate::judge::checks::names().collect(),
        held_cases: load::HELD_CASES,
    }
}

/// Load the project (its notes on stderr), or every problem in it.
pub fn load(p: &ProjectArgs) -> Result<Project, CliError> {
    check_project_dir(p)?;
    let project = load::load_project(&load_options(p))?;
    for note in &project.notes {
        eprintln!("{note}");
    }
    Ok(project)
}

/// `--project DIR` must be a directory: a typo would otherwise run the built-in suites alone.
pub fn check_project_dir(p: &ProjectArgs) -> Result<(), CliError> {
    match &p.project {
        Some(dir) if !dir.is_dir() => Err(CliError::usage(format!(
            "--project {}: not a directory",
            dir.display()
        ))),
        _ => Ok(()),
    }
}
