//! `streaming.*`: the protocol of a `stream: true` chat completion, judged on the SSE events the
//! executor parsed (`Response::sse`), each with its place in the stream.
//!
//! Events are named `event #N`, counting the dispatched data events from 1 in stream order
//! (comments and keep-alives are not events and never count, so `: OPENROUTER PROCESSING` lines
//! do not shift the numbers). The schema checks one chunk at a time; everything that spans
//! chunks — one id, the role opener, one finish per choice, the usage chunk, `[DONE]` — is here.
//! SSE comments, CRLF framing and multi-line data are legal (QUIRKS S8) and never fail a case.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{CheckDef, CheckInput};
use crate::execute::exchange::Response;
use crate::execute::sse::{SseEvent, SseItem, SseProblemKind};
use crate::judge::CheckStatus;
use crate::judge::outcome::CheckResult;
use crate::util::json::type_name;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "streaming.content_type",
        description: "the streamed response says `Content-Type: text/event-stream` (S9: missing, `application/json`, `application/x-ndjson`; a whole chat.completion body means `stream: true` was ignored)",
        run: content_type,
    },
    CheckDef {
        name: "streaming.framing",
        description: "SSE framing is sound: no unterminated final event, no invalid UTF-8, no over-long line (fail); unknown fields such as `dta:` are ignored by the spec (warn). Comments, CRLF and multi-line data are legal (S8)",
        run: framing,
    },
    CheckDef {
        name: "streaming.chunks",
        description: "every data event except `[DONE]` is JSON and validates as chat.completion.chunk; no `choices: []` chunk other than the usage chunk (S6)",
        run: chunks,
    },
    CheckDef {
        name: "streaming.identity",
        description: "one non-empty `id` and one plausible `created` shared by every chunk (S4: id missing, id per chunk, `id: \"\"`; S6: Azure's `created: 0` filter chunk)",
        run: identity,
    },
    CheckDef {
        name: "streaming.role",
        description: "`role: assistant` on the first delta of each choice and on no later one (S3: missing or empty role; S4: role repeated on every delta, which openai-python's stream helper concatenates)",
        run: role,
    },
    CheckDef {
        name: "streaming.finish",
        description: "exactly one non-null finish_reason per choice, on that choice's last chunk (S7: none at all, on every chunk, deltas after it)",
        run: finish,
    },
    CheckDef {
        name: "streaming.done",
        description: "`data: [DONE]` exactly once, as the last event, nothing after it (a stream ending without it is named)",
        run: done,
    },
    CheckDef {
        name: "streaming.usage",
        description: "with `stream_options.include_usage: true`: exactly one usage chunk, last before [DONE], `choices: []`, consistent arithmetic, usage null or absent elsewhere (S5: ignored, on the last content chunk, LiteLLM's empty-delta choice); without it: no usage at all",
        run: usage,
    },
    CheckDef {
        name: "streaming.n",
        description: "`n: k` streams choices keyed by `index` 0..k-1, each finishing (Q2: n silently ignored)",
        run: n_choices,
    },
    CheckDef {
        name: "streaming.error_event",
        description: "no error inside an HTTP 200 stream: a data event with an `error` object, or `event: error` (E8: clients reading only deltas record an empty success)",
        run: error_event,
    },
    CheckDef {
        name: "streaming.reassembled",
        description: "the deltas of each choice concatenated (content, refusal, tool calls, logprobs) give a completion that validates as chat.completion, like a non-streamed response",
        run: reassembled,
    },
];

/// Reports stop after this many findings of one check: a broken stream of 500 chunks should
/// give a readable reason, not 500 of them.
const MAX_FINDINGS: usize = 6;

/// 2020-01-01 and 2100-01-01 in Unix seconds: outside is a placeholder (0) or milliseconds.
const PLAUSIBLE_CREATED: std::ops::Range<i64> = 1_577_836_800..4_102_444_800;

// ---------------------------------------------------------------------------------------------
// The stream as the checks see it.

/// One data event, numbered from 1.
struct Ev<'a> {
    n: usize,
    raw: &'a SseEvent,
    kind: Kind,
}

enum Kind {
    Done,
    Json(Value),
    NotJson(String),
}

impl Ev<'_> {
    fn at(&self) -> String {
        format!("event #{}", self.n)
    }
    fn json(&self) -> Option<&Value> {
        match &self.kind {
            Kind::Json(v) => Some(v),
            _ => None,
        }
    }
    /// A chunk-like object: JSON, an object, and not an error object (those are
    /// `streaming.error_event`'s to report; judging them as chunks would only add noise).
    fn chunk(&self) -> Option<&Map<String, Value>> {
        self.json()
            .and_then(Value::as_object)
            .filter(|o| o.get("error").is_none_or(Value::is_null))
    }
}

struct Stream<'a> {
    events: Vec<Ev<'a>>,
}

impl<'a> Stream<'a> {
    fn chunks(&self) -> impl Iterator<Item = (&Ev<'a>, &Map<String, Value>)> {
        self.events.iter().filter_map(|e| e.chunk().map(|c| (e, c)))
    }

