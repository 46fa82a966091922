//! `baseline prune`: drop baseline references to cases that no longer exist — judged only for
//! the suites the report's run loaded, so a run of one suite cannot empty the rest.

use std::collections::{BTreeMap, BTreeSet};

use super::baseline::BaselineFile;
use crate::report::RunReport;
use crate::report::model::SuiteInfo;

/// What `prune` removed, for the command's output.
#[derive(Debug, Default, PartialEq)]
pub struct Pruned {
    /// `target feature` of each entry removed (every case it listed is gone).
    pub entries: Vec<String>,
    /// `suite/case` references removed from entries that remain.
    pub cases: Vec<String>,
    /// The suites judged.
    pub suites: Vec<String>,
}

/// The suites a report's run loaded, with their cases. Reports from before the `suites` field
/// fall back to what their results show (only the cases that ran are known then).
pub fn loaded_cases(report: &RunReport) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if !report.suites.is_empty() {
        for SuiteInfo { id, cases } in &report.suites {
            out.entry(id.clone())
                .or_default()
                .extend(cases.iter().cloned());
        }
    } else {
        for r in &report.results {
            out.entry(r.suite.clone())
                .or_default()
                .insert(r.case.clone());
        }
    }
    out
}

pub fn prune(file: &mut BaselineFile, report: &RunReport) -> Pruned {
    let suites = loaded_cases(report);
    let exists = |id: &str| match id.split_once('/') {
        Some((suite, case)) => suites.get(suite).is_none_or(|cases| cases.contains(case)),
        None => true,
    };
    let mut pruned = Pruned {
        suites: suites.keys().cloned().collect(),
        ..Pruned::default()
    };
    file.entries.retain_mut(|e| {
        if e.cases.is_empty() {
            return true; // a hand-written cell-level entry names no case to judge
        }
        let before = e.cases.len();
        e.cases.retain(|c| {
            let keep = exists(c);
            if !keep {
                pruned.cases.push(c.clone());
            }
            keep
        });
        if e.cases.is_empty() && before > 0 {
            // Its cases are gone: the entry itself goes; its case references are not listed.
            pruned.cases.truncate(pruned.cases.len() - before);
            pruned.entries.push(format!("{} {}", e.target, e.feature));
            return false;
        }
        true
    });
    pruned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::baseline::{Entry, SCHEMA_VERSION};
    use crate::judge::Outcome;

    fn entry(feature: &str, cases: &[&str]) -> Entry {
        Entry {
            target: "t".into(),
            feature: feature.into(),
            outcome: Outcome::Pass,
            cases: cases.iter().map(|c| c.to_string()).collect(),
            note: None,
            expires: None,
        }
    }

    #[test]
    fn only_suites_that_ran_are_pruned() {
        let mut file = BaselineFile {
            schema_version: SCHEMA_VERSION,
            created_at: None,
            source: None,
            entries: vec![
                entry("chat.basic", &["chat/basic"]),
                entry("chat.gone", &["chat/gone"]),
                entry("chat.mixed", &["chat/stop", "chat/removed"]),
                entry("tools.parallel", &["tools/parallel"]),
                entry("hand.written", &[]),
            ],
        };
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "llm-parity", "version": "0"},
            "started_at": "", "duration_ms": 0, "targets": [], "results": [], "features": [],
            "suites": [{"id": "chat", "cases": ["basic", "stop"]}]
        }))
        .unwrap();
        let p = prune(&mut file, &report);
        assert_eq!(p.entries, ["t chat.gone"]);
        assert_eq!(p.cases, ["chat/removed"]);
        let kept: Vec<&str> = file.entries.iter().map(|e| e.feature.as_str()).collect();
        assert_eq!(
            kept,
            ["chat.basic", "chat.mixed", "tools.parallel", "hand.written"]
        );
    }
}
