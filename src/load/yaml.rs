//! Parsing a YAML input into a typed definition, turning serde errors into diagnostics with
//! file:line:col and a "did you mean" for misspelt keys.
//!
//! A text in the plain YAML suites are written in is read by `load::yaml_subset` first, which
//! gives what yaml_serde would; anything else, and every text with a problem, is read by
//! yaml_serde, whose errors become the diagnostics.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::diag::{Diagnostic, Diagnostics, did_you_mean, line_col};
use super::shape::{self, MapShape, Problem, ProblemKind, Shape};
use super::spans::{Seg, Spans};
use super::yaml_subset;
use crate::util::json::string_end;

/// Input files larger than this are refused before parsing (a suite is a few KB); the files
/// are read with this limit too, so a larger one is never read whole.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;

pub fn parse_yaml<T: DeserializeOwned>(path: &Path, source: &Arc<str>) -> Result<T, Diagnostics> {
    precheck(path, source)?;
    read(source).map_err(|e| Diagnostics(vec![yaml_error(path, source, &e)]))
}

/// `text` as a `T`: by the subset reader when the text is in the plain YAML it reads, else by
/// yaml_serde, whose error says what is wrong.
fn read<T: DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
    match yaml_subset::from_str(text) {
        Some(v) => Ok(v),
        None => serde_yaml::from_str(text),
    }
}

/// `part` — cut from a text that [`passes_prechecks`], so its size and characters are that
/// text's — as a `T` when its depth passes too and serde accepts it; `None` otherwise, without
/// working out why (the caller then parses the whole text, which it can report on). Only a
/// part's own depth is checked, before the parser reads it: that is what keeps the parser's
/// time in check; with the part refused when the depth estimate ends it still open, a text
/// estimated too deep has a part refused (`parse_in_parts` says why).
pub fn parse_yaml_part<T: DeserializeOwned>(part: &str) -> Option<T> {
    // A part the estimate ends inside a flow collection or a quote (as it reads the text: it
    // may be wrong where the parser is not, as in a plain scalar holding `[`) is not taken
    // either: the estimate for the whole text would carry that state into the next part,
    // where the part's own estimate starts afresh.
    match scan_depth(part) {
        Depth::Within { open: false } => read(part).ok(),
        _ => None,
    }
}

/// Whether `source` passes the checks of its size and characters that every input passes
/// before a YAML parser reads it, without a diagnostic; its depth is checked part by part
/// ([`parse_yaml_part`]).
pub fn passes_prechecks(source: &str) -> bool {
    source.len() <= MAX_INPUT_BYTES && first_forbidden(source).is_none()
}

/// [`parse_yaml`] for a file whose format is also described as a [`MapShape`]: when serde
/// refuses the file, the file is checked against the shape and *every* structural problem is
/// reported (unknown, misplaced and missing keys, wrong types), sorted by position, instead of
/// serde's first. A valid file is parsed once, as by [`parse_yaml`].
pub fn parse_yaml_shaped<T: DeserializeOwned>(
    path: &Path,
    source: &Arc<str>,
    root: &'static MapShape,
) -> Result<T, Diagnostics> {
    precheck(path, source)?;
    match read::<T>(source) {
        Ok(v) => Ok(v),
        Err(first) => Err(shape_problems(path, source, root, &first)),
    }
}

/// Why serde refused `source` (its error `first`): every structural problem the shape finds,
/// sorted by position, or — for a syntax error, or something the shape does not describe —
/// the parser's own words.
pub fn shape_problems(
    path: &Path,
    source: &Arc<str>,
    root: &'static MapShape,
    first: &serde_yaml::Error,
) -> Diagnostics {
    // A syntax error (or a refused alias expansion) is all there is to say.
    let doc: serde_yaml::Value = match serde_yaml::from_str(source) {
        Ok(doc) => doc,
        Err(e) => return Diagnostics(vec![yaml_error(path, source, &e)]),
    };
    let problems = shape::check(&doc, Shape::Map(root), root);
    if problems.is_empty() {
        // Something the shape does not describe: serde's own words.
        return Diagnostics(vec![yaml_error(path, source, first)]);
    }
    let spans = Spans::parse(source).unwrap_or_default();
    let mut diags: Vec<Diagnostic> = problems
        .into_iter()
        .map(|p| problem_diagnostic(path, source, &spans, p))
        .collect();
    diags.sort_by_key(|d| (d.line, d.column));
    Diagnostics(diags)
}