    /// Every `choices[]` entry in stream order with the event it came in and its choice index.
    /// An entry without an integer `index` counts as choice 0 — what lenient clients do — and
    /// is reported by `streaming.chunks` (schema) and `streaming.n`.
    fn choice_entries(&self) -> Vec<(&Ev<'a>, u64, &Value)> {
        let mut out = Vec::new();
        for (ev, chunk) in self.chunks() {
            for c in chunk
                .get("choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let idx = c.get("index").and_then(Value::as_u64).unwrap_or(0);
                out.push((ev, idx, c));
            }
        }
        out
    }

    /// The choice entries grouped by choice index, each group in stream order.
    fn by_choice(&self) -> BTreeMap<u64, Vec<(&Ev<'a>, &Value)>> {
        let mut out: BTreeMap<u64, Vec<_>> = BTreeMap::new();
        for (ev, idx, c) in self.choice_entries() {
            out.entry(idx).or_default().push((ev, c));
        }
        out
    }
}

/// In a check: the response's events, or return the check's failure when no event stream
/// came.
macro_rules! stream_or_fail {
    ($check:expr, $i:expr) => {
        match stream($check, $i.response) {
            Ok(s) => s,
            Err(e) => return vec![e],
        }
    };
}

/// The events of the response, or the reason there are none to judge.
fn stream<'a>(check: &str, resp: &'a Response) -> Result<Stream<'a>, CheckResult> {
    if resp.sse.is_none() {
        return Err(not_a_stream(check, resp));
    }
    Ok(Stream::of(resp.sse_events()))
}

impl<'a> Stream<'a> {
    /// Events numbered from 1 as they came (comments and other non-events do not count).
    fn of(events: impl Iterator<Item = &'a SseEvent>) -> Self {
        let events = events
            .enumerate()
            .map(|(k, raw)| {
                let kind = if is_done(&raw.data) {
                    Kind::Done
                } else {
                    match serde_json::from_str::<Value>(&raw.data) {
                        Ok(v) => Kind::Json(v),
                        Err(e) => Kind::NotJson(e.to_string()),
                    }
                };
                Ev {
                    n: k + 1,
                    raw,
                    kind,
                }
            })
            .collect();
        Stream { events }
    }
}

fn is_done(data: &str) -> bool {
    data.trim() == "[DONE]"
}

/// Why a stream request got no event stream, as precisely as the body allows.
fn not_a_stream(check: &str, resp: &Response) -> CheckResult {
    let ct = resp.content_type().unwrap_or("no Content-Type");
    let what = match &resp.json {
        Some(v) if v.get("object").and_then(Value::as_str) == Some("chat.completion") => {
            "a whole chat.completion JSON body: `stream: true` was ignored".to_string()
        }
        Some(v) if v.get("error").is_some() => format!(
            "an error body instead of an event stream: {}",
            excerpt(&v.to_string(), 160)
        ),
        _ => format!(
            "the body is not an event stream: {:?}",
            resp.body_excerpt(120)
        ),
    };
    CheckResult::fail(check, format!("{what} ({ct})")).expected("text/event-stream")
}

fn event_list(ns: &[usize]) -> String {
    let shown: Vec<String> = ns.iter().take(5).map(|n| format!("#{n}")).collect();
    let more = if ns.len() > 5 { ", …" } else { "" };
    format!("events {}{more}", shown.join(", "))
}

/// Every finding of one check, or one pass with `ok` when there are none.
fn finish_results(check: &str, mut out: Vec<CheckResult>, ok: String) -> Vec<CheckResult> {
    if out.iter().all(|r| r.status != CheckStatus::Fail) {
        out.push(CheckResult::pass(check, ok));
    }
    out
}

