//! git's credential helper protocol (git-credential(1), gitcredentials(7)):
//! which provider and account a git host maps to, a fresh token for it, and
//! the retry after a 401 — `erase` marks the token git saw rejected, and the
//! next `get` refreshes it.
//!
//! What always holds: a host maps to a provider only by an exact entry in
//! its `git_hosts` (as git sends it, port included); a token is given only
//! over https, or http to a loopback host; `get` is never interactive;
//! `erase` touches only the access token it was shown, never the refresh
//! token.

use std::io::BufRead;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::manager::{Issued, Manager};
use crate::name::Name;
use crate::secret::Secret;
use crate::ui::Progress;

/// Bound on what git sends on stdin.
const MAX_INPUT: u64 = 64 * 1024;

/// The username git sends when a provider names none.
const DEFAULT_GIT_USERNAME: &str = "oauth2";

/// What git sent: the attributes credctl uses.
#[derive(Debug, Default)]
pub struct GitRequest {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub password: Option<Secret<String>>,
}

impl GitRequest {
    /// Reads `key=value` lines up to a blank line or the end (git-credential(1)).
    pub fn read(input: impl std::io::Read) -> std::io::Result<GitRequest> {
        let mut request = GitRequest::default();
        let reader = std::io::BufReader::new(input.take(MAX_INPUT));
        for line in reader.lines() {
            let line = line?;
            if line.is_empty() {
                break;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            match key {
                "protocol" => request.protocol = Some(value.to_string()),
                "host" => request.host = Some(value.to_string()),
                "password" => request.password = Some(Secret::new(value.to_string())),
                _ => {}
            }
        }
        Ok(request)
    }
}

/// What `get` answers.
pub struct GitAnswer {
    pub username: String,
    pub issued: Issued,
}

impl GitAnswer {
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        self.issued.entry.credential.expires_at()
    }
}

/// Where a git host's token comes from.
struct Mapped {
    provider: Name,
    account: Option<Name>,
    username: String,
}

/// A git host that `auth setup-git` configures.
pub struct GitHost {
    pub host: String,
    /// A loopback host is also configured for http (git matches by scheme).
    pub loopback: bool,
}

impl Manager {
    /// The credential for the host git asks about; `None` when no provider
    /// claims it, so that git asks its other helpers.
    pub fn git_get(
        &self,
        request: &GitRequest,
        progress: &dyn Progress,
    ) -> Result<Option<GitAnswer>, Error> {
        let Some(mapped) = self.map_git_host(request)? else {
            return Ok(None);
        };
        let issued = self.token(&mapped.provider, mapped.account.as_ref(), None, progress)?;
        Ok(Some(GitAnswer {
            username: mapped.username,
            issued,
        }))
    }

