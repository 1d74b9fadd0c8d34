//! Errors, the hints that tell a person what to do next, and the one mapping
//! to exit codes.
//!
//! What always holds:
//! - a message names the object (provider, account, file); the next step is
//!   a separate [`Error::hint`], printed on its own line;
//! - causes are kept as `#[source]` chains, not formatted into strings;
//! - no message holds a secret: variants carry names, paths and sanitised,
//!   scrubbed provider text only;
//! - the exit codes of DESIGN.md are chosen in [`Error::exit_code`] and
//!   nowhere else.

use std::io;
use std::path::PathBuf;

use crate::flow::FlowError;
use crate::http::HttpError;
use crate::name::{CredentialId, Name};
use crate::paths::EnvError;
pub use crate::store::StoreError;
pub use crate::token::Category;
use crate::token::FlowKind;

mod hint;

/// Exit codes of DESIGN.md.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_LOGGED_IN: u8 = 3;
    pub const AUTH: u8 = 4;
    pub const TEMPORARY: u8 = 5;
    pub const CONFIG: u8 = 6;
    pub const STORAGE: u8 = 7;
    /// `auth exec`: the command cannot be run, or was not found (as a shell).
    pub const CANNOT_EXECUTE: u8 = 126;
    pub const COMMAND_NOT_FOUND: u8 = 127;
    pub const INTERRUPTED: u8 = 130;
}

