//! `files.*`: the Files API beyond its schemas — the file object against what was uploaded (or
//! asked for), list objects, and deletion. The download itself is compared byte for byte by the
//! suite's `expect.body`. A refused `/files` route is not judged here: the judge's refusal rule
//! turns a 404/405/501 into `unsupported` before any check runs; a 5xx is never a refusal.

use std::collections::BTreeSet;

use serde_json::Value;

pub(super) use super::responses::finish;
use super::{CheckDef, CheckInput};
use crate::judge::outcome::CheckResult;
use crate::util::json::show;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "files.object",
        description: "a file object: `object: file`, a non-empty `id`, an integer `bytes`, a non-empty `filename`, a `purpose` and a plausible `created_at` in seconds; after an upload, `purpose` and `bytes` are what was sent (a different `filename`: warning); on `GET /files/{id}`, the `id` asked for",
        run: object,
    },
    CheckDef {
        name: "files.list",
        description: "a list of files: `object: list`, `data` an array of file objects (`object: file`, a non-empty `id`), no id twice",
        run: list,
    },
    CheckDef {
        name: "files.deleted",
        description: "a deletion: `deleted: true` (a boolean) and the `id` of the file the path named",
        run: deleted,
    },
];

/// 2020-01-01 and 2100-01-01: outside this a timestamp is a placeholder or milliseconds.
const PLAUSIBLE_SECONDS: std::ops::Range<i64> = 1_577_836_800..4_102_444_800;

pub(super) fn body<'a>(check: &str, i: &'a CheckInput<'_>) -> Result<&'a Value, CheckResult> {
    i.json
        .filter(|b| b.is_object())
        .ok_or_else(|| CheckResult::fail(check, "the response body is not a JSON object"))
}

pub(super) fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

pub(super) fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "missing".into(), show)
}

pub(super) fn non_empty_id(check: &str, b: &Value, out: &mut Vec<CheckResult>) {
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

pub(super) fn object_is(check: &str, b: &Value, want: &str, out: &mut Vec<CheckResult>) {
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

pub(super) fn plausible_time(check: &str, b: &Value, key: &str, out: &mut Vec<CheckResult>) {
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

/// The id a `GET`/`DELETE {prefix}{id}` path names (`/files/file-abc` → `file-abc`), with or
/// without the leading slash.
pub(super) fn id_in_path<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.split('?')
        .next()?
        .trim_matches('/')
        .strip_prefix(prefix.trim_start_matches('/'))
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn object(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "files.object";
    let b = match body(C, i) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    object_is(C, b, "file", &mut out);
    non_empty_id(C, b, &mut out);
    plausible_time(C, b, "created_at", &mut out);
    let bytes = b.get("bytes").and_then(Value::as_u64);
    if bytes.is_none() {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`bytes` is {}, expected the size as an integer",
                    shown(b.get("bytes"))
                ),
            )
            .at("$.bytes"),
        );
    }
    if str_field(b, "filename").is_none_or(str::is_empty) {
        out.push(CheckResult::fail(C, "`filename` is missing or empty").at("$.filename"));
    }
    if str_field(b, "purpose").is_none_or(str::is_empty) {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`purpose` is {}, expected a string",
                    shown(b.get("purpose"))
                ),
            )
            .at("$.purpose"),
        );
    }
    // After an upload: what the server stored must be what was sent.
    if let Some((filename, sent)) = i.form_file("file") {
        if let Some(n) = bytes.filter(|n| *n != sent.len() as u64) {
            out.push(
                CheckResult::fail(
                    C,
                    format!("`bytes` is {n}, but {} bytes were uploaded", sent.len()),
                )
                .at("$.bytes")
                .expected(sent.len().to_string())
                .actual(n.to_string()),
            );
        }
        if let Some(p) = i.form_text("purpose")
            && str_field(b, "purpose").is_some_and(|got| got != p)
        {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "`purpose` is {}, the file was uploaded with {p:?}",
                        shown(b.get("purpose"))
                    ),
                )
                .at("$.purpose")
                .expected(p)
                .actual(shown(b.get("purpose"))),
            );
        }
        if let Some(got) = str_field(b, "filename").filter(|f| !f.is_empty() && *f != filename) {
            out.push(
                CheckResult::warn(
                    C,
                    format!("`filename` is {got:?}, the upload was named {filename:?}"),
                )
                .at("$.filename"),
            );
        }
    }
    if i.form.is_empty()
        && let Some(asked) = id_in_path(i.request_path, "/files/")
        && let Some(id) = str_field(b, "id")
        && id != asked
    {
        out.push(
            CheckResult::fail(C, format!("asked for file {asked:?} but got id {id:?}"))
                .at("$.id")
                .expected(asked)
                .actual(id),
        );
    }
    finish(
        C,
        out,
        format!(
            "file object ({} bytes, purpose {})",
            bytes.map_or_else(|| "?".into(), |n| n.to_string()),
            shown(b.get("purpose"))
        ),
    )
}

/// A list object whose `data` are objects of type `item` with unique ids.
pub(super) fn list_of(check: &str, i: &CheckInput<'_>, item: &str) -> Vec<CheckResult> {
    let b = match body(check, i) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    object_is(check, b, "list", &mut out);
    let Some(data) = b.get("data").and_then(Value::as_array) else {
        out.push(
            CheckResult::fail(
                check,
                format!("`data` is {}, expected an array", shown(b.get("data"))),
            )
            .at("$.data"),
        );
        return out;
    };
    let mut seen = BTreeSet::new();
    for (k, d) in data.iter().enumerate() {
        let at = format!("$.data[{k}]");
        if str_field(d, "object") != Some(item) {
            out.push(
                CheckResult::fail(
                    check,
                    format!(
                        "item {k}: `object` is {}, expected \"{item}\"",
                        shown(d.get("object"))
                    ),
                )
                .at(at),
            );
            break;
        }
        match str_field(d, "id").filter(|s| !s.is_empty()) {
            None => {
                out.push(CheckResult::fail(check, format!("item {k} has no `id`")).at(at));
                break;
            }
            Some(id) if !seen.insert(id) => {
                out.push(CheckResult::fail(check, format!("{id:?} is listed twice")).at(at));
                break;
            }
            Some(_) => {}
        }
    }
    finish(
        check,
        out,
        format!("a list of {} {item} object(s)", data.len()),
    )
}

fn list(i: &CheckInput<'_>) -> Vec<CheckResult> {
    list_of("files.list", i, "file")
}

fn deleted(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "files.deleted";
    let b = match body(C, i) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    match b.get("deleted") {
        Some(Value::Bool(true)) => {}
        other => out.push(
            CheckResult::fail(
                C,
                format!("`deleted` is {}, expected true (a boolean)", shown(other)),
            )
            .at("$.deleted")
            .expected("true"),
        ),
    }
    if let Some(asked) = id_in_path(i.request_path, "/files/")
        && str_field(b, "id") != Some(asked)
    {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`id` is {}, the deleted file is {asked:?}",
                    shown(b.get("id"))
                ),
            )
            .at("$.id")
            .expected(asked),
        );
    }
    finish(C, out, "deleted".into())
}
