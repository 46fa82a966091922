//! The baseline: what the gate compares a run with. Either a dedicated baseline file
//! (`llm-parity baseline save`, YAML or JSON, `schemas/baseline.schema.json`) whose entries may
//! carry a note and an expiry date, or a previous `report.json` used as it is.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::judge::Outcome;
use crate::load::diag::{Diagnostic, Diagnostics, line_col};
use crate::load::shape::{Field, MapShape, Shape};
use crate::report::RunReport;
use crate::report::model::SCHEMA_VERSION as REPORT_SCHEMA_VERSION;
use crate::util::fs::{MIB, ReadError, read_bounded_string};

/// The largest baseline file or `report.json` read (`--baseline`, `baseline save|prune`,
/// `merge`): a report keeps at most 16 KiB of each body, so even a run of many thousand cases
/// stays well below it.
pub const REPORT_FILE_LIMIT: u64 = 512 * MIB;

/// The baseline file format's version (`schema_version`).
pub const SCHEMA_VERSION: u32 = 1;

/// A baseline file, as written and read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub schema_version: u32,
    /// When the entries were taken (the source run's start time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The report the entries were taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// One feature × target cell as it was.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub target: String,
    pub feature: String,
    /// The cell's outcome: the most severe among its cases.
    pub outcome: Outcome,
    /// The cases (`suite/case`) evidencing the feature on the target; a failing case not
    /// listed is new. Without the list, every case of the cell counts as known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<String>,
    /// Why a deviation is accepted ("known Gemini deviation, tracked upstream").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `YYYY-MM-DD`: the deviation is accepted through that day, and fails the run again after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A baseline ready for comparison: where it came from and its entries (dates checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub source: String,
    pub entries: Vec<Entry>,
    /// True when read from a report rather than a baseline file.
    pub from_report: bool,
    /// A baseline file's own fields besides its entries, kept so it can be written back
    /// (`baseline prune`).
    pub header: Header,
}

/// `created_at` and `source` of a baseline file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub created_at: Option<String>,
    pub source: Option<String>,
}

impl Baseline {
    pub fn entry(&self, target: &str, feature: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.target == target && e.feature == feature)
    }

    /// The baseline file this baseline was read from, as it would be written back.
    pub fn into_file(self) -> BaselineFile {
        BaselineFile {
            schema_version: SCHEMA_VERSION,
            created_at: self.header.created_at,
            source: self.header.source,
            entries: self.entries,
        }
    }
}

/// Why a baseline file or a report could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// `what`: `baseline` or `report`.
    #[error("cannot read {what} {}: {}", .error.path.display(), .error.kind)]
    Read {
        what: &'static str,
        error: ReadError,
    },
    /// Problems in its text, each with file:line:col, the source line and what was expected.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl BaselineError {
    fn at(d: Diagnostic) -> Self {
        BaselineError::Invalid(Diagnostics(vec![d]))
    }
}

/// Read `--baseline FILE`: a baseline file or a `report.json`, parsed once.
pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    let text =
        read_bounded_string(path, REPORT_FILE_LIMIT).map_err(|error| BaselineError::Read {
            what: "baseline",
            error,
        })?;
    parse(path, &text.into())
}

/// Fields only a report has: a document with one of them is read as a report.
const REPORT_FIELDS: &[&str] = &[
    "tool",
    "started_at",
    "duration_ms",
    "partial",
    "report_bodies",
    "targets",
    "results",
    "features",
];

/// Parse a baseline file's or a report's text; `path` names it in diagnostics. Each document is
/// parsed once: a report (JSON) is told from a baseline file by its second field, where the
/// streaming parse as a baseline file stops.
pub fn parse(path: &Path, text: &Arc<str>) -> Result<Baseline, BaselineError> {
    let source = path.display().to_string();
    if text.trim_start().starts_with('{') {
        match serde_json::from_str::<BaselineFile>(text) {
            Ok(file) => return checked(path, text, file),
            Err(e) if unknown_field(&e.to_string()).is_some_and(|f| REPORT_FIELDS.contains(&f)) => {
                let report = report_from_text(path, text)?;
                return Ok(from_report(&report, &source));
            }
            // Explained below by the YAML parser (JSON is YAML), which locates every problem.
            Err(_) => {}
        }
    }
    if let Some(d) = crate::load::yaml::depth_problem(path, text) {
        return Err(BaselineError::at(d));
    }
    match serde_yaml::from_str::<BaselineFile>(text) {
        Ok(file) => checked(path, text, file),
        Err(e) => Err(BaselineError::Invalid(explain(path, text, &e))),
    }
}

