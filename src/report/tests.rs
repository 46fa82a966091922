//! Snapshots of every renderer over one hand-built report model, hostile content included: a
//! renderer change shows up as a reviewed diff, and endpoint text can never inject markup,
//! Markdown structure or terminal escape sequences.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::model::{
    CaseResult, Difference, ExchangeSummary, FeatureRow, HeaderList, HopLatency, LatencyRow,
    RunReport, ShapeDiff, TargetInfo, Tool,
};
use super::{html, json, junit, markdown, terminal};
use crate::execute::exchange::Timings;
use crate::judge::{CheckResult, CheckStatus, Outcome};

/// Everything an endpoint could send to break a renderer: markup, attribute quotes, entities,
/// a Markdown table pipe and code backticks, and an ANSI colour escape.
const HOSTILE: &str = "<script>alert(1)</script> \"quoted\" & 'single' | `code` \u{1b}[31mred";

/// The second target's name is hostile too (names come from config, but are printed everywhere).
const GW: &str = "gw<script>alert(1)</script>\"&|`x`";

fn timings(headers: f64, ttft: Option<f64>, total: f64, chunks: usize) -> Timings {
    Timings {
        headers_ms: Some(headers),
        first_byte_ms: Some(headers + 0.5),
        ttft_ms: ttft,
        total_ms: total,
        chunk_count: chunks,
        gap_max_ms: None,
        gap_p50_ms: None,
    }
}

fn result(target: &str, suite: &str, case: &str, feature: &str, outcome: Outcome) -> CaseResult {
    CaseResult {
        duration_ms: 12,
        http_status: Some(200),
        timings: Some(timings(5.0, None, 12.0, 0)),
        checks_passed: 3,
        ..crate::testing::entry(target, suite, case, feature, outcome)
    }
}

fn exchange(status: u16, response_body: serde_json::Value) -> ExchangeSummary {
    ExchangeSummary {
        step: "main".into(),
        method: "POST".into(),
        url: "http://127.0.0.1:4000/v1/chat/completions".into(),
        request_headers: HeaderList::from_iter([
            ("authorization".into(), "Bearer ***".into()),
            ("content-type".into(), "application/json".into()),
        ]),
        request_body: Some(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).into(),
        ),
        status: Some(status),
        response_headers: HeaderList::from_iter([
            ("content-type".into(), "application/json".into()),
            ("x-evil".into(), HOSTILE.into()),
        ]),
        response_body: Some(response_body.into()),
        transport_error: None,
        stream_cut: None,
        attempts: vec![],
    }
}

/// A difference in `suite/case` (of `feature`) between the reference's outcome and the
/// gateway's: no reasons, no shape diffs.
fn difference(feature: &str, case: &str, reference: Outcome, gateway: Outcome) -> Difference {
    let (suite, case) = case.split_once('/').unwrap();
    Difference {
        feature: feature.into(),
        suite: suite.into(),
        case: case.into(),
        outcomes: BTreeMap::from([("reference".into(), reference), (GW.into(), gateway)]),
        reasons: BTreeMap::new(),
        shape_diffs: vec![],
    }
}

/// The gateway's `subject` differing in shape from the reference's by `diff`.
fn shape_diff(subject: &str, diff: String) -> ShapeDiff {
    ShapeDiff {
        pass: "reference".into(),
        other: GW.into(),
        subject: subject.into(),
        diff,
        summary: None,
    }
}

/// Two targets, two areas, every outcome, a flaky result, a difference with a shape diff,
/// latency rows and a router hop; endpoint text hostile wherever it can be.
fn report() -> RunReport {
    let mut results = Vec::new();

    results.push(result(
        "reference",
        "chat",
        "basic",
        "chat.basic",
        Outcome::Pass,
    ));
    let mut r = result(GW, "chat", "basic", "chat.basic", Outcome::Pass);
    r.exchanges = vec![exchange(
        200,
        json!({"id": "c1", "object": "chat.completion"}),
    )];
    results.push(r);

    results.push(result(
        "reference",
        "chat",
        "stop",
        "chat.stop",
        Outcome::Pass,
    ));
    let mut r = result(GW, "chat", "stop", "chat.stop", Outcome::Fail);
    r.reason = Some(format!("schema: {HOSTILE}"));
    r.checks = vec![
        CheckResult::new("schema", CheckStatus::Fail, HOSTILE)
            .at("$.choices[0].message")
            .expected("object")
            .actual("null"),
    ];
    r.checks_passed = 2;
    r.warnings = vec![format!("finish_reason: {HOSTILE}")];
    r.notes = Some("known gateway quirk".into());
    r.timings = Some(timings(8.0, Some(9.5), 30.0, 4));
    r.exchanges = vec![exchange(
        200,
        json!({"choices": [{"message": null}], "<script>alert(1)</script>": HOSTILE}),
    )];
    results.push(r);

    let mut r = result("reference", "chat", "seed", "chat.seed", Outcome::Fail);
    r.reason = Some("flaky (1/3 repeats not passing): assert: content differs".into());
    r.repeats = vec![Outcome::Pass, Outcome::Fail, Outcome::Pass];
    r.flaky = true;
    results.push(r);
    let mut r = result(GW, "chat", "seed", "chat.seed", Outcome::Unsupported);
    r.reason = Some("seed: the endpoint refused the parameter".into());
    r.http_status = Some(400);
    results.push(r);

    results.push(result(
        "reference",
        "errors",
        "bad_model",
        "errors.bad_model",
        Outcome::Pass,
    ));
    let mut r = result(
        GW,
        "errors",
        "bad_model",
        "errors.bad_model",
        Outcome::Error,
    );
    r.reason = Some(format!("transport: connection reset {HOSTILE}"));
    r.http_status = None;
    r.timings = None;
    r.exchanges = vec![ExchangeSummary {
        status: None,
        response_headers: HeaderList::default(),
        response_body: None,
        transport_error: Some(HOSTILE.into()),
        ..exchange(0, json!(null))
    }];
    results.push(r);

    // A failure the client catalogue knows breaks clients (S1), on both targets, with
    // differently shaped streams.
    for target in ["reference", GW] {
        let mut r = result(target, "tools", "stream", "tools.streaming", Outcome::Fail);
        r.reason = Some("tools.stream_deltas: a tool-call delta has no `index`".into());
        r.checks = vec![CheckResult::fail(
            "tools.stream_deltas",
            "a tool-call delta has no `index`",
        )];
        results.push(r);
    }

    let mut r = result(
        "reference",
        "errors",
        "rate_limit",
        "errors.rate_limit",
        Outcome::Skip,
    );
    r.reason = Some("opt-in case (--include-opt-in)".into());
    r.timings = None;
    results.push(r);
    let mut r = result(
        GW,
        "errors",
        "rate_limit",
        "errors.rate_limit",
        Outcome::Skip,
    );
    r.reason = Some("opt-in case (--include-opt-in)".into());
    r.timings = None;
    results.push(r);

    // Impacts as a run attaches them, from the shipped catalogue.
    for r in &mut results {
        super::impact::assess_entry(r);
    }
    let features = super::feature_rows(&results);
    // The builder derives rows from results; pin them here so the model is fully by hand.
    assert_eq!(
        features
            .iter()
            .map(|f| f.feature.as_str())
            .collect::<Vec<_>>(),
        [
            "chat.basic",
            "chat.stop",
            "chat.seed",
            "tools.streaming",
            "errors.bad_model",
            "errors.rate_limit"
        ]
    );
    let features: Vec<FeatureRow> = features;

    let differences = vec![
        Difference {
            reasons: BTreeMap::from([(GW.into(), format!("schema: {HOSTILE}"))]),
            shape_diffs: vec![shape_diff(
                "response body",
                format!(
                    "--- reference\n+++ {GW}\n@@ -1,5 +1,6 @@\n {{\n+  \"<script>alert(1)</script>\": \"string\",\n   \"choices\": [\n     {{\n-      \"message\": \"object\"\n+      \"message\": \"null\"\n     }}\n   ]\n }}\n```\n"
                ),
            )],
            ..difference("chat.stop", "chat/stop", Outcome::Pass, Outcome::Fail)
        },
        difference(
            "errors.bad_model",
            "errors/bad_model",
            Outcome::Pass,
            Outcome::Error,
        ),
        Difference {
            reasons: BTreeMap::from([
                (
                    "reference".into(),
                    "tools.stream_deltas: a tool-call delta has no `index`".into(),
                ),
                (
                    GW.into(),
                    "tools.stream_deltas: a tool-call delta has no `index`".into(),
                ),
            ]),
            shape_diffs: vec![shape_diff(
                "first stream chunk",
                format!(
                    "--- reference\n+++ {GW}\n@@ -1,3 +1,3 @@\n {{\n-  \"id\": \"string\"\n+  \"id\": \"null\"\n }}\n"
                ),
            )],
            ..difference(
                "tools.streaming",
                "tools/stream",
                Outcome::Fail,
                Outcome::Fail,
            )
        },
    ];

    let lat = |target: &str, area: &str, metric: &str, p50: f64, p95: f64| LatencyRow {
        target: target.into(),
        area: area.into(),
        metric: metric.into(),
        count: 4,
        p50_ms: p50,
        p95_ms: p95,
        max_ms: p95 + 1.0,
    };
    let latency = vec![
        lat("reference", "all", "headers", 4.0, 6.0),
        lat("reference", "all", "total", 11.0, 14.5),
        lat("reference", "chat", "total", 12.0, 14.5),
        lat(GW, "all", "headers", 7.5, 9.0),
        lat(GW, "all", "ttft", 9.5, 9.5),
        lat(GW, "all", "total", 25.0, 31.25),
    ];
    let hops = vec![HopLatency {
        router: GW.into(),
        upstream: "reference".into(),
        metric: "total".into(),
        p50_delta_ms: 14.0,
        p95_delta_ms: 16.75,
        samples_router: 4,
        samples_upstream: 4,
    }];

    RunReport {
        schema_version: super::model::SCHEMA_VERSION,
        tool: Tool {
            name: "llm-parity".into(),
            version: "0.0.0-test".into(),
        },
        started_at: "2025-01-01T00:00:00Z".into(),
        duration_ms: 1234,
        partial: false,
        replayed_from: None,
        report_bodies: crate::report::model::BodyPolicy::All,
        targets: vec![
            TargetInfo {
                name: "reference".into(),
                base_url: "http://127.0.0.1:4000/v1".into(),
                models: BTreeMap::from([("chat".into(), "ref-chat".into())]),
                api_key_env: None,
                via: None,
            },
            TargetInfo {
                name: GW.into(),
                base_url: "http://127.0.0.1:4001/v1?x=<b>&y=\"".into(),
                models: BTreeMap::from([("chat".into(), format!("m{HOSTILE}"))]),
                api_key_env: Some("GW_KEY".into()),
                via: Some("reference".into()),
            },
        ],
        results: results.into(),
        features,
        differences,
        latency,
        hops,
        suites: vec![],
        shard: None,
        baseline: None,
    }
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!("html", html::render(&report()));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("markdown", markdown::render(&report()));
}

