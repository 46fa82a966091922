//! `streaming.*`: the protocol of a `stream: true` chat completion, judged on the SSE events the
//! executor parsed (`Response::sse`), each with its place in the stream.
//!
//! Events are named `event #N`, counting the dispatched data events from 1 in stream order
//! (comments and keep-alives are not events and never count, so `: OPENROUTER PROCESSING` lines
//! do not shift the numbers). The schema checks one chunk at a time; everything that spans
//! chunks — one id, the role opener, one finish per choice, the usage chunk, `[DONE]` — is here.
//! SSE comments, CRLF framing and multi-line data are legal (QUIRKS S8) and never fail a case.

use serde_json::Value;

use super::{CheckDef, CheckInput};
use crate::execute::exchange::Response;
use crate::execute::sse::SseProblemKind;
#[cfg(test)]
use crate::execute::stream::ChatStream;
use crate::execute::stream::{Chunk, EventKind, HeldAfterDone, Json, JsonType};
use crate::judge::CheckStatus;
use crate::judge::outcome::CheckResult;
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
// The stream as the checks see it: the executor's one model (`execute::stream`).

/// In a check: the response's stream, or return the check's failure when no event stream
/// came.
macro_rules! stream_or_fail {
    ($check:expr, $i:expr) => {
        match $i.response.stream.as_ref() {
            Some(s) => s,
            None => return vec![not_a_stream($check, $i.response)],
        }
    };
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

fn event_list(ns: &[u64]) -> String {
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

/// `at` for a member of the entries of choice `idx` in event `n`.
fn at_choice_member(n: u64, idx: u64, member: &str) -> String {
    format!("event #{n} $.choices[?(@.index=={idx})].{member}")
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
    let hint = if resp.stream.is_none() {
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
    let s = stream_or_fail!(C, i);
    let mut out = Vec::new();
    for p in s.problems() {
        let at = if p.after_events == 0 {
            "before event #1".to_string()
        } else {
            format!("after event #{}", p.after_events)
        };
        let detail = p.detail.to_string();
        let r = match p.kind {
            SseProblemKind::UnterminatedEvent => CheckResult::fail(
                C,
                format!("{detail} (a browser EventSource drops such an event)"),
            ),
            SseProblemKind::InvalidUtf8 | SseProblemKind::LineTooLong => {
                CheckResult::fail(C, detail)
            }
            // The spec ignores unknown fields, so this is legal — but `Data:` or `dta:`
            // usually means content that every client silently drops.
            SseProblemKind::UnknownField => CheckResult::warn(C, detail),
        };
        if out.len() >= MAX_FINDINGS {
            break;
        }
        out.push(r.at(at));
    }
    let shown = out.len() as u64;
    let total = s.problem_total();
    if total > shown {
        let kinds: Vec<String> = [
            (SseProblemKind::InvalidUtf8, "invalid UTF-8"),
            (SseProblemKind::UnterminatedEvent, "unterminated"),
            (SseProblemKind::UnknownField, "unknown field"),
            (SseProblemKind::LineTooLong, "too long"),
        ]
        .into_iter()
        .filter_map(|(k, name)| {
            let n = s.problem_count(k);
            (n > 0).then(|| format!("{n} {name}"))
        })
        .collect();
        let only_warnings = s.problem_count(SseProblemKind::UnknownField) == total;
        let message = format!(
            "{total} framing problems in all ({}); the first {shown} are listed",
            kinds.join(", ")
        );
        out.push(if only_warnings {
            CheckResult::warn(C, message)
        } else {
            CheckResult::fail(C, message)
        });
    }
    finish_results(
        C,
        out,
        format!(
            "{} events, {} comment line(s); framing sound",
            s.event_count(),
            s.comment_count()
        ),
    )
}

fn chunks(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.chunks";
    let s = stream_or_fail!(C, i);
    let mut out = Vec::new();
    let mut bad_events = 0usize;
    let mut valid = 0usize;
    for ev in s.events() {
        let n = ev.n();
        let mut findings = Vec::new();
        match ev.kind() {
            EventKind::Done => continue,
            EventKind::NotJson if ev.data().trim().is_empty() => findings.push(
                CheckResult::fail(
                    C,
                    format!(
                        "event #{n} has empty data, not JSON ({}); openai-python raises on it",
                        ev.json_error().unwrap_or_default()
                    ),
                )
                .at(ev.at()),
            ),
            EventKind::NotJson => findings.push(
                CheckResult::fail(
                    C,
                    format!(
                        "event #{n} is not JSON ({}): {:?}",
                        ev.json_error().unwrap_or_default(),
                        excerpt(ev.data(), 100)
                    ),
                )
                .at(ev.at()),
            ),
            EventKind::Chunk(c) if c.is_error() => findings.push(
                CheckResult::fail(C, format!("event #{n} is an error object, not a chunk"))
                    .at(ev.at()),
            ),
            EventKind::Json(_) | EventKind::Chunk(_) => {
                // The schema needs a `Value`: the one chunk is parsed now and dropped after.
                let v = match ev.value() {
                    Some(v) => v,
                    None => {
                        let e = serde_json::from_str::<Value>(ev.data())
                            .err()
                            .map(|e| e.to_string())
                            .unwrap_or_default();
                        findings.push(
                            CheckResult::fail(C, format!("event #{n} is not JSON ({e})"))
                                .at(ev.at()),
                        );
                        Value::Null
                    }
                };
                if !v.is_null() {
                    match i.schemas.validate("chat.completion.chunk", &v) {
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
                                    &format!("event #{n}"),
                                    &format!("{} ", ev.at()),
                                ));
                            }
                        }
                    }
                }
                // S6: Azure's prompt-filter chunk and Bedrock's control chunks: `choices[0]`
                // crashes clients on a chunk that is neither content nor the usage chunk.
                if let EventKind::Chunk(c) = ev.kind()
                    && c.choices().is_some_and(|ch| ch.is_empty_array())
                    && c.usage().is_none_or(|u| u.is_null())
                {
                    findings.push(
                        CheckResult::fail(
                            C,
                            format!(
                                "event #{n} has `choices: []` but is not the usage chunk (S6: clients indexing choices[0] crash)"
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
    let mut ids: Vec<(String, u64)> = Vec::new();
    let mut createds: Vec<(i64, u64)> = Vec::new();
    let mut bad_created = Vec::new();
    for chunk in s.chunks() {
        let n = chunk.event().n();
        total += 1;
        match chunk.id().and_then(|id| id.as_str()) {
            Some(id) if id.trim().is_empty() => empty_id.push(n),
            Some(id) => {
                if !ids.iter().any(|(x, _)| *x == id) {
                    ids.push((id.into_owned(), n));
                }
            }
            // null or another type reads as "no id" to every typed client.
            None => missing_id.push(n),
        }
        match chunk.created().and_then(|c| c.as_i64()) {
            Some(t) => {
                if !createds.iter().any(|(x, _)| *x == t) {
                    createds.push((t, n));
                }
            }
            None => bad_created.push(n),
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
    if s.choices().next().is_none() {
        return vec![CheckResult::fail(C, "no chunk carried a choice")];
    }
    let mut out = Vec::new();
    for choice in s.choices() {
        let idx = choice.index();
        let mut entries = choice.entries();
        let Some(first) = entries.next() else {
            continue;
        };
        let at = at_choice_member(first.event().n(), idx, "delta.role");
        let role = first.role();
        match role.as_ref().map(|r| (r.kind(), r.as_str())) {
            Some((_, Some(r))) if r == "assistant" => {}
            Some((_, Some(r))) if r.is_empty() => out.push(
                CheckResult::fail(
                    C,
                    format!("choice {idx}: the first delta has `role: \"\"` (S3)"),
                )
                .at(at),
            ),
            None | Some((JsonType::Null, _)) => out.push(
                CheckResult::fail(
                    C,
                    format!("choice {idx}: the first delta has no `role` (S3: @langchain/openai then builds a generic chunk and drops tool calls and usage)"),
                )
                .at(at)
                .expected("\"assistant\""),
            ),
            Some(_) => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "choice {idx}: the first delta has role {}, expected \"assistant\"",
                        role.map(|r| r.text()).unwrap_or_default()
                    ),
                )
                .at(at),
            ),
        }
        // Repeated roles: openai-python's stream helper (`accumulate_delta`) concatenates
        // every string field of the delta, so the snapshot's role becomes
        // "assistantassistant…" — and is sent back like that in the next turn's history.
        let repeated: Vec<u64> = entries
            .filter(|e| e.role().is_some_and(|r| !r.is_null()))
            .map(|e| e.event().n())
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
                .at(at_choice_member(repeated[0], idx, "delta.role")),
            );
        }
    }
    finish_results(
        C,
        out,
        format!("{} choice(s) open with role assistant", s.choices().count()),
    )
}

fn finish(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.finish";
    let s = stream_or_fail!(C, i);
    if s.choices().next().is_none() {
        return vec![CheckResult::fail(C, "no chunk carried a choice")];
    }
    let mut out = Vec::new();
    let mut summary = Vec::new();
    for choice in s.choices() {
        let idx = choice.index();
        let entries: Vec<_> = choice.entries().collect();
        let finishes: Vec<(usize, Json<'_>)> = entries
            .iter()
            .enumerate()
            .filter_map(|(k, e)| e.finish().map(|f| (k, f)))
            .collect();
        let at = |n: u64| at_choice_member(n, idx, "finish_reason");
        match finishes.as_slice() {
            [] => {
                let last = entries.last().map(|e| e.event().n()).unwrap_or(0);
                out.push(
                    CheckResult::fail(
                        C,
                        format!("choice {idx} never gets a finish_reason (S7: the stream ends without one)"),
                    )
                    .at(at(last)),
                );
            }
            [(k, f)] => {
                let n = entries[*k].event().n();
                if let Some(later) = entries.get(*k + 1) {
                    let later = later.event().n();
                    out.push(
                        CheckResult::fail(
                            C,
                            format!(
                                "choice {idx} goes on at event #{later} after its finish_reason at event #{n} (the finish_reason must be on the choice's last chunk)"
                            ),
                        )
                        .at(format!("event #{later}")),
                    );
                } else {
                    summary.push(format!("choice {idx}: {f} at event #{n}"));
                }
            }
            many => {
                let ns: Vec<u64> = many.iter().map(|(k, _)| entries[*k].event().n()).collect();
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
    let dones = s.dones();
    let total = s.event_count();
    let Some(&first) = dones.events.first() else {
        let tail = if s.last_unterminated() {
            " (and its last event is not terminated: the connection closed mid-event)"
        } else {
            ""
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
    if dones.count > 1 {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "data: [DONE] sent {} times ({})",
                    dones.count,
                    event_list(&dones.events)
                ),
            )
            .at(format!("event #{}", dones.events[1])),
        );
    }
    if dones.after > 0 {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "{} event(s) after data: [DONE] at event #{first} ({}); clients stop reading at [DONE], so they are lost",
                    dones.after,
                    event_list(&dones.after_events)
                ),
            )
            .at(format!("event #{}", dones.after_events[0])),
        );
    }
    if let Some(h) = s.held_after_done() {
        out.push(CheckResult::fail(C, held_reason(h, first)).at(format!("after event #{first}")));
    }
    finish_results(C, out, format!("data: [DONE] at event #{first}, the last"))
}

/// Why a stream that sent `[DONE]` (at event `first`) and then kept the connection open fails.
pub(crate) fn held_reason(h: &HeldAfterDone, first: u64) -> String {
    let by = if h.deadline {
        "it kept sending until the exchange deadline ended it"
    } else {
        "silent, until the idle timeout ended it"
    };
    format!(
        "data: [DONE] arrived at event #{first}, but the connection stayed open after it ({by}): openai-python and openai-node read on to the end of the stream after [DONE], so they wait as long"
    )
}

fn usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.usage";
    let s = stream_or_fail!(C, i);
    let want = request_flag(i, "/stream_options/include_usage");
    let carrying: Vec<Chunk<'_>> = s
        .chunks()
        .filter(|c| c.usage().is_some_and(|u| !u.is_null()))
        .collect();
    let ns: Vec<u64> = carrying.iter().map(|c| c.event().n()).collect();
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
    let chunk = match carrying.as_slice() {
        // A stream that broke off with an error (E8) never reached its usage chunk: the usage
        // an error event carries is not the answer to include_usage, and saying "ignored"
        // would send the reader after the wrong cause.
        [] => {
            return vec![match super::usage::on_error_event(s) {
                Some((n, u)) => CheckResult::fail(
                    C,
                    format!(
                        "no usage chunk: the stream ended with an error at event #{n} (E8) before it; the usage {} rides on the error event, which clients raise on or skip",
                        crate::util::text::excerpt(&u.to_string(), 120)
                    ),
                )
                .at(format!("event #{n} $.usage")),
                None => CheckResult::fail(
                    C,
                    "stream_options.include_usage was requested but no chunk carries usage (silently ignored; S5)",
                )
                .expected("a final chunk with `choices: []` and `usage`"),
            }];
        }
        [one] => *one,
        _ => {
            let mut out = vec![
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
            out.extend(super::usage::changes_between_chunks(C, s));
            return out;
        }
    };
    let ev = chunk.event();
    let n = ev.n();
    let mut out = Vec::new();
    match chunk.choices() {
        Some(cs) if cs.is_empty_array() => {}
        Some(cs) if cs.kind() == JsonType::Array => {
            let entries: Vec<_> = chunk.entries().collect();
            let empty_delta = entries.len() == cs.value().as_array().map_or(0, Vec::len)
                && entries.iter().all(|e| {
                    e.delta().is_some_and(|d| d.is_empty_object())
                        && e.finish_reason().is_none_or(|f| f.is_null())
                });
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "the usage rides on a chunk with {} choice(s) at event #{n} instead of its own chunk with `choices: []` (S5{})",
                        cs.value().as_array().map_or(0, Vec::len),
                        if empty_delta {
                            "; an empty-delta choice, as LiteLLM sends"
                        } else {
                            ": attached to a content or finish chunk"
                        }
                    ),
                )
                .at(format!("{} $.choices", ev.at()))
                .expected("[]"),
            );
        }
        _ => out.push(
            CheckResult::fail(
                C,
                format!("the usage chunk at event #{n} has no `choices` array"),
            )
            .at(format!("{} $.choices", ev.at())),
        ),
    }
    // Last chunk before [DONE]: after every content and finish chunk.
    let later: Vec<u64> = s
        .chunks()
        .map(|c| c.event().n())
        .filter(|&m| m > n)
        .collect();
    if !later.is_empty() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "the usage chunk at event #{n} is followed by {} more chunk(s) ({}); it must be the last before [DONE]",
                    later.len(),
                    event_list(&later)
                ),
            )
            .at(format!("event #{}", later[0])),
        );
    }
    let usage = chunk.usage().map(|u| u.value()).unwrap_or_default();
    let arithmetic =
        super::usage::arithmetic(C, &usage, &format!("{} $.usage", ev.at()), i.request);
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
    finish_results(C, out, format!("usage chunk at event #{n}: {summary}"))
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
    let unkeyed: Vec<u64> = s
        .entries()
        .filter(|e| e.index().and_then(|x| x.as_u64()).is_none())
        .map(|e| e.event().n())
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
    let got: Vec<u64> = s.choices().map(|c| c.index()).collect();
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
    for choice in s.choices() {
        if choice.entries().all(|e| e.finish().is_none()) {
            out.push(CheckResult::fail(
                C,
                format!(
                    "choice {} never finishes (no finish_reason): the stream is incomplete",
                    choice.index()
                ),
            ));
        }
    }
    finish_results(
        C,
        out,
        format!("{} choice(s) keyed by index, each finished", got.len()),
    )
}

