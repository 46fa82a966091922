//! Finding where a value sits in a YAML source, for diagnostics raised after deserialisation
//! (an invalid JSONPath, an unknown check name). serde_yaml values carry no positions, so we
//! search the text: from the start of the case, the first occurrence of the offending text.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::diag::line_col;

pub struct Locator<'a> {
    src: &'a str,
    /// Every `id: <value>` line: value → byte offsets, in source order. Built once, so
    /// locating each case of a suite is not a scan of the whole file (quadratic in cases).
    ids: OnceCell<HashMap<&'a str, Vec<usize>>>,
}

impl<'a> Locator<'a> {
    pub fn new(src: &'a str) -> Self {
        Self {
            src,
            ids: OnceCell::new(),
        }
    }

    /// Byte offset of the `nth` (0-based) `id: <case>` line, for duplicate ids.
    pub fn nth_case_offset(&self, case_id: &str, nth: usize) -> usize {
        let ids = self.ids.get_or_init(|| {
            let mut ids: HashMap<&'a str, Vec<usize>> = HashMap::new();
            let mut offset = 0;
            for line in self.src.split_inclusive('\n') {
                let t = line.trim_start().trim_start_matches('-').trim_start();
                if let Some(v) = t.strip_prefix("id:") {
                    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                    ids.entry(v)
                        .or_default()
                        .push(offset + (line.len() - line.trim_start().len()));
                }
                offset += line.len();
            }
            ids
        });
        ids.get(case_id)
            .and_then(|at| at.get(nth))
            .copied()
            .unwrap_or(0)
    }

    /// 1-based line/column of the first `needle` at or after `from`, falling back to the start.
    pub fn find(&self, from: usize, needle: &str) -> Option<(usize, usize)> {
        if needle.is_empty() {
            return Some(line_col(self.src, from));
        }
        let from = from.min(self.src.len());
        let hit = self.src[from..]
            .find(needle)
            .map(|i| from + i)
            .or_else(|| self.src.find(needle))
            .unwrap_or(from);
        Some(line_col(self.src, hit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_value_inside_its_case() {
        let src = "cases:\n  - id: a\n    checks: [x]\n  - id: b\n    checks: [x]\n";
        let l = Locator::new(src);
        let b = l.nth_case_offset("b", 0);
        assert_eq!(l.find(b, "x"), Some((5, 14)));
        assert_eq!(l.find(l.nth_case_offset("a", 0), "x"), Some((3, 14)));
    }

    #[test]
    fn nth_occurrence_of_a_duplicate_id() {
        let src = "cases:\n  - id: a\n  - id: \"b\"\n  - id: a\n";
        let l = Locator::new(src);
        assert_eq!(l.nth_case_offset("a", 0), 9);
        assert_eq!(l.nth_case_offset("b", 0), 19);
        assert_eq!(l.nth_case_offset("a", 1), 31);
        assert_eq!(
            l.nth_case_offset("a", 2),
            0,
            "missing falls back to the start"
        );
        assert_eq!(l.nth_case_offset("zz", 0), 0);
    }
}