#[test]
fn terminal_snapshot() {
    insta::assert_snapshot!(
        "terminal",
        terminal::render(&report(), terminal::Look::default())
    );
}

#[test]
fn terminal_wide_snapshot() {
    insta::assert_snapshot!(
        "terminal_wide",
        terminal::render(
            &report(),
            terminal::Look {
                wide: true,
                ..Default::default()
            }
        )
    );
}

#[test]
fn terminal_color_snapshot() {
    // Colour as a terminal shows it, the escape byte made visible.
    let t = terminal::render(
        &report(),
        terminal::Look {
            color: true,
            ..Default::default()
        },
    );
    assert!(t.contains("\u{1b}[31m"), "red for a failure");
    insta::assert_snapshot!("terminal_color", t.replace('\u{1b}', "\\e"));
}

#[test]
fn terminal_ascii_snapshot() {
    insta::assert_snapshot!(
        "terminal_ascii",
        terminal::render(
            &report(),
            terminal::Look {
                unicode: false,
                ..Default::default()
            }
        )
    );
}

/// The report with more differences: two cases whose shape diffs are identical, a success
/// against an error, and a diff longer than the terminal shows.
fn report_with_diffs() -> RunReport {
    let mut r = report();
    let same = r.differences[0].clone();
    for case in ["stop-seq", "stop-list"] {
        r.differences.push(Difference {
            case: case.into(),
            ..same.clone()
        });
    }
    let long: String = (0..60)
        .map(|i| format!("+  \"field_{i}\": \"string\",\n"))
        .collect();
    r.differences.push(Difference {
        shape_diffs: vec![ShapeDiff {
            summary: Some("200 chat.completion vs 400 error envelope".into()),
            ..shape_diff(
                "response body",
                format!("--- reference\n+++ {GW}\n@@ -1,3 +1,3 @@\n-{{\n+[\n"),
            )
        }],
        ..difference(
            "chat.seed",
            "chat/seed",
            Outcome::Pass,
            Outcome::Unsupported,
        )
    });
    r.differences.push(Difference {
        shape_diffs: vec![shape_diff(
            "response body",
            format!("--- reference\n+++ {GW}\n@@ -1,1 +1,61 @@\n {{\n{long}"),
        )],
        ..difference(
            "tools.streaming",
            "tools/stream-long",
            Outcome::Pass,
            Outcome::Fail,
        )
    });
    r
}

#[test]
fn terminal_diff_snapshot() {
    let r = report_with_diffs();
    let plain = terminal::render(&r, terminal::Look::default());
    // Without --diff: no diff lines, the success against an error in one line.
    assert!(!plain.contains("@@"), "{plain}");
    // (read unwrapped: at 80 columns the line may wrap)
    let flat = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("200 chat.completion vs 400 error envelope"),
        "{plain}"
    );
    let t = terminal::render(
        &r,
        terminal::Look {
            diff: true,
            ..Default::default()
        },
    );
    // Failures come before any diff.
    assert!(
        t.find("not passing").unwrap() < t.find("@@").unwrap(),
        "{t}"
    );
    // The identical diff of three cases is shown once, naming them.
    assert_eq!(t.matches("\"message\": \"null\"").count(), 1, "{t}");
    assert!(
        t.contains("chat/stop, chat/stop-seq, chat/stop-list"),
        "{t}"
    );
    // The long diff is cut, saying how much.
    assert!(t.contains("22 more lines cut"), "{t}");
    insta::assert_snapshot!("terminal_diff", t);
}

