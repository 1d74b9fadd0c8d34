//! One refresh request (RFC 6749 §6). The single-flight rules around it live
//! in the provider; this sends it once, and never resends it where the
//! server may have acted on it (see `http::retry`).

use oauth2::RefreshToken;

use crate::flow::{ClientSettings, FlowError, TokenResponse, classify, sender};
use crate::http::{Http, Resend};
use crate::secret::Secret;

pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    refresh_token: &Secret<String>,
) -> Result<TokenResponse, FlowError> {
    let send = sender(http, Resend::SpendsGrant);
    // The HTTP boundary: oauth2 puts it in the form.
    let token = RefreshToken::new(refresh_token.clone().expose());
    settings
        .oauth_client()
        .exchange_refresh_token(&token)
        .map_err(|_| FlowError::MissingEndpoint("token"))?
        .request_async(&send)
        .await
        .map_err(|e| settings.scrub(classify(e), &[refresh_token.as_deref()]))
}
