//! The baseline: what the gate compares a run with. Either a dedicated baseline file
//! (`llm-parity baseline save`, YAML or JSON, `schemas/baseline.schema.json`) whose entries may
//! carry a note and an expiry date, or a previous `report.json` used as it is.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::judge::Outcome;
use crate::report::RunReport;
use crate::report::model::SCHEMA_VERSION as REPORT_SCHEMA_VERSION;
use crate::util::fs::{MIB, read_bounded_string};

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
}

impl Baseline {
    pub fn entry(&self, target: &str, feature: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.target == target && e.feature == feature)
    }
}

/// Read `--baseline FILE`: a baseline file or a `report.json`.
pub fn load(path: &Path) -> Result<Baseline, String> {
    let text = read_bounded_string(path, REPORT_FILE_LIMIT)
        .map_err(|e| format!("cannot read baseline {}: {}", path.display(), e.kind))?;
    parse(&text, &path.display().to_string())
}

/// Parse a baseline file's or a report's text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Baseline, String> {
    let value: serde_json::Value = serde_yaml::from_str(text)
        .map_err(|e| format!("baseline {source} is neither JSON nor YAML: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err(format!(
            "baseline {source}: expected a mapping (a baseline file or a report.json)"
        ));
    };
    if obj.contains_key("results") {
        let report = read_report_value(value, source)?;
        return Ok(from_report(&report, source));
    }
    match obj.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "baseline {source}: schema_version {v} is not supported (expected {SCHEMA_VERSION}; \
                 write a new one with `llm-parity baseline save`)"
            ));
        }
        None => {
            return Err(format!(
                "baseline {source}: missing `schema_version` (expected a baseline file with \
                 `schema_version: {SCHEMA_VERSION}` and `entries`, or a report.json)"
            ));
        }
    }
    let file: BaselineFile =
        serde_yaml::from_str(text).map_err(|e| format!("baseline {source}: {e}"))?;
    check_entries(&file.entries, source)?;
    Ok(Baseline {
        source: source.to_string(),
        entries: file.entries,
        from_report: false,
    })
}

/// A report as JSON value → the report model, with its version checked.
pub fn read_report_value(value: serde_json::Value, source: &str) -> Result<RunReport, String> {
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(REPORT_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "{source}: report schema_version {v} is not supported (this llm-parity reads \
                 schema_version {REPORT_SCHEMA_VERSION})"
            ));
        }
        None => return Err(format!("{source}: not a report (no `schema_version`)")),
    }
    serde_json::from_value(value).map_err(|e| format!("{source}: not a valid report.json: {e}"))
}

/// Read a `report.json` file.
pub fn read_report(path: &Path) -> Result<RunReport, String> {
    let text = read_bounded_string(path, REPORT_FILE_LIMIT)
        .map_err(|e| format!("cannot read report {}: {}", path.display(), e.kind))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    read_report_value(value, &path.display().to_string())
}

fn check_entries(entries: &[Entry], source: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let at = format!("entry {} ({} / {})", i + 1, e.target, e.feature);
        if let Some(d) = &e.expires
            && parse_date(d).is_none()
        {
            problems.push(format!(
                "{at}: invalid expires `{d}` (expected a date YYYY-MM-DD)"
            ));
        }
        if entries[..i]
            .iter()
            .any(|p| p.target == e.target && p.feature == e.feature)
        {
            problems.push(format!("{at}: duplicate entry for this target and feature"));
        }
        if let Some(c) = e.cases.iter().find(|c| !c.contains('/')) {
            problems.push(format!("{at}: case `{c}` is not a `suite/case` id"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("baseline {source}:\n  {}", problems.join("\n  ")))
    }
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
    let mut out: Vec<Entry> = Vec::new();
    for t in report.target_names() {
        for row in &report.features {
            let Some(outcome) = row.outcomes.get(t) else {
                continue;
            };
            let cases = report
                .results
                .iter()
                .filter(|r| r.target == t && r.feature == row.feature)
                .map(|r| format!("{}/{}", r.suite, r.case))
                .collect();
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

/// Serialise a baseline file: JSON for a `.json` path, YAML otherwise (with a header comment).
pub fn render(file: &BaselineFile, path: &Path) -> Result<String, String> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        serde_json::to_string_pretty(file)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string())
    } else {
        let body = serde_yaml::to_string(file).map_err(|e| e.to_string())?;
        Ok(format!(
            "# llm-parity baseline (README \"Baselines and the gate\"). A deviation can be accepted\n\
             # with `note:` and `expires: YYYY-MM-DD` on its entry; it fails the run again after that day.\n{body}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_baseline_with_note_and_expiry() {
        let b = parse(
            "schema_version: 1\nentries:\n  - target: gemini\n    feature: tools.parallel\n    outcome: fail\n    note: known Gemini deviation, tracked upstream\n    expires: 2099-12-31\n",
            "b.yaml",
        )
        .unwrap();
        let e = b.entry("gemini", "tools.parallel").unwrap();
        assert_eq!(e.outcome, Outcome::Fail);
        assert_eq!(e.expires.as_deref(), Some("2099-12-31"));
        assert!(!b.from_report);
    }

    #[test]
    fn bad_baselines_are_named_errors() {
        let e = parse("schema_version: 1\nentries:\n  - target: t\n    feature: f\n    outcome: fail\n    expires: next week\n", "b.yaml").unwrap_err();
        assert!(
            e.contains("invalid expires `next week` (expected a date YYYY-MM-DD)"),
            "{e}"
        );
        let e = parse("schema_version: 2\nentries: []\n", "b.yaml").unwrap_err();
        assert!(e.contains("schema_version 2 is not supported"), "{e}");
        let e = parse("entries: []\n", "b.yaml").unwrap_err();
        assert!(e.contains("missing `schema_version`"), "{e}");
        let e = parse(
            "schema_version: 1\nentries:\n  - target: t\n    feature: f\n    outcome: maybe\n",
            "b.yaml",
        )
        .unwrap_err();
        assert!(e.contains("b.yaml") && e.contains("maybe"), "{e}");
        let e = parse("[1, 2]", "b.yaml").unwrap_err();
        assert!(e.contains("expected a mapping"), "{e}");
        let dup = "schema_version: 1\nentries:\n  - {target: t, feature: f, outcome: fail}\n  - {target: t, feature: f, outcome: pass}\n";
        assert!(
            parse(dup, "b.yaml")
                .unwrap_err()
                .contains("duplicate entry")
        );
    }

    #[test]
    fn dates() {
        assert!(parse_date("2025-02-28").is_some());
        assert!(parse_date("2025-02-30").is_none());
        assert!(parse_date("28/02/2025").is_none());
    }
}
