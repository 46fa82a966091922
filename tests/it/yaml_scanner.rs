//! The YAML scanner under yaml_serde carries a patch of ours (vendor/libyaml-rs: runs of ASCII
//! read in one go, in the reader and in the scalar scanners). Here it is held to the transpiled
//! libyaml it comes from, unpatched (the `unsafe-libyaml` crate): for any text, both give the
//! same tokens with the same values, styles and positions, and stop at the same error.

use std::ffi::CStr;
use std::mem::MaybeUninit;

use proptest::prelude::*;

use crate::support::{repo, walk};

/// A mark: byte index, line, column.
type Mark = (u64, u64, u64);

#[derive(Debug, PartialEq)]
enum Scanned {
    Token {
        kind: u32,
        start: Mark,
        end: Mark,
        /// A scalar's value and style; an anchor's or alias's name.
        value: Option<(Vec<u8>, u32)>,
    },
    Error {
        kind: u32,
        problem: String,
        at: Mark,
        /// The byte offset and value a reader's error names.
        offset: u64,
        value: i64,
        context: Option<String>,
        context_at: Mark,
    },
}

/// Every token `text` scans to with one of the two crates (same API), and the error that stops
/// it, if any.
macro_rules! scanner {
    ($name:ident, $sys:ident) => {
        fn $name(text: &[u8]) -> Vec<Scanned> {
            let cstr = |p: *const std::ffi::c_char| {
                (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            };
            let mark = |m: $sys::yaml_mark_t| (m.index as u64, m.line as u64, m.column as u64);
            let mut out = Vec::new();
            unsafe {
                let mut parser = MaybeUninit::<$sys::yaml_parser_t>::uninit();
                assert!($sys::yaml_parser_initialize(parser.as_mut_ptr()).ok);
                let parser = parser.as_mut_ptr();
                $sys::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as _);
                loop {
                    let mut token = MaybeUninit::<$sys::yaml_token_t>::uninit();
                    if $sys::yaml_parser_scan(parser, token.as_mut_ptr()).fail {
                        // The error fields are read through the parser's public prefix.
                        let e = &*parser;
                        out.push(Scanned::Error {
                            kind: e.error as u32,
                            problem: cstr(e.problem).unwrap_or_default(),
                            at: mark(e.problem_mark),
                            offset: e.problem_offset as u64,
                            value: i64::from(e.problem_value),
                            context: cstr(e.context),
                            context_at: mark(e.context_mark),
                        });
                        break;
                    }
                    let token = token.as_mut_ptr();
                    let kind = (*token).type_ as u32;
                    let bytes = |p: *const u8, n: usize| std::slice::from_raw_parts(p, n).to_vec();
                    let value = match (*token).type_ {
                        $sys::YAML_SCALAR_TOKEN => {
                            let s = (*token).data.scalar;
                            Some((bytes(s.value, s.length as usize), s.style as u32))
                        }
                        $sys::YAML_ANCHOR_TOKEN | $sys::YAML_ALIAS_TOKEN => {
                            let name = (*token).data.anchor.value;
                            Some((CStr::from_ptr(name.cast()).to_bytes().to_vec(), 0))
                        }
                        _ => None,
                    };
                    out.push(Scanned::Token {
                        kind,
                        start: mark((*token).start_mark),
                        end: mark((*token).end_mark),
                        value,
                    });
                    let last = (*token).type_ == $sys::YAML_STREAM_END_TOKEN;
                    $sys::yaml_token_delete(token);
                    if last {
                        break;
                    }
                }
                $sys::yaml_parser_delete(parser);
            }
            out
        }
    };
}

scanner!(patched, libyaml_rs);
scanner!(upstream, unsafe_libyaml);

fn same_scan(text: &str) -> Result<(), TestCaseError> {
    let (ours, theirs) = (patched(text.as_bytes()), upstream(text.as_bytes()));
    // Neither may stop short of the end without an error.
    let ended = matches!(
        theirs.last(),
        Some(Scanned::Error { .. } | Scanned::Token { kind: 2, .. })
    );
    prop_assert!(ended, "no stream end and no error");
    prop_assert_eq!(ours, theirs, "text: {:?}", text);
    Ok(())
}

