//! The terminal summary, in the order a reader needs it: the parity matrix (an area row shows
//! the worst of its cases, never a ✓ beside a failure), then what did not pass and why (cases
//! with one reason grouped), then one line per feature that differs between targets (the
//! response shapes only with `--diff`: they are always in report.html and report.md), latency,
//! and one summary line per target with the run's duration.
//!
//! Everything is laid out as plain text first (tables, wrapping at [`Look::width`]) and
//! coloured afterwards, so colour never changes a width.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::aggregate::MissingModels;
use super::entry::{Brief, EntryView};
use super::escape::one_line;
use super::impact;
use super::model::{FeatureRow, RunReport, ShapeDiff};
use crate::judge::{Impact, Mark, Outcome};
use crate::load::feature::area_of;

/// Lines of one shape diff shown with `--diff` before it is cut.
const DIFF_LINES: usize = 40;
/// Cases named in one group before "and N more".
const NAMED_CASES: usize = 6;

/// How the terminal shows a report: decided once by the command (`Look::for_stdout`), plain
/// in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// ANSI colours (red fail, green pass, yellow error, grey unsupported and skip).
    pub color: bool,
    /// ✓ ✗ – · and box-drawing lines; ASCII (`+ x - .`, `|`) when the locale cannot show them.
    pub unicode: bool,
    /// Columns to fit: the terminal's width, 80 when not a terminal or unknown.
    pub width: usize,
    /// `--wide`: the full matrix even when it is wider than `width`.
    pub wide: bool,
    /// `--diff`: the shape diffs of the responses that differ.
    pub diff: bool,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            color: false,
            unicode: true,
            width: 80,
            wide: false,
            diff: false,
        }
    }
}

impl Look {
    /// For standard output: colour as `anstream` decides it (`NO_COLOR`, `CLICOLOR_FORCE`,
    /// `CLICOLOR`, `TERM=dumb`, whether stdout is a terminal), symbols as the locale allows,
    /// the terminal's width.
    pub fn for_stdout(wide: bool, diff: bool) -> Look {
        use std::io::IsTerminal as _;
        let stdout = std::io::stdout();
        let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
        let width = if stdout.is_terminal() {
            terminal_size::terminal_size()
                .map(|(w, _)| usize::from(w.0))
                .filter(|w| *w >= 40)
                .unwrap_or(80)
        } else {
            80
        };
        Look {
            color,
            unicode: unicode_locale(|k| std::env::var(k).ok()),
            width,
            wide,
            diff,
        }
    }

