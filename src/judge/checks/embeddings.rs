//! `embeddings.*`: the `POST /embeddings` list beyond its schema — one embedding per input with
//! matching indices, vectors in the requested encoding (float array or base64 little-endian
//! float32), `dimensions` honoured, equal inputs giving equal vectors, and usage. Vector values
//! are never judged for meaning, only for form (finite numbers, the right length).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::Value;

use super::{CheckDef, CheckInput};
use crate::judge::outcome::{CheckResult, CheckStatus};
use crate::util::json::{show, type_name};

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "embeddings.response",
        description: "`object: list`, a non-empty `data` of `object: embedding` items with integer `index`, a `model`, and `usage.prompt_tokens`/`total_tokens` as non-negative integers with total ≥ prompt (missing usage: B4; zero usage for real input is a warning)",
        run: response,
    },
    CheckDef {
        name: "embeddings.count",
        description: "one embedding per input and indices exactly 0..n-1 (catches a single vector returned for a batch, duplicate or missing indices; out-of-order items are a warning)",
        run: count,
    },
    CheckDef {
        name: "embeddings.float",
        description: "with `encoding_format: float` or none (the API default): every embedding is a non-empty array of finite numbers (no null, no strings) and all have the same length; a base64 string here is named",
        run: float,
    },
    CheckDef {
        name: "embeddings.base64",
        description: "with `encoding_format: base64`: every embedding is a standard-base64 string decoding to a non-empty multiple of 4 bytes of finite little-endian float32 values, of one length (and exactly `dimensions` when requested); a float array instead is B1 (an SDK decoding it as base64 gets N/4 garbage values)",
        run: base64_vectors,
    },
    CheckDef {
        name: "embeddings.dimensions",
        description: "with `dimensions: d`: every vector (float or base64) has exactly d components (B3: the parameter silently ignored); a reduced vector that is not L2-normalised is a warning (B3, Gemini)",
        run: dimensions,
    },
    CheckDef {
        name: "embeddings.deterministic",
        description: "inputs repeated within one request get the same vector (cosine ≥ 0.9999); identical vectors for different inputs are a warning (a mock that ignores its input)",
        run: deterministic,
    },
];

/// Minimum cosine similarity for two embeddings of the same text to count as the same vector
/// (float32 rounding and batched kernels may perturb the last bits).
const SAME_VECTOR_COSINE: f64 = 0.9999;

/// How many per-item problems one check reports before it stops (the first few name the
/// deviation; hundreds of identical lines would drown the report).
const MAX_ITEM_PROBLEMS: usize = 5;

fn data<'a>(check: &str, i: &'a CheckInput<'_>) -> Result<&'a Vec<Value>, CheckResult> {
    let Some(body) = i.json else {
        return Err(CheckResult::fail(check, "the response body is not JSON"));
    };
    body.get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| CheckResult::fail(check, "response has no `data` array").at("$.data"))
}

/// The inputs of the request, as comparable values: a string is one input, an array of
/// strings or of token arrays is one input per item, and a flat array of token ids is one.
fn inputs<'a>(i: &CheckInput<'a>) -> Option<Vec<&'a Value>> {
    match i.request?.get("input")? {
        s @ Value::String(_) => Some(vec![s]),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_number) => {
            Some(vec![i.request?.get("input")?])
        }
        Value::Array(items) => Some(items.iter().collect()),
        _ => None,
    }
}

fn encoding_format<'a>(i: &CheckInput<'a>) -> Option<&'a str> {
    i.request?.get("encoding_format")?.as_str()
}

fn requested_dimensions(i: &CheckInput<'_>) -> Option<u64> {
    i.request?.get("dimensions")?.as_u64()
}

fn at(k: usize) -> String {
    format!("$.data[{k}].embedding")
}

