//! credctl as git's credential helper, end to end: the real git against a
//! loopback smart-HTTP server (git http-backend) that accepts a password
//! only if the test authorization server says the token is active.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;

use crate::common::git_server::{GitServer, run, run_ok};
use crate::common::idp::Idp;
use crate::common::*;

/// A signed-in `idp` whose git host is `server`, with credctl set up as
/// git's helper for it; and the tokens the server refuses whatever the
/// authorization server says.
struct Setup {
    idp: Idp,
    env: TestEnv,
    server: GitServer,
    refused: Arc<Mutex<HashSet<String>>>,
}

fn setup() -> Setup {
    let idp = Idp::start();
    let refused = Arc::new(Mutex::new(HashSet::<String>::new()));
    let active = idp.introspector();
    let deny = refused.clone();
    let server = GitServer::start(move |user, password| {
        user == "x-access-token"
            && !deny.lock().expect("lock").contains(password)
            && active(password)
    });
    server.create_repo("repo");
    let mut env = TestEnv::new();
    env.set(
        "GIT_CONFIG_GLOBAL",
        &env.git_config_path().display().to_string(),
    );
    env.config(&format!(
        "[providers.idp]\nissuer = \"{}\"\nclient_id = \"{}\"\nscopes = [\"openid\", \"offline_access\"]\ngit_hosts = [\"{}\"]\ngit_username = \"x-access-token\"\n",
        idp.issuer(),
        idp::PUBLIC_CLIENT_ID,
        server.host()
    ));
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    env.run(&["auth", "setup-git", "idp"]).success();
    Setup {
        idp,
        env,
        server,
        refused,
    }
}

fn clone(s: &Setup, dir: &str) -> std::path::PathBuf {
    let path = s.env.root.path().join(dir);
    let mut git = s.env.git();
    git.args(["clone", &s.server.repo_url("repo")]).arg(&path);
    run_ok(git, "");
    path
}

fn git_in(s: &Setup, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut git = s.env.git();
    git.current_dir(dir).args(args);
    run(git, "")
}

#[test]
fn git_clones_and_pushes_with_the_token_credctl_gives() {
    let s = setup();
    let work = clone(&s, "work");
    std::fs::write(work.join("file.txt"), "hello\n").expect("write");
    assert!(git_in(&s, &work, &["add", "file.txt"]).status.success());
    assert!(
        git_in(&s, &work, &["commit", "-m", "a change"])
            .status
            .success()
    );
    let push = git_in(&s, &work, &["push", "origin", "main"]);
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
    let pushed = s
        .server
        .requests()
        .iter()
        .any(|r| r.path.ends_with("git-receive-pack") && r.authorized);
    assert!(pushed, "the push reached the server with credctl's token");
    let token = access_token(&s.env.stored("idp", "default"));
    assert!(
        s.server
            .requests()
            .iter()
            .filter(|r| r.authorized)
            .all(|r| r.user.as_deref() == Some("x-access-token")),
    );
    assert_eq!(s.idp.introspect(&token)["active"], true);
}

#[test]
fn a_token_that_expires_between_two_fetches_is_refreshed() {
    let mut s = setup();
    let work = clone(&s, "work");
    let before = s.env.stored("idp", "default");
    // The clock moves to a minute before the token expires.
    let expires_at = before.credential.expires_at().expect("expiry");
    s.env.set(
        "CREDCTL_NOW",
        &(expires_at - TimeDelta::seconds(60)).to_rfc3339(),
    );
    s.idp.reset_stats();
    let fetch = git_in(&s, &work, &["fetch"]);
    assert!(
        fetch.status.success(),
        "{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    assert_eq!(
        s.idp.token_requests("refresh_token"),
        1,
        "refreshed before git got it"
    );
    assert_ne!(
        access_token(&s.env.stored("idp", "default")),
        access_token(&before)
    );
}

#[test]
fn a_rejected_token_is_erased_and_the_next_get_refreshes() {
    let s = setup();
    let work = clone(&s, "work");
    let first = access_token(&s.env.stored("idp", "default"));
    // The server stops accepting this token: git fails and calls `erase`.
    s.refused.lock().expect("lock").insert(first.clone());
    s.idp.reset_stats();
    let failed = git_in(&s, &work, &["fetch"]);
    assert!(!failed.status.success());
    let marked = s.env.stored("idp", "default");
    assert!(marked.credential.rejected_at().is_some(), "erase marked it");
    assert_eq!(
        refresh_token(&marked),
        refresh_token(&s.env.stored("idp", "default"))
    );
    assert_eq!(
        s.idp.token_requests("refresh_token"),
        0,
        "erase sends nothing"
    );
    // The retry: `get` refreshes first, and git gets in.
    let retry = git_in(&s, &work, &["fetch"]);
    assert!(
        retry.status.success(),
        "{}",
        String::from_utf8_lossy(&retry.stderr)
    );
    assert_eq!(s.idp.token_requests("refresh_token"), 1);
    let second = s.env.stored("idp", "default");
    assert_ne!(access_token(&second), first);
    assert!(second.credential.rejected_at().is_none());
}

