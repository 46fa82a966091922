//! Where the items of a document's top-level block sequence are, so that a document with only
//! some of them can be parsed alone: a large suite file is parsed in parts, side by side (see
//! `suite::compile::parse_in_parts`).

/// The items of the block sequence under a top-level key: the text before the first item (the
/// keys before the sequence, and the key itself), where each item starts, and where the last one
/// ends (the keys after the sequence follow).
#[derive(Debug, PartialEq, Eq)]
pub struct Items {
    pub starts: Vec<usize>,
    pub end: usize,
    /// The length of the whole text.
    pub len: usize,
}

/// The items of the block sequence under the top-level `key` of `text`, or `None` when the
/// document is not of the plain shape this is sure about (it is then used whole).
///
/// The items are the lines at the sequence's indentation that start with `- `; inside an item
/// such a line can only be part of a quoted scalar or a flow collection spanning lines (a block
/// scalar's and a plain scalar's lines are indented deeper). So every item found is an item of
/// the parsed document when their number is the number of items the document has, and a
/// document with only some of the items (the text before the first, those items, the text after
/// the last) then means those items and the same other keys. A part's own count is not enough:
/// a document that keeps the item opening such a scalar but not the one closing it can still
/// parse with its items counted, when a quote in the text after the items closes it; a part that
/// ends at its last item, with nothing after it, does not (`suite::compile::parse_in_parts`
/// relies on this). The `key:` line is a key of the document's top-level
/// block mapping because every line at column 0 starts a plain key (or an item of a sequence
/// without indentation) and no other one is `key`. An alias could name an anchor defined in an
/// item left out, or defined twice, so a document with one is used whole; so is one with line
/// breaks other than `\n` and `\r\n`, whose lines the parser counts differently.
pub fn items(text: &str, key: &str) -> Option<Items> {
    if has_alias(text) || has_other_line_break(text) {
        return None;
    }
    // `- ` (or `-` alone) starting a sequence item.
    let item = |rest: &str| {
        matches!(
            rest.as_bytes(),
            [b'-'] | [b'-', b' ' | b'\t' | b'\r' | b'\n', ..]
        )
    };
    // The `key:` line, alone of the column-0 lines naming `key`, with nothing after the colon
    // but a comment; every other column-0 line a plain key or an item.
    let mut key_end: Option<usize> = None;
    for (start, l) in lines(text) {
        if l.starts_with(' ') || blank_or_comment(l) {
            continue;
        }
        if !l.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && !item(l) {
            return None;
        }
        if let Some(rest) = l.strip_prefix(key)
            && let Some(value) = rest.trim_start_matches([' ', '\t']).strip_prefix(':')
        {
            if key_end.is_some() || !blank_or_comment(value) {
                return None;
            }
            key_end = Some(start + l.len());
        }
    }
    let key_end = key_end?;
    // The items: lines at the first item's indentation starting with `-`; the sequence ends at
    // the first line at column 0 that is not one of them.
    let mut indent: Option<usize> = None;
    let mut starts: Vec<usize> = Vec::new();
    let mut end = text.len();
    for (start, l) in lines(text).skip_while(|(start, _)| *start < key_end) {
        let spaces = l.bytes().take_while(|&b| b == b' ').count();
        let rest = &l[spaces..];
        if blank_or_comment(rest) {
            continue;
        }
        // A tab in the indentation: not a shape worth being sure about.
        if rest.starts_with('\t') {
            return None;
        }
        let is_item = item(rest);
        match indent {
            None if is_item => indent = Some(spaces),
            None => return None,
            Some(i) if spaces > i => continue,
            Some(i) if spaces == i && is_item => {}
            // The next top-level key (checked above to be a plain one).
            Some(_) if spaces == 0 => {
                end = start;
                break;
            }
            Some(_) => return None,
        }
        starts.push(start);
    }
    (!starts.is_empty()).then_some(Items {
        starts,
        end,
        len: text.len(),
    })
}

impl Items {
    /// A part of the document, as a large file is parsed in parts: the text before the items,
    /// the items `from..to` (`from < to <= self.starts.len()`), and the text after the items only
    /// for the last part — a part that ends at its last item cannot have a quoted scalar opened
    /// in it closed by what follows the items.
    pub fn part(&self, text: &str, from: usize, to: usize) -> String {
        let [head, kept, tail] = self.parts(from, to).map(|r| &text[r]);
        join(head, kept, if to == self.starts.len() { tail } else { "" })
    }

