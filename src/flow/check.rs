//! Asking a provider whether an access token is still accepted: OpenID
//! Connect userinfo (Core §5.3), else token introspection (RFC 7662).
//!
//! What always holds: a transport failure or an answer that says nothing
//! about the token is an error, never "rejected" — only a 401/403 from
//! userinfo or `"active": false` from introspection is.

use serde::Deserialize;
use url::Url;

use crate::flow::{ClientSettings, FlowError};
use crate::http::{Cause, Http, HttpError, Resend};
use crate::secret::Secret;

/// What the provider said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Rejected(String),
}

/// GET userinfo with the token as a bearer.
pub async fn userinfo(http: &Http, url: &Url, token: Secret<&str>) -> Result<Verdict, FlowError> {
    let request = oauth2::http::Request::builder()
        .method(oauth2::http::Method::GET)
        .uri(url.as_str())
        .header(oauth2::http::header::ACCEPT, "application/json")
        // The HTTP boundary: the token in the Authorization header.
        .header(
            oauth2::http::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        )
        .body(Vec::new())
        .map_err(|e| HttpError::Build {
            url: url.to_string(),
            source: Cause::new(e),
        })?;
    match http.send(request, Resend::Idempotent).await {
        Ok(response) if response.status().is_success() => Ok(Verdict::Valid),
        Ok(response) if matches!(response.status().as_u16(), 401 | 403) => Ok(Verdict::Rejected(
            format!("the userinfo endpoint answered HTTP {}", response.status()),
        )),
        Ok(response) => Err(FlowError::UnexpectedStatus {
            endpoint: "userinfo",
            status: response.status(),
        }),
        Err(HttpError::UnexpectedBody { status, .. }) if matches!(status.as_u16(), 401 | 403) => {
            Ok(Verdict::Rejected(format!(
                "the userinfo endpoint answered HTTP {status}"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Introspection {
    active: bool,
}

/// POST the token to the introspection endpoint, as the client.
pub async fn introspect(
    settings: &ClientSettings,
    http: &Http,
    url: &Url,
    token: Secret<&str>,
) -> Result<Verdict, FlowError> {
    let request = settings.form_post(
        url,
        &[
            ("token", token.clone()),
            ("token_type_hint", Secret::new("access_token")),
        ],
    )?;
    let response = http.send(request, Resend::Idempotent).await?;
    if !response.status().is_success() {
        let error = match serde_json::from_slice::<crate::flow::OAuthErrorBody>(response.body()) {
            Ok(e) => e.into(),
            Err(_) => FlowError::UnexpectedStatus {
                endpoint: "introspection",
                status: response.status(),
            },
        };
        return Err(settings.scrub(error, &[token]));
    }
    let answer: Introspection =
        serde_json::from_slice(response.body()).map_err(|e| FlowError::NotATokenResponse {
            reason: format!(
                "the introspection answer is not RFC 7662 ({})",
                crate::flow::describe_json_error(&e)
            ),
        })?;
    Ok(if answer.active {
        Verdict::Valid
    } else {
        Verdict::Rejected("introspection says the token is not active".into())
    })
}
