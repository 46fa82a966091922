//! Secrets never reach an output. Every byte the tool writes (reports, terminal, snapshots,
//! recordings, error messages) passes through one `Redactor`, which knows:
//! - every configured secret value (API keys read from the environment, tokens printed by auth
//!   commands — registered as they are obtained), replaced by `***`;
//! - credential-bearing header names (`Authorization`, `x-goog-api-key`, `api-key`, …), whose
//!   values become `***` wherever a header map is serialised;
//! - key-like strings that were never configured (`Bearer …`, `sk-…`, `AIza…`, `ya29.…`,
//!   `?key=…` query parameters), so a key echoed by an endpoint in an error message is caught too.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};
use serde_json::Value;

pub const MASK: &str = "***";

/// Header names whose values are credentials.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-goog-api-key",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
];

pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// The leak rule: 4 or more consecutive characters of a secret past its public prefix
/// ([`public_prefix`]), in any ASCII case, are a leak. Nothing shorter can be told from ordinary
/// text by its characters alone (and values shorter than this are not registered at all).
pub const LEAK_CHARS: usize = MIN_SECRET_CHARS;

/// A cut of a secret (its first or its last characters, what an endpoint quoting part of a key
/// or a stream's split leaves) of this length or more is masked wherever it stands; a shorter
/// one, from [`LEAK_CHARS`] on, where a cut leaves it — see [`Secrets`].
pub const ANYWHERE_CHARS: usize = 8;

/// The longest cut the matcher knows; a longer one is found by its first or last
/// `MAX_PIECE_CHARS` characters and followed from there, so a long token costs no more.
const MAX_PIECE_CHARS: usize = 64;

/// The fixed beginnings of provider key shapes: the same in every key, so no part of a secret
/// (a head that holds only them is not masked: `sk-p` is in `task-planner`).
const PUBLIC_PREFIXES: [&str; 7] = [
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-ant-",
    "sk-",
    "AIza",
    "ya29.",
];

/// How many bytes of `secret` are a provider's fixed prefix.
pub fn public_prefix(secret: &str) -> usize {
    PUBLIC_PREFIXES
        .iter()
        .find(|p| secret.starts_with(*p))
        .map_or(0, |p| p.len())
}

/// Secrets learnt while running (keys, `${env:…}` values, auth command tokens), shared with the
/// redactor. Each registration rebuilds one matcher of every secret's cuts; redacting a string
/// shares it and copies nothing.
#[derive(Debug, Clone, Default)]
pub struct SecretRegistry(Arc<Mutex<Arc<Secrets>>>);

/// The registered secrets and the matcher built from them.
#[derive(Debug, Default)]
pub struct Secrets {
    values: Vec<String>,
    /// Pieces of a secret a stream split into strings too short to be told from text, kept
    /// with the JSON quotes they stood between (`"Zq"`, `"Zq`, `Zq"`): masked only there.
    anchored: Vec<String>,
    /// Each secret's cuts — its first and its last k characters, for every k from
    /// [`LEAK_CHARS`] on (a head holding [`LEAK_CHARS`] past the public prefix) — and the
    /// anchored pieces, matched ASCII-case-insensitively: an endpoint that echoes a key
    /// lower-cased in a header name, quotes part of it, or a stream that split it across deltas
    /// leaves only cuts this matcher finds. A cut shorter than [`ANYWHERE_CHARS`] counts only
    /// where a cut leaves it: a head followed by, or a tail preceded by, a character that is no
    /// letter or digit (a quote, `…`, `*`, a space, the end of the text); so a key
    /// `sk-litellm-master` does not mask `cluster`, nor the word `litellm-` in a target's name.
    matcher: Option<AhoCorasick>,
    pieces: Vec<Piece>,
}

/// What a pattern of the matcher stands for.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// Bytes `start..end` of secret `n`.
    Cut { n: usize, start: usize, end: usize },
    /// Anchored piece `n`: its quotes are kept, the rest masked.
    Anchored { n: usize },
}

