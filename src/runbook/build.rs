//! Composing the runbook from one finished run: the steps in order, the verdict, the rollback
//! block; then one redaction pass over the whole model.

use super::model::*;
use super::steps::{self, Input};
use super::verdict;
use crate::redact::Redactor;
use crate::report::model::Tool;

pub fn build(input: &Input<'_>, redactor: &Redactor) -> Runbook {
    let mut items = steps::case_items(input);
    let configuration = steps::configuration(input, &mut items);
    let chat = steps::chat(input, &mut items);
    let usage = steps::usage(input, &items);
    let bad_model = steps::bad_model(input, &items);
    let areas = steps::areas(input, &items);
    let latency = steps::latency(input);
    let from = steps::side_config(input.old);
    let to = steps::side_config(input.new);
    let rollback = verdict::rollback(&from);
    let area_names: Vec<String> = areas.iter().map(|a| a.area.clone()).collect();
    let manual_checks = verdict::manual_checks(&to, &area_names);
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
        verdict: verdict::decide(items),
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
