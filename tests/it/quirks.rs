//! `docs/quirks.md` is the catalogue every deviation id resolves to: each id cited in the
//! repository's user-facing files or printed by the binary must be a row there, and every
//! `QUIRKS §N` a section.

use std::collections::BTreeSet;

use regex::Regex;

use crate::support::*;

/// The row ids `docs/quirks.md` defines (`<a id="S1"></a>`) and its numbered sections.
fn catalogue() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(repo().join("docs/quirks.md")).expect("docs/quirks.md");
    let rows = Regex::new(r#"<a id="([A-Z]\d{1,2})"></a>"#).unwrap();
    let sections = Regex::new(r"(?m)^## (\d+)\. ").unwrap();
    (
        rows.captures_iter(&text)
            .map(|c| c[1].to_string())
            .collect(),
        sections
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .collect(),
    )
}

/// Every deviation id and `QUIRKS §N` in `text`, as `(id, context)` pairs.
///
/// An id is a letter of a catalogue section followed by one or two digits (`E1`, `S10`),
/// standing alone as a word. `L2` before "norm" is the vector norm, not a row.
fn cited(text: &str) -> Vec<(String, String)> {
    let id = Regex::new(r"\b([EBSTOMLURQHA]\d{1,2})\b").unwrap();
    let section = Regex::new(r"QUIRKS\s*§\s*(\d+)").unwrap();
    let mut out = Vec::new();
    for m in id.captures_iter(text) {
        let whole = m.get(0).unwrap();
        let after = &text[whole.end()..];
        if m[1].starts_with('L') && (after.starts_with("-norm") || after.starts_with(" norm")) {
            continue;
        }
        // `…T12:00:00Z` is a timestamp.
        if after.starts_with(':') {
            continue;
        }
        out.push((m[1].to_string(), context(text, whole.start())));
    }
    for m in section.captures_iter(text) {
        out.push((
            format!("§{}", &m[1]),
            context(text, m.get(0).unwrap().start()),
        ));
    }
    out
}

fn context(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    text[start..end].chars().take(160).collect()
}

/// The ids in `text` (from `origin`) that are not rows or sections of the catalogue.
fn unresolved(origin: &str, text: &str) -> Vec<String> {
    let (rows, sections) = catalogue();
    cited(text)
        .into_iter()
        .filter(|(id, _)| match id.strip_prefix('§') {
            Some(n) => !sections.contains(n),
            None => !rows.contains(id),
        })
        .map(|(id, ctx)| format!("{origin}: {id} in: {ctx}"))
        .collect()
}

/// The files users read: README, CONTRIBUTING, docs, suites, schemas, the example targets
/// file, the client catalogue and every source file of the binary and the reference crate.
fn user_facing_files() -> Vec<std::path::PathBuf> {
    let root = repo();
    let mut files = vec![
        root.join("README.md"),
        root.join("CONTRIBUTING.md"),
        root.join("targets.example.yaml"),
        root.join("crates/reference/README.md"),
    ];
    for dir in [
        "docs",
        "suites",
        "schemas",
        "src",
        "crates/reference/src",
        "clients",
    ] {
        files.extend(walk(&root.join(dir)).into_iter().filter(|p| {
            p.extension().is_some_and(|e| {
                ["md", "yaml", "yml", "json", "rs", "py", "mjs", "js"]
                    .contains(&e.to_str().unwrap_or(""))
            }) && !p.components().any(|c| c.as_os_str() == "node_modules")
        }));
    }
    files
}

#[test]
fn every_cited_id_in_the_repository_is_a_row_of_docs_quirks() {
    let (rows, _) = catalogue();
    assert!(rows.len() > 40, "docs/quirks.md rows: {rows:?}");
    let mut missing = Vec::new();
    let mut seen = 0;
    for file in user_facing_files() {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let origin = file
            .strip_prefix(repo())
            .unwrap_or(&file)
            .display()
            .to_string();
        seen += cited(&text).len();
        missing.extend(unresolved(&origin, &text));
    }
    assert!(
        seen > 100,
        "only {seen} citations found: is the scan looking anywhere?"
    );
    assert!(
        missing.is_empty(),
        "unresolved ids:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scan_catches_an_unknown_id_and_a_missing_section() {
    // The checker must be able to fail: a made-up row and section are reported.
    let bad = unresolved("probe", "a deviation (QUIRKS Z9, S99) and QUIRKS §77");
    assert!(bad.iter().any(|l| l.contains("S99")), "{bad:?}");
    assert!(bad.iter().any(|l| l.contains("§77")), "{bad:?}");
    // Known rows, the vector norm and timestamps are not reported.
    assert!(
        unresolved(
            "probe",
            "QUIRKS S1, T2 (E10); L2-normalised; 2024-01-01T12:00:00Z"
        )
        .is_empty()
    );
}

#[test]
fn no_user_facing_file_points_at_files_users_do_not_have() {
    let mut bad = Vec::new();
    for file in user_facing_files() {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.contains("../shared/") || line.contains("QUIRKS.md") || line.contains("/work/")
            {
                bad.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[tokio::test]
async fn every_id_the_binary_prints_is_a_row_of_docs_quirks() {
    let checks = run_cli(&["list", "checks"], &[]).await;
    assert_eq!(checks.code, 0, "{}", checks.stderr);
    let mut missing = unresolved("list checks", &checks.stdout);

    // A run that fails on most deviations the reference endpoint emulates: its terminal output
    // and every report file cite rows.
    let run = run_cli(
        &[
            "run",
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Exchanges (bodies, headers, SSE events) are the endpoint's bytes, not llm-parity's words:
    // base64 payloads hold letter-digit runs that read like ids.
    let mut printed = format!("{}\n{}\n", run.stdout, run.stderr);
    for file in ["report.md", "junit.xml"] {
        printed.push_str(&std::fs::read_to_string(run.report_dir.join(file)).unwrap_or_default());
    }
    let mut report = run.report();
    for r in report["results"].as_array_mut().into_iter().flatten() {
        if let Some(o) = r.as_object_mut() {
            o.remove("exchanges");
        }
    }
    printed.push_str(&report.to_string());
    assert!(
        !cited(&printed).is_empty(),
        "the run printed no deviation id at all"
    );
    missing.extend(unresolved("run output", &printed));
    assert!(
        missing.is_empty(),
        "unresolved ids:\n{}",
        missing.join("\n")
    );
}
