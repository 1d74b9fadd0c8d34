//! The provider registry: built-in templates plus `$CREDCTL_HOME/config.toml`.
//!
//! It builds every provider with the token store injected and awaits its
//! initialisation before handing it out; no provider touches files itself.
//! A config entry with the name of a built-in overrides the template's
//! fields one by one (so `[providers.github] client_id = "…"` is enough).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::error::{ConfigError, Error};
use crate::flow::{Endpoints, Issuer};
use crate::http::{Http, check_url};
use crate::name::Name;
use crate::paths::Clock;
use crate::provider::builtin;
use crate::provider::config::{ProviderConfig, Source};
use crate::provider::{Provider, Purpose};
use crate::secret::Secret;
use crate::store::{TokenStore, private};
use crate::token::FlowKind;

/// Authorization parameters the protocol owns; a config may not override them.
const RESERVED_PARAMS: &[&str] = &[
    "state",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "response_type",
    "client_id",
    "nonce",
];

pub struct Registry {
    providers: BTreeMap<Name, ProviderConfig>,
    config_path: PathBuf,
    store: TokenStore,
    clock: Clock,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    providers: BTreeMap<String, ProviderToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderToml {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret<String>>,
    scopes: Option<Vec<String>>,
    flow: Option<FlowKind>,
    authorization_url: Option<String>,
    token_url: Option<String>,
    device_authorization_url: Option<String>,
    revocation_url: Option<String>,
    userinfo_url: Option<String>,
    introspection_url: Option<String>,
    redirect_uri: Option<String>,
    auth_params: Option<BTreeMap<String, String>>,
    ca_file: Option<std::path::PathBuf>,
    git_hosts: Option<Vec<String>>,
    git_username: Option<String>,
    git_account: Option<String>,
}

impl Registry {
    /// Reads `config.toml` (absent is fine) and merges it over the built-ins.
    pub fn load(config_path: PathBuf, store: TokenStore, clock: Clock) -> Result<Registry, Error> {
        let mut providers: BTreeMap<Name, ProviderConfig> = builtin::all()
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        if let Some(config) = private::read_config(&config_path)? {
            let config_error = |source| Error::Config {
                path: config_path.clone(),
                source,
            };
            let file: ConfigFile = toml::from_str(&config.text)
                .map_err(|e| config_error(describe_toml_error(&e, &config.text)))?;
            // A client secret is a secret: refused where others can read it, as ssh does.
            if file.providers.values().any(|p| p.client_secret.is_some()) {
                config.check_holds_secret()?;
            }
            for (key, entry) in file.providers {
                let problem = |problem: String| {
                    config_error(ConfigError::Provider {
                        key: key.clone(),
                        problem,
                    })
                };
                let name: Name = key.parse().map_err(|e| problem(format!("{e}")))?;
                let base = providers.remove(&name);
                let mut merged = merge(name.clone(), base, entry).map_err(problem)?;
                // A relative ca_file is relative to config.toml.
                if let (Some(ca), Some(dir)) = (&merged.ca_file, config_path.parent())
                    && ca.is_relative()
                {
                    merged.ca_file = Some(dir.join(ca));
                }
                providers.insert(name, merged);
            }
        }
        Ok(Registry {
            providers,
            config_path,
            store,
            clock,
        })
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn configs(&self) -> impl Iterator<Item = &ProviderConfig> {
        self.providers.values()
    }

    pub fn get(&self, name: &Name) -> Option<&ProviderConfig> {
        self.providers.get(name)
    }

    /// The provider `name`, built with the store injected and initialised
    /// for `purpose`.
    pub async fn provider(
        &self,
        name: &Name,
        http: &Http,
        purpose: Purpose,
    ) -> Result<Provider, Error> {
        let config = self.get(name).ok_or_else(|| Error::UnknownProvider {
            name: name.clone(),
            config_path: self.config_path.clone(),
        })?;
        let http = http
            .with_ca_file(config.ca_file.as_deref())
            .map_err(|source| Error::HttpSetup {
                source: Box::new(source),
            })?;
        let provider = Provider::new(
            config.clone(),
            self.config_path.clone(),
            self.store.clone(),
            http,
            self.clock,
        );
        provider.init(purpose).await?;
        Ok(provider)
    }
}

/// A config entry over the template of the same name, if any.
fn merge(
    name: Name,
    base: Option<ProviderConfig>,
    t: ProviderToml,
) -> Result<ProviderConfig, String> {
    let source = if base.is_some() {
        Source::BuiltinAndConfig
    } else {
        Source::Config
    };
    let mut p = base.unwrap_or_else(|| ProviderConfig {
        name,
        source,
        issuer: None,
        client_id: None,
        client_secret: None,
        scopes: Vec::new(),
        flow: None,
        endpoints: Endpoints::default(),
        redirect_uri: None,
        auth_params: Vec::new(),
        register_url: None,
        client_note: None,
        ca_file: None,
        git_hosts: Vec::new(),
        git_username: None,
        git_account: None,
    });
    p.source = source;
    merge_urls(&mut p, &t)?;
    if let Some(client_id) = t.client_id {
        if client_id.trim().is_empty() {
            return Err("client_id is empty".into());
        }
        p.client_id = Some(client_id);
    }
    if t.client_secret.is_some() {
        p.client_secret = t.client_secret;
    }
    if let Some(scopes) = t.scopes {
        p.scopes = scopes;
    }
    if let Some(params) = t.auth_params {
        if let Some(key) = params
            .keys()
            .find(|k| RESERVED_PARAMS.contains(&k.as_str()))
        {
            return Err(format!(
                "auth_params may not set `{key}`: credctl sets it itself for every sign-in; remove it"
            ));
        }
        p.auth_params = params.into_iter().collect();
    }
    p.flow = t.flow.or(p.flow);
    if t.ca_file.is_some() {
        p.ca_file = t.ca_file;
    }
    merge_git(&mut p, t.git_hosts, t.git_username, t.git_account)?;
    check_flows(&p)?;
    Ok(p)
}

/// The issuer, endpoints and redirect URI, each checked for https (or loopback http).
fn merge_urls(p: &mut ProviderConfig, t: &ProviderToml) -> Result<(), String> {
    let parse = |key: &str, value: &Option<String>| -> Result<Option<Url>, String> {
        let Some(value) = value else { return Ok(None) };
        let url = Url::parse(value).map_err(|e| format!("{key} = {value:?} is not a URL ({e})"))?;
        check_url(&url).map_err(|e| format!("{key}: {e}"))?;
        Ok(Some(url))
    };
    if let Some(text) = &t.issuer {
        parse("issuer", &t.issuer)?;
        let issuer =
            Issuer::parse(text).map_err(|e| format!("issuer = {text:?} is not a URL ({e})"))?;
        // A new issuer means new endpoints: drop the template's.
        if p.issuer.as_ref() != Some(&issuer) && p.source == Source::BuiltinAndConfig {
            p.endpoints = Endpoints::default();
        }
        p.issuer = Some(issuer);
    }
    let explicit = Endpoints {
        authorization: parse("authorization_url", &t.authorization_url)?,
        token: parse("token_url", &t.token_url)?,
        device_authorization: parse("device_authorization_url", &t.device_authorization_url)?,
        revocation: parse("revocation_url", &t.revocation_url)?,
        userinfo: parse("userinfo_url", &t.userinfo_url)?,
        introspection: parse("introspection_url", &t.introspection_url)?,
    };
    p.endpoints = explicit.or(std::mem::take(&mut p.endpoints));
    if let Some(redirect) = parse("redirect_uri", &t.redirect_uri)? {
        p.redirect_uri = Some(redirect);
    }
    Ok(())
}

/// The git settings: hosts as git's credential protocol names them, a
/// username and an account that fit on one protocol line.
fn merge_git(
    p: &mut ProviderConfig,
    hosts: Option<Vec<String>>,
    username: Option<String>,
    account: Option<String>,
) -> Result<(), String> {
    let one_line = |key: &str, value: &str| {
        if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            Err(format!(
                "{key} = {value:?} must be one word, without spaces or control characters"
            ))
        } else {
            Ok(())
        }
    };
    if let Some(hosts) = hosts {
        for host in &hosts {
            one_line("git_hosts", host)?;
        }
        p.git_hosts = hosts;
    }
    if let Some(username) = username {
        one_line("git_username", &username)?;
        p.git_username = Some(username);
    }
    if let Some(account) = account {
        p.git_account = Some(account.parse().map_err(|e| format!("git_account: {e}"))?);
    }
    Ok(())
}

/// A provider must have endpoints, and its `flow` must be one they allow.
fn check_flows(p: &ProviderConfig) -> Result<(), String> {
    if p.issuer.is_none() && p.endpoints.token.is_none() {
        return Err("no endpoints: set `issuer` (OpenID discovery) or `token_url` (with `authorization_url` and/or `device_authorization_url`)".into());
    }
    // An issuer's endpoints are discovered at sign-in.
    if p.issuer.is_some() {
        return Ok(());
    }
    let flows = p.endpoints.flows(p.client_secret.is_some());
    match p.flow {
        Some(flow) if !flows.contains(&flow) => Err(format!(
            "flow = \"{flow}\" needs {}",
            match flow {
                FlowKind::Browser | FlowKind::Paste => "authorization_url and token_url",
                FlowKind::Device => "device_authorization_url and token_url",
                FlowKind::ClientCredentials => "token_url and client_secret",
            }
        )),
        _ => Ok(()),
    }
}

/// The parse error with its line and column, without quoting the file: it
/// may hold a client secret.
fn describe_toml_error(e: &toml::de::Error, text: &str) -> ConfigError {
    let message = e.message().trim_end().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            ConfigError::Syntax {
                line,
                column,
                message,
            }
        }
        None => ConfigError::Toml { message },
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests write their config.toml themselves
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Registry, Error> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, toml).expect("write");
        Registry::load(
            path,
            TokenStore::new(dir.path().join("oauth")),
            Clock::real(),
        )
    }

    fn message(r: Result<Registry, Error>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => crate::error::chain(&e),
        }
    }

    #[test]
    fn a_client_id_alone_completes_a_builtin() {
        let r = load("[providers.github]\nclient_id = \"Iv1.abc\"\n").expect("load");
        let gh = r.get(&"github".parse().expect("n")).expect("github");
        assert_eq!(gh.client_id.as_deref(), Some("Iv1.abc"));
        assert_eq!(gh.source, Source::BuiltinAndConfig);
        assert!(gh.endpoints.token.is_some());
    }

    #[test]
    fn bad_config_names_the_line_and_key_but_not_the_secret() {
        let m = message(load(
            "[providers.acme]\nclient_secret = \"hunter2\nissuer = 1\n",
        ));
        assert!(m.contains("line 2"), "{m}");
        assert!(!m.contains("hunter2"), "{m}");

        let m = message(load(
            "[providers.acme]\nissuer = \"https://id.example\"\nflow = \"magic\"\n",
        ));
        assert!(m.contains("line 3") && m.contains("magic"), "{m}");

        let m = message(load("[providers.acme]\nclientid = \"x\"\n"));
        assert!(m.contains("clientid"), "{m}");

        let m = message(load(
            "[providers.acme]\ntoken_url = \"http://id.example/token\"\n",
        ));
        assert!(
            m.contains("[providers.acme]: token_url") && m.contains("not loopback"),
            "{m}"
        );

        let m = message(load("[providers.acme]\nclient_id = \"x\"\n"));
        assert!(m.contains("no endpoints"), "{m}");

        let m = message(load(
            "[providers.acme]\ntoken_url = \"https://id.example/token\"\nflow = \"device\"\n",
        ));
        assert!(m.contains("device_authorization_url"), "{m}");

        let m = message(load("[providers.Acme]\nissuer = \"https://id.example\"\n"));
        assert!(m.contains("invalid name"), "{m}");

        let m = message(load(
            "[providers.acme]\nissuer = \"https://id.example\"\nauth_params = { state = \"x\" }\n",
        ));
        assert!(
            m.contains("[providers.acme]: auth_params may not set `state`"),
            "{m}"
        );
    }
}
