//! Comparing a run's cases with their stored snapshots, as each case finishes and before its
//! outcome is derived: the comparison is the case's last check, and a mismatch fails a passing
//! case (reason `snapshot mismatch: <first differing line>`, the whole unified diff in the
//! case's checks; see `judge::case_outcome`). What is
//! written depends on the action (`--snapshots`), as in insta: `verify` writes nothing, `new`
//! writes missing snapshots, `update` also overwrites changed ones, `pending` writes
//! `.snap.new` files for review. In CI (`CI` set) a missing snapshot fails the case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::canonical;
use super::store::{self, Header, SnapshotError, SnapshotFile};
use crate::judge::FinishedCase;
use crate::judge::{CheckResult, Outcome};
use crate::load::Suite;
use crate::load::suite::{ScrubSelector, SnapshotMode};
use crate::redact::Redactor;

/// What `--snapshots` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Compare; write nothing. A mismatch fails the case; a missing snapshot fails it in CI.
    #[default]
    Verify,
    /// Write missing snapshots; a mismatch still fails.
    New,
    /// Write missing snapshots and overwrite changed ones.
    Update,
    /// Write missing and changed snapshots as `.snap.new` files, for `snapshots review`.
    Pending,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub action: Action,
    /// The snapshot directory (`snapshots/`).
    pub dir: PathBuf,
    /// Running in CI: a missing snapshot fails in `verify` mode.
    pub ci: bool,
}

/// Whether the environment says this is CI (`CI` set to anything but empty, `0` or `false`).
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| ci_value(&v))
}

fn ci_value(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    !(v.is_empty() || v == "0" || v == "false")
}

/// What happened to the run's snapshots.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub matched: usize,
    pub mismatched: usize,
    pub missing: usize,
    /// `.snap` files written (new or updated).
    pub written: Vec<PathBuf>,
    /// `.snap.new` files written.
    pub pending: Vec<PathBuf>,
    pub errors: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        *self == Summary::default()
    }

    /// One line for the terminal.
    pub fn line(&self, action: Action) -> String {
        let mut s = format!(
            "snapshots: {} matched, {} mismatched, {} missing",
            self.matched, self.mismatched, self.missing
        );
        if !self.written.is_empty() {
            s.push_str(&format!(", {} written", self.written.len()));
        }
        if !self.pending.is_empty() {
            s.push_str(&format!(
                ", {} pending review (`llm-parity snapshots review`)",
                self.pending.len()
            ));
        }
        if self.errors > 0 {
            s.push_str(&format!(", {} error(s)", self.errors));
        }
        if action == Action::Verify && self.missing > 0 {
            s.push_str(" — write missing ones with `--snapshots new`");
        }
        s
    }
}

/// Compares (and per the action, writes) the snapshot of each finished case whose case has a
/// `snapshot:` mode, as the run hands it over. Only cases that ran and passed or failed are
/// snapshotted; only passing ones are written (a snapshot pins what a conforming response
/// looks like).
pub struct Verifier<'a> {
    suites: &'a [Suite],
    opts: &'a Options,
    redactor: &'a Redactor,
    summary: Summary,
    /// With `--repeat`, a snapshot is written once per run; later repeats compare against it.
    written: BTreeMap<PathBuf, String>,
}

impl<'a> Verifier<'a> {
    pub fn new(suites: &'a [Suite], opts: &'a Options, redactor: &'a Redactor) -> Self {
        Verifier {
            suites,
            opts,
            redactor,
            summary: Summary::default(),
            written: BTreeMap::new(),
        }
    }

    /// Check one finished case, adding the snapshot's checks to its case checks.
    pub fn check(&mut self, rec: &mut FinishedCase) {
        let Some(mode) = rec.case.snapshot else {
            return;
        };
        let outcome = rec.outcome().outcome;
        if !matches!(outcome, Outcome::Pass | Outcome::Fail) || rec.steps.is_empty() {
            return;
        }
        let suite = self.suites.iter().find(|s| *s.id == *rec.case.suite);
        let selectors = suite.map(|s| s.scrub.as_slice()).unwrap_or(&[]);
        let current = current_snapshot(rec, mode, selectors, self.redactor);
        let path = store::path_for(
            &self.opts.dir,
            &rec.target.name,
            &rec.case.suite,
            &rec.case.id,
        );
        // A built-in suite's case falls back to the snapshot shipped in the binary, wherever
        // the tool runs; the project's own file of the same case wins.
        let shipped = suite
            .filter(|s| s.builtin)
            .and_then(|_| store::shipped(&rec.target.name, &rec.case.suite, &rec.case.id));
        let checks = compare_one(
            &path,
            shipped,
            &current,
            outcome,
            self.opts,
            &mut self.summary,
            &mut self.written,
        );
        rec.case_checks.extend(checks);
    }

