//! The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3),
//! read as real providers send it, and turned into a stored credential.
//!
//! What always holds: `expires_in` is accepted as a JSON number or a numeric
//! string; `token_type` in any case; a token that is not made of RFC 6750
//! characters (printable ASCII, no space) is refused before anything is
//! stored; every other string is sanitised.

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, Scope};
use serde::{Deserialize, Deserializer, Serialize};

use crate::flow::FlowError;
use crate::sanitize;
use crate::secret::Secret;
use crate::token::{self, FlowKind, OAuthToken};

#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    access_token: AccessToken,
    #[serde(deserialize_with = "any_case_token_type")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "number_or_string")]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "space_delimited")]
    scope: Option<Vec<Scope>>,
    #[serde(default)]
    id_token: Option<Secret<String>>,
}

impl oauth2::TokenResponse for TokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in
            .map(|s| Duration::from_secs(s.max(0).unsigned_abs()))
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

impl TokenResponse {
    /// The answer as a stored credential. Expiry from `expires_in`, else the
    /// JWT `exp`, else unknown; scopes as granted, else as requested (RFC
    /// 6749 §5.1: an absent `scope` means the requested one).
    pub fn into_token(
        self,
        requested_scopes: &[String],
        now: DateTime<Utc>,
        flow: FlowKind,
    ) -> Result<OAuthToken, FlowError> {
        check_token_chars("access token", self.access_token.secret())?;
        if let Some(refresh) = &self.refresh_token {
            check_token_chars("refresh token", refresh.secret())?;
        }
        let expires_in = oauth2::TokenResponse::expires_in(&self);
        let access = Secret::new(self.access_token.into_secret());
        let expires_at = token::expiry(now, expires_in, &access);
        let token_type = match self.token_type {
            BasicTokenType::Bearer => "Bearer".to_string(),
            other => sanitize::text_max(other.as_ref(), 64),
        };
        Ok(OAuthToken {
            expires_at,
            access_token: access,
            refresh_token: self.refresh_token.map(|r| Secret::new(r.into_secret())),
            token_type,
            scopes: match self.scope {
                Some(granted) => granted
                    .iter()
                    .map(|s| sanitize::text_max(s, 256))
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => requested_scopes.to_vec(),
            },
            id_token: self.id_token,
            obtained_at: now,
            flow: Some(flow),
            origin: None,
            rejected_at: None,
            unknown: serde_json::Map::new(),
        })
    }
}

/// RFC 6750 §2.1: a bearer token is printable ASCII without spaces. A CR LF
/// in a token would let `curl -H "Authorization: Bearer $(credctl auth
/// token x)"` send a header of the provider's choosing.
fn check_token_chars(what: &str, token: &str) -> Result<(), FlowError> {
    if token.is_empty() {
        return Err(FlowError::NotATokenResponse {
            reason: format!("the {what} is empty"),
        });
    }
    if let Some(bad) = token.bytes().find(|b| !(0x21..=0x7e).contains(b)) {
        return Err(FlowError::NotATokenResponse {
            reason: format!(
                "the {what} holds byte 0x{bad:02x}, which RFC 6750 does not allow in a token; nothing was stored"
            ),
        });
    }
    Ok(())
}

fn any_case_token_type<'de, D: Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    let value = String::deserialize(d)?;
    Ok(match value.to_ascii_lowercase().as_str() {
        "bearer" => BasicTokenType::Bearer,
        "mac" => BasicTokenType::Mac,
        _ => BasicTokenType::Extension(value),
    })
}

/// Some providers send `expires_in` as a string (`"3600"`).
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lifetime {
        Int(i64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Lifetime>::deserialize(d)? {
        None => None,
        Some(Lifetime::Int(n)) => Some(n),
        Some(Lifetime::Float(f)) if f.is_finite() => Some(f as i64),
        Some(Lifetime::Float(_)) => {
            return Err(serde::de::Error::custom("expires_in is not a number"));
        }
        Some(Lifetime::Text(s)) => Some(
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f as i64)
                .ok_or_else(|| serde::de::Error::custom("expires_in is not a number"))?,
        ),
    })
}

fn space_delimited<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Scope>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| {
        s.split_whitespace()
            .map(|scope| Scope::new(scope.to_string()))
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> TokenResponse {
        serde_json::from_str(json).expect("token response")
    }

    #[test]
    fn expires_in_as_a_string_and_token_type_in_any_case() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("time");
        let t = parse(
            r#"{"access_token":"a","token_type":"BEARER","expires_in":"3600","scope":"x y"}"#,
        )
        .into_token(&[], now, FlowKind::Device)
        .expect("token");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_at, "2026-01-01T01:00:00Z".parse().ok());
        assert_eq!(t.scopes, ["x", "y"]);
        let t = parse(r#"{"access_token":"a","token_type":"bearer","expires_in":60.0}"#)
            .into_token(&["s".into()], now, FlowKind::Device)
            .expect("token");
        assert_eq!(t.expires_at, "2026-01-01T00:01:00Z".parse().ok());
        assert_eq!(t.scopes, ["s"]);
    }

    #[test]
    fn a_token_with_cr_lf_is_refused() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("time");
        let e = parse(r#"{"access_token":"a\r\nX-Evil: 1","token_type":"bearer"}"#)
            .into_token(&[], now, FlowKind::Device)
            .expect_err("refused");
        assert!(e.to_string().contains("0x0d"), "{e}");
        let e = parse(r#"{"access_token":"ok","refresh_token":"r t","token_type":"bearer"}"#)
            .into_token(&[], now, FlowKind::Device)
            .expect_err("refused");
        assert!(e.to_string().contains("refresh token"), "{e}");
    }
}
