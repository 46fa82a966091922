//! What one HTTP exchange produced: the request as sent, the response (or why there is none),
//! SSE events with their arrival times, and the timings. Plain data; the judge reads it.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::sse::{SseItem, SseProblemKind};
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
    /// Parsed once by the executor when the content type or the request asked for a stream.
    pub sse: Option<Vec<SseItem>>,
    /// The body parsed as JSON, when it is JSON (`None` for SSE or non-JSON bodies).
    pub json: Option<Value>,
    /// Why the JSON did not parse, when the body is not SSE.
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
        excerpt(&String::from_utf8_lossy(&self.body), max)
    }
    /// The SSE data events (ignoring comments and problems).
    pub fn sse_events(&self) -> impl Iterator<Item = &super::sse::SseEvent> {
        self.sse.iter().flatten().filter_map(|i| match i {
            SseItem::Event(e) => Some(e),
            _ => None,
        })
    }
    pub fn sse_problems(&self) -> impl Iterator<Item = (&SseProblemKind, &str)> {
        self.sse.iter().flatten().filter_map(|i| match i {
            SseItem::Problem(p) => Some((&p.kind, p.detail.as_str())),
            _ => None,
        })
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