    /// What happened to the run's snapshots.
    pub fn finish(self) -> Summary {
        self.summary
    }
}

/// The snapshot this run produced for a finished case.
fn current_snapshot(
    rec: &FinishedCase,
    mode: SnapshotMode,
    selectors: &[ScrubSelector],
    redactor: &Redactor,
) -> SnapshotFile {
    let steps: Vec<(&str, &crate::execute::exchange::Exchange)> = rec
        .steps
        .iter()
        .map(|s| (s.name.as_str(), &s.exchange))
        .collect();
    let doc = canonical::document(mode, &steps, selectors);
    // The snapshot passes through the redactor like every other output.
    let body = store::normalize(&redactor.text(&canonical::render(&doc)));
    let model = rec
        .steps
        .first()
        .and_then(|s| s.exchange.request.body.as_ref())
        .and_then(|b| b.get("model"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .or_else(|| {
            rec.case
                .roles
                .first()
                .and_then(|r| rec.target.model(r))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "-".into());
    let r = |s: &str| redactor.text(s).into_owned();
    SnapshotFile {
        header: Header {
            suite: rec.case.suite.to_string(),
            case: rec.case.id.to_string(),
            target: r(&rec.target.name),
            model: r(&model),
            tool: format!("llm-parity {}", env!("CARGO_PKG_VERSION")),
            mode: mode.as_str().into(),
        },
        body,
    }
}

/// Compare one snapshot with the stored one; write per the action; the checks to record.
/// `written` holds what this run already wrote per snapshot path (`--repeat`: later repeats are
/// compared with the first, not with the file the first one replaced).
fn compare_one(
    path: &Path,
    shipped: Option<(String, Result<SnapshotFile, SnapshotError>)>,
    current: &SnapshotFile,
    outcome: Outcome,
    opts: &Options,
    summary: &mut Summary,
    written: &mut BTreeMap<PathBuf, String>,
) -> Vec<CheckResult> {
    let mut shown = path.display().to_string();
    let repeat = written.contains_key(path);
    let stored: Result<Option<String>, SnapshotError> = match written.get(path) {
        Some(body) => Ok(Some(body.clone())),
        None => match (store::read(path), shipped) {
            (Ok(None), Some((name, file))) => {
                shown = name;
                file.map(|f| Some(f.body))
            }
            (read, _) => read.map(|o| o.map(|s| s.body)),
        },
    };
    if let Ok(Some(body)) = &stored
        && *body == current.body
    {
        summary.matched += 1;
        // A stale pending file for a snapshot that matches again is obsolete.
        if opts.action != Action::Verify && !repeat {
            let _ = store::remove(&store::pending_path(path));
        }
        return vec![CheckResult::pass("snapshot", format!("matches {shown}"))];
    }
    let missing = matches!(stored, Ok(None));
    if missing {
        summary.missing += 1;
    } else {
        summary.mismatched += 1;
    }
    let wants_write = match opts.action {
        Action::Update | Action::Pending => true,
        Action::New => missing,
        Action::Verify => false,
    };
    if wants_write && !repeat {
        if outcome != Outcome::Pass {
            // Fall through to the comparison: a failing case's response is not written.
            return vec![CheckResult::warn(
                "snapshot",
                format!("not written: the case did not pass ({shown})"),
            )]
            .into_iter()
            .chain(problem(&stored, current, &shown, opts))
            .collect();
        }
        written.insert(path.to_path_buf(), current.body.clone());
        let (target, pending) = if opts.action == Action::Pending {
            (store::pending_path(path), true)
        } else {
            (path.to_path_buf(), false)
        };
        return match store::write(&target, current) {
            Ok(()) => {
                let what = match (pending, missing) {
                    (true, true) => format!("new snapshot, pending review: {}", target.display()),
                    (true, false) => {
                        format!("snapshot changed, pending review: {}", target.display())
                    }
                    (false, true) => format!("snapshot written: {}", target.display()),
                    (false, false) => format!("snapshot updated: {}", target.display()),
                };
                let at = path.display().to_string();
                if pending {
                    summary.pending.push(target);
                } else {
                    let _ = store::remove(&store::pending_path(path));
                    summary.written.push(target);
                }
                vec![CheckResult::warn("snapshot", what).at(at)]
            }
            Err(e) => {
                summary.errors += 1;
                vec![CheckResult::fail(
                    "snapshot",
                    format!("snapshot not written: {e}"),
                )]
            }
        };
    }
    problem(&stored, current, &shown, opts)
        .into_iter()
        .collect()
}

/// What is wrong with the stored snapshot, when nothing was written.
fn problem(
    stored: &Result<Option<String>, SnapshotError>,
    current: &SnapshotFile,
    shown: &str,
    opts: &Options,
) -> Option<CheckResult> {
    Some(match stored {
        Err(e) => CheckResult::fail("snapshot", format!("snapshot unreadable: {e}"))
            .at(shown)
            .expected("a snapshot file (a `---` header, then JSON)"),
        Ok(None) if opts.ci && opts.action == Action::Verify => CheckResult::fail(
            "snapshot",
            format!(
                "snapshot missing: {shown} (in CI a missing snapshot fails; write it with `--snapshots new` and commit it)"
            ),
        )
        .at(shown),
        Ok(None) => CheckResult::warn(
            "snapshot",
            format!("no stored snapshot (write it with `--snapshots new`): {shown}"),
        )
        .at(shown),
        Ok(Some(body)) if *body == current.body => return None,
        Ok(Some(body)) => {
            let (first, diff) = diff(body, &current.body, shown);
            CheckResult::fail("snapshot", format!("snapshot mismatch: {first}\n{diff}"))
                .at(shown)
                .expected("the stored snapshot")
                .actual(first)
        }
    })
}

/// The first differing line (one line, for the reason) and the unified diff.
pub fn diff(stored: &str, current: &str, name: &str) -> (String, String) {
    // The first difference is found ignoring trailing commas: pretty JSON adds one to the line
    // before an inserted key, which is not the line worth naming.
    let strip = |t: &str| -> String {
        t.lines()
            .map(|l| l.strip_suffix(',').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (old_s, new_s) = (strip(stored), strip(current));
    let d = similar::TextDiff::from_lines(&old_s, &new_s);
    let old: Vec<&str> = old_s.lines().collect();
    let new: Vec<&str> = new_s.lines().collect();
    let first = d
        .ops()
        .iter()
        .map(|op| op.as_tag_tuple())
        .find(|(tag, _, _)| *tag != similar::DiffTag::Equal)
        .map(|(tag, o, n)| {
            let line = |v: &[&str], i: usize| v.get(i).map(|s| s.trim()).unwrap_or("").to_string();
            match tag {
                similar::DiffTag::Delete => {
                    format!("line {}: `{}` removed", o.start + 1, line(&old, o.start))
                }
                similar::DiffTag::Insert => {
                    format!("line {}: `{}` added", o.start + 1, line(&new, n.start))
                }
                _ => format!(
                    "line {}: `{}` became `{}`",
                    o.start + 1,
                    line(&old, o.start),
                    line(&new, n.start)
                ),
            }
        })
        .unwrap_or_else(|| "whitespace differs".into());
    let unified = similar::TextDiff::from_lines(stored, current)
        .unified_diff()
        .context_radius(3)
        .header(name, "this run")
        .to_string();
    (first, unified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_differing_line_is_named() {
        let (first, d) = diff(
            "{\n  \"a\": \"string\"\n}\n",
            "{\n  \"a\": \"integer\"\n}\n",
            "x.snap",
        );
        assert_eq!(
            first,
            "line 2: `\"a\": \"string\"` became `\"a\": \"integer\"`"
        );
        assert!(
            d.contains("--- x.snap") && d.contains("+  \"a\": \"integer\""),
            "{d}"
        );
        let (first, _) = diff("{\n}\n", "{\n  \"b\": 1\n}\n", "x");
        assert_eq!(first, "line 2: `\"b\": 1` added");
        let (first, _) = diff("{\n  \"a\": 1\n}\n", "{\n  \"a\": 1,\n  \"b\": 2\n}\n", "x");
        assert_eq!(first, "line 3: `\"b\": 2` added");
    }

    #[test]
    fn ci_detection() {
        assert!(ci_value("true") && ci_value("1") && ci_value("yes"));
        assert!(!ci_value("false") && !ci_value("0") && !ci_value(""));
    }
}
