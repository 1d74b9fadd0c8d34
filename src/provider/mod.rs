//! A provider, built by the registry with the token store and the HTTP client
//! injected, and what it does over the network: sign in ([`login`]),
//! refresh single-flight ([`refresh`]), revoke.
//!
//! What always holds:
//! - a provider used for sign-in is used only after [`Provider::init`]
//!   (discovery) has completed;
//! - a credential is bound to where it came from ([`Origin`]): refresh and
//!   revocation go only there, with no discovery on the way, and a config
//!   that now names another issuer, token endpoint or client gets nothing;
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

use tokio::sync::OnceCell;
use tracing::{debug, instrument};
use url::Url;

pub use login::LoginRequest;
pub use refresh::{REFRESH_TIMEOUT, RefreshMode, Refreshed};

use crate::error::{Action, Error, Rebound};
use crate::flow::check::{self, Verdict};
use crate::flow::{ClientSettings, Endpoints, FlowError, Issuer, revoke};
use crate::http::Http;
use crate::name::CredentialId;
use crate::paths::Clock;
use crate::store::{LockGuard, TokenStore};
use crate::token::{Credential, FlowKind, Origin};
use crate::ui::Progress;
use config::{ProviderConfig, Source};
use discovery::Discovered;

pub struct Provider {
    config: ProviderConfig,
    config_path: PathBuf,
    store: TokenStore,
    http: Http,
    clock: Clock,
    /// The configured endpoints completed by discovery, once asked for.
    discovered: OnceCell<Discovered>,
}

