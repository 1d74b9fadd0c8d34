//! The one HTTP client, built only by commands that use the network (never on
//! the fast path of `auth token`), and the retry rules of DESIGN.md.
//!
//! What always holds:
//! - redirects are not followed; connect and overall timeouts are set; the
//!   User-Agent is `credctl/<version>`; bodies are capped at 1 MiB;
//! - a request is resent only when the server provably did not act on it: the
//!   connection never opened, or it answered 5xx or 429. A POST that may have
//!   reached the server without an answer (read timeout, reset after sending)
//!   is never resent: a refresh token sent twice looks like theft to a server
//!   that rotates them, and it revokes the grant;
//! - retries back off exponentially with full jitter (base 250 ms, cap 5 s)
//!   and honour `Retry-After` up to 30 s;
//! - no error text holds a request or response body: either may hold secrets.

use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tracing::debug;

use crate::error::Category;

/// Response bodies larger than this are refused.
pub const MAX_BODY: usize = 1024 * 1024;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.cap);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot connect to {host}: {cause}")]
    Connect { host: String, cause: String },

    #[error(
        "{host} did not answer in time ({cause}); the request may have reached it, so credctl did not send it again"
    )]
    NoAnswer { host: String, cause: String },

    #[error(
        "{host} answered HTTP {status}{}{}",
        after_attempts(*attempts),
        retry_after.map(|d| format!("; it asks to retry after {} s", d.as_secs())).unwrap_or_default()
    )]
    Unavailable {
        host: String,
        status: StatusCode,
        attempts: u32,
        /// What the server asked for, when credctl did not wait that long.
        retry_after: Option<Duration>,
    },

    #[error("{url} answered HTTP {status} with {what}, not an OAuth answer")]
    UnexpectedBody {
        url: String,
        status: StatusCode,
        what: &'static str,
    },

    #[error("the answer from {host} is larger than {} KiB", MAX_BODY / 1024)]
    TooLarge { host: String },

    #[error("cannot build a request to {url}: {cause}")]
    Build { url: String, cause: String },
}

impl HttpError {
    pub fn category(&self) -> Category {
        match self {
            HttpError::Connect { .. }
            | HttpError::NoAnswer { .. }
            | HttpError::Unavailable { .. } => Category::Transient,
            HttpError::UnexpectedBody { .. } | HttpError::Build { .. } => Category::Configuration,
            HttpError::TooLarge { .. } => Category::InvalidResponse,
        }
    }
}

