//! The credential model and its freshness (valid / expiring / expired / unknown).
//!
//! A credential is either an OAuth token set or a static token (an API key or a
//! pasted token). Expiry comes from `expires_in`, else from the JWT `exp` claim
//! of the access token, else it is unknown — never a guessed lifetime. All time
//! arithmetic takes `now` as a parameter so that tests can fix the clock.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jwt;
use crate::name::CredentialId;
use crate::secret::Secret;
use crate::timefmt;

/// The default refresh margin: refresh when less than this is left (capped at
/// half of the token's whole lifetime, so short-lived tokens are not refreshed
/// on every call).
pub const DEFAULT_MARGIN: TimeDelta = TimeDelta::minutes(5);

/// How a credential was obtained; a client_credentials token is renewed by asking again.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Authorization code with PKCE, redirected to a listener on 127.0.0.1.
    Browser,
    /// Device authorization (RFC 8628), for SSH sessions and headless machines.
    Device,
    /// Authorization code with PKCE, the code pasted back by hand.
    Paste,
    /// Client credentials, for machines with a confidential client.
    #[value(name = "client_credentials")]
    ClientCredentials,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Browser => "browser",
            FlowKind::Device => "device",
            FlowKind::Paste => "paste",
            FlowKind::ClientCredentials => "client_credentials",
        }
    }
}

impl fmt::Display for FlowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Credential {
    #[serde(rename = "oauth")]
    OAuth(OAuthToken),
    #[serde(rename = "static")]
    Static(StaticToken),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthToken {
    pub access_token: Secret<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret<String>>,
    pub token_type: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret<String>>,
    #[serde(default, deserialize_with = "timefmt::stored_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "timefmt::stored")]
    pub obtained_at: DateTime<Utc>,
    /// How the token was obtained; a client_credentials token is renewed by asking again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowKind>,
    /// Where it came from: refresh and revocation go only there. Absent in
    /// files written before credctl recorded it; the first refresh adds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Box<Origin>>,
    /// When a server rejected this access token (`git-credential erase`):
    /// it is then treated as expired, and the next use refreshes it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "timefmt::stored_opt"
    )]
    pub rejected_at: Option<DateTime<Utc>>,
    /// Fields written by a newer credctl, kept on rewrite.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Where a credential came from: the issuer (if any), the token and
/// revocation endpoints and the client that were used. Never the client
/// secret, which stays in config.toml.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    pub client_id: String,
    /// Where `auth status --check` asks (OpenID Connect userinfo, RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// Fields written by a newer credctl, kept on rewrite.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaticToken {
    pub token: Secret<String>,
    #[serde(default, deserialize_with = "timefmt::stored_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "timefmt::stored")]
    pub obtained_at: DateTime<Utc>,
    /// When a server rejected it (`git-credential erase`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "timefmt::stored_opt"
    )]
    pub rejected_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// How usable a credential is at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// More than the margin is left.
    Valid,
    /// Still valid, but less than the margin is left: refresh now.
    Expiring,
    Expired,
    /// No expiry is known (most API keys): not expired.
    Unknown,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Valid => "valid",
            Freshness::Expiring => "expiring",
            Freshness::Expired => "expired",
            Freshness::Unknown => "unknown",
        }
    }
}

