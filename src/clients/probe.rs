//! Running a probe: the embedded scripts are written to a temporary directory, started with
//! the user's (or CI's) Python or Node, given their job by environment variables — the key
//! too, never on a command line — and their JSON lines read back.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::catalogue::{Client, Status};

/// Every file the probes need, relative to `clients/`, embedded in the binary.
pub const FILES: &[(&str, &str)] = &[
    (
        "python/common.py",
        include_str!("../../clients/python/common.py"),
    ),
    (
        "python/openai_probe.py",
        include_str!("../../clients/python/openai_probe.py"),
    ),
    (
        "python/langchain_probe.py",
        include_str!("../../clients/python/langchain_probe.py"),
    ),
    (
        "node/common.cjs",
        include_str!("../../clients/node/common.cjs"),
    ),
    (
        "node/openai_probe.cjs",
        include_str!("../../clients/node/openai_probe.cjs"),
    ),
    (
        "node/vercel_probe.cjs",
        include_str!("../../clients/node/vercel_probe.cjs"),
    ),
];

/// What runs a probe script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Python,
    Node,
}

impl Runtime {
    /// By the script's extension.
    pub fn of(probe: &str) -> Runtime {
        if probe.ends_with(".py") {
            Runtime::Python
        } else {
            Runtime::Node
        }
    }
}

/// Where the interpreters and their packages are.
#[derive(Debug, Clone)]
pub struct Interpreters {
    /// The Python that has the libraries (`python3` on PATH: an active venv wins).
    pub python: PathBuf,
    /// The Node executable.
    pub node: PathBuf,
    /// Where Node looks for packages (NODE_PATH).
    pub node_path: Option<OsString>,
}

impl Interpreters {
    /// The user's own: `LLM_PARITY_CLIENTS_PYTHON` or `python3`; `node`; packages from
    /// `LLM_PARITY_CLIENTS_NODE_PATH`, else `./node_modules`, `NODE_PATH` and npm's global root.
    pub fn from_environment() -> Interpreters {
        let python = std::env::var_os("LLM_PARITY_CLIENTS_PYTHON")
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from("python3"), PathBuf::from);
        let node_path = std::env::var_os("LLM_PARITY_CLIENTS_NODE_PATH")
            .filter(|p| !p.is_empty())
            .or_else(|| {
                let mut dirs: Vec<PathBuf> = Vec::new();
                if let Ok(cwd) = std::env::current_dir() {
                    dirs.push(cwd.join("node_modules"));
                }
                if let Some(p) = std::env::var_os("NODE_PATH") {
                    dirs.extend(std::env::split_paths(&p));
                }
                if let Some(global) = npm_global_root() {
                    dirs.push(global);
                }
                std::env::join_paths(dirs).ok()
            });
        Interpreters {
            python,
            node: PathBuf::from("node"),
            node_path,
        }
    }
}

/// `npm root -g`, where globally installed packages live (none when npm is absent).
fn npm_global_root() -> Option<PathBuf> {
    let out = std::process::Command::new("npm")
        .args(["root", "-g"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let path = text.trim();
    (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

/// What to probe: targets (name, base URL), the key, the models by role, optionally a subset
/// of calls, and for the opt-in `context_length` call the length of its prompt.
#[derive(Clone, Default)]
pub struct Job {
    pub targets: Vec<(String, String)>,
    pub key: Option<String>,
    pub models: BTreeMap<String, String>,
    pub calls: Vec<String>,
    /// Words of filler the `context_length` call sends; `None`: the call is not made (it costs
    /// a prompt longer than the model's context).
    pub context_words: Option<u64>,
}

impl std::fmt::Debug for Job {
    /// Redacts the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("targets", &self.targets)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("models", &self.models)
            .field("calls", &self.calls)
            .field("context_words", &self.context_words)
            .finish()
    }
}

/// One call's result on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub target: String,
    pub call: String,
    pub status: Status,
    pub symptom: String,
}

/// How a probe run ended.
#[derive(Debug, Clone)]
pub enum ProbeRun {
    /// The library (or its runtime) is not installed.
    Missing { reason: String },
    /// The probe ran: the library's versions and every call's result.
    Ran {
        versions: BTreeMap<String, String>,
        observations: Vec<Observation>,
    },
    /// The probe itself failed (a crash, a timeout, unreadable output).
    Failed { reason: String },
}

/// One line of a probe's output.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Client {
        #[allow(dead_code)]
        client: String,
        versions: BTreeMap<String, Option<String>>,
    },
    Call {
        target: String,
        call: String,
        status: Status,
        symptom: String,
    },
    Missing {
        #[allow(dead_code)]
        client: String,
        error: String,
    },
}

/// Writes the embedded probe scripts under `dir` (`dir/python/…`, `dir/node/…`).
pub fn write_scripts(dir: &Path) -> std::io::Result<()> {
    for (path, text) in FILES {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, text)?;
    }
    Ok(())
}

