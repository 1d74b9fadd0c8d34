//! Authorization server metadata: OpenID Connect Discovery 1.0, then RFC 8414.
//!
//! What always holds: the document's `issuer` must equal the configured issuer
//! (OpenID Discovery §4.3, RFC 8414 §3.3), and every endpoint it names must
//! pass the same https-or-loopback rule as configured ones.

use serde::Deserialize;
use url::Url;

use crate::flow::{Endpoints, FlowError, Issuer};
use crate::http::{Http, check_url};
use crate::sanitize;
use crate::token::Category;

#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    device_authorization_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    introspection_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub endpoints: Endpoints,
    /// RFC 9207: the provider promises `iss` in every authorization response.
    pub iss_in_callback: bool,
}

/// The URLs to try, in order: `<issuer>/.well-known/openid-configuration`,
/// then RFC 8414's `/.well-known/oauth-authorization-server<issuer path>`.
pub fn candidates(issuer: &Issuer) -> Vec<Url> {
    let base = issuer.as_str().trim_end_matches('/');
    let mut urls = Vec::new();
    if let Ok(u) = Url::parse(&format!("{base}/.well-known/openid-configuration")) {
        urls.push(u);
    }
    let mut rfc8414 = issuer.url().clone();
    let path = issuer.url().path().trim_end_matches('/').to_string();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    rfc8414.set_query(None);
    urls.push(rfc8414);
    urls
}

/// Fetches the metadata. The error says which URLs were tried and why; it
/// is transient only when every attempt failed for a transient reason.
pub async fn discover(http: &Http, issuer: &Issuer) -> Result<Discovered, FlowError> {
    let mut attempts = Vec::new();
    let mut transient = true;
    for url in candidates(issuer) {
        let (status, body) = match http.get_json(&url).await {
            Ok(answer) => answer,
            // The other well-known URL is on the same host, or needs the
            // same trust store: no better.
            Err(
                e @ (crate::http::HttpError::Certificate { .. }
                | crate::http::HttpError::TrustStore { .. }),
            ) => return Err(e.into()),
            Err(e) => {
                transient &= e.category() == Category::Transient;
                attempts.push(format!("{url}: {e}"));
                continue;
            }
        };
        transient = false;
        if !status.is_success() {
            attempts.push(format!("{url}: HTTP {status}"));
            continue;
        }
        match serde_json::from_slice::<Metadata>(&body) {
            Ok(meta) => return read(url, issuer, meta),
            Err(e) => attempts.push(format!(
                "{url}: not a metadata document ({})",
                crate::flow::describe_json_error(&e)
            )),
        }
    }
    Err(FlowError::Discovery {
        attempts,
        transient,
    })
}

/// Checks a metadata document found at `url` and takes its endpoints.
fn read(url: Url, issuer: &Issuer, meta: Metadata) -> Result<Discovered, FlowError> {
    // OpenID Discovery §4.3: exactly the issuer asked for.
    if !issuer.is(&meta.issuer) {
        return Err(FlowError::DiscoveredIssuer {
            url: url.to_string(),
            got: sanitize::text_max(&meta.issuer, 200),
            expected: issuer.to_string(),
        });
    }
    let endpoint = |key: &'static str, value: Option<String>| -> Result<Option<Url>, FlowError> {
        let Some(value) = value else { return Ok(None) };
        let bad = |problem: String| FlowError::DiscoveredEndpoint {
            url: url.to_string(),
            key,
            problem: sanitize::text_max(&problem, 300),
        };
        let parsed = Url::parse(&value).map_err(|e| bad(format!("not a URL ({e})")))?;
        check_url(&parsed).map_err(bad)?;
        Ok(Some(parsed))
    };
    Ok(Discovered {
        endpoints: Endpoints {
            authorization: endpoint("authorization_endpoint", meta.authorization_endpoint)?,
            token: endpoint("token_endpoint", meta.token_endpoint)?,
            device_authorization: endpoint(
                "device_authorization_endpoint",
                meta.device_authorization_endpoint,
            )?,
            revocation: endpoint("revocation_endpoint", meta.revocation_endpoint)?,
            userinfo: endpoint("userinfo_endpoint", meta.userinfo_endpoint)?,
            introspection: endpoint("introspection_endpoint", meta.introspection_endpoint)?,
        },
        iss_in_callback: meta.authorization_response_iss_parameter_supported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls_follow_both_specs() {
        let urls = candidates(&Issuer::parse("https://id.example.com/tenant/a").expect("url"));
        let urls: Vec<_> = urls.iter().map(Url::as_str).collect();
        assert_eq!(
            urls,
            [
                "https://id.example.com/tenant/a/.well-known/openid-configuration",
                "https://id.example.com/.well-known/oauth-authorization-server/tenant/a",
            ]
        );
        let urls = candidates(&Issuer::parse("http://127.0.0.1:4000").expect("url"));
        assert_eq!(
            urls[1].as_str(),
            "http://127.0.0.1:4000/.well-known/oauth-authorization-server"
        );
    }
}