/// A baseline file's format, checked when serde refuses a file so that every structural
/// problem in it is reported at once (a test holds it to the structs' keys).
const BASELINE_FILE: MapShape = MapShape {
    name: "a baseline file",
    fields: &[
        Field::required("schema_version", Shape::UInt(u32::MAX as u64)),
        Field::optional("created_at", Shape::Str),
        Field::optional("source", Shape::Str),
        Field::defaulted("entries", Shape::List(&Shape::Map(&ENTRY))),
    ],
};

const ENTRY: MapShape = MapShape {
    name: "a baseline entry",
    fields: &[
        Field::required("target", Shape::Str),
        Field::required("feature", Shape::Str),
        Field::required(
            "outcome",
            Shape::Enum(&["pass", "fail", "error", "unsupported", "skip"]),
        ),
        Field::defaulted("cases", Shape::List(&Shape::Str)),
        Field::optional("note", Shape::Str),
        Field::optional("expires", Shape::Str),
    ],
};

/// A baseline file that parsed: its version and its entries checked.
fn checked(path: &Path, text: &Arc<str>, file: BaselineFile) -> Result<Baseline, BaselineError> {
    if file.schema_version != SCHEMA_VERSION {
        return Err(BaselineError::at(version_problem(
            path,
            text,
            u64::from(file.schema_version),
        )));
    }
    check_entries(path, text, &file.entries)?;
    Ok(Baseline {
        source: path.display().to_string(),
        entries: file.entries,
        from_report: false,
        header: Header {
            created_at: file.created_at,
            source: file.source,
        },
    })
}

/// A parse error: every structural problem of the file, with a better word where a general
/// one would mislead (a file of another version, a file without one).
fn explain(path: &Path, text: &Arc<str>, e: &serde_yaml::Error) -> Diagnostics {
    if let Some(v) = declared_version(text).filter(|v| *v != u64::from(SCHEMA_VERSION)) {
        return Diagnostics(vec![version_problem(path, text, v)]);
    }
    let Diagnostics(all) = crate::load::yaml::shape_problems(path, text, &BASELINE_FILE, e);
    Diagnostics(
        all.into_iter()
            .map(|d| {
                if d.message.contains("`schema_version`") && d.message.contains("missing") {
                    d.help(format!(
                        "a baseline file starts with `schema_version: {SCHEMA_VERSION}` and lists `entries` (write one with `llm-parity baseline save`); a report.json may be used as it is"
                    ))
                } else if d.message.starts_with("the file is ") {
                    d.expected("a mapping: a baseline file or a report.json")
                } else {
                    d
                }
            })
            .collect(),
    )
}

fn version_problem(path: &Path, text: &Arc<str>, v: u64) -> Diagnostic {
    Diagnostic::new(
        path,
        format!(
            "baseline schema_version {v} is not supported (this llm-parity reads {SCHEMA_VERSION})"
        ),
    )
    .at_pos(find(text, 0, "schema_version"))
    .with_source(text)
    .help("write a new one with `llm-parity baseline save`")
}

/// `schema_version: N` at the top level of the text, read without parsing it (for the error
/// path only).
fn declared_version(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let rest = l
            .strip_prefix("schema_version")
            .or_else(|| l.trim_start().strip_prefix("\"schema_version\""))?;
        let value = rest.trim_start().strip_prefix(':')?;
        value
            .trim()
            .trim_end_matches(',')
            .trim_matches(|c| c == '"' || c == '\'')
            .parse()
            .ok()
    })
}

fn report_version_problem(path: &Path, v: u64) -> Diagnostic {
    Diagnostic::new(
        path,
        format!(
            "report schema_version {v} is not supported (this llm-parity reads schema_version {REPORT_SCHEMA_VERSION})"
        ),
    )
}

/// Read a `report.json` file, parsed once.
pub fn read_report(path: &Path) -> Result<RunReport, BaselineError> {
    let text =
        read_bounded_string(path, REPORT_FILE_LIMIT).map_err(|error| BaselineError::Read {
            what: "report",
            error,
        })?;
    report_from_text(path, &text)
}

/// The `schema_version` a report's text declares, if it is JSON with one (read on error paths).
pub fn report_version(text: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: Option<u64>,
    }
    serde_json::from_str::<Version>(text)
        .ok()
        .and_then(|v| v.schema_version)
}

