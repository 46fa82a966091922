//! Files: bounded reads of the files a user names, atomic writes of the files we produce, and
//! safe file names.
//!
//! Every file a user names (a suite, the targets file, a baseline, a fixture, `--ca-cert`…) is
//! read with [`read_bounded`]: a path that names a FIFO, a device such as `/dev/zero` or a
//! directory, or a file far larger than its kind ever is, fails at once with the path and the
//! reason instead of hanging the run or exhausting memory.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One mebibyte, for the read limits the callers choose.
pub const MIB: u64 = 1024 * 1024;

/// A file that could not be read whole: which one, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    /// Why, without the path (for messages that name the path already).
    pub kind: ReadErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadErrorKind {
    /// Opening or reading failed (missing, permission denied, …).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A FIFO, a device, a socket or a directory: reading it could block forever or never end.
    #[error("not a regular file (a {0})")]
    NotAFile(&'static str),
    /// Larger than the limit of its kind; nothing past the limit was read.
    #[error("larger than {}, the limit for this file", Size(*limit))]
    TooLarge { limit: u64 },
    /// The line and column (1-based, in characters) of the first byte that is not UTF-8.
    #[error("not UTF-8 text: invalid byte 0x{byte:02x} at line {line}, column {column}")]
    NotUtf8 {
        byte: u8,
        line: usize,
        column: usize,
    },
    /// A UTF-16 byte-order mark: the file was saved as UTF-16 (a Windows editor's "Unicode").
    #[error("UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8")]
    Utf16,
}

/// Read a regular file whole, refusing anything else and anything larger than `limit` bytes.
/// Never blocks on a FIFO and never reads more than `limit + 1` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let fail = |kind: ReadErrorKind| ReadError {
        path: path.to_path_buf(),
        kind,
    };
    let file = open_for_reading(path).map_err(|e| fail(e.into()))?;
    // The type of what was opened (not of what the path named a moment before): no race.
    let meta = file.metadata().map_err(|e| fail(e.into()))?;
    if !meta.is_file() {
        return Err(fail(ReadErrorKind::NotAFile(describe(&meta.file_type()))));
    }
    if meta.len() > limit {
        return Err(fail(ReadErrorKind::TooLarge { limit }));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    // One byte past the limit tells a file that grew past it from one that ends there.
    (&file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| fail(e.into()))?;
    if buf.len() as u64 > limit {
        return Err(fail(ReadErrorKind::TooLarge { limit }));
    }
    Ok(buf)
}

/// [`read_bounded`] for text files: the contents must be UTF-8.
pub fn read_bounded_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, limit)?;
    let fail = |kind| ReadError {
        path: path.to_path_buf(),
        kind,
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(fail(ReadErrorKind::Utf16));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // Everything before `at` is UTF-8.
        let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, column) = super::text::line_col(before, at);
        fail(ReadErrorKind::NotUtf8 {
            byte: bytes[at],
            line,
            column,
        })
    })
}

/// Open without blocking: a FIFO opened for reading otherwise waits for a writer, forever.
#[cfg(unix)]
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn describe(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    "special file"
}

/// A byte count as people write limits: `4 MiB`, `16 KiB`, `100 bytes`.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1024;
        match self.0 {
            n if n >= MIB && n % MIB == 0 => write!(f, "{} MiB", n / MIB),
            n if n >= KIB && n % KIB == 0 => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}

/// Write a file atomically: a temporary file in the same directory, then a rename, so an
/// interrupted or crashing run never leaves a half-written report, snapshot or recording.
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
    let tmp = temp_file_in(dir)?;
    let mut buf = std::io::BufWriter::with_capacity(64 * 1024, tmp);
    write(&mut buf)?;
    let tmp = buf.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file in `dir` whose mode is what any new file would get: asked for as `0o666`,