    /// The outcome's symbol (`✓`, or `+` in ASCII).
    pub fn symbol(self, o: Outcome) -> &'static str {
        if self.unicode {
            return o.symbol();
        }
        match o {
            Outcome::Pass => "+",
            Outcome::Fail => "x",
            Outcome::Unsupported => "-",
            Outcome::Error => "!",
            Outcome::Skip => ".",
        }
    }

    /// The mark's symbol: `≠` (`~` in ASCII) for a failure that only deviates, else the
    /// outcome's.
    pub fn mark_symbol(self, m: Mark) -> &'static str {
        match (m.outcome, m.impact) {
            (Outcome::Fail, Some(Impact::Deviates)) => {
                if self.unicode {
                    m.symbol()
                } else {
                    "~"
                }
            }
            (o, _) => self.symbol(o),
        }
    }

    /// `✗ breaks`, `≠ deviates`, `– unsupported`, … in this look's symbols.
    fn mark_text(self, m: Mark) -> String {
        format!("{} {}", self.mark_symbol(m), m.label())
    }

    fn ellipsis(self) -> &'static str {
        if self.unicode { "…" } else { "..." }
    }

    fn arrow(self) -> &'static str {
        if self.unicode { "→" } else { "->" }
    }

    /// `text` in the outcome's colour (unchanged without colour).
    fn paint(self, o: Outcome, text: &str) -> String {
        if !self.color || text.is_empty() {
            return text.to_string();
        }
        let style = style(o);
        format!("{}{text}{}", style.render(), style.render_reset())
    }

    fn bold(self, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let style = anstyle::Style::new().bold();
        format!("{}{text}{}", style.render(), style.render_reset())
    }

    /// Every symbol this look shows, with the outcome whose colour it takes.
    fn symbols(self) -> [(&'static str, Outcome); 6] {
        let deviates = Mark::new(Outcome::Fail, Some(Impact::Deviates));
        [
            (self.symbol(Outcome::Pass), Outcome::Pass),
            (self.symbol(Outcome::Fail), Outcome::Fail),
            (self.mark_symbol(deviates), Outcome::Fail),
            (self.symbol(Outcome::Error), Outcome::Error),
            (self.symbol(Outcome::Unsupported), Outcome::Unsupported),
            (self.symbol(Outcome::Skip), Outcome::Skip),
        ]
    }

    /// The outcome of a symbol-bearing text (`✗ breaks`, `0/5 ✗`, `✗`), if it has one.
    fn outcome_in(self, text: &str) -> Option<Outcome> {
        let t = text.trim();
        self.symbols().into_iter().find_map(|(s, o)| {
            (t == s || t.starts_with(&format!("{s} ")) || t.ends_with(&format!(" {s}")))
                .then_some(o)
        })
    }
}

/// Whether the locale can show ✓ and ✗: decided from the first of `LC_ALL`, `LC_CTYPE`,
/// `LANG` that is set and not empty (as the C library does); UTF-8 when it names UTF-8, or when
/// none is set (most terminals and CI logs are UTF-8; `LANG=C` says otherwise).
pub fn unicode_locale(var: impl Fn(&str) -> Option<String>) -> bool {
    match ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|k| var(k).filter(|v| !v.is_empty()))
    {
        None => true,
        Some(v) => {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        }
    }
}

fn style(o: Outcome) -> anstyle::Style {
    use anstyle::{AnsiColor, Color};
    let c = match o {
        Outcome::Pass => AnsiColor::Green,
        Outcome::Fail => AnsiColor::Red,
        Outcome::Error => AnsiColor::Yellow,
        Outcome::Unsupported | Outcome::Skip => AnsiColor::BrightBlack,
    };
    anstyle::Style::new().fg_color(Some(Color::Ansi(c)))
}

pub fn render(r: &RunReport, look: Look) -> String {
    let mut s = String::new();
    if let Some(dir) = &r.replayed_from {
        let line = format!("replayed from the recordings in {dir}: no endpoint was contacted");
        let _ = writeln!(s, "{}\n", look.bold(&line));
    }
    if let Some(b) = &r.baseline {
        s.push_str(&super::baseline::terminal(b));
    }
    let full = matrix(r, false, look);
    let table = if look.wide || max_line_width(&full) <= look.width {
        full
    } else {
        matrix(r, true, look)
    };
    let _ = writeln!(s, "{}", paint_table(&table, look));
    let hidden = r.features.iter().filter(|f| folded(f)).count();
    let listed = r
        .features
        .iter()
        .filter(|f| !folded(f) && differs(r, f))
        .count();
    if !look.wide && (hidden + listed > 0 || table.contains("legend:")) {
        let mut what = Vec::new();
        if hidden > 0 {
            what.push(format!(
                "{hidden} feature{} passing everywhere in the area rows only",
                plural(hidden)
            ));
        }
        if listed > 0 {
            what.push(format!(
                "{listed} that differ{} between targets listed below",
                if listed == 1 { "s" } else { "" }
            ));
        }
        if table.contains("legend:") {
            what.push(format!("abbreviated to fit {} columns", look.width));
        }
        let note = format!("({}; --wide for the full matrix)", what.join(", "));
        for l in wrap(&note, look.width, "", "") {
            let _ = writeln!(s, "{l}");
        }
    }
    not_passing(&mut s, r, look);
    differences(&mut s, r, look);
    if r.targets.len() > 1 || r.results.summaries().any(|x| x.repeated) {
        let lat = latency_table(r, look);
        if !lat.is_empty() {
            let _ = writeln!(s, "\nlatency (ms, all areas):\n{lat}");
        }
    }
    for h in &r.hops {
        let _ = writeln!(
            s,
            "router hop {} {} {}: {} {:+.1} ms p50, {:+.1} ms p95 ({} / {} samples)",
            h.router,
            look.arrow(),
            h.upstream,
            h.metric,
            h.p50_delta_ms,
            h.p95_delta_ms,
            h.samples_router,
            h.samples_upstream
        );
    }
    summary(&mut s, r, look);
    s
}

