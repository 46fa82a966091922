//! A set of switched-on deviations, and how ids on the command line name one.

use std::fmt;

use super::registry::{Deviation, DEVIATIONS};

/// A set of switched-on deviations (empty: OpenAI's behaviour).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Deviations(u64);

impl Deviations {
    /// No deviation: OpenAI's documented behaviour.
    pub const NONE: Deviations = Deviations(0);

    /// Whether `d` is switched on.
    pub fn has(self, d: Deviation) -> bool {
        self.0 & d.bit() != 0
    }

    /// This set with `d` switched on.
    pub fn with(self, d: Deviation) -> Deviations {
        Deviations(self.0 | d.bit())
    }

    /// Both sets together.
    pub fn union(self, other: Deviations) -> Deviations {
        Deviations(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The switched-on deviations, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Deviation> {
        DEVIATIONS
            .iter()
            .map(|i| i.deviation)
            .filter(move |d| self.has(*d))
    }

    /// Parses one id: a deviation's id (`S4-no-id`), or a row id (`S4`) for every deviation
    /// of that row. Case does not matter. The error lists the known ids.
    pub fn parse_id(id: &str) -> Result<Deviations, String> {
        let want = id.trim();
        let mut set = Deviations::NONE;
        for i in DEVIATIONS {
            if i.id.eq_ignore_ascii_case(want) || i.deviation.row().eq_ignore_ascii_case(want) {
                set = set.with(i.deviation);
            }
        }
        if set.is_empty() {
            return Err(format!(
                "unknown deviation `{want}` (known: {})",
                DEVIATIONS
                    .iter()
                    .map(|i| i.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(set)
    }

    /// Parses `+`- or `,`-separated ids (`S1+T2`).
    pub fn parse_list(list: &str) -> Result<Deviations, String> {
        let mut set = Deviations::NONE;
        for id in list.split(['+', ',']) {
            if id.trim().is_empty() {
                return Err(format!("empty deviation id in `{list}`"));
            }
            set = set.union(Deviations::parse_id(id)?);
        }
        Ok(set)
    }
}

impl fmt::Debug for Deviations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Deviation::id))
            .finish()
    }
}

impl fmt::Display for Deviations {
    /// `S1+T2`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let ids: Vec<&str> = self.iter().map(Deviation::id).collect();
        f.write_str(&ids.join("+"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_alone_by_row_and_in_lists() {
        assert_eq!(
            Deviations::parse_id("s1").unwrap().to_string(),
            "S1",
            "case does not matter"
        );
        assert_eq!(
            Deviations::parse_id("S4").unwrap().to_string(),
            "S4-no-id+S4-role"
        );
        assert_eq!(
            Deviations::parse_list("T2+S1").unwrap().to_string(),
            "S1+T2"
        );
        assert_eq!(
            Deviations::parse_list("E1,E2").unwrap().to_string(),
            "E1+E2"
        );
        let e = Deviations::parse_id("X9").unwrap_err();
        assert!(
            e.contains("unknown deviation `X9`") && e.contains("S4-no-id"),
            "{e}"
        );
        let e = Deviations::parse_list("S1+").unwrap_err();
        assert!(e.contains("empty deviation id in `S1+`"), "{e}");
        let e = Deviations::parse_id("S").unwrap_err();
        assert!(
            e.contains("unknown deviation `S`"),
            "a prefix is not a row: {e}"
        );
    }
}
