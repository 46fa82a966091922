//! `audio.speech*` and `audio.transcription`: the bodies of `/audio/speech` (audio bytes, or an
//! SSE stream of base64 audio) and `/audio/transcriptions` (text in the requested format).
//! The requested format is read from what was sent: the JSON body's `response_format` for
//! speech, the multipart field `response_format` for a transcription.

use base64::Engine as _;
use serde_json::Value;

use super::responses::{finish, str_at};
use super::responses_stream::{Kind, parse};
use super::{CheckDef, CheckInput};
use crate::execute::exchange::Response;
use crate::judge::outcome::CheckResult;
use crate::util::json::show;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "audio.speech_body",
        description: "speech audio: a non-empty body whose magic bytes are the requested `response_format` (mp3: ID3 or an MPEG audio frame; wav: RIFF/WAVE; flac: fLaC; opus: Ogg with OpusHead; aac: ADTS, ADIF or MP4; pcm: raw 16-bit samples, no container), and a Content-Type of that format or `application/octet-stream`",
        run: speech_body,
    },
    CheckDef {
        name: "audio.speech_stream",
        description: "`stream_format: sse` speech: `text/event-stream` of `speech.audio.delta` events (base64 `audio`) and exactly one final `speech.audio.done` with usage (`total_tokens` = input + output); the decoded audio is non-empty and has the requested format's magic bytes",
        run: speech_stream,
    },
    CheckDef {
        name: "audio.transcription",
        description: "a transcription in the requested `response_format`: `json` (a `text` string), `text` (plain text, not JSON), `verbose_json` (`text`, `language`, `duration`, `segments` with 0 ≤ start ≤ end ≤ duration, in order), `srt` (numbered cues, `HH:MM:SS,mmm --> …`) or `vtt` (`WEBVTT` header, `HH:MM:SS.mmm --> …` cues)",
        run: transcription,
    },
];

/// Content-Types that name each speech format (lower-case essence).
fn mimes(format: &str) -> &'static [&'static str] {
    match format {
        "mp3" => &["audio/mpeg", "audio/mp3", "audio/mpeg3"],
        "wav" => &["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"],
        "flac" => &["audio/flac", "audio/x-flac"],
        "opus" => &["audio/opus", "audio/ogg", "audio/ogg; codecs=opus"],
        "aac" => &["audio/aac", "audio/x-aac", "audio/aacp", "audio/mp4"],
        "pcm" => &["audio/pcm", "audio/l16", "audio/raw", "audio/x-pcm"],
        _ => &[],
    }
}

/// The container or codec `bytes` start with, by magic bytes.
pub(crate) fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        return Some("wav");
    }
    if starts(b"fLaC") {
        return Some("flac");
    }
    if starts(b"OggS") {
        // The first page holds the codec's identification header.
        let first = &bytes[..bytes.len().min(128)];
        return Some(if first.windows(8).any(|w| w == b"OpusHead") {
            "opus"
        } else {
            "ogg"
        });
    }
    if starts(b"ID3") {
        return Some("mp3");
    }
    if starts(b"ADIF") || bytes.get(4..8) == Some(b"ftyp") {
        return Some("aac");
    }
    if let [0xFF, b1, ..] = bytes {
        // MPEG sync: layer bits 00 are ADTS (AAC), the others MPEG audio layers.
        if b1 & 0xF6 == 0xF0 {
            return Some("aac");
        }
        if b1 & 0xE0 == 0xE0 && b1 & 0x06 != 0 {
            return Some("mp3");
        }
    }
    if starts(b"{") || starts(b"<") {
        return Some("text");
    }
    None
}

/// What is wrong with `bytes` as audio in `format`, if anything.
fn format_problem(format: &str, bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return Some("the audio is empty".into());
    }
    let found = sniff(bytes);
    let head = || {
        bytes[..bytes.len().min(8)]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match (format, found) {
        ("pcm", None) if bytes.len().is_multiple_of(2) => None,
        ("pcm", None) => Some(format!(
            "{} bytes: an odd length cannot be 16-bit samples",
            bytes.len()
        )),
        ("pcm", Some(f)) => Some(format!(
            "`pcm` is raw samples without a container, but the body is {}",
            describe(f)
        )),
        (want, Some(f)) if f == want => None,
        (want, Some(f)) => Some(format!(
            "`{want}` was requested but the body is {}",
            describe(f)
        )),
        (want, None) => Some(format!(
            "`{want}` was requested but the body starts with {} (no {want} signature)",
            head()
        )),
    }
}

fn describe(found: &str) -> String {
    match found {
        "text" => "text (JSON or markup), not audio".into(),
        "ogg" => "Ogg without an Opus stream".into(),
        f => format!("{f} audio"),
    }
}

