//! `batch.*`: the Batch API flow beyond its schemas — the uploaded input file, the batch object
//! as created and as retrieved (identity, the request echoed back, lifecycle consistency) and
//! the status enum. A refused `/files` or `/batches` route is not judged here: the judge's
//! refusal rule turns a 404/405/501 into `unsupported` before any check runs.

use serde_json::Value;

use std::collections::BTreeSet;

use super::files::{
    body, finish, id_in_path, list_of, non_empty_id, object_is, plausible_time, shown, str_field,
};
use super::{CheckDef, CheckInput};
use crate::judge::assert;
use crate::judge::outcome::{CheckResult, CheckStatus};
use crate::util::json::show;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "batch.object",
        description: "a batch object with `object: batch` and a non-empty `id`; on create, `endpoint`, `input_file_id` and `completion_window` echo the request; on retrieve, the `id` is the one asked for; plausible `created_at`; `completed` names an output or error file; `failed` carries `errors` (warning); request counts add up",
        run: object,
    },
    CheckDef {
        name: "batch.status",
        description: "`status` is one of OpenAI's eight values (validating, failed, in_progress, finalizing, completed, expired, cancelling, cancelled); upper-case, US-spelled `canceled` and foreign lifecycles (`queued`, `running`, `succeeded`…) are named",
        run: status,
    },
    CheckDef {
        name: "batch.list",
        description: "a list of batches: `object: list`, `data` an array of batch objects (`object: batch`, a non-empty `id`), no id twice",
        run: list,
    },
    CheckDef {
        name: "batch.output",
        description: "a batch output (or error) file, downloaded: JSON Lines, each line an object with a non-empty, unique `custom_id` and a `response` whose `status_code` is an integer; a 2xx line's `body` validates as `chat.completion`, `embedding.list` or `response` (by its `object`) and its `error` is null; a line without a 2xx response carries an error (`error` or an error envelope in `body`)",
        run: output,
    },
];

const STATUSES: &[&str] = &[
    "validating",
    "failed",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
];

fn object(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "batch.object";
    let b = match body(C, i) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    object_is(C, b, "batch", &mut out);
    non_empty_id(C, b, &mut out);
    plausible_time(C, b, "created_at", &mut out);

    // On create, what the server stored must be what was asked for.
    if let Some(req) = i.request.filter(|r| r.get("input_file_id").is_some()) {
        for key in ["input_file_id", "endpoint", "completion_window"] {
            let (sent, got) = (req.get(key), b.get(key));
            if sent.is_some() && sent != got {
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "`{key}` is {}, the request sent {}",
                            shown(got),
                            shown(sent)
                        ),
                    )
                    .at(format!("$.{key}"))
                    .expected(shown(sent))
                    .actual(shown(got)),
                );
            }
        }
    }
    // On retrieve (`GET /batches/{id}`), the batch returned must be the one asked for.
    if i.request.is_none()
        && let Some(asked) = id_in_path(i.request_path, "/batches/")
        && let Some(id) = str_field(b, "id")
        && id != asked
    {
        out.push(
            CheckResult::fail(C, format!("retrieved batch {asked:?} but got id {id:?}"))
                .at("$.id")
                .expected(asked)
                .actual(id),
        );
    }

    let status = str_field(b, "status").unwrap_or("");
    let is_file_id = |k: &str| str_field(b, k).is_some_and(|s| !s.is_empty());
    if status == "completed" && !is_file_id("output_file_id") && !is_file_id("error_file_id") {
        out.push(
            CheckResult::fail(
                C,
                "status `completed` without `output_file_id` or `error_file_id`: the results cannot be fetched",
            )
            .at("$.output_file_id"),
        );
    }
    if status == "failed"
        && b.pointer("/errors/data")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        out.push(
            CheckResult::warn(
                C,
                "status `failed` without `errors.data`: no reason is given",
            )
            .at("$.errors"),
        );
    }
    if let Some(rc) = b.get("request_counts").filter(|v| !v.is_null()) {
        let n = |k: &str| rc.get(k).and_then(Value::as_u64);
        match (n("total"), n("completed"), n("failed")) {
            // Checked: a sum past 2^64 - 1 is more than any total.
            (Some(t), Some(c), Some(f)) if c.checked_add(f).is_none_or(|sum| sum > t) => out.push(
                CheckResult::fail(
                    C,
                    format!("request_counts: completed {c} + failed {f} > total {t}"),
                )
                .at("$.request_counts"),
            ),
            (Some(_), Some(_), Some(_)) => {}
            _ => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "request_counts is {}, expected non-negative integers total, completed, failed",
                        show(rc)
                    ),
                )
                .at("$.request_counts"),
            ),
        }
    }
    if out.iter().all(|r| r.status != CheckStatus::Fail) {
        out.push(CheckResult::pass(
            C,
            format!(
                "batch object ({})",
                if status.is_empty() {
                    "no status"
                } else {
                    status
                }
            ),
        ));
    }
    out
}

