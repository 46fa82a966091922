//! JSON kept as spans of the stream's text. Each chunk is parsed once; its fields are
//! remembered as where they are (eight bytes each), and typed when a check reads them. A
//! `serde_json::Value` per chunk would cost ~600 bytes per JSON object, ten to twenty times the
//! chunk's own size.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Where one JSON value (or an event's data) sits in the stream's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// The span of `part`, which must be a slice of `text` (as serde's borrowed strings are).
    pub(super) fn within(text: &str, part: &str) -> Span {
        let start = part.as_ptr() as usize - text.as_ptr() as usize;
        debug_assert!(start + part.len() <= text.len(), "not a slice of the text");
        Span {
            start: start as u32,
            len: part.len() as u32,
        }
    }

    /// `len` bytes from `start`.
    pub(super) fn at(start: usize, len: usize) -> Span {
        Span {
            start: start as u32,
            len: len as u32,
        }
    }

    pub(super) fn get<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start as usize..(self.start + self.len) as usize]
    }
}

/// A JSON value of the stream that is known to be present (never empty text): its span, with
/// a niche so that `Option<Field>` stays eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field {
    start: u32,
    len: NonZeroU32,
}

impl Field {
    fn of(text: &str, raw: &RawValue) -> Option<Field> {
        Self::from_span(Span::within(text, raw.get()))
    }

    /// The span as a field; `None` when it is empty.
    pub(super) fn from_span(s: Span) -> Option<Field> {
        Some(Field {
            start: s.start,
            len: NonZeroU32::new(s.len)?,
        })
    }

    pub(super) fn read<'a>(&self, text: &'a str) -> Json<'a> {
        Json(&text[self.start as usize..(self.start + self.len.get()) as usize])
    }
}

/// The JSON types, as a check names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    /// "an integer", "a string"…, as `judge::assert::type_name` words a `Value`.
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Bool => "a boolean",
            JsonType::Integer => "an integer",
            JsonType::Number => "a number",
            JsonType::String => "a string",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
        }
    }
}

/// One JSON value of a chunk, read from the stream's text (valid JSON: it was parsed once).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Json<'a>(&'a str);

impl<'a> Json<'a> {
    /// The value's text exactly as the endpoint sent it.
    pub fn text(&self) -> &'a str {
        self.0
    }

    pub fn kind(&self) -> JsonType {
        match self.0.as_bytes().first() {
            Some(b'n') => JsonType::Null,
            Some(b't' | b'f') => JsonType::Bool,
            Some(b'"') => JsonType::String,
            Some(b'[') => JsonType::Array,
            Some(b'{') => JsonType::Object,
            _ if self.as_i64().is_some() || self.as_u64().is_some() => JsonType::Integer,
            _ => JsonType::Number,
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.kind().name()
    }

    pub fn is_null(&self) -> bool {
        self.kind() == JsonType::Null
    }

    /// The string, decoded (borrowed when it has no escapes); `None` for other types.
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        let inner = self.0.strip_prefix('"')?.strip_suffix('"')?;
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        serde_json::from_str::<String>(self.0).ok().map(Cow::Owned)
    }

    /// A string with at least one character (`""` is the only empty string literal).
    pub fn is_non_empty_str(&self) -> bool {
        self.kind() == JsonType::String && self.0.len() > 2
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.number().and_then(|n| n.as_u64())
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.number().and_then(|n| n.as_i64())
    }

    fn number(&self) -> Option<serde_json::Number> {
        match self.0.as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => serde_json::from_str(self.0).ok(),
            _ => None,
        }
    }

    /// An object with no member (`{}`, whitespace allowed).
    pub fn is_empty_object(&self) -> bool {
        self.kind() == JsonType::Object && self.0[1..self.0.len() - 1].trim().is_empty()
    }

    /// An array with no element.
    pub fn is_empty_array(&self) -> bool {
        self.kind() == JsonType::Array && self.0[1..self.0.len() - 1].trim().is_empty()
    }

    /// The whole value as a `serde_json::Value` (parsed now; `Null` for a number beyond what
    /// serde_json holds).
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing a chunk into spans.

/// A member's value, `null` included (serde's `Option` would read `null` as absent, and the
/// checks tell the two apart).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The members of a chunk the model keeps. Unknown members are skipped unread; a duplicated
/// member makes serde fail, and the chunk is then read through `Value` (last one wins).
#[derive(Deserialize)]
struct RawChunk<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    object: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    created: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    model: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    system_fingerprint: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    service_tier: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    usage: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    choices: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawChoice<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    index: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    delta: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    finish_reason: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    logprobs: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawDelta<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    role: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    content: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    refusal: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    reasoning_content: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    reasoning: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    tool_calls: Option<&'a RawValue>,
    /// The deprecated `functions` API's call, which OpenAI still streams.
    #[serde(default, borrow, deserialize_with = "present")]
    function_call: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawToolCall<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    index: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present", rename = "type")]
    kind: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    function: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawFunction<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    name: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    arguments: Option<&'a RawValue>,
}

/// A chunk's members.
#[derive(Debug, Clone, Default)]
pub(super) struct ChunkFields {
    pub id: Option<Field>,
    pub object: Option<Field>,
    pub created: Option<Field>,
    pub model: Option<Field>,
    pub system_fingerprint: Option<Field>,
    pub service_tier: Option<Field>,
    pub usage: Option<Field>,
    pub error: Option<Field>,
    pub choices: Option<Field>,
}

