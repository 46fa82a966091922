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
        builtin: false,
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
        builtin: false,
    };
    for (name, text, limit) in [
        ("laughs", bomb_suite(), "repetition limit"),
        ("deep", deep, "nesting deeper than 100 levels"),
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
    // Refused as the suites' bomb is (serde refuses the anchors as unknown fields of `pricing`;
    // reading the file for all its problems stops at the parser's repetition limit).
    assert!(e.to_string().contains("repetition limit"), "{e}");
    assert!(
        e.0[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("YAML bomb")),
        "{:?}",
        e.0[0].help
    );
}

#[tokio::test]
async fn a_yaml_bomb_is_a_configuration_error_through_the_cli() {
    let (_dir, path) = temp_suite(&bomb_suite());
    let out = run_cli(&["validate", "--suite", path.to_str().unwrap()], &[]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("suite.yaml"), "{}", out.stderr);
    assert!(
        unwrapped(&out.stderr).contains("YAML bomb"),
        "{}",
        out.stderr
    );
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
/// once, naming the path — never a hang or unbounded memory (`run_cli` fails a hang after
/// `RUN_DEADLINE_SECS`).
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
        assert!(
            unwrapped(&out.stderr).contains(&want),
            "{args:?}: {}",
            out.stderr
        );
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

/// Values that break naive number and duration handling.
fn extreme() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-0",
            "-1",
            "1e300",
            "-1e300",
            "1e-300",
            ".nan",
            ".NaN",
            ".inf",
            "-.inf",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "340282366920938463463374607431768211456",
            "\"99999999999999999999999s\"",
            "\"1e300s\"",
            "\"-5m\"",
            "\"NaNs\"",
            "\"inf\"",
            "\"\"",
            "\"0x10\"",
            "~",
            "[]",
            "{}",
            "true",
            "\"7d\"",
            "\"604801s\"",
            "0.0000001",
        ])
        .prop_map(str::to_string),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| format!("\"{n}ms\"")),
        "[0-9]{20,60}".prop_map(|d| format!("\"{d}h\"")),
    ]
}

/// Every targets-file field that takes a number or a duration.
const TARGET_NUMBER_FIELDS: [&str; 6] = [
    "timeout: {}",
    "concurrency: {}",
    "rpm: {}",
    "auth: { command: \"printf tok\", refresh_after: {} }",
    "pricing: { input_per_mtok: {}, output_per_mtok: 1 }",
    "pricing: { input_per_mtok: 1, output_per_mtok: {} }",
];

/// Every suite field that takes a number.
const SUITE_NUMBER_FIELDS: [&str; 6] = [
    "status: {}",
    "jsonpath: [{ path: \"$.a\", length: {} }]",
    "jsonpath: [{ path: \"$.a\", gt: {} }]",
    "jsonpath: [{ path: \"$.a\", gte: {} }]",
    "jsonpath: [{ path: \"$.a\", lt: {} }]",
    "jsonpath: [{ path: \"$.a\", lte: {} }]",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// An extreme value in any numeric or duration field of a targets file loads or is a
    /// located diagnostic on that field's line — never a panic.
    #[test]
    fn extreme_numbers_in_a_targets_file_never_panic(
        field in prop::sample::select(TARGET_NUMBER_FIELDS.to_vec()),
        value in extreme(),
    ) {
        let text = format!(
            "targets:\n  t:\n    base_url: http://127.0.0.1:9/v1\n    {}\n",
            field.replace("{}", &value)
        );
        let lookup = |_: &str| None;
        let loaded = std::panic::catch_unwind(|| load_targets(Path::new("t.yaml"), &text, &lookup));
        prop_assert!(loaded.is_ok(), "panicked on {text}");
        if let Err(d) = loaded.unwrap() {
            for d in &d.0 {
                prop_assert_eq!(d.line, Some(4), "{}: {}", text, d);
            }
        }
    }

    /// The same for the suite's numeric fields: a bound that is not a finite number is refused.
    #[test]
    fn extreme_numbers_in_a_suite_never_panic(
        field in prop::sample::select(SUITE_NUMBER_FIELDS.to_vec()),
        value in extreme(),
    ) {
        let text = format!(
            "suite: s\ndescription: d\ncases:\n  - id: c\n    feature: chat.basic\n    request: {{ path: /x }}\n    expect:\n      {}\n",
            field.replace("{}", &value)
        );
        let env = SuiteEnv {
            fixtures_root: Some(Path::new("fixtures")),
            allow_fixture_escape: false,
            schema_ids: &[],
            check_names: &[],
            builtin: false,
        };
        let loaded = std::panic::catch_unwind(|| load_suite(Path::new("s.yaml"), &text, &env));
        prop_assert!(loaded.is_ok(), "panicked on {text}");
        match loaded.unwrap() {
            Err(d) => {
                for d in &d.0 {
                    prop_assert!(d.line.is_some(), "{}: {}", text, d);
                }
            }
            Ok(_) => {
                if let Ok(f) = value.parse::<f64>() {
                    prop_assert!(f.is_finite() || !field.contains("gt") && !field.contains("lt"), "{text}");
                }
            }
        }
    }
}

/// The largest values a targets file accepts run without a panic or an overflow: a concurrency
/// of u64::MAX, an rpm of u32::MAX, the 7-day timeout and a zero refresh.
#[tokio::test]
async fn the_largest_accepted_numbers_run() {
    let server = chat_server(200, chat_completion("hi")).await;
    let dir = tempfile::tempdir().unwrap();
    let t = target_t(
        dir.path(),
        &server.uri(),
        "    timeout: 168h\n    concurrency: 18446744073709551615\n    rpm: 4294967295\n    auth: { command: \"printf tok\", refresh_after: 0 }\n    pricing: { input_per_mtok: 1e300, output_per_mtok: 0 }\n",
    );
    let out = run_t(&t, &["--filter", "chat/*"], &[]).await;
    assert!(out.code == 0 || out.code == 1, "{}", out.all_output());
    assert!(
        !out.all_output().contains("panicked"),
        "{}",
        out.all_output()
    );
}