/// One structural problem as a diagnostic at its key or value.
fn problem_diagnostic(path: &Path, source: &Arc<str>, spans: &Spans, p: Problem) -> Diagnostic {
    let place = if p.path.is_empty() {
        "the file".to_string()
    } else {
        format!("`{}`", shape::path_text(&p.path))
    };
    let d = Diagnostic::new(path, String::new()).with_source(source);
    match p.kind {
        ProblemKind::UnknownKey {
            key,
            within,
            accepted,
            help,
        } => {
            let parent = &p.path[..p.path.len().saturating_sub(1)];
            // The list of keys when there is no better hint (a list does not fit a label).
            let help = help.unwrap_or_else(|| {
                format!(
                    "{} takes {}",
                    capitalised(within),
                    shape::quoted(&accepted).replace(" or ", " and ")
                )
            });
            let mut d = d.at_pos(Some(spans.key(&p.path))).help(help);
            d.message = format!("unknown key `{key}` in {within}{}", at_path(parent));
            d.expected(format!("a key of {within}"))
        }
        ProblemKind::MissingKey { key, within } => {
            let mut d = d.at_pos(Some(spans.value(&p.path)));
            d.message = format!("missing key `{key}` in {within}{}", at_path(&p.path));
            d.expected(format!("a `{key}` key"))
        }
        ProblemKind::WrongType { expected, found } => {
            let mut d = d.at_pos(Some(spans.value(&p.path)));
            d.message = format!("{place} is {found}");
            d.expected(expected)
        }
        ProblemKind::BadWord { found, accepted } => {
            let mut d = d
                .at_pos(Some(spans.value(&p.path)))
                .help_opt(did_you_mean(&found, accepted.iter().copied()));
            d.message = format!("{place} cannot be `{found}`");
            d.expected(format!("one of {}", shape::quoted(accepted)))
        }
    }
}

/// "A case" for "a case".
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// " (`cases[2].request`)" for a mapping below the top, "" for the top.
fn at_path(path: &[Seg]) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (`{}`)", shape::path_text(path))
    }
}

/// The checks every input passes before a YAML parser reads it: size, characters, depth.
fn precheck(path: &Path, source: &Arc<str>) -> Result<(), Diagnostics> {
    if source.len() > MAX_INPUT_BYTES {
        return Err(Diagnostics(vec![
            Diagnostic::new(
                path,
                format!(
                    "file is {} bytes, larger than the {} byte limit",
                    source.len(),
                    MAX_INPUT_BYTES
                ),
            )
            .expected("a suite or targets file of a few kilobytes"),
        ]));
    }
    if let Some(d) = forbidden_char(path, source).or_else(|| depth_problem(path, source)) {
        return Err(Diagnostics(vec![d]));
    }
    Ok(())
}

/// The first character YAML does not allow in a document (NUL, ESC and the other C0 controls
/// but tab, newline and return; DEL; C1 controls but NEL), located: the YAML parser itself
/// reports it without a position.
fn forbidden_char(path: &Path, source: &Arc<str>) -> Option<Diagnostic> {
    let (at, c) = first_forbidden(source)?;
    let (line, column) = line_col(source, at);
    Some(
        Diagnostic::new(
            path,
            format!(
                "control character {} is not allowed in YAML",
                crate::util::text::escaped(c)
            ),
        )
        .at(line, column)
        .with_source(source)
        .expected("printable text (tabs and newlines are fine)"),
    )
}

/// The first character YAML does not allow (see [`forbidden_char`]) and its byte offset.
///
/// The control characters are C0, DEL and C1 (`char::is_control`); C1 is encoded as `0xC2`
/// followed by `0x80..=0x9F`. So the text is scanned as bytes: one table lookup per byte, and a
/// look at the next byte only after a `0xC2`.
fn first_forbidden(source: &str) -> Option<(usize, char)> {
    const SUSPECT: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 0x20 {
            t[b] = !matches!(b as u8, b'\t' | b'\n' | b'\r');
            b += 1;
        }
        t[0x7F] = true;
        t[0xC2] = true;
        t
    };
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(k) = bytes[from..].iter().position(|&b| SUSPECT[b as usize]) {
        let at = from + k;
        match bytes[at] {
            // A C1 control but NEL; any other character starting with 0xC2 is allowed.
            0xC2 => match bytes.get(at + 1) {
                Some(&next @ 0x80..=0x9F) if next != 0x85 => return Some((at, char::from(next))),
                _ => from = at + 1,
            },
            b => return Some((at, char::from(b))),
        }
    }
    None
}

