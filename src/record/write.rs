//! `--record DIR`: as each case finishes, turn every exchange it made into a redacted
//! recording file `DIR/<target>/<key>.json`, written atomically.
//!
//! Recording works from the `FinishedCase`s the run produced, so the executor needs no recording
//! mode: what is written is exactly what the judge saw.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use base64::Engine as _;

use super::format::{
    self, KeyBody, RecordedChunk, RecordedError, RecordedRequest, RecordedResponse, Recording,
};
use crate::execute::exchange::{Arrivals, Exchange, Response, TransportErrorKind};
use crate::judge::FinishedCase;
use crate::load::suite::AuthOverride;
use crate::redact::{Redactor, is_sensitive_header};
use crate::util::fs::atomic_write;

/// Writes a recording for every distinct request of the cases it is handed, as they finish.
/// When several cases send the same request, the one earliest in the plan wins whatever order
/// they finish in (a later-planned recording is replaced).
///
/// The files are rendered (redacted once more, pretty-printed) and written (atomically, each
/// synced to disk) by a thread of their own, in the order they were handed over: the run's
/// scheduler loop only builds each `Recording`, and waits on the disk only when the recordings
/// waiting for it hold more than [`MAX_QUEUED_BYTES`] (large streams faster than the disk).
pub struct Recorder<'a> {
    dir: &'a Path,
    redactor: &'a Redactor,
    /// (target directory, key) → plan index of the case whose recording is on disk.
    written: BTreeMap<(String, String), usize>,
    files: Option<Sender<(PathBuf, Recording, usize)>>,
    /// Bytes of the recordings handed over and not yet written.
    queued: Arc<(Mutex<usize>, Condvar)>,
    /// The writer thread; it returns the first failure to render or write a file.
    writer: Option<JoinHandle<Option<RecordingError>>>,
}

/// Why a recording could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{}: {source}", path.display())]
    Render {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the recording writer panicked")]
    WriterPanicked,
}

/// Recordings waiting for the writer hold at most this many bytes (one larger recording is
/// always admitted), so a fast run with big streams cannot pile them up in memory.
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;

impl<'a> Recorder<'a> {
    pub fn new(dir: &'a Path, redactor: &'a Redactor) -> Self {
        let (files, queue) = std::sync::mpsc::channel::<(PathBuf, Recording, usize)>();
        let thread_redactor = redactor.clone();
        let queued = Arc::new((Mutex::new(0usize), Condvar::new()));
        let done = queued.clone();
        let writer = std::thread::spawn(move || {
            let mut first = None;
            for (p, rec, size) in queue {
                if let Err(e) = write_file(&p, &rec, &thread_redactor) {
                    first.get_or_insert(e);
                }
                drop(rec);
                let (lock, freed) = &*done;
                let mut n = lock.lock().unwrap_or_else(|e| e.into_inner());
                *n = n.saturating_sub(size);
                freed.notify_all();
            }
            first
        });
        Recorder {
            dir,
            redactor,
            written: BTreeMap::new(),
            files: Some(files),
            queued,
            writer: Some(writer),
        }
    }

