//! The `embeddings` suite against a scripted embeddings server: the conformant server passes
//! every case, and each deviation (QUIRKS B1, B3, B4, a single vector for a batch, …) fails the
//! check that names it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::*;

/// One way of deviating from OpenAI's `/embeddings` behaviour.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dev {
    None,
    NoUsage,
    ZeroUsage,
    /// One vector whatever the number of inputs (a LiteLLM-style mock).
    OneVector,
    SameIndex,
    Reversed,
    /// base64 strings although float was asked for.
    Base64ForFloat,
    EmptyVector,
    RaggedLengths,
    /// B1: `encoding_format: base64` ignored.
    IgnoreBase64,
    /// B1 variant: base64 refused with a 400 naming the parameter.
    RefuseBase64,
    UrlSafe,
    OddBytes,
    NanFloat32,
    /// B3: `dimensions` ignored.
    IgnoreDimensions,
    Unnormalised,
    /// Different vectors for the same text.
    Noisy,
    /// The same vector for every text.
    Constant,
    /// An empty input embedded instead of refused.
    EmbedsEmpty,
}

/// The native vector length of the scripted model.
const NATIVE: usize = 16;

/// A deterministic unit vector for `text` (FNV-1a per component), or noise when `salt` varies.
fn vector(text: &str, dims: usize, salt: u64) -> Vec<f32> {
    let raw: Vec<f64> = (0..dims)
        .map(|j| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
            for b in text.bytes().chain((j as u32).to_le_bytes()) {
                h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
            (h % 2001) as f64 / 1000.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-9);
    raw.iter().map(|x| (x / norm) as f32).collect()
}

fn b64(xs: &[f32]) -> String {
    STANDARD.encode(xs.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
}

fn respond(dev: Dev, req: &Request) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let texts: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect(),
        _ => vec![],
    };
    if dev == Dev::RefuseBase64 && body["encoding_format"] == "base64" {
        return ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "encoding_format 'base64' is not supported", "type": "invalid_request_error",
            "param": "encoding_format", "code": null}}));
    }
    if texts.iter().any(String::is_empty) && dev != Dev::EmbedsEmpty {
        return ResponseTemplate::new(400).set_body_json(error_envelope(
            "Invalid 'input': empty string.",
            "invalid_request_error",
            None,
        ));
    }
    let base64 = body["encoding_format"] == "base64" && dev != Dev::IgnoreBase64;
    let dims = match body["dimensions"].as_u64() {
        Some(d) if dev != Dev::IgnoreDimensions => d as usize,
        _ => NATIVE,
    };
    let mut data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let salt = if dev == Dev::Noisy { i as u64 + 1 } else { 0 };
            let text = if dev == Dev::Constant { "constant" } else { t };
            let mut v = vector(
                text,
                if dev == Dev::RaggedLengths {
                    dims + i
                } else {
                    dims
                },
                salt,
            );
            if dev == Dev::Unnormalised {
                v.iter_mut().for_each(|x| *x *= 3.0);
            }
            let embedding = match dev {
                Dev::EmptyVector => json!([]),
                Dev::UrlSafe => {
                    // These bytes encode to `-`/`_` in base64url and `+`/`/` in standard.
                    json!(URL_SAFE.encode([0xfbu8, 0xff, 0xfb, 0x3f].repeat(dims)))
                }
                Dev::OddBytes => json!(STANDARD.encode([1u8, 2, 3, 4, 5, 6])),
                Dev::NanFloat32 => json!(b64(&[0.5, f32::NAN])),
                Dev::Base64ForFloat => json!(b64(&v)),
                _ if base64 => json!(b64(&v)),
                _ => json!(v),
            };
            let index = if dev == Dev::SameIndex { 0 } else { i };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    if dev == Dev::OneVector {
        data.truncate(1);
    }
    if dev == Dev::Reversed {
        data.reverse();
    }
    let tokens = if dev == Dev::ZeroUsage {
        0
    } else {
        3 * texts.len()
    };
    let mut out = json!({"object": "list", "data": data, "model": "m",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}});
    if dev == Dev::NoUsage {
        out.as_object_mut().unwrap().remove("usage");
    }
    ResponseTemplate::new(200).set_body_json(out)
}

