//! `llm-parity serve`: the built-in reference endpoint on a port of the user's choosing.

use super::args::ServeArgs;
use super::error::CliError;
use super::runtime::runtime;
use crate::exit;

pub fn run(a: ServeArgs) -> Result<u8, CliError> {
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