    /// Waits until `size` more bytes fit in the queue, then counts them.
    fn admit(&self, size: usize) {
        let (lock, freed) = &*self.queued;
        let mut n = lock.lock().unwrap_or_else(|e| e.into_inner());
        // A writer that died (it never should) frees nothing: then the queue is not waited on.
        let alive = || self.writer.as_ref().is_some_and(|w| !w.is_finished());
        while *n > 0 && *n + size > MAX_QUEUED_BYTES && alive() {
            n = freed
                .wait_timeout(n, std::time::Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *n += size;
    }

    /// Record every sent exchange of one finished case (`idx`: its place in the plan).
    pub fn add(&mut self, idx: usize, rec: &FinishedCase) {
        for step in &rec.steps {
            let ex = &step.exchange;
            let unsent = ex.request.url.is_empty()
                || ex
                    .error
                    .as_ref()
                    .is_some_and(|e| e.kind == TransportErrorKind::Cancelled);
            if unsent {
                continue;
            }
            let path = relative_path(&ex.request.url, rec.target.base_url.as_str());
            let auth = auth_mode(step.auth);
            let key = format::key(&ex.request.method, &path, auth, &key_body(ex));
            let slot = (format::target_dir(&rec.target.name), key);
            if self.written.get(&slot).is_some_and(|&first| first <= idx) {
                continue;
            }
            let recording = recording(&slot.1, rec, &step.name, &path, auth, ex, self.redactor);
            let p = self.dir.join(&slot.0).join(format!("{}.json", slot.1));
            let size = queued_size(ex);
            self.admit(size);
            let files = self.files.as_ref().expect("open until finish");
            // The writer only stops when it is told to (`flush`), so the send cannot fail.
            let _ = files.send((p, recording, size));
            self.written.insert(slot, idx);
        }
    }

    /// Wait until every file is on disk; the first error, if any.
    fn flush(&mut self) -> Option<RecordingError> {
        drop(self.files.take());
        let writer = self.writer.take()?;
        writer
            .join()
            .unwrap_or(Some(RecordingError::WriterPanicked))
    }

    /// How many files were written, or the first error.
    pub fn finish(mut self) -> Result<usize, RecordingError> {
        match self.flush() {
            Some(e) => Err(e),
            None => Ok(self.written.len()),
        }
    }
}

/// About what a recording of `ex` holds in memory until it is written.
fn queued_size(ex: &Exchange) -> usize {
    let request = ex.request.raw_body.as_ref().map_or(0, String::len)
        + ex.request.body.as_ref().map_or(0, |_| 4096);
    let response = ex.response.as_ref().map_or(0, |r| r.body.len());
    request + response + 1024
}

/// One recording file: pretty JSON, redacted once more as text (belt and braces: every string
/// of it was redacted when the recording was built). Rendered straight from the recording, so
/// a large stream costs its text, not a `Value` of it as well.
fn write_file(p: &Path, rec: &Recording, redactor: &Redactor) -> Result<(), RecordingError> {
    let mut text = serde_json::to_string_pretty(rec).map_err(|source| RecordingError::Render {
        path: p.to_path_buf(),
        source,
    })?;
    text.push('\n');
    atomic_write(p, redactor.text(&text).as_bytes()).map_err(|source| RecordingError::Write {
        path: p.to_path_buf(),
        source,
    })
}

impl Drop for Recorder<'_> {
    /// A run that ends without `finish` (an early error) still leaves whole files behind.
    fn drop(&mut self) {
        self.flush();
    }
}

/// The credential mode a step used, as the replay server sees it on the wire.
pub fn auth_mode(a: AuthOverride) -> &'static str {
    match a {
        AuthOverride::Default => "default",
        AuthOverride::None => "none",
        AuthOverride::Invalid => "invalid",
    }
}

/// The URL relative to the base URL (`chat/completions?x=1`); the whole URL if it escaped it.
/// A query on the base URL is not part of the base (joining a path drops it).
pub fn relative_path(url: &str, base: &str) -> String {
    let base = base.split(['?', '#']).next().unwrap_or(base);
    url.strip_prefix(base).unwrap_or(url).to_string()
}

/// What the body contributes to the key, as sent.
pub fn key_body(ex: &Exchange) -> KeyBody<'_> {
    let r = &ex.request;
    if let Some(v) = &r.body {
        return KeyBody::Json(v);
    }
    match &r.raw_body {
        None => KeyBody::None,
        Some(s) => {
            // The executor summarises multipart bodies in `raw_body` and lets reqwest set the
            // content type; a raw body is always sent as application/json.
            let has_ct = r
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
            match s.strip_prefix(MULTIPART_PREFIX) {
                Some(summary) if !has_ct => KeyBody::Multipart(summary),
                _ => KeyBody::Raw(s),
            }
        }
    }
}

/// How `SentRequest::raw_body` starts for a multipart body.
pub const MULTIPART_PREFIX: &str = "multipart/form-data: ";

fn recording(
    key: &str,
    rec: &FinishedCase,
    step: &str,
    path: &str,
    auth: &str,
    ex: &Exchange,
    redactor: &Redactor,
) -> Recording {
    let headers = |h: &[(String, String)]| -> Vec<(String, String)> {
        redactor
            .headers(h)
            .into_iter()
            .filter(|(k, _)| !is_sensitive_header(k) && !format::is_hop_by_hop(k))
            .collect()
    };
    let mut body = ex.request.body.clone();
    if let Some(b) = body.as_mut() {
        redactor.json(b);
    }
    Recording {
        format: format::FORMAT.into(),
        key: key.into(),
        target: rec.target.name.clone(),
        case: rec.case.full_id(),
        step: step.into(),
        request: RecordedRequest {
            method: ex.request.method.clone(),
            path: redactor
                .text(&format::strip_credential_params(path))
                .into_owned(),
            auth: auth.into(),
            headers: headers(&ex.request.headers),
            body,
            raw_body: ex
                .request
                .raw_body
                .as_deref()
                .map(|s| redactor.text(s).into_owned()),
        },
        response: ex.response.as_ref().map(|r| RecordedResponse {
            status: r.status,
            headers: headers(&r.headers),
            headers_ms: ex.timings.headers_ms,
            ..body_of(r, ex.timings.total_ms, redactor)
        }),
        error: ex.error.as_ref().map(|e| RecordedError {
            kind: serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            message: redactor.text(&e.message).into_owned(),
        }),
    }
}

