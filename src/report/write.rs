//! Writing output files atomically: a temporary file in the same directory, then a rename, so
//! an interrupted or crashing run never leaves a half-written report.

use std::path::Path;

pub fn atomic_write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    atomic_write_with(path, |w| w.write_all(contents))
}

/// Like `atomic_write`, with the contents streamed by `write` (buffered), so a large report
/// is never held in memory as one string.
pub fn atomic_write_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut buf = std::io::BufWriter::with_capacity(64 * 1024, tmp);
    write(&mut buf)?;
    let tmp = buf.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/report.json");
        super::atomic_write(&p, b"one").unwrap();
        super::atomic_write(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp files left"
        );
    }
}
