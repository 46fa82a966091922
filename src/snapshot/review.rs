//! `llm-parity snapshots review|accept|reject [GLOB]`: the explicit steps that turn pending
//! `.snap.new` files into stored snapshots (or drop them). GLOB matches `<target>/<suite>/<case>`
//! like `--filter` (`*` crosses `/`); without one, every pending snapshot.

use std::path::Path;

use globset::{Glob, GlobMatcher};

use super::store::{self, Pending, SnapshotError};
use super::verify::diff;

/// The pending snapshots under `dir` that match `glob`.
pub fn select(dir: &Path, glob: Option<&str>) -> Result<Vec<Pending>, SnapshotError> {
    let matcher: Option<GlobMatcher> = match glob {
        None => None,
        Some(g) => Some(
            Glob::new(g)
                .map_err(|source| SnapshotError::Glob {
                    glob: g.to_string(),
                    source,
                })?
                .compile_matcher(),
        ),
    };
    let mut out = Vec::new();
    for mut p in store::pending(dir)? {
        // The target as the user writes it (`reference:gemini-compat`, from the pending file's
        // header) rather than its directory (`reference_gemini-compat`); a glob over the
        // directory form still matches.
        let named = store::read(&p.new)
            .ok()
            .flatten()
            .and_then(|f| Some(format!("{}/{}", f.header.target, p.id.split_once('/')?.1)));
        let keep = matcher
            .as_ref()
            .is_none_or(|m| m.is_match(&p.id) || named.as_deref().is_some_and(|n| m.is_match(n)));
        if keep {
            if let Some(n) = named {
                p.id = n;
            }
            out.push(p);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The text `review` prints for one pending snapshot: its id, then the diff against the stored
/// snapshot (or the whole new snapshot when none is stored).
pub fn render_review(p: &Pending) -> Result<String, SnapshotError> {
    let new = store::read(&p.new)?.ok_or_else(|| SnapshotError::Gone(p.new.clone()))?;
    let old = store::read(&p.snap)?;
    let mut out = format!(
        "── {} ({} mode, model {}, {})\n",
        p.id, new.header.mode, new.header.model, new.header.tool
    );
    match old {
        Some(old) if old.body == new.body => {
            out.push_str("  unchanged (accepting only drops the .new file)\n")
        }
        Some(old) => {
            let (first, d) = diff(&old.body, &new.body, &p.snap.display().to_string());
            let d = d.replacen("+++ this run", &format!("+++ {}", p.new.display()), 1);
            out.push_str(&format!("  changed: {first}\n{d}"));
        }
        None => {
            out.push_str(&format!(
                "  new snapshot ({} is absent)\n",
                p.snap.display()
            ));
            for line in new.body.lines() {
                out.push_str(&format!("+{line}\n"));
            }
        }
    }
    Ok(out)
}

/// Accept: the `.snap.new` replaces the `.snap` (a rename: atomic on one file system).
pub fn accept(p: &Pending) -> Result<(), SnapshotError> {
    std::fs::rename(&p.new, &p.snap).map_err(|source| SnapshotError::Move {
        from: p.new.clone(),
        to: p.snap.clone(),
        source,
    })
}

/// Reject: the `.snap.new` is deleted; the stored snapshot stays.
pub fn reject(p: &Pending) -> Result<(), SnapshotError> {
    store::remove(&p.new).map(|_| ())
}
