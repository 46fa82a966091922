//! The assets shipped inside the binary (embedded by `build.rs`): the built-in suites, the media
//! fixtures they send and the built-in reference endpoint's snapshots. With them `llm-parity`
//! runs from any directory with nothing beside it; a user's project adds to them (and its
//! files of the same name win: `load::load_project`, `snapshot::verify`).

mod table {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// How a built-in suite's file is named in diagnostics and listings: not a path in the current
/// directory, so nobody goes looking for it there.
pub const SUITE_PREFIX: &str = "built-in:suites/";

/// Every built-in suite: its file name (`chat.yaml`) and text, in file-name order.
pub fn suites() -> impl Iterator<Item = (&'static str, &'static str)> {
    table::SUITES.iter().copied()
}

/// The features the built-in suites evidence, first seen first: read from the suite files
/// when the binary was built (build.rs).
pub fn features() -> &'static [&'static str] {
    table::FEATURES
}

/// The built-in suite file named `name` (`chat` finds `chat.yaml` or `chat.yml`).
pub fn suite(name: &str) -> Option<(&'static str, &'static str)> {
    suites().find(|(file, _)| {
        file.strip_suffix(".yaml")
            .or_else(|| file.strip_suffix(".yml"))
            == Some(name)
    })
}

/// A built-in fixture by its path under `fixtures/` (`media/images/red.png`,
/// `files/notes.txt`).
pub fn fixture(path: &str) -> Option<&'static [u8]> {
    table::MEDIA_FIXTURES
        .iter()
        .chain(table::FILE_FIXTURES)
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

/// A built-in snapshot by its path under `snapshots/` (`reference/chat/basic.snap`).
pub fn snapshot(path: &str) -> Option<&'static str> {
    table::SNAPSHOTS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every file the repository ships under the embedded folders is in the binary, byte for
    /// byte (build.rs re-runs on any change, so a stale table is a build problem, not silence).
    #[test]
    fn the_tables_hold_every_shipped_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let check = |folder: &str,
                     prefix: &str,
                     keep: &dyn Fn(&Path) -> bool,
                     got: &dyn Fn(&str) -> Option<Vec<u8>>| {
            let mut n = 0;
            for f in walk(&root.join(folder)) {
                let rel = f.strip_prefix(root.join(folder)).unwrap();
                if !keep(rel) {
                    continue;
                }
                let key = format!("{prefix}{}", rel.to_str().unwrap().replace('\\', "/"));
                assert_eq!(
                    got(&key).as_deref(),
                    Some(std::fs::read(&f).unwrap().as_slice()),
                    "{folder}/{} is not embedded as {key}",
                    rel.display()
                );
                n += 1;
            }
            assert!(n > 0, "nothing shipped under {folder}");
        };
        let ext = |p: &Path, e: &[&str]| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| e.contains(&x))
        };
        check("suites", "", &|p| ext(p, &["yaml", "yml"]), &|k| {
            super::suites()
                .find(|(f, _)| *f == k)
                .map(|(_, t)| t.as_bytes().to_vec())
        });
        for (folder, prefix) in [("fixtures/media", "media/"), ("fixtures/files", "files/")] {
            check(folder, prefix, &|p| !ext(p, &["md"]), &|k| {
                super::fixture(k).map(<[u8]>::to_vec)
            });
        }
        check("snapshots", "", &|p| ext(p, &["snap"]), &|k| {
            super::snapshot(k).map(|t| t.as_bytes().to_vec())
        });
    }

    #[test]
    fn suites_are_found_by_name() {
        assert_eq!(super::suite("chat").map(|(f, _)| f), Some("chat.yaml"));
        assert!(super::suite("no-such-suite").is_none());
        assert!(super::fixture("media/images/red.png").is_some());
        assert!(super::fixture("images/red.png").is_none());
        assert!(super::fixture("files/notes.txt").is_some());
        assert!(super::snapshot("reference/chat/basic.snap").is_some());
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
