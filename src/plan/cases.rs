//! Planning the cases of a run: each case on each target in a deterministic order (target,
//! suite, case), the ones decided without sending anything marked with their outcome.

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::load::{Case, Suite, Target};
use crate::outcome::Outcome;

#[derive(Debug, Clone)]
pub struct PlannedCase {
    pub target: Arc<Target>,
    pub case: Arc<Case>,
    /// Decided without a request: the outcome and its reason.
    pub decided: Option<(Outcome, String)>,
}

/// Case selection from the command line.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--filter` globs on `suite/case` ids (any may match); empty = all.
    pub filters: Vec<String>,
    /// `--opt-in`: run cases tagged `opt-in` everywhere.
    pub include_opt_in: bool,
    /// `--repeat K`: run each case K times (latency samples, flakiness).
    pub repeat: u32,
}

/// Why a selection cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("invalid --filter glob `{filter}`: {source}")]
    Filter {
        filter: String,
        #[source]
        source: globset::Error,
    },
    #[error("invalid --filter globs: {0}")]
    Build(#[source] globset::Error),
}

impl Selection {
    pub fn compile(&self) -> Result<Option<GlobSet>, SelectionError> {
        if self.filters.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for f in &self.filters {
            b.add(Glob::new(f).map_err(|source| SelectionError::Filter {
                filter: f.clone(),
                source,
            })?);
        }
        b.build().map(Some).map_err(SelectionError::Build)
    }
}

pub fn plan(
    suites: &[Suite],
    targets: &[Arc<Target>],
    sel: &Selection,
) -> Result<Vec<PlannedCase>, SelectionError> {
    let filter = sel.compile()?;
    let mut out = Vec::new();
    for target in targets {
        for suite in suites {
            for case in &suite.cases {
                if let Some(f) = &filter
                    && !f.is_match(case.full_id())
                {
                    continue;
                }
                let decided = decide(target, case, sel);
                // Decided cases send nothing: one entry is enough whatever the repeat count.
                let times = if decided.is_some() {
                    1
                } else {
                    sel.repeat.max(1)
                };
                for _ in 0..times {
                    out.push(PlannedCase {
                        target: target.clone(),
                        case: case.clone(),
                        decided: decided.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn decide(target: &Target, case: &Case, sel: &Selection) -> Option<(Outcome, String)> {
    if let Some(pattern) = target.declared_unsupported(&case.feature) {
        return Some((
            Outcome::Unsupported,
            format!("declared unsupported for this target (`unsupported: {pattern}`)"),
        ));
    }
    if case.is_opt_in() && !sel.include_opt_in && !target.opts_in(&case.feature) {
        return Some((
            Outcome::Skip,
            "opt-in case (run with --opt-in, or list the feature under the target's `opt_in`)"
                .into(),
        ));
    }
    if let Some(role) = case.roles.iter().find(|r| target.model(r).is_none()) {
        return Some((
            Outcome::Skip,
            format!("target has no model for role `{role}`"),
        ));
    }
    None
}