/// The body fields of a recorded response (status and headers are filled in by the caller).
fn body_of(r: &Response, total_ms: f64, redactor: &Redactor) -> RecordedResponse {
    let mut out = RecordedResponse {
        status: r.status,
        headers: vec![],
        headers_ms: None,
        body_json: None,
        body_text: None,
        body_base64: None,
        events: None,
        stream_cut: None,
        held_open: false,
    };
    if let Some(stream) = &r.stream {
        out.events = Some(
            chunk_events(&r.body, &r.arrivals, total_ms)
                .into_iter()
                .map(|(bytes, first, at)| {
                    let (raw, raw_base64) = text_or_base64(bytes, redactor);
                    RecordedChunk {
                        first_byte_ms: first,
                        at_ms: at,
                        raw,
                        raw_base64,
                    }
                })
                .collect(),
        );
        out.stream_cut = stream.cut().cloned();
        out.held_open = stream.held_after_done().is_some();
        return out;
    }
    if r.body.is_empty() {
        return out;
    }
    // JSON is kept as JSON only when replaying it compactly gives back the same bytes, so a
    // reason quoting the body reads the same in replay.
    // Nested deeper than KEPT_DEPTH, it is kept as text, so the recording reads back.
    if let Some(v) = &r.json
        && serde_json::to_vec(v).is_ok_and(|b| b == r.body)
        && std::str::from_utf8(&r.body)
            .is_ok_and(|t| crate::util::json::nesting(t) <= crate::util::json::KEPT_DEPTH)
    {
        let mut v = v.clone();
        redactor.json(&mut v);
        out.body_json = Some(v);
        return out;
    }
    (out.body_text, out.body_base64) = text_or_base64(&r.body, redactor);
    out
}

fn text_or_base64(bytes: &[u8], redactor: &Redactor) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Some(redactor.text(s).into_owned()), None),
        Err(_) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(redactor.bytes(bytes))),
        ),
    }
}

/// Cut an SSE body into events (each up to and including its terminating blank line; a trailing
/// unterminated part is the last piece), each with the arrival times (ms) of its first and last
/// byte. Consecutive events that arrived in the same read are one piece: replay sends a piece's
/// first byte at its first time and the rest at its last, so merging them changes nothing it
/// sends, while a flood of tiny events arriving together costs one entry, not one per event.
pub fn chunk_events<'a>(
    body: &'a [u8],
    arrivals: &Arrivals,
    total_ms: f64,
) -> Vec<(&'a [u8], f64, f64)> {
    let ms = |offset: usize| {
        arrivals
            .at(offset)
            .map_or(total_ms, |d| d.as_secs_f64() * 1000.0)
    };
    let mut out: Vec<(usize, usize, f64, f64)> = Vec::new();
    let mut start = 0;
    let mut prev = 0.0_f64;
    for piece in split_events(body) {
        let end = start + piece.len();
        let at = ms(end - 1).max(prev);
        let first = ms(start).clamp(prev, at);
        prev = at;
        match out.last_mut() {
            Some(last) if first == at && at == last.3 => last.1 = end,
            _ => out.push((start, end, first, at)),
        }
        start = end;
    }
    out.into_iter()
        .map(|(a, b, first, at)| (&body[a..b], first, at))
        .collect()
}

