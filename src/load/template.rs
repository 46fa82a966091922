//! Request-body templates: `{{model.chat}}`, `{{fixture:images/red.png|data_uri}}`,
//! `{{capture.call_id}}`, `{{filler:N}}`. Parsed and checked once at load time; rendered per
//! target and step.
//!
//! A string that is exactly one `{{…}}` expression is replaced by the expression's JSON value
//! (so a captured object stays an object); anything else is string interpolation.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use crate::util::fs::{MIB, ReadErrorKind, read_bounded};

/// The largest fixture read (an image or audio clip sent inline as base64).
const FIXTURE_LIMIT: u64 = 64 * MIB;

/// The most words `{{filler:N}}` may produce: above the largest context windows served today
/// (about a million tokens), and at about 4 bytes a word well below request size limits.
pub const FILLER_MAX_WORDS: u64 = 4_000_000;

/// The words `{{filler:N}}` cycles through: frequent English words that every mainstream
/// tokenizer (OpenAI's BPE, Gemini's and Llama's SentencePiece) keeps as one token each, with
/// the space before them, so N words are about N tokens on any model.
const FILLER_WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be",
    "at", "by",
];

/// `n` filler words separated by single spaces (built at render time: a suite that asks for a
/// million words stays a few bytes until the request is sent).
pub fn filler(n: u64) -> String {
    let n = n as usize;
    let mut s = String::with_capacity(n * 4);
    for (i, w) in FILLER_WORDS.iter().cycle().take(n).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

/// The roles a target maps to model ids. Kept closed so a typo in a suite is a load error.
pub const ROLES: &[&str] = &[
    "chat",
    "vision",
    "audio",
    "embedding",
    "image",
    "reasoning",
    "responses",
    "speech",
    "transcription",
];

/// Roles served by another role's model when a target does not map them: an app calling the
/// Responses API usually does so with the model it uses for chat.
const FALLBACK: &[(&str, &str)] = &[("responses", "chat")];

/// The model id `models` gives `role`, or the model of the role it falls back to.
pub fn model_for<'a>(models: &'a BTreeMap<String, String>, role: &str) -> Option<&'a str> {
    models
        .get(role)
        .or_else(|| {
            FALLBACK
                .iter()
                .find(|(r, _)| *r == role)
                .and_then(|(_, to)| models.get(*to))
        })
        .map(String::as_str)
}

/// One compiled `{{…}}` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// The target's model id for a role.
    Model(String),
    /// A fixture file, already read, and how to encode it.
    Fixture(Arc<Fixture>),
    /// A value captured by an earlier step of the same case.
    Capture(String),
    /// `{{filler:N}}`: N words of filler text (about N tokens), e.g. a prompt longer than a
    /// model's context window.
    Filler(u64),
}

#[derive(Debug, PartialEq)]
pub struct Fixture {
    pub path: String,
    pub bytes: Vec<u8>,
    pub encoding: FixtureEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixtureEncoding {
    /// `data:<mime>;base64,<…>`
    DataUri,
    /// Plain base64.
    Base64,
    /// The file as UTF-8 text.
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    Expr(Expr),
}

/// A JSON value with templates compiled in.
#[derive(Debug, Clone, PartialEq)]
pub enum TValue {
    Lit(Value),
    Whole(Expr),
    Interp(Vec<Part>),
    Array(Vec<TValue>),
    Object(Vec<(String, TValue)>),
}

/// What rendering needs from the outside world.
pub struct RenderContext<'a> {
    pub models: &'a BTreeMap<String, String>,
    pub captures: &'a BTreeMap<String, Value>,
}

/// Why a template could not be rendered (a missing model role or capture at run time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("target has no model for role `{0}`")]
    MissingModel(String),
    #[error("capture `{0}` was not set by an earlier step")]
    MissingCapture(String),
}

/// A problem found while compiling, with the offending text so the loader can locate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    pub needle: String,
    pub message: String,
    pub expected: Option<String>,
    pub help: Option<String>,
}

/// Why a fixture cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixture path `{rel}` leaves the fixtures directory (use a path inside {})", root.display())]
    Escapes {
        rel: String,
        root: std::path::PathBuf,
    },
    #[error(
        "fixture path `{rel}` resolves outside the fixtures directory through a symbolic link (to {}); pass --allow-fixture-escape to allow it",
        real.display()
    )]
    Link {
        rel: String,
        real: std::path::PathBuf,
    },
    #[error("cannot read fixture {}: {}", .0.path.display(), .0.kind)]
    Read(crate::util::fs::ReadError),
    #[error("cannot read fixture {}: {} (and no built-in fixture `{rel}`)", .err.path.display(), .err.kind)]
    Missing {
        rel: String,
        err: crate::util::fs::ReadError,
    },
    #[error("no built-in fixture `{0}` (a built-in suite sends only built-in fixtures)")]
    NotBuiltin(String),
}

