//! Parse the command line, run the chosen command, and turn its result into the exit code.

use std::process::ExitCode;

use clap::Parser as _;

use super::args::{Cli, Command};
use super::{clients, completions, gate, init, list, run, runbook, serve, snapshots, validate};
use crate::exit;

/// The program: every command, and the one place its failure becomes its exit code.
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
        Command::List(a) => list::run(a.what, &a.project),
        Command::Validate(p) => validate::run(&p),
        Command::Serve(a) => serve::run(a),
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
