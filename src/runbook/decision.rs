//! Section 7: the decision, the rollback configuration and the manual checklist.
//!
//! A NEW result counts in the decision only for what the app uses (`--uses`, plus the plain chat
//! call and its usage): a used feature that breaks a client on NEW (the client catalogue's
//! `breaks`, or an error), that NEW refuses (unless OLD refuses it too), or that passed on OLD
//! and is not run on NEW, is a blocker. A used feature that only deviates (no client known to
//! break), deviations outside the used features, and warnings on used ones, are caveats listed
//! with the case's notes as workaround. An item names the client and the symptom the catalogue
//! verified.

use super::model::*;
use crate::judge::{Impact, Outcome};
use crate::report::impact;
use crate::report::model::CaseResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Recorded only: a used case that ran on neither side.
    NotRun,
    Caveat,
    NoGo,
}

pub fn worst(it: impl Iterator<Item = Severity>) -> Option<Severity> {
    it.max()
}

/// Classify NEW's result of one case against OLD's; `None` when there is nothing to say.
pub fn classify(
    gates: bool,
    old: Option<&CaseResult>,
    new: &CaseResult,
) -> Option<(Severity, String)> {
    let old_outcome = old.map(|o| o.outcome);
    let old_text = match old {
        Some(o) => format!("OLD: {}", o.outcome),
        None => "OLD: not run".into(),
    };
    let reason = new
        .reason
        .as_ref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
        + &impact::note(new)
            .map(|n| format!(" — {n}"))
            .unwrap_or_default();
    match new.outcome {
        Outcome::Pass if gates && !new.warnings.is_empty() => Some((
            Severity::Caveat,
            format!("passes on NEW with warnings: {}", new.warnings.join("; ")),
        )),
        Outcome::Pass => None,
        Outcome::Fail | Outcome::Error => {
            // As everywhere: a failure breaks only when the catalogue or an error says so.
            let breaks = impact::of_result(new) == Some(Impact::Breaks);
            let sev = if gates && breaks {
                Severity::NoGo
            } else {
                Severity::Caveat
            };
            let regress = if old_outcome == Some(Outcome::Pass) {
                "regression: "
            } else {
                ""
            };
            let what = match (new.outcome, new.impact) {
                (Outcome::Fail, Some(i)) => format!("{} ({i})", new.outcome),
                _ => new.outcome.to_string(),
            };
            Some((sev, format!("{regress}{what} on NEW ({old_text}){reason}")))
        }
        Outcome::Unsupported => {
            if gates && old_outcome == Some(Outcome::Pass) {
                Some((
                    Severity::NoGo,
                    format!("regression: unsupported on NEW, passes on OLD{reason}"),
                ))
            } else if gates && old_outcome != Some(Outcome::Unsupported) {
                Some((
                    Severity::NoGo,
                    format!("refused on NEW ({old_text}){reason}"),
                ))
            } else {
                Some((
                    Severity::Caveat,
                    format!("unsupported on NEW ({old_text}){reason}"),
                ))
            }
        }
        Outcome::Skip => match old_outcome {
            Some(Outcome::Pass) if gates => Some((
                Severity::NoGo,
                format!("not run on NEW, passes on OLD{reason}"),
            )),
            _ if gates => Some((
                Severity::NotRun,
                format!("skipped on NEW ({old_text}){reason}"),
            )),
            _ => None,
        },
    }
}

pub fn decide(items: Vec<(Severity, Item)>) -> DecisionSection {
    let mut blockers = Vec::new();
    let mut caveats = Vec::new();
    let mut not_run = Vec::new();
    for (sev, item) in items {
        match sev {
            Severity::NoGo => blockers.push(item),
            Severity::Caveat => caveats.push(item),
            Severity::NotRun => not_run.push(item),
        }
    }
    let decision = if !blockers.is_empty() {
        Decision::NoGo
    } else if !caveats.is_empty() {
        Decision::GoWithCaveats
    } else {
        Decision::Go
    };
    DecisionSection {
        decision,
        blockers,
        caveats,
        not_run,
    }
}

