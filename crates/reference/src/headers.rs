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

/// Sleeps `d`, to within a few tens of microseconds. Tokio's timer counts whole milliseconds
/// and wakes up to ~2 ms late (it rounds the deadline up, and so does its park), so
/// `--delay-ms 50` used to add ~52 ms; a server that injects latency for benchmarks must add
/// what it says. The last few milliseconds are slept on a blocking-pool thread with the OS's
/// precise sleep.
pub(crate) async fn sleep_precisely(d: Duration) {
    const SLACK: Duration = Duration::from_millis(3);
    let deadline = Instant::now() + d;
    if d > SLACK {
        tokio::time::sleep(d - SLACK).await;
    }
    let rest = deadline.saturating_duration_since(Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

/// Sleeps `delay_ms` before the handler runs (latency tests), then stamps `x-request-id`
/// and `openai-processing-ms` on the response, as OpenAI does on every response.
pub(crate) async fn stamp(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    if state.config.delay_ms > 0 {
        sleep_precisely(Duration::from_millis(state.config.delay_ms)).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleeps_at_least_the_delay_whether_longer_or_shorter_than_the_slack() {
        // How close it comes is a benchmark's question (scripts/bench.sh); that it never
        // answers early is this one's.
        for ms in [1, 3, 8] {
            let d = Duration::from_millis(ms);
            let t = Instant::now();
            sleep_precisely(d).await;
            assert!(t.elapsed() >= d, "{ms} ms slept {:?}", t.elapsed());
        }
    }
}
