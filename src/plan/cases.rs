//! Planning the cases of a run: each case on each target in a deterministic order (target,
//! suite, case), the ones decided without sending anything marked with their outcome.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::load::{Case, Suite, Target};
use crate::outcome::Outcome;

#[derive(Debug, Clone)]
pub struct PlannedCase {
    pub target: Arc<Target>,
    pub case: Arc<Case>,
    /// Decided without a request: the outcome and its reason. Boxed: a plan holds one entry per
    /// case and target, most of them undecided (24 bytes an entry instead of 72).
    pub decided: Option<Box<Decided>>,
}

/// A case decided without sending anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub outcome: Outcome,
    pub reason: String,
    /// Skipped because the target has no model for this role (counted by role on the
    /// summary; `--fail-on skip` fails the run for it).
    pub missing_model: Option<String>,
}

impl Decided {
    fn new(outcome: Outcome, reason: impl Into<String>) -> Self {
        Decided {
            outcome,
            reason: reason.into(),
            missing_model: None,
        }
    }

    /// An error without sending: the target cannot be reached (`reason` says how).
    pub fn unreachable(reason: impl Into<String>) -> Self {
        Decided::new(Outcome::Error, reason)
    }
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
                let decided = decide(target, case, sel).map(Box::new);
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

fn decide(target: &Target, case: &Case, sel: &Selection) -> Option<Decided> {
    if let Some(pattern) = target.declared_unsupported(&case.feature) {
        return Some(Decided::new(
            Outcome::Unsupported,
            format!("declared unsupported for this target (`unsupported: {pattern}`)"),
        ));
    }
    if case.is_opt_in() && !sel.include_opt_in && !target.opts_in(&case.feature) {
        return Some(Decided::new(
            Outcome::Skip,
            "opt-in case (run with --opt-in, or list the feature under the target's `opt_in`)",
        ));
    }
    missing_role(target, case).map(|role| Decided {
        missing_model: Some(role.to_string()),
        ..Decided::new(
            Outcome::Skip,
            format!("target has no model for role `{role}`"),
        )
    })
}

/// The first role the case needs that the target has no model for.
pub fn missing_role<'c>(target: &Target, case: &'c Case) -> Option<&'c str> {
    case.roles
        .iter()
        .copied()
        .find(|r| target.model(r).is_none())
}

/// A target without a model for a role most of its selected cases need: a run of it would
/// skip most of what it was asked to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncovered {
    pub target: String,
    pub role: String,
    /// Selected cases of the target that need `role`.
    pub needing: usize,
    /// Selected cases of the target (opt-in and declared-unsupported ones excluded).
    pub selected: usize,
    /// Of those, the cases the target has every model for.
    pub runnable: usize,
    /// The selected suites the target has every model for (a narrower selection that runs).
    pub runnable_suites: Vec<String>,
}

