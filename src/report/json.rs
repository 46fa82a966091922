//! `report.json`: the report in serde_json's pretty layout, streamed into the file. A spooled
//! run's entries are not parsed back: the rest of the report is serialized with their place
//! left empty, and each spooled line — re-indented byte by byte ([`reindent`]) into this layout
//! when its case finished, and checked here against the checksum it was written with — is
//! copied into that place as it passes, so the file is byte for byte what
//! `serde_json::to_writer_pretty` of the same entries in memory writes.

use std::io::{self, Write};

use super::model::RunReport;
use super::results::{Results, spooled_entries_left_out};
use crate::util::json::string_end;

/// Write `report` as `report.json` (pretty, with a final newline).
pub fn write(report: &RunReport, w: &mut dyn Write) -> io::Result<()> {
    if !report.results.is_spooled() {
        serde_json::to_writer_pretty(&mut *w, report)?;
        return w.write_all(b"\n");
    }
    let mut splice = Splice {
        out: w,
        results: &report.results,
        before: Vec::new(),
        spliced: false,
    };
    spooled_entries_left_out(|| serde_json::to_writer_pretty(&mut splice, report))?;
    if !splice.spliced {
        return Err(io::Error::other(
            "report.json: no place found for the results",
        ));
    }
    splice.out.write_all(b"\n")
}

/// The results' place in the pretty report: a key of the top-level object, on a line of its own
/// indented once (a deeper key is indented more, and a string holds no line break unescaped),
/// with the empty array left there.
const PLACE: &[u8] = b"\n  \"results\": []";

/// The report as serde_json writes it, passed on to `out` as it comes, except that the spooled
/// entries are written in the results' place instead of the `[]` left there. Only what comes
/// before the place (the tool, the run's start, the targets) is held, to find it.
struct Splice<'a> {
    out: &'a mut dyn Write,
    results: &'a Results,
    /// What came before the place, held until it is found (it may span two writes).
    before: Vec<u8>,
    /// The entries are written: the rest goes through.
    spliced: bool,
}

impl Write for Splice<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.spliced {
            self.out.write_all(buf)?;
            return Ok(buf.len());
        }
        // Searched from where a match could start that the last search did not see: each
        // byte of what precedes the place is looked at about once, however small the writes.
        let from = self.before.len().saturating_sub(PLACE.len() - 1);
        self.before.extend_from_slice(buf);
        if let Some(at) = memchr::memmem::find(&self.before[from..], PLACE) {
            let at = from + at + PLACE.len() - b"[]".len();
            self.out.write_all(&self.before[..at])?;
            write_entries(self.results, &mut *self.out)?;
            self.out.write_all(&self.before[at + b"[]".len()..])?;
            self.before = Vec::new();
            self.spliced = true;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The spooled entries as the pretty layout's array nested once: `[`, each entry on a line of
/// its own at depth 2, `]` on a line of its own (or `[]` for none).
fn write_entries(results: &Results, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"[")?;
    let (mut first, mut sep) = (true, Vec::new());
    results.each_line(|line| {
        sep.clear();
        if !first {
            sep.push(b',');
        }
        newline(&mut sep, ENTRY_DEPTH);
        first = false;
        out.write_all(&sep)?;
        out.write_all(line)
    })?;
    if !first {
        sep.clear();
        newline(&mut sep, 1);
        out.write_all(&sep)?;
    }
    out.write_all(b"]")
}

/// `report.json` as a string (for tests and small reports).
pub fn render(report: &RunReport) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only if serialising does, or a spooled line was damaged.
    let _ = write(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

const INDENT: &[u8] = b"  ";

/// JSON's whitespace between tokens.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\t' | b'\r')
}

/// How deep an entry is nested in the pretty report: an element of the top-level object's
/// `results` array. A spooled line is already in this layout (`SpoolWriter::add`).
pub(super) const ENTRY_DEPTH: usize = 2;

