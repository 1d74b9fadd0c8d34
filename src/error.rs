//! Errors, the hints that tell a person what to do next, and the one mapping to exit codes.
//!
//! Every message names the object (provider, account, file) and the next step.
//! No message ever holds a secret: variants carry names, paths and sanitised
//! provider messages only. Exit codes are those of DESIGN.md, chosen in
//! [`Error::exit_code`] and nowhere else.

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::name::{CredentialId, Name};

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
    pub const INTERRUPTED: u8 = 130;
}

/// What kind of failure a refresh or login met; it decides retries, the exit
/// code and what `auth list` shows. Stored in the credential's `last_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Network trouble or an unavailable provider: wait and retry.
    Transient,
    /// The grant is gone (refresh token rejected or absent): log in again.
    ReauthRequired,
    /// The client or provider configuration is wrong: fix the config.
    Configuration,
    /// The provider answered success with something that is not a token response.
    InvalidResponse,
    /// The local store failed.
    Storage,
}

impl Category {
    /// A short phrase for `auth list`.
    pub fn describe(self) -> &'static str {
        match self {
            Category::Transient => "temporary failure",
            Category::ReauthRequired => "re-login required",
            Category::Configuration => "configuration error",
            Category::InvalidResponse => "invalid response",
            Category::Storage => "storage error",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Category::Transient | Category::InvalidResponse => exit::TEMPORARY,
            Category::ReauthRequired => exit::AUTH,
            Category::Configuration => exit::CONFIG,
            Category::Storage => exit::STORAGE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error(
        "{provider} has {} accounts ({}); choose one with `--account NAME`",
        accounts.len(),
        join(accounts)
    )]
    AmbiguousAccount { provider: Name, accounts: Vec<Name> },

    #[error("not logged in to {id}; run `{}`", id.login_command())]
    NotLoggedIn { id: CredentialId },

    #[error("{reason}: {id}; run `{login}`")]
    ReauthRequired {
        id: CredentialId,
        reason: String,
        /// The command that makes a new credential.
        login: String,
    },

    #[error(transparent)]
    Store(#[from] StoreError),

    /// Something a provider or the network did, sorted into a category.
    #[error("{what} failed: {message}; {hint}")]
    Failed {
        what: String,
        category: Category,
        message: String,
        hint: String,
    },

    #[error("{}: {message}; fix the file and retry", path.display())]
    Config { path: PathBuf, message: String },

    #[error(
        "unknown provider {name}: it is neither built in nor declared in {}. Declare it there, for example:\n\n[providers.{name}]\nissuer = \"https://id.example.com\"\nclient_id = \"YOUR_CLIENT_ID\"\n\n(`credctl auth providers` lists the known ones)",
        config_path.display()
    )]
    UnknownProvider { name: Name, config_path: PathBuf },

    #[error(
        "{provider} has no client_id configured.{} Then add to {}:\n\n[providers.{provider}]\nclient_id = \"YOUR_CLIENT_ID\"\n",
        register_url.map(|u| format!(" Register an OAuth application at {u}.")).unwrap_or_default(),
        config_path.display()
    )]
    MissingClientId {
        provider: Name,
        config_path: PathBuf,
        register_url: Option<&'static str>,
    },

    #[error("{failed} of {total} {what}; see the messages above")]
    Incomplete {
        what: &'static str,
        failed: usize,
        total: usize,
        /// The exit code of the most serious failure.
        code: u8,
    },

    #[error("cannot write to standard output: {0}")]
    Output(#[source] std::io::Error),

    #[error("interrupted")]
    Interrupted,

    #[error("internal error: {0}; this is a bug in credctl, please report it")]
    Internal(String),
}

