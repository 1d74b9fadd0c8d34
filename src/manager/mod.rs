//! The use-cases: what each command does, as policy over the store, the
//! registry and the providers. Commands parse, call one use-case and print
//! what it returns; this layer never prints, and tells the person about
//! progress through [`crate::ui`] and [`Report`].
//!
//! What always holds: every decision is made on what is on disk now (there
//! is no cached copy to go stale); the network side (registry, HTTP client,
//! runtime) is set up only by a use-case that needs it, so the fast path of
//! `auth token` never builds it.

mod git;
mod list;
mod login;
mod logout;
mod refresh;
mod status;
mod token;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use git::{GitAnswer, GitHost, GitRequest};
pub use list::{ListItem, ListedError, Listing, ProviderItem};
pub use login::TOKEN_INPUT_MAX;
pub use logout::Selection;
pub use status::{Status, StatusItem};
pub use token::{Issued, TokenWarning};

use crate::error::Error;
use crate::http::{DEFAULT_TIMEOUT, Http, HttpSettings, Trust};
use crate::name::{CredentialId, Name};
use crate::paths::{Clock, Env};
use crate::provider::registry::Registry;
use crate::provider::{Provider, Purpose};
use crate::store::TokenStore;
use crate::timefmt;
use crate::token::Entry;
use crate::ui::Progress;

/// What the use-cases run on: the store, the clock, and where the
/// configuration is. Built once per command from the environment.
pub struct Manager {
    store: TokenStore,
    clock: Clock,
    config_path: PathBuf,
    http: HttpSettings,
}

/// What a long use-case (logout, refresh of many) reports as it goes.
pub trait Report: Progress {
    fn event(&self, event: Event);
    /// One of several items failed; the use-case goes on with the others.
    fn failed(&self, error: &Error);
}

/// Something a person should hear about while a use-case runs.
#[derive(Debug)]
pub enum Event {
    Revoked {
        id: CredentialId,
    },
    NoRevocationEndpoint {
        provider: Name,
    },
    NotConfigured {
        provider: Name,
    },
    RevokeFailed {
        id: CredentialId,
        /// The revocation endpoint, when the request got that far.
        url: Option<String>,
        error: Error,
    },
    /// The provider could not be set up for an earlier credential of this logout.
    ProviderUnavailable {
        id: CredentialId,
    },
    Unreadable {
        error: Error,
    },
    StoppedBeforeDeleting {
        id: CredentialId,
    },
    Removed {
        id: CredentialId,
        path: PathBuf,
    },
    Refreshed {
        id: CredentialId,
        by_us: bool,
        expiry: String,
    },
    Skipped {
        id: CredentialId,
    },
}

impl Event {
    /// Whether the person should read it as a warning.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Event::NotConfigured { .. }
                | Event::RevokeFailed { .. }
                | Event::ProviderUnavailable { .. }
                | Event::Unreadable { .. }
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Revoked { id } => write!(f, "Revoked the tokens of {id} at the provider."),
            Event::NoRevocationEndpoint { provider } => write!(
                f,
                "{provider} has no revocation endpoint: the tokens stay valid at the provider until they expire."
            ),
            Event::NotConfigured { provider } => write!(
                f,
                "{provider} is not a configured provider, so its token could not be revoked; it stays valid at the provider until it expires"
            ),
            Event::RevokeFailed { id, url, error } => write!(
                f,
                "could not revoke the tokens of {id}{}: {}\nthey may stay valid at the provider until they expire; the local credential is deleted",
                url.as_ref().map(|u| format!(" at {u}")).unwrap_or_default(),
                crate::error::chain(error)
            ),
            Event::ProviderUnavailable { id } => write!(
                f,
                "could not revoke the tokens of {id}: {} could not be set up earlier in this logout\ndeleting the local credential anyway",
                id.provider
            ),
            Event::Unreadable { error } => write!(
                f,
                "{}\nit cannot be revoked at the provider; deleting it locally",
                crate::error::chain(error)
            ),
            Event::StoppedBeforeDeleting { id } => write!(
                f,
                "Stopped before deleting {id}: fix that, or delete without revoking with `credctl auth logout {} --local-only`.",
                id.cli_args()
            ),
            Event::Removed { id, path } => {
                write!(f, "Logged out of {id}: removed {}.", path.display())
            }
            Event::Refreshed {
                id,
                by_us: true,
                expiry,
            } => write!(f, "Refreshed {id}; the new token {expiry}."),
            Event::Refreshed { id, expiry, .. } => write!(
                f,
                "{id} was refreshed by another credctl process meanwhile; the token {expiry}."
            ),
            Event::Skipped { id } => write!(f, "{id}: skipped, it has no refresh token"),
        }
    }
}

