//! What one HTTP exchange produced: the request as sent, the response (or why there is none),
//! SSE events with their arrival times, and the timings. Plain data; the judge reads it.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::stream::ChatStream;
use crate::util::text::excerpt;

#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    /// Headers as sent (credentials included: redaction happens when the report is built).
    pub headers: Vec<(String, String)>,
    /// The JSON body, when there was one.
    pub body: Option<Value>,
    /// The body text when it was not JSON (a deliberately malformed body, multipart summary).
    pub raw_body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: SentRequest,
    pub response: Option<Response>,
    /// Why there is no (complete) response: connect failure, timeout, reset, oversized body.
    pub error: Option<TransportError>,
    pub timings: Timings,
    /// Every attempt when retries are on (the last one is `response`/`error`).
    pub attempts: u32,
    /// Each attempt's status or error and the wait after it, when the exchange was retried
    /// (`--retries`); empty for a single attempt.
    pub attempt_log: Vec<Attempt>,
}

/// One attempt of an exchange, as the report lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub status: Option<u16>,
    /// The transport error's message, when there was one.
    pub error: Option<String>,
    pub duration_ms: f64,
    /// Why it was retried (`HTTP 429`, `connection failed`); `None` for the last attempt.
    pub retried_because: Option<String>,
    /// How long the client waited before the next attempt.
    pub delay: Option<Duration>,
    /// Where the delay came from: `Retry-After` (capped) or the backoff.
    pub delay_from_retry_after: bool,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as received (capped at `--max-body`).
    pub body: Bytes,
    /// When the content type or the request asked for a stream: the event stream, read into
    /// the one chat-stream model while it arrived.
    pub stream: Option<ChatStream>,
    /// When the body's bytes arrived (recordings cut the body into events with these times).
    pub arrivals: Arrivals,
    /// The body parsed as JSON, when it is JSON (`None` for streams and non-JSON bodies).
    pub json: Option<Value>,
    /// Why the JSON did not parse (or was not parsed), when the body is not a stream.
    pub json_error: Option<String>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
    pub fn is_event_stream(&self) -> bool {
        self.content_type()
            .map(|c| c.to_ascii_lowercase().starts_with("text/event-stream"))
            .unwrap_or(false)
    }
    /// A short, printable excerpt of the body for reasons.
    pub fn body_excerpt(&self, max: usize) -> String {
        // Only the head is decoded: a reason needs `max` characters, not a 20 MB copy. It
        // reaches past the cut far enough for a secret that straddles it to be masked whole
        // before it is cut.
        let body = self.body.trim_ascii_start();
        let reach = crate::redact::Redactor::process().reach();
        let head = &body[..body
            .len()
            .min(max.saturating_mul(4).saturating_add(4 + reach))];
        excerpt(&String::from_utf8_lossy(head), max)
    }
}

/// When the bytes of a body arrived: the body offset each read began at, with its time.
/// Reads are kept one by one up to [`Arrivals::MAX_MARKS`]; past that, reads closer together
/// than a resolution (which doubles, from 1 ms, each time the list fills up again) share the
/// earlier one's time, so a body sent a byte at a time costs a bounded list, not a mark per
/// byte.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arrivals {
    /// (body offset, nanoseconds from the start of the exchange), offsets increasing.
    marks: Vec<(u32, u64)>,
    resolution: u64,
}

impl Arrivals {
    pub const MAX_MARKS: usize = 16 * 1024;

    /// A read starting at body offset `offset` arrived at `at`.
    pub fn push(&mut self, offset: usize, at: std::time::Duration) {
        let at = at.as_nanos().min(u64::MAX as u128) as u64;
        let offset = offset.min(u32::MAX as usize) as u32;
        if let Some(&(_, last)) = self.marks.last()
            && at.saturating_sub(last) < self.resolution
        {
            return;
        }
        if self.marks.len() >= Self::MAX_MARKS {
            self.resolution = (self.resolution * 2).max(1_000_000);
            let r = self.resolution;
            let mut kept: Vec<(u32, u64)> = Vec::with_capacity(self.marks.len());
            for &(o, t) in &self.marks {
                if kept.last().is_none_or(|&(_, l)| t.saturating_sub(l) >= r) {
                    kept.push((o, t));
                }
            }
            self.marks = kept;
            return self.push(offset as usize, std::time::Duration::from_nanos(at));
        }
        self.marks.push((offset, at));
    }

    /// When the byte at `offset` arrived (the time of the read that brought it); `None` before
    /// any read.
    pub fn at(&self, offset: usize) -> Option<std::time::Duration> {
        let k = self.marks.partition_point(|&(o, _)| o as usize <= offset);
        let (_, t) = self.marks.get(k.checked_sub(1)?)?;
        Some(std::time::Duration::from_nanos(*t))
    }

    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportErrorKind {
    /// DNS, refused, TLS handshake.
    Connect,
    /// The connection was closed or reset before any response byte: the request may never
    /// have reached the application (a pooled keep-alive connection the server had just
    /// closed looks like this).
    Closed,
    /// No response headers within the request deadline.
    HeadersTimeout,
    /// The body stopped arriving for longer than the idle timeout.
    IdleTimeout,
    /// The whole exchange took longer than its deadline.
    Deadline,
    /// The connection broke while the body was arriving (reset, truncated, bad chunking).
    Body,
    /// The body exceeded `--max-body`.
    TooLarge,
    /// A redirect that we refused to follow (another host, or too many).
    Redirect,
    /// The request could not be built or sent (auth command failed, bad header value).
    Request,
    /// The run was interrupted.
    Cancelled,
    /// `--replay`: the replay server has no usable recording of the request.
    Replay,
}

#[derive(Debug, Clone)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

/// Milliseconds from the start of the exchange (request about to be written).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Timings {
    /// Response headers received.
    pub headers_ms: Option<f64>,
    /// First body byte received.
    pub first_byte_ms: Option<f64>,
    /// First streamed event carrying content (text, tool-call or reasoning delta).
    pub ttft_ms: Option<f64>,
    /// Body complete (or the exchange given up).
    pub total_ms: f64,
    /// SSE data events received.
    pub chunk_count: usize,
    /// Largest and median gap between consecutive SSE events.
    pub gap_max_ms: Option<f64>,
    pub gap_p50_ms: Option<f64>,
}