impl Credential {
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::OAuth(_) => "oauth",
            Credential::Static(_) => "static",
        }
    }

    /// The token `auth token` prints.
    pub fn access_token(&self) -> &Secret<String> {
        match self {
            Credential::OAuth(t) => &t.access_token,
            Credential::Static(t) => &t.token,
        }
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Credential::OAuth(t) => t.expires_at,
            Credential::Static(t) => t.expires_at,
        }
    }

    pub fn obtained_at(&self) -> DateTime<Utc> {
        match self {
            Credential::OAuth(t) => t.obtained_at,
            Credential::Static(t) => t.obtained_at,
        }
    }

    pub fn refresh_token(&self) -> Option<&Secret<String>> {
        match self {
            Credential::OAuth(t) => t.refresh_token.as_ref(),
            Credential::Static(_) => None,
        }
    }

    /// Whether new tokens can be had without the person: with a refresh
    /// token, or by asking again with the client credentials.
    pub fn can_refresh(&self) -> bool {
        match self {
            Credential::OAuth(t) => {
                t.refresh_token.is_some() || t.flow == Some(FlowKind::ClientCredentials)
            }
            Credential::Static(_) => false,
        }
    }

    /// Where an OAuth credential came from, when recorded.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Credential::OAuth(t) => t.origin.as_deref(),
            Credential::Static(_) => None,
        }
    }

    pub fn scopes(&self) -> &[String] {
        match self {
            Credential::OAuth(t) => &t.scopes,
            Credential::Static(_) => &[],
        }
    }

    /// The margin for this token: min(5 minutes, half its lifetime), raised to
    /// `min_valid` when the caller asks for more.
    pub fn margin(&self, min_valid: Option<TimeDelta>) -> TimeDelta {
        let default = match self.expires_at() {
            Some(expires_at) => {
                let lifetime = (expires_at - self.obtained_at()).max(TimeDelta::zero());
                DEFAULT_MARGIN.min(lifetime / 2)
            }
            None => DEFAULT_MARGIN,
        };
        match min_valid {
            Some(asked) => default.max(asked),
            None => default,
        }
    }

    /// When a server rejected the access token, if one did.
    pub fn rejected_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Credential::OAuth(t) => t.rejected_at,
            Credential::Static(t) => t.rejected_at,
        }
    }

    /// Marks the access token as rejected by a server.
    pub fn reject(&mut self, now: DateTime<Utc>) {
        match self {
            Credential::OAuth(t) => t.rejected_at = Some(now),
            Credential::Static(t) => t.rejected_at = Some(now),
        }
    }

    /// The token type for an `Authorization` header: `Bearer` however the
    /// provider spelled it, another type as sent, `Bearer` for a static token.
    pub fn token_type(&self) -> &str {
        match self {
            Credential::OAuth(t) if !t.token_type.eq_ignore_ascii_case("bearer") => &t.token_type,
            _ => "Bearer",
        }
    }

    /// Who the credential is, from the id_token that came with it.
    pub fn identity(&self) -> Option<Identity> {
        let Credential::OAuth(t) = self else {
            return None;
        };
        let claims = t.id_token.as_ref()?.as_deref().map(jwt::claims).expose()?;
        let text = |key: &str| {
            claims
                .get(key)
                .and_then(Value::as_str)
                .map(|v| crate::sanitize::text_max(v, 256))
                .filter(|v| !v.is_empty())
        };
        let sub = text("sub")?;
        let name = ["email", "preferred_username", "name"]
            .into_iter()
            .find_map(text)
            .unwrap_or_else(|| sub.clone());
        Some(Identity { sub, name })
    }

    pub fn freshness(&self, now: DateTime<Utc>, min_valid: Option<TimeDelta>) -> Freshness {
        // A token a server rejected is as good as expired.
        if self.rejected_at().is_some() {
            return Freshness::Expired;
        }
        let Some(expires_at) = self.expires_at() else {
            return Freshness::Unknown;
        };
        let left = expires_at - now;
        if left <= TimeDelta::zero() {
            Freshness::Expired
        } else if left < self.margin(min_valid) {
            Freshness::Expiring
        } else {
            Freshness::Valid
        }
    }
}

/// Who a credential is, from the id_token's claims (sanitised): `sub`, and
/// the first of `email`, `preferred_username` and `name`, else `sub`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub sub: String,
    pub name: String,
}

/// What is kept beside the tokens, and survives logging in again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(deserialize_with = "timefmt::stored")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "timefmt::stored")]
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub refresh_count: u64,
    #[serde(default, deserialize_with = "timefmt::stored_opt")]
    pub last_refresh_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

impl Metadata {
    pub fn new(now: DateTime<Utc>) -> Self {
        Metadata {
            created_at: now,
            updated_at: now,
            refresh_count: 0,
            last_refresh_at: None,
            unknown: Map::new(),
        }
    }
}

/// What kind of failure a refresh or login met; it decides retries and what
/// `auth list` shows. Stored in the credential's error record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Network trouble or an unavailable provider: wait and retry.
    Transient,
    /// The grant is gone (refresh token rejected or absent): log in again.
    ReauthRequired,
    /// The client or provider configuration is wrong: fix the config.
    Configuration,
    /// The provider answered success with something that is not a token response.
    InvalidResponse,
    /// The local store failed.
    Storage,
}

impl Category {
    /// A short phrase for `auth list`.
    pub fn describe(self) -> &'static str {
        match self {
            Category::Transient => "temporary failure",
            Category::ReauthRequired => "re-login required",
            Category::Configuration => "configuration error",
            Category::InvalidResponse => "invalid response",
            Category::Storage => "storage error",
        }
    }
}

/// The last failure met while refreshing. The message never holds a secret.
/// The store keeps it in a file of its own beside the credential, so that a
/// failed refresh leaves the credential file byte for byte as it was.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LastError {
    pub category: Category,
    #[serde(deserialize_with = "timefmt::stored")]
    pub at: DateTime<Utc>,
    pub message: String,
}

/// One stored credential: its id, the tokens, and their metadata.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: CredentialId,
    pub credential: Credential,
    pub metadata: Metadata,
    /// Top-level fields of the file written by a newer credctl, kept on rewrite.
    pub unknown: Map<String, Value>,
}

impl Entry {
    /// The command that makes this credential anew: a static token is
    /// stored again with `--with-token`.
    pub fn login_command(&self) -> String {
        match self.credential {
            Credential::OAuth(_) => self.id.login_command(),
            Credential::Static(_) => format!("{} --with-token", self.id.login_command()),
        }
    }

    /// A credential logged in afresh: replaces the tokens of `previous` (if
    /// any) but keeps its metadata — creation time, refresh history and any
    /// field a newer credctl added.
    pub fn login(
        id: CredentialId,
        credential: Credential,
        previous: Option<Entry>,
        now: DateTime<Utc>,
    ) -> Entry {
        match previous {
            Some(mut previous) => {
                previous.credential = credential;
                previous.metadata.updated_at = now;
                previous
            }
            None => Entry {
                id,
                credential,
                metadata: Metadata::new(now),
                unknown: Map::new(),
            },
        }
    }
}