/// The network side: the registry, the HTTP client and a single-threaded runtime.
struct Online {
    registry: Registry,
    http: Http,
    runtime: tokio::runtime::Runtime,
}

impl Online {
    /// The provider, built with the store injected and initialised for `purpose`.
    async fn provider(&self, name: &Name, purpose: Purpose) -> Result<Provider, Error> {
        self.registry.provider(name, &self.http, purpose).await
    }
}

impl Manager {
    pub fn new(env: &Env) -> Manager {
        let mut store = TokenStore::new(env.oauth_dir());
        if let Some(timeout) = env.lock_timeout {
            store = store.with_lock_timeout(timeout);
        }
        Manager {
            store,
            clock: env.clock(),
            config_path: env.config_file(),
            http: HttpSettings {
                timeout: env.http_timeout.unwrap_or(DEFAULT_TIMEOUT),
                trust: Trust {
                    cert_file: env.ssl_cert_file.clone(),
                    cert_dir: env.ssl_cert_dir.clone(),
                    extra: None,
                },
                proxies: env.proxies.clone(),
            },
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Every credential id in the store; none when it cannot be read (for completion).
    pub fn stored_ids(&self) -> Vec<CredentialId> {
        self.store.ids().unwrap_or_default()
    }

    /// Where the credentials live, for messages.
    pub fn store_dir(&self) -> &Path {
        self.store.dir()
    }

    /// `expires in 59m 12s`, from now.
    pub fn expiry(&self, entry: &Entry) -> String {
        timefmt::expiry(self.now(), entry.credential.expires_at())
    }

    fn registry(&self) -> Result<Registry, Error> {
        Registry::load(self.config_path.clone(), self.store.clone(), self.clock)
    }

    /// What a use-case needs to use the network. Built only by use-cases
    /// that do: the fast path of `auth token` never gets here.
    fn online(&self) -> Result<Online, Error> {
        let registry = self.registry()?;
        let http = Http::new(self.http.clone()).map_err(|source| Error::HttpSetup {
            source: Box::new(source),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal {
                what: "cannot start the async runtime",
                source: Box::new(e),
            })?;
        Ok(Online {
            registry,
            http,
            runtime,
        })
    }

    /// The credential a reading command means: `--account` if given, else
    /// `default` if it exists, else the provider's only account; several
    /// accounts without `--account` is a usage error that lists them.
    ///
    /// Reads one file when `default` exists (the fast path of `auth token`).
    pub fn load_for_reading(
        &self,
        provider: &Name,
        account: Option<&Name>,
    ) -> Result<Entry, Error> {
        if account.is_none() {
            let default = CredentialId::new(provider.clone(), Name::default_account());
            if let Some(entry) = self.store.load(&default)? {
                return Ok(entry);
            }
        }
        let id = self.resolve_id(provider, account)?;
        self.store.load(&id)?.ok_or(Error::NotLoggedIn { id })
    }

    /// Like [`Manager::load_for_reading`], without reading the credential
    /// (it may be unreadable: logout must still be able to remove it).
    pub fn resolve_id(
        &self,
        provider: &Name,
        account: Option<&Name>,
    ) -> Result<CredentialId, Error> {
        if let Some(account) = account {
            return Ok(CredentialId::new(provider.clone(), account.clone()));
        }
        let mut accounts = self.store.accounts(provider)?;
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
}
