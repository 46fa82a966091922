//! `POST /v1/embeddings`: deterministic, L2-normalised vectors seeded by a hash of the input.

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::body::JsonObject;
use crate::content::words;
use crate::deviation::{Deviation, Deviations};
use crate::errors::ApiError;
use crate::models::{self, Kind};
use crate::util::sha256;
use crate::validate::{field, opt_int, opt_str, req_str};
use crate::AppState;

/// The native (and maximum) vector length.
pub(crate) const DIMENSIONS: usize = 256;
/// OpenAI's limit on inputs per request.
const MAX_INPUTS: usize = 2048;

/// One input: the bytes that seed its vector, and its token count.
struct Input {
    seed: Vec<u8>,
    tokens: u64,
}

/// The handler.
pub(crate) async fn create(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    respond(state.config.deviations, &body.map).map(Json)
}

/// The embedding list for a request body (also a batch line's body).
pub(crate) fn respond(dev: Deviations, req: &Map<String, Value>) -> Result<Value, ApiError> {
    let model = req_str(field(req, "model"), "model")?;
    let inputs = parse_input(field(req, "input"))?;
    let dims = opt_int(
        field(req, "dimensions"),
        "dimensions",
        1,
        Some(DIMENSIONS as i64),
    )?
    .map_or(DIMENSIONS, |d| d as usize);
    // B3: `dimensions` is validated, then not followed.
    let dims = if dev.has(Deviation::DimensionsIgnored) {
        DIMENSIONS
    } else {
        dims
    };
    let base64 = match opt_str(field(req, "encoding_format"), "encoding_format")? {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid_enum(
                "encoding_format",
                other,
                &["float", "base64"],
            ))
        }
    };
    // B1: `base64` is accepted, and floats come back anyway.
    let base64 = base64 && !dev.has(Deviation::Base64Ignored);
    opt_str(field(req, "user"), "user")?;
    models::require(dev, model, Kind::Embedding)?;

    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = embed(&input.seed, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                Value::String(STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|i| i.tokens).sum();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": tokens, "total_tokens": tokens }
    }))
}

/// `input`: a string, an array of strings, an array of token ids, or an array of arrays of
/// token ids. Empty strings and empty arrays are refused.
fn parse_input(v: Option<&Value>) -> Result<Vec<Input>, ApiError> {
    let v = v.ok_or_else(|| ApiError::missing("input"))?;
    let empty_string = |param: &str| {
        ApiError::invalid_value(
            param,
            format!("Invalid '{param}': empty string. Expected a string with minimum length 1, but got an empty string instead."),
        )
    };
    let empty_array = |param: &str| {
        ApiError::invalid_value(
            param,
            format!("Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead."),
        )
    };
    let text = |s: &str, param: &str| -> Result<Input, ApiError> {
        if s.is_empty() {
            return Err(empty_string(param));
        }
        Ok(Input {
            seed: s.as_bytes().to_vec(),
            tokens: words(s).max(1),
        })
    };
    let token_ids = |items: &[Value], param: &str| -> Result<Input, ApiError> {
        if items.is_empty() {
            return Err(empty_array(param));
        }
        let mut seed = b"tokens:".to_vec();
        for (i, t) in items.iter().enumerate() {
            let id = t
                .as_u64()
                .ok_or_else(|| ApiError::invalid_type(&format!("{param}[{i}]"), "an integer", t))?;
            seed.extend_from_slice(&id.to_le_bytes());
        }
        Ok(Input {
            seed,
            tokens: items.len() as u64,
        })
    };
    match v {
        Value::String(s) => Ok(vec![text(s, "input")?]),
        Value::Array(items) if items.is_empty() => Err(empty_array("input")),
        Value::Array(items) if items.len() > MAX_INPUTS => Err(ApiError::bad_request(
            format!("Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS}, but got an array with length {} instead.", items.len()),
            Some("input"),
            Some("array_above_max_length"),
        )),
        Value::Array(items) if items.iter().all(Value::is_number) => Ok(vec![token_ids(items, "input")?]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let param = format!("input[{i}]");
                match item {
                    Value::String(s) => text(s, &param),
                    Value::Array(ids) => token_ids(ids, &param),
                    other => Err(ApiError::invalid_type(&param, "a string or an array of integers", other)),
                }
            })
            .collect(),
        other => Err(ApiError::invalid_type("input", "a string or an array", other)),
    }
}

/// The first `dims` components of the input's pseudo-random direction, L2-normalised.
pub(crate) fn embed(seed: &[u8], dims: usize) -> Vec<f32> {
    let mut raw: Vec<f64> = Vec::with_capacity(dims);
    let mut block = 0u32;
    while raw.len() < dims {
        let digest = sha256(&[b"embedding", seed, &block.to_le_bytes()]);
        for chunk in digest.chunks_exact(4) {
            if raw.len() == dims {
                break;
            }
            let u = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            raw.push(u as f64 / u32::MAX as f64 * 2.0 - 1.0);
        }
        block += 1;
    }
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 {
        // Unreachable in practice; a unit vector keeps the contract (no NaN) regardless.
        let mut unit = vec![0.0; dims];
        unit[0] = 1.0;
        return unit;
    }
    raw.iter().map(|x| (x / norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_deterministic() {
        for dims in [1, 3, 64, 256] {
            let v = embed(b"hello", dims);
            assert_eq!(v.len(), dims);
            let norm: f64 = v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
            assert!(v.iter().all(|x| x.is_finite()));
        }
        assert_eq!(embed(b"a", 8), embed(b"a", 8));
        assert_ne!(embed(b"a", 8), embed(b"b", 8));
    }
}