async fn server(dev: Dev) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(move |req: &Request| respond(dev, req))
        .mount(&server)
        .await;
    server
}

/// Run the whole embeddings suite (or one case of it) against the scripted server.
async fn run(dev: Dev, filter: Option<&str>) -> RunOutput {
    let server = server(dev).await;
    let base = format!("{}/v1", server.uri());
    let mut args = vec![
        "run",
        "--suite",
        "embeddings",
        "--base-url",
        &base,
        "--model",
        "embedding=m",
    ];
    if let Some(f) = filter {
        args.extend(["--filter", f]);
    }
    run_cli(&args, &[]).await
}

/// The non-passing check results of `suite/case` on the ad-hoc target, as `(check, status,
/// reason)` — the outcome's reason shows only the first failure (often the schema's), so tests
/// look for the named check here.
pub(crate) fn non_passing(out: &RunOutput, case: &str) -> Vec<(String, String, String)> {
    let (suite, id) = case.split_once('/').unwrap();
    let report = out.report();
    let r = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["suite"] == suite && r["case"] == id)
        .unwrap_or_else(|| panic!("no result for {case}\n{}\n{}", out.stdout, out.stderr));
    r["checks"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
                    let at = if c["at"].is_string() {
                        format!(" (at {})", s("at"))
                    } else {
                        String::new()
                    };
                    (s("check"), s("status"), format!("{}{at}", s("message")))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Assert the case's outcome, and that `check` reported `status` with a reason containing `part`.
pub(crate) fn assert_check(
    out: &RunOutput,
    case: &str,
    outcome: &str,
    check: &str,
    status: &str,
    part: &str,
) {
    let (got, reason) = out.outcome("adhoc", case);
    let checks = non_passing(out, case);
    assert_eq!(
        got, outcome,
        "{case}: reason {reason:?}, checks {checks:#?}"
    );
    assert!(
        checks
            .iter()
            .any(|(c, s, m)| c == check && s == status && m.contains(part)),
        "{case}: no {status} of {check} containing {part:?} in {checks:#?}"
    );
}

fn assert_all_pass(out: &RunOutput) {
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{}\n{}", out.stdout, out.stderr);
    for r in results {
        assert_eq!(
            r["outcome"], "pass",
            "{} {}: {}",
            r["suite"], r["case"], r["reason"]
        );
    }
}

#[tokio::test]
async fn suite_passes_on_the_builtin_reference() {
    let out = run_cli(&["run", "--suite", "embeddings"], &[]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_all_pass(&out);
    assert_eq!(out.report()["results"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn suite_passes_on_a_conformant_server() {
    let out = run(Dev::None, None).await;
    assert_all_pass(&out);
}

#[tokio::test]
async fn response_names_missing_or_zero_usage() {
    let out = run(Dev::NoUsage, Some("embeddings/single")).await;
    assert_check(
        &out,
        "embeddings/single",
        "fail",
        "embeddings.response",
        "fail",
        "`usage` is missing",
    );
    let out = run(Dev::ZeroUsage, Some("embeddings/single")).await;
    assert_check(
        &out,
        "embeddings/single",
        "pass",
        "embeddings.response",
        "warn",
        "prompt_tokens is 0",
    );
}

#[tokio::test]
async fn count_catches_one_vector_for_a_batch_and_bad_indices() {
    let out = run(Dev::OneVector, Some("embeddings/batch")).await;
    assert_check(
        &out,
        "embeddings/batch",
        "fail",
        "embeddings.count",
        "fail",
        "one vector for the whole batch",
    );
    let out = run(Dev::SameIndex, Some("embeddings/batch")).await;
    assert_check(
        &out,
        "embeddings/batch",
        "fail",
        "embeddings.count",
        "fail",
        "indices are [0, 0, 0]",
    );
    let out = run(Dev::Reversed, Some("embeddings/batch")).await;
    assert_check(
        &out,
        "embeddings/batch",
        "pass",
        "embeddings.count",
        "warn",
        "out of input order",
    );
}

#[tokio::test]
async fn float_catches_base64_strings_empty_and_ragged_vectors() {
    let out = run(Dev::Base64ForFloat, Some("embeddings/float")).await;
    assert_check(
        &out,
        "embeddings/float",
        "fail",
        "embeddings.float",
        "fail",
        "base64 string where a float array",
    );
    let out = run(Dev::EmptyVector, Some("embeddings/single")).await;
    assert_check(
        &out,
        "embeddings/single",
        "fail",
        "embeddings.float",
        "fail",
        "empty vector",
    );
    let out = run(Dev::RaggedLengths, Some("embeddings/batch")).await;
    assert_check(
        &out,
        "embeddings/batch",
        "fail",
        "embeddings.float",
        "fail",
        "differ in length",
    );
}

#[tokio::test]
async fn base64_ignored_is_b1_and_refused_is_unsupported() {
    let out = run(Dev::IgnoreBase64, Some("embeddings/base64")).await;
    assert_check(
        &out,
        "embeddings/base64",
        "fail",
        "embeddings.base64",
        "fail",
        "B1: `encoding_format` ignored",
    );
    assert_check(
        &out,
        "embeddings/base64",
        "fail",
        "embeddings.base64",
        "fail",
        "about 4 garbage values",
    );
    let out = run(Dev::RefuseBase64, Some("embeddings/base64")).await;
    let (outcome, reason) = out.outcome("adhoc", "embeddings/base64");
    assert_eq!(outcome, "unsupported", "{reason}");
    assert!(reason.contains("not supported"), "{reason}");
}

#[tokio::test]
async fn base64_catches_bad_encodings() {
    let out = run(Dev::UrlSafe, Some("embeddings/base64")).await;
    assert_check(
        &out,
        "embeddings/base64",
        "fail",
        "embeddings.base64",
        "fail",
        "base64url",
    );
    let out = run(Dev::OddBytes, Some("embeddings/base64")).await;
    assert_check(
        &out,
        "embeddings/base64",
        "fail",
        "embeddings.base64",
        "fail",
        "not a multiple of 4",
    );
    let out = run(Dev::NanFloat32, Some("embeddings/base64")).await;
    assert_check(
        &out,
        "embeddings/base64",
        "fail",
        "embeddings.base64",
        "fail",
        "NaN",
    );
}

#[tokio::test]
async fn dimensions_ignored_is_b3_in_both_encodings() {
    let out = run(Dev::IgnoreDimensions, None).await;
    assert_check(
        &out,
        "embeddings/dimensions",
        "fail",
        "embeddings.dimensions",
        "fail",
        "`dimensions: 64` was requested (B3",
    );
    assert_check(
        &out,
        "embeddings/base64-dimensions",
        "fail",
        "embeddings.base64",
        "fail",
        "`dimensions: 32` was requested (B3",
    );
    assert_check(
        &out,
        "embeddings/base64-dimensions",
        "fail",
        "embeddings.dimensions",
        "fail",
        "16 components",
    );
    // Cases without `dimensions` are unaffected.
    assert_eq!(out.outcome("adhoc", "embeddings/single").0, "pass");
}

#[tokio::test]
async fn dimensions_warns_on_unnormalised_vectors() {
    let out = run(Dev::Unnormalised, Some("embeddings/dimensions")).await;
    assert_check(
        &out,
        "embeddings/dimensions",
        "pass",
        "embeddings.dimensions",
        "warn",
        "not L2-normalised",
    );
}

#[tokio::test]
async fn deterministic_catches_different_vectors_for_the_same_text() {
    let out = run(Dev::Noisy, Some("embeddings/deterministic")).await;
    assert_check(
        &out,
        "embeddings/deterministic",
        "fail",
        "embeddings.deterministic",
        "fail",
        "the same input gave different vectors",
    );
    let out = run(Dev::Constant, Some("embeddings/deterministic")).await;
    assert_check(
        &out,
        "embeddings/deterministic",
        "pass",
        "embeddings.deterministic",
        "warn",
        "identical vectors",
    );
}

#[tokio::test]
async fn empty_input_embedded_instead_of_refused_fails() {
    let out = run(Dev::EmbedsEmpty, Some("embeddings/empty-input")).await;
    let (outcome, reason) = out.outcome("adhoc", "embeddings/empty-input");
    assert_eq!(outcome, "fail", "{reason}");
    assert!(reason.contains("HTTP 200"), "{reason}");
}
