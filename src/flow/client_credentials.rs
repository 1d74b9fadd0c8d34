//! Client credentials (RFC 6749 §4.4), for machines with a confidential client.

use crate::error::Category;
use crate::flow::{ClientSettings, FlowError, TokenResponse, classify, scopes, sender};
use crate::http::Http;

pub async fn run(
    settings: &ClientSettings,
    http: &Http,
    requested_scopes: &[String],
) -> Result<TokenResponse, FlowError> {
    if settings.client_secret.is_none() {
        return Err(FlowError::new(
            Category::Configuration,
            "the client_credentials flow needs a confidential client: set client_secret in the config",
        ));
    }
    let client = settings.oauth_client();
    let send = sender(http);
    client
        .exchange_client_credentials()
        .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?
        .add_scopes(scopes(requested_scopes))
        .request_async(&send)
        .await
        .map_err(|e| settings.scrub(classify(e), &[]))
}
