//! `responses.stream_*`: the event stream of a `stream: true` Responses API call. Unlike a chat
//! stream, every event is named (`event:` line) and typed (`type` in the data), numbered by a
//! strictly increasing `sequence_number`, and the stream follows a documented lifecycle:
//! `response.created` → `response.in_progress` → per output item `output_item.added` →
//! (`content_part.added` → `output_text.delta`… → `output_text.done` → `content_part.done`) or
//! (`function_call_arguments.delta`… → `.done`) → `output_item.done` → exactly one terminal
//! `response.completed` | `response.incomplete` | `response.failed`. There is no `[DONE]`.
//!
//! Events are named `event #N`, counting dispatched data events from 1 (comments do not count).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::responses::{finish, str_at};
use super::{CheckDef, CheckInput};
use crate::execute::exchange::Response;
use crate::judge::assert;
use crate::judge::outcome::CheckResult;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "responses.stream_events",
        description: "a streamed response is `text/event-stream`; every event is a JSON object valid against `response.stream_event` whose `event:` name equals its `type` (no `event:` line: warning; a `[DONE]` sentinel, not part of this protocol: warning)",
        run: events,
    },
    CheckDef {
        name: "responses.stream_sequence",
        description: "every event has an integer `sequence_number`, strictly increasing along the stream",
        run: sequence,
    },
    CheckDef {
        name: "responses.stream_order",
        description: "the documented order: `response.created` first, `response.in_progress` before any output (missing: warning), each output item added before its parts and deltas and done after them, no `error` event, exactly one terminal event (`response.completed`, `response.incomplete` or `response.failed`) and nothing after it",
        run: order,
    },
    CheckDef {
        name: "responses.stream_output",
        description: "text deltas concatenate to each `output_text.done`, `content_part.done` and `output_item.done` and to the terminal response's text; function-call argument deltas concatenate to `.done` and to the item's `arguments`; one response id throughout; the terminal response validates as `response` with the status its event names",
        run: output,
    },
];

/// Findings of one check beyond this are dropped: a broken stream of 500 events should give a
/// readable reason, not 500 of them.
const MAX_FINDINGS: usize = 6;

/// The event types that end a stream.
const TERMINAL: &[&str] = &[
    "response.completed",
    "response.incomplete",
    "response.failed",
];

/// One data event, numbered from 1.
pub(super) struct Ev {
    pub n: usize,
    /// The SSE `event:` name (`message` when the stream gave none).
    pub name: String,
    pub kind: Kind,
}

pub(super) enum Kind {
    /// `data: [DONE]` (a chat-stream habit).
    Done,
    Json(Value),
    NotJson(String),
}

impl Ev {
    fn at(&self) -> String {
        format!("event #{}", self.n)
    }
    fn object(&self) -> Option<&Map<String, Value>> {
        match &self.kind {
            Kind::Json(v) => v.as_object(),
            _ => None,
        }
    }
    fn ty(&self) -> Option<&str> {
        self.object()?.get("type")?.as_str()
    }
    fn int(&self, key: &str) -> Option<u64> {
        self.object()?.get(key)?.as_u64()
    }
}

/// The events of a streamed response, or why there are none.
pub(super) fn parse(check: &str, resp: &Response) -> Result<Vec<Ev>, CheckResult> {
    let Some(stream) = &resp.stream else {
        let what = match &resp.json {
            Some(v) if v.get("object").and_then(Value::as_str) == Some("response") => {
                "a whole response JSON body: `stream: true` was ignored".to_string()
            }
            _ => format!(
                "the body is not an event stream: {:?}",
                resp.body_excerpt(120)
            ),
        };
        return Err(CheckResult::fail(
            check,
            format!(
                "{what} ({})",
                resp.content_type().unwrap_or("no Content-Type")
            ),
        )
        .expected("text/event-stream"));
    };
    Ok(stream
        .events()
        .map(|e| Ev {
            n: e.n() as usize,
            name: e.event_type().to_string(),
            kind: if e.data().trim() == "[DONE]" {
                Kind::Done
            } else {
                match serde_json::from_str(e.data()) {
                    Ok(v) => Kind::Json(v),
                    Err(e) => Kind::NotJson(e.to_string()),
                }
            },
        })
        .collect())
}