/// Runs `client`'s probe (scripts already written under `dir`) and reads its results.
pub async fn run(
    client: &Client,
    interpreters: &Interpreters,
    job: &Job,
    dir: &Path,
    timeout: Duration,
) -> ProbeRun {
    let script = dir.join(&client.probe);
    let runtime = Runtime::of(&client.probe);
    let mut cmd = match runtime {
        Runtime::Python => tokio::process::Command::new(&interpreters.python),
        Runtime::Node => tokio::process::Command::new(&interpreters.node),
    };
    let targets: Vec<serde_json::Value> = job
        .targets
        .iter()
        .map(|(name, url)| serde_json::json!({ "name": name, "base_url": url }))
        .collect();
    cmd.arg(&script)
        .current_dir(script.parent().unwrap_or(dir))
        .env(
            "LLM_PARITY_PROBE_TARGETS",
            serde_json::Value::from(targets).to_string(),
        )
        .env(
            "LLM_PARITY_PROBE_MODELS",
            serde_json::to_string(&job.models).unwrap_or_default(),
        )
        .env("LLM_PARITY_PROBE_KEY", job.key.as_deref().unwrap_or(""))
        .env("LLM_PARITY_PROBE_CALLS", job.calls.join(","))
        .env(
            "LLM_PARITY_PROBE_CONTEXT_WORDS",
            job.context_words.map(|n| n.to_string()).unwrap_or_default(),
        )
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // SDKs read these; the probe hands each client its key and base URL explicitly.
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
    ] {
        cmd.env_remove(var);
    }
    if let (Runtime::Node, Some(p)) = (runtime, &interpreters.node_path) {
        cmd.env("NODE_PATH", p);
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let exe = match runtime {
                Runtime::Python => &interpreters.python,
                Runtime::Node => &interpreters.node,
            };
            return ProbeRun::Missing {
                reason: format!("`{}` not found", exe.display()),
            };
        }
        Err(e) => {
            return ProbeRun::Failed {
                reason: format!("cannot start the probe: {e}"),
            };
        }
    };
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            return ProbeRun::Failed {
                reason: format!("the probe failed: {e}"),
            };
        }
        Err(_) => {
            return ProbeRun::Failed {
                reason: format!("the probe did not finish within {} s", timeout.as_secs()),
            };
        }
    };
    // What the probe prints is quoted through `excerpt`, which masks the process's secrets
    // before it cuts: the key is one of them.
    if let Some(k) = &job.key {
        crate::redact::SecretRegistry::process().add(k);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    parse_output(&stdout, &stderr, output.status.code())
}

/// Reads a probe's output lines; `code` is its exit code.
pub fn parse_output(stdout: &str, stderr: &str, code: Option<i32>) -> ProbeRun {
    let mut versions = BTreeMap::new();
    let mut observations = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Missing { error, .. }) => return ProbeRun::Missing { reason: error },
            Ok(Line::Client { versions: v, .. }) => {
                versions = v
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_else(|| "unknown".into())))
                    .collect();
            }
            Ok(Line::Call {
                target,
                call,
                status,
                symptom,
            }) => observations.push(Observation {
                target,
                call,
                status,
                symptom,
            }),
            Err(e) => {
                return ProbeRun::Failed {
                    reason: format!("unreadable probe output ({e}): {}", excerpt(line)),
                };
            }
        }
    }
    if code != Some(0) {
        return ProbeRun::Failed {
            reason: format!(
                "the probe exited with {}: {}",
                code.map_or("a signal".to_string(), |c| c.to_string()),
                excerpt(
                    stderr
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("")
                )
            ),
        };
    }
    ProbeRun::Ran {
        versions,
        observations,
    }
}

/// A line of the probe's output as a reason quotes it: redacted, then cut.
fn excerpt(text: &str) -> String {
    crate::util::text::excerpt(text, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_become_observations() {
        let out = r#"{"type": "client", "client": "openai-python", "versions": {"openai": "3.57.0"}}
{"type": "call", "target": "t", "call": "chat", "status": "works", "symptom": ""}
{"type": "call", "target": "t", "call": "tools_stream", "status": "raises", "symptom": "TypeError: x"}
"#;
        let ProbeRun::Ran {
            versions,
            observations,
        } = parse_output(out, "", Some(0))
        else {
            panic!("ran");
        };
        assert_eq!(versions["openai"], "3.57.0");
        assert_eq!(observations[1].status, Status::Raises);
    }

    #[test]
    fn missing_libraries_crashes_and_garbage_are_told_apart() {
        let missing =
            r#"{"type": "missing", "client": "openai-node", "error": "cannot load openai"}"#;
        assert!(matches!(
            parse_output(missing, "", Some(3)),
            ProbeRun::Missing { .. }
        ));
        let ProbeRun::Failed { reason } = parse_output("", "Traceback…\nKeyError: x\n", Some(1))
        else {
            panic!("failed");
        };
        assert!(
            reason.contains("exited with 1") && reason.contains("KeyError"),
            "{reason}"
        );
        assert!(matches!(
            parse_output("not json", "", Some(0)),
            ProbeRun::Failed { .. }
        ));
    }

    #[test]
    fn the_key_is_masked_in_probe_errors_and_debug_output() {
        crate::redact::SecretRegistry::process().add("probe-secret-Qx7Vb2Lk9");
        let ProbeRun::Failed { reason } =
            parse_output("", "boom PROBE-SECRET-qx7vb2lk9 boom", Some(1))
        else {
            panic!("a failed probe");
        };
        assert_eq!(reason, "the probe exited with 1: boom *** boom");
        let job = Job {
            key: Some("sk-secret-1".into()),
            ..Job::default()
        };
        assert!(!format!("{job:?}").contains("secret"));
    }
}
