//! Text to speech and transcription (`audio.speech_*`, `audio.transcription*`) against the
//! built-in reference endpoint and against an independent server written here by hand from
//! OpenAI's documented responses (not produced by the reference endpoint): conformant answers
//! pass, each injected deviation fails the feature it breaks, and a server without the routes
//! is `unsupported`.

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::embeddings::assert_check;
use crate::support::*;

const MODELS: &[&str] = &["speech=tts-1", "transcription=whisper-1"];

const SPEECH: &[(&str, &str)] = &[
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("opus", "audio/opus"),
    ("flac", "audio/flac"),
    ("pcm", "audio/pcm"),
];

/// Bytes that start the way a real file of each format does (hand-written headers).
fn audio(format: &str) -> Vec<u8> {
    let mut b = match format {
        // An ID3v2.4 tag header, then an MPEG-1 Layer III frame header.
        "mp3" => b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64".to_vec(),
        "wav" => {
            let mut w = b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00".to_vec();
            w.extend([0xc0, 0x5d, 0, 0, 0x80, 0xbb, 0, 0, 2, 0, 16, 0]);
            w.extend(b"data\x00\x08\x00\x00");
            w
        }
        "opus" => {
            let mut o = b"OggS\x00\x02".to_vec();
            o.extend([0; 20]);
            o.extend([1, 19]);
            o.extend(b"OpusHead\x01\x01\x38\x01\xc0\x5d\x00\x00\x00\x00\x00");
            o
        }
        "flac" => b"fLaC\x80\x00\x00\x22\x10\x00\x10\x00".to_vec(),
        _ => vec![],
    };
    // Samples (or frame data) after the header: 64 little-endian zero samples.
    b.extend([0u8; 128]);
    b
}

/// A speech handler: the requested format's bytes, or what `deviate` makes of them.
fn speech(deviate: &'static str) -> impl Fn(&Request) -> ResponseTemplate {
    move |req: &Request| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let format = body["response_format"].as_str().unwrap_or("mp3");
        let ct = SPEECH
            .iter()
            .find(|(f, _)| *f == format)
            .map_or("audio/mpeg", |(_, c)| *c);
        if body["stream_format"] == "sse" {
            let b64 = base64::engine::general_purpose::STANDARD;
            let bytes = audio(format);
            let (a, b) = bytes.split_at(40);
            let mut events = vec![
                json!({"type": "speech.audio.delta", "audio": b64.encode(a)}),
                json!({"type": "speech.audio.delta", "audio": b64.encode(b)}),
                json!({"type": "speech.audio.done", "usage": {"input_tokens": 14, "output_tokens": 101, "total_tokens": 115}}),
            ];
            if deviate == "no-done" {
                events.pop();
            }
            if deviate == "bad-base64" {
                events[1]["audio"] = json!("not base64!");
            }
            let text: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
            return ResponseTemplate::new(200).set_body_raw(text, "text/event-stream");
        }
        match deviate {
            // Always WAV, whatever was asked.
            "always-wav" => ResponseTemplate::new(200).set_body_raw(audio("wav"), "audio/wav"),
            // The right bytes under a Content-Type of another format.
            "wrong-type" if format == "opus" => {
                ResponseTemplate::new(200).set_body_raw(audio(format), "audio/mpeg")
            }
            // A JSON error with HTTP 200.
            "json-200" => ResponseTemplate::new(200)
                .set_body_json(json!({"error": {"message": "voice not found"}})),
            "empty" => ResponseTemplate::new(200).set_body_raw(Vec::new(), ct),
            // The spec's own Content-Type for every format.
            "octet-stream" => {
                ResponseTemplate::new(200).set_body_raw(audio(format), "application/octet-stream")
            }
            _ => ResponseTemplate::new(200).set_body_raw(audio(format), ct),
        }
    }
}

