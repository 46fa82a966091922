//! The runbook's sections (the "steps" of runbook.md and runbook.json) as plain functions over
//! one finished run (both sides, the core cases and every used area's suite): each returns its
//! section and the items it contributes to the decision. Displayed values come from the
//! redacted report; raw finished cases are read only for token counts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::decision::{Severity, classify, worst};
use super::model::*;
use super::uses::Uses;
use crate::judge::FinishedCase;
use crate::judge::Outcome;
use crate::load::feature::area_of;
use crate::load::{Suite, Target};
use crate::report::RunReport;
use crate::report::model::{CaseResult, Entry, JsonText};

/// Everything the sections read.
pub struct Input<'a> {
    /// The redacted report of the run (both sides).
    pub report: &'a RunReport,
    /// Token usage per target name, tallied from the raw responses as the cases finished.
    pub usage: &'a BTreeMap<String, UsageTotals>,
    pub old: &'a Target,
    pub new: &'a Target,
    pub uses: &'a Uses,
    pub suites: &'a [Suite],
}

/// A decision item with its severity, before it is sorted into blockers and caveats.
pub type Found = (Severity, Item);

impl Input<'_> {
    pub fn result(&self, target: &str, case_id: &str) -> Option<Entry<'_>> {
        let (suite, case) = case_id.split_once('/')?;
        self.report
            .results
            .iter()
            .find(|r| r.target == target && r.suite == suite && r.case == case)
    }
    fn notes(&self, suite: &str, case: &str) -> Option<String> {
        self.suites
            .iter()
            .flat_map(|s| s.cases.iter())
            .find(|c| &*c.suite == suite && &*c.id == case)
            .and_then(|c| c.notes.as_deref().map(str::to_string))
    }
}

/// Which section a case's item belongs to: the core cases have their own sections.
pub fn section_of(case_id: &str, feature: &str) -> String {
    match case_id {
        "models/list" => "configuration".into(),
        "chat/basic" => "plain_chat".into(),
        "chat/usage" => "usage".into(),
        "errors/bad-model" => "bad_model".into(),
        _ => area_of(feature).to_string(),
    }
}

/// Every NEW result classified against OLD's result for the same case.
pub fn case_items(input: &Input<'_>) -> Vec<Found> {
    let mut out = Vec::new();
    for new in input
        .report
        .results
        .iter()
        .filter(|r| r.target == input.new.name)
    {
        let id = format!("{}/{}", new.suite, new.case);
        let old = input.result(&input.old.name, &id);
        let gates = input.uses.gates(&id, &new.feature);
        if let Some((sev, what)) = classify(gates, old.as_deref(), &new) {
            out.push((
                sev,
                Item {
                    section: section_of(&id, &new.feature),
                    feature: Some(new.feature.clone()),
                    case: Some(id),
                    what,
                    workaround: new
                        .notes
                        .clone()
                        .or_else(|| input.notes(&new.suite, &new.case)),
                },
            ));
        }
    }
    out
}

fn brief(r: Option<&CaseResult>) -> Option<CaseBrief> {
    r.map(|r| CaseBrief {
        outcome: r.outcome,
        reason: r.reason.clone(),
        http_status: r.http_status,
        warnings: r.warnings.clone(),
    })
}

/// The last response body of a case, as reported (redacted).
fn last_body(r: Option<&CaseResult>) -> Option<Value> {
    Some(r?.exchanges.last()?.response_body.as_ref()?.value())
}

fn section_status(items: &[Found], section: &str, ran: bool) -> SectionStatus {
    match worst(
        items
            .iter()
            .filter(|(_, i)| i.section == section)
            .map(|(s, _)| *s),
    ) {
        Some(Severity::NoGo) => SectionStatus::NoGo,
        Some(Severity::Caveat) => SectionStatus::Caveat,
        _ if !ran => SectionStatus::NotRun,
        _ => SectionStatus::Pass,
    }
}

fn ran(r: Option<&CaseResult>) -> bool {
    r.is_some_and(|r| r.outcome != Outcome::Skip)
}

// ---- 1. configuration ----------------------------------------------------------------------

