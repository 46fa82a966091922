//! A fast reader for the plain YAML that suites are written in, deserialized exactly as
//! yaml_serde deserializes the same text.
//!
//! The subset: a document that is a block mapping; block mappings and sequences (a sequence may
//! sit at its key's indentation, and `- key: value` starts a mapping in an item); flow
//! collections on one line; plain scalars on one line; single- and double-quoted scalars on one
//! line (every escape); literal and folded block scalars (`|`, `>`, with `-` or `+`) whose lines
//! start at one indentation; comments. Not in it: anchors, aliases, tags, `?` keys, directives
//! and `---`, tabs, carriage returns and the Unicode line breaks, scalars over several lines,
//! and a few rare forms this reader does not try to tell apart (see the tests).
//!
//! **It never reports an error.** For anything outside the subset, and for anything serde
//! refuses, it answers `None`, and the caller reads the text with yaml_serde, which says what
//! is wrong and where. So this reader decides how fast a file that reads is read, never what a
//! file means or what a problem is called: its events are the ones libyaml gives for the same
//! text, and its deserializer calls the visitor as yaml_serde's does for each event
//! (`yaml_serde::de`: how a plain scalar resolves to null, a boolean, an integer or a float,
//! what each typed request accepts), held to that by comparing both readers on generated
//! documents and on every file the project ships. In debug builds every text it reads is also
//! read by yaml_serde and compared, so the whole test suite checks it too.
//!
//! Why: yaml_serde (libyaml transpiled to Rust) spent ~75 % of loading a large suite in its
//! scanner, parser and event list; this reader goes over a line once and keeps one small event
//! per node.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

use super::yaml::single_quoted_end;
use crate::util::json::string_end;

/// `text` as a `T`, when it is in the subset and serde accepts it; `None` otherwise (then read
/// it with yaml_serde, which reports why).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    let events = events(text)?;
    let mut de = De::new(&events);
    let value = T::deserialize(&mut de).ok()?;
    if de.pos != events.len() {
        return None;
    }
    #[cfg(debug_assertions)]
    same_as_yaml_serde(text, &events);
    Some(value)
}

/// In debug builds: yaml_serde calls a visitor on the text as these events do. Compared on
/// every node and scalar, as the visitor is called (integer, float bits, string, unit, map
/// entries in order, duplicates kept): a `Value` would refuse a duplicate key on both sides and
/// hide any other difference in the text.
#[cfg(debug_assertions)]
fn same_as_yaml_serde(text: &str, events: &[Ev<'_>]) {
    use serde::Deserialize as _;
    let ours = calls::Node::deserialize(&mut De::new(events));
    let theirs = serde_yaml::from_str::<calls::Node>(text);
    match (ours, theirs) {
        (Ok(a), Ok(b)) if a == b => {}
        (a, b) => panic!(
            "the YAML subset reader and yaml_serde differ on this text:\n{text}\nsubset: {a:?}\n\
             yaml_serde: {b:?}"
        ),
    }
}

/// A document as the calls a visitor gets for it.
#[cfg(any(debug_assertions, test))]
mod calls {
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    #[derive(Debug, PartialEq)]
    pub enum Node {
        Unit,
        Bool(bool),
        Unsigned(u64),
        Signed(i64),
        Unsigned128(u128),
        Signed128(i128),
        /// The float's bits: NaN equals NaN.
        Float(u64),
        Str(String),
        Seq(Vec<Node>),
        Map(Vec<(Node, Node)>),
    }

    impl<'de> Deserialize<'de> for Node {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Calls)
        }
    }

    struct Calls;

    impl<'de> Visitor<'de> for Calls {
        type Value = Node;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any YAML node")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
            Ok(Node::Unit)
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
            Ok(Node::Bool(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
            Ok(Node::Unsigned(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
            Ok(Node::Signed(v))
        }

        fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
            Ok(Node::Unsigned128(v))
        }

        fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
            Ok(Node::Signed128(v))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
            Ok(Node::Float(v.to_bits()))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
            Ok(Node::Str(v.to_string()))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
            let mut v = Vec::new();
            while let Some(n) = a.next_element()? {
                v.push(n);
            }
            Ok(Node::Seq(v))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
            let mut v = Vec::new();
            while let Some(kv) = a.next_entry()? {
                v.push(kv);
            }
            Ok(Node::Map(v))
        }
    }
}