/// The requested speech format (OpenAI's default is mp3).
fn speech_format<'a>(i: &'a CheckInput<'_>) -> &'a str {
    i.request
        .and_then(|r| str_at(r, "response_format"))
        .unwrap_or("mp3")
}

fn speech_body(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "audio.speech_body";
    let format = speech_format(i);
    let mut out = Vec::new();
    let ct = i.response.content_type().unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let named = mimes(format)
        .iter()
        .any(|m| m.split(';').next() == Some(&essence));
    if !named && essence != "application/octet-stream" {
        let other = ["mp3", "wav", "flac", "opus", "aac", "pcm"]
            .into_iter()
            .find(|f| *f != format && mimes(f).contains(&essence.as_str()));
        out.push(
            CheckResult::fail(
                C,
                match other {
                    Some(f) => format!(
                        "Content-Type is {ct}, the type of {f}, but `{format}` was requested"
                    ),
                    None if ct.is_empty() => "Content-Type is missing".to_string(),
                    None => format!("Content-Type is {ct}, not an audio type for `{format}`"),
                },
            )
            .at("header Content-Type")
            .expected(mimes(format).first().copied().unwrap_or("audio/*"))
            .actual(ct),
        );
    }
    if let Some(p) = format_problem(format, &i.response.body) {
        let p = if sniff(&i.response.body) == Some("text") {
            format!("{p}: {:?}", i.response.body_excerpt(120))
        } else {
            p
        };
        out.push(CheckResult::fail(C, p).at("body"));
    }
    let n = i.response.body.len();
    finish(C, out, format!("{n} bytes of {format} audio"))
}

fn speech_stream(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "audio.speech_stream";
    let format = speech_format(i);
    let evs = match parse(C, i.response) {
        Ok(evs) => evs,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    let mut audio = Vec::new();
    let (mut deltas, mut dones) = (0usize, Vec::new());
    // Audio with a piece missing says nothing about its format.
    let mut whole = true;
    for (k, ev) in evs.iter().enumerate() {
        let at = format!("event #{}", k + 1);
        let v = match &ev.kind {
            Kind::Json(v) => v,
            Kind::Done => continue,
            Kind::NotJson(e) => {
                out.push(CheckResult::fail(C, format!("not JSON: {e}")).at(at));
                continue;
            }
        };
        match str_at(v, "type") {
            Some("speech.audio.delta") => {
                deltas += 1;
                if !dones.is_empty() {
                    out.push(CheckResult::fail(C, "audio after `speech.audio.done`").at(&at));
                }
                match str_at(v, "audio")
                    .map(|a| base64::engine::general_purpose::STANDARD.decode(a))
                {
                    Some(Ok(b)) => audio.extend(b),
                    Some(Err(e)) => {
                        whole = false;
                        out.push(
                            CheckResult::fail(C, format!("`audio` is not base64: {e}")).at(&at),
                        );
                    }
                    None => {
                        whole = false;
                        out.push(
                            CheckResult::fail(
                                C,
                                format!(
                                    "`audio` is {}, expected a base64 string",
                                    show_opt(v.get("audio"))
                                ),
                            )
                            .at(&at),
                        );
                    }
                }
            }
            Some("speech.audio.done") => dones.push((at, v)),
            other => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "event type {}, expected `speech.audio.delta` or `speech.audio.done`",
                        other.map_or_else(|| "missing".to_string(), |t| format!("{t:?}"))
                    ),
                )
                .at(at),
            ),
        }
    }
    if deltas == 0 {
        out.push(CheckResult::fail(
            C,
            "no `speech.audio.delta` event: the stream carries no audio",
        ));
    }
    match dones.as_slice() {
        [] => out.push(CheckResult::fail(
            C,
            "no `speech.audio.done` event: a client cannot tell a finished stream from a cut one",
        )),
        [(at, done)] => {
            let n = |k: &str| done.pointer(&format!("/usage/{k}")).and_then(Value::as_u64);
            match (n("input_tokens"), n("output_tokens"), n("total_tokens")) {
                // Checked: endpoint counts may be anything up to 2^64 - 1.
                (Some(a), Some(b), Some(t)) if a.checked_add(b) == Some(t) => {}
                (Some(a), Some(b), Some(t)) => out.push(
                    CheckResult::fail(
                        C,
                        match a.checked_add(b) {
                            Some(_) => format!("usage: input {a} + output {b} ≠ total {t}"),
                            None => format!(
                                "usage: input {a} + output {b} does not fit a 64-bit count (total {t})"
                            ),
                        },
                    )
                    .at(at),
                ),
                _ => out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "`usage` is {}, expected input_tokens, output_tokens and total_tokens",
                            show_opt(done.get("usage"))
                        ),
                    )
                    .at(at),
                ),
            }
        }
        many => out.push(
            CheckResult::fail(
                C,
                format!("{} `speech.audio.done` events, expected one", many.len()),
            )
            .at(&many[1].0),
        ),
    }
    if deltas > 0
        && whole
        && let Some(p) = format_problem(format, &audio)
    {
        out.push(CheckResult::fail(C, format!("the decoded audio: {p}")));
    }
    finish(
        C,
        out,
        format!("{deltas} audio deltas, {} bytes of {format}", audio.len()),
    )
}