fn status(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "batch.status";
    let b = match body(C, i) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    let Some(s) = str_field(b, "status") else {
        return vec![
            CheckResult::fail(
                C,
                format!("`status` is {}, expected a string", shown(b.get("status"))),
            )
            .at("$.status"),
        ];
    };
    if STATUSES.contains(&s) {
        return vec![CheckResult::pass(C, format!("status `{s}`"))];
    }
    let lower = s.to_ascii_lowercase();
    let why = if STATUSES.contains(&lower.as_str()) {
        format!("`status` is {s:?}: the right value in the wrong case (OpenAI sends {lower:?})")
    } else if lower == "canceled" {
        format!("`status` is {s:?}: US spelling, OpenAI sends \"cancelled\"")
    } else {
        format!(
            "`status` is {s:?}, not one of OpenAI's values ({}): clients polling for `completed` never finish",
            STATUSES.join(", ")
        )
    };
    vec![
        CheckResult::fail(C, why)
            .at("$.status")
            .expected(STATUSES.join(" | "))
            .actual(s),
    ]
}

fn list(i: &CheckInput<'_>) -> Vec<CheckResult> {
    list_of("batch.list", i, "batch")
}

/// Lines judged at most: a failing output file of 50 000 lines needs its first problems, not
/// all of them.
const MAX_FINDINGS: usize = 6;

/// The schema a successful line's body is validated against, by its `object`.
fn body_schema(object: Option<&str>) -> Option<&'static str> {
    match object? {
        "chat.completion" => Some("chat.completion"),
        "list" => Some("embedding.list"),
        "response" => Some("response"),
        _ => None,
    }
}

fn output(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "batch.output";
    let Ok(text) = std::str::from_utf8(&i.response.body) else {
        return vec![CheckResult::fail(C, "the output file is not UTF-8 text")];
    };
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    let (mut lines, mut ok) = (0usize, 0usize);
    for (k, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let at = format!("line {}", k + 1);
        let mut fail = |msg: String| {
            if out.len() < MAX_FINDINGS {
                out.push(CheckResult::fail(C, format!("{at}: {msg}")));
            }
        };
        let v: Value = match serde_json::from_str(line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => {
                fail(format!("{} is not a JSON object", show(&other)));
                continue;
            }
            Err(e) => {
                fail(format!("not JSON ({e}): {:?}", excerpt(line, 80)));
                continue;
            }
        };
        match str_field(&v, "custom_id").filter(|s| !s.is_empty()) {
            None => fail(format!(
                "`custom_id` is {}, expected the request's id",
                shown(v.get("custom_id"))
            )),
            Some(id) if !ids.insert(id.to_string()) => {
                fail(format!("`custom_id` {id:?} appears twice"))
            }
            Some(_) => {}
        }
        let status = v.pointer("/response/status_code").and_then(Value::as_u64);
        let error = v.get("error").filter(|e| !e.is_null());
        match status {
            Some(s) if (200..300).contains(&s) => {
                if let Some(e) = error {
                    fail(format!("HTTP {s} with an `error`: {}", show(e)));
                }
                let body = v.pointer("/response/body");
                let schema = body.and_then(|b| Some((b, body_schema(str_field(b, "object"))?)));
                match schema {
                    Some((b, id)) => {
                        let problems: Vec<CheckResult> = assert::schema(i.schemas, id, b)
                            .into_iter()
                            .filter(|r| r.status == CheckStatus::Fail)
                            .collect();
                        match problems.first() {
                            Some(p) => fail(format!("`response.body`: {}", p.message)),
                            None => ok += 1,
                        }
                    }
                    None => fail(format!(
                        "`response.body` is {}: neither a chat.completion, an embedding list nor a response",
                        body.map_or_else(|| "missing".into(), |b| excerpt(&show(b), 80))
                    )),
                }
            }
            Some(s) => {
                let enveloped = v
                    .pointer("/response/body/error")
                    .is_some_and(Value::is_object);
                if error.is_none() && !enveloped {
                    fail(format!(
                        "HTTP {s} without an error (`error` or `response.body.error`)"
                    ));
                }
            }
            None if error.is_some() => {}
            None => fail(format!(
                "`response.status_code` is {}, expected an integer",
                shown(v.pointer("/response/status_code"))
            )),
        }
    }
    if lines == 0 {
        out.push(CheckResult::fail(C, "the output file has no lines"));
    }
    finish(C, out, format!("{lines} line(s), {ok} valid response(s)"))
}
