//! Where each node of a YAML document sits: a tree of positions (keys, items, values) built
//! from a second, position-aware parse of a file that `serde_yaml` has already read. serde's
//! values carry no positions; this tree lets a diagnostic raised after parsing (an unknown key
//! in the third case, a wrong type deep in a request) point at its line and column.
//!
//! It is built only when something is wrong, so a valid file is parsed once, as before.

use saphyr_parser::{Event, Parser};

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A 1-based line and column (in characters).
pub type Pos = (usize, usize);

/// One node: where it starts, and its children's positions.
#[derive(Debug, Default)]
pub struct Spans {
    pub at: Pos,
    kind: Kind,
}

#[derive(Debug, Default)]
enum Kind {
    #[default]
    Leaf,
    /// Each entry: the key's text, where the key is, and its value.
    Map(Vec<(String, Pos, Spans)>),
    Seq(Vec<Spans>),
}

impl Spans {
    /// The positions of the first document of `text`; `None` when the position-aware parser
    /// does not read it (the caller then falls back to coarser positions).
    pub fn parse(text: &str) -> Option<Spans> {
        let mut events = Parser::new_from_str(text).map(|e| e.ok());
        loop {
            match events.next()?? {
                (Event::DocumentStart(_), _) => break,
                (Event::StreamEnd, _) => return None,
                _ => {}
            }
        }
        build(&mut events, 0)
    }

    /// The node at `path`, or the deepest node on the way there.
    pub fn node(&self, path: &[Seg]) -> &Spans {
        let mut node = self;
        for seg in path {
            match node.child(seg) {
                Some((_, child)) => node = child,
                None => break,
            }
        }
        node
    }

    /// Where the key at the end of `path` is written (its value's node for a sequence item).
    pub fn key(&self, path: &[Seg]) -> Pos {
        match path.split_last() {
            Some((last, parent)) => {
                let parent = self.node(parent);
                parent.child(last).map_or(parent.at, |(at, _)| at)
            }
            None => self.at,
        }
    }

    /// Where the value at `path` starts.
    pub fn value(&self, path: &[Seg]) -> Pos {
        self.node(path).at
    }

    /// Where the `nth` (0-based) entry of the mapping at `path` with key `key` is written: a
    /// repeated key's second occurrence, for a duplicate-key error.
    pub fn nth_key(&self, path: &[Seg], key: &str, nth: usize) -> Option<Pos> {
        match &self.node(path).kind {
            Kind::Map(entries) => entries
                .iter()
                .filter(|(k, _, _)| k == key)
                .nth(nth)
                .map(|(_, at, _)| *at),
            _ => None,
        }
    }

    /// Every mapping in the document, with its path: where a duplicate key may sit.
    pub fn mappings(&self) -> Vec<(Vec<Seg>, Pos)> {
        let mut out = Vec::new();
        self.walk(&mut Vec::new(), &mut out);
        out
    }

    fn walk(&self, path: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Pos)>) {
        match &self.kind {
            Kind::Leaf => {}
            Kind::Map(entries) => {
                out.push((path.clone(), self.at));
                for (k, _, v) in entries {
                    path.push(Seg::Key(k.clone()));
                    v.walk(path, out);
                    path.pop();
                }
            }
            Kind::Seq(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    v.walk(path, out);
                    path.pop();
                }
            }
        }
    }

    fn child(&self, seg: &Seg) -> Option<(Pos, &Spans)> {
        match (&self.kind, seg) {
            // The last entry with the key: the one a YAML reader keeps.
            (Kind::Map(entries), Seg::Key(k)) => entries
                .iter()
                .rev()
                .find(|(key, _, _)| key == k)
                .map(|(_, at, v)| (*at, v)),
            (Kind::Seq(items), Seg::Index(i)) => items.get(*i).map(|v| (v.at, v)),
            _ => None,
        }
    }
}

/// The node whose first event comes next. Aliases are leaves at the alias (their content is
/// the anchored node's, located where the anchor is); the depth is bounded because the file
/// passed `yaml::depth_problem` and `serde_yaml` first, but is checked again for safety.
fn build<'a>(
    events: &mut impl Iterator<Item = Option<(Event<'a>, saphyr_parser::Span)>>,
    depth: usize,
) -> Option<Spans> {
    if depth > 4 * super::yaml::MAX_NESTING {
        return None;
    }
    let (event, span) = events.next()??;
    let at = (span.start.line(), span.start.col() + 1);
    let kind = match event {
        Event::Scalar(..) | Event::Alias(_) => Kind::Leaf,
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            while let Some(item) = build(events, depth + 1) {
                items.push(item);
            }
            Kind::Seq(items)
        }
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            while let Some((key, key_at)) = build_key(events) {
                let value = build(events, depth + 1)?;
                entries.push((key, key_at, value));
            }
            Kind::Map(entries)
        }
        // The end of the enclosing collection (or of the document).
        _ => return None,
    };
    Some(Spans { at, kind })
}

/// A mapping key: its text (a scalar's; a complex key has none worth naming) and position;
/// `None` at the end of the mapping.
fn build_key<'a>(
    events: &mut impl Iterator<Item = Option<(Event<'a>, saphyr_parser::Span)>>,
) -> Option<(String, Pos)> {
    let (event, span) = events.next()??;
    let at = (span.start.line(), span.start.col() + 1);
    match event {
        Event::Scalar(text, ..) => Some((text.into_owned(), at)),
        Event::Alias(_) => Some((String::new(), at)),
        // A complex key (`? [a, b]`): skip its content.
        Event::SequenceStart(..) | Event::MappingStart(..) => {
            let mut open = 1usize;
            while open > 0 {
                match events.next()??.0 {
                    Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                    Event::SequenceEnd | Event::MappingEnd => open -= 1,
                    _ => {}
                }
            }
            Some((String::new(), at))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn keys_items_and_values_are_located() {
        let text = "suite: s\ncases:\n  - id: a\n    request: { path: /x, body: [1, 2] }\n  - id: b\n    tags:\n      - core\n";
        let s = Spans::parse(text).unwrap();
        assert_eq!(s.key(&[key("cases")]), (2, 1));
        assert_eq!(s.value(&[key("cases"), Seg::Index(1)]), (5, 5));
        let body = [key("cases"), Seg::Index(0), key("request"), key("body")];
        assert_eq!(s.key(&body), (4, 26));
        assert_eq!(s.value(&body), (4, 32));
        let tag = [key("cases"), Seg::Index(1), key("tags"), Seg::Index(0)];
        assert_eq!(s.value(&tag), (7, 9));
        // A path that goes further than the document stops at the deepest node found.
        let deeper = [key("cases"), Seg::Index(1), key("tags"), Seg::Index(5)];
        assert_eq!(s.value(&deeper), (7, 7));
    }

    #[test]
    fn a_repeated_key_is_found_by_occurrence() {
        let text = "a: 1\nb:\n  c: 1\n  c: 2\n";
        let s = Spans::parse(text).unwrap();
        assert_eq!(s.nth_key(&[key("b")], "c", 1), Some((4, 3)));
        assert_eq!(
            s.mappings(),
            vec![(vec![], (1, 1)), (vec![key("b")], (3, 3))]
        );
    }

    #[test]
    fn aliases_and_complex_keys_do_not_derail_the_tree() {
        let text = "x: &a { k: 1 }\n? [p, q]\n: 2\ny: *a\nz: 3\n";
        let s = Spans::parse(text).unwrap();
        assert_eq!(s.key(&[key("y")]), (4, 1));
        assert_eq!(s.key(&[key("z")]), (5, 1));
    }
}
