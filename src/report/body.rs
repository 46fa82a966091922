//! How the report keeps an exchange's bodies and headers: compact, cut at a size that keeps the
//! report readable, and serialised exactly as the JSON they stand for.

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util::json::{KEPT_DEPTH, nests_deeper_than};
use crate::util::text::excerpt;

/// Bodies kept in the report are cut at this many characters (the report stays readable and
/// small; the full exchange belongs in a recording).
pub(super) const BODY_LIMIT: usize = 16 * 1024;

/// A JSON value kept as its compact text. A parsed `Value` costs ~600 B per object (B-tree
/// nodes) however few keys it holds, and the report keeps two bodies per exchange; as text a
/// chat completion takes its own length. It serialises as the value it holds (transcoded from
/// the text, no `Value` built), so `report.json` reads exactly as if it were a `Value`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonText(Box<str>);

impl JsonText {
    pub fn new(v: &Value) -> Self {
        Self::from_json(compact(v))
    }

    /// The value when its text is at most 16 KiB; otherwise the text cut, as a JSON string
    /// (base64 images and long vectors).
    pub fn capped(v: &Value) -> Self {
        let text = compact(v);
        if text.len() <= BODY_LIMIT {
            Self::from_json(text)
        } else {
            JsonText::new(&Value::String(excerpt(&text, BODY_LIMIT)))
        }
    }

    /// Compact JSON text written by serde_json. Nested deeper than [`KEPT_DEPTH`], it is kept
    /// as a string holding that text, so the report holding it always reads back.
    fn from_json(text: String) -> Self {
        if nests_deeper_than(&text, KEPT_DEPTH) {
            JsonText(compact(&Value::String(text)).into_boxed_str())
        } else {
            JsonText(text.into_boxed_str())
        }
    }

    /// The value, parsed again.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or_else(|_| Value::String(self.0.to_string()))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For people: a string as its text, anything else as pretty JSON. The text is serde_json's
    /// compact output, so re-indenting its bytes gives serde_json's pretty output without
    /// parsing the value.
    pub fn pretty(&self) -> String {
        pretty(&self.0)
    }
}

/// `v`'s compact text, written by serde_json into a buffer of its own (about twice as fast as
/// through `Display`, which `to_string` goes through; the text is the same).
fn compact(v: &Value) -> String {
    serde_json::to_string(v).expect("a JSON value serialises: its keys are strings")
}

/// [`JsonText::pretty`] of the JSON text `json`: compact, or laid out as a spooled entry holds
/// it (re-indenting drops the layout it had).
pub fn pretty(json: &str) -> String {
    if json.starts_with('"')
        && let Ok(s) = serde_json::from_str::<String>(json)
    {
        return s;
    }
    let mut out = Vec::with_capacity(json.len() + json.len() / 2);
    super::json::reindent(json.as_bytes(), 0, &mut out);
    String::from_utf8(out).unwrap_or_else(|_| json.to_string())
}

impl From<Value> for JsonText {
    fn from(v: Value) -> Self {
        JsonText::new(&v)
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if AS_IS.get()
            && let Ok(raw) = serde_json::from_str::<&serde_json::value::RawValue>(&self.0)
        {
            return raw.serialize(s);
        }
        serde_transcode::transcode(&mut serde_json::Deserializer::from_str(&self.0), s)
    }
}

thread_local! {
    /// Set while [`compact_as_is`] runs on this thread.
    static AS_IS: Cell<bool> = const { Cell::new(false) };
}

/// `f`, in which every [`JsonText`] serialises as its text, unchanged, instead of transcoded:
/// for a caller that serialises with serde_json's compact serializer (`serde_json::to_writer`)
/// and nothing else, whose output the text already is. The bytes are the same; the text is only
/// checked, not parsed into events and written again. Any other serializer (pretty JSON, a
/// `Value`) must transcode, which is why this is not the default.
pub fn compact_as_is<R>(f: impl FnOnce() -> R) -> R {
    crate::util::scope::with_flag(&AS_IS, f)
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut out = Vec::new();
        serde_transcode::transcode(d, &mut serde_json::Serializer::new(&mut out))
            .map_err(D::Error::custom)?;
        let text = String::from_utf8(out).map_err(D::Error::custom)?;
        Ok(Self::from_json(text))
    }
}

/// Headers as the report shows them: sorted by name, one value per name (the last), written
/// as a JSON object. A sorted list rather than a map: a B-tree node costs ~600 B however few
/// headers it holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderList(pub(super) Vec<(String, String)>);

impl HeaderList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(String, String)> for HeaderList {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        // Sorted in place (stable, so equal names keep their order), then the last value of
        // each name kept: a map's result without building one.
        let mut list: Vec<(String, String)> = iter.into_iter().collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(list.len());
        for (k, v) in list {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        HeaderList(out)
    }
}

impl Serialize for HeaderList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = HeaderList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of header names and values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<HeaderList, A::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = m.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        d.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_are_sorted_with_the_last_value_of_each_name() {
        let pairs = [("b", "1"), ("a", "1"), ("b", "2"), ("c", "1"), ("a", "2")];
        let list: HeaderList = pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got: Vec<(&str, &str)> = list.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("a", "2"), ("b", "2"), ("c", "1")]);
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"{"a":"2","b":"2","c":"1"}"#);
        let back: HeaderList = serde_json::from_str(r#"{"b":"x","a":"y","b":"z"}"#).unwrap();
        assert_eq!(
            back,
            HeaderList(vec![("a".into(), "y".into()), ("b".into(), "z".into())])
        );
    }
}
