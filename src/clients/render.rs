//! The catalogue for people: the table of docs/clients.md and the per-row cell of
//! docs/quirks.md, rendered from the data so the documents cannot drift from it (a test
//! compares them).

use super::catalogue::{Catalogue, Client, DeviationEntry, Status};

impl Catalogue {
    /// One cell per `docs/quirks.md` row (`S4` covers `S4-no-id` and `S4-role`): for each
    /// client, the calls that break, or `works`.
    pub fn quirks_cell(&self, row: &str) -> Option<String> {
        let entries: Vec<&DeviationEntry> = self
            .deviations
            .iter()
            .filter(|d| d.id == row || d.id.split('-').next() == Some(row))
            .collect();
        if entries.is_empty() {
            return None;
        }
        let parts: Vec<String> = entries
            .iter()
            .map(|d| {
                let text = self.clients_summary(d);
                if entries.len() > 1 || d.id != row {
                    format!("`{}`: {text}", d.id)
                } else {
                    text
                }
            })
            .collect();
        Some(parts.join("; "))
    }

    /// `**breaks** openai-python (tools_stream raises), openai-node (tools_stream, run_tools
    /// wrong); works: …; not applicable (no such call): …`, or `works with all verified clients`.
    fn clients_summary(&self, d: &DeviationEntry) -> String {
        let mut broken = Vec::new();
        let mut fine = Vec::new();
        let mut lacking = Vec::new();
        for c in &self.clients {
            let calls: Vec<String> = c
                .calls
                .iter()
                .filter_map(|call| {
                    let e = d.effect(&c.id, call);
                    e.status
                        .breaks()
                        .then(|| format!("{call} {}", e.status.as_str()))
                })
                .collect();
            if !calls.is_empty() {
                broken.push(format!("{} ({})", c.name, calls.join(", ")));
            } else if self.missing_calls(c, d).is_empty() {
                fine.push(c.name.clone());
            } else {
                lacking.push(c.name.clone());
            }
        }
        if broken.is_empty() {
            return "*works* with all verified clients".to_string();
        }
        let mut out = format!("**breaks** {}", broken.join(", "));
        if !fine.is_empty() {
            out.push_str(&format!("; works: {}", fine.join(", ")));
        }
        if !lacking.is_empty() {
            out.push_str(&format!(
                "; not applicable (no such call): {}",
                lacking.join(", ")
            ));
        }
        out
    }

    /// The calls through which `d` breaks some client that `client` does not have, when it has
    /// none of them: it cannot meet the deviation, which is "not applicable", not "works".
    /// Empty when it has at least one of them (its result there is what it does).
    fn missing_calls(&self, client: &Client, d: &DeviationEntry) -> Vec<String> {
        let affected: Vec<&String> = self
            .calls
            .keys()
            .filter(|call| {
                d.results
                    .values()
                    .any(|r| r.get(*call).is_some_and(|e| e.status.breaks()))
            })
            .collect();
        if affected.iter().any(|call| client.calls.contains(call)) {
            return Vec::new();
        }
        affected.into_iter().cloned().collect()
    }

    /// The table of docs/clients.md: one line per deviation and client whose calls do not all
    /// work, with the versions and every symptom; deviations no client notices get one line.
    pub fn markdown_table(&self) -> String {
        let mut out = String::from(
            "| deviation | impact | client (verified version) | call | result |\n|---|---|---|---|---|\n",
        );
        for d in &self.deviations {
            // The deviation and impact cells every line of `d` starts with.
            let lead = format!(
                "| [{}](quirks.md#{}) | {} |",
                d.id,
                d.id.split('-').next().unwrap_or(&d.id),
                d.impact.as_str()
            );
            let mut any = false;
            for c in &self.clients {
                let version = c
                    .packages
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let client = format!("{} ({version})", c.name);
                let missing = self.missing_calls(c, d);
                if !missing.is_empty() {
                    let calls: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                    out.push_str(&format!(
                        "{lead} {client} | {} | not applicable: the client has no such call |\n",
                        calls.join(", ")
                    ));
                }
                for call in &c.calls {
                    let e = d.effect(&c.id, call);
                    if e.status == Status::Works {
                        continue;
                    }
                    any = true;
                    out.push_str(&format!(
                        "{lead} {client} | `{call}` | {}: {} |\n",
                        e.status.as_str(),
                        cell(&e.symptom)
                    ));
                }
            }
            if !any {
                out.push_str(&format!("{lead} every client | every call | works |\n"));
            }
        }
        out
    }
}

/// A symptom as a Markdown table cell: pipes escaped, code-ish text kept readable.
fn cell(s: &str) -> String {
    format!("`{}`", s.replace('|', "\\|").replace('`', "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_without_the_affected_calls_are_not_applicable_not_working() {
        let c = Catalogue::shipped();
        // A4 breaks the OpenAI SDKs' files and batch calls; the others have neither.
        let cell = c.quirks_cell("A4").unwrap();
        assert!(
            cell.ends_with(
                "; not applicable (no such call): Vercel AI SDK, LangChain (langchain-openai)"
            ),
            "{cell}"
        );
        assert!(!cell.contains("works:"), "{cell}");
        let table = c.markdown_table();
        assert!(
            table.lines().any(
                |l| l.starts_with("| [A4](quirks.md#A4) | breaks | Vercel AI SDK")
                    && l.contains(
                        "| `batch`, `files` | not applicable: the client has no such call |"
                    )
            ),
            "{table}"
        );
        // A client that has the call and is not broken by it works (S1: LangChain streams
        // tool calls fine).
        let cell = c.quirks_cell("S1").unwrap();
        assert!(cell.contains("works: Vercel AI SDK, LangChain"), "{cell}");
        assert!(!cell.contains("not applicable"), "{cell}");
    }
}
