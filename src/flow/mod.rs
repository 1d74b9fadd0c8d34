//! The OAuth 2.0 flows, on the oauth2 crate with our HTTP client.
//!
//! Flows are protocol only: they never touch the store and never print; what
//! a person must see or type goes through [`crate::ui::Interaction`]. Every
//! failure is a [`FlowError`] whose category decides retries, exit code and
//! what `auth list` shows.

pub mod auth_code;
pub mod check;
pub mod client_credentials;
pub mod device;
mod error;
pub mod loopback;
pub mod paste;
pub mod refresh;
pub mod response;
pub mod revoke;

use std::borrow::Cow;
use std::pin::Pin;

use base64::Engine as _;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointMaybeSet, EndpointNotSet,
    HttpRequest, Scope, StandardRevocableToken, TokenUrl,
};
use url::Url;

pub use error::{FlowError, classify};
pub(crate) use error::{OAuthErrorBody, describe_json_error};
pub use response::TokenResponse;

use crate::http::{Cause, Http, HttpError, Resend};
use crate::secret::Secret;
use crate::token::FlowKind;

/// An issuer identifier (RFC 8414 §2, OpenID Discovery §4.3): kept and
/// compared as the exact string configured. A URL parser would add a
/// trailing slash to `https://id.example`, and issuers that differ by one
/// are different issuers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    text: String,
    url: Url,
}

impl Issuer {
    pub fn parse(text: &str) -> Result<Issuer, url::ParseError> {
        Ok(Issuer {
            url: Url::parse(text)?,
            text: text.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether `other` names this issuer (exactly).
    pub fn is(&self, other: &str) -> bool {
        self.text == other
    }
}

impl std::fmt::Display for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A provider's endpoints, configured or discovered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization: Option<Url>,
    pub token: Option<Url>,
    pub device_authorization: Option<Url>,
    pub revocation: Option<Url>,
    /// OpenID Connect userinfo, and RFC 7662 introspection: for `auth status --check`.
    pub userinfo: Option<Url>,
    pub introspection: Option<Url>,
}

impl Endpoints {
    /// Fills what is missing here from `other` (explicit settings win over discovery).
    pub fn or(self, other: Endpoints) -> Endpoints {
        Endpoints {
            authorization: self.authorization.or(other.authorization),
            token: self.token.or(other.token),
            device_authorization: self.device_authorization.or(other.device_authorization),
            revocation: self.revocation.or(other.revocation),
            userinfo: self.userinfo.or(other.userinfo),
            introspection: self.introspection.or(other.introspection),
        }
    }

    /// The flows these endpoints allow, given whether the client has a secret.
    pub fn flows(&self, has_secret: bool) -> Vec<FlowKind> {
        let mut flows = Vec::new();
        if self.token.is_some() {
            if self.authorization.is_some() {
                flows.extend([FlowKind::Browser, FlowKind::Paste]);
            }
            if self.device_authorization.is_some() {
                flows.push(FlowKind::Device);
            }
            if has_secret {
                flows.push(FlowKind::ClientCredentials);
            }
        }
        flows.sort();
        flows
    }
}

/// What a flow needs to know about the client and the provider.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    pub endpoints: Endpoints,
    /// The callback's `iss` must equal this (RFC 9207).
    pub issuer: Option<Issuer>,
    /// The provider promised `iss` in every callback.
    pub iss_required: bool,
}

pub type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
>;

impl ClientSettings {
    /// [`FlowError::scrub`] with the client secret and the given secrets.
    pub fn scrub(&self, error: FlowError, sent: &[Secret<&str>]) -> FlowError {
        let mut secrets = sent.to_vec();
        secrets.extend(self.client_secret.as_ref().map(Secret::as_deref));
        error.scrub(&secrets)
    }

    pub fn oauth_client(&self) -> OAuthClient {
        let client = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri_option(self.endpoints.authorization.clone().map(AuthUrl::from_url))
            .set_token_uri_option(self.endpoints.token.clone().map(TokenUrl::from_url))
            .set_device_authorization_url_option(
                self.endpoints
                    .device_authorization
                    .clone()
                    .map(DeviceAuthorizationUrl::from_url),
            );
        match &self.client_secret {
            // The HTTP boundary: oauth2 puts it in the Authorization header.
            Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone().expose())),
            None => client,
        }
    }

    /// A form POST with client authentication as oauth2 does it: HTTP Basic
    /// with the id and secret form-urlencoded first (RFC 6749 §2.3.1) for a
    /// confidential client, `client_id` in the body for a public one.
    pub fn form_post(
        &self,
        url: &Url,
        params: &[(&str, Secret<&str>)],
    ) -> Result<HttpRequest, HttpError> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in params {
            // The HTTP boundary: the form is the request body.
            form.append_pair(key, value.clone().expose());
        }
        let mut request = oauth2::http::Request::builder()
            .method(oauth2::http::Method::POST)
            .uri(url.as_str())
            .header(oauth2::http::header::ACCEPT, "application/json")
            .header(
                oauth2::http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        match &self.client_secret {
            Some(secret) => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    enc(&self.client_id),
                    enc(secret.as_deref().expose())
                ));
                request = request.header(
                    oauth2::http::header::AUTHORIZATION,
                    format!("Basic {basic}"),
                );
            }
            None => {
                form.append_pair("client_id", &self.client_id);
            }
        }
        request
            .body(form.finish().into_bytes())
            .map_err(|e| HttpError::Build {
                url: url.to_string(),
                source: Cause::new(e),
            })
    }
}

pub fn scopes(scopes: &[String]) -> impl Iterator<Item = Scope> + '_ {
    scopes.iter().map(|s| Scope::new(s.clone()))
}

type Sent<'a> = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + 'a>>;

/// oauth2's view of our client: every request goes through [`Http::send`]
/// and its retry rules for requests like this one.
pub fn sender<'a>(http: &'a Http, resend: Resend) -> impl Fn(HttpRequest) -> Sent<'a> + 'a {
    move |request| Box::pin(http.send(request, resend))
}

pub(crate) fn redirect_cow(url: &Url) -> Cow<'static, oauth2::RedirectUrl> {
    Cow::Owned(oauth2::RedirectUrl::from_url(url.clone()))
}