/// What the text holds, node by node, as libyaml's events would say it (without positions,
/// tags or anchors, which the subset does not have).
#[derive(Debug, Clone, PartialEq)]
enum Ev<'a> {
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    /// A plain scalar: null, a boolean, a number or a string, resolved as yaml_serde does.
    Plain(&'a str),
    /// A quoted or block scalar: always a string.
    Text(Cow<'a, str>),
}

/// `None`: the text is outside the subset (or not YAML); the caller reads it with yaml_serde.
type Sub<T> = Option<T>;

/// The events of `text`, or `None` when it is outside the subset.
fn events(text: &str) -> Option<Vec<Ev<'_>>> {
    if !plain_characters(text) {
        return None;
    }
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        at: 0,
        line: 0,
        depth: 0,
        // A generated suite holds an event per ~7 bytes; pages reserved but not written cost
        // nothing, a reallocation copies every event.
        ev: Vec::with_capacity(text.len() / 4),
    };
    // The document is a mapping at column 0 (`mapping` refuses a line that is not a key).
    if p.content_line()? != Some(0) {
        return None;
    }
    match p.mapping(0)? {
        None => Some(p.ev),
        Some(_) => None,
    }
}

/// Whether every character of `text` is one libyaml reads as itself, but tabs and carriage
/// returns (left to yaml_serde with the rest): printable ASCII and line feeds, and from the rest
/// of Unicode what libyaml's reader allows (U+00A0 to U+D7FF, U+E000 to U+FFFD, from U+10000) but the
/// byte order mark and the line breaks of YAML 1.1 (NEL, LS, PS), which libyaml breaks lines at.
fn plain_characters(text: &str) -> bool {
    let ascii_ok = |c: u8| (0x20..0x7F).contains(&c) || c == b'\n' || c >= 0x80;
    text.bytes().all(ascii_ok)
        && (text.is_ascii()
            || text.chars().all(|c| {
                c.is_ascii()
                    || matches!(c, '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
                        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
            }))
}

/// The bytes that cannot start a plain scalar (some can when a non-space follows; the subset
/// leaves those to yaml_serde but `-`).
const INDICATOR: [bool; 256] = {
    let mut t = [false; 256];
    let s = b"-?:,[]{}#&*!|>'\"%@`";
    let mut k = 0;
    while k < s.len() {
        t[s[k] as usize] = true;
        k += 1;
    }
    t
};

/// The deepest nesting the subset reads (the files' own limit is checked before, and is
/// higher; deeper texts go to yaml_serde, which refuses them).
const MAX_DEPTH: usize = 64;

/// Keys whose `:` is further than this many bytes from their start go to yaml_serde (libyaml
/// looks for a simple key's `:` within 1,024 characters of its start, in block and flow
/// context).
const MAX_KEY: usize = 1000;

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    /// The next byte to read.
    at: usize,
    /// Where the line of `at` starts.
    line: usize,
    depth: usize,
    ev: Vec<Ev<'a>>,
}

impl<'a> Parser<'a> {
    /// Where the line holding `i` ends (its `\n`, or the end of the text).
    fn line_end(&self, i: usize) -> usize {
        memchr::memchr(b'\n', &self.b[i..]).map_or(self.b.len(), |k| i + k)
    }

    /// The first byte from `i` that is not a space.
    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// From the start of a line: past blank and comment lines to the next line with content;
    /// its indentation, with `at` at its first byte, or `None` at the end of the text. A
    /// document marker or directive is outside the subset.
    fn content_line(&mut self) -> Sub<Option<usize>> {
        loop {
            let start = self.at;
            let i = self.skip_spaces(start);
            match self.b.get(i) {
                None => {
                    self.at = i;
                    return Some(None);
                }
                Some(b'\n') => self.at = i + 1,
                Some(b'#') => self.at = (self.line_end(i) + 1).min(self.b.len()),
                Some(&c) => {
                    let rest = &self.b[start..];
                    if i == start
                        && (c == b'%' || rest.starts_with(b"---") || rest.starts_with(b"..."))
                    {
                        return None;
                    }
                    self.line = start;
                    self.at = i;
                    return Some(Some(i - start));
                }
            }
        }
    }

    /// After a value that ends its line: spaces, perhaps a comment, the line's end; then the
    /// next line with content ([`Self::content_line`]).
    fn end_of_line(&mut self) -> Sub<Option<usize>> {
        let i = self.skip_spaces(self.at);
        match self.b.get(i) {
            None => self.at = i,
            Some(b'\n') => self.at = i + 1,
            Some(b'#') if i > self.at => self.at = (self.line_end(i) + 1).min(self.b.len()),
            Some(_) => return None,
        }
        self.content_line()
    }

