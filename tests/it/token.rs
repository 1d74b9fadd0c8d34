//! `auth token`: exactly the token on stdout, the right exit code otherwise.

use crate::common::*;

#[test]
fn prints_exactly_the_token_and_a_newline() {
    let env = TestEnv::fixed_clock();
    env.login_with_token("acme", "default", "sk-live-0123456789");
    let a = env.run(&["auth", "token", "acme"]).success();
    assert_eq!(a.get_output().stdout, b"sk-live-0123456789\n");
    assert!(stderr(&a).is_empty(), "nothing on stderr: {}", stderr(&a));
}

#[test]
fn a_valid_oauth_token_is_printed() {
    let env = TestEnv::fixed_clock();
    env.seed_oauth(
        "acme",
        "default",
        oauth(
            "at-1",
            Some("rt-1"),
            "2026-06-01T11:30:00Z",
            Some("2026-06-01T12:30:00Z"),
        ),
    );
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-1\n");
}

#[test]
fn a_missing_credential_exits_3_with_the_login_command() {
    let env = TestEnv::new();
    env.run(&["auth", "token", "acme"])
        .code(3)
        .stdout("")
        .stderr(predicates::str::contains("run `credctl auth login acme`"));
    env.login_with_token("acme", "default", "t");
    env.run(&["auth", "token", "acme", "--account", "work"])
        .code(3)
        .stderr(predicates::str::contains(
            "run `credctl auth login acme --account work`",
        ));
}

#[test]
fn an_expired_oauth_token_without_refresh_exits_4() {
    let env = TestEnv::fixed_clock();
    env.seed_oauth(
        "acme",
        "default",
        oauth(
            "at-1",
            None,
            "2026-06-01T10:00:00Z",
            Some("2026-06-01T11:00:00Z"),
        ),
    );
    env.run(&["auth", "token", "acme"])
        .code(4)
        .stdout("")
        .stderr(predicates::str::contains("credctl auth login acme"));
}

#[test]
fn without_account_the_only_account_is_used_and_several_are_listed() {
    let env = TestEnv::new();
    env.login_with_token("acme", "work", "work-token");
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("work-token\n");

    env.login_with_token("acme", "home", "home-token");
    env.run(&["auth", "token", "acme"])
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("home, work"));

    env.login_with_token("acme", "default", "default-token");
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("default-token\n");
    env.run(&["auth", "token", "acme", "--account", "home"])
        .success()
        .stdout("home-token\n");
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    use std::process::Stdio;
    let env = TestEnv::new();
    env.login_with_token("acme", "default", &"t".repeat(60_000));
    let mut child = env
        .command(BIN)
        .args(["auth", "token", "acme"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_reader_that_went_away_is_not_a_crash() {
    // `credctl auth token acme | head -c0`: the write fails with EPIPE, and
    // credctl exits as it would have, not killed by SIGPIPE.
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = env
        .command(BIN)
        .args(["auth", "token", "acme"])
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(0), "{status}");
}