fn request_flag(i: &CheckInput<'_>, pointer: &str) -> bool {
    i.request
        .and_then(|r| r.pointer(pointer))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// The checks.

fn content_type(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.content_type";
    let resp = i.response;
    let actual = resp.content_type().unwrap_or("");
    let essence = actual.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("text/event-stream") {
        return vec![CheckResult::pass(C, format!("Content-Type {actual}"))];
    }
    let hint = if resp.sse.is_none() {
        // The executor only parses SSE for a non-JSON type, so this is a JSON body.
        format!("; {}", not_a_stream(C, resp).message)
    } else if essence.eq_ignore_ascii_case("application/x-ndjson") {
        " (newline-delimited JSON, as Ollama's native API streams, is not SSE)".to_string()
    } else {
        " (EventSource-style clients refuse such a stream; S9)".to_string()
    };
    let shown = if actual.is_empty() { "missing" } else { actual };
    vec![
        CheckResult::fail(
            C,
            format!("Content-Type is {shown}, expected text/event-stream{hint}"),
        )
        .at("header Content-Type")
        .expected("text/event-stream")
        .actual(actual),
    ]
}

fn framing(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.framing";
    let Some(items) = &i.response.sse else {
        return vec![not_a_stream(C, i.response)];
    };
    let mut out = Vec::new();
    let (mut events, mut comments) = (0usize, 0usize);
    for item in items {
        match item {
            SseItem::Event(_) => events += 1,
            SseItem::Comment { .. } => comments += 1,
            SseItem::Problem(p) => {
                let at = if events == 0 {
                    "before event #1".to_string()
                } else {
                    format!("after event #{events}")
                };
                let r = match p.kind {
                    SseProblemKind::UnterminatedEvent => CheckResult::fail(
                        C,
                        format!("{} (a browser EventSource drops such an event)", p.detail),
                    ),
                    SseProblemKind::InvalidUtf8 => CheckResult::fail(C, p.detail.clone()),
                    SseProblemKind::LineTooLong => CheckResult::fail(C, p.detail.clone()),
                    // The spec ignores unknown fields, so this is legal — but `Data:` or `dta:`
                    // usually means content that every client silently drops.
                    SseProblemKind::UnknownField => CheckResult::warn(C, p.detail.clone()),
                };
                if out.len() < MAX_FINDINGS {
                    out.push(r.at(at));
                }
            }
        }
    }
    finish_results(
        C,
        out,
        format!("{events} events, {comments} comment line(s); framing sound"),
    )
}

fn chunks(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.chunks";
    let s = stream_or_fail!(C, i);
    let mut out = Vec::new();
    let mut bad_events = 0usize;
    let mut valid = 0usize;
    for ev in &s.events {
        let mut findings = Vec::new();
        match &ev.kind {
            Kind::Done => continue,
            Kind::NotJson(e) if ev.raw.data.trim().is_empty() => findings.push(
                CheckResult::fail(
                    C,
                    format!(
                        "event #{} has empty data, not JSON ({e}); openai-python raises on it",
                        ev.n
                    ),
                )
                .at(ev.at()),
            ),
            Kind::NotJson(e) => findings.push(
                CheckResult::fail(
                    C,
                    format!(
                        "event #{} is not JSON ({e}): {:?}",
                        ev.n,
                        excerpt(&ev.raw.data, 100)
                    ),
                )
                .at(ev.at()),
            ),
            Kind::Json(v) if ev.chunk().is_none() && v.is_object() => findings.push(
                CheckResult::fail(
                    C,
                    format!("event #{} is an error object, not a chunk", ev.n),
                )
                .at(ev.at()),
            ),
            Kind::Json(v) => {
                match i.schemas.validate("chat.completion.chunk", v) {
                    None => {
                        return vec![CheckResult::fail(
                            C,
                            "schema `chat.completion.chunk` is not loaded",
                        )];
                    }
                    Some(violations) => {
                        for viol in violations.into_iter().take(3) {
                            findings.push(crate::judge::assert::violation(
                                C,
                                "chat.completion.chunk",
                                viol,
                                &format!("event #{}", ev.n),
                                &format!("{} ", ev.at()),
                            ));
                        }
                    }
                }
                // S6: Azure's prompt-filter chunk and Bedrock's control chunks: `choices[0]`
                // crashes clients on a chunk that is neither content nor the usage chunk.
                let empty_choices = v
                    .get("choices")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty);
                if empty_choices && v.get("usage").is_none_or(Value::is_null) {
                    findings.push(
                        CheckResult::fail(
                            C,
                            format!(
                                "event #{} has `choices: []` but is not the usage chunk (S6: clients indexing choices[0] crash)",
                                ev.n
                            ),
                        )
                        .at(format!("{} /choices", ev.at())),
                    );
                }
            }
        }
        // Warnings (an absent nullable field) do not make an event invalid.
        if findings.iter().all(|f| f.status == CheckStatus::Warn) {
            valid += 1;
            let room = MAX_FINDINGS.saturating_sub(out.len());
            out.extend(findings.into_iter().take(room.min(1)));
        } else {
            bad_events += 1;
            let room = MAX_FINDINGS.saturating_sub(out.len());
            out.extend(findings.into_iter().take(room));
        }
    }
    if bad_events > 0 && out.len() >= MAX_FINDINGS {
        out.push(CheckResult::fail(
            C,
            format!("{bad_events} invalid event(s) in all"),
        ));
    }
    if valid == 0 && bad_events == 0 {
        out.push(CheckResult::fail(
            C,
            "the stream carried no chat.completion.chunk events",
        ));
    }
    finish_results(C, out, format!("{valid} chunk(s) valid"))
}