    fn open(&mut self, e: Ev<'a>) -> Sub<()> {
        self.depth += 1;
        self.ev.push(e);
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn close(&mut self, e: Ev<'a>) {
        self.depth -= 1;
        self.ev.push(e);
    }

    /// Where the plain key starting at `i` ends: the `:` followed by a space or the line's end,
    /// before any comment; `None` when the line holds no key there.
    fn key_colon(&self, i: usize) -> Option<usize> {
        let mut j = i;
        while let Some(&c) = self.b.get(j) {
            match c {
                b'\n' => return None,
                b':' if matches!(self.b.get(j + 1), None | Some(b' ' | b'\n')) => return Some(j),
                b'#' if j > i && self.b[j - 1] == b' ' => return None,
                _ => {}
            }
            j += 1;
        }
        None
    }

    /// Where the quoted scalar starting at `i` ends (after its closing quote), on its line
    /// (an escaped line break, which continues it on the next, is not).
    fn quoted_end(&self, i: usize) -> Option<usize> {
        let inside = &self.b[i + 1..];
        let close = match self.b[i] {
            b'"' => string_end(inside)?,
            _ => single_quoted_end(inside)?,
        };
        (!inside[..close].contains(&b'\n')).then_some(i + close + 2)
    }

    /// Whether a plain scalar may start at `i`: not at an indicator, but at a `-`, `?` or `:`
    /// followed by a non-space in block context (in flow context only `-`, followed by neither
    /// a space nor a flow indicator).
    fn plain_starts(&self, i: usize, flow: bool) -> bool {
        let c = self.b[i];
        if !INDICATOR[usize::from(c)] {
            return true;
        }
        match (flow, self.b.get(i + 1)) {
            (_, None | Some(b' ' | b'\n')) => false,
            (false, _) => matches!(c, b'-' | b'?' | b':'),
            (true, Some(b',' | b'[' | b']' | b'{' | b'}')) => false,
            (true, _) => c == b'-',
        }
    }

    /// Whether a key (plain or quoted) and its `:` start at `i`.
    fn key_at(&self, i: usize) -> bool {
        match self.b[i] {
            b'"' | b'\'' => self.quoted_end(i).is_some_and(|e| {
                let j = self.skip_spaces(e);
                self.b.get(j) == Some(&b':')
                    && matches!(self.b.get(j + 1), None | Some(b' ' | b'\n'))
            }),
            _ => self.plain_starts(i, false) && self.key_colon(i).is_some(),
        }
    }

    /// Whether `i` is at a sequence item's `-`.
    fn item_at(&self, i: usize) -> bool {
        self.b.get(i) == Some(&b'-') && matches!(self.b.get(i + 1), None | Some(b' ' | b'\n'))
    }

    /// A block mapping whose first key starts at `at`, in column `n`; then the indentation of
    /// the next line with content after it.
    fn mapping(&mut self, n: usize) -> Sub<Option<usize>> {
        self.open(Ev::MapStart)?;
        loop {
            let start = self.at;
            let colon = match self.b[start] {
                b'"' | b'\'' => {
                    let key = self.quoted()?;
                    self.ev.push(Ev::Text(key));
                    let j = self.skip_spaces(self.at);
                    (self.b.get(j) == Some(&b':')).then_some(j)?
                }
                _ if self.plain_starts(start, false) => {
                    let colon = self.key_colon(start)?;
                    self.ev
                        .push(Ev::Plain(self.text[start..colon].trim_end_matches(' ')));
                    colon
                }
                _ => return None,
            };
            if colon - start > MAX_KEY
                || !matches!(self.b.get(colon + 1), None | Some(b' ' | b'\n'))
            {
                return None;
            }
            self.at = colon + 1;
            match self.value(n, true)? {
                Some(m) if m == n => {}
                Some(m) if m > n => return None,
                next => {
                    self.close(Ev::MapEnd);
                    return Some(next);
                }
            }
        }
    }

    /// A block sequence whose first `-` is at `at`, in column `n`; `indentless` when it is a
    /// mapping value at its key's indentation (a line there that is not an item is the
    /// mapping's next key).
    fn sequence(&mut self, n: usize, indentless: bool) -> Sub<Option<usize>> {
        self.open(Ev::SeqStart)?;
        loop {
            self.at += 1;
            match self.value(n, false)? {
                Some(m) if m == n && self.item_at(self.at) => {}
                Some(m) if m == n && indentless => {
                    self.close(Ev::SeqEnd);
                    return Some(Some(m));
                }
                Some(m) if m >= n => return None,
                next => {
                    self.close(Ev::SeqEnd);
                    return Some(next);
                }
            }
        }
    }

    /// The value after a key's `:` (`map_value`) or an item's `-` (`at` just after it), in a
    /// collection at column `parent`; then the indentation of the next line with content.
    fn value(&mut self, parent: usize, map_value: bool) -> Sub<Option<usize>> {
        let i = self.skip_spaces(self.at);
        match self.b.get(i) {
            None | Some(b'\n') => {
                self.at = i;
                self.nested(parent, map_value)
            }
            Some(b'#') if i > self.at => {
                self.at = self.line_end(i);
                self.nested(parent, map_value)
            }
            Some(b'|' | b'>') => self.block_scalar(i, parent),
            // In an item: `- key: value` starts a mapping, `- - x` a sequence, at their column.
            Some(_) if !map_value && self.key_at(i) => {
                self.at = i;
                self.mapping(i - self.line)
            }
            Some(_) if !map_value && self.item_at(i) => {
                self.at = i;
                self.sequence(i - self.line, false)
            }
            Some(b'[' | b'{' | b'"' | b'\'') => {
                self.at = i;
                self.flow_node()?;
                self.end_of_line()
            }
            Some(_) => {
                let v = self.plain_in_block(i)?;
                self.ev.push(Ev::Plain(v));
                self.end_of_line()
            }
        }
    }

    /// The value on the lines after a key or item with nothing after it on its line (`at` at
    /// that line's end): a collection indented further, a sequence at a key's indentation, or
    /// null.
    fn nested(&mut self, parent: usize, map_value: bool) -> Sub<Option<usize>> {
        self.at = (self.at + 1).min(self.b.len());
        let next = self.content_line()?;
        match next {
            Some(m) if m > parent => {
                if self.item_at(self.at) {
                    self.sequence(m, false)
                } else if self.key_at(self.at) {
                    self.mapping(m)
                } else {
                    None
                }
            }
            Some(m) if m == parent && map_value && self.item_at(self.at) => self.sequence(m, true),
            _ => {
                self.ev.push(Ev::Plain(""));
                Some(next)
            }
        }
    }

    /// A plain scalar in block context starting at `i`, to the end of its line or a comment;
    /// `at` then after it.
    fn plain_in_block(&mut self, i: usize) -> Sub<&'a str> {
        if !self.plain_starts(i, false) {
            return None;
        }
        let end = self.line_end(i);
        let mut stop = end;
        let mut j = i;
        while j < end {
            match self.b[j] {
                b'#' if self.b[j - 1] == b' ' => {
                    stop = j;
                    break;
                }
                // `a: b` or a trailing `:` is a mapping where a scalar is: an error.
                b':' if j + 1 == end || self.b[j + 1] == b' ' => return None,
                _ => {}
            }
            j += 1;
        }
        let v = self.text[i..stop].trim_end_matches(' ');
        self.at = i + v.len();
        Some(v)
    }