    /// Where the pieces of a document with only the items `from..to` are in the text: before the
    /// first item, the items `from..to`, after the last item (`from < to <= self.starts.len()`).
    pub fn parts(&self, from: usize, to: usize) -> [std::ops::Range<usize>; 3] {
        let end = self.starts.get(to).copied().unwrap_or(self.end);
        [
            0..self.starts[0],
            self.starts[from]..end,
            self.end..self.len,
        ]
    }
}

/// The document of [`Items::parts`]: the text before the items, the kept items and the text
/// after them.
pub fn join(head: &str, kept: &str, tail: &str) -> String {
    let mut out = String::with_capacity(head.len() + kept.len() + 1 + tail.len());
    out.push_str(head);
    out.push_str(kept);
    // The last item of a file without a final newline, followed by the next key.
    if !kept.ends_with('\n') && !tail.is_empty() {
        out.push('\n');
    }
    out.push_str(tail);
    out
}

/// The lines of `text` with their offsets, each with its `\n`.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at;
        let rest = text.as_bytes().get(start..).filter(|r| !r.is_empty())?;
        at = memchr::memchr(b'\n', rest).map_or(text.len(), |k| start + k + 1);
        Some((start, &text[start..at]))
    })
}

/// Whether the line (or what is left of it) is blank or a comment: nothing but spaces, tabs
/// and line breaks, or a `#` after them.
fn blank_or_comment(l: &str) -> bool {
    l.bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .is_none_or(|b| b == b'#')
}

/// Whether `text` may hold an alias (`*name` where a node can start: after a space, a line
/// break, a flow indicator, a `:` as in `{"key":*name}`, any character but a letter or digit);
/// errs on the side of yes.
fn has_alias(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'*', b).any(|i| {
        (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 1)
                .is_some_and(|n| !matches!(n, b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}'))
    })
}