/// The expiry of a freshly issued token: from `expires_in` if the provider
/// sent it, else from the JWT `exp` claim of the token, else unknown.
pub fn expiry(
    now: DateTime<Utc>,
    expires_in: Option<std::time::Duration>,
    access_token: &Secret<String>,
) -> Option<DateTime<Utc>> {
    if let Some(expires_in) = expires_in {
        return TimeDelta::from_std(expires_in)
            .ok()
            .and_then(|d| now.checked_add_signed(d));
    }
    access_token.as_deref().map(jwt::expiry).expose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test time")
            .with_timezone(&Utc)
    }

    fn oauth(obtained: &str, expires: Option<&str>) -> Credential {
        Credential::OAuth(OAuthToken {
            access_token: Secret::new("at".into()),
            refresh_token: Some(Secret::new("rt".into())),
            token_type: "Bearer".into(),
            scopes: vec![],
            id_token: None,
            expires_at: expires.map(at),
            obtained_at: at(obtained),
            flow: None,
            origin: None,
            rejected_at: None,
            unknown: Map::new(),
        })
    }

    fn jwt(claims: &str) -> Secret<String> {
        Secret::new(jwt::encode(claims))
    }

    #[test]
    fn an_hour_token_is_refreshed_in_its_last_five_minutes() {
        let c = oauth("2026-01-01T00:00:00Z", Some("2026-01-01T01:00:00Z"));
        assert_eq!(c.margin(None), TimeDelta::minutes(5));
        let f = |now| c.freshness(at(now), None);
        assert_eq!(f("2026-01-01T00:54:59Z"), Freshness::Valid);
        assert_eq!(f("2026-01-01T00:55:01Z"), Freshness::Expiring);
        assert_eq!(f("2026-01-01T01:00:00Z"), Freshness::Expired);
    }

    #[test]
    fn a_sixty_second_token_is_refreshed_with_thirty_seconds_left_not_always() {
        let c = oauth("2026-01-01T00:00:00Z", Some("2026-01-01T00:01:00Z"));
        assert_eq!(c.margin(None), TimeDelta::seconds(30));
        assert_eq!(
            c.freshness(at("2026-01-01T00:00:29Z"), None),
            Freshness::Valid
        );
        assert_eq!(
            c.freshness(at("2026-01-01T00:00:31Z"), None),
            Freshness::Expiring
        );
    }

    #[test]
    fn min_valid_asks_for_more_never_less() {
        let c = oauth("2026-01-01T00:00:00Z", Some("2026-01-01T01:00:00Z"));
        assert_eq!(
            c.margin(Some(TimeDelta::minutes(10))),
            TimeDelta::minutes(10)
        );
        assert_eq!(c.margin(Some(TimeDelta::seconds(1))), TimeDelta::minutes(5));
        assert_eq!(
            c.freshness(at("2026-01-01T00:51:00Z"), Some(TimeDelta::minutes(10))),
            Freshness::Expiring
        );
    }

    #[test]
    fn no_expiry_is_unknown_not_expired() {
        let c = oauth("2026-01-01T00:00:00Z", None);
        assert_eq!(
            c.freshness(at("2030-01-01T00:00:00Z"), None),
            Freshness::Unknown
        );
    }

    #[test]
    fn expires_in_wins_over_the_jwt_exp() {
        let now = at("2026-01-01T00:00:00Z");
        let token = jwt(r#"{"exp":1767229200}"#); // 2026-01-01T01:00:00Z
        assert_eq!(
            expiry(now, Some(std::time::Duration::from_secs(60)), &token),
            Some(at("2026-01-01T00:01:00Z"))
        );
        assert_eq!(expiry(now, None, &token), Some(at("2026-01-01T01:00:00Z")));
    }

    #[test]
    fn an_opaque_token_has_unknown_expiry() {
        let now = at("2026-01-01T00:00:00Z");
        let token = Secret::new("gho_16C7e42F292c6912E7710c838347Ae178B4a".to_string());
        assert_eq!(expiry(now, None, &token), None);
    }

    #[test]
    fn login_again_replaces_tokens_and_keeps_history() {
        let id = CredentialId::new("p".parse().expect("n"), "a".parse().expect("n"));
        let first = at("2026-01-01T00:00:00Z");
        let mut old = Entry::login(id.clone(), oauth("2026-01-01T00:00:00Z", None), None, first);
        old.metadata.refresh_count = 7;
        old.metadata
            .unknown
            .insert("label".into(), Value::from("work laptop"));
        let later = at("2026-02-01T00:00:00Z");
        let new = Entry::login(id, oauth("2026-02-01T00:00:00Z", None), Some(old), later);
        assert_eq!(new.metadata.created_at, first);
        assert_eq!(new.metadata.updated_at, later);
        assert_eq!(new.metadata.refresh_count, 7);
        assert_eq!(new.metadata.unknown["label"], "work laptop");
        assert_eq!(new.credential.obtained_at(), later);
    }
}