/// Pieces of YAML that the patched loops treat specially, or that end a run of ASCII: every
/// indicator, quotes and escapes, blanks and breaks, document markers, non-ASCII characters.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_./@~%=+-]{1,12}",
        2 => Just(": ".to_owned()),
        3 => prop::sample::select(vec![
            ":", "::", ":x", " ", "  ", "\n", "\n  ", "\n    ", "\n- ", "- ", "#", " #c", ",", ", ",
            "[", "]", "{", "}", "'", "''", "\"", "\\", "\\n", "\\\"", "\\x41", "\\u00e9", "\\\n",
            "\t", "é", "日本", "\u{85}", "\u{2028}", "---", "...", "\n---\n", "\n...\n", "?", "? ",
            "&a ", "*a", "!t ", "!!str ", "|", "|\n  ", ">-\n  ", "\r\n", "\r", "%YAML 1.1\n",
            "\u{7f}", "\u{1}", "\u{feff}", "`", "@", "|-",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Lines of mappings and sequences in block and flow style, with plain, single- and
/// double-quoted values made of the pieces above: text that gets past the first few tokens.
fn document() -> impl Strategy<Value = String> {
    let value = prop::collection::vec(piece(), 1..8).prop_map(|v| v.concat());
    let line = (0..4usize, "[a-z]{1,8}", value, 0..6u8).prop_map(|(indent, key, value, form)| {
        let pad = "  ".repeat(indent);
        match form {
            0 => format!("{pad}{key}: {value}"),
            1 => format!("{pad}{key}: \"{value}\""),
            2 => format!("{pad}{key}: '{value}'"),
            3 => format!("{pad}- {value}"),
            4 => format!("{pad}{key}: [{value}, {key}:{value}, {{ {key}: {value} }}]"),
            _ => format!("{pad}{{ {key}: \"{value}\", {value}: '{key}' }}"),
        }
    });
    prop::collection::vec(line, 0..24).prop_map(|lines| lines.join("\n") + "\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_pieces_scan_as_upstream_libyaml_scans_them(
        pieces in prop::collection::vec(piece(), 0..64)
    ) {
        same_scan(&pieces.concat())?;
    }

    #[test]
    fn any_document_scans_as_upstream_libyaml_scans_it(doc in document()) {
        same_scan(&doc)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Runs that cross the reader's 16 KiB refills, in every kind of scalar.
    #[test]
    fn long_runs_scan_as_upstream_libyaml_scans_them(
        lead in 16_000..16_800usize,
        run in 1..600usize,
        form in 0..4u8,
        doc in document(),
    ) {
        let (pad, word) = ("p".repeat(lead), "w".repeat(run));
        let text = match form {
            0 => format!("k: {pad}\nv: {word}:{word} {word}\n{doc}"),
            1 => format!("k: \"{pad}\\n{word}\"\nv: '{word}''{word}'\n{doc}"),
            2 => format!("[{pad}, {word}:{word}, {{{word}: {word}}}]\n"),
            _ => format!("k: {pad}é{word}\n{doc}"),
        };
        same_scan(&text)?;
    }
}

/// Every YAML file the repository ships (suites, targets, fixtures, workflows) scans the same.
#[test]
fn every_shipped_yaml_file_scans_as_upstream_libyaml_scans_it() {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repo()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let shipped = name == ".github"
            || !name.starts_with('.') && !["target", "vendor", "reports"].contains(&name.as_str());
        match path.is_dir() {
            true if shipped => files.extend(walk(&path)),
            true => {}
            false => files.push(path),
        }
    }
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"));
    assert!(files.len() > 20, "found only {} YAML files", files.len());
    for file in files {
        let text = std::fs::read(&file).unwrap();
        let (ours, theirs) = (patched(&text), upstream(&text));
        assert!(ours.len() > 1, "{}: nothing scanned", file.display());
        assert_eq!(ours, theirs, "{}", file.display());
    }
}