fn show_opt(v: Option<&Value>) -> String {
    v.map_or_else(|| "missing".into(), show)
}

/// The transcription format asked for (multipart field `response_format`, default `json`).
fn transcript_format<'a>(i: &'a CheckInput<'_>) -> &'a str {
    i.form_text("response_format").unwrap_or("json")
}

fn transcription(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "audio.transcription";
    let format = transcript_format(i);
    match format {
        "json" | "verbose_json" => json_transcript(C, format, i),
        "srt" | "vtt" => cues(C, format, i.response),
        _ => plain_text(C, i.response),
    }
}

fn text_body(resp: &Response) -> Result<&str, String> {
    std::str::from_utf8(&resp.body).map_err(|_| "the body is not UTF-8 text".to_string())
}

fn plain_text(c: &str, resp: &Response) -> Vec<CheckResult> {
    let body = match text_body(resp) {
        Ok(b) => b,
        Err(e) => return vec![CheckResult::fail(c, e)],
    };
    if let Some(v) = &resp.json
        && v.is_object()
    {
        return vec![
            CheckResult::fail(
                c,
                format!(
                    "`response_format: text` answered with JSON: {}",
                    excerpt(body, 120)
                ),
            )
            .expected("the transcript as plain text"),
        ];
    }
    if body.trim().is_empty() {
        return vec![CheckResult::warn(
            c,
            "the transcript is empty (the clip may hold no speech)",
        )];
    }
    vec![CheckResult::pass(
        c,
        format!("text: {:?}", excerpt(body.trim(), 60)),
    )]
}

fn json_transcript(c: &str, format: &str, i: &CheckInput<'_>) -> Vec<CheckResult> {
    let Some(b) = i.json.filter(|b| b.is_object()) else {
        return vec![
            CheckResult::fail(
                c,
                format!(
                    "`response_format: {format}` needs a JSON object, got {:?}",
                    i.response.body_excerpt(120)
                ),
            )
            .expected("{\"text\": …}"),
        ];
    };
    let mut out = Vec::new();
    match b.get("text") {
        Some(Value::String(_)) => {}
        other => out.push(
            CheckResult::fail(
                c,
                format!("`text` is {}, expected a string", show_opt(other)),
            )
            .at("$.text"),
        ),
    }
    if format == "verbose_json" {
        verbose(c, b, &mut out);
    }
    finish(
        c,
        out,
        format!(
            "{format}: {:?}",
            excerpt(str_at(b, "text").unwrap_or(""), 60)
        ),
    )
}

fn verbose(c: &str, b: &Value, out: &mut Vec<CheckResult>) {
    if str_at(b, "language").is_none_or(str::is_empty) {
        out.push(
            CheckResult::fail(
                c,
                format!(
                    "`language` is {}, expected a string",
                    show_opt(b.get("language"))
                ),
            )
            .at("$.language"),
        );
    }
    let duration = match b.get("duration").and_then(Value::as_f64) {
        Some(d) if d >= 0.0 => Some(d),
        _ => {
            out.push(
                CheckResult::fail(
                    c,
                    format!(
                        "`duration` is {}, expected seconds (a non-negative number)",
                        show_opt(b.get("duration"))
                    ),
                )
                .at("$.duration"),
            );
            None
        }
    };
    let Some(segments) = b.get("segments").and_then(Value::as_array) else {
        out.push(
            CheckResult::fail(
                c,
                format!(
                    "`segments` is {}, expected an array of timed segments",
                    show_opt(b.get("segments"))
                ),
            )
            .at("$.segments"),
        );
        return;
    };
    let mut previous = 0.0;
    // A little slack: times are rounded differently from the duration.
    let limit = duration.map(|d| d + 0.05);
    for (k, s) in segments.iter().enumerate() {
        let at = format!("$.segments[{k}]");
        let t = |key: &str| s.get(key).and_then(Value::as_f64);
        match (t("start"), t("end")) {
            (Some(a), Some(e))
                if a >= 0.0 && a <= e && limit.is_none_or(|l| e <= l) && a + 0.001 >= previous =>
            {
                previous = a;
            }
            (Some(a), Some(e)) => {
                out.push(
                    CheckResult::fail(
                        c,
                        format!(
                            "segment {k} runs {a}–{e} s: expected 0 ≤ start ≤ end{}, in order",
                            duration.map_or(String::new(), |d| format!(" ≤ duration {d}"))
                        ),
                    )
                    .at(at),
                );
                return;
            }
            _ => {
                out.push(
                    CheckResult::fail(c, format!("segment {k} has no numeric `start` and `end`"))
                        .at(at),
                );
                return;
            }
        }
        if str_at(s, "text").is_none() {
            out.push(CheckResult::fail(c, format!("segment {k} has no `text` string")).at(at));
            return;
        }
    }
}

