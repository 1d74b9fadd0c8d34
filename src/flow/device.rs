//! Device authorization (RFC 8628), for SSH sessions and headless machines.
//!
//! The device authorization request goes through the oauth2 crate. The
//! polling loop is ours: oauth2's loop hides transport errors (it only backs
//! off), and we want the person to see what is happening.
//!
//! What always holds: poll no faster than `interval` (5 s when absent, §3.2),
//! add 5 s on `slow_down` (§3.5), stop at the code's expiry; access_denied and
//! expired_token end the wait with distinct messages.

use std::time::Duration;

use oauth2::StandardDeviceAuthorizationResponse;
use tokio::time::Instant;

use crate::error::Category;
use crate::flow::{
    ClientSettings, FlowError, Interaction, OAuthErrorBody, TokenResponse, classify,
    provider_error, scopes, sender,
};
use crate::http::{Http, HttpError};

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Connection failures while polling are retried with this ceiling on the interval.
const MAX_INTERVAL: Duration = Duration::from_secs(60);
const MAX_CODE_LIFETIME: Duration = Duration::from_secs(24 * 3600);

pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    requested_scopes: &[String],
    ui: &dyn Interaction,
) -> Result<TokenResponse, FlowError> {
    let client = settings.oauth_client();
    let send = sender(http);
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?
        .add_scopes(scopes(requested_scopes))
        .request_async(&send)
        .await
        .map_err(|e| settings.scrub(classify(e), &[]))?;
    let verification = details
        .verification_uri_complete()
        .map(|u| u.secret().clone())
        .unwrap_or_else(|| details.verification_uri().to_string());
    // A code is good for minutes; an absurd `expires_in` is capped, not trusted.
    let lifetime = details.expires_in().min(MAX_CODE_LIFETIME);
    ui.device_code(&verification, details.user_code().secret(), lifetime);

    let token_url = settings.endpoints.token.as_ref().ok_or_else(|| {
        FlowError::new(
            Category::Configuration,
            "the provider has no token endpoint",
        )
    })?;
    let deadline = Instant::now() + lifetime;
    let mut interval = details.interval().max(Duration::from_secs(1));
    ui.device_waiting(lifetime, interval);
    let outcome = async {
        loop {
            tokio::time::sleep(interval).await;
            if Instant::now() >= deadline {
                return Err(expired());
            }
            let request = settings.form_post(
                token_url,
                &[
                    ("grant_type", GRANT_TYPE),
                    ("device_code", details.device_code().secret()),
                ],
            )?;
            let response = match http.send(request).await {
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
            // An `error` field decides, whatever the status: GitHub answers
            // authorization_pending with HTTP 200.
            let error = match serde_json::from_slice::<OAuthErrorBody>(response.body()) {
                Ok(error) => error,
                Err(_) if response.status().is_success() => {
                    return serde_json::from_slice::<TokenResponse>(response.body()).map_err(
                        |_| {
                            FlowError::new(
                                Category::InvalidResponse,
                                "the provider's answer is not a valid token response",
                            )
                        },
                    );
                }
                Err(_) => {
                    return Err(FlowError::new(
                        Category::InvalidResponse,
                        format!(
                            "the provider answered HTTP {} without an OAuth error",
                            response.status()
                        ),
                    ));
                }
            };
            match error.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => {
                    interval += SLOW_DOWN_STEP;
                    ui.device_waiting(deadline.saturating_duration_since(Instant::now()), interval);
                }
                "access_denied" => {
                    return Err(FlowError::new(
                        Category::ReauthRequired,
                        "the sign-in was denied on the verification page",
                    ));
                }
                "expired_token" => return Err(expired()),
                other => {
                    let e = provider_error(other, error.error_description.as_deref());
                    return Err(settings.scrub(e, &[details.device_code().secret()]));
                }
            }
        }
    }
    .await;
    ui.device_done();
    outcome
}

fn expired() -> FlowError {
    FlowError::new(
        Category::ReauthRequired,
        "the code expired before the sign-in was approved",
    )
}
