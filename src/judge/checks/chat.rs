//! `chat.*`: the non-streamed chat.completion beyond its schema — identity fields, usage
//! arithmetic, and whether `max_tokens`, `max_completion_tokens`, `n`, `stop` and `logprobs`
//! were honoured. Content quality is never judged.

use serde_json::Value;

use super::{CheckDef, CheckInput, at_choice};
use crate::judge::outcome::CheckResult;
use crate::util::json::type_name;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "chat.response",
        description: "non-empty `id`, plausible `created`, `model`, choice indices 0..n-1, `message.role` assistant, string content (null only beside tool calls, a legacy `function_call` or a `refusal`), a finish_reason on every choice",
        run: response,
    },
    CheckDef {
        name: "chat.usage",
        description: "`usage` present with non-negative integer counts and total == prompt + completion; reasoning tokens ≤ completion tokens; cached tokens ≤ prompt tokens; no zero prompt for a non-empty prompt (the same arithmetic runs on every chat answer that carries usage, as `usage`)",
        run: usage,
    },
    CheckDef {
        name: "chat.max_tokens_honoured",
        description: "with `max_tokens`/`max_completion_tokens`: completion tokens ≤ the limit, and finish_reason `length` when the limit was reached",
        run: max_tokens_honoured,
    },
    CheckDef {
        name: "chat.n_choices",
        description: "`n: k` gives exactly k choices with indices 0..k-1",
        run: n_choices,
    },
    CheckDef {
        name: "chat.stop_honoured",
        description: "no choice's content contains a requested `stop` string",
        run: stop_honoured,
    },
    CheckDef {
        name: "chat.logprobs",
        description: "`logprobs: true` gives `choices[].logprobs.content[]` entries (token, logprob ≤ 0, bytes) with `top_logprobs` of the requested length",
        run: logprobs,
    },
    CheckDef {
        name: "chat.request_id",
        description: "the response carries a non-empty `x-request-id` header, as OpenAI sends on every response (QUIRKS H1): the SDKs expose it as the request id (`_request_id` in openai-python and openai-node) that logs and support tickets quote",
        run: request_id,
    },
    CheckDef {
        name: "chat.unicode_round_trip",
        description: "non-ASCII text survives: the body is UTF-8 and the echoed text is not mojibake (UTF-8 decoded as Latin-1)",
        run: unicode_round_trip,
    },
];

fn choices<'a>(i: &'a CheckInput<'_>) -> Result<&'a Vec<Value>, CheckResult> {
    i.json
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
        .ok_or_else(|| CheckResult::fail("chat", "response has no `choices` array").at("$.choices"))
}

fn req_u64(i: &CheckInput<'_>, key: &str) -> Option<u64> {
    i.request?.get(key)?.as_u64()
}

fn response(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.response";
    let Some(body) = i.json else {
        return vec![CheckResult::fail(C, "no JSON body")];
    };
    let mut out = Vec::new();
    match body.get("id").and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => {}
        Some(_) => out.push(CheckResult::fail(C, "`id` is an empty string").at("$.id")),
        None => out.push(CheckResult::fail(C, "`id` is missing or not a string").at("$.id")),
    }
    // 2020-01-01: anything earlier is a placeholder (0) or milliseconds misread as seconds.
    match body.get("created").and_then(Value::as_i64) {
        Some(t) if (1_577_836_800..4_102_444_800).contains(&t) => {}
        Some(t) => out.push(
            CheckResult::fail(
                C,
                format!("`created` is {t}, not a plausible Unix time in seconds"),
            )
            .at("$.created"),
        ),
        None => {
            out.push(CheckResult::fail(C, "`created` is missing or not an integer").at("$.created"))
        }
    }
    if body
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(|m| m.is_empty())
    {
        out.push(CheckResult::fail(C, "`model` is missing or empty").at("$.model"));
    }
    let cs = match choices(i) {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckResult {
                check: C.into(),
                ..e
            }];
        }
    };
    if cs.is_empty() {
        out.push(CheckResult::fail(C, "`choices` is empty").at("$.choices"));
    }
    let mut indices: Vec<i64> = cs
        .iter()
        .filter_map(|c| c.get("index").and_then(Value::as_i64))
        .collect();
    indices.sort();
    if indices != (0..cs.len() as i64).collect::<Vec<_>>() {
        out.push(
            CheckResult::fail(
                C,
                format!("choice indices are {indices:?}, expected 0..{}", cs.len()),
            )
            .at("$.choices[*].index"),
        );
    }
    for (n, c) in cs.iter().enumerate() {
        let msg = &c["message"];
        if msg.get("role").and_then(Value::as_str) != Some("assistant") {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "message.role is {}, expected \"assistant\"",
                        msg.get("role")
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "missing".into())
                    ),
                )
                .at(at_choice(n, ".message.role")),
            );
        }
        let has_tools = msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        // The deprecated `functions` API, which OpenAI still serves: the call is the answer.
        let legacy_call = msg.get("function_call").is_some_and(Value::is_object);
        // A refusal (structured outputs' safety refusal) comes with `content: null`.
        let refused = msg
            .get("refusal")
            .and_then(Value::as_str)
            .is_some_and(|r| !r.is_empty());
        match msg.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Null) | None if has_tools || legacy_call || refused => {}
            Some(Value::Null) | None => out.push(
                CheckResult::fail(
                    C,
                    "message.content is null without tool calls, a function_call or a refusal",
                )
                .at(at_choice(n, ".message.content")),
            ),
            Some(other) => out.push(
                CheckResult::fail(
                    C,
                    format!("message.content is {}, expected a string", type_name(other)),
                )
                .at(at_choice(n, ".message.content")),
            ),
        }
        if c.get("finish_reason").is_none_or(Value::is_null) {
            out.push(
                CheckResult::fail(C, "finish_reason is missing or null")
                    .at(at_choice(n, ".finish_reason")),
            );
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, format!("{} choice(s)", cs.len())));
    }
    out
}

