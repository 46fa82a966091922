//! `llm-parity clients`: runs the client probes (the same ones that verify the client
//! catalogue) against one target with the client libraries the user has installed, and reports
//! per call whether it works and what it raises.

use std::collections::BTreeMap;
use std::time::Duration;

use super::args::ClientsArgs;
use super::error::CliError;
use super::out::outln;
use super::targets;
use crate::clients::catalogue::{Call, Catalogue, Client, Status};
use crate::clients::probe::{self, Interpreters, Job, ProbeRun};
use crate::exit;
use crate::load::Auth;

/// How long `clients` waits for a target's auth command to print a token.
const CLIENT_TOKEN_LIMIT: Duration = Duration::from_secs(60);

/// A whole probe run may take this long (each call has its own 30 s limit in the probe).
const PROBE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub fn run(a: &ClientsArgs) -> Result<u8, CliError> {
    if a.target.all_targets || a.target.names.len() + usize::from(a.target.base_url.is_some()) > 1 {
        return Err(CliError::usage(
            "`clients` probes one target: give one --target NAME or --base-url URL",
        ));
    }
    let resolved = targets::resolve(&a.project, &a.target)?;
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
    super::runtime()?.block_on(async {
        let target = match (resolved.targets.into_iter().next(), resolved.builtins.first()) {
            (Some(t), _) => std::sync::Arc::new(t),
            (None, Some(b)) => targets::start_builtin(b).await?,
            (None, None) => return Err(CliError::usage("no target to probe")),
        };
        let key = match &target.auth {
            Auth::None => None,
            Auth::Key { key, .. } => Some(key.expose().to_string()),
            Auth::Command { command, .. } => match crate::execute::token::run_once(command, CLIENT_TOKEN_LIMIT).await {
                Ok(t) => Some(t.expose().to_string()),
                Err(e) => return Err(CliError::usage(e.to_string())),
            },
        };
        if !target.models.contains_key("chat") {
            return Err(CliError::usage(format!(
                "target `{}` has no chat model: give --model chat=ID (or `models:` in the targets file)",
                target.name
            )));
        }
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => return Err(CliError::usage(format!("cannot create a temporary directory: {e}"))),
        };
        if let Err(e) = probe::write_scripts(dir.path()) {
            return Err(CliError::usage(format!("cannot write the probe scripts: {e}")));
        }
        let base_url = target.base_url.as_str().trim_end_matches('/').to_string();
        let job = Job {
            targets: vec![(target.name.clone(), base_url)],
            key,
            models: target.models.clone().into_iter().collect(),
            calls: vec![],
            context_words: a.context_words,
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
            return Err(CliError::usage(
                "none of the client libraries is installed; see docs/clients.md (pip install openai langchain-openai; npm install openai ai @ai-sdk/openai-compatible zod)",
            ));
        }
        let planned = planned_calls(
            &catalogue,
            installed.iter().map(|(c, _)| *c),
            &job.models,
            job.context_words.is_some(),
        );
        let requests: u32 = planned.iter().map(|c| c.requests).sum();
        let mut sends = vec!["one-sentence prompts"];
        for s in planned.iter().filter_map(|c| c.sends.as_deref()) {
            if !sends.contains(&s) {
                sends.push(s);
            }
        }
        outln!(
            "probing `{}` with {}: at most {requests} {} in all ({})",
            target.name,
            installed
                .iter()
                .map(|(c, v)| format!("{} ({})", c.name, show_versions(v)))
                .collect::<Vec<_>>()
                .join(", "),
            if job.context_words.is_some() { "requests" } else { "short requests" },
            sends.join("; "),
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
        Ok(if any_breaks { exit::FAILED } else { exit::OK })
    })
}

/// The calls the probes of `clients` will make given the target's models (calls without a
/// model for their role send nothing) and whether opt-in calls were asked for, one entry per
/// client and call.
fn planned_calls<'a>(
    catalogue: &'a Catalogue,
    clients: impl Iterator<Item = &'a Client>,
    models: &BTreeMap<String, String>,
    opt_in: bool,
) -> Vec<&'a Call> {
    clients
        .flat_map(|client| client.calls.iter())
        .filter_map(|c| catalogue.calls.get(c))
        .filter(|c| models.contains_key(&c.role) && (opt_in || !c.opt_in))
        .collect()
}

fn show_versions(v: &BTreeMap<String, String>) -> String {
    v.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
