//! A provider, built by the registry with the token store and the HTTP client
//! injected, and the use-cases that need the network: sign-in, refresh, revoke.
//!
//! What always holds:
//! - a provider is used only after [`Provider::init`] (discovery) has completed;
//! - it reads and writes credentials only through the injected store, under
//!   the credential's lock;
//! - refresh is single-flight across processes: lock, read again, decide
//!   again, and only then call the token endpoint; the new tokens (a rotated
//!   refresh token above all) are saved before anyone sees them;
//! - a failed refresh never changes the stored tokens; it is recorded beside them.

pub mod builtin;
pub mod config;
pub mod discovery;
pub mod registry;

use std::path::PathBuf;
use std::time::Duration;

use chrono::TimeDelta;
use tracing::{debug, instrument};

use crate::error::{Category, Error};
use crate::flow::{
    self, ClientSettings, FlowError, Interaction, TokenResponse, auth_code, client_credentials,
    device, refresh, revoke,
};
use crate::http::Http;
use crate::manager::{self, Progress};
use crate::name::{CredentialId, Name};
use crate::paths::Clock;
use crate::store::TokenStore;
use crate::token::{Credential, Entry, Freshness, LastError, OAuthToken};
use config::{Endpoints, FlowKind, ProviderConfig, Source};

/// The bound on a whole refresh, retries included.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Provider {
    config: ProviderConfig,
    config_path: PathBuf,
    store: TokenStore,
    http: Http,
    /// The configured endpoints, completed by discovery in `init`.
    endpoints: Endpoints,
    iss_required: bool,
}

