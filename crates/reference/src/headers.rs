//! Response headers common to every route, and the configured response delay.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::util::{hex, now_unix, sha256};
use crate::AppState;

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Sleeps `delay_ms` before the handler runs (latency tests), then stamps `x-request-id`
/// and `openai-processing-ms` on the response, as OpenAI does on every response.
pub(crate) async fn stamp(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    if state.config.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(state.config.delay_ms)).await;
    }
    let mut response = next.run(req).await;
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    let id = format!(
        "req_{}",
        &hex(&sha256(&[&n.to_le_bytes(), &now_unix().to_le_bytes()]))[..32]
    );
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert("x-request-id", v);
    }
    headers.insert(
        "openai-processing-ms",
        HeaderValue::from(started.elapsed().as_millis() as u64),
    );
    headers.insert("openai-version", HeaderValue::from_static("2020-10-01"));
    response
}
