//! The client catalogue: for each deviation the reference endpoint can switch on, what each
//! client library's calls do with it, verified by the probes, and which checks detect it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::outcome::Impact;

/// The catalogue as shipped (`clients/catalogue.yaml`).
pub const CATALOGUE_YAML: &str = include_str!("../../clients/catalogue.yaml");

/// The whole catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The client libraries, with the exact versions the results were verified with.
    pub clients: Vec<Client>,
    /// Every call a probe makes, by id.
    pub calls: BTreeMap<String, Call>,
    /// One entry per deviation.
    pub deviations: Vec<DeviationEntry>,
}

/// One kind of call a probe makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// What the probe checks in the result.
    pub checks: String,
    /// How many HTTP requests it sends at most.
    pub requests: u32,
    /// The model role it needs (`chat`, `embedding`, `reasoning`); without one it is `n/a`.
    pub role: String,
    /// What it sends beyond a one-sentence prompt (`uploads a … file and deletes it`), said
    /// before anything is sent to a user's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sends: Option<String>,
    /// Made only when asked for (`llm-parity clients --context-words N` for `context_length`):
    /// what it sends costs more than a short request.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in: bool,
}

/// A client library and its probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The id used on the command line (`--client python`).
    pub id: String,
    /// The library's name (`openai-python`).
    pub name: String,
    /// The probe script, relative to `clients/`.
    pub probe: String,
    /// The library's own package (`openai`, `langchain-openai`): the version a report cites.
    pub package: String,
    /// The packages and exact versions the catalogue was verified with.
    pub packages: BTreeMap<String, String>,
    /// The calls the probe makes (ids of [`Catalogue::calls`]).
    pub calls: Vec<String>,
}

/// What one deviation does to the clients, and which checks catch it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviationEntry {
    /// The deviation id (`S1`, `S4-no-id`), as `llm-parity list deviations` prints it.
    pub id: String,
    /// The impact derived from the results: `breaks` when any client's call raises or
    /// returns lost or changed data, else `deviates`.
    pub impact: Impact,
    /// The failed checks that name this deviation (check and a part of its message; `case`
    /// when only one case shows it). A failed check matching one is this deviation.
    #[serde(default)]
    pub detected_by: Vec<Detection>,
    /// Failed checks that follow from this deviation but do not identify it alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_fails: Vec<Detection>,
    /// Why no check detects it, when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undetected: Option<String>,
    /// Per client id, the calls that do not simply work (every other call works).
    pub results: BTreeMap<String, BTreeMap<String, Effect>>,
}

/// A failed check that shows a deviation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    /// The check name (`tools.stream_deltas`), `status` or `refusal`.
    pub check: String,
    /// A part of the check's message that names the deviation.
    pub reason: String,
    /// `suite/case`, when only that case shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

impl Detection {
    /// Whether a failed check (`check`, `message`) of `case` is this detection.
    pub fn matches(&self, case: &str, check: &str, message: &str) -> bool {
        self.check == check
            && message.contains(&self.reason)
            && self.case.as_deref().is_none_or(|c| c == case)
    }
}

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    pub status: Status,
    /// The exception and its message, or what was lost or changed.
    pub symptom: String,
}

/// The status of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The result is what OpenAI's behaviour gives.
    Works,
    /// The library raised.
    Raises,
    /// The call returned, with data lost, changed or mistyped.
    Wrong,
    /// The client has nothing to call (no model for the role).
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Works => "works",
            Status::Raises => "raises",
            Status::Wrong => "wrong",
            Status::NotApplicable => "n/a",
        }
    }

    /// Whether the call broke: it raised, or lost or changed data.
    pub fn breaks(self) -> bool {
        matches!(self, Status::Raises | Status::Wrong)
    }
}

impl Client {
    /// The verified version of the library's own package (`3.57.0`).
    pub fn version(&self) -> &str {
        self.packages
            .get(&self.package)
            .map(String::as_str)
            .unwrap_or("?")
    }
}

impl Catalogue {
    /// The shipped catalogue. It is checked by tests, so a parse failure is a build defect.
    pub fn shipped() -> Catalogue {
        Catalogue::parse(CATALOGUE_YAML).expect("clients/catalogue.yaml is valid")
    }

