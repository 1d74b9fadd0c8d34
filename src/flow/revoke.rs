//! Token revocation (RFC 7009), built by hand: oauth2 refuses a revocation
//! endpoint that is not https, even on loopback, and the tests run on
//! plain http on 127.0.0.1.

use url::Url;

use crate::flow::{ClientSettings, FlowError, OAuthErrorBody, provider_error};
use crate::http::Http;
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
        &[("token", token.expose()), ("token_type_hint", hint)],
    )?;
    let response = http.send(request).await?;
    if response.status().is_success() {
        return Ok(());
    }
    let error = match serde_json::from_slice::<OAuthErrorBody>(response.body()) {
        Ok(e) => provider_error(&e.error, e.error_description.as_deref()),
        Err(_) => FlowError::new(
            crate::error::Category::InvalidResponse,
            format!(
                "the revocation endpoint answered HTTP {}",
                response.status()
            ),
        ),
    };
    Err(settings.scrub(error, &[token.expose()]))
}