/// A line break and the indentation of `depth` (two spaces a level), copied 64 spaces at a
/// time (one copy for the usual depths).
fn newline(out: &mut Vec<u8>, depth: usize) {
    const SPACES: [u8; 64] = [b' '; 64];
    out.push(b'\n');
    let mut left = depth * INDENT.len();
    while left > 0 {
        let n = left.min(SPACES.len());
        out.extend_from_slice(&SPACES[..n]);
        left -= n;
    }
}

/// Append JSON `json` to `out` in serde_json's pretty layout, as a value nested `depth` deep:
/// two spaces per level, `": "` after keys, empty `[]` and `{}` kept on one line. The input's
/// own whitespace between tokens is dropped, so compact JSON (as serde_json writes it) and JSON
/// already laid out at any depth (a body inside a spooled line) come out the same. Strings,
/// escapes and numbers are copied verbatim. Malformed input is copied along without a panic
/// (the output is then as malformed).
pub fn reindent(json: &[u8], depth: usize, out: &mut Vec<u8>) {
    let mut depth = depth;
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        match b {
            b'"' => {
                // The string to its closing quote, escapes included, in one copy.
                let end = string_end(&json[i + 1..]).map_or(json.len(), |k| i + k + 2);
                out.extend_from_slice(&json[i..end]);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                let next = i + 1 + json[i + 1..].iter().take_while(|c| is_space(**c)).count();
                if json.get(next) == Some(&close) {
                    out.extend_from_slice(&[b, close]);
                    i = next + 1;
                    continue;
                }
                out.push(b);
                depth += 1;
                newline(out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            // Whitespace between tokens: the layout is this function's own.
            c if is_space(c) => {}
            _ => {
                // A number or a literal: up to the next structural byte or whitespace.
                let end = json[i..]
                    .iter()
                    .position(|&c| matches!(c, b',' | b'}' | b']' | b':' | b'"') || is_space(c))
                    .map_or(json.len(), |n| i + n);
                out.extend_from_slice(&json[i..end.max(i + 1)]);
                i = end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use serde::Serialize as _;
    use serde_json::{Value, json};

    use super::*;
    use crate::report::body::JsonText;

    fn pretty_at(v: &Value, depth: usize) -> String {
        let mut out = Vec::new();
        reindent(v.to_string().as_bytes(), depth, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Any JSON value: nested, empty containers, unicode, escapes and control characters in
    /// keys and strings, and numbers as serde_json prints them (integers at both ends, floats).
    pub(crate) fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC*".prop_map(Value::String),
            "[\"\\\\/\u{0}-\u{1f}\u{7f}\u{2028}{}\\[\\],: a-zé😀]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[\"\\\\:,{}\\[\\] a-zé]{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Re-indenting the compact text is serde_json's own pretty output, at the top and
        /// nested as an element of an array inside an object (where report.json's entries
        /// land).
        #[test]
        fn reindent_is_serde_jsons_pretty_layout(v in value()) {
            prop_assert_eq!(pretty_at(&v, 0), serde_json::to_string_pretty(&v).unwrap());
            let nested = serde_json::to_string_pretty(&json!({"results": [v.clone()]})).unwrap();
            let expected = format!("{{\n  \"results\": [\n    {}\n  ]\n}}", pretty_at(&v, 2));
            prop_assert_eq!(nested, expected);
            // A kept body shown to people (HTML) is the same pretty text.
            let shown = match &v {
                Value::String(s) => s.clone(),
                _ => serde_json::to_string_pretty(&v).unwrap(),
            };
            prop_assert_eq!(JsonText::new(&v).pretty(), shown);
            // Text already laid out — nested deeper (a body in a spooled line) or with tabs —
            // comes out in the same layout as compact text.
            let tabs = {
                let mut out = Vec::new();
                let f = serde_json::ser::PrettyFormatter::with_indent(b"\t");
                v.serialize(&mut serde_json::Serializer::with_formatter(&mut out, f)).unwrap();
                out
            };
            for text in [pretty_at(&v, 3).into_bytes(), tabs] {
                let mut out = Vec::new();
                reindent(&text, 0, &mut out);
                prop_assert_eq!(String::from_utf8(out).unwrap(), pretty_at(&v, 0));
            }
        }

        /// Inside `compact_as_is`, a body written by serde_json's compact serializer is its
        /// text as it is: the same bytes as transcoded, whatever the value (nested, cut, kept
        /// as a string when too deep); outside it, and in any other serializer, still the value.
        #[test]
        fn a_body_written_as_is_is_the_compact_json_of_its_value(v in value()) {
            use crate::report::body::compact_as_is;
            let long = json!({"s": "x".repeat(20_000), "v": v.clone()});
            let mut deep = v.clone();
            for _ in 0..200 {
                deep = json!([deep]);
            }
            for v in [v, long, deep] {
                let texts = [JsonText::new(&v), JsonText::capped(&v)];
                let transcoded = serde_json::to_string(&texts).unwrap();
                let as_is = compact_as_is(|| serde_json::to_string(&texts).unwrap());
                prop_assert_eq!(&as_is, &transcoded);
                prop_assert_eq!(
                    serde_json::to_string_pretty(&texts).unwrap(),
                    serde_json::to_string_pretty(&[texts[0].value(), texts[1].value()]).unwrap()
                );
            }
        }

        /// Whatever the bytes (a spool damaged on disk), re-indenting ends without a panic.
        #[test]
        fn reindent_survives_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let mut out = Vec::new();
            reindent(&bytes, 1, &mut out);
        }
    }

    /// A body is written as it is only while `compact_as_is` runs: not after it returns, nor
    /// after it panics.
    #[test]
    fn bodies_are_written_as_they_are_only_inside_compact_as_is() {
        use crate::report::body::compact_as_is;
        let v = json!({"a": [1, {"b": null}]});
        let text = JsonText::new(&v);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let inside = compact_as_is(|| serde_json::to_string_pretty(&text).unwrap());
        assert_eq!(inside, v.to_string(), "inside, the text as it is");
        assert_eq!(serde_json::to_string_pretty(&text).unwrap(), pretty);
        let caught = std::panic::catch_unwind(|| compact_as_is(|| panic!("in the middle")));
        assert!(caught.is_err());
        assert_eq!(serde_json::to_string_pretty(&text).unwrap(), pretty);
    }

    /// Whitespace between any tokens, empty containers with whitespace inside them included, is
    /// the input's own layout, dropped.
    #[test]
    fn reindent_drops_whitespace_between_any_tokens() {
        let text = " [ 1 ,\t{ } , [\r\n] , { \"a b\" : [ ] , \"c\" :-2500.5 } ,true , null ] ";
        let v: Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        reindent(text.as_bytes(), 0, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }

    #[test]
    fn reindent_keeps_empty_containers_and_escapes() {
        let v = json!({"a": [], "b": {}, "c": [[], {}], "d": "x\"}]\\,:\n", "e": 1e300, "f": -0.0});
        assert_eq!(pretty_at(&v, 0), serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(pretty_at(&json!([]), 3), "[]");
        // Deeper than the indentations copied at once (32 levels).
        let deep = (0..40).fold(json!({"k": 1}), |v, _| json!([v, 2]));
        assert_eq!(
            pretty_at(&deep, 0),
            serde_json::to_string_pretty(&deep).unwrap()
        );
        assert_eq!(
            pretty_at(&deep, 5),
            pretty_at(&deep, 0).replace('\n', "\n          ")
        );
        // A broken line (a truncated string) does not read past its end.
        let mut out = Vec::new();
        reindent(b"{\"a\":\"x\\", 0, &mut out);
        assert_eq!(out, b"{\n  \"a\": \"x\\");
    }
}
