//! `llm-parity completions SHELL` and `llm-parity man`: the shell completion script and the
//! manual pages, generated from the same clap definition as the parser, so they can never
//! disagree with the flags the binary accepts.

use clap::CommandFactory as _;

use super::args::{Cli, CompletionsArgs, ManArgs, Shell};
use super::error::CliError;
use super::out::Stdout;
use crate::exit;

/// The completion script for `a.shell`, on stdout.
pub fn completions(a: &CompletionsArgs) -> Result<u8, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::from(a.shell),
        &mut Cli::command(),
        BIN,
        &mut script,
    );
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if a.shell == Shell::Bash {
        script = fix_bash_states(&script);
    }
    super::out::out!("{script}");
    Ok(exit::OK)
}

const BIN: &str = "llm-parity";

/// clap_complete's bash script spells the state of a subcommand two ways when the binary's name
/// has a hyphen (clap-rs/clap#6421): its word loop arrives at `llm__parity__subcmd__run`, while
/// the case arms read `llm__subcmd__parity__subcmd__run`, so nothing after the subcommand ever
/// completes. The arms are respelled the loop's way (tests/it/shell.rs completes in a real bash).
fn fix_bash_states(script: &str) -> String {
    script.replace("llm__subcmd__parity", "llm__parity")
}

/// The main manual page on stdout, or every page into `--dir`.
pub fn man(a: &ManArgs) -> Result<u8, CliError> {
    let cmd = Cli::command();
    match &a.dir {
        None => clap_mangen::Man::new(cmd)
            .render(&mut Stdout)
            .map_err(|e| CliError::Render {
                what: "the manual page",
                message: e.to_string(),
            })?,
        Some(dir) => {
            let names = std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(cmd, dir))
                .and_then(|()| pages(dir))
                .map_err(|source| CliError::Write {
                    what: "the manual pages",
                    path: dir.clone(),
                    source,
                })?;
            eprintln!("man: {} page(s) in {}", names.len(), dir.display());
        }
    }
    Ok(exit::OK)
}

/// The pages in `dir`, for the closing line.
fn pages(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("llm-parity") && n.ends_with(".1"))
        .collect();
    names.sort();
    Ok(names)
}