impl Error {
    /// The exit code of several failures: the one that needs the most from a
    /// person. A temporary failure heals by itself; a rejected refresh token
    /// needs a login; bad configuration or storage needs a fix.
    pub fn most_serious<'a>(errors: impl IntoIterator<Item = &'a Error>) -> Option<u8> {
        let rank = |code: u8| match code {
            exit::INTERNAL => 7,
            exit::STORAGE => 6,
            exit::CONFIG => 5,
            exit::AUTH => 4,
            exit::NOT_LOGGED_IN => 3,
            exit::TEMPORARY => 2,
            _ => 1,
        };
        errors
            .into_iter()
            .map(Error::exit_code)
            .max_by_key(|c| rank(*c))
    }

    /// The category of a failure, for the record `auth list` shows.
    pub fn category(&self) -> Option<Category> {
        match self {
            Error::Failed { category, .. } => Some(*category),
            Error::ReauthRequired { .. } => Some(Category::ReauthRequired),
            Error::Config { .. }
            | Error::UnknownProvider { .. }
            | Error::MissingClientId { .. } => Some(Category::Configuration),
            Error::Store(_) => Some(Category::Storage),
            _ => None,
        }
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::AmbiguousAccount { .. } => exit::USAGE,
            Error::NotLoggedIn { .. } => exit::NOT_LOGGED_IN,
            Error::ReauthRequired { .. } => exit::AUTH,
            Error::Store(e) => e.exit_code(),
            Error::Failed { category, .. } => category.exit_code(),
            Error::Config { .. }
            | Error::UnknownProvider { .. }
            | Error::MissingClientId { .. } => exit::CONFIG,
            Error::Incomplete { code, .. } => *code,
            Error::Output(_) => exit::INTERNAL,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Internal(_) => exit::INTERNAL,
        }
    }
}

/// Failures of the token store. All name the file or directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {}: {source}; {}", path.display(), io_hint(source, path))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "{} is accessible by other users (mode {mode:04o}); credctl refuses to use it. Run `chmod {} {}`",
        path.display(),
        if *is_dir { "700" } else { "600" },
        path.display()
    )]
    Insecure {
        path: PathBuf,
        mode: u32,
        is_dir: bool,
    },

    #[error("{} is not a valid credential file ({reason}); it was left untouched. Remove it with `{}` and log in again", path.display(), remove_hint(id.as_ref(), path))]
    Corrupt {
        path: PathBuf,
        id: Option<CredentialId>,
        reason: String,
    },

    #[error(
        "{} was written by a newer credctl (file format version {found}, this credctl reads up to {supported}); it was left untouched. Upgrade credctl",
        path.display()
    )]
    FutureVersion {
        path: PathBuf,
        found: u64,
        supported: u64,
    },

    #[error(
        "another credctl process has held the lock on {} for {waited_secs} s, perhaps waiting on a slow provider; retry later (a process that crashed releases its lock at once)",
        path.display()
    )]
    LockTimeout { path: PathBuf, waited_secs: u64 },

    #[error(
        "internal error: wrote {wanted} while holding the lock of {held}; this is a bug in credctl, please report it"
    )]
    WrongLock {
        held: CredentialId,
        wanted: CredentialId,
    },

    #[error(
        "internal error: cannot encode a credential ({0}); this is a bug in credctl, please report it"
    )]
    Encode(#[source] serde_json::Error),
}

impl StoreError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            // Waiting for another process is a temporary condition (DESIGN.md: exit 5).
            StoreError::LockTimeout { .. } => exit::TEMPORARY,
            StoreError::WrongLock { .. } | StoreError::Encode(_) => exit::INTERNAL,
            _ => exit::STORAGE,
        }
    }
}

fn io_hint(err: &io::Error, path: &std::path::Path) -> String {
    match err.kind() {
        io::ErrorKind::PermissionDenied => format!(
            "check the owner and permissions of {} and its directory",
            path.display()
        ),
        io::ErrorKind::ReadOnlyFilesystem => {
            "the file system is read-only; make it writable or set CREDCTL_HOME elsewhere".into()
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "the disk is full; free some space and retry (the file was left as it was)".into()
        }
        io::ErrorKind::IsADirectory => format!(
            "a directory stands where a file belongs; move {} away",
            path.display()
        ),
        io::ErrorKind::NotADirectory => format!(
            "a file stands where a directory belongs; move it away or set CREDCTL_HOME elsewhere (path {})",
            path.display()
        ),
        _ => "check the path and retry".into(),
    }
}

fn remove_hint(id: Option<&CredentialId>, path: &std::path::Path) -> String {
    match id {
        Some(id) => format!("credctl auth logout {} --local-only", id.cli_args()),
        None => format!("rm {}", path.display()),
    }
}

fn join(names: &[Name]) -> String {
    names
        .iter()
        .map(Name::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