/// What did not pass and why, by target: the cases with one mark (outcome and impact), one
/// reason and one client note are one group, the reason wrapped under it and the note kept to
/// two lines (its deviation id always shown; report.md and report.html have it whole).
fn not_passing(s: &mut String, r: &RunReport, look: Look) {
    struct Group {
        target: String,
        mark: Mark,
        reason: String,
        note: Option<String>,
        /// `suite/case` of each case in the group.
        cases: Vec<String>,
    }
    let mut groups: Vec<Group> = Vec::new();
    // Only the entries that did not pass are read (a spooled run reads them back one by one).
    let not_pass = r
        .results
        .indexes_where(|x| !matches!(x.outcome, Outcome::Pass | Outcome::Skip));
    r.results.each::<Brief>(not_pass, |f| {
        let reason = one_line(f.reason.as_deref().unwrap_or(""));
        // A case of several steps names the step its reason comes from; the step goes beside
        // the case, so the same refusal at `create` and at `first turn` is one group.
        let (reason, id) = match stopped_at(&f, &reason) {
            Some((step, rest)) => (
                rest.to_string(),
                format!("{}/{} ({step})", &*f.suite, &*f.case),
            ),
            None => (reason.clone(), format!("{}/{}", &*f.suite, &*f.case)),
        };
        let note = impact::note(&f).map(|n| one_line(&n));
        match groups.iter_mut().find(|g| {
            g.target == *f.target && g.mark == f.mark() && g.reason == reason && g.note == note
        }) {
            Some(g) => g.cases.push(id),
            None => groups.push(Group {
                target: f.target.to_string(),
                mark: f.mark(),
                reason,
                note,
                cases: vec![id],
            }),
        }
    });
    if groups.is_empty() {
        return;
    }
    let n: usize = groups.iter().map(|g| g.cases.len()).sum();
    let _ = writeln!(s, "\nnot passing ({n} case{}):", plural(n));
    for target in r.target_names() {
        let mine: Vec<&Group> = groups.iter().filter(|g| g.target == target).collect();
        if mine.is_empty() {
            continue;
        }
        let n: usize = mine.iter().map(|g| g.cases.len()).sum();
        let _ = writeln!(s, " {}", look.bold(&format!("{target} ({n}):")));
        for g in mine {
            let lead = look.mark_text(g.mark);
            let head = format!("{lead} {}", name_cases(&g.cases, look));
            let mut lines = wrap(&head, look.width, "  ", "      ");
            // The symbol and its word carry the colour.
            if let Some(first) = lines.first_mut()
                && let Some(rest) = first.strip_prefix(&format!("  {lead}"))
            {
                *first = format!("  {}{rest}", look.paint(g.mark.outcome, &lead));
            }
            lines.extend(wrap(&g.reason, look.width, "      ", "      "));
            if let Some(note) = &g.note {
                // Two lines at most: enough for the client, the call and the symptom.
                let note = cut_note(note, 2 * (look.width - 8), look);
                lines.extend(wrap(&note, look.width, "      ", "      "));
            }
            for l in lines {
                let _ = writeln!(s, "{l}");
            }
        }
    }
}

