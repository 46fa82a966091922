//! Embeddings (float, base64, dimensions, batches, errors) and image generation.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[tokio::test]
async fn single_and_batch_float_embeddings() {
    let app = app(Profile::OpenAi);
    let r = post(
        &app,
        "/v1/embeddings",
        &json!({"model": "ref-embed", "input": "hello world"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "ref-embed");
    assert_eq!(v["data"][0]["object"], "embedding");
    assert_eq!(v["data"][0]["index"], 0);
    let e = floats(&v["data"][0]["embedding"]);
    assert_eq!(e.len(), 256);
    assert!((norm(&e) - 1.0).abs() < 1e-4);
    assert_eq!(v["usage"], json!({"prompt_tokens": 2, "total_tokens": 2}));

    let v = post(
        &app,
        "/v1/embeddings",
        &json!({"model": "ref-embed", "input": ["a", "b", "hello world"]}),
    )
    .await
    .json();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["index"], i);
    }
    // Same input, same vector.
    assert_eq!(floats(&data[2]["embedding"]), e);
    let v = post(
        &app,
        "/v1/embeddings",
        &json!({"model": "ref-embed", "input": [[1, 2, 3], [4]]}),
    )
    .await
    .json();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let v = post(
        &app,
        "/v1/embeddings",
        &json!({"model": "ref-embed", "input": [1, 2, 3]}),
    )
    .await
    .json();
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn base64_round_trips_with_dimensions() {
    let app = app(Profile::OpenAi);
    let body = json!({"model": "ref-embed", "input": "hello", "encoding_format": "base64", "dimensions": 64});
    let v = post(&app, "/v1/embeddings", &body).await.json();
    let bytes = STANDARD
        .decode(v["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len(), 64 * 4);
    let decoded: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert!((norm(&decoded) - 1.0).abs() < 1e-4);
    let float = post(
        &app,
        "/v1/embeddings",
        &json!({"model": "ref-embed", "input": "hello", "dimensions": 64}),
    )
    .await
    .json();
    assert_eq!(floats(&float["data"][0]["embedding"]), decoded);
}

#[tokio::test]
async fn embedding_errors() {
    let app = app(Profile::OpenAi);
    for (body, param) in [
        (json!({"model": "ref-embed", "input": ""}), Some("input")),
        (json!({"model": "ref-embed", "input": []}), Some("input")),
        (json!({"model": "ref-embed"}), Some("input")),
        (
            json!({"model": "ref-embed", "input": "x", "dimensions": 0}),
            Some("dimensions"),
        ),
        (
            json!({"model": "ref-embed", "input": "x", "dimensions": 257}),
            Some("dimensions"),
        ),
        (
            json!({"model": "ref-embed", "input": "x", "encoding_format": "int8"}),
            Some("encoding_format"),
        ),
    ] {
        assert_openai_error(&post(&app, "/v1/embeddings", &body).await, 400, param);
    }
    let r = post(
        &app,
        "/v1/embeddings",
        &json!({"model": "text-embedding-nope", "input": "x"}),
    )
    .await;
    assert_openai_error(&r, 404, None);
}

#[tokio::test]
async fn image_generation_returns_png() {
    let app = app(Profile::OpenAi);
    let v = post(&app, "/v1/images/generations", &json!({"prompt": "a red square", "n": 2, "response_format": "b64_json", "size": "1024x1024"})).await.json();
    assert!(v["created"].is_u64());
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let png = STANDARD
        .decode(data[0]["b64_json"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    let v = post(
        &app,
        "/v1/images/generations",
        &json!({"prompt": "a red square", "model": "ref-image", "response_format": "url"}),
    )
    .await
    .json();
    let url = v["data"][0]["url"].as_str().unwrap();
    assert!(url.starts_with("http://"));
    let path = &url[url.find("/v1/").unwrap()..];
    let r = get(&app, path).await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"\x89PNG"));

    assert_openai_error(
        &post(&app, "/v1/images/generations", &json!({"n": 1})).await,
        400,
        Some("prompt"),
    );
    assert_openai_error(
        &post(
            &app,
            "/v1/images/generations",
            &json!({"prompt": "x", "size": "7x7"}),
        )
        .await,
        400,
        Some("size"),
    );
}
