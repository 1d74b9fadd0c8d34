//! Getting a token for a script: `auth token`, and everything that hands a
//! token on (exec, git, kubectl).
//!
//! The fast path — a stored token valid for longer than the margin, or with
//! no known expiry — reads one file: no HTTP client, no TLS, no async
//! runtime, no config file. Otherwise the token is refreshed first,
//! single-flight. A token still valid but inside the margin is a soft case:
//! if the refresh fails, the token is handed out anyway with a warning, and
//! only an expired token turns a failed refresh into an error.

use chrono::{DateTime, TimeDelta, Utc};
use tracing::debug;

use crate::error::{Error, Renewal, StoreError};
use crate::manager::Manager;
use crate::name::{CredentialId, Name};
use crate::provider::RefreshMode;
use crate::timefmt;
use crate::token::{Entry, Freshness, LastError};
use crate::ui::Progress;

/// A token to hand out, and what the person should be told about it.
pub struct Issued {
    pub entry: Entry,
    pub warning: Option<TokenWarning>,
}

#[derive(Debug)]
pub enum TokenWarning {
    /// The refreshed token lives less long than asked for.
    SoonerThanAsked { id: CredentialId, expiry: String },
    /// The refresh failed; the current token is still valid for a while.
    RefreshFailed {
        id: CredentialId,
        expiry: String,
        error: Error,
    },
}

impl std::fmt::Display for TokenWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenWarning::SoonerThanAsked { id, expiry } => {
                write!(f, "the new token for {id} {expiry}, sooner than asked")
            }
            TokenWarning::RefreshFailed { id, expiry, error } => write!(
                f,
                "{}\nprinting the current token of {id}, which {expiry}",
                crate::error::chain(error)
            ),
        }
    }
}

impl Manager {
    /// A token valid for at least the margin (or `min_valid`), refreshed
    /// first when needed. Never interactive.
    pub fn token(
        &self,
        provider: &Name,
        account: Option<&Name>,
        min_valid: Option<TimeDelta>,
        progress: &dyn Progress,
    ) -> Result<Issued, Error> {
        let entry = self.load_for_reading(provider, account)?;
        let now = self.now();
        let credential = &entry.credential;
        let freshness = credential.freshness(now, min_valid);
        debug!(
            credential = %entry.id,
            freshness = freshness.as_str(),
            left_secs = credential.expires_at().map(|at| (at - now).num_seconds()),
            margin_secs = credential.margin(min_valid).num_seconds(),
            "checked the stored token"
        );
        match freshness {
            Freshness::Valid => {
                debug!("more than the margin is left: not refreshing");
                return Ok(Issued {
                    entry,
                    warning: None,
                });
            }
            Freshness::Unknown => {
                debug!("no expiry is known (no expires_in, no JWT exp): not refreshing");
                return Ok(Issued {
                    entry,
                    warning: None,
                });
            }
            Freshness::Expiring | Freshness::Expired => {}
        }
        let outcome = if credential.can_refresh() {
            self.refresh_for_token(&entry, min_valid, progress)
        } else {
            // Nothing is recorded: `auth list` shows it as not refreshable, and
            // recording would take the lock on every call.
            Err(Error::Expired {
                id: entry.id.clone(),
                expiry: timefmt::expiry(now, credential.expires_at()),
                login: entry.login_command(),
            })
        };
        match outcome {
            Ok(fresh) => {
                let now = self.now();
                let warning = matches!(
                    fresh.credential.freshness(now, min_valid),
                    Freshness::Expiring | Freshness::Expired
                )
                .then(|| TokenWarning::SoonerThanAsked {
                    id: fresh.id.clone(),
                    expiry: timefmt::expiry(now, fresh.credential.expires_at()),
                });
                Ok(Issued {
                    entry: fresh,
                    warning,
                })
            }
            Err(error) => self.soft(entry, error),
        }
    }

    fn refresh_for_token(
        &self,
        seen: &Entry,
        min_valid: Option<TimeDelta>,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        debug!("less than the margin is left: refreshing");
        progress.refreshing();
        let record = |e: &Error| self.record_failure(&seen.id, e, progress);
        let online = self.online().inspect_err(record)?;
        online.runtime.block_on(async {
            let provider = online
                .provider(&seen.id.provider, crate::provider::Purpose::Bound)
                .await
                .inspect_err(record)?;
            // A failure from here on is recorded under the credential's lock.
            let refreshed = provider
                .refresh(seen, RefreshMode::IfNeeded { min_valid }, progress)
                .await?;
            Ok(refreshed.entry)
        })
    }

    /// A failed refresh of a token that is still valid: hand it out with a
    /// warning. Only an expired token turns a failure into an error —
    /// checked again now, as the failed attempt may have outlived the token.
    /// A credential that is gone or unreadable meanwhile is not handed out.
    fn soft(&self, entry: Entry, error: Error) -> Result<Issued, Error> {
        let now = self.now();
        let gone = match &error {
            Error::NotLoggedIn { .. } | Error::Interrupted | Error::Internal { .. } => true,
            Error::Store(e) => !matches!(e, StoreError::LockTimeout { .. }),
            _ => false,
        };
        if gone {
            return Err(error);
        }
        // A token a server rejected is never handed out again.
        let rejected = entry.credential.rejected_at().is_some();
        if rejected || expired(entry.credential.expires_at(), now) {
            // Lead with the point: the token is dead; then why it stays so.
            let expiry = if rejected {
                "was rejected by a server".to_string()
            } else {
                timefmt::expiry(now, entry.credential.expires_at())
            };
            return Err(match error {
                e @ (Error::Expired { .. } | Error::NotRefreshable { .. }) => e,
                source => Error::NotRenewed {
                    id: entry.id.clone(),
                    expiry,
                    source: Renewal::of(source),
                },
            });
        }
        let warning = TokenWarning::RefreshFailed {
            id: entry.id.clone(),
            expiry: timefmt::expiry(now, entry.credential.expires_at()),
            error,
        };
        Ok(Issued {
            entry,
            warning: Some(warning),
        })
    }

    /// Records a failure met before a refresh could be sent (configuration,
    /// discovery), so that `auth list` shows it.
    fn record_failure(&self, id: &CredentialId, error: &Error, progress: &dyn Progress) {
        let Some(category) = error.category() else {
            return;
        };
        let recorded = (|| -> Result<(), StoreError> {
            let guard = self.store.lock(id, &mut || progress.waiting_for_lock(id))?;
            if self.store.load(id)?.is_none() {
                return Ok(());
            }
            self.store.record_error(
                &guard,
                &LastError {
                    category,
                    at: self.now(),
                    message: crate::error::chain(error),
                },
            )
        })();
        if let Err(e) = recorded {
            debug!(error = %e, "could not record the failure");
        }
    }
}

fn expired(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_none_or(|at| at <= now)
}
