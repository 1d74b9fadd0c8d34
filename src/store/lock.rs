//! Per-credential exclusive locks: the only place that locks.
//!
//! The lock is taken on a sidecar `.lock` file (created 0600), never on the
//! JSON file: an atomic replace renames a new inode over the JSON file, and a
//! lock on the old inode would guard nothing. Lock files are never deleted —
//! deleting one while another process waits on it would let two processes
//! hold "the" lock at once.
//!
//! fs2 is called by its trait path: std's inherent `File::lock*` methods
//! (Rust 1.89+) would otherwise win silently and behave differently.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::name::CredentialId;
use crate::store::StoreError;
use crate::store::private;

/// Proof that this process holds the exclusive lock of one credential. Store
/// writes take it as a parameter, so a write without the lock does not compile.
#[derive(Debug)]
pub struct LockGuard {
    id: CredentialId,
    // Closing the file releases the lock.
    _file: File,
}

impl LockGuard {
    pub fn id(&self) -> &CredentialId {
        &self.id
    }
}

/// A wait shorter than this is not worth telling a person about: in a
/// stampede, each waiter waits about one refresh round trip.
const QUIET_WAIT: Duration = Duration::from_secs(1);

/// Takes the exclusive lock at `path`, waiting at most `timeout`. Calls
/// `on_wait` once if another process has held it for [`QUIET_WAIT`], so the
/// caller can tell the user.
#[expect(clippy::disallowed_methods, reason = "the one place that locks")]
pub fn acquire(
    path: &Path,
    id: &CredentialId,
    timeout: Duration,
    on_wait: &mut dyn FnMut(),
) -> Result<LockGuard, StoreError> {
    // Never through a planted link: O_CREAT would create its target.
    let file = private::open_nofollow(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600),
        path,
    )
    .map_err(|e| private::opened(path, "open the lock file", e))?;
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("read", path, e))?;
    private::check(path, &meta, private::Kind::Secret)?;
    let guard = |file| LockGuard {
        id: id.clone(),
        _file: file,
    };
    match fs2::FileExt::try_lock_exclusive(&file) {
        Ok(()) => return Ok(guard(file)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(StoreError::io("lock", path, e)),
    }
    // A blocking flock wakes the moment the holder releases it (no polling
    // delay); a helper thread lets us bound the wait. A clone of the handle
    // shares the open file description, so its lock is this file's lock.
    let waiter = file
        .try_clone()
        .map_err(|e| StoreError::io("lock", path, e))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = fs2::FileExt::lock_exclusive(&waiter);
        let _ = tx.send(result);
    });
    let first = rx.recv_timeout(QUIET_WAIT.min(timeout));
    let result = match first {
        Err(mpsc::RecvTimeoutError::Timeout) if timeout > QUIET_WAIT => {
            on_wait();
            rx.recv_timeout(timeout - QUIET_WAIT)
        }
        other => other,
    };
    match result {
        Ok(Ok(())) => Ok(guard(file)),
        Ok(Err(e)) => Err(StoreError::io("lock", path, e)),
        Err(_) => Err(StoreError::LockTimeout {
            path: path.to_path_buf(),
            waited_secs: timeout.as_secs(),
        }),
    }
}
