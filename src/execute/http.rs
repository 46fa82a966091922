//! One `reqwest::Client` per target (connection reuse), and sending one prepared request into an
//! `Exchange` under every deadline: connect, headers, stream idle and the whole exchange.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::Value;

use super::exchange::{
    Attempt, Exchange, Response, SentRequest, Timings, TransportError, TransportErrorKind,
};
use super::rate::RateLimiter;
use super::retry::{self, RetryPolicy};
use super::sse::{SseItem, SseParser};
use crate::load::suite::AuthOverride;
use crate::load::{Auth, AuthHeader, Secret, Target};
use crate::redact::SecretRegistry;

/// A wrong but plausible key for `auth: invalid` cases (never a real credential).
pub const INVALID_KEY: &str = "sk-invalid-llm-parity-test-key-000000";

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-exchange deadline (headers and body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest silence allowed between two body chunks.
    pub idle_timeout: Duration,
    /// Bodies are read up to this many bytes; more is an error, and the rest is not read.
    pub max_body: usize,
    /// Extra root certificate (PEM) to trust, for endpoints behind a private CA.
    pub ca_cert: Option<Vec<u8>>,
    /// Retries of 429, 5xx and connection failures (`--retries`; none by default).
    pub retry: RetryPolicy,
    /// Completes each attempt's exchange as it is built, before anything judges it
    /// (`--replay` applies a recorded transport error here).
    pub finisher: Option<Arc<dyn ExchangeFinisher>>,
}

/// Completes an exchange as it is built: the transport's last word on it. `--replay` is the
/// one user: the replay server's marks become the recorded transport error, so the judge sees
/// the exchange as the recorded run did.
pub trait ExchangeFinisher: Send + Sync + std::fmt::Debug {
    fn finish(&self, target: &Target, exchange: &mut Exchange);
}

/// Why a target's HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid --ca-cert: {0}")]
    CaCert(#[source] reqwest::Error),
    #[error("failed to build HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_body: 8 * 1024 * 1024,
            ca_cert: None,
            retry: RetryPolicy::default(),
            finisher: None,
        }
    }
}

/// The body of a prepared request.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Raw(String),
    Multipart(Vec<(String, MultipartPart)>),
}

#[derive(Debug, Clone)]
pub enum MultipartPart {
    Text(String),
    File { filename: String, bytes: Vec<u8> },
}

/// A request with every template rendered, ready to send.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub method: reqwest::Method,
    /// Relative to the target's base URL (`chat/completions`, `/models`).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub auth: AuthOverride,
    pub stream: bool,
}

pub struct TargetClient {
    http: reqwest::Client,
    pub target: Arc<Target>,
    opts: ClientOptions,
    token: tokio::sync::Mutex<Option<(Secret, Instant)>>,
    secrets: SecretRegistry,
    /// The target's `rpm` limit, applied to every attempt.
    limiter: Option<RateLimiter>,
}

