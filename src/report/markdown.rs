//! `report.md`: the matrix and the failures, for PR comments and CI step summaries.

use std::fmt::Write as _;

use super::entry::Brief;
use super::escape::{md_code, md_escape};
use super::impact;
use super::model::{RunReport, Summary};
use crate::judge::Outcome;
use crate::load::feature::area_of;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# llm-parity report\n");
    if let Some(dir) = &r.replayed_from {
        let _ = writeln!(
            s,
            "> **Replayed** from the recordings in `{}`: no endpoint was contacted.\n",
            md_code(dir)
        );
    }
    if let Some(b) = &r.baseline {
        s.push_str(&super::baseline::markdown(b));
    }
    let _ = writeln!(
        s,
        "{} case result(s) on {} target(s): {} pass, {} fail{}, {} error, {} unsupported, {} skip{}\n",
        r.results.len(),
        r.targets.len(),
        r.count(Outcome::Pass),
        r.count(Outcome::Fail),
        impact::fail_counts(r)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        r.count(Outcome::Error),
        r.count(Outcome::Unsupported),
        r.count(Outcome::Skip),
        if r.partial {
            " — **partial run (interrupted)**"
        } else {
            ""
        }
    );
    let missing = super::aggregate::MissingModels::of(&r.results);
    for t in &r.targets {
        if let Some(line) = missing.line(Some(&t.name)) {
            let _ = writeln!(
                s,
                "**`{}`: {line}** (set the role's model: `--model ROLE=ID`, or `models:` in the targets file).\n",
                md_code(&t.name)
            );
        }
    }
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
            .map(|t| row.mark(t).map(|m| m.text()).unwrap_or_default())
            .collect();
        let _ = writeln!(s, "| `{}` | {} |", row.feature, cells.join(" | "));
    }
    if !r.differences.is_empty() {
        let _ = writeln!(s, "\n## Differences between targets\n");
        for d in &r.differences {
            let cells: Vec<String> = d
                .outcomes
                .iter()
                .map(|(t, o)| format!("`{}` {} {o}", md_code(t), o.symbol()))
                .collect();
            let _ = writeln!(
                s,
                "- `{}` ({}/{}): {}{}",
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
                let _ = writeln!(s, "  - `{}`: {}", md_code(t), md_escape(reason));
            }
            for sd in d.shape_diffs.iter().take(2) {
                let diff: String = sd.diff.lines().take(40).collect::<Vec<_>>().join("\n");
                let _ = writeln!(
                    s,
                    "\n  shape of the {} (`{}` vs `{}`):\n\n  ```diff\n{}\n  ```\n",
                    sd.subject,
                    md_code(&sd.pass),
                    md_code(&sd.other),
                    indent(&fence_safe(&diff), "  ")
                );
            }
        }
    }
    let all_latency: Vec<_> = r.latency.iter().filter(|l| l.area == "all").collect();
    if r.targets.len() > 1 && !all_latency.is_empty() {
        let _ = writeln!(
            s,
            "\n## Latency (ms)\n\n| target | metric | n | p50 | p95 | max |\n|---|---|---:|---:|---:|---:|"
        );
        for l in all_latency {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {:.1} | {:.1} | {:.1} |",
                md_code(&l.target),
                l.metric,
                l.count,
                l.p50_ms,
                l.p95_ms,
                l.max_ms
            );
        }
        for h in &r.hops {
            let _ = writeln!(
                s,
                "\nRouter hop `{}` → `{}` adds {:+.1} ms p50, {:+.1} ms p95 ({}).",
                md_code(&h.router),
                md_code(&h.upstream),
                h.p50_delta_ms,
                h.p95_delta_ms,
                h.metric
            );
        }
    }
    // The entries are listed as they are read, and no more are read once the text is longer
    // than what `cap` keeps.
    let full = std::cell::Cell::new(false);
    let not_pass = |x: &Summary| x.outcome != Outcome::Pass && x.outcome != Outcome::Skip;
    if r.results.summaries().any(|x| not_pass(&x)) {
        let _ = writeln!(s, "\n## Not passing\n");
        let failures = r.results.indexes_where(not_pass);
        r.results
            .each::<Brief>(failures.take_while(|_| !full.get()), |f| {
                let mark = f.mark();
                let _ = writeln!(
                    s,
                    "- {} **{}** `{}/{}` on `{}`: {}",
                    mark.symbol(),
                    mark.label(),
                    &*f.suite,
                    &*f.case,
                    md_code(&f.target),
                    md_escape(f.reason.as_deref().unwrap_or(""))
                );
                if let Some(n) = impact::note(&f) {
                    let _ = writeln!(s, "  - clients: {}", md_escape(&n));
                }
                if let Some(n) = &f.notes {
                    let _ = writeln!(s, "  - note: {}", md_escape(n));
                }
                full.set(s.len() > LIMIT);
            });
    }
    if !full.get() && r.results.summaries().any(|x| x.warned) {
        let _ = writeln!(s, "\n## Warnings\n");
        let warned = r.results.indexes_where(|x| x.warned);
        r.results
            .each::<Brief>(warned.take_while(|_| !full.get()), |w| {
                for msg in &w.warnings {
                    let _ = writeln!(
                        s,
                        "- `{}/{}` on `{}`: {}",
                        &*w.suite,
                        &*w.case,
                        md_code(&w.target),
                        md_escape(msg)
                    );
                }
                full.set(s.len() > LIMIT);
            });
    }
    cap(s)
}

/// GitHub comments hold 65,536 characters; keep well under, cutting at a line.
const LIMIT: usize = 60_000;

fn cap(s: String) -> String {
    if s.len() <= LIMIT {
        return s;
    }
    let mut cut = LIMIT;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let end = s[..cut].rfind('\n').unwrap_or(cut);
    format!(
        "{}\n\n… (truncated; see report.html or report.json for everything)\n",
        &s[..end]
    )
}

/// A diff inside a fenced block must not close the fence.
fn fence_safe(s: &str) -> String {
    s.replace("```", "ʼʼʼ")
}

/// Indent every line (a fenced block inside a list item must be indented as a whole).
fn indent(s: &str, by: &str) -> String {
    s.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