/// The step a multi-step case's reason comes from and the rest of the reason.
fn stopped_at<'a, X>(entry: &'a EntryView<'_, X>, reason: &'a str) -> Option<(&'a str, &'a str)> {
    let step = entry.step.as_deref()?;
    let rest = reason.strip_prefix(step)?.strip_prefix(": ")?;
    Some((step, rest))
}

/// A client note cut to `width` columns in its middle, so its tail — the deviation id and how
/// many more client calls, `(S1; 8 more client calls)` — stays.
fn cut_note(note: &str, width: usize, look: Look) -> String {
    let len = textwrap::core::display_width(note);
    if len <= width {
        return note.to_string();
    }
    let tail = note.rfind(" (").map(|i| &note[i..]).unwrap_or("");
    let e = look.ellipsis();
    let keep = width.saturating_sub(textwrap::core::display_width(tail) + e.chars().count());
    let head: String = note.chars().take(keep).collect();
    format!("{}{e}{tail}", head.trim_end())
}

/// One line per feature whose outcome differs between targets; with `--diff` the shape diffs
/// of their responses, each distinct diff once with the cases it stands for.
fn differences(s: &mut String, r: &RunReport, look: Look) {
    if r.differences.is_empty() {
        return;
    }
    /// One feature's line.
    struct Feature<'a> {
        name: &'a str,
        /// Each target's worst outcome among the feature's differing cases.
        outcomes: BTreeMap<&'a str, Outcome>,
        cases: usize,
        /// One-line summaries of a success against an error, each once.
        summaries: Vec<&'a str>,
        /// Every target had one outcome: only the shapes differ.
        same: bool,
    }
    let mut features: Vec<Feature> = Vec::new();
    for d in &r.differences {
        let i = match features.iter().position(|f| f.name == d.feature) {
            Some(i) => i,
            None => {
                features.push(Feature {
                    name: &d.feature,
                    outcomes: BTreeMap::new(),
                    cases: 0,
                    summaries: vec![],
                    same: true,
                });
                features.len() - 1
            }
        };
        let f = &mut features[i];
        f.same &= d.same_outcome();
        f.cases += 1;
        for (t, o) in &d.outcomes {
            let cell = f.outcomes.entry(t).or_insert(*o);
            if o.severity() > cell.severity() {
                *cell = *o;
            }
        }
        for sd in &d.shape_diffs {
            if let Some(line) = sd.summary.as_deref()
                && !f.summaries.contains(&line)
            {
                f.summaries.push(line);
            }
        }
    }
    let _ = writeln!(
        s,
        "\ndifferences between targets ({} feature{}{}):",
        features.len(),
        plural(features.len()),
        if look.diff {
            ""
        } else {
            "; --diff for the response shapes"
        }
    );
    // The targets in the order of every line's cells.
    let names: Vec<&str> = features
        .first()
        .map(|f| f.outcomes.keys().copied().collect())
        .unwrap_or_default();
    for l in wrap(
        &format!("feature: {}", names.join(" | ")),
        look.width,
        "  ",
        "      ",
    ) {
        let _ = writeln!(s, "{}", look.bold(&l));
    }
    // Features of one area whose lines would read the same after their name are one line:
    // `responses.{basic, usage}: ✓ pass | – unsupported; 200 response vs 404 error envelope`.
    struct Line<'a> {
        area: &'a str,
        names: Vec<&'a str>,
        cases: usize,
        /// The cells and summaries after the name(s).
        rest: String,
    }
    let mut lines: Vec<Line> = Vec::new();
    for f in &features {
        // Each target's cell as the matrix shows it (a failure by its impact).
        let row = r.features.iter().find(|row| row.feature == f.name);
        let cells: Vec<String> = f
            .outcomes
            .iter()
            .map(|(t, o)| {
                let mark = row.and_then(|f| f.mark(t)).unwrap_or(Mark::new(*o, None));
                look.mark_text(mark)
            })
            .collect();
        let mut rest = cells.join(" | ");
        if f.same {
            rest.push_str("; the responses differ in shape");
        }
        for sum in &f.summaries {
            let _ = write!(rest, "; {sum}");
        }
        let area = area_of(f.name);
        match lines.iter_mut().find(|l| l.area == area && l.rest == rest) {
            Some(l) => {
                l.names.push(f.name);
                l.cases += f.cases;
            }
            None => lines.push(Line {
                area,
                names: vec![f.name],
                cases: f.cases,
                rest,
            }),
        }
    }
    for Line {
        area,
        names,
        cases,
        rest,
    } in &lines
    {
        let mut line = match names.as_slice() {
            [one] => format!("{one}: {rest}"),
            many => {
                let short: Vec<&str> = many
                    .iter()
                    .map(|n| {
                        n.strip_prefix(area)
                            .and_then(|n| n.strip_prefix('.'))
                            .unwrap_or(n)
                    })
                    .collect();
                format!("{area}.{{{}}}: {rest}", short.join(", "))
            }
        };
        if *cases > names.len() {
            let _ = write!(line, " ({cases} cases)");
        }
        for l in wrap(&line, look.width, "  ", "      ") {
            let _ = writeln!(s, "{}", paint_outcome_words(&l, look));
        }
    }
    if look.diff {
        shape_diffs(s, r, look);
    }
}