/// Whether `text` breaks lines other than with `\n` or `\r\n`: a lone `\r`, NEL (U+0085), or
/// the line and paragraph separators (U+2028, U+2029), which the YAML parser also takes as line
/// breaks, so lines found by `\n` alone would not be its lines. Found by their UTF-8 bytes.
fn has_other_line_break(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n'))
        || memchr::memchr2_iter(0xC2, 0xE2, b)
            .any(|i| matches!(&b[i..], [0xC2, 0x85, ..] | [0xE2, 0x80, 0xA8 | 0xA9, ..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Doc = serde_yaml::Value;

    fn parse(text: &str) -> Option<Doc> {
        serde_yaml::from_str(text).ok()
    }

    /// The items of the parsed `text`'s `cases` sequence, and its other keys.
    fn split(doc: &Doc) -> (Vec<Doc>, Doc) {
        let mut rest = doc.clone();
        let cases = rest
            .as_mapping_mut()
            .and_then(|m| m.remove("cases"))
            .and_then(|c| c.as_sequence().cloned())
            .unwrap_or_default();
        (cases, rest)
    }

    /// `text` cut into parts of 1 to 4 items: when every part parses and holds as many items as
    /// it was cut with (all `parse_in_parts` checks), the parts hold exactly the document's
    /// items, in order, and the last one its other keys; with `must`, every part parses.
    fn parts_agree(text: &str, must: bool) {
        let Some(whole) = parse(text) else { return };
        let Some(items) = items(text, "cases") else {
            assert!(!must, "no items found in\n{text}");
            return;
        };
        let (all, others) = split(&whole);
        let n = items.starts.len();
        assert!(n == all.len() || !must, "{n} items, {} cases", all.len());
        'sizes: for size in 1..=n.min(4) {
            let mut got = Vec::new();
            let mut last_rest = None;
            for from in (0..n).step_by(size) {
                let to = (from + size).min(n);
                let part = items.part(text, from, to);
                let Some(doc) = parse(&part) else {
                    assert!(!must, "items {from}..{to} do not parse:\n{part}");
                    continue 'sizes;
                };
                let (kept, rest) = split(&doc);
                if kept.len() != to - from {
                    assert!(!must, "items {from}..{to} hold {} items", kept.len());
                    continue 'sizes;
                }
                got.extend(kept);
                last_rest = Some(rest);
            }
            assert_eq!(got, all, "parts of {size} items of\n{text}");
            assert_eq!(last_rest.as_ref(), Some(&others), "keys besides the items");
        }
    }

    #[test]
    fn an_alias_after_a_colon_or_a_line_break_of_another_kind_is_not_cut() {
        let cases = |sep: &str, alias: &str| {
            format!(
                "suite: s\ncases:\n  - {{id: a, notes: &x item}}{sep}  - {{id: b, path: {alias}}}\n"
            )
        };
        assert!(items(&cases("\n", "b"), "cases").is_some());
        // `{"key":*x}` names an anchor as `{key: *x}` does.
        assert!(items(&cases("\n", "{\"p\":*x}"), "cases").is_none());
        // The parser breaks lines at a lone CR, NEL, LS and PS too.
        for sep in ["\r", "\u{85}", "\u{2028}", "\u{2029}"] {
            assert!(items(&cases(sep, "b"), "cases").is_none(), "{sep:?}");
        }
        assert!(items(&cases("\r\n", "b"), "cases").is_some());
    }

    #[test]
    fn plain_files_are_cut_at_their_items() {
        for text in [
            "suite: s\ncases:\n  - id: a\n    x: 1\n  - id: b\n    x: 2\n",
            "suite: s\ncases:\n- id: a\n  x: 1\n- id: b\n  x: 2\nareas: [x]\n",
            "suite: s\ncases: # the cases\n  # a comment\n  - id: a\n\n  - id: b\nredact: []\n",
            "suite: s\r\ncases:\r\n  - id: a\r\n  - id: b\r\n",
            "suite: s\ncases:\n  - id: a\n    text: |\n      - not an item\n      cases:\n  - id: b\n",
            "suite: s\ncases:\n  - id: a\n    text: >-\n\n      - folded\n  -\n    id: b\n",
            "cases:\n  - id: a\n    steps:\n      - name: x\n      - name: y\n  - id: b\nsuite: s",
            "suite: s\ncases:\n  - id: a\n    anchor: &x 1\n  - id: b\n",
            "suite: s\ncases:\n  - {id: a, x: [1,\n      2]}\n  - id: b\n",
            "suite: s\ncases:\n  - id: a\n    plain: one\n      two\n  - id: b\n",
        ] {
            parts_agree(text, true);
        }
    }

    #[test]
    fn documents_it_is_not_sure_about_are_used_whole() {
        for text in [
            // An alias (an anchor in a left-out item, or defined twice).
            "suite: s\ncases:\n  - id: a\n    x: &x 1\n  - id: b\n    x: *x\n",
            "suite: s\ncases:\n  - &c {id: a}\n  - *c\n",
            // Tabs in the indentation, a document marker, a directive, a quoted key.
            "suite: s\ncases:\n\t- id: a\n",
            "---\nsuite: s\ncases:\n  - id: a\n",
            "%YAML 1.2\n---\nsuite: s\ncases:\n  - id: a\n",
            "suite: s\n\"cases\":\n  - id: a\n",
            // A flow sequence, a key given twice, a value on the key's line.
            "suite: s\ncases: [ {id: a} ]\n",
            "cases:\n  - id: a\ncases:\n  - id: b\n",
            "suite: s\ncases: x\n",
            // Something other than an item where the sequence starts, or a line less indented
            // than the items that is not a top-level key.
            "suite: s\ncases:\n  id: a\n",
            "x:\n    cases:\n  - id: a\n",
            // No cases key, or a sequence with no item.
            "suite: s\n",
            "suite: s\ncases:\nareas: []\n",
            // A BOM (the first line does not start with a plain key).
            "\u{feff}suite: s\ncases:\n  - id: a\n",
        ] {
            assert_eq!(items(text, "cases"), None, "{text:?}");
        }
    }

    #[test]
    fn an_item_like_line_in_a_quoted_scalar_makes_a_part_that_fails() {
        // The continuation line of a quoted scalar at the items' indentation looks like an item.
        let text = "suite: s\ncases:\n  - id: a\n    q: \"one\n  - two\"\n  - id: b\n";
        let found = items(text, "cases").expect("the lines look plain");
        assert_eq!(found.starts.len(), 3);
        // The part ending inside the quoted scalar does not parse.
        assert!(parse(&found.part(text, 0, 1)).is_none());
        parts_agree(text, false);
        // Closed only after the next top-level key: a part with that key after its items would
        // parse, with another item; the first part has none.
        let text = "suite: s\ncases:\n  - id: a\n    q: \"open\n  - id: a\nareas: [x]\n  - close\"\n  - close\"\n";
        let found = items(text, "cases").expect("the lines look plain");
        assert_eq!(found.starts.len(), 2);
        assert!(parse(&found.part(text, 0, 1)).is_none());
        parts_agree(text, false);
    }

    #[test]
    fn the_last_item_without_a_newline_is_kept_apart_from_the_next_key() {
        let text = "suite: s\ncases:\n  - id: a\n  - id: b";
        let found = items(text, "cases").unwrap();
        assert_eq!(found.part(text, 1, 2), "suite: s\ncases:\n  - id: b");
        let text = "cases:\n  - id: a\n  - id: b\nsuite: s";
        let found = items(text, "cases").unwrap();
        assert_eq!(found.part(text, 1, 2), "cases:\n  - id: b\nsuite: s");
        assert_eq!(
            join("cases:\n", "  - id: b", "suite: s"),
            "cases:\n  - id: b\nsuite: s"
        );
    }

    /// Lines of suite-like YAML, some of them tricky: item-like lines inside block and quoted
    /// scalars, comments, blank lines, flow collections.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("  - id: a".to_string()),
            Just("  - id: b".to_string()),
            Just("  -".to_string()),
            Just("    id: c".to_string()),
            Just("    text: |".to_string()),
            Just("      - inside".to_string()),
            Just("    q: \"open".to_string()),
            Just("  - close\"".to_string()),
            Just("    f: [1,".to_string()),
            Just("      2]".to_string()),
            Just("  # - comment".to_string()),
            Just("".to_string()),
            Just("areas: [x]".to_string()),
            Just("- id: z".to_string()),
            Just("    x: &n 1".to_string()),
        ]
    }

    /// Text made of the characters the line scans look at, and of others sharing their first
    /// UTF-8 byte (`\u{a0}` and NEL both start with 0xC2; `\u{2027}` and LS with 0xE2 0x80).
    fn scanned_text() -> impl Strategy<Value = String> {
        let c = prop::sample::select(vec![
            'a', '1', ' ', '\t', '\r', '\n', '#', '*', ',', ']', '}', ':', '-', '\u{85}', '\u{a0}',
            '\u{2027}', '\u{2028}', '\u{2029}', 'é',
        ]);
        prop::collection::vec(c, 0..24).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        /// The byte scans mean what the character scans they replaced meant.
        #[test]
        fn the_byte_scans_agree_with_the_character_scans(text in scanned_text()) {
            let other = text.contains(['\u{85}', '\u{2028}', '\u{2029}'])
                || text.bytes().enumerate().any(|(i, c)| c == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'));
            prop_assert_eq!(has_other_line_break(&text), other);
            let b = text.as_bytes();
            let alias = b.iter().enumerate().any(|(i, &c)| {
                c == b'*'
                    && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
                    && b.get(i + 1).is_some_and(|n| !matches!(n, b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}'))
            });
            prop_assert_eq!(has_alias(&text), alias);
            let t = text.trim_start_matches([' ', '\t', '\r', '\n']);
            prop_assert_eq!(blank_or_comment(&text), t.is_empty() || t.starts_with('#'));
            let mut at = 0;
            let split: Vec<(usize, &str)> = text.split_inclusive('\n').map(|l| { at += l.len(); (at - l.len(), l) }).collect();
            prop_assert_eq!(lines(&text).collect::<Vec<_>>(), split);
        }
    }

    proptest! {
        #[test]
        fn parts_that_parse_hold_the_documents_items(lines in prop::collection::vec(line(), 0..14)) {
            let text = format!("suite: s\ncases:\n{}\n", lines.join("\n"));
            parts_agree(&text, false);
        }
    }
}