fn identity(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.identity";
    let s = stream_or_fail!(C, i);
    let mut out = Vec::new();
    let mut total = 0usize;
    let mut missing_id = Vec::new();
    let mut empty_id = Vec::new();
    // Distinct ids and createds, each with the first event it appeared in.
    let mut ids: Vec<(String, usize)> = Vec::new();
    let mut createds: Vec<(i64, usize)> = Vec::new();
    let mut bad_created = Vec::new();
    for (ev, chunk) in s.chunks() {
        total += 1;
        match chunk.get("id") {
            Some(Value::String(id)) if id.trim().is_empty() => empty_id.push(ev.n),
            Some(Value::String(id)) => {
                if !ids.iter().any(|(x, _)| x == id) {
                    ids.push((id.clone(), ev.n));
                }
            }
            // null or another type reads as "no id" to every typed client.
            _ => missing_id.push(ev.n),
        }
        match chunk.get("created").and_then(Value::as_i64) {
            Some(t) => {
                if !createds.iter().any(|(x, _)| *x == t) {
                    createds.push((t, ev.n));
                }
            }
            None => bad_created.push(ev.n),
        }
    }
    if total == 0 {
        return vec![CheckResult::fail(C, "no chunk to read an id from")];
    }
    if !missing_id.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`id` missing (or not a string) on {} of {total} chunks (S4; {})",
                    missing_id.len(),
                    event_list(&missing_id)
                ),
            )
            .at(format!("event #{} $.id", missing_id[0])),
        );
    }
    if !empty_id.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`id` is an empty string on {} chunk(s) (S4; {})",
                    empty_id.len(),
                    event_list(&empty_id)
                ),
            )
            .at(format!("event #{} $.id", empty_id[0])),
        );
    }
    if ids.len() > 1 {
        let (a, na) = &ids[0];
        let (b, nb) = &ids[1];
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "{} different ids in one stream (S4: chunk correlation breaks): {a:?} at event #{na}, then {b:?} at event #{nb}",
                    ids.len()
                ),
            )
            .at(format!("event #{nb} $.id"))
            .expected(a.clone())
            .actual(b.clone()),
        );
    }
    if !bad_created.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`created` missing or not an integer on {} chunk(s) ({})",
                    bad_created.len(),
                    event_list(&bad_created)
                ),
            )
            .at(format!("event #{} $.created", bad_created[0])),
        );
    }
    for (t, n) in &createds {
        if !PLAUSIBLE_CREATED.contains(t) {
            out.push(
                CheckResult::fail(
                    C,
                    format!("`created` is {t}, not a plausible Unix time in seconds"),
                )
                .at(format!("event #{n} $.created")),
            );
            break;
        }
    }
    if createds.len() > 1 {
        let (a, _) = createds[0];
        let (b, nb) = createds[1];
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`created` changes within one stream: {a}, then {b} at event #{nb} (one value for the whole completion)"
                ),
            )
            .at(format!("event #{nb} $.created")),
        );
    }
    let id = ids.first().map(|(x, _)| x.as_str()).unwrap_or("");
    finish_results(C, out, format!("{total} chunk(s) share id {id:?}"))
}

fn role(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.role";
    let s = stream_or_fail!(C, i);
    let groups = s.by_choice();
    if groups.is_empty() {
        return vec![CheckResult::fail(C, "no chunk carried a choice")];
    }
    let mut out = Vec::new();
    for (idx, entries) in &groups {
        let (first_ev, first) = entries[0];
        let at = format!("{} $.choices[?(@.index=={idx})].delta.role", first_ev.at());
        match first.pointer("/delta/role") {
            Some(Value::String(r)) if r == "assistant" => {}
            Some(Value::String(r)) if r.is_empty() => out.push(
                CheckResult::fail(
                    C,
                    format!("choice {idx}: the first delta has `role: \"\"` (S3)"),
                )
                .at(at),
            ),
            None | Some(Value::Null) => out.push(
                CheckResult::fail(
                    C,
                    format!("choice {idx}: the first delta has no `role` (S3: @langchain/openai then builds a generic chunk and drops tool calls and usage)"),
                )
                .at(at)
                .expected("\"assistant\""),
            ),
            Some(other) => out.push(
                CheckResult::fail(
                    C,
                    format!("choice {idx}: the first delta has role {other}, expected \"assistant\""),
                )
                .at(at),
            ),
        }
        // Repeated roles: openai-python's stream helper (`accumulate_delta`) concatenates
        // every string field of the delta, so the snapshot's role becomes
        // "assistantassistant…" — and is sent back like that in the next turn's history.
        let repeated: Vec<usize> = entries[1..]
            .iter()
            .filter(|(_, c)| c.pointer("/delta/role").is_some_and(|r| !r.is_null()))
            .map(|(ev, _)| ev.n)
            .collect();
        if !repeated.is_empty() {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "choice {idx}: `role` repeated on {} later delta(s) ({}); it belongs on the first delta only (S4: openai-python's stream helper concatenates it into \"assistantassistant…\")",
                        repeated.len(),
                        event_list(&repeated)
                    ),
                )
                .at(format!("event #{} $.choices[?(@.index=={idx})].delta.role", repeated[0])),
            );
        }
    }
    finish_results(
        C,
        out,
        format!("{} choice(s) open with role assistant", groups.len()),
    )
}

