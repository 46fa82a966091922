//! Hostile input files: the suite and targets loaders take arbitrary YAML-ish text (property
//! tests, the same entry points as the cargo-fuzz targets under `fuzz/`) without panicking, YAML
//! bombs and deep nesting are refused with a clear error, and fixture paths may not leave the
//! fixtures directory unless `--allow-fixture-escape` is given.

use std::path::Path;

use llm_parity::execute::sse::SseParser;
use llm_parity::load::suite::{SuiteEnv, load_suite};
use llm_parity::load::target::load_targets;
use proptest::prelude::*;

use crate::support::*;

/// Load `text` as a suite and as a targets file; render any diagnostics. Must never panic.
fn load_both(text: &str) {
    let check_names: Vec<&str> = llm_parity::judge::checks::names().collect();
    let env = SuiteEnv {
        fixtures_root: Some(Path::new("/nonexistent-llm-parity-fixtures")),
        allow_fixture_escape: false,
        schema_ids: &["chat.completion".to_string()],
        check_names: &check_names,
    };
    if let Err(d) = load_suite(Path::new("fuzz.yaml"), text, &env) {
        let _ = d.to_string();
    }
    let lookup = |name: &str| (name != "MISSING").then(|| "value".to_string());
    if let Err(d) = load_targets(Path::new("targets.yaml"), text, &lookup) {
        let _ = d.to_string();
    }
}

/// Tokens that make YAML interesting: the loaders' own keys, YAML syntax (anchors, aliases,
/// tags, flow collections, block scalars, documents), templates and odd scalars.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "suite:",
            "description:",
            "cases:",
            "- id:",
            "feature:",
            "request:",
            "path:",
            "body:",
            "raw_body:",
            "multipart:",
            "headers:",
            "auth:",
            "expect:",
            "status:",
            "jsonpath:",
            "schema:",
            "checks:",
            "steps:",
            "capture:",
            "snapshot:",
            "tags:",
            "targets:",
            "base_url:",
            "api_key_env:",
            "command:",
            "refresh_after:",
            "models:",
            "timeout:",
            "concurrency:",
            "rpm:",
            "unsupported:",
            "opt_in:",
            "via:",
            "pricing:",
            "header:",
            "equals:",
            "one_of:",
            "matches:",
            "gte:",
            "lt:",
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec![
            "\n",
            "\n  ",
            "\n    ",
            " ",
            "- ",
            "[",
            "]",
            "{",
            "}",
            ",",
            ":",
            "&a ",
            "*a",
            "&b ",
            "*b",
            "<<: *a",
            "!!str ",
            "!tag ",
            "|\n  ",
            ">-\n  ",
            "---\n",
            "...\n",
            "\"",
            "'",
            "#",
            "? ",
            "%YAML 1.2\n",
            "~",
            "null",
            "true",
            "0x1F",
            "1e309",
            "-0",
            "NaN",
            "2s",
            "90s",
            "-5",
            "4294967296",
            "\u{0}",
            "\u{feff}",
            "\u{202e}",
            "é",
            "{{model.chat}}",
            "{{fixture:../../etc/passwd|text}}",
            "{{capture.x}}",
            "{{",
            "}}",
            "${env:MISSING}",
            "${env:HOME}",
            "http://127.0.0.1:9/v1",
            "$.choices[*]",
            "$..",
            "[?(",
            "chat.basic",
            "4xx",
            "[200, 401]",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..80).prop_map(|t| t.concat())
}

/// A structurally valid suite with one mutated spot, so the deeper checks run too.
fn mutated_suite() -> impl Strategy<Value = String> {
    let base = "suite: s\ndescription: d\ncases:\n  - id: c\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: { model: \"{{model.chat}}\", messages: [{ role: user, content: hi }] }\n    expect:\n      status: 200\n      jsonpath:\n        - { path: $.object, equals: chat.completion }\n";
    (0..base.len(), yamlish()).prop_map(move |(at, insert)| {
        let at = (0..=at)
            .rev()
            .find(|i| base.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}{}{}", &base[..at], insert, &base[at..])
    })
}

/// Bytes rich in line ends and colons (SSE's syntax), cheap to generate.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..4096).prop_map(|v| {
        v.into_iter()
            .map(|b| match b % 8 {
                0 => b'\n',
                1 => b':',
                2 => b'\r',
                _ => b,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_loaders_never_panic_on_yamlish_input(text in yamlish()) {
        load_both(&text);
    }

    #[test]
    fn the_loaders_never_panic_on_a_mutated_valid_suite(text in mutated_suite()) {
        load_both(&text);
    }

    #[test]
    fn the_loaders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        load_both(&String::from_utf8_lossy(&bytes));
    }

    /// The SSE parser keeps at most its limits buffered whatever arrives, in any split.
    #[test]
    fn the_sse_parser_stays_bounded(
        bytes in sse_bytes(),
        split in 0usize..4096,
    ) {
        let mut p = SseParser::with_limits(64, 256);
        let cut = split.min(bytes.len());
        let mut items = p.feed(&bytes[..cut], std::time::Duration::ZERO);
        items.extend(p.feed(&bytes[cut..], std::time::Duration::from_millis(1)));
        items.extend(p.finish(std::time::Duration::from_millis(2)));
        for item in &items {
            if let llm_parity::execute::sse::SseItem::Event(e) = item {
                // The data of one event never outgrows the event limit (decoded, ×3 at most).
                prop_assert!(e.data.len() <= 3 * 256 + 3, "{} bytes", e.data.len());
            }
        }
    }
}

