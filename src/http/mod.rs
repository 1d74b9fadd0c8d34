//! The one HTTP client, built only by commands that use the network (never on
//! the fast path of `auth token`), and only at their first request.
//!
//! What always holds:
//! - redirects are not followed; connect and overall timeouts are set; the
//!   User-Agent is `credctl/<version>`; bodies are capped at 1 MiB;
//! - a request is resent only as [`retry`] allows: never a request that may
//!   have spent a single-use grant;
//! - retries back off exponentially with full jitter (base 250 ms, cap 5 s)
//!   and honour `Retry-After` up to 30 s;
//! - no error text holds a request or response body: either may hold secrets.

mod dns;
mod error;
pub mod proxy;
pub mod retry;
pub mod tls;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use oauth2::{HttpRequest, HttpResponse};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use tracing::debug;

pub use error::{Cause, CertificateProblem, HttpError, TrustProblem};
use proxy::Proxies;
pub use retry::Resend;
use retry::RetryPolicy;
pub use tls::Trust;

/// Response bodies larger than this are refused.
pub const MAX_BODY: usize = 1024 * 1024;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to build the client.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub trust: Trust,
    pub proxies: crate::paths::ProxyVars,
}

#[derive(Debug, Clone)]
pub struct Http {
    /// Built at the first request: loading the trust store is most of the
    /// cost of a client (2.7–3 ms here, README "HTTP"), and of 64
    /// processes that wait for one refresh, 63 find the new token on disk
    /// and send nothing.
    client: Arc<OnceLock<reqwest::Client>>,
    settings: HttpSettings,
    proxies: Proxies,
    retry: RetryPolicy,
    /// The `Date` of the last answer, to tell clock skew from an expired token.
    server_date: Arc<Mutex<Option<DateTime<Utc>>>>,
}

/// What one attempt came to.
enum Attempt {
    Answered(reqwest::Response),
    /// No answer; `unsent` when the connection never opened, `last` when
    /// trying again cannot help (an untrusted certificate).
    Failed {
        error: HttpError,
        unsent: bool,
        last: bool,
    },
}

impl Http {
    /// Checks the proxy settings; the client itself is built on first use.
    pub fn new(settings: HttpSettings) -> Result<Http, HttpError> {
        let proxies = Proxies::from_vars(&settings.proxies)?;
        Ok(Http {
            client: Arc::default(),
            settings,
            proxies,
            retry: RetryPolicy::default(),
            server_date: Arc::default(),
        })
    }

    /// Builds the client now: for a sign-in, so that a trust store that
    /// cannot be read is found before the person signs in, not at the code
    /// exchange after it.
    pub fn ready(&self) -> Result<(), HttpError> {
        self.client().map(|_| ())
    }

    fn client(&self) -> Result<&reqwest::Client, HttpError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(self.settings.timeout))
            .timeout(self.settings.timeout)
            .user_agent(concat!("credctl/", env!("CARGO_PKG_VERSION")))
            // A fresh connection per request: then "the connection never
            // opened" is exactly "the request was not sent", which is what
            // decides whether a resend is safe.
            .pool_max_idle_per_host(0)
            .tls_built_in_root_certs(false)
            // Our proxy rules, not reqwest's: loopback never goes through one.
            .no_proxy()
            .dns_resolver(Arc::new(dns::Resolver::default()));
        for root in self.settings.trust.roots()? {
            builder = builder.add_root_certificate(root);
        }
        let chosen = self.proxies.clone();
        builder = builder.proxy(reqwest::Proxy::custom(move |url| {
            chosen.for_url(url).cloned()
        }));
        let client = builder.build().map_err(|e| HttpError::Build {
            url: String::new(),
            source: Cause::new(e),
        })?;
        Ok(self.client.get_or_init(|| client))
    }

    /// This client, trusting a provider's own `ca_file` too.
    pub fn with_ca_file(&self, ca_file: Option<&std::path::Path>) -> Result<Http, HttpError> {
        let Some(path) = ca_file else {
            return Ok(self.clone());
        };
        let mut settings = self.settings.clone();
        settings.trust.extra = Some(path.to_path_buf());
        Http::new(settings)
    }

    /// The `Date` header of the last answer, if it had one.
    pub fn server_date(&self) -> Option<DateTime<Utc>> {
        *self
            .server_date
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends a request with the retry rules of [`retry`]. A final 5xx/429,
    /// and any non-2xx answer that is not JSON, comes back as an error so
    /// that it is not mistaken for an OAuth error response.
    pub async fn send(
        &self,
        request: HttpRequest,
        resend: Resend,
    ) -> Result<HttpResponse, HttpError> {
        let url = request.uri().to_string();
        let host = request
            .uri()
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_else(|| url.clone());
        let via = url::Url::parse(&url)
            .ok()
            .and_then(|u| self.proxies.for_url(&u).map(proxy::shown));
        let started = tokio::time::Instant::now();
        let timeout = self.settings.timeout;
        let fits = |delay: Duration| started.elapsed() + delay + timeout <= self.retry.budget;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt > self.retry.retries;
            let method = request.method().clone();
            let response = match self.attempt(&request, &url, &host, &via).await? {
                Attempt::Answered(response) => response,
                Attempt::Failed {
                    error,
                    unsent,
                    last: hopeless,
                } => {
                    let delay = self.retry.backoff(attempt - 1);
                    if resend.after_failure(unsent) && !last && !hopeless && fits(delay) {
                        debug!(%method, %url, attempt, error = %error, ?delay, "transient failure, retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    debug!(%method, %url, attempt, error = %error, "request failed");
                    return Err(error);
                }
            };
            let status = response.status();
            self.note_date(response.headers());
            if retry::is_unavailable(status) {
                let retry_after = retry::retry_after(response.headers());
                let delay = retry_after.unwrap_or_else(|| self.retry.backoff(attempt - 1));
                let too_long =
                    retry_after.is_some_and(|d| d > self.retry.max_retry_after) || !fits(delay);
                if resend.after_status(status) && !last && !too_long {
                    debug!(%method, %url, attempt, %status, ?delay, "provider unavailable, retrying");
                    drop(response);
                    tokio::time::sleep(delay).await;
                    continue;
                }
                debug!(%method, %url, attempt, %status, "provider unavailable, giving up");
                return Err(HttpError::Unavailable {
                    host,
                    via,
                    status,
                    attempts: attempt,
                    retry_after: retry_after.filter(|_| too_long),
                    forwarded: resend == Resend::SpendsGrant
                        && matches!(status.as_u16(), 500 | 502 | 504),
                });
            }
            debug!(%method, %url, attempt, %status, "answered");
            return read_answer(response, url, &host, &via).await;
        }
    }

    fn note_date(&self, headers: &HeaderMap) {
        let date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.with_timezone(&Utc));
        if date.is_some() {
            *self
                .server_date
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = date;
        }
    }

    /// One attempt; `Err` only when the request cannot even be built.
    async fn attempt(
        &self,
        request: &HttpRequest,
        url: &str,
        host: &str,
        via: &Option<String>,
    ) -> Result<Attempt, HttpError> {
        let req = reqwest::Request::try_from(request.clone()).map_err(|e| HttpError::Build {
            url: url.to_string(),
            source: Cause::new(e),
        })?;
        let e = match self.client()?.execute(req).await {
            Ok(response) => return Ok(Attempt::Answered(response)),
            Err(e) => e,
        };
        let (host, via) = (host.to_string(), via.clone());
        if let Some(proxy) = via.clone().filter(|_| proxy_wants_credentials(&e)) {
            // Nothing reached the provider, and no retry brings credentials.
            return Ok(Attempt::Failed {
                error: HttpError::ProxyAuth { host, proxy },
                unsent: true,
                last: true,
            });
        }
        Ok(match certificate_problem(&e) {
            // Trying again cannot make a certificate trusted.
            Some((kind, reason)) => Attempt::Failed {
                error: HttpError::Certificate { host, reason, kind },
                unsent: true,
                last: true,
            },
            None => Attempt::Failed {
                unsent: e.is_connect(),
                error: transport_error(e, host, via),
                last: false,
            },
        })
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
                source: Cause::new(e),
            })?;
        let response = self.send(request, Resend::Idempotent).await?;
        Ok((response.status(), response.into_body()))
    }
}

