//! What the app uses (`--uses`): areas (`streaming`) and feature globs (`tools.parallel`,
//! `chat.*`), resolved once against the loaded suites. Without `--uses`, every area is used.

use globset::{Glob, GlobMatcher};

use crate::load::Suite;
use crate::load::diag::did_you_mean;
use crate::load::feature::{area_of, sort_by_area};

/// The runbook's own exchanges, always run on both sides whatever `--uses` says: the model
/// list (configuration), a plain chat call, usage, and the bad-model error shape.
pub const CORE_CASES: &[&str] = &[
    "models/list",
    "chat/basic",
    "chat/usage",
    "errors/bad-model",
];

/// Core cases that count in the decision even when their area is not in `--uses`: an app moving
/// traffic makes at least a plain chat call and reads its message and usage.
pub const GATING_CORE: &[&str] = &["chat/basic", "chat/usage"];

#[derive(Debug, Clone)]
pub struct Uses {
    /// As given (`--uses`), or empty for "every area".
    pub given: Vec<String>,
    /// Whole areas used.
    pub areas: Vec<String>,
    /// Feature globs used (areas they belong to are in `feature_areas`).
    globs: Vec<(String, GlobMatcher)>,
}

/// Why `--uses` cannot be resolved against the loaded suites.
#[derive(Debug, thiserror::Error)]
pub enum UsesError {
    #[error(
        "--uses: unknown area `{area}` (expected one of {known}, or a feature such as `tools.parallel`){hint}"
    )]
    UnknownArea {
        area: String,
        known: String,
        /// `; did you mean …?`, or nothing.
        hint: String,
    },
    #[error("--uses: invalid feature glob `{item}`: {source}")]
    Glob {
        item: String,
        #[source]
        source: globset::Error,
    },
    #[error("--uses: no case evidences feature `{0}` (see `llm-parity list features`)")]
    NoCase(String),
    #[error("--uses: expected at least one area (e.g. `--uses chat,streaming`)")]
    Empty,
}

impl Uses {
    /// Resolve `--uses` items against the areas of the loaded suites.
    pub fn resolve(items: &[String], suites: &[Suite]) -> Result<Uses, UsesError> {
        let known = known_areas(suites);
        if items.is_empty() {
            return Ok(Uses {
                given: vec![],
                areas: known,
                globs: vec![],
            });
        }
        let mut out = Uses {
            given: vec![],
            areas: vec![],
            globs: vec![],
        };
        for raw in items {
            let item = raw.trim().to_ascii_lowercase();
            if item.is_empty() {
                continue;
            }
            let area = area_of(&item).to_string();
            if !known.contains(&area) {
                return Err(UsesError::UnknownArea {
                    hint: did_you_mean(&area, known.iter().map(String::as_str))
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default(),
                    area,
                    known: known.join(", "),
                });
            }
            if item.contains('.') {
                let glob = Glob::new(&item)
                    .map_err(|source| UsesError::Glob {
                        item: item.clone(),
                        source,
                    })?
                    .compile_matcher();
                let matches_any = suites
                    .iter()
                    .flat_map(|s| s.cases.iter())
                    .any(|c| glob.is_match(&*c.feature));
                if !matches_any {
                    return Err(UsesError::NoCase(item));
                }
                out.globs.push((item.clone(), glob));
            } else if !out.areas.contains(&area) {
                out.areas.push(area);
            }
            if !out.given.contains(&item) {
                out.given.push(item);
            }
        }
        if out.given.is_empty() {
            return Err(UsesError::Empty);
        }
        Ok(out)
    }

    /// Whether the app uses `feature`.
    pub fn includes(&self, feature: &str) -> bool {
        self.areas.iter().any(|a| a == area_of(feature))
            || self.globs.iter().any(|(_, g)| g.is_match(feature))
    }

    /// Every area with at least one used feature, in presentation order.
    pub fn used_areas(&self, suites: &[Suite]) -> Vec<String> {
        let mut areas: Vec<String> = known_areas(suites)
            .into_iter()
            .filter(|a| {
                self.areas.contains(a)
                    || suites
                        .iter()
                        .flat_map(|s| s.cases.iter())
                        .any(|c| area_of(&c.feature) == a && self.includes(&c.feature))
            })
            .collect();
        sort_by_area(&mut areas, |a| a.as_str());
        areas
    }

    /// `--uses` as written, or `all` when not given.
    pub fn label(&self) -> String {
        if self.given.is_empty() {
            "all areas".into()
        } else {
            self.given.join(", ")
        }
    }

    /// `suite/case` ids the runbook runs: the core cases and every used feature's cases.
    pub fn case_ids(&self, suites: &[Suite]) -> Vec<String> {
        suites
            .iter()
            .flat_map(|s| s.cases.iter())
            .filter(|c| CORE_CASES.contains(&c.full_id().as_str()) || self.includes(&c.feature))
            .map(|c| c.full_id())
            .collect()
    }

    /// Whether a case's result counts in the decision (used, or a gating core case).
    pub fn gates(&self, case_id: &str, feature: &str) -> bool {
        GATING_CORE.contains(&case_id) || self.includes(feature)
    }
}

fn known_areas(suites: &[Suite]) -> Vec<String> {
    let mut areas: Vec<String> = Vec::new();
    for c in suites.iter().flat_map(|s| s.cases.iter()) {
        let a = area_of(&c.feature).to_string();
        if !areas.contains(&a) {
            areas.push(a);
        }
    }
    sort_by_area(&mut areas, |a| a.as_str());
    areas
}
