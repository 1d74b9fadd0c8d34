//! Why a flow failed, as data: each failure has a [`Category`] that decides
//! retries, the exit code and what `auth list` shows.
//!
//! What always holds: every string a variant carries that came from a
//! provider has passed [`sanitize::text`], and has been scrubbed of the
//! secrets the flow sent ([`FlowError::scrub`]) before it leaves the flow. Raw
//! response bodies are never kept: they can hold tokens.

use std::io;
use std::time::Duration;

use oauth2::RequestTokenError;
use oauth2::basic::BasicErrorResponse;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::http::HttpError;
use crate::sanitize;
use crate::secret::Secret;
use crate::token::Category;

/// Provider text in a message is cut at this many characters.
const SHOWN_CHARS: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Http(#[from] HttpError),

    /// An OAuth error answer (RFC 6749 §5.2, RFC 8628 §3.5).
    #[error("the provider answered `{code}`{}", shown(description))]
    OAuth {
        code: String,
        description: Option<String>,
    },

    #[error("the provider's answer is not a valid token response ({reason})")]
    NotATokenResponse { reason: String },

    #[error("the {endpoint} endpoint answered HTTP {status} without an OAuth error")]
    UnexpectedStatus {
        endpoint: &'static str,
        status: StatusCode,
    },

    #[error("the provider has no {0} endpoint")]
    MissingEndpoint(&'static str),

    #[error("the client_credentials flow needs a confidential client: no client_secret is set")]
    NeedsClientSecret,

    #[error(
        "the browser flow needs a loopback redirect_uri such as http://127.0.0.1/callback, not {0}; use `--flow paste` for a redirect to a web page"
    )]
    NotLoopbackRedirect(String),

    #[error("cannot listen on {ip} for the redirect to {redirect}")]
    Listen {
        ip: std::net::IpAddr,
        redirect: String,
        #[source]
        source: io::Error,
    },

    #[error("the redirect listener failed")]
    Listener(#[source] io::Error),

    #[error(
        "the sign-in link was opened twice, so someone else may have opened it first; the sign-in was stopped and nothing was stored"
    )]
    StartOpenedTwice,

    #[error(
        "no answer from the browser within {}; if the provider showed an error page, check that {redirect} is a registered redirect URI of the client",
        humantime::format_duration(*waited)
    )]
    NoBrowserAnswer {
        waited: Duration,
        redirect: String,
        /// No browser could be started, or the session is remote (SSH):
        /// the device flow is the way in.
        suggest_device: bool,
    },

    #[error(
        "the callback came from issuer {got:?}, not {expected} (a mix-up attack or a misconfigured issuer); nothing was stored"
    )]
    CallbackIssuer { got: String, expected: String },

    #[error(
        "the callback has no `iss` although the provider promises one (RFC 9207); nothing was stored"
    )]
    CallbackWithoutIss,

    #[error(
        "the callback's state does not match this sign-in (a stale browser tab, or a forged request); nothing was stored"
    )]
    StateMismatch,

    #[error("the callback carries no authorization code")]
    NoCode,

    #[error(
        "the sign-in was not completed: the provider answered `{code}`{}",
        shown(description)
    )]
    SignInRefused {
        code: String,
        description: Option<String>,
    },

    #[error("cannot read the code")]
    PasteRead(#[source] io::Error),

    #[error("no code was pasted")]
    NothingPasted,

    #[error("the sign-in was denied on the verification page")]
    DeviceDenied,

    #[error("the code expired before the sign-in was approved")]
    DeviceExpired,

    #[error("the provider issued no refresh token")]
    NoRefreshToken,

    #[error("a static token cannot be refreshed")]
    StaticToken,

    #[error(
        "the provider issued a token that had already expired (at {expires_at}; it is {now} here){}",
        server.map(|s| format!(
            "; the provider's clock says {s}, {} away from this machine's: check the clock (clock skew)",
            crate::timefmt::span((s - *now).abs())
        )).unwrap_or_default()
    )]
    ArrivedExpired {
        expires_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
        /// The provider's `Date`, when it differs from ours by more than a minute.
        server: Option<chrono::DateTime<chrono::Utc>>,
    },

    #[error(
        "no answer within {} s; the request may have reached the provider, so it was not sent again",
        .0.as_secs()
    )]
    Timeout(Duration),

    #[error("{url} names issuer {got:?}, not {expected}")]
    DiscoveredIssuer {
        url: String,
        got: String,
        expected: String,
    },

    #[error("{url}: {key}: {problem}")]
    DiscoveredEndpoint {
        url: String,
        key: &'static str,
        problem: String,
    },

    #[error("no metadata document: {}", attempts.join("; "))]
    Discovery {
        /// What each well-known URL gave.
        attempts: Vec<String>,
        /// Every attempt failed for a transient reason.
        transient: bool,
    },
}

fn shown(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(": {}", sanitize::clip(d, SHOWN_CHARS)),
        _ => String::new(),
    }
}

