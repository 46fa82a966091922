//! `--replay DIR`: serve recordings from an in-process HTTP server on 127.0.0.1 that the run
//! targets instead of the live endpoints, so HTTP, SSE parsing, timings and judging run
//! unchanged.
//!
//! Every target is served under its own path prefix (`http://127.0.0.1:PORT/<target>/…`) and
//! sends a placeholder credential in `x-llm-parity-replay-auth`, so the server can tell the
//! step's credential mode (`default`, `none`, `invalid`) without any real key. A request with
//! no recording gets HTTP 599 and a marker header. Replay is the transport's concern: the
//! replay targets' HTTP client finishes each exchange with [`Marks`] as it is built, turning a
//! missing recording into a `replay` transport error naming the key and re-applying a recorded
//! transport error (timeout, reset, oversized body), so the judge — once, like any run — gives
//! the outcome and reason of the recorded run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;

use super::format::{self, KeyBody, RecordedResponse, Recording};
use crate::execute::exchange::{Exchange, TransportError, TransportErrorKind};
use crate::execute::http::{ExchangeFinisher, INVALID_KEY};
use crate::load::target::parse_base_url;
use crate::load::{Auth, AuthHeader, Secret, Target};
use crate::util::fs::{MIB, ReadError, ReadErrorKind, read_bounded_string};

/// The largest recording read: one exchange, its body at most `--max-body` (8 MiB by default),
/// as JSON text (base64 for a body that is not text).
const RECORDING_FILE_LIMIT: u64 = 64 * MIB;

/// The header replay targets send their placeholder credential in.
pub const AUTH_HEADER: &str = "x-llm-parity-replay-auth";
/// The placeholder credential (not a secret; registered with the redactor like any key).
const AUTH_VALUE: &str = "llm-parity-replay-placeholder";
/// Set on every replayed response: the recording's key.
pub const KEY_HEADER: &str = "x-llm-parity-replay-key";
/// Set (with status 599) when there is no usable recording: the reason.
pub const ERROR_HEADER: &str = "x-llm-parity-replay-error";
/// The status of a request the replay server cannot answer from a recording.
pub const NO_RECORDING_STATUS: u16 = 599;

/// A running replay server and the targets rewritten to use it.
pub struct Replay {
    /// The run's targets, in the same order, pointing at the replay server.
    pub targets: Vec<Arc<Target>>,
    /// Finishes every exchange with the server's marks (for `ClientOptions::finisher`).
    pub finisher: Arc<dyn ExchangeFinisher>,
}

struct ServerState {
    dir: PathBuf,
}