/// `--diff`: every distinct shape diff once, with the cases it stands for; a success against
/// an error is its one-line summary.
fn shape_diffs(s: &mut String, r: &RunReport, look: Look) {
    let mut groups: Vec<(&ShapeDiff, Vec<String>)> = Vec::new();
    for d in &r.differences {
        for sd in &d.shape_diffs {
            let id = format!("{}/{}", d.suite, d.case);
            match groups.iter_mut().find(|(g, _)| {
                g.subject == sd.subject
                    && g.pass == sd.pass
                    && g.other == sd.other
                    && g.summary == sd.summary
                    && (sd.summary.is_some() || g.diff == sd.diff)
            }) {
                Some(g) => g.1.push(id),
                None => groups.push((sd, vec![id])),
            }
        }
    }
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nresponse shapes that differ:");
    for (sd, cases) in groups {
        let head = format!(
            "shape of the {} ({} vs {}), {}:",
            sd.subject,
            sd.pass,
            sd.other,
            name_cases(&cases, look)
        );
        for l in wrap(&head, look.width, "  ", "    ") {
            let _ = writeln!(s, "{l}");
        }
        if let Some(sum) = &sd.summary {
            let _ = writeln!(s, "    {sum}");
            continue;
        }
        // The diff's two header lines name the sides, already said above.
        let lines: Vec<&str> = sd.diff.lines().skip(2).collect();
        for line in lines.iter().take(DIFF_LINES) {
            let _ = writeln!(s, "      {}", one_line(line));
        }
        if lines.len() > DIFF_LINES {
            let cut = lines.len() - DIFF_LINES;
            let _ = writeln!(
                s,
                "      {} {cut} more line{} cut (report.html has the whole diff)",
                look.ellipsis(),
                plural(cut)
            );
        }
    }
}

