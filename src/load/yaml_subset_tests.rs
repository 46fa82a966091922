use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Deserialize;
use serde_yaml::Value;

use super::*;

/// What the subset reader gives for `text`, next to yaml_serde's reading.
fn both<T: DeserializeOwned>(text: &str) -> (Option<T>, Result<T, serde_yaml::Error>) {
    (from_str::<T>(text), serde_yaml::from_str::<T>(text))
}

/// `text` is in the subset, and reads as yaml_serde reads it.
#[track_caller]
fn same(text: &str) {
    let (ours, theirs) = both::<Value>(text);
    let theirs = theirs.unwrap_or_else(|e| panic!("yaml_serde refuses {text:?}: {e}"));
    let ours = ours.unwrap_or_else(|| panic!("outside the subset: {text:?}"));
    assert_eq!(ours, theirs, "{text}");
}

/// Whatever the subset reads of `text`, yaml_serde reads the same.
#[track_caller]
fn agree(text: &str) {
    if let Some(ours) = from_str::<Value>(text) {
        let theirs = serde_yaml::from_str::<Value>(text);
        assert_eq!(Ok(ours), theirs.map_err(|e| e.to_string()), "{text}");
    }
}

/// `text` is left to yaml_serde.
#[track_caller]
fn left(text: &str) {
    assert_eq!(from_str::<Value>(text), None, "{text:?}");
}

#[test]
fn block_mappings_sequences_and_comments_read_as_yaml_serde_reads_them() {
    same("a: 1\n");
    same("a: 1");
    same("# a comment\n\na: b # and another\nc:   d  \n  # indented comment\ne: f\n");
    same("a:\n  b:\n    c: d\n  e: f\ng: h\n");
    same("cases:\n  - id: x\n    request:\n      path: /p\n  - id: y\n");
    same("cases:\n- a\n- b\nnext: 1\n");
    same("a:\n  -   x: 1\n      y: 2\n  -\n    z: 3\n  - w\n");
    same("a:\n  - [1, 2]\n  - {k: v}\n  - \"q\"\n  - 'r'\n");
    same("empty:\nalso: ~\nlist:\n  -\n  - x\n");
    same("a b: c d\nurl: http://x:80/y?z#w\nk: v#not-a-comment\nlist: [a b, c]\n");
    same("1: one\ntrue: yes\nnull: x\n0x1F: hex\n");
    same("a: -1\nb: -x\nc: [-1, -x]\n");
    same("a: [x, [y, {z: [1, 2.5, -3, true, null, ~]}], {}, []]\n");
    same("a: { role: user, content: \"Say hi\" , n: 3 }\n");
    same("é: ü\nü: [é, \"€\"]\n");
    same("k: a, b [c] {d} e\n");
    same("\"a\": 1\n'b' : 2\nc:\n  - \"k\": v\n    'l': w\n  - - x\n    - - y\n      - z\n  - w\n");
    same("a: ?x\nb: :x\n?c: -d\n:e: f\n-g: h\n");
    same("\"\": 1\n");
    left("\"a\"x: 1\n");
    left("k #c: v\n");
    left("a: 1\nk #c: v\n");
    same("k:\n  - a # b: c\n  - 'a' # b: c\n");
    left("\"a\":x\n");
}