/// Why replaying cannot start, or a recording cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(
        "--replay {}: not a directory of recordings (record one with --record {})",
        .0.display(),
        .0.display()
    )]
    NotADirectory(PathBuf),
    #[error("cannot start the replay server: {0}")]
    Listen(#[source] std::io::Error),
    #[error("cannot read recording {}: {}", .0.path.display(), .0.kind)]
    Read(ReadError),
    #[error("recording {} is not a valid recording: {source}", path.display())]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("cannot encode the recorded body: {0}")]
    Body(#[source] serde_json::Error),
}

/// Start the replay server for `dir` and rewrite `targets` to use it.
pub async fn start(dir: &Path, targets: &[Arc<Target>]) -> Result<Replay, ReplayError> {
    if !dir.is_dir() {
        return Err(ReplayError::NotADirectory(dir.to_path_buf()));
    }
    for t in targets {
        let sub = dir.join(format::target_dir(&t.name));
        if !sub.is_dir() {
            eprintln!(
                "warning: no recordings for target `{}` ({} does not exist): its exchanges will be errors",
                t.name,
                sub.display()
            );
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(ReplayError::Listen)?;
    let port = listener.local_addr().map_err(ReplayError::Listen)?.port();
    let state = Arc::new(ServerState {
        dir: dir.to_path_buf(),
    });
    let app = axum::Router::new().fallback(serve).with_state(state);
    tokio::spawn(async move {
        use axum::serve::ListenerExt as _;
        // Replayed events keep their recorded offsets only if Nagle does not hold them back.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, app).await;
    });
    let targets = targets
        .iter()
        .map(|t| {
            let mut r = (**t).clone();
            r.base_url = parse_base_url(&format!(
                "http://127.0.0.1:{port}/{}/",
                format::target_dir(&t.name)
            ))
            .expect("valid local URL");
            r.auth = Auth::Key {
                header: AuthHeader::Named(AUTH_HEADER.into()),
                env: t.auth.key_env().unwrap_or("(replay)").to_string(),
                key: Secret::new(AUTH_VALUE),
            };
            Arc::new(r)
        })
        .collect();
    Ok(Replay {
        targets,
        finisher: Arc::new(Marks {
            dir: dir.to_path_buf(),
        }),
    })
}

async fn serve(State(st): State<Arc<ServerState>>, req: Request) -> Response {
    let t0 = tokio::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return no_recording(format!("replay server could not read the request: {e}")),
    };
    let path = parts.uri.path().trim_start_matches('/');
    let (target, rest) = path.split_once('/').unwrap_or((path, ""));
    let rel = match parts.uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    let auth = match parts.headers.get(AUTH_HEADER) {
        None => "none",
        Some(v) if v.as_bytes() == INVALID_KEY.as_bytes() => "invalid",
        Some(_) => "default",
    };
    let ct = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let text;
    let summary;
    let key_body = if body.is_empty() {
        KeyBody::None
    } else if let Some(s) = multipart_summary(ct, &body) {
        summary = s;
        KeyBody::Multipart(&summary)
    } else {
        text = String::from_utf8_lossy(&body).into_owned();
        KeyBody::Raw(&text)
    };
    let method = parts.method.as_str();
    let key = format::key(method, &rel, auth, &key_body);
    let file = st.dir.join(target).join(format!("{key}.json"));
    let rec = match read_recording(&file) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return no_recording(format!(
                "no recording for key {key} ({method} {}) in {}",
                format::strip_credential_params(&rel),
                st.dir.join(target).display()
            ));
        }
        Err(e) => return no_recording(e.to_string()),
    };
    let Some(resp) = rec.response else {
        // The live exchange had no response at all: `Marks` restores its error.
        return with_key(Response::new(Body::empty()), &key);
    };
    if let Some(ms) = resp.headers_ms {
        tokio::time::sleep_until(t0 + millis(ms)).await;
    }
    let Ok(status) = StatusCode::from_u16(resp.status) else {
        return no_recording(format!(
            "recording {} has an invalid status",
            file.display()
        ));
    };
    let mut out = match build_body(&resp, t0) {
        Ok(b) => Response::new(b),
        Err(e) => return no_recording(format!("recording {}: {e}", file.display())),
    };
    *out.status_mut() = status;
    for (k, v) in &resp.headers {
        if format::is_hop_by_hop(k) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v)) {
            out.headers_mut().append(k, v);
        }
    }
    with_key(out, &key)
}

fn read_recording(file: &Path) -> Result<Option<Recording>, ReplayError> {
    let text = match read_bounded_string(file, RECORDING_FILE_LIMIT) {
        Ok(t) => t,
        Err(ReadError {
            kind: ReadErrorKind::Io(e),
            ..
        }) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ReplayError::Read(e));
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ReplayError::Invalid {
            path: file.to_path_buf(),
            source,
        })
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 24.0 * 3600.0))
}

/// The body: streamed events at their recorded offsets (first byte, then the rest when the
/// event was complete), or the whole body at once.
fn build_body(resp: &RecordedResponse, t0: tokio::time::Instant) -> Result<Body, ReplayError> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s);
    if let Some(events) = &resp.events {
        let mut pieces: Vec<(Duration, Bytes)> = Vec::new();
        for c in events {
            let bytes = match (&c.raw, &c.raw_base64) {
                (Some(t), _) => t.as_bytes().to_vec(),
                (None, Some(b)) => b64(b)?,
                (None, None) => vec![],
            };
            if bytes.is_empty() {
                continue;
            }
            if c.at_ms > c.first_byte_ms && bytes.len() > 1 {
                pieces.push((millis(c.first_byte_ms), Bytes::copy_from_slice(&bytes[..1])));
                pieces.push((millis(c.at_ms), Bytes::copy_from_slice(&bytes[1..])));
            } else {
                pieces.push((millis(c.at_ms), Bytes::from(bytes)));
            }
        }
        let stream = futures_util::stream::unfold(pieces.into_iter(), move |mut it| async move {
            let (at, bytes) = it.next()?;
            tokio::time::sleep_until(t0 + at).await;
            Some((Ok::<_, std::convert::Infallible>(bytes), it))
        });
        // The live endpoint kept the connection open after [DONE]: so does replay, until the
        // client gives up as it did.
        if resp.held_open {
            use futures_util::StreamExt as _;
            return Ok(Body::from_stream(
                stream.chain(futures_util::stream::pending()),
            ));
        }
        return Ok(Body::from_stream(stream));
    }
    let bytes = if let Some(v) = &resp.body_json {
        serde_json::to_vec(v).map_err(ReplayError::Body)?
    } else if let Some(t) = &resp.body_text {
        t.as_bytes().to_vec()
    } else if let Some(b) = &resp.body_base64 {
        b64(b)?
    } else {
        vec![]
    };
    Ok(Body::from(bytes))
}