impl TargetClient {
    pub fn new(
        target: Arc<Target>,
        opts: ClientOptions,
        secrets: SecretRegistry,
    ) -> Result<Self, ClientError> {
        for s in target.secrets() {
            secrets.add(&s);
        }
        let origin = target.base_url.origin();
        // Follow redirects only within the target's origin: credentials must never be sent to
        // another host, and a conformance run should see cross-host redirects as they are.
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 || attempt.url().origin() != origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .redirect(policy)
            .user_agent(concat!("llm-parity/", env!("CARGO_PKG_VERSION")))
            // Shorter than the common server keep-alives (uvicorn and Node close idle connections
            // after 5 s): reusing a connection the server is closing makes a spurious reset.
            .pool_idle_timeout(Duration::from_secs(4));
        if let Some(pem) = &opts.ca_cert {
            let cert = reqwest::Certificate::from_pem(pem).map_err(ClientError::CaCert)?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(ClientError::Build)?;
        let timeout = target.timeout.unwrap_or(opts.timeout);
        let limiter = RateLimiter::per_minute(target.rpm);
        Ok(Self {
            http,
            limiter,
            target,
            opts: ClientOptions { timeout, ..opts },
            token: tokio::sync::Mutex::new(None),
            secrets,
        })
    }

    pub fn url_for(&self, path: &str) -> Result<url::Url, String> {
        let rel = path.trim_start_matches('/');
        self.target
            .base_url
            .join(rel)
            .map_err(|e| format!("cannot join `{path}` to the base URL: {e}"))
    }

    /// The whole-exchange deadline (`--timeout`, or the target's `timeout`).
    pub fn timeout(&self) -> Duration {
        self.opts.timeout
    }

    /// Send a request; never fails: every problem becomes part of the `Exchange`. With
    /// `--retries`, 429, 5xx and connection failures are tried again (see `retry`).
    pub async fn send(&self, req: &PreparedRequest) -> Exchange {
        self.send_observed(req, &mut |_, _| {}).await
    }

    /// [`send`](Self::send), telling `on_retry` about each attempt that is retried (its 1-based
    /// number and the attempt), as it happens.
    pub async fn send_observed(
        &self,
        req: &PreparedRequest,
        on_retry: &mut (dyn FnMut(usize, &Attempt) + Send),
    ) -> Exchange {
        retry::with_retries(
            &self.opts.retry,
            || async {
                let mut ex = self.send_paced(req).await;
                if let Some(f) = &self.opts.finisher {
                    f.finish(&self.target, &mut ex);
                }
                ex
            },
            tokio::time::sleep,
            on_retry,
        )
        .await
    }

    /// One attempt, after waiting for the target's `rpm` slot.
    async fn send_paced(&self, req: &PreparedRequest) -> Exchange {
        if let Some(l) = &self.limiter {
            l.wait().await;
        }
        let mut ex = self.send_once(req, false).await;
        // A short-lived token may have expired: refresh once and retry on 401.
        if matches!(self.target.auth, Auth::Command { .. })
            && req.auth == AuthOverride::Default
            && ex.response.as_ref().is_some_and(|r| r.status == 401)
        {
            if let Some(l) = &self.limiter {
                l.wait().await;
            }
            ex = self.send_once(req, true).await;
            ex.attempts = 2;
        }
        ex
    }

    async fn send_once(&self, req: &PreparedRequest, force_refresh: bool) -> Exchange {
        let start = Instant::now();
        let ms = |t: Instant| t.duration_since(start).as_secs_f64() * 1000.0;
        let deadline = tokio::time::Instant::from_std(start + self.opts.timeout);
        let mut sent = SentRequest {
            method: req.method.to_string(),
            url: String::new(),
            headers: vec![],
            body: None,
            raw_body: None,
        };
        let fail = |sent: SentRequest, kind, message: String, timings: Timings| Exchange {
            request: sent,
            response: None,
            error: Some(TransportError { kind, message }),
            timings,
            attempts: 1,
            attempt_log: vec![],
        };
        let url = match self.url_for(&req.path) {
            Ok(u) => u,
            Err(e) => return fail(sent, TransportErrorKind::Request, e, Timings::default()),
        };
        sent.url = url.to_string();

        let mut headers: Vec<(String, String)> = self.target.headers.clone();
        match self.auth_value(req.auth, force_refresh).await {
            Ok(Some((name, value))) => headers.push((name, value)),
            Ok(None) => {}
            Err(e) => return fail(sent, TransportErrorKind::Request, e, Timings::default()),
        }
        headers.extend(req.headers.iter().cloned());

        let mut rb = self.http.request(req.method.clone(), url);
        for (k, v) in &headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        match &req.body {
            Body::None => {}
            Body::Json(v) => {
                sent.body = Some(v.clone());
                headers.push(("content-type".into(), "application/json".into()));
                rb = rb
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(v).unwrap_or_default());
            }
            Body::Raw(s) => {
                sent.raw_body = Some(s.clone());
                headers.push(("content-type".into(), "application/json".into()));
                rb = rb
                    .header("content-type", "application/json")
                    .body(s.clone());
            }
            Body::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                let mut summary = Vec::new();
                for (name, part) in parts {
                    form = match part {
                        MultipartPart::Text(t) => {
                            summary.push(format!("{name}={t}"));
                            form.text(name.clone(), t.clone())
                        }
                        MultipartPart::File { filename, bytes } => {
                            summary.push(format!("{name}=@{filename} ({} bytes)", bytes.len()));
                            form.part(
                                name.clone(),
                                reqwest::multipart::Part::bytes(bytes.clone())
                                    .file_name(filename.clone()),
                            )
                        }
                    };
                }
                sent.raw_body = Some(format!("multipart/form-data: {}", summary.join(", ")));
                rb = rb.multipart(form);
            }
        }
        if req.stream {
            rb = rb.header("accept", "text/event-stream");
        }
        sent.headers = headers;