/// so the kernel applies the umask (`-rw-r--r--` under the usual `022`). tempfile's own default
/// is `0o600`, which would leave reports, baselines and recordings unreadable to a web server or
/// a teammate's CI step after the rename.
fn temp_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// `name` with every character outside `[A-Za-z0-9._-]` replaced by `_`: safe as one path
/// component except for the dot rules (`.`, `..`, hidden names), which each caller decides.
pub fn safe_chars(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Read as much of `buf` as the file holds from `offset` on (positioned, so a file shared by
/// threads needs no seek).
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(file, &mut buf[done..], offset + done as u64);
        #[cfg(windows)]
        let n =
            std::os::windows::fs::FileExt::seek_read(file, &mut buf[done..], offset + done as u64);
        match n {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Write all of `buf` to the file at `offset` (positioned, like [`read_at`]).
pub fn write_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::write_at(file, &buf[done..], offset + done as u64);
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_write(file, &buf[done..], offset + done as u64);
        match n {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/report.json");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp files left"
        );
    }

    #[test]
    fn reads_a_file_up_to_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("suite.yaml");
        std::fs::write(&p, "0123456789").unwrap();
        assert_eq!(read_bounded(&p, 10).unwrap(), b"0123456789");
        assert_eq!(read_bounded_string(&p, 100).unwrap(), "0123456789");
        let e = read_bounded(&p, 9).unwrap_err();
        assert!(
            matches!(e.kind, ReadErrorKind::TooLarge { limit: 9 }),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{}: larger than 9 bytes, the limit for this file",
                p.display()
            )
        );
    }

    #[test]
    fn a_missing_file_keeps_the_io_error() {
        let p = Path::new("/nonexistent/llm-parity/suite.yaml");
        let e = read_bounded(p, 10).unwrap_err();
        let ReadErrorKind::Io(io) = &e.kind else {
            panic!("{e}")
        };
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(e.path, p);
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bounded(dir.path(), MIB).unwrap_err();
        assert!(
            matches!(e.kind, ReadErrorKind::NotAFile("directory")),
            "{e}"
        );
        assert!(
            e.to_string().contains("not a regular file (a directory)"),
            "{e}"
        );
    }

    #[test]
    fn invalid_utf8_names_its_line_and_column_and_utf16_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.yaml");
        std::fs::write(
            &p,
            "a: é\nbé: x"
                .bytes()
                .chain([0xff, b'c'])
                .collect::<Vec<u8>>(),
        )
        .unwrap();
        let e = read_bounded_string(&p, MIB).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ReadErrorKind::NotUtf8 {
                    byte: 0xff,
                    line: 2,
                    column: 6
                }
            ),
            "{e}"
        );
        for bom in [[0xff, 0xfe], [0xfe, 0xff]] {
            std::fs::write(&p, [&bom[..], b"a\0:\0"].concat()).unwrap();
            let e = read_bounded_string(&p, MIB).unwrap_err();
            assert!(matches!(e.kind, ReadErrorKind::Utf16), "{e}");
        }
    }

    /// `/dev/zero` never ends: it must be refused, not read up to the limit.
    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_without_reading() {
        let e = read_bounded(Path::new("/dev/zero"), 16).unwrap_err();
        assert!(
            matches!(e.kind, ReadErrorKind::NotAFile("character device")),
            "{e}"
        );
    }

    /// A FIFO with no writer would block a plain open forever; it is refused at once.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap();
        assert!(made.success());
        let e = read_bounded(&p, MIB).unwrap_err();
        assert!(matches!(e.kind, ReadErrorKind::NotAFile("FIFO")), "{e}");
    }

    #[test]
    fn sizes_read_like_limits() {
        assert_eq!(Size(4 * MIB).to_string(), "4 MiB");
        assert_eq!(Size(16 * 1024).to_string(), "16 KiB");
        assert_eq!(Size(1000).to_string(), "1000 bytes");
    }

    #[test]
    fn safe_chars_keeps_one_path_component() {
        assert_eq!(
            safe_chars("reference:gemini-compat"),
            "reference_gemini-compat"
        );
        assert_eq!(safe_chars("../x/y"), ".._x_y");
    }
}
