//! `report.html`: one self-contained file (inline CSS, JS and SVG; no external requests, works
//! from disk). Everything is rendered here, server-side, and every string that could have come
//! from an endpoint goes through `esc`; the small script only filters rows and columns.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::body::pretty;
use super::entry::{Brief, Detailed, EntryView, ExchangeView, Headers, View as _};
use super::escape::{Esc, EscText, esc};
use super::impact;
use super::model::{BodyPolicy, CaseResult, Difference, RunReport, Summary};
use crate::judge::{Impact, Mark, Outcome};
use crate::load::feature::area_of;

pub fn render(r: &RunReport) -> String {
    let mut h = String::with_capacity(64 * 1024);
    render_to(r, &mut h);
    h
}

/// Stream the report into `w` (a report of 10,000 cases is ~20 MB of HTML, never held whole).
pub fn write(r: &RunReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = IoWriter {
        inner: w,
        error: None,
    };
    render_to(r, &mut out);
    out.error.map_or(Ok(()), Err)
}

/// `fmt::Write` over an `io::Write`, keeping the first I/O error (later writes are skipped).
struct IoWriter<'a> {
    inner: &'a mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl std::fmt::Write for IoWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

fn render_to(r: &RunReport, h: &mut dyn std::fmt::Write) {
    let names = r.target_names();
    // Indexed once: a cell's cases and a case's shape diffs, instead of a scan per cell.
    // A cell's cases by their place in the report: a spooled run's entries are read back one
    // at a time, never all held.
    let mut cells: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, k) in r.results.keys().enumerate() {
        cells.entry((k.target, k.feature)).or_default().push(i);
    }
    let mut diffs: BTreeMap<(&str, &str), Vec<&Difference>> = BTreeMap::new();
    for d in &r.differences {
        diffs
            .entry((d.suite.as_str(), d.case.as_str()))
            .or_default()
            .push(d);
    }
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>llm-parity report</title><style>{CSS}</style></head><body>\n"
    );
    let _ = writeln!(
        h,
        "<header><h1>llm-parity report</h1><p class=\"meta\">{} {} · started {} · {} ms · {} result(s) on {} target(s){}</p>",
        Esc(&r.tool.name),
        Esc(&r.tool.version),
        Esc(&r.started_at),
        r.duration_ms,
        r.results.len(),
        r.targets.len(),
        if r.partial {
            " · <strong>partial run (interrupted)</strong>"
        } else {
            ""
        }
    );
    if let Some(dir) = &r.replayed_from {
        let _ = writeln!(
            h,
            "<p class=\"meta\"><strong>Replayed</strong> from the recordings in <code>{}</code>: no endpoint was contacted.</p>",
            Esc(dir)
        );
    }
    let missing = super::aggregate::MissingModels::of(&r.results);
    for t in &r.targets {
        if let Some(line) = missing.line(Some(&t.name)) {
            let _ = writeln!(
                h,
                "<p class=\"meta\"><code>{}</code>: <strong>{}</strong></p>",
                Esc(&t.name),
                Esc(&line)
            );
        }
    }
    let _ = write!(h, "<p class=\"counts\">");
    for o in Outcome::ALL {
        let _ = write!(
            h,
            "<span class=\"o-{}\">{} {} {}</span> ",
            o.as_str(),
            o.symbol(),
            r.count(o),
            o.as_str()
        );
    }
    if r.count(Outcome::Fail) > 0 {
        let _ = write!(
            h,
            "<span class=\"o-fail\">✗ {} break a client</span> <span class=\"o-fail i-deviates\">≠ {} deviate</span> ",
            r.count_impact(Impact::Breaks),
            r.count_impact(Impact::Deviates)
        );
    }
    let flaky = r.count_flaky();
    if flaky > 0 {
        let _ = write!(h, "<span class=\"o-fail\">{flaky} flaky</span>");
    }
    let _ = writeln!(h, "</p></header>");
    if let Some(b) = &r.baseline {
        let _ = h.write_str(&super::baseline::html(b));
    }

    // Targets (the `via` column only when some target routes through another).
    let any_via = r.targets.iter().any(|t| t.via.is_some());
    let _ = writeln!(
        h,
        "<section><h2>Targets</h2><table class=\"targets\"><tr><th>target</th><th>base URL</th><th>models</th>{}</tr>",
        if any_via { "<th>via</th>" } else { "" }
    );
    for t in &r.targets {
        let models: Vec<String> = t
            .models
            .iter()
            .map(|(k, v)| format!("{}={}", Esc(k), Esc(v)))
            .collect();
        let via = if any_via {
            format!("<td>{}</td>", t.via.as_deref().map(esc).unwrap_or_default())
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td>{via}</tr>",
            Esc(&t.name),
            Esc(&t.base_url),
            models.join(", "),
        );
    }
    let _ = writeln!(h, "</table></section>");

    // Filters.
    let mut areas: Vec<&str> = Vec::new();
    for f in &r.features {
        let a = area_of(&f.feature);
        if !areas.contains(&a) {
            areas.push(a);
        }
    }
    let _ = write!(
        h,
        "<section><h2>Parity matrix</h2><form id=\"filters\" class=\"filters\"><label>area <select id=\"f-area\"><option value=\"\">all</option>"
    );
    for a in &areas {
        let _ = write!(h, "<option>{}</option>", Esc(a));
    }
    let _ = write!(
        h,
        "</select></label> <label>outcome <select id=\"f-outcome\"><option value=\"\">any</option>"
    );
    for o in Outcome::ALL {
        let _ = write!(
            h,
            "<option value=\"{0}\">{1} {0}</option>",
            o.as_str(),
            o.symbol()
        );
    }
    let _ = write!(
        h,
        "</select></label> <label><input type=\"checkbox\" id=\"f-diff\"> only rows where targets differ</label> <span>targets:</span>"
    );
    for (i, n) in names.iter().enumerate() {
        let _ = write!(
            h,
            " <label><input type=\"checkbox\" class=\"f-target\" data-col=\"{i}\" checked> {}</label>",
            Esc(n)
        );
    }
    let _ = writeln!(h, "</form>");

    // The matrix.
    let _ = write!(
        h,
        "<table id=\"matrix\" class=\"matrix\"><thead><tr><th>feature</th>"
    );
    for (i, n) in names.iter().enumerate() {
        let _ = write!(h, "<th class=\"col-{i}\">{}</th>", Esc(n));
    }
    let _ = writeln!(h, "</tr></thead><tbody>");
    let mut area = "";
    for row in &r.features {
        let a = area_of(&row.feature);
        if a != area {
            area = a;
            let _ = write!(
                h,
                "<tr class=\"area\" data-area=\"{}\"><th>{}</th>",
                Esc(a),
                Esc(a)
            );
            for (i, t) in names.iter().enumerate() {
                let cells: Vec<Outcome> = r
                    .features
                    .iter()
                    .filter(|f| area_of(&f.feature) == a)
                    .filter_map(|f| f.outcomes.get(*t).copied())
                    .collect();
                let ran: Vec<&Outcome> = cells.iter().filter(|o| **o != Outcome::Skip).collect();
                let pass = ran.iter().filter(|o| ***o == Outcome::Pass).count();
                let _ = write!(h, "<td class=\"col-{i}\">{pass}/{} ✓</td>", ran.len());
            }
            let _ = writeln!(h, "</tr>");
        }
        let outcomes: Vec<&str> = names
            .iter()
            .filter_map(|t| row.outcomes.get(*t).map(|o| o.as_str()))
            .collect();
        let differs = outcomes.windows(2).any(|w| w[0] != w[1]);
        let _ = write!(
            h,
            "<tr class=\"feature\" data-area=\"{}\" data-outcomes=\"{}\" data-differs=\"{}\"><th><code>{}</code></th>",
            Esc(a),
            outcomes.join(" "),
            differs,
            Esc(&row.feature)
        );
        for (i, t) in names.iter().enumerate() {
            match row.mark(t) {
                None => {
                    let _ = write!(h, "<td class=\"col-{i}\"></td>");
                }
                Some(m) => {
                    let _ = write!(
                        h,
                        "<td class=\"col-{i} {}\"><details><summary>{}</summary>",
                        classes(m),
                        m.text()
                    );
                    let cases = cells.get(&(*t, row.feature.as_str())).into_iter().flatten();
                    if r.differences.is_empty() && r.results.has_details() {
                        // Rendered as each case finished (`write_detail`), copied in order.
                        r.results.each_detail(cases.copied(), |d| {
                            let _ = h.write_str(d);
                        });
                    } else {
                        r.results.each::<Detailed>(cases.copied(), |res| {
                            let case_diffs = diffs.get(&(&*res.suite, &*res.case));
                            case_detail(
                                h,
                                &res,
                                case_diffs.map_or(&[][..], Vec::as_slice),
                                r.report_bodies,
                            );
                        });
                    }
                    let _ = write!(h, "</details></td>");
                }
            }
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(
        h,
        "</tbody></table><p class=\"legend\">Click a cell for its cases: reason, checks, timings, request and response (redacted). An orange bar marks features whose outcome differs between targets.</p></section>"
    );

    if !r.differences.is_empty() {
        let _ = writeln!(
            h,
            "<section><h2>Differences between targets</h2><ul class=\"diffs\">"
        );
        for d in &r.differences {
            let cells: Vec<String> = d
                .outcomes
                .iter()
                .map(|(t, o)| {
                    format!(
                        "<span class=\"o-{}\">{} {} {}</span>",
                        o.as_str(),
                        Esc(t),
                        o.symbol(),
                        o.as_str()
                    )
                })
                .collect();
            let _ = write!(
                h,
                "<li><code>{}</code> ({}/{}): {}",
                Esc(&d.feature),
                Esc(&d.suite),
                Esc(&d.case),
                cells.join(", ")
            );
            for sd in &d.shape_diffs {
                let _ = write!(
                    h,
                    "<details><summary>shape of the {} ({} vs {})</summary>{}</details>",
                    Esc(&sd.subject),
                    Esc(&sd.pass),
                    Esc(&sd.other),
                    diff_block(&sd.diff)
                );
            }
            let _ = writeln!(h, "</li>");
        }
        let _ = writeln!(h, "</ul></section>");
    }

    latency_section(h, r);

    // Listed as they are read (their summaries say which they are), never collected.
    let not_pass = |s: &Summary| !matches!(s.outcome, Outcome::Pass | Outcome::Skip);
    if r.results.summaries().any(|s| not_pass(&s)) {
        let _ = writeln!(h, "<section><h2>Not passing</h2><ul class=\"failures\">");
        r.results.each::<Brief>(r.results.indexes_where(not_pass), |f| {
            let m = f.mark();
            let _ = writeln!(
                h,
                "<li><span class=\"{}\">{} <strong>{}</strong></span> <code>{}/{}</code> on <code>{}</code>: {}{}</li>",
                classes(m),
                m.symbol(),
                m.label(),
                Esc(&f.suite),
                Esc(&f.case),
                Esc(&f.target),
                Esc(f.reason.as_deref().unwrap_or("")),
                impact::note(&f)
                    .map(|n| format!("<br><span class=\"clients\">{}</span>", Esc(&n)))
                    .unwrap_or_default()
            );
        });
        let _ = writeln!(h, "</ul></section>");
    }
    let _ = writeln!(h, "<script>{JS}</script></body></html>");
}

/// A case's detail as the matrix shows it in its cell, appended to `out`, for a run with one
/// target (with several, a case's detail shows its differences from the other targets, known
/// at the end): written as the case finishes, while the run goes on, so that the report is
/// mostly copied together at the end ([`super::results::Results::each_detail`]).
pub fn write_detail(out: &mut String, entry: &CaseResult, bodies: BodyPolicy) {
    case_detail(out, &Detailed::of(entry), &[], bodies);
}

fn case_detail(
    h: &mut dyn std::fmt::Write,
    res: &EntryView<'_, Vec<ExchangeView<'_>>>,
    differences: &[&Difference],
    bodies: BodyPolicy,
) {
    let m = res.mark();
    let _ = write!(
        h,
        "<div class=\"case\"><p><code>{}/{}</code> <span class=\"{}\">{}</span>{}</p>",
        Esc(&res.suite),
        Esc(&res.case),
        classes(m),
        m.text(),
        if res.flaky {
            " <strong>flaky</strong>"
        } else {
            ""
        }
    );
    if let Some(reason) = &res.reason {
        let _ = write!(h, "<p class=\"reason\">{}</p>", Esc(reason));
    }
    if let Some(n) = impact::note(res) {
        let _ = write!(h, "<p class=\"clients\">{}</p>", Esc(&n));
    }
    if !res.repeats.is_empty() {
        let reps: Vec<&str> = res.repeats.iter().map(|o| o.symbol()).collect();
        let _ = write!(h, "<p>repeats: {}</p>", reps.join(" "));
    }
    for w in &res.warnings {
        let _ = write!(h, "<p class=\"warn\">warning: {}</p>", Esc(w));
    }
    if !res.checks.is_empty() {
        let _ = write!(h, "<ul class=\"checks\">");
        for c in res.checks.iter() {
            let tag = match c.impact {
                Some(i) => format!("{:?}, {i}", c.status),
                None => format!("{:?}", c.status),
            };
            let _ = write!(
                h,
                "<li>[{}] <code>{}</code>: {}",
                Esc(&tag.to_lowercase()),
                Esc(&c.check),
                Esc(&c.reason())
            );
            for e in &c.clients {
                let _ = write!(h, "<br>breaks {}", Esc(&impact::cite(e)));
            }
            if let Some(e) = &c.expected {
                let _ = write!(h, "<br>expected: <code>{}</code>", Esc(e));
            }
            if let Some(a) = &c.actual {
                let _ = write!(h, "<br>actual: <code>{}</code>", Esc(a));
            }
            let _ = write!(h, "</li>");
        }
        let _ = write!(h, "</ul>");
    }
    if let Some(n) = &res.notes {
        let _ = write!(h, "<p class=\"note\">note: {}</p>", Esc(n));
    }
    if let Some(t) = &res.timings {
        let f = |x: Option<f64>| {
            x.map(|v| format!("{v:.1} ms"))
                .unwrap_or_else(|| "–".into())
        };
        let _ = write!(
            h,
            "<p class=\"timings\">headers {} · TTFT {} · total {:.1} ms · {} chunk(s)</p>",
            f(t.headers_ms),
            f(t.ttft_ms),
            t.total_ms,
            t.chunk_count
        );
    }
    for d in differences {
        for sd in d.shape_diffs.iter().filter(|sd| sd.other == *res.target) {
            let _ = write!(
                h,
                "<details><summary>shape diff vs {}</summary>{}</details>",
                Esc(&sd.pass),
                diff_block(&sd.diff)
            );
        }
    }
    for ex in &res.exchanges {
        let _ = write!(
            h,
            "<details class=\"exchange\"><summary>{} {} {} → {}</summary>",
            Esc(&ex.step),
            Esc(&ex.method),
            Esc(&ex.url),
            ex.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no response".into())
        );
        if !bodies.keeps(res.outcome) {
            let _ = write!(
                h,
                "<p class=\"meta\">headers and bodies not kept (--report-bodies {})</p>",
                bodies.as_str()
            );
        } else {
            headers_block(h, "request headers", &ex.request_headers);
        }
        if let Some(b) = ex.request_body {
            block(h, "request body", &pretty(b.0));
        }
        if let Some(e) = &ex.transport_error {
            let _ = write!(h, "<p class=\"reason\">transport: {}</p>", Esc(e));
        }
        if !ex.response_headers.0.is_empty() {
            headers_block(h, "response headers", &ex.response_headers);
        }
        if let Some(b) = ex.response_body {
            block(h, "response body", &pretty(b.0));
        }
        let _ = write!(h, "</details>");
    }
    let _ = write!(h, "</div>");
}

/// A labelled, preformatted block of escaped text.
fn block(h: &mut dyn std::fmt::Write, label: &str, text: &str) {
    let _ = write!(h, "<p>{label}</p><pre>{}</pre>", EscText(text));
}

/// A labelled block of headers, `name: value` a line (escaping leaves `:`, space and newline
/// as they are, so each part is escaped as it is written).
fn headers_block(h: &mut dyn std::fmt::Write, label: &str, headers: &Headers) {
    let _ = write!(h, "<p>{label}</p><pre>");
    for (i, (k, v)) in headers.0.iter().enumerate() {
        let sep = if i == 0 { "" } else { "\n" };
        let _ = write!(h, "{sep}{}: {}", EscText(k), EscText(v));
    }
    let _ = write!(h, "</pre>");
}

fn diff_block(diff: &str) -> String {
    let mut s = String::from("<pre class=\"diff\">");
    for line in diff.lines() {
        let class = match line.chars().next() {
            Some('+') if !line.starts_with("+++") => "add",
            Some('-') if !line.starts_with("---") => "del",
            _ => "ctx",
        };
        let _ = writeln!(s, "<span class=\"{class}\">{}</span>", Esc(line));
    }
    s.push_str("</pre>");
    s
}

/// Bars of p50 and p95 per target for each metric, scaled to the largest value.
fn latency_section(h: &mut dyn std::fmt::Write, r: &RunReport) {
    let rows: Vec<_> = r.latency.iter().filter(|l| l.area == "all").collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(h, "<section><h2>Latency</h2>");
    for metric in ["headers", "ttft", "total"] {
        let m: Vec<_> = rows.iter().filter(|l| l.metric == metric).collect();
        if m.is_empty() {
            continue;
        }
        let max = m.iter().map(|l| l.p95_ms).fold(1e-9, f64::max);
        // Each target: its name on one line, the bars below it, the values right of the bars
        // (names above rather than beside, so long target names never overlap the bars).
        let (bar_w, bar_h, row_h, text_w) = (560.0, 16.0, 40.0, 220.0);
        let width = bar_w + text_w;
        let height = m.len() as f64 * row_h + 4.0;
        let _ = write!(
            h,
            "<figure><figcaption>{metric} (ms): <span class=\"key p50\"></span> p50 <span class=\"key p95\"></span> p95</figcaption><svg role=\"img\" aria-label=\"{metric} latency per target\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
        );
        for (i, l) in m.iter().enumerate() {
            let y = i as f64 * row_h;
            let p50 = (l.p50_ms / max) * bar_w;
            let p95 = (l.p95_ms / max) * bar_w;
            let _ = write!(
                h,
                "<text x=\"0\" y=\"{:.1}\" class=\"lbl\">{}</text><rect x=\"0\" y=\"{:.1}\" width=\"{p95:.1}\" height=\"{bar_h}\" class=\"p95\"/><rect x=\"0\" y=\"{:.1}\" width=\"{p50:.1}\" height=\"{bar_h}\" class=\"p50\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"val\">{:.1} / {:.1} ms (n={})</text>",
                y + 12.0,
                Esc(&l.target),
                y + 17.0,
                y + 17.0,
                p95 + 6.0,
                y + 29.0,
                l.p50_ms,
                l.p95_ms,
                l.count
            );
        }
        let _ = writeln!(h, "</svg></figure>");
    }
    if !r.hops.is_empty() {
        let _ = writeln!(
            h,
            "<table class=\"hops\"><caption>router hop overhead: router minus upstream, all areas</caption><tr><th>router</th><th>upstream</th><th>metric</th><th>+p50 ms</th><th>+p95 ms</th></tr>"
        );
        for x in &r.hops {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:+.1}</td><td>{:+.1}</td></tr>",
                Esc(&x.router),
                Esc(&x.upstream),
                Esc(&x.metric),
                x.p50_delta_ms,
                x.p95_delta_ms
            );
        }
        let _ = writeln!(h, "</table>");
    }
    let _ = writeln!(h, "</section>");
}

/// The stylesheet and the filter script, inlined into every report (the file works offline,
/// from disk). Kept as files so they can be read and linted as CSS and JavaScript.
const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// The CSS classes of a mark: the outcome's (the matrix filter reads it) and, for a failure,
/// its impact's.
fn classes(m: Mark) -> String {
    match m.impact {
        Some(i) if m.outcome == Outcome::Fail => format!("o-{} i-{i}", m.outcome.as_str()),
        _ => format!("o-{}", m.outcome.as_str()),
    }
}
