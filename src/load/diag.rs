//! Load-time diagnostics: every problem in a suite or targets file, with file, line, column,
//! what was found and what was expected — rendered like rustc (via miette) and reported all at
//! once, never one-per-run.

use std::fmt;
use std::path::{Path, PathBuf};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

/// One problem found while loading an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line and column; `None` when the problem concerns the whole file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// What would have been accepted (rendered as a label under the offending text).
    pub expected: Option<String>,
    /// A suggestion such as "did you mean `expect`?".
    pub help: Option<String>,
    /// The whole file text, kept so the renderer can quote the offending line.
    pub source: Option<std::sync::Arc<str>>,
    /// A second place the problem involves, with what it is ("the list starts here").
    pub related: Option<(usize, usize, String)>,
}

impl Diagnostic {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
            expected: None,
            help: None,
            source: None,
            related: None,
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line.max(1));
        self.column = Some(column.max(1));
        self
    }

    pub fn at_pos(self, pos: Option<(usize, usize)>) -> Self {
        match pos {
            Some((l, c)) => self.at(l, c),
            None => self,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Point at a second place too (1-based line and column), with a label.
    pub fn related(mut self, line: usize, column: usize, label: impl Into<String>) -> Self {
        self.related = Some((line.max(1), column.max(1), label.into()));
        self
    }

    pub fn with_source(mut self, source: &std::sync::Arc<str>) -> Self {
        self.source = Some(source.clone());
        self
    }

    fn location_file(&self) -> String {
        self.file.display().to_string()
    }

    /// `file:line:col` (or just `file`), the prefix every rendering starts with.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file.display()),
            _ => self.file.display().to_string(),
        }
    }

    /// Plain, colourless rendering: stable enough for golden tests and CI logs. Like rustc,
    /// Cargo and Hurl, the location is said once: in the excerpt's header when the line is
    /// quoted, else before the message.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(WIDTH)
            .with_links(false);
        let view = MietteView {
            d: self,
            source: self
                .source
                .clone()
                .filter(|_| self.line.is_some())
                .map(|s| NamedSource::new(self.location_file(), s)),
        };
        if handler.render_report(&mut out, &view).is_err() {
            out = format!("error: {}: {}", self.location(), self.message);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(e) = &self.expected {
            write!(f, " (expected {e})")?;
        }
        Ok(())
    }
}

/// Adapter so miette can draw the source excerpt with a label at the offending column; the
/// source is named after the file, so the excerpt's header is `file:line:col`.
struct MietteView<'a> {
    d: &'a Diagnostic,
    source: Option<NamedSource<std::sync::Arc<str>>>,
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.d, f)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            // The excerpt's header says where.
            Some(_) => f.write_str(&self.d.message),
            None => write!(f, "{}: {}", self.d.location(), self.d.message),
        }
    }
}

impl MietteView<'_> {
    /// Whether "expected …" fits as a label under the excerpt within [`WIDTH`] columns (the
    /// renderer does not wrap labels); a longer one goes to the help text, which wraps.
    fn label_fits(&self) -> bool {
        let Some(e) = &self.d.expected else {
            return true;
        };
        // The gutter (`  12 │ `) and the label's own lead (`╰── expected `).
        let lead = 8 + self.d.line.map_or(1, |l| l.to_string().len()) + 13;
        self.source.is_none() || self.d.column.unwrap_or(1) + lead + e.chars().count() <= WIDTH
    }
}