/// A response nested as deep as serde_json parses (127 arrays in an object) is kept in the
/// report and the recording so that both read back: `merge`, `baseline save` and `--replay`
/// read what the run wrote.
#[tokio::test]
async fn every_file_a_run_writes_reads_back_after_a_deeply_nested_body() {
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(126), "]".repeat(126));
    assert!(serde_json::from_str::<serde_json::Value>(&deep).is_ok());
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_raw(deep.clone(), "application/json"),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = target_t(d, &server.uri(), "");
    let (rec, reports) = (d.join("rec"), d.join("reports"));
    let rec = rec.to_str().unwrap();
    let out = run_t(
        &t,
        &[
            "--filter",
            "chat/basic",
            "--record",
            rec,
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.all_output());
    let report = reports.join("report.json");
    let text = std::fs::read_to_string(&report).unwrap();
    let first: serde_json::Value = serde_json::from_str(&text).expect("report.json reads back");
    let recorded = &first["results"][0];
    let r = report.to_str().unwrap();
    let merged = d.join("merged");
    let m = run_cli(&["merge", r, "--report-dir", merged.to_str().unwrap()], &[]).await;
    assert_eq!(m.code, 1, "merge read the report: {}", m.all_output());
    let baseline = d.join("baseline.json");
    let b = run_cli(
        &[
            "baseline",
            "save",
            "--from",
            r,
            "-o",
            baseline.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(
        b.code,
        0,
        "baseline save read the report: {}",
        b.all_output()
    );
    let replay = run_t(&t, &["--filter", "chat/basic", "--replay", rec], &[]).await;
    assert_eq!(replay.code, 1, "{}", replay.all_output());
    let (outcome, reason) = replay.outcome("t", "chat/basic");
    assert_eq!(
        (outcome.as_str(), reason.as_str()),
        (
            recorded["outcome"].as_str().unwrap(),
            recorded["reason"].as_str().unwrap()
        ),
        "the replay read the recording"
    );
}

/// Text an endpoint may send to make a report act: an image beacon, a `javascript:` link, raw
/// HTML, an autolink, a table-breaking pipe and newline, a terminal escape and a bidi override.
const HOSTILE_TEXT: &str = "![x](http://127.0.0.1:1/beacon.png) [y](javascript:alert(1)) <img src=x onerror=alert(1)> https://evil.test/a | cell\nrow \u{1b}[31mred\u{7} \u{202e}txet";

/// No endpoint text is live in Markdown (report.md, the step summary), HTML or the terminal.
#[tokio::test]
async fn hostile_endpoint_text_is_inert_in_every_output() {
    let server = chat_server(
        400,
        error_envelope(HOSTILE_TEXT, "invalid_request_error", None),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let t = target_t(dir.path(), &server.uri(), "");
    let out = run_t(
        &t,
        &["--filter", "chat/*", "--format", "json,md,html,junit"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.all_output());
    let report = out.report();
    assert!(
        report.to_string().contains("beacon.png"),
        "the hostile text reached the report (the test tests something)"
    );
    let md = std::fs::read_to_string(out.report_dir.join("report.md")).unwrap();
    let step = std::fs::read_to_string(&summary).unwrap();
    for (name, text) in [("report.md", &md), ("step summary", &step)] {
        for live in [
            "![x]",
            "](http",
            "](javascript",
            "<img",
            "https://evil",
            "\u{1b}",
            "\u{202e}",
        ] {
            assert!(!text.contains(live), "{name} has live `{live}`:\n{text}");
        }
    }
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!text.contains(raw), "{name} has a raw {raw:?}:\n{text}");
        }
    }
    let junit = std::fs::read_to_string(out.report_dir.join("junit.xml")).unwrap();
    assert!(
        !junit.contains('\u{1b}') && !junit.contains('\u{7}'),
        "{junit}"
    );
    let html = std::fs::read_to_string(out.report_dir.join("report.html")).unwrap();
    assert!(!html.contains("<img src=x") && !html.contains('\u{202e}'));
}

/// Control characters in a suite are located where they are and never reach the terminal raw;
/// a UTF-16 suite is named as UTF-16 and invalid UTF-8 is located.
#[tokio::test]
async fn suite_files_with_controls_or_another_encoding_get_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("s.yaml");
    let s = suite.to_str().unwrap();
    let args = ["validate", "--suite", s];
    let validate = || run_cli(&args, &[]);
    std::fs::write(
        &suite,
        "suite: s\ndescription: \"bell\u{7} esc\u{1b}[2J nul\0 \u{202e}rtl\"\ncases: []\n",
    )
    .unwrap();
    let out = validate().await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("s.yaml:2:19"), "{}", out.stderr);
    assert!(out.stderr.contains("\\x07"), "{}", out.stderr);
    for raw in ['\u{7}', '\u{1b}', '\0', '\u{202e}'] {
        assert!(
            !out.stderr.contains(raw),
            "raw {raw:?} on stderr:\n{}",
            out.stderr
        );
    }
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain("suite: s\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(&suite, utf16).unwrap();
    let out = validate().await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("UTF-16"), "{}", out.stderr);
    std::fs::write(&suite, b"suite: s\ndescription: caf\xe9\n").unwrap();
    let out = validate().await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("s.yaml:2:17"), "{}", out.stderr);
}