/// What a provider was asked to do when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    Refresh,
    Revoke,
    Check,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign-in to",
            Action::Refresh => "refresh of",
            Action::Revoke => "revocation of",
            Action::Check => "the check of",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{provider} has {} accounts ({})", accounts.len(), join(accounts))]
    AmbiguousAccount { provider: Name, accounts: Vec<Name> },

    #[error(transparent)]
    Input(#[from] InputError),

    #[error(transparent)]
    Env(#[from] EnvError),

    #[error("name a provider to sign in to; the known ones are:\n  {}", providers.join("\n  "))]
    NoProvider { providers: Vec<String> },

    #[error("`credctl {typed}` is not a command")]
    DidYouMean { typed: String, meant: String },

    #[error(
        "{provider} does not support the {flow} flow; it supports: {}",
        join(supported)
    )]
    FlowNotSupported {
        provider: Name,
        flow: FlowKind,
        supported: Vec<FlowKind>,
    },

    #[error("{id} holds a static token, which cannot be refreshed")]
    StaticToken { id: CredentialId, login: String },

    #[error("not logged in to {id}")]
    NotLoggedIn { id: CredentialId },

    #[error("the token of {id} {expiry} and there is no refresh token")]
    Expired {
        id: CredentialId,
        /// `expired 3h ago`.
        expiry: String,
        login: String,
    },

    #[error("the token of {id} {expiry} and could not be refreshed")]
    NotRenewed {
        id: CredentialId,
        /// `expired 7s ago`.
        expiry: String,
        #[source]
        source: Renewal,
    },

    #[error(
        "the client_credentials flow needs a client_secret, and [providers.{provider}] has none"
    )]
    NeedsClientSecret {
        provider: Name,
        config_path: PathBuf,
    },

    #[error("{id} cannot be refreshed: the provider issued no refresh token")]
    NotRefreshable { id: CredentialId, login: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("{} {id} failed", action.as_str())]
    Provider {
        action: Action,
        id: CredentialId,
        config_path: PathBuf,
        #[source]
        source: Box<FlowError>,
    },

    #[error("{0}")]
    Rebind(Box<Rebound>),

    #[error("discovery for {provider} at {issuer} failed")]
    Discovery {
        provider: Name,
        issuer: String,
        config_path: PathBuf,
        #[source]
        source: Box<FlowError>,
    },

    #[error("cannot set up the connection to providers")]
    HttpSetup {
        #[source]
        source: Box<HttpError>,
    },

    #[error("saving the refreshed tokens of {id} failed")]
    SaveRefreshed {
        id: CredentialId,
        #[source]
        source: Box<StoreError>,
    },

    #[error("{}", path.display())]
    Config {
        path: PathBuf,
        #[source]
        source: ConfigError,
    },

    #[error(
        "unknown provider {name}: it is neither built in nor declared in {}",
        config_path.display()
    )]
    UnknownProvider { name: Name, config_path: PathBuf },

    #[error("{provider} has no git hosts")]
    NoGitHosts {
        provider: Name,
        config_path: PathBuf,
    },

    #[error("cannot run git to configure it")]
    Git {
        #[source]
        source: io::Error,
    },

    #[error("git config failed: {0}")]
    GitConfig(String),

    #[error("{provider} has no client_id configured")]
    MissingClientId {
        provider: Name,
        config_path: PathBuf,
        register_url: Option<&'static str>,
        /// What else the provider's clients need, for built-ins.
        note: Option<&'static str>,
    },

    #[error(
        "{} of {total} credentials did not pass the check ({rejected} rejected, {unchecked} could not be checked)",
        rejected + unchecked
    )]
    CheckFailed {
        rejected: usize,
        unchecked: usize,
        /// A check could not be made because the config no longer matches.
        misconfigured: bool,
        total: usize,
    },

    #[error("{} of {total} {what}", failures.len())]
    Incomplete {
        what: &'static str,
        failures: Vec<Error>,
        total: usize,
    },

    #[error("cannot run {program}")]
    Exec {
        program: String,
        #[source]
        source: io::Error,
    },

    #[error("cannot write to standard output")]
    Output(#[source] io::Error),

    #[error("interrupted")]
    Interrupted,

    /// Already told to the person in the command's own words; only its
    /// exit code is left to give.
    #[error(transparent)]
    Reported(Box<Error>),

    #[error("internal error: {what}")]
    Internal {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Why an expired token could not be renewed: what the provider (or the
/// network) said, or a local reason.
#[derive(Debug, thiserror::Error)]
pub enum Renewal {
    #[error("{source}")]
    Provider {
        config_path: PathBuf,
        source: Box<FlowError>,
    },
    #[error(transparent)]
    Local(Box<Error>),
}

impl Renewal {
    /// The refresh's failure, without its "refresh of … failed" wrapper:
    /// the message already says the token could not be refreshed.
    pub fn of(error: Error) -> Renewal {
        match error {
            Error::Provider {
                action: Action::Refresh,
                config_path,
                source,
                ..
            } => Renewal::Provider {
                config_path,
                source,
            },
            other => Renewal::Local(Box::new(other)),
        }
    }
}

/// A credential whose config now names another issuer, token endpoint or client.
#[derive(Debug, thiserror::Error)]
#[error(
    "{id} was signed in with the {what} {recorded}, but {} now names {configured}; credctl sends nothing there",
    config_path.display()
)]
pub struct Rebound {
    pub id: CredentialId,
    pub what: &'static str,
    pub recorded: String,
    pub configured: String,
    pub config_path: PathBuf,
}

/// Bad input from the person on stdin.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read the token from {from}")]
    TokenRead {
        from: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("the input on stdin is larger than {} KiB, too large for a token", max / 1024)]
    TokenTooLarge { max: usize },

    #[error("the input on stdin is not UTF-8 text")]
    TokenNotText,

    #[error("no token on stdin")]
    NoToken,

    #[error("the input holds spaces, line breaks or control characters, which no token has")]
    TokenNotOneWord,

    #[error("the token holds characters other than printable ASCII, which RFC 6750 does not allow")]
    TokenNotAscii,
}

/// What is wrong with `config.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The position only: the file may hold a client secret, so it is not quoted.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{message}")]
    Toml { message: String },

    #[error("[providers.{key}]: {problem}")]
    Provider { key: String, problem: String },

    #[error(
        "[providers.{provider}] allows no sign-in flow: it needs token_url with authorization_url or device_authorization_url, or a client_secret"
    )]
    NoFlow { provider: Name },
}