/// The width diagnostics are rendered at: a terminal's or a CI log's usual 80 columns.
const WIDTH: usize = 80;

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let src = self.d.source.as_deref()?;
        let span = |line, column| {
            let offset = offset_of(src, line, column)?;
            Some(SourceSpan::new(offset.into(), token_len(&src[offset..])))
        };
        let label = match &self.d.expected {
            Some(e) if self.label_fits() => format!("expected {e}"),
            _ => "here".to_string(),
        };
        let mut labels = vec![LabeledSpan::new_with_span(
            Some(label),
            span(self.d.line?, self.d.column?)?,
        )];
        if let Some((line, column, label)) = &self.d.related
            && let Some(at) = span(*line, *column)
        {
            labels.push(LabeledSpan::new_with_span(Some(label.clone()), at));
        }
        Some(Box::new(labels.into_iter()))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        // What was expected, when it is too long for a label (a list of accepted names).
        let expected = self
            .d
            .expected
            .as_ref()
            .filter(|_| !self.label_fits())
            .map(|e| format!("expected {e}"));
        let text = match (&self.d.help, expected) {
            (Some(h), Some(e)) => format!("{h}\n{e}"),
            (Some(h), None) => h.clone(),
            (None, Some(e)) => e,
            (None, None) => return None,
        };
        Some(Box::new(text))
    }
}

/// Byte offset of a 1-based line/column (column counted in characters).
pub fn offset_of(src: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += src[start..].find('\n')? + 1;
    }
    let line_text = &src[start..];
    let col_off = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    Some(start + col_off)
}

/// Length of the token starting at `s`: up to the end of the line, trimmed, at least one byte
/// when anything is there (so labels underline the value, not the whole rest of the file).
fn token_len(s: &str) -> usize {
    let line = s.split('\n').next().unwrap_or("").trim_end();
    let mut chars = line.char_indices();
    match chars.next() {
        None => 0,
        // A quoted scalar: up to and including the closing quote.
        Some((_, q @ ('"' | '\''))) => chars
            .find(|(_, c)| *c == q)
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(line.len()),
        // A plain scalar in flow or block style: up to the next flow delimiter, comment or
        // key separator (a key is underlined, not its value).
        Some(_) => line
            .find([',', '}', ']', '#'])
            .into_iter()
            .chain(line.find(": "))
            .chain(line.ends_with(':').then(|| line.len() - 1))
            .min()
            .map(|i| line[..i].trim_end().len())
            .filter(|n| *n > 0)
            .unwrap_or(line.len()),
    }
}

pub use crate::util::text::line_col;

/// Every problem found while loading, in file order.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.render());
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        let n = self.0.len();
        out.push_str(&format!(
            "error: {n} problem{} found; nothing was sent\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A file that could not be read, as a diagnostic: "failed to read {what}: …", located at the
/// first byte that is not UTF-8 when that is why.
pub fn read_problem(path: &Path, what: &str, e: &crate::util::fs::ReadError) -> Diagnostic {
    let d = Diagnostic::new(path, format!("failed to read {what}: {}", e.kind));
    match e.kind {
        crate::util::fs::ReadErrorKind::NotUtf8 { line, column, .. } => {
            d.at(line, column).expected("UTF-8 text")
        }
        crate::util::fs::ReadErrorKind::Utf16 => d.at(1, 1).expected("UTF-8 text"),
        _ => d,
    }
}

/// "did you mean `x`?" for a misspelt name among the accepted ones.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip() {
        let src = "a: 1\nbé: 2\n  c: 3\n";
        for (line, col) in [(1, 1), (2, 1), (2, 3), (3, 3)] {
            let off = offset_of(src, line, col).unwrap();
            assert_eq!(line_col(src, off), (line, col));
        }
    }

    #[test]
    fn suggestion_for_typo() {
        assert_eq!(
            did_you_mean("exepct", ["expect", "request", "id"]).as_deref(),
            Some("did you mean `expect`?")
        );
        assert_eq!(did_you_mean("zzz", ["expect"]), None);
    }

    #[test]
    fn render_names_location_and_expected() {
        let src: std::sync::Arc<str> =
            "suite: x\ncases:\n  - id: a\n    fature: chat.basic\n".into();
        let d = Diagnostic::new(Path::new("suites/x.yaml"), "unknown field `fature`")
            .at(4, 5)
            .expected("one of `id`, `feature`")
            .help("did you mean `feature`?")
            .with_source(&src);
        let text = d.render();
        assert!(text.contains("suites/x.yaml:4:5"), "{text}");
        assert!(text.contains("fature: chat.basic"), "{text}");
        assert!(text.contains("did you mean `feature`?"), "{text}");
    }
}