/// What `auth login` asks for.
pub struct LoginRequest {
    pub account: Name,
    pub flow: Option<FlowKind>,
    /// `--scopes`; `None`: the provider's.
    pub scopes: Option<Vec<String>>,
    /// Start a browser (not with `--no-browser`, nor without a display).
    pub open_browser: bool,
    pub has_display: bool,
    /// How long the browser flow waits for the redirect.
    pub timeout: Duration,
}

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
    pub(crate) fn new(
        config: ProviderConfig,
        config_path: PathBuf,
        store: TokenStore,
        http: Http,
    ) -> Self {
        Provider {
            endpoints: config.endpoints.clone(),
            config,
            config_path,
            store,
            http,
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
            .map_err(|e| Error::Failed {
                what: format!("discovery for {} at {issuer}", self.config.name),
                category: e.category,
                hint: match e.category {
                    Category::Transient => "check the network and retry".into(),
                    _ => format!(
                        "check `issuer` of [providers.{}] in {}",
                        self.config.name,
                        self.config_path.display()
                    ),
                },
                message: e.message,
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

    /// `--flow`, else the config's `flow`, else the browser when there is a
    /// display, the device flow when headless or over SSH, else paste.
    pub fn choose_flow(
        &self,
        asked: Option<FlowKind>,
        has_display: bool,
    ) -> Result<FlowKind, Error> {
        let supported = self.flows();
        if let Some(flow) = asked.or(self.config.flow) {
            return if supported.contains(&flow) {
                Ok(flow)
            } else {
                Err(Error::Usage(format!(
                    "{} does not support the {flow} flow; it supports: {}",
                    self.config.name,
                    join(&supported)
                )))
            };
        }
        let preference = if has_display {
            [
                FlowKind::Browser,
                FlowKind::Device,
                FlowKind::Paste,
                FlowKind::ClientCredentials,
            ]
        } else {
            [
                FlowKind::Device,
                FlowKind::Paste,
                FlowKind::Browser,
                FlowKind::ClientCredentials,
            ]
        };
        preference
            .into_iter()
            .find(|f| supported.contains(f))
            .ok_or_else(|| Error::Config {
                path: self.config_path.clone(),
                message: format!(
                    "[providers.{}] allows no sign-in flow: it needs token_url with authorization_url or device_authorization_url, or a client_secret",
                    self.config.name
                ),
            })
    }

    /// The scopes to ask for. An OpenID provider declared in the config
    /// issues a refresh token only for `offline_access`, so it is added to the
    /// configured scopes (not to an explicit `--scopes`).
    fn scopes_for(&self, explicit: Option<Vec<String>>) -> Vec<String> {
        if let Some(scopes) = explicit {
            return scopes;
        }
        let mut scopes = self.config.scopes.clone();
        let oidc = self.config.source == Source::Config && self.config.issuer.is_some();
        if oidc
            && scopes.iter().any(|s| s == "openid")
            && !scopes.iter().any(|s| s == "offline_access")
        {
            scopes.push("offline_access".into());
        }
        scopes
    }

    /// Authorization parameters. With `offline_access`, an OpenID provider
    /// issues a refresh token in the browser flow only after `prompt=consent`.
    fn params_for(&self, scopes: &[String]) -> Vec<(String, String)> {
        let mut params = self.config.auth_params.clone();
        if self.config.source == Source::Config
            && self.config.asks_offline_access(scopes)
            && !params.iter().any(|(k, _)| k == "prompt")
        {
            params.push(("prompt".into(), "consent".into()));
        }
        params
    }

    #[instrument(skip_all, fields(provider = %self.config.name, account = %request.account))]
    pub async fn login(
        &self,
        request: LoginRequest,
        clock: Clock,
        ui: &dyn Interaction,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        let id = CredentialId::new(self.config.name.clone(), request.account.clone());
        let flow = self.choose_flow(request.flow, request.has_display)?;
        let settings = self.settings()?;
        let scopes = self.scopes_for(request.scopes);
        debug!(%flow, scopes = %scopes.join(" "), "signing in");
        let params = self.params_for(&scopes);
        let code = auth_code::Request {
            settings: &settings,
            scopes: &scopes,
            params: &params,
            redirect_uri: self.config.redirect_uri.as_ref(),
        };
        let response = match flow {
            FlowKind::Browser => {
                code.browser(&self.http, ui, request.open_browser, request.timeout)
                    .await
            }
            FlowKind::Paste => code.paste(&self.http, ui, request.open_browser).await,
            FlowKind::Device => device::run(&settings, &self.http, &scopes, ui).await,
            FlowKind::ClientCredentials => {
                client_credentials::run(&settings, &self.http, &scopes).await
            }
        }
        .map_err(|e| self.failed("sign-in to", &id, e))?;
        let now = clock.now();
        let token = flow::oauth_token(&response, &scopes, now, flow);
        debug!(expires_at = ?token.expires_at, refreshable = token.refresh_token.is_some(), "signed in");
        manager::save_login(&self.store, id, Credential::OAuth(token), now, progress)
    }

    /// Refreshes `seen` (the credential as read without the lock), single-flight.
    #[instrument(skip_all, fields(credential = %seen.id))]
    pub async fn refresh(
        &self,
        seen: &Entry,
        mode: RefreshMode,
        clock: Clock,
        progress: &dyn Progress,
    ) -> Result<Refreshed, Error> {
        let id = &seen.id;
        let settings = self.settings()?;
        let guard = manager::lock(&self.store, id, progress)?;
        let current = self
            .store
            .load(id)?
            .ok_or_else(|| Error::NotLoggedIn { id: id.clone() })?;
        let now = clock.now();
        let changed = current.credential.access_token() != seen.credential.access_token();
        match mode {
            RefreshMode::IfNeeded { min_valid } => {
                let freshness = current.credential.freshness(now, min_valid);
                // Valid now, or replaced by a token whose expiry is unknown
                // (which `auth token` does not refresh either).
                if freshness == Freshness::Valid || (changed && freshness == Freshness::Unknown) {
                    debug!(
                        "another process refreshed it meanwhile; using its token, sending nothing"
                    );
                    return Ok(Refreshed {
                        entry: current,
                        by_us: false,
                    });
                }
                debug!(freshness = freshness.as_str(), "refreshing under the lock");
            }
            RefreshMode::Force if changed => {
                debug!(
                    "another process refreshed it while we waited for the lock; taking its result"
                );
                return Ok(Refreshed {
                    entry: current,
                    by_us: false,
                });
            }
            RefreshMode::Force => debug!("refreshing on request"),
        }
        let outcome = tokio::time::timeout(REFRESH_TIMEOUT, self.renew(&settings, &current.credential))
            .await
            .unwrap_or_else(|_| {
                Err(FlowError::new(
                    Category::Transient,
                    format!(
                        "no answer within {} s; the request may have reached the provider, so it was not sent again",
                        REFRESH_TIMEOUT.as_secs()
                    ),
                ))
            });
        let response = match outcome {
            Ok(response) => response,
            Err(e) => {
                debug!(category = ?e.category, "refresh failed");
                let record = LastError {
                    category: e.category,
                    at: clock.now(),
                    message: flow::clip(&e.message),
                };
                if let Err(store_error) = self.store.record_error(&guard, &record) {
                    debug!(error = %store_error, "could not record the failure");
                }
                return Err(self.failed("refresh of", id, e));
            }
        };
        let now = clock.now();
        let mut entry = current;
        entry.credential = Credential::OAuth(refreshed_token(&entry.credential, &response, now));
        entry.metadata.refresh_count += 1;
        entry.metadata.last_refresh_at = Some(now);
        entry.metadata.updated_at = now;
        // Saved before the token is handed out: a rotated refresh token must not be lost.
        self.store.save(&guard, &entry).map_err(|e| Error::Failed {
            what: format!("saving the refreshed tokens of {id}"),
            category: Category::Storage,
            message: e.to_string(),
            hint: format!(
                "the stored credential is unchanged, but the provider may have replaced its refresh token; fix the problem, then run `credctl auth refresh {}`, and `{}` if that is rejected",
                id.cli_args(),
                id.login_command()
            ),
        })?;
        if let Err(e) = self.store.clear_error(&guard) {
            debug!(error = %e, "could not clear the last failure");
        }
        debug!(
            expires_at = ?entry.credential.expires_at(),
            rotated = entry.credential.refresh_token() != seen.credential.refresh_token(),
            "refreshed"
        );
        Ok(Refreshed { entry, by_us: true })
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
                (Some(refresh_token), _) => refresh::run(settings, &self.http, refresh_token).await,
                (None, Some(FlowKind::ClientCredentials)) => {
                    client_credentials::run(settings, &self.http, &t.scopes).await
                }
                (None, _) => Err(FlowError::new(
                    Category::ReauthRequired,
                    "the provider issued no refresh token",
                )),
            },
            Credential::Static(_) => Err(FlowError::new(
                Category::ReauthRequired,
                "a static token cannot be refreshed",
            )),
        }
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
            .map_err(|e| self.failed("revocation of", id, e))?;
        Ok(true)
    }

    fn failed(&self, action: &str, id: &CredentialId, e: FlowError) -> Error {
        let hint = match e.category {
            Category::Transient => {
                "check the network or the provider's status, then retry".to_string()
            }
            Category::ReauthRequired => format!("run `{}`", id.login_command()),
            Category::Configuration => format!(
                "check client_id, client_secret, scopes and endpoints of [providers.{}] in {}",
                id.provider,
                self.config_path.display()
            ),
            Category::InvalidResponse => {
                "retry later; if it persists, the provider's token endpoint is misbehaving"
                    .to_string()
            }
            Category::Storage => "fix the file named above".to_string(),
        };
        Error::Failed {
            what: format!("{action} {id}"),
            category: e.category,
            message: flow::clip(&e.message),
            hint,
        }
    }
}

/// The new token set: what the response carries, and from the old set what
/// it leaves out — the refresh token (RFC 6749 §6: absent means keep the
/// old one), the scopes, the id_token, and unknown fields.
fn refreshed_token(
    old: &Credential,
    response: &TokenResponse,
    now: chrono::DateTime<chrono::Utc>,
) -> OAuthToken {
    let (old_scopes, old_flow) = match old {
        Credential::OAuth(t) => (t.scopes.clone(), t.flow),
        Credential::Static(_) => (Vec::new(), None),
    };
    let mut token = flow::oauth_token(
        response,
        &old_scopes,
        now,
        old_flow.unwrap_or(FlowKind::Browser),
    );
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
    token
}

fn join(flows: &[FlowKind]) -> String {
    if flows.is_empty() {
        return "none".into();
    }
    flows
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
