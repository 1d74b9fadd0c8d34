//! The hints: the next step for a person, printed on its own line after
//! the message of an [`Error`].

use std::io;

use super::{Error, InputError, Renewal};
use crate::flow::FlowError;
use crate::http::{CertificateProblem, HttpError, TrustProblem};
use crate::name::{CredentialId, Name};
use crate::paths::EnvError;
use crate::token::Category;

impl Error {
    /// The next step for the person, when there is one.
    pub fn hint(&self) -> Option<String> {
        use Error as E;
        Some(match self {
            E::AmbiguousAccount { .. } => "choose one with `--account NAME`".into(),
            E::Input(e) => e.hint()?,
            E::NoProvider { .. } => "run `credctl auth login PROVIDER`".into(),
            E::DidYouMean { meant, .. } => format!("did you mean `credctl {meant}`?"),
            E::Env(EnvError::NoHome) => {
                "set CREDCTL_HOME to where credctl should keep its files".into()
            }
            E::Env(EnvError::Invalid { key, .. }) => format!("unset {key} or fix its value"),
            E::FlowNotSupported { .. } => "choose one of those with `--flow`".into(),
            E::StaticToken { login, .. } => format!("store a new one with `{login}`"),
            E::NotLoggedIn { id } => format!("run `{}`", id.login_command()),
            E::NotRenewed {
                id,
                source:
                    Renewal::Provider {
                        config_path,
                        source,
                    },
                ..
            } => provider_hint(source, id, config_path),
            E::NotRenewed {
                source: Renewal::Local(source),
                ..
            } => source.hint()?,
            E::NeedsClientSecret {
                provider,
                config_path,
            } => format!(
                "add to [providers.{provider}] in {} (and keep the file private: chmod 600):\n\nclient_secret = \"YOUR_CLIENT_SECRET\"\n",
                config_path.display()
            ),
            E::Expired { login, .. } | E::NotRefreshable { login, .. } => {
                format!("run `{login}`")
            }
            E::Store(e) => e.hint()?,
            E::Provider {
                id,
                config_path,
                source,
                ..
            } => match source.as_ref() {
                FlowError::StartOpenedTwice => format!(
                    "run `{}` again, or sign in with `--flow device`",
                    id.login_command()
                ),
                FlowError::Http(HttpError::Certificate { host, kind, .. }) => {
                    certificate_hint(host, *kind, &id.provider, config_path)
                }
                FlowError::Http(HttpError::ProxyAuth { .. }) => PROXY_AUTH_HINT.into(),
                FlowError::NoBrowserAnswer {
                    suggest_device: true,
                    ..
                } => format!(
                    "no browser could be opened here, or it is not where you are: sign in with `{} --flow device`, which works from a browser on any device",
                    id.login_command()
                ),
                _ => provider_hint(source, id, config_path),
            },
            E::Rebind(rebound) => format!(
                "if the new settings are right, run `{}` to sign in there; otherwise restore [providers.{}]",
                rebound.id.login_command(),
                rebound.id.provider
            ),
            E::Discovery {
                provider,
                config_path,
                source,
                ..
            } => match source.as_ref() {
                FlowError::Http(HttpError::Certificate { host, kind, .. }) => {
                    certificate_hint(host, *kind, provider, config_path)
                }
                FlowError::Http(HttpError::TrustStore { source, .. }) => trust_store_hint(source),
                FlowError::Http(HttpError::ProxyAuth { .. }) => PROXY_AUTH_HINT.into(),
                // OpenID Discovery §4.3: issuers compare as exact strings.
                FlowError::DiscoveredIssuer { got, expected, .. }
                    if got.trim_end_matches('/') == expected.trim_end_matches('/') =>
                {
                    format!(
                        "issuers must match exactly, trailing slash included: set issuer = {got:?} under [providers.{provider}] in {}",
                        config_path.display()
                    )
                }
                _ if source.category() == Category::Transient => {
                    "check the network and retry".into()
                }
                _ => format!(
                    "check `issuer` of [providers.{provider}] in {}",
                    config_path.display()
                ),
            },
            E::SaveRefreshed { id, source } => format!(
                "{}; the stored credential is unchanged, but the provider may have replaced its refresh token: fix the problem, then run `credctl auth refresh {}`, and `{}` if that is rejected",
                source
                    .hint()
                    .unwrap_or_else(|| "fix the file named above".into()),
                id.cli_args(),
                id.login_command()
            ),
            E::Config { .. } => "fix the file and retry".into(),
            E::NoGitHosts {
                provider,
                config_path,
            } => format!(
                "name them in {}, e.g.\n\n[providers.{provider}]\ngit_hosts = [\"git.example.com\"]\n",
                config_path.display()
            ),
            E::Git { .. } => "install git, or check that it is on PATH".into(),
            E::GitConfig(_) => {
                "check the global git config ($GIT_CONFIG_GLOBAL or ~/.gitconfig)".into()
            }
            E::HttpSetup { source } => match source.as_ref() {
                HttpError::Proxy { variable, .. } => {
                    format!("fix {variable}, or unset it to connect directly")
                }
                HttpError::TrustStore { source, .. } => trust_store_hint(source),
                _ => TRUST_STORE_HINT.into(),
            },
            E::UnknownProvider { name, .. } => format!(
                "declare it there, for example:\n\n[providers.{name}]\nissuer = \"https://id.example.com\"\nclient_id = \"YOUR_CLIENT_ID\"\n\n(`credctl auth providers` lists the known ones)"
            ),
            E::MissingClientId {
                provider,
                config_path,
                register_url,
                note,
            } => format!(
                "{}add to {}:\n\n[providers.{provider}]\nclient_id = \"YOUR_CLIENT_ID\"\n{}",
                register_url
                    .map(|u| format!("register an OAuth application at {u}, then "))
                    .unwrap_or_default(),
                config_path.display(),
                note.map(|n| format!("\n{n}")).unwrap_or_default()
            ),
            E::Incomplete { .. } => "see the messages above".into(),
            E::CheckFailed {
                misconfigured: true,
                ..
            } => "fix the configuration named above, or log in again to bind the credential to it"
                .into(),
            E::CheckFailed { rejected, .. } if *rejected > 0 => {
                "log in again to a rejected one with `credctl auth login PROVIDER`".into()
            }
            E::CheckFailed { .. } => "retry the check later".into(),
            E::Exec { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                "check the command's name and PATH".into()
            }
            E::Exec { .. } => "check that the command is executable".into(),
            E::Output(_) | E::Interrupted | E::Reported(_) => return None,
            E::Internal { .. } => "this is a bug in credctl, please report it".into(),
        })
    }
}

