//! `/v1/audio/speech` and `/v1/audio/transcriptions`, deterministic.
//!
//! Speech is a 440 Hz tone (24 kHz, 16-bit mono) whose length follows the input's word count,
//! encoded in the requested `response_format`: `wav` (RIFF), `pcm` (raw little-endian samples),
//! `flac` (verbatim subframes), `mp3` (silent MPEG-1 Layer III frames) and `opus` (silent Opus
//! packets in Ogg). Every body starts with its format's magic bytes and decodes with standard
//! players; only `wav`, `pcm` and `flac` carry the tone itself (no MP3 or Opus encoder here).
//! `aac` is refused with a 400 naming it: the one format the reference does not produce.
//! With `stream_format: sse` the same bytes arrive base64-encoded in `speech.audio.delta`
//! events followed by one `speech.audio.done` carrying the usage.
//!
//! A transcription reads the uploaded file's duration (from the WAV header, or estimated from
//! the size for other containers) and answers a fixed sentence in the requested
//! `response_format`: `json`, `text`, `verbose_json` (one segment spanning the clip, words on
//! request), `srt` or `vtt`.

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::body::JsonObject;
use crate::errors::{self, ApiError};
use crate::files::{body_error, drain};
use crate::models::{self, Kind};
use crate::stream::sse_response;
use crate::validate::{field, opt_number, opt_str, req_str};
use crate::{AppState, Deviation};

/// Speech sample rate (OpenAI's `pcm` is 24 kHz, 16-bit, mono, little-endian).
const RATE: u32 = 24_000;
const SPEECH_FORMATS: &[&str] = &["mp3", "opus", "aac", "flac", "wav", "pcm"];
const TRANSCRIPT_FORMATS: &[&str] = &["json", "text", "srt", "verbose_json", "vtt"];
/// File types `/audio/transcriptions` accepts (by extension, as OpenAI documents them).
const AUDIO_EXTENSIONS: &[&str] = &[
    "flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm",
];
/// What every transcription says: there is no recogniser behind the endpoint.
const TRANSCRIPT: &str = "Reference transcription of a steady tone.";
/// Base64 characters per `speech.audio.delta` event.
const DELTA_BYTES: usize = 8 * 1024;

/// `POST /v1/audio/speech`.
pub(crate) async fn speech(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    body: JsonObject,
) -> Result<Response, ApiError> {
    errors::absent_if(state.config.deviations, Deviation::NoAudioApi, method, uri).await?;
    let req = &body.map;
    let model = req_str(field(req, "model"), "model")?;
    models::require(state.config.deviations, model, Kind::Speech)?;
    let input = req_str(field(req, "input"), "input")?;
    if input.chars().count() > 4096 {
        return Err(ApiError::invalid_value(
            "input",
            "Invalid 'input': string too long. Expected a string with maximum length 4096.",
        ));
    }
    match field(req, "voice") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::Object(o)) if o.get("id").and_then(Value::as_str).is_some() => {}
        Some(other) => {
            return Err(ApiError::invalid_type(
                "voice",
                "a string or an object with `id`",
                other,
            ))
        }
        None => return Err(ApiError::missing("voice")),
    }
    opt_str(field(req, "instructions"), "instructions")?;
    opt_number(field(req, "speed"), "speed", 0.25, 4.0)?;
    let format = opt_str(field(req, "response_format"), "response_format")?.unwrap_or("mp3");
    if !SPEECH_FORMATS.contains(&format) {
        return Err(ApiError::invalid_enum(
            "response_format",
            format,
            SPEECH_FORMATS,
        ));
    }
    let sse = match opt_str(field(req, "stream_format"), "stream_format")? {
        None | Some("audio") => false,
        Some("sse") => true,
        Some(other) => {
            return Err(ApiError::invalid_enum(
                "stream_format",
                other,
                &["sse", "audio"],
            ))
        }
    };
    if format == "aac" {
        return Err(ApiError::bad_request(
            "The reference endpoint does not produce 'aac' audio; use mp3, opus, flac, wav or pcm.",
            Some("response_format"),
            None,
        ));
    }
    let words = input.split_whitespace().count().max(1);
    let audio = encode(format, &tone(words));
    if sse {
        let mut frames: Vec<Bytes> = audio
            .chunks(DELTA_BYTES)
            .map(|c| {
                let ev = json!({
                    "type": "speech.audio.delta",
                    "audio": base64::engine::general_purpose::STANDARD.encode(c)
                });
                Bytes::from(format!("data: {ev}\n\n"))
            })
            .collect();
        let output_tokens = audio.len().div_ceil(DELTA_BYTES);
        let done = json!({
            "type": "speech.audio.done",
            "usage": { "input_tokens": words, "output_tokens": output_tokens, "total_tokens": words + output_tokens }
        });
        frames.push(Bytes::from(format!("data: {done}\n\n")));
        return Ok(sse_response(frames, &state.config));
    }
    let mut response = audio.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(format)));
    Ok(response)
}