#[test]
fn one_refusal_at_different_steps_and_features_alike_are_grouped() {
    let mut r = report();
    let refused = "endpoint refused: HTTP 404 (route not implemented): Invalid URL";
    let mut multi = Vec::new();
    for (case, step) in [("store", "create"), ("previous", "first turn")] {
        let mut e = result(
            GW,
            "responses",
            case,
            "responses.store",
            Outcome::Unsupported,
        );
        e.reason = Some(format!("{step}: {refused}"));
        e.step = Some(step.into());
        e.exchanges = vec![ExchangeSummary {
            step: step.into(),
            ..exchange(404, json!({"error": {"message": "Invalid URL"}}))
        }];
        multi.push(e);
    }
    // A single-step case whose reason happens to start with its step's name keeps it.
    let mut single = result(
        GW,
        "responses",
        "basic",
        "responses.basic",
        Outcome::Unsupported,
    );
    single.reason = Some(format!("main: {refused}"));
    single.exchanges = vec![exchange(404, json!({}))];
    let mut results: Vec<CaseResult> = r.results.iter().map(|e| e.into_owned()).collect();
    results.extend(multi);
    results.push(single);
    r.results = results.into();
    for (feature, case) in [
        ("responses.store", "responses/store"),
        ("responses.previous", "responses/previous"),
        ("responses.basic", "responses/basic"),
    ] {
        r.differences.push(difference(
            feature,
            case,
            Outcome::Pass,
            Outcome::Unsupported,
        ));
    }
    let t = terminal::render(&r, terminal::Look::default());
    let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
    // The two multi-step cases are one group, each naming its step; the reason is said once
    // for them, and once more for the single-step case (whose `main:` is its reason's own).
    assert!(
        flat.contains("responses/store (create), responses/previous (first turn)"),
        "{t}"
    );
    assert!(flat.contains(&format!("main: {refused}")), "{t}");
    assert_eq!(flat.matches(refused).count(), 2, "{t}");
    // Three features of one area with the same cells are one line (the targets in name order).
    assert!(
        flat.contains("responses.{store, previous, basic}: – unsupported | ✓ pass"),
        "{t}"
    );
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit", junit::render(&report()));
}

#[test]
fn html_escapes_every_endpoint_string() {
    let h = html::render(&report());
    assert!(!h.contains("<script>alert"), "unescaped hostile markup");
    assert!(!h.contains('\u{1b}'), "raw control character in HTML");
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Attribute values cannot be broken out of: no raw hostile quote follows an escaped tag.
    assert!(!h.contains("</script>\""));
    // Exactly one script element: the report's own filter script.
    assert_eq!(h.matches("<script").count(), 1);
    // Self-contained: a CSP forbidding loads, and nothing that would load.
    assert!(h.contains("default-src 'none'"));
    for needle in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!h.contains(needle), "external reference {needle:?}");
    }
}

#[test]
fn markdown_keeps_endpoint_text_out_of_the_structure() {
    let md = markdown::render(&report());
    // Raw markup only inside fenced code blocks (the shape diff) or code spans, where
    // CommonMark shows it as text.
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            let outside_spans: String = line.split('`').step_by(2).collect();
            assert!(
                !outside_spans.contains("<script>"),
                "raw markup in Markdown: {line}"
            );
            assert!(
                !line.contains('\u{1b}'),
                "control character in Markdown: {line:?}"
            );
        }
    }
    // Every table row keeps its column count despite `|` in the hostile target name.
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 4 || cells == 7, "broken table row: {line}");
    }
}

#[test]
fn junit_is_well_formed_with_the_right_counts() {
    let xml = junit::render(&report());
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml parses as XML");
    let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
    assert_eq!(count("testsuite"), 6, "target × suite");
    assert_eq!(count("testcase"), 12);
    assert_eq!(
        count("failure"),
        4,
        "chat.stop on gw, flaky chat.seed on reference, tools/stream on both"
    );
    assert_eq!(count("error"), 1);
    assert_eq!(count("skipped"), 3, "unsupported + two skips");
    let root = doc.root_element();
    assert_eq!(root.attribute("tests"), Some("12"));
    assert_eq!(root.attribute("failures"), Some("4"));
    assert_eq!(root.attribute("errors"), Some("1"));
}

/// Any text a report can carry but the characters XML forbids: markup, quotes, non-ASCII,
/// line breaks.
fn xml_text() -> impl proptest::strategy::Strategy<Value = String> {
    "[a-z0-9 <>&\"'`|./:é😀\n-]{0,10}"
}

/// An entry with any outcome, reason, note, time and checks (some of them known to the client
/// catalogue, so impacts and broken client calls are attached as a run attaches them).
fn any_junit_entry() -> impl proptest::strategy::Strategy<Value = crate::report::model::CaseResult>
{
    use proptest::prelude::*;
    let outcome = proptest::sample::select(vec![
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Error,
        Outcome::Unsupported,
        Outcome::Skip,
    ]);
    let check = (
        prop_oneof![
            Just("tools.stream_deltas".to_string()),
            Just("schema".to_string()),
            Just("stream.usage".to_string()),
            xml_text(),
        ],
        proptest::sample::select(vec![
            CheckStatus::Pass,
            CheckStatus::Fail,
            CheckStatus::Warn,
            CheckStatus::Unsupported,
        ]),
        prop_oneof![
            Just("a tool-call delta has no `index`".to_string()),
            xml_text()
        ],
        proptest::option::of(xml_text()),
    )
        .prop_map(|(name, status, message, at)| {
            let mut c = CheckResult::new(&name, status, message);
            c.at = at;
            c
        });
    (
        (xml_text(), "[a-z./]{1,6}", xml_text(), xml_text()),
        outcome,
        proptest::option::of(xml_text()),
        proptest::option::of(xml_text()),
        prop_oneof![0..5_000u64, any::<u32>().prop_map(u64::from)],
        proptest::collection::vec(check, 0..3),
    )
        .prop_map(
            |((target, suite, case, feature), outcome, reason, notes, ms, checks)| {
                let mut r = result(&target, &suite, &case, &feature, outcome);
                r.reason = reason;
                r.notes = notes;
                r.duration_ms = ms;
                r.checks = checks;
                super::impact::assess_entry(&mut r);
                r
            },
        )
}

/// A target name from a few, so that entries share testsuites.
fn any_junit_report() -> impl proptest::strategy::Strategy<Value = RunReport> {
    use proptest::prelude::*;
    (
        proptest::collection::vec((any_junit_entry(), 0..3usize, 0..2usize), 0..10),
        any::<u32>(),
        proptest::option::of(xml_text()),
    )
        .prop_map(|(entries, ms, replayed_from)| {
            let results: Vec<_> = entries
                .into_iter()
                .map(|(mut r, target, suite)| {
                    r.target = ["reference", GW, &r.target][target].to_string();
                    if suite == 0 {
                        r.suite = "chat".into();
                    }
                    r
                })
                .collect();
            RunReport {
                results: results.into(),
                duration_ms: u64::from(ms),
                replayed_from,
                ..report()
            }
        })
}

proptest::proptest! {
    /// junit.xml is, byte for byte, the document quick-junit (the library nextest writes
    /// JUnit with) renders for the same report, in memory and spooled, for any report whose
    /// text has no unsafe character, tab or carriage return (which quick-junit strips or keeps
    /// raw, and junit.xml shows escaped): the same layout, attributes, counts, escapes, times.
    #[test]
    fn junit_is_quick_junits_document(report in any_junit_report()) {
        let expected = junit::tests::quick_junit(&report);
        proptest::prop_assert_eq!(junit::render(&report), expected.clone());
        let dir = tempfile::tempdir().unwrap();
        proptest::prop_assert_eq!(junit::render(&spooled(&report, dir.path())), expected);
    }
}