fn usage(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.usage";
    let Some(u) = i.json.and_then(|b| b.get("usage")).filter(|u| !u.is_null()) else {
        return vec![
            CheckResult::fail(C, "`usage` is missing (token accounting unavailable)").at("$.usage"),
        ];
    };
    super::usage::arithmetic(C, u, "$.usage", i.request)
}

fn max_tokens_honoured(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.max_tokens_honoured";
    let limit = [
        req_u64(i, "max_tokens"),
        req_u64(i, "max_completion_tokens"),
    ]
    .into_iter()
    .flatten()
    .min();
    let Some(limit) = limit else {
        return vec![CheckResult::fail(
            C,
            "the request sets neither max_tokens nor max_completion_tokens (suite error)",
        )];
    };
    let cs = match choices(i) {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckResult {
                check: C.into(),
                ..e
            }];
        }
    };
    let Some(completion) = i
        .json
        .and_then(|b| b.pointer("/usage/completion_tokens"))
        .and_then(Value::as_u64)
    else {
        return vec![
            CheckResult::fail(
                C,
                format!("no usage.completion_tokens: cannot verify the limit of {limit}"),
            )
            .at("$.usage.completion_tokens"),
        ];
    };
    let mut out = Vec::new();
    // With n > 1, usage counts all choices together.
    let n = cs.len().max(1) as u64;
    if completion > limit * n {
        out.push(
            CheckResult::fail(C, format!("completion_tokens {completion} exceeds the limit of {limit} (the limit was ignored)"))
                .at("$.usage.completion_tokens")
                .expected(format!("≤ {}", limit * n))
                .actual(completion.to_string()),
        );
    }
    for (k, c) in cs.iter().enumerate() {
        let fr = c.get("finish_reason").and_then(Value::as_str).unwrap_or("");
        if completion >= limit * n && fr != "length" && !fr.is_empty() {
            out.push(CheckResult::fail(C, format!("finish_reason is \"{fr}\" although the output reached the {limit}-token limit (expected \"length\")")).at(at_choice(k, ".finish_reason")));
        }
        if fr == "length" && completion < limit * n {
            out.push(CheckResult::warn(C, format!("finish_reason \"length\" with {completion} completion tokens, below the limit of {limit}")).at(at_choice(k, ".finish_reason")));
        }
    }
    if out
        .iter()
        .all(|r| r.status != crate::judge::CheckStatus::Fail)
    {
        out.push(CheckResult::pass(C, format!("{completion} ≤ {limit}")));
    }
    out
}

fn n_choices(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.n_choices";
    let want = req_u64(i, "n").unwrap_or(1) as usize;
    match choices(i) {
        Ok(cs) if cs.len() == want => vec![CheckResult::pass(C, format!("{want} choices"))],
        Ok(cs) => vec![
            CheckResult::fail(
                C,
                format!("{} choice(s) for n: {want} (n was ignored)", cs.len()),
            )
            .at("$.choices")
            .expected(want.to_string())
            .actual(cs.len().to_string()),
        ],
        Err(e) => vec![CheckResult {
            check: C.into(),
            ..e
        }],
    }
}

fn stop_honoured(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.stop_honoured";
    let stops: Vec<String> = match i.request.and_then(|r| r.get("stop")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => {
            return vec![CheckResult::fail(
                C,
                "the request sets no `stop` (suite error)",
            )];
        }
    };
    let cs = match choices(i) {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckResult {
                check: C.into(),
                ..e
            }];
        }
    };
    let mut out = Vec::new();
    for (k, c) in cs.iter().enumerate() {
        let content = c
            .pointer("/message/content")
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(s) = stops
            .iter()
            .find(|s| !s.is_empty() && content.contains(s.as_str()))
        {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "content contains the stop string {s:?} (it must end the output, excluded)"
                    ),
                )
                .at(at_choice(k, ".message.content")),
            );
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, "no stop string in the output"));
    }
    out
}