#[test]
fn the_helper_speaks_only_for_its_hosts_and_never_asks() {
    let s = setup();
    let helper = |action: &str, input: &str| {
        s.env
            .cmd()
            .args(["git-credential", action])
            .write_stdin(input)
            .assert()
    };
    let host = s.server.host();
    // Ours, over http on loopback: a username, the token and its expiry.
    let a = helper("get", &format!("protocol=http\nhost={host}\n\n")).success();
    let token = access_token(&s.env.stored("idp", "default"));
    let out = stdout(&a);
    assert!(
        out.starts_with("username=x-access-token\npassword_expiry_utc="),
        "{out}"
    );
    assert!(out.ends_with(&format!("password={token}\n")), "{out}");
    // Another host, or http to a remote host: nothing, so git asks elsewhere.
    helper("get", "protocol=https\nhost=example.com\n\n")
        .success()
        .stdout("");
    helper("get", "protocol=http\nhost=git.example.com\n\n")
        .success()
        .stdout("");
    // An erase of a password that is not the stored token changes nothing.
    let before = s.env.file_bytes("idp", "default");
    helper(
        "erase",
        &format!("protocol=http\nhost={host}\npassword=other\n\n"),
    )
    .success();
    assert_eq!(s.env.file_bytes("idp", "default"), before);
    helper(
        "store",
        &format!("protocol=http\nhost={host}\npassword={token}\n\n"),
    )
    .success()
    .stdout("");
    // Not logged in: nothing on stdout, one line on stderr with the fix.
    s.env
        .run(&["auth", "logout", "idp", "--local-only"])
        .success();
    let a = helper("get", &format!("protocol=http\nhost={host}\n\n"))
        .code(3)
        .stdout("");
    let err = stderr(&a);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("run `credctl auth login idp`"), "{err}");
}

#[test]
fn setup_git_is_idempotent_and_unset_removes_it() {
    let s = setup();
    s.env.run(&["auth", "setup-git", "idp"]).success();
    let config = std::fs::read_to_string(s.env.git_config_path()).expect("gitconfig");
    let host = s.server.host();
    for scheme in ["https", "http"] {
        let section = format!("[credential \"{scheme}://{host}\"]");
        assert_eq!(config.matches(&section).count(), 1, "{config}");
    }
    // Each section: the empty helper, then credctl; no more after a second run.
    assert_eq!(config.matches("helper = \n").count(), 2, "{config}");
    assert_eq!(config.matches("git-credential").count(), 2, "{config}");
    s.env
        .run(&["auth", "setup-git", "idp", "--unset"])
        .success();
    let config = std::fs::read_to_string(s.env.git_config_path()).expect("gitconfig");
    assert!(!config.contains("git-credential"), "{config}");
}

#[test]
fn an_erase_leaves_a_token_that_cannot_be_renewed_alone() {
    // Git calls `erase` after any 401, including one for a repository the
    // token was never meant for; a static token marked rejected would fail
    // every other user of it, with nothing credctl could do to mend it.
    let env = TestEnv::new();
    env.config(
        "[providers.apikey]\ntoken_url = \"http://127.0.0.1:9/token\"\nauthorization_url = \"http://127.0.0.1:9/auth\"\ngit_hosts = [\"127.0.0.1:9\"]\n",
    );
    env.login_with_token("apikey", "default", "sk-static");
    let before = env.file_bytes("apikey", "default");
    env.cmd()
        .args(["git-credential", "erase"])
        .write_stdin("protocol=http\nhost=127.0.0.1:9\npassword=sk-static\n\n")
        .assert()
        .success()
        .stdout("");
    assert_eq!(env.file_bytes("apikey", "default"), before);
    env.cmd()
        .args(["git-credential", "get"])
        .write_stdin("protocol=http\nhost=127.0.0.1:9\n\n")
        .assert()
        .success()
        .stdout(predicates::str::contains("password=sk-static\n"));
}

/// What `git credential get` answers for `protocol` and `host`.
fn get(env: &TestEnv, protocol: &str, host: &str) -> String {
    let a = env
        .cmd()
        .args(["git-credential", "get"])
        .write_stdin(format!("protocol={protocol}\nhost={host}\n\n"))
        .assert()
        .success();
    stdout(&a)
}

#[test]
fn hosts_map_exactly_as_git_sends_them_and_only_over_https() {
    let env = TestEnv::new();
    // The built-in defaults: github.com as x-access-token, gitlab.com as oauth2.
    env.login_with_token("github", "default", "gho-static");
    env.login_with_token("gitlab", "default", "glpat-static");
    assert_eq!(
        get(&env, "https", "github.com"),
        "username=x-access-token\npassword=gho-static\n"
    );
    assert_eq!(
        get(&env, "https", "gitlab.com"),
        "username=oauth2\npassword=glpat-static\n"
    );
    // git sends the port when the URL has one: another host, no answer.
    assert_eq!(get(&env, "https", "github.com:443"), "");
    // Plain http to a host that is not loopback: never a token.
    assert_eq!(get(&env, "http", "github.com"), "");

    // A configured host with a port, a username and an account of its own.
    env.config(
        "[providers.corp]\ntoken_url = \"https://git.example.com/token\"\nauthorization_url = \"https://git.example.com/auth\"\ngit_hosts = [\"git.example.com:8443\"]\ngit_username = \"bot\"\ngit_account = \"work\"\n",
    );
    env.login_with_token("corp", "default", "corp-default");
    env.login_with_token("corp", "work", "corp-work");
    assert_eq!(
        get(&env, "https", "git.example.com:8443"),
        "username=bot\npassword=corp-work\n",
        "git_account chooses among the accounts"
    );
    assert_eq!(get(&env, "https", "git.example.com"), "");
    assert_eq!(get(&env, "http", "git.example.com:8443"), "");
}