/// What a provider is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign-in needs the endpoints: discovery runs in `init`.
    SignIn,
    /// Refresh and revocation use the credential's recorded origin.
    Bound,
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
            config,
            config_path,
            store,
            http,
            clock,
            discovered: OnceCell::new(),
        }
    }

    /// Initialisation before first use: for sign-in, the endpoints
    /// (discovery when an issuer is configured without them); for a bound
    /// use, nothing: the credential says where to go.
    pub(crate) async fn init(&self, purpose: Purpose) -> Result<(), Error> {
        match purpose {
            Purpose::SignIn => self.discovered().await.map(|_| ()),
            Purpose::Bound => Ok(()),
        }
    }

    /// The configured endpoints, completed by discovery at most once.
    async fn discovered(&self) -> Result<&Discovered, Error> {
        self.discovered
            .get_or_try_init(|| async {
                let configured = Discovered {
                    endpoints: self.config.endpoints.clone(),
                    iss_in_callback: false,
                };
                let Some(issuer) = &self.config.issuer else {
                    return Ok(configured);
                };
                if self.config.endpoints.token.is_some() {
                    return Ok(configured);
                }
                debug!(provider = %self.config.name, %issuer, "discovering endpoints");
                let found = discovery::discover(&self.http, issuer)
                    .await
                    .map_err(|source| Error::Discovery {
                        provider: self.config.name.clone(),
                        issuer: issuer.to_string(),
                        config_path: self.config_path.clone(),
                        source: Box::new(source),
                    })?;
                Ok(Discovered {
                    endpoints: self.config.endpoints.clone().or(found.endpoints),
                    iss_in_callback: found.iss_in_callback,
                })
            })
            .await
    }

    /// The flows the configured endpoints allow; before discovery, those
    /// of the explicit endpoints.
    pub fn flows(&self) -> Vec<FlowKind> {
        let endpoints = match self.discovered.get() {
            Some(d) => &d.endpoints,
            None => &self.config.endpoints,
        };
        endpoints.flows(self.config.client_secret.is_some())
    }

    fn client_id(&self) -> Result<String, Error> {
        self.config
            .client_id
            .clone()
            .ok_or_else(|| Error::MissingClientId {
                provider: self.config.name.clone(),
                config_path: self.config_path.clone(),
                register_url: self.config.register_url,
                note: self.config.client_note,
            })
    }

    /// Settings from the configuration, discovered: for sign-in, and for
    /// credentials written before origins were recorded.
    async fn configured_settings(&self) -> Result<ClientSettings, Error> {
        let client_id = self.client_id()?;
        let discovered = self.discovered().await?;
        Ok(ClientSettings {
            client_id,
            client_secret: self.config.client_secret.clone(),
            endpoints: discovered.endpoints.clone(),
            issuer: self.config.issuer.clone(),
            iss_required: discovered.iss_in_callback,
        })
    }

    /// Settings bound to where a credential came from. Sends nothing, and
    /// says so, when the configuration now names another issuer, token
    /// endpoint or client: the credential's tokens belong to the old one.
    fn bound_settings(&self, id: &CredentialId, origin: &Origin) -> Result<ClientSettings, Error> {
        let rebind = |what: &'static str, recorded: Option<&str>, configured: &str| {
            Error::Rebind(Box::new(Rebound {
                id: id.clone(),
                what,
                recorded: recorded.unwrap_or("none").to_string(),
                configured: configured.to_string(),
                config_path: self.config_path.clone(),
            }))
        };
        if let Some(issuer) = &self.config.issuer
            && origin.issuer.as_deref() != Some(issuer.as_str())
        {
            return Err(rebind("issuer", origin.issuer.as_deref(), issuer.as_str()));
        }
        if let Some(token) = &self.config.endpoints.token
            && token.as_str() != origin.token_endpoint
        {
            return Err(rebind(
                "token endpoint",
                Some(&origin.token_endpoint),
                token.as_str(),
            ));
        }
        if let Some(client_id) = &self.config.client_id
            && *client_id != origin.client_id
        {
            return Err(rebind("client", Some(&origin.client_id), client_id));
        }
        let url = |s: &str| Url::parse(s).ok();
        Ok(ClientSettings {
            client_id: origin.client_id.clone(),
            client_secret: self.config.client_secret.clone(),
            endpoints: Endpoints {
                token: url(&origin.token_endpoint),
                revocation: origin.revocation_endpoint.as_deref().and_then(url),
                userinfo: origin.userinfo_endpoint.as_deref().and_then(url),
                introspection: origin.introspection_endpoint.as_deref().and_then(url),
                ..Endpoints::default()
            },
            issuer: origin.issuer.as_deref().and_then(|i| Issuer::parse(i).ok()),
            iss_required: false,
        })
    }

    /// Settings for a stored credential: its origin, or for an older file
    /// the configuration (which its first refresh then records).
    async fn settings_for(
        &self,
        id: &CredentialId,
        credential: &Credential,
    ) -> Result<ClientSettings, Error> {
        match credential.origin() {
            Some(origin) => self.bound_settings(id, origin),
            None => {
                debug!("no recorded origin (an older file): using the configuration");
                self.configured_settings().await
            }
        }
    }

    /// Takes a credential's lock, telling the person when another process has it.
    fn lock(&self, id: &CredentialId, progress: &dyn Progress) -> Result<LockGuard, Error> {
        Ok(self.store.lock(id, &mut || progress.waiting_for_lock(id))?)
    }

    /// Where revocation of `credential` would go, if anywhere.
    pub async fn revocation_endpoint(
        &self,
        id: &CredentialId,
        credential: &Credential,
    ) -> Result<Option<Url>, Error> {
        Ok(self
            .settings_for(id, credential)
            .await?
            .endpoints
            .revocation)
    }

    /// Revokes a credential where it came from (RFC 7009): the refresh
    /// token first, which ends the grant, then the access token. `Ok(false)`
    /// when there is no revocation endpoint or the credential is static.
    #[instrument(skip_all, fields(credential = %id))]
    pub async fn revoke(&self, id: &CredentialId, credential: &Credential) -> Result<bool, Error> {
        let Credential::OAuth(token) = credential else {
            return Ok(false);
        };
        let settings = self.settings_for(id, credential).await?;
        let Some(endpoint) = &settings.endpoints.revocation else {
            return Ok(false);
        };
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
        // Bounded by the caller.
        revoke_both
            .await
            .map_err(|e| self.failed(Action::Revoke, id, e))?;
        Ok(true)
    }

    /// Asks where the credential came from whether its access token is
    /// still accepted: userinfo, else introspection. `Ok(None)` when no
    /// endpoint for either is recorded — a static token, or a file written
    /// before origins were: a token is never sent where it did not come from.
    pub async fn check(
        &self,
        id: &CredentialId,
        credential: &Credential,
    ) -> Result<Option<Verdict>, Error> {
        let Some(origin) = credential.origin() else {
            return Ok(None);
        };
        let settings = self.bound_settings(id, origin)?;
        let token = credential.access_token().as_deref();
        let asked = match (
            &settings.endpoints.userinfo,
            &settings.endpoints.introspection,
        ) {
            (Some(url), _) => check::userinfo(&self.http, url, token).await,
            (None, Some(url)) => check::introspect(&settings, &self.http, url, token).await,
            (None, None) => return Ok(None),
        };
        asked
            .map(Some)
            .map_err(|e| self.failed(Action::Check, id, e))
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

/// What a credential records of the settings it was obtained with.
fn origin_of(settings: &ClientSettings) -> Option<Box<Origin>> {
    Some(Box::new(Origin {
        issuer: settings.issuer.as_ref().map(|i| i.as_str().to_string()),
        token_endpoint: settings.endpoints.token.as_ref()?.to_string(),
        revocation_endpoint: settings.endpoints.revocation.as_ref().map(Url::to_string),
        client_id: settings.client_id.clone(),
        userinfo_endpoint: settings.endpoints.userinfo.as_ref().map(Url::to_string),
        introspection_endpoint: settings
            .endpoints
            .introspection
            .as_ref()
            .map(Url::to_string),
        unknown: Default::default(),
    }))
}
