//! `batch.*`: the Batch API flow beyond its schemas — the uploaded input file, the batch object
//! as created and as retrieved (identity, the request echoed back, lifecycle consistency) and
//! the status enum. A refused `/files` or `/batches` route is not judged here: the judge's
//! refusal rule turns a 404/405/501 into `unsupported` before any check runs.

use serde_json::Value;

use super::{CheckDef, CheckInput};
use crate::judge::outcome::{CheckResult, CheckStatus};
use crate::util::json::show;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "batch.input_file",
        description: "the uploaded batch input file: `object: file`, a non-empty `id`, `purpose: batch`, `bytes` > 0, a non-empty `filename` and a plausible `created_at` in seconds",
        run: input_file,
    },
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

/// 2020-01-01 and 2100-01-01: outside this a timestamp is a placeholder or milliseconds.
const PLAUSIBLE_SECONDS: std::ops::Range<i64> = 1_577_836_800..4_102_444_800;

fn body<'a>(check: &str, i: &'a CheckInput<'_>) -> Result<&'a Value, CheckResult> {
    i.json
        .filter(|b| b.is_object())
        .ok_or_else(|| CheckResult::fail(check, "the response body is not a JSON object"))
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "missing".into(), show)
}

fn non_empty_id(check: &str, b: &Value, out: &mut Vec<CheckResult>) {
    if str_field(b, "id").is_none_or(|s| s.trim().is_empty()) {
        out.push(
            CheckResult::fail(
                check,
                format!(
                    "`id` is {}, expected a non-empty string",
                    shown(b.get("id"))
                ),
            )
            .at("$.id"),
        );
    }
}

fn object_is(check: &str, b: &Value, want: &str, out: &mut Vec<CheckResult>) {
    if str_field(b, "object") != Some(want) {
        out.push(
            CheckResult::fail(
                check,
                format!(
                    "`object` is {}, expected \"{want}\"",
                    shown(b.get("object"))
                ),
            )
            .at("$.object"),
        );
    }
}

fn plausible_time(check: &str, b: &Value, key: &str, out: &mut Vec<CheckResult>) {
    match b.get(key).and_then(Value::as_i64) {
        Some(t) if PLAUSIBLE_SECONDS.contains(&t) => {}
        Some(t) => out.push(
            CheckResult::fail(
                check,
                format!("`{key}` is {t}, not a plausible Unix time in seconds"),
            )
            .at(format!("$.{key}")),
        ),
        None => out.push(
            CheckResult::fail(
                check,
                format!("`{key}` is {}, expected an integer", shown(b.get(key))),
            )
            .at(format!("$.{key}")),
        ),
    }
}

fn input_file(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "batch.input_file";
    let b = match body(C, i) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    object_is(C, b, "file", &mut out);
    non_empty_id(C, b, &mut out);
    if str_field(b, "purpose") != Some("batch") {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`purpose` is {}, the file was uploaded with purpose \"batch\"",
                    shown(b.get("purpose"))
                ),
            )
            .at("$.purpose"),
        );
    }
    match b.get("bytes").and_then(Value::as_u64) {
        Some(n) if n > 0 => {}
        _ => out.push(
            CheckResult::fail(
                C,
                format!(
                    "`bytes` is {}, expected the (positive) size of the upload",
                    shown(b.get("bytes"))
                ),
            )
            .at("$.bytes"),
        ),
    }
    if str_field(b, "filename").is_none_or(str::is_empty) {
        out.push(CheckResult::fail(C, "`filename` is missing or empty").at("$.filename"));
    }
    plausible_time(C, b, "created_at", &mut out);
    if out.is_empty() {
        out.push(CheckResult::pass(C, "batch input file stored"));
    }
    out
}

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
        && let Some(asked) = i
            .request_path
            .split('?')
            .next()
            .and_then(|p| p.trim_end_matches('/').strip_prefix("/batches/"))
            .filter(|id| !id.is_empty() && !id.contains('/'))
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
            (Some(t), Some(c), Some(f)) if c + f > t => out.push(
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
