//! `llm-parity snapshots review|accept|reject [GLOB]`: print, accept or reject pending snapshots.

use super::args::{SnapshotsAction, SnapshotsArgs};
use super::error::CliError;
use super::out::{out, outln};
use crate::exit;
use crate::snapshot::review;

pub fn run(a: &SnapshotsArgs) -> Result<u8, CliError> {
    let dir = match &a.project {
        Some(project) => project.join(&a.snapshots_dir),
        None => a.snapshots_dir.clone(),
    };
    let pending = review::select(&dir, a.glob.as_deref())?;
    if pending.is_empty() {
        let scope = a
            .glob
            .as_deref()
            .map(|g| format!(" matching `{g}`"))
            .unwrap_or_default();
        outln!("no pending snapshots{scope} in {}", dir.display());
        return Ok(exit::OK);
    }
    let mut failed = false;
    for p in &pending {
        let res = match a.action {
            SnapshotsAction::Review => review::render_review(p).map(|text| out!("{text}")),
            SnapshotsAction::Accept => {
                review::accept(p).map(|()| outln!("accepted {} → {}", p.id, p.snap.display()))
            }
            SnapshotsAction::Reject => review::reject(p)
                .map(|()| outln!("rejected {} (deleted {})", p.id, p.new.display())),
        };
        if let Err(e) = res {
            eprintln!("error: {e}");
            failed = true;
        }
    }
    if a.action == SnapshotsAction::Review {
        outln!(
            "{} pending snapshot(s): `llm-parity snapshots accept [GLOB]` or `llm-parity snapshots reject [GLOB]`",
            pending.len()
        );
    }
    // Some pending snapshots could not be shown, accepted or rejected (each said why).
    Ok(if failed { exit::CONFIG } else { exit::OK })
}