/// A report's text → the report model, parsed once. A report that does not parse is explained
/// by its version when it has another one.
pub fn report_from_text(path: &Path, text: &str) -> Result<RunReport, BaselineError> {
    match serde_json::from_str::<RunReport>(text) {
        Ok(r) if r.schema_version == REPORT_SCHEMA_VERSION => Ok(r),
        Ok(r) => Err(BaselineError::at(report_version_problem(
            path,
            u64::from(r.schema_version),
        ))),
        Err(e) => {
            Err(BaselineError::at(match report_version(text) {
                Some(v) if v != u64::from(REPORT_SCHEMA_VERSION) => report_version_problem(path, v),
                _ if e.is_syntax() || e.is_eof() => {
                    Diagnostic::new(path, format!("not JSON: {}", strip_position(&e)))
                        .at(e.line(), e.column())
                }
                // A big report's lines are long: the location, not an excerpt.
                _ => Diagnostic::new(
                    path,
                    format!("not a valid report.json: {}", strip_position(&e)),
                )
                .at(e.line(), e.column()),
            }))
        }
    }
}

/// serde_json's message without its trailing ` at line L column C` (the location is the
/// diagnostic's own).
fn strip_position(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m,
    }
}

/// The field named by serde's "unknown field `x`, expected …".
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// Problems no parser sees, each located at its entry: an invalid date, a duplicate cell, a
/// case that is not a `suite/case` id.
fn check_entries(path: &Path, text: &Arc<str>, entries: &[Entry]) -> Result<(), BaselineError> {
    let starts = entry_offsets(text);
    let mut problems = Diagnostics::default();
    for (i, e) in entries.iter().enumerate() {
        let from = starts.get(i).copied().unwrap_or(0);
        let at = format!("entry {} ({} / {})", i + 1, e.target, e.feature);
        let problem = |message: String, needle: &str| {
            Diagnostic::new(path, message)
                .at_pos(find(text, from, needle))
                .with_source(text)
        };
        if let Some(d) = &e.expires
            && parse_date(d).is_none()
        {
            problems.push(
                problem(format!("{at}: invalid expires `{d}`"), d).expected("a date YYYY-MM-DD"),
            );
        }
        if let Some(first) = entries[..i]
            .iter()
            .position(|p| p.target == e.target && p.feature == e.feature)
        {
            problems.push(
                // At the entry itself: its fields repeat the first one's.
                problem(
                    format!("{at}: duplicate entry for this target and feature"),
                    "",
                )
                .help(format!(
                    "entry {} has it already: keep one entry per target and feature",
                    first + 1
                )),
            );
        }
        if let Some(c) = e.cases.iter().find(|c| !c.contains('/')) {
            problems.push(
                problem(format!("{at}: case `{c}` is not a `suite/case` id"), c)
                    .expected("`suite/case`, e.g. `chat/basic`"),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BaselineError::Invalid(problems))
    }
}

/// Where each item of the top-level `entries` list starts in the text (YAML block items
/// `- …`, or JSON / flow items `{…}` one per line, as `baseline save` writes them). Best
/// effort: a layout it does not follow locates problems by their text alone.
fn entry_offsets(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut in_entries = false;
    let mut indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let depth = line.len() - trimmed.len();
        if !in_entries {
            in_entries = (trimmed.starts_with("entries:") || trimmed.starts_with("\"entries\":"))
                && depth <= 2;
        } else if trimmed.starts_with('-') || trimmed.starts_with('{') {
            match indent {
                None => {
                    indent = Some(depth);
                    out.push(offset + depth);
                }
                Some(d) if d == depth => out.push(offset + depth),
                _ => {}
            }
        } else if !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && indent.is_some_and(|d| depth < d)
        {
            // Back at the top level: the list has ended.
            if !trimmed.starts_with(']') {
                break;
            }
        }
        offset += line.len();
    }
    out
}

/// 1-based line and column of the first `needle` at or after byte `from` (else anywhere).
fn find(text: &str, from: usize, needle: &str) -> Option<(usize, usize)> {
    let from = from.min(text.len());
    let hit = text
        .get(from..)
        .and_then(|t| t.find(needle))
        .map(|i| from + i)
        .or_else(|| text.find(needle))?;
    Some(line_col(text, hit))
}