#[test]
fn scalars_resolve_as_yaml_serde_resolves_them() {
    for v in [
        "",
        "~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "true",
        "True",
        "TRUE",
        "tRUE",
        "false",
        "no",
        "yes",
        "on",
        "0",
        "-0",
        "+0",
        "00",
        "012",
        "-012",
        "+012",
        "0.5",
        "-0.5",
        "+0.5",
        ".5",
        "5.",
        "1e3",
        "1E-3",
        "-1e400",
        "1e400",
        ".inf",
        "-.Inf",
        "+.INF",
        ".nan",
        ".NaN",
        "nan",
        "inf",
        "-inf",
        "infinity",
        "0x1F",
        "0x-1",
        "0x+1",
        "+0x+1",
        "0o-7",
        "-0x-1",
        "-0x1F",
        "+0x1F",
        "0o17",
        "-0o17",
        "0b101",
        "-0b101",
        "0b2",
        "0xG",
        "1_000",
        "18446744073709551615",
        "-9223372036854775808",
        "++1",
        "+-1",
        "-+1",
        "--1",
        "1.2.3",
        "12:30",
        "2024-01-01",
        "-x",
        "x",
        "é",
        "0.1e+2",
        "1__0",
        "0x",
        "0o",
        "0b",
        "-",
        "+",
        ".",
        "e5",
        "NaN",
        "Infinity",
    ] {
        if v == "-" {
            continue;
        }
        same(&format!("k: {v}\n"));
        same(&format!("k: \"{v}\"\n"));
        same(&format!("k: '{v}'\n"));
        // In flow context and as keys, a `:` or a leading `-` is left to yaml_serde.
        agree(&format!("k: [{v}]\n"));
        agree(&format!("k: {{{v}: {v}}}\n"));
        agree(&format!("{v}: v\n"));
    }
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Typed {
    #[serde(default)]
    u8: Option<u8>,
    #[serde(default)]
    u32: Option<u32>,
    #[serde(default)]
    u64: Option<u64>,
    #[serde(default)]
    u128: Option<u128>,
    #[serde(default)]
    i32: Option<i32>,
    #[serde(default)]
    i64: Option<i64>,
    #[serde(default)]
    i128: Option<i128>,
    #[serde(default)]
    f64: Option<f64>,
    #[serde(default)]
    bool: Option<bool>,
    #[serde(default)]
    string: Option<String>,
    #[serde(default)]
    char: Option<char>,
    #[serde(default)]
    unit: Option<()>,
    #[serde(default)]
    list: Option<Vec<u32>>,
    #[serde(default)]
    map: Option<BTreeMap<String, u32>>,
    #[serde(default)]
    word: Option<Word>,
    #[serde(default)]
    json: Option<serde_json::Value>,
    #[serde(default)]
    either: Option<Either>,
    #[serde(default)]
    plain_string: String,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Word {
    One,
    Two,
    Three(u32),
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Either {
    Number(u32),
    Text(String),
    List(Vec<String>),
}

/// Each typed request (integers of each width, floats, booleans, strings, characters, unit,
/// options, sequences, maps, enums, untagged enums, JSON values) accepts what yaml_serde's
/// accepts, as the same value, for every scalar and style; and where yaml_serde refuses, the
/// subset reader answers `None` (never a different value).
#[test]
fn every_typed_request_accepts_what_yaml_serde_accepts() {
    let fields = [
        "u8",
        "u32",
        "u64",
        "u128",
        "i32",
        "i64",
        "i128",
        "f64",
        "bool",
        "string",
        "char",
        "unit",
        "list",
        "map",
        "word",
        "json",
        "either",
        "plain_string",
    ];
    let values = [
        "",
        "~",
        "null",
        "0",
        "7",
        "255",
        "256",
        "-1",
        "+5",
        "012",
        "0x10",
        "-0x10",
        "0x-10",
        "0x+10",
        "+0o+7",
        "1.5",
        "1e3",
        ".inf",
        ".nan",
        "true",
        "True",
        "x",
        "one",
        "two",
        "three",
        "\"7\"",
        "'true'",
        "\"\"",
        "[]",
        "[1, 2]",
        "[a, b]",
        "{}",
        "{a: 1}",
        "{a: x}",
        "|\n  7\n",
        ">-\n  one\n",
        "99999999999999999999999",
        "-99999999999999999999999",
        "é",
    ];
    let mut agreed = 0;
    for f in fields {
        for v in values {
            let text = format!("{f}: {v}\n");
            let (ours, theirs) = both::<Typed>(&text);
            match (&ours, &theirs) {
                (Some(a), Ok(b)) => {
                    // NaN is not equal to itself: compare how it prints.
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text}");
                    agreed += 1;
                }
                (None, Err(_)) => {}
                (None, Ok(b)) => panic!("{text:?}: yaml_serde reads {b:?}, the subset nothing"),
                (Some(a), Err(e)) => panic!("{text:?}: the subset reads {a:?}, yaml_serde: {e}"),
            }
        }
    }
    assert!(agreed > 150, "only {agreed} accepted");
}

#[test]
fn quoted_scalars_and_their_escapes_read_as_yaml_serde_reads_them() {
    same(r#"a: "x \" \\ \/ \0 \a \b \t \n \v \f \r \e \  \N \_ \L \P \x41 \u00e9 \U0001F600 y""#);
    same("a: 'it''s ''quoted'' \\n'\nb: '' \nc: \"\"\n");
    same("a: \"# not a comment\" # a comment\nb: 'x: y'\n");
    same("a: [\"x, y\", 'z]', \"{\"]\n");
    left("a: \"\\q\"\n");
    left("a: \"\\x4\"\n");
    left("a: \"\\uD800\"\n");
    left("a: \"\\U00110000\"\n");
    left("a: \"two\n  lines\"\n");
    left("a: 'two\n  lines'\n");
    left("a: \"x\"y\n");
    left("a: \"x\"#y\n");
}

#[test]
fn block_scalars_read_as_yaml_serde_reads_them() {
    for header in [
        "|",
        "|-",
        "|+",
        ">",
        ">-",
        ">+",
        "| # comment",
        ">- # comment",
    ] {
        for body in [
            "  one\n",
            "  one\n  two\n",
            "  one\n\n  two\n",
            "  one\n\n\n  two\n\n",
            "\n  one\n  two\n",
            "  one\n    more indented\n  two\n",
            "    four\n    spaces\n",
            "  one\n  \n  two\n",
            "  trailing\n\n\n",
            "  # not a comment\n  x: y\n",
            "  one\n # a comment\n",
        ] {
            let text = format!("a: {header}\n{body}b: end\n");
            let folded_more = header.starts_with('>') && body.contains("    more");
            if folded_more {
                left(&text);
            } else {
                same(&text);
            }
            let body: String = body
                .split_inclusive('\n')
                .map(|l| match l {
                    "\n" => "\n".to_string(),
                    l => format!("  {l}"),
                })
                .collect();
            let text = format!("list:\n  - {header}\n{body}  - x\n");
            if folded_more {
                left(&text);
            } else {
                same(&text);
            }
        }
    }
    same("a: |\n  one\n  two\n");
    same("a:\n  - b: |\n      text\n    c: 1\n");
    left("a: |\n  no final line break");
    left("a: |2\n   x\n");
    left("a: |\nb: 1\n");
    left("a: |\n\n    x\n  y\n");
    left("a: |\n    \n  x\n");
    left("a: |\n      \n    x\n");
    left("a: |\n    x\n      \n    y\n");
    left("a: | x\n  y\n");
}

#[test]
fn what_the_subset_leaves_to_yaml_serde() {
    for text in [
        "",
        "# only a comment\n",
        "- a\n- b\n",
        "just a scalar\n",
        "  a: indented document\n",
        "---\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: &x 1\nb: *x\n",
        "a: !tag 1\n",
        "? a\n: b\n",
        "a:\tb\n",
        "a: b\r\n",
        "\u{feff}a: b\n",
        "a: b\u{85}c\n",
        "a: b\u{2028}c\n",
        "a: x\u{1}\n",
        "a: plain\n  continued\n",
        "a: b: c\n",
        "a: b:\n",
        "a: [1,\n  2]\n",
        "a: [1, 2,]\n",
        "a: {b: }\n",
        "a: {b}\n",
        "a: {b:c}\n",
        "a: [b: c]\n",
        "a: [x #c]\n",
        "a: [1]: b\n",
        "a: - b\n",
        "a: -\n",
        "a:\n  x\n",
        "a:\n  [x]\n",
        "a:\n    b: 1\n  c: 2\n",
        "a:\n  - x\n  b: 1\n",
        "a:\n  b: 1\n   c: 2\n",
        "a: @x\n",
        "a: `x\n",
        "a: %x\n",
        "a: ,x\n",
        "a: [?x]\n",
        "a: 'x'y\n",
        "a: |\n",
    ] {
        left(text);
    }
    // Nested deeper than the subset reads.
    let deep = format!("a: {}1{}\n", "[".repeat(70), "]".repeat(70));
    left(&deep);
    // A key longer than libyaml looks for its `:`.
    left(&format!("{}: 1\n", "k".repeat(2000)));
}

/// A document that has more than the type takes, or what the type refuses, is `None`; the
/// caller then reads it with yaml_serde, which says why.
#[test]
fn what_serde_refuses_is_none() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        a: u32,
    }
    assert!(from_str::<Strict>("a: 1\n").is_some());
    assert!(from_str::<Strict>("a: 1\nb: 2\n").is_none());
    assert!(from_str::<Strict>("a: x\n").is_none());
    assert!(from_str::<Strict>("a: 1\na: 1\n").is_none());
    assert!(from_str::<Strict>("b: 1\n").is_none());
    // A struct reads its map to the end, a tuple stops early: left to yaml_serde's error.
    assert!(from_str::<BTreeMap<String, (u32,)>>("a: [1, 2]\n").is_none());
    assert!(from_str::<BTreeMap<String, (u32,)>>("a: [1]\n").is_some());
}

/// Every suite and targets file the project ships reads through the subset, as yaml_serde
/// reads it, but those with anchors and aliases.
#[test]
fn every_shipped_file_is_in_the_subset_but_those_with_anchors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("suites"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.push(root.join("targets.example.yaml"));
    assert!(files.len() > 10);
    let mut taken = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let anchored = [": &", "- &", ": *", "- *"]
            .iter()
            .any(|a| text.contains(a));
        match (from_str::<Value>(&text), anchored) {
            (Some(ours), false) => {
                assert_eq!(ours, serde_yaml::from_str::<Value>(&text).unwrap(), "{p:?}");
                taken += 1;
            }
            (None, true) => {}
            (ours, _) => panic!("{p:?}: anchored {anchored}, read {}", ours.is_some()),
        }
    }
    assert!(taken + 3 >= files.len(), "{taken} of {}", files.len());
}

