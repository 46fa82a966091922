//! Composing the runbook from one finished run: the sections in order, the decision, the rollback
//! block; then one redaction pass over the whole model.

use super::decision;
use super::model::*;
use super::sections::{self, Input};
use crate::redact::Redactor;
use crate::report::model::Tool;

pub fn build(input: &Input<'_>, redactor: &Redactor) -> Runbook {
    let mut items = sections::case_items(input);
    let configuration = sections::configuration(input, &mut items);
    let chat = sections::chat(input, &mut items);
    let usage = sections::usage(input, &items);
    let bad_model = sections::bad_model(input, &items);
    let areas = sections::areas(input, &items);
    let latency = sections::latency(input);
    let from = sections::side_config(input.old);
    let to = sections::side_config(input.new);
    let rollback = decision::rollback(&from);
    let area_names: Vec<String> = areas.iter().map(|a| a.area.clone()).collect();
    let manual_checks = decision::manual_checks(&to, &area_names);
    let runbook = Runbook {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "llm-parity".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        started_at: input.report.started_at.clone(),
        duration_ms: input.report.duration_ms,
        partial: input.report.partial,
        uses: input.uses.label(),
        from,
        to,
        configuration,
        chat,
        usage,
        bad_model,
        areas,
        latency,
        decision: decision::decide(items),
        rollback,
        manual_checks,
    };
    redact(runbook, redactor)
}

/// Every string of the runbook through the redactor (configuration and rollback come from the
/// targets, not from the already-redacted report).
pub fn redact(runbook: Runbook, redactor: &Redactor) -> Runbook {
    redactor.value(runbook)
}
