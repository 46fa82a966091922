//! The baseline comparison as each report format shows it — first, before the matrix. Endpoint
//! text (reasons) and baseline notes go through each format's escaping.

use std::fmt::Write as _;

use super::escape::{esc, md_code, md_escape, one_line};
use super::model::{BaselineSection, CellChange, NewFailure};
use crate::judge::Mark;

/// The gate's decision as the section words it.
fn decision(b: &BaselineSection) -> &'static str {
    if b.passed { "passed" } else { "FAILED" }
}

/// `(heading, cells)` in the order they matter.
fn groups(b: &BaselineSection) -> [(&'static str, &'static str, &[CellChange]); 4] {
    [
        ("regression", "Regressions", &b.regressions),
        ("expired", "Expired accepted deviations", &b.expired),
        ("improved", "Improvements", &b.improvements),
        ("known", "Known deviations (accepted)", &b.known),
    ]
}

/// The cell now, a failure by its impact (`✗ breaks`, `≠ deviates`).
fn now(c: &CellChange) -> Mark {
    Mark::new(c.now, c.impact)
}

fn accepted(c: &CellChange) -> String {
    let mut parts = Vec::new();
    if let Some(n) = &c.note {
        parts.push(format!("note: {n}"));
    }
    if let Some(e) = &c.expires {
        parts.push(format!("expires {e}"));
    }
    parts.join("; ")
}

fn detail(c: &CellChange) -> String {
    match (c.cases.first(), &c.reason) {
        (Some(case), Some(r)) => format!("{case}: {r}"),
        (Some(case), None) => case.clone(),
        _ => String::new(),
    }
}

pub fn terminal(b: &BaselineSection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "against baseline {} (--fail-on {}): {} — {}",
        one_line(&b.source),
        b.fail_on.as_str(),
        decision(b),
        b.summary()
    );
    let label = |k: &str| match k {
        "regression" => "REGRESSION",
        "expired" => "EXPIRED",
        "improved" => "IMPROVED",
        _ => "KNOWN",
    };
    for (kind, _, cells) in groups(b) {
        // The new failures sit after the expired entries: what fails first, then what is news.
        if kind == "improved" {
            for n in &b.new_failures {
                let _ = writeln!(s, "  {:<10}  {}", "NEW", one_line(&new_line(n)));
            }
        }
        for c in cells {
            let mut line = format!(
                "{} on {}: {} {} → {} {}",
                c.feature,
                c.target,
                c.baseline.symbol(),
                c.baseline,
                now(c).symbol(),
                now(c).label()
            );
            let d = detail(c);
            // Known deviations are listed briefly: their reasons are in the failures below.
            if !d.is_empty() && kind != "improved" && kind != "known" {
                let _ = write!(line, " ({d})");
            }
            let a = accepted(c);
            if !a.is_empty() {
                let _ = write!(line, " [{a}]");
            }
            let _ = writeln!(s, "  {:<10}  {}", label(kind), one_line(&line));
        }
    }
    s.push('\n');
    s
}

fn new_line(n: &NewFailure) -> String {
    format!(
        "{} on {} ({}/{}): {} {}{}",
        n.feature,
        n.target,
        n.suite,
        n.case,
        Mark::new(n.outcome, n.impact).symbol(),
        Mark::new(n.outcome, n.impact).label(),
        n.reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    )
}

