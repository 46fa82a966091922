//! Building the report model from what a run loaded and ran.

use super::model::SuiteInfo;
use crate::load::Suite;

/// The suites a run loaded, every case listed (`report.json` `suites`).
pub fn loaded_suites(suites: &[Suite]) -> Vec<SuiteInfo> {
    suites
        .iter()
        .map(|s| SuiteInfo {
            id: s.id.clone(),
            cases: s.cases.iter().map(|c| c.id.clone()).collect(),
        })
        .collect()
}