/// Every target that lacks models for more than half of its selected cases, named by the
/// missing role the most of them need (ties go to the earlier role in
/// [`ROLES`](crate::load::template::ROLES)). A selection narrowed to what the target has —
/// `--suite models`, where one case of three needs a chat model — runs, its skip counted.
/// Cases the plan decided for another reason (opt-in, declared unsupported) do not count.
pub fn uncovered(planned: &[PlannedCase]) -> Vec<Uncovered> {
    use crate::load::template::ROLES;
    // Each target's selected cases, targets in first-seen order, in one pass; repeats
    // (`--repeat`) are one selected case.
    let mut targets: Vec<(&Target, Vec<&PlannedCase>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    for pc in planned {
        let name = pc.target.name.as_str();
        let at = *index.entry(name).or_insert_with(|| {
            targets.push((&pc.target, Vec::new()));
            targets.len() - 1
        });
        if pc
            .decided
            .as_ref()
            .is_none_or(|d| d.missing_model.is_some())
            && seen.insert((name, &pc.case.suite, &pc.case.id))
        {
            targets[at].1.push(pc);
        }
    }
    let mut out: Vec<Uncovered> = Vec::new();
    for (target, cases) in targets {
        let needing = |role: &str| {
            cases
                .iter()
                .filter(|p| p.case.roles.contains(&role))
                .count()
        };
        let Some((role, n)) = ROLES
            .iter()
            .filter(|r| target.model(r).is_none())
            .map(|r| (*r, needing(r)))
            .fold(None, |best: Option<(&str, usize)>, (r, n)| match best {
                Some((_, m)) if m >= n => best,
                _ => Some((r, n)),
            })
        else {
            continue;
        };
        let runnable = cases.iter().filter(|p| p.decided.is_none()).count();
        if (cases.len() - runnable) * 2 <= cases.len() {
            continue;
        }
        // Suites in first-seen order; a suite with a case the target cannot run is out.
        let mut suites: Vec<(&str, bool)> = Vec::new();
        for p in &cases {
            let runs = p.decided.is_none();
            match suites.iter_mut().find(|s| s.0 == &*p.case.suite) {
                Some(s) => s.1 &= runs,
                None => suites.push((&p.case.suite, runs)),
            }
        }
        out.push(Uncovered {
            target: target.name.clone(),
            role: role.to_string(),
            needing: n,
            selected: cases.len(),
            runnable,
            runnable_suites: suites
                .into_iter()
                .filter(|s| s.1)
                .map(|s| s.0.to_string())
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod uncovered_tests {
    use std::path::Path;

    use super::*;
    use crate::load::target::load_targets;
    use crate::testing;

    fn chatless(name: &str) -> Arc<Target> {
        let text = format!(
            "targets:\n  {name}:\n    base_url: http://127.0.0.1:9/v1\n    models: {{ embedding: e }}\n"
        );
        let mut t = load_targets(Path::new("targets.yaml"), &text, &|_| None).unwrap();
        Arc::new(t.remove(0))
    }

    fn planned(target: &Arc<Target>, case: &Arc<Case>) -> PlannedCase {
        let decided = missing_role(target, case).map(|role| {
            Box::new(Decided {
                missing_model: Some(role.to_string()),
                ..Decided::new(Outcome::Skip, "no model")
            })
        });
        PlannedCase {
            target: target.clone(),
            case: case.clone(),
            decided,
        }
    }

    /// The one case of a suite file's text.
    fn one_case(text: &str) -> Arc<Case> {
        let env = crate::load::suite::SuiteEnv {
            fixtures_root: None,
            allow_fixture_escape: false,
            schema_ids: &[],
            check_names: &[],
            builtin: false,
        };
        let suite = crate::load::suite::load_suite(Path::new("s.yaml"), text, &env).unwrap();
        suite.cases[0].clone()
    }

    /// A case of suite `suite` that needs no model at all.
    fn modelless(suite: &str, id: &str) -> Arc<Case> {
        let case = one_case(&format!(
            "suite: {suite}\ncases:\n  - id: {id}\n    feature: models.list\n    request:\n      method: GET\n      path: /models\n    expect: {{ status: 200 }}\n"
        ));
        assert!(case.roles.is_empty());
        case
    }

    #[test]
    fn a_target_without_the_model_most_cases_need_is_uncovered_once_per_target() {
        let (none, ok) = (chatless("none"), testing::target("ok"));
        let (c1, c2) = (testing::case("c1"), testing::case("c2"));
        let opt_in = PlannedCase {
            decided: Some(Box::new(Decided::new(Outcome::Skip, "opt-in case"))),
            ..planned(&none, &testing::case("c3"))
        };
        let list = modelless("models", "list");
        let plan = vec![
            planned(&none, &c1),
            // A repeat of c1 (`--repeat 2`) is one selected case.
            planned(&none, &c1),
            planned(&ok, &c1),
            planned(&none, &c2),
            planned(&ok, &c2),
            // Decided for another reason: not selected for the rule.
            opt_in,
            // Needs no model: selected, runnable, and its suite can run alone.
            planned(&none, &list),
        ];
        assert_eq!(
            uncovered(&plan),
            [Uncovered {
                target: "none".into(),
                role: "chat".into(),
                needing: 2,
                selected: 3,
                runnable: 1,
                runnable_suites: vec!["models".into()],
            }]
        );
        assert_eq!(uncovered(&plan[2..3]), []);
    }

    #[test]
    fn a_run_stops_only_when_it_would_skip_more_than_half_its_cases() {
        let none = chatless("none");
        let with = |k: usize, free: usize| -> Vec<PlannedCase> {
            let mut plan: Vec<PlannedCase> = (0..k)
                .map(|i| planned(&none, &testing::case(&format!("c{i}"))))
                .collect();
            plan.extend((0..free).map(|i| planned(&none, &modelless("models", &format!("m{i}")))));
            plan
        };
        // `--suite models`: one case of three needs a chat model — it runs, that one skipped.
        assert_eq!(uncovered(&with(1, 2)), []);
        // Half is not most.
        assert_eq!(uncovered(&with(2, 2)), []);
        let stop = uncovered(&with(3, 2));
        assert_eq!((stop[0].needing, stop[0].selected), (3, 5), "{stop:?}");
        // Every selected case needs the role: no suite of them runs alone.
        assert_eq!(
            uncovered(&with(2, 0))[0].runnable_suites,
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_skips_of_every_missing_role_count_and_the_most_needed_is_named() {
        // No model at all (OPENAI_BASE_URL without OPENAI_MODEL): two chat cases, two
        // embedding cases and three that need no model — no role is needed by most cases, but
        // the run would skip four of seven.
        let text = "targets:\n  bare:\n    base_url: http://127.0.0.1:9/v1\n";
        let bare = Arc::new(
            load_targets(Path::new("t.yaml"), text, &|_| None)
                .unwrap()
                .remove(0),
        );
        let embedding = |id: &str| {
            one_case(&format!(
                "suite: e\ncases:\n  - id: {id}\n    feature: embeddings.basic\n    request:\n      path: /embeddings\n      body: {{ model: \"{{{{model.embedding}}}}\", input: x }}\n    expect: {{ status: 200 }}\n"
            ))
        };
        let mut plan = vec![
            planned(&bare, &testing::case("c1")),
            planned(&bare, &testing::case("c2")),
            planned(&bare, &embedding("e1")),
            planned(&bare, &embedding("e2")),
        ];
        plan.extend((0..3).map(|i| planned(&bare, &modelless("models", &format!("m{i}")))));
        let stop = uncovered(&plan);
        assert_eq!(
            (
                stop[0].role.as_str(),
                stop[0].needing,
                stop[0].selected,
                stop[0].runnable
            ),
            ("chat", 2, 7, 3),
            "{stop:?}"
        );
        assert_eq!(stop[0].runnable_suites, ["models"]);
        // One missing role fewer and the run goes ahead.
        assert_eq!(uncovered(&plan[1..]), []);
    }
}
