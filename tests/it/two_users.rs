//! Another user on the same machine (uid 65534, through `setpriv`) against
//! a browser sign-in and a refresh: it finds no `state` or PKCE challenge
//! in any command line, its callback is refused while the real sign-in
//! succeeds, and it cannot read credctl's memory or make it dump core.
//! These tests need root to switch users; CI runs them as root.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::browser::{CookieJar, FakeBrowser};
use crate::common::fake::{Fake, slow, tokens};
use crate::common::idp::Idp;
use crate::common::*;

/// `sh -c script` as the other user.
fn as_other_user(script: &str) -> Output {
    Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .output()
        .expect("setpriv")
}

/// Every command line the other user can read.
fn command_lines_seen_by_the_other_user() -> String {
    let out = as_other_user(
        r#"for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' < "$f" 2>/dev/null; echo; done"#,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn query(url: &str, key: &str) -> String {
    reqwest::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{key} in {url}"))
}

#[test]
fn another_user_can_neither_read_nor_steer_a_browser_sign_in() {
    if !is_root() {
        return; // switching users needs root; CI runs the tests as root.
    }
    let idp = Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    // The browser lingers, as a real one does, with its command line visible.
    let browser = FakeBrowser::install(&mut env, 20);
    let running = env.spawn(&["auth", "login", "idp", "--flow", "browser"]);
    let start = browser.url();
    let seen_before = command_lines_seen_by_the_other_user();
    assert!(
        seen_before.contains(&start),
        "the browser's command line is visible"
    );

    let jar = CookieJar::new();
    let authorization_url = jar.open(&start);
    let state = query(&authorization_url, "state");
    let challenge = query(&authorization_url, "code_challenge");
    let seen_after = command_lines_seen_by_the_other_user();
    for seen in [&seen_before, &seen_after] {
        assert!(!seen.contains(&state), "state in a command line");
        assert!(
            !seen.contains(&challenge),
            "PKCE challenge in a command line"
        );
    }

    // The other user sends a callback carrying even the right state: refused.
    let callback = idp.authorize(&authorization_url, "alice");
    let forged = format!(
        "{}?code=attackers-code&state={state}&iss={}",
        callback.split('?').next().expect("base"),
        idp.issuer()
    );
    let out = as_other_user(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' '{forged}'"
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");

    // The real sign-in still succeeds.
    assert_eq!(jar.get(&callback).status(), 200);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let entry = env.stored("idp", "default");
    let introspection = idp.introspect(&access_token(&entry));
    assert_eq!(introspection["sub"], "alice");
}

#[test]
fn another_user_can_neither_use_up_the_listener_nor_spend_the_start_url() {
    if !is_root() {
        return; // switching users needs root; CI runs the tests as root.
    }
    let idp = Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    let browser = FakeBrowser::install(&mut env, 20);
    let running = env.spawn(&["auth", "login", "idp", "--flow", "browser"]);
    let start = browser.url();
    let port = reqwest::Url::parse(&start)
        .expect("url")
        .port()
        .expect("port");
    // The other user fetches the start URL and resets at once, then holds
    // 64 idle connections open while the real browser signs in.
    let out = as_other_user(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' '{start}'"
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    let mut hog = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c"])
        .env_clear()
        .arg(format!(
            "import socket, time\nsocks = [socket.create_connection(('127.0.0.1', {port})) for _ in range(64)]\nprint('held', flush=True)\ntime.sleep(15)"
        ))
        .stdout(Stdio::piped())
        .spawn()
        .expect("hog");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(hog.stdout.as_mut().expect("stdout")),
        &mut line,
    )
    .expect("held");
    assert_eq!(line.trim(), "held");
    let jar = CookieJar::new();
    let authorization_url = jar.open(&start);
    let callback = idp.authorize(&authorization_url, "alice");
    assert_eq!(jar.get(&callback).status(), 200);
    let done = running.finish(LOGIN_WAIT);
    let _ = hog.kill();
    let _ = hog.wait();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

#[test]
fn a_process_holding_secrets_is_not_dumpable_and_dumps_no_core() {
    if !is_root() {
        return; // the check needs a non-root credctl; CI runs the tests as root.
    }
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-CORE-CANARY");
    fake.token_answers(
        slow(
            tokens("at-new", Some("rt-new"), Some(3600)),
            Duration::from_secs(20),
        ),
        None,
    );
    // Run as the other user, owning its store, in a directory it can write.
    let cwd = env.root.path().join("cwd");
    std::fs::create_dir(&cwd).expect("cwd");
    chown_tree(env.root.path());
    let mut child = env
        .command(BIN)
        .args(["auth", "refresh", "acme"])
        .current_dir(&cwd)
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    // Wait until the refresh request is on its way (the secret is in memory).
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.token_requests().is_empty() {
        assert!(Instant::now() < deadline, "no refresh request");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mem = std::fs::metadata(format!("/proc/{pid}/mem")).expect("proc");
    assert_eq!(
        mem.uid(),
        0,
        "/proc/PID/mem of a non-dumpable process belongs to root, not to its user"
    );
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core limit");
    assert!(
        core.split_whitespace().nth(4) == Some("0"),
        "soft core limit 0: {core}"
    );
    Command::new("kill")
        .args(["-QUIT", &pid.to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(3), "killed by SIGQUIT");
    assert!(!status.core_dumped(), "a core was dumped");
    let files: Vec<_> = std::fs::read_dir(&cwd).expect("cwd").flatten().collect();
    assert!(files.is_empty(), "core files: {files:?}");
}

fn chown_tree(path: &std::path::Path) {
    std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            chown_tree(&entry.path());
        }
    }
}

#[test]
fn without_home_the_home_is_found_without_glibc_nss() {
    // `env -i`, cron-like wrappers, services: no $HOME. glibc's getpwuid
    // would load NSS modules into the static binary (libnss_systemd for an
    // account it does not know), which crashed it with SIGSEGV.
    if !is_root() {
        return; // another uid needs root; CI runs the tests as root.
    }
    let as_uid = |uid: &str| {
        std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
            ])
            .args(["env", "-i", BIN, "auth", "list"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("setpriv")
    };
    // No account at all: a usage error with the fix, not a crash.
    let out = as_uid("12345");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot find your home directory"), "{err}");
    assert!(err.contains("CREDCTL_HOME"), "{err}");
    // nobody's account names /nonexistent, read from /etc/passwd.
    let out = as_uid("65534");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("/nonexistent/.app/oauth"), "{err}");
}