fn certificate_hint(
    host: &str,
    kind: CertificateProblem,
    provider: &Name,
    config_path: &std::path::Path,
) -> String {
    match kind {
        CertificateProblem::WrongName => format!(
            "check the host in [providers.{provider}] of {}; if it is right, something else (a proxy, a captive portal) is answering for {host}",
            config_path.display()
        ),
        CertificateProblem::Dates => {
            "check this machine's clock; if it is right, the provider's certificate is out of date"
                .into()
        }
        CertificateProblem::UnknownIssuer | CertificateProblem::Other => format!(
            "if {host} uses a certificate authority of your own, add its certificate (PEM) as ca_file = \"/path/to/ca.pem\" under [providers.{provider}] in {}, or point SSL_CERT_FILE at it",
            config_path.display()
        ),
    }
}

/// The trust store is loaded at the first request, so its failures come
/// back from any exchange with a provider. A `ca_file` that fails the
/// store's checks has the store's fix (`chmod`, `chown`).
fn trust_store_hint(problem: &TrustProblem) -> String {
    match problem {
        TrustProblem::Private(e) => e.hint(),
        TrustProblem::Load(_) | TrustProblem::NoCertificate => None,
    }
    .unwrap_or_else(|| TRUST_STORE_HINT.into())
}

const TRUST_STORE_HINT: &str =
    "check SSL_CERT_FILE and SSL_CERT_DIR, or the ca_file of the provider";

const PROXY_AUTH_HINT: &str = "put the proxy's user and password in its URL (https_proxy=http://USER:PASSWORD@HOST:PORT), or name the provider's host in no_proxy";

fn provider_hint(source: &FlowError, id: &CredentialId, config_path: &std::path::Path) -> String {
    if let FlowError::Http(HttpError::ProxyAuth { .. }) = source {
        return PROXY_AUTH_HINT.into();
    }
    if let FlowError::Http(HttpError::TrustStore { source, .. }) = source {
        return trust_store_hint(source);
    }
    match source.category() {
        Category::Transient => "check the network or the provider's status, then retry".into(),
        Category::ReauthRequired => format!("run `{}`", id.login_command()),
        Category::Configuration => format!(
            "check client_id, client_secret, scopes and endpoints of [providers.{}] in {}",
            id.provider,
            config_path.display()
        ),
        Category::InvalidResponse => {
            "retry later; if it persists, the provider's token endpoint is misbehaving".into()
        }
        Category::Storage => "fix the file named above".into(),
    }
}

impl InputError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            InputError::TokenRead { .. } => return None,
            InputError::TokenTooLarge { .. }
            | InputError::TokenNotText
            | InputError::TokenNotOneWord
            | InputError::TokenNotAscii => "pipe exactly one token to `--with-token`".into(),
            InputError::NoToken => {
                "pipe the token in, e.g. `credctl auth login NAME --with-token < token.txt`".into()
            }
        })
    }
}