pub fn side_config(t: &Target) -> SideConfig {
    use crate::load::{Auth, AuthHeader};
    let (auth, env, header, command) = match &t.auth {
        Auth::None => ("none", None, None, None),
        Auth::Key { header, env, .. } if env == "(built-in)" => {
            ("built-in", None, header_name(header), None)
        }
        Auth::Key { header, env, .. } => ("env", Some(env.clone()), header_name(header), None),
        Auth::Command {
            header, command, ..
        } => ("command", None, header_name(header), Some(command.clone())),
    };
    fn header_name(h: &AuthHeader) -> Option<String> {
        match h {
            AuthHeader::Bearer => None,
            AuthHeader::Named(n) => Some(n.clone()),
        }
    }
    SideConfig {
        target: t.name.clone(),
        base_url: t.base_url.as_str().trim_end_matches('/').to_string(),
        auth: auth.into(),
        api_key_env: env,
        auth_header: header,
        auth_command: command,
        models: t.models.clone(),
        pricing: t.pricing.map(|p| Price {
            input_per_mtok: p.input_per_mtok,
            output_per_mtok: p.output_per_mtok,
        }),
    }
}

/// Roles the run's cases need (chat always: the plain chat call).
fn used_roles(input: &Input<'_>) -> Vec<String> {
    let ids = input.uses.case_ids(input.suites);
    let mut roles = vec!["chat".to_string()];
    for c in input.suites.iter().flat_map(|s| s.cases.iter()) {
        if ids.contains(&c.full_id()) {
            for r in c.roles.iter() {
                if !roles.iter().any(|x| x == r) {
                    roles.push(r.to_string());
                }
            }
        }
    }
    roles
}

