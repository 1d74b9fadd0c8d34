//! `auth logout`: revoke at the provider (best effort), then delete locally.
//!
//! A revocation the provider fails is a warning, never a reason to keep the
//! local credential; but it is always said, never silently skipped. A local
//! problem that prevents revoking (a bad config.toml, an unreadable trust
//! store) stops the logout
//! before anything is deleted: deleting would lose the only copy of a token
//! that could then never be revoked. `--local-only` deletes without revoking.

use std::collections::HashMap;

use crate::error::Error;
use crate::manager::{Event, Manager, Online, Report};
use crate::name::{CredentialId, Name};
use crate::provider::{Provider, Purpose, REFRESH_TIMEOUT};
use crate::token::Credential;

/// Which credentials to log out of.
pub enum Selection {
    /// One credential (`--account`, or the usual account rules).
    One {
        provider: Name,
        account: Option<Name>,
    },
    /// `--all`: every credential, or every account of one provider.
    All { provider: Option<Name> },
}

impl Manager {
    /// Logs out of the selected credentials; returns how many were removed.
    pub fn logout(
        &self,
        selection: Selection,
        revoke: bool,
        report: &dyn Report,
    ) -> Result<usize, Error> {
        let (ids, all) = match selection {
            Selection::One { provider, account } => {
                (vec![self.resolve_id(&provider, account.as_ref())?], false)
            }
            Selection::All { provider } => {
                let ids = self.store.ids()?.into_iter();
                let ids = ids.filter(|id| provider.as_ref().is_none_or(|p| &id.provider == p));
                (ids.collect(), true)
            }
        };
        let mut revoker = revoke.then(Revoker::default);
        let mut failures = Vec::new();
        let mut removed = 0;
        for id in &ids {
            match self.remove(revoker.as_mut(), id, report) {
                Ok(true) => removed += 1,
                Ok(false) if !all => return Err(Error::NotLoggedIn { id: id.clone() }),
                Ok(false) => {}
                Err(e) if !all => return Err(e),
                // The config is broken for every credential alike: stop here.
                Err(e) if revoker.as_ref().is_some_and(|r| r.setup_failed) => return Err(e),
                Err(e) => {
                    report.failed(&e);
                    failures.push(e);
                }
            }
        }
        if failures.is_empty() {
            return Ok(removed);
        }
        Err(Error::Incomplete {
            what: "credentials could not be removed",
            failures,
            total: ids.len(),
        })
    }

    /// Revokes (unless `revoker` is `None`) and deletes one credential under
    /// its lock; `false` when there was none.
    fn remove(
        &self,
        revoker: Option<&mut Revoker>,
        id: &CredentialId,
        report: &dyn Report,
    ) -> Result<bool, Error> {
        let guard = self.store.lock(id, &mut || report.waiting_for_lock(id))?;
        if let Some(revoker) = revoker {
            match self.store.load(id) {
                Ok(Some(entry)) => {
                    if let Credential::OAuth(_) = entry.credential {
                        revoker.revoke(self, id, &entry.credential, report)?;
                    }
                }
                Ok(None) => return Ok(false),
                Err(e) => report.event(Event::Unreadable { error: e.into() }),
            }
        }
        let removed = self.store.delete(&guard)?;
        if removed {
            report.event(Event::Removed {
                id: id.clone(),
                path: self.store.path_of(id),
            });
        }
        Ok(removed)
    }
}

/// What became of one revocation.
enum Revocation {
    Done,
    NoEndpoint,
    ProviderUnavailable,
    Failed { url: Option<String>, error: Error },
    Refused(Error),
}

/// The network side of logout, set up at the first credential that can be
/// revoked, with each provider built (and discovered) once.
#[derive(Default)]
struct Revoker {
    online: Option<Online>,
    providers: HashMap<Name, Option<Provider>>,
    setup_failed: bool,
}

