//! A hermetic environment for running the built binary: a temporary
//! `CREDCTL_HOME` and `HOME`, a cleared environment, and helpers that seed
//! the store through the library.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use credctl::name::CredentialId;
use credctl::secret::Secret;
use credctl::store::TokenStore;
use credctl::token::{Credential, Entry, OAuthToken, StaticToken};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_credctl");

/// A fixed clock, given to the binary as `CREDCTL_NOW`.
pub const NOW: &str = "2026-06-01T12:00:00Z";

/// An hour-long token that expired an hour before [`NOW`]: (obtained, expires).
pub const EXPIRED: (&str, &str) = ("2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z");

pub fn now() -> DateTime<Utc> {
    at(NOW)
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test time")
}

pub struct TestEnv {
    pub root: TempDir,
    /// Extra environment variables for every command.
    pub vars: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        fs::create_dir(root.path().join("home")).expect("home dir");
        TestEnv {
            root,
            vars: Vec::new(),
        }
    }

    /// With `CREDCTL_NOW` fixed at [`NOW`].
    pub fn fixed_clock() -> Self {
        let mut env = TestEnv::new();
        env.set("CREDCTL_NOW", NOW);
        env
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.vars.push((key.to_string(), value.to_string()));
    }

    /// `$CREDCTL_HOME`; created by credctl on first write.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("credctl")
    }

    pub fn oauth_dir(&self) -> PathBuf {
        self.home().join("oauth")
    }

    /// The names of the files in the store ending in `suffix` (`.json`,
    /// `.tmp`), sorted; none when the store does not exist.
    pub fn store_files(&self, suffix: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.oauth_dir())
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(suffix))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    pub fn file(&self, provider: &str, account: &str) -> PathBuf {
        self.oauth_dir().join(format!("{provider}@{account}.json"))
    }

    pub fn store(&self) -> TokenStore {
        TokenStore::new(self.oauth_dir())
    }

    /// `program` with nothing of the real environment but `PATH`, and this
    /// environment's `HOME`, `CREDCTL_HOME` and extra variables.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("home"))
            .env("CREDCTL_HOME", self.home());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// `sh -c script` in this environment, with `$0` the credctl binary.
    pub fn sh(&self, script: &str) -> std::process::Command {
        let mut cmd = self.command("sh");
        cmd.arg("-c").arg(script).arg(BIN);
        cmd
    }

    /// The binary in this environment, for assertions.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.command(BIN));
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// `credctl` with these arguments, stdin closed.
    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd().args(args).write_stdin("").assert()
    }

    /// `auth login P [--account A] --with-token`, token on stdin.
    pub fn login_with_token(&self, provider: &str, account: &str, token: &str) {
        self.cmd()
            .args([
                "auth",
                "login",
                provider,
                "--account",
                account,
                "--with-token",
            ])
            .write_stdin(format!("{token}\n"))
            .assert()
            .success();
    }

    pub fn seed(&self, entry: &Entry) {
        let store = self.store();
        let guard = store.lock(&entry.id, &mut || {}).expect("lock");
        store.save(&guard, entry).expect("seed the store");
    }

    pub fn seed_oauth(&self, provider: &str, account: &str, token: OAuthToken) -> Entry {
        let entry = Entry::login(
            id(provider, account),
            Credential::OAuth(token),
            None,
            at("2026-06-01T00:00:00Z"),
        );
        self.seed(&entry);
        entry
    }

    /// For the clock of [`TestEnv::fixed_clock`] ([`NOW`]): one credential of each
    /// status (valid, expiring, expired, static).
    pub fn seed_one_of_each(&self) {
        // Valid: 59m 12s left of an hour.
        self.seed_oauth(
            "acme",
            "default",
            oauth(
                "at-valid",
                Some("rt-valid"),
                "2026-06-01T11:59:12Z",
                Some("2026-06-01T12:59:12Z"),
            ),
        );
        // Expiring: 2 minutes left of an hour.
        self.seed_oauth(
            "acme",
            "work",
            oauth(
                "at-expiring",
                Some("rt-expiring"),
                "2026-06-01T11:02:00Z",
                Some("2026-06-01T12:02:00Z"),
            ),
        );
        // Expired 3 hours ago.
        self.seed_oauth(
            "beta",
            "default",
            oauth(
                "at-expired",
                None,
                "2026-06-01T08:00:00Z",
                Some("2026-06-01T09:00:00Z"),
            ),
        );
        self.seed_static("gamma", "default", "sk-static");
    }

    /// `acme` (account `default`) holding an [`EXPIRED`] OAuth token pair.
    pub fn seed_expired(&self, access: &str, refresh: &str) -> Entry {
        self.seed_oauth(
            "acme",
            "default",
            oauth(access, Some(refresh), EXPIRED.0, Some(EXPIRED.1)),
        )
    }

    pub fn seed_static(&self, provider: &str, account: &str, token: &str) -> Entry {
        let entry = Entry::login(
            id(provider, account),
            Credential::Static(StaticToken {
                token: Secret::new(token.to_string()),
                expires_at: None,
                obtained_at: at("2026-06-01T00:00:00Z"),
                rejected_at: None,
                unknown: Default::default(),
            }),
            None,
            at("2026-06-01T00:00:00Z"),
        );
        self.seed(&entry);
        entry
    }

    /// Every path under the temporary root, relative to it, sorted.
    pub fn tree(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).expect("read dir").flatten() {
                let p = e.path();
                out.push(p.strip_prefix(root).expect("prefix").display().to_string());
                if p.is_dir() {
                    walk(&p, root, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root.path(), self.root.path(), &mut out);
        out.sort();
        out
    }
}

