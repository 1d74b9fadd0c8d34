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
    #[error("cannot connect to {host}")]
    Connect {
        host: String,
        #[source]
        source: Cause,
    },

    #[error(
        "{host} did not answer in time (the request may have reached it, so credctl did not send it again)"
    )]
    NoAnswer {
        host: String,
        #[source]
        source: Cause,
    },

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

    #[error("cannot build a request to {url}")]
    Build {
        url: String,
        #[source]
        source: Cause,
    },
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