/// The multipart field `name` of a request, as text.
fn field(req: &Request, name: &str) -> Option<String> {
    let body = String::from_utf8_lossy(&req.body);
    let rest = body.split(&format!("name=\"{name}\"")).nth(1)?;
    let value = rest.split("\r\n\r\n").nth(1)?;
    Some(value.split("\r\n--").next()?.to_string())
}

fn transcription(deviate: &'static str) -> impl Fn(&Request) -> ResponseTemplate {
    move |req: &Request| {
        // The shipped WAV arrives whole in the multipart body.
        assert!(
            req.body.windows(4).any(|w| w == b"RIFF") && field(req, "model").is_some(),
            "not a multipart upload of the WAV fixture"
        );
        let text = "Imagine the wildest idea that you've ever had.";
        let plain =
            |s: String| ResponseTemplate::new(200).set_body_raw(s, "text/plain; charset=utf-8");
        let format = field(req, "response_format").unwrap_or_else(|| "json".into());
        match (format.as_str(), deviate) {
            ("json", "no-text") => {
                ResponseTemplate::new(200).set_body_json(json!({"transcript": text}))
            }
            ("json", _) => ResponseTemplate::new(200).set_body_json(json!({"text": text,
                "usage": {"type": "duration", "seconds": 1}})),
            ("text", "json-for-text") => {
                ResponseTemplate::new(200).set_body_json(json!({"text": text}))
            }
            ("text", _) => plain(format!("{text}\n")),
            ("verbose_json", dev) => {
                let end = if dev == "segment-past-end" { 9.5 } else { 0.25 };
                ResponseTemplate::new(200).set_body_json(json!({"task": "transcribe",
                    "language": "english", "duration": 0.25, "text": text,
                    "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": end, "text": text,
                        "tokens": [50364, 440], "temperature": 0.0, "avg_logprob": -0.28,
                        "compression_ratio": 1.23, "no_speech_prob": 0.009}],
                    "usage": {"type": "duration", "seconds": 1}}))
            }
            ("srt", "vtt-for-srt") => {
                plain(format!("WEBVTT\n\n00:00:00.000 --> 00:00:00.250\n{text}\n"))
            }
            ("srt", _) => plain(format!("1\n00:00:00,000 --> 00:00:00,250\n{text}\n\n")),
            ("vtt", _) => plain(format!(
                "WEBVTT\n\n00:00:00.000 --> 00:00:00.250\n{text}\n\n"
            )),
            _ => ResponseTemplate::new(400).set_body_json(error_envelope(
                "unknown response_format",
                "invalid_request_error",
                None,
            )),
        }
    }
}

async fn server(speech_dev: &'static str, transcription_dev: &'static str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(speech(speech_dev))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/transcriptions"))
        .respond_with(transcription(transcription_dev))
        .mount(&server)
        .await;
    server
}

/// The arguments of a run of every speech and transcription case against `base`, with
/// [`MODELS`].
fn audio_args(base: &str) -> Vec<&str> {
    let mut args = case_args("audio", "audio/speech-*", base, MODELS);
    args.extend(["--filter", "audio/transcription-*"]);
    args
}

async fn run_audio(speech_dev: &'static str, transcription_dev: &'static str) -> RunOutput {
    let server = server(speech_dev, transcription_dev).await;
    let base = format!("{}/v1", server.uri());
    run_cli(&audio_args(&base), &[]).await
}

