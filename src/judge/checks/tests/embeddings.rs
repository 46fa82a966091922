//! `embeddings.*`.

use base64::Engine;
use serde_json::{Value, json};

use super::kit::{Row, json, table};

fn b64(xs: &[f32]) -> Value {
    let bytes: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn list(vectors: Vec<Value>) -> crate::execute::exchange::Response {
    json(
        200,
        json!({
            "object": "list",
            "model": "e",
            "data": vectors.into_iter().enumerate().map(|(k, v)| json!({"object": "embedding", "index": k, "embedding": v})).collect::<Vec<_>>(),
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
        }),
    )
}

#[test]
fn embeddings() {
    let two = json!({"model": "e", "input": ["cat", "dog"]});
    let same = json!({"model": "e", "input": ["cat", "cat"]});
    let base64 = json!({"model": "e", "input": ["cat", "dog"], "encoding_format": "base64"});
    let dims = json!({"model": "e", "input": ["cat", "dog"], "dimensions": 2});
    let p = "/embeddings";
    let rows = vec![
        Row::new("two float vectors", &["embeddings.response", "embeddings.count", "embeddings.float"], two.clone(), list(vec![json!([0.6, 0.8]), json!([0.8, 0.6])])).path(p),
        Row::new("one vector for two inputs, no usage", &["embeddings.response", "embeddings.count"], two.clone(), json(200, json!({"object": "list", "model": "e", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}]}))).path(p),
        Row::new("zero usage for real input", &["embeddings.response"], two.clone(), json(200, json!({"object": "list", "model": "e", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}, {"object": "embedding", "index": 1, "embedding": [0.2]}], "usage": {"prompt_tokens": 0, "total_tokens": 0}}))).path(p),
        Row::new("a null and a string component, lengths differ", &["embeddings.float"], two.clone(), list(vec![json!([0.1, null]), json!(["0.2"])])).path(p),
        Row::new("base64 where floats were asked", &["embeddings.float"], two.clone(), list(vec![b64(&[0.6, 0.8]), b64(&[0.8, 0.6])])).path(p),
        Row::new("base64: decodes", &["embeddings.base64"], base64.clone(), list(vec![b64(&[0.6, 0.8]), b64(&[0.8, 0.6])])).path(p),
        Row::new("base64: a float array instead (B1)", &["embeddings.base64"], base64, list(vec![json!([0.6, 0.8]), json!([0.8, 0.6])])).path(p),
        Row::new("dimensions: honoured", &["embeddings.dimensions"], dims.clone(), list(vec![json!([0.6, 0.8]), json!([0.8, 0.6])])).path(p),
        Row::new("dimensions: ignored (B3)", &["embeddings.dimensions"], dims.clone(), list(vec![json!([0.6, 0.8, 0.0]), json!([0.8, 0.6, 0.0])])).path(p),
        Row::new("dimensions: not normalised", &["embeddings.dimensions"], dims, list(vec![json!([3.0, 4.0]), json!([4.0, 3.0])])).path(p),
        Row::new("deterministic: same input, same vector", &["embeddings.deterministic"], same.clone(), list(vec![json!([0.6, 0.8]), json!([0.6, 0.8])])).path(p),
        Row::new("deterministic: same input, another vector", &["embeddings.deterministic"], same, list(vec![json!([0.6, 0.8]), json!([0.8, -0.6])])).path(p),
        Row::new("deterministic: different inputs, one vector", &["embeddings.deterministic"], two, list(vec![json!([0.6, 0.8]), json!([0.6, 0.8])])).path(p),
    ];
    insta::assert_snapshot!(table(&rows));
}