/// A billion-laughs document hidden where the loader accepts any YAML value (a request body).
fn laughs(indent: &str) -> String {
    let mut s = format!("{indent}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..9 {
        let p = i - 1;
        s.push_str(&format!(
            "{indent}a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    s
}

fn bomb_suite() -> String {
    format!(
        "suite: bomb\ndescription: d\ncases:\n  - id: c\n    feature: chat.basic\n    request:\n      path: /x\n      body:\n{}    expect: {{ status: 200 }}\n",
        laughs("        ")
    )
}

#[test]
fn yaml_bombs_and_deep_nesting_are_refused_with_a_clear_error() {
    let deep = format!(
        "suite: s\ndescription: d\ncases:\n  - id: c\n    feature: chat.basic\n    request:\n      path: /x\n      body: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let env = SuiteEnv {
        fixtures_root: Some(Path::new("fixtures")),
        allow_fixture_escape: false,
        schema_ids: &[],
        check_names: &[],
    };
    for (name, text, limit) in [
        ("laughs", bomb_suite(), "repetition limit"),
        ("deep", deep, "recursion limit"),
    ] {
        let d = load_suite(Path::new("bomb.yaml"), &text, &env).unwrap_err();
        let shown = d.to_string();
        assert!(shown.contains("bomb.yaml"), "{name}: {shown}");
        assert!(shown.contains(limit), "{name}: {shown}");
        assert!(
            d.0[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("YAML bomb")),
            "{name}: {:?}",
            d.0[0].help
        );
    }
    let lookup = |_: &str| None;
    let deep_targets = format!("targets: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    // No targets field takes arbitrary YAML: the nesting is refused as the wrong type at once.
    let d = load_targets(Path::new("t.yaml"), &deep_targets, &lookup).unwrap_err();
    assert!(d.to_string().contains("t.yaml:1:"), "{d}");
    let bomb_targets = format!(
        "targets:\n  t:\n    base_url: http://x/\n    pricing:\n{}",
        laughs("      ")
    );
    let e = load_targets(Path::new("t.yaml"), &bomb_targets, &lookup).unwrap_err();
    // The anchors are refused as unknown fields of `pricing` before any expansion.
    assert!(e.to_string().contains("unknown field `a0`"), "{e}");
}

#[tokio::test]
async fn a_yaml_bomb_is_a_configuration_error_through_the_cli() {
    let (_dir, path) = temp_suite(&bomb_suite());
    let out = run_cli(&["validate", "--suite", path.to_str().unwrap()], &[]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("suite.yaml"), "{}", out.stderr);
    assert!(out.stderr.contains("YAML bomb"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[tokio::test]
async fn fixture_paths_leaving_the_fixtures_directory_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
    std::fs::write(dir.path().join("outside.txt"), "outside").unwrap();
    let suite = dir.path().join("suites/esc.yaml");
    std::fs::write(
        &suite,
        "suite: esc\ndescription: d\ncases:\n  - id: c\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: { text: \"{{fixture:../outside.txt|text}}\" }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    let fixtures = dir.path().join("fixtures");
    let (s, f) = (suite.to_str().unwrap(), fixtures.to_str().unwrap());
    let args = ["validate", "--suite", s, "--fixtures-dir", f];
    let out = run_cli(&args, &[]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("leaves the fixtures"), "{}", out.stderr);
    let out = run_cli(&[&args[..], &["--allow-fixture-escape"]].concat(), &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A FIFO at `dir/name` (no writer: reading it with a plain open would block forever).
#[cfg(unix)]
fn fifo(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    let made = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", p.display());
    p
}

/// Every file a user names is read bounded: a FIFO, `/dev/zero` or a directory is refused at
/// once, naming the path — never a hang or unbounded memory (`run_cli` fails a hang after 120 s).
#[cfg(unix)]
#[tokio::test]
async fn files_that_are_not_regular_files_are_refused_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let fifo_path = fifo(dir.path(), "fifo");
    let f = fifo_path.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let one_case = ["--target", "reference", "--filter", "chat/basic"];
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["validate", "--targets", "/dev/zero"],
            "failed to read targets file: not a regular file (a character device)".into(),
        ),
        (
            vec!["validate", "--targets", f],
            "failed to read targets file: not a regular file (a FIFO)".into(),
        ),
        (
            [&["run", "--baseline", f][..], &one_case].concat(),
            format!("cannot read baseline {f}: not a regular file (a FIFO)"),
        ),
        (
            [&["run", "--ca-cert", "/dev/zero"][..], &one_case].concat(),
            "cannot read --ca-cert /dev/zero: not a regular file (a character device)".into(),
        ),
        (
            vec!["merge", d],
            format!("cannot read report {d}: not a regular file (a directory)"),
        ),
        (
            vec!["baseline", "prune", "--baseline", "/dev/zero"],
            "cannot read baseline /dev/zero: not a regular file (a character device)".into(),
        ),
    ];
    for (args, want) in cases {
        let out = run_cli(&args, &[]).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(&want), "{args:?}: {}", out.stderr);
    }
}

/// A fixture that is a FIFO is a load error with the suite's diagnostics, not a hang.
#[cfg(unix)]
#[tokio::test]
async fn a_fixture_that_is_a_fifo_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    fifo(&fixtures, "pipe.txt");
    let suite = dir.path().join("pipe.yaml");
    std::fs::write(
        &suite,
        "suite: pipe\ndescription: d\ncases:\n  - id: c\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: { text: \"{{fixture:pipe.txt|text}}\" }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    let (s, f) = (suite.to_str().unwrap(), fixtures.to_str().unwrap());
    let out = run_cli(&["validate", "--suite", s, "--fixtures-dir", f], &[]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        // (miette wraps the message: match its parts.)
        out.stderr.contains("cannot read fixture") && out.stderr.contains("(a FIFO)"),
        "{}",
        out.stderr
    );
}