/// OLD's configuration as a shell block and a targets-file entry. The key appears only as the
/// name of the variable that holds it.
pub fn rollback(old: &SideConfig) -> Rollback {
    let mut env = vec![format!(
        "# rollback to OLD (`{}`): the configuration before the migration",
        old.target
    )];
    if old.auth == "built-in" {
        env.push(
            "# (the built-in reference endpoint: its port and key change with every run)".into(),
        );
    }
    env.push(format!(
        "export OPENAI_BASE_URL={}",
        sh_quote(&old.base_url)
    ));
    match (old.auth.as_str(), &old.api_key_env, &old.auth_command) {
        (_, Some(var), _) if var == "OPENAI_API_KEY" => env.push(
            "# OPENAI_API_KEY: keep OLD's key in it (its value is never printed)".into(),
        ),
        (_, Some(var), _) => env.push(format!(
            "export OPENAI_API_KEY=\"${{{var}}}\"   # OLD's key stays in {var}; its value is never printed"
        )),
        (_, None, Some(cmd)) => env.push(format!(
            "export OPENAI_API_KEY=\"$({cmd})\"   # short-lived token: re-run to refresh"
        )),
        ("built-in", ..) => env.push("# key: the built-in endpoint's per-run key (not in a variable)".into()),
        _ => env.push("# OLD takes no key".into()),
    }
    if let Some(h) = &old.auth_header {
        env.push(format!(
            "# OLD expects the key in the `{h}` header, not `Authorization`"
        ));
    }
    // Chat first: it is the one model id the OpenAI SDK conventions name.
    let mut models: Vec<(&String, &String)> = old.models.iter().collect();
    models.sort_by_key(|(r, _)| *r != "chat");
    for (role, id) in models {
        let var = if role == "chat" {
            "OPENAI_MODEL".to_string()
        } else {
            format!("OPENAI_MODEL_{}", role.to_ascii_uppercase())
        };
        env.push(format!("export {var}={}", sh_quote(id)));
    }

    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut y = vec!["targets:".to_string(), format!("  {}:", q(&old.target))];
    y.push(format!("    base_url: {}", q(&old.base_url)));
    let mut auth: Vec<String> = Vec::new();
    if let Some(v) = &old.api_key_env {
        auth.push(format!("api_key_env: {}", q(v)));
    }
    if let Some(c) = &old.auth_command {
        auth.push(format!("command: {}", q(c)));
    }
    if let Some(h) = &old.auth_header {
        auth.push(format!("header: {}", q(h)));
    }
    if !auth.is_empty() {
        y.push(format!("    auth: {{ {} }}", auth.join(", ")));
    }
    if !old.models.is_empty() {
        y.push("    models:".into());
        for (role, id) in &old.models {
            y.push(format!("      {role}: {}", q(id)));
        }
    }
    if let Some(p) = old.pricing {
        y.push(format!(
            "    pricing: {{ input_per_mtok: {}, output_per_mtok: {} }}",
            p.input_per_mtok, p.output_per_mtok
        ));
    }
    Rollback {
        target: old.target.clone(),
        base_url: old.base_url.clone(),
        api_key_env: old.api_key_env.clone(),
        models: old.models.clone(),
        env_block: env.join("\n") + "\n",
        targets_snippet: y.join("\n") + "\n",
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What only a person can check; printed unticked so nobody mistakes it for verified.
pub fn manual_checks(new: &SideConfig, areas: &[String]) -> Vec<String> {
    let key = new
        .api_key_env
        .as_ref()
        .map(|v| format!(" (`{v}`)"))
        .unwrap_or_default();
    let mut out = vec![
        format!(
            "NEW's usage log / dashboard shows this runbook's requests under the key you used{key}"
        ),
        format!("A spending limit or quota is set for NEW's key{key}"),
        "The key used for the runbook is a low-risk key (not the production key), revoked or rotated afterwards".into(),
        "NEW's rate limits (requests and tokens per minute) cover production traffic".into(),
        "The rollback block (step 7) is stored where the deploy can apply it (previous base URL, key variable, model ids)".into(),
    ];
    if areas.is_empty() {
        out.push("Features the app uses beyond the suites (files, assistants, realtime, audio output) were tried by hand".into());
    } else {
        out.push(format!(
            "Features the app uses beyond the areas checked here ({}) were tried by hand",
            areas.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: Outcome) -> CaseResult {
        CaseResult {
            reason: Some("why".into()),
            ..crate::testing::entry("t", "s", "c", "s.c", outcome)
        }
    }

    #[test]
    fn used_failures_that_break_block_and_deviations_are_caveats() {
        let pass = result(Outcome::Pass);
        let deviates = CaseResult {
            impact: Some(Impact::Deviates),
            ..result(Outcome::Fail)
        };
        let (sev, what) = classify(true, Some(&pass), &deviates).unwrap();
        assert_eq!(sev, Severity::Caveat);
        assert_eq!(what, "regression: fail (deviates) on NEW (OLD: pass): why");
        let error = CaseResult {
            impact: Some(Impact::Breaks),
            ..result(Outcome::Error)
        };
        assert_eq!(classify(true, None, &error).unwrap().0, Severity::NoGo);
        // Without a recorded impact, the default holds: a failure nothing maps deviates, an
        // error breaks.
        assert_eq!(
            classify(true, Some(&pass), &result(Outcome::Fail))
                .unwrap()
                .0,
            Severity::Caveat
        );
        assert_eq!(
            classify(true, None, &result(Outcome::Error)).unwrap().0,
            Severity::NoGo
        );
    }

    #[test]
    fn used_failures_block_and_unused_ones_are_caveats() {
        let pass = result(Outcome::Pass);
        let fail = CaseResult {
            impact: Some(Impact::Breaks),
            ..result(Outcome::Fail)
        };
        assert_eq!(
            classify(true, Some(&pass), &fail).unwrap().0,
            Severity::NoGo
        );
        assert_eq!(
            classify(false, Some(&pass), &fail).unwrap().0,
            Severity::Caveat
        );
        // Failing on both sides is still a used feature failing on NEW.
        assert_eq!(
            classify(true, Some(&fail), &fail).unwrap().0,
            Severity::NoGo
        );
        assert!(classify(true, Some(&fail), &pass).is_none());
    }

    #[test]
    fn refused_on_new_blocks_unless_old_refuses_too_and_skipped_only_as_a_regression() {
        let pass = result(Outcome::Pass);
        let unsupported = result(Outcome::Unsupported);
        let skip = result(Outcome::Skip);
        assert_eq!(
            classify(true, Some(&pass), &unsupported).unwrap().0,
            Severity::NoGo
        );
        assert_eq!(
            classify(true, Some(&unsupported), &unsupported).unwrap().0,
            Severity::Caveat
        );
        // Refused on NEW, not run on OLD: the app cannot use it on NEW.
        assert_eq!(
            classify(true, None, &unsupported).unwrap().0,
            Severity::NoGo
        );
        assert_eq!(
            classify(true, Some(&pass), &skip).unwrap().0,
            Severity::NoGo
        );
        assert_eq!(
            classify(true, Some(&skip), &skip).unwrap().0,
            Severity::NotRun
        );
        assert!(classify(false, Some(&pass), &skip).is_none());
    }

    #[test]
    fn warnings_on_a_used_pass_are_caveats() {
        let mut warned = result(Outcome::Pass);
        warned.warnings = vec!["chat.x: odd".into()];
        assert_eq!(classify(true, None, &warned).unwrap().0, Severity::Caveat);
        assert!(classify(false, None, &warned).is_none());
    }

    #[test]
    fn decision_follows_the_worst_item() {
        let item = |section: &str| Item {
            section: section.into(),
            feature: None,
            case: None,
            what: String::new(),
            workaround: None,
        };
        assert_eq!(decide(vec![]).decision, Decision::Go);
        assert_eq!(
            decide(vec![(Severity::NotRun, item("a"))]).decision,
            Decision::Go
        );
        assert_eq!(
            decide(vec![(Severity::Caveat, item("a"))]).decision,
            Decision::GoWithCaveats
        );
        let v = decide(vec![
            (Severity::Caveat, item("a")),
            (Severity::NoGo, item("b")),
        ]);
        assert_eq!(v.decision, Decision::NoGo);
        assert_eq!((v.blockers.len(), v.caveats.len()), (1, 1));
    }

    fn side(auth: &str, env: Option<&str>) -> SideConfig {
        SideConfig {
            target: "openai".into(),
            base_url: "https://api.openai.com/v1".into(),
            auth: auth.into(),
            api_key_env: env.map(str::to_string),
            auth_header: None,
            auth_command: None,
            models: [
                ("embedding", "text-embedding-3-small"),
                ("chat", "gpt-4o-mini"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            pricing: None,
        }
    }

    #[test]
    fn rollback_names_the_key_variable_never_a_value() {
        let r = rollback(&side("env", Some("OLD_OPENAI_KEY")));
        assert_eq!(
            r.env_block,
            "# rollback to OLD (`openai`): the configuration before the migration\n\
             export OPENAI_BASE_URL='https://api.openai.com/v1'\n\
             export OPENAI_API_KEY=\"${OLD_OPENAI_KEY}\"   # OLD's key stays in OLD_OPENAI_KEY; its value is never printed\n\
             export OPENAI_MODEL='gpt-4o-mini'\n\
             export OPENAI_MODEL_EMBEDDING='text-embedding-3-small'\n"
        );
        assert_eq!(
            r.targets_snippet,
            "targets:\n  \"openai\":\n    base_url: \"https://api.openai.com/v1\"\n    auth: { api_key_env: \"OLD_OPENAI_KEY\" }\n    models:\n      chat: \"gpt-4o-mini\"\n      embedding: \"text-embedding-3-small\"\n"
        );
        let same = rollback(&side("env", Some("OPENAI_API_KEY")));
        assert!(same.env_block.contains("# OPENAI_API_KEY: keep OLD's key"));
        let none = rollback(&side("none", None));
        assert!(none.env_block.contains("# OLD takes no key"));
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
    }
}