    /// A collection, quoted scalar or plain scalar in flow context at `at`, on this line.
    fn flow_node(&mut self) -> Sub<()> {
        match self.b.get(self.at)? {
            b'[' => {
                self.open(Ev::SeqStart)?;
                self.at = self.skip_spaces(self.at + 1);
                if self.b.get(self.at) != Some(&b']') {
                    loop {
                        self.flow_node()?;
                        if self.flow_separator(b']')? {
                            break;
                        }
                    }
                }
                self.at += 1;
                self.close(Ev::SeqEnd);
            }
            b'{' => {
                self.open(Ev::MapStart)?;
                self.at = self.skip_spaces(self.at + 1);
                if self.b.get(self.at) != Some(&b'}') {
                    loop {
                        let key = self.at;
                        if matches!(self.b.get(key)?, b'[' | b'{') {
                            return None;
                        }
                        self.flow_node()?;
                        self.at = self.skip_spaces(self.at);
                        if self.b.get(self.at) != Some(&b':')
                            || self.b.get(self.at + 1) != Some(&b' ')
                            || self.at - key > MAX_KEY
                        {
                            return None;
                        }
                        self.at = self.skip_spaces(self.at + 1);
                        if matches!(self.b.get(self.at)?, b',' | b'}') {
                            return None;
                        }
                        self.flow_node()?;
                        if self.flow_separator(b'}')? {
                            break;
                        }
                    }
                }
                self.at += 1;
                self.close(Ev::MapEnd);
            }
            b'"' | b'\'' => {
                let s = self.quoted()?;
                self.ev.push(Ev::Text(s));
            }
            _ => {
                let v = self.plain_in_flow()?;
                self.ev.push(Ev::Plain(v));
            }
        }
        Some(())
    }

