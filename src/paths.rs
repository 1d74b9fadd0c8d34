//! The only reader of the process environment.
//!
//! Everything credctl takes from environment variables is read here, once, into
//! [`Env`]; the rest of the code receives values, which keeps tests hermetic.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// A value in the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("cannot find your home directory")]
    NoHome,

    #[error("{key}={value:?} is not valid: {problem}")]
    Invalid {
        key: &'static str,
        value: String,
        problem: String,
    },
}

/// Test hooks (`CREDCTL_NOW`) are honoured only in debug builds, which is
/// what the test suite runs. A release build ignores them: no environment
/// variable can make it print an expired token as valid, or write a time
/// that is not the real clock's.
pub const TEST_HOOKS: bool = cfg!(debug_assertions);

/// The directory under `$CREDCTL_HOME` that holds the credentials.
pub const OAUTH_DIR: &str = "oauth";
pub const CONFIG_FILE: &str = "config.toml";

#[derive(Debug, Clone)]
pub struct Env {
    /// `$CREDCTL_HOME`, default `~/.app`.
    pub home: PathBuf,
    /// `$CREDCTL_LOG`: an `EnvFilter` directive.
    pub log: Option<String>,
    /// `$CREDCTL_NOW` (RFC 3339): a fixed clock for the tests; debug builds only.
    pub now: Option<DateTime<Utc>>,
    /// A graphical session is available (`DISPLAY` or `WAYLAND_DISPLAY`, or macOS / Windows).
    pub has_display: bool,
    /// `$BROWSER` is set: VS Code Remote, Codespaces, devcontainers and WSL
    /// set it without a display, and a browser can be started through it.
    pub has_browser_var: bool,
    /// Colour for credctl's own `error:` and `warning:` (off with `NO_COLOR`).
    pub color: bool,
    /// Running over SSH (`SSH_CONNECTION` or `SSH_TTY`).
    pub over_ssh: bool,
    /// `$CREDCTL_HTTP_TIMEOUT`: the bound on one HTTP request (default 30 s).
    pub http_timeout: Option<std::time::Duration>,
    /// `$CREDCTL_LOCK_TIMEOUT`: how long to wait for another process's lock (default 30 s).
    pub lock_timeout: Option<std::time::Duration>,
    /// `$SSL_CERT_FILE` and `$SSL_CERT_DIR`: trust these instead of the system's store.
    pub ssl_cert_file: Option<PathBuf>,
    pub ssl_cert_dir: Option<PathBuf>,
    /// The proxy variables, as curl reads them.
    pub proxies: ProxyVars,
    /// `$KUBERNETES_EXEC_INFO`: what kubectl tells its exec plugins.
    pub kubernetes_exec_info: Option<String>,
}

/// `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy`, lower case
/// first, as curl reads them.
#[derive(Debug, Clone, Default)]
pub struct ProxyVars {
    pub https: Option<String>,
    pub http: Option<String>,
    pub all: Option<String>,
    pub no_proxy: Option<String>,
}

/// The clock every decision about expiry reads: real time, or the fixed
/// time of `$CREDCTL_NOW`.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Option<DateTime<Utc>>);

impl Clock {
    pub fn real() -> Clock {
        Clock(None)
    }

    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Some(at))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.unwrap_or_else(Utc::now)
    }
}

impl Env {
    pub fn from_process() -> Result<Env, EnvError> {
        let home = match non_empty("CREDCTL_HOME") {
            Some(home) => PathBuf::from(home),
            None => home_dir().ok_or(EnvError::NoHome)?.join(".app"),
        };
        let now = test_clock(non_empty("CREDCTL_NOW"), TEST_HOOKS)?;
        let over_ssh = non_empty("SSH_CONNECTION").is_some() || non_empty("SSH_TTY").is_some();
        let has_display = (cfg!(any(target_os = "macos", windows)) && !over_ssh)
            || non_empty("DISPLAY").is_some()
            || non_empty("WAYLAND_DISPLAY").is_some();
        let has_browser_var = non_empty("BROWSER").is_some();
        let color = color_wanted();
        let http_timeout = duration("CREDCTL_HTTP_TIMEOUT")?;
        let lock_timeout = duration("CREDCTL_LOCK_TIMEOUT")?;
        let either = |lower: &str, upper: &str| non_empty(lower).or_else(|| non_empty(upper));
        let proxies = ProxyVars {
            https: either("https_proxy", "HTTPS_PROXY"),
            http: either("http_proxy", "HTTP_PROXY"),
            all: either("all_proxy", "ALL_PROXY"),
            no_proxy: either("no_proxy", "NO_PROXY"),
        };
        Ok(Env {
            kubernetes_exec_info: non_empty("KUBERNETES_EXEC_INFO"),
            ssl_cert_file: non_empty("SSL_CERT_FILE").map(PathBuf::from),
            ssl_cert_dir: non_empty("SSL_CERT_DIR").map(PathBuf::from),
            proxies,
            home,
            log: non_empty("CREDCTL_LOG"),
            now,
            has_display,
            has_browser_var,
            color,
            over_ssh,
            http_timeout,
            lock_timeout,
        })
    }