/// One line per target, then the run's size and duration.
fn summary(s: &mut String, r: &RunReport, look: Look) {
    let _ = writeln!(s);
    let names = r.target_names();
    let pad = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let missing = MissingModels::of(&r.results);
    for t in &names {
        // Counted from the entries' summaries: a spooled run reads no entry back here.
        let mine = || r.summaries_of(Some(t));
        let of = |o: Outcome| mine().filter(|x| x.outcome == o).count();
        let impacts = [Impact::Breaks, Impact::Deviates].map(|i| {
            mine()
                .filter(|x| x.outcome == Outcome::Fail && x.impact == Some(i))
                .count()
        });
        let mut counts: Vec<(Outcome, usize, String)> = Vec::new();
        for o in [
            Outcome::Pass,
            Outcome::Fail,
            Outcome::Error,
            Outcome::Unsupported,
            Outcome::Skip,
        ] {
            let n = of(o);
            counts.push((o, n, format!("{n} {o}")));
        }
        let mut line = format!(
            "{t:<pad$}  {}",
            counts
                .iter()
                .map(|(o, _, text)| {
                    if *o == Outcome::Fail && impacts != [0, 0] {
                        format!(
                            "{text} ({} break a client, {} deviate)",
                            impacts[0], impacts[1]
                        )
                    } else {
                        text.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let flaky = mine().filter(|x| x.flaky).count();
        if flaky > 0 {
            let _ = write!(line, ", {flaky} flaky");
        }
        // Laid out first, then the counts that are not zero take their outcome's colour.
        for mut l in wrap(&line, look.width, "", &" ".repeat(pad + 2)) {
            for (o, n, text) in &counts {
                if *n > 0 && l.contains(text.as_str()) {
                    l = l.replacen(text.as_str(), &look.paint(*o, text), 1);
                }
            }
            let _ = writeln!(s, "{l}");
        }
        if let Some(missing) = missing.line(Some(t)) {
            let text = format!("{missing} (--model ROLE=ID, or `models:` in the targets file)");
            for l in wrap(
                &text,
                look.width,
                &" ".repeat(pad + 2),
                &" ".repeat(pad + 4),
            ) {
                let _ = writeln!(s, "{l}");
            }
        }
    }
    let n = r.results.len();
    let mut tail = format!(
        "{n} case result{} on {} target{} in {}",
        plural(n),
        names.len(),
        plural(names.len()),
        seconds(r.duration_ms)
    );
    if r.partial {
        tail.push_str(" (partial: run interrupted)");
    }
    if r.replayed_from.is_some() {
        tail.push_str(" (replayed from recordings)");
    }
    let _ = writeln!(s, "{tail}");
}

fn seconds(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `a/b, c/d` — or the first few and how many more.
fn name_cases(ids: &[String], look: Look) -> String {
    if ids.len() <= NAMED_CASES {
        return ids.join(", ");
    }
    format!(
        "{} cases: {}, {} and {} more",
        ids.len(),
        ids[..NAMED_CASES - 1].join(", "),
        look.ellipsis(),
        ids.len() - (NAMED_CASES - 1)
    )
}

/// Word-wrap `text` to `width` columns (at least 40), the first line after `first`, the rest
/// after `rest`. A word longer than a line is broken.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let opts = textwrap::Options::new(width.max(40))
        .initial_indent(first)
        .subsequent_indent(rest)
        // Case ids and field names are not split at their hyphens; only a word longer than a
        // whole line is broken.
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        // Lines break at spaces only: with Unicode line breaking (a feature another dependency
        // may switch on) `chat/request-id` would break after its `/`.
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .break_words(true);
    textwrap::wrap(text, opts)
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

/// Colour every `✓ pass`, `✗ breaks`, `≠ deviates`, … in a laid-out line.
fn paint_outcome_words(line: &str, look: Look) -> String {
    if !look.color {
        return line.to_string();
    }
    let mut out = line.to_string();
    for m in [
        Mark::new(Outcome::Pass, None),
        Mark::new(Outcome::Fail, None),
        Mark::new(Outcome::Fail, Some(Impact::Breaks)),
        Mark::new(Outcome::Fail, Some(Impact::Deviates)),
        Mark::new(Outcome::Error, None),
        Mark::new(Outcome::Unsupported, None),
        Mark::new(Outcome::Skip, None),
    ] {
        let word = look.mark_text(m);
        out = out.replace(&word, &look.paint(m.outcome, &word));
    }
    out
}

/// Colour each cell of a laid-out table by the outcome it shows.
fn paint_table(table: &str, look: Look) -> String {
    if !look.color {
        return table.to_string();
    }
    let bar = if look.unicode { '│' } else { '|' };
    table
        .lines()
        .map(|line| {
            if !line.contains(bar) {
                return line.to_string();
            }
            line.split(bar)
                .map(|cell| match look.outcome_in(cell) {
                    Some(o) => {
                        let text = cell.trim();
                        let start = cell.find(text).unwrap_or(0);
                        format!(
                            "{}{}{}",
                            &cell[..start],
                            look.paint(o, text),
                            &cell[start + text.len()..]
                        )
                    }
                    None => cell.to_string(),
                })
                .collect::<Vec<_>>()
                .join(&bar.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn max_line_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn table_style(table: &mut tabled::Table, look: Look) {
    if look.unicode {
        table.with(Style::sharp());
    } else {
        table.with(Style::ascii());
    }
}

/// A feature that passed (or was skipped) on every target: without `--wide` the matrix counts
/// it in its area row instead of giving it a row of its own.
fn folded(row: &FeatureRow) -> bool {
    row.outcomes
        .values()
        .all(|o| matches!(o, Outcome::Pass | Outcome::Skip))
}

/// A feature whose outcome differs between targets: its line under "differences between
/// targets" stands for its row (with `--wide` the matrix has it too).
fn differs(r: &RunReport, row: &FeatureRow) -> bool {
    r.differences.iter().any(|d| d.feature == row.feature)
}

/// The matrix (without `--wide`, only the feature rows that did not pass somewhere); `compact`
/// uses symbols only and numbered target columns with a legend.
fn matrix(r: &RunReport, compact: bool, look: Look) -> String {
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
            rec.extend(names.iter().map(|t| area_summary(&rows, t, look)));
            b.push_record(rec);
        }
        if !look.wide && (folded(row) || differs(r, row)) {
            continue;
        }
        let feature = if compact {
            abbreviate(&row.feature, 34, look)
        } else {
            row.feature.clone()
        };
        let mut rec = vec![format!("  {feature}")];
        rec.extend(names.iter().map(|t| {
            row.mark(t)
                .map(|m| {
                    if compact {
                        look.mark_symbol(m).to_string()
                    } else {
                        look.mark_text(m)
                    }
                })
                .unwrap_or_default()
        }));
        b.push_record(rec);
    }
    let mut table = b.build();
    table_style(&mut table, look);
    let mut out = table.to_string();
    if compact {
        out.push_str("\nlegend: ");
        let legend: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("T{} = {n}", i + 1))
            .collect();
        out.push_str(&legend.join(", "));
        let deviates = Mark::new(Outcome::Fail, Some(Impact::Deviates));
        let _ = write!(
            out,
            "; {} pass {} breaks a client {} deviates {} unsupported {} error {} skip",
            look.symbol(Outcome::Pass),
            look.symbol(Outcome::Fail),
            look.mark_symbol(deviates),
            look.symbol(Outcome::Unsupported),
            look.symbol(Outcome::Error),
            look.symbol(Outcome::Skip),
        );
    }
    out
}

/// `9/11 ✓` — features passing out of those that ran (skips excluded), with the symbol of the
/// worst of them: `0/5 ✗` when any breaks a client (`≠` when the failures only deviate), never
/// a ✓ beside a failure.
fn area_summary(rows: &[&FeatureRow], target: &str, look: Look) -> String {
    let marks: Vec<Mark> = rows.iter().filter_map(|r| r.mark(target)).collect();
    let ran: Vec<Mark> = marks
        .iter()
        .copied()
        .filter(|m| m.outcome != Outcome::Skip)
        .collect();
    let Some(worst) = ran
        .iter()
        .copied()
        .max_by_key(|m| (m.outcome.severity(), m.impact))
    else {
        return if marks.is_empty() {
            String::new()
        } else {
            look.symbol(Outcome::Skip).to_string()
        };
    };
    let pass = ran.iter().filter(|m| m.outcome == Outcome::Pass).count();
    format!("{pass}/{} {}", ran.len(), look.mark_symbol(worst))
}

fn abbreviate(s: &str, max: usize, look: Look) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let e = look.ellipsis();
        let cut: String = s.chars().take(max - e.chars().count()).collect();
        format!("{cut}{e}")
    }
}

fn latency_table(r: &RunReport, look: Look) -> String {
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
                    abbreviate(t, 24, look),
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
    table_style(&mut table, look);
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_decides_unicode() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(unicode_locale(env(&[])));
        assert!(unicode_locale(env(&[("LANG", "en_US.UTF-8")])));
        assert!(unicode_locale(env(&[("LANG", "C.utf8")])));
        assert!(!unicode_locale(env(&[("LANG", "C")])));
        assert!(!unicode_locale(env(&[("LANG", "POSIX")])));
        // LC_ALL wins over LANG; an empty one does not count.
        assert!(!unicode_locale(env(&[
            ("LC_ALL", "C"),
            ("LANG", "en_US.UTF-8")
        ])));
        assert!(unicode_locale(env(&[
            ("LC_ALL", ""),
            ("LANG", "en_US.UTF-8")
        ])));
        assert!(!unicode_locale(env(&[("LC_CTYPE", "en_US.ISO-8859-1")])));
    }

    #[test]
    fn an_area_row_shows_its_worst_outcome() {
        let row = |o: Outcome| FeatureRow {
            feature: "chat.x".into(),
            outcomes: BTreeMap::from([("t".to_string(), o)]),
            impacts: BTreeMap::from([("t".to_string(), Impact::Breaks)]),
        };
        let (p, f, u, s) = (
            row(Outcome::Pass),
            row(Outcome::Fail),
            row(Outcome::Unsupported),
            row(Outcome::Skip),
        );
        let look = Look::default();
        assert_eq!(area_summary(&[&p, &p], "t", look), "2/2 ✓");
        assert_eq!(area_summary(&[&p, &f, &u], "t", look), "1/3 ✗");
        assert_eq!(area_summary(&[&f, &f], "t", look), "0/2 ✗");
        assert_eq!(area_summary(&[&p, &u, &s], "t", look), "1/2 –");
        assert_eq!(area_summary(&[&s], "t", look), "·");
        // A failure no client notices is `≠`; one that breaks a client outranks it.
        let d = FeatureRow {
            impacts: BTreeMap::from([("t".to_string(), Impact::Deviates)]),
            ..row(Outcome::Fail)
        };
        assert_eq!(area_summary(&[&p, &d], "t", look), "1/2 ≠");
        assert_eq!(area_summary(&[&d, &f], "t", look), "0/2 ✗");
        let ascii = Look {
            unicode: false,
            ..look
        };
        assert_eq!(area_summary(&[&p, &f], "t", ascii), "1/2 x");
    }

    #[test]
    fn wrapping_keeps_to_the_width() {
        let text = "errors.envelope: error body is a JSON array `[{\"error\": …}]` (list-wrapped, Gemini-style), not an object with an `error` member";
        let lines = wrap(text, 80, "      ", "      ");
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(textwrap::core::display_width(l) <= 80, "{l}");
        }
    }

    #[test]
    fn case_ids_are_not_broken_at_their_slash() {
        let ids = "✗ breaks errors/bad-model, errors/missing-messages, errors/malformed-json, chat/request-id";
        let lines = wrap(ids, 40, "  ", "      ");
        for l in &lines {
            assert!(!l.trim_end().ends_with('/'), "{lines:?}");
        }
        assert!(
            lines.iter().any(|l| l.contains("chat/request-id")),
            "{lines:?}"
        );
    }
}
