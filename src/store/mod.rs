//! The token store: every byte credctl keeps on disk, in `$CREDCTL_HOME/oauth/`.
//!
//! What always holds:
//! - the directory is 0700 and every file 0600 from its first byte, whatever the umask;
//! - one file per credential, `<provider>@<account>.json` (`@` is not in the
//!   name alphabet, so the split is unambiguous and no name reaches a path
//!   outside the directory), with the last refresh failure beside it in
//!   `<provider>@<account>.error`, so that a failed refresh leaves the
//!   credential file byte for byte as it was;
//! - a write is lock → read → modify → atomic replace: a temporary file in the
//!   same directory, fsync, rename, fsync of the directory. A crash leaves the
//!   old or the new file, never a torn one, never neither;
//! - a file or directory other users can reach is refused, as ssh does for
//!   keys ([`private`] decides);
//! - a bad file is reported by path and never overwritten; the others keep working.

mod error;
mod format;
mod lock;
pub mod private;

use std::collections::HashSet;
use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::StoreError;
pub use format::FORMAT_VERSION;
pub use lock::LockGuard;

use chrono::{DateTime, Utc};

use crate::name::{CredentialId, Name};
use crate::token::{Credential, Entry, LastError};
use private::Kind;

/// From this many credentials, `list` reads them on several threads.
const PARALLEL_FROM: usize = 64;
/// A credential file larger than this is not one of ours.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// How long a process waits for another to finish with a credential.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
    lock_timeout: Duration,
}

/// Everything readable in the store, and what could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    /// Each credential with its last refresh failure, if any.
    pub entries: Vec<(Entry, Option<LastError>)>,
    pub problems: Vec<StoreError>,
}