/// One `choices[]` entry's members (and its delta's).
#[derive(Debug, Clone, Default)]
pub(super) struct EntryFields {
    pub index: Option<Field>,
    pub delta: Option<Field>,
    pub finish_reason: Option<Field>,
    pub logprobs: Option<Field>,
    pub role: Option<Field>,
    pub content: Option<Field>,
    pub refusal: Option<Field>,
    pub reasoning_content: Option<Field>,
    pub reasoning: Option<Field>,
    pub tool_calls: Option<Field>,
    pub function_call: Option<Field>,
}

/// One `delta.tool_calls[]` entry's members (and its function's).
#[derive(Debug, Clone, Default)]
pub(super) struct ToolDeltaFields {
    pub index: Option<Field>,
    pub id: Option<Field>,
    pub kind: Option<Field>,
    pub function: Option<Field>,
    pub name: Option<Field>,
    pub arguments: Option<Field>,
}

/// A chunk read into spans: its members, its choice entries, and each entry's tool-call
/// deltas (`entries[i].1`).
#[derive(Debug, Default)]
pub(super) struct ParsedChunk {
    pub fields: ChunkFields,
    pub entries: Vec<(EntryFields, Vec<ToolDeltaFields>)>,
}

/// A duplicated member somewhere in the chunk (serde refuses it): read it through `Value`.
#[derive(Debug)]
pub(super) struct Duplicate;

/// Reads the chunk `part` (a JSON object, a slice of `text`) into spans of `text`. An error
/// chunk (a non-null `error`) keeps its members but no entries: it is not judged as a chunk.
pub(super) fn parse_chunk(text: &str, part: &str) -> Result<ParsedChunk, Duplicate> {
    let raw: RawChunk<'_> = serde_json::from_str(part).map_err(|_| Duplicate)?;
    let f = |r: Option<&RawValue>| r.and_then(|r| Field::of(text, r));
    let fields = ChunkFields {
        id: f(raw.id),
        object: f(raw.object),
        created: f(raw.created),
        model: f(raw.model),
        system_fingerprint: f(raw.system_fingerprint),
        service_tier: f(raw.service_tier),
        usage: f(raw.usage),
        error: f(raw.error),
        choices: f(raw.choices),
    };
    let mut entries = Vec::new();
    let is_error = raw.error.is_some_and(|e| e.get() != "null");
    if let Some(choices) = raw.choices.filter(|_| !is_error) {
        for entry in elements(choices)? {
            entries.push(parse_entry(text, entry)?);
        }
    }
    Ok(ParsedChunk { fields, entries })
}

/// The elements of an array (none for any other value).
fn elements(raw: &RawValue) -> Result<Vec<&RawValue>, Duplicate> {
    if !raw.get().starts_with('[') {
        return Ok(Vec::new());
    }
    serde_json::from_str(raw.get()).map_err(|_| Duplicate)
}

/// serde reads a struct from a JSON array too (members in order): only objects are read.
fn object<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Result<Option<T>, Duplicate> {
    if !raw.get().starts_with('{') {
        return Ok(None);
    }
    serde_json::from_str(raw.get())
        .map(Some)
        .map_err(|_| Duplicate)
}

fn parse_entry(
    text: &str,
    entry: &RawValue,
) -> Result<(EntryFields, Vec<ToolDeltaFields>), Duplicate> {
    let f = |r: Option<&RawValue>| r.and_then(|r| Field::of(text, r));
    let Some(c) = object::<RawChoice<'_>>(entry)? else {
        return Ok(Default::default());
    };
    let mut out = EntryFields {
        index: f(c.index),
        delta: f(c.delta),
        finish_reason: f(c.finish_reason),
        logprobs: f(c.logprobs),
        ..Default::default()
    };
    let mut deltas = Vec::new();
    if let Some(d) = c.delta.map(object::<RawDelta<'_>>).transpose()?.flatten() {
        out.role = f(d.role);
        out.content = f(d.content);
        out.refusal = f(d.refusal);
        out.reasoning_content = f(d.reasoning_content);
        out.reasoning = f(d.reasoning);
        out.tool_calls = f(d.tool_calls);
        out.function_call = f(d.function_call);
        for call in d.tool_calls.map(elements).transpose()?.unwrap_or_default() {
            let mut fields = ToolDeltaFields::default();
            if let Some(t) = object::<RawToolCall<'_>>(call)? {
                fields.index = f(t.index);
                fields.id = f(t.id);
                fields.kind = f(t.kind);
                fields.function = f(t.function);
                let function = t.function.map(object::<RawFunction<'_>>).transpose()?;
                if let Some(func) = function.flatten() {
                    fields.name = f(func.name);
                    fields.arguments = f(func.arguments);
                }
            }
            deltas.push(fields);
        }
    }
    Ok((out, deltas))
}

/// What an event's data is: `Ok(true)` a JSON object, `Ok(false)` other JSON, `Err` not JSON
/// (with serde_json's reason).
pub(super) fn classify(data: &str) -> Result<bool, serde_json::Error> {
    let raw: &RawValue = serde_json::from_str(data)?;
    Ok(raw.get().starts_with('{'))
}

/// `data` with surrounding whitespace removed, as `RawValue` keeps a value's text.
pub(super) fn trimmed_json(data: &str) -> &str {
    data.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}
