//! Built-in provider templates: data only. Endpoints come from each
//! provider's documentation. No client_id is built in: a client belongs to
//! whoever registered it, so the user registers one and names it in config.toml.

use url::Url;

use crate::flow::{Endpoints, Issuer};
use crate::provider::config::{ProviderConfig, Source};

struct Template {
    name: &'static str,
    issuer: Option<&'static str>,
    authorization: &'static str,
    token: &'static str,
    device_authorization: &'static str,
    revocation: Option<&'static str>,
    /// OpenID Connect userinfo, for `auth status --check`.
    userinfo: Option<&'static str>,
    /// git hosts and the username git sends with the token.
    git: Option<(&'static str, &'static str)>,
    scopes: &'static [&'static str],
    auth_params: &'static [(&'static str, &'static str)],
    register_url: &'static str,
    /// What else its clients need, shown with the "no client_id" hint.
    client_note: Option<&'static str>,
}

const TEMPLATES: &[Template] = &[
    // Classic OAuth App tokens do not expire; GitHub App user tokens expire
    // after 8 hours and rotate refresh tokens. There is no RFC 7009 endpoint.
    Template {
        name: "github",
        issuer: None,
        authorization: "https://github.com/login/oauth/authorize",
        token: "https://github.com/login/oauth/access_token",
        device_authorization: "https://github.com/login/device/code",
        revocation: None,
        userinfo: None,
        git: Some(("github.com", "x-access-token")),
        scopes: &["read:user"],
        auth_params: &[],
        register_url: "https://github.com/settings/developers",
        client_note: None,
    },
    // Access tokens live 2 hours; refresh tokens rotate.
    Template {
        name: "gitlab",
        issuer: Some("https://gitlab.com"),
        authorization: "https://gitlab.com/oauth/authorize",
        token: "https://gitlab.com/oauth/token",
        device_authorization: "https://gitlab.com/oauth/authorize_device",
        revocation: Some("https://gitlab.com/oauth/revoke"),
        userinfo: Some("https://gitlab.com/oauth/userinfo"),
        git: Some(("gitlab.com", "oauth2")),
        scopes: &["openid", "read_user"],
        auth_params: &[],
        register_url: "https://gitlab.com/-/user_settings/applications",
        client_note: None,
    },
    // A refresh token only with access_type=offline, and again after the
    // first consent only with prompt=consent.
    Template {
        name: "google",
        issuer: Some("https://accounts.google.com"),
        authorization: "https://accounts.google.com/o/oauth2/v2/auth",
        token: "https://oauth2.googleapis.com/token",
        device_authorization: "https://oauth2.googleapis.com/device/code",
        revocation: Some("https://oauth2.googleapis.com/revoke"),
        userinfo: Some("https://openidconnect.googleapis.com/v1/userinfo"),
        git: None,
        scopes: &["openid", "email"],
        auth_params: &[("access_type", "offline"), ("prompt", "consent")],
        register_url: "https://console.cloud.google.com/apis/credentials",
        // Installed-app clients have a "secret" that is not secret.
        client_note: Some(
            "Google desktop clients also need their client_secret (for installed apps it is not secret): add client_secret = \"…\" there too, and chmod 600 the file.",
        ),
    },
    // Tenant `common`; offline_access for a refresh token, which rotates on
    // every use. The issuer differs per tenant, so no `iss` check is possible.
    Template {
        name: "microsoft",
        issuer: None,
        authorization: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        device_authorization: "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
        revocation: None,
        userinfo: Some("https://graph.microsoft.com/oidc/userinfo"),
        git: None,
        scopes: &["openid", "profile", "offline_access", "User.Read"],
        auth_params: &[],
        register_url: "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade",
        client_note: None,
    },
];

fn url(s: &str) -> Option<Url> {
    Url::parse(s).ok()
}

pub fn all() -> Vec<ProviderConfig> {
    TEMPLATES
        .iter()
        .filter_map(|t| {
            Some(ProviderConfig {
                name: t.name.parse().ok()?,
                source: Source::Builtin,
                issuer: t.issuer.and_then(|i| Issuer::parse(i).ok()),
                client_id: None,
                client_secret: None,
                scopes: t.scopes.iter().map(|s| s.to_string()).collect(),
                flow: None,
                endpoints: Endpoints {
                    authorization: url(t.authorization),
                    token: url(t.token),
                    device_authorization: url(t.device_authorization),
                    revocation: t.revocation.and_then(url),
                    userinfo: t.userinfo.and_then(url),
                    introspection: None,
                },
                redirect_uri: None,
                auth_params: t
                    .auth_params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                register_url: Some(t.register_url),
                client_note: t.client_note,
                ca_file: None,
                git_hosts: t.git.iter().map(|(host, _)| host.to_string()).collect(),
                git_username: t.git.map(|(_, user)| user.to_string()),
                git_account: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::check_url;
    use crate::token::FlowKind;

    #[test]
    fn every_template_is_well_formed() {
        let all = all();
        assert_eq!(all.len(), TEMPLATES.len());
        for p in &all {
            let e = &p.endpoints;
            for u in [
                &e.authorization,
                &e.token,
                &e.device_authorization,
                &e.revocation,
            ]
            .into_iter()
            .flatten()
            {
                check_url(u).expect("https");
            }
            assert!(e.flows(false).contains(&FlowKind::Browser), "{}", p.name);
            assert!(e.flows(false).contains(&FlowKind::Device), "{}", p.name);
        }
    }
}
