//! What a suite author sees for a broken suite file: one pinned rendering per kind of mistake
//! (`tests/fixtures/bad-suites/*.yaml`, one snapshot each, named after the file), every
//! problem of a file in one run, nothing sent.

use crate::support::*;

#[tokio::test]
async fn every_kind_of_mistake_is_reported_with_its_place() {
    let dir = repo().join("tests/fixtures/bad-suites");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        let path = format!("tests/fixtures/bad-suites/{file}");
        let out = run_cli(&["validate", "--suite", &path], &[]).await;
        assert_eq!(out.code, 2, "{file}: {}", out.stderr);
        let name = file.trim_end_matches(".yaml").to_string();
        insta::assert_snapshot!(name, out.stderr);
    }
}

#[tokio::test]
async fn several_mistakes_of_one_file_come_in_one_run_sorted_by_position() {
    let out = run_cli(
        &[
            "validate",
            "--suite",
            "tests/fixtures/bad-suites/several-at-once.yaml",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 2);
    let places: Vec<(usize, usize)> = out
        .stderr
        .lines()
        .filter_map(|l| {
            let rest = l.split("several-at-once.yaml:").nth(1)?;
            let mut it = rest.trim_end_matches(']').split(':');
            Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
        })
        .collect();
    assert!(places.len() >= 10, "{}", out.stderr);
    let mut sorted = places.clone();
    sorted.sort();
    assert_eq!(places, sorted, "{}", out.stderr);
    for part in [
        "did you mean `method`?",
        "did you mean `expect`?",
        "`body` belongs under `request`",
        "`path` belongs under `request`",
        "missing key `feature`",
        "did you mean `shape`?",
    ] {
        assert!(out.stderr.contains(part), "{part:?} not in\n{}", out.stderr);
    }
    assert!(out.stderr.ends_with("problems found; nothing was sent\n"));
}
