//! What a renderer reads of a report entry, borrowed from the entry's spooled JSON line
//! ([`super::results::Results::each`]) instead of parsed into a [`CaseResult`]: text fields point
//! into the line (copied only when the JSON escapes something), bodies stay the raw JSON text
//! they are shown as, and what a format does not show — JUnit's exchanges — is skipped over
//! without being built ([`IgnoredAny`]). An entry in memory is viewed in place ([`View::of`]).
//!
//! The fields and their defaults are those of [`CaseResult`] and [`ExchangeSummary`]
//! (`report.json`'s entry), so a view reads every entry they write; unknown fields are
//! skipped. `report::tests` renders the same entries spooled and in memory and compares them,
//! and a property test compares any body read back with serde_json's pretty output of it.
//!
//! [`ExchangeSummary`]: super::model::ExchangeSummary

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::impact::facts_of_fields;
use super::model::{CaseResult, ExchangeSummary, HeaderList};
use crate::execute::exchange::Timings;
use crate::judge::{CheckResult, Impact, Mark, Outcome};

/// A kind of view: what [`super::results::Results::each`] reads each entry as.
pub trait View {
    type Of<'a>: Deserialize<'a>;
    /// Whether the view reads the exchanges (a brief one is read from the part of a spooled
    /// line before them).
    const EXCHANGES: bool;
    /// The view of an entry in memory, borrowing from it.
    fn of(r: &CaseResult) -> Self::Of<'_>;
}

/// Everything but the exchanges (JUnit, a list of cases).
pub struct Brief;

impl View for Brief {
    const EXCHANGES: bool = false;
    type Of<'a> = EntryView<'a, IgnoredAny>;
    fn of(r: &CaseResult) -> Self::Of<'_> {
        EntryView::of(r, IgnoredAny)
    }
}

/// Everything a case's detail shows, exchanges included (the HTML).
pub struct Detailed;

impl View for Detailed {
    const EXCHANGES: bool = true;
    type Of<'a> = EntryView<'a, Vec<ExchangeView<'a>>>;
    fn of(r: &CaseResult) -> Self::Of<'_> {
        EntryView::of(r, r.exchanges.iter().map(ExchangeView::of).collect())
    }
}

/// A report entry as a renderer reads it; `X` is how its exchanges are read.
#[derive(Debug, Deserialize)]
pub struct EntryView<'a, X> {
    #[serde(borrow)]
    pub target: Text<'a>,
    #[serde(borrow)]
    pub suite: Text<'a>,
    #[serde(borrow)]
    pub case: Text<'a>,
    #[serde(borrow)]
    pub feature: Text<'a>,
    pub outcome: Outcome,
    #[serde(borrow)]
    pub reason: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub step: Option<Text<'a>>,
    #[serde(default)]
    pub impact: Option<Impact>,
    pub duration_ms: u64,
    #[serde(default, borrow)]
    pub warnings: Vec<Text<'a>>,
    #[serde(default, borrow)]
    pub notes: Option<Text<'a>>,
    #[serde(default)]
    pub timings: Option<Timings>,
    #[serde(default)]
    pub checks: Cow<'a, [CheckResult]>,
    #[serde(default)]
    pub repeats: Cow<'a, [Outcome]>,
    #[serde(default)]
    pub flaky: bool,
    #[serde(default, borrow)]
    pub missing_model: Option<Text<'a>>,
    #[serde(default)]
    pub exchanges: X,
}

impl<'a, X> EntryView<'a, X> {
    /// `r` as a view, with `exchanges`.
    fn of(r: &'a CaseResult, exchanges: X) -> Self {
        EntryView {
            target: Text::of(&r.target),
            suite: Text::of(&r.suite),
            case: Text::of(&r.case),
            feature: Text::of(&r.feature),
            outcome: r.outcome,
            reason: r.reason.as_deref().map(Text::of),
            step: r.step.as_deref().map(Text::of),
            impact: r.impact,
            duration_ms: r.duration_ms,
            warnings: r.warnings.iter().map(|w| Text::of(w)).collect(),
            notes: r.notes.as_deref().map(Text::of),
            timings: r.timings.clone(),
            checks: Cow::Borrowed(&r.checks),
            exchanges,
            repeats: Cow::Borrowed(&r.repeats),
            flaky: r.flaky,
            missing_model: r.missing_model.as_deref().map(Text::of),
        }
    }

    /// The case as every format shows it.
    pub fn mark(&self) -> Mark {
        Mark::new(self.outcome, self.impact)
    }
}

facts_of_fields!(impl<X> for EntryView<'_, X>);

/// An exchange as the HTML shows it: headers as written (sorted, one value per name), bodies as
/// their JSON text (laid out as the spooled line is; compact for an entry in memory).
#[derive(Debug, Deserialize)]
pub struct ExchangeView<'a> {
    #[serde(borrow)]
    pub step: Text<'a>,
    #[serde(borrow)]
    pub method: Text<'a>,
    #[serde(borrow)]
    pub url: Text<'a>,
    #[serde(borrow)]
    pub request_headers: Headers<'a>,
    #[serde(default, borrow)]
    pub request_body: Option<Body<'a>>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default, borrow)]
    pub response_headers: Headers<'a>,
    #[serde(default, borrow)]
    pub response_body: Option<Body<'a>>,
    #[serde(default, borrow)]
    pub transport_error: Option<Text<'a>>,
}

impl<'a> ExchangeView<'a> {
    fn of(x: &'a ExchangeSummary) -> Self {
        let headers = |h: &'a HeaderList| {
            Headers(h.iter().map(|(k, v)| (Text::of(k), Text::of(v))).collect())
        };
        ExchangeView {
            step: Text::of(&x.step),
            method: Text::of(&x.method),
            url: Text::of(&x.url),
            request_headers: headers(&x.request_headers),
            request_body: x.request_body.as_ref().map(|b| Body(b.as_str())),
            status: x.status,
            response_headers: headers(&x.response_headers),
            response_body: x.response_body.as_ref().map(|b| Body(b.as_str())),
            transport_error: x.transport_error.as_deref().map(Text::of),
        }
    }
}

/// A kept body: its JSON text (a spooled line's raw value, laid out as the line is, or an
/// entry's compact `JsonText`).
#[derive(Debug, Clone, Copy)]
pub struct Body<'a>(pub &'a str);

impl<'de: 'a, 'a> Deserialize<'de> for Body<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|raw| Body(raw.get()))
    }
}

/// A string of the line: borrowed, or owned when the JSON escaped part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    fn of(s: &'a str) -> Self {
        Text(Cow::Borrowed(s))
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A header object's names and values, in the order written.
#[derive(Debug, Default)]
pub struct Headers<'a>(pub Vec<(Text<'a>, Text<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Headers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Headers<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of header names and values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Headers<'de>, A::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = m.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Headers(pairs))
            }
        }
        d.deserialize_map(V)
    }
}
