//! Targets files (`targets.yaml`) and the resolved `Target` the executor uses.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use super::diag::{Diagnostic, Diagnostics, did_you_mean};
use super::locate::Locator;
use super::shape::{Field, MapShape, Shape};
use super::template::ROLES;
use super::yaml::parse_yaml_shaped;
use crate::util::duration::{self, DurationError, Min};

/// A secret value: prints as `***` in every `Debug`/`Display`, so it cannot leak by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where the credential goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthHeader {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// A named header carrying the raw key (e.g. `x-goog-api-key`).
    Named(String),
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// A static key read from an environment variable at load time.
    Key {
        header: AuthHeader,
        env: String,
        key: Secret,
    },
    /// A short-lived token printed by a command (e.g. `gcloud auth print-access-token`); re-run
    /// after `refresh_after` and once on a 401.
    Command {
        header: AuthHeader,
        command: String,
        refresh_after: Duration,
    },
}

impl Auth {
    pub fn header(&self) -> Option<&AuthHeader> {
        match self {
            Auth::None => None,
            Auth::Key { header, .. } | Auth::Command { header, .. } => Some(header),
        }
    }
    /// The variable name that holds the key, for reports and rollback blocks (never the value).
    pub fn key_env(&self) -> Option<&str> {
        match self {
            Auth::Key { env, .. } => Some(env),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub description: Option<String>,
    pub base_url: url::Url,
    pub auth: Auth,
    pub models: BTreeMap<String, String>,
    pub headers: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    pub concurrency: Option<usize>,
    pub rpm: Option<u32>,
    pub unsupported: Vec<(String, GlobMatcher)>,
    pub opt_in: Vec<(String, GlobMatcher)>,
    /// The target this one routes to (it is a router in front of `via`).
    pub via: Option<String>,
    pub pricing: Option<Pricing>,
    /// The values `${env:…}` filled into this target's fields (all but those marked
    /// `|public`): secrets, whatever field they went into.
    pub env_secrets: Vec<Secret>,
}

impl Target {
    /// The pattern under which the user declared `feature` unsupported, if any.
    pub fn declared_unsupported(&self, feature: &str) -> Option<&str> {
        self.unsupported
            .iter()
            .find(|(_, g)| g.is_match(feature))
            .map(|(p, _)| p.as_str())
    }
    pub fn opts_in(&self, feature: &str) -> bool {
        self.opt_in.iter().any(|(_, g)| g.is_match(feature))
    }
    /// The model id for `role`, falling back as templates do (`responses` → `chat`).
    pub fn model(&self, role: &str) -> Option<&str> {
        super::template::model_for(&self.models, role)
    }
    /// Every secret value this target holds, for the redactor: its key, every value
    /// `${env:…}` filled in (unless marked `|public`), and the user-info of its base URL.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .env_secrets
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        if let Auth::Key { key, .. } = &self.auth {
            out.push(key.expose().to_string());
        }
        for part in [
            self.base_url.username(),
            self.base_url.password().unwrap_or(""),
        ] {
            if !part.is_empty() {
                out.push(part.to_string());
                // The URL keeps it percent-encoded; an error message may show either form.
                if let Ok(decoded) = percent_encoding::percent_decode_str(part).decode_utf8() {
                    out.push(decoded.into_owned());
                }
            }
        }
        out
    }
}

/// Only the absolute `base_url` is required; the model map decides which cases can run.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFileDef {
    targets: BTreeMap<String, TargetDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetDef {
    base_url: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    auth: Option<AuthDef>,
    #[serde(default)]
    models: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    timeout: Option<DurationDef>,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    rpm: Option<u32>,
    #[serde(default)]
    unsupported: Vec<String>,
    #[serde(default)]
    opt_in: Vec<String>,
    #[serde(default)]
    via: Option<String>,
    #[serde(default)]
    pricing: Option<Pricing>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthDef {
    #[serde(default)]
    api_key_env: Option<String>,
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    refresh_after: Option<DurationDef>,
}

/// A duration as written in YAML: `30s`, `50m`, or a bare number of seconds.
type DurationDef = serde_yaml::Value;

/// The targets file's format as a [`MapShape`], checked when serde refuses a file so that every
/// structural problem in it is reported at once (a test holds it to the `*Def` structs' keys).
const TARGETS_FILE: MapShape = MapShape {
    name: "the targets file",
    fields: &[Field::required(
        "targets",
        Shape::Dict(&Shape::Map(&TARGET)),
    )],
};

const TARGET: MapShape = MapShape {
    name: "a target",
    fields: &[
        Field::required("base_url", Shape::Str),
        Field::optional("description", Shape::Str),
        Field::optional("auth", Shape::Map(&AUTH)),
        Field::defaulted("models", Shape::Dict(&Shape::Str)),
        Field::defaulted("headers", Shape::Dict(&Shape::Str)),
        // A duration is a number of seconds or a text (`30s`); its value is checked later.
        Field::optional("timeout", Shape::Str),
        Field::optional("concurrency", Shape::UInt(u64::MAX)),
        Field::optional("rpm", Shape::UInt(u32::MAX as u64)),
        Field::defaulted("unsupported", Shape::List(&Shape::Str)),
        Field::defaulted("opt_in", Shape::List(&Shape::Str)),
        Field::optional("via", Shape::Str),
        Field::optional("pricing", Shape::Map(&PRICING)),
    ],
};

const AUTH: MapShape = MapShape {
    name: "a target's auth",
    fields: &[
        Field::optional("api_key_env", Shape::Str),
        Field::optional("header", Shape::Str),
        Field::optional("command", Shape::Str),
        Field::optional("refresh_after", Shape::Str),
    ],
};

const PRICING: MapShape = MapShape {
    name: "a target's pricing",
    fields: &[
        Field::required("input_per_mtok", Shape::Number),
        Field::required("output_per_mtok", Shape::Number),
    ],
};

/// How to look up environment variables (injected so tests need not touch the process env).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Load a targets file, reporting every problem in it at once.
pub fn load_targets(
    path: &Path,
    text: &str,
    env: EnvLookup<'_>,
) -> Result<Vec<Target>, Diagnostics> {
    load_targets_keyless(path, text, env, false)
}

/// Like [`load_targets`]; with `keyless` (replaying recordings: nothing reaches a live
/// endpoint), a missing key variable leaves the target without auth instead of failing.
pub fn load_targets_keyless(
    path: &Path,
    text: &str,
    env: EnvLookup<'_>,
    keyless: bool,
) -> Result<Vec<Target>, Diagnostics> {
    let source: Arc<str> = text.into();
    let def: TargetsFileDef = parse_yaml_shaped(path, &source, &TARGETS_FILE)?;
    let loc = Locator::new(&source);
    let mut diags = Diagnostics::default();
    let mut out = Vec::new();
    let names: Vec<String> = def.targets.keys().cloned().collect();
    for (name, t) in def.targets {
        let start = loc
            .find(0, &format!("{name}:"))
            .map(|(l, c)| super::diag::offset_of(&source, l, c).unwrap_or(0))
            .unwrap_or(0);
        let mut problem =
            |msg: String, needle: &str, expected: Option<String>, help: Option<String>| {
                let mut d = Diagnostic::new(path, msg)
                    .at_pos(loc.find(start, needle))
                    .with_source(&source)
                    .help_opt(help);
                if let Some(e) = expected {
                    d = d.expected(e);
                }
                diags.push(d);
            };
        if !valid_target_name(&name) {
            problem(
                format!("invalid target name `{name}`"),
                &name,
                Some("letters, digits, `_`, `-`, `.` and `:`".into()),
                None,
            );
        }
        let mut env_secrets: Vec<Secret> = Vec::new();
        let mut interp = |field: &str, value: &str| -> String {
            match interpolate_env(value, env) {
                Ok(Interpolated { text, secrets }) => {
                    env_secrets.extend(secrets.into_iter().map(Secret::new));
                    text
                }
                Err(MissingEnv(missing)) => {
                    problem(
                        format!(
                            "environment variable `{missing}` is not set (target `{name}`, field `{field}`)"
                        ),
                        &format!("${{env:{missing}"),
                        Some(format!("`{missing}` to be set in the environment")),
                        None,
                    );
                    String::new()
                }
            }
        };
        let base_text = interp("base_url", &t.base_url);
        let headers: Vec<(String, String)> = t
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), interp("headers", v)))
            .collect();
        let models: BTreeMap<String, String> = t
            .models
            .iter()
            .map(|(k, v)| (k.clone(), interp("models", v)))
            .collect();
        let base_url = if base_text.is_empty() {
            None
        } else {
            match parse_base_url(&base_text) {
                Ok(u) => Some(u),
                Err(e) => {
                    // What the environment filled in is not printed: it may hold a key.
                    let shown = if base_text == t.base_url {
                        format!("`{base_text}`")
                    } else {
                        format!("`{}` (with its ${{env:…}} values filled in)", t.base_url)
                    };
                    problem(
                        format!("invalid base_url {shown}: {e}"),
                        &t.base_url,
                        Some("an absolute http(s) URL such as `https://api.openai.com/v1`".into()),
                        None,
                    );
                    None
                }
            }
        };
        for role in models.keys() {
            if !ROLES.contains(&role.as_str()) {
                problem(
                    format!("unknown model role `{role}` in target `{name}`"),
                    &format!("{role}:"),
                    Some(format!("one of {}", ROLES.join(", "))),
                    did_you_mean(role, ROLES.iter().copied()),
                );
            }
        }
        let auth = match t.auth {
            None => Auth::None,
            Some(a) => {
                let header = match a.header.as_deref() {
                    None => AuthHeader::Bearer,
                    Some(h) if h.eq_ignore_ascii_case("authorization") => AuthHeader::Bearer,
                    Some(h) => AuthHeader::Named(h.to_ascii_lowercase()),
                };
                match (a.api_key_env, a.command) {
                    (Some(var), None) => match env(&var) {
                        Some(key) if !key.is_empty() => Auth::Key {
                            header,
                            env: var,
                            key: Secret::new(key),
                        },
                        _ if keyless => Auth::None,
                        _ => {
                            problem(
                                format!("API key variable `{var}` for target `{name}` is not set"),
                                &var,
                                Some(format!("`{var}` to hold the key (export {var}=…)")),
                                None,
                            );
                            Auth::None
                        }
                    },
                    (None, Some(command)) => {
                        let refresh_after = match a.refresh_after {
                            None => Duration::from_secs(50 * 60),
                            Some(d) => resolve_duration(d, Min::Zero).unwrap_or_else(|e| {
                                problem(
                                    format!("invalid refresh_after: {e}"),
                                    "refresh_after:",
                                    Some("e.g. `30s`, `50m`, `1h`".into()),
                                    None,
                                );
                                Duration::from_secs(50 * 60)
                            }),
                        };
                        Auth::Command {
                            header,
                            command,
                            refresh_after,
                        }
                    }
                    _ => {
                        problem(
                            format!(
                                "target `{name}`: auth needs exactly one of `api_key_env` or `command`"
                            ),
                            "auth:",
                            Some("`api_key_env: VAR` or `command: \"…\"`".into()),
                            None,
                        );
                        Auth::None
                    }
                }
            }
        };
        let timeout = t
            .timeout
            .and_then(|d| match resolve_duration(d, Min::Positive) {
                Ok(d) => Some(d),
                Err(e) => {
                    problem(
                        format!("invalid timeout: {e}"),
                        "timeout:",
                        Some("e.g. `30s`, `2m`".into()),
                        None,
                    );
                    None
                }
            });
        let mut globs = |patterns: &[String], field: &str| -> Vec<(String, GlobMatcher)> {
            patterns
                .iter()
                .filter_map(|p| match Glob::new(p) {
                    Ok(g) => Some((p.clone(), g.compile_matcher())),
                    Err(e) => {
                        problem(
                            format!("invalid glob `{p}` in `{field}`: {e}"),
                            p,
                            Some("a feature glob such as `vision.*`".into()),
                            None,
                        );
                        None
                    }
                })
                .collect()
        };
        let unsupported = globs(&t.unsupported, "unsupported");
        let opt_in = globs(&t.opt_in, "opt_in");
        if let Some(v) = &t.via
            && !names.contains(v)
        {
            problem(
                format!("target `{name}` is `via` an unknown target `{v}`"),
                v,
                Some(format!("one of {}", names.join(", "))),
                did_you_mean(v, names.iter().map(String::as_str)),
            );
        }
        if t.concurrency == Some(0) {
            problem(
                "concurrency must be at least 1".into(),
                "concurrency:",
                Some("a positive integer".into()),
                None,
            );
        }
        if let Some(p) = &t.pricing {
            for (field, price) in [
                ("input_per_mtok", p.input_per_mtok),
                ("output_per_mtok", p.output_per_mtok),
            ] {
                if !(price.is_finite() && price >= 0.0) {
                    problem(
                        format!("pricing `{field}` of target `{name}` is {price}"),
                        &format!("{field}:"),
                        Some("a non-negative number (dollars per million tokens)".into()),
                        None,
                    );
                }
            }
        }
        if t.rpm == Some(0) {
            problem(
                "rpm must be at least 1".into(),
                "rpm:",
                Some("a positive number of requests per minute".into()),
                None,
            );
        }
        if let Some(base_url) = base_url {
            out.push(Target {
                name,
                description: t.description,
                base_url,
                auth,
                models,
                headers,
                timeout,
                concurrency: t.concurrency,
                rpm: t.rpm,
                unsupported,
                opt_in,
                via: t.via,
                pricing: t.pricing,
                env_secrets,
            });
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// A duration field (`timeout:`, `refresh_after:`), checked like the duration flags
/// (`util::duration`).
fn resolve_duration(d: DurationDef, min: Min) -> Result<Duration, DurationError> {
    match d {
        serde_yaml::Value::Number(n) => match n.as_f64() {
            Some(secs) => duration::from_number(secs, &n.to_string(), min),
            None => duration::parse(&n.to_string(), min),
        },
        serde_yaml::Value::String(t) => duration::parse(&t, min),
        other => Err(DurationError::Syntax(
            serde_yaml::to_string(&other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        )),
    }
}

fn valid_target_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// A `${env:NAME}` whose variable is not set: its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable `{0}` is not set")]
pub struct MissingEnv(pub String);

/// A field with its `${env:…}` references filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpolated {
    pub text: String,
    /// The values filled in, except those marked `|public`: every one is a secret.
    pub secrets: Vec<String>,
}

/// The mark that makes a `${env:NAME|public}` value printable (a model id, a region).
pub const PUBLIC_MARK: &str = "public";

/// Replace every `${env:NAME}` (and `${env:NAME|public}`); the error names the first missing
/// variable. Each value filled in is a secret unless marked `|public`: a key passed in a
/// custom header or a URL must never reach a report, and the tool cannot tell a key from a
/// model id.
pub fn interpolate_env(value: &str, env: EnvLookup<'_>) -> Result<Interpolated, MissingEnv> {
    let mut out = Interpolated {
        text: String::new(),
        secrets: vec![],
    };
    let mut rest = value;
    while let Some(i) = rest.find("${env:") {
        out.text.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let Some(end) = after.find('}') else {
            out.text.push_str(&rest[i..]);
            return Ok(out);
        };
        let reference = &after[..end];
        let (name, public) = match reference.split_once('|') {
            Some((name, mark)) if mark.trim() == PUBLIC_MARK => (name.trim(), true),
            _ => (reference, false),
        };
        let v = env(name).ok_or_else(|| MissingEnv(name.to_string()))?;
        if !public && !v.is_empty() {
            out.secrets.push(v.clone());
        }
        out.text.push_str(&v);
        rest = &after[end + 1..];
    }
    out.text.push_str(rest);
    Ok(out)
}

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error(transparent)]
    Invalid(#[from] url::ParseError),
    #[error("scheme `{0}` is not http or https")]
    Scheme(String),
}

/// A base URL with a trailing slash, so relative case paths join under it
/// (`…/v1beta/openai/` + `chat/completions`).
pub fn parse_base_url(text: &str) -> Result<url::Url, BaseUrlError> {
    let mut u = url::Url::parse(text.trim())?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(BaseUrlError::Scheme(u.scheme().to_string()));
    }
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shape_takes_the_keys_serde_takes() {
        use crate::load::shape::testing::{keys, serde_fields};
        assert_eq!(
            keys(&super::TARGETS_FILE),
            serde_fields::<super::TargetsFileDef>()
        );
        assert_eq!(keys(&super::TARGET), serde_fields::<super::TargetDef>());
        assert_eq!(keys(&super::AUTH), serde_fields::<super::AuthDef>());
        assert_eq!(keys(&super::PRICING), serde_fields::<super::Pricing>());
    }

