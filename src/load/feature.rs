//! Features and areas: the one owner of the vocabulary. A *feature* is a dotted id a case
//! evidences (`tools.parallel`), a row of the parity matrix; its first part is its *area*
//! (`tools`), one suite file per area. Every list or view ordered by area — the matrix, the
//! runbook's area steps — takes its order from [`AREAS`].
//!
//! The features are those the built-in suites evidence ([`builtin_features`]): a suite's
//! `feature:` is one of them, a new feature in a built-in area, or a feature in an area the
//! suite declares itself (`areas: [myapp]`); a near miss of a built-in feature is taken for a
//! typo ([`check_feature`]).

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

/// The features the built-in suites evidence, in suite-file order: with [`AREAS`], the
/// vocabulary a suite's `feature:` is checked against. Taken from the embedded suites when the
/// binary is built, so adding a case to a built-in suite is all it takes to add a feature.
pub fn builtin_features() -> &'static [&'static str] {
    super::builtin::features()
}

/// What is wrong with a case's `feature:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureProblem {
    /// Its area is neither a built-in one nor one the suite declares (`areas:`); the closest
    /// known feature or area, if any is close.
    UnknownArea {
        area: String,
        suggestion: Option<String>,
    },
    /// Not a built-in feature but a near miss of one (`chat.basci`): a typo.
    Typo { of: &'static str },
}

/// Check a well-formed feature id against the vocabulary: a built-in feature; a new feature in
/// a built-in area (`chat.app_reply`) unless it is a near miss of a built-in feature of that
/// area; or any feature in an area the suite declares (`own_areas`). A near miss is at most
/// one edit (a letter added, dropped, changed or two swapped) from a name of 4 to 7 letters,
/// two from a longer one; names of 3 letters or fewer have no near misses.
pub fn check_feature(feature: &str, own_areas: &[String]) -> Option<FeatureProblem> {
    let area = area_of(feature);
    let known = builtin_features();
    if !AREAS.contains(&area) && !own_areas.iter().any(|a| a == area) {
        let name = &feature[area.len()..];
        let suggestion = known
            .iter()
            .filter(|f| f.ends_with(name))
            .map(|f| (strsim::damerau_levenshtein(area, area_of(f)), *f))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, f)| f.to_string())
            .or_else(|| {
                AREAS
                    .iter()
                    .copied()
                    .chain(own_areas.iter().map(String::as_str))
                    .map(|a| (strsim::damerau_levenshtein(area, a), a))
                    .filter(|(d, a)| *d <= near_miss(a))
                    .min_by_key(|(d, _)| *d)
                    .map(|(_, a)| a.to_string())
            });
        return Some(FeatureProblem::UnknownArea {
            area: area.to_string(),
            suggestion,
        });
    }
    if !AREAS.contains(&area) || known.contains(&feature) {
        return None;
    }
    let name = name_of(feature);
    known
        .iter()
        .filter(|f| area_of(f) == area)
        .map(|f| (strsim::damerau_levenshtein(name, name_of(f)), *f))
        .filter(|(d, f)| *d > 0 && *d <= near_miss(name_of(f)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, of)| FeatureProblem::Typo { of })
}

/// How many edits from `name` are still a typo of it.
fn near_miss(name: &str) -> usize {
    match name.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// The part of a feature after its area (`basic` for `chat.basic`).
fn name_of(feature: &str) -> &str {
    feature.split_once('.').map_or("", |(_, n)| n)
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
        match out.iter_mut().find(|(f, _)| *f == &*c.feature) {
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

    /// build.rs scans the suite files' lines for the features; a YAML parse of the same files
    /// must find the same ones, in the same order.
    #[test]
    fn the_build_time_features_are_what_the_suites_say() {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            cases: Vec<Case>,
        }
        #[derive(serde::Deserialize)]
        struct Case {
            feature: String,
        }
        let mut parsed: Vec<String> = Vec::new();
        for (name, text) in crate::load::builtin::suites() {
            let file: File = serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            for case in file.cases {
                if !parsed.contains(&case.feature) {
                    parsed.push(case.feature);
                }
            }
        }
        assert_eq!(builtin_features(), parsed);
    }

    #[test]
    fn every_built_in_feature_is_in_a_built_in_area_and_passes() {
        let known = builtin_features();
        assert!(known.len() > 50, "{}", known.len());
        for f in known {
            assert!(AREAS.contains(&area_of(f)), "{f}");
            assert_eq!(check_feature(f, &[]), None, "{f}");
        }
        // Every built-in area has its features.
        for a in AREAS {
            assert!(known.iter().any(|f| area_of(f) == *a), "{a}");
        }
    }

    #[test]
    fn typos_and_unknown_areas_are_caught_and_new_features_pass() {
        let typo = |f: &str| match check_feature(f, &[]) {
            Some(FeatureProblem::Typo { of }) => Some(of),
            _ => None,
        };
        assert_eq!(typo("chat.basci"), Some("chat.basic"));
        assert_eq!(typo("tools.parralel"), Some("tools.parallel"));
        assert_eq!(typo("streaming.usgae"), Some("streaming.usage"));
        assert_eq!(typo("vision.data_uri_jpg"), Some("vision.data_uri_jpeg"));
        // New features of a built-in area: far from every built-in one, or too short to judge.
        for new in [
            "chat.app_support_reply",
            "structured_output.app_ticket",
            "streaming.app_reply",
            "chat.m",
            "images.output_format",
        ] {
            assert_eq!(check_feature(new, &[]), None, "{new}");
        }
        assert_eq!(
            check_feature("chta.basic", &[]),
            Some(FeatureProblem::UnknownArea {
                area: "chta".into(),
                suggestion: Some("chat.basic".into())
            })
        );
        assert_eq!(
            check_feature("tols.mine", &[]),
            Some(FeatureProblem::UnknownArea {
                area: "tols".into(),
                suggestion: Some("tools".into())
            })
        );
        assert!(matches!(
            check_feature("myapp.checkout", &[]),
            Some(FeatureProblem::UnknownArea {
                suggestion: None,
                ..
            })
        ));
        // A suite's own area takes any feature.
        assert_eq!(check_feature("myapp.checkout", &["myapp".into()]), None);
        assert_eq!(check_feature("myapp.basci", &["myapp".into()]), None);
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