fn response(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "embeddings.response";
    let Some(body) = i.json else {
        return vec![CheckResult::fail(C, "the response body is not JSON")];
    };
    let mut out = Vec::new();
    if body.get("object").and_then(Value::as_str) != Some("list") {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "`object` is {}, expected \"list\"",
                    shown(body.get("object"))
                ),
            )
            .at("$.object"),
        );
    }
    if body
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(CheckResult::fail(C, "`model` is missing or empty").at("$.model"));
    }
    match data(C, i) {
        Err(e) => out.push(e),
        Ok(items) if items.is_empty() => {
            out.push(CheckResult::fail(C, "`data` is empty: no embedding returned").at("$.data"))
        }
        Ok(items) => {
            for (k, item) in items.iter().enumerate() {
                if item.get("object").and_then(Value::as_str) != Some("embedding") {
                    out.push(
                        CheckResult::fail(
                            C,
                            format!(
                                "`object` is {}, expected \"embedding\"",
                                shown(item.get("object"))
                            ),
                        )
                        .at(format!("$.data[{k}].object")),
                    );
                }
                if !item.get("index").is_some_and(Value::is_u64) {
                    out.push(
                        CheckResult::fail(
                            C,
                            format!(
                                "`index` is {}, expected a non-negative integer",
                                shown(item.get("index"))
                            ),
                        )
                        .at(format!("$.data[{k}].index")),
                    );
                }
                if item.get("embedding").is_none_or(Value::is_null) {
                    out.push(CheckResult::fail(C, "`embedding` is missing or null").at(at(k)));
                }
                if out.len() >= MAX_ITEM_PROBLEMS {
                    break;
                }
            }
        }
    }
    out.extend(usage(C, body));
    if out.is_empty() {
        out.push(CheckResult::pass(C, "embedding list with usage"));
    }
    out
}

fn usage(check: &str, body: &Value) -> Vec<CheckResult> {
    let Some(u) = body.get("usage").filter(|u| !u.is_null()) else {
        return vec![
            CheckResult::fail(
                check,
                "`usage` is missing (token accounting unavailable, B4)",
            )
            .at("$.usage"),
        ];
    };
    let mut out = Vec::new();
    let field = |k: &str| match u.get(k) {
        Some(v) if v.is_u64() => Ok(v.as_u64().unwrap_or(0)),
        other => Err(CheckResult::fail(
            check,
            format!(
                "usage.{k} is {}, expected a non-negative integer",
                shown(other)
            ),
        )
        .at(format!("$.usage.{k}"))),
    };
    match (field("prompt_tokens"), field("total_tokens")) {
        (Ok(p), Ok(t)) => {
            if t < p {
                out.push(
                    CheckResult::fail(check, format!("total_tokens {t} < prompt_tokens {p}"))
                        .at("$.usage.total_tokens"),
                );
            }
            if p == 0 {
                out.push(
                    CheckResult::warn(
                        check,
                        "usage.prompt_tokens is 0 for a non-empty input (costs read as zero)",
                    )
                    .at("$.usage.prompt_tokens"),
                );
            }
        }
        (p, t) => out.extend([p.err(), t.err()].into_iter().flatten()),
    }
    out
}

fn count(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "embeddings.count";
    let Some(want) = inputs(i).map(|v| v.len()) else {
        return vec![CheckResult::fail(
            C,
            "the request has no `input` string or array (suite error)",
        )];
    };
    let items = match data(C, i) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    if items.len() != want {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "{} embedding(s) for {want} input(s){}",
                    items.len(),
                    if items.len() == 1 && want > 1 {
                        " (one vector for the whole batch)"
                    } else {
                        ""
                    }
                ),
            )
            .at("$.data")
            .expected(want.to_string())
            .actual(items.len().to_string()),
        );
    }
    let indices: Vec<Option<u64>> = items
        .iter()
        .map(|d| d.get("index").and_then(Value::as_u64))
        .collect();
    let mut sorted: Vec<u64> = indices.iter().flatten().copied().collect();
    sorted.sort_unstable();
    let expected: Vec<u64> = (0..items.len() as u64).collect();
    if sorted != expected {
        out.push(
            CheckResult::fail(
                C,
                format!(
                    "indices are {}, expected each of 0..{} once",
                    show_indices(&indices),
                    items.len()
                ),
            )
            .at("$.data[*].index"),
        );
    } else if indices
        .iter()
        .flatten()
        .copied()
        .ne(expected.iter().copied())
    {
        // Correct as a set but out of order: clients that pair by position, not by
        // `index`, mismatch vectors and inputs.
        out.push(
            CheckResult::warn(
                C,
                format!(
                    "items are out of input order (indices {})",
                    show_indices(&indices)
                ),
            )
            .at("$.data[*].index"),
        );
    }
    if out.iter().all(|r| r.status != CheckStatus::Fail) {
        out.push(CheckResult::pass(
            C,
            format!("{want} embedding(s), indices 0..{want}"),
        ));
    }
    out
}