impl Secrets {
    fn new(values: Vec<String>, anchored: Vec<String>) -> Self {
        let mut pieces: Vec<Piece> = Vec::new();
        for (n, v) in values.iter().enumerate() {
            let starts: Vec<usize> = v.char_indices().map(|(i, _)| i).collect();
            let prefix = v[..public_prefix(v)].chars().count();
            if starts.len() <= prefix + LEAK_CHARS {
                pieces.push(Piece::Cut {
                    n,
                    start: 0,
                    end: v.len(),
                });
                continue;
            }
            for k in LEAK_CHARS..=starts.len().min(MAX_PIECE_CHARS) {
                if k >= prefix + LEAK_CHARS {
                    let end = starts.get(k).copied().unwrap_or(v.len());
                    pieces.push(Piece::Cut { n, start: 0, end });
                }
                let start = starts[starts.len() - k];
                pieces.push(Piece::Cut {
                    n,
                    start,
                    end: v.len(),
                });
            }
        }
        pieces.extend((0..anchored.len()).map(|n| Piece::Anchored { n }));
        let matcher = (!pieces.is_empty()).then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(pieces.iter().map(|p| match *p {
                    Piece::Cut { n, start, end } => &values[n].as_bytes()[start..end],
                    Piece::Anchored { n } => anchored[n].as_bytes(),
                }))
                .expect("a matcher of literal strings builds")
        });
        Self {
            values,
            anchored,
            matcher,
            pieces,
        }
    }

    /// The byte ranges of `hay` that hold a secret or a cut of one, merged and in order.
    fn ranges(&self, hay: &[u8]) -> Vec<(usize, usize)> {
        let Some(m) = &self.matcher else {
            return vec![];
        };
        let mut found: Vec<(usize, usize)> = Vec::new();
        let mut at = 0;
        while let Some(f) = m.find(aho_corasick::Input::new(hay).range(at..)) {
            let kept = match self.pieces[f.pattern().as_usize()] {
                Piece::Anchored { n } => {
                    let p = self.anchored[n].as_bytes();
                    let (head, tail) = (p[0] == b'"', p[p.len() - 1] == b'"');
                    Some((f.start() + usize::from(head), f.end() - usize::from(tail)))
                }
                Piece::Cut { n, start, end } => {
                    self.follow(&self.values[n], start, end, hay, f.start(), f.end())
                }
            };
            // A short cut inside a word is not one; a secret may start within it.
            at = match kept {
                Some(range) => {
                    found.push(range);
                    f.end()
                }
                None => f.start() + 1,
            };
        }
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (s, e) in found {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    /// Bytes `a..b` of `secret` found at `start..end` of `hay`: followed beyond the piece, both
    /// ways (a cut longer than the longest piece, or a whole secret found by one of its ends),
    /// and kept when it is the whole secret, a cut of [`ANYWHERE_CHARS`] or more, or a shorter
    /// cut where a cut leaves it.
    fn follow(
        &self,
        secret: &str,
        a: usize,
        b: usize,
        hay: &[u8],
        start: usize,
        end: usize,
    ) -> Option<(usize, usize)> {
        let secret = secret.as_bytes();
        let (mut a, mut b, mut start, mut end) = (a, b, start, end);
        while a > 0 && start > 0 && hay[start - 1].eq_ignore_ascii_case(&secret[a - 1]) {
            (a, start) = (a - 1, start - 1);
        }
        while b < secret.len() && end < hay.len() && hay[end].eq_ignore_ascii_case(&secret[b]) {
            (b, end) = (b + 1, end + 1);
        }
        let whole = a == 0 && b == secret.len();
        let chars = String::from_utf8_lossy(&secret[a..b]).chars().count();
        let cut_left = |at: usize| at == 0 || !hay[at - 1].is_ascii_alphanumeric();
        let cut_right = |at: usize| at == hay.len() || !hay[at].is_ascii_alphanumeric();
        let kept = whole
            || chars >= ANYWHERE_CHARS
            || (a == 0 && cut_right(end))
            || (b == secret.len() && cut_left(start));
        if !kept {
            return None;
        }
        // Whole characters only: the secret is UTF-8, so is the text it sits in.
        while start > 0 && (hay[start] & 0xC0) == 0x80 {
            start -= 1;
        }
        while end < hay.len() && (hay[end] & 0xC0) == 0x80 {
            end += 1;
        }
        Some((start, end))
    }

    /// `hay` with every range of [`ranges`](Self::ranges) replaced by [`MASK`].
    fn mask(&self, hay: &[u8]) -> Option<Vec<u8>> {
        let ranges = self.ranges(hay);
        if ranges.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(hay.len());
        let mut at = 0;
        for (s, e) in ranges {
            out.extend_from_slice(&hay[at..s]);
            out.extend_from_slice(MASK.as_bytes());
            at = e;
        }
        out.extend_from_slice(&hay[at..]);
        Some(out)
    }

    /// Every secret registered, as given.
    pub fn values(&self) -> &[String] {
        &self.values
    }
}

impl SecretRegistry {
    /// The process's registry: the one a run registers its secrets in, so that every cut of
    /// text anywhere in the process ([`util::text::excerpt`](crate::util::text::excerpt)) is
    /// made after they are masked. Registries made with `default()` (tests) are their own.
    pub fn process() -> &'static SecretRegistry {
        static P: OnceLock<SecretRegistry> = OnceLock::new();
        P.get_or_init(SecretRegistry::default)
    }

    /// Register a secret, and the forms an endpoint may echo it in: percent-encoded (a URL
    /// quoted back) and JSON-escaped (`\/` for `/`, as PHP writes it), when they differ.
    pub fn add(&self, secret: &str) {
        // Very short values would mask ordinary words; real credentials are longer.
        if secret.chars().count() < MIN_SECRET_CHARS {
            return;
        }
        let encoded = percent_encoding::utf8_percent_encode(secret, URL_UNSAFE).to_string();
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped[1..escaped.len().saturating_sub(1).max(1)].replace('/', "\\/");
        let forms = [secret.to_string(), encoded, escaped];
        self.update(|values, _| {
            for f in &forms {
                if !values.contains(f) {
                    values.push(f.clone());
                }
            }
        });
    }

    /// Register a piece of a secret that a stream split into a string too short to be told
    /// from text by its characters: masked where it stood, at the start (`starts`) or end
    /// (`ends`) of a JSON string — `"Zq"`, `"Zq`, `Zq"` in the raw text of an event.
    pub fn add_anchored(&self, piece: &str, starts: bool, ends: bool) {
        // Only what JSON writes as itself (a key's alphabet), at a string's edge.
        if piece.is_empty()
            || !(starts || ends)
            || piece
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return;
        }
        let q = |on: bool| if on { "\"" } else { "" };
        let pattern = format!("{}{piece}{}", q(starts), q(ends));
        self.update(|_, anchored| {
            if !anchored.contains(&pattern) {
                anchored.push(pattern.clone());
            }
        });
    }

    /// Change the secrets and rebuild the matcher, when something changed.
    fn update(&self, change: impl FnOnce(&mut Vec<String>, &mut Vec<String>)) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (mut values, mut anchored) = (v.values.clone(), v.anchored.clone());
        change(&mut values, &mut anchored);
        if values.len() != v.values.len() || anchored.len() != v.anchored.len() {
            *v = Arc::new(Secrets::new(values, anchored));
        }
    }

    /// Every secret registered so far, with their matcher.
    pub fn snapshot(&self) -> Arc<Secrets> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Values shorter than this are not registered as secrets: they would mask ordinary words.