fn after_attempts(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    retry: RetryPolicy,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!("credctl/", env!("CARGO_PKG_VERSION")))
            // A fresh connection per request: then "the connection never
            // opened" is exactly "the request was not sent", which is what
            // decides whether a resend is safe.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| HttpError::Build {
                url: String::new(),
                cause: cause(&e),
            })?;
        Ok(Http {
            client,
            timeout,
            retry: RetryPolicy::default(),
        })
    }

    /// Sends a request with the retry rules above. A final 5xx/429, and any
    /// non-2xx answer that is not JSON, comes back as an error so that it is
    /// not mistaken for an OAuth error response.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = request.uri().to_string();
        let host = request
            .uri()
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_else(|| url.clone());
        let idempotent = matches!(*request.method(), Method::GET | Method::HEAD);
        let started = tokio::time::Instant::now();
        let fits = |delay: Duration| started.elapsed() + delay + self.timeout <= self.retry.budget;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt > self.retry.retries;
            let req =
                reqwest::Request::try_from(request.clone()).map_err(|e| HttpError::Build {
                    url: url.clone(),
                    cause: cause(&e),
                })?;
            let method = req.method().clone();
            let outcome = self.client.execute(req).await;
            let response = match outcome {
                Ok(response) => response,
                Err(e) => {
                    let unsent = e.is_connect();
                    let error = if unsent {
                        HttpError::Connect {
                            host: host.clone(),
                            cause: cause(&e),
                        }
                    } else {
                        HttpError::NoAnswer {
                            host: host.clone(),
                            cause: cause(&e),
                        }
                    };
                    let delay = self.retry.backoff(attempt - 1);
                    if (unsent || idempotent) && !last && fits(delay) {
                        debug!(%method, %url, attempt, error = %error, ?delay, "transient failure, retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    debug!(%method, %url, attempt, error = %error, "request failed");
                    return Err(error);
                }
            };
            let status = response.status();
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                let retry_after = retry_after(response.headers());
                let delay = retry_after.unwrap_or_else(|| self.retry.backoff(attempt - 1));
                let too_long =
                    retry_after.is_some_and(|d| d > self.retry.max_retry_after) || !fits(delay);
                if !last && !too_long {
                    debug!(%method, %url, attempt, %status, ?delay, "provider unavailable, retrying");
                    drop(response);
                    tokio::time::sleep(delay).await;
                    continue;
                }
                debug!(%method, %url, attempt, %status, "provider unavailable, giving up");
                return Err(HttpError::Unavailable {
                    host,
                    status,
                    attempts: attempt,
                    retry_after: retry_after.filter(|_| too_long),
                });
            }
            debug!(%method, %url, attempt, %status, "answered");
            let response = read_capped(response, &host).await?;
            // An error answer goes on to be read as an OAuth error only if it is one.
            if !status.is_success() && !is_oauth_error(response.body()) {
                return Err(HttpError::UnexpectedBody {
                    url,
                    status,
                    what: describe_body(response.headers(), response.body()),
                });
            }
            return Ok(response);
        }
    }

    /// GET a JSON document (discovery).
    pub async fn get_json(&self, url: &url::Url) -> Result<(StatusCode, Vec<u8>), HttpError> {
        let request = oauth2::http::Request::builder()
            .method(Method::GET)
            .uri(url.as_str())
            .header(reqwest::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| HttpError::Build {
                url: url.to_string(),
                cause: e.to_string(),
            })?;
        let response = self.send(request).await?;
        Ok((response.status(), response.into_body()))
    }
}

async fn read_capped(
    mut response: reqwest::Response,
    host: &str,
) -> Result<HttpResponse, HttpError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(HttpError::TooLarge { host: host.into() });
    }
    let mut builder = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(HttpError::TooLarge { host: host.into() });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(HttpError::NoAnswer {
                    host: host.into(),
                    cause: cause(&e),
                });
            }
        }
    }
    builder.body(body).map_err(|e| HttpError::Build {
        url: host.into(),
        cause: e.to_string(),
    })
}

/// RFC 9110 §10.2.3: delay-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(0).unsigned_abs()))
}

fn is_oauth_error(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v["error"].is_string())
}

fn describe_body(headers: &HeaderMap, body: &[u8]) -> &'static str {
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let start = String::from_utf8_lossy(&body[..body.len().min(256)]).to_ascii_lowercase();
    if body.is_empty() {
        "an empty body"
    } else if content_type.contains("html")
        || start.contains("<html")
        || start.contains("<!doctype")
    {
        "an HTML page"
    } else if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
        "JSON without an OAuth `error`"
    } else {
        "a body that is not JSON"
    }
}

/// The innermost cause of a transport error ("Connection refused (os error
/// 111)"), which says more than reqwest's outer "error sending request".
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    let text = inner.to_string();
    if e.source().is_none() {
        return text;
    }
    if let Some(re) = e.downcast_ref::<reqwest::Error>()
        && re.is_timeout()
    {
        return format!("timed out: {text}");
    }
    text
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
    fn html_is_named_as_such() {
        let headers = HeaderMap::new();
        assert_eq!(
            describe_body(&headers, b"<!DOCTYPE html><p>x"),
            "an HTML page"
        );
        assert_eq!(describe_body(&headers, b""), "an empty body");
        assert!(!is_oauth_error(b"[1]"));
        assert!(!is_oauth_error(br#"{"message":"Not Found"}"#));
        assert!(is_oauth_error(br#"{"error":"invalid_grant"}"#));
    }
}
