//! Retries, off by default: a conformance run must see flakiness, not hide it. With
//! `--retries N`, an exchange is tried again only when the endpoint was overloaded or failing
//! (HTTP 429, any 5xx) or the connection failed before a response arrived; `Retry-After` (seconds
//! or an HTTP-date) is honoured up to the cap, otherwise the wait is a jittered exponential
//! backoff. Every attempt is kept, so the report shows what retrying hid.
//!
//! One re-send holds without `--retries`: a connection closed or reset before any response
//! byte is tried once more at once, on a new connection (a pooled keep-alive connection the
//! server had just closed never reached the application; browsers and Go's transport do the
//! same). It is recorded like any other attempt and does not count against `--retries`.

use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::BackoffBuilder as _;

use super::exchange::{Attempt, Exchange, TransportErrorKind};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Extra attempts after the first (0: no retries).
    pub retries: u32,
    /// First backoff delay; each next one doubles, plus jitter.
    pub base_delay: Duration,
    /// No wait is longer than this, whether from the backoff or from `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 0,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Why an exchange may be retried, or `None` when it may not (any response that is not 429 or
/// 5xx, timeouts, oversized bodies, refused redirects, broken bodies after the headers).
pub fn retry_reason(ex: &Exchange) -> Option<String> {
    match (&ex.response, &ex.error) {
        (Some(r), _) if r.status == 429 || (500..=599).contains(&r.status) => {
            Some(format!("HTTP {}", r.status))
        }
        (Some(_), _) => None,
        // No response at all: the connection was refused, reset or closed before the headers.
        (None, Some(e))
            if matches!(
                e.kind,
                TransportErrorKind::Connect | TransportErrorKind::Closed | TransportErrorKind::Body
            ) =>
        {
            Some("connection failed".into())
        }
        (None, _) => None,
    }
}

/// Why the one free re-send happened, as the attempt log says.
pub const RESENT: &str = "connection closed before any response byte; re-sent at once";

/// Why a 401 to a token from the auth command was re-sent, as the attempt log says.
pub const REFRESHED: &str =
    "HTTP 401 to the auth command's token; token refreshed and re-sent at once";