fn with_key(mut r: Response, key: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(key) {
        r.headers_mut().insert(KEY_HEADER, v);
    }
    r
}

fn no_recording(reason: String) -> Response {
    let mut r = Response::new(Body::from(reason.clone()));
    *r.status_mut() = StatusCode::from_u16(NO_RECORDING_STATUS).expect("valid status");
    let header = HeaderValue::from_str(&reason)
        .unwrap_or_else(|_| HeaderValue::from_static("no usable recording (see the body)"));
    r.headers_mut().insert(ERROR_HEADER, header);
    r
}

/// The executor's multipart summary (`purpose=batch, file=@in.jsonl (123 bytes)`) rebuilt from
/// a received `multipart/form-data` body.
pub fn multipart_summary(content_type: &str, body: &[u8]) -> Option<String> {
    let ct = content_type.to_ascii_lowercase();
    if !ct.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"'))?;
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    // Skip the preamble up to the first delimiter.
    let first = find(rest, delim.as_bytes())?;
    rest = &rest[first + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        let rest_part = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let end = find(rest_part, format!("\r\n{delim}").as_bytes())?;
        let part = &rest_part[..end];
        let head_end = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..head_end]);
        let content = &part[head_end + 4..];
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        let param = |name: &str| {
            disposition.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k.eq_ignore_ascii_case(name)).then(|| v.trim_matches('"').to_string())
            })
        };
        let name = param("name")?;
        parts.push(match param("filename") {
            Some(f) => format!("{name}=@{f} ({} bytes)", content.len()),
            None => format!("{name}={}", String::from_utf8_lossy(content)),
        });
        rest = &rest_part[end + 2 + delim.len()..];
    }
    Some(parts.join(", "))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Applies the replay server's marks to each exchange as it is built, before anything judges
/// it: a request with no recording becomes a `replay` transport error naming the missing key,
/// and a recorded transport error (timeout, reset, oversized body) is put back — without the
/// response when the live exchange had none — so the judge sees what the recorded run saw.
#[derive(Debug)]
struct Marks {
    dir: PathBuf,
}

impl ExchangeFinisher for Marks {
    fn finish(&self, target: &Target, ex: &mut Exchange) {
        let resp = ex.response.as_ref();
        let marker = |h: &str| resp.and_then(|r| r.header(h)).map(str::to_string);
        if marker(ERROR_HEADER).is_some() {
            // The body carries the reason whole (a header value cannot hold every path).
            let reason = resp
                .map(|r| String::from_utf8_lossy(&r.body).trim().to_string())
                .unwrap_or_default();
            ex.response = None;
            ex.error = Some(TransportError {
                kind: TransportErrorKind::Replay,
                message: reason,
            });
            return;
        }
        let Some(key) = marker(KEY_HEADER) else {
            return;
        };
        let file = self
            .dir
            .join(format::target_dir(&target.name))
            .join(format!("{key}.json"));
        // The server answered from this very file: an unreadable one now has nothing to add.
        let Ok(Some(Recording {
            response,
            error: Some(err),
            ..
        })) = read_recording(&file)
        else {
            return;
        };
        if response.is_none() {
            ex.response = None;
        }
        ex.error = Some(TransportError {
            kind: error_kind(&err.kind),
            message: err.message,
        });
    }
}

/// A recorded `TransportErrorKind` name back to the kind (an unknown name is a body error).
fn error_kind(name: &str) -> TransportErrorKind {
    serde_json::from_value(serde_json::Value::String(name.into()))
        .unwrap_or(TransportErrorKind::Body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::write::MULTIPART_PREFIX;

    #[test]
    fn multipart_summary_matches_the_executor() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\nabc\r\ndef\r\n--XyZ--\r\n";
        assert_eq!(
            multipart_summary("multipart/form-data; boundary=XyZ", body).as_deref(),
            Some("purpose=batch, file=@in.jsonl (8 bytes)")
        );
        assert_eq!(multipart_summary("application/json", body), None);
        assert!(MULTIPART_PREFIX.starts_with("multipart/form-data"));
    }

    #[test]
    fn error_kinds_round_trip() {
        assert_eq!(error_kind("idle_timeout"), TransportErrorKind::IdleTimeout);
        assert_eq!(error_kind("too_large"), TransportErrorKind::TooLarge);
        assert_eq!(error_kind("what"), TransportErrorKind::Body);
        assert_eq!(error_kind("closed"), TransportErrorKind::Closed);
    }
}
