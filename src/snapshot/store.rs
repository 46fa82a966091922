//! Snapshot files: `<dir>/<target>/<suite>/<case>.snap` — a short header, then the canonical
//! document. Pending changes go to `<case>.snap.new` beside it (insta's convention) until they
//! are accepted or rejected. Every write is atomic.

use std::path::{Path, PathBuf};

use crate::util::fs::{
    MIB, ReadError, ReadErrorKind, atomic_write, read_bounded_string, safe_chars,
};

/// The largest snapshot file read: an `exact` snapshot holds a whole body (at most
/// `--max-body`, 8 MiB by default), pretty-printed.
const SNAPSHOT_FILE_LIMIT: u64 = 64 * MIB;

/// Suffix of a stored snapshot, and of a pending one.
pub const EXT: &str = "snap";
pub const NEW_EXT: &str = "snap.new";

/// The header of a snapshot file: where it came from. Not compared — only the body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub suite: String,
    pub case: String,
    pub target: String,
    pub model: String,
    pub tool: String,
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub header: Header,
    /// The canonical document (pretty JSON, sorted keys, final newline).
    pub body: String,
}

/// A target name as a directory name: anything but letters, digits, `.`, `_` and `-` becomes
/// `_` (`reference:gemini-compat` → `reference_gemini-compat`), so no name can leave the
/// snapshot directory.
pub fn dir_name(target: &str) -> String {
    let s = safe_chars(target);
    if s.is_empty() || s.chars().all(|c| c == '.') {
        "_".into()
    } else {
        s
    }
}

/// `<target>/<suite>/<case>`: the id review globs match.
pub fn snapshot_id(target: &str, suite: &str, case: &str) -> String {
    format!("{}/{suite}/{case}", dir_name(target))
}

pub fn path_for(dir: &Path, target: &str, suite: &str, case: &str) -> PathBuf {
    dir.join(dir_name(target))
        .join(suite)
        .join(format!("{case}.{EXT}"))
}

/// The pending file beside a snapshot.
pub fn pending_path(snap: &Path) -> PathBuf {
    let mut s = snap.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

pub fn render(file: &SnapshotFile) -> String {
    let h = &file.header;
    format!(
        "---\nsuite: {}\ncase: {}\ntarget: {}\nmodel: {}\ntool: {}\nmode: {}\n---\n{}",
        one_line(&h.suite),
        one_line(&h.case),
        one_line(&h.target),
        one_line(&h.model),
        one_line(&h.tool),
        one_line(&h.mode),
        file.body
    )
}

/// Line endings normalised (a checkout may have turned `\n` into `\r\n`), one final newline.
pub fn normalize(body: &str) -> String {
    let b = body.replace("\r\n", "\n");
    format!("{}\n", b.trim_end())
}

/// Why a snapshot, or a pending one, cannot be read, written or moved.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{}: {problem}", path.display())]
    Format { path: PathBuf, problem: FormatError },
    #[error("cannot read {}: {}", .0.path.display(), .0.kind)]
    Read(ReadError),
    #[error("cannot read {}: {source}", path.display())]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move {} to {}: {source}", from.display(), to.display())]
    Move {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error("{name}: {problem}")]
    Shipped { name: String, problem: FormatError },
    #[error("{} disappeared", .0.display())]
    Gone(PathBuf),
    #[error(
        "invalid snapshot glob `{glob}`: {source} (expected a glob over `<target>/<suite>/<case>`, e.g. `reference/chat/*`)"
    )]
    Glob {
        glob: String,
        source: globset::Error,
    },
}

/// What is wrong with a snapshot file's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("expected a `---` header line first")]
    NoHeader,
    #[error("expected a `---` line closing the header")]
    Unclosed,
    #[error("expected `key: value` in the header, found `{0}`")]
    HeaderLine(String),
}

pub fn parse(text: &str) -> Result<SnapshotFile, FormatError> {
    let text = text.replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n").ok_or(FormatError::NoHeader)?;
    let (head, body) = rest.split_once("\n---\n").ok_or(FormatError::Unclosed)?;
    let mut h = Header {
        suite: String::new(),
        case: String::new(),
        target: String::new(),
        model: String::new(),
        tool: String::new(),
        mode: String::new(),
    };
    for line in head.lines() {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| FormatError::HeaderLine(line.to_string()))?;
        let v = v.trim().to_string();
        match k.trim() {
            "suite" => h.suite = v,
            "case" => h.case = v,
            "target" => h.target = v,
            "model" => h.model = v,
            "tool" => h.tool = v,
            "mode" => h.mode = v,
            // Unknown keys from a newer tool version are kept out of the comparison anyway.
            _ => {}
        }
    }
    Ok(SnapshotFile {
        header: h,
        body: normalize(body),
    })
}