fn finish(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.finish";
    let s = stream_or_fail!(C, i);
    let groups = s.by_choice();
    if groups.is_empty() {
        return vec![CheckResult::fail(C, "no chunk carried a choice")];
    }
    let mut out = Vec::new();
    let mut summary = Vec::new();
    for (idx, entries) in &groups {
        let finishes: Vec<(usize, &Value)> = entries
            .iter()
            .enumerate()
            .filter_map(|(k, (_, c))| {
                c.get("finish_reason")
                    .filter(|f| !f.is_null())
                    .map(|f| (k, f))
            })
            .collect();
        let at = |n: usize| format!("event #{n} $.choices[?(@.index=={idx})].finish_reason");
        match finishes.as_slice() {
            [] => {
                let last = entries.last().map(|(ev, _)| ev.n).unwrap_or(0);
                out.push(
                    CheckResult::fail(
                        C,
                        format!("choice {idx} never gets a finish_reason (S7: the stream ends without one)"),
                    )
                    .at(at(last)),
                );
            }
            [(k, f)] => {
                let (ev, _) = entries[*k];
                if *k + 1 < entries.len() {
                    let (later, _) = entries[*k + 1];
                    out.push(
                        CheckResult::fail(
                            C,
                            format!(
                                "choice {idx} goes on at event #{} after its finish_reason at event #{} (the finish_reason must be on the choice's last chunk)",
                                later.n, ev.n
                            ),
                        )
                        .at(format!("event #{}", later.n)),
                    );
                } else {
                    summary.push(format!("choice {idx}: {f} at event #{}", ev.n));
                }
            }
            many => {
                let ns: Vec<usize> = many.iter().map(|(k, _)| entries[*k].0.n).collect();
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "choice {idx} has a non-null finish_reason on {} chunks ({}); exactly one is expected (S7)",
                            many.len(),
                            event_list(&ns)
                        ),
                    )
                    .at(at(ns[1])),
                );
            }
        }
    }
    finish_results(C, out, summary.join("; "))
}

fn done(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.done";
    let s = stream_or_fail!(C, i);
    let dones: Vec<usize> = s
        .events
        .iter()
        .filter(|e| matches!(e.kind, Kind::Done))
        .map(|e| e.n)
        .collect();
    let total = s.events.len();
    let Some(&first) = dones.first() else {
        let last = s.events.last();
        let tail = match last {
            Some(e) if e.raw.unterminated => {
                " (and its last event is not terminated: the connection closed mid-event)"
            }
            _ => "",
        };
        return vec![
            CheckResult::fail(
                C,
                format!("stream ended without data: [DONE] after {total} event(s){tail}"),
            )
            .at(format!("event #{}", total + 1))
            .expected("data: [DONE]"),
        ];
    };
    let mut out = Vec::new();
    if dones.len() > 1 {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "data: [DONE] sent {} times ({})",
                    dones.len(),
                    event_list(&dones)
                ),
            )
            .at(format!("event #{}", dones[1])),
        );
    }
    let after: Vec<usize> = s
        .events
        .iter()
        .filter(|e| e.n > first && !matches!(e.kind, Kind::Done))
        .map(|e| e.n)
        .collect();
    if !after.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "{} event(s) after data: [DONE] at event #{first} ({}); clients stop reading at [DONE], so they are lost",
                    after.len(),
                    event_list(&after)
                ),
            )
            .at(format!("event #{}", after[0])),
        );
    }
    finish_results(C, out, format!("data: [DONE] at event #{first}, the last"))
}

fn usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.usage";
    let s = stream_or_fail!(C, i);
    let want = request_flag(i, "/stream_options/include_usage");
    let carrying: Vec<(&Ev<'_>, &Map<String, Value>)> = s
        .chunks()
        .filter(|(_, c)| c.get("usage").is_some_and(|u| !u.is_null()))
        .collect();
    let ns: Vec<usize> = carrying.iter().map(|(e, _)| e.n).collect();
    if !want {
        return match ns.first() {
            None => vec![CheckResult::pass(
                C,
                "no usage without stream_options.include_usage",
            )],
            Some(&n) => vec![
                CheckResult::fail(
                    C,
                    format!(
                        "usage on {} chunk(s) ({}) although stream_options.include_usage was not requested (null or absent expected)",
                        ns.len(),
                        event_list(&ns)
                    ),
                )
                .at(format!("event #{n} $.usage")),
            ],
        };
    }
    let (ev, chunk) = match carrying.as_slice() {
        [] => {
            return vec![
                CheckResult::fail(
                    C,
                    "stream_options.include_usage was requested but no chunk carries usage (silently ignored; S5)",
                )
                .expected("a final chunk with `choices: []` and `usage`"),
            ];
        }
        [one] => *one,
        _ => {
            return vec![
                CheckResult::fail(
                    C,
                    format!(
                        "usage on {} chunks ({}); exactly one usage chunk is expected, with usage null or absent on every other",
                        ns.len(),
                        event_list(&ns)
                    ),
                )
                .at(format!("event #{} $.usage", ns[0])),
            ];
        }
    };
    let mut out = Vec::new();
    match chunk.get("choices").and_then(Value::as_array) {
        Some(cs) if cs.is_empty() => {}
        Some(cs) => out.push(
            CheckResult::fail(
                C,
                format!(
                    "the usage rides on a chunk with {} choice(s) at event #{} instead of its own chunk with `choices: []` (S5{})",
                    cs.len(),
                    ev.n,
                    if cs.iter().all(|c| c.get("delta").and_then(Value::as_object).is_some_and(Map::is_empty) && c.get("finish_reason").is_none_or(Value::is_null)) {
                        "; an empty-delta choice, as LiteLLM sends"
                    } else {
                        ": attached to a content or finish chunk"
                    }
                ),
            )
            .at(format!("{} $.choices", ev.at()))
            .expected("[]"),
        ),
        None => out.push(
            CheckResult::fail(C, format!("the usage chunk at event #{} has no `choices` array", ev.n))
                .at(format!("{} $.choices", ev.at())),
        ),
    }
    // Last chunk before [DONE]: after every content and finish chunk.
    let later: Vec<usize> = s
        .chunks()
        .filter(|(e, _)| e.n > ev.n)
        .map(|(e, _)| e.n)
        .collect();
    if !later.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "the usage chunk at event #{} is followed by {} more chunk(s) ({}); it must be the last before [DONE]",
                    ev.n,
                    later.len(),
                    event_list(&later)
                ),
            )
            .at(format!("event #{}", later[0])),
        );
    }
    let arithmetic =
        super::chat::usage_arithmetic(C, &chunk["usage"], &format!("{} $.usage", ev.at()));
    let summary = arithmetic
        .iter()
        .find(|r| r.status == CheckStatus::Pass)
        .map(|r| r.message.clone())
        .unwrap_or_default();
    out.extend(
        arithmetic
            .into_iter()
            .filter(|r| r.status != CheckStatus::Pass),
    );
    finish_results(C, out, format!("usage chunk at event #{}: {summary}", ev.n))
}