        let mut timings = Timings::default();
        let resp = match tokio::time::timeout_at(deadline, rb.send()).await {
            Err(_) => {
                timings.total_ms = ms(Instant::now());
                return fail(
                    sent,
                    TransportErrorKind::HeadersTimeout,
                    format!("no response headers within {:?}", self.opts.timeout),
                    timings,
                );
            }
            Ok(Err(e)) => {
                timings.total_ms = ms(Instant::now());
                let (kind, message) = classify(&e);
                return fail(sent, kind, message, timings);
            }
            Ok(Ok(r)) => r,
        };
        timings.headers_ms = Some(ms(Instant::now()));
        let status = resp.status().as_u16();
        let resp_headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if resp.status().is_redirection() {
            let to = resp_headers
                .iter()
                .find(|(k, _)| k == "location")
                .map(|(_, v)| v.as_str())
                .unwrap_or("?");
            timings.total_ms = ms(Instant::now());
            return fail(
                sent,
                TransportErrorKind::Redirect,
                format!(
                    "HTTP {status} redirect to `{to}` not followed (another origin or too many redirects; credentials are never forwarded)"
                ),
                timings,
            );
        }
        let ct = resp_headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default();
        let is_sse = ct.starts_with("text/event-stream")
            || (req.stream && resp.status().is_success() && !ct.contains("json"));

        let mut parser = is_sse.then(SseParser::new);
        let mut items: Vec<SseItem> = Vec::new();
        let mut body = BytesMut::new();
        let mut error = None;
        let mut stream = resp.bytes_stream();
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                error = Some((
                    TransportErrorKind::Deadline,
                    format!(
                        "exchange exceeded its {:?} deadline while reading the body",
                        self.opts.timeout
                    ),
                ));
                break;
            }
            let wait = self.opts.idle_timeout.min(deadline - now);
            match tokio::time::timeout(wait, stream.next()).await {
                Err(_) => {
                    error = Some(if tokio::time::Instant::now() >= deadline {
                        (
                            TransportErrorKind::Deadline,
                            format!(
                                "exchange exceeded its {:?} deadline while reading the body ({} bytes received)",
                                self.opts.timeout,
                                body.len()
                            ),
                        )
                    } else {
                        (
                            TransportErrorKind::IdleTimeout,
                            format!(
                                "no data for {:?} after {} bytes (stream stalled)",
                                self.opts.idle_timeout,
                                body.len()
                            ),
                        )
                    });
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    error = Some((
                        TransportErrorKind::Body,
                        format!(
                            "connection failed while reading the body after {} bytes: {}",
                            body.len(),
                            error_chain(&e)
                        ),
                    ));
                    break;
                }
                Ok(Some(Ok(chunk))) => {
                    let at = start.elapsed();
                    if timings.first_byte_ms.is_none() {
                        timings.first_byte_ms = Some(at.as_secs_f64() * 1000.0);
                    }
                    let room = self.opts.max_body.saturating_sub(body.len());
                    let take = chunk.len().min(room);
                    if let Some(p) = parser.as_mut() {
                        items.extend(p.feed(&chunk[..take], at));
                    }
                    body.extend_from_slice(&chunk[..take]);
                    if take < chunk.len() {
                        error = Some((
                            TransportErrorKind::TooLarge,
                            format!(
                                "response body exceeds the {} byte limit (--max-body); stopped reading",
                                self.opts.max_body
                            ),
                        ));
                        break;
                    }
                }
            }
        }
        let end = start.elapsed();
        if let Some(p) = parser.as_mut() {
            items.extend(p.finish(end));
        }
        timings.total_ms = end.as_secs_f64() * 1000.0;
        let body: Bytes = body.freeze();
        let (json, json_error) = if is_sse || body.is_empty() {
            (None, None)
        } else {
            match serde_json::from_slice::<Value>(&body) {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e.to_string())),
            }
        };
        let sse = parser.map(|_| items);
        if let Some(events) = &sse {
            stream_timings(events, &mut timings);
        }
        Exchange {
            request: sent,
            response: Some(Response {
                status,
                headers: resp_headers,
                body,
                sse,
                json,
                json_error,
            }),
            error: error.map(|(kind, message)| TransportError { kind, message }),
            timings,
            attempts: 1,
            attempt_log: vec![],
        }
    }

    /// The credential header for this request, running the token command when needed.
    async fn auth_value(
        &self,
        over: AuthOverride,
        force_refresh: bool,
    ) -> Result<Option<(String, String)>, String> {
        let header = match (over, self.target.auth.header()) {
            (AuthOverride::None, _) => return Ok(None),
            (AuthOverride::Invalid, h) => {
                return Ok(Some(render_header(
                    h.unwrap_or(&AuthHeader::Bearer),
                    INVALID_KEY,
                )));
            }
            (AuthOverride::Default, None) => return Ok(None),
            (AuthOverride::Default, Some(h)) => h,
        };
        let value = match &self.target.auth {
            Auth::None => return Ok(None),
            Auth::Key { key, .. } => key.expose().to_string(),
            Auth::Command {
                command,
                refresh_after,
                ..
            } => {
                let mut cached = self.token.lock().await;
                let fresh = cached
                    .as_ref()
                    .filter(|(_, at)| !force_refresh && at.elapsed() < *refresh_after);
                match fresh {
                    Some((t, _)) => t.expose().to_string(),
                    None => {
                        let t = run_token_command(command).await?;
                        self.secrets.add(&t);
                        *cached = Some((Secret::new(t.clone()), Instant::now()));
                        t
                    }
                }
            }
        };
        Ok(Some(render_header(header, &value)))
    }
}

