//! The use-cases shared by commands: choosing the account, and every
//! lock → read → modify → atomic replace of a credential.
//!
//! What always holds: every decision is made on what is on disk now (there
//! is no cached copy to go stale), and a credential is only written while its
//! lock is held.

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::name::{CredentialId, Name};
use crate::store::{LockGuard, TokenStore};
use crate::token::{Credential, Entry, LastError};

/// The credential a reading command means: `--account` if given, else
/// `default` if it exists, else the provider's only account; several
/// accounts without `--account` is a usage error that lists them.
///
/// Reads one file when `default` exists (the fast path of `auth token`).
pub fn load_for_reading(
    store: &TokenStore,
    provider: &Name,
    account: Option<&Name>,
) -> Result<Entry, Error> {
    if let Some(account) = account {
        let id = CredentialId::new(provider.clone(), account.clone());
        return store.load(&id)?.ok_or(Error::NotLoggedIn { id });
    }
    let default = CredentialId::new(provider.clone(), Name::default_account());
    if let Some(entry) = store.load(&default)? {
        return Ok(entry);
    }
    let id = resolve_id(store, provider, None)?;
    store.load(&id)?.ok_or(Error::NotLoggedIn { id })
}

/// Like [`load_for_reading`], without reading the credential (it may be
/// unreadable: logout must still be able to remove it).
pub fn resolve_id(
    store: &TokenStore,
    provider: &Name,
    account: Option<&Name>,
) -> Result<CredentialId, Error> {
    if let Some(account) = account {
        return Ok(CredentialId::new(provider.clone(), account.clone()));
    }
    let mut accounts = store.accounts(provider)?;
    let default = Name::default_account();
    if accounts.contains(&default) {
        return Ok(CredentialId::new(provider.clone(), default));
    }
    match accounts.len() {
        0 => Err(Error::NotLoggedIn {
            id: CredentialId::new(provider.clone(), default),
        }),
        1 => Ok(CredentialId::new(provider.clone(), accounts.remove(0))),
        _ => Err(Error::AmbiguousAccount {
            provider: provider.clone(),
            accounts,
        }),
    }
}

/// What a long-running use-case tells the person. Commands implement it
/// with `output.rs`; this module never prints.
pub trait Progress {
    /// Another process holds the credential's lock; we wait for it.
    fn waiting_for_lock(&self, id: &CredentialId);
}

/// Takes a credential's lock, telling the person when another process has it.
pub fn lock(
    store: &TokenStore,
    id: &CredentialId,
    progress: &dyn Progress,
) -> Result<LockGuard, Error> {
    Ok(store.lock(id, &mut || progress.waiting_for_lock(id))?)
}

/// Saves a freshly obtained credential. Logging in again replaces the tokens
/// and keeps the account's metadata. A file that cannot be read (corrupt, or
/// from a newer credctl) is reported and left alone, never overwritten.
pub fn save_login(
    store: &TokenStore,
    id: CredentialId,
    credential: Credential,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<Entry, Error> {
    let guard = lock(store, &id, progress)?;
    let previous = store.load(&id)?;
    let entry = Entry::login(id, credential, previous, now);
    store.save(&guard, &entry)?;
    // New tokens have not failed yet.
    store.clear_error(&guard)?;
    Ok(entry)
}

/// Records a failure that happened before a refresh could be attempted
/// (configuration, discovery), so that `auth list` shows it.
pub fn record_failure(
    store: &TokenStore,
    id: &CredentialId,
    error: &Error,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<(), Error> {
    let Some(category) = error.category() else {
        return Ok(());
    };
    let guard = lock(store, id, progress)?;
    if store.load(id)?.is_none() {
        return Ok(());
    }
    store.record_error(
        &guard,
        &LastError {
            category,
            at: now,
            message: error.to_string(),
        },
    )?;
    Ok(())
}