/// The outcome of every speech and transcription case.
fn outcomes(out: &RunOutput) -> Vec<(String, String)> {
    let report = out.report();
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every case passes except those named, which fail.
fn failing_only(out: &RunOutput, failing: &[&str]) {
    let all = outcomes(out);
    assert_eq!(all.len(), 11, "{all:?}\n{}", out.stdout);
    for (case, outcome) in all {
        let want = if failing.contains(&case.as_str()) {
            "fail"
        } else {
            "pass"
        };
        assert_eq!(outcome, want, "{case}\n{}", out.stdout);
    }
}

#[tokio::test]
async fn the_reference_serves_every_format_and_transcription() {
    let out = run_cli(&["run", "--suite", "audio"], &[]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        outcomes(&out).iter().all(|(_, o)| o == "pass"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn a_conformant_independent_server_passes() {
    failing_only(&run_audio("", "").await, &[]);
    // `application/octet-stream` is what OpenAI's specification declares: conformant.
    failing_only(&run_audio("octet-stream", "").await, &[]);
}

#[tokio::test]
async fn audio_bytes_that_do_not_match_the_declared_format_fail() {
    let out = run_audio("always-wav", "").await;
    failing_only(
        &out,
        &["speech-mp3", "speech-opus", "speech-flac", "speech-pcm"],
    );
    assert_check(
        &out,
        "audio/speech-mp3",
        "fail",
        "audio.speech_body",
        "fail",
        "`mp3` was requested but the body is wav audio",
    );
    assert_check(
        &out,
        "audio/speech-mp3",
        "fail",
        "audio.speech_body",
        "fail",
        "Content-Type is audio/wav, the type of wav, but `mp3` was requested",
    );
    assert_check(
        &out,
        "audio/speech-pcm",
        "fail",
        "audio.speech_body",
        "fail",
        "`pcm` is raw samples without a container, but the body is wav audio",
    );

    let out = run_audio("wrong-type", "").await;
    failing_only(&out, &["speech-opus"]);

    let out = run_audio("json-200", "").await;
    failing_only(
        &out,
        &[
            "speech-mp3",
            "speech-wav",
            "speech-opus",
            "speech-flac",
            "speech-pcm",
        ],
    );
    assert_check(
        &out,
        "audio/speech-wav",
        "fail",
        "audio.speech_body",
        "fail",
        "text (JSON or markup), not audio",
    );

    let out = run_audio("empty", "").await;
    assert_check(
        &out,
        "audio/speech-flac",
        "fail",
        "audio.speech_body",
        "fail",
        "the audio is empty",
    );
}

#[tokio::test]
async fn speech_stream_deviations_fail() {
    let out = run_audio("no-done", "").await;
    failing_only(&out, &["speech-sse"]);
    assert_check(
        &out,
        "audio/speech-sse",
        "fail",
        "audio.speech_stream",
        "fail",
        "no `speech.audio.done` event",
    );
    let out = run_audio("bad-base64", "").await;
    failing_only(&out, &["speech-sse"]);
    assert_check(
        &out,
        "audio/speech-sse",
        "fail",
        "audio.speech_stream",
        "fail",
        "`audio` is not base64",
    );
}

#[tokio::test]
async fn transcription_deviations_fail() {
    let out = run_audio("", "no-text").await;
    failing_only(&out, &["transcription-json"]);
    assert_check(
        &out,
        "audio/transcription-json",
        "fail",
        "audio.transcription",
        "fail",
        "`text` is missing, expected a string",
    );
    let out = run_audio("", "json-for-text").await;
    failing_only(&out, &["transcription-text"]);
    let out = run_audio("", "segment-past-end").await;
    failing_only(&out, &["transcription-verbose-json"]);
    assert_check(
        &out,
        "audio/transcription-verbose-json",
        "fail",
        "audio.transcription",
        "fail",
        "segment 0 runs 0–9.5 s",
    );
    let out = run_audio("", "vtt-for-srt").await;
    failing_only(&out, &["transcription-srt"]);
}

#[tokio::test]
async fn an_endpoint_without_the_routes_is_unsupported_and_a_missing_role_skips() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let out = run_cli(&audio_args(&base), &[]).await;
    for (case, outcome) in outcomes(&out) {
        assert_eq!(outcome, "unsupported", "{case}\n{}", out.stdout);
    }
    // Without the role mapped, a selection that needs it stops before sending anything,
    // naming the fix; with --allow-missing-models the cases are skips, counted as the other
    // skips are.
    let args = case_args("audio", "audio/speech-*", &base, &["chat=m"]);
    let out = run_allowing_missing(&args, "speech").await;
    for (case, outcome) in outcomes(&out) {
        assert_eq!(outcome, "skip", "{case}\n{}", out.stdout);
    }
}
