//! Device authorization (RFC 8628), for SSH sessions and headless machines.
//!
//! The device authorization request goes through the oauth2 crate. The
//! polling loop is ours, because the oauth2 crate's loop backs off silently
//! on every client error (the person never hears why it waits), and it
//! takes GitHub's HTTP 200 `authorization_pending` for a parse failure,
//! which ends every GitHub sign-in.
//!
//! What always holds: poll no faster than `interval` (5 s when absent, §3.2),
//! add 5 s on `slow_down` (§3.5), stop at the code's expiry; access_denied and
//! expired_token end the wait with distinct messages; the device code is
//! sent again only after a connection that never opened, never after one
//! that may have reached the server.

use std::time::Duration;

use oauth2::StandardDeviceAuthorizationResponse;
use tokio::time::Instant;
use url::Url;

use crate::flow::{
    ClientSettings, FlowError, OAuthErrorBody, TokenResponse, classify, describe_json_error,
    scopes, sender,
};
use crate::http::{Http, HttpError, Resend, check_url};
use crate::sanitize;
use crate::secret::Secret;
use crate::ui::Interaction;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Connection failures while polling are retried with this ceiling on the interval.
const MAX_INTERVAL: Duration = Duration::from_secs(60);
const MAX_CODE_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What one poll of the token endpoint said.
enum Poll {
    Done(TokenResponse),
    Pending,
    SlowDown,
}

pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    requested_scopes: &[String],
    ui: &dyn Interaction,
) -> Result<TokenResponse, FlowError> {
    let details = authorize(settings, http, requested_scopes).await?;
    let verification = verification_url(&details);
    if let Some(warning) = verification_warning(&verification, settings) {
        ui.warn(&warning);
    }
    // A code is good for minutes; an absurd `expires_in` is capped, not trusted.
    let lifetime = details.expires_in().min(MAX_CODE_LIFETIME);
    let user_code = sanitize::text_max(details.user_code().secret(), 64);
    ui.device_code(verification.as_str(), &user_code, lifetime);
    let token_url = settings
        .endpoints
        .token
        .as_ref()
        .ok_or(FlowError::MissingEndpoint("token"))?;
    // A provider's interval is a floor, but not one to wait past the code's life.
    let interval = details
        .interval()
        .clamp(Duration::from_secs(1), MAX_INTERVAL);
    ui.device_waiting(lifetime, interval);
    let device_code = Secret::new(details.device_code().secret().as_str());
    let outcome = wait(
        settings,
        http,
        token_url,
        device_code,
        lifetime,
        interval,
        ui,
    )
    .await;
    ui.wait_done();
    outcome
}

/// Where the person goes: the complete form when the provider gave one that
/// is a URL (RFC 8628 §3.3.1), else the plain one. Both come from the
/// provider, so both pass the sanitiser (through the URL parser).
fn verification_url(details: &StandardDeviceAuthorizationResponse) -> Url {
    details
        .verification_uri_complete()
        .and_then(|u| Url::parse(&sanitize::text_max(u.secret(), 2048)).ok())
        .unwrap_or_else(|| details.verification_uri().url().clone())
}

/// A warning when the verification page is not https (loopback aside), or
/// not on the host of the device endpoint the code came from: a hostile
/// answer could send the person to sign in somewhere else.
fn verification_warning(page: &Url, settings: &ClientSettings) -> Option<String> {
    if check_url(page).is_err() {
        return Some(format!(
            "the provider sent a verification page that is not https: {page}; do not sign in there unless you trust it"
        ));
    }
    let device_host = settings
        .endpoints
        .device_authorization
        .as_ref()?
        .host_str()?;
    match page.host_str() {
        Some(host) if host.eq_ignore_ascii_case(device_host) => None,
        host => Some(format!(
            "the verification page is on {}, not on {device_host} where the code came from; do not sign in there unless you trust it",
            host.unwrap_or("no host")
        )),
    }
}

/// The device authorization request (RFC 8628 §3.1).
async fn authorize(
    settings: &ClientSettings,
    http: &Http,
    requested_scopes: &[String],
) -> Result<StandardDeviceAuthorizationResponse, FlowError> {
    // Asking again only makes a new code: safe to resend.
    let send = sender(http, Resend::Idempotent);
    settings
        .oauth_client()
        .exchange_device_code()
        .map_err(|_| FlowError::MissingEndpoint("device authorization"))?
        .add_scopes(scopes(requested_scopes))
        .request_async(&send)
        .await
        .map_err(|e| settings.scrub(classify(e), &[]))
}

/// Polls until the sign-in is approved, denied, or the code expires.
async fn wait(
    settings: &ClientSettings,
    http: &Http,
    token_url: &Url,
    device_code: Secret<&str>,
    lifetime: Duration,
    mut interval: Duration,
    ui: &dyn Interaction,
) -> Result<TokenResponse, FlowError> {
    let deadline = Instant::now() + lifetime;
    loop {
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        if Instant::now() >= deadline {
            return Err(FlowError::DeviceExpired);
        }
        let request = settings.form_post(
            token_url,
            &[
                ("grant_type", Secret::new(GRANT_TYPE)),
                ("device_code", device_code.clone()),
            ],
        )?;
        let response = match http.send(request, Resend::SpendsGrant).await {
            Ok(response) => response,
            Err(e @ HttpError::Connect { .. }) => {
                // Nothing was sent; the code is still good until it expires.
                interval = (interval * 2).min(MAX_INTERVAL);
                ui.warn(&format!(
                    "{e}; still waiting, next try in {}s",
                    interval.as_secs()
                ));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match read_poll(response)
            .map_err(|e| settings.scrub(e, std::slice::from_ref(&device_code)))?
        {
            Poll::Done(tokens) => return Ok(tokens),
            Poll::Pending => {}
            Poll::SlowDown => {
                interval = (interval + SLOW_DOWN_STEP).min(MAX_INTERVAL);
                ui.device_waiting(deadline.saturating_duration_since(Instant::now()), interval);
            }
        }
    }
}

/// Reads one poll's answer. An `error` field decides, whatever the status:
/// GitHub answers authorization_pending with HTTP 200.
fn read_poll(response: oauth2::HttpResponse) -> Result<Poll, FlowError> {
    let error = match serde_json::from_slice::<OAuthErrorBody>(response.body()) {
        Ok(error) => error,
        Err(_) if response.status().is_success() => {
            return serde_json::from_slice::<TokenResponse>(response.body())
                .map(Poll::Done)
                .map_err(|e| FlowError::NotATokenResponse {
                    reason: describe_json_error(&e),
                });
        }
        Err(_) => {
            return Err(FlowError::UnexpectedStatus {
                endpoint: "token",
                status: response.status(),
            });
        }
    };
    match error.error.as_str() {
        "authorization_pending" => Ok(Poll::Pending),
        "slow_down" => Ok(Poll::SlowDown),
        "access_denied" => Err(FlowError::DeviceDenied),
        "expired_token" => Err(FlowError::DeviceExpired),
        _ => Err(error.into()),
    }
}