    /// Parses a catalogue, with the problems a reader can fix.
    pub fn parse(text: &str) -> Result<Catalogue, String> {
        let c: Catalogue = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let problems = c.problems();
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Inconsistencies: unknown clients, calls or deviation ids, an impact that does not follow
    /// from the results.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for client in &self.clients {
            if !client.packages.contains_key(&client.package) {
                out.push(format!(
                    "client {}: package `{}` is not among its packages",
                    client.id, client.package
                ));
            }
            for call in &client.calls {
                if !self.calls.contains_key(call) {
                    out.push(format!("client {}: unknown call `{call}`", client.id));
                }
            }
        }
        for d in &self.deviations {
            if llm_parity_reference::Deviations::parse_id(&d.id).is_err()
                || !llm_parity_reference::DEVIATIONS
                    .iter()
                    .any(|i| i.id == d.id)
            {
                out.push(format!(
                    "deviation `{}` is not one the reference endpoint knows",
                    d.id
                ));
            }
            for (client, calls) in &d.results {
                let Some(c) = self.client(client) else {
                    out.push(format!("{}: unknown client `{client}`", d.id));
                    continue;
                };
                for (call, effect) in calls {
                    if !c.calls.contains(call) {
                        out.push(format!("{}: {client} has no call `{call}`", d.id));
                    }
                    if effect.status == Status::Works {
                        out.push(format!(
                            "{}: {client} {call}: `works` is implied, leave it out",
                            d.id
                        ));
                    }
                }
            }
            if d.impact != d.derived_impact() {
                out.push(format!(
                    "{}: impact is {} but the results say {}",
                    d.id,
                    d.impact.as_str(),
                    d.derived_impact().as_str()
                ));
            }
            if d.detected_by.is_empty() && d.undetected.is_none() {
                out.push(format!("{}: no detection and no `undetected` reason", d.id));
            }
        }
        out
    }

    /// The catalogue as YAML, under the leading comment lines of `template` (the shipped
    /// file's explanation of its fields).
    pub fn to_yaml(&self, template: &str) -> String {
        let header: String = template
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        format!(
            "{header}{}",
            serde_yaml::to_string(self).expect("a catalogue serialises")
        )
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn deviation(&self, id: &str) -> Option<&DeviationEntry> {
        self.deviations.iter().find(|d| d.id == id)
    }

    /// The deviations a failed check shows (`case` is `suite/case`): what a report can attach
    /// an impact to.
    pub fn deviations_for_check<'a>(
        &'a self,
        case: &'a str,
        check: &'a str,
        message: &'a str,
    ) -> impl Iterator<Item = &'a DeviationEntry> + 'a {
        self.deviations.iter().filter(move |d| {
            d.detected_by
                .iter()
                .any(|det| det.matches(case, check, message))
        })
    }
}

impl DeviationEntry {
    /// `breaks` when any client's call raises or returns lost or changed data.
    pub fn derived_impact(&self) -> Impact {
        if self
            .results
            .values()
            .flat_map(|calls| calls.values())
            .any(|e| e.status.breaks())
        {
            Impact::Breaks
        } else {
            Impact::Deviates
        }
    }

    /// What `client`'s `call` does with this deviation (`works` when not listed).
    pub fn effect(&self, client: &str, call: &str) -> Effect {
        self.results
            .get(client)
            .and_then(|calls| calls.get(call))
            .cloned()
            .unwrap_or(Effect {
                status: Status::Works,
                symptom: String::new(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_is_consistent_and_covers_every_client_and_deviation() {
        let c = Catalogue::shipped();
        for id in ["python", "node", "vercel", "langchain"] {
            assert!(c.client(id).is_some(), "client {id}");
        }
        for i in llm_parity_reference::DEVIATIONS {
            if i.id == "R3" {
                // Only requests that send Gemini's own `google` object meet it.
                continue;
            }
            assert!(
                c.deviation(i.id).is_some(),
                "deviation {} has no entry",
                i.id
            );
        }
    }

    #[test]
    fn an_inconsistent_catalogue_is_refused_with_its_problems() {
        let mut c = Catalogue::shipped();
        let d = c
            .deviations
            .iter_mut()
            .find(|d| d.impact == Impact::Breaks)
            .expect("a breaking deviation");
        d.impact = Impact::Deviates;
        d.results.entry("nosuch".into()).or_default().insert(
            "chat".into(),
            Effect {
                status: Status::Raises,
                symptom: "x".into(),
            },
        );
        let text = serde_yaml::to_string(&c).unwrap();
        let e = Catalogue::parse(&text).unwrap_err();
        assert!(
            e.contains("impact is deviates but the results say breaks"),
            "{e}"
        );
        assert!(e.contains("unknown client `nosuch`"), "{e}");
    }

    #[test]
    fn a_failed_check_maps_to_its_deviation() {
        let c = Catalogue::shipped();
        let found: Vec<&str> = c
            .deviations_for_check(
                "tools/stream-named",
                "tools.stream_deltas",
                "a tool-call delta has no `index` (QUIRKS S1: …)",
            )
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(found, ["S1"]);
        assert_eq!(
            c.deviations_for_check("chat/basic", "chat.response", "fine")
                .count(),
            0
        );
    }
}