/// Pieces of text that make YAML mean different things: indicators, quotes, escapes, spaces
/// and line breaks in odd places, words that resolve to other types.
fn tricky(max: usize) -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "a", "key", "x y", " ", "  ", "\n", "- ", "-", ": ", ":", "#", " #", "\"", "'", "\\",
        "\\n", "[", "]", "{", "}", ",", "|", ">", "&", "*", "!", "%", "@", "`", "?", "é", "0",
        "1.5", "-3", "0x1", "null", "~", "true", "False", ".inf", "012", "---", "...",
    ]);
    prop::collection::vec(piece, 0..max).prop_map(|p| p.concat())
}

/// A value written as YAML in one of the ways people write it: block or flow collections,
/// plain, single- or double-quoted or block scalars, chosen by `style` (a stream of choices).
fn write(v: &Value, indent: usize, style: &mut impl Iterator<Item = u8>, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Mapping(m) if !m.is_empty() && pick(style, 4) != 0 => {
            for (k, v) in m {
                out.push_str(&pad);
                scalar(k, style, out);
                out.push(':');
                entry(v, indent, style, out);
            }
        }
        Value::Sequence(s) if !s.is_empty() && pick(style, 4) != 0 => {
            for v in s {
                out.push_str(&pad);
                out.push('-');
                entry(v, indent, style, out);
            }
        }
        _ => {
            out.push_str(&pad);
            flow(v, style, out);
            out.push('\n');
        }
    }
}

