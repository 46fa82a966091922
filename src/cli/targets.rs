//! Resolving which targets a run uses: named ones (targets file or built in), an ad-hoc one
//! from flags, `OPENAI_BASE_URL`, or — with nothing configured — the built-in reference endpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::args::{ProjectArgs, TargetArgs};
use crate::load::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::load::target::{AuthHeader, load_targets_keyless, parse_base_url};
use crate::load::yaml::MAX_INPUT_BYTES;
use crate::load::{Auth, Secret, Target};
use crate::util::fs::read_bounded_string;

/// Built-in target names and the reference profile each starts. Besides these,
/// `reference:deviation=ID[+ID…]` starts the reference endpoint with the named deviations
/// switched on (`llm-parity list deviations`).
pub const BUILTIN: &[(&str, &str)] = &[
    ("reference", "openai"),
    ("reference:gemini-compat", "gemini-compat"),
];

/// The prefix of a built-in target with chosen deviations.
pub const DEVIATION_TARGET: &str = "reference:deviation=";

/// A target the run must start itself before sending anything.
#[derive(Debug, Clone)]
pub struct BuiltinNeeded {
    pub name: String,
    pub deviations: llm_parity_reference::Deviations,
    /// What the target is, for the report (`built-in reference endpoint, profile openai`).
    pub description: String,
}

impl BuiltinNeeded {
    /// The built-in target called `name`: `None` when no built-in has that name, an error
    /// when it names a deviation the reference endpoint does not know.
    pub fn named(name: &str) -> Option<Result<BuiltinNeeded, TargetFlagError>> {
        if let Some(ids) = name.strip_prefix(DEVIATION_TARGET) {
            return Some(
                llm_parity_reference::Deviations::parse_list(ids)
                    .map(|deviations| BuiltinNeeded {
                        name: name.to_string(),
                        deviations,
                        description: format!(
                            "built-in reference endpoint, deviations {deviations}"
                        ),
                    })
                    .map_err(|e| TargetFlagError::Deviations {
                        name: name.to_string(),
                        reason: e.to_string(),
                    }),
            );
        }
        let (_, profile) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        let profile = llm_parity_reference::Profile::parse(profile).expect("known profile");
        Some(Ok(BuiltinNeeded {
            name: name.to_string(),
            deviations: profile.deviations(),
            description: format!("built-in reference endpoint, profile {}", profile.name()),
        }))
    }
}

/// A target flag that cannot be used (reported as a `<command line>` diagnostic).
#[derive(Debug, thiserror::Error)]
pub enum TargetFlagError {
    #[error("--model `{0}` is not ROLE=ID")]
    NotRoleId(String),
    #[error("--model `{flag}`: unknown role `{role}` (expected one of {known}){hint}")]
    UnknownRole {
        flag: String,
        role: String,
        known: String,
        /// `; did you mean …?`, or nothing.
        hint: String,
    },
    #[error("invalid --base-url `{url}`: {source}")]
    BaseUrl {
        url: String,
        source: crate::load::target::BaseUrlError,
    },
    #[error("API key variable `{0}` (--api-key-env) is not set")]
    KeyNotSet(String),
    #[error("target `{name}`: {reason}")]
    Deviations { name: String, reason: String },
}