/// Resolves fixture paths: in the project's fixtures directory first, then among the built-in
/// fixtures (`media/…`, shipped in the binary), so a user's suite can send the shipped images and
/// audio and a project file of the same path wins. Refuses paths that leave the fixtures
/// directory.
pub struct FixtureResolver<'a> {
    /// The project's fixtures directory; `None` (a built-in suite): the built-in fixtures only.
    pub root: Option<&'a std::path::Path>,
    pub allow_escape: bool,
}

impl FixtureResolver<'_> {
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, FixtureError> {
        let p = std::path::Path::new(rel);
        let escapes = p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        let builtin = || {
            (!escapes)
                .then(|| super::builtin::fixture(&rel.replace('\\', "/")))
                .flatten()
                .map(<[u8]>::to_vec)
        };
        let Some(root) = self.root else {
            return builtin().ok_or_else(|| FixtureError::NotBuiltin(rel.to_string()));
        };
        if escapes && !self.allow_escape {
            return Err(FixtureError::Escapes {
                rel: rel.to_string(),
                root: root.to_path_buf(),
            });
        }
        let full = root.join(p);
        // A symbolic link inside the fixtures directory must not lead out of it either.
        if !self.allow_escape
            && let (Ok(root), Ok(real)) = (root.canonicalize(), full.canonicalize())
            && !real.starts_with(&root)
        {
            return Err(FixtureError::Link {
                rel: rel.to_string(),
                real,
            });
        }
        match read_bounded(&full, FIXTURE_LIMIT) {
            Ok(bytes) => Ok(bytes),
            Err(err) if matches!(&err.kind, ReadErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound) => {
                builtin().ok_or_else(|| FixtureError::Missing {
                    rel: rel.to_string(),
                    err,
                })
            }
            Err(e) => Err(FixtureError::Read(e)),
        }
    }
}

impl TValue {
    /// Compile a JSON value, collecting every template problem (not just the first).
    pub fn compile(
        v: &Value,
        fixtures: &FixtureResolver<'_>,
        problems: &mut Vec<TemplateProblem>,
    ) -> TValue {
        match v {
            Value::String(s) if s.contains("{{") => compile_str(s, fixtures, problems),
            Value::Array(items) => TValue::Array(
                items
                    .iter()
                    .map(|i| TValue::compile(i, fixtures, problems))
                    .collect(),
            ),
            Value::Object(map) => TValue::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), TValue::compile(v, fixtures, problems)))
                    .collect(),
            ),
            other => TValue::Lit(other.clone()),
        }
    }

    pub fn render(&self, ctx: &RenderContext<'_>) -> Result<Value, RenderError> {
        Ok(match self {
            TValue::Lit(v) => v.clone(),
            TValue::Whole(e) => eval(e, ctx)?,
            TValue::Interp(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Lit(l) => s.push_str(l),
                        Part::Expr(e) => match eval(e, ctx)? {
                            Value::String(v) => s.push_str(&v),
                            other => s.push_str(&other.to_string()),
                        },
                    }
                }
                Value::String(s)
            }
            TValue::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(ctx))
                    .collect::<Result<_, _>>()?,
            ),
            TValue::Object(fields) => {
                let mut m = serde_json::Map::new();
                for (k, v) in fields {
                    m.insert(k.clone(), v.render(ctx)?);
                }
                Value::Object(m)
            }
        })
    }

    /// Every model role and capture the template refers to.
    pub fn visit_exprs<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        match self {
            TValue::Lit(_) => {}
            TValue::Whole(e) => f(e),
            TValue::Interp(parts) => parts.iter().for_each(|p| {
                if let Part::Expr(e) = p {
                    f(e)
                }
            }),
            TValue::Array(items) => items.iter().for_each(|i| i.visit_exprs(f)),
            TValue::Object(fields) => fields.iter().for_each(|(_, v)| v.visit_exprs(f)),
        }
    }
}

/// Compile a plain string template (used for paths and headers too).
pub fn compile_string(
    s: &str,
    fixtures: &FixtureResolver<'_>,
    problems: &mut Vec<TemplateProblem>,
) -> TValue {
    if s.contains("{{") {
        compile_str(s, fixtures, problems)
    } else {
        TValue::Lit(Value::String(s.to_string()))
    }
}