/// The next choice of style, one of `n`.
fn pick(style: &mut impl Iterator<Item = u8>, n: u8) -> u8 {
    style.next().unwrap_or(0) % n
}

/// After a key's `:` or an item's `-`: a scalar or flow collection on the line, a block scalar,
/// or a block collection below.
fn entry(v: &Value, indent: usize, style: &mut impl Iterator<Item = u8>, out: &mut String) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            write(v, indent + 2, style, out);
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            write(v, indent + 2, style, out);
        }
        Value::String(s) if pick(style, 5) == 0 => {
            out.push_str(if pick(style, 2) == 0 { " |" } else { " >-" });
            out.push('\n');
            for line in s.split('\n') {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        _ => {
            out.push(' ');
            flow(v, style, out);
            out.push('\n');
        }
    }
}

fn flow(v: &Value, style: &mut impl Iterator<Item = u8>, out: &mut String) {
    match v {
        Value::Mapping(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                scalar(k, style, out);
                out.push_str(": ");
                flow(v, style, out);
            }
            out.push_str(" }");
        }
        Value::Sequence(s) => {
            out.push('[');
            for (i, v) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(v, style, out);
            }
            out.push(']');
        }
        _ => scalar(v, style, out),
    }
}

fn scalar(v: &Value, style: &mut impl Iterator<Item = u8>, out: &mut String) {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "null".to_string(),
    };
    match pick(style, 3) {
        0 => out.push_str(&text),
        1 => out.push_str(&format!("'{}'", text.replace('\'', "''"))),
        _ => out.push_str(&serde_json::to_string(&text).unwrap()),
    }
}

