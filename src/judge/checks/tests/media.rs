//! `vision.*` and `audio.*`.

use serde_json::{Value, json};

use super::kit::{Row, completion_with, json, said, table};

const IMAGE: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const AUDIO: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

fn with_image(url: Value) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "what is it?"}, {"type": "image_url", "image_url": url}]}]})
}

fn with_audio() -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "what is it?"}, {"type": "input_audio", "input_audio": {"data": AUDIO, "format": "wav"}}]}]})
}

fn answer(text: &str, details: Value) -> crate::execute::exchange::Response {
    json(
        200,
        completion_with(
            said(text),
            "stop",
            json!({"prompt_tokens": 100, "completion_tokens": 3, "total_tokens": 103, "prompt_tokens_details": details}),
        ),
    )
}

#[test]
fn media() {
    let img = with_image(json!({"url": format!("data:image/png;base64,{IMAGE}")}));
    let rows = vec![
        Row::new("vision: an answer", &["vision.not_stringified", "vision.usage"], img.clone(), answer("A red pixel.", json!({"image_tokens": 85}))),
        Row::new("vision: the image echoed as text", &["vision.not_stringified"], img.clone(), answer(&format!("You sent data:image/png;base64,{IMAGE}"), json!({}))),
        Row::new("vision: image tokens 0", &["vision.usage"], img.clone(), answer("A pixel.", json!({"image_tokens": 0}))),
        Row::new("vision: image tokens beyond the prompt", &["vision.usage"], img.clone(), answer("A pixel.", json!({"image_tokens": 500, "text_tokens": 10}))),
        Row::new("vision: a bare-string image_url accepted (M2)", &["vision.strict_part_validation"], with_image(json!(format!("data:image/png;base64,{IMAGE}"))), answer("A pixel.", json!({})))
            .expect("{ status: [200, 4xx], checks: [vision.strict_part_validation] }"),
        Row::new("vision: a bare-string image_url refused", &["vision.strict_part_validation"], with_image(json!(format!("data:image/png;base64,{IMAGE}"))), json(400, json!({"error": {"message": "expected an object, but got a string", "type": "invalid_request_error", "param": "messages.[0].content.[1].image_url", "code": null}})))
            .expect("{ status: [200, 4xx], checks: [vision.strict_part_validation] }"),
        Row::new("audio: an answer", &["audio.not_stringified", "audio.usage"], with_audio(), answer("Silence.", json!({"audio_tokens": 10}))),
        Row::new("audio: the clip echoed as text", &["audio.not_stringified"], with_audio(), answer(&format!("The data is {AUDIO}"), json!({}))),
        Row::new("audio: audio tokens a string", &["audio.usage"], with_audio(), answer("Silence.", json!({"audio_tokens": "10"}))),
    ];
    insta::assert_snapshot!(table(&rows));
}