fn compile_str(
    s: &str,
    fixtures: &FixtureResolver<'_>,
    problems: &mut Vec<TemplateProblem>,
) -> TValue {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Lit(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            problems.push(TemplateProblem {
                needle: rest[start..].to_string(),
                message: "unterminated template expression".into(),
                expected: Some("`}}`".into()),
                help: None,
            });
            return TValue::Lit(Value::String(s.to_string()));
        };
        let inner = after[..end].trim();
        match parse_expr(inner, fixtures) {
            Ok(e) => parts.push(Part::Expr(e)),
            Err((message, expected, help)) => problems.push(TemplateProblem {
                needle: format!("{{{{{}", &after[..end]),
                message,
                expected,
                help,
            }),
        }
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    match parts.as_slice() {
        [Part::Expr(e)] => TValue::Whole(e.clone()),
        _ => TValue::Interp(parts),
    }
}

type ExprError = (String, Option<String>, Option<String>);

fn parse_expr(inner: &str, fixtures: &FixtureResolver<'_>) -> Result<Expr, ExprError> {
    if let Some(role) = inner.strip_prefix("model.") {
        if ROLES.contains(&role) {
            return Ok(Expr::Model(role.to_string()));
        }
        return Err((
            format!("unknown model role `{role}`"),
            Some(format!("one of {}", quote_list(ROLES))),
            crate::load::diag::did_you_mean(role, ROLES.iter().copied()),
        ));
    }
    if let Some(name) = inner.strip_prefix("capture.") {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Ok(Expr::Capture(name.to_string()));
        }
        return Err((
            format!("invalid capture name `{name}`"),
            Some("letters, digits and `_`".into()),
            None,
        ));
    }
    if let Some(n) = inner.strip_prefix("filler:") {
        let n = n.trim().replace('_', "");
        return match n.parse::<u64>() {
            Ok(n) if (1..=FILLER_MAX_WORDS).contains(&n) => Ok(Expr::Filler(n)),
            _ => Err((
                format!("invalid filler length `{n}`"),
                Some(format!(
                    "a whole number of words from 1 to {FILLER_MAX_WORDS} (`_` may group digits: `{{{{filler:1_100_000}}}}`)"
                )),
                None,
            )),
        };
    }
    if let Some(spec) = inner.strip_prefix("fixture:") {
        let (path, enc) = spec.split_once('|').unwrap_or((spec, "text"));
        let encoding = match enc.trim() {
            "data_uri" => FixtureEncoding::DataUri,
            "base64" => FixtureEncoding::Base64,
            "text" => FixtureEncoding::Text,
            other => {
                return Err((
                    format!("unknown fixture encoding `{other}`"),
                    Some("`data_uri`, `base64` or `text`".into()),
                    crate::load::diag::did_you_mean(other, ["data_uri", "base64", "text"]),
                ));
            }
        };
        let path = path.trim();
        let bytes = fixtures
            .read(path)
            .map_err(|m| (m.to_string(), None, None))?;
        if encoding == FixtureEncoding::DataUri && mime_for(path).is_none() {
            return Err((
                format!("no known media type for fixture `{path}`"),
                Some("a .png, .jpg, .jpeg, .gif, .webp, .wav or .mp3 file".into()),
                None,
            ));
        }
        if encoding == FixtureEncoding::Text && std::str::from_utf8(&bytes).is_err() {
            return Err((
                format!("fixture `{path}` is not UTF-8 text"),
                Some("`|base64` or `|data_uri` for binary files".into()),
                None,
            ));
        }
        return Ok(Expr::Fixture(Arc::new(Fixture {
            path: path.to_string(),
            bytes,
            encoding,
        })));
    }
    Err((
        format!("unknown template expression `{inner}`"),
        Some(
            "`model.<role>`, `fixture:<path>|<encoding>`, `capture.<name>` or `filler:<words>`"
                .into(),
        ),
        None,
    ))
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mime_for(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        _ => return None,
    })
}