fn n_choices(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.n";
    let s = stream_or_fail!(C, i);
    let want = i
        .request
        .and_then(|r| r.get("n"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let mut out = Vec::new();
    let unkeyed: Vec<usize> = s
        .choice_entries()
        .iter()
        .filter(|(_, _, c)| !c.get("index").is_some_and(Value::is_u64))
        .map(|(ev, _, _)| ev.n)
        .collect();
    if !unkeyed.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "{} choice entr(ies) without an integer `index` ({}): chunks cannot be keyed by choice",
                    unkeyed.len(),
                    event_list(&unkeyed)
                ),
            )
            .at(format!("event #{} $.choices[*].index", unkeyed[0])),
        );
    }
    let groups = s.by_choice();
    let got: Vec<u64> = groups.keys().copied().collect();
    if got != (0..want).collect::<Vec<_>>() {
        let ignored = if got.len() == 1 && want > 1 {
            format!(" (n: {want} ignored; Q2)")
        } else {
            String::new()
        };
        out.push(
            CheckResult::fail(
                C,
                format!("choices streamed with indices {got:?}, expected 0..{want}{ignored}"),
            )
            .at("$.choices[*].index")
            .expected(want.to_string())
            .actual(got.len().to_string()),
        );
    }
    for (idx, entries) in &groups {
        if entries
            .iter()
            .all(|(_, c)| c.get("finish_reason").is_none_or(Value::is_null))
        {
            out.push(CheckResult::fail(
                C,
                format!("choice {idx} never finishes (no finish_reason): the stream is incomplete"),
            ));
        }
    }
    finish_results(
        C,
        out,
        format!("{} choice(s) keyed by index, each finished", groups.len()),
    )
}

fn error_event(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.error_event";
    let s = stream_or_fail!(C, i);
    let status = i.response.status;
    let mut out = Vec::new();
    for ev in &s.events {
        let error = match ev.json() {
            Some(Value::Object(o)) => o.get("error").filter(|e| !e.is_null()),
            // E1-style list bodies, `[{"error": {...}}]`, sent as a data event.
            Some(Value::Array(a)) => a.iter().find_map(|x| x.get("error")),
            _ => None,
        };
        let text = match error {
            Some(e) => Some(
                e.get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string()),
            ),
            None if ev.raw.event == "error" => Some(ev.raw.data.clone()),
            None => None,
        };
        if let Some(text) = text {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "an error inside an HTTP {status} stream at event #{}: {:?} (E8: clients reading only deltas record an empty success)",
                        ev.n,
                        excerpt(&text, 160)
                    ),
                )
                .at(ev.at()),
            );
            if out.len() >= MAX_FINDINGS {
                break;
            }
        }
    }
    finish_results(C, out, "no error events".to_string())
}

fn reassembled(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.reassembled";
    let s = stream_or_fail!(C, i);
    let r = fold(&s);
    if r.chunks_per_choice.is_empty() {
        return vec![CheckResult::fail(
            C,
            "no chunk carried a choice: nothing to reassemble",
        )];
    }
    let mut out: Vec<CheckResult> = r
        .notes
        .iter()
        .map(|(msg, n)| CheckResult::fail(C, msg.clone()).at(format!("event #{n}")))
        .collect();
    let mut summary = Vec::new();
    let choices = r.completion["choices"].as_array().into_iter().flatten();
    for (choice, (idx, chunks)) in choices.zip(&r.chunks_per_choice) {
        let content = &choice["message"]["content"];
        let has_tools = choice["message"].get("tool_calls").is_some();
        if content.is_null() && !has_tools {
            out.push(CheckResult::fail(
                C,
                format!("choice {idx} reassembles to null content without tool calls (no content delta arrived)"),
            ));
        }
        summary.push(format!(
            "choice {idx}: {} chars from {chunks} chunk(s)",
            content.as_str().map(|c| c.chars().count()).unwrap_or(0),
        ));
    }
    match i.schemas.validate("chat.completion", &r.completion) {
        None => out.push(CheckResult::fail(
            C,
            "schema `chat.completion` is not loaded",
        )),
        Some(violations) => {
            for v in violations.into_iter().take(MAX_FINDINGS) {
                out.push(crate::judge::assert::violation(
                    C,
                    "chat.completion",
                    v,
                    "the reassembled completion",
                    "reassembled ",
                ));
            }
        }
    }
    finish_results(C, out, summary.join("; "))
}

