//! A target's `rpm` limit: requests are spaced at least `60 s / rpm` apart (a token bucket of
//! one token), counting every attempt of every step, so retries cannot exceed the limit either.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// The earliest time the next request may start.
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `None` when there is no limit.
    pub fn per_minute(rpm: Option<u32>) -> Option<Self> {
        let rpm = rpm.filter(|r| *r > 0)?;
        Some(Self {
            interval: Duration::from_secs(60) / rpm,
            next: Mutex::new(None),
        })
    }

    /// Reserve the next slot at or after `now` and return when it starts (the clock is passed in
    /// so the schedule is testable without waiting).
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }

    /// Wait for this request's slot.
    pub async fn wait(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limit_without_a_positive_rpm() {
        assert!(RateLimiter::per_minute(None).is_none());
        assert!(RateLimiter::per_minute(Some(0)).is_none());
    }

    #[test]
    fn requests_are_spaced_by_the_interval() {
        let l = RateLimiter::per_minute(Some(120)).unwrap();
        let t0 = Instant::now();
        let s = Duration::from_millis(500);
        // Three requests at once: now, +0.5 s, +1 s.
        assert_eq!(l.reserve(t0), t0);
        assert_eq!(l.reserve(t0), t0 + s);
        assert_eq!(l.reserve(t0), t0 + 2 * s);
        // Idle for a long while: the next request goes at once, no burst is saved up.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(l.reserve(later), later);
        assert_eq!(l.reserve(later), later + s);
    }
}