/// The Content-Type of each speech format (as OpenAI's API answers them).
fn mime(format: &str) -> &'static str {
    match format {
        "mp3" => "audio/mpeg",
        "opus" => "audio/opus",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "pcm" => "audio/pcm",
        _ => "application/octet-stream",
    }
}

/// The samples of a 440 Hz tone, 0.1 s per input word plus 0.2 s, at most 5 s.
fn tone(words: usize) -> Vec<i16> {
    let seconds = (0.2 + 0.1 * words as f64).min(5.0);
    let n = (seconds * f64::from(RATE)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 6000.0) as i16
        })
        .collect()
}

fn encode(format: &str, samples: &[i16]) -> Vec<u8> {
    match format {
        "wav" => wav(samples),
        "pcm" => pcm(samples),
        "flac" => flac(samples),
        "opus" => ogg_opus(samples.len()),
        _ => mp3(samples.len()),
    }
}

fn pcm(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn wav(samples: &[i16]) -> Vec<u8> {
    let data = pcm(samples);
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// FLAC with one STREAMINFO block and verbatim (uncompressed) subframes of 4096 samples.
fn flac(samples: &[i16]) -> Vec<u8> {
    const BLOCK: usize = 4096;
    let mut out = b"fLaC".to_vec();
    out.push(0x80); // last metadata block, STREAMINFO
    out.extend_from_slice(&[0, 0, 34]);
    out.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    out.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    out.extend_from_slice(&[0; 6]); // frame sizes unknown
    let packed: u64 = (u64::from(RATE) << 44) | (15 << 36) | samples.len() as u64;
    out.extend_from_slice(&packed.to_be_bytes());
    out.extend_from_slice(&[0; 16]); // MD5 unknown
    for (n, block) in samples.chunks(BLOCK).enumerate() {
        let start = out.len();
        // Sync + fixed blocking; block size "16-bit at the end"; 24 kHz; mono, 16-bit.
        out.extend_from_slice(&[0xFF, 0xF8, 0x77, 0x08]);
        out.extend_from_slice(&utf8_number(n as u32));
        out.extend_from_slice(&((block.len() - 1) as u16).to_be_bytes());
        out.push(crc8(&out[start..]));
        out.push(0x02); // verbatim subframe
        for s in block {
            out.extend_from_slice(&s.to_be_bytes());
        }
        let crc = crc16(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

/// FLAC's frame number coding (UTF-8 style, up to 31 bits).
fn utf8_number(n: u32) -> Vec<u8> {
    char::from_u32(n)
        .map(|c| c.to_string().into_bytes())
        .unwrap_or_else(|| vec![0])
}

fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |mut crc, b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, b| {
        crc ^= u16::from(*b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// Silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono) lasting as long as the tone.
fn mp3(samples: usize) -> Vec<u8> {
    const FRAME: usize = 417; // 144 * 128000 / 44100
    let seconds = samples as f64 / f64::from(RATE);
    let frames = ((seconds * 44_100.0 / 1152.0).ceil() as usize).max(1);
    let mut out = Vec::with_capacity(frames * FRAME);
    for _ in 0..frames {
        // Zero side information: every granule decodes to silence.
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0xC4]);
        out.resize(out.len() + FRAME - 4, 0);
    }
    out
}

/// Ogg Opus: the `OpusHead` and `OpusTags` pages, then silent 20 ms packets.
fn ogg_opus(samples: usize) -> Vec<u8> {
    const PRE_SKIP: u16 = 312;
    let seconds = samples as f64 / f64::from(RATE);
    let packets = ((seconds / 0.02).ceil() as usize).clamp(1, 255);
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 1]); // version, channels
    head.extend_from_slice(&PRE_SKIP.to_le_bytes());
    head.extend_from_slice(&RATE.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]); // gain, mapping family 0
    let vendor = b"llm-parity reference";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    // A CELT-only 20 ms frame that decodes to silence.
    const SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];
    let granule = u64::from(PRE_SKIP) + packets as u64 * 960;
    let mut out = ogg_page(0x02, 0, 0, &[&head]);
    out.extend(ogg_page(0, 0, 1, &[&tags]));
    let audio: Vec<&[u8]> = (0..packets).map(|_| &SILENCE[..]).collect();
    out.extend(ogg_page(0x04, granule, 2, &audio));
    out
}

/// One Ogg page holding `packets` (each shorter than 255 bytes, so one lacing value each).
fn ogg_page(flags: u8, granule: u64, sequence: u32, packets: &[&[u8]]) -> Vec<u8> {
    let mut page = b"OggS".to_vec();
    page.push(0);
    page.push(flags);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&0x6c70_7200u32.to_le_bytes()); // stream serial
    page.extend_from_slice(&sequence.to_le_bytes());
    page.extend_from_slice(&[0; 4]); // CRC, filled below
    page.push(packets.len() as u8);
    for p in packets {
        page.push(p.len() as u8);
    }
    for p in packets {
        page.extend_from_slice(p);
    }
    let crc = page.iter().fold(0u32, |mut crc, b| {
        crc ^= u32::from(*b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
        crc
    });
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// `POST /v1/audio/transcriptions` (multipart: `file`, `model`, optional `response_format`,
/// `language`, `prompt`, `temperature`, `timestamp_granularities[]`).
pub(crate) async fn transcription(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    if state.config.deviations.has(Deviation::NoAudioApi) {
        // A6: the upload is read before the 404, as by a server that routes after reading it.
        drain(multipart).await;
        return Err(errors::unknown_route(method, uri).await);
    }
    let mut multipart = multipart.map_err(|_| {
        ApiError::bad_request(
            "Invalid request: the body must be multipart/form-data with the fields 'file' and 'model'.",
            None,
            None,
        )
    })?;
    let (mut file, mut model, mut format) =
        (None::<(String, Bytes)>, None::<String>, None::<String>);
    let mut language = None::<String>;
    let mut words = false;
    loop {
        let field = multipart.next_field().await.map_err(body_error)?;
        let Some(field) = field else { break };
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().unwrap_or("").to_string();
                file = Some((name, field.bytes().await.map_err(body_error)?));
            }
            "model" => model = Some(field.text().await.map_err(body_error)?),
            "response_format" => format = Some(field.text().await.map_err(body_error)?),
            "language" => language = Some(field.text().await.map_err(body_error)?),
            "timestamp_granularities[]" | "timestamp_granularities" => {
                words |= field.text().await.map_err(body_error)? == "word";
            }
            _ => {}
        }
    }
    let model = model.ok_or_else(|| ApiError::missing("model"))?;
    models::require(state.config.deviations, &model, Kind::Transcription)?;
    let (filename, bytes) = file.ok_or_else(|| ApiError::missing("file"))?;
    let ext = filename
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !filename.contains('.') || !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
        return Err(ApiError::bad_request(
            format!(
                "Invalid file format. Supported formats: {}",
                AUDIO_EXTENSIONS.join(", ")
            ),
            Some("file"),
            None,
        ));
    }
    let format = format.unwrap_or_else(|| "json".into());
    if !TRANSCRIPT_FORMATS.contains(&format.as_str()) {
        return Err(ApiError::invalid_enum(
            "response_format",
            &format,
            TRANSCRIPT_FORMATS,
        ));
    }
    let duration = duration_of(&bytes);
    let seconds = duration.ceil().max(1.0) as u64;
    let usage = json!({ "type": "duration", "seconds": seconds });
    let text = |body: String| {
        let mut r = body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    Ok(match format.as_str() {
        "json" => Json(json!({ "text": TRANSCRIPT, "usage": usage })).into_response(),
        "text" => text(format!("{TRANSCRIPT}\n")),
        "srt" => text(format!(
            "1\n{} --> {}\n{TRANSCRIPT}\n\n",
            timestamp(0.0, ','),
            timestamp(duration, ',')
        )),
        "vtt" => text(format!(
            "WEBVTT\n\n{} --> {}\n{TRANSCRIPT}\n\n",
            timestamp(0.0, '.'),
            timestamp(duration, '.')
        )),
        _ => {
            let n = TRANSCRIPT.split_whitespace().count();
            let mut body = json!({
                "task": "transcribe",
                "language": language.as_deref().map_or("english", language_name),
                "duration": duration,
                "text": TRANSCRIPT,
                "segments": [{
                    "id": 0, "seek": 0, "start": 0.0, "end": duration,
                    "text": format!(" {TRANSCRIPT}"),
                    "tokens": (0..n as u64).map(|i| 50_364 + i).collect::<Vec<_>>(),
                    "temperature": 0.0, "avg_logprob": -0.25,
                    "compression_ratio": 1.0, "no_speech_prob": 0.01
                }],
                "usage": usage
            });
            if words {
                let step = duration / n as f64;
                body["words"] = TRANSCRIPT
                    .split_whitespace()
                    .enumerate()
                    .map(|(i, w)| json!({ "word": w, "start": step * i as f64, "end": step * (i + 1) as f64 }))
                    .collect();
            }
            Json(body).into_response()
        }
    })
}