fn values() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => tricky(6).prop_map(Value::String),
        1 => any::<i32>().prop_map(|n| Value::Number(n.into())),
        1 => (-1e6f64..1e6).prop_map(|n| Value::Number(n.into())),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            prop::collection::vec((tricky(3), inner), 0..5).prop_map(|kv| {
                Value::Mapping(kv.into_iter().map(|(k, v)| (Value::String(k), v)).collect())
            }),
        ]
    })
}

/// Any value written in any mix of styles, with tricky text in its keys and scalars: whatever
/// the subset reads, yaml_serde reads too, as the same value. (Most such texts are not what
/// they were meant to be, or not YAML; which ones the subset takes is counted below.)
#[test]
fn whatever_the_subset_reads_yaml_serde_reads_the_same() {
    let doc = (
        prop::collection::vec((tricky(3), values()), 1..5),
        prop::collection::vec(any::<u8>(), 64),
    );
    proptest!(ProptestConfig::with_cases(2048), |((top, choices) in doc)| {
        let v = Value::Mapping(top.into_iter().map(|(k, v)| (Value::String(k), v)).collect());
        let mut style = choices.into_iter().cycle();
        let mut text = String::new();
        write(&v, 0, &mut style, &mut text);
        if let Some(ours) = from_str::<Value>(&text) {
            let theirs = serde_yaml::from_str::<Value>(&text)
                .map_err(|e| TestCaseError::fail(format!("yaml_serde: {e}\n{text}")))?;
            prop_assert_eq!(ours, theirs, "{}", text);
        }
    });
}

/// Texts yaml_serde's own emitter writes (its choice of quotes), and the same texts with a
/// character inserted, removed or replaced: whatever the subset reads, yaml_serde reads as the
/// same value. And the subset does read most of what the emitter writes: otherwise the
/// comparison above would say little.
#[test]
fn emitted_and_damaged_texts_read_the_same_or_are_left_to_yaml_serde() {
    let taken = std::cell::Cell::new(0);
    let total = std::cell::Cell::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1024));
    let damage = (any::<prop::sample::Index>(), 0u8..3, tricky(2));
    runner
        .run(&(values(), damage), |(v, (at, how, piece))| {
            let v = match v {
                Value::Mapping(m) if !m.is_empty() => Value::Mapping(m),
                other => Value::Mapping([(Value::String("k".into()), other)].into_iter().collect()),
            };
            let text = serde_yaml::to_string(&v).unwrap();
            total.set(total.get() + 1);
            if let Some(ours) = from_str::<Value>(&text) {
                taken.set(taken.get() + 1);
                let theirs = serde_yaml::from_str::<Value>(&text)
                    .map_err(|e| TestCaseError::fail(format!("yaml_serde: {e}\n{text}")))?;
                prop_assert_eq!(ours, theirs, "{}", text);
            }
            let mut damaged: Vec<char> = text.chars().collect();
            let i = at.index(damaged.len() + 1);
            match how {
                0 => damaged.splice(i..i, piece.chars()).for_each(drop),
                1 if i < damaged.len() => drop(damaged.remove(i)),
                _ if i < damaged.len() => {
                    damaged.splice(i..=i, piece.chars()).for_each(drop);
                }
                _ => {}
            }
            let damaged: String = damaged.into_iter().collect();
            if let Some(ours) = from_str::<Value>(&damaged) {
                let theirs = serde_yaml::from_str::<Value>(&damaged)
                    .map_err(|e| TestCaseError::fail(format!("yaml_serde: {e}\n{damaged}")))?;
                prop_assert_eq!(ours, theirs, "{}", damaged);
            }
            Ok(())
        })
        .unwrap();
    let (taken, total) = (taken.get(), total.get());
    assert!(
        taken * 2 > total,
        "the subset read {taken} of {total} emitted texts"
    );
}