/// A chat stream folded into the `chat.completion` a client's accumulator builds from it.
pub struct Reassembled {
    /// `object: chat.completion`, the identity fields from the first chunk carrying each, the
    /// choices in index order, and the last usage object sent.
    pub completion: Value,
    /// Fragments that could not be folded: (what, event number).
    pub notes: Vec<(String, usize)>,
    /// Each choice index with the number of chunk entries that carried it.
    pub chunks_per_choice: Vec<(u64, usize)>,
}

/// The one fold of a chat stream's deltas: the judge's `streaming.reassembled` check validates
/// it, and `stream` snapshots record it.
pub fn reassemble<'a>(events: impl Iterator<Item = &'a SseEvent>) -> Reassembled {
    fold(&Stream::of(events))
}

fn fold(s: &Stream<'_>) -> Reassembled {
    let mut notes = Vec::new();
    let mut choices = Vec::new();
    let mut chunks_per_choice = Vec::new();
    for (idx, entries) in &s.by_choice() {
        let (choice, n) = reassemble_choice(*idx, entries);
        notes.extend(n);
        chunks_per_choice.push((*idx, entries.len()));
        choices.push(choice);
    }
    let mut completion = json!({ "object": "chat.completion", "choices": choices });
    // The identity fields as a client takes them: from the first chunk carrying them. A
    // stream without an id reassembles into a completion without one — as it does in clients.
    for k in [
        "id",
        "created",
        "model",
        "system_fingerprint",
        "service_tier",
    ] {
        if let Some(v) = s
            .chunks()
            .find_map(|(_, c)| c.get(k).filter(|v| !v.is_null()))
        {
            completion[k] = v.clone();
        }
    }
    // Usage as a client keeps it: the last one sent (servers that report running totals send
    // one per chunk; the last is the whole).
    if let Some(u) = s
        .chunks()
        .filter_map(|(_, c)| c.get("usage").filter(|u| !u.is_null()))
        .last()
    {
        completion["usage"] = u.clone();
    }
    Reassembled {
        completion,
        notes,
        chunks_per_choice,
    }
}

