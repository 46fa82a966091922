//! `images.*`: `POST /images/generations` beyond its schema — a plausible `created`, the
//! requested number of images, and `b64_json` data that decodes to an actual image (PNG, JPEG
//! or WebP magic bytes, matching `output_format` when one was asked for). What the picture
//! shows is never judged.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::Value;

use super::{CheckDef, CheckInput};
use crate::judge::outcome::CheckResult;
use crate::util::json::{show, type_name};

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "images.response",
        description: "`created` is a plausible Unix time in seconds (not milliseconds or 0), `data` is a non-empty array of objects, with exactly `n` images when `n` was requested (n ignored)",
        run: response,
    },
    CheckDef {
        name: "images.b64_json",
        description: "every `data[].b64_json` is standard base64 (not a data: URI, not base64url) decoding to PNG, JPEG or WebP magic bytes, of the requested `output_format` when given; a `url` instead of `b64_json` means `response_format` was ignored",
        run: b64_json,
    },
];

/// 2020-01-01 and 2100-01-01: outside this a `created` is a placeholder or milliseconds.
const PLAUSIBLE_SECONDS: std::ops::Range<i64> = 1_577_836_800..4_102_444_800;

fn items<'a>(check: &str, i: &'a CheckInput<'_>) -> Result<&'a Vec<Value>, CheckResult> {
    let Some(body) = i.json else {
        return Err(CheckResult::fail(check, "the response body is not JSON"));
    };
    match body.get("data") {
        Some(Value::Array(a)) if !a.is_empty() => Ok(a),
        Some(Value::Array(_)) => {
            Err(CheckResult::fail(check, "`data` is empty: no image returned").at("$.data"))
        }
        other => Err(CheckResult::fail(
            check,
            format!(
                "`data` is {}, expected an array of images",
                other.map_or("missing", type_name)
            ),
        )
        .at("$.data")),
    }
}

fn response(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "images.response";
    let Some(body) = i.json else {
        return vec![CheckResult::fail(C, "the response body is not JSON")];
    };
    let mut out = Vec::new();
    match body.get("created").and_then(Value::as_i64) {
        Some(t) if PLAUSIBLE_SECONDS.contains(&t) => {}
        Some(t) => out.push(
            CheckResult::fail(
                C,
                format!("`created` is {t}, not a plausible Unix time in seconds"),
            )
            .at("$.created"),
        ),
        None => {
            out.push(CheckResult::fail(C, "`created` is missing or not an integer").at("$.created"))
        }
    }
    match items(C, i) {
        Err(e) => out.push(e),
        Ok(data) => {
            if let Some(k) = data.iter().position(|d| !d.is_object()) {
                out.push(
                    CheckResult::fail(
                        C,
                        format!("image is {}, expected an object", type_name(&data[k])),
                    )
                    .at(format!("$.data[{k}]")),
                );
            }
            let want = i.request.and_then(|r| r.get("n")).and_then(Value::as_u64);
            if let Some(n) = want
                && data.len() as u64 != n
            {
                out.push(
                    CheckResult::fail(
                        C,
                        format!("{} image(s) for n: {n} (n was ignored)", data.len()),
                    )
                    .at("$.data")
                    .expected(n.to_string())
                    .actual(data.len().to_string()),
                );
            }
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(C, "created and data present"));
    }
    out
}

/// The image format the leading bytes announce.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// Why a `b64_json` value is not an image (the check's reason, after "b64_json …").
#[derive(Debug, PartialEq, thiserror::Error)]
enum NotAnImage {
    #[error("is a data: URI ({0}), not bare base64 (clients decoding it as base64 fail)")]
    DataUri(String),
    #[error("uses the base64url alphabet (`-`/`_`), not standard base64 ({0})")]
    Base64Url(base64::DecodeError),
    #[error("is not valid base64: {0}")]
    Base64(base64::DecodeError),
    #[error("decodes to {len} bytes starting {head} — not PNG, JPEG or WebP")]
    Unknown { len: usize, head: String },
}

/// Decode one `b64_json` value to its image format, or say why it is not an image.
fn decode_image(s: &str) -> Result<&'static str, NotAnImage> {
    if s.starts_with("data:") {
        return Err(NotAnImage::DataUri(crate::util::text::excerpt(s, 24)));
    }
    let bytes = match STANDARD.decode(s) {
        Ok(b) => b,
        Err(e) if URL_SAFE.decode(s).is_ok() => return Err(NotAnImage::Base64Url(e)),
        Err(e) => return Err(NotAnImage::Base64(e)),
    };
    sniff(&bytes).ok_or_else(|| {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        NotAnImage::Unknown {
            len: bytes.len(),
            head: if head.is_empty() {
                "with nothing".into()
            } else {
                head.join(" ")
            },
        }
    })
}

fn b64_json(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "images.b64_json";
    let asked = i
        .request
        .and_then(|r| r.get("response_format"))
        .and_then(Value::as_str);
    if asked.is_some_and(|f| f != "b64_json") {
        return vec![CheckResult::fail(
            C,
            "the request asks for a response_format other than b64_json (suite error)",
        )];
    }
    let data = match items(C, i) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    // `jpg` is not an OpenAI value, but treat it as the same format if a suite sends it.
    let want_format = i
        .request
        .and_then(|r| r.get("output_format"))
        .and_then(Value::as_str)
        .map(|f| if f == "jpg" { "jpeg" } else { f });
    let mut out = Vec::new();
    let mut formats = Vec::new();
    for (k, item) in data.iter().enumerate() {
        let at = format!("$.data[{k}].b64_json");
        match item.get("b64_json") {
            Some(Value::String(s)) => {
                match decode_image(s) {
                    Ok(fmt) => {
                        if let Some(w) = want_format.filter(|w| *w != fmt) {
                            out.push(
                            CheckResult::fail(
                                C,
                                format!("image is {fmt}, `output_format: {w}` was requested (ignored)"),
                            )
                            .at(at)
                            .expected(w)
                            .actual(fmt),
                        );
                        }
                        formats.push(fmt);
                    }
                    Err(why) => out.push(CheckResult::fail(C, format!("b64_json {why}")).at(at)),
                }
            }
            None | Some(Value::Null) if item.get("url").is_some_and(Value::is_string) => out.push(
                CheckResult::fail(
                    C,
                    "a `url` instead of `b64_json`: `response_format: b64_json` was ignored",
                )
                .at(format!("$.data[{k}]")),
            ),
            None | Some(Value::Null) => {
                out.push(CheckResult::fail(C, "`b64_json` is missing or null").at(at))
            }
            Some(other) => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "`b64_json` is {} ({}), expected a string",
                        type_name(other),
                        show(other)
                    ),
                )
                .at(at),
            ),
        }
    }
    if out.is_empty() {
        formats.dedup();
        out.push(CheckResult::pass(
            C,
            format!("{} image(s): {}", data.len(), formats.join(", ")),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpeg"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn decode_names_the_problem() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\nrest");
        assert_eq!(decode_image(&png), Ok("png"));
        assert!(matches!(
            decode_image(&format!("data:image/png;base64,{png}")),
            Err(NotAnImage::DataUri(_))
        ));
        let e = decode_image(&STANDARD.encode(b"hello")).unwrap_err();
        assert!(e.to_string().contains("68 65 6c 6c 6f"), "{e}");
        assert!(matches!(decode_image("%%%"), Err(NotAnImage::Base64(_))));
        assert!(matches!(
            decode_image("-_-_"),
            Err(NotAnImage::Base64Url(_))
        ));
    }
}
