//! The declarative assertions of a suite: content type, schema, JSONPath.

use serde_json::Value;

use super::outcome::CheckResult;
use crate::execute::exchange::Response;
use crate::load::SchemaStore;
use crate::load::schemas::SchemaViolation;
use crate::load::suite::{CompareOp, ExpectedBody, JsonPathAssert, JsonPathOp, JsonType};
use crate::load::template::RenderContext;
use crate::util::json::{show, type_name};
use crate::util::text::excerpt;

pub fn content_type(resp: &Response, expected: &str) -> CheckResult {
    let actual = resp.content_type().unwrap_or("");
    let essence = actual.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(expected.trim()) {
        CheckResult::pass("content_type", format!("Content-Type {actual}"))
    } else {
        CheckResult::fail(
            "content_type",
            format!(
                "Content-Type is {}, expected {expected}",
                if actual.is_empty() { "missing" } else { actual }
            ),
        )
        .expected(expected)
        .actual(actual)
    }
}

pub fn schema(store: &SchemaStore, id: &str, body: &Value) -> Vec<CheckResult> {
    let check = format!("schema:{id}");
    match store.validate(id, body) {
        None => vec![CheckResult::fail(&check, format!("unknown schema `{id}`"))],
        Some(v) if v.is_empty() => vec![CheckResult::pass(&check, format!("valid {id}"))],
        Some(violations) => violations
            .into_iter()
            .map(|v| violation(&check, id, v, "", ""))
            .collect(),
    }
}

/// One schema violation as a check result. `subject` names what was validated when it is not
/// the response body (`event #3`, `the reassembled completion`); `at_prefix` prefixes the JSON
/// Pointer (`event #3 `, `reassembled `). One rule for the spec's optional and nullable fields:
/// a required but nullable field that is absent reads as null in every OpenAI SDK, and an
/// optional field sent as null reads as absent — a warning each, not a deviation clients break
/// on.
pub fn violation(
    check: &str,
    id: &str,
    v: SchemaViolation,
    subject: &str,
    at_prefix: &str,
) -> CheckResult {
    let pointer = if v.instance_path.is_empty() {
        "/"
    } else {
        v.instance_path.as_str()
    };
    let at = format!("{at_prefix}{pointer}");
    let lead = if subject.is_empty() {
        String::new()
    } else {
        format!("{subject} ")
    };
    match &v.missing_property {
        Some(p) if v.absent_nullable => CheckResult::warn(
            check,
            format!("{lead}`{p}` is absent; {id} requires it (null when unused) — clients read absent as null"),
        )
        .at(at),
        // The other half of the rule: null where the spec leaves the field out reads as absent.
        None if v.null_optional => CheckResult::warn(
            check,
            format!("{lead}`{}` is null; {id} leaves it out when unused — clients read null as absent", pointer.rsplit('/').next().unwrap_or(pointer)),
        )
        .at(at),
        _ => CheckResult::fail(check, format!("{lead}does not match {id}: {}", shorten(&v.message))).at(at),
    }
}

fn shorten(s: &str) -> String {
    excerpt(s, 200)
}

/// Judge one JSONPath assertion; `ctx` resolves the templates of `equals`/`contains` (a value
/// an earlier step captured).
pub fn jsonpath(a: &JsonPathAssert, body: &Value, ctx: &RenderContext<'_>) -> CheckResult {
    let check = format!("jsonpath:{}", a.source);
    let nodes = a.path.query(body).all();
    let fail = |msg: String| CheckResult::fail(&check, msg).at(a.source.clone());
    let want = match &a.op {
        JsonPathOp::Equals(t) | JsonPathOp::Contains(t) => match t.render(ctx) {
            Ok(v) => Some(v),
            Err(e) => return fail(format!("cannot resolve the expected value: {e}")),
        },
        _ => None,
    };
    match (&a.op, want) {
        (JsonPathOp::Exists(want), _) => {
            let found = !nodes.is_empty();
            if found == *want {
                CheckResult::pass(&check, if found { "exists" } else { "absent" })
            } else if *want {
                fail("no value at this path".into()).expected("a value")
            } else {
                fail(format!("unexpected value {}", show(nodes[0]))).expected("no value")
            }
        }
        _ if nodes.is_empty() => fail("no value at this path".into()),
        (JsonPathOp::Contains(_), Some(want)) => {
            if nodes.iter().any(|n| json_eq(n, &want)) {
                CheckResult::pass(
                    &check,
                    format!("{} is among {} value(s)", show(&want), nodes.len()),
                )
            } else {
                fail(format!(
                    "{} is not among the {} value(s) here",
                    show(&want),
                    nodes.len()
                ))
                .expected(show(&want))
            }
        }
        (JsonPathOp::Equals(_), Some(want)) => match nodes.iter().find(|n| !json_eq(n, &want)) {
            Some(n) => fail(format!("{} is not {}", show(n), show(&want))),
            None => CheckResult::pass(&check, format!("{} value(s) ok", nodes.len())),
        },
        (op, _) => {
            for n in &nodes {
                if let Some(msg) = mismatch(op, n) {
                    return fail(msg);
                }
            }
            CheckResult::pass(&check, format!("{} value(s) ok", nodes.len()))
        }
    }
}

