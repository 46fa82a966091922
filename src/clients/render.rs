//! The catalogue for people: the table of docs/clients.md and the per-row cell of
//! docs/quirks.md, rendered from the data so the documents cannot drift from it (a test
//! compares them).

use super::catalogue::{Catalogue, DeviationEntry, Status};

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
    /// wrong); works: …`, or `works with all four`.
    fn clients_summary(&self, d: &DeviationEntry) -> String {
        let mut broken = Vec::new();
        let mut fine = Vec::new();
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
            if calls.is_empty() {
                fine.push(c.name.clone());
            } else {
                broken.push(format!("{} ({})", c.name, calls.join(", ")));
            }
        }
        match (broken.is_empty(), fine.is_empty()) {
            (true, _) => "*works* with all verified clients".to_string(),
            (false, true) => format!("**breaks** {}", broken.join(", ")),
            (false, false) => format!(
                "**breaks** {}; works: {}",
                broken.join(", "),
                fine.join(", ")
            ),
        }
    }

    /// The table of docs/clients.md: one line per deviation and client whose calls do not all
    /// work, with the versions and every symptom; deviations no client notices get one line.
    pub fn markdown_table(&self) -> String {
        let mut out = String::from(
            "| deviation | impact | client (verified version) | call | result |\n|---|---|---|---|---|\n",
        );
        for d in &self.deviations {
            let mut any = false;
            for c in &self.clients {
                let version = c
                    .packages
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                for call in &c.calls {
                    let e = d.effect(&c.id, call);
                    if e.status == Status::Works {
                        continue;
                    }
                    any = true;
                    out.push_str(&format!(
                        "| [{}](quirks.md#{}) | {} | {} ({version}) | `{call}` | {}: {} |\n",
                        d.id,
                        d.id.split('-').next().unwrap_or(&d.id),
                        d.impact.as_str(),
                        c.name,
                        e.status.as_str(),
                        cell(&e.symptom)
                    ));
                }
            }
            if !any {
                out.push_str(&format!(
                    "| [{}](quirks.md#{}) | {} | every client | every call | works |\n",
                    d.id,
                    d.id.split('-').next().unwrap_or(&d.id),
                    d.impact.as_str()
                ));
            }
        }
        out
    }
}

/// A symptom as a Markdown table cell: pipes escaped, code-ish text kept readable.
fn cell(s: &str) -> String {
    format!("`{}`", s.replace('|', "\\|").replace('`', "'"))
}