impl Revoker {
    /// Revokes `credential`. `Err` only for a local problem that must stop
    /// the logout; what the provider or the network does is a warning.
    fn revoke(
        &mut self,
        manager: &Manager,
        id: &CredentialId,
        credential: &Credential,
        report: &dyn Report,
    ) -> Result<(), Error> {
        let online = match &mut self.online {
            Some(online) => online,
            None => self.online.insert(manager.online().inspect_err(|_| {
                self.setup_failed = true;
                report.event(Event::StoppedBeforeDeleting { id: id.clone() });
            })?),
        };
        if online.registry.get(&id.provider).is_none() {
            report.event(Event::NotConfigured {
                provider: id.provider.clone(),
            });
            return Ok(());
        }
        let providers = &mut self.providers;
        // Where the revocation went, for a message about a timeout too.
        let sent_to = std::cell::RefCell::new(None::<String>);
        let outcome = online.runtime.block_on(async {
            let revoke = revoke_once(online, providers, id, credential, &sent_to);
            tokio::time::timeout(REFRESH_TIMEOUT, revoke)
                .await
                .unwrap_or_else(|_| Revocation::Failed {
                    url: sent_to.borrow().clone(),
                    error: Error::Provider {
                        action: crate::error::Action::Revoke,
                        id: id.clone(),
                        config_path: manager.config_path.clone(),
                        source: Box::new(crate::flow::FlowError::Timeout(REFRESH_TIMEOUT)),
                    },
                })
        });
        report.event(match outcome {
            Revocation::Done => Event::Revoked { id: id.clone() },
            Revocation::NoEndpoint => Event::NoRevocationEndpoint {
                provider: id.provider.clone(),
            },
            Revocation::ProviderUnavailable => Event::ProviderUnavailable { id: id.clone() },
            Revocation::Failed { url, error } => Event::RevokeFailed {
                id: id.clone(),
                url,
                error,
            },
            // The config now names somewhere else, or the trust store
            // cannot be read: nothing is sent, and nothing is deleted, as
            // for any local problem.
            Revocation::Refused(error) => {
                self.setup_failed = true;
                report.event(Event::StoppedBeforeDeleting { id: id.clone() });
                return Err(error);
            }
        });
        Ok(())
    }
}

/// One revocation: the provider built (once per provider), its endpoint
/// found, the token sent. `sent_to` learns the endpoint before the request.
async fn revoke_once(
    online: &Online,
    providers: &mut HashMap<Name, Option<Provider>>,
    id: &CredentialId,
    credential: &Credential,
    sent_to: &std::cell::RefCell<Option<String>>,
) -> Revocation {
    if !providers.contains_key(&id.provider) {
        // Built once; a failure is reported once.
        match online.provider(&id.provider, Purpose::Bound).await {
            Ok(provider) => providers.insert(id.provider.clone(), Some(provider)),
            Err(error) => {
                providers.insert(id.provider.clone(), None);
                return Revocation::failed(None, error);
            }
        };
    }
    let Some(Some(provider)) = providers.get(&id.provider) else {
        return Revocation::ProviderUnavailable;
    };
    let url = match provider.revocation_endpoint(id, credential).await {
        Ok(Some(url)) => url,
        Ok(None) => return Revocation::NoEndpoint,
        Err(e @ Error::Rebind(_)) => return Revocation::Refused(e),
        Err(error) => return Revocation::failed(None, error),
    };
    *sent_to.borrow_mut() = Some(url.to_string());
    match provider.revoke(id, credential).await {
        Ok(_) => Revocation::Done,
        Err(error) => Revocation::failed(Some(url.to_string()), error),
    }
}

impl Revocation {
    /// A failure on the way to the provider. An unreadable trust store is
    /// local, and nothing was sent: it stops the logout, as a bad config
    /// does.
    fn failed(url: Option<String>, error: Error) -> Revocation {
        if error.is_trust_store() {
            Revocation::Refused(error)
        } else {
            Revocation::Failed { url, error }
        }
    }
}