/// Split an event stream after every blank line (`\n`, `\r\n` or `\r` line ends).
pub fn split_events(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut line_start, mut i) = (0, 0, 0);
    while i < body.len() {
        let b = body[i];
        if b == b'\n' || b == b'\r' {
            let mut end = i + 1;
            if b == b'\r' && body.get(end) == Some(&b'\n') {
                end += 1;
            }
            if i == line_start {
                out.push(&body[start..end]);
                start = end;
            }
            line_start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < body.len() {
        out.push(&body[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_case_earliest_in_the_plan_wins_whatever_order_cases_finish_in() {
        use crate::judge::Outcome;
        use crate::testing;
        let dir = tempfile::tempdir().unwrap();
        let redactor = Redactor::new(Default::default());
        let t = testing::target("t");
        // Two cases sending the same request: one recording, from the case planned first.
        let (first, second) = (testing::case("first"), testing::case("second"));
        let body = serde_json::json!({"ok": true});
        let mut r = Recorder::new(dir.path(), &redactor);
        r.add(
            7,
            &testing::finished(&t, &second, Outcome::Pass, body.clone()),
        );
        r.add(
            3,
            &testing::finished(&t, &first, Outcome::Pass, body.clone()),
        );
        r.add(9, &testing::finished(&t, &second, Outcome::Pass, body));
        assert_eq!(r.finish().unwrap(), 1);
        let files: Vec<_> = std::fs::read_dir(dir.path().join("t")).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("\"s/first\""), "{text}");
    }

    #[test]
    fn a_file_that_cannot_be_written_is_reported_by_finish_and_by_drop_nothing_is_lost() {
        use crate::judge::Outcome;
        use crate::testing;
        let dir = tempfile::tempdir().unwrap();
        let redactor = Redactor::new(Default::default());
        let t = testing::target("t");
        let body = serde_json::json!({"ok": true});
        // `DIR/t` is a file, so `DIR/t/<key>.json` cannot be created.
        std::fs::write(dir.path().join("t"), "in the way").unwrap();
        let mut r = Recorder::new(dir.path(), &redactor);
        r.add(
            0,
            &testing::finished(&t, &testing::case("c"), Outcome::Pass, body.clone()),
        );
        let err = r.finish().unwrap_err();
        assert!(
            matches!(&err, RecordingError::Write { path, .. } if path.starts_with(dir.path().join("t"))),
            "{err}"
        );

        // Dropped without finish (a run that ends early): the queued file is still written.
        let ok = tempfile::tempdir().unwrap();
        let mut r = Recorder::new(ok.path(), &redactor);
        r.add(
            0,
            &testing::finished(&t, &testing::case("c"), Outcome::Pass, body),
        );
        drop(r);
        assert_eq!(std::fs::read_dir(ok.path().join("t")).unwrap().count(), 1);
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("http://h/v1/chat/completions?alt=sse", "http://h/v1/?key=k"),
            "chat/completions?alt=sse"
        );
        assert_eq!(
            relative_path("http://h/models", "http://h/v1/"),
            "http://h/models"
        );
    }

    #[test]
    fn splits_on_every_line_ending() {
        let body = b"data: a\n\n: c\r\n\r\ndata: b\r\rdata: tail";
        let parts: Vec<&[u8]> = split_events(body);
        assert_eq!(
            parts,
            vec![
                &b"data: a\n\n"[..],
                &b": c\r\n\r\n"[..],
                &b"data: b\r\r"[..],
                &b"data: tail"[..]
            ]
        );
        assert_eq!(parts.concat(), body.to_vec());
    }

    #[test]
    fn events_get_the_arrival_times_of_their_reads_and_same_read_events_merge() {
        let body = b"data: one\n\n: ping\n\ndata: two\n\ndata: [DONE]\n\n";
        let ms = |n: u64| Duration::from_millis(n);
        // One read per event, 10 ms apart.
        let mut arrivals = Arrivals::default();
        let mut offset = 0;
        for (i, c) in split_events(body).iter().enumerate() {
            arrivals.push(offset, ms(10 * (i as u64 + 1)));
            offset += c.len();
        }
        let chunks = chunk_events(body, &arrivals, 55.0);
        let times: Vec<(f64, f64)> = chunks.iter().map(|(_, f, a)| (*f, *a)).collect();
        assert_eq!(
            times,
            vec![(10.0, 10.0), (20.0, 20.0), (30.0, 30.0), (40.0, 40.0)]
        );
        // An event split across two reads keeps both times.
        let mut arrivals = Arrivals::default();
        arrivals.push(0, ms(5));
        arrivals.push(4, ms(9));
        let chunks = chunk_events(b"data: x\n\n", &arrivals, 10.0);
        assert_eq!(chunks, vec![(&b"data: x\n\n"[..], 5.0, 9.0)]);
        // Everything in one read: one piece, the body whole.
        let mut arrivals = Arrivals::default();
        arrivals.push(0, ms(3));
        let chunks = chunk_events(body, &arrivals, 55.0);
        assert_eq!(chunks, vec![(&body[..], 3.0, 3.0)]);
        // No read at all (an empty body has no events).
        assert!(chunk_events(b"", &Arrivals::default(), 1.0).is_empty());
    }
}