fn eval(e: &Expr, ctx: &RenderContext<'_>) -> Result<Value, RenderError> {
    Ok(match e {
        Expr::Model(role) => Value::String(
            model_for(ctx.models, role)
                .ok_or_else(|| RenderError::MissingModel(role.clone()))?
                .to_string(),
        ),
        Expr::Capture(name) => ctx
            .captures
            .get(name)
            .cloned()
            .ok_or_else(|| RenderError::MissingCapture(name.clone()))?,
        Expr::Filler(n) => Value::String(filler(*n)),
        Expr::Fixture(f) => {
            let b64 = || base64::engine::general_purpose::STANDARD.encode(&f.bytes);
            Value::String(match f.encoding {
                FixtureEncoding::Base64 => b64(),
                FixtureEncoding::DataUri => format!(
                    "data:{};base64,{}",
                    mime_for(&f.path).unwrap_or("application/octet-stream"),
                    b64()
                ),
                FixtureEncoding::Text => String::from_utf8_lossy(&f.bytes).into_owned(),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(v: Value) -> (TValue, Vec<TemplateProblem>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), [0x89, b'P', b'N', b'G']).unwrap();
        let r = FixtureResolver {
            root: Some(dir.path()),
            allow_escape: false,
        };
        let mut p = vec![];
        let t = TValue::compile(&v, &r, &mut p);
        (t, p)
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_fixtures_directory_is_refused_unless_allowed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "outside").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let v = json!("{{fixture:link/secret.txt|text}}");
        let mut p = vec![];
        let strict = FixtureResolver {
            root: Some(dir.path()),
            allow_escape: false,
        };
        TValue::compile(&v, &strict, &mut p);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].message.contains("through a symbolic link"),
            "{}",
            p[0].message
        );
        let mut p = vec![];
        let allowed = FixtureResolver {
            root: Some(dir.path()),
            allow_escape: true,
        };
        TValue::compile(&v, &allowed, &mut p);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn renders_models_captures_and_fixtures() {
        let (t, p) = compile(json!({
            "model": "{{model.chat}}",
            "msg": "{{ capture.m }}",
            "text": "id={{capture.id}}!",
            "img": "{{fixture:a.png|data_uri}}"
        }));
        assert!(p.is_empty(), "{p:?}");
        let models = BTreeMap::from([("chat".to_string(), "m-1".to_string())]);
        let captures = BTreeMap::from([
            ("m".to_string(), json!({"role": "assistant"})),
            ("id".to_string(), json!("call_1")),
        ]);
        let out = t
            .render(&RenderContext {
                models: &models,
                captures: &captures,
            })
            .unwrap();
        assert_eq!(out["model"], "m-1");
        assert_eq!(out["msg"], json!({"role": "assistant"}));
        assert_eq!(out["text"], "id=call_1!");
        assert_eq!(out["img"], "data:image/png;base64,iVBORw==");
    }

    #[test]
    fn collects_every_problem() {
        let (_, p) = compile(json!({
            "a": "{{model.chta}}",
            "b": "{{fixture:../secret.png|data_uri}}",
            "c": "{{wat}}",
            "d": "{{fixture:a.png|hex}}"
        }));
        let msgs: Vec<_> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(p.len(), 4, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("unknown model role `chta`")));
        assert!(
            msgs.iter()
                .any(|m| m.contains("leaves the fixtures directory"))
        );
        assert_eq!(p[0].help.as_deref(), Some("did you mean `chat`?"));
    }

    #[test]
    fn filler_is_n_words_rendered_late_and_bounded() {
        let (t, p) =
            compile(json!({"content": "Summarise: {{filler:1_000}}", "w": "{{ filler:3 }}"}));
        assert!(p.is_empty(), "{p:?}");
        // Compiled, the template holds the count, not the text.
        assert!(format!("{t:?}").len() < 200);
        let out = t
            .render(&RenderContext {
                models: &BTreeMap::new(),
                captures: &BTreeMap::new(),
            })
            .unwrap();
        assert_eq!(out["w"], "the of and");
        let content = out["content"].as_str().unwrap();
        assert_eq!(content.split(' ').count(), 1 + 1_000);
        assert!(!content.contains("  ") && !content.ends_with(' '));
        for bad in [
            "{{filler:0}}",
            "{{filler:-5}}",
            "{{filler:x}}",
            "{{filler:4000001}}",
        ] {
            let (_, p) = compile(json!(bad));
            assert_eq!(p.len(), 1, "{bad}");
            assert!(
                p[0].message.starts_with("invalid filler length"),
                "{}",
                p[0].message
            );
            assert!(p[0].expected.as_deref().unwrap().contains("4000000"));
        }
    }

    #[test]
    fn missing_model_is_a_render_error() {
        let (t, _) = compile(json!("{{model.vision}}"));
        let err = t
            .render(&RenderContext {
                models: &BTreeMap::new(),
                captures: &BTreeMap::new(),
            })
            .unwrap_err();
        assert_eq!(err, RenderError::MissingModel("vision".into()));
    }

    #[test]
    fn responses_falls_back_to_the_chat_model_unless_mapped() {
        let (t, _) = compile(json!("{{model.responses}}"));
        let render = |models: &BTreeMap<String, String>| {
            t.render(&RenderContext {
                models,
                captures: &BTreeMap::new(),
            })
        };
        let chat = BTreeMap::from([("chat".to_string(), "c".to_string())]);
        assert_eq!(render(&chat).unwrap(), json!("c"));
        let both = BTreeMap::from([
            ("chat".to_string(), "c".to_string()),
            ("responses".to_string(), "r".to_string()),
        ]);
        assert_eq!(render(&both).unwrap(), json!("r"));
        assert_eq!(
            render(&BTreeMap::new()).unwrap_err(),
            RenderError::MissingModel("responses".into())
        );
        // Only `responses` falls back: a missing speech model is a skip, not the chat model.
        let chat_only = BTreeMap::from([("chat".to_string(), "c".to_string())]);
        assert_eq!(model_for(&chat_only, "speech"), None);
    }
}