proptest::proptest! {
    /// Whatever text an entry carries — any character, control and bidi ones included — in its
    /// target, suite, case and feature names, reason, note, check and replay directory,
    /// junit.xml parses as XML, and no text in it holds an unsafe character but the tab and the
    /// line break.
    #[test]
    fn junit_of_any_text_is_well_formed_xml_with_nothing_unsafe(
        texts in proptest::collection::vec(
            "(\\PC|[\u{0}-\u{1f}\u{7f}-\u{9f}&<>\"'\u{200b}-\u{200f}\u{2028}-\u{202e}\u{feff}\u{fffe}\u{ffff}\\]|]]>)*",
            8,
        ),
        outcome in proptest::sample::select(vec![Outcome::Pass, Outcome::Fail, Outcome::Error, Outcome::Skip]),
    ) {
        let mut r = result(&texts[0], &texts[1], &texts[2], &texts[3], outcome);
        r.reason = Some(texts[4].clone());
        r.notes = Some(texts[5].clone());
        r.checks = vec![CheckResult::fail(&texts[6], texts[7].clone())];
        let report = RunReport {
            results: vec![r].into(),
            replayed_from: Some(texts[7].clone()),
            ..report()
        };
        let xml = junit::render(&report);
        let doc = roxmltree::Document::parse(&xml);
        proptest::prop_assert!(doc.is_ok(), "{:?}\n{}", doc.err(), xml);
        let doc = doc.unwrap();
        proptest::prop_assert_eq!(unsafe_texts(&doc), Vec::<&str>::new());
        let case = doc.descendants().find(|n| n.has_tag_name("testcase")).unwrap();
        let name = format!("{} [{}]", inert_xml(&texts[2]), inert_xml(&texts[3]));
        proptest::prop_assert_eq!(case.attribute("name"), Some(name.as_str()));
    }
}

/// `s` as a parser reads it back from a junit.xml attribute: unsafe characters shown escaped,
/// tabs and line breaks read as spaces (a carriage return is escaped too).
fn inert_xml(s: &str) -> String {
    crate::util::text::inert(s).replace(['\t', '\n'], " ")
}

#[test]
fn junit_shows_the_characters_xml_forbids_escaped_and_stays_well_formed() {
    let hostile = "a\u{1b}[31mred\u{0}\u{7}\u{b}\u{c}\r\u{7f}\u{85}\u{202e}\u{fffe}\u{ffff}\tz\n";
    let mut r = result(hostile, hostile, hostile, hostile, Outcome::Fail);
    r.reason = Some(hostile.into());
    r.notes = Some(hostile.into());
    r.checks = vec![CheckResult::fail(hostile, hostile).at(hostile)];
    let report = RunReport {
        results: vec![r].into(),
        replayed_from: Some(hostile.into()),
        ..report()
    };
    let xml = junit::render(&report);
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml parses as XML");
    let shown = "a\\x1b[31mred\\x00\\x07\\x0b\\x0c\\x0d\\x7f\\x85\\u{202e}\\u{fffe}\\u{ffff}\tz\n";
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    // A parser reads a tab or a line break in an attribute as a space.
    assert_eq!(
        case.attribute("name"),
        Some(
            format!("{shown} [{shown}]")
                .replace(['\t', '\n'], " ")
                .as_str()
        )
    );
    let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(
        failure.text(),
        Some(format!("[Fail] {shown}: {shown} (at {shown})\nnote: {shown}").as_str())
    );
    assert_eq!(unsafe_texts(&doc), Vec::<&str>::new());
}

/// Every attribute value and text in `doc` that holds an unsafe character other than the tab
/// and the line break (one `inert` would change).
fn unsafe_texts<'a>(doc: &'a roxmltree::Document<'_>) -> Vec<&'a str> {
    doc.descendants()
        .flat_map(|n| n.attributes().map(|a| a.value()).chain(n.text()))
        .filter(|t| matches!(crate::util::text::inert(t), std::borrow::Cow::Owned(_)))
        .collect()
}

#[test]
fn terminal_output_has_no_escape_sequences() {
    for wide in [false, true] {
        let t = terminal::render(
            &report(),
            terminal::Look {
                wide,
                ..Default::default()
            },
        );
        assert!(
            !t.contains('\u{1b}'),
            "ESC byte in terminal output (wide={wide})"
        );
    }
}

/// The hand-built report compared with a baseline: one of each kind, hostile text in a reason,
/// a note and a target name.
fn report_with_baseline() -> RunReport {
    use crate::report::model::{BaselineSection, CellChange, FailOn, NewFailure};
    let cell = |target: &str, feature: &str, baseline: Outcome, now: Outcome| CellChange {
        impact: None,
        target: target.into(),
        feature: feature.into(),
        baseline,
        now,
        cases: vec![],
        reason: None,
        note: None,
        expires: None,
    };
    let mut regression = cell(GW, "chat.stop", Outcome::Pass, Outcome::Fail);
    regression.cases = vec!["chat/stop".into()];
    regression.reason = Some(format!("stop ignored: {HOSTILE}"));
    let mut expired = cell("reference", "chat.seed", Outcome::Fail, Outcome::Fail);
    expired.note = Some("flaky upstream".into());
    expired.expires = Some("2024-12-31".into());
    let mut known = cell(GW, "errors.bad_model", Outcome::Fail, Outcome::Error);
    known.note = Some(format!(
        "known Gemini deviation, tracked upstream {HOSTILE}"
    ));
    known.expires = Some("2099-12-31".into());
    RunReport {
        baseline: Some(BaselineSection {
            source: "baseline.yaml".into(),
            fail_on: FailOn::Regression,
            passed: false,
            regressions: vec![regression],
            expired: vec![expired],
            new_failures: vec![NewFailure {
                impact: Some(crate::judge::Impact::Breaks),
                target: GW.into(),
                suite: "chat".into(),
                case: "new-case".into(),
                feature: "chat.basic".into(),
                outcome: Outcome::Fail,
                reason: Some(HOSTILE.into()),
            }],
            improvements: vec![cell(
                "reference",
                "chat.basic",
                Outcome::Fail,
                Outcome::Pass,
            )],
            known: vec![known],
        }),
        ..report()
    }
}

#[test]
fn baseline_blocks_snapshot() {
    let b = report_with_baseline().baseline.unwrap();
    insta::assert_snapshot!("baseline_terminal", super::baseline::terminal(&b));
    insta::assert_snapshot!("baseline_markdown", super::baseline::markdown(&b));
    insta::assert_snapshot!("baseline_html", super::baseline::html(&b));
}

#[test]
fn baseline_comes_first_in_every_format() {
    let r = report_with_baseline();
    let t = terminal::render(&r, terminal::Look::default());
    assert!(t.starts_with("against baseline baseline.yaml"), "{t}");
    assert!(!t.contains('\u{1b}'));
    let md = markdown::render(&r);
    let first_h2 = md.find("\n## ").unwrap();
    assert_eq!(
        &md[first_h2..first_h2 + 27],
        "\n## Against the baseline\n\n*"
    );
    assert!(md.find("## Against the baseline").unwrap() < md.find("| feature |").unwrap());
    let h = html::render(&r);
    assert!(h.find("id=\"baseline\"").unwrap() < h.find("<h2>Targets</h2>").unwrap());
    assert!(!h.contains("<script>alert"), "unescaped hostile markup");
    assert_eq!(h.matches("<script").count(), 1);
    // Without a baseline nothing changes.
    assert_eq!(
        markdown::render(&report()),
        markdown::render(&RunReport {
            baseline: None,
            ..r
        })
    );
}