fn render_header(h: &AuthHeader, key: &str) -> (String, String) {
    match h {
        AuthHeader::Bearer => ("authorization".into(), format!("Bearer {key}")),
        AuthHeader::Named(n) => (n.clone(), key.to_string()),
    }
}

pub(crate) async fn run_token_command(command: &str) -> Result<String, String> {
    let fut = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .map_err(|_| format!("auth command `{command}` did not finish within 60s"))?
        .map_err(|e| format!("failed to run auth command `{command}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "auth command `{command}` failed ({}): {}",
            out.status,
            crate::util::text::excerpt(&String::from_utf8_lossy(&out.stderr), 200)
        ));
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if token.is_empty() {
        return Err(format!("auth command `{command}` printed no token"));
    }
    Ok(token)
}

/// Derive TTFT, chunk count and gaps from the events' arrival times.
fn stream_timings(items: &[SseItem], t: &mut Timings) {
    let mut times = Vec::new();
    for item in items {
        if let SseItem::Event(e) = item {
            // `[DONE]` is the terminator, not a chunk.
            if e.data.trim() == "[DONE]" {
                continue;
            }
            let at_ms = e.first_byte_at.as_secs_f64() * 1000.0;
            times.push(e.at.as_secs_f64() * 1000.0);
            if t.ttft_ms.is_none() && has_content(&e.data) {
                t.ttft_ms = Some(at_ms);
            }
        }
    }
    t.chunk_count = times.len();
    let mut gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
    gaps.sort_by(f64::total_cmp);
    t.gap_max_ms = gaps.last().copied();
    t.gap_p50_ms = (!gaps.is_empty()).then(|| gaps[gaps.len() / 2]);
}

/// Whether a chunk carries output: text, a tool-call delta or reasoning.
fn has_content(data: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return false;
    };
    v.get("choices")
        .and_then(Value::as_array)
        .is_some_and(|choices| {
            choices.iter().any(|c| {
                let d = &c["delta"];
                let non_empty = |k: &str| {
                    d.get(k)
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                };
                non_empty("content")
                    || non_empty("reasoning_content")
                    || non_empty("reasoning")
                    || d.get("tool_calls")
                        .and_then(Value::as_array)
                        .is_some_and(|a| !a.is_empty())
            })
        })
}

fn classify(e: &reqwest::Error) -> (TransportErrorKind, String) {
    let chain = error_chain(e);
    let kind = if e.is_redirect() {
        TransportErrorKind::Redirect
    } else if e.is_timeout() {
        TransportErrorKind::HeadersTimeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_builder() {
        TransportErrorKind::Request
    } else if closed_before_response(e) {
        TransportErrorKind::Closed
    } else {
        TransportErrorKind::Body
    };
    let hint = if chain.contains("certificate") || chain.contains("UnknownIssuer") {
        " (TLS certificate not trusted; pass --ca-cert FILE to trust a private CA)"
    } else {
        ""
    };
    (kind, format!("{chain}{hint}"))
}

/// Whether a send failed because the connection was closed or reset before any response byte
/// (hyper's "connection closed before message completed", or a reset, abort or broken pipe
/// underneath), as opposed to, say, a response head that is not HTTP.
fn closed_before_response(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind as Io;
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_closed())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof
            )
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// An error with its whole cause chain, as one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