/// The `response` object of the stream's (first) terminal event: what a client's final
/// `response.completed` handler sees, judged like a non-streamed body.
pub(super) fn terminal_response(resp: &Response) -> Option<Value> {
    parse("", resp)
        .ok()?
        .into_iter()
        .find_map(|e| match e.kind {
            Kind::Json(Value::Object(mut o))
                if o.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| TERMINAL.contains(&t)) =>
            {
                o.remove("response")
            }
            _ => None,
        })
}

macro_rules! events_or_fail {
    ($check:expr, $i:expr) => {
        match parse($check, $i.response) {
            Ok(evs) if evs.is_empty() => {
                return vec![CheckResult::fail($check, "the stream has no data events")];
            }
            Ok(evs) => evs,
            Err(e) => return vec![e],
        }
    };
}

fn push(out: &mut Vec<CheckResult>, r: CheckResult) {
    if out.len() < MAX_FINDINGS {
        out.push(r);
    }
}

fn events(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.stream_events";
    let mut out = Vec::new();
    let ct = i.response.content_type().unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("text/event-stream")
    {
        push(
            &mut out,
            CheckResult::fail(
                C,
                format!(
                    "Content-Type is {}, expected text/event-stream",
                    if ct.is_empty() { "missing" } else { ct }
                ),
            )
            .at("header Content-Type"),
        );
    }
    let evs = events_or_fail!(C, i);
    let mut unnamed = Vec::new();
    for ev in &evs {
        match &ev.kind {
            Kind::Done => push(
                &mut out,
                CheckResult::warn(
                    C,
                    "`data: [DONE]` is not part of the Responses stream protocol (the OpenAI SDKs skip it; a hand-written parser may not)",
                )
                .at(ev.at()),
            ),
            Kind::NotJson(e) => push(
                &mut out,
                CheckResult::fail(
                    C,
                    format!("{} is not JSON ({e})", ev.at()),
                )
                .at(ev.at()),
            ),
            Kind::Json(v) => {
                let Some(ty) = ev.ty() else {
                    push(
                        &mut out,
                        CheckResult::fail(
                            C,
                            format!(
                                "{} has no string `type`: {}",
                                ev.at(),
                                excerpt(&v.to_string(), 80)
                            ),
                        )
                        .at(ev.at()),
                    );
                    continue;
                };
                if let Some(violations) = i.schemas.validate("response.stream_event", v) {
                    for viol in violations {
                        push(
                            &mut out,
                            assert::violation(
                                C,
                                "response.stream_event",
                                viol,
                                &format!("{} ({ty})", ev.at()),
                                &format!("{} ", ev.at()),
                            ),
                        );
                    }
                }
                if ev.name == "message" {
                    unnamed.push(ev.n);
                } else if ev.name != ty {
                    push(
                        &mut out,
                        CheckResult::fail(
                            C,
                            format!(
                                "{} is named `{}` (`event:` line) but its `type` is `{ty}`: clients dispatching on the event name misroute it",
                                ev.at(),
                                ev.name
                            ),
                        )
                        .at(ev.at())
                        .expected(ty)
                        .actual(ev.name.clone()),
                    );
                }
            }
        }
    }
    if !unnamed.is_empty() {
        push(
            &mut out,
            CheckResult::warn(
                C,
                format!(
                    "{} of {} events have no `event:` line (the OpenAI SDKs read `type`; an EventSource listening by name never fires)",
                    unnamed.len(),
                    evs.len()
                ),
            )
            .at(format!("event #{}", unnamed[0])),
        );
    }
    finish(C, out, format!("{} named, typed events", evs.len()))
}