/// The collector takes cases in the order they finish and reports them in plan order, with
/// the body policy applied per case, repeats merged and the difference view intact.
/// A redactor that knows `secret`.
fn knowing(secret: &str) -> crate::redact::Redactor {
    let secrets = crate::redact::SecretRegistry::default();
    secrets.add(secret);
    crate::redact::Redactor::new(secrets)
}

/// What a collector is told of a complete run of `targets` (no time, no router hops).
fn meta(targets: &[std::sync::Arc<crate::load::Target>]) -> super::RunMeta<'_> {
    super::RunMeta {
        started_at: String::new(),
        duration_ms: 0,
        partial: false,
        replayed_from: None,
        targets,
        hop_pairs: vec![],
    }
}

/// The reports of an in-memory and a spooling collector (spooled to `dir`) that took the same
/// finished cases, `(plan index, case)`, in the order they `arrive`.
fn collected<'a>(
    redactor: &crate::redact::Redactor,
    bodies: super::model::BodyPolicy,
    targets: &[std::sync::Arc<crate::load::Target>],
    dir: &std::path::Path,
    arrive: impl IntoIterator<Item = &'a (usize, crate::judge::FinishedCase)>,
) -> (RunReport, RunReport) {
    use super::Collector;
    let mut memory = Collector::new(redactor, bodies, targets.len());
    let mut spooled = Collector::new(redactor, bodies, targets.len()).spool_to(dir);
    for (idx, rec) in arrive {
        memory.add(*idx, rec, &rec.ending(), &rec.outcome());
        spooled.add(*idx, rec, &rec.ending(), &rec.outcome());
    }
    let meta = meta(targets);
    (
        memory.finish(&meta).unwrap(),
        spooled.finish(&meta).unwrap(),
    )
}

#[test]
fn collector_reports_plan_order_whatever_order_cases_arrive_in() {
    use super::Collector;
    use super::model::BodyPolicy;
    use crate::testing;
    let redactor = knowing("canary-collector-0000");
    let (a, b) = (testing::target("a"), testing::target("b"));
    let (c1, c2) = (testing::case("c1"), testing::case("c2"));
    let ok = json!({"object": "chat.completion", "note": "canary-collector-0000"});
    let listy = json!([{"error": {"message": "no"}}]);
    // Plan: a/c1 ×2 (repeats), a/c2, b/c1, b/c2.
    let finished = [
        (0, testing::finished(&a, &c1, Outcome::Pass, ok.clone())),
        (1, testing::finished(&a, &c1, Outcome::Fail, ok.clone())),
        (2, testing::finished(&a, &c2, Outcome::Pass, ok.clone())),
        (3, testing::finished(&b, &c1, Outcome::Pass, ok.clone())),
        (4, testing::finished(&b, &c2, Outcome::Fail, listy)),
    ];
    let mut c = Collector::new(&redactor, BodyPolicy::Failures, 2);
    for (idx, rec) in finished.into_iter().rev() {
        c.add(idx, &rec, &rec.ending(), &rec.outcome());
    }
    let targets = [a.clone(), b.clone()];
    let r = c.finish(&meta(&targets)).unwrap();
    let results = r.results.clone().into_vec();
    let order: Vec<(&str, &str)> = results
        .iter()
        .map(|x| (x.target.as_str(), x.case.as_str()))
        .collect();
    assert_eq!(order, [("a", "c1"), ("a", "c2"), ("b", "c1"), ("b", "c2")]);
    // Repeats: the failing one stands for the case, flaky.
    assert_eq!(results[0].repeats, [Outcome::Pass, Outcome::Fail]);
    assert!(results[0].flaky);
    // `failures`: the failing cases keep their bodies (redacted), the passing ones do not.
    let body = |i: usize| results[i].exchanges[0].response_body.clone();
    let kept = body(0).expect("a failing repeat keeps its body").value();
    assert_eq!(kept["note"], "***");
    assert!(body(1).is_none() && results[1].exchanges[0].request_headers.is_empty());
    assert_eq!(
        body(3).unwrap().value(),
        json!([{"error": {"message": "no"}}])
    );
    assert_eq!(r.report_bodies, BodyPolicy::Failures);
    // The difference view: c2 passes on a and fails on b, with its shape diff.
    let diffs: Vec<&str> = r.differences.iter().map(|d| d.case.as_str()).collect();
    assert!(diffs.contains(&"c2"), "{diffs:?}");
    let c2 = r.differences.iter().find(|d| d.case == "c2").unwrap();
    assert!(
        c2.shape_diffs[0].diff.contains("+["),
        "{}",
        c2.shape_diffs[0].diff
    );
}

/// Bodies are kept as text and written as the JSON they hold, through serde_json::Value too
/// (redaction), whatever they contain.
#[test]
fn json_text_reads_and_writes_as_the_value_it_holds() {
    use super::model::JsonText;
    let v =
        json!({"b": [1, -2, 18446744073709551615u64, 0.1, 1e300], "a": "x\"]}\\\\{[", "n": null});
    let t = JsonText::new(&v);
    assert_eq!(serde_json::to_value(&t).unwrap(), v);
    assert_eq!(
        serde_json::to_string_pretty(&t).unwrap(),
        serde_json::to_string_pretty(&v).unwrap()
    );
    let back: JsonText = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, t);
    let back: JsonText = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(back.value(), v);
    // Nested deeper than serde_json reads back: kept as its text, still valid JSON output.
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let t = JsonText::new(&deep);
    let out = serde_json::to_value(&t).unwrap();
    assert_eq!(out, Value::String(deep.to_string()));
    // Brackets inside strings are not nesting.
    let t = JsonText::new(&json!({"s": "[".repeat(300)}));
    assert_eq!(t.value(), json!({"s": "[".repeat(300)}));
}

/// `memory` with its entries spooled to `dir` (added last first, as cases finishing out of
/// order add them: held back and written in plan order).
fn spooled(memory: &RunReport, dir: &std::path::Path) -> RunReport {
    spooled_holding(memory, dir, super::results::HOLD_BYTES)
}

/// [`spooled`] holding back at most `hold` bytes of entries (0: written as they come, put in
/// plan order at the end).
fn spooled_holding(memory: &RunReport, dir: &std::path::Path, hold: usize) -> RunReport {
    let mut spool = super::results::SpoolWriter::holding(dir, hold).unwrap();
    for (i, e) in memory
        .results
        .iter()
        .enumerate()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        spool.add(i, &mut e.into_owned(), None).unwrap();
    }
    RunReport {
        results: spool.finish().unwrap(),
        ..memory.clone()
    }
}

/// `report.json` writes a spool's lines into the results' place itself: with none, one or
/// several entries, the file is serde_json's pretty report of the same entries in memory.
#[test]
fn report_json_of_a_spool_of_none_one_or_several_entries_is_serde_jsons_pretty_report() {
    let all = report().results.into_vec();
    assert!(all.len() >= 2);
    for n in [0, 1, all.len()] {
        let memory = RunReport {
            results: all[..n].to_vec().into(),
            ..report()
        };
        let dir = tempfile::tempdir().unwrap();
        let spooled = spooled(&memory, dir.path());
        assert!(spooled.results.is_spooled());
        assert_eq!(
            json::render(&spooled),
            serde_json::to_string_pretty(&memory).unwrap() + "\n",
            "{n} entries"
        );
    }
}