/// `Retry-After` as a wait from `now`: delta-seconds or an HTTP-date (a date in the past is 0).
pub fn retry_after(ex: &Exchange, now: SystemTime) -> Option<Duration> {
    let value = ex.response.as_ref()?.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Send with the policy: `send` makes one attempt; `refused` says why an exchange should be
/// re-sent once at once with a new credential (a 401 to a short-lived token), if it should;
/// `sleep` waits (injected for tests);
/// `on_retry` hears of each attempt that is retried (its 1-based number and the attempt),
/// before the wait.
pub async fn with_retries<S, SF, W, WF>(
    policy: &RetryPolicy,
    refused: &(dyn Fn(&Exchange) -> Option<String> + Sync),
    mut send: S,
    mut sleep: W,
    on_retry: &mut (dyn FnMut(usize, &Attempt) + Send),
) -> Exchange
where
    S: FnMut() -> SF,
    SF: Future<Output = Exchange>,
    W: FnMut(Duration) -> WF,
    WF: Future<Output = ()>,
{
    let mut backoff = backon::ExponentialBuilder::default()
        .with_min_delay(policy.base_delay)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(policy.retries as usize)
        .build();
    let mut log: Vec<Attempt> = Vec::new();
    let (mut retried, mut resent, mut refreshed) = (0u32, false, false);
    loop {
        let mut ex = send().await;
        let closed = ex.response.is_none()
            && ex
                .error
                .as_ref()
                .is_some_and(|e| e.kind == TransportErrorKind::Closed);
        let refresh = if refreshed { None } else { refused(&ex) };
        let (retry, free) = if closed && !resent {
            resent = true;
            (Some(RESENT.to_string()), true)
        } else if let Some(why) = refresh {
            refreshed = true;
            (Some(why), true)
        } else if retried < policy.retries {
            (retry_reason(&ex), false)
        } else {
            (None, false)
        };
        let mut attempt = Attempt {
            status: ex.response.as_ref().map(|r| r.status),
            error: ex.error.as_ref().map(|e| e.message.clone()),
            duration_ms: ex.timings.total_ms,
            retried_because: None,
            delay: None,
            delay_from_retry_after: false,
        };
        let Some(why) = retry else {
            if !log.is_empty() {
                log.push(attempt);
                ex.attempts = log.len() as u32;
                ex.attempt_log = log;
            }
            return ex;
        };
        if free {
            attempt.retried_because = Some(why);
            on_retry(log.len() + 1, &attempt);
            log.push(attempt);
            continue;
        }
        retried += 1;
        let backoff_delay = backoff.next().unwrap_or(policy.max_delay);
        let (delay, from_header) = match retry_after(&ex, SystemTime::now()) {
            Some(d) => (d.min(policy.max_delay), true),
            None => (backoff_delay.min(policy.max_delay), false),
        };
        attempt.retried_because = Some(why);
        attempt.delay = Some(delay);
        attempt.delay_from_retry_after = from_header;
        on_retry(log.len() + 1, &attempt);
        log.push(attempt);
        sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::exchange::{Response, SentRequest, Timings, TransportError};
    use std::cell::RefCell;

    fn exchange(
        status: Option<u16>,
        headers: &[(&str, &str)],
        error: Option<TransportErrorKind>,
    ) -> Exchange {
        Exchange {
            request: SentRequest {
                method: "POST".into(),
                url: "http://x/".into(),
                headers: vec![],
                body: None,
                raw_body: None,
            },
            response: status.map(|status| Response {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: Default::default(),
                stream: None,
                arrivals: Default::default(),
                json: None,
                json_error: None,
            }),
            error: error.map(|kind| TransportError {
                kind,
                message: format!("{kind:?}"),
            }),
            timings: Timings::default(),
            attempts: 1,
            attempt_log: vec![],
        }
    }

    #[test]
    fn only_overload_server_errors_and_connection_failures_are_retried() {
        use TransportErrorKind as K;
        assert!(retry_reason(&exchange(Some(429), &[], None)).is_some());
        for s in [500, 502, 503, 599] {
            assert_eq!(
                retry_reason(&exchange(Some(s), &[], None)),
                Some(format!("HTTP {s}"))
            );
        }
        for s in [200, 400, 401, 404, 408] {
            assert_eq!(retry_reason(&exchange(Some(s), &[], None)), None, "{s}");
        }
        assert!(retry_reason(&exchange(None, &[], Some(K::Connect))).is_some());
        assert!(retry_reason(&exchange(None, &[], Some(K::Body))).is_some());
        assert!(retry_reason(&exchange(None, &[], Some(K::Closed))).is_some());
        for k in [K::HeadersTimeout, K::Redirect, K::Request, K::Cancelled] {
            assert_eq!(retry_reason(&exchange(None, &[], Some(k))), None, "{k:?}");
        }
        // A body broken after a 200 is not retried: the endpoint answered.
        assert_eq!(retry_reason(&exchange(Some(200), &[], Some(K::Body))), None);
    }

    #[test]
    fn retry_after_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ex = |v: &str| exchange(Some(429), &[("retry-after", v)], None);
        assert_eq!(retry_after(&ex("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&ex(" 0 "), now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&ex(&later), now), Some(Duration::from_secs(90)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&ex(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&ex("soon"), now), None);
        assert_eq!(retry_after(&ex("-3"), now), None);
        assert_eq!(retry_after(&exchange(Some(429), &[], None), now), None);
    }

    /// Run the loop over scripted attempts, recording the waits instead of sleeping.
    fn run(policy: &RetryPolicy, script: Vec<Exchange>) -> (Exchange, usize, Vec<Duration>) {
        run_refusing(policy, &|_| None, script)
    }

    /// [`run`], with `refused` telling which exchanges need a new credential.
    fn run_refusing(
        policy: &RetryPolicy,
        refused: &(dyn Fn(&Exchange) -> Option<String> + Sync),
        script: Vec<Exchange>,
    ) -> (Exchange, usize, Vec<Duration>) {
        let script = RefCell::new(script.into_iter());
        let sent = RefCell::new(0);
        let waits = RefCell::new(vec![]);
        let mut retried = vec![];
        let ex = futures_util::FutureExt::now_or_never(with_retries(
            policy,
            refused,
            || {
                *sent.borrow_mut() += 1;
                let next = script.borrow_mut().next().expect("script long enough");
                async move { next }
            },
            |d| {
                waits.borrow_mut().push(d);
                async {}
            },
            &mut |_, a| retried.push(a.retried_because.clone()),
        ))
        .expect("no real waiting");
        // Every retried attempt was told, as the log has it.
        let logged: Vec<_> = ex
            .attempt_log
            .iter()
            .filter(|a| a.retried_because.is_some())
            .map(|a| a.retried_because.clone())
            .collect();
        assert_eq!(retried, logged);
        (ex, sent.into_inner(), waits.into_inner())
    }

    #[test]
    fn off_by_default() {
        let (ex, sent, waits) = run(
            &RetryPolicy::default(),
            vec![exchange(Some(503), &[], None)],
        );
        assert_eq!((sent, waits.len(), ex.attempts), (1, 0, 1));
        assert!(ex.attempt_log.is_empty());
    }

    #[test]
    fn retries_until_success_and_records_every_attempt() {
        let policy = RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        };
        let script = vec![
            exchange(Some(429), &[("retry-after", "2")], None),
            exchange(None, &[], Some(TransportErrorKind::Connect)),
            exchange(Some(200), &[], None),
        ];
        let (ex, sent, waits) = run(&policy, script);
        assert_eq!(sent, 3);
        assert_eq!(ex.attempts, 3);
        assert_eq!(ex.response.as_ref().unwrap().status, 200);
        let log = &ex.attempt_log;
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].status, Some(429));
        assert_eq!(log[0].delay, Some(Duration::from_secs(2)));
        assert!(log[0].delay_from_retry_after);
        assert_eq!(log[1].retried_because.as_deref(), Some("connection failed"));
        assert!(!log[1].delay_from_retry_after);
        // Backoff: at least the base delay, jitter at most doubling it.
        let d = log[1].delay.unwrap();
        assert!(
            d >= Duration::from_millis(100) && d <= Duration::from_secs(5),
            "{d:?}"
        );
        assert_eq!(log[2].retried_because, None);
        assert_eq!(waits, vec![log[0].delay.unwrap(), d]);
    }

    #[test]
    fn gives_up_after_n_retries_and_caps_retry_after() {
        let policy = RetryPolicy {
            retries: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(3),
        };
        let script = vec![exchange(Some(503), &[("retry-after", "3600")], None); 3];
        let (ex, sent, waits) = run(&policy, script);
        assert_eq!((sent, ex.attempts), (3, 3));
        assert_eq!(waits, vec![Duration::from_secs(3); 2]);
        assert_eq!(ex.response.unwrap().status, 503);
    }

    #[test]
    fn a_connection_closed_before_any_response_is_re_sent_once_even_without_retries() {
        let closed = || exchange(None, &[], Some(TransportErrorKind::Closed));
        let (ex, sent, waits) = run(
            &RetryPolicy::default(),
            vec![closed(), exchange(Some(200), &[], None)],
        );
        assert_eq!((sent, ex.attempts), (2, 2));
        assert!(waits.is_empty(), "re-sent at once: {waits:?}");
        assert_eq!(ex.attempt_log[0].retried_because.as_deref(), Some(RESENT));
        assert_eq!(ex.attempt_log[0].delay, None);
        assert_eq!(ex.response.unwrap().status, 200);

        // Once: a second close ends the exchange.
        let (ex, sent, _) = run(&RetryPolicy::default(), vec![closed(), closed()]);
        assert_eq!((sent, ex.attempts, ex.attempt_log.len()), (2, 2, 2));
        assert_eq!(ex.error.unwrap().kind, TransportErrorKind::Closed);

        // It does not count against --retries: one re-send plus one retry.
        let policy = RetryPolicy {
            retries: 1,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
        };
        let script = vec![closed(), closed(), exchange(Some(200), &[], None)];
        let (ex, sent, waits) = run(&policy, script);
        assert_eq!((sent, ex.attempts, waits.len()), (3, 3, 1));
        assert_eq!(
            ex.attempt_log[1].retried_because.as_deref(),
            Some("connection failed")
        );

        // Other failures get no free re-send.
        let (ex, sent, _) = run(
            &RetryPolicy::default(),
            vec![exchange(None, &[], Some(TransportErrorKind::Connect))],
        );
        assert_eq!((sent, ex.attempts), (1, 1));
    }

    #[test]
    fn a_non_retryable_failure_stops_at_once() {
        let policy = RetryPolicy {
            retries: 5,
            ..RetryPolicy::default()
        };
        let (ex, sent, _) = run(&policy, vec![exchange(Some(400), &[], None)]);
        assert_eq!((sent, ex.attempts), (1, 1));
        assert!(ex.attempt_log.is_empty());
    }

    /// A 401 to a token from the auth command is re-sent once at once with a new token, without
    /// `--retries`, and logged like any attempt; a second 401 is the answer.
    #[test]
    fn a_refused_token_is_refreshed_once_as_a_logged_attempt() {
        let refused = |ex: &Exchange| {
            (ex.response.as_ref().map(|r| r.status) == Some(401)).then(|| REFRESHED.to_string())
        };
        let policy = RetryPolicy::default();
        let (ex, sent, waits) = run_refusing(
            &policy,
            &refused,
            vec![
                exchange(Some(401), &[], None),
                exchange(Some(200), &[], None),
            ],
        );
        assert_eq!((sent, ex.attempts, waits.len()), (2, 2, 0));
        assert_eq!(
            ex.attempt_log[0].retried_because.as_deref(),
            Some(REFRESHED)
        );
        assert_eq!(ex.response.unwrap().status, 200);
        let (ex, sent, _) = run_refusing(
            &policy,
            &refused,
            vec![
                exchange(Some(401), &[], None),
                exchange(Some(401), &[], None),
            ],
        );
        assert_eq!((sent, ex.response.unwrap().status), (2, 401));
    }
}
