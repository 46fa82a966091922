//! `llm-parity init [DIR]`: scaffold a project in a team's own repository — a commented
//! `targets.yaml` (the role map explained), an example suite of the team's own request shapes
//! (`suites/my-app.yaml`, which validates and passes against the built-in endpoint) and a GitHub
//! Actions workflow using this repository's action. An existing file is never overwritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::args::InitArgs;
use super::error::CliError;
use super::out::outln;
use crate::exit;
use crate::load::{self, LoadOptions};

/// The example suite: the shapes of an app's own requests (`tests/it/project.rs` runs it
/// against the built-in endpoint).
pub const MY_APP_SUITE: &str = include_str!("init/my-app.yaml");
const WORKFLOW: &str = include_str!("init/llm-parity.yml");
const TARGETS_EXAMPLE: &str = include_str!("../../targets.example.yaml");

/// Where the action comes from when `--action` is not given: Cargo.toml's `repository` (a
/// GitHub address) at this version's tag.
fn default_action() -> Option<String> {
    let repo = env!("CARGO_PKG_REPOSITORY");
    let path = repo
        .strip_prefix("https://github.com/")?
        .trim_end_matches('/')
        .trim_end_matches(".git");
    Some(format!("{path}@v{}", env!("CARGO_PKG_VERSION")))
}

pub fn run(a: &InitArgs) -> Result<u8, CliError> {
    let known = a.action.clone().or_else(default_action);
    let action = known
        .clone()
        .unwrap_or_else(|| "OWNER/llm-parity@main".into());
    let files: [(&str, String); 3] = [
        ("targets.yaml", targets_yaml()),
        ("suites/my-app.yaml", MY_APP_SUITE.to_string()),
        (
            ".github/workflows/llm-parity.yml",
            WORKFLOW.replace("@ACTION@", &action),
        ),
    ];
    for (rel, text) in &files {
        let path = a.dir.join(rel);
        match write_new(&path, text) {
            Ok(true) => {
                outln!("wrote   {}", path.display());
                if rel.ends_with(".yml") && known.is_none() {
                    eprintln!(
                        "warning: this build does not know which repository it comes from: the workflow's \
                         `uses:` says {action}; set it to where you get llm-parity from (or pass --action)"
                    );
                }
            }
            Ok(false) => outln!("skipped {} (it exists; left as it is)", path.display()),
            Err(source) => {
                return Err(CliError::Write {
                    what: "the project files",
                    path,
                    source,
                });
            }
        }
    }
    let here = if a.dir == Path::new(".") {
        String::new()
    } else {
        format!(" --project {}", a.dir.display())
    };
    outln!(
        "next: llm-parity validate{here}    (every suite and the targets file, no network)\n      \
         llm-parity run{here}         (the built-in suites and suites/my-app.yaml, against the built-in endpoint)\n      \
         llm-parity run{here} --target local   (a target of targets.yaml)"
    );
    Ok(exit::OK)
}

/// Write `text` to a new file at `path`; `Ok(false)` when something is already there (a file,
/// a directory, a dangling link: nothing is replaced).
fn write_new(path: &Path, text: &str) -> std::io::Result<bool> {
    if path.symlink_metadata().is_ok() {
        return Ok(false);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    // `create_new`: a file created between the check above and here is not overwritten either.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// `targets.example.yaml` under a header that explains the role map with the built-in suites
/// that need each role (read from the suites themselves, so it cannot go stale).
fn targets_yaml() -> String {
    let mut out = String::from(
        "# llm-parity targets file, written by `llm-parity init` from targets.example.yaml.\n\
         # `llm-parity run --target NAME` runs a target below; `llm-parity list targets` lists them.\n#\n\
         # The role map: a target's `models:` maps each role to that endpoint's model id. Cases ask\n\
         # for a role (`{{model.chat}}` in a request), so one suite runs on every endpoint, each with\n\
         # its own model ids; a case whose role has no model on a target is skipped there.\n",
    );
    let opts = LoadOptions {
        suites: vec![],
        suites_dir: PathBuf::new(),
        only_suites_dir: false,
        fixtures_dir: PathBuf::new(),
        schemas_dir: None,
        allow_fixture_escape: false,
        check_names: crate::judge::checks::names().collect(),
        held_cases: load::HELD_CASES,
    };
    if let Ok(project) = load::load_project(&opts) {
        out.push_str("# The built-in suites that need each role:\n");
        for role in load::template::ROLES {
            let suites: Vec<&str> = project
                .suites
                .iter()
                .filter(|s| s.cases.iter().any(|c| c.roles.iter().any(|r| r == role)))
                .map(|s| s.id.as_str())
                .collect();
            if !suites.is_empty() {
                out.push_str(&format!("#   {role:<10} {}\n", suites.join(", ")));
            }
        }
    }
    // The example's own first line says to copy it here: this is the copy.
    let example = TARGETS_EXAMPLE
        .split_once('\n')
        .map_or(TARGETS_EXAMPLE, |(_, rest)| rest);
    out.push_str(example);
    out
}