fn show_indices(indices: &[Option<u64>]) -> String {
    let shown: Vec<String> = indices
        .iter()
        .take(12)
        .map(|i| i.map_or("?".into(), |i| i.to_string()))
        .collect();
    let more = if indices.len() > 12 { ", …" } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

/// Why an embedding is not a vector of the requested form (the check's reason, after
/// "embedding is …"): a finding about the response, kept as data.
#[derive(Debug, thiserror::Error)]
enum NotAVector {
    #[error("a base64 string where a float array was requested (or is the API default)")]
    Base64WhereFloats,
    #[error("{0}, expected an array of numbers")]
    NotAnArray(&'static str),
    #[error("an empty vector")]
    Empty,
    #[error("component {index} is {shown}, expected a finite number")]
    NotANumber { index: usize, shown: String },
    #[error(
        "a float array of {len} values where base64 was requested (B1: `encoding_format` ignored; an SDK that decodes it as base64 silently gets about {garbage} garbage values)",
        garbage = len / 4
    )]
    FloatsWhereBase64 { len: usize },
    #[error("{0}, expected a base64 string")]
    NotAString(&'static str),
    #[error("uses the base64url alphabet (`-`/`_`), not standard base64 ({0})")]
    Base64Url(base64::DecodeError),
    #[error("is not valid base64: {0}")]
    Base64(base64::DecodeError),
    #[error("decodes to zero bytes (an empty vector)")]
    NoBytes,
    #[error("decodes to {0} bytes, not a multiple of 4 (not float32 values)")]
    NotFloat32(usize),
    #[error("float32 component {index} is {value} (NaN or infinite; big-endian or not float32?)")]
    NotFinite { index: usize, value: f32 },
}

/// One embedding as a float array, or why it is not one.
fn float_array(v: &Value) -> Result<Vec<f64>, NotAVector> {
    let Value::Array(xs) = v else {
        return Err(match v {
            Value::String(_) => NotAVector::Base64WhereFloats,
            other => NotAVector::NotAnArray(type_name(other)),
        });
    };
    if xs.is_empty() {
        return Err(NotAVector::Empty);
    }
    let mut out = Vec::with_capacity(xs.len());
    for (index, x) in xs.iter().enumerate() {
        match x.as_f64() {
            Some(f) if f.is_finite() => out.push(f),
            _ => {
                return Err(NotAVector::NotANumber {
                    index,
                    shown: show(x),
                });
            }
        }
    }
    Ok(out)
}

/// One embedding as base64 little-endian float32, or why it is not one.
fn base64_floats(v: &Value) -> Result<Vec<f64>, NotAVector> {
    let s = match v {
        Value::String(s) => s,
        Value::Array(xs) => return Err(NotAVector::FloatsWhereBase64 { len: xs.len() }),
        other => return Err(NotAVector::NotAString(type_name(other))),
    };
    let bytes = match STANDARD.decode(s) {
        Ok(b) => b,
        Err(e) if URL_SAFE.decode(s).is_ok() => return Err(NotAVector::Base64Url(e)),
        Err(e) => return Err(NotAVector::Base64(e)),
    };
    if bytes.is_empty() {
        return Err(NotAVector::NoBytes);
    }
    if bytes.len() % 4 != 0 {
        return Err(NotAVector::NotFloat32(bytes.len()));
    }
    let mut out = Vec::with_capacity(bytes.len() / 4);
    for (index, c) in bytes.chunks_exact(4).enumerate() {
        let value = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        if !value.is_finite() {
            return Err(NotAVector::NotFinite { index, value });
        }
        out.push(value as f64);
    }
    Ok(out)
}

/// Decode every embedding in whatever form it came, for checks about lengths and values.
fn any_form(v: &Value) -> Result<Vec<f64>, NotAVector> {
    match v {
        Value::String(_) => base64_floats(v),
        _ => float_array(v),
    }
}

/// Decode each `data[k].embedding` with `decode`, reporting problems (at most a few) and
/// whether the decoded vectors share one length.
fn decode_all(
    check: &str,
    items: &[Value],
    decode: fn(&Value) -> Result<Vec<f64>, NotAVector>,
    out: &mut Vec<CheckResult>,
) -> Vec<(usize, Vec<f64>)> {
    let mut vectors = Vec::new();
    let mut problems = 0;
    for (k, item) in items.iter().enumerate() {
        let v = item.get("embedding").unwrap_or(&Value::Null);
        match decode(v) {
            Ok(vec) => vectors.push((k, vec)),
            Err(why) if problems < MAX_ITEM_PROBLEMS => {
                problems += 1;
                out.push(CheckResult::fail(check, format!("embedding is {why}")).at(at(k)));
            }
            Err(_) => {}
        }
    }
    // Every vector of one request comes from one model: lengths must agree.
    if let Some((_, first)) = vectors.first() {
        let n = first.len();
        if let Some((k, other)) = vectors.iter().find(|(_, v)| v.len() != n) {
            out.push(
                CheckResult::fail(
                    check,
                    format!(
                        "vectors differ in length: {n} at data[0] but {} at data[{k}]",
                        other.len()
                    ),
                )
                .at(at(*k)),
            );
        }
    }
    vectors
}

fn float(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "embeddings.float";
    if let Some(f) = encoding_format(i).filter(|f| *f != "float") {
        return vec![CheckResult::fail(
            C,
            format!(
                "the request asks for `encoding_format: {f}` (suite error: use embeddings.base64)"
            ),
        )];
    }
    let items = match data(C, i) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    let vectors = decode_all(C, items, float_array, &mut out);
    if out.is_empty() {
        let n = vectors.first().map_or(0, |(_, v)| v.len());
        out.push(CheckResult::pass(
            C,
            format!("{} float vector(s) of {n} values", vectors.len()),
        ));
    }
    out
}

fn base64_vectors(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "embeddings.base64";
    if encoding_format(i) != Some("base64") {
        return vec![CheckResult::fail(
            C,
            "the request does not set `encoding_format: base64` (suite error)",
        )];
    }
    let items = match data(C, i) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    let vectors = decode_all(C, items, base64_floats, &mut out);
    // Without `dimensions` the right length is whatever the model's native size is; with it,
    // the decoded float count must be exactly the requested size.
    if let Some(d) = requested_dimensions(i) {
        out.extend(length_mismatches(C, &vectors, d));
    }
    if out.is_empty() {
        let n = vectors.first().map_or(0, |(_, v)| v.len());
        out.push(CheckResult::pass(
            C,
            format!("{} base64 vector(s) of {n} float32 values", vectors.len()),
        ));
    }
    out
}

fn length_mismatches(check: &str, vectors: &[(usize, Vec<f64>)], want: u64) -> Vec<CheckResult> {
    vectors
        .iter()
        .filter(|(_, v)| v.len() as u64 != want)
        .take(MAX_ITEM_PROBLEMS)
        .map(|(k, v)| {
            CheckResult::fail(
                check,
                format!(
                    "vector has {} components, `dimensions: {want}` was requested (B3: dimensions ignored)",
                    v.len()
                ),
            )
            .at(at(*k))
            .expected(want.to_string())
            .actual(v.len().to_string())
        })
        .collect()
}

fn dimensions(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "embeddings.dimensions";
    let Some(want) = requested_dimensions(i) else {
        return vec![CheckResult::fail(
            C,
            "the request sets no `dimensions` (suite error)",
        )];
    };
    let items = match data(C, i) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    let vectors = decode_all(C, items, any_form, &mut out);
    out.extend(length_mismatches(C, &vectors, want));
    // OpenAI's shortened text-embedding-3 vectors stay unit length, so dot product equals
    // cosine; Gemini's reduced (MRL) vectors reportedly are not (B3). Worth knowing, not a
    // wire-format failure.
    if out.is_empty()
        && let Some((k, norm)) = vectors
            .iter()
            .map(|(k, v)| (*k, v.iter().map(|x| x * x).sum::<f64>().sqrt()))
            .find(|(_, n)| (n - 1.0).abs() > 1e-3)
    {
        out.push(
            CheckResult::warn(
                C,
                format!(
                    "reduced vector is not L2-normalised (norm {norm:.4}): dot product ≠ cosine"
                ),
            )
            .at(at(k)),
        );
    }
    if out.iter().all(|r| r.status != CheckStatus::Fail) {
        out.push(CheckResult::pass(
            C,
            format!("{} vector(s) of {want} components", vectors.len()),
        ));
    }
    out
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        // Zero vectors have no direction: only two zero vectors count as the same.
        return if na == nb { 1.0 } else { 0.0 };
    }
    dot / (na * nb)
}

