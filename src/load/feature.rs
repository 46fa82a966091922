//! Features and areas: the one owner of the vocabulary. A *feature* is a dotted id a case
//! evidences (`tools.parallel`), a row of the parity matrix; its first part is its *area*
//! (`tools`), one suite file per area. Every list or view ordered by area — the matrix, the
//! runbook's area steps — takes its order from [`AREAS`].

/// The areas, in the order of the feature list (the order of the matrix and of every view
/// by area). Areas not listed here follow, in the order they are first seen.
pub const AREAS: &[&str] = &[
    "chat",
    "streaming",
    "tools",
    "responses",
    "vision",
    "audio",
    "structured_output",
    "embeddings",
    "errors",
    "models",
    "reasoning",
    "images",
    "files",
    "batch",
    "extensions",
];

/// The area of a feature (`chat` for `chat.basic`; an area is its own area).
pub fn area_of(feature: &str) -> &str {
    feature.split('.').next().unwrap_or(feature)
}

/// Whether `s` is a feature id: two or more dotted parts of lowercase letters, digits and `_`.
pub fn is_feature_id(s: &str) -> bool {
    let mut parts = s.split('.');
    parts.clone().count() >= 2
        && parts.all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// Order `items` by area: the listed areas first in [`AREAS`] order, then the others in
/// the order their first item appears; items keep their order within an area (stable).
pub fn sort_by_area<T>(items: &mut [T], area: impl Fn(&T) -> &str) {
    let mut unknown: Vec<String> = Vec::new();
    for i in items.iter() {
        let a = area(i);
        if !AREAS.contains(&a) && !unknown.iter().any(|u| u == a) {
            unknown.push(a.to_string());
        }
    }
    let rank = |a: &str| {
        AREAS
            .iter()
            .position(|x| *x == a)
            .or_else(|| unknown.iter().position(|u| u == a).map(|i| AREAS.len() + i))
            .unwrap_or(usize::MAX)
    };
    items.sort_by_cached_key(|i| rank(area(i)));
}

/// Each feature the cases evidence, in area order (first-seen order inside an area), with the
/// description of the first case that evidences it: a feature is defined where its cases are,
/// so `llm-parity list features` describes it from them.
pub fn described<'a>(
    cases: impl IntoIterator<Item = &'a crate::load::Case>,
) -> Vec<(&'a str, Option<&'a str>)> {
    let mut out: Vec<(&str, Option<&str>)> = Vec::new();
    for c in cases {
        match out.iter_mut().find(|(f, _)| *f == c.feature) {
            Some((_, d)) => {
                if d.is_none() {
                    *d = c.description.as_deref();
                }
            }
            None => out.push((&c.feature, c.description.as_deref())),
        }
    }
    sort_by_area(&mut out, |(f, _)| area_of(f));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_areas_first_then_unknown_ones_as_first_seen() {
        let mut features = vec![
            "zeta.a",
            "models.list",
            "alpha.b",
            "chat.basic",
            "zeta.c",
            "chat.usage",
        ];
        sort_by_area(&mut features, |f| area_of(f));
        assert_eq!(
            features,
            [
                "chat.basic",
                "chat.usage",
                "models.list",
                "zeta.a",
                "zeta.c",
                "alpha.b"
            ]
        );
    }

    #[test]
    fn feature_ids() {
        assert!(is_feature_id("chat.basic"));
        assert!(is_feature_id("tools.choice.required"));
        assert!(!is_feature_id("chat"));
        assert!(!is_feature_id("chat..basic"));
        assert!(!is_feature_id("chat.with-dash"));
        assert!(!is_feature_id("Chat.basic"));
        assert_eq!(area_of("tools.parallel"), "tools");
        assert_eq!(area_of("tools"), "tools");
    }
}