    pub fn oauth_dir(&self) -> PathBuf {
        self.home.join(OAUTH_DIR)
    }

    pub fn config_file(&self) -> PathBuf {
        self.home.join(CONFIG_FILE)
    }

    pub fn clock(&self) -> Clock {
        Clock(self.now)
    }
}

/// Whether `NO_COLOR` (https://no-color.org) leaves colour on: read first
/// thing, so that even an error about the environment honours it.
pub fn color_wanted() -> bool {
    non_empty("NO_COLOR").is_none()
}

/// The fixed clock of `$CREDCTL_NOW`, when test hooks are on; else none.
fn test_clock(value: Option<String>, hooks: bool) -> Result<Option<DateTime<Utc>>, EnvError> {
    let Some(s) = value.filter(|_| hooks) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| EnvError::Invalid {
            key: "CREDCTL_NOW",
            problem: format!("not an RFC 3339 time ({e}), e.g. 2026-01-02T03:04:05Z"),
            value: s,
        })
}

fn duration(key: &'static str) -> Result<Option<std::time::Duration>, EnvError> {
    let Some(s) = non_empty(key) else {
        return Ok(None);
    };
    let problem = match humantime::parse_duration(&s) {
        Ok(d) if !d.is_zero() => return Ok(Some(d)),
        Ok(_) => "must be more than zero, e.g. 30s".to_string(),
        Err(e) => format!("not a duration ({e}), e.g. 30s"),
    };
    Err(EnvError::Invalid {
        key,
        value: s,
        problem,
    })
}

/// `~`, as `dirs::home_dir` finds it: `$HOME`, else the home directory of
/// the account. The static binary does not ask glibc for the account:
/// `getpwuid_r` loads NSS modules at run time, and a module of another
/// glibc crashes the process (seen with libnss_systemd). It reads
/// /etc/passwd itself, which covers local accounts; the sessions of others
/// (LDAP, SSSD) set `$HOME`.
#[expect(
    clippy::disallowed_methods,
    reason = "the one reader of the environment"
)]
fn home_dir() -> Option<PathBuf> {
    if !cfg!(target_feature = "crt-static") {
        return dirs::home_dir();
    }
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
            passwd_home(&passwd, rustix::process::geteuid().as_raw())
        })
}

/// The home directory of `uid` in an /etc/passwd.
fn passwd_home(passwd: &str, uid: u32) -> Option<PathBuf> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() == 7 && fields[2].parse() == Ok(uid) && fields[5].starts_with('/'))
            .then(|| PathBuf::from(fields[5]))
    })
}

#[expect(
    clippy::disallowed_methods,
    reason = "the one reader of the environment"
)]
fn non_empty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_of_an_account_is_read_from_etc_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # a comment\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                      odd:x:1000:1000::relative:/bin/sh\n\
                      short:x:1001\n";
        assert_eq!(passwd_home(passwd, 0), Some(PathBuf::from("/root")));
        assert_eq!(
            passwd_home(passwd, 65534),
            Some(PathBuf::from("/nonexistent"))
        );
        assert_eq!(passwd_home(passwd, 1000), None, "not an absolute path");
        assert_eq!(passwd_home(passwd, 1001), None, "not a full entry");
        assert_eq!(passwd_home(passwd, 12345), None);
    }

    #[test]
    fn without_test_hooks_credctl_now_is_ignored() {
        let far = Some("2099-01-01T00:00:00Z".to_string());
        assert!(test_clock(far.clone(), false).expect("ignored").is_none());
        assert!(
            test_clock(Some("soon".into()), false)
                .expect("ignored")
                .is_none()
        );
        assert!(test_clock(far, true).expect("parsed").is_some());
        assert!(test_clock(Some("soon".into()), true).is_err());
    }
}