pub fn parse_date(s: &str) -> Option<time::Date> {
    let mut parts = s.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Today's date (UTC), against which `expires` is compared.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Every feature × target cell of a report, with its cases, as baseline entries.
pub fn entries_of(report: &RunReport) -> Vec<Entry> {
    // One pass over the entries: each cell's cases.
    let mut cells: HashMap<(String, String), Vec<String>> = HashMap::new();
    for r in &report.results {
        cells
            .entry((r.target.clone(), r.feature.clone()))
            .or_default()
            .push(format!("{}/{}", r.suite, r.case));
    }
    let mut out: Vec<Entry> = Vec::new();
    for t in report.target_names() {
        for row in &report.features {
            let Some(outcome) = row.outcomes.get(t) else {
                continue;
            };
            let cases = cells
                .remove(&(t.to_string(), row.feature.clone()))
                .unwrap_or_default();
            out.push(Entry {
                target: t.to_string(),
                feature: row.feature.clone(),
                outcome: *outcome,
                cases,
                note: None,
                expires: None,
            });
        }
    }
    out
}

pub fn from_report(report: &RunReport, source: &str) -> Baseline {
    Baseline {
        source: source.to_string(),
        entries: entries_of(report),
        from_report: true,
        header: Header::default(),
    }
}

/// `baseline save`: a baseline file from a report. Notes and expiry dates of `previous` entries
/// are kept for cells that still do not pass (a passing cell needs no acceptance).
pub fn save(report: &RunReport, source: &str, previous: Option<&Baseline>) -> BaselineFile {
    let mut entries = entries_of(report);
    if let Some(prev) = previous {
        for e in entries.iter_mut().filter(|e| e.outcome != Outcome::Pass) {
            if let Some(p) = prev.entry(&e.target, &e.feature) {
                e.note = p.note.clone();
                e.expires = p.expires.clone();
            }
        }
    }
    BaselineFile {
        schema_version: SCHEMA_VERSION,
        created_at: Some(report.started_at.clone()),
        source: Some(source.to_string()),
        entries,
    }
}

/// Why a baseline file could not be serialised.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Yaml(#[from] serde_yaml::Error),
}

