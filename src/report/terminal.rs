//! The terminal summary: the parity matrix (tabled) and every non-pass with its reason.

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::model::{RunReport, area_of};
use crate::judge::Outcome;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let names = r.target_names();
    let mut b = Builder::default();
    let mut header = vec!["feature".to_string()];
    header.extend(names.iter().map(|n| n.to_string()));
    b.push_record(header);
    let mut area = "";
    for row in &r.features {
        let a = area_of(&row.feature);
        if a != area {
            area = a;
            let mut rec = vec![format!("{a}:")];
            rec.extend(names.iter().map(|_| String::new()));
            b.push_record(rec);
        }
        let mut rec = vec![format!("  {}", row.feature)];
        rec.extend(names.iter().map(|t| {
            row.outcomes
                .get(*t)
                .map(|o| format!("{} {o}", o.symbol()))
                .unwrap_or_default()
        }));
        b.push_record(rec);
    }
    let mut table = b.build();
    table.with(Style::sharp());
    let _ = writeln!(s, "{table}");

    let not_pass: Vec<_> = r
        .results
        .iter()
        .filter(|x| !matches!(x.outcome, Outcome::Pass | Outcome::Skip))
        .collect();
    if !not_pass.is_empty() {
        let _ = writeln!(s, "\nnot passing:");
        for f in not_pass {
            let _ = writeln!(
                s,
                "  {} {:<11} {} {}/{}: {}",
                f.outcome.symbol(),
                f.outcome.as_str(),
                f.target,
                f.suite,
                f.case,
                one_line(f.reason.as_deref().unwrap_or(""))
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{} pass, {} fail, {} error, {} unsupported, {} skip{}",
        r.count(Outcome::Pass),
        r.count(Outcome::Fail),
        r.count(Outcome::Error),
        r.count(Outcome::Unsupported),
        r.count(Outcome::Skip),
        if r.partial {
            " (partial: run interrupted)"
        } else {
            ""
        }
    );
    s
}

/// Endpoint text printed to a terminal: one line, no control characters (no escape sequences).
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