/// Whether the body is exactly the expected bytes; the first difference when it is not.
pub fn body(resp: &Response, want: &ExpectedBody) -> CheckResult {
    let got = &resp.body[..];
    if got == want.bytes.as_slice() {
        return CheckResult::pass(
            "body",
            format!("{} bytes, equal to {}", got.len(), want.fixture),
        );
    }
    let first = got
        .iter()
        .zip(&want.bytes)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.bytes.len()));
    CheckResult::fail(
        "body",
        format!(
            "the body differs from {} ({} bytes received, {} expected; first difference at byte {first}): {:?}",
            want.fixture,
            got.len(),
            want.bytes.len(),
            resp.body_excerpt(120)
        ),
    )
    .expected(format!("the {} bytes of {}", want.bytes.len(), want.fixture))
    .actual(format!("{} bytes", got.len()))
}

/// What is wrong with one matched value under `op`, if anything: a failed assertion is the
/// check's data, not an error.
fn mismatch(op: &JsonPathOp, v: &Value) -> Option<String> {
    match op {
        // Resolved and judged over all the values in `jsonpath`.
        JsonPathOp::Exists(_) | JsonPathOp::Equals(_) | JsonPathOp::Contains(_) => None,
        JsonPathOp::Type(t) => {
            let ok = match t {
                JsonType::String => v.is_string(),
                JsonType::Number => v.is_number(),
                JsonType::Integer => v.is_i64() || v.is_u64(),
                JsonType::Boolean => v.is_boolean(),
                JsonType::Array => v.is_array(),
                JsonType::Object => v.is_object(),
                JsonType::Null => v.is_null(),
            };
            (!ok).then(|| format!("{} is {}, expected {t:?}", show(v), type_name(v)))
        }
        JsonPathOp::Matches(re) => match v.as_str() {
            Some(s) if re.is_match(s) => None,
            Some(s) => Some(format!(
                "{:?} does not match /{}/",
                excerpt(s, 80),
                re.as_str()
            )),
            None => Some(format!(
                "{} is {}, expected a string matching /{}/",
                show(v),
                type_name(v),
                re.as_str()
            )),
        },
        JsonPathOp::OneOf(options) => (!options.iter().any(|o| json_eq(v, o))).then(|| {
            let opts: Vec<String> = options.iter().map(show).collect();
            format!("{} is not one of {}", show(v), opts.join(", "))
        }),
        JsonPathOp::Length(n) => {
            let len = match v {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                Value::Object(o) => o.len(),
                other => return Some(format!("{} has no length", type_name(other))),
            };
            (len != *n).then(|| format!("length is {len}, expected {n}"))
        }
        JsonPathOp::Compare(op, limit) => {
            let Some(x) = v.as_f64() else {
                return Some(format!(
                    "{} is {}, expected a number",
                    show(v),
                    type_name(v)
                ));
            };
            let (ok, sym) = match op {
                CompareOp::Gt => (x > *limit, ">"),
                CompareOp::Gte => (x >= *limit, "≥"),
                CompareOp::Lt => (x < *limit, "<"),
                CompareOp::Lte => (x <= *limit, "≤"),
            };
            (!ok).then(|| format!("{x} is not {sym} {limit}"))
        }
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