/// Serialise a baseline file: JSON for a `.json` path, YAML otherwise (with a header comment).
pub fn render(file: &BaselineFile, path: &Path) -> Result<String, RenderError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        Ok(serde_json::to_string_pretty(file)? + "\n")
    } else {
        let body = serde_yaml::to_string(file)?;
        Ok(format!(
            "# llm-parity baseline (README \"Baselines and the gate\"). A deviation can be accepted\n\
             # with `note:` and `expires: YYYY-MM-DD` on its entry; it fails the run again after that day.\n{body}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Baseline, BaselineError> {
        parse(Path::new("b.yaml"), &text.into())
    }

    #[test]
    fn every_shape_takes_the_keys_serde_takes() {
        use crate::load::shape::testing::{keys, serde_fields};
        assert_eq!(keys(&BASELINE_FILE), serde_fields::<BaselineFile>());
        assert_eq!(keys(&ENTRY), serde_fields::<Entry>());
        let Shape::Enum(words) = ENTRY.fields[2].shape else {
            panic!("outcome is an enum")
        };
        for w in words {
            serde_yaml::from_str::<Outcome>(w).unwrap();
        }
    }

    #[test]
    fn every_structural_problem_of_a_baseline_file_is_reported_at_once() {
        let text = "schema_version: 1\nentries:\n  - {target: a, feature: chat.basic, outcome: fail, expirse: 2030-01-01}\n  - {targt: a, feature: chat.x, outcome: failed}\n";
        let Err(BaselineError::Invalid(d)) = parse_text(text) else {
            panic!("refused")
        };
        let said: Vec<String> = d.0.iter().map(|d| d.message.clone()).collect();
        for what in ["expirse", "targt", "`target`", "failed"] {
            assert!(said.iter().any(|s| s.contains(what)), "{what}: {said:#?}");
        }
        assert_eq!(d.0[0].line, Some(3), "sorted by position: {said:#?}");
    }

    /// The problems found, each as `line:col message (expected …) [help]`.
    fn problems(text: &str) -> Vec<String> {
        match parse_text(text) {
            Err(BaselineError::Invalid(d)) => {
                d.0.iter()
                    .map(|d| {
                        format!(
                            "{}:{} {}{}{}",
                            d.line.unwrap_or(0),
                            d.column.unwrap_or(0),
                            d.message,
                            d.expected
                                .as_ref()
                                .map(|e| format!(" (expected {e})"))
                                .unwrap_or_default(),
                            d.help
                                .as_ref()
                                .map(|h| format!(" [{h}]"))
                                .unwrap_or_default()
                        )
                    })
                    .collect()
            }
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn yaml_baseline_with_note_and_expiry() {
        let b = parse_text(
            "schema_version: 1\ncreated_at: now\nentries:\n  - target: gemini\n    feature: tools.parallel\n    outcome: fail\n    note: known Gemini deviation, tracked upstream\n    expires: 2099-12-31\n",
        )
        .unwrap();
        let e = b.entry("gemini", "tools.parallel").unwrap();
        assert_eq!(e.outcome, Outcome::Fail);
        assert_eq!(e.expires.as_deref(), Some("2099-12-31"));
        assert!(!b.from_report);
        // Written back, it keeps its header.
        assert_eq!(b.into_file().created_at.as_deref(), Some("now"));
    }

    #[test]
    fn a_json_baseline_file_reads_as_one() {
        let file = BaselineFile {
            schema_version: SCHEMA_VERSION,
            created_at: None,
            source: Some("r.json".into()),
            entries: vec![Entry {
                target: "t".into(),
                feature: "chat.basic".into(),
                outcome: Outcome::Pass,
                cases: vec!["chat/basic".into()],
                note: None,
                expires: None,
            }],
        };
        let text = render(&file, Path::new("b.json")).unwrap();
        let b = parse(Path::new("b.json"), &text.into()).unwrap();
        assert!(!b.from_report);
        assert_eq!(b.into_file(), file);
    }

    #[test]
    fn bad_baselines_are_located_with_what_was_expected() {
        let table: &[(&str, &str)] = &[
            (
                "schema_version: 1\nentries:\n  - target: t\n    feature: f\n    outcome: fail\n    expirse: 2099-01-01\n",
                "6:5 unknown key `expirse` in a baseline entry (`entries[0]`) (expected a key of a baseline entry) [did you mean `expires`?]",
            ),
            (
                "schema_version: 1\nentries:\n  - target: t\n    feature: f\n    outcome: fail\n    expires: next week\n",
                "6:14 entry 1 (t / f): invalid expires `next week` (expected a date YYYY-MM-DD)",
            ),
            (
                "schema_version: 2\nentries: []\n",
                "1:1 baseline schema_version 2 is not supported (this llm-parity reads 1) [write a new one with `llm-parity baseline save`]",
            ),
            (
                "schema_version: 1\nentries:\n  - target: t\n    feature: f\n    outcome: maybe\n",
                "5:14 `entries[0].outcome` cannot be `maybe` (expected one of `pass`, `fail`, `error`, `unsupported` or `skip`)",
            ),
        ];
        for (text, want) in table {
            assert_eq!(problems(text), [*want], "{text}");
        }
        let p = problems("entries: []\n");
        assert!(
            p[0].contains("missing key `schema_version`")
                && p[0].contains("[a baseline file starts with `schema_version: 1`"),
            "{p:?}"
        );
        let p = problems("[1, 2]");
        assert!(
            p[0].contains(
                "the file is a list (expected a mapping: a baseline file or a report.json)"
            ),
            "{p:?}"
        );
        // Every problem at once, each at its own entry.
        let p = problems(
            "schema_version: 1\nentries:\n  - {target: t, feature: f, outcome: fail, cases: [nope]}\n  - {target: t, feature: f, outcome: pass, expires: soon}\n",
        );
        assert_eq!(
            p,
            [
                "3:52 entry 1 (t / f): case `nope` is not a `suite/case` id (expected `suite/case`, e.g. `chat/basic`)",
                "4:53 entry 2 (t / f): invalid expires `soon` (expected a date YYYY-MM-DD)",
                "4:3 entry 2 (t / f): duplicate entry for this target and feature [entry 1 has it already: keep one entry per target and feature]",
            ]
        );
    }

    #[test]
    fn a_report_is_told_from_a_baseline_file_and_read_once() {
        let broken = r#"{"schema_version": 1, "tool": {"name": "llm-parity"}, "results": 7}"#;
        let e = parse(Path::new("r.json"), &broken.into()).unwrap_err();
        assert!(
            e.to_string().contains("r.json:1:")
                && e.to_string().contains("not a valid report.json"),
            "{e}"
        );
        let v2 = r#"{"schema_version": 2, "tool": 1}"#;
        let e = parse(Path::new("r.json"), &v2.into()).unwrap_err();
        assert!(
            e.to_string()
                .contains("report schema_version 2 is not supported"),
            "{e}"
        );
    }

    #[test]
    fn dates() {
        assert!(parse_date("2025-02-28").is_some());
        assert!(parse_date("2025-02-30").is_none());
        assert!(parse_date("28/02/2025").is_none());
    }
}
