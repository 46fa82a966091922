//! `report.md`: the matrix and the failures, for PR comments and CI step summaries.

use std::fmt::Write as _;

use super::model::{RunReport, area_of};
use crate::judge::Outcome;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# llm-parity report\n");
    let _ = writeln!(
        s,
        "{} case result(s) on {} target(s): {} pass, {} fail, {} error, {} unsupported, {} skip{}\n",
        r.results.len(),
        r.targets.len(),
        r.count(Outcome::Pass),
        r.count(Outcome::Fail),
        r.count(Outcome::Error),
        r.count(Outcome::Unsupported),
        r.count(Outcome::Skip),
        if r.partial {
            " — **partial run (interrupted)**"
        } else {
            ""
        }
    );
    let names = r.target_names();
    let _ = writeln!(
        s,
        "| feature | {} |",
        names
            .iter()
            .map(|n| md_escape(n))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(s, "|---|{}", "---|".repeat(names.len()));
    let mut area = "";
    for row in &r.features {
        let a = area_of(&row.feature);
        if a != area {
            area = a;
            let _ = writeln!(s, "| **{}** |{}", md_escape(a), " |".repeat(names.len()));
        }
        let cells: Vec<String> = names
            .iter()
            .map(|t| {
                row.outcomes
                    .get(*t)
                    .map(|o| format!("{} {o}", o.symbol()))
                    .unwrap_or_default()
            })
            .collect();
        let _ = writeln!(s, "| `{}` | {} |", row.feature, cells.join(" | "));
    }
    let failures: Vec<_> = r
        .results
        .iter()
        .filter(|x| x.outcome != Outcome::Pass && x.outcome != Outcome::Skip)
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\n## Not passing\n");
        for f in failures {
            let _ = writeln!(
                s,
                "- {} **{}** `{}/{}` on `{}`: {}",
                f.outcome.symbol(),
                f.outcome,
                f.suite,
                f.case,
                md_escape(&f.target),
                md_escape(f.reason.as_deref().unwrap_or(""))
            );
            if let Some(n) = &f.notes {
                let _ = writeln!(s, "  - note: {}", md_escape(n));
            }
        }
    }
    let warned: Vec<_> = r
        .results
        .iter()
        .filter(|x| !x.warnings.is_empty())
        .collect();
    if !warned.is_empty() {
        let _ = writeln!(s, "\n## Warnings\n");
        for w in warned {
            for msg in &w.warnings {
                let _ = writeln!(
                    s,
                    "- `{}/{}` on `{}`: {}",
                    w.suite,
                    w.case,
                    md_escape(&w.target),
                    md_escape(msg)
                );
            }
        }
    }
    s
}

/// Endpoint text in a table cell must not break the table or inject markup.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '`' => out.push('\''),
            _ => out.push(c),
        }
    }
    out
}
