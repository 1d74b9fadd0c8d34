//! Signing in: choosing the flow, the scopes and the parameters, running the
//! flow, and saving what it brought through the injected store.
//!
//! What always holds: nothing is saved unless the flow finished and every
//! check passed; logging in again keeps the account's metadata.

use std::time::Duration;

use tracing::{debug, instrument};

use crate::error::{Action, ConfigError, Error};
use crate::flow::auth_code::Reply;
use crate::flow::{
    ClientSettings, FlowError, TokenResponse, auth_code, client_credentials, device,
};
use crate::name::{CredentialId, Name};
use crate::provider::Provider;
use crate::token::{Credential, Entry, FlowKind};
use crate::ui::{Interaction, Progress};

/// What `auth login` asks for.
pub struct LoginRequest {
    pub account: Name,
    pub flow: Option<FlowKind>,
    /// `--scopes`; `None`: the provider's.
    pub scopes: Option<Vec<String>>,
    /// Start a browser (not with `--no-browser`, nor without a display).
    pub open_browser: bool,
    pub has_display: bool,
    /// Over SSH: a browser started here is not where the person is.
    pub remote: bool,
    /// How long the browser flow waits for the redirect.
    pub timeout: Duration,
}

impl Provider {
    /// `--flow`, else the config's `flow`, else the browser when there is a
    /// display, the device flow when headless or over SSH, else paste.
    pub fn choose_flow(
        &self,
        asked: Option<FlowKind>,
        has_display: bool,
    ) -> Result<FlowKind, Error> {
        let supported = self.flows();
        if asked == Some(FlowKind::ClientCredentials) && self.config.client_secret.is_none() {
            return Err(Error::NeedsClientSecret {
                provider: self.config.name.clone(),
                config_path: self.config_path.clone(),
            });
        }
        if let Some(flow) = asked.or(self.config.flow) {
            return if supported.contains(&flow) {
                Ok(flow)
            } else {
                Err(Error::FlowNotSupported {
                    provider: self.config.name.clone(),
                    flow,
                    supported,
                })
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
                source: ConfigError::NoFlow {
                    provider: self.config.name.clone(),
                },
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
        if self.is_oidc_from_config()
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
        if self.config.source == super::Source::Config
            && self.config.asks_offline_access(scopes)
            && !params.iter().any(|(k, _)| k == "prompt")
        {
            params.push(("prompt".into(), "consent".into()));
        }
        params
    }

    /// Runs the sign-in flow and saves the credential.
    #[instrument(skip_all, fields(provider = %self.config.name, account = %request.account))]
    pub async fn login(
        &self,
        request: LoginRequest,
        ui: &dyn Interaction,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        let id = CredentialId::new(self.config.name.clone(), request.account.clone());
        let flow = self.choose_flow(request.flow, request.has_display)?;
        self.http.ready().map_err(|source| Error::HttpSetup {
            source: Box::new(source),
        })?;
        let settings = self.configured_settings().await?;
        let scopes = self.scopes_for(request.scopes);
        debug!(%flow, scopes = %scopes.join(" "), "signing in");
        let params = self.params_for(&scopes);
        let code = auth_code::Request {
            settings: &settings,
            scopes: &scopes,
            params: &params,
            redirect_uri: self.config.redirect_uri.as_ref(),
        };
        let http = &self.http;
        let none = |r: Result<_, FlowError>| r.map(|r| (r, Reply::none()));
        let answer = match flow {
            FlowKind::Browser => {
                code.browser(http, ui, request.open_browser, request.timeout)
                    .await
            }
            FlowKind::Paste => none(code.paste(http, ui).await),
            FlowKind::Device => none(device::run(&settings, http, &scopes, ui).await),
            FlowKind::ClientCredentials => {
                none(client_credentials::run(&settings, http, &scopes).await)
            }
        };
        let (response, reply) = answer.map_err(|mut e| {
            // Over SSH, a browser started here is not where the person is.
            if let FlowError::NoBrowserAnswer { suggest_device, .. } = &mut e {
                *suggest_device |= request.remote;
            }
            self.failed(Action::SignIn, &id, e)
        })?;
        // The browser hears what really happened, once it has happened.
        match self.save_signed_in(&id, response, &settings, &scopes, flow, progress) {
            Ok(entry) => {
                reply.signed_in(&id.to_string()).await;
                Ok(entry)
            }
            Err(e) => {
                reply.failed(&e).await;
                Err(e)
            }
        }
    }

    /// Saves what the sign-in brought, bound to the settings it used. A
    /// token that arrived expired is saved too (its refresh token is good),
    /// but the sign-in is then an error that says why.
    fn save_signed_in(
        &self,
        id: &CredentialId,
        response: TokenResponse,
        settings: &ClientSettings,
        scopes: &[String],
        flow: FlowKind,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        let now = self.clock.now();
        let mut token = response
            .into_token(scopes, now, flow)
            .map_err(|e| self.failed(Action::SignIn, id, e))?;
        token.origin = super::origin_of(settings);
        debug!(expires_at = ?token.expires_at, refreshable = token.refresh_token.is_some(), "signed in");
        let arrived_expired = self.arrived_expired(token.expires_at, now);
        let guard = self.lock(id, progress)?;
        let entry = self
            .store
            .save_login(&guard, Credential::OAuth(token), now)?;
        match arrived_expired {
            Some(e) => Err(self.failed(Action::SignIn, id, e)),
            None => Ok(entry),
        }
    }
}