impl TestEnv {
    /// The stored credential, read through the library; panics if absent or unreadable.
    pub fn stored(&self, provider: &str, account: &str) -> Entry {
        self.store()
            .load(&id(provider, account))
            .expect("the credential file is readable")
            .expect("a credential is stored")
    }

    /// The credential file's bytes.
    pub fn file_bytes(&self, provider: &str, account: &str) -> Vec<u8> {
        fs::read(self.file(provider, account)).expect("credential file")
    }

    /// `auth list --json`, parsed; the command must succeed.
    pub fn list_json(&self) -> serde_json::Value {
        let a = self.run(&["auth", "list", "--json"]).success();
        serde_json::from_slice(&a.get_output().stdout).expect("auth list --json is JSON")
    }
}

/// The access token of a stored credential.
pub fn access_token(entry: &Entry) -> String {
    entry
        .credential
        .access_token()
        .as_deref()
        .expose()
        .to_string()
}

/// The refresh token of a stored credential, if any.
pub fn refresh_token(entry: &Entry) -> Option<String> {
    entry
        .credential
        .refresh_token()
        .map(|t| t.as_deref().expose().to_string())
}

/// The id_token of a stored credential, if any.
pub fn id_token(entry: &Entry) -> Option<String> {
    match &entry.credential {
        Credential::OAuth(t) => t
            .id_token
            .as_ref()
            .map(|t| t.as_deref().expose().to_string()),
        Credential::Static(_) => None,
    }
}

pub fn id(provider: &str, account: &str) -> CredentialId {
    CredentialId::new(
        provider.parse().expect("provider"),
        account.parse().expect("account"),
    )
}

