//! The OAuth 2.0 flows, on the oauth2 crate with our HTTP client.
//!
//! Flows are protocol only: they never touch the store and never print; what
//! a person must see or type goes through [`Interaction`], which commands
//! implement. Every failure is a [`FlowError`] with a [`Category`] that
//! decides retries, exit code and what `auth list` shows.

pub mod auth_code;
pub mod client_credentials;
pub mod device;
pub mod loopback;
pub mod refresh;
pub mod revoke;

use std::borrow::Cow;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointMaybeSet, EndpointNotSet,
    ExtraTokenFields, HttpRequest, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Category;
use crate::http::{Http, HttpError};
use crate::provider::config::{Endpoints, FlowKind};
use crate::secret::Secret;
use crate::token::{self, OAuthToken};

/// What a flow needs to know about the client and the provider.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    pub endpoints: Endpoints,
    /// The callback's `iss` must equal this (RFC 9207).
    pub issuer: Option<Url>,
    /// The provider promised `iss` in every callback.
    pub iss_required: bool,
}

/// The token endpoint's answer, with the `id_token` of OpenID Connect.
pub type TokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IdTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret<String>>,
}

impl ExtraTokenFields for IdTokenFields {}

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
    pub fn scrub(&self, error: FlowError, sent: &[&str]) -> FlowError {
        let secret = self.client_secret.as_ref().map(|s| s.expose().as_str());
        error.scrub(sent).scrub(&[secret.unwrap_or_default()])
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
            Some(secret) => client.set_client_secret(ClientSecret::new(secret.expose().clone())),
            None => client,
        }
    }

    /// A form POST with client authentication as oauth2 does it: HTTP Basic
    /// with the id and secret form-urlencoded first (RFC 6749 §2.3.1) for a
    /// confidential client, `client_id` in the body for a public one.
    pub fn form_post(&self, url: &Url, params: &[(&str, &str)]) -> Result<HttpRequest, HttpError> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(params);
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
                    enc(secret.expose())
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
                cause: e.to_string(),
            })
    }
}

pub fn scopes(scopes: &[String]) -> impl Iterator<Item = Scope> + '_ {
    scopes.iter().map(|s| Scope::new(s.clone()))
}

/// oauth2's view of our client: every request goes through [`Http::send`]
/// and its retry rules.
pub fn sender<'a>(
    http: &'a Http,
) -> impl Fn(HttpRequest) -> Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + 'a>>
+ 'a {
    move |request| Box::pin(http.send(request))
}

/// A token response as a stored credential. Expiry from `expires_in`, else
/// the JWT `exp`, else unknown; scopes as granted, else as requested (RFC
/// 6749 §5.1: an absent `scope` means the requested one).
pub fn oauth_token(
    response: &TokenResponse,
    requested_scopes: &[String],
    now: DateTime<Utc>,
    flow: FlowKind,
) -> OAuthToken {
    let access = response.access_token().secret().clone();
    let token_type = match response.token_type() {
        BasicTokenType::Bearer => "Bearer".to_string(),
        other => other.as_ref().to_string(),
    };
    OAuthToken {
        expires_at: token::expiry(now, response.expires_in(), &access),
        access_token: Secret::new(access),
        refresh_token: response
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        token_type,
        scopes: match response.scopes() {
            Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
            None => requested_scopes.to_vec(),
        },
        id_token: response.extra_fields().id_token.clone(),
        obtained_at: now,
        flow: Some(flow),
        unknown: serde_json::Map::new(),
    }
}

/// Why a flow failed, in words that hold no secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FlowError {
    pub category: Category,
    pub message: String,
}

impl FlowError {
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        FlowError {
            category,
            message: message.into(),
        }
    }

    /// Blanks out the secrets that were sent: a provider's error text may
    /// quote them back, and this text reaches stderr and `auth list`.
    pub fn scrub(mut self, secrets: &[&str]) -> Self {
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            self.message = self.message.replace(secret, "***");
        }
        self
    }
}

impl From<HttpError> for FlowError {
    fn from(e: HttpError) -> Self {
        FlowError::new(e.category(), e.to_string())
    }
}

