//! One refresh request (RFC 6749 §6). The single-flight rules around it live
//! in the provider; this sends it once, with the retry rules of `http.rs`.

use oauth2::RefreshToken;

use crate::error::Category;
use crate::flow::{ClientSettings, FlowError, TokenResponse, classify, sender};
use crate::http::Http;
use crate::secret::Secret;

pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    refresh_token: &Secret<String>,
) -> Result<TokenResponse, FlowError> {
    let client = settings.oauth_client();
    let send = sender(http);
    let token = RefreshToken::new(refresh_token.expose().clone());
    client
        .exchange_refresh_token(&token)
        .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?
        .request_async(&send)
        .await
        .map_err(|e| settings.scrub(classify(e), &[refresh_token.expose()]))
}
