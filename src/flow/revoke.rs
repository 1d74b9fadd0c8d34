//! Token revocation (RFC 7009), built by hand: oauth2 refuses a revocation
//! endpoint that is not https, even on loopback, and the tests run on
//! plain http on 127.0.0.1.

use url::Url;

use crate::flow::{ClientSettings, FlowError, OAuthErrorBody};
use crate::http::{Http, Resend};
use crate::secret::Secret;

/// Revokes one token. RFC 7009 §2.2: 200 also for a token already invalid.
pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    endpoint: &Url,
    token: &Secret<String>,
    hint: &str,
) -> Result<(), FlowError> {
    let request = settings.form_post(
        endpoint,
        &[
            ("token", token.as_deref()),
            ("token_type_hint", Secret::new(hint)),
        ],
    )?;
    // Revoking twice changes nothing.
    let response = http.send(request, Resend::Idempotent).await?;
    if response.status().is_success() {
        return Ok(());
    }
    let error = match serde_json::from_slice::<OAuthErrorBody>(response.body()) {
        Ok(e) => e.into(),
        Err(_) => FlowError::UnexpectedStatus {
            endpoint: "revocation",
            status: response.status(),
        },
    };
    Err(settings.scrub(error, &[token.as_deref()]))
}
