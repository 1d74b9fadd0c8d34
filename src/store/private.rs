//! Whether a file or directory is private enough to trust: the one place
//! that decides, as ssh's StrictModes does.
//!
//! What always holds: `$CREDCTL_HOME`, `oauth/`, `config.toml` and every
//! file in `oauth/` are owned by the effective uid, and none is writable by
//! group or others; `oauth/` and the files in it are not readable by them
//! either, nor is a `config.toml` that holds a client secret. A refusal names
//! the path and the `chmod` or `chown` that fixes it.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::store::StoreError;

/// What a path is, which decides what "private enough" means for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `$CREDCTL_HOME`: others may look, not write.
    Home,
    /// `oauth/`: 0700.
    OAuthDir,
    /// A file in `oauth/` (credential, lock, error record): 0600.
    Secret,
    /// `config.toml`: others may read it unless it holds a client secret.
    Config { holds_secret: bool },
    /// A certificate to trust (`ca_file`): yours or root's, and only its
    /// owner may write it.
    Trusted,
}

impl Kind {
    /// The permission bits this kind must not have.
    fn forbidden(self) -> u32 {
        match self {
            Kind::OAuthDir | Kind::Secret | Kind::Config { holds_secret: true } => 0o077,
            Kind::Home
            | Kind::Trusted
            | Kind::Config {
                holds_secret: false,
            } => 0o022,
        }
    }
}

/// Opens a file in `oauth/` for reading without following a symbolic link.
pub fn open_nofollow(options: &mut std::fs::OpenOptions, path: &Path) -> Result<File, io::Error> {
    use std::os::unix::fs::OpenOptionsExt;
    options
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// The error of an open that met a symbolic link (`ELOOP` under `O_NOFOLLOW`).
pub fn opened(path: &Path, action: &'static str, e: io::Error) -> StoreError {
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        StoreError::Symlink {
            path: path.to_path_buf(),
        }
    } else {
        StoreError::io(action, path, e)
    }
}

/// The effective uid of this process (asked once: credctl never changes it).
pub fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *EUID.get_or_init(|| rustix::process::geteuid().as_raw())
}

/// Refuses `path` unless it is owned by us and private enough for `kind`.
pub fn check(path: &Path, meta: &Metadata, kind: Kind) -> Result<(), StoreError> {
    let you = euid();
    let root_may_own = kind == Kind::Trusted && meta.uid() == 0;
    if meta.uid() != you && !root_may_own {
        return Err(StoreError::NotOwned {
            path: path.to_path_buf(),
            owner: meta.uid(),
            you,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & kind.forbidden() != 0 {
        return Err(StoreError::Insecure {
            path: path.to_path_buf(),
            mode,
            wanted: mode & 0o777 & !kind.forbidden(),
            writable: mode & 0o022 != 0,
        });
    }
    Ok(())
}

/// `config.toml` as read, with what is needed to judge it once parsed.
pub struct ConfigText {
    pub text: String,
    path: std::path::PathBuf,
    meta: Metadata,
}

impl ConfigText {
    /// A `config.toml` that holds a client secret must be as private as a
    /// credential. Judged on the file that was read, not on the path again.
    pub fn check_holds_secret(&self) -> Result<(), StoreError> {
        check(&self.path, &self.meta, Kind::Config { holds_secret: true })
    }
}

/// Reads `config.toml`; `Ok(None)` when there is none. It is refused if it
/// is not ours or others can write it — and so is the directory it is in,
/// `$CREDCTL_HOME`, which is judged first.
pub fn read_config(path: &Path) -> Result<Option<ConfigText>, StoreError> {
    if let Some(home) = path.parent()
        && let Ok(meta) = std::fs::metadata(home)
    {
        check(home, &meta, Kind::Home)?;
    }
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("open", path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("read", path, e))?;
    check(
        path,
        &meta,
        Kind::Config {
            holds_secret: false,
        },
    )?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| StoreError::io("read", path, e))?;
    Ok(Some(ConfigText {
        text,
        path: path.to_path_buf(),
        meta,
    }))
}

/// Reads a certificate file to trust (`ca_file`), refused if someone other
/// than you or root could have put a certificate authority in it.
pub fn read_trusted(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut file = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("read", path, e))?;
    check(path, &meta, Kind::Trusted)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, e))?;
    Ok(bytes)
}