/// An OAuth token obtained at `obtained`, expiring at `expires`.
pub fn oauth(
    access: &str,
    refresh: Option<&str>,
    obtained: &str,
    expires: Option<&str>,
) -> OAuthToken {
    OAuthToken {
        access_token: Secret::new(access.to_string()),
        refresh_token: refresh.map(|r| Secret::new(r.to_string())),
        token_type: "Bearer".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        id_token: None,
        expires_at: expires.map(at),
        obtained_at: at(obtained),
        flow: None,
        origin: None,
        rejected_at: None,
        unknown: Default::default(),
    }
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

pub fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

pub fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

pub mod browser;
pub mod cli;
pub mod fake;
pub mod git_server;
pub mod http1;
pub mod kube_api;
pub use cli::{Finished, Running};
pub mod idp;
pub mod pty;
pub mod rotating;
pub mod tls;
pub mod transcript;
pub use transcript::Normalize;

impl TestEnv {
    /// Writes `$CREDCTL_HOME/config.toml`, 0600 (it may hold a client secret).
    pub fn config(&self, toml: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.home().join("config.toml");
        std::fs::create_dir_all(self.home()).expect("home");
        std::fs::write(&path, toml).expect("config.toml");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    /// A config with `idp` (public client, PKCE, device flow) and `machine`
    /// (confidential client, client_credentials) on the test server.
    pub fn config_for(&self, idp: &idp::Idp) {
        self.config(&format!(
            r#"[providers.idp]
issuer = "{issuer}"
client_id = "{public}"
scopes = ["openid", "offline_access"]

[providers.machine]
issuer = "{issuer}"
client_id = "{confidential}"
client_secret = "{secret}"
scopes = ["api:read"]
flow = "client_credentials"
"#,
            issuer = idp.issuer(),
            public = idp::PUBLIC_CLIENT_ID,
            confidential = idp::CONFIDENTIAL_CLIENT_ID,
            secret = idp::CONFIDENTIAL_CLIENT_SECRET,
        ));
    }
}

/// How long a sign-in may take in a test.
pub const LOGIN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub fn is_authorize_url(idp: &idp::Idp) -> impl Fn(&str) -> bool + '_ {
    move |line: &str| line.starts_with(idp.issuer()) && line.contains("/auth?")
}

/// Runs the browser flow as a person would: credctl prints the URL, the
/// "browser" logs in and consents, and is redirected to credctl's listener.
pub fn browser_login(env: &TestEnv, idp: &idp::Idp, account: &str) -> Finished {
    let mut running = env.spawn(&[
        "auth",
        "login",
        "idp",
        "--account",
        account,
        "--flow",
        "browser",
        "--no-browser",
    ]);
    let url = running.line("authorization URL", is_authorize_url(idp));
    let callback = idp.authorize(&url, "alice");
    let page = reqwest::blocking::get(&callback).expect("the browser reaches credctl's listener");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .expect("page")
            .contains("You can close this tab")
    );
    running.finish(LOGIN_WAIT)
}

/// Whether the tests run as root, who ignores permission bits.
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The uid/gid of `nobody`, used to run credctl without root's powers.
pub const NOBODY: u32 = 65534;

impl TestEnv {
    /// Runs credctl as a user whom permission bits bind: as `nobody` (owning
    /// the whole temporary tree) when the tests run as root, else as is.
    pub fn run_unprivileged(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        self.run_command_unprivileged_with(cmd, stdin)
    }

    /// Any command, as [`TestEnv::run_unprivileged`] runs credctl, stdin closed.
    pub fn run_command_unprivileged(&self, cmd: std::process::Command) -> std::process::Output {
        self.run_command_unprivileged_with(cmd, "")
    }

    fn run_command_unprivileged_with(
        &self,
        mut cmd: std::process::Command,
        stdin: &str,
    ) -> std::process::Output {
        use std::io::Write;
        use std::os::unix::process::CommandExt;
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if is_root() {
            chown_tree(self.root.path(), NOBODY);
            cmd.uid(NOBODY).gid(NOBODY);
        }
        let mut child = cmd.spawn().expect("spawn");
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(stdin.as_bytes()).expect("stdin");
        drop(pipe);
        child.wait_with_output().expect("wait")
    }
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        for entry in fs::read_dir(path).expect("read dir").flatten() {
            chown_tree(&entry.path(), uid);
        }
    }
}

/// A tiny file system mounted on `$CREDCTL_HOME`, to fill up; `None` where
/// mounting is not allowed.
pub struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    pub fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        fs::create_dir_all(path).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs {
            path: path.to_path_buf(),
        })
    }

    /// Fills the file system up to the last byte.
    pub fn fill(&self) {
        use std::io::Write;
        let mut filler = fs::File::create(self.path.join("filler")).expect("filler");
        let block = vec![0u8; 4096];
        while filler.write_all(&block).is_ok() {}
        let one = [0u8; 1];
        while filler.write_all(&one).is_ok() {}
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}