    #[test]
    fn every_structural_problem_of_a_targets_file_is_reported_at_once() {
        let text = "targets:\n  a:\n    base_ur: http://x/v1\n    modls: {chat: m}\n  b:\n    base_url: http://y/v1\n    timeot: 3\n    rpm: -1\n";
        let err = super::load_targets(std::path::Path::new("t.yaml"), text, &|_| None).unwrap_err();
        let said: Vec<String> = err
            .0
            .iter()
            .map(|d| {
                format!(
                    "{}:{} {}",
                    d.line.unwrap_or(0),
                    d.column.unwrap_or(0),
                    d.message
                )
            })
            .collect();
        assert_eq!(said.len(), 5, "{said:#?}");
        for (at, what) in [
            ("3:5", "base_ur"),
            ("4:5", "modls"),
            ("7:5", "timeot"),
            ("8:10", "rpm"),
        ] {
            assert!(
                said.iter().any(|s| s.starts_with(at) && s.contains(what)),
                "{at} {what}: {said:#?}"
            );
        }
        // `a` has no base_url: said once, at the target.
        assert!(
            said.iter()
                .any(|s| s.contains("base_url") && s.contains("missing")),
            "{said:#?}"
        );
    }
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn resolves_env_auth_and_globs() {
        let text = "targets:\n  gemini:\n    base_url: https://generativelanguage.googleapis.com/v1beta/openai/\n    auth: { api_key_env: GEMINI_API_KEY }\n    models: { chat: \"${env:GEMINI_MODEL}\" }\n    unsupported: [\"vision.*\"]\n    timeout: 90s\n";
        let env = env_of(&[
            ("GEMINI_API_KEY", "k-123"),
            ("GEMINI_MODEL", "gemini-2.5-flash"),
        ]);
        let t = load_targets(Path::new("t.yaml"), text, &env)
            .unwrap()
            .remove(0);
        assert_eq!(t.models["chat"], "gemini-2.5-flash");
        assert_eq!(t.declared_unsupported("vision.png"), Some("vision.*"));
        assert_eq!(t.timeout, Some(Duration::from_secs(90)));
        assert!(!format!("{:?}", t.auth).contains("k-123"));
        assert_eq!(
            t.base_url.as_str(),
            "https://generativelanguage.googleapis.com/v1beta/openai/"
        );
    }

