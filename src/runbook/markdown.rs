//! `runbook.md`: the seven sections (its "steps"), each with its status (its "verdict"), then
//! the rollback block and the manual checklist. A pure function of the (redacted) runbook model.

use std::fmt::Write as _;

use serde_json::Value;

use super::model::*;
use crate::judge::Outcome;
use crate::report::escape::{md_code, md_escape};

pub fn render(rb: &Runbook) -> String {
    let mut s = String::new();
    let (old, new) = (&rb.from.target, &rb.to.target);
    let _ = writeln!(
        s,
        "# Migration runbook: `{}` → `{}`\n",
        md_code(old),
        md_code(new)
    );
    let _ = writeln!(
        s,
        "**Verdict: {}** (exit {}) — uses: {}{}\n",
        rb.decision.decision.label(),
        rb.decision.decision.exit_code(),
        text(&rb.uses),
        if rb.partial {
            " — **partial run (interrupted)**"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "| step | verdict |\n|---|---|");
    for (n, title, v) in step_list(rb) {
        let _ = writeln!(s, "| {n}. {} | {v} |", md_escape(&title));
    }
    s.push('\n');

    configuration(&mut s, rb);
    chat(&mut s, rb);
    usage(&mut s, rb);
    bad_model(&mut s, rb);
    areas(&mut s, rb);
    latency(&mut s, rb);
    decision(&mut s, rb);
    s
}

/// (number, title, status) of every section, areas numbered 5.
pub fn step_list(rb: &Runbook) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = vec![
        (
            "1".into(),
            "Configuration".into(),
            rb.configuration.status.label().into(),
        ),
        (
            "2".into(),
            "Plain chat and message shape".into(),
            rb.chat.status.label().into(),
        ),
        (
            "3".into(),
            "Usage and cost".into(),
            rb.usage.status.label().into(),
        ),
        (
            "4".into(),
            "Bad-model error shape".into(),
            rb.bad_model.status.label().into(),
        ),
    ];
    for a in &rb.areas {
        v.push((
            "5".into(),
            format!("Area {}", a.area),
            a.status.label().into(),
        ));
    }
    v.push((
        "6".into(),
        "Latency".into(),
        rb.latency.status.label().into(),
    ));
    v.push((
        "7".into(),
        "Verdict".into(),
        rb.decision.decision.label().into(),
    ));
    v
}

fn heading(s: &mut String, title: &str, v: SectionStatus) {
    let _ = writeln!(s, "## {title} — {}\n", v.label());
}

fn configuration(s: &mut String, rb: &Runbook) {
    let c = &rb.configuration;
    heading(s, "1. Configuration", c.status);
    let _ = writeln!(
        s,
        "| | OLD `{}` | NEW `{}` |\n|---|---|---|",
        md_code(&rb.from.target),
        md_code(&rb.to.target)
    );
    let _ = writeln!(
        s,
        "| base URL | {} | {} |",
        md_escape(&rb.from.base_url),
        md_escape(&rb.to.base_url)
    );
    let _ = writeln!(s, "| key | {} | {} |", key(&rb.from), key(&rb.to));
    for r in &c.roles {
        let _ = writeln!(
            s,
            "| model `{}` | {} | {} |",
            md_code(&r.role),
            opt_code(r.old.as_deref()),
            opt_code(r.new.as_deref())
        );
    }
    s.push('\n');
    if c.new_catalogue.is_empty() {
        s.push_str("NEW's `GET /models` listed no ids.\n\n");
    } else {
        let _ = writeln!(
            s,
            "NEW's `GET /models` lists {} id(s).\n",
            c.new_catalogue.len()
        );
    }
    list(s, "Warnings", &c.warnings);
}

fn key(side: &SideConfig) -> String {
    match side.auth.as_str() {
        "env" => format!(
            "`{}` (set; value not shown){}",
            md_code(side.api_key_env.as_deref().unwrap_or("")),
            side.auth_header
                .as_ref()
                .map(|h| format!(", header `{}`", md_code(h)))
                .unwrap_or_default()
        ),
        "command" => "token command (value not shown)".into(),
        "built-in" => "built-in per-run key (value not shown)".into(),
        _ => "none".into(),
    }
}

fn opt_code(v: Option<&str>) -> String {
    v.map(|x| format!("`{}`", md_code(x)))
        .unwrap_or_else(|| "—".into())
}