/// Every format rendered from entries spooled to disk (added out of order, as cases finish)
/// is byte for byte what the same entries in memory render: `report.json` (the contract),
/// Markdown, HTML, JUnit and the terminal.
#[test]
fn spooled_results_render_exactly_as_in_memory() {
    let memory = report();
    let entries = memory.results.clone().into_vec();
    let dir = tempfile::tempdir().unwrap();
    let spooled = spooled(&memory, dir.path());
    assert!(spooled.results.is_spooled() && !memory.results.is_spooled());
    // The spool is an unnamed file: nothing is left in the report directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // report.json copies the spooled lines: serde_json's pretty output of the entries.
    assert_eq!(
        json::render(&spooled),
        serde_json::to_string_pretty(&memory).unwrap() + "\n"
    );
    assert_eq!(json::render(&memory), json::render(&spooled));
    // Any other serializer embeds the lines as they are laid out: the same value.
    let value = |r: &RunReport| {
        serde_json::from_str::<serde_json::Value>(&serde_json::to_string(r).unwrap()).unwrap()
    };
    assert_eq!(value(&spooled), value(&memory));
    assert_eq!(markdown::render(&spooled), markdown::render(&memory));
    assert_eq!(html::render(&spooled), html::render(&memory));
    assert_eq!(junit::render(&spooled), junit::render(&memory));
    for wide in [false, true] {
        for diff in [false, true] {
            let look = terminal::Look {
                wide,
                diff,
                ..Default::default()
            };
            assert_eq!(
                terminal::render(&spooled, look),
                terminal::render(&memory, look)
            );
        }
    }
    assert_eq!(spooled, memory);
    assert_eq!(spooled.results.get(3).unwrap().into_owned(), entries[3]);
    assert_eq!(spooled.results.error(), None);
    // Written as they came and put in plan order at the end: the same reports.
    let reordered = spooled_holding(&memory, dir.path(), 0);
    assert_eq!(json::render(&reordered), json::render(&memory));
    assert_eq!(markdown::render(&reordered), markdown::render(&memory));
    assert_eq!(html::render(&reordered), html::render(&memory));
    assert_eq!(junit::render(&reordered), junit::render(&memory));
    assert_eq!(reordered, memory);
}

/// Across targets, a case is compared as soon as its last target reports it when each case
/// reaches each target once (a spooled run keeps only the cases still running somewhere); the
/// differences come in plan order whatever order the cases end in; with repeats, every case
/// waits for the end and the last repeat on each target stands for it.
#[test]
fn cases_are_compared_across_targets_as_their_last_target_ends_them() {
    use super::targets::Comparison;
    use crate::testing;
    let (a, b) = (testing::target("a"), testing::target("b"));
    let [c0, c1, c2] = ["c0", "c1", "c2"].map(testing::case);
    // Plan entry `idx`, `case` on `target`, ends with `outcome`.
    let end = |c: &mut Comparison, idx, target, case, outcome| {
        let f = testing::finished(target, case, outcome, json!({"object": "chat.completion"}));
        c.add(idx, &f, &f.outcome());
    };
    // The plan: a c0, a c1, a c2, b c0, b c1, b c2.
    let mut once = Comparison::new(2);
    once.every_case_once();
    end(&mut once, 5, &b, &c2, Outcome::Fail);
    end(&mut once, 2, &a, &c2, Outcome::Pass);
    assert_eq!(once.pending(), 0, "c2 ended on both targets: compared");
    end(&mut once, 1, &a, &c1, Outcome::Fail);
    end(&mut once, 0, &a, &c0, Outcome::Pass);
    end(&mut once, 3, &b, &c0, Outcome::Pass);
    assert_eq!(once.pending(), 1, "c1 waits for b");
    end(&mut once, 4, &b, &c1, Outcome::Pass);
    let found: Vec<String> = once.finish().into_iter().map(|d| d.case).collect();
    assert_eq!(found, ["c1", "c2"]);

    // --repeat 2 on a: a c0 (fails, then passes), a c0, b c0.
    let mut repeats = Comparison::new(2);
    end(&mut repeats, 2, &b, &c0, Outcome::Pass);
    end(&mut repeats, 1, &a, &c0, Outcome::Pass);
    end(&mut repeats, 0, &a, &c0, Outcome::Fail);
    assert_eq!(repeats.pending(), 1, "compared at the end");
    assert!(
        repeats.finish().is_empty(),
        "the last repeat stands: both pass"
    );
}

/// A run whose cases each run once spools its entries as they arrive; its report is the one
/// the in-memory collector builds from the same cases (entries, matrix, differences), and the
/// entries on disk are the redacted ones.
#[test]
fn the_spooling_collector_reports_what_the_in_memory_one_does() {
    use super::model::BodyPolicy;
    use crate::testing;
    let redactor = knowing("canary-spool-0000");
    let (a, b) = (testing::target("a"), testing::target("b"));
    let (c1, c2) = (testing::case("c1"), testing::case("c2"));
    let ok = json!({"object": "chat.completion", "note": "canary-spool-0000"});
    let finished = [
        (0, testing::finished(&a, &c1, Outcome::Pass, ok.clone())),
        (1, testing::finished(&a, &c2, Outcome::Fail, ok.clone())),
        (2, testing::finished(&b, &c1, Outcome::Pass, ok.clone())),
        (3, testing::finished(&b, &c2, Outcome::Pass, json!([1]))),
    ];
    let dir = tempfile::tempdir().unwrap();
    let arrivals = [2, 0, 3, 1].map(|i| &finished[i]);
    let (memory, spooled) = collected(
        &redactor,
        BodyPolicy::All,
        &[a.clone(), b.clone()],
        dir.path(),
        arrivals,
    );
    assert!(spooled.results.is_spooled());
    let json = json::render(&spooled);
    assert_eq!(json, serde_json::to_string_pretty(&memory).unwrap() + "\n");
    assert!(!json.contains("canary-spool-0000") && json.contains("***"));
    assert_eq!(spooled.features, memory.features);
    assert_eq!(spooled.differences.len(), 1);
}

