//! `audio.speech_body`, `audio.speech_stream`, `audio.transcription`.

use serde_json::json;

use super::kit::{Row, json, sse, table, text};
use crate::execute::exchange::Response;

fn audio(content_type: &str, bytes: &[u8]) -> Response {
    let mut r = text(200, content_type, "");
    r.body = bytes.to_vec().into();
    r.json = None;
    r
}

#[test]
fn speech() {
    let req = |format: &str| json!({"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": format});
    let wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00";
    let rows = vec![
        Row::new(
            "mp3 by default",
            &["audio.speech_body"],
            json!({"model": "tts-1", "input": "hi", "voice": "alloy"}),
            audio("audio/mpeg", b"ID3\x04\x00\x00\x00\x00\x00\x00"),
        ),
        Row::new(
            "wav as octet-stream (the spec's type)",
            &["audio.speech_body"],
            req("wav"),
            audio("application/octet-stream", wav),
        ),
        Row::new(
            "mp3 asked, wav sent",
            &["audio.speech_body"],
            req("mp3"),
            audio("audio/wav", wav),
        ),
        Row::new(
            "opus asked, Ogg without Opus",
            &["audio.speech_body"],
            req("opus"),
            audio("audio/ogg", b"OggS\x00\x02\x00\x00vorbis"),
        ),
        Row::new(
            "flac asked, nothing",
            &["audio.speech_body"],
            req("flac"),
            audio("audio/flac", b""),
        ),
        Row::new(
            "pcm asked, odd length",
            &["audio.speech_body"],
            req("pcm"),
            audio("audio/pcm", b"\x00\x01\x02"),
        ),
        Row::new(
            "a JSON error with 200",
            &["audio.speech_body"],
            req("wav"),
            json(200, json!({"error": {"message": "no voice"}})),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn speech_stream() {
    let req = json!({"model": "gpt-4o-mini-tts", "input": "hi", "voice": "alloy", "stream_format": "sse", "response_format": "wav"});
    let delta = |b64: &str| json!({"type": "speech.audio.delta", "audio": b64});
    // "RIFF\x24\0\0\0WAVE" in two pieces.
    let (a, b) = ("UklGRiQAAAA=", "V0FWRQ==");
    let done = |i: u64, o: u64, t: u64| json!({"type": "speech.audio.done", "usage": {"input_tokens": i, "output_tokens": o, "total_tokens": t}});
    let rows = vec![
        Row::new(
            "deltas then done",
            &["audio.speech_stream"],
            req.clone(),
            sse(&[delta(a), delta(b), done(1, 2, 3)], false),
        ),
        Row::new(
            "no done, bad base64",
            &["audio.speech_stream"],
            req.clone(),
            sse(&[delta(a), delta("%%%")], false),
        ),
        Row::new(
            "done twice, usage not adding up, audio after done",
            &["audio.speech_stream"],
            req.clone(),
            sse(&[delta(a), done(1, 2, 4), delta(b), done(1, 2, 3)], false),
        ),
        Row::new(
            "not a stream",
            &["audio.speech_stream"],
            req,
            json(200, json!({"object": "speech"})),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn transcription() {
    let row = |what, format: Option<&str>, resp| {
        let fields: Vec<(&str, &str)> = format
            .map(|f| ("response_format", f))
            .into_iter()
            .chain([("model", "whisper-1")])
            .collect();
        Row::new(what, &["audio.transcription"], json!(null), resp)
            .path("/audio/transcriptions")
            .form(&fields, Some(("tone.wav", b"RIFF")))
    };
    let verbose = |end: f64| json!({"task": "transcribe", "language": "english", "duration": 0.25, "text": "Hi.", "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": end, "text": " Hi.", "tokens": [1], "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.0, "no_speech_prob": 0.1}]});
    let rows = vec![
        row("json", None, json(200, json!({"text": "Hi."}))),
        row(
            "json without text",
            None,
            json(200, json!({"transcript": "Hi."})),
        ),
        row("text", Some("text"), text(200, "text/plain", "Hi.\n")),
        row(
            "text answered with JSON",
            Some("text"),
            json(200, json!({"text": "Hi."})),
        ),
        row(
            "text, empty (a tone)",
            Some("text"),
            text(200, "text/plain", "\n"),
        ),
        row(
            "verbose_json",
            Some("verbose_json"),
            json(200, verbose(0.25)),
        ),
        row(
            "verbose_json, a segment past the clip",
            Some("verbose_json"),
            json(200, verbose(9.0)),
        ),
        row(
            "srt",
            Some("srt"),
            text(
                200,
                "text/plain",
                "1\n00:00:00,000 --> 00:00:00,250\nHi.\n\n",
            ),
        ),
        row(
            "srt answered as WebVTT",
            Some("srt"),
            text(
                200,
                "text/plain",
                "WEBVTT\n\n00:00:00.000 --> 00:00:00.250\nHi.\n",
            ),
        ),
        row(
            "vtt",
            Some("vtt"),
            text(
                200,
                "text/vtt",
                "WEBVTT\n\n00:00:00.000 --> 00:00:00.250\nHi.\n",
            ),
        ),
        row(
            "vtt without the header",
            Some("vtt"),
            text(200, "text/vtt", "00:00:00.000 --> 00:00:00.250\nHi.\n"),
        ),
        row(
            "vtt with no cues (a tone)",
            Some("vtt"),
            text(200, "text/vtt", "WEBVTT\n\n"),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}