pub fn configuration(input: &Input<'_>, items: &mut Vec<Found>) -> ConfigurationSection {
    let roles: Vec<RoleModels> = used_roles(input)
        .into_iter()
        .map(|role| RoleModels {
            old: input.old.model(&role).map(str::to_string),
            new: input.new.model(&role).map(str::to_string),
            role,
        })
        .collect();
    let listing = input.result(&input.new.name, "models/list");
    let listing_body = last_body(listing.as_deref());
    let catalogue: Vec<String> = listing_body
        .as_ref()
        .and_then(|b| b.get("data"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut warnings = Vec::new();
    let mut warn = |what: String, workaround: Option<String>| {
        warnings.push(what.clone());
        items.push((
            Severity::Caveat,
            Item {
                section: "configuration".into(),
                feature: None,
                case: None,
                what,
                workaround,
            },
        ));
    };
    for r in &roles {
        match (&r.old, &r.new) {
            (Some(old), None) => warn(
                format!(
                    "NEW has no model for role `{}` (OLD uses `{old}`): its cases are skipped on NEW",
                    r.role
                ),
                Some(format!(
                    "set `models: {{{}: …}}` on NEW (or `--to-model {}=ID`) with an id from NEW's catalogue",
                    r.role, r.role
                )),
            ),
            (_, Some(id)) if !catalogue.is_empty() && !catalogue.contains(id) => {
                let mut what = format!(
                    "NEW model `{id}` (role `{}`) is not in NEW's GET /models list",
                    r.role
                );
                if r.old.as_deref() == Some(id.as_str()) {
                    what.push_str("; it is OLD's id, and catalogues differ between endpoints");
                }
                if let Some(v) = catalogue_vendor(id) {
                    what.push_str(&format!("; it looks like {v} id"));
                }
                let near = catalogue
                    .iter()
                    .find(|c| c.ends_with(&format!("/{id}")) || id.ends_with(&format!("/{c}")));
                let workaround = match near {
                    Some(c) => {
                        what.push_str(&format!(" (NEW lists `{c}`)"));
                        Some(format!("use the id as NEW lists it: `{c}`"))
                    }
                    None => {
                        Some("choose the model id from NEW's catalogue (`GET /models`)".to_string())
                    }
                };
                warn(what, workaround);
            }
            _ => {}
        }
    }
    if catalogue.is_empty() {
        let why = match listing {
            None => "not run".to_string(),
            Some(l) => format!(
                "{}{}",
                l.outcome,
                l.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        };
        warn(
            format!("NEW's model ids could not be checked: GET /models gave no list ({why})"),
            Some("check the ids against NEW's model catalogue by hand".into()),
        );
    }
    ConfigurationSection {
        status: section_status(items, "configuration", true),
        roles,
        new_catalogue: catalogue,
        warnings,
    }
}

/// Which provider's catalogue an id looks like it comes from.
fn catalogue_vendor(id: &str) -> Option<&'static str> {
    let bare = id.rsplit('/').next().unwrap_or(id);
    let google = ["gemini", "gemma", "text-embedding-004", "imagen", "learnlm"];
    let openai = [
        "gpt-",
        "o1",
        "o3",
        "o4",
        "text-embedding-3",
        "text-embedding-ada",
        "dall-e",
        "whisper",
        "tts-",
        "chatgpt",
    ];
    let anthropic = ["claude"];
    if id.starts_with("models/") || google.iter().any(|p| bare.starts_with(p)) {
        Some("a Google")
    } else if openai.iter().any(|p| bare.starts_with(p)) {
        Some("an OpenAI")
    } else if anthropic.iter().any(|p| bare.starts_with(p)) {
        Some("an Anthropic")
    } else {
        None
    }
}

// ---- 2. plain chat and message-shape parity ------------------------------------------------

/// The paths an app reads from a chat completion (usage leaves are added from both sides).
const READ_PATHS: &[&str] = &[
    "choices[0].message.role",
    "choices[0].message.content",
    "choices[0].message.tool_calls",
    "choices[0].finish_reason",
    "usage",
];

pub fn chat(input: &Input<'_>, items: &mut Vec<Found>) -> ChatSection {
    let old = input.result(&input.old.name, "chat/basic");
    let new = input.result(&input.new.name, "chat/basic");
    let (ob, nb) = (last_body(old.as_deref()), last_body(new.as_deref()));
    let mut paths: Vec<String> = READ_PATHS.iter().map(|p| p.to_string()).collect();
    let (ob, nb) = (ob.as_ref(), nb.as_ref());
    for body in [ob, nb].into_iter().flatten() {
        if let Some(u) = body.get("usage").and_then(Value::as_object) {
            for (k, v) in u {
                let p = format!("usage.{k}");
                if !paths.contains(&p) {
                    paths.push(p.clone());
                }
                if let Some(inner) = v.as_object() {
                    for k2 in inner.keys() {
                        let p2 = format!("{p}.{k2}");
                        if !paths.contains(&p2) {
                            paths.push(p2);
                        }
                    }
                }
            }
        }
    }
    let mut shape = Vec::new();
    let mut differences = Vec::new();
    let both = ob.is_some() && nb.is_some();
    for p in paths {
        let (ot, nt) = (type_at(ob, &p), type_at(nb, &p));
        if both && ot != nt {
            if ot == "absent" {
                differences.push(format!("`{p}`: absent on OLD, {nt} on NEW (an addition)"));
            } else {
                let line = format!("`{p}`: {ot} on OLD, {nt} on NEW");
                differences.push(line.clone());
                let parsed = p.starts_with("choices[0].message.role")
                    || p.starts_with("choices[0].message.content")
                    || p.starts_with("choices[0].finish_reason");
                let sev = if parsed
                    || (p.contains("tool_calls")
                        && input
                            .uses
                            .used_areas(input.suites)
                            .iter()
                            .any(|a| a == "tools"))
                {
                    Severity::NoGo
                } else {
                    Severity::Caveat
                };
                items.push((
                    sev,
                    Item {
                        section: "plain_chat".into(),
                        feature: Some("chat.basic".into()),
                        case: Some("chat/basic".into()),
                        what: format!("message shape differs: {line}"),
                        workaround: p
                            .starts_with("usage")
                            .then(|| input.notes("chat", "usage"))
                            .flatten()
                            .or_else(|| {
                                Some(format!("read `{p}` defensively (it is {nt} on NEW)"))
                            }),
                    },
                ));
            }
        }
        shape.push(ShapePath {
            path: p,
            old: ot.to_string(),
            new: nt.to_string(),
        });
    }
    ChatSection {
        status: section_status(items, "plain_chat", ran(new.as_deref())),
        old: brief(old.as_deref()),
        new: brief(new.as_deref()),
        shape,
        differences,
    }
}

/// JSON type at a dotted path with `[i]` indices (`absent` when missing).
pub fn type_at(body: Option<&Value>, path: &str) -> &'static str {
    let Some(mut v) = body else {
        return "absent";
    };
    for seg in path.split('.') {
        let (key, index) = match seg.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        match v.get(key) {
            Some(x) => v = x,
            None => return "absent",
        }
        if let Some(i) = index {
            match v.get(i) {
                Some(x) => v = x,
                None => return "absent",
            }
        }
    }
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// ---- 3. usage and cost ---------------------------------------------------------------------

pub fn usage(input: &Input<'_>, items: &[Found]) -> UsageSection {
    let old_case = input.result(&input.old.name, "chat/usage");
    let new_case = input.result(&input.new.name, "chat/usage");
    let old = priced(input.usage.get(&input.old.name).cloned(), input.old);
    let new = priced(input.usage.get(&input.new.name).cloned(), input.new);
    let mut notes = Vec::new();
    if new.with_usage < new.responses {
        notes.push(format!(
            "{} of NEW's {} successful responses carried no `usage` (OLD: {} of {})",
            new.responses - new.with_usage,
            new.responses,
            old.responses - old.with_usage,
            old.responses
        ));
    }
    if input.old.pricing.is_none() || input.new.pricing.is_none() {
        notes.push(
            "add `pricing: {input_per_mtok, output_per_mtok}` to both targets for cost estimates"
                .into(),
        );
    }
    let cost_ratio = match (old.estimated_cost, new.estimated_cost) {
        (Some(o), Some(n)) if o > 0.0 => Some(round(n / o, 3)),
        _ => None,
    };
    UsageSection {
        status: section_status(items, "usage", ran(new_case.as_deref())),
        old_case: brief(old_case.as_deref()),
        new_case: brief(new_case.as_deref()),
        old,
        new,
        cost_ratio,
        notes,
    }
}

/// Add one finished case's successful responses to its target's usage totals.
pub fn tally_usage(usage: &mut BTreeMap<String, UsageTotals>, r: &FinishedCase) {
    let out = usage.entry(r.target.name.clone()).or_default();
    for s in &r.steps {
        let Some(resp) = &s.exchange.response else {
            continue;
        };
        if !(200..300).contains(&resp.status) || !expects_usage(&s.exchange.request) {
            continue;
        }
        out.responses += 1;
        let usage = resp
            .json
            .as_ref()
            .and_then(|j| j.get("usage"))
            .cloned()
            .or_else(|| {
                let s = resp.stream.as_ref()?;
                s.last_usage().map(|u| u.value())
            });
        if let Some(u) = usage.filter(Value::is_object) {
            out.with_usage += 1;
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            // Embeddings report only prompt tokens.
            out.prompt_tokens += n("prompt_tokens");
            out.completion_tokens += n("completion_tokens");
        }
    }
}

/// A target's totals with their estimated cost, from its `pricing`.
fn priced(totals: Option<UsageTotals>, t: &Target) -> UsageTotals {
    let mut out = totals.unwrap_or_default();
    out.estimated_cost = t.pricing.map(|p| {
        round(
            out.prompt_tokens as f64 / 1e6 * p.input_per_mtok
                + out.completion_tokens as f64 / 1e6 * p.output_per_mtok,
            8,
        )
    });
    out
}

/// Whether OpenAI documents `usage` on the response: chat completions and embeddings, and
/// streams only when `stream_options.include_usage` asked for it.
fn expects_usage(req: &crate::execute::exchange::SentRequest) -> bool {
    let path = req
        .url
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    if !(path.ends_with("/chat/completions") || path.ends_with("/embeddings")) {
        return false;
    }
    let body = req.body.as_ref();
    let streamed = body.and_then(|b| b.get("stream")).and_then(Value::as_bool) == Some(true);
    !streamed
        || body
            .and_then(|b| b.pointer("/stream_options/include_usage"))
            .and_then(Value::as_bool)
            == Some(true)
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

// ---- 4. bad-model error shape --------------------------------------------------------------

pub fn bad_model(input: &Input<'_>, items: &[Found]) -> BadModelSection {
    let old = input.result(&input.old.name, "errors/bad-model");
    let new = input.result(&input.new.name, "errors/bad-model");
    BadModelSection {
        status: section_status(items, "bad_model", ran(new.as_deref())),
        old: old.as_deref().map(error_shape),
        new: new.as_deref().map(error_shape),
    }
}

fn error_shape(r: &CaseResult) -> ErrorShape {
    let ex = r.exchanges.last();
    let status = ex.and_then(|e| e.status);
    let body = ex
        .and_then(|e| e.response_body.as_ref())
        .map(JsonText::value);
    let message = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let sdk_view = match status {
        None => format!(
            "APIConnectionError (no response: {})",
            ex.and_then(|e| e.transport_error.clone())
                .unwrap_or_else(|| "not sent".into())
        ),
        Some(s) if (200..300).contains(&s) => format!(
            "no exception: HTTP {s} is parsed as a chat completion, so the error goes unnoticed"
        ),
        Some(s) => {
            let class = sdk_error_class(s);
            match &message {
                Some(m) => format!("{class} (HTTP {s}) with message \"{m}\""),
                None => format!(
                    "{class} (HTTP {s}); the body has no `error.message`, so the message is the raw body"
                ),
            }
        }
    };
    ErrorShape {
        outcome: r.outcome,
        reason: r.reason.clone(),
        status,
        body,
        sdk_message_readable: message.is_some(),
        sdk_view,
    }
}

/// The exception class the OpenAI SDKs (Python and Node) raise for a status.
pub fn sdk_error_class(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        s if s >= 500 => "InternalServerError",
        _ => "APIStatusError",
    }
}

// ---- 5. used areas -------------------------------------------------------------------------

pub fn areas(input: &Input<'_>, items: &[Found]) -> Vec<AreaSection> {
    let mut out = Vec::new();
    for area in input.uses.used_areas(input.suites) {
        let features: Vec<FeatureParity> = input
            .report
            .features
            .iter()
            .filter(|f| area_of(&f.feature) == area && input.uses.includes(&f.feature))
            .map(|f| FeatureParity {
                feature: f.feature.clone(),
                old: f.outcomes.get(&input.old.name).copied(),
                new: f.outcomes.get(&input.new.name).copied(),
            })
            .collect();
        let differences = input
            .report
            .differences
            .iter()
            .filter(|d| area_of(&d.feature) == area && input.uses.includes(&d.feature))
            .cloned()
            .collect();
        // An area's status weighs all its used cases, including the core ones shown in their
        // own sections.
        let sev = worst(items.iter().filter_map(|(s, i)| {
            let f = i.feature.as_deref()?;
            (area_of(f) == area && input.uses.includes(f)).then_some(*s)
        }));
        let any_ran = features
            .iter()
            .any(|f| f.new.is_some_and(|o| o != Outcome::Skip));
        let status = match sev {
            Some(Severity::NoGo) => SectionStatus::NoGo,
            Some(Severity::Caveat) => SectionStatus::Caveat,
            _ if !any_ran => SectionStatus::NotRun,
            _ => SectionStatus::Pass,
        };
        out.push(AreaSection {
            area,
            status,
            features,
            differences,
        });
    }
    out
}

// ---- 6. latency ----------------------------------------------------------------------------

pub fn latency(input: &Input<'_>) -> LatencySection {
    let p50 = |target: &str, metric: &str| {
        input
            .report
            .latency
            .iter()
            .find(|r| r.target == target && r.area == "all" && r.metric == metric)
            .map(|r| r.p50_ms)
    };
    let metrics = ["ttft", "total"]
        .iter()
        .map(|m| {
            let (o, n) = (p50(&input.old.name, m), p50(&input.new.name, m));
            LatencyCompare {
                metric: m.to_string(),
                old_p50_ms: o,
                new_p50_ms: n,
                delta_ms: o.zip(n).map(|(o, n)| round(n - o, 2)),
            }
        })
        .collect();
    LatencySection {
        status: SectionStatus::Info,
        metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_at_app_read_paths() {
        let v = json!({"choices": [{"message": {"content": null, "role": "assistant"}}], "usage": {"prompt_tokens": 3, "x": 1.5}});
        assert_eq!(type_at(Some(&v), "choices[0].message.content"), "null");
        assert_eq!(type_at(Some(&v), "choices[0].message.role"), "string");
        assert_eq!(type_at(Some(&v), "choices[0].message.tool_calls"), "absent");
        assert_eq!(type_at(Some(&v), "choices[1].message.role"), "absent");
        assert_eq!(type_at(Some(&v), "usage.prompt_tokens"), "integer");
        assert_eq!(type_at(Some(&v), "usage.x"), "number");
        assert_eq!(type_at(Some(&json!([1])), "usage"), "absent");
        assert_eq!(type_at(None, "usage"), "absent");
    }

    #[test]
    fn catalogue_look_alikes() {
        assert_eq!(catalogue_vendor("gemini-2.5-flash"), Some("a Google"));
        assert_eq!(catalogue_vendor("models/ref-chat"), Some("a Google"));
        assert_eq!(catalogue_vendor("openai/gpt-4o-mini"), Some("an OpenAI"));
        assert_eq!(catalogue_vendor("my-model"), None);
    }

    #[test]
    fn sdk_classes_by_status() {
        assert_eq!(sdk_error_class(404), "NotFoundError");
        assert_eq!(sdk_error_class(400), "BadRequestError");
        assert_eq!(sdk_error_class(503), "InternalServerError");
        assert_eq!(sdk_error_class(418), "APIStatusError");
    }
}