    /// After an entry of a flow collection: `true` at its `close` (`at` on it), `false` after
    /// a `,` with another entry to come (`at` on that entry).
    fn flow_separator(&mut self, close: u8) -> Sub<bool> {
        self.at = self.skip_spaces(self.at);
        match *self.b.get(self.at)? {
            c if c == close => Some(true),
            b',' => {
                self.at = self.skip_spaces(self.at + 1);
                // A trailing comma is left to yaml_serde.
                match self.b.get(self.at)? {
                    b']' | b'}' => None,
                    _ => Some(false),
                }
            }
            _ => None,
        }
    }

    /// A plain scalar in flow context at `at`: up to a flow indicator or a `:`.
    fn plain_in_flow(&mut self) -> Sub<&'a str> {
        let i = self.at;
        if !self.plain_starts(i, true) {
            return None;
        }
        let mut j = i;
        loop {
            match self.b.get(j)? {
                b',' | b'[' | b']' | b'{' | b'}' | b':' => break,
                b'#' | b'\n' => return None,
                _ => j += 1,
            }
        }
        self.at = j;
        let v = self.text[i..j].trim_end_matches(' ');
        (!v.is_empty()).then_some(v)
    }

    /// A single- or double-quoted scalar at `at`, closed on its line; `at` then after it.
    fn quoted(&mut self) -> Sub<Cow<'a, str>> {
        let end = self.quoted_end(self.at)?;
        let inside = &self.text[self.at + 1..end - 1];
        let double = self.b[self.at] == b'"';
        self.at = end;
        let escaped = if double { '\\' } else { '\'' };
        if !inside.contains(escaped) {
            return Some(Cow::Borrowed(inside));
        }
        if !double {
            return Some(Cow::Owned(inside.replace("''", "'")));
        }
        let mut out = String::with_capacity(inside.len());
        let mut rest = inside;
        while let Some(k) = rest.find('\\') {
            out.push_str(&rest[..k]);
            let taken = escape(&rest.as_bytes()[k + 1..], &mut out)?;
            rest = &rest[k + 1 + taken..];
        }
        out.push_str(rest);
        Some(Cow::Owned(out))
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is at `i`, in a collection at
    /// column `parent`; then the indentation of the next line with content.
    fn block_scalar(&mut self, i: usize, parent: usize) -> Sub<Option<usize>> {
        let folded = self.b[i] == b'>';
        let mut j = i + 1;
        let chomp = match self.b.get(j) {
            Some(b'-') => {
                j += 1;
                Chomp::Strip
            }
            Some(b'+') => {
                j += 1;
                Chomp::Keep
            }
            _ => Chomp::Clip,
        };
        let k = self.skip_spaces(j);
        match self.b.get(k) {
            Some(b'\n') => {}
            Some(b'#') if k > j => {}
            // An indentation indicator, something else on the line, or the end of the text.
            _ => return None,
        }
        let mut at = self.line_end(k) + 1;
        // Leading empty lines, then the first line with content sets the indentation.
        let mut breaks = 0;
        let mut widest_blank = 0;
        let indent = loop {
            let e = self.skip_spaces(at);
            match self.b.get(e)? {
                b'\n' => {
                    widest_blank = widest_blank.max(e - at);
                    breaks += 1;
                    at = e + 1;
                }
                _ if e - at <= parent || widest_blank > e - at => return None,
                _ => break e - at,
            }
        };
        let mut out = String::new();
        let mut first = true;
        loop {
            let e = self.skip_spaces(at);
            match self.b.get(e) {
                // Spaces past the indentation on a last line without a break are content.
                None if e - at > indent => return None,
                None => {
                    at = e;
                    break;
                }
                Some(b'\n') if e - at > indent => return None,
                Some(b'\n') => {
                    breaks += 1;
                    at = e + 1;
                    continue;
                }
                Some(_) if e - at < indent => break,
                Some(_) => {}
            }
            let end = self.line_end(e);
            if end == self.b.len() || (folded && e - at > indent) {
                // A last line without its line break, or a more indented line in a folded
                // scalar.
                return None;
            }
            if first || !folded {
                let n = breaks + usize::from(!first);
                out.extend(std::iter::repeat_n('\n', n));
            } else if breaks == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', breaks));
            }
            out.push_str(&self.text[at + indent..end]);
            first = false;
            breaks = 0;
            at = end + 1;
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => out.push('\n'),
            Chomp::Keep => out.extend(std::iter::repeat_n('\n', 1 + breaks)),
        }
        self.ev.push(Ev::Text(Cow::Owned(out)));
        self.at = at;
        self.content_line()
    }
}

