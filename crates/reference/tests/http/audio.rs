//! `/v1/audio/speech` and `/v1/audio/transcriptions`: formats, the SSE stream, refusals.

use axum::body::Body;
use base64::Engine as _;
use llm_parity_reference::Profile;
use serde_json::{json, Value};

use crate::support::*;

fn speech(format: Option<&str>) -> Value {
    let mut b = json!({"model": "ref-tts", "input": "The quick brown fox.", "voice": "alloy"});
    if let Some(f) = format {
        b["response_format"] = json!(f);
    }
    b
}

#[tokio::test]
async fn speech_answers_each_format_with_its_magic_bytes_and_type() {
    let app = app(Profile::OpenAi);
    for (format, ct, magic) in [
        (None, "audio/mpeg", &[0xFF, 0xFB][..]),
        (Some("wav"), "audio/wav", b"RIFF"),
        (Some("flac"), "audio/flac", b"fLaC"),
        (Some("opus"), "audio/opus", b"OggS"),
        (Some("pcm"), "audio/pcm", &[][..]),
    ] {
        let r = post(&app, "/v1/audio/speech", &speech(format)).await;
        assert_eq!(r.status, 200, "{format:?}: {}", r.text());
        assert_eq!(r.header("content-type"), ct);
        assert!(
            r.body.starts_with(magic) && !r.body.is_empty(),
            "{format:?}"
        );
    }
    // A 0.6 s tone for four words: 24 kHz, 16-bit mono.
    let pcm = post(&app, "/v1/audio/speech", &speech(Some("pcm"))).await;
    assert_eq!(pcm.body.len(), 24_000 * 6 / 10 * 2);
    let wav = post(&app, "/v1/audio/speech", &speech(Some("wav"))).await;
    assert_eq!(&wav.body[44..], &pcm.body[..]);
}

#[tokio::test]
async fn speech_streams_base64_audio_then_one_done_event() {
    let app = app(Profile::OpenAi);
    let mut body = speech(Some("wav"));
    body["stream_format"] = json!("sse");
    let r = post(&app, "/v1/audio/speech", &body).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/event-stream"));
    let events: Vec<Value> = sse_data(&r.text())
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let (last, deltas) = events.split_last().unwrap();
    assert_eq!(last["type"], "speech.audio.done");
    let u = &last["usage"];
    assert_eq!(
        u["total_tokens"].as_u64(),
        Some(u["input_tokens"].as_u64().unwrap() + u["output_tokens"].as_u64().unwrap())
    );
    let audio: Vec<u8> = deltas
        .iter()
        .flat_map(|d| {
            assert_eq!(d["type"], "speech.audio.delta");
            base64::engine::general_purpose::STANDARD
                .decode(d["audio"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    let whole = post(&app, "/v1/audio/speech", &speech(Some("wav"))).await;
    assert_eq!(audio, whole.body);
}

#[tokio::test]
async fn speech_validates_its_request() {
    let app = app(Profile::OpenAi);
    let mut b = speech(None);
    b.as_object_mut().unwrap().remove("voice");
    assert_openai_error(
        &post(&app, "/v1/audio/speech", &b).await,
        400,
        Some("voice"),
    );
    assert_openai_error(
        &post(&app, "/v1/audio/speech", &speech(Some("ogg"))).await,
        400,
        Some("response_format"),
    );
    assert_openai_error(
        &post(&app, "/v1/audio/speech", &speech(Some("aac"))).await,
        400,
        Some("response_format"),
    );
    let mut b = speech(None);
    b["speed"] = json!(9);
    assert_openai_error(
        &post(&app, "/v1/audio/speech", &b).await,
        400,
        Some("speed"),
    );
    let mut b = speech(None);
    b["model"] = json!("ref-chat");
    assert_openai_error(
        &post(&app, "/v1/audio/speech", &b).await,
        400,
        Some("model"),
    );
}

async fn transcribe(
    app: &axum::Router,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Reply {
    let boundary = "XrefBOUNDARY";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: audio/wav\r\n\r\n")
                .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    send(
        app,
        "POST",
        "/v1/audio/transcriptions",
        Body::from(body),
        &[("content-type", ct.as_str())],
    )
    .await
}

#[tokio::test]
async fn transcriptions_answer_every_format_timed_to_the_clip() {
    let app = app(Profile::OpenAi);
    // A 0.5 s WAV from the speech endpoint.
    let mut b = speech(Some("wav"));
    b["input"] = json!("one two three");
    let wav = post(&app, "/v1/audio/speech", &b).await.body;
    let file = Some(("clip.wav", wav.as_slice()));
    let r = transcribe(&app, &[("model", "ref-transcribe")], file).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["text"].is_string());
    let v = transcribe(
        &app,
        &[
            ("model", "ref-transcribe"),
            ("response_format", "verbose_json"),
            ("timestamp_granularities[]", "word"),
        ],
        file,
    )
    .await
    .json();
    assert_eq!(v["duration"], 0.5);
    assert_eq!(v["segments"][0]["end"], 0.5);
    assert!(v["words"].as_array().is_some_and(|w| !w.is_empty()));
    let srt = transcribe(
        &app,
        &[("model", "ref-transcribe"), ("response_format", "srt")],
        file,
    )
    .await;
    assert!(srt.header("content-type").starts_with("text/plain"));
    assert!(
        srt.text().starts_with("1\n00:00:00,000 --> 00:00:00,500\n"),
        "{}",
        srt.text()
    );
    let vtt = transcribe(
        &app,
        &[("model", "ref-transcribe"), ("response_format", "vtt")],
        file,
    )
    .await;
    assert!(
        vtt.text()
            .starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:00.500\n"),
        "{}",
        vtt.text()
    );
    let text = transcribe(
        &app,
        &[("model", "ref-transcribe"), ("response_format", "text")],
        file,
    )
    .await;
    assert!(!text.text().trim().is_empty() && !text.text().starts_with('{'));
}

#[tokio::test]
async fn transcriptions_validate_their_request() {
    let app = app(Profile::OpenAi);
    let file = Some(("clip.wav", &b"RIFF"[..]));
    assert_openai_error(
        &transcribe(&app, &[("model", "ref-transcribe")], None).await,
        400,
        Some("file"),
    );
    assert_openai_error(&transcribe(&app, &[], file).await, 400, Some("model"));
    assert_openai_error(
        &transcribe(
            &app,
            &[("model", "ref-transcribe")],
            Some(("clip.txt", &b"hi"[..])),
        )
        .await,
        400,
        Some("file"),
    );
    assert_openai_error(
        &transcribe(
            &app,
            &[("model", "ref-transcribe"), ("response_format", "docx")],
            file,
        )
        .await,
        400,
        Some("response_format"),
    );
}