/// SRT (`,` before the milliseconds) or WebVTT (`.`, and a `WEBVTT` header) cues.
fn cues(c: &str, format: &str, resp: &Response) -> Vec<CheckResult> {
    let body = match text_body(resp) {
        Ok(b) => b,
        Err(e) => return vec![CheckResult::fail(c, e)],
    };
    let sep = if format == "srt" { ',' } else { '.' };
    if resp.json.as_ref().is_some_and(Value::is_object) {
        return vec![CheckResult::fail(
            c,
            format!(
                "`response_format: {format}` answered with JSON: {}",
                excerpt(body, 120)
            ),
        )];
    }
    if format == "vtt" && !body.trim_start_matches('\u{feff}').starts_with("WEBVTT") {
        return vec![
            CheckResult::fail(
                c,
                format!(
                    "a WebVTT file starts with `WEBVTT`, this one with {:?}",
                    excerpt(body, 40)
                ),
            )
            .expected("WEBVTT"),
        ];
    }
    let timing = regex::Regex::new(&format!(
        r"^(\d{{2,}}:)?\d{{2}}:\d{{2}}\{sep}\d{{3}} --> (\d{{2,}}:)?\d{{2}}:\d{{2}}\{sep}\d{{3}}"
    ))
    .expect("a valid pattern");
    let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
    let timed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("-->"))
        .map(|(k, _)| k)
        .collect();
    if timed.is_empty() && lines.iter().all(|l| l.trim().is_empty() || *l == "WEBVTT") {
        return vec![CheckResult::warn(
            c,
            format!("no {format} cues (the clip may hold no speech)"),
        )];
    }
    if timed.is_empty() {
        return vec![
            CheckResult::fail(
                c,
                format!(
                    "no cue timing line (`start --> end`): {:?}",
                    excerpt(body, 120)
                ),
            )
            .expected(format!("00:00:00{sep}000 --> 00:00:01{sep}000")),
        ];
    }
    for &k in &timed {
        if !timing.is_match(lines[k]) {
            return vec![
                CheckResult::fail(
                    c,
                    format!(
                        "line {}: {:?} is not a {format} cue timing",
                        k + 1,
                        excerpt(lines[k], 60)
                    ),
                )
                .expected(format!("HH:MM:SS{sep}mmm --> HH:MM:SS{sep}mmm")),
            ];
        }
        if format == "srt" && (k == 0 || lines[k - 1].trim().parse::<u64>().is_err()) {
            return vec![CheckResult::fail(
                c,
                format!("line {}: an SRT cue timing follows its cue number", k + 1),
            )];
        }
        if lines.get(k + 1).is_none_or(|l| l.trim().is_empty()) {
            return vec![CheckResult::fail(
                c,
                format!("line {}: a cue without text", k + 1),
            )];
        }
    }
    vec![CheckResult::pass(
        c,
        format!("{} {format} cue(s)", timed.len()),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_tells_the_containers_apart() {
        let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        wav.extend([0; 8]);
        assert_eq!(sniff(&wav), Some("wav"));
        assert_eq!(sniff(b"fLaC\0\0"), Some("flac"));
        assert_eq!(sniff(b"ID3\x04"), Some("mp3"));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0xC4]), Some("mp3"));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Some("aac"));
        assert_eq!(sniff(b"{\"error\": 1}"), Some("text"));
        let mut ogg = b"OggS".to_vec();
        ogg.extend([0; 24]);
        ogg.extend(b"OpusHead");
        assert_eq!(sniff(&ogg), Some("opus"));
        assert_eq!(sniff(&[1, 2, 3, 4]), None);
    }

    #[test]
    fn a_format_mismatch_is_named() {
        assert!(
            format_problem("mp3", b"RIFF\0\0\0\0WAVE")
                .unwrap()
                .contains("wav audio")
        );
        assert!(
            format_problem("pcm", &[0, 1, 2])
                .unwrap()
                .contains("odd length")
        );
        assert!(format_problem("pcm", &[0, 1, 2, 3]).is_none());
        assert!(format_problem("flac", b"").unwrap().contains("empty"));
        assert!(
            format_problem("wav", &[1, 2, 3, 4])
                .unwrap()
                .contains("01 02 03 04")
        );
    }
}