/// The diagnostic for a document nested deeper than [`MAX_NESTING`], located where it passes
/// the limit: checked before any YAML parser runs on a file a user names.
pub fn depth_problem(path: &Path, source: &Arc<str>) -> Option<Diagnostic> {
    let (line, column) = too_deep(source)?;
    Some(
        Diagnostic::new(path, format!("nesting deeper than {MAX_NESTING} levels"))
            .at(line, column)
            .with_source(source)
            .expected(format!(
                "at most {MAX_NESTING} nested mappings, sequences and flow collections"
            ))
            .help("the document nests too deeply or expands too many aliases (a YAML bomb?)"),
    )
}

/// The deepest nesting a suite, targets or baseline file may have. Real files nest a dozen
/// levels (a JSON schema in a request body a few more); the YAML parser takes time quadratic in
/// the depth (100,000 levels: tens of seconds), so deeper files are refused before it runs.
pub const MAX_NESTING: usize = 100;

/// Where the nesting of `text` first passes [`MAX_NESTING`] (1-based line and column), found in
/// one pass over the text. An estimate that errs on the deep side by a level or two: block
/// levels by indentation (and `- ` / `? ` markers on one line), flow levels by brackets, skipping
/// comments, quoted scalars and block scalars (`|`, `>`).
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    match scan_depth(text) {
        Depth::TooDeep { line, column } => Some((line, column)),
        Depth::Within { .. } => None,
    }
}

/// What [`scan_depth`] found.
#[derive(Debug, PartialEq)]
enum Depth {
    /// Nested deeper than [`MAX_NESTING`] first here (1-based).
    TooDeep { line: usize, column: usize },
    /// Within the limit; `open` when the text ends inside a flow collection or a quote.
    Within { open: bool },
}

/// [`too_deep`], also saying whether the text ends inside a flow collection or a quote.
fn scan_depth(text: &str) -> Depth {
    let mut block: Vec<usize> = Vec::new();
    let mut flow = Flow::default();
    // Inside a block scalar: the indentation of the line that opened it.
    let mut scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let indent = b.iter().take_while(|&&c| c == b' ').count();
        let blank = b[indent..].iter().all(|c| c.is_ascii_whitespace());
        if let Some(parent) = scalar {
            if blank || indent > parent {
                continue;
            }
            scalar = None;
        }
        let mut i = indent;
        let outside = flow.quote.is_none() && flow.depth == 0;
        if outside {
            if blank || b[i] == b'#' {
                continue;
            }
            while block.last().is_some_and(|&top| top >= indent) {
                block.pop();
            }
            block.push(indent);
            // `- - x`, `? x`: each marker opens a level at its column.
            while i + 1 < b.len() && matches!(b[i], b'-' | b'?') && b[i + 1] == b' ' {
                i += 2;
                while i < b.len() && b[i] == b' ' {
                    i += 1;
                }
                block.push(i);
            }
            if block.len() > MAX_NESTING {
                return Depth::TooDeep {
                    line: n + 1,
                    column: i + 1,
                };
            }
        }
        match flow.scan(b, i, outside, MAX_NESTING.saturating_sub(block.len())) {
            LineEnd::Done => {}
            LineEnd::BlockScalar => scalar = Some(indent),
            LineEnd::TooDeep(at) => {
                return Depth::TooDeep {
                    line: n + 1,
                    column: at + 1,
                };
            }
        }
    }
    Depth::Within {
        open: flow.depth > 0 || flow.quote.is_some(),
    }
}

/// What [`too_deep`] carries from one line to the next besides the block levels: the open flow
/// collections, and the quote of a quoted scalar spanning lines.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Flow {
    depth: usize,
    quote: Option<u8>,
}

/// How a line's scan ended.
#[derive(Debug, PartialEq)]
enum LineEnd {
    /// At the end of the line or at a comment.
    Done,
    /// At a `|` or `>` that opens a block scalar.
    BlockScalar,
    /// At the byte where the flow collections pass the room left.
    TooDeep(usize),
}

