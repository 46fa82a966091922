//! Step 7: the decision, the rollback configuration and the manual checklist.
//!
//! A NEW result decides the verdict only for what the app uses (`--uses`, plus the plain chat
//! call and its usage): a used feature that fails or errors on NEW, or that passed on OLD and is
//! refused or not run on NEW, is a blocker. Deviations outside the used features, and warnings
//! on used ones, are caveats listed with the case's notes as workaround.

use super::model::*;
use crate::judge::Outcome;
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
        .unwrap_or_default();
    match new.outcome {
        Outcome::Pass if gates && !new.warnings.is_empty() => Some((
            Severity::Caveat,
            format!("passes on NEW with warnings: {}", new.warnings.join("; ")),
        )),
        Outcome::Pass => None,
        Outcome::Fail | Outcome::Error => {
            let sev = if gates {
                Severity::NoGo
            } else {
                Severity::Caveat
            };
            let regress = if old_outcome == Some(Outcome::Pass) {
                "regression: "
            } else {
                ""
            };
            Some((
                sev,
                format!("{regress}{} on NEW ({old_text}){reason}", new.outcome),
            ))
        }
        Outcome::Unsupported => {
            if gates && old_outcome == Some(Outcome::Pass) {
                Some((
                    Severity::NoGo,
                    format!("regression: unsupported on NEW, passes on OLD{reason}"),
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

pub fn decide(items: Vec<(Severity, Item)>) -> VerdictStep {
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
    VerdictStep {
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
