//! Failures of the token store. All name the file or directory, and each
//! has the next step a person can take.

use std::io;
use std::path::PathBuf;

use crate::name::CredentialId;

/// Failures of the token store. All name the file or directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "{} is {} by other users (mode {mode:04o}); credctl refuses to use it",
        path.display(),
        if *writable { "writable" } else { "readable" }
    )]
    Insecure {
        path: PathBuf,
        mode: u32,
        /// The mode that fixes it.
        wanted: u32,
        writable: bool,
    },

    #[error(
        "{} is a symbolic link; credctl does not follow links in its directory",
        path.display()
    )]
    Symlink { path: PathBuf },

    #[error(
        "{} is owned by uid {owner}, not by you (uid {you}); credctl refuses to use it",
        path.display()
    )]
    NotOwned { path: PathBuf, owner: u32, you: u32 },

    #[error("{} is not a valid credential file ({reason}); it was left untouched", path.display())]
    Corrupt {
        path: PathBuf,
        id: Option<CredentialId>,
        reason: String,
    },

    #[error(
        "{} was written by a newer credctl (file format version {found}, this credctl reads up to {supported}); it was left untouched",
        path.display()
    )]
    FutureVersion {
        path: PathBuf,
        found: u64,
        supported: u64,
    },

    #[error(
        "another credctl process has held the lock on {} for {waited_secs} s, perhaps waiting on a slow provider",
        path.display()
    )]
    LockTimeout { path: PathBuf, waited_secs: u64 },

    #[error("internal error: wrote {wanted} while holding the lock of {held}")]
    WrongLock {
        held: CredentialId,
        wanted: CredentialId,
    },

    #[error("internal error: cannot encode a credential")]
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

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            StoreError::Io { path, source, .. } => io_hint(source, path),
            StoreError::Insecure { path, wanted, .. } => {
                format!("run `chmod {wanted:o} {}`", path.display())
            }
            StoreError::Symlink { path } => format!(
                "someone put it there; remove it with `rm {}` and check who can write to {}",
                path.display(),
                path.parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            StoreError::NotOwned { path, you, .. } => format!(
                "if you trust it, run `sudo chown {you} {}`; otherwise move it away",
                path.display()
            ),
            StoreError::Corrupt { path, id, .. } => format!(
                "remove it with `{}` and log in again",
                match id {
                    Some(id) => format!("credctl auth logout {} --local-only", id.cli_args()),
                    None => format!("rm {}", path.display()),
                }
            ),
            StoreError::FutureVersion { .. } => "upgrade credctl".into(),
            StoreError::LockTimeout { .. } => {
                "retry later (a process that crashed releases its lock at once)".into()
            }
            StoreError::WrongLock { .. } | StoreError::Encode(_) => {
                "this is a bug in credctl, please report it".into()
            }
        })
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