/// What a review found, each once read wrongly (or a panic): now left to yaml_serde, or read
/// as it reads them.
#[test]
fn what_a_review_found() {
    // A double-quoted key candidate ending in `\` at the end of the text.
    for text in [
        "\"\\",
        "a:\n  \"\\",
        "k:\n  - \"\\",
        "k:\n  - \"a\\\nb\": c\n",
    ] {
        left(text);
    }
    // libyaml has no `\'` escape in double quotes.
    left("k: \"\\'\"\n");
    assert!(serde_yaml::from_str::<Value>("k: \"\\'\"\n").is_err());
    // libyaml's reader refuses U+FFFE and U+FFFF anywhere, comments included.
    for text in [
        "a: \u{fffe}\n",
        "a: \u{ffff}\n",
        "k: #\u{fffe}\n",
        "k: [\u{ffff}]\n",
    ] {
        left(text);
        assert!(serde_yaml::from_str::<Value>(text).is_err(), "{text:?}");
    }
    same("a: \u{fffd}\u{e000}\u{d7ff}\u{10000}\u{a0}x\n");
    // A simple key's `:` within 1,024 characters of its start, in flow context too.
    left(&format!("a: {{{}: v}}\n", "k".repeat(1025)));
    left(&format!("a: {{\"{}\": v}}\n", "k".repeat(1023)));
    left(&format!("a: [{{{}   : v}}]\n", "k".repeat(1022)));
    same(&format!("a: {{{}: v}}\n", "k".repeat(1000)));
    same(&format!("{}: v\n", "k".repeat(1000)));
    left(&format!("{}: v\n", "k".repeat(1001)));
    left(&format!("a: {{{}: v}}\n", "k".repeat(1001)));
    // Spaces past the indentation on a block scalar's last line, without a line break.
    for text in ["a: |\n x\n  ", "k: |-\n  x\n   ", "k: >+\n  x\n     "] {
        left(text);
    }
    same("a: |\n  x\n  ");
    same("a: |\n  x\n ");
}

/// The subset reads 64 levels of collections; the deserializer, like yaml_serde, counts newtype
/// structs as levels too, and stops below yaml_serde's 128.
#[test]
fn nesting_stops_below_yaml_serdes_limit() {
    let flow = |d: usize| format!("a: {}1{}\n", "[".repeat(d), "]".repeat(d));
    same(&flow(63));
    left(&flow(64));

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct A(B);
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct B(Vec<A>);
    let text = format!("a: {}{}\n", "[".repeat(43), "]".repeat(43));
    let (ours, theirs) = both::<BTreeMap<String, A>>(&text);
    assert!(theirs.is_err());
    assert!(ours.is_none());
    let text = format!("a: {}{}\n", "[".repeat(20), "]".repeat(20));
    let (ours, theirs) = both::<BTreeMap<String, A>>(&text);
    assert!(theirs.is_ok() && ours.is_some());
}

/// The check debug builds make compares the visitor's calls, duplicate keys kept: a `Value`
/// would be refused on both sides and hide anything else.
#[test]
#[cfg(debug_assertions)]
fn the_debug_check_compares_every_call() {
    same_as_yaml_serde("a: 1\na: 1\n", &events("a: 1\na: 1\n").unwrap());
    let wrong = [
        Ev::MapStart,
        Ev::Plain("a"),
        Ev::Plain("1"),
        Ev::Plain("a"),
        Ev::Plain("2"),
        Ev::MapEnd,
    ];
    let caught = std::panic::catch_unwind(|| same_as_yaml_serde("a: 1\na: 1\n", &wrong));
    assert!(caught.is_err());
    let quoted = [
        Ev::MapStart,
        Ev::Plain("a"),
        Ev::Text("1".into()),
        Ev::MapEnd,
    ];
    assert!(std::panic::catch_unwind(|| same_as_yaml_serde("a: 1\n", &quoted)).is_err());
}
