//! One `reqwest::Client` per target (connection reuse), and sending one prepared request into an
//! `Exchange` under every deadline: connect, headers, stream idle and the whole exchange.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::Value;

use super::exchange::{
    Arrivals, Attempt, Exchange, Response, SentRequest, Timings, TransportError, TransportErrorKind,
};
use super::rate::RateLimiter;
use super::retry::{self, RetryPolicy};
use super::sse::SseParser;
use super::stream::{ChatStream, HeldAfterDone, StreamBuilder, StreamLimits};
use super::token::{TokenError, TokenSource};
use crate::load::suite::AuthOverride;
use crate::load::{Auth, AuthHeader, Target};
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
    /// The target's auth command, when it has one.
    token: Option<TokenSource>,
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
        let token = match &target.auth {
            Auth::Command {
                command,
                refresh_after,
                ..
            } => Some(TokenSource::new(command.clone(), *refresh_after)),
            _ => None,
        };
        Ok(Self {
            http,
            limiter,
            target,
            opts: ClientOptions { timeout, ..opts },
            token,
            secrets,
        })
    }

    pub fn url_for(&self, path: &str) -> Result<url::Url, RequestError> {
        let rel = path.trim_start_matches('/');
        self.target
            .base_url
            .join(rel)
            .map_err(|source| RequestError::Url {
                path: path.to_string(),
                source,
            })
    }

    /// Why the target's base URL cannot be reached at all — a name that does not resolve,
    /// connection refused, a failed TLS handshake — or `None` when it can (or when the probe
    /// cannot tell: a slow answer is not an unreachable endpoint). Tried once before a run, so
    /// an unreachable target is said once instead of once per case.
    ///
    /// Over plain HTTP the probe only resolves the host and opens a TCP connection: no request
    /// reaches the endpoint. Over HTTPS (and through a proxy, which only an HTTP request goes
    /// through) it sends a `HEAD` of the base URL without credentials, which completes the TLS
    /// handshake with the run's trust roots (`--ca-cert`).
    pub async fn unreachable(&self) -> Option<String> {
        let url = &self.target.base_url;
        let proxied = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
        if url.scheme() == "http" && !proxied {
            return self.tcp_unreachable().await;
        }
        let probe = self
            .http
            .head(url.clone())
            .timeout(self.opts.connect_timeout)
            .send()
            .await;
        match probe {
            Err(e) if e.is_connect() && !e.is_timeout() => {
                // The innermost cause says what happened (`Connection refused (os error 111)`,
                // `failed to lookup address information: …`, `invalid peer certificate: …`).
                let mut cause: &dyn std::error::Error = &e;
                while let Some(inner) = cause.source() {
                    cause = inner;
                }
                Some(format!("{cause}{}", tls_hint(&error_chain(&e))))
            }
            _ => None,
        }
    }

    /// Resolve the base URL's host and open a TCP connection to it (closed at once).
    async fn tcp_unreachable(&self) -> Option<String> {
        let url = &self.target.base_url;
        let host = match url.host()? {
            url::Host::Domain(d) => d.to_string(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        let port = url.port_or_known_default()?;
        let deadline = self.opts.connect_timeout;
        let addrs: Vec<std::net::SocketAddr> =
            match tokio::time::timeout(deadline, tokio::net::lookup_host((host.as_str(), port)))
                .await
            {
                Ok(Ok(a)) => a.collect(),
                Ok(Err(e)) => return Some(format!("cannot resolve `{host}`: {e}")),
                Err(_) => return None,
            };
        let mut last = None;
        for addr in addrs {
            match tokio::time::timeout(deadline, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(_)) | Err(_) => return None,
                Ok(Err(e)) => last = Some(e.to_string()),
            }
        }
        last
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
        // A short-lived token may have expired: a 401 to a token from the auth command is
        // re-sent once at once with a new token, as an attempt of the retry policy.
        let refresh = std::sync::atomic::AtomicBool::new(false);
        let refused = |ex: &Exchange| {
            let refused = self.token.is_some()
                && req.auth == AuthOverride::Default
                && ex.response.as_ref().is_some_and(|r| r.status == 401);
            refused.then(|| {
                refresh.store(true, std::sync::atomic::Ordering::Relaxed);
                retry::REFRESHED.to_string()
            })
        };
        retry::with_retries(
            &self.opts.retry,
            &refused,
            || async {
                let force = refresh.swap(false, std::sync::atomic::Ordering::Relaxed);
                let mut ex = self.send_paced(req, force).await;
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

    /// One attempt, after waiting for the target's `rpm` slot; `refresh` runs the auth
    /// command again first.
    async fn send_paced(&self, req: &PreparedRequest, refresh: bool) -> Exchange {
        if let Some(l) = &self.limiter {
            l.wait().await;
        }
        self.send_once(req, refresh).await
    }

    /// One exchange: build the request, send it, read the body — each under the deadlines.
    async fn send_once(&self, req: &PreparedRequest, force_refresh: bool) -> Exchange {
        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start + self.opts.timeout);
        let (rb, sent) = match self.build(req, force_refresh, deadline).await {
            Ok(built) => built,
            Err((sent, message)) => {
                let error = (TransportErrorKind::Request, message);
                return failed(sent, error, Timings::default());
            }
        };
        let mut timings = Timings::default();
        let resp = match self.send_request(rb, deadline).await {
            Ok(r) => r,
            Err(error) => {
                timings.total_ms = ms_since(start);
                return failed(sent, error, timings);
            }
        };
        timings.headers_ms = Some(ms_since(start));
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), v)
            })
            .collect();
        if resp.status().is_redirection() {
            timings.total_ms = ms_since(start);
            return failed(sent, redirect_error(status, &headers), timings);
        }
        let ct = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default();
        let is_sse = ct.starts_with("text/event-stream")
            || (req.stream && resp.status().is_success() && !ct.contains("json"));
        let body = self.read_body(resp, is_sse, start, deadline).await;
        timings.first_byte_ms = body.first_byte.map(|d| d.as_secs_f64() * 1000.0);
        timings.total_ms = body.end.as_secs_f64() * 1000.0;
        let (json, json_error) = if is_sse || body.bytes.is_empty() {
            (None, None)
        } else {
            parse_json_body(&body.bytes, self.opts.max_body)
        };
        if let Some(stream) = &body.stream {
            stream_timings(stream, &mut timings);
            // Where the text enters: pieces of a secret the stream split become secrets too.
            crate::redact::learn_split_secrets(&self.secrets, stream.events().map(|e| e.data()));
        }
        Exchange {
            request: sent,
            response: Some(Response {
                status,
                headers,
                body: body.bytes,
                stream: body.stream,
                arrivals: body.arrivals,
                json,
                json_error,
            }),
            error: body
                .error
                .map(|(kind, message)| TransportError { kind, message }),
            timings,
            attempts: 1,
            attempt_log: vec![],
        }
    }

    /// The request as reqwest will send it, and as the exchange records it (credentials
    /// included: redaction happens when the report is built). `Err` when it cannot be built:
    /// a path that does not join the base URL, or a failed token command.
    async fn build(
        &self,
        req: &PreparedRequest,
        force_refresh: bool,
        deadline: tokio::time::Instant,
    ) -> Result<(reqwest::RequestBuilder, SentRequest), (SentRequest, String)> {
        let mut sent = SentRequest {
            method: req.method.to_string(),
            url: String::new(),
            headers: vec![],
            body: None,
            raw_body: None,
        };
        let url = match self.url_for(&req.path) {
            Ok(u) => u,
            Err(e) => return Err((sent, e.to_string())),
        };
        sent.url = url.to_string();
        let mut headers: Vec<(String, String)> = self.target.headers.clone();
        match self.auth_value(req.auth, force_refresh, deadline).await {
            Ok(Some((name, value))) => headers.push((name, value)),
            Ok(None) => {}
            Err(e) => return Err((sent, e.to_string())),
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
                let (form, summary) = multipart(parts);
                sent.raw_body = Some(summary);
                rb = rb.multipart(form);
            }
        }
        if req.stream {
            rb = rb.header("accept", "text/event-stream");
        }
        sent.headers = headers;
        Ok((rb, sent))
    }

    /// Sends the request and waits for the response headers (within the exchange deadline).
    async fn send_request(
        &self,
        rb: reqwest::RequestBuilder,
        deadline: tokio::time::Instant,
    ) -> Result<reqwest::Response, (TransportErrorKind, String)> {
        match tokio::time::timeout_at(deadline, rb.send()).await {
            Err(_) => Err((
                TransportErrorKind::HeadersTimeout,
                format!("no response headers within {:?}", self.opts.timeout),
            )),
            Ok(Err(e)) => Err(classify(&e)),
            Ok(Ok(r)) => Ok(r),
        }
    }

    /// Reads the body up to `--max-body` under the idle timeout and the exchange deadline,
    /// feeding an event stream to the chat-stream model as it arrives.
    async fn read_body(
        &self,
        resp: reqwest::Response,
        is_sse: bool,
        start: Instant,
        deadline: tokio::time::Instant,
    ) -> ReadBody {
        // The body holds at most `--max-body` bytes, so neither can a line or an event.
        let max = self.opts.max_body;
        let mut parser = is_sse.then(|| SseParser::with_limits(max, max));
        let mut model =
            is_sse.then(|| StreamBuilder::new(StreamLimits::for_max_body(self.opts.max_body)));
        let mut body = BytesMut::new();
        let mut arrivals = Arrivals::default();
        let mut first_byte = None;
        let mut error = None;
        let mut held = None;
        let mut stream = resp.bytes_stream();
        loop {
            let now = tokio::time::Instant::now();
            let wait = self
                .opts
                .idle_timeout
                .min(deadline.saturating_duration_since(now));
            let next = if now >= deadline {
                Err(())
            } else {
                tokio::time::timeout(wait, stream.next())
                    .await
                    .map_err(|_| ())
            };
            match next {
                Err(()) => {
                    let at_deadline = tokio::time::Instant::now() >= deadline;
                    // After `[DONE]` the stream is complete: an endpoint that then holds the
                    // connection open is a finding about the stream, not a failed exchange.
                    if model.as_ref().is_some_and(StreamBuilder::saw_done) {
                        held = Some(HeldAfterDone {
                            deadline: at_deadline,
                        });
                    } else {
                        error = Some(self.stalled(at_deadline, body.len()));
                    }
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
                    first_byte.get_or_insert(at);
                    arrivals.push(body.len(), at);
                    let room = self.opts.max_body.saturating_sub(body.len());
                    let take = chunk.len().min(room);
                    if let (Some(p), Some(m)) = (parser.as_mut(), model.as_mut()) {
                        p.feed_with(&chunk[..take], at, &mut |item| m.push(item));
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
        if let (Some(p), Some(m)) = (parser.as_mut(), model.as_mut()) {
            p.finish_with(end, &mut |item| m.push(item));
        }
        ReadBody {
            bytes: body.freeze(),
            stream: model.map(|m| m.finish(held)),
            arrivals,
            first_byte,
            end,
            error,
        }
    }

    /// The error for a body that stopped arriving (idle timeout) or outlived the exchange.
    fn stalled(&self, at_deadline: bool, received: usize) -> (TransportErrorKind, String) {
        if at_deadline {
            (
                TransportErrorKind::Deadline,
                format!(
                    "exchange exceeded its {:?} deadline while reading the body ({received} bytes received)",
                    self.opts.timeout
                ),
            )
        } else {
            (
                TransportErrorKind::IdleTimeout,
                format!(
                    "no data for {:?} after {received} bytes (stream stalled)",
                    self.opts.idle_timeout
                ),
            )
        }
    }

    /// The credential header for this request, running the token command when needed (within
    /// the exchange's deadline).
    async fn auth_value(
        &self,
        over: AuthOverride,
        force_refresh: bool,
        deadline: tokio::time::Instant,
    ) -> Result<Option<(String, String)>, RequestError> {
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
            Auth::Command { .. } => match &self.token {
                Some(source) => {
                    let learnt = |t: &str| self.secrets.add(t);
                    source
                        .token(force_refresh, deadline, &learnt)
                        .await?
                        .expose()
                        .to_string()
                }
                None => return Ok(None),
            },
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

/// Why a request could not be built or sent: the exchange's `request` transport error.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("cannot join `{path}` to the base URL: {source}")]
    Url {
        path: String,
        source: url::ParseError,
    },
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// What reading a body produced.
struct ReadBody {
    bytes: Bytes,
    stream: Option<ChatStream>,
    arrivals: Arrivals,
    first_byte: Option<Duration>,
    /// When reading stopped (from the start of the exchange).
    end: Duration,
    error: Option<(TransportErrorKind, String)>,
}

/// An exchange that ended before a response could be read.
fn failed(
    sent: SentRequest,
    (kind, message): (TransportErrorKind, String),
    t: Timings,
) -> Exchange {
    Exchange {
        request: sent,
        response: None,
        error: Some(TransportError { kind, message }),
        timings: t,
        attempts: 1,
        attempt_log: vec![],
    }
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn redirect_error(status: u16, headers: &[(String, String)]) -> (TransportErrorKind, String) {
    let to = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.as_str())
        .unwrap_or("?");
    (
        TransportErrorKind::Redirect,
        format!(
            "HTTP {status} redirect to `{to}` not followed (another origin or too many redirects; credentials are never forwarded)"
        ),
    )
}

/// A multipart form and the summary the exchange records in its place
/// (`purpose=batch, file=@in.jsonl (123 bytes)`).
fn multipart(parts: &[(String, MultipartPart)]) -> (reqwest::multipart::Form, String) {
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
                    reqwest::multipart::Part::bytes(bytes.clone()).file_name(filename.clone()),
                )
            }
        };
    }
    (form, format!("multipart/form-data: {}", summary.join(", ")))
}

/// A JSON body as a `Value`, unless the `Value` would cost more than four times `--max-body`.
/// A `Value` takes ~600 bytes per object however small (its B-tree node) and ~50 per other
/// value, so 7 MB of `[{},{},…]` would take well over a gigabyte. The cost is counted in one
/// pass over the bytes before parsing; a body over it is kept as text and judged as not JSON,
/// with that reason.
fn parse_json_body(body: &[u8], max_body: usize) -> (Option<Value>, Option<String>) {
    let budget = max_body.saturating_mul(4).max(1 << 20);
    let cost = value_cost(body);
    if cost > budget {
        let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
        return (
            None,
            Some(format!(
                "not parsed: as a JSON value this {}-byte body would take ~{:.0} MiB, more than the {:.0} MiB (4 × --max-body) one exchange may use",
                body.len(),
                mib(cost),
                mib(budget)
            )),
        );
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    }
}

/// About how many bytes `serde_json::Value` takes for this JSON text: objects, other values
/// and string bytes, counted outside string literals (an upper bound for valid JSON).
fn value_cost(body: &[u8]) -> usize {
    const OBJECT: usize = 640;
    const VALUE: usize = 48;
    let (mut objects, mut values) = (0usize, 1usize);
    for b in crate::util::json::structural_bytes(body) {
        match b {
            b'{' => objects += 1,
            b',' | b'[' => values += 1,
            _ => {}
        }
    }
    objects * OBJECT + values * VALUE + body.len()
}

/// TTFT, chunk count and gaps, from the stream's arrival times.
fn stream_timings(stream: &ChatStream, t: &mut Timings) {
    t.ttft_ms = stream.ttft().map(|d| d.as_secs_f64() * 1000.0);
    t.chunk_count = stream.chunk_count() as usize;
    let times: Vec<f64> = stream
        .chunk_times()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let mut gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
    gaps.sort_by(f64::total_cmp);
    t.gap_max_ms = gaps.last().copied();
    t.gap_p50_ms = (!gaps.is_empty()).then(|| gaps[gaps.len() / 2]);
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
    let hint = tls_hint(&chain);
    (kind, format!("{chain}{hint}"))
}

/// What to do about an untrusted certificate, for an error whose cause chain names one.
fn tls_hint(chain: &str) -> &'static str {
    if chain.contains("certificate") || chain.contains("UnknownIssuer") {
        " (TLS certificate not trusted; pass --ca-cert FILE to trust a private CA)"
    } else {
        ""
    }
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