/// One choice's deltas folded into a `chat.completion` choice the way SDK accumulators do:
/// strings concatenate, the role is taken once, tool calls are keyed by their `index`.
/// Returns the choice and the fragments that could not be folded (message, event number).
fn reassemble_choice(idx: u64, entries: &[(&Ev<'_>, &Value)]) -> (Value, Vec<(String, usize)>) {
    let mut notes = Vec::new();
    let mut role: Option<Value> = None;
    // content, refusal, reasoning (`reasoning_content` or `reasoning`, as providers name it).
    let mut text: [Option<String>; 3] = [None, None, None];
    // Tool calls by index, in order of first appearance.
    let mut calls: Vec<(u64, Map<String, Value>)> = Vec::new();
    let mut logprobs: Option<Vec<Value>> = None;
    let mut finish = Value::Null;
    for (ev, c) in entries {
        let delta = c.get("delta").cloned().unwrap_or(Value::Null);
        if role.is_none() {
            role = delta.get("role").filter(|r| !r.is_null()).cloned();
        }
        for (key, slot) in [
            ("content", 0),
            ("refusal", 1),
            ("reasoning_content", 2),
            ("reasoning", 2),
        ] {
            match delta.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => text[slot].get_or_insert_with(String::new).push_str(s),
                Some(other) => notes.push((
                    format!(
                        "choice {idx}: a `{key}` fragment is {}, not a string, so it cannot be concatenated",
                        type_name(other)
                    ),
                    ev.n,
                )),
            }
        }
        for (pos, tc) in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            // No `index` (S1): fall back on the position in the delta, as lenient clients do.
            let k = tc
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(pos as u64);
            let slot = match calls.iter().position(|(x, _)| *x == k) {
                Some(p) => p,
                None => {
                    calls.push((k, Map::new()));
                    calls.len() - 1
                }
            };
            let call = &mut calls[slot].1;
            for f in ["id", "type"] {
                if let Some(v) = tc.get(f).filter(|v| !v.is_null()) {
                    call.entry(f).or_insert_with(|| v.clone());
                }
            }
            if let Some(func) = tc.get("function") {
                let acc = call
                    .entry("function")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("inserted as an object");
                if let Some(name) = func.get("name").filter(|v| !v.is_null()) {
                    acc.entry("name").or_insert_with(|| name.clone());
                }
                if let Some(a) = func.get("arguments").and_then(Value::as_str) {
                    let prev = acc.get("arguments").and_then(Value::as_str).unwrap_or("");
                    acc.insert("arguments".into(), Value::String(format!("{prev}{a}")));
                }
            }
        }
        if let Some(lp) = c.pointer("/logprobs/content").and_then(Value::as_array) {
            logprobs
                .get_or_insert_with(Vec::new)
                .extend(lp.iter().cloned());
        }
        if let Some(f) = c.get("finish_reason").filter(|f| !f.is_null()) {
            finish = f.clone();
        }
    }
    let [content, refusal, reasoning] = text;
    let mut message = json!({
        "role": role.unwrap_or(Value::Null),
        "content": content.map(Value::String).unwrap_or(Value::Null),
    });
    if let Some(r) = refusal {
        message["refusal"] = Value::String(r);
    }
    if let Some(r) = reasoning {
        message["reasoning_content"] = Value::String(r);
    }
    if !calls.is_empty() {
        message["tool_calls"] =
            Value::Array(calls.into_iter().map(|(_, c)| Value::Object(c)).collect());
    }
    let choice = json!({
        "index": idx,
        "message": message,
        "finish_reason": finish,
        "logprobs": logprobs.map(|c| json!({ "content": c, "refusal": null })).unwrap_or(Value::Null),
    });
    (choice, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::sse::parse_all;

    fn response(body: &str) -> Response {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: body.as_bytes().to_vec().into(),
            sse: Some(parse_all(body.as_bytes())),
            json: None,
            json_error: None,
        }
    }

    #[test]
    fn events_are_numbered_from_one_and_comments_do_not_count() {
        let r = response(": ping\n\ndata: {\"a\":1}\n\n: ping\ndata: [DONE]\r\n\r\n");
        let s = stream("t", &r).ok().unwrap();
        let ns: Vec<(usize, bool)> = s
            .events
            .iter()
            .map(|e| (e.n, matches!(e.kind, Kind::Done)))
            .collect();
        assert_eq!(ns, [(1, false), (2, true)]);
    }

    #[test]
    fn error_objects_are_not_chunks() {
        let r = response("data: {\"error\":{\"message\":\"x\"}}\n\ndata: {\"id\":\"a\"}\n\n");
        let s = stream("t", &r).ok().unwrap();
        let ids: Vec<usize> = s.chunks().map(|(e, _)| e.n).collect();
        assert_eq!(ids, [2]);
    }

    #[test]
    fn reassembly_folds_tool_calls_by_index_and_logprobs() {
        let raw = SseEvent::default();
        let ev = |n| Ev {
            n,
            raw: &raw,
            kind: Kind::Done,
        };
        let (e1, e2, e3) = (ev(1), ev(2), ev(3));
        let d1 = json!({"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]},
            "logprobs": {"content": [{"token": "a"}]}, "finish_reason": null});
        let d2 = json!({"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "{\"x\":"}},
            {"index": 1, "id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
            "logprobs": {"content": [{"token": "b"}]}, "finish_reason": null});
        let d3 = json!({"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
            "finish_reason": "tool_calls"});
        let (c, notes) = reassemble_choice(0, &[(&e1, &d1), (&e2, &d2), (&e3, &d3)]);
        assert!(notes.is_empty(), "{notes:?}");
        let m = &c["message"];
        assert_eq!(m["role"], "assistant");
        assert_eq!(m["content"], Value::Null);
        assert_eq!(m["tool_calls"][0]["function"]["arguments"], "{\"x\":1}");
        assert_eq!(m["tool_calls"][0]["id"], "call_1");
        assert_eq!(m["tool_calls"][1]["function"]["name"], "g");
        assert_eq!(c["finish_reason"], "tool_calls");
        assert_eq!(c["logprobs"]["content"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn role_is_taken_once_and_content_concatenates() {
        let raw = SseEvent::default();
        let ev = |n| Ev {
            n,
            raw: &raw,
            kind: Kind::Done,
        };
        let (e1, e2) = (ev(1), ev(2));
        let d1 = json!({"index": 0, "delta": {"role": "assistant", "content": "Hé"}, "finish_reason": null});
        let d2 = json!({"index": 0, "delta": {"role": "assistant", "content": "llo"}, "finish_reason": "stop"});
        let (c, _) = reassemble_choice(0, &[(&e1, &d1), (&e2, &d2)]);
        assert_eq!(c["message"]["role"], "assistant");
        assert_eq!(c["message"]["content"], "Héllo");
    }

    #[test]
    fn the_fold_keeps_reasoning_identity_and_the_last_usage() {
        let body = [
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Think"},"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"reasoning":"ing.","content":"Hi"},"finish_reason":null}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":7},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
            "[DONE]",
        ]
        .map(|d| format!("data: {d}\n\n"))
        .concat();
        let r = response(&body);
        let folded = reassemble(r.sse_events());
        let c = &folded.completion;
        assert_eq!(c["object"], "chat.completion");
        assert_eq!(
            (c["id"].clone(), c["model"].clone()),
            (json!("c1"), json!("m"))
        );
        let m = &c["choices"][0]["message"];
        assert_eq!(m["reasoning_content"], "Thinking.");
        assert_eq!(m["content"], "Hi");
        assert_eq!(c["choices"][0]["finish_reason"], "stop");
        assert_eq!(c["usage"]["completion_tokens"], 2, "the last usage sent");
        assert_eq!(folded.chunks_per_choice, [(0, 3)]);
        assert_eq!(folded.notes.len(), 1, "{:?}", folded.notes);
        assert!(
            folded.notes[0]
                .0
                .contains("a `content` fragment is an integer, not a string")
        );
        assert_eq!(folded.notes[0].1, 3);
    }
}