/// A report whose entries carry what a renderer reads hardest: bodies of every JSON kind
/// (escapes, control and non-ASCII characters, floats, both ends of the integers, empty
/// containers), a text body, one cut at the size limit, one nested too deep to keep as JSON,
/// headers and text fields that need JSON escapes, client effects, several exchanges.
fn report_with_bodies() -> RunReport {
    use super::model::JsonText;
    use crate::clients::catalogue::Status;
    use crate::judge::{ClientEffect, Impact};
    let tricky = json!({
        "s": "\"quoted\" \\ back\nline\ttab \u{1} \u{7f} \u{2028} </script> é 😀",
        "n": [0, -1, 18446744073709551615u64, -9223372036854775808i64, 0.1, 1e300, -0.0, 2.5e-8],
        "e": [[], {}, [[]], {"": null}],
        "<b>": true,
    });
    let mut deep = json!("bottom");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let big = json!({"data": [{"embedding": vec![0.125; 4000]}]});
    let headers = |extra: &str| {
        HeaderList::from_iter([
            ("authorization".into(), "Bearer ***".into()),
            ("x-quoted".into(), format!("\"{extra}\" \\ \u{1b}[31m é")),
        ])
    };
    let ex = |step: &str, req: Value, status: Option<u16>, body: Option<JsonText>| {
        let mut e = exchange(status.unwrap_or(0), json!(null));
        e.step = step.into();
        e.url = format!("http://127.0.0.1:4000/v1/{step}?q=\"x\"&y=<z>");
        e.request_headers = headers(step);
        e.request_body = Some(JsonText::capped(&req));
        e.status = status;
        e.response_headers = if status.is_some() {
            headers("response")
        } else {
            HeaderList::default()
        };
        e.response_body = body;
        if status.is_none() {
            e.transport_error = Some(format!("connection reset: {HOSTILE}"));
        }
        e
    };
    let mut fail = result(
        "reference",
        "bodies",
        "tricky \"one\"",
        "chat.basic",
        Outcome::Fail,
    );
    fail.reason = Some(format!("body: {HOSTILE}\nsecond line"));
    fail.impact = Some(Impact::Breaks);
    let mut check = CheckResult::new("schema", CheckStatus::Fail, "missing \"id\"")
        .at("$.choices[0]")
        .expected("{\"a\": 1}")
        .actual(HOSTILE);
    check.impact = Some(Impact::Breaks);
    check.deviations = vec!["S1".into()];
    check.clients = vec![ClientEffect {
        deviation: "S1".into(),
        client: "openai-python".into(),
        version: "1.2.3".into(),
        call: "chat_basic".into(),
        status: Status::Raises,
        symptom: format!("TypeError: {HOSTILE}"),
    }];
    fail.checks = vec![check];
    fail.warnings = vec!["w \"1\"".into(), format!("w2 {HOSTILE}")];
    fail.notes = Some("note \"quoted\"\n\u{1b}[0m".into());
    fail.repeats = vec![Outcome::Pass, Outcome::Fail];
    fail.flaky = true;
    fail.exchanges = vec![
        ex(
            "first",
            tricky.clone(),
            Some(200),
            Some(JsonText::new(&tricky)),
        ),
        ex(
            "text",
            json!("a \"string\" body\n<not json>"),
            Some(502),
            Some(JsonText::new(&json!("<html>bad gateway \"x\"</html>"))),
        ),
        ex(
            "big",
            json!({"input": "x"}),
            Some(200),
            Some(JsonText::capped(&big)),
        ),
        ex("deep", deep.clone(), Some(200), Some(JsonText::new(&deep))),
        ex("lost", json!({}), None, None),
    ];
    let mut error = result(GW, "bodies", "tricky \"one\"", "chat.basic", Outcome::Error);
    error.reason = Some("transport: reset".into());
    error.impact = Some(Impact::Breaks);
    error.exchanges = vec![ex("only", json!([1, "2", [3]]), None, None)];
    let mut pass = result("reference", "bodies", "plain", "chat.stop", Outcome::Pass);
    pass.exchanges = vec![ex(
        "ok",
        json!({"a": 1}),
        Some(200),
        Some(json!({"b": [2]}).into()),
    )];
    let skip = result(GW, "bodies", "plain", "chat.stop", Outcome::Skip);
    let results: Vec<CaseResult> = vec![fail, pass, error, skip];
    RunReport {
        results: results.into(),
        ..report()
    }
}

/// HTML and JUnit of entries with hard bodies, spooled as a run spools them: the reviewed
/// output, byte for byte (the renderers read each spooled entry through a borrowed view; this
/// snapshot was taken from the renderers that parsed every entry whole).
#[test]
fn spooled_bodies_render_as_reviewed() {
    let memory = report_with_bodies();
    let dir = tempfile::tempdir().unwrap();
    let spooled = spooled(&memory, dir.path());
    let html = html::render(&spooled);
    let junit = junit::render(&spooled);
    assert_eq!(spooled.results.error(), None);
    assert_eq!(html, html::render(&memory));
    assert_eq!(junit, junit::render(&memory));
    // The cut body and the one nested too deep are in it, as text.
    assert!(html.contains("[0.125,0.125") && html.contains("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["));
    insta::assert_snapshot!("bodies_html", html);
    insta::assert_snapshot!("bodies_junit", junit);
}

/// One failing entry with `body` as its request and response body.
fn entry_with_body(body: &Value) -> CaseResult {
    let mut r = result("reference", "s", "c", "chat.basic", Outcome::Fail);
    r.exchanges = vec![exchange(200, body.clone())];
    r.exchanges[0].request_body = Some(body.clone().into());
    r
}

proptest::proptest! {
    /// Any body read back from a spooled entry through the HTML's view is shown as serde_json's
    /// pretty output of the value (a string: its text).
    #[test]
    fn a_spooled_body_is_shown_as_the_value_it_holds(v in super::json::tests::value()) {
        use super::entry::Detailed;
        use super::results::SpoolWriter;
        let dir = tempfile::tempdir().unwrap();
        let mut spool = SpoolWriter::new(dir.path()).unwrap();
        spool.add(0, &mut entry_with_body(&v), None).unwrap();
        let results = spool.finish().unwrap();
        let shown = match &v {
            Value::String(s) => s.clone(),
            _ => serde_json::to_string_pretty(&v).unwrap(),
        };
        let mut seen = Vec::new();
        results.each::<Detailed>([0], |e| {
            for x in &e.exchanges {
                for b in [x.request_body, x.response_body].into_iter().flatten() {
                    seen.push(super::body::pretty(b.0));
                }
            }
        });
        // A body of JSON `null` reads back as no body (as report.json's entry does).
        let expected = if v.is_null() { vec![] } else { vec![shown.clone(), shown] };
        proptest::prop_assert_eq!(seen, expected);
        proptest::prop_assert_eq!(results.error(), None);
    }

    /// Whatever a spooled line became on disk (cut, bytes changed, not JSON at all), HTML and
    /// JUnit render without a panic, a line their views cannot read is reported, and such a
    /// line fails junit.xml (as a line not the one written fails report.json).
    #[test]
    fn damaged_spooled_lines_are_reported_not_a_panic(
        cut in proptest::prelude::any::<proptest::sample::Index>(),
        flips in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()),
            0..4,
        ),
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        v in super::json::tests::value(),
    ) {
        use super::entry::{Brief, Detailed};
        use super::results::SpoolWriter;
        let entry = entry_with_body(&v);
        let good = spooled_line(&entry);
        let mut damaged = good[..cut.index(good.len() + 1).min(good.len())].to_vec();
        for (at, b) in &flips {
            if !damaged.is_empty() {
                let i = at.index(damaged.len());
                damaged[i] = *b;
            }
        }
        for line in [damaged, noise.clone()] {
            let readable = (
                serde_json::from_slice::<<Brief as super::entry::View>::Of<'_>>(&line).is_ok(),
                serde_json::from_slice::<<Detailed as super::entry::View>::Of<'_>>(&line).is_ok(),
            );
            let dir = tempfile::tempdir().unwrap();
            let intact = line == good;
            let lines = [(entry.clone(), good.clone()), (entry.clone(), line)];
            let report = RunReport {
                results: SpoolWriter::damaged(dir.path(), &lines).unwrap(),
                ..report()
            };
            // report.json copies the lines as they are: a line that is not the one written
            // (its checksum differs) fails the file instead of making it malformed.
            let mut json = Vec::new();
            let written = json::write(&report, &mut json);
            proptest::prop_assert_eq!(written.is_err(), !intact, "{:?}", written);
            if written.is_ok() {
                proptest::prop_assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
            }
            let junit = junit::render(&report);
            proptest::prop_assert_eq!(report.results.error().is_some(), !readable.0);
            // A line it cannot read fails junit.xml: its counts would name a missing case.
            proptest::prop_assert_eq!(junit.ends_with("</testsuites>\n"), readable.0, "{}", junit);
            let html = html::render(&report);
            proptest::prop_assert_eq!(report.results.error().is_some(), !(readable.0 && readable.1));
            proptest::prop_assert!(html.ends_with("</html>\n"));
        }
    }
}