impl Error {
    /// The one mapping from errors to the exit codes of DESIGN.md.
    pub fn exit_code(&self) -> u8 {
        use Error as E;
        match self {
            E::AmbiguousAccount { .. }
            | E::Input(_)
            | E::Env(_)
            | E::NoProvider { .. }
            | E::DidYouMean { .. }
            | E::FlowNotSupported { .. }
            | E::StaticToken { .. } => exit::USAGE,
            E::NotLoggedIn { .. } => exit::NOT_LOGGED_IN,
            E::Expired { .. } | E::NotRefreshable { .. } => exit::AUTH,
            E::NotRenewed {
                source: Renewal::Local(source),
                ..
            } => source.exit_code(),
            E::NeedsClientSecret { .. } => exit::CONFIG,
            E::CheckFailed {
                misconfigured: true,
                ..
            } => exit::CONFIG,
            E::CheckFailed { rejected, .. } if *rejected > 0 => exit::AUTH,
            E::CheckFailed { .. } => exit::TEMPORARY,
            // Waiting for another process is a temporary condition.
            E::Store(StoreError::LockTimeout { .. }) => exit::TEMPORARY,
            E::Store(StoreError::WrongLock { .. } | StoreError::Encode(_)) => exit::INTERNAL,
            E::Store(_) | E::SaveRefreshed { .. } => exit::STORAGE,
            E::Provider { source, .. }
            | E::Discovery { source, .. }
            | E::NotRenewed {
                source: Renewal::Provider { source, .. },
                ..
            } => match source.category() {
                Category::Transient | Category::InvalidResponse => exit::TEMPORARY,
                Category::ReauthRequired => exit::AUTH,
                Category::Configuration => exit::CONFIG,
                Category::Storage => exit::STORAGE,
            },
            E::Config { .. }
            | E::UnknownProvider { .. }
            | E::MissingClientId { .. }
            | E::HttpSetup { .. }
            | E::Rebind(_)
            | E::NoGitHosts { .. }
            | E::Git { .. }
            | E::GitConfig(_) => exit::CONFIG,
            // The failure that needs the most from a person: a temporary
            // failure heals by itself; a rejected refresh token needs a
            // login; bad configuration or storage needs a fix.
            E::Incomplete { failures, .. } => failures
                .iter()
                .map(Error::exit_code)
                .max_by_key(|code| match *code {
                    exit::INTERNAL => 7,
                    exit::STORAGE => 6,
                    exit::CONFIG => 5,
                    exit::AUTH => 4,
                    exit::NOT_LOGGED_IN => 3,
                    exit::TEMPORARY => 2,
                    _ => 1,
                })
                .unwrap_or(exit::INTERNAL),
            // As a shell does: 127 for a command not found, 126 for one
            // that cannot be run.
            E::Exec { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                exit::COMMAND_NOT_FOUND
            }
            E::Exec { .. } => exit::CANNOT_EXECUTE,
            E::Output(_) | E::Internal { .. } => exit::INTERNAL,
            E::Interrupted => exit::INTERRUPTED,
            E::Reported(inner) => inner.exit_code(),
        }
    }

    /// A trust store that cannot be read (`SSL_CERT_FILE`, `ca_file`): a
    /// local problem, whichever exchange with a provider met it first.
    pub fn is_trust_store(&self) -> bool {
        let flow =
            |source: &FlowError| matches!(source, FlowError::Http(HttpError::TrustStore { .. }));
        match self {
            Error::Provider { source, .. } | Error::Discovery { source, .. } => flow(source),
            Error::HttpSetup { source } => matches!(source.as_ref(), HttpError::TrustStore { .. }),
            _ => false,
        }
    }

    /// The category of a failure, for the record `auth list` shows.
    pub fn category(&self) -> Option<Category> {
        match self {
            Error::Provider { source, .. } | Error::Discovery { source, .. } => {
                Some(source.category())
            }
            Error::Expired { .. } | Error::NotRefreshable { .. } => Some(Category::ReauthRequired),
            Error::NotRenewed {
                source: Renewal::Provider { source, .. },
                ..
            } => Some(source.category()),
            Error::NotRenewed {
                source: Renewal::Local(source),
                ..
            } => source.category(),
            Error::NeedsClientSecret { .. } => Some(Category::Configuration),
            Error::Config { .. }
            | Error::UnknownProvider { .. }
            | Error::MissingClientId { .. }
            | Error::HttpSetup { .. }
            | Error::Rebind(_) => Some(Category::Configuration),
            Error::Store(_) | Error::SaveRefreshed { .. } => Some(Category::Storage),
            _ => None,
        }
    }
}

/// An error and its causes on one line: `a: b: c`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // `#[error(transparent)]` layers repeat their source.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CredentialId {
        CredentialId::new("acme".parse().expect("n"), Name::default_account())
    }

    #[test]
    fn several_failures_exit_with_the_most_serious() {
        let failures = vec![
            Error::Store(StoreError::LockTimeout {
                path: "x".into(),
                waited_secs: 1,
            }),
            Error::NotRefreshable {
                id: id(),
                login: "l".into(),
            },
        ];
        let e = Error::Incomplete {
            what: "credentials could not be refreshed",
            failures,
            total: 3,
        };
        assert_eq!(e.exit_code(), exit::AUTH);
        assert_eq!(e.to_string(), "2 of 3 credentials could not be refreshed");
    }
}