pub fn markdown(b: &BaselineSection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Against the baseline\n");
    let _ = writeln!(
        s,
        "**Gate {}** (`--fail-on {}`, baseline `{}`): {}\n",
        decision(b).to_lowercase(),
        b.fail_on.as_str(),
        md_code(&b.source),
        b.summary()
    );
    for (kind, heading, cells) in groups(b) {
        if kind == "improved" && !b.new_failures.is_empty() {
            let _ = writeln!(s, "### New failing cases\n");
            for n in &b.new_failures {
                let _ = writeln!(
                    s,
                    "- `{}` on `{}` ({}/{}): {} {}{}",
                    n.feature,
                    md_code(&n.target),
                    md_escape(&n.suite),
                    md_escape(&n.case),
                    Mark::new(n.outcome, n.impact).symbol(),
                    Mark::new(n.outcome, n.impact).label(),
                    n.reason
                        .as_deref()
                        .map(|r| format!(" — {}", md_escape(r)))
                        .unwrap_or_default()
                );
            }
            s.push('\n');
        }
        if cells.is_empty() {
            continue;
        }
        // Known deviations fold away: a PR comment leads with what changed.
        if kind == "known" {
            let _ = writeln!(
                s,
                "<details><summary>{} known deviation(s) (accepted)</summary>\n",
                cells.len()
            );
        } else {
            let _ = writeln!(s, "### {heading}\n");
        }
        for c in cells {
            let d = detail(c);
            let a = accepted(c);
            let _ = writeln!(
                s,
                "- `{}` on `{}`: {} {} → {} {}{}{}",
                c.feature,
                md_code(&c.target),
                c.baseline.symbol(),
                c.baseline,
                now(c).symbol(),
                now(c).label(),
                if d.is_empty() || kind == "improved" {
                    String::new()
                } else {
                    format!(" — {}", md_escape(&d))
                },
                if a.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", md_escape(&a))
                }
            );
        }
        if kind == "known" {
            s.push_str("\n</details>\n");
        }
        s.push('\n');
    }
    s
}

pub fn html(b: &BaselineSection) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<section id=\"baseline\"><h2>Against the baseline</h2><p class=\"{}\"><strong>gate {}</strong> (--fail-on {}, baseline <code>{}</code>): {}</p>",
        if b.passed { "o-pass" } else { "o-fail" },
        decision(b).to_lowercase(),
        b.fail_on.as_str(),
        esc(&b.source),
        esc(&b.summary())
    );
    for (kind, heading, cells) in groups(b) {
        if kind == "improved" && !b.new_failures.is_empty() {
            let _ = writeln!(h, "<h3>New failing cases</h3><ul class=\"baseline new\">");
            for n in &b.new_failures {
                let _ = writeln!(
                    h,
                    "<li><code>{}</code> on <code>{}</code> ({}/{}): <span class=\"o-{}\">{} {}</span>{}</li>",
                    esc(&n.feature),
                    esc(&n.target),
                    esc(&n.suite),
                    esc(&n.case),
                    n.outcome.as_str(),
                    Mark::new(n.outcome, n.impact).symbol(),
                    Mark::new(n.outcome, n.impact).label(),
                    n.reason
                        .as_deref()
                        .map(|r| format!(" <span class=\"reason\">{}</span>", esc(r)))
                        .unwrap_or_default()
                );
            }
            let _ = writeln!(h, "</ul>");
        }
        if cells.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h3>{heading}</h3><ul class=\"baseline {kind}\">");
        for c in cells {
            let d = detail(c);
            let a = accepted(c);
            let _ = writeln!(
                h,
                "<li><code>{}</code> on <code>{}</code>: <span class=\"o-{}\">{} {}</span> → <span class=\"o-{}\">{} {}</span>{}{}</li>",
                esc(&c.feature),
                esc(&c.target),
                c.baseline.as_str(),
                c.baseline.symbol(),
                c.baseline,
                c.now.as_str(),
                now(c).symbol(),
                now(c).label(),
                if d.is_empty() || kind == "improved" {
                    String::new()
                } else {
                    format!(" <span class=\"reason\">{}</span>", esc(&d))
                },
                if a.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=\"note\">{}</span>", esc(&a))
                }
            );
        }
        let _ = writeln!(h, "</ul>");
    }
    let _ = writeln!(h, "</section>");
    h
}

impl BaselineSection {
    /// One line for the terminal and logs: what changed, counted.
    pub fn summary(&self) -> String {
        format!(
            "{} regression(s), {} expired, {} new failure(s), {} improvement(s), {} known deviation(s)",
            self.regressions.len(),
            self.expired.len(),
            self.new_failures.len(),
            self.improvements.len(),
            self.known.len()
        )
    }
}