impl Flow {
    /// Scan `b` from byte `i` (where a value may start when `value_start`), with `room` flow
    /// levels left under the limit, skipping runs of bytes that mean nothing and the inside of
    /// quoted scalars.
    fn scan(&mut self, b: &[u8], mut i: usize, mut value_start: bool, room: usize) -> LineEnd {
        while i < b.len() {
            if let Some(q) = self.quote {
                // Inside quotes only where they close counts.
                let rest = &b[i..];
                let close = if q == b'"' {
                    string_end(rest)
                } else {
                    single_quoted_end(rest)
                };
                let Some(k) = close else { break };
                self.quote = None;
                i += k + 1;
                continue;
            }
            let c = b[i];
            if !STRUCTURAL[usize::from(c)] {
                // A run of bytes that mean nothing here: no value starts right after it.
                while i < b.len() && !STRUCTURAL[usize::from(b[i])] {
                    i += 1;
                }
                value_start = false;
                continue;
            }
            let after_space = i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t';
            match c {
                b'#' if after_space => break,
                b'"' | b'\'' if value_start || (self.depth > 0 && after_space) => {
                    self.quote = Some(c)
                }
                b'[' | b'{' if self.depth > 0 || value_start => {
                    self.depth += 1;
                    if self.depth > room {
                        return LineEnd::TooDeep(i);
                    }
                }
                b']' | b'}' if self.depth > 0 => self.depth -= 1,
                b'|' | b'>' if value_start && self.depth == 0 => return LineEnd::BlockScalar,
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            // After `: ` (a mapping value) or `, ` / `[` / `{` inside a flow, a value starts.
            value_start = (c == b':' && b.get(i + 1).is_none_or(|&n| n == b' '))
                || (self.depth > 0 && matches!(c, b',' | b'[' | b'{' | b':'));
            i += 1;
        }
        LineEnd::Done
    }
}

/// Where the single-quoted scalar that `text` starts inside ends: the index of its closing
/// quote (`''` is a quote inside it); `None` when it does not close in `text`.
pub(super) fn single_quoted_end(text: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let k = i + memchr::memchr(b'\'', text.get(i..)?)?;
        if text.get(k + 1) != Some(&b'\'') {
            return Some(k);
        }
        i = k + 2;
    }
}

/// The bytes [`too_deep`] looks at outside quotes; any other byte only ends a place where a
/// value may start.
const STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    let bytes = b"#\"'[]{}|> \t:,";
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
};