/// Seconds of audio: exact for PCM WAV, estimated at 16 kB/s for anything else.
fn duration_of(bytes: &[u8]) -> f64 {
    let u32_at = |i: usize| {
        bytes
            .get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        let mut at = 12;
        let mut rate = None;
        while let (Some(id), Some(len)) = (bytes.get(at..at + 4), u32_at(at + 4)) {
            if id == b"fmt " {
                rate = u32_at(at + 16); // byte rate
            }
            if id == b"data" {
                if let Some(r) = rate.filter(|r| *r > 0) {
                    return round_ms(f64::from(len) / f64::from(r));
                }
            }
            at += 8 + len as usize + (len as usize & 1);
        }
    }
    round_ms(bytes.len() as f64 / 16_000.0)
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Whisper reports the language by name (`english`), though requests give ISO-639-1 codes.
fn language_name(code: &str) -> &'static str {
    match code {
        "de" => "german",
        "fr" => "french",
        "es" => "spanish",
        _ => "english",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_starts_with_its_magic_bytes() {
        let t = tone(3);
        assert!(wav(&t).starts_with(b"RIFF") && &wav(&t)[8..12] == b"WAVE");
        assert!(flac(&t).starts_with(b"fLaC"));
        let m = mp3(t.len());
        assert_eq!(&m[..2], &[0xFF, 0xFB]);
        assert_eq!(m.len() % 417, 0);
        let o = ogg_opus(t.len());
        assert!(o.starts_with(b"OggS") && o[28..36] == *b"OpusHead");
        assert_eq!(pcm(&t).len(), t.len() * 2);
    }

    #[test]
    fn the_wav_duration_is_read_from_its_header() {
        let t = tone(3); // 0.5 s
        assert_eq!(duration_of(&wav(&t)), 0.5);
        assert_eq!(timestamp(3723.5, ','), "01:02:03,500");
    }

    #[test]
    fn checksums_match_their_published_check_values() {
        // The CRC catalogue's check input "123456789".
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc16(b"123456789"), 0xFEE8);
    }
}
