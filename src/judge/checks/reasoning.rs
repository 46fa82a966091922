//! `reasoning.*`: reasoning token accounting, whether `reasoning_effort: none` (or a Gemini
//! `thinking_budget` of 0) actually turned reasoning off, and where an endpoint puts the chain
//! of thought (QUIRKS R1, R3). Also `extensions.*`, the provider extensions sent through the
//! Python SDK's `extra_body` (which merges them into the top level of the JSON body).
//!
//! Whether a level is supported at all is decided by the judge's refusal rule before these
//! checks run: a 400 naming `reasoning_effort` is `unsupported`, also when its body is not an
//! OpenAI envelope (Gemini's list-wrapped E1 body) — the envelope shape is the `errors.*`
//! rows' finding, and counting it again here would hide the answer this row gives (refused).

use serde_json::Value;

use super::{CheckDef, CheckInput, at_choice};
use crate::judge::outcome::CheckResult;
use crate::util::json::type_name;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "reasoning.usage",
        description: "`usage.completion_tokens_details.reasoning_tokens`, when reported, is an integer counted inside completion_tokens (≤ completion_tokens) and total == prompt + completion; a total that only adds up with the reasoning tokens on top is named as QUIRKS U1",
        run: usage,
    },
    CheckDef {
        name: "reasoning.effort_honoured",
        description: "`reasoning_effort: none` (or `google.thinking_config.thinking_budget: 0`) spends no reasoning tokens; other levels record their reasoning tokens (0 at a reasoning level, or more than a thinking_budget, is a warning)",
        run: effort_honoured,
    },
    CheckDef {
        name: "reasoning.thoughts",
        description: "where the chain of thought appears: none (OpenAI), `reasoning_content`, `reasoning` or `reasoning_details` (recorded as a warning, QUIRKS R1), or inline `<think>`/`<thought>` tags in `content` (a warning naming the effect: the chain of thought shown to end users, R3); a stream is judged as the completion its deltas reassemble to",
        run: thoughts,
    },
    CheckDef {
        name: "extensions.cached_content",
        description: "with Gemini's `google.cached_content`: `usage.prompt_tokens_details.cached_tokens`, when reported, is an integer ≤ prompt_tokens (cached tokens are part of the prompt, QUIRKS U3); 0 cached tokens is a warning (the cache was not used)",
        run: cached_content,
    },
];

/// `completion_tokens_details.reasoning_tokens`: `Ok(None)` when not reported.
fn reasoning_tokens(usage: &Value) -> Result<Option<u64>, CheckResult> {
    match usage.pointer("/completion_tokens_details/reasoning_tokens") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            CheckResult::fail(
                "reasoning.usage",
                format!("reasoning_tokens is {v}, expected a non-negative integer"),
            )
            .at("$.usage.completion_tokens_details.reasoning_tokens")
        }),
    }
}

fn usage_of<'a>(i: &'a CheckInput<'_>) -> Option<&'a Value> {
    i.json
        .and_then(|b| b.get("usage"))
        .filter(|u| u.is_object())
}

fn usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "reasoning.usage";
    let Some(u) = usage_of(i) else {
        return vec![
            CheckResult::fail(C, "`usage` is missing (reasoning cost unavailable)").at("$.usage"),
        ];
    };
    let field = |k: &str| u.get(k).and_then(Value::as_u64);
    let (Some(p), Some(c), Some(t)) = (
        field("prompt_tokens"),
        field("completion_tokens"),
        field("total_tokens"),
    ) else {
        return vec![
            CheckResult::fail(
                C,
                "usage lacks integer prompt_tokens, completion_tokens and total_tokens",
            )
            .at("$.usage"),
        ];
    };
    let r = match reasoning_tokens(u) {
        Ok(r) => r,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    let sum = p.checked_add(c);
    if sum != Some(t) {
        let reason = match r {
            // Gemini via gateways: `completion_tokens` is the visible answer only.
            Some(r) if r > 0 && sum.and_then(|s| s.checked_add(r)) == Some(t) => format!(
                "total_tokens {t} = prompt {p} + completion {c} + reasoning {r}: completion_tokens excludes the reasoning tokens (QUIRKS U1; OpenAI counts them inside completion_tokens)"
            ),
            _ => format!("total_tokens {t} ≠ prompt_tokens {p} + completion_tokens {c}"),
        };
        let expected = sum.map_or_else(|| "an overflowing sum".to_string(), |s| s.to_string());
        out.push(
            CheckResult::fail(C, reason)
                .at("$.usage.total_tokens")
                .expected(expected)
                .actual(t.to_string()),
        );
    }
    if let Some(r) = r
        && r > c
    {
        out.push(
            CheckResult::fail(
                C,
                format!("reasoning_tokens {r} > completion_tokens {c} (reasoning must be counted inside completion tokens, QUIRKS U1)"),
            )
            .at("$.usage.completion_tokens_details.reasoning_tokens"),
        );
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            C,
            match r {
                Some(r) => format!("{r} reasoning of {c} completion tokens; {p} + {c} = {t}"),
                None => format!("{p} + {c} = {t}; reasoning_tokens not reported"),
            },
        ));
    }
    out
}