/// How a block scalar ends: without its last line break, with it, with every trailing one.
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// The escape after a `\` in a double-quoted scalar (`rest` starts after the `\`), pushed onto
/// `out` as libyaml reads it; how many bytes it took. `None` for an escape libyaml refuses, and
/// for a line break (a scalar over several lines).
fn escape(rest: &[u8], out: &mut String) -> Option<usize> {
    let c = match *rest.first()? {
        b'0' => '\0',
        b'a' => '\u{7}',
        b'b' => '\u{8}',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\u{b}',
        b'f' => '\u{c}',
        b'r' => '\r',
        b'e' => '\u{1b}',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        x @ (b'x' | b'u' | b'U') => {
            let n = match x {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = rest.get(1..=n)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(char::from_u32(code)?);
            return Some(1 + n);
        }
        _ => return None,
    };
    out.push(c);
    Some(1)
}

// ---------------------------------------------------------------------------------------------
// The deserializer: yaml_serde's calls for each event.

/// Why serde refused the events; never shown (the caller reads the text with yaml_serde).
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

type Res<T> = Result<T, Refused>;

struct De<'e, 'a> {
    ev: &'e [Ev<'a>],
    pos: usize,
    /// How many collections and newtype structs are open (yaml_serde refuses more than 128).
    depth: usize,
}

/// The nesting of collections and newtype structs the deserializer goes to: below yaml_serde's
/// limit (128), which counts both.
const MAX_NESTED: usize = 100;

impl<'e, 'a> De<'e, 'a> {
    fn new(ev: &'e [Ev<'a>]) -> Self {
        De {
            ev,
            pos: 0,
            depth: 0,
        }
    }

    /// `f` one level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        self.depth += 1;
        if self.depth > MAX_NESTED {
            return Err(Refused);
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn peek(&self) -> Res<&Ev<'a>> {
        self.ev.get(self.pos).ok_or(Refused)
    }

    fn next(&mut self) -> Res<&Ev<'a>> {
        let e = self.ev.get(self.pos).ok_or(Refused)?;
        self.pos += 1;
        Ok(e)
    }

    /// The plain scalar next, taken; `Refused` for anything else.
    fn plain(&mut self) -> Res<&'a str> {
        match self.next()? {
            Ev::Plain(v) => Ok(v),
            _ => Err(Refused),
        }
    }

    /// A collection's entries to `visitor` (its start taken), then its end, which the visitor
    /// must have reached.
    fn collection<'de, V: Visitor<'de>>(&mut self, visitor: V, map: bool) -> Res<V::Value> {
        let value = self.nested(|de| match map {
            true => visitor.visit_map(Entries { de }),
            false => visitor.visit_seq(Entries { de }),
        })?;
        match self.next()? {
            Ev::MapEnd | Ev::SeqEnd => Ok(value),
            _ => Err(Refused),
        }
    }

    /// Past the node next.
    fn skip(&mut self) -> Res<()> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Ev::MapStart | Ev::SeqStart => depth += 1,
                Ev::MapEnd | Ev::SeqEnd => depth = depth.checked_sub(1).ok_or(Refused)?,
                Ev::Plain(_) | Ev::Text(_) => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

/// yaml_serde's `parse_null`.
fn is_null(v: &str) -> bool {
    matches!(v, "null" | "Null" | "NULL" | "~")
}

/// yaml_serde's `parse_bool`.
fn boolean(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// yaml_serde's `digits_but_not_number`: a leading zero before digits makes a string.
fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

/// An integer type as yaml_serde parses it.
trait Int: Sized {
    fn radix(s: &str, radix: u32) -> Option<Self>;
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Int for $t {
            fn radix(s: &str, radix: u32) -> Option<Self> {
                <$t>::from_str_radix(s, radix).ok()
            }
        }
    )*};
}
int!(u64, i64, u128, i128);