fn sequence(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.stream_sequence";
    let evs = events_or_fail!(C, i);
    let mut out = Vec::new();
    let mut last: Option<(u64, usize)> = None;
    let mut first = None;
    for ev in evs.iter().filter(|e| e.object().is_some()) {
        let Some(seq) = ev.int("sequence_number") else {
            let got = ev
                .object()
                .and_then(|o| o.get("sequence_number"))
                .map_or_else(|| "missing".to_string(), crate::util::json::show);
            push(
                &mut out,
                CheckResult::fail(
                    C,
                    format!(
                        "{} ({}) has `sequence_number` {got}, expected an integer",
                        ev.at(),
                        ev.ty().unwrap_or("?")
                    ),
                )
                .at(ev.at()),
            );
            continue;
        };
        first.get_or_insert(seq);
        if let Some((prev, at)) = last
            && seq <= prev
        {
            push(
                &mut out,
                CheckResult::fail(
                    C,
                    format!(
                        "{} ({}) has sequence_number {seq} after {prev} (event #{at}): not strictly increasing, so a client resuming with `starting_after` skips or repeats events",
                        ev.at(),
                        ev.ty().unwrap_or("?")
                    ),
                )
                .at(ev.at())
                .expected(format!("> {prev}"))
                .actual(seq.to_string()),
            );
        }
        last = Some((seq, ev.n));
    }
    let range = match (first, last) {
        (Some(a), Some((b, _))) => format!("{a}..{b}"),
        _ => "none".into(),
    };
    finish(
        C,
        out,
        format!("sequence_number strictly increasing ({range})"),
    )
}

/// Where one output item is in its lifecycle.
#[derive(Default)]
struct ItemState {
    id: Option<String>,
    /// Content parts by `content_index`: (added, text done, part done).
    parts: BTreeMap<u64, (bool, bool, bool)>,
    done: bool,
}