impl FlowError {
    pub fn category(&self) -> Category {
        use FlowError as E;
        match self {
            E::Http(e) => e.category(),
            E::OAuth { code, .. } => oauth_category(code),
            E::NotATokenResponse { .. } | E::UnexpectedStatus { .. } | E::ArrivedExpired { .. } => {
                Category::InvalidResponse
            }
            E::MissingEndpoint(_)
            | E::NeedsClientSecret
            | E::NotLoopbackRedirect(_)
            | E::Listen { .. }
            | E::DiscoveredIssuer { .. }
            | E::DiscoveredEndpoint { .. } => Category::Configuration,
            E::Discovery { transient, .. } => {
                if *transient {
                    Category::Transient
                } else {
                    Category::Configuration
                }
            }
            E::Listener(_) | E::Timeout(_) => Category::Transient,
            E::NoBrowserAnswer { .. }
            | E::StartOpenedTwice
            | E::CallbackIssuer { .. }
            | E::CallbackWithoutIss
            | E::StateMismatch
            | E::NoCode
            | E::SignInRefused { .. }
            | E::PasteRead(_)
            | E::NothingPasted
            | E::DeviceDenied
            | E::DeviceExpired
            | E::NoRefreshToken
            | E::StaticToken => Category::ReauthRequired,
        }
    }

    /// An OAuth error code from the provider, sanitised.
    pub fn oauth(code: &str, description: Option<&str>) -> FlowError {
        FlowError::OAuth {
            code: sanitize::text_max(code, 100),
            description: description.map(sanitize::text).filter(|d| !d.is_empty()),
        }
    }

    /// Blanks out the secrets that were sent: a provider's error text may
    /// quote them back (exactly, or percent- or form-encoded), and this
    /// text reaches stderr, the error record and `auth list`.
    pub fn scrub(mut self, secrets: &[Secret<&str>]) -> Self {
        let scrub = |text: &mut String| {
            for secret in secrets {
                *text = secret.redact(text);
            }
        };
        match &mut self {
            FlowError::OAuth { code, description }
            | FlowError::SignInRefused { code, description } => {
                scrub(code);
                if let Some(d) = description {
                    scrub(d);
                }
            }
            FlowError::NotATokenResponse { reason } => scrub(reason),
            FlowError::CallbackIssuer { got, .. } | FlowError::DiscoveredIssuer { got, .. } => {
                scrub(got)
            }
            _ => {}
        }
        self
    }
}

/// RFC 6749 §5.2, RFC 8628 §3.5, and the names real providers use.
fn oauth_category(code: &str) -> Category {
    match code {
        // With GitHub's names for a dead refresh token, code or device code,
        // and OpenID Connect's "the user must sign in again" (Microsoft
        // answers interaction_required to a refresh when MFA is due).
        "invalid_grant"
        | "access_denied"
        | "expired_token"
        | "bad_refresh_token"
        | "bad_verification_code"
        | "incorrect_device_code"
        | "interaction_required"
        | "login_required"
        | "consent_required"
        | "account_selection_required" => Category::ReauthRequired,
        "temporarily_unavailable" | "server_error" => Category::Transient,
        // invalid_client, unauthorized_client, invalid_request, invalid_scope,
        // unsupported_grant_type and anything else: the request was wrong.
        _ => Category::Configuration,
    }
}

/// An OAuth error body, as some providers send even with HTTP 200.
#[derive(Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: String,
    pub error_description: Option<String>,
}

impl From<OAuthErrorBody> for FlowError {
    fn from(e: OAuthErrorBody) -> Self {
        FlowError::oauth(&e.error, e.error_description.as_deref())
    }
}

/// Sorts an oauth2 error into ours. Raw bodies are dropped: they can hold tokens.
pub fn classify(error: RequestTokenError<HttpError, BasicErrorResponse>) -> FlowError {
    match error {
        RequestTokenError::ServerResponse(e) => FlowError::oauth(
            e.error().as_ref(),
            e.error_description().map(String::as_str),
        ),
        RequestTokenError::Request(e) => e.into(),
        RequestTokenError::Parse(e, body) => {
            // GitHub answers errors with HTTP 200 and an `error` field.
            if let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(&body) {
                return e.into();
            }
            FlowError::NotATokenResponse {
                reason: format!("{} at `{}`", describe_json_error(e.inner()), e.path()),
            }
        }
        RequestTokenError::Other(message) => FlowError::NotATokenResponse {
            reason: sanitize::text(&message),
        },
    }
}

/// A serde_json error without the values it may quote.
pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category as C;
    match e.classify() {
        C::Eof => "truncated JSON".into(),
        C::Syntax => "not JSON".into(),
        C::Io => "unreadable".into(),
        C::Data => {
            let text = e.to_string();
            if text.starts_with("missing field") {
                sanitize::text(text.split(" at line").next().unwrap_or_default())
            } else {
                "a field has the wrong type".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_is_sanitised_and_scrubbed() {
        let e = FlowError::oauth(
            "invalid_grant\x1b[2J",
            Some("token rt/secret-1 and rt%2Fsecret-1 revoked\u{202E}"),
        )
        .scrub(&[Secret::new("rt/secret-1")]);
        assert_eq!(
            e.to_string(),
            "the provider answered `invalid_grant [2J`: token *** and *** revoked"
        );
    }

    #[test]
    fn categories_follow_the_code() {
        assert_eq!(
            FlowError::oauth("invalid_grant", None).category(),
            Category::ReauthRequired
        );
        assert_eq!(
            FlowError::oauth("temporarily_unavailable", None).category(),
            Category::Transient
        );
        assert_eq!(
            FlowError::oauth("invalid_client", None).category(),
            Category::Configuration
        );
    }
}
