//! The terminal summary: one line per section, the blockers and caveats, the rollback block and the
//! unticked manual checks. Endpoint text is kept to one line without control characters.

use std::fmt::Write as _;

use super::markdown::step_list;
use super::model::*;
use crate::report::escape::one_line;

pub fn render(rb: &Runbook) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "runbook: {} → {}  (uses: {})",
        one_line(&rb.from.target),
        one_line(&rb.to.target),
        one_line(&rb.uses)
    );
    for (n, title, v) in step_list(rb) {
        let _ = writeln!(s, "  {n}. {:<32} {v}", one_line(&title));
    }
    s.push('\n');
    let v = &rb.decision;
    let _ = writeln!(
        s,
        "verdict: {} (exit {})",
        v.decision.label(),
        v.decision.exit_code()
    );
    if !v.blockers.is_empty() {
        let _ = writeln!(
            s,
            "  blocked by: {}",
            one_line(&v.blocking_steps().join(", "))
        );
    }
    for (title, list, note) in [
        ("blocking", &v.blockers, "notes"),
        ("caveat", &v.caveats, "workaround"),
    ] {
        for i in list {
            let what = i.feature.as_deref().unwrap_or(&i.section);
            let _ = writeln!(s, "  {title}: {}: {}", one_line(what), one_line(&i.what));
            if let Some(w) = &i.workaround {
                let _ = writeln!(s, "    {note}: {}", one_line(w));
            }
        }
    }
    let _ = writeln!(s, "\nrollback (OLD {}):", one_line(&rb.rollback.target));
    for l in rb.rollback.env_block.lines() {
        let _ = writeln!(s, "  {}", one_line(l));
    }
    let _ = writeln!(s, "\nmanual checks (not verified by llm-parity):");
    for m in &rb.manual_checks {
        let _ = writeln!(s, "  [ ] {}", one_line(m));
    }
    s
}