/// Whether `url` may be used: https anywhere, http only on loopback.
pub fn check_url(url: &url::Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} uses plain http on a host that is not loopback; use https (http is accepted only on 127.0.0.1, localhost and ::1)"
        )),
        other => Err(format!("{url} has scheme {other:?}; use https")),
    }
}

/// 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// What a failed exchange with a server was: no connection, no answer in
/// time, or a connection that closed mid-way.
fn transport_error(e: reqwest::Error, host: String, via: Option<String>) -> HttpError {
    if e.is_connect() {
        HttpError::Connect {
            host,
            via,
            source: Cause::new(e),
        }
    } else if e.is_timeout() {
        HttpError::NoAnswer {
            host,
            via,
            source: Cause::new(e),
        }
    } else {
        HttpError::Closed {
            host,
            via,
            source: Cause::new(e),
        }
    }
}

/// Whether the proxy answered CONNECT with 407. hyper-util does not export
/// its tunnel error, so its words are matched (a test through the binary,
/// network.rs, notices if they change).
fn proxy_wants_credentials(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.to_string().ends_with("proxy authorization required") {
            return true;
        }
        next = err.source();
    }
    false
}

/// Why a TLS certificate was refused, if that is what failed.
fn certificate_problem(
    e: &(dyn std::error::Error + 'static),
) -> Option<(CertificateProblem, String)> {
    use rustls::CertificateError as C;
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(reason)) = err.downcast_ref() {
            let kind = match reason {
                C::UnknownIssuer => CertificateProblem::UnknownIssuer,
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    CertificateProblem::WrongName
                }
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. } => CertificateProblem::Dates,
                _ => CertificateProblem::Other,
            };
            return Some((kind, crate::sanitize::text(&reason.to_string())));
        }
        // An io::Error's source() skips the error it wraps, which may be
        // another io::Error around the rustls one.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The whole answer; an error answer goes on to be read as an OAuth error
/// only if it is one.
async fn read_answer(
    response: reqwest::Response,
    url: String,
    host: &str,
    via: &Option<String>,
) -> Result<HttpResponse, HttpError> {
    let status = response.status();
    let response = read_capped(response, host, via).await?;
    if !status.is_success() && !is_oauth_error(response.body()) {
        return Err(HttpError::UnexpectedBody {
            url,
            status,
            what: describe_body(response.headers(), response.body()),
        });
    }
    Ok(response)
}

async fn read_capped(
    mut response: reqwest::Response,
    host: &str,
    via: &Option<String>,
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
            Err(e) => return Err(transport_error(e, host.into(), via.clone())),
        }
    }
    builder.body(body).map_err(|e| HttpError::Build {
        url: host.into(),
        source: Cause::new(e),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_on_loopback() {
        let url = |s: &str| url::Url::parse(s).expect("url");
        for ok in [
            "https://id.example.com/token",
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "http://[::1]:9/t",
        ] {
            assert!(check_url(&url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com/token",
            "http://10.0.0.1/token",
            "http://127.0.0.1.example.com/",
            "ftp://127.0.0.1/",
        ] {
            assert!(check_url(&url(bad)).is_err(), "{bad}");
        }
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