pub const MIN_SECRET_CHARS: usize = 4;

/// What percent-encoding changes in a secret echoed in a URL: all but the unreserved
/// characters (RFC 3986), which a URL carries as themselves.
const URL_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    registry: SecretRegistry,
}

/// Provider key shapes, whole: OpenAI-style keys, Google API keys, Google OAuth access tokens,
/// in any case (an endpoint may echo a key lower-cased).
const KEY_SHAPES: [&str; 3] = [
    r"(?i)\bsk-[A-Za-z0-9_-]{16,}",
    r"(?i)\baiza[0-9A-Za-z_-]{30,}",
    r"(?i)\bya29\.[0-9A-Za-z_-]{20,}",
];

fn key_shapes() -> &'static [Regex] {
    static K: OnceLock<Vec<Regex>> = OnceLock::new();
    K.get_or_init(|| {
        KEY_SHAPES
            .iter()
            .map(|p| Regex::new(p).expect("valid key shape"))
            .collect()
    })
}

/// Learns the pieces an event stream split a secret into. The strings at one place of the
/// events (a choice's `delta.content`, a tool call's `arguments`, a Responses `delta`) are one
/// text to a reader, so a secret split across three or more events leaves middle pieces that
/// are neither its head nor its tail, and no output could tell them from other text. Here the
/// strings of each place are joined, every registered secret and key shape is looked for in
/// the joined text — the whole text, before anything is cut — and each piece of one becomes a
/// secret of its own, masked wherever it appears (recordings, reports, snapshots, the
/// terminal): a piece of [`LEAK_CHARS`] characters or more as any secret, a shorter one (a
/// model echoing a key token by token leaves pieces of 2 or 3) where it stood, as a whole JSON
/// string or at its start or end ([`SecretRegistry::add_anchored`]). A piece inside a key's
/// public prefix (`sk-`) is no secret.
pub fn learn_split_secrets<'a>(
    registry: &SecretRegistry,
    events: impl IntoIterator<Item = &'a str>,
) {
    // place (a JSON Pointer with array positions but the first) → (joined text, piece ends)
    let mut places: std::collections::BTreeMap<String, (String, Vec<usize>)> = Default::default();
    for data in events {
        let data = data.trim_start();
        if !data.starts_with('{') {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        strings_of(&v, &mut String::new(), 0, &mut |at, s| {
            let (text, ends) = places.entry(at.to_string()).or_default();
            // What every event repeats (`id`, `model`, `object`) is one piece, not a text
            // growing with the stream.
            let last = ends.len().checked_sub(2).map_or(0, |i| ends[i]);
            if !ends.is_empty() && &text[last..] == s {
                return;
            }
            text.push_str(s);
            ends.push(text.len());
        });
    }
    let secrets = registry.snapshot();
    for (text, ends) in places.values().filter(|(_, ends)| ends.len() > 1) {
        let mut found = secrets.ranges(text.as_bytes());
        for re in key_shapes() {
            found.extend(re.find_iter(text).map(|m| (m.start(), m.end())));
        }
        for (s, e) in found {
            let public_end = s + public_prefix(&text[s..e]);
            let mut start = 0;
            for &end in ends {
                let (a, b) = (s.max(start), e.min(end));
                if a < b
                    && (a, b) != (s, e)
                    && b > public_end
                    && text.is_char_boundary(a)
                    && text.is_char_boundary(b)
                {
                    let piece = &text[a..b];
                    if piece.chars().count() >= LEAK_CHARS {
                        registry.add(piece);
                    } else {
                        registry.add_anchored(piece, a == start, b == end);
                    }
                }
                start = end;
            }
        }
    }
}

/// Calls `f` with each string of `v` and where it is (object keys and array positions, as a
/// JSON Pointer), so the strings of one place in successive events can be joined.
fn strings_of(v: &Value, at: &mut String, depth: usize, f: &mut dyn FnMut(&str, &str)) {
    if depth > 32 {
        return;
    }
    match v {
        Value::String(s) => f(at, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                strings_of(item, at, depth + 1, f);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = at.len();
                at.push('/');
                at.push_str(k);
                strings_of(item, at, depth + 1, f);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// The text patterns redaction replaces, each with its replacement, and all of them as one set:
/// most text has none of them, and one pass of the set over it says so (instead of one search
/// per pattern).
struct Patterns {
    any: RegexSet,
    each: Vec<(Regex, &'static str)>,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let each: Vec<(Regex, &'static str)> = [
            // `Bearer <token>` anywhere (error messages quoting request headers), also when an
            // excerpt cut it short (`…` marks every cut made before redaction).
            (r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}", "$1 ***"),
            (r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+…", "$1 ***…"),
            // `Basic <base64 of user:password>` (an Authorization header echoed as text): a
            // run with a lowercase letter or digit before an uppercase one, as base64 has and
            // a word after "Basic" has not.
            (
                r"\b(Basic)\s+[A-Za-z0-9+/]*[a-z0-9+/][A-Z0-9+/][A-Za-z0-9+/]*=*",
                "$1 ***",
            ),
            // The key shapes, whole or cut short by an excerpt.
            (KEY_SHAPES[0], "***"),
            (KEY_SHAPES[1], "***"),
            (KEY_SHAPES[2], "***"),
            (r"(?i)(?:\bsk-|\baiza|\bya29\.)[0-9A-Za-z_-]*…", "***…"),
            // Credentials in query strings: ?key=…, &api_key=…, &access_token=…
            (
                r"(?i)([?&](?:key|api[_-]?key|access[_-]?token|token)=)[^&\s\x22'#]+",
                "${1}***",
            ),
            // `"x-goog-api-key": "…"` / `api-key: …` as text (headers quoted in messages).
            (
                r#"(?i)((?:x-goog-api-key|api-key|x-api-key|authorization)["']?\s*[:=]\s*["']?)[^"',\s}]{4,}"#,
                "${1}***",
            ),
            // The user-info of any URL (`https://user:password@host/`), always.
            (
                r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@\x22'<>]+@",
                "${1}***@",
            ),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid redaction pattern"), r))
        .collect();
        let any = RegexSet::new(each.iter().map(|(re, _)| re.as_str()))
            .expect("valid redaction patterns");
        Patterns { any, each }
    })
}

impl Redactor {
    pub fn new(registry: SecretRegistry) -> Self {
        Self { registry }
    }

    /// The redactor of [`SecretRegistry::process`].
    pub fn process() -> &'static Redactor {
        static R: OnceLock<Redactor> = OnceLock::new();
        R.get_or_init(|| Redactor::new(SecretRegistry::process().clone()))
    }

    /// `s` redacted whole, then trimmed and cut to at most `max` characters, with `…` where it
    /// was cut. The one way text is shortened: redacting first means no cut can leave a piece
    /// of a secret that the redactor would no longer recognise (a key's head at the end of a
    /// reason, a key shape too short to match).
    pub fn excerpt(&self, s: &str, max: usize) -> String {
        let redacted = self.text(s.trim());
        let s = redacted.trim();
        if s.chars().count() <= max {
            return s.to_string();
        }
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }

    /// How many bytes past a cut a text must reach so that every secret starting before the
    /// cut is seen whole: the longest registered secret, or a key shape's longest prefix that
    /// decides it is one (generously).
    pub fn reach(&self) -> usize {
        let longest = self
            .registry
            .snapshot()
            .values
            .iter()
            .map(String::len)
            .max();
        longest.unwrap_or(0).max(256)
    }

    pub fn registry(&self) -> &SecretRegistry {
        &self.registry
    }

    /// Redact one string.
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut out: Cow<'a, str> = match self.registry.snapshot().mask(s.as_bytes()) {
            // Masking replaced whole matches of UTF-8 pieces in UTF-8 text (an ASCII-case
            // match never starts inside a multi-byte character): still UTF-8.
            Some(b) => Cow::Owned(
                String::from_utf8(b)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
            None => Cow::Borrowed(s),
        };
        let patterns = patterns();
        if !patterns.any.is_match(&out) {
            return out;
        }
        // In order: an earlier replacement can make or unmake a later pattern's match. One
        // search each: `replace_all` borrows the text back when nothing matched.
        for (re, rep) in &patterns.each {
            if let Cow::Owned(replaced) = re.replace_all(&out, *rep) {
                out = Cow::Owned(replaced);
            }
        }
        out
    }

    /// Redact bytes that are not text (a binary body in a recording): every registered secret
    /// and every piece of one is masked; key shapes need text.
    pub fn bytes(&self, b: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(b) {
            Ok(s) => self.text(s).into_owned().into_bytes(),
            Err(_) => self
                .registry
                .snapshot()
                .mask(b)
                .unwrap_or_else(|| b.to_vec()),
        }
    }

    /// Redact every string in a JSON value, and the values of credential header keys.
    pub fn json(&self, v: &mut Value) {
        self.json_noting(v, &mut String::new(), &mut |_, _| {});
    }

    /// [`json`](Self::json), telling `changed` of each string it changed: where (a JSON
    /// Pointer from `at`) and what it was.
    fn json_noting(&self, v: &mut Value, at: &mut String, changed: &mut dyn FnMut(&str, String)) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = self.text(s) {
                    changed(at, std::mem::replace(s, r));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    self.json_noting(item, at, changed);
                    at.truncate(len);
                }
            }
            Value::Object(map) => {
                // A key may carry a secret too: an endpoint echoing a key as a header name.
                if map.keys().any(|k| self.masks_member_name(k)) {
                    let entries = std::mem::take(map);
                    for (k, v) in entries {
                        let k = if self.masks_member_name(&k) {
                            self.text(&k).into_owned()
                        } else {
                            k
                        };
                        map.insert(k, v);
                    }
                }
                for (k, v) in map.iter_mut() {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    if is_sensitive_header(k) && v.is_string() {
                        if let Value::String(was) = std::mem::replace(v, MASK.into())
                            && was != MASK
                        {
                            changed(at, was);
                        }
                    } else {
                        self.json_noting(v, at, changed);
                    }
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Whether a JSON member name is masked: when redacting changes it, unless it is a word
    /// (a field's name: `router`, `retry_after`) that holds no whole secret — a short cut of
    /// a secret (`router-key-…` cut to `router`) must not rename a report's field.
    fn masks_member_name(&self, k: &str) -> bool {
        if !matches!(self.text(k), Cow::Owned(_)) {
            return false;
        }
        let lower = k.to_ascii_lowercase();
        !is_vocabulary_word(k)
            || self
                .registry
                .snapshot()
                .values()
                .iter()
                .any(|v| lower.contains(&v.to_ascii_lowercase()))
    }

    /// Redact every string of a serialisable value (a report, a runbook): one pass over its
    /// JSON form, so no field can be forgotten.
    ///
    /// It fails closed: a string the redactor changed is never given back as it was, with one
    /// exception. A field whose type only accepts certain words (an enum: `outcome: fail`,
    /// `report_bodies: none`) cannot hold `***`; when a secret equals or is part of such a word
    /// (a local server's key `none`), the redacted value does not fit its type, and that word
    /// alone is given back — the type's own vocabulary, never text from an endpoint or a file.
    pub fn value<T: serde::Serialize + serde::de::DeserializeOwned>(&self, item: T) -> T {
        let mut v = match serde_json::to_value(&item) {
            Ok(v) => v,
            Err(e) => return unrebuildable(item, &e),
        };
        self.json(&mut v);
        match serde_json::from_value(v) {
            Ok(t) => t,
            Err(_) => self.value_keeping_vocabulary(item),
        }
    }

    /// The slow path of [`value`](Self::value), taken only when a redacted value does not fit
    /// its type: the fewest changed words (short lowercase words, as enum variants are
    /// written) given back that let it be rebuilt; every other change kept.
    fn value_keeping_vocabulary<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        item: T,
    ) -> T {
        let is_word = is_vocabulary_word;
        let mut v = match serde_json::to_value(&item) {
            Ok(v) => v,
            Err(e) => return unrebuildable(item, &e),
        };
        // (where, the word it was, what redaction made of it)
        let mut words: Vec<(String, Value, Value)> = Vec::new();
        self.json_noting(&mut v, &mut String::new(), &mut |at, was| {
            if is_word(&was) {
                words.push((at.to_string(), Value::String(was), Value::Null));
            }
        });
        let set = |v: &mut Value, at: &str, to: Value| -> Value {
            v.pointer_mut(at)
                .map(|leaf| std::mem::replace(leaf, to))
                .unwrap_or_default()
        };
        for (at, word, masked) in &mut words {
            *masked = set(&mut v, at, word.clone());
        }
        let fits = |v: &Value| T::deserialize(v).is_ok();
        if fits(&v) {
            // Mask again every word the type does not need.
            for (at, word, masked) in &words {
                set(&mut v, at, masked.clone());
                if !fits(&v) {
                    set(&mut v, at, word.clone());
                }
            }
            if let Ok(t) = serde_json::from_value(v) {
                return t;
            }
        }
        unrebuildable(item, &"a redacted string fits no value of its field")
    }

    /// Redact a header list (names kept, credential values masked, other values scanned).
    pub fn headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                let v = if is_sensitive_header(k) {
                    MASK.to_string()
                } else {
                    self.text(v).into_owned()
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// A short lowercase word, as enum variants and field names are written.
fn is_vocabulary_word(s: &str) -> bool {
    s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A value the redactor cannot rebuild from its own JSON form: a type whose serialisation
/// does not round-trip, a bug (every redacted type is a report contract type, which `merge`
/// reads back). The debug assertion makes such a type fail every test that builds one.
fn unrebuildable<T>(item: T, why: &dyn std::fmt::Display) -> T {
    debug_assert!(
        false,
        "the redactor cannot rebuild a {} ({why})",
        std::any::type_name::<T>()
    );
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CANARY: &str = "canary-Zq9xLmP2vT8wRk4";

    fn redactor() -> Redactor {
        let r = SecretRegistry::default();
        r.add(CANARY);
        Redactor::new(r)
    }

    #[test]
    fn masks_configured_secrets_and_key_shapes() {
        let r = redactor();
        let s = format!(
            "key {CANARY}; Authorization: Bearer abcdefghijklmnop; sk-proj-ABCDEFGHIJKLMNOPQRST; \
             https://x/v1?key={}&alt=sse",
            concat!("AIza", "SyFAKE-not-a-real-key-0123456789")
        );
        let out = r.text(&s);
        assert!(!out.contains(CANARY), "{out}");
        assert!(!out.contains("abcdefghijklmnop"), "{out}");
        assert!(!out.contains("sk-proj-ABCDEFGHIJKLMNOPQRST"), "{out}");
        assert!(!out.contains("AIzaSy"), "{out}");
        assert!(out.contains("alt=sse"), "{out}");
    }

    #[test]
    fn masks_header_values_in_json() {
        let r = redactor();
        let mut v = serde_json::json!({"headers": {"Authorization": "Bearer x", "x-goog-api-key": "k", "accept": "a"}});
        r.json(&mut v);
        assert_eq!(v["headers"]["Authorization"], MASK);
        assert_eq!(v["headers"]["x-goog-api-key"], MASK);
        assert_eq!(v["headers"]["accept"], "a");
    }

    /// Whether `text` holds a leak of `secret`: [`LEAK_CHARS`] or more of its characters, in
    /// any ASCII case.
    fn holds_a_piece(text: &str, secret: &str) -> bool {
        holds_a_piece_of(text, secret, LEAK_CHARS)
    }

    #[test]
    fn an_excerpt_redacts_before_it_cuts_so_no_cut_leaves_a_piece() {
        let r = redactor();
        for cut in 1..CANARY.len() + 8 {
            for case in [CANARY.to_string(), CANARY.to_ascii_lowercase()] {
                let out = r.excerpt(&format!("echo: {case} tail"), 6 + cut);
                assert!(
                    !holds_a_piece_of(&out, CANARY, MIN_SECRET_CHARS),
                    "cut {cut}: {out}"
                );
            }
            // The tail of a secret (a delta split it, an endpoint quoted it) is masked too.
            let out = r.text(&CANARY[cut.min(CANARY.len() - LEAK_CHARS)..]);
            assert!(!holds_a_piece(&out, CANARY), "tail {cut}: {out}");
        }
        for changed in [CANARY.to_ascii_lowercase(), CANARY.to_ascii_uppercase()] {
            let out = r.text(&format!("x-{changed}: 1")).into_owned();
            assert!(!holds_a_piece(&out, CANARY), "{out}");
        }
        assert_eq!(r.text("nothing secret here"), "nothing secret here");
        assert_eq!(r.excerpt("  nothing secret here ", 7), "nothing…");
    }

    /// What cutting first and redacting after leaves: a key shape cut too short to be
    /// recognised (no secret configured). The reason `excerpt` redacts first.
    #[test]
    fn cutting_before_redacting_would_leave_a_key_shapes_head() {
        let r = Redactor::default();
        let key = concat!("sk-proj-", "AbCdEfGhIjKlMnOpQrStUvWxYz012345");
        let text = format!("echo: {key}");
        let cut: String = text.chars().take(6 + 16).collect();
        assert!(r.text(&cut).contains("AbCdEfGh"));
        assert_eq!(r.excerpt(&text, 6 + 16), "echo: ***");
    }

    #[test]
    fn cuts_of_long_secrets_are_followed_and_a_middle_word_is_left_alone() {
        let reg = SecretRegistry::default();
        let long: String = (0..300)
            .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
            .collect();
        reg.add(&long);
        reg.add("sk-litellm-master");
        let r = Redactor::new(reg);
        for cut in [8, 63, 64, 65, 200, 299] {
            let out = r.text(&format!("x {}… y", &long[..cut])).into_owned();
            assert_eq!(out, "x ***… y", "cut {cut}");
            let out = r.text(&format!("{} y", &long[300 - cut..])).into_owned();
            assert_eq!(out, "*** y", "tail {cut}");
        }
        assert_eq!(r.text(&long.to_ascii_uppercase()), "***");
        // A word inside a low-entropy key is not a cut of it.
        assert_eq!(r.text("target litellm-mock"), "target litellm-mock");
        assert_eq!(r.text("SK-LITELLM-MASTER!"), "***!");
    }

    #[test]
    fn key_shapes_never_configured_are_masked_before_a_cut_and_in_any_case() {
        let r = Redactor::default();
        let keys = [
            // Made-up keys, assembled so that no key-shaped literal sits in the source.
            concat!("sk-proj-", "AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
            concat!("sk-", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"),
            concat!("AIza", "SyAbCdEfGhIjKlMnOpQrStUvWxYz0123456"),
            concat!("ya29.", "a0AfB_byAbCdEfGhIjKlMnOpQrStUvWxYz"),
        ];
        for key in keys {
            for cut in 1..key.len() {
                let out = r.excerpt(&format!("echo {key}"), 5 + cut);
                assert!(
                    !holds_a_piece_of(&out, &key[5..], MIN_SECRET_CHARS),
                    "{key} cut at {cut}: {out}"
                );
            }
            let out = r
                .text(&format!("header {}", key.to_ascii_lowercase()))
                .into_owned();
            assert!(!holds_a_piece(&out, key), "{out}");
        }
        let out = r.excerpt("Authorization: Bearer abcdefghijklmnopqrstu", 30);
        assert!(!out.contains("abcd"), "{out}");
    }

    /// Whether `text` holds a piece of `secret` of `n` or more characters, in any ASCII case.
    fn holds_a_piece_of(text: &str, secret: &str, n: usize) -> bool {
        let (t, s) = (text.to_ascii_lowercase(), secret.to_ascii_lowercase());
        let n = n.min(s.len());
        (0..=s.len() - n).any(|i| t.contains(&s[i..i + n]))
    }

    #[test]
    fn pieces_of_a_secret_split_across_events_are_learnt_and_masked() {
        let reg = SecretRegistry::default();
        reg.add(CANARY);
        let unknown = concat!("sk-proj-", "AbCdEfGhIjKlMnOpQrStUvWxYz012345");
        let r = Redactor::new(reg.clone());
        for n in [3, 5, 7, 10, 20] {
            for secret in [CANARY, unknown] {
                let size = secret.len().div_ceil(n);
                let parts: Vec<&str> = secret
                    .as_bytes()
                    .chunks(size)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect();
                let events: Vec<String> = parts
                    .iter()
                    .map(|p| {
                        serde_json::json!({"choices": [{"delta": {"content": p}}]}).to_string()
                    })
                    .chain(["[DONE]".to_string()])
                    .collect();
                learn_split_secrets(&reg, events.iter().map(String::as_str));
                let public = public_prefix(secret);
                let mut at = 0;
                for (e, p) in events.iter().zip(&parts) {
                    let out = r.text(e);
                    assert!(
                        !holds_a_piece(&out, &secret[public..]),
                        "split in {n}: {out}"
                    );
                    // Even a piece of 1 to 3 characters is masked where it stood.
                    at += p.len();
                    if at > public {
                        assert!(!out.contains(&format!("\"{p}\"")), "split in {n}: {out}");
                    }
                }
            }
        }
        // Strings of different places are not joined: nothing is learnt from them.
        let before = reg.snapshot().values().len();
        let (a, b) = CANARY.split_at(10);
        learn_split_secrets(
            &reg,
            [
                serde_json::json!({"id": a}).to_string().as_str(),
                serde_json::json!({"model": b}).to_string().as_str(),
            ],
        );
        assert_eq!(reg.snapshot().values().len(), before);
    }

    /// The leak rule at its edge: a head or a tail of 4 to 7 characters, unmarked, where an
    /// endpoint's own cut left it, is masked (main masked them from 8); inside a word it is
    /// not, nor a head that is only a provider's public prefix.
    #[test]
    fn a_cut_of_four_characters_is_masked_where_a_cut_leaves_it() {
        let key = concat!("sk-proj-", "Vd8Xq2Lm6Tz4Rw9Kc3Hp7Ny1Bg5Fj0Sa");
        let reg = SecretRegistry::default();
        reg.add(key);
        reg.add("sk-litellm-master");
        let r = Redactor::new(reg);
        for k in LEAK_CHARS..ANYWHERE_CHARS {
            let head = &key[..8 + k];
            let tail = &key[key.len() - k..];
            for text in [
                format!("invalid key {head}"),
                format!("invalid key '{head}…'"),
                format!("{{\"model\":\"{}\"}}", head.to_ascii_uppercase()),
                format!("key sk-proj-****{tail} rejected"),
                format!("key ending in {tail}"),
            ] {
                let out = r.text(&text);
                assert!(!holds_a_piece(&out, &key[8..]), "{k}: {out}");
            }
        }
        for word in ["the cluster", "a task-planner", "sk-proj-", "litellm-mock"] {
            assert_eq!(r.text(word), word);
        }
        assert_eq!(r.text("master branch"), "*** branch");
    }

    #[test]
    fn percent_encoded_and_json_escaped_forms_and_basic_credentials_are_masked() {
        let reg = SecretRegistry::default();
        let secret = "tok/en+Qx7:Vb2=Lk9";
        reg.add(secret);
        let r = Redactor::new(reg);
        for form in [
            "tok%2Fen%2BQx7%3AVb2%3DLk9".to_string(),
            r"tok\/en+Qx7:Vb2=Lk9".to_string(),
            secret.to_ascii_uppercase(),
        ] {
            let out = r
                .text(&format!("echo https://x.test/?q={form}&a=1"))
                .into_owned();
            assert!(!holds_a_piece(&out, "Qx7:Vb2=Lk9"), "{out}");
            assert!(!out.contains("Qx7%3A"), "{out}");
        }
        let out = r.text("Authorization: Basic dXNlcjpwYXNzd29yZA==");
        assert!(!out.contains("dXNlcjpw"), "{out}");
        assert_eq!(r.text("a Basic streaming case"), "a Basic streaming case");
    }

    #[test]
    fn url_userinfo_is_always_masked() {
        let r = Redactor::default();
        let out = r.text("GET https://alice:s3cr3t-pass@example.test/v1/models failed");
        assert_eq!(out, "GET https://***@example.test/v1/models failed");
        assert_eq!(r.text("mail me@example.test"), "mail me@example.test");
    }

    #[test]
    fn object_keys_and_binary_bodies_are_masked() {
        let r = redactor();
        let mut v = serde_json::json!({"headers": {CANARY.to_ascii_lowercase(): "1"}});
        r.json(&mut v);
        assert!(!holds_a_piece(&v.to_string(), CANARY), "{v}");
        let mut bin = vec![0xff, 0xfe];
        bin.extend_from_slice(&CANARY.as_bytes()[3..]);
        let out = r.bytes(&bin);
        assert!(!holds_a_piece(&String::from_utf8_lossy(&out), CANARY));
    }

    proptest! {
        // Wherever the canary sits in arbitrary text, it never survives redaction.
        #[test]
        fn canary_never_survives(prefix in ".{0,40}", suffix in ".{0,40}") {
            let r = redactor();
            let s = format!("{prefix}{CANARY}{suffix}");
            prop_assert!(!r.text(&s).contains(CANARY));
        }
    }
}

#[cfg(test)]
mod value_tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Bodies {
        All,
        None,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Entry {
        bodies: Bodies,
        outcome: crate::judge::Outcome,
        reason: String,
        words: Vec<String>,
    }

    fn redactor(secrets: &[&str]) -> Redactor {
        let r = SecretRegistry::default();
        for s in secrets {
            r.add(s);
        }
        Redactor::new(r)
    }

    #[test]
    fn free_text_is_masked_and_the_type_keeps_only_the_words_it_needs() {
        // A local server's key `none` and a key `fail`: every string holding them is masked,
        // except the enum values that can be nothing else.
        let r = redactor(&["none", "fail", "canary-Zq9xLmP2vT8wRk4"]);
        let e = Entry {
            bodies: Bodies::None,
            outcome: crate::judge::Outcome::Fail,
            reason: "key none rejected: canary-Zq9xLmP2vT8wRk4 (fail)".into(),
            words: vec!["none".into(), "fail".into(), "kept".into()],
        };
        let out = r.value(e);
        assert_eq!(out.bodies, Bodies::None);
        assert_eq!(out.outcome, crate::judge::Outcome::Fail);
        assert_eq!(out.reason, "key *** rejected: *** (***)");
        assert_eq!(out.words, ["***", "***", "kept"]);
    }

    /// A field named by a cut of a secret (`router` of `router-key-…`) keeps its name; a
    /// member named by a whole secret does not.
    #[test]
    fn a_field_named_by_a_cut_of_a_secret_keeps_its_name() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Hop {
            router: String,
            headers: std::collections::BTreeMap<String, String>,
        }
        let r = redactor(&["router-key-Hx81"]);
        let hop = Hop {
            router: "router".into(),
            headers: [("x-router-key-hx81".to_string(), "1".to_string())].into(),
        };
        let out = r.value(hop);
        assert_eq!(out.router, "***");
        assert_eq!(out.headers.keys().collect::<Vec<_>>(), ["x-***"]);
    }

    #[test]
    fn the_fast_path_masks_every_field() {
        let r = redactor(&["canary-Zq9xLmP2vT8wRk4"]);
        let e = Entry {
            bodies: Bodies::All,
            outcome: crate::judge::Outcome::Pass,
            reason: "canary-Zq9xLmP2vT8wRk4".into(),
            words: vec!["Bearer abcdefghijklmnop".into()],
        };
        let out = r.value(e);
        assert_eq!(out.reason, "***");
        assert_eq!(out.words, ["Bearer ***"]);
    }

    /// A type that cannot be rebuilt from its JSON is a bug the debug assertion reports.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the redactor cannot rebuild")]
    fn a_type_that_does_not_round_trip_trips_the_assertion() {
        #[derive(Serialize, Deserialize)]
        struct Nan {
            x: f64,
        }
        redactor(&[]).value(Nan { x: f64::NAN });
    }
}
