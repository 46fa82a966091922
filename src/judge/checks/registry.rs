//! The table of built-in checks (one `CHECKS` table per area module) and what a check may look
//! at.

use serde_json::Value;

use super::{
    audio, batch, chat, embeddings, errors, files, images, media, models, reasoning, responses,
    responses_stream, streaming, structured_output, tools,
};
use crate::execute::exchange::Response;
use crate::execute::http::MultipartPart;
use crate::judge::outcome::CheckResult;
use crate::load::{SchemaStore, Target};

/// What a check may look at.
pub struct CheckInput<'a> {
    /// The request body as sent.
    pub request: Option<&'a Value>,
    /// The request path as sent, relative to the base URL.
    pub request_path: &'a str,
    /// The multipart fields as sent (empty unless the request was multipart).
    pub form: &'a [(String, MultipartPart)],
    pub response: &'a Response,
    /// The response body as JSON, when it is JSON.
    pub json: Option<&'a Value>,
    pub target: &'a Target,
    pub schemas: &'a SchemaStore,
}

impl CheckInput<'_> {
    /// The text of the multipart field `name` as sent.
    pub fn form_text(&self, name: &str) -> Option<&str> {
        self.form.iter().find_map(|(n, p)| match p {
            MultipartPart::Text(t) if n == name => Some(t.as_str()),
            _ => None,
        })
    }

    /// The multipart file part `name` as sent: its file name and bytes.
    pub fn form_file(&self, name: &str) -> Option<(&str, &[u8])> {
        self.form.iter().find_map(|(n, p)| match p {
            MultipartPart::File { filename, bytes } if n == name => {
                Some((filename.as_str(), bytes.as_slice()))
            }
            _ => None,
        })
    }
}

pub type CheckFn = fn(&CheckInput<'_>) -> Vec<CheckResult>;

pub struct CheckDef {
    pub name: &'static str,
    pub description: &'static str,
    pub run: CheckFn,
}

const AREAS: &[&[CheckDef]] = &[
    chat::CHECKS,
    errors::CHECKS,
    models::CHECKS,
    streaming::CHECKS,
    tools::CHECKS,
    structured_output::CHECKS,
    embeddings::CHECKS,
    media::CHECKS,
    reasoning::CHECKS,
    images::CHECKS,
    files::CHECKS,
    batch::CHECKS,
    audio::CHECKS,
    responses::CHECKS,
    responses_stream::CHECKS,
];

pub fn all() -> impl Iterator<Item = &'static CheckDef> {
    AREAS.iter().flat_map(|a| a.iter())
}

pub fn lookup(name: &str) -> Option<&'static CheckDef> {
    all().find(|c| c.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    all().map(|c| c.name)
}

/// Shorthand used by the area modules: a value at a JSON path for messages.
pub(crate) fn at_choice(i: usize, rest: &str) -> String {
    format!("$.choices[{i}]{rest}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_namespaced() {
        let names: Vec<_> = super::names().collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate check names");
        assert!(names.iter().all(|n| n.contains('.')), "{names:?}");
    }
}