    #[test]
    fn reports_every_problem_with_location() {
        let text = "targets:\n  a:\n    base_url: ${env:NOPE_URL}\n    models: { chatt: x }\n  b:\n    base_url: ftp://x\n    auth: { api_key_env: NOPE_KEY }\n    via: c\n";
        let d = load_targets(Path::new("t.yaml"), text, &env_of(&[])).unwrap_err();
        let msgs: Vec<String> = d.0.iter().map(|d| d.to_string()).collect();
        assert_eq!(msgs.len(), 5, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("t.yaml:3:15: environment variable `NOPE_URL`"),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("unknown model role `chatt`"))
        );
        assert!(msgs.iter().any(|m| m.contains("scheme `ftp`")));
        assert!(msgs.iter().any(|m| m.contains("`NOPE_KEY`")));
        assert!(msgs.iter().any(|m| m.contains("unknown target `c`")));
    }

    #[test]
    fn a_bad_base_url_from_the_environment_is_named_without_its_values() {
        let canary = "canary5e1d0a9fNotAKey"; // no hyphen: a wrapped line cannot split it
        let text = "targets:\n  g:\n    base_url: \"ht tp://x/v1?key=${env:K}\"\n    auth: { api_key_env: K }\n";
        let d = load_targets(Path::new("t.yaml"), text, &env_of(&[("K", canary)])).unwrap_err();
        assert!(!d.render().contains(canary), "{}", d.render());
        let msg = d.0[0].to_string();
        assert!(
            msg.contains(
                "invalid base_url `ht tp://x/v1?key=${env:K}` (with its ${env:…} values filled in)"
            ),
            "{msg}"
        );
        let plain = "targets:\n  g:\n    base_url: \"ht tp://x\"\n";
        let d = load_targets(Path::new("t.yaml"), plain, &env_of(&[])).unwrap_err();
        assert!(
            d.render().contains("invalid base_url `ht tp://x`:"),
            "{}",
            d.render()
        );
    }

    #[test]
    fn env_values_and_url_userinfo_are_secrets_unless_marked_public() {
        let text = "targets:\n  g:\n    base_url: \"http://u:${env:PASS}@x.test/${env:REGION|public}/v1\"\n    headers: { X-Portkey-Api-Key: \"${env:K}\", X-Tag: \"${env:TAG | public}\" }\n    models: { chat: \"${env:MODEL}\" }\n";
        let env = env_of(&[
            ("PASS", "p%40ss-word-1"),
            ("REGION", "us-central1"),
            ("K", "pk-live-0123456789"),
            ("TAG", "nightly"),
            ("MODEL", "private-model-7"),
        ]);
        let t = load_targets(Path::new("t.yaml"), text, &env)
            .unwrap()
            .remove(0);
        let secrets = t.secrets();
        for s in [
            "pk-live-0123456789",
            "p%40ss-word-1",
            "p@ss-word-1",
            "u",
            "private-model-7",
        ] {
            assert!(secrets.iter().any(|x| x == s), "{s} in {secrets:?}");
        }
        for s in ["us-central1", "nightly"] {
            assert!(!secrets.iter().any(|x| x == s), "{s} in {secrets:?}");
        }
        assert_eq!(t.base_url.path(), "/us-central1/v1/");
        assert!(t.headers.contains(&("X-Tag".into(), "nightly".into())));
    }

    #[test]
    fn prices_must_be_finite_and_not_negative() {
        for bad in ["-1", ".nan", ".inf"] {
            let text = format!(
                "targets:\n  g:\n    base_url: http://x/v1\n    pricing: {{ input_per_mtok: 0.3, output_per_mtok: {bad} }}\n"
            );
            let d = load_targets(Path::new("t.yaml"), &text, &env_of(&[])).unwrap_err();
            let msg = d.0[0].to_string();
            assert!(
                msg.starts_with("t.yaml:4:")
                    && msg.contains("pricing `output_per_mtok` of target `g`"),
                "{bad}: {msg}"
            );
        }
        let ok = "targets:\n  g:\n    base_url: http://x/v1\n    pricing: { input_per_mtok: 0, output_per_mtok: 2.5 }\n";
        assert!(load_targets(Path::new("t.yaml"), ok, &env_of(&[])).is_ok());
    }

    #[test]
    fn keyless_loading_tolerates_a_missing_key_variable() {
        let text =
            "targets:\n  g:\n    base_url: http://x/v1\n    auth: { api_key_env: NOPE_KEY }\n";
        let e = load_targets(Path::new("t.yaml"), text, &env_of(&[])).unwrap_err();
        assert!(
            e.to_string()
                .contains("API key variable `NOPE_KEY` for target `g` is not set"),
            "{e}"
        );
        let t = load_targets_keyless(Path::new("t.yaml"), text, &env_of(&[]), true).unwrap();
        assert!(matches!(t[0].auth, Auth::None));
    }

    #[test]
    fn durations_are_checked_and_located() {
        let load = |timeout: &str| {
            let text = format!(
                "targets:\n  t:\n    base_url: http://127.0.0.1:9/v1\n    timeout: {timeout}\n"
            );
            load_targets(Path::new("t.yaml"), &text, &env_of(&[]))
        };
        assert_eq!(
            load("50m").unwrap()[0].timeout,
            Some(Duration::from_secs(3000))
        );
        assert_eq!(
            load("\"500ms\"").unwrap()[0].timeout,
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            load("12").unwrap()[0].timeout,
            Some(Duration::from_secs(12))
        );
        for (bad, why) in [
            ("1y", "is not a duration"),
            ("1e300", "7-day limit"),
            ("\"99999999999999999999999s\"", "7-day limit"),
            (".inf", "not a finite number"),
            ("0", "must be more than zero"),
            ("-3", "is negative"),
        ] {
            let d = load(bad).unwrap_err().0.remove(0);
            assert!(d.message.contains(why), "{bad}: {}", d.message);
            assert_eq!(d.line, Some(4), "{bad}: located");
        }
    }
}