/// One serde/YAML error as a diagnostic: located once (the positions inside the parser's text
/// move to the diagnostic), the accepted keys as `expected`, a suggestion for a misspelt key,
/// and for a syntax error the place the unfinished construct starts.
pub fn yaml_error(path: &Path, source: &Arc<str>, e: &serde_yaml::Error) -> Diagnostic {
    let raw = e.to_string();
    // libyaml: "<problem> at line L column C, while <context> at line L2 column C2".
    let (problem, context) = match raw
        .split_once(", while ")
        .filter(|(_, c)| c.starts_with("parsing") || c.starts_with("scanning"))
    {
        Some((p, c)) => (p, Some(c)),
        None => (raw.as_str(), None),
    };
    let (message, at) = split_position(problem);
    let mut d = Diagnostic::new(path, message.clone()).with_source(source);
    if let Some((line, column)) = at.or(e.location().map(|l| (l.line(), l.column()))) {
        d = d.at(line, column);
    }
    if let Some(context) = context {
        let (what, start) = split_position(context);
        let what = what.trim_start_matches("while ").to_string();
        let thing = what
            .strip_prefix("parsing ")
            .or_else(|| what.strip_prefix("scanning "))
            .unwrap_or(&what);
        match start {
            // The construct's start is shown as a second label.
            Some((line, column)) if Some((line, column)) != d.line.zip(d.column) => {
                d.message = format!("invalid YAML: {message}");
                d = d.related(line, column, format!("{thing} starts here"));
            }
            _ => d.message = format!("invalid YAML: {message} in {thing}"),
        }
    } else if is_syntax_error(&message) {
        d.message = format!("invalid YAML: {message}");
    }
    if let Some(what) = message.strip_prefix("did not find expected ") {
        d = d.expected(what.to_string());
    }
    if let Some(key) = message.find("duplicate entry with key ").map(|i| {
        message[i + "duplicate entry with key ".len()..]
            .trim_matches('"')
            .to_string()
    }) {
        // serde points at the mapping; point at the second occurrence of the key instead.
        if let Some(spans) = Spans::parse(source)
            && let Some(at) = spans
                .mappings()
                .into_iter()
                .find(|(_, at)| Some(*at) == d.line.zip(d.column))
                .and_then(|(p, _)| spans.nth_key(&p, &key, 1))
        {
            d = d
                .at(at.0, at.1)
                .help(format!("`{key}` is already a key of this mapping"));
        }
        d.message = format!("duplicate key `{key}`");
    }
    if let Some((field, expected)) = unknown_field(&message) {
        let candidates: Vec<&str> = expected.iter().map(String::as_str).collect();
        // The accepted keys are said once, as what was expected.
        if let Some(i) = d.message.find(", expected") {
            d.message.truncate(i);
        }
        d = d
            .expected(format!(
                "one of {}",
                expected
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .help_opt(did_you_mean(&field, candidates));
    } else if message.contains("recursion limit exceeded")
        || message.contains("repetition limit exceeded")
    {
        d = d.help("the document nests too deeply or expands too many aliases (a YAML bomb?)");
    }
    d
}

/// Whether a parser message is about the YAML text itself rather than its content's shape.
fn is_syntax_error(message: &str) -> bool {
    [
        "did not find expected",
        "found unexpected",
        "mapping values are not allowed",
        "found character that cannot start",
        "unknown anchor",
        "found undefined tag handle",
        "could not find expected",
        "block sequence entries are not allowed",
        "found a tab character",
        "control characters are not allowed",
        "invalid leading UTF-8 octet",
        "found incompatible YAML document",
    ]
    .iter()
    .any(|p| message.contains(p))
}

/// A message without its " at line L column C", and that position.
fn split_position(msg: &str) -> (String, Option<(usize, usize)>) {
    let Some(i) = msg.rfind(" at line ") else {
        return (msg.to_string(), None);
    };
    let rest = &msg[i + " at line ".len()..];
    let mut parts = rest.split(" column ");
    let line = parts.next().and_then(|l| l.trim().parse().ok());
    let column = parts.next().and_then(|c| c.trim().parse().ok());
    match (line, column) {
        (Some(l), Some(c)) => (msg[..i].to_string(), Some((l, c))),
        _ => (msg.to_string(), None),
    }
}

/// Parse serde's "unknown field `x`, expected one of `a`, `b`" (also "expected `a` or `b`").
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = &msg[msg.find("unknown field `")? + "unknown field `".len()..];
    let field = rest[..rest.find('`')?].to_string();
    let expected_part = &rest[rest.find("expected")?..];
    let names = expected_part
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    Some((field, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        suite: String,
        cases: Vec<u8>,
    }

    /// Every character, alone and after others (a 0xC2 lead byte among them): the byte scan
    /// finds exactly the characters `char::is_control` calls control, but tab, newline, return
    /// and NEL, at their offset.
    #[test]
    fn the_forbidden_characters_are_the_control_characters_yaml_refuses() {
        let forbidden = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}');
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let text = format!("a\u{a0}\u{85}{c}b");
            let want = forbidden(c).then_some((5, c));
            assert_eq!(first_forbidden(&text), want, "{c:?}");
        }
        assert_eq!(first_forbidden("\u{85}\u{85}"), None);
        assert_eq!(first_forbidden("x\u{9f}\u{1}"), Some((1, '\u{9f}')));
        assert_eq!(first_forbidden("\u{c2}\u{7f}"), Some((2, '\u{7f}')));
    }

    #[test]
    fn unknown_key_gets_location_and_suggestion() {
        let src: Arc<str> = "suite: x\ncasse: []\n".into();
        let d = parse_yaml::<Doc>(Path::new("s.yaml"), &src)
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!((d.line, d.column), (Some(2), Some(1)));
        assert!(d.message.contains("unknown field `casse`"), "{}", d.message);
        assert_eq!(d.help.as_deref(), Some("did you mean `cases`?"));
        assert!(!d.message.contains(" at line "), "{}", d.message);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let src: Arc<str> = s.into();
        let r = parse_yaml::<serde_yaml::Value>(Path::new("bomb.yaml"), &src);
        let e = r.unwrap_err();
        assert!(e.to_string().contains("repetition limit exceeded"), "{e}");
    }

    #[test]
    fn nesting_is_measured_in_one_pass_and_refused_past_the_limit() {
        let flow = |d: usize| format!("a: {}1{}\n", "[".repeat(d), "]".repeat(d));
        assert_eq!(too_deep(&flow(90)), None);
        assert_eq!(too_deep(&flow(100)), Some((1, 103)));
        let block = |d: usize| {
            (0..d)
                .map(|k| format!("{}k:\n", " ".repeat(k)))
                .collect::<String>()
        };
        assert_eq!(too_deep(&block(95)), None);
        assert_eq!(too_deep(&block(120)).map(|p| p.0), Some(101));
        assert_eq!(
            too_deep(&format!("{}x\n", "- ".repeat(150))).map(|p| p.0),
            Some(1)
        );
        // Brackets in comments, quotes and block scalars are not nesting.
        let inert = format!(
            "a: \"{0}\"\nb: '{0}'\nc: |\n  {0}\n  {0}\nd: x # {0}\ne: x{0}\n",
            "[{".repeat(200)
        );
        assert_eq!(too_deep(&inert), None);
        // 100,000 levels are refused at once (the parser would take tens of seconds).
        let src: Arc<str> = flow(100_000).into();
        let d = parse_yaml::<serde_yaml::Value>(Path::new("deep.yaml"), &src).unwrap_err();
        assert_eq!((d.0[0].line, d.0[0].column), (Some(1), Some(103)));
        assert!(
            d.0[0].message.contains("nesting deeper than 100"),
            "{}",
            d.0[0].message
        );
        let src: Arc<str> = format!("{}x\n", "- ".repeat(100_000)).into();
        assert!(parse_yaml::<serde_yaml::Value>(Path::new("deep.yaml"), &src).is_err());
    }

    #[test]
    fn a_control_character_is_located() {
        let src: Arc<str> = "suite: s\ndescription: \"a\u{1b}[31m\0\"\n".into();
        let d = parse_yaml::<serde_yaml::Value>(Path::new("s.yaml"), &src)
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!((d.line, d.column), (Some(2), Some(16)));
        assert_eq!(d.message, "control character \\x1b is not allowed in YAML");
    }

    #[test]
    fn every_shipped_file_is_within_the_limit() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = std::fs::read_dir(root.join("suites"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.push(root.join("targets.example.yaml"));
        for p in files {
            let text = std::fs::read_to_string(&p).unwrap();
            assert_eq!(too_deep(&text), None, "{}", p.display());
        }
    }

    /// [`Flow::scan`] as it was first written, byte by byte: the oracle for the version that
    /// skips runs of bytes that mean nothing and finds the end of a quoted scalar with memchr.
    fn scan_byte_by_byte(
        f: &mut Flow,
        b: &[u8],
        mut i: usize,
        mut value_start: bool,
        room: usize,
    ) -> LineEnd {
        while i < b.len() {
            let c = b[i];
            if let Some(q) = f.quote {
                match c {
                    b'\\' if q == b'"' => i += 1,
                    _ if c == q => {
                        if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            f.quote = None;
                        }
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            let after_space = i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t';
            match c {
                b'#' if after_space => break,
                b'"' | b'\'' if value_start || (f.depth > 0 && after_space) => f.quote = Some(c),
                b'[' | b'{' if f.depth > 0 || value_start => {
                    f.depth += 1;
                    if f.depth > room {
                        return LineEnd::TooDeep(i);
                    }
                }
                b']' | b'}' if f.depth > 0 => f.depth -= 1,
                b'|' | b'>' if value_start && f.depth == 0 => return LineEnd::BlockScalar,
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            value_start = (c == b':' && b.get(i + 1).is_none_or(|&n| n == b' '))
                || (f.depth > 0 && matches!(c, b',' | b'[' | b'{' | b':'));
            i += 1;
        }
        LineEnd::Done
    }

    proptest::proptest! {
        #[test]
        fn skipping_runs_scans_a_line_as_reading_every_byte_does(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "key", ": ", ":", "- ", "[", "]", "{", "}", ", ", ",", "\"", "'", "''",
                    "\\", "\\\"", "#", " #", "|", ">", " ", "  ", "\t", "é", "\u{7f}", "\r",
                ]),
                0..60,
            ),
            depth in 0usize..4,
            quote in proptest::sample::select(vec![None, Some(b'"'), Some(b'\'')]),
            start in 0usize..3,
            value_start: bool,
            room in 0usize..6,
        ) {
            let line: String = parts.concat();
            let b = line.as_bytes();
            let i = start.min(b.len());
            let (mut fast, mut slow) = (Flow { depth, quote }, Flow { depth, quote });
            let ends = (
                fast.scan(b, i, value_start, room),
                scan_byte_by_byte(&mut slow, b, i, value_start, room),
            );
            proptest::prop_assert_eq!(ends.0, ends.1);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src: Arc<str> = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into();
        let d = parse_yaml::<serde_yaml::Value>(Path::new("deep.yaml"), &src).unwrap_err();
        assert!(
            d.0[0].message.contains("nesting deeper than"),
            "{}",
            d.0[0].message
        );
    }

    /// Text made of these, alone or in runs: ASCII (YAML's indicators among it), tab, line breaks
    /// and non-ASCII characters of each UTF-8 length (NEL, NBSP, a BOM among them).
    fn yaml_text(max: usize) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop::sample::select(vec![
            "a", "key", " ", "  ", "\n", "\r\n", "\r", "\t", "- ", ": ", "# c", "\"", "'", "\\",
            "[", "]", "{", "}", ",", "|", ">", "&", "*", "!", "%", "@", "`", "é", "€", "😀",
            "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}", "0", "1.5", "null", "~", "true",
        ]);
        prop::collection::vec(piece, 0..max).prop_map(|p| p.concat())
    }

    /// The YAML parser's reader copies runs of ASCII from the text in one go (our patch of
    /// libyaml-rs, `vendor/README.md`), and decodes the other characters one at a time as before.
    /// Any value with any such text in its keys and strings, written by the YAML emitter (not
    /// patched), reads back as itself — in every scalar style the emitter picks, and across the
    /// reader's 16 KiB refills (a long string, or many entries). A character dropped, doubled or
    /// cut at a refill fails this.
    #[test]
    fn any_text_written_as_yaml_reads_back_the_same() {
        use proptest::prelude::*;
        use serde_yaml::Value;
        let long = (yaml_text(8), 1usize..3).prop_map(|(t, n)| {
            format!(
                "{}{t}",
                "an ASCII run, longer than a refill. ".repeat(500 * n)
            )
        });
        let text = prop_oneof![4 => yaml_text(40), 1 => long];
        let leaf = prop_oneof![
            text.clone().prop_map(Value::String),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        let value = leaf.prop_recursive(3, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Sequence),
                prop::collection::vec((yaml_text(12), inner), 0..8).prop_map(|kv| {
                    Value::Mapping(kv.into_iter().map(|(k, v)| (Value::String(k), v)).collect())
                }),
            ]
        });
        proptest!(ProptestConfig::with_cases(512), |(v in value)| {
            let yaml = serde_yaml::to_string(&v).unwrap();
            let back: Value = serde_yaml::from_str(&yaml)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
            prop_assert_eq!(back, v, "{}", yaml);
        });
    }

    /// A forbidden character after a run of ASCII stops the reader where it is: the parser's
    /// error is at the byte offset of the text's own first forbidden character.
    #[test]
    fn the_reader_stops_at_the_first_forbidden_character() {
        use proptest::prelude::*;
        let bad = prop::sample::select(vec![
            '\u{0}', '\u{1}', '\u{1b}', '\u{7f}', '\u{80}', '\u{9f}',
        ]);
        proptest!(|(before in yaml_text(60), c in bad, after in yaml_text(10), pad in 0usize..3)| {
            let before = format!("{}{before}", "# an ASCII run\n".repeat(pad * 1200));
            let text = format!("{before}{c}{after}");
            let (at, found) = first_forbidden(&text).unwrap();
            prop_assert!(at <= before.len() && (at < before.len() || found == c));
            let err = serde_yaml::from_str::<serde_yaml::Value>(&text).unwrap_err();
            // A reader error gives the byte offset in its message (its location is not set;
            // yaml_serde leaves out offset 0).
            let mut want = "control characters are not allowed".to_string();
            if at > 0 {
                want += &format!(" at position {at}");
            }
            prop_assert_eq!(err.to_string(), want);
        });
    }
}
