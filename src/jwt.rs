//! Reading the claims of a JWT (RFC 7519) without verifying it.
//!
//! credctl reads two things from JWTs: the `exp` of an access token, for its
//! lifetime, and the identity claims of an id_token that arrived straight
//! from the token endpoint over TLS (OpenID Connect Core §3.1.3.7 allows
//! skipping the signature check then). Neither is trusted for anything else:
//! the provider that issued a token enforces it.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The claims of a compact JWS (`header.payload.signature`); `None` for
/// anything else.
pub fn claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The `exp` claim as a time.
pub fn expiry(token: &str) -> Option<DateTime<Utc>> {
    let claims = claims(token)?;
    let exp = claims.get("exp")?;
    let secs = exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))?;
    DateTime::from_timestamp(secs, 0)
}

#[cfg(test)]
pub(crate) fn encode(claims: &str) -> String {
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig",
        enc.encode(r#"{"alg":"none"}"#),
        enc.encode(claims)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exp_and_refuses_what_is_not_a_jws() {
        assert_eq!(
            expiry(&encode(r#"{"exp":1767229200}"#)),
            "2026-01-01T01:00:00Z".parse().ok()
        );
        for token in [
            "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "a.b.c",
            "a.b",
            &encode(r#"{"sub":"x"}"#),
            &encode(r#"{"exp":"soon"}"#),
            &format!("{}.extra", encode(r#"{"exp":1}"#)),
        ] {
            assert_eq!(expiry(token), None, "{token}");
        }
    }
}