fn logprobs(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.logprobs";
    let top = req_u64(i, "top_logprobs");
    let cs = match choices(i) {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckResult {
                check: C.into(),
                ..e
            }];
        }
    };
    let mut out = Vec::new();
    for (k, c) in cs.iter().enumerate() {
        let Some(content) = c.pointer("/logprobs/content").and_then(Value::as_array) else {
            out.push(CheckResult::fail(C, "logprobs were requested but `logprobs.content` is missing or null (silently ignored)").at(at_choice(k, ".logprobs")));
            continue;
        };
        if content.is_empty()
            && c.pointer("/message/content")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        {
            out.push(
                CheckResult::fail(C, "`logprobs.content` is empty for non-empty output")
                    .at(at_choice(k, ".logprobs.content")),
            );
        }
        for (j, e) in content.iter().enumerate() {
            let at = |f: &str| at_choice(k, &format!(".logprobs.content[{j}]{f}"));
            if !e.get("token").is_some_and(Value::is_string) {
                out.push(CheckResult::fail(C, "entry without a string `token`").at(at(".token")));
            }
            match e.get("logprob").and_then(Value::as_f64) {
                Some(lp) if lp <= 0.0 => {}
                Some(lp) => out.push(
                    CheckResult::fail(C, format!("logprob {lp} > 0 (a log probability is ≤ 0)"))
                        .at(at(".logprob")),
                ),
                None => out.push(
                    CheckResult::fail(C, "entry without a numeric `logprob`").at(at(".logprob")),
                ),
            }
            match e.get("bytes") {
                Some(Value::Array(b)) if b.iter().all(|x| x.as_u64().is_some_and(|x| x < 256)) => {}
                Some(Value::Null) => {}
                // Required but nullable: clients read an absent `bytes` as null.
                None => out.push(
                    CheckResult::warn(C, "`bytes` is absent (OpenAI sends an array or null)")
                        .at(at(".bytes")),
                ),
                _ => out.push(
                    CheckResult::fail(C, "`bytes` is not an array of byte values or null")
                        .at(at(".bytes")),
                ),
            }
            if let Some(want) = top {
                match e.get("top_logprobs").and_then(Value::as_array) {
                    Some(t) if t.len() as u64 == want => {}
                    Some(t) => out.push(
                        CheckResult::fail(C, format!("{} top_logprobs, requested {want}", t.len()))
                            .at(at(".top_logprobs")),
                    ),
                    None => out.push(
                        CheckResult::fail(
                            C,
                            format!("no `top_logprobs` although {want} were requested"),
                        )
                        .at(at(".top_logprobs")),
                    ),
                }
            }
            if out.len() > 5 {
                break;
            }
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, "logprobs present and well-formed"));
    }
    out
}

fn request_id(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.request_id";
    match i.response.header("x-request-id").map(str::trim) {
        Some(id) if !id.is_empty() => vec![CheckResult::pass(C, "x-request-id present")],
        Some(_) => vec![
            CheckResult::fail(C, "`x-request-id` is empty (QUIRKS H1): clients get no request id to quote")
                .at("header x-request-id"),
        ],
        None => vec![
            CheckResult::fail(
                C,
                "no `x-request-id` header (QUIRKS H1): `_request_id` is None in openai-python and undefined in openai-node, so logs and support tickets have no id to quote",
            )
            .at("header x-request-id")
            .expected("a request id"),
        ],
    }
}

fn unicode_round_trip(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "chat.unicode_round_trip";
    if std::str::from_utf8(&i.response.body).is_err() {
        return vec![CheckResult::fail(C, "response body is not valid UTF-8")];
    }
    let sent: String = i
        .request
        .and_then(|r| r.get("messages"))
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(|x| x.get("content").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let cs = match choices(i) {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckResult {
                check: C.into(),
                ..e
            }];
        }
    };
    let mut out = Vec::new();
    for (k, c) in cs.iter().enumerate() {
        let content = c
            .pointer("/message/content")
            .and_then(Value::as_str)
            .unwrap_or("");
        // Mojibake: a non-ASCII word of the prompt, UTF-8 encoded and decoded as Latin-1.
        for word in sent.split_whitespace().filter(|w| !w.is_ascii()) {
            let mangled: String = word.bytes().map(char::from).collect();
            if content.contains(&mangled) {
                out.push(
                    CheckResult::fail(
                        C,
                        format!("{word:?} came back as {mangled:?} (UTF-8 decoded as Latin-1)"),
                    )
                    .at(at_choice(k, ".message.content")),
                );
                break;
            }
        }
        if content.contains("\\u")
            && sent.contains(|ch: char| !ch.is_ascii())
            && content.contains("\\u00")
        {
            out.push(
                CheckResult::fail(
                    C,
                    "content contains literal `\\u00..` escapes (double-encoded JSON)",
                )
                .at(at_choice(k, ".message.content")),
            );
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, "UTF-8 intact"));
    }
    out
}
