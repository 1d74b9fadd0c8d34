//! When a request may be sent again, and how long to wait first.
//!
//! What always holds (DESIGN.md, Refresh): a request that spends something
//! single-use — a refresh token, an authorization code, a device code — is
//! resent only when the server provably did not act on it: the connection
//! never opened, or the answer was 429 or 503. After a read timeout, a reset
//! after sending, or a 500, 502 or 504 (a gateway may have forwarded it), a
//! resend could present a refresh token the server already rotated, which
//! looks like theft and revokes the whole grant. Idempotent requests
//! (discovery) may also retry those. 501, 505 and 4xx are never retried.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What resending a request could do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// GET of a document, or a POST whose repetition changes nothing.
    Idempotent,
    /// A POST that spends a single-use grant (refresh token, code, device code).
    SpendsGrant,
}

impl Resend {
    /// Whether a request that failed before any answer may be resent.
    /// `unsent`: the connection never opened.
    pub fn after_failure(self, unsent: bool) -> bool {
        unsent || self == Resend::Idempotent
    }

    /// Whether an answer with `status` is worth another attempt.
    pub fn after_status(self, status: StatusCode) -> bool {
        match status.as_u16() {
            429 | 503 => true,
            500 | 502 | 504 => self == Resend::Idempotent,
            _ => false,
        }
    }
}

/// Whether `status` says "unavailable" (as opposed to an answer to read).
pub fn is_unavailable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Resends after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A longer `Retry-After` ends the retries: waiting for it is not worth blocking a script.
    pub max_retry_after: Duration,
    /// No retry starts unless its wait and a whole request (the request
    /// timeout) end within this much of the first attempt, so that retries
    /// fit in the 60 s bound of a refresh and a bound never cuts one short.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniform delay in [0, min(cap, base · 2^attempt)].
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.cap);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }
}

/// RFC 9110 §10.2.3: delay-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(0).unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 0..10 {
            for _ in 0..50 {
                let d = policy.backoff(attempt);
                let ceiling = Duration::from_millis(250 * 2u64.pow(attempt)).min(policy.cap);
                assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
            }
        }
    }

    #[test]
    fn retry_after_takes_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn a_spent_grant_is_resent_only_when_provably_unused() {
        let code = |n| StatusCode::from_u16(n).expect("status");
        let spends = Resend::SpendsGrant;
        assert!(spends.after_failure(true));
        assert!(!spends.after_failure(false));
        for (status, spent, idempotent) in [
            (429, true, true),
            (503, true, true),
            (500, false, true),
            (502, false, true),
            (504, false, true),
            (501, false, false),
            (505, false, false),
            (400, false, false),
        ] {
            assert_eq!(spends.after_status(code(status)), spent, "{status}");
            assert_eq!(
                Resend::Idempotent.after_status(code(status)),
                idempotent,
                "{status}"
            );
        }
    }
}
