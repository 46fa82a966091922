//! `POST /v1/images/generations`: small solid-colour PNGs, encoded in code (no image crate
//! needed for an 8×8 picture), returned as `b64_json` or as a URL this endpoint serves.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::body::JsonObject;
use crate::errors::ApiError;
use crate::models::{self, Kind};
use crate::util::{hex, now_unix, sha256};
use crate::validate::{field, opt_int, opt_str, req_str};
use crate::AppState;

/// Where generated images are served (exempt from auth, like signed URLs).
pub(crate) const SERVE_PREFIX: &str = "/v1/reference-images/";
/// The route pattern of [`SERVE_PREFIX`].
pub(crate) const SERVE_ROUTE: &str = "/v1/reference-images/{name}";
/// Side length of every generated image, whatever `size` asked for.
const SIDE: u32 = 8;
const SIZES: &[&str] = &[
    "auto",
    "256x256",
    "512x512",
    "1024x1024",
    "1536x1024",
    "1024x1536",
    "1792x1024",
    "1024x1792",
];

/// The handler.
pub(crate) async fn generate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    let req = &body.map;
    let prompt = req_str(field(req, "prompt"), "prompt")?;
    if prompt.trim().is_empty() {
        return Err(ApiError::invalid_value(
            "prompt",
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        ));
    }
    let n = opt_int(field(req, "n"), "n", 1, Some(10))?.unwrap_or(1);
    if let Some(size) = opt_str(field(req, "size"), "size")? {
        if !SIZES.contains(&size) {
            return Err(ApiError::invalid_enum("size", size, SIZES));
        }
    }
    let as_url = match opt_str(field(req, "response_format"), "response_format")? {
        None | Some("b64_json") => false,
        Some("url") => true,
        Some(other) => {
            return Err(ApiError::invalid_enum(
                "response_format",
                other,
                &["url", "b64_json"],
            ))
        }
    };
    for key in [
        "quality",
        "style",
        "background",
        "output_format",
        "moderation",
        "user",
    ] {
        opt_str(field(req, key), key)?;
    }
    if let Some(model) = opt_str(field(req, "model"), "model")? {
        models::require(state.config.deviations, model, Kind::Image)?;
    }

    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let h = sha256(&[prompt.as_bytes(), &i.to_le_bytes()]);
            let rgb = [h[0], h[1], h[2]];
            if as_url {
                json!({ "url": format!("http://{host}{SERVE_PREFIX}{}.png", hex(&rgb)), "revised_prompt": prompt })
            } else {
                json!({ "b64_json": STANDARD.encode(solid_png(rgb)), "revised_prompt": prompt })
            }
        })
        .collect();
    Ok(Json(json!({ "created": now_unix(), "data": data })))
}

/// `GET /v1/reference-images/{rrggbb}.png`: the image a `url` response pointed at.
pub(crate) async fn serve(Path(name): Path<String>) -> Result<Response, ApiError> {
    let rgb = name
        .strip_suffix(".png")
        .filter(|h| h.len() == 6)
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| ApiError::object_not_found(format!("No such image: {name}"), None))?;
    let [_, r, g, b] = rgb.to_be_bytes();
    let mut response = solid_png([r, g, b]).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(response)
}

/// An 8×8 RGB PNG of one colour: signature, IHDR, one IDAT holding a stored (uncompressed)
/// zlib stream, IEND.
pub(crate) fn solid_png(rgb: [u8; 3]) -> Vec<u8> {
    // Each scanline: filter type 0 (none), then the pixels.
    let mut row = vec![0u8];
    for _ in 0..SIDE {
        row.extend_from_slice(&rgb);
    }
    let raw = row.repeat(SIDE as usize);
    let mut zlib = vec![0x78, 0x01, 0x01]; // zlib header; final stored block
    let len = raw.len() as u16;
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, truecolour, deflate, no filter, no interlace

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(&data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn png_has_the_right_structure() {
        let png = solid_png([1, 2, 3]);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&png[12..16], b"IHDR");
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }
}