/// The line a spool holds for `entry`: the entry as serde_json's pretty layout writes it as an
/// element of the top-level `results` array (report.json copies it as it is).
fn spooled_line(entry: &CaseResult) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        results: [&'a CaseResult; 1],
    }
    let doc = serde_json::to_string_pretty(&Doc { results: [entry] }).unwrap();
    let line = doc
        .strip_prefix("{\n  \"results\": [\n    ")
        .and_then(|d| d.strip_suffix("\n  ]\n}"))
        .unwrap();
    line.as_bytes().to_vec()
}

/// A spooled line is the entry in report.json's layout, exchanges last (report.json copies it),
/// and a brief view reads only the part before the exchanges: for every entry — with several
/// exchanges, with none, with bodies of every kind — it sees what the entry in memory shows.
#[test]
fn a_spooled_line_is_its_entry_and_a_brief_view_reads_it_without_the_exchanges() {
    use super::entry::{Brief, View};
    use super::results::SpoolWriter;
    let mut entries: Vec<CaseResult> = report_with_bodies().results.into_vec();
    entries.extend(report().results.into_vec());
    assert!(entries.iter().any(|e| e.exchanges.is_empty()));
    assert!(entries.iter().any(|e| e.exchanges.len() > 1));
    for entry in entries {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = SpoolWriter::new(dir.path()).unwrap();
        spool.add(0, &mut entry.clone(), None).unwrap();
        let results = spool.finish().unwrap();
        let mut lines = Vec::new();
        results
            .each_line(|l| {
                lines.push(l.to_vec());
                Ok(())
            })
            .unwrap();
        assert_eq!(lines, [spooled_line(&entry)], "{}", entry.case);
        // The exchanges start at the comma before their key (one level into the entry), or the
        // line has none.
        let [(at, len)] = results.exchanges_at()[..] else {
            panic!("one entry")
        };
        if entry.exchanges.is_empty() {
            assert_eq!(at, len, "{}", entry.case);
        } else {
            assert!(
                lines[0][at..].starts_with(b",\n      \"exchanges\": ["),
                "{}",
                entry.case
            );
        }
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&serde_json::to_string(&results).unwrap())
                .unwrap(),
            serde_json::to_value([&entry]).unwrap()
        );
        let mut seen = Vec::new();
        results.each::<Brief>([0], |v| seen.push(format!("{v:?}")));
        assert_eq!(seen, [format!("{:?}", Brief::of(&entry))], "{}", entry.case);
        assert_eq!(results.error(), None);
    }
}

/// `memory` as a run with one target spools it: only the entries of its first target, each
/// with its HTML detail written as it is added (out of order, as cases finish; at most `hold`
/// bytes held back to write them in plan order).
fn one_target_spooled(
    memory: &RunReport,
    dir: &std::path::Path,
    hold: usize,
) -> (RunReport, RunReport) {
    let target = memory.targets[0].name.clone();
    let entries: Vec<CaseResult> = (memory.results.iter())
        .filter(|e| e.target == target)
        .map(|e| e.into_owned())
        .collect();
    let memory = RunReport {
        targets: memory.targets[..1].to_vec(),
        differences: vec![],
        results: entries.clone().into(),
        ..memory.clone()
    };
    let mut spool = super::results::SpoolWriter::holding(dir, hold).unwrap();
    for (i, mut e) in entries.into_iter().enumerate().rev() {
        let mut detail = String::new();
        html::write_detail(&mut detail, &e, memory.report_bodies);
        spool.add(i, &mut e, Some(&detail)).unwrap();
    }
    let spooled = RunReport {
        results: spool.finish().unwrap(),
        ..memory.clone()
    };
    (memory, spooled)
}

/// A run with one target writes each case's HTML detail as the case finishes, and the HTML
/// report copies them into their cells: byte for byte the report rendered from the entries in
/// memory, under every body policy, and every other format unchanged.
#[test]
fn details_written_as_cases_finish_make_the_same_html() {
    use super::model::BodyPolicy;
    for memory in [report(), report_with_bodies()] {
        for (bodies, hold) in [BodyPolicy::All, BodyPolicy::Failures, BodyPolicy::None]
            .into_iter()
            .flat_map(|b| [(b, super::results::HOLD_BYTES), (b, 0)])
        {
            let memory = RunReport {
                report_bodies: bodies,
                ..memory.clone()
            };
            let dir = tempfile::tempdir().unwrap();
            let (memory, spooled) = one_target_spooled(&memory, dir.path(), hold);
            assert!(spooled.results.has_details() && !memory.results.has_details());
            assert!(spooled.results.len() > 1);
            let html = html::render(&spooled);
            assert_eq!(html, html::render(&memory), "{bodies:?}");
            assert!(html.contains("<div class=\"case\">"));
            assert_eq!(json::render(&spooled), json::render(&memory));
            assert_eq!(junit::render(&spooled), junit::render(&memory));
            assert_eq!(spooled.results.error(), None);
        }
    }
    // Entries added without details (several targets) are rendered at the end, as before.
    let dir = tempfile::tempdir().unwrap();
    assert!(!spooled(&report(), dir.path()).results.has_details());
}

/// With one target the spooling collector writes each case's HTML detail as the case arrives,
/// redacted, under the run's body policy: the HTML report is the in-memory collector's.
#[test]
fn the_spooling_collector_of_one_target_writes_details_as_cases_arrive() {
    use super::model::BodyPolicy;
    use crate::testing;
    let redactor = knowing("canary-detail-0000");
    let a = testing::target("a");
    let ok = json!({"object": "chat.completion", "note": "canary-detail-0000"});
    let finished: Vec<_> = (0..5)
        .map(|i| {
            let case = testing::case(&format!("c{i}"));
            let outcome = if i % 2 == 0 {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            (i, testing::finished(&a, &case, outcome, ok.clone()))
        })
        .collect();
    for bodies in [BodyPolicy::All, BodyPolicy::Failures, BodyPolicy::None] {
        let dir = tempfile::tempdir().unwrap();
        let arrivals = [3, 0, 4, 2, 1].map(|i| &finished[i]);
        let (memory, spooled) = collected(
            &redactor,
            bodies,
            std::slice::from_ref(&a),
            dir.path(),
            arrivals,
        );
        assert!(spooled.results.has_details());
        let html = html::render(&spooled);
        assert_eq!(html, html::render(&memory), "{bodies:?}");
        assert!(!html.contains("canary-detail-0000"));
        assert_eq!(
            html.contains("***"),
            bodies != BodyPolicy::None,
            "{bodies:?}"
        );
        let not_kept = format!(
            "headers and bodies not kept (--report-bodies {})",
            bodies.as_str()
        );
        assert_eq!(
            html.contains(&not_kept),
            bodies != BodyPolicy::All,
            "{bodies:?}"
        );
        assert_eq!(spooled.results.error(), None);
    }
}