/// Read a snapshot: `Ok(None)` when there is none.
pub fn read(path: &Path) -> Result<Option<SnapshotFile>, SnapshotError> {
    match read_bounded_string(path, SNAPSHOT_FILE_LIMIT) {
        Ok(t) => parse(&t)
            .map(Some)
            .map_err(|problem| SnapshotError::Format {
                path: path.to_path_buf(),
                problem,
            }),
        Err(ReadError {
            kind: ReadErrorKind::Io(e),
            ..
        }) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SnapshotError::Read(e)),
    }
}

/// The snapshot shipped inside the binary for a built-in suite's case
/// (`<target>/<suite>/<case>.snap`, as under the project's `snapshots/`), with its name.
pub fn shipped(
    target: &str,
    suite: &str,
    case: &str,
) -> Option<(String, Result<SnapshotFile, SnapshotError>)> {
    let rel = format!("{}/{suite}/{case}.{EXT}", dir_name(target));
    let text = crate::load::builtin::snapshot(&rel)?;
    let name = format!("built-in snapshot {rel}");
    let parsed = parse(text).map_err(|problem| SnapshotError::Shipped {
        name: name.clone(),
        problem,
    });
    Some((name, parsed))
}

pub fn write(path: &Path, file: &SnapshotFile) -> Result<(), SnapshotError> {
    atomic_write(path, render(file).as_bytes()).map_err(|source| SnapshotError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Remove a file if it exists.
pub fn remove(path: &Path) -> Result<bool, SnapshotError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(SnapshotError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A pending snapshot found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// `<target>/<suite>/<case>`.
    pub id: String,
    /// The `.snap.new` file.
    pub new: PathBuf,
    /// The `.snap` file it would replace (which may not exist).
    pub snap: PathBuf,
}

/// Every `.snap.new` under `dir` (three levels: target, suite, case), sorted by id.
pub fn pending(dir: &Path) -> Result<Vec<Pending>, SnapshotError> {
    let mut out = Vec::new();
    let subdirs = |p: &Path| -> Result<Vec<PathBuf>, SnapshotError> {
        match std::fs::read_dir(p) {
            Ok(rd) => Ok(rd.flatten().map(|e| e.path()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
            Err(source) => Err(SnapshotError::List {
                path: p.to_path_buf(),
                source,
            }),
        }
    };
    for target in subdirs(dir)?.into_iter().filter(|p| p.is_dir()) {
        for suite in subdirs(&target)?.into_iter().filter(|p| p.is_dir()) {
            for file in subdirs(&suite)? {
                let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(case) = name.strip_suffix(&format!(".{NEW_EXT}")) else {
                    continue;
                };
                let seg = |p: &Path| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                };
                out.push(Pending {
                    id: format!("{}/{}/{case}", seg(&target), seg(&suite)),
                    snap: suite.join(format!("{case}.{EXT}")),
                    new: file,
                });
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SnapshotFile {
        SnapshotFile {
            header: Header {
                suite: "chat".into(),
                case: "basic".into(),
                target: "reference".into(),
                model: "ref-chat".into(),
                tool: "llm-parity 0.1.0".into(),
                mode: "shape".into(),
            },
            body: "{\n  \"a\": \"string\"\n}\n".into(),
        }
    }

    #[test]
    fn round_trips_and_tolerates_crlf() {
        let f = sample();
        let text = render(&f);
        assert_eq!(parse(&text).unwrap(), f);
        assert_eq!(parse(&text.replace('\n', "\r\n")).unwrap(), f);
        let e = parse("{}").unwrap_err();
        assert!(
            e.to_string().contains("expected a `---` header line first"),
            "{e}"
        );
    }

    #[test]
    fn target_names_stay_inside_the_directory() {
        assert_eq!(
            dir_name("reference:gemini-compat"),
            "reference_gemini-compat"
        );
        assert_eq!(dir_name("../x"), ".._x");
        assert_eq!(dir_name(".."), "_");
        assert_eq!(
            path_for(Path::new("s"), "a/b", "chat", "basic"),
            Path::new("s/a_b/chat/basic.snap")
        );
    }

    #[test]
    fn finds_pending_files() {
        let dir = tempfile::tempdir().unwrap();
        let snap = path_for(dir.path(), "t", "chat", "basic");
        write(&pending_path(&snap), &sample()).unwrap();
        write(&path_for(dir.path(), "t", "chat", "other"), &sample()).unwrap();
        let p = pending(dir.path()).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].id, "t/chat/basic");
        assert_eq!(p[0].snap, snap);
        assert!(pending(&dir.path().join("absent")).unwrap().is_empty());
    }
}
