//! `llm-parity clients`: runs the client probes (the same ones that verify the client
//! catalogue) against one target with the client libraries the user has installed, and reports
//! per call whether it works and what it raises.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::args::{ProjectArgs, TargetArgs};
use super::out::outln;
use super::targets;
use crate::clients::catalogue::{Catalogue, Client, Status};
use crate::clients::probe::{self, Interpreters, Job, ProbeRun};
use crate::exit;
use crate::load::Auth;

#[derive(Debug, Args)]
pub struct ClientsArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only these clients (repeatable; default: every one that is installed).
    #[arg(long = "client", value_enum, value_name = "CLIENT")]
    pub clients: Vec<ClientFlag>,
    /// The Python that has openai / langchain-openai installed (default: `python3` on PATH, so
    /// an active virtualenv is used; or LLM_PARITY_CLIENTS_PYTHON).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Where the Node packages are (default: ./node_modules, NODE_PATH and npm's global root;
    /// or LLM_PARITY_CLIENTS_NODE_PATH).
    #[arg(long, value_name = "DIR")]
    pub node_modules: Option<PathBuf>,
}

/// The clients of the catalogue, by their `--client` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientFlag {
    /// openai-python
    Python,
    /// openai-node
    Node,
    /// the Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`)
    Vercel,
    /// LangChain (`langchain-openai`)
    Langchain,
}

impl ClientFlag {
    fn id(self) -> &'static str {
        match self {
            ClientFlag::Python => "python",
            ClientFlag::Node => "node",
            ClientFlag::Vercel => "vercel",
            ClientFlag::Langchain => "langchain",
        }
    }
}

/// A whole probe run may take this long (each call has its own 30 s limit in the probe).
const PROBE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub fn run(a: &ClientsArgs) -> u8 {
    if a.target.all_targets || a.target.names.len() + usize::from(a.target.base_url.is_some()) > 1 {
        return super::usage_error(
            "`clients` probes one target: give one --target NAME or --base-url URL",
        );
    }
    let resolved = match targets::resolve(&a.project, &a.target) {
        Ok(r) => r,
        Err(d) => return super::report_diagnostics(&d),
    };
    let catalogue = Catalogue::shipped();
    let chosen: Vec<&Client> = catalogue
        .clients
        .iter()
        .filter(|c| a.clients.is_empty() || a.clients.iter().any(|f| f.id() == c.id))
        .collect();
    let mut interpreters = Interpreters::from_environment();
    if let Some(p) = &a.python {
        interpreters.python = p.clone();
    }
    if let Some(d) = &a.node_modules {
        interpreters.node_path = Some(d.clone().into_os_string());
    }
    let rt = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    rt.block_on(async {
        let target = match (resolved.targets.into_iter().next(), resolved.builtins.first()) {
            (Some(t), _) => std::sync::Arc::new(t),
            (None, Some(b)) => match targets::start_builtin(b).await {
                Ok(t) => t,
                Err(e) => return super::usage_error(&e),
            },
            (None, None) => return super::usage_error("no target to probe"),
        };
        let key = match &target.auth {
            Auth::None => None,
            Auth::Key { key, .. } => Some(key.expose().to_string()),
            Auth::Command { command, .. } => match crate::execute::http::run_token_command(command).await {
                Ok(t) => Some(t),
                Err(e) => return super::usage_error(&e),
            },
        };
        if !target.models.contains_key("chat") {
            return super::usage_error(&format!(
                "target `{}` has no chat model: give --model chat=ID (or `models:` in the targets file)",
                target.name
            ));
        }
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => return super::usage_error(&format!("cannot create a temporary directory: {e}")),
        };
        if let Err(e) = probe::write_scripts(dir.path()) {
            return super::usage_error(&format!("cannot write the probe scripts: {e}"));
        }
        let base_url = target.base_url.as_str().trim_end_matches('/').to_string();
        let job = Job {
            targets: vec![(target.name.clone(), base_url)],
            key,
            models: target.models.clone().into_iter().collect(),
            calls: vec![],
        };

        // First, which libraries are there: a probe with no target sends nothing.
        let empty = Job { targets: vec![], ..job.clone() };
        let mut installed: Vec<(&Client, BTreeMap<String, String>)> = Vec::new();
        for c in &chosen {
            match probe::run(c, &interpreters, &empty, dir.path(), PROBE_TIMEOUT).await {
                ProbeRun::Ran { versions, .. } => installed.push((c, versions)),
                ProbeRun::Missing { reason } => outln!("{:<30} not installed ({reason})", c.name),
                ProbeRun::Failed { reason } => outln!("{:<30} cannot run its probe: {reason}", c.name),
            }
        }
        if installed.is_empty() {
            eprintln!("error: none of the client libraries is installed; see docs/clients.md (pip install openai langchain-openai; npm install openai ai @ai-sdk/openai-compatible zod)");
            return exit::CONFIG;
        }
        let requests: u32 = installed
            .iter()
            .map(|(c, _)| planned_requests(&catalogue, c, &job.models))
            .sum();
        outln!(
            "probing `{}` with {}: at most {requests} short requests in all (one-sentence prompts, one tool call, one small embedding; a wrong key and an unknown model for the error classes)",
            target.name,
            installed
                .iter()
                .map(|(c, v)| format!("{} ({})", c.name, show_versions(v)))
                .collect::<Vec<_>>()
                .join(", "),
        );
        let mut any_breaks = false;
        for (c, _) in &installed {
            outln!("\n{}", c.name);
            match probe::run(c, &interpreters, &job, dir.path(), PROBE_TIMEOUT).await {
                ProbeRun::Ran { observations, .. } => {
                    for o in &observations {
                        any_breaks |= o.status.breaks();
                        let status = match o.status {
                            Status::Works => "✓ works",
                            Status::Raises => "✗ raises",
                            Status::Wrong => "✗ wrong",
                            Status::NotApplicable => "· n/a",
                        };
                        let symptom = if o.symptom.is_empty() { String::new() } else { format!("  {}", o.symptom) };
                        outln!("  {:<22} {status}{symptom}", o.call);
                    }
                }
                ProbeRun::Missing { reason } => outln!("  not installed ({reason})"),
                ProbeRun::Failed { reason } => {
                    any_breaks = true;
                    outln!("  the probe failed: {reason}");
                }
            }
        }
        if any_breaks { exit::FAILED } else { exit::OK }
    })
}

/// The requests `client`'s probe will send given the target's models (calls without a model
/// for their role send nothing).
fn planned_requests(
    catalogue: &Catalogue,
    client: &Client,
    models: &BTreeMap<String, String>,
) -> u32 {
    client
        .calls
        .iter()
        .filter_map(|c| catalogue.calls.get(c))
        .filter(|c| models.contains_key(&c.role))
        .map(|c| c.requests)
        .sum()
}

fn show_versions(v: &BTreeMap<String, String>) -> String {
    v.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