fn brief(b: Option<&CaseBrief>) -> String {
    match b {
        None => "not run".into(),
        Some(b) => format!(
            "{} {}{}{}",
            b.outcome.symbol(),
            b.outcome,
            b.http_status
                .map(|st| format!(" (HTTP {st})"))
                .unwrap_or_default(),
            b.reason
                .as_ref()
                .map(|r| format!(": {}", md_escape(r)))
                .unwrap_or_default()
        ),
    }
}

fn chat(s: &mut String, rb: &Runbook) {
    let c = &rb.chat;
    heading(s, "2. Plain chat and message shape", c.status);
    let _ = writeln!(
        s,
        "`chat/basic` — OLD: {} · NEW: {}\n",
        brief(c.old.as_ref()),
        brief(c.new.as_ref())
    );
    let _ = writeln!(s, "| path the app reads | OLD | NEW | |\n|---|---|---|---|");
    for p in &c.shape {
        let mark = if p.old == p.new { "✓" } else { "≠" };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {mark} |",
            md_code(&p.path),
            p.old,
            p.new
        );
    }
    s.push('\n');
    if c.differences.is_empty() {
        s.push_str("Message-shape parity: no differences.\n\n");
    } else {
        list(s, "Differences", &c.differences);
    }
}

fn usage(s: &mut String, rb: &Runbook) {
    let u = &rb.usage;
    heading(s, "3. Usage and cost", u.status);
    let _ = writeln!(
        s,
        "`chat/usage` — OLD: {} · NEW: {}\n",
        brief(u.old_case.as_ref()),
        brief(u.new_case.as_ref())
    );
    let _ = writeln!(
        s,
        "| over the runbook's requests | OLD | NEW |\n|---|---|---|"
    );
    let _ = writeln!(
        s,
        "| responses with `usage` | {}/{} | {}/{} |",
        u.old.with_usage, u.old.responses, u.new.with_usage, u.new.responses
    );
    let _ = writeln!(
        s,
        "| prompt tokens | {} | {} |",
        u.old.prompt_tokens, u.new.prompt_tokens
    );
    let _ = writeln!(
        s,
        "| completion tokens | {} | {} |",
        u.old.completion_tokens, u.new.completion_tokens
    );
    let cost = |c: Option<f64>| {
        c.map(|c| format!("{c:.8}"))
            .unwrap_or_else(|| "— (no pricing)".into())
    };
    let _ = writeln!(
        s,
        "| estimated cost | {} | {} |\n",
        cost(u.old.estimated_cost),
        cost(u.new.estimated_cost)
    );
    if let Some(r) = u.cost_ratio {
        let _ = writeln!(s, "NEW costs {r:.3}× OLD for the same requests.\n");
    }
    list(s, "Notes", &u.notes);
}

fn bad_model(s: &mut String, rb: &Runbook) {
    let b = &rb.bad_model;
    heading(s, "4. Bad-model error shape", b.status);
    let row = |e: Option<&ErrorShape>, f: &dyn Fn(&ErrorShape) -> String| {
        e.map(f).unwrap_or_else(|| "not run".into())
    };
    let (o, n) = (b.old.as_ref(), b.new.as_ref());
    let _ = writeln!(s, "| | OLD | NEW |\n|---|---|---|");
    let status = |e: &ErrorShape| {
        e.status
            .map(|x| x.to_string())
            .unwrap_or_else(|| "no response".into())
    };
    let _ = writeln!(
        s,
        "| HTTP status | {} | {} |",
        row(o, &status),
        row(n, &status)
    );
    let readable = |e: &ErrorShape| {
        if e.sdk_message_readable {
            "yes".to_string()
        } else {
            "no".to_string()
        }
    };
    let _ = writeln!(
        s,
        "| object with `error.message` | {} | {} |",
        row(o, &readable),
        row(n, &readable)
    );
    let sdk = |e: &ErrorShape| md_escape(&e.sdk_view);
    let _ = writeln!(
        s,
        "| OpenAI SDK raises | {} | {} |",
        row(o, &sdk),
        row(n, &sdk)
    );
    let outcome = |e: &ErrorShape| {
        format!(
            "{} {}{}",
            e.outcome.symbol(),
            e.outcome,
            e.reason
                .as_ref()
                .map(|r| format!(": {}", md_escape(r)))
                .unwrap_or_default()
        )
    };
    let _ = writeln!(
        s,
        "| `errors/bad-model` | {} | {} |\n",
        row(o, &outcome),
        row(n, &outcome)
    );
    for (label, e) in [("OLD", o), ("NEW", n)] {
        if let Some(body) = e.and_then(|e| e.body.as_ref()) {
            let _ = writeln!(
                s,
                "{label} body (verbatim, redacted):\n\n```json\n{}\n```\n",
                fence(&pretty(body))
            );
        }
    }
}

