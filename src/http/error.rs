//! What can go wrong on the wire. No variant holds a request or response
//! body: either may hold secrets.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

use crate::http::MAX_BODY;
use crate::token::Category;

/// The transport-level cause of a failure (reqwest, hyper, io), kept whole
/// but shown as its innermost message ("Connection refused (os error
/// 111)"), which says more than the outer "error sending request".
#[derive(Debug)]
pub struct Cause(Box<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Cause {
        Cause(error.into())
    }

    pub fn is_timeout(&self) -> bool {
        self.0
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut inner: &dyn std::error::Error = self.0.as_ref();
        while let Some(source) = inner.source() {
            inner = source;
        }
        if self.is_timeout() && inner.source().is_none() && !std::ptr::eq(inner, self.0.as_ref()) {
            write!(f, "timed out: {inner}")
        } else {
            write!(f, "{inner}")
        }
    }
}

// The chain is summarised by `Display`; printing it again would repeat it.
impl std::error::Error for Cause {}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot connect to {host}{}", through(via))]
    Connect {
        host: String,
        via: Option<String>,
        #[source]
        source: Cause,
    },

    #[error(
        "{host} did not answer in time{} (the request may have reached it, so credctl did not send it again)",
        through(via)
    )]
    NoAnswer {
        host: String,
        via: Option<String>,
        #[source]
        source: Cause,
    },

    #[error(
        "the connection to {host}{} closed before the answer was complete (the request may have reached it, so credctl did not send it again)",
        through(via)
    )]
    Closed {
        host: String,
        via: Option<String>,
        #[source]
        source: Cause,
    },

    #[error("the proxy {proxy} asks for credentials (HTTP 407) to reach {host}")]
    ProxyAuth { host: String, proxy: String },

    #[error("the TLS certificate of {host} is not trusted: {reason}")]
    Certificate {
        host: String,
        /// rustls's words, sanitised: the names in them came from the server.
        reason: String,
        kind: CertificateProblem,
    },

    #[error(
        "{host} answered HTTP {status}{}{}{}{}",
        through(via),
        after_attempts(*attempts),
        retry_after.map(|d| format!("; it asks to retry after {} s", d.as_secs())).unwrap_or_default(),
        if *forwarded {
            "; a gateway may have passed the request on, so credctl did not send it again (a resent refresh token or code can be taken for theft)"
        } else {
            ""
        }
    )]
    Unavailable {
        host: String,
        via: Option<String>,
        status: StatusCode,
        attempts: u32,
        /// What the server asked for, when credctl did not wait that long.
        retry_after: Option<Duration>,
        /// A grant-spending request got 500, 502 or 504: not resent.
        forwarded: bool,
    },

    #[error("{url} answered HTTP {status} with {what}, not an OAuth answer")]
    UnexpectedBody {
        url: String,
        status: StatusCode,
        what: &'static str,
    },

    #[error("the answer from {host} is larger than {} KiB", MAX_BODY / 1024)]
    TooLarge { host: String },

    #[error("cannot build a request to {url}")]
    Build {
        url: String,
        #[source]
        source: Cause,
    },

    #[error(
        "cannot use the trusted certificates{}",
        path.as_ref().map(|p| format!(" of {}", p.display())).unwrap_or_default()
    )]
    TrustStore {
        path: Option<std::path::PathBuf>,
        #[source]
        source: TrustProblem,
    },

    #[error("{variable} is not a proxy URL")]
    Proxy {
        variable: &'static str,
        #[source]
        source: url::ParseError,
    },
}

impl HttpError {
    pub fn category(&self) -> Category {
        match self {
            // Not implemented, HTTP version not supported: no wait will help.
            HttpError::Unavailable { status, .. } if matches!(status.as_u16(), 501 | 505) => {
                Category::Configuration
            }
            HttpError::Connect { .. }
            | HttpError::NoAnswer { .. }
            | HttpError::Closed { .. }
            | HttpError::Unavailable { .. } => Category::Transient,
            HttpError::UnexpectedBody { .. }
            | HttpError::Build { .. }
            | HttpError::Certificate { .. }
            | HttpError::ProxyAuth { .. }
            | HttpError::TrustStore { .. }
            | HttpError::Proxy { .. } => Category::Configuration,
            HttpError::TooLarge { .. } => Category::InvalidResponse,
        }
    }
}

fn through(via: &Option<String>) -> String {
    via.as_ref()
        .map(|p| format!(" through the proxy {p}"))
        .unwrap_or_default()
}

fn after_attempts(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// Why a trust store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, `ca_file`) cannot be
/// used.
#[derive(Debug, thiserror::Error)]
pub enum TrustProblem {
    /// A `ca_file` that fails the store's checks: its hint says the fix.
    #[error(transparent)]
    Private(Box<crate::store::StoreError>),
    #[error(transparent)]
    Load(Cause),
    #[error("it holds no PEM certificate")]
    NoCertificate,
}

/// What is wrong with a certificate, for the hint that fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Issued by a CA that is not trusted here: add the CA.
    UnknownIssuer,
    /// Valid, but for another name: the URL, or something answering in the
    /// provider's place.
    WrongName,
    /// Expired or not yet valid: this machine's clock, or the provider.
    Dates,
    Other,
}
