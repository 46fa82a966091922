//! `images.*`.

use base64::Engine;
use serde_json::json;

use super::kit::{Row, json, table};

#[test]
fn images() {
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\n0000");
    let req = json!({"model": "m", "prompt": "a cat", "n": 1, "response_format": "b64_json"});
    let both = &["images.response", "images.b64_json"];
    let img = |created: i64, data: serde_json::Value| {
        json(200, json!({"created": created, "data": data}))
    };
    let rows = vec![
        Row::new(
            "a PNG",
            both,
            req.clone(),
            img(1_700_000_000, json!([{"b64_json": png}])),
        )
        .path("/images/generations"),
        Row::new(
            "created in milliseconds, two images for n 1",
            both,
            req.clone(),
            img(
                1_700_000_000_000,
                json!([{"b64_json": png}, {"b64_json": png}]),
            ),
        )
        .path("/images/generations"),
        Row::new(
            "a data: URI",
            both,
            req.clone(),
            img(
                1_700_000_000,
                json!([{"b64_json": format!("data:image/png;base64,{png}")}]),
            ),
        )
        .path("/images/generations"),
        Row::new(
            "a url instead (response_format ignored)",
            both,
            req.clone(),
            img(1_700_000_000, json!([{"url": "https://x/y.png"}])),
        )
        .path("/images/generations"),
        Row::new(
            "not an image",
            both,
            req.clone(),
            img(1_700_000_000, json!([{"b64_json": "aGVsbG8="}])),
        )
        .path("/images/generations"),
        Row::new("empty data", both, req, img(1_700_000_000, json!([])))
            .path("/images/generations"),
    ];
    insta::assert_snapshot!(table(&rows));
}
