//! Refresh, single-flight across processes (DESIGN.md, Refresh).
//!
//! What always holds:
//! - lock, read the file again, decide again, and only then call the token
//!   endpoint: a process that finds the credential refreshed meanwhile uses
//!   that token and sends nothing;
//! - the new tokens (a rotated refresh token above all) are saved before
//!   anyone sees them;
//! - a failed refresh never changes the stored tokens; it is recorded beside them.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::{debug, instrument};

use crate::error::{Action, Error};
use crate::flow::{self, ClientSettings, FlowError, TokenResponse, client_credentials};
use crate::provider::Provider;
use crate::store::LockGuard;
use crate::token::{Category, Credential, Entry, FlowKind, Freshness, LastError, OAuthToken};
use crate::ui::Progress;

/// The bound on a whole refresh, retries included.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub enum RefreshMode {
    /// Refresh only if, once the lock is held, less than the margin is left.
    IfNeeded { min_valid: Option<TimeDelta> },
    /// `auth refresh`: refresh whatever the margin — unless another process
    /// refreshed while this one waited for the lock.
    Force,
}

pub struct Refreshed {
    pub entry: Entry,
    /// False when another process had refreshed it by the time we held the lock.
    pub by_us: bool,
}

impl Provider {
    /// Refreshes `seen` (the credential as read without the lock), single-flight.
    #[instrument(skip_all, fields(credential = %seen.id))]
    pub async fn refresh(
        &self,
        seen: &Entry,
        mode: RefreshMode,
        progress: &dyn Progress,
    ) -> Result<Refreshed, Error> {
        let id = &seen.id;
        let guard = self.lock(id, progress)?;
        let current = self
            .store
            .load(id)?
            .ok_or_else(|| Error::NotLoggedIn { id: id.clone() })?;
        if !self.still_needed(seen, &current, mode) {
            return Ok(Refreshed {
                entry: current,
                by_us: false,
            });
        }
        // Where the credential came from: the refresh goes only there.
        let settings = match self.settings_for(id, &current.credential).await {
            Ok(settings) => settings,
            Err(e) => {
                if let Some(category) = e.category() {
                    self.record(&guard, category, &e);
                }
                return Err(e);
            }
        };
        let outcome =
            tokio::time::timeout(REFRESH_TIMEOUT, self.renew(&settings, &current.credential))
                .await
                .unwrap_or(Err(FlowError::Timeout(REFRESH_TIMEOUT)));
        let now = self.clock.now();
        let mut token = match outcome.and_then(|r| refreshed_token(&current.credential, r, now)) {
            Ok(token) => token,
            Err(e) => {
                debug!(category = ?e.category(), "refresh failed");
                self.record(&guard, e.category(), &e);
                return Err(self.failed(Action::Refresh, id, e));
            }
        };
        // An older file is bound to where this refresh went.
        token.origin = current
            .credential
            .origin()
            .map(|o| Box::new(o.clone()))
            .or_else(|| super::origin_of(&settings));
        let arrived_expired = self.arrived_expired(token.expires_at, now);
        let rotated = token.refresh_token != current.credential.refresh_token().cloned();
        let entry = renewed(current, token, now);
        // Saved before the token is handed out: a rotated refresh token must not be lost.
        self.store
            .save(&guard, &entry)
            .map_err(|source| Error::SaveRefreshed {
                id: id.clone(),
                source: Box::new(source),
            })?;
        debug!(expires_at = ?entry.credential.expires_at(), rotated, "refreshed");
        if let Some(e) = arrived_expired {
            self.record(&guard, e.category(), &e);
            return Err(self.failed(Action::Refresh, id, e));
        }
        if let Err(e) = self.store.clear_error(&guard) {
            debug!(error = %e, "could not clear the last failure");
        }
        Ok(Refreshed { entry, by_us: true })
    }