fn error_event(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "streaming.error_event";
    let s = stream_or_fail!(C, i);
    let status = i.response.status;
    let mut out = Vec::new();
    for ev in s.events() {
        if let Some(text) = ev.error() {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "an error inside an HTTP {status} stream at event #{}: {:?} (E8: clients reading only deltas record an empty success)",
                        ev.n(),
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
    let r = s.reassembled();
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
        let has_calls = choice["message"].get("tool_calls").is_some()
            || choice["message"].get("function_call").is_some();
        let refused = choice["message"]["refusal"]
            .as_str()
            .is_some_and(|r| !r.is_empty());
        if content.is_null() && !has_calls && !refused {
            out.push(CheckResult::fail(
                C,
                format!("choice {idx} reassembles to null content without tool calls, a function_call or a refusal (no content delta arrived)"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &str) -> Response {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: body.as_bytes().to_vec().into(),
            stream: Some(ChatStream::parse(body.as_bytes())),
            arrivals: Default::default(),
            json: None,
            json_error: None,
        }
    }

    #[test]
    fn a_flood_of_problems_is_summed_up_not_listed() {
        let mut body = String::from("data: {}\n\n");
        body.push_str(&"dta: x\n".repeat(500));
        body.push_str("data: [DONE]\n\n");
        let r = response(&body);
        let s = r.stream.as_ref().unwrap();
        assert_eq!(s.problem_total(), 500);
        // Unknown fields are warnings, so the framing still passes, with the count said once.
        let schemas = crate::load::SchemaStore::load(None).unwrap();
        let target = crate::testing::target("t");
        let i = CheckInput {
            request: None,
            request_path: "chat/completions",
            form: &[],
            response: &r,
            json: None,
            target: &target,
            schemas: &schemas,
        };
        let out = framing(&i);
        assert_eq!(out.len(), MAX_FINDINGS + 2, "{out:?}");
        assert!(
            out[MAX_FINDINGS]
                .message
                .starts_with("500 framing problems in all (500 unknown field)")
        );
        assert_eq!(out.last().unwrap().status, CheckStatus::Pass);
    }
}