/// Sorts an oauth2 error into our categories. Raw bodies are dropped: they
/// can hold tokens.
pub fn classify(error: RequestTokenError<HttpError, BasicErrorResponse>) -> FlowError {
    match error {
        RequestTokenError::ServerResponse(e) => provider_error(
            e.error().as_ref(),
            e.error_description().map(String::as_str),
        ),
        RequestTokenError::Request(e) => e.into(),
        RequestTokenError::Parse(e, body) => {
            // GitHub answers errors with HTTP 200 and an `error` field.
            if let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(&body) {
                return provider_error(&e.error, e.error_description.as_deref());
            }
            FlowError::new(
                Category::InvalidResponse,
                format!(
                    "the provider's answer is not a valid token response ({} at `{}`)",
                    describe_json_error(e.inner()),
                    e.path()
                ),
            )
        }
        RequestTokenError::Other(message) => FlowError::new(
            Category::InvalidResponse,
            format!(
                "the provider's answer is not a valid token response ({})",
                sanitize(&message)
            ),
        ),
    }
}

#[derive(Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: String,
    pub error_description: Option<String>,
}

/// An OAuth error code from the provider (RFC 6749 §5.2, RFC 8628 §3.5).
pub fn provider_error(code: &str, description: Option<&str>) -> FlowError {
    let category = match code {
        // With GitHub's names for a dead refresh token, code or device code,
        // and OpenID Connect's "the user must sign in again" (Microsoft
        // answers interaction_required to a refresh when MFA is due).
        "invalid_grant"
        | "access_denied"
        | "expired_token"
        | "bad_refresh_token"
        | "bad_verification_code"
        | "incorrect_device_code"
        | "interaction_required"
        | "login_required"
        | "consent_required"
        | "account_selection_required" => Category::ReauthRequired,
        "temporarily_unavailable" | "server_error" => Category::Transient,
        // invalid_client, unauthorized_client, invalid_request, invalid_scope,
        // unsupported_grant_type and anything else: the request was wrong.
        _ => Category::Configuration,
    };
    let mut message = format!("the provider answered `{}`", sanitize(code));
    if let Some(description) = description.map(sanitize).filter(|d| !d.is_empty()) {
        message.push_str(&format!(": {description}"));
    }
    FlowError::new(category, message)
}

/// Provider text shown to a person: printable, one line. Bounded loosely
/// here and tightly by [`clip`] once secrets are scrubbed: a secret cut in
/// two by a bound could no longer be found and blanked out.
pub fn sanitize(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(16 * 1024)
        .collect();
    clean.trim().to_string()
}

/// The bound on provider text in messages and records, applied after scrubbing.
pub fn clip(text: &str) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category as C;
    match e.classify() {
        C::Eof => "truncated JSON".into(),
        C::Syntax => "not JSON".into(),
        C::Io => "unreadable".into(),
        C::Data => {
            let text = e.to_string();
            if text.starts_with("missing field") {
                text.split(" at line")
                    .next()
                    .unwrap_or_default()
                    .to_string()
            } else {
                "a field has the wrong type".into()
            }
        }
    }
}

/// What a person sees and types during a sign-in. Commands implement it;
/// flows never print.
pub trait Interaction {
    /// The authorization URL, printed alone on its own line.
    fn authorization_url(&self, url: &Url, browser_opened: bool);
    /// The device flow's verification URL and user code, each on its own line.
    fn device_code(&self, verification_url: &str, user_code: &str, expires_in: Duration);
    /// The device flow waits for approval; called again with a new interval on `slow_down`.
    fn device_waiting(&self, expires_in: Duration, interval: Duration);
    /// The wait is over, whatever its outcome.
    fn device_done(&self);
    /// A passing problem the flow recovers from.
    fn warn(&self, message: &str);
    /// Asks for the pasted code (the paste flow); the flow reads stdin.
    fn paste_prompt(&self, prompt: &str);
}

pub(crate) fn redirect_cow(url: &Url) -> Cow<'static, oauth2::RedirectUrl> {
    Cow::Owned(oauth2::RedirectUrl::from_url(url.clone()))
}
