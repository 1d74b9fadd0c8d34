//! A provider, built by the registry with the token store and the HTTP client
//! injected, and what it does over the network: sign in ([`login`]),
//! refresh single-flight ([`refresh`]), revoke.
//!
//! What always holds:
//! - a provider is used only after [`Provider::init`] (discovery) has completed;
//! - it reads and writes credentials only through the injected store, under
//!   the credential's lock;
//! - what the person sees goes through [`crate::ui`]; nothing here prints.

pub mod builtin;
pub mod config;
pub mod discovery;
mod login;
mod refresh;
pub mod registry;

use std::path::PathBuf;

use tracing::{debug, instrument};

pub use login::LoginRequest;
pub use refresh::{REFRESH_TIMEOUT, RefreshMode, Refreshed};

use crate::error::{Action, Error};
use crate::flow::{ClientSettings, Endpoints, FlowError, revoke};
use crate::http::Http;
use crate::name::CredentialId;
use crate::paths::Clock;
use crate::store::{LockGuard, TokenStore};
use crate::token::{Credential, FlowKind};
use crate::ui::Progress;
use config::{ProviderConfig, Source};

pub struct Provider {
    config: ProviderConfig,
    config_path: PathBuf,
    store: TokenStore,
    http: Http,
    clock: Clock,
    /// The configured endpoints, completed by discovery in `init`.
    endpoints: Endpoints,
    iss_required: bool,
}

impl Provider {
    pub(crate) fn new(
        config: ProviderConfig,
        config_path: PathBuf,
        store: TokenStore,
        http: Http,
        clock: Clock,
    ) -> Self {
        Provider {
            endpoints: config.endpoints.clone(),
            config,
            config_path,
            store,
            http,
            clock,
            iss_required: false,
        }
    }

    /// Completes the endpoints by discovery when an issuer is configured
    /// and the token endpoint is not.
    pub(crate) async fn init(&mut self) -> Result<(), Error> {
        let Some(issuer) = self.config.issuer.clone() else {
            return Ok(());
        };
        if self.config.endpoints.token.is_some() {
            return Ok(());
        }
        debug!(provider = %self.config.name, %issuer, "discovering endpoints");
        let discovered = discovery::discover(&self.http, &issuer)
            .await
            .map_err(|source| Error::Discovery {
                provider: self.config.name.clone(),
                issuer: issuer.to_string(),
                config_path: self.config_path.clone(),
                source: Box::new(source),
            })?;
        self.endpoints = self.config.endpoints.clone().or(discovered.endpoints);
        self.iss_required = discovered.iss_in_callback;
        Ok(())
    }

    pub fn flows(&self) -> Vec<FlowKind> {
        self.endpoints.flows(self.config.client_secret.is_some())
    }

    fn settings(&self) -> Result<ClientSettings, Error> {
        let client_id = self
            .config
            .client_id
            .clone()
            .ok_or_else(|| Error::MissingClientId {
                provider: self.config.name.clone(),
                config_path: self.config_path.clone(),
                register_url: self.config.register_url,
            })?;
        Ok(ClientSettings {
            client_id,
            client_secret: self.config.client_secret.clone(),
            endpoints: self.endpoints.clone(),
            issuer: self.config.issuer.clone(),
            iss_required: self.iss_required,
        })
    }

    /// Takes a credential's lock, telling the person when another process has it.
    fn lock(&self, id: &CredentialId, progress: &dyn Progress) -> Result<LockGuard, Error> {
        Ok(self.store.lock(id, &mut || progress.waiting_for_lock(id))?)
    }

    /// Revokes a credential at the provider (RFC 7009): the refresh token
    /// first, which ends the grant, then the access token. `Ok(false)` when
    /// the provider has no revocation endpoint or the credential is static.
    #[instrument(skip_all, fields(credential = %id))]
    pub async fn revoke(&self, id: &CredentialId, credential: &Credential) -> Result<bool, Error> {
        let (Some(endpoint), Credential::OAuth(token)) = (&self.endpoints.revocation, credential)
        else {
            return Ok(false);
        };
        let settings = self.settings()?;
        let revoke_both = async {
            if let Some(refresh_token) = &token.refresh_token {
                revoke::run(
                    &settings,
                    &self.http,
                    endpoint,
                    refresh_token,
                    "refresh_token",
                )
                .await?;
            }
            revoke::run(
                &settings,
                &self.http,
                endpoint,
                &token.access_token,
                "access_token",
            )
            .await
        };
        // Bounded by the caller, with the discovery that precedes it.
        revoke_both
            .await
            .map_err(|e| self.failed(Action::Revoke, id, e))?;
        Ok(true)
    }

    fn failed(&self, action: Action, id: &CredentialId, source: FlowError) -> Error {
        Error::Provider {
            action,
            id: id.clone(),
            config_path: self.config_path.clone(),
            source: Box::new(source),
        }
    }

    fn is_oidc_from_config(&self) -> bool {
        self.config.source == Source::Config && self.config.issuer.is_some()
    }
}