/// The radix prefixes yaml_serde reads an integer with.
const PREFIXES: [(&str, u32); 3] = [("0x", 16), ("0o", 8), ("0b", 2)];

/// yaml_serde's `parse_unsigned_int`.
fn unsigned<T: Int>(v: &str) -> Option<T> {
    let unpositive = v.strip_prefix('+').unwrap_or(v);
    for (p, radix) in PREFIXES {
        if let Some(rest) = unpositive.strip_prefix(p) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Some(n) = T::radix(rest, radix) {
                return Some(n);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(v) {
        return None;
    }
    T::radix(unpositive, 10)
}

/// `-0x…`, `-0o…` or `-0b…` (the prefix `p` in `radix`) as yaml_serde reads it: the digits
/// after the prefix, negated.
fn minus_prefixed<T: Int>(v: &str, p: &str, radix: u32) -> Option<T> {
    let rest = v.strip_prefix('-')?.strip_prefix(p)?;
    T::radix(&format!("-{rest}"), radix)
}

/// yaml_serde's `parse_signed_int`.
fn signed<T: Int>(v: &str) -> Option<T> {
    let unpositive = match v.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => v,
    };
    for (p, radix) in PREFIXES {
        if let Some(rest) = unpositive.strip_prefix(p) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Some(n) = T::radix(rest, radix) {
                return Some(n);
            }
        }
        if let Some(n) = minus_prefixed(v, p, radix) {
            return Some(n);
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    T::radix(unpositive, 10)
}

/// yaml_serde's `parse_negative_int`.
fn negative<T: Int>(v: &str) -> Option<T> {
    for (p, radix) in PREFIXES {
        if let Some(n) = minus_prefixed(v, p, radix) {
            return Some(n);
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    T::radix(v, 10)
}

/// yaml_serde's `parse_f64`.
fn float(v: &str) -> Option<f64> {
    let unpositive = match v.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => v,
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = v {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = v {
        return Some(f64::NAN.copysign(1.0));
    }
    unpositive.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether a plain scalar is certainly a string, without trying the other types: it starts
/// with a letter that starts no null, boolean or number (`inf` and `nan` parse as floats that
/// yaml_serde refuses for not being finite).
fn certainly_text(v: &str) -> bool {
    v.as_bytes().first().is_some_and(|&c| {
        c.is_ascii_alphabetic() && !matches!(c, b't' | b'T' | b'f' | b'F' | b'n' | b'N')
    })
}

/// yaml_serde's `visit_untagged_scalar`.
fn untagged<'de, V: Visitor<'de>>(v: &str, visitor: V) -> Res<V::Value> {
    if certainly_text(v) {
        return visitor.visit_str(v);
    }
    if v.is_empty() || is_null(v) {
        return visitor.visit_unit();
    }
    if let Some(b) = boolean(v) {
        return visitor.visit_bool(b);
    }
    if let Some(n) = unsigned::<u64>(v) {
        return visitor.visit_u64(n);
    }
    if let Some(n) = negative::<i64>(v) {
        return visitor.visit_i64(n);
    }
    if let Some(n) = unsigned::<u128>(v) {
        return visitor.visit_u128(n);
    }
    if let Some(n) = negative::<i128>(v) {
        return visitor.visit_i128(n);
    }
    if !digits_but_not_number(v)
        && let Some(f) = float(v)
    {
        return visitor.visit_f64(f);
    }
    visitor.visit_str(v)
}

/// Deserializer methods that read as another does, whatever else they are told (a name, a
/// length, fields): yaml_serde reads every integer width as its 64-bit request, `f32` as `f64`,
/// a character, string or identifier as a string, a unit struct as a unit, a tuple as a
/// sequence and a struct as a map.
macro_rules! read_as {
    ($($method:ident($($arg:ident: $ty:ty),*) => $as:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Res<V::Value> {
            self.$as(visitor)
        }
    )*};
}

/// Deserializer methods that take a plain scalar only, parsed as yaml_serde parses it for
/// that type (a quoted `"1"` is no integer).
macro_rules! plain_as {
    ($($method:ident => $visit:ident($parse:ident)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
            visitor.$visit($parse(self.plain()?).ok_or(Refused)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut De<'_, '_> {
    type Error = Refused;

    plain_as! {
        deserialize_bool => visit_bool(boolean),
        deserialize_i64 => visit_i64(signed),
        deserialize_i128 => visit_i128(signed),
        deserialize_u64 => visit_u64(unsigned),
        deserialize_u128 => visit_u128(unsigned),
        deserialize_f64 => visit_f64(float),
    }

    read_as! {
        deserialize_i8() => deserialize_i64,
        deserialize_i16() => deserialize_i64,
        deserialize_i32() => deserialize_i64,
        deserialize_u8() => deserialize_u64,
        deserialize_u16() => deserialize_u64,
        deserialize_u32() => deserialize_u64,
        deserialize_f32() => deserialize_f64,
        deserialize_char() => deserialize_str,
        deserialize_string() => deserialize_str,
        deserialize_identifier() => deserialize_str,
        deserialize_unit_struct(_name: &'static str) => deserialize_unit,
        deserialize_tuple(_len: usize) => deserialize_seq,
        deserialize_tuple_struct(_name: &'static str, _len: usize) => deserialize_seq,
        deserialize_struct(_name: &'static str, _fields: &'static [&'static str]) => deserialize_map,
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.next()? {
            Ev::Plain(v) => untagged(v, visitor),
            Ev::Text(s) => visitor.visit_str(s),
            Ev::MapStart => self.collection(visitor, true),
            Ev::SeqStart => self.collection(visitor, false),
            Ev::MapEnd | Ev::SeqEnd => Err(Refused),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.next()? {
            Ev::Plain(v) => visitor.visit_str(v),
            Ev::Text(s) => visitor.visit_str(s),
            _ => Err(Refused),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Res<V::Value> {
        Err(Refused)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Res<V::Value> {
        Err(Refused)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.peek()? {
            Ev::Plain(v) if v.is_empty() || is_null(v) => {
                self.pos += 1;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.plain()? {
            v if v.is_empty() || is_null(v) => visitor.visit_unit(),
            _ => Err(Refused),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Res<V::Value> {
        self.nested(|de| visitor.visit_newtype_struct(de))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.next()? {
            Ev::SeqStart => self.collection(visitor, false),
            Ev::Plain("") => visitor.visit_seq(Empty),
            _ => Err(Refused),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.next()? {
            Ev::MapStart => self.collection(visitor, true),
            Ev::Plain("") => visitor.visit_map(Empty),
            _ => Err(Refused),
        }
    }

    /// A scalar names a unit variant; anything else needs a tag, which the subset has not.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Res<V::Value> {
        match self.peek()? {
            Ev::Plain(_) | Ev::Text(_) => visitor.visit_enum(UnitVariant { de: self }),
            _ => Err(Refused),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }
}

/// A collection's entries, up to its end (left for [`De::collection`] to take).
struct Entries<'d, 'e, 'a> {
    de: &'d mut De<'e, 'a>,
}

impl Entries<'_, '_, '_> {
    fn at_end(&self) -> Res<bool> {
        Ok(matches!(self.de.peek()?, Ev::MapEnd | Ev::SeqEnd))
    }
}

impl<'de> de::MapAccess<'de> for Entries<'_, '_, '_> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Res<Option<K::Value>> {
        match self.at_end()? {
            true => Ok(None),
            false => seed.deserialize(&mut *self.de).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Res<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

impl<'de> de::SeqAccess<'de> for Entries<'_, '_, '_> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Res<Option<T::Value>> {
        match self.at_end()? {
            true => Ok(None),
            false => seed.deserialize(&mut *self.de).map(Some),
        }
    }
}

/// The entries of an empty plain scalar read as a sequence or mapping: none.
struct Empty;

impl<'de> de::MapAccess<'de> for Empty {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _seed: K) -> Res<Option<K::Value>> {
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _seed: V) -> Res<V::Value> {
        Err(Refused)
    }
}

impl<'de> de::SeqAccess<'de> for Empty {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _seed: T) -> Res<Option<T::Value>> {
        Ok(None)
    }
}

/// A unit variant named by a scalar.
struct UnitVariant<'d, 'e, 'a> {
    de: &'d mut De<'e, 'a>,
}

impl<'de, 'd, 'e, 'a> de::EnumAccess<'de> for UnitVariant<'d, 'e, 'a> {
    type Error = Refused;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Res<(V::Value, Self)> {
        Ok((seed.deserialize(&mut *self.de)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'_, '_, '_> {
    type Error = Refused;

    fn unit_variant(self) -> Res<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Res<T::Value> {
        Err(Refused)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Res<V::Value> {
        Err(Refused)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Res<V::Value> {
        Err(Refused)
    }
}

#[cfg(test)]
#[path = "yaml_subset_tests.rs"]
mod tests;