    /// git saw `password` rejected: if it is the stored access token, mark
    /// it so that the next `get` refreshes it. Anything else: nothing.
    pub fn git_erase(&self, request: &GitRequest, progress: &dyn Progress) -> Result<(), Error> {
        let (Some(mapped), Some(password)) = (self.map_git_host(request)?, &request.password)
        else {
            return Ok(());
        };
        let id = match self.resolve_id(&mapped.provider, mapped.account.as_ref()) {
            Ok(id) => id,
            Err(Error::NotLoggedIn { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let is_stored = |stored: Option<&crate::token::Entry>| {
            stored.is_some_and(|entry| {
                let token = entry.credential.access_token().as_deref().expose();
                constant_time_eq(token.as_bytes(), password.as_deref().expose().as_bytes())
            })
        };
        let stored = self.store.load(&id)?;
        // A token that cannot be renewed stays as it is: marking it would
        // only make every other user of it fail too.
        if !is_stored(stored.as_ref()) || stored.is_some_and(|e| !e.credential.can_refresh()) {
            return Ok(());
        }
        let guard = self
            .store
            .lock(&id, &mut || progress.waiting_for_lock(&id))?;
        // Again under the lock: another process may have refreshed it.
        let Some(mut entry) = self.store.load(&id)?.filter(|e| is_stored(Some(e))) else {
            return Ok(());
        };
        entry.credential.reject(self.now());
        self.store.save(&guard, &entry)?;
        Ok(())
    }

    /// Makes credctl git's credential helper for the git hosts of
    /// `provider` (of every provider that has some, without it), in the
    /// global git config, as `gh auth setup-git` does; with `unset`,
    /// removes that again. Returns the hosts.
    pub fn setup_git(&self, provider: Option<&Name>, unset: bool) -> Result<Vec<GitHost>, Error> {
        let hosts = self.git_hosts(provider)?;
        let helper = helper_command()?;
        for host in &hosts {
            // git matches helpers by scheme: a loopback host may be plain http.
            let schemes: &[&str] = if host.loopback {
                &["https", "http"]
            } else {
                &["https"]
            };
            for scheme in schemes {
                let key = format!("credential.{scheme}://{}.helper", host.host);
                if unset {
                    // Exit 5 means it was not set: nothing to remove.
                    git(&["config", "--global", "--unset-all", &key], &[0, 5])?;
                } else {
                    // An empty helper first: no other helper answers for this host.
                    git(&["config", "--global", "--replace-all", &key, ""], &[0])?;
                    git(&["config", "--global", "--add", &key, &helper], &[0])?;
                }
            }
        }
        Ok(hosts)
    }

    /// The git hosts of `provider`, or of every provider that has some.
    fn git_hosts(&self, provider: Option<&Name>) -> Result<Vec<GitHost>, Error> {
        let registry = self.registry()?;
        let configs: Vec<_> = match provider {
            Some(name) => vec![registry.get(name).ok_or_else(|| Error::UnknownProvider {
                name: name.clone(),
                config_path: self.config_path.clone(),
            })?],
            None => registry.configs().collect(),
        };
        if let Some(name) = provider
            && configs.iter().all(|c| c.git_hosts.is_empty())
        {
            return Err(Error::NoGitHosts {
                provider: name.clone(),
                config_path: self.config_path.clone(),
            });
        }
        Ok(configs
            .iter()
            .flat_map(|c| &c.git_hosts)
            .map(|host| GitHost {
                host: host.clone(),
                loopback: is_loopback_host(host),
            })
            .collect())
    }

    /// The provider claiming the request's host, over a protocol that may
    /// carry a token there.
    fn map_git_host(&self, request: &GitRequest) -> Result<Option<Mapped>, Error> {
        let Some(host) = request.host.as_deref() else {
            return Ok(None);
        };
        let safe = match request.protocol.as_deref() {
            Some("https") => true,
            Some("http") => is_loopback_host(host),
            _ => false,
        };
        if !safe {
            return Ok(None);
        }
        let registry = self.registry()?;
        let mapped = registry
            .configs()
            .find(|c| c.git_hosts.iter().any(|h| h == host))
            .map(|c| Mapped {
                provider: c.name.clone(),
                account: c.git_account.clone(),
                username: c
                    .git_username
                    .clone()
                    .unwrap_or_else(|| DEFAULT_GIT_USERNAME.to_string()),
            });
        Ok(mapped)
    }
}

/// `127.0.0.1:3000`, `localhost`, `[::1]:8080` as git writes hosts.
fn is_loopback_host(host: &str) -> bool {
    url::Url::parse(&format!("http://{host}/")).is_ok_and(|u| crate::http::is_loopback(&u))
}

/// Compares without leaking, through timing, how much of a token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `!'/abs/path/credctl' git-credential`, quoted for git's shell.
fn helper_command() -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Internal {
        what: "cannot find credctl's own path",
        source: Box::new(source),
    })?;
    let quoted = exe.to_string_lossy().replace('\'', r"'\''");
    Ok(format!("!'{quoted}' git-credential"))
}

/// Runs git, never interactively; an exit code outside `ok` is an error
/// carrying git's own (sanitised) words.
fn git(args: &[&str], ok: &[i32]) -> Result<(), Error> {
    let out = std::process::Command::new("git")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| Error::Git { source })?;
    if out.status.code().is_some_and(|c| ok.contains(&c)) {
        return Ok(());
    }
    Err(Error::GitConfig(crate::sanitize::text(
        &String::from_utf8_lossy(&out.stderr),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_s_attributes() {
        let input = "capability[]=authtype\nprotocol=https\nhost=git.example.com:8443\nwwwauth[]=Basic realm=\"x\"\npassword=tok\n\nhost=ignored\n";
        let r = GitRequest::read(input.as_bytes()).expect("read");
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("git.example.com:8443"));
        assert_eq!(r.password.map(|p| p.expose()).as_deref(), Some("tok"));
    }

    #[test]
    fn loopback_hosts_as_git_writes_them() {
        for host in ["127.0.0.1:3000", "localhost", "[::1]:8080", "127.0.0.1"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["github.com", "127.0.0.1.example.com", "10.0.0.1:80"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
