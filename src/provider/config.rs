//! A provider's settings: the built-in template merged with `config.toml`.
//!
//! What always holds: every endpoint is https, or http on a loopback host
//! (127.0.0.1, `localhost`, `::1`), whether it came from a template, the config
//! file or discovery (`http::check_url`).

use serde::Serialize;
use url::Url;

use crate::flow::{Endpoints, Issuer};
use crate::name::Name;
use crate::secret::Secret;
use crate::token::FlowKind;

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
    pub issuer: Option<Issuer>,
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
    /// What else a built-in's clients need, for the same hint.
    pub client_note: Option<&'static str>,
    /// Certificates to trust for this provider, besides the system's.
    pub ca_file: Option<std::path::PathBuf>,
    /// The git hosts this provider's tokens are for, as git's credential
    /// protocol names them (`github.com`, `git.example.com:8443`).
    pub git_hosts: Vec<String>,
    /// The username git sends with the token.
    pub git_username: Option<String>,
    /// The account git uses, instead of the usual rules.
    pub git_account: Option<Name>,
}

impl ProviderConfig {
    /// An OpenID Connect provider issues a refresh token only for `offline_access`.
    pub fn asks_offline_access(&self, scopes: &[String]) -> bool {
        scopes.iter().any(|s| s == "offline_access")
    }

    /// The flows `auth providers` shows: those the endpoints allow, or
    /// "discovered" for an issuer whose endpoints come at sign-in.
    pub fn flows_known(&self) -> Option<Vec<FlowKind>> {
        if self.issuer.is_some() && self.endpoints.token.is_none() {
            return None;
        }
        Some(self.endpoints.flows(self.client_secret.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().expect("url")
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
