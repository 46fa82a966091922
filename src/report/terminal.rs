//! The terminal summary: the parity matrix (tabled), then where targets differ, latency, and
//! every non-pass with its reason.

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::escape::one_line;
use super::impact;
use super::model::{FeatureRow, RunReport};
use crate::judge::Outcome;
use crate::load::feature::area_of;

/// Matrices wider than this are abbreviated unless `--wide`.
const WIDTH: usize = 80;

pub fn render(r: &RunReport, wide: bool) -> String {
    let mut s = String::new();
    if let Some(b) = &r.baseline {
        s.push_str(&super::baseline::terminal(b));
    }
    let full = matrix(r, false);
    let table = if wide || max_line_width(&full) <= WIDTH {
        full
    } else {
        matrix(r, true)
    };
    let _ = writeln!(s, "{table}");
    if !wide && table.contains("legend:") {
        let _ = writeln!(
            s,
            "(abbreviated to fit {WIDTH} columns; --wide for the full matrix)"
        );
    }

    if !r.differences.is_empty() {
        let _ = writeln!(s, "\ndifferences between targets:");
        for d in &r.differences {
            let cells: Vec<String> = d
                .outcomes
                .iter()
                .map(|(t, o)| format!("{t} {} {o}", o.symbol()))
                .collect();
            let _ = writeln!(
                s,
                "  {} ({}/{}): {}{}",
                d.feature,
                d.suite,
                d.case,
                cells.join(", "),
                if d.same_outcome() {
                    "; the responses differ in shape"
                } else {
                    ""
                }
            );
            for (t, reason) in &d.reasons {
                let _ = writeln!(s, "    {t}: {}", one_line(reason));
            }
            for sd in &d.shape_diffs {
                let _ = writeln!(
                    s,
                    "    shape of the {} ({} vs {}):",
                    sd.subject, sd.pass, sd.other
                );
                for line in sd.diff.lines().skip(2).take(40) {
                    let _ = writeln!(s, "      {}", one_line(line));
                }
            }
        }
    }

    if r.targets.len() > 1 || r.results.summaries().any(|x| x.repeated) {
        let lat = latency_table(r);
        if !lat.is_empty() {
            let _ = writeln!(s, "\nlatency (ms, all areas):\n{lat}");
        }
    }
    for h in &r.hops {
        let _ = writeln!(
            s,
            "router hop {} → {}: {} {:+.1} ms p50, {:+.1} ms p95 ({} / {} samples)",
            h.router,
            h.upstream,
            h.metric,
            h.p50_delta_ms,
            h.p95_delta_ms,
            h.samples_router,
            h.samples_upstream
        );
    }

    let not_pass: Vec<_> = r
        .results
        .iter_where(|x| !matches!(x.outcome, Outcome::Pass | Outcome::Skip))
        .collect();
    if !not_pass.is_empty() {
        let _ = writeln!(s, "\nnot passing:");
        for f in not_pass {
            let mark = f.mark();
            let _ = writeln!(
                s,
                "  {} {:<11} {} {}/{}: {}",
                mark.symbol(),
                mark.label(),
                f.target,
                f.suite,
                f.case,
                one_line(f.reason.as_deref().unwrap_or(""))
            );
            if let Some(n) = impact::note(&f) {
                let _ = writeln!(s, "      {}", one_line(&n));
            }
        }
    }
    let flaky = r.count_flaky();
    let _ = writeln!(
        s,
        "\n{} pass, {} fail{}, {} error, {} unsupported, {} skip{}{}",
        r.count(Outcome::Pass),
        r.count(Outcome::Fail),
        impact::fail_counts(r)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        r.count(Outcome::Error),
        r.count(Outcome::Unsupported),
        r.count(Outcome::Skip),
        if flaky > 0 {
            format!(", {flaky} flaky")
        } else {
            String::new()
        },
        if r.partial {
            " (partial: run interrupted)"
        } else {
            ""
        }
    );
    s
}

fn max_line_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The matrix; `compact` uses symbols only and numbered target columns with a legend.
fn matrix(r: &RunReport, compact: bool) -> String {
    let names = r.target_names();
    let mut b = Builder::default();
    let mut header = vec!["feature".to_string()];
    header.extend(names.iter().enumerate().map(|(i, n)| {
        if compact {
            format!("T{}", i + 1)
        } else {
            n.to_string()
        }
    }));
    b.push_record(header);
    let mut area = "";
    for row in &r.features {
        let a = area_of(&row.feature);
        if a != area {
            area = a;
            let rows: Vec<&FeatureRow> = r
                .features
                .iter()
                .filter(|f| area_of(&f.feature) == a)
                .collect();
            let mut rec = vec![a.to_string()];
            rec.extend(names.iter().map(|t| area_summary(&rows, t, compact)));
            b.push_record(rec);
        }
        let feature = if compact {
            abbreviate(&row.feature, 34)
        } else {
            row.feature.clone()
        };
        let mut rec = vec![format!("  {feature}")];
        rec.extend(names.iter().map(|t| {
            row.mark(t)
                .map(|m| {
                    if compact {
                        m.symbol().to_string()
                    } else {
                        m.text()
                    }
                })
                .unwrap_or_default()
        }));
        b.push_record(rec);
    }
    let mut table = b.build();
    table.with(Style::sharp());
    let mut out = table.to_string();
    if compact {
        out.push_str("\nlegend: ");
        let legend: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("T{} = {n}", i + 1))
            .collect();
        out.push_str(&legend.join(", "));
        out.push_str("; ✓ pass ✗ breaks a client ≠ deviates – unsupported ! error · skip");
    }
    out
}

/// `9/11 ✓` — features passing out of those that ran (skips excluded).
fn area_summary(rows: &[&FeatureRow], target: &str, compact: bool) -> String {
    let outcomes: Vec<Outcome> = rows
        .iter()
        .filter_map(|r| r.outcomes.get(target).copied())
        .collect();
    let ran: Vec<&Outcome> = outcomes.iter().filter(|o| **o != Outcome::Skip).collect();
    if ran.is_empty() {
        return if outcomes.is_empty() {
            String::new()
        } else {
            "·".into()
        };
    }
    let pass = ran.iter().filter(|o| ***o == Outcome::Pass).count();
    if compact {
        format!("{pass}/{}", ran.len())
    } else {
        format!("{pass}/{} ✓", ran.len())
    }
}

fn abbreviate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

fn latency_table(r: &RunReport) -> String {
    let mut b = Builder::default();
    b.push_record(["target", "metric", "n", "p50", "p95", "max"].map(String::from));
    let mut any = false;
    for t in r.target_names() {
        for metric in ["headers", "ttft", "total"] {
            if let Some(l) = r
                .latency
                .iter()
                .find(|l| l.target == t && l.area == "all" && l.metric == metric)
            {
                any = true;
                b.push_record([
                    abbreviate(t, 24),
                    metric.to_string(),
                    l.count.to_string(),
                    format!("{:.1}", l.p50_ms),
                    format!("{:.1}", l.p95_ms),
                    format!("{:.1}", l.max_ms),
                ]);
            }
        }
    }
    if !any {
        return String::new();
    }
    let mut table = b.build();
    table.with(Style::sharp());
    table.to_string()
}