impl TokenStore {
    pub fn new(dir: PathBuf) -> Self {
        TokenStore {
            dir,
            lock_timeout: LOCK_TIMEOUT,
        }
    }

    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, id: &CredentialId) -> PathBuf {
        self.dir
            .join(format!("{}@{}.json", id.provider, id.account))
    }

    fn lock_path_of(&self, id: &CredentialId) -> PathBuf {
        self.dir
            .join(format!("{}@{}.lock", id.provider, id.account))
    }

    fn error_path_of(&self, id: &CredentialId) -> PathBuf {
        self.dir
            .join(format!("{}@{}.error", id.provider, id.account))
    }

    /// The prefix of this credential's temporary files. Dot-files are never
    /// taken for credentials, and `~` is not in the name alphabet, so the
    /// prefix of account `a` is not a prefix of account `a.b`'s.
    fn temp_prefix(id: &CredentialId) -> String {
        format!(".{}@{}~", id.provider, id.account)
    }

    /// Checks the directory; `Ok(false)` when it does not exist yet.
    fn check_dir(&self) -> Result<bool, StoreError> {
        if let Some(home) = self.dir.parent()
            && let Ok(meta) = fs::metadata(home)
        {
            private::check(home, &meta, Kind::Home)?;
        }
        match fs::metadata(&self.dir) {
            Ok(meta) if !meta.is_dir() => Err(StoreError::io(
                "use",
                &self.dir,
                io::Error::from(io::ErrorKind::NotADirectory),
            )),
            Ok(meta) => {
                private::check(&self.dir, &meta, Kind::OAuthDir)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("read", &self.dir, e)),
        }
    }

    /// Refuses, before any work that would end in a write, a store that is
    /// not private enough (`$CREDCTL_HOME` and `oauth/`, when they exist).
    pub fn check(&self) -> Result<(), StoreError> {
        self.check_dir().map(|_| ())
    }

    /// Creates the directory (and `$CREDCTL_HOME`) 0700 if missing.
    #[expect(
        clippy::disallowed_methods,
        reason = "the store owns the files in oauth/"
    )]
    fn ensure_dir(&self) -> Result<(), StoreError> {
        if self.check_dir()? {
            return Ok(());
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| StoreError::io("create", &self.dir, e))?;
        self.check_dir().map(|_| ())
    }

    /// Reads one credential, without a lock: the file is replaced atomically,
    /// so a reader sees the old or the new version. `Ok(None)` when absent.
    pub fn load(&self, id: &CredentialId) -> Result<Option<Entry>, StoreError> {
        if !self.check_dir()? {
            return Ok(None);
        }
        self.load_checked(id)
    }

    /// [`Self::load`] once the directory has been checked.
    fn load_checked(&self, id: &CredentialId) -> Result<Option<Entry>, StoreError> {
        let path = self.path_of(id);
        match read_private(&path, Some(id))? {
            Some(bytes) => format::decode(&bytes, &path, id).map(Some),
            None => Ok(None),
        }
    }

    /// The last refresh failure recorded for a credential. A record that
    /// does not parse is taken as absent (it is advice, not data); one that
    /// is not private, or is a planted link, is refused like any file here.
    pub fn last_error(&self, id: &CredentialId) -> Result<Option<LastError>, StoreError> {
        let path = self.error_path_of(id);
        Ok(read_private(&path, Some(id))?.and_then(|bytes| {
            serde_json::from_slice(&bytes)
                .inspect_err(|e| tracing::debug!(error = %e, "ignoring an unparsable error record"))
                .ok()
        }))
    }

    /// Takes the credential's exclusive lock, creating the directory if
    /// needed; waits at most the lock timeout (30 s unless set otherwise).
    /// `on_wait` is called once if the wait lasts longer than a second.
    pub fn lock(
        &self,
        id: &CredentialId,
        on_wait: &mut dyn FnMut(),
    ) -> Result<LockGuard, StoreError> {
        self.ensure_dir()?;
        lock::acquire(&self.lock_path_of(id), id, self.lock_timeout, on_wait)
    }

    /// Saves a freshly obtained credential under its lock. Logging in again
    /// replaces the tokens and keeps the account's metadata. A file that
    /// cannot be read (corrupt, or from a newer credctl) is reported and left
    /// alone, never overwritten.
    pub fn save_login(
        &self,
        guard: &LockGuard,
        credential: Credential,
        now: DateTime<Utc>,
    ) -> Result<Entry, StoreError> {
        let previous = self.load(guard.id())?;
        let entry = Entry::login(guard.id().clone(), credential, previous, now);
        self.save(guard, &entry)?;
        // New tokens have not failed yet.
        self.clear_error(guard)?;
        Ok(entry)
    }

    /// Atomically replaces the credential of `guard` with `entry`.
    pub fn save(&self, guard: &LockGuard, entry: &Entry) -> Result<(), StoreError> {
        if guard.id() != &entry.id {
            return Err(StoreError::WrongLock {
                held: guard.id().clone(),
                wanted: entry.id.clone(),
            });
        }
        let bytes = format::encode(entry).map_err(StoreError::Encode)?;
        self.remove_stale_temps(&entry.id);
        self.write_atomic(&entry.id, &self.path_of(&entry.id), &bytes)
    }

    /// Records a failed refresh beside the credential; the credential file
    /// is not touched.
    pub fn record_error(&self, guard: &LockGuard, error: &LastError) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(error).map_err(StoreError::Encode)?;
        self.write_atomic(guard.id(), &self.error_path_of(guard.id()), &bytes)
    }

    /// Forgets the last failure (after a successful refresh or login).
    #[expect(
        clippy::disallowed_methods,
        reason = "the store owns the files in oauth/"
    )]
    pub fn clear_error(&self, guard: &LockGuard) -> Result<(), StoreError> {
        let path = self.error_path_of(guard.id());
        match fs::remove_file(&path) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("remove", &path, e)),
        }
    }

    /// A temporary file in the same directory, fsync, rename, fsync the directory.
    #[expect(
        clippy::disallowed_methods,
        reason = "the store owns the files in oauth/"
    )]
    fn write_atomic(
        &self,
        id: &CredentialId,
        target: &Path,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut tmp = tempfile::Builder::new()
            .prefix(&Self::temp_prefix(id))
            .suffix(".tmp")
            .permissions(Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)
            .map_err(|e| StoreError::io("create a temporary file in", &self.dir, e))?;
        // On any error below, dropping `tmp` deletes the temporary file and the
        // old file stays as it was.
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| StoreError::io("write", target, e))?;
        tmp.persist(target)
            .map_err(|e| StoreError::io("replace", target, e.error))?;
        self.sync_dir()
    }

    /// Deletes the credential of `guard`. `Ok(false)` when there was none.
    /// Works on files that cannot be parsed, so a corrupt file can be removed.
    #[expect(
        clippy::disallowed_methods,
        reason = "the store owns the files in oauth/"
    )]
    pub fn delete(&self, guard: &LockGuard) -> Result<bool, StoreError> {
        let path = self.path_of(guard.id());
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                // A directory in place of a credential: not ours to delete recursively.
                return Err(StoreError::io("remove", &path, e));
            }
            Err(e) => return Err(StoreError::io("remove", &path, e)),
        }
        self.remove_stale_temps(guard.id());
        self.clear_error(guard)?;
        self.sync_dir()?;
        Ok(true)
    }

    /// The ids of every credential file, sorted; names that are not ours are skipped.
    pub fn ids(&self) -> Result<Vec<CredentialId>, StoreError> {
        Ok(self.scan()?.0)
    }

    /// Checks the directory and reads it once: the credential ids, sorted,
    /// and those with an error record beside them.
    fn scan(&self) -> Result<(Vec<CredentialId>, HashSet<CredentialId>), StoreError> {
        let (mut ids, mut with_errors) = (Vec::new(), HashSet::new());
        if !self.check_dir()? {
            return Ok((ids, with_errors));
        }
        let read_dir = fs::read_dir(&self.dir).map_err(|e| StoreError::io("list", &self.dir, e))?;
        for dirent in read_dir {
            let dirent = dirent.map_err(|e| StoreError::io("list", &self.dir, e))?;
            let name = dirent.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = parse_file_name(name, ".json") {
                ids.push(id);
            } else if let Some(id) = parse_file_name(name, ".error") {
                with_errors.insert(id);
            }
        }
        ids.sort_unstable();
        Ok((ids, with_errors))
    }

    /// The accounts stored for one provider, sorted.
    pub fn accounts(&self, provider: &Name) -> Result<Vec<Name>, StoreError> {
        Ok(self
            .ids()?
            .into_iter()
            .filter(|id| &id.provider == provider)
            .map(|id| id.account)
            .collect())
    }

    /// Every readable credential; a file that cannot be read does not hide the others.
    /// The directory is checked and read once, and an error record is
    /// opened only where the listing shows one: four system calls a
    /// credential. Large stores are read on up to four threads (parsing is
    /// most of the cost); the order stays that of the ids.
    pub fn list(&self) -> Result<Listing, StoreError> {
        let (ids, with_errors) = self.scan()?;
        let read_one =
            |id: &CredentialId| -> Option<Result<(Entry, Option<LastError>), StoreError>> {
                let entry = match self.load_checked(id) {
                    Ok(Some(entry)) => entry,
                    Ok(None) => return None, // deleted meanwhile
                    Err(e) => return Some(Err(e)),
                };
                let last_error = match with_errors.contains(id) {
                    true => self.last_error(id),
                    false => Ok(None),
                };
                Some(last_error.map(|last_error| (entry, last_error)))
            };
        let threads = match ids.len() {
            n if n < PARALLEL_FROM => 1,
            _ => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        };
        let read: Vec<_> = if threads < 2 {
            ids.iter().filter_map(read_one).collect()
        } else {
            let read_chunk =
                |chunk: &[CredentialId]| chunk.iter().filter_map(read_one).collect::<Vec<_>>();
            std::thread::scope(|scope| {
                // A chunk whose thread cannot be started (a process limit)
                // is read here, after the others are under way.
                let workers: Vec<_> = ids
                    .chunks(ids.len().div_ceil(threads))
                    .map(|chunk| {
                        let spawned = std::thread::Builder::new()
                            .spawn_scoped(scope, move || read_chunk(chunk));
                        (chunk, spawned.ok())
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|(chunk, worker)| match worker {
                        Some(worker) => worker
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                        None => read_chunk(chunk),
                    })
                    .collect()
            })
        };
        let mut listing = Listing::default();
        for result in read {
            match result {
                Ok(pair) => listing.entries.push(pair),
                Err(e) => listing.problems.push(e),
            }
        }
        Ok(listing)
    }

    /// Temporary files left by a crash. Only called with the credential's lock
    /// held, so no live writer of this credential can own one of them.
    #[expect(
        clippy::disallowed_methods,
        reason = "the store owns the files in oauth/"
    )]
    fn remove_stale_temps(&self, id: &CredentialId) {
        let prefix = Self::temp_prefix(id);
        let Ok(read_dir) = fs::read_dir(&self.dir) else {
            return;
        };
        for dirent in read_dir.flatten() {
            let name = dirent.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(&prefix) && name.ends_with(".tmp") {
                match fs::remove_file(dirent.path()) {
                    Ok(()) => {
                        tracing::debug!(file = name, "removed a temporary file left by a crash")
                    }
                    Err(e) => {
                        tracing::debug!(file = name, error = %e, "could not remove a leftover temporary file")
                    }
                }
            }
        }
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        // The rename is durable only once the directory entry is on disk.
        OpenOptions::new()
            .read(true)
            .open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| StoreError::io("sync", &self.dir, e))
    }
}

/// Reads a file that must be private to its owner. `Ok(None)` when absent.
fn read_private(path: &Path, id: Option<&CredentialId>) -> Result<Option<Vec<u8>>, StoreError> {
    let mut file = match private::open_nofollow(OpenOptions::new().read(true), path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(private::opened(path, "open", e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("read", path, e))?;
    if meta.is_dir() {
        return Err(StoreError::io(
            "read",
            path,
            io::Error::from(io::ErrorKind::IsADirectory),
        ));
    }
    private::check(path, &meta, Kind::Secret)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            id: id.cloned(),
            reason: format!("{} bytes, larger than any credential", meta.len()),
        });
    }
    // Files are replaced by rename, never written in place: the size is the
    // size, and reading exactly that many bytes spares a read to find the end.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    Read::by_ref(&mut file)
        .take(meta.len())
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, e))?;
    Ok(Some(bytes))
}

fn parse_file_name(file_name: &str, suffix: &str) -> Option<CredentialId> {
    let stem = file_name.strip_suffix(suffix)?;
    let (provider, account) = stem.split_once('@')?;
    Some(CredentialId::new(
        provider.parse().ok()?,
        account.parse().ok()?,
    ))
}