/// Why a built-in target could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the reference endpoint: {0}")]
pub struct StartError(#[from] std::io::Error);

pub struct Resolved {
    /// Targets ready to use, except built-ins whose base URL is filled in once started.
    pub targets: Vec<Target>,
    pub builtins: Vec<BuiltinNeeded>,
}

pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The targets file in use: `--targets`, else the project's `targets.yaml` when present.
pub fn targets_file(p: &ProjectArgs) -> Option<PathBuf> {
    p.targets.clone().or_else(|| {
        let default = p.in_project(Path::new("targets.yaml"));
        default.is_file().then_some(default)
    })
}

pub fn load_file_targets(p: &ProjectArgs) -> Result<Vec<Target>, Diagnostics> {
    load_file_targets_keyless(p, false)
}

/// `keyless`: replaying recordings, so a missing key variable is not an error.
pub fn load_file_targets_keyless(
    p: &ProjectArgs,
    keyless: bool,
) -> Result<Vec<Target>, Diagnostics> {
    match targets_file(p) {
        None => Ok(vec![]),
        Some(path) => match read_bounded_string(&path, MAX_INPUT_BYTES as u64) {
            Ok(text) => load_targets_keyless(&path, &text, &env_lookup, keyless),
            Err(e) => Err(Diagnostics(vec![crate::load::diag::read_problem(
                &path,
                "targets file",
                &e,
            )])),
        },
    }
}

pub fn resolve(p: &ProjectArgs, t: &TargetArgs) -> Result<Resolved, Diagnostics> {
    resolve_keyless(p, t, false)
}

/// [`resolve`]; with `keyless` (replaying recordings) missing key variables are not errors.
pub fn resolve_keyless(
    p: &ProjectArgs,
    t: &TargetArgs,
    keyless: bool,
) -> Result<Resolved, Diagnostics> {
    let needs_file = !t.names.is_empty() || t.all_targets;
    let file_targets = if needs_file || p.targets.is_some() {
        load_file_targets_keyless(p, keyless)?
    } else {
        vec![]
    };
    let flag =
        |m: &dyn std::fmt::Display| Diagnostic::new(Path::new("<command line>"), m.to_string());
    let mut out = Resolved {
        targets: vec![],
        builtins: vec![],
    };
    let mut diags = Diagnostics::default();
    let models = parse_models(&t.models).map_err(|m| Diagnostics(vec![flag(&m)]))?;

    if t.all_targets {
        if file_targets.is_empty() {
            diags.push(
                flag(&"--all-targets needs a targets file with at least one target")
                    .expected("--targets FILE or ./targets.yaml"),
            );
        }
        out.targets.extend(file_targets.iter().cloned());
    }
    for name in &t.names {
        if out.targets.iter().any(|x| &x.name == name)
            || out.builtins.iter().any(|b| &b.name == name)
        {
            continue;
        }
        if let Some(found) = file_targets.iter().find(|x| &x.name == name) {
            out.targets.push(found.clone());
        } else if let Some(builtin) = BuiltinNeeded::named(name) {
            match builtin {
                Ok(b) => out.builtins.push(b),
                Err(m) => diags.push(flag(&m).expected(format!(
                    "{DEVIATION_TARGET}ID[+ID…] with ids from `llm-parity list deviations`"
                ))),
            }
        } else {
            let (expected, help) = unknown_target(name, p, &file_targets);
            diags.push(
                flag(&format!("unknown target `{name}`"))
                    .expected(expected)
                    .help_opt(help),
            );
        }
    }
    if let Some(url) = &t.base_url {
        match adhoc(url, t, &models, keyless) {
            Ok(x) => out.targets.push(x),
            Err(m) => diags.push(flag(&m)),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    if out.targets.is_empty() && out.builtins.is_empty() {
        if let Some(url) = env_lookup("OPENAI_BASE_URL").filter(|u| !u.is_empty()) {
            let mut m = models.clone();
            if let Some(model) = env_lookup("OPENAI_MODEL").filter(|x| !x.is_empty()) {
                m.entry("chat".into()).or_insert(model);
            }
            let base_url = parse_base_url(&url).map_err(|e| {
                Diagnostics(vec![flag(&format!("invalid OPENAI_BASE_URL `{url}`: {e}"))])
            })?;
            let auth = match env_lookup("OPENAI_API_KEY").filter(|k| !k.is_empty()) {
                Some(k) => Auth::Key {
                    header: AuthHeader::Bearer,
                    env: "OPENAI_API_KEY".into(),
                    key: Secret::new(k),
                },
                None => Auth::None,
            };
            out.targets.push(plain_target("env", base_url, auth, m));
        } else {
            let reference = BuiltinNeeded::named("reference").and_then(Result::ok);
            out.builtins
                .push(reference.expect("the plain reference is built in"));
        }
    }
    Ok(out)
}

/// For `unknown target NAME`: what is defined and where (the targets file in use, the built-in
/// targets), and a hint: the name it is close to, or that no targets file was found.
fn unknown_target(
    name: &str,
    p: &ProjectArgs,
    file_targets: &[Target],
) -> (String, Option<String>) {
    let defined: Vec<&str> = file_targets.iter().map(|x| x.name.as_str()).collect();
    let builtin: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
    let file = targets_file(p);
    let in_file = match &file {
        Some(f) if defined.is_empty() => format!("{} defines no target", f.display()),
        Some(f) => format!("defined in {}: {}", f.display(), defined.join(", ")),
        None => "no targets file".to_string(),
    };
    let expected = format!(
        "a target {in_file}; built in: {}, {DEVIATION_TARGET}ID[+ID…]",
        builtin.join(", ")
    );
    let close = did_you_mean(name, defined.iter().chain(&builtin).copied());
    let help = match (close, &file) {
        (Some(h), _) => Some(h),
        (None, None) => Some(format!(
            "{} was not found: `llm-parity init` writes one (or copy targets.example.yaml), or pass --targets FILE",
            p.in_project(Path::new("targets.yaml")).display()
        )),
        (None, Some(_)) => None,
    };
    (expected, help)
}

fn adhoc(
    url: &str,
    t: &TargetArgs,
    models: &BTreeMap<String, String>,
    keyless: bool,
) -> Result<Target, TargetFlagError> {
    let base_url = parse_base_url(url).map_err(|source| TargetFlagError::BaseUrl {
        url: url.to_string(),
        source,
    })?;
    let auth = match &t.api_key_env {
        None => Auth::None,
        Some(var) => match env_lookup(var).filter(|k| !k.is_empty()) {
            Some(k) => Auth::Key {
                header: AuthHeader::Bearer,
                env: var.clone(),
                key: Secret::new(k),
            },
            None if keyless => Auth::None,
            None => return Err(TargetFlagError::KeyNotSet(var.clone())),
        },
    };
    Ok(plain_target(
        t.name.as_deref().unwrap_or("adhoc"),
        base_url,
        auth,
        models.clone(),
    ))
}

pub fn plain_target(
    name: &str,
    base_url: url::Url,
    auth: Auth,
    models: BTreeMap<String, String>,
) -> Target {
    Target {
        name: name.into(),
        description: None,
        base_url,
        auth,
        models,
        headers: vec![],
        timeout: None,
        concurrency: None,
        rpm: None,
        unsupported: vec![],
        opt_in: vec![],
        via: None,
        pricing: None,
        env_secrets: vec![],
    }
}

fn parse_models(flags: &[String]) -> Result<BTreeMap<String, String>, TargetFlagError> {
    let mut m = BTreeMap::new();
    for f in flags {
        let Some((role, id)) = f.split_once('=') else {
            return Err(TargetFlagError::NotRoleId(f.clone()));
        };
        let roles = crate::load::template::ROLES;
        if !roles.contains(&role) {
            return Err(TargetFlagError::UnknownRole {
                flag: f.clone(),
                role: role.to_string(),
                known: roles.join(", "),
                hint: did_you_mean(role, roles.iter().copied())
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default(),
            });
        }
        m.insert(role.to_string(), id.to_string());
    }
    Ok(m)
}

/// Start a built-in reference endpoint in-process on 127.0.0.1 (ephemeral port) with a fresh
/// random key, and return its target.
pub async fn start_builtin(b: &BuiltinNeeded) -> Result<Arc<Target>, StartError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let key = format!("ref-{}", random_hex(16));
    let config = llm_parity_reference::Config {
        deviations: b.deviations,
        api_key: Some(key.clone()),
        delay_ms: 0,
        stream_delay_ms: 0,
    };
    tokio::spawn(async move {
        let _ = llm_parity_reference::serve(listener, config).await;
    });
    let base_url = parse_base_url(&format!("http://127.0.0.1:{port}/v1")).expect("valid local URL");
    let models = llm_parity_reference::models()
        .into_iter()
        .map(|(r, id)| (r.to_string(), id))
        .collect();
    let auth = Auth::Key {
        header: AuthHeader::Bearer,
        env: "(built-in)".into(),
        key: Secret::new(key),
    };
    let mut t = plain_target(&b.name, base_url, auth, models);
    t.description = Some(b.description.clone());
    Ok(Arc::new(t))
}

fn random_hex(n: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < n {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n);
    out
}
