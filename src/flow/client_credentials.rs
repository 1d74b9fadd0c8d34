//! Client credentials (RFC 6749 §4.4), for machines with a confidential client.

use crate::flow::{ClientSettings, FlowError, TokenResponse, classify, scopes, sender};
use crate::http::{Http, Resend};

pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    requested_scopes: &[String],
) -> Result<TokenResponse, FlowError> {
    if settings.client_secret.is_none() {
        return Err(FlowError::NeedsClientSecret);
    }
    // Asking again only makes another token: safe to resend.
    let send = sender(http, Resend::Idempotent);
    settings
        .oauth_client()
        .exchange_client_credentials()
        .map_err(|_| FlowError::MissingEndpoint("token"))?
        .add_scopes(scopes(requested_scopes))
        .request_async(&send)
        .await
        .map_err(|e| settings.scrub(classify(e), &[]))
}