/// A check sees one exchange, so "the same input twice" is one request repeating an input: the
/// server embeds both copies independently (batching does not make them share a result unless
/// the server deduplicates, which is itself deterministic), and the vectors must agree.
fn deterministic(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "embeddings.deterministic";
    let Some(ins) = inputs(i) else {
        return vec![CheckResult::fail(
            C,
            "the request has no `input` array (suite error)",
        )];
    };
    let pairs: Vec<(usize, usize)> = (0..ins.len())
        .flat_map(|a| (a + 1..ins.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| ins[a] == ins[b])
        .collect();
    if pairs.is_empty() {
        return vec![CheckResult::fail(
            C,
            "the request repeats no input (suite error: send the same text twice)",
        )];
    }
    let items = match data(C, i) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    // Pair vectors with inputs by `index`, as clients do.
    let mut by_index: Vec<Option<Vec<f64>>> = vec![None; ins.len()];
    let mut out = Vec::new();
    for (k, item) in items.iter().enumerate() {
        let Some(idx) = item
            .get("index")
            .and_then(Value::as_u64)
            .map(|x| x as usize)
            .filter(|x| *x < ins.len())
        else {
            continue;
        };
        match any_form(item.get("embedding").unwrap_or(&Value::Null)) {
            Ok(v) => by_index[idx] = Some(v),
            Err(why) => out.push(CheckResult::fail(C, format!("embedding is {why}")).at(at(k))),
        }
    }
    if !out.is_empty() {
        return out;
    }
    for &(a, b) in &pairs {
        let (Some(va), Some(vb)) = (&by_index[a], &by_index[b]) else {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "no embedding with index {} (cannot compare inputs {a} and {b})",
                        if by_index[a].is_none() { a } else { b }
                    ),
                )
                .at("$.data[*].index"),
            );
            continue;
        };
        if va.len() != vb.len() {
            out.push(CheckResult::fail(
                C,
                format!(
                    "the same input gave vectors of {} and {} components (index {a} and {b})",
                    va.len(),
                    vb.len()
                ),
            ));
            continue;
        }
        let cos = cosine(va, vb);
        if cos < SAME_VECTOR_COSINE {
            out.push(
                CheckResult::fail(
                    C,
                    format!("the same input gave different vectors: cosine {cos:.6} between index {a} and {b} (expected ≥ {SAME_VECTOR_COSINE})"),
                )
                .expected(format!("≥ {SAME_VECTOR_COSINE}"))
                .actual(format!("{cos:.6}")),
            );
        }
    }
    // The converse is content, not format, so only a warning: a constant vector for every
    // input passes the comparison above trivially and usually means a stub behind the API.
    let distinct = (0..ins.len())
        .flat_map(|a| (a + 1..ins.len()).map(move |b| (a, b)))
        .find(|&(a, b)| {
            ins[a] != ins[b] && matches!((&by_index[a], &by_index[b]), (Some(x), Some(y)) if x == y)
        });
    if let Some((a, b)) = distinct {
        out.push(CheckResult::warn(
            C,
            format!(
                "different inputs {a} and {b} gave identical vectors (the input seems ignored)"
            ),
        ));
    }
    if out.iter().all(|r| r.status != CheckStatus::Fail) {
        out.push(CheckResult::pass(
            C,
            format!(
                "{} repeated input pair(s) gave the same vector",
                pairs.len()
            ),
        ));
    }
    out
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None => "missing".into(),
        Some(v) => show(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(xs: &[f32]) -> Value {
        let bytes: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
        Value::String(STANDARD.encode(bytes))
    }

    #[test]
    fn base64_decodes_little_endian_float32() {
        assert_eq!(base64_floats(&b64(&[0.5, -1.0])).unwrap(), vec![0.5, -1.0]);
        let err = base64_floats(&json!([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("B1") && err.contains("about 2 garbage"),
            "{err}"
        );
        let odd = Value::String(STANDARD.encode([1u8, 2, 3, 4, 5, 6]));
        assert!(
            base64_floats(&odd)
                .unwrap_err()
                .to_string()
                .contains("not a multiple of 4")
        );
        let nan = b64(&[f32::NAN]);
        assert!(base64_floats(&nan).unwrap_err().to_string().contains("NaN"));
        assert!(
            base64_floats(&json!("@@@"))
                .unwrap_err()
                .to_string()
                .contains("not valid base64")
        );
        // 0xfb 0xff 0xbf 0x3f encodes as "-_-_P..." in base64url and "+/+/P..." in standard.
        let url = Value::String(URL_SAFE.encode([0xfbu8, 0xff, 0xfb, 0xff]));
        assert!(
            base64_floats(&url)
                .unwrap_err()
                .to_string()
                .contains("base64url")
        );
    }

    #[test]
    fn float_arrays_refuse_nulls_strings_and_empties() {
        assert!(float_array(&json!([0.1, 1])).is_ok());
        assert!(
            float_array(&json!([0.1, null]))
                .unwrap_err()
                .to_string()
                .contains("component 1")
        );
        assert!(
            float_array(&json!([]))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            float_array(&json!("AAAA"))
                .unwrap_err()
                .to_string()
                .contains("base64 string")
        );
    }

    #[test]
    fn cosine_of_equal_and_opposite_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-12);
        assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0], &[0.0]), 1.0);
    }
}