fn pretty(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn areas(s: &mut String, rb: &Runbook) {
    if rb.areas.is_empty() {
        s.push_str("## 5. Areas used — none beyond the core steps\n\n");
        return;
    }
    let _ = writeln!(s, "## 5. Areas used\n");
    for a in &rb.areas {
        let _ = writeln!(s, "### `{}` — {}\n", md_code(&a.area), a.status.label());
        let _ = writeln!(s, "| feature | OLD | NEW |\n|---|---|---|");
        for f in &a.features {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} |",
                md_code(&f.feature),
                cell(f.old),
                cell(f.new)
            );
        }
        s.push('\n');
        for d in &a.differences {
            for sd in &d.shape_diffs {
                let _ = writeln!(
                    s,
                    "`{}/{}` — {} shape, `{}` (passes) vs `{}`:\n\n```diff\n{}\n```\n",
                    md_code(&d.suite),
                    md_code(&d.case),
                    md_escape(&sd.subject),
                    md_code(&sd.pass),
                    md_code(&sd.other),
                    fence(sd.diff.trim_end())
                );
            }
        }
    }
}

fn cell(o: Option<Outcome>) -> String {
    o.map(|o| format!("{} {o}", o.symbol()))
        .unwrap_or_else(|| "not run".into())
}

fn latency(s: &mut String, rb: &Runbook) {
    heading(s, "6. Latency", rb.latency.status);
    let _ = writeln!(s, "| p50 | OLD | NEW | NEW − OLD |\n|---|---|---|---|");
    let ms = |v: Option<f64>| {
        v.map(|x| format!("{x:.1} ms"))
            .unwrap_or_else(|| "—".into())
    };
    for m in &rb.latency.metrics {
        let name = if m.metric == "ttft" {
            "time to first token (streams)"
        } else {
            "total"
        };
        let delta = m
            .delta_ms
            .map(|d| format!("{d:+.1} ms"))
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {delta} |",
            ms(m.old_p50_ms),
            ms(m.new_p50_ms)
        );
    }
    s.push('\n');
}

fn decision(s: &mut String, rb: &Runbook) {
    let v = &rb.decision;
    let _ = writeln!(s, "## 7. Verdict — {}\n", v.decision.label());
    let explain = match v.decision {
        Decision::Go => "Every used feature passes on NEW.",
        Decision::GoWithCaveats => {
            "Every used feature passes on NEW; the deviations below are in features the app does not depend on (or are warnings)."
        }
        Decision::NoGo => "A used feature fails on NEW or regresses against OLD.",
    };
    let _ = writeln!(s, "{explain}\n");
    if !v.blockers.is_empty() {
        let _ = writeln!(s, "Blocked by: {}\n", text(&v.blocking_steps().join(", ")));
    }
    items(s, "Blocking", &v.blockers, "notes");
    items(s, "Caveats", &v.caveats, "workaround");
    items(
        s,
        "Not run (skipped on NEW; opt-in or no model)",
        &v.not_run,
        "notes",
    );

    let r = &rb.rollback;
    let _ = writeln!(
        s,
        "### Rollback configuration (OLD `{}`)\n\n```bash\n{}```\n\n```yaml\n{}```\n",
        md_escape(&r.target),
        fence(&r.env_block),
        fence(&r.targets_snippet)
    );
    let _ = writeln!(s, "## Manual checks (not verified by llm-parity)\n");
    for m in &rb.manual_checks {
        let _ = writeln!(s, "- [ ] {}", text(m));
    }
}

fn items(s: &mut String, title: &str, items: &[Item], note_label: &str) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(s, "**{title}:**\n");
    for i in items {
        let what = match (&i.feature, &i.case) {
            (Some(f), Some(c)) => format!("**{}** (`{}`, step {})", text(f), text(c), i.section),
            _ => format!("**{}**", text(&i.section)),
        };
        let _ = writeln!(s, "- {what}: {}", text(&i.what));
        if let Some(w) = &i.workaround {
            let _ = writeln!(s, "  - {note_label}: {}", text(w));
        }
    }
    s.push('\n');
}

fn list(s: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(s, "{title}:\n");
    for l in lines {
        let _ = writeln!(s, "- {}", text(l));
    }
    s.push('\n');
}

/// Endpoint text in running prose: one line, no markup injection.
fn text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' => ' '.to_string(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// Text inside a fenced block must not close the fence.
fn fence(s: &str) -> String {
    s.replace("```", "ʼʼʼ")
}
