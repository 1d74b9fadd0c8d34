//! A provider's settings: the built-in template merged with `config.toml`.
//!
//! What always holds: every endpoint is https, or http on a loopback host
//! (127.0.0.1, `localhost`, `::1`), whether it came from a template, the config
//! file or discovery.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::name::Name;
use crate::secret::Secret;

/// How `auth login` obtains tokens.
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

#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub authorization: Option<Url>,
    pub token: Option<Url>,
    pub device_authorization: Option<Url>,
    pub revocation: Option<Url>,
}

impl Endpoints {
    /// Fills what is missing here from `other` (explicit settings win over discovery).
    pub fn or(self, other: Endpoints) -> Endpoints {
        Endpoints {
            authorization: self.authorization.or(other.authorization),
            token: self.token.or(other.token),
            device_authorization: self.device_authorization.or(other.device_authorization),
            revocation: self.revocation.or(other.revocation),
        }
    }

    /// The flows these endpoints allow, given whether the client has a secret.
    pub fn flows(&self, has_secret: bool) -> Vec<FlowKind> {
        let mut flows = Vec::new();
        if self.token.is_some() {
            if self.authorization.is_some() {
                flows.extend([FlowKind::Browser, FlowKind::Paste]);
            }
            if self.device_authorization.is_some() {
                flows.push(FlowKind::Device);
            }
            if has_secret {
                flows.push(FlowKind::ClientCredentials);
            }
        }
        flows.sort();
        flows
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Builtin,
    /// Declared in config.toml.
    Config,
    /// A built-in template with settings from config.toml.
    BuiltinAndConfig,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Builtin => "built-in",
            Source::Config => "config",
            Source::BuiltinAndConfig => "built-in + config",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: Name,
    pub source: Source,
    /// OpenID discovery base; also what the callback's `iss` must equal.
    pub issuer: Option<Url>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret<String>>,
    pub scopes: Vec<String>,
    /// The flow to use when `--flow` is not given.
    pub flow: Option<FlowKind>,
    /// Explicit endpoints; discovery fills the others.
    pub endpoints: Endpoints,
    /// Where the browser is sent back: a loopback URL (its port, if any, is
    /// where credctl listens) or, for the paste flow, a page that shows the code.
    pub redirect_uri: Option<Url>,
    /// Extra authorization request parameters (e.g. Google's `access_type=offline`).
    pub auth_params: Vec<(String, String)>,
    /// Where to register a client, for the "no client_id" hint of built-ins.
    pub register_url: Option<&'static str>,
}

impl ProviderConfig {
    /// An OpenID Connect provider issues a refresh token only for `offline_access`.
    pub fn asks_offline_access(&self, scopes: &[String]) -> bool {
        scopes.iter().any(|s| s == "offline_access")
    }
}

/// Whether `url` may be used: https anywhere, http only on loopback.
pub fn check_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} uses plain http on a host that is not loopback; use https (http is accepted only on 127.0.0.1, localhost and ::1)"
        )),
        other => Err(format!("{url} has scheme {other:?}; use https")),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().expect("url")
    }

    #[test]
    fn http_only_on_loopback() {
        for ok in [
            "https://id.example.com/token",
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "http://[::1]:9/t",
        ] {
            assert!(check_url(&url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com/token",
            "http://10.0.0.1/token",
            "http://127.0.0.1.example.com/",
            "ftp://127.0.0.1/",
        ] {
            assert!(check_url(&url(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn flows_follow_the_endpoints() {
        let mut e = Endpoints {
            token: Some(url("https://x/token")),
            ..Endpoints::default()
        };
        assert!(e.flows(false).is_empty());
        assert_eq!(e.flows(true), vec![FlowKind::ClientCredentials]);
        e.authorization = Some(url("https://x/auth"));
        e.device_authorization = Some(url("https://x/device"));
        assert_eq!(
            e.flows(false),
            vec![FlowKind::Browser, FlowKind::Device, FlowKind::Paste]
        );
    }
}
