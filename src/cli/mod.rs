//! The command line: parse flags, dispatch, map every outcome to the documented exit code.

pub mod args;
mod clients;
mod completions;
pub mod config;
pub mod error;
pub mod gate;
mod init;
mod out;
mod run;
pub mod runbook;
mod snapshots;
pub mod targets;

use std::path::Path;
use std::process::ExitCode;

use clap::Parser as _;

use crate::exit;
use crate::load::{self, Diagnostics, LoadOptions, Project};
use args::{Cli, Command, ListWhat, ProjectArgs};
use error::CliError;
use out::outln;

pub use args::parse_size;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::CONFIG
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(*a),
        Command::List(a) => list(a.what, &a.project),
        Command::Validate(p) => validate(&p),
        Command::Serve(a) => serve(a),
        Command::Snapshots(a) => snapshots::run(&a),
        Command::Runbook(a) => runbook::run(*a),
        Command::Baseline(a) => gate::baseline(&a),
        Command::Merge(a) => gate::merge(&a),
        Command::Init(a) => init::run(&a),
        Command::Clients(a) => clients::run(&a),
        Command::Completions(a) => completions::completions(&a),
        Command::Man(a) => completions::man(&a),
    };
    // The one place a command's failure becomes its exit code.
    ExitCode::from(result.unwrap_or_else(|e| {
        e.print();
        e.exit_code()
    }))
}

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
fn check_project_dir(p: &ProjectArgs) -> Result<(), CliError> {
    match &p.project {
        Some(dir) if !dir.is_dir() => Err(CliError::usage(format!(
            "--project {}: not a directory",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// The async runtime every networked command runs on.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))
}

fn validate(p: &ProjectArgs) -> Result<u8, CliError> {
    check_project_dir(p)?;
    let mut diags = Diagnostics::default();
    let project = match load::load_project(&load_options(p)) {
        Ok(pr) => Some(pr),
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    let targets = match targets::load_file_targets(p) {
        Ok(t) => t,
        Err(d) => {
            diags.extend(d);
            vec![]
        }
    };
    if !diags.is_empty() {
        return Err(diags.into());
    }
    let project = project.expect("loaded");
    for note in &project.notes {
        eprintln!("{note}");
    }
    let cases: usize = project.suites.iter().map(|s| s.cases.len()).sum();
    let builtin = project.suites.iter().filter(|s| s.builtin).count();
    outln!(
        "ok: {} suite(s) ({builtin} built-in, {} from files), {} case(s), {} schema(s), {} target(s) in the targets file",
        project.suites.len(),
        project.suites.len() - builtin,
        cases,
        project.schemas.ids().len(),
        targets.len()
    );
    Ok(exit::OK)
}

fn list(what: ListWhat, p: &ProjectArgs) -> Result<u8, CliError> {
    if let ListWhat::Checks = what {
        for c in crate::judge::checks::all() {
            outln!("{:<32} {}", c.name, c.description);
        }
        return Ok(exit::OK);
    }
    if let ListWhat::Deviations = what {
        for d in llm_parity_reference::DEVIATIONS {
            outln!("{:<22} {}", d.id, d.summary);
        }
        return Ok(exit::OK);
    }
    if let ListWhat::Targets = what {
        let file = targets::load_file_targets(p)?;
        for (name, profile) in targets::BUILTIN {
            outln!("{name:<28} built-in reference endpoint (profile {profile})");
        }
        outln!(
            "{:<28} built-in reference endpoint with chosen deviations (list deviations)",
            format!("{}ID[+ID…]", targets::DEVIATION_TARGET)
        );
        for t in file {
            let roles: Vec<String> = t.models.iter().map(|(r, m)| format!("{r}={m}")).collect();
            outln!("{:<28} {} [{}]", t.name, t.base_url, roles.join(", "));
        }
        return Ok(exit::OK);
    }
    let project = load(p)?;
    match what {
        ListWhat::Suites => {
            // Where each suite came from: built in, or the file that added (or replaced) it.
            for s in &project.suites {
                let origin = if s.builtin {
                    "built-in".to_string()
                } else {
                    s.file.display().to_string()
                };
                outln!(
                    "{:<20} {:>3} case(s)  {:<24} {}",
                    s.id,
                    s.cases.len(),
                    origin,
                    s.description
                );
            }
        }
        ListWhat::Cases => {
            for s in &project.suites {
                for c in &s.cases {
                    let tags = if c.tags.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", c.tags.join(", "))
                    };
                    outln!("{:<40} {}{tags}", c.full_id(), c.feature);
                }
            }
        }
        ListWhat::Features => {
            let cases = project.suites.iter().flat_map(|s| s.cases.iter());
            for (feature, description) in crate::load::feature::described(cases.map(|c| &**c)) {
                outln!("{feature:<36} {}", description.unwrap_or("-"));
            }
        }
        ListWhat::Checks | ListWhat::Targets | ListWhat::Deviations => {
            unreachable!("handled above")
        }
    }
    Ok(exit::OK)
}

fn serve(a: args::ServeArgs) -> Result<u8, CliError> {
    let Some(profile) = llm_parity_reference::Profile::parse(&a.profile) else {
        return Err(CliError::usage(format!(
            "unknown --profile `{}` (expected `openai` or `gemini-compat`)",
            a.profile
        )));
    };
    let mut deviations = profile.deviations();
    for id in &a.deviations {
        match llm_parity_reference::Deviations::parse_id(id) {
            Ok(d) => deviations = deviations.union(d),
            Err(e) => return Err(CliError::usage(format!("--deviation: {e}"))),
        }
    }
    let api_key = match &a.api_key_env {
        None => None,
        Some(var) => match std::env::var(var) {
            Ok(k) if !k.is_empty() => Some(k),
            _ => {
                return Err(CliError::usage(format!(
                    "API key variable `{var}` (--api-key-env) is not set"
                )));
            }
        },
    };
    runtime()?.block_on(async move {
        let listener = match tokio::net::TcpListener::bind((a.host.as_str(), a.port)).await {
            Ok(l) => l,
            Err(e) => {
                return Err(CliError::usage(format!(
                    "cannot listen on {}:{}: {e}",
                    a.host, a.port
                )));
            }
        };
        let addr = listener
            .local_addr()
            .map(|x| x.to_string())
            .unwrap_or_default();
        eprintln!(
            "llm-parity reference endpoint (profile {}, deviations {deviations}) on http://{addr}/v1",
            profile.name()
        );
        for (role, id) in llm_parity_reference::models() {
            eprintln!("  {role:<10} {id}");
        }
        let config = llm_parity_reference::Config {
            deviations,
            api_key,
            delay_ms: a.delay_ms,
            stream_delay_ms: a.stream_delay_ms,
        };
        tokio::select! {
            r = llm_parity_reference::serve(listener, config) => match r {
                Ok(()) => Ok(exit::OK),
                Err(e) => Err(CliError::usage(format!("server error: {e}"))),
            },
            _ = tokio::signal::ctrl_c() => Ok(exit::OK),
        }
    })
}