/// The reasoning controls the request sent: `reasoning_effort` and Gemini's
/// `google.thinking_config` (what `extra_body={"google": …}` puts on the wire).
struct Controls<'a> {
    effort: Option<&'a str>,
    budget: Option<i64>,
    include_thoughts: bool,
}

impl<'a> Controls<'a> {
    fn of(request: Option<&'a Value>) -> Self {
        let tc = request.and_then(|r| r.pointer("/google/thinking_config"));
        Controls {
            effort: request
                .and_then(|r| r.get("reasoning_effort"))
                .and_then(Value::as_str),
            budget: tc
                .and_then(|t| t.get("thinking_budget"))
                .and_then(Value::as_i64),
            include_thoughts: tc
                .and_then(|t| t.get("include_thoughts"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

fn effort_honoured(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "reasoning.effort_honoured";
    let ctl = Controls::of(i.request);
    let what = match (ctl.effort, ctl.budget) {
        (Some(e), _) => format!("reasoning_effort \"{e}\""),
        (None, Some(b)) => format!("thinking_budget {b}"),
        (None, None) => {
            return vec![CheckResult::fail(
                C,
                "the request sets neither reasoning_effort nor google.thinking_config.thinking_budget (suite error)",
            )];
        }
    };
    let at = "$.usage.completion_tokens_details.reasoning_tokens";
    let r = match usage_of(i).map(reasoning_tokens) {
        Some(Ok(Some(r))) => r,
        Some(Err(e)) => {
            return vec![CheckResult {
                check: C.into(),
                ..e
            }];
        }
        _ => {
            return vec![CheckResult::pass(
                C,
                format!(
                    "{what} accepted; reasoning_tokens not reported, so its effect is not visible"
                ),
            )];
        }
    };
    let off = ctl.effort == Some("none") || (ctl.effort.is_none() && ctl.budget == Some(0));
    if off {
        return vec![if r > 0 {
            CheckResult::fail(
                C,
                format!("{what} asks for no reasoning, but {r} reasoning tokens were spent (the setting was ignored)"),
            )
            .at(at)
            .expected("0")
            .actual(r.to_string())
        } else {
            CheckResult::pass(C, format!("{what}: no reasoning tokens"))
        }];
    }
    match ctl.budget {
        // Gemini documents that a model may overflow its budget, so this is not a failure.
        Some(b) if b > 0 && r > b as u64 && ctl.effort.is_none() => {
            return vec![
                CheckResult::warn(
                    C,
                    format!("{r} reasoning tokens exceed thinking_budget {b}"),
                )
                .at(at),
            ];
        }
        _ => {}
    }
    if r == 0 && ctl.budget != Some(-1) {
        return vec![
            CheckResult::warn(
                C,
                format!("{what} accepted but 0 reasoning tokens were spent (ignored, or a model that does not reason)"),
            )
            .at(at),
        ];
    }
    vec![CheckResult::pass(
        C,
        format!("{what}: {r} reasoning tokens"),
    )]
}

/// Chain-of-thought fields seen on chat messages, and who uses each (QUIRKS R1).
const THOUGHT_FIELDS: &[(&str, &str)] = &[
    (
        "reasoning_content",
        "the DeepSeek convention, older vLLM, most gateways",
    ),
    ("reasoning", "vLLM since Nov 2025, OpenRouter, Ollama"),
    ("reasoning_details", "OpenRouter"),
];

/// Tags models use to wrap thoughts when the server does not separate them.
const THOUGHT_TAGS: &[&str] = &["<think>", "</think>", "<thinking>", "<thought>"];

fn thoughts(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "reasoning.thoughts";
    let ctl = Controls::of(i.request);
    // A stream is judged as the completion a client accumulates from it.
    let folded = i
        .response
        .stream
        .as_ref()
        .map(|s| s.reassembled().completion);
    let body = folded.as_ref().or(i.json);
    let Some(choices) = body
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
    else {
        return vec![CheckResult::fail(C, "response has no `choices` array").at("$.choices")];
    };
    let reasoned = body
        .and_then(|b| b.get("usage"))
        .filter(|u| u.is_object())
        .and_then(|u| reasoning_tokens(u).ok().flatten())
        .is_some_and(|r| r > 0);
    let content_at = |k: usize| {
        if folded.is_some() {
            format!("the reassembled stream $.choices[{k}].message.content")
        } else {
            at_choice(k, ".message.content")
        }
    };
    let mut out = Vec::new();
    for (k, c) in choices.iter().enumerate() {
        let msg = &c["message"];
        let mut fields = Vec::new();
        for (name, who) in THOUGHT_FIELDS {
            match msg.get(*name) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let typed = if *name == "reasoning_details" {
                        v.is_array()
                    } else {
                        v.is_string()
                    };
                    // An extension field is not a deviation, but one that does not have the
                    // type its convention gives breaks every client reading it.
                    if !typed {
                        out.push(
                            CheckResult::warn(
                                C,
                                format!(
                                    "message.{name} is {}, not the {} its convention uses",
                                    type_name(v),
                                    if *name == "reasoning_details" {
                                        "array"
                                    } else {
                                        "string"
                                    }
                                ),
                            )
                            .at(at_choice(k, &format!(".message.{name}"))),
                        );
                    }
                    fields.push(format!("`{name}` ({who})"));
                }
            }
        }
        if !fields.is_empty() {
            out.push(
                CheckResult::warn(
                    C,
                    format!(
                        "chain of thought in {} — OpenAI returns none; clients reading another field lose it (QUIRKS R1)",
                        fields.join(" and ")
                    ),
                )
                .at(at_choice(k, ".message")),
            );
        }
        let content = msg.get("content").and_then(Value::as_str).unwrap_or("");
        let lower = content.to_ascii_lowercase();
        let inline = THOUGHT_TAGS.iter().find(|t| lower.contains(*t));
        // Content is free text, so inline thoughts are not a deviation of the wire format: the
        // finding is their effect, the chain of thought shown to end users.
        match inline {
            Some(tag) if ctl.include_thoughts => out.push(
                CheckResult::warn(
                    C,
                    format!("thoughts are inline in `content` ({tag}…), as requested by include_thoughts (QUIRKS R3): apps showing content show them to end users"),
                )
                .at(content_at(k)),
            ),
            Some(tag) => out.push(
                CheckResult::warn(
                    C,
                    format!("`content` carries the chain of thought inline ({tag}…): apps showing content show the model's thoughts to end users (QUIRKS R3); the server did not separate reasoning from the answer"),
                )
                .at(content_at(k)),
            ),
            None if ctl.include_thoughts && reasoned && fields.is_empty() => out.push(
                CheckResult::warn(
                    C,
                    "include_thoughts is set and reasoning tokens were spent, but no thoughts are visible (no reasoning field, no thought tags)",
                )
                .at(at_choice(k, ".message")),
            ),
            None => {}
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            C,
            "no chain of thought in the message (as OpenAI)",
        ));
    }
    out
}

fn cached_content(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "extensions.cached_content";
    let at = "$.usage.prompt_tokens_details.cached_tokens";
    if i.request
        .and_then(|r| r.pointer("/google/cached_content"))
        .is_none()
    {
        return vec![CheckResult::fail(
            C,
            "the request sets no google.cached_content (suite error)",
        )];
    }
    let Some(u) = usage_of(i) else {
        return vec![CheckResult::warn(C, "no `usage`: cache use is not visible").at("$.usage")];
    };
    let Some(p) = u.get("prompt_tokens").and_then(Value::as_u64) else {
        return vec![
            CheckResult::fail(C, "usage.prompt_tokens is missing or not an integer")
                .at("$.usage.prompt_tokens"),
        ];
    };
    let cached = match u.pointer("/prompt_tokens_details/cached_tokens") {
        None | Some(Value::Null) => {
            return vec![CheckResult::pass(
                C,
                format!("accepted; {p} prompt tokens, cached_tokens not reported"),
            )];
        }
        Some(v) => match v.as_u64() {
            Some(n) => n,
            None => {
                return vec![
                    CheckResult::fail(
                        C,
                        format!("cached_tokens is {v}, expected a non-negative integer"),
                    )
                    .at(at),
                ];
            }
        },
    };
    if cached > p {
        return vec![
            CheckResult::fail(
                C,
                format!("cached_tokens {cached} > prompt_tokens {p}: cached tokens must be counted inside the prompt (QUIRKS U3: subtracted from prompt_tokens)"),
            )
            .at(at)
            .expected(format!("≤ {p}"))
            .actual(cached.to_string()),
        ];
    }
    if cached == 0 {
        return vec![
            CheckResult::warn(
                C,
                "cached_content was sent but cached_tokens is 0: the cache was not used",
            )
            .at(at),
        ];
    }
    vec![CheckResult::pass(
        C,
        format!("{cached} of {p} prompt tokens served from the cache"),
    )]
}