fn order(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.stream_order";
    let evs = events_or_fail!(C, i);
    let mut out = Vec::new();
    let typed: Vec<(&Ev, &str)> = evs.iter().filter_map(|e| e.ty().map(|t| (e, t))).collect();
    let Some((first, first_ty)) = typed.first() else {
        return vec![CheckResult::fail(C, "no event carries a `type`")];
    };
    if *first_ty != "response.created" {
        push(
            &mut out,
            CheckResult::fail(
                C,
                format!("the first event is `{first_ty}`, expected `response.created`"),
            )
            .at(first.at())
            .expected("response.created")
            .actual(*first_ty),
        );
    }
    let first_output = typed.iter().position(|(_, t)| {
        t.starts_with("response.output_")
            || t.starts_with("response.content_")
            || t.starts_with("response.function_call")
    });
    match typed.iter().position(|(_, t)| *t == "response.in_progress") {
        None => push(
            &mut out,
            CheckResult::warn(
                C,
                "no `response.in_progress` event (OpenAI sends it right after `response.created`)",
            ),
        ),
        Some(p) if first_output.is_some_and(|o| o < p) => push(
            &mut out,
            CheckResult::fail(
                C,
                "`response.in_progress` comes after output events, expected right after `response.created`",
            )
            .at(typed[p].0.at()),
        ),
        Some(_) => {}
    }
    for (ev, _) in typed.iter().filter(|(_, t)| *t == "error") {
        let o = ev.object().cloned().unwrap_or_default();
        push(
            &mut out,
            CheckResult::fail(
                C,
                format!(
                    "the stream reports an error: {}{}",
                    o.get("code")
                        .and_then(Value::as_str)
                        .map(|c| format!("{c}: "))
                        .unwrap_or_default(),
                    excerpt(
                        o.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("(no message)"),
                        160
                    )
                ),
            )
            .at(ev.at()),
        );
    }

    let mut items: BTreeMap<u64, ItemState> = BTreeMap::new();
    let mut terminals = Vec::new();
    for (ev, ty) in &typed {
        if TERMINAL.contains(ty) {
            terminals.push(*ev);
            for (k, st) in &items {
                if !st.done {
                    push(
                        &mut out,
                        CheckResult::fail(
                            C,
                            format!(
                                "`{ty}` while output item {k} has no `response.output_item.done`"
                            ),
                        )
                        .at(ev.at()),
                    );
                }
            }
            continue;
        }
        let Some(k) = ev.int("output_index") else {
            continue;
        };
        let mut finding = |m: String| {
            push(&mut out, CheckResult::fail(C, m).at(ev.at()));
        };
        if *ty == "response.output_item.added" {
            if items.contains_key(&k) {
                finding(format!("output item {k} is added twice"));
            }
            let id = ev
                .object()
                .and_then(|o| o.get("item"))
                .and_then(|it| str_at(it, "id"))
                .map(str::to_string);
            items.insert(
                k,
                ItemState {
                    id,
                    ..Default::default()
                },
            );
            continue;
        }
        let Some(st) = items.get_mut(&k) else {
            finding(format!(
                "`{ty}` for output item {k} before its `response.output_item.added`"
            ));
            continue;
        };
        if st.done {
            finding(format!(
                "`{ty}` for output item {k} after its `response.output_item.done`"
            ));
            continue;
        }
        if let (Some(want), Some(got)) = (
            st.id.as_deref(),
            ev.object()
                .and_then(|o| o.get("item_id"))
                .and_then(Value::as_str),
        ) && want != got
        {
            finding(format!(
                "`{ty}` names item_id `{got}`, but output item {k} was added as `{want}`"
            ));
        }
        let c = ev.int("content_index");
        match (*ty, c) {
            // The guard records the part; only a repeat is a finding.
            ("response.content_part.added", Some(c))
                if st.parts.insert(c, (true, false, false)).is_some() =>
            {
                finding(format!(
                    "content part {c} of output item {k} is added twice"
                ));
            }
            (
                "response.output_text.delta"
                | "response.refusal.delta"
                | "response.output_text.done"
                | "response.refusal.done"
                | "response.content_part.done",
                Some(c),
            ) => {
                let Some(part) = st.parts.get_mut(&c) else {
                    finding(format!(
                        "`{ty}` for content part {c} of output item {k} before its `response.content_part.added`"
                    ));
                    continue;
                };
                if part.2 {
                    finding(format!(
                        "`{ty}` for content part {c} of output item {k} after its `response.content_part.done`"
                    ));
                } else if ty.ends_with(".delta") && part.1 {
                    finding(format!(
                        "`{ty}` for content part {c} of output item {k} after its text was done"
                    ));
                } else if ty.ends_with("text.done") || ty.ends_with("refusal.done") {
                    part.1 = true;
                } else if *ty == "response.content_part.done" {
                    if !part.1 {
                        finding(format!(
                            "`response.content_part.done` for content part {c} of output item {k} before its `response.output_text.done`"
                        ));
                    }
                    part.2 = true;
                }
            }
            ("response.output_item.done", _) => {
                if let Some((c, _)) = st.parts.iter().find(|(_, p)| !p.2) {
                    finding(format!(
                        "`response.output_item.done` for output item {k} before `response.content_part.done` of its part {c}"
                    ));
                }
                st.done = true;
            }
            _ => {}
        }
    }
    let last_json = evs.iter().rev().find(|e| e.object().is_some());
    match terminals.as_slice() {
        // A stream longer than one exchange may keep was judged on its first events only.
        [] if let Some(cut) = i.response.stream.as_ref().and_then(|s| s.cut()) => push(
            &mut out,
            CheckResult::warn(
                C,
                format!(
                    "the terminal event was not seen: only the first {} events were kept ({} more, {} bytes, beyond the memory budget)",
                    cut.events_kept, cut.events_dropped, cut.bytes_dropped
                ),
            ),
        ),
        [] => push(
            &mut out,
            CheckResult::fail(
                C,
                format!(
                    "no terminal event (`response.completed`, `response.incomplete` or `response.failed`): the stream ended after {}{}",
                    last_json.map_or_else(|| "no JSON event".into(), Ev::at),
                    last_json
                        .and_then(Ev::ty)
                        .map(|t| format!(" (`{t}`)"))
                        .unwrap_or_default()
                ),
            )
            .expected("exactly one terminal event"),
        ),
        [t] => {
            if let Some(after) = evs.iter().find(|e| e.n > t.n && e.object().is_some()) {
                push(
                    &mut out,
                    CheckResult::fail(
                        C,
                        format!(
                            "{} (`{}`) comes after the terminal `{}` ({})",
                            after.at(),
                            after.ty().unwrap_or("?"),
                            t.ty().unwrap_or("?"),
                            t.at()
                        ),
                    )
                    .at(after.at()),
                );
            }
        }
        many => push(
            &mut out,
            CheckResult::fail(
                C,
                format!(
                    "{} terminal events ({}), expected exactly one",
                    many.len(),
                    many.iter()
                        .map(|e| format!("{} `{}`", e.at(), e.ty().unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .at(many[1].at()),
        ),
    }
    let end = terminals.first().and_then(|t| t.ty()).unwrap_or("none");
    finish(
        C,
        out,
        format!(
            "{} events in the documented order, ending with `{end}`",
            evs.len()
        ),
    )
}

/// What the stream said about one content part or function call, to compare.
#[derive(Default)]
struct Pieces {
    deltas: String,
    delta_count: usize,
    /// `(where, final text)` as each done-style event stated it.
    finals: Vec<(String, String)>,
}

fn output(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "responses.stream_output";
    let evs = events_or_fail!(C, i);
    let mut out = Vec::new();
    // Keyed by (output_index, content_index); function calls use content index u64::MAX.
    let mut pieces: BTreeMap<(u64, u64), Pieces> = BTreeMap::new();
    const CALL: u64 = u64::MAX;
    let mut ids: Vec<(usize, String)> = Vec::new();
    let mut terminal: Option<(&Ev, &str, &Value)> = None;
    for ev in &evs {
        let (Some(o), Some(ty)) = (ev.object(), ev.ty()) else {
            continue;
        };
        if let Some(r) = o.get("response") {
            if let Some(id) = str_at(r, "id") {
                ids.push((ev.n, id.to_string()));
            }
            if TERMINAL.contains(&ty) && terminal.is_none() {
                terminal = Some((ev, ty, r));
            } else if matches!(ty, "response.created" | "response.in_progress")
                && let Some(s) = str_at(r, "status")
                && !matches!(s, "in_progress" | "queued")
            {
                push(
                    &mut out,
                    CheckResult::fail(
                        C,
                        format!("`{ty}` carries a response with status `{s}`, expected `in_progress` or `queued`"),
                    )
                    .at(format!("{} $.response.status", ev.at())),
                );
            }
            continue;
        }
        let (Some(k), c) = (ev.int("output_index"), ev.int("content_index")) else {
            continue;
        };
        let text = |key: &str| o.get(key).and_then(Value::as_str).map(str::to_string);
        match ty {
            "response.output_text.delta" | "response.refusal.delta" => {
                if let (Some(c), Some(d)) = (c, text("delta")) {
                    let p = pieces.entry((k, c)).or_default();
                    p.deltas.push_str(&d);
                    p.delta_count += 1;
                }
            }
            "response.output_text.done" => {
                if let (Some(c), Some(t)) = (c, text("text")) {
                    pieces
                        .entry((k, c))
                        .or_default()
                        .finals
                        .push((format!("{} ({ty})", ev.at()), t));
                }
            }
            "response.refusal.done" => {
                if let (Some(c), Some(t)) = (c, text("refusal")) {
                    pieces
                        .entry((k, c))
                        .or_default()
                        .finals
                        .push((format!("{} ({ty})", ev.at()), t));
                }
            }
            "response.content_part.done" => {
                if let (Some(c), Some(part)) = (c, o.get("part"))
                    && let Some(t) = str_at(part, "text").or_else(|| str_at(part, "refusal"))
                {
                    pieces
                        .entry((k, c))
                        .or_default()
                        .finals
                        .push((format!("{} ({ty})", ev.at()), t.to_string()));
                }
            }
            "response.function_call_arguments.delta" => {
                if let Some(d) = text("delta") {
                    let p = pieces.entry((k, CALL)).or_default();
                    p.deltas.push_str(&d);
                    p.delta_count += 1;
                }
            }
            "response.function_call_arguments.done" => {
                if let Some(t) = text("arguments") {
                    pieces
                        .entry((k, CALL))
                        .or_default()
                        .finals
                        .push((format!("{} ({ty})", ev.at()), t));
                }
            }
            "response.output_item.done" => {
                if let Some(item) = o.get("item") {
                    collect_item(&mut pieces, k, item, &format!("{} ({ty})", ev.at()));
                }
            }
            _ => {}
        }
    }
    if let Some((ev, ty, r)) = terminal {
        let subject = format!("the terminal `{ty}` response ({})", ev.at());
        if let Some(violations) = i.schemas.validate("response", r) {
            for v in violations {
                push(
                    &mut out,
                    assert::violation(
                        C,
                        "response",
                        v,
                        &subject,
                        &format!("{} $.response", ev.at()),
                    ),
                );
            }
        }
        let want = ty.strip_prefix("response.").unwrap_or(ty);
        match str_at(r, "status") {
            Some(s) if s == want => {}
            other => push(
                &mut out,
                CheckResult::fail(
                    C,
                    format!(
                        "{subject} has status {}, expected `{want}`",
                        other.map_or_else(|| "missing".to_string(), |s| format!("`{s}`"))
                    ),
                )
                .at(format!("{} $.response.status", ev.at())),
            ),
        }
        for (k, item) in r
            .get("output")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            collect_item(&mut pieces, k as u64, item, &subject);
        }
    }
    if let Some((_, id0)) = ids.first()
        && let Some((n, other)) = ids.iter().find(|(_, id)| id != id0)
    {
        push(
            &mut out,
            CheckResult::fail(
                C,
                format!("event #{n} carries response id `{other}`, the stream began with `{id0}`"),
            )
            .at(format!("event #{n} $.response.id")),
        );
    }
    let (mut texts, mut calls) = (0, 0);
    for ((k, c), p) in &pieces {
        let what = if *c == CALL {
            calls += 1;
            format!("the arguments of output item {k}")
        } else {
            texts += 1;
            format!("the text of output item {k}, part {c}")
        };
        if p.delta_count == 0 {
            continue;
        }
        let differing: Vec<&(String, String)> = p
            .finals
            .iter()
            .filter(|(_, fin)| *fin != p.deltas)
            .collect();
        if let Some((at, fin)) = differing.first() {
            let more = match differing.len() {
                1 => String::new(),
                n => format!(" (as do {} later statements of it)", n - 1),
            };
            push(
                &mut out,
                CheckResult::fail(
                    C,
                    format!(
                        "{what}: {} deltas concatenate to {:?}, but {at} says {:?}{more}",
                        p.delta_count,
                        excerpt(&p.deltas, 60),
                        excerpt(fin, 60)
                    ),
                )
                .expected(excerpt(&p.deltas, 80))
                .actual(excerpt(fin, 80)),
            );
        }
    }
    if terminal.is_none() {
        push(
            &mut out,
            CheckResult::warn(
                C,
                "no terminal event: the deltas could not be compared with the final response",
            ),
        );
    }
    finish(
        C,
        out,
        format!(
            "{texts} text part(s) and {calls} call(s) reassemble to what the stream reports as final"
        ),
    )
}

/// Record what an output item (from `output_item.done` or the terminal response) states as the
/// final text of each part, or the final arguments of a function call.
fn collect_item(pieces: &mut BTreeMap<(u64, u64), Pieces>, k: u64, item: &Value, at: &str) {
    match str_at(item, "type") {
        Some("message") => {
            for (c, part) in item
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(t) = str_at(part, "text").or_else(|| str_at(part, "refusal")) {
                    pieces
                        .entry((k, c as u64))
                        .or_default()
                        .finals
                        .push((at.to_string(), t.to_string()));
                }
            }
        }
        Some("function_call") => {
            if let Some(a) = str_at(item, "arguments") {
                pieces
                    .entry((k, u64::MAX))
                    .or_default()
                    .finals
                    .push((at.to_string(), a.to_string()));
            }
        }
        _ => {}
    }
}