    /// Decides again, under the lock, on what is on disk now. A credential
    /// that changed since `seen` was read was refreshed by another process
    /// while this one waited: its token is taken, whatever `--min-valid`
    /// asked for (the caller says when it is sooner than asked), so that
    /// waiters never refresh one after another.
    fn still_needed(&self, seen: &Entry, current: &Entry, mode: RefreshMode) -> bool {
        let changed = current.credential.access_token() != seen.credential.access_token();
        if changed {
            debug!("another process refreshed it while we waited for the lock; taking its token");
            return false;
        }
        match mode {
            RefreshMode::IfNeeded { min_valid } => {
                let freshness = current.credential.freshness(self.clock.now(), min_valid);
                if freshness == Freshness::Valid {
                    debug!("valid for long enough now; sending nothing");
                    return false;
                }
                debug!(freshness = freshness.as_str(), "refreshing under the lock");
                true
            }
            RefreshMode::Force => {
                debug!("refreshing on request");
                true
            }
        }
    }

    /// A token that had expired when it arrived: never handed out. When the
    /// provider's clock and ours differ by more than a minute, that is the
    /// likely reason, and the error says so.
    pub(super) fn arrived_expired(
        &self,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<FlowError> {
        let expires_at = expires_at.filter(|at| *at <= now)?;
        let server = self
            .http
            .server_date()
            .filter(|date| (*date - now).abs() > chrono::TimeDelta::seconds(60));
        Some(FlowError::ArrivedExpired {
            expires_at,
            now,
            server,
        })
    }

    /// Records a failed refresh beside the credential, for `auth list`.
    fn record(&self, guard: &LockGuard, category: Category, error: &dyn std::error::Error) {
        let record = LastError {
            category,
            at: self.clock.now(),
            message: crate::error::chain(error),
        };
        if let Err(store_error) = self.store.record_error(guard, &record) {
            debug!(error = %store_error, "could not record the failure");
        }
    }

    /// One request for new tokens: the refresh token, or for a
    /// client_credentials credential, the client credentials again.
    async fn renew(
        &self,
        settings: &ClientSettings,
        credential: &Credential,
    ) -> Result<TokenResponse, FlowError> {
        match credential {
            Credential::OAuth(t) => match (&t.refresh_token, t.flow) {
                (Some(refresh_token), _) => {
                    flow::refresh::run(settings, &self.http, refresh_token).await
                }
                (None, Some(FlowKind::ClientCredentials)) => {
                    client_credentials::run(settings, &self.http, &t.scopes).await
                }
                (None, _) => Err(FlowError::NoRefreshToken),
            },
            Credential::Static(_) => Err(FlowError::StaticToken),
        }
    }
}

/// The new token set: what the response carries, and from the old set what
/// it leaves out — the refresh token (RFC 6749 §6: absent means keep the
/// old one), the scopes, the id_token, and unknown fields.
fn refreshed_token(
    old: &Credential,
    response: TokenResponse,
    now: DateTime<Utc>,
) -> Result<OAuthToken, FlowError> {
    let (old_scopes, old_flow) = match old {
        Credential::OAuth(t) => (t.scopes.clone(), t.flow),
        Credential::Static(_) => (Vec::new(), None),
    };
    let mut token = response.into_token(&old_scopes, now, old_flow.unwrap_or(FlowKind::Browser))?;
    token.flow = old_flow;
    if let Credential::OAuth(old) = old {
        if token.refresh_token.is_none() {
            token.refresh_token = old.refresh_token.clone();
        }
        if token.id_token.is_none() {
            token.id_token = old.id_token.clone();
        }
        token.unknown = old.unknown.clone();
    }
    Ok(token)
}

/// `current` with the token a refresh brought, counted and dated.
fn renewed(mut current: Entry, token: crate::token::OAuthToken, now: DateTime<Utc>) -> Entry {
    current.credential = Credential::OAuth(token);
    current.metadata.refresh_count += 1;
    current.metadata.last_refresh_at = Some(now);
    current.metadata.updated_at = now;
    current
}
