//! Secrets stay out of stderr at every log level, and out of the argv of any
//! process credctl starts. (Modes under umask 000: store.rs.)

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::fake::{Fake, oauth_error, tokens};
use crate::common::idp::Idp;
use crate::common::*;

const CANARY_AT: &str = "at-CANARY-access";
const CANARY_RT: &str = "rt-CANARY-refresh";
const CANARY_NEW: &str = "at-CANARY-new";
const CANARY_NEW_RT: &str = "rt-CANARY-new";

fn no_canary(what: &str, text: &str) {
    assert!(!text.contains("CANARY"), "{what} leaked a secret:\n{text}");
}

#[test]
fn refresh_success_and_failure_never_log_a_token_even_at_trace() {
    for log in [vec!["-vv"], vec![]] {
        let mut env = TestEnv::fixed_clock();
        if log.is_empty() {
            env.set("CREDCTL_LOG", "trace");
        }
        let fake = Fake::serving(&env);
        env.seed_expired(CANARY_AT, CANARY_RT);
        fake.token_answers(oauth_error(400, "invalid_grant", "bad"), Some(1));
        fake.token_answers(tokens(CANARY_NEW, Some(CANARY_NEW_RT), Some(3600)), None);
        let args = |rest: &[&'static str]| [log.as_slice(), rest].concat();
        let a = env
            .cmd()
            .args(args(&["auth", "token", "acme"]))
            .assert()
            .code(4);
        no_canary("a failed refresh", &stderr(&a));
        let a = env
            .cmd()
            .args(args(&["auth", "refresh", "acme"]))
            .assert()
            .success();
        no_canary("a refresh", &stderr(&a));
        assert!(
            stderr(&a).contains("refreshed"),
            "logging is on: {}",
            stderr(&a)
        );
        let a = env
            .cmd()
            .args(args(&["auth", "token", "acme"]))
            .assert()
            .success();
        no_canary("auth token", &stderr(&a));
        let a = env
            .cmd()
            .args(args(&["auth", "list", "--json"]))
            .assert()
            .success();
        no_canary("auth list", &format!("{}{}", stdout(&a), stderr(&a)));
        let a = env
            .cmd()
            .args(args(&["auth", "logout", "acme"]))
            .assert()
            .success();
        no_canary("auth logout", &stderr(&a));
    }
}

#[test]
fn a_browser_sign_in_at_vv_shows_no_token_and_the_browser_gets_no_secret() {
    let idp = Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    // A "browser" that records its command line, started because a display is set.
    let record = env.root.path().join("browser-argv");
    let browser = env.root.path().join("browser");
    fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> {}\n", record.display()),
    )
    .expect("browser");
    fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).expect("chmod");
    env.set("BROWSER", &browser.display().to_string());
    env.set("DISPLAY", ":99");

    let mut running = env.spawn(&["-vv", "auth", "login", "idp", "--flow", "browser"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let callback = idp.authorize(&url, "dave");
    reqwest::blocking::get(&callback).expect("listener");
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);

    let entry = env.stored("idp", "default");
    let mut secrets = vec![access_token(&entry)];
    secrets.extend(refresh_token(&entry));
    secrets.extend(id_token(&entry));
    assert_eq!(secrets.len(), 3, "access, refresh and id token");
    let code = reqwest::Url::parse(&callback)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    secrets.push(code);

    let argv = fs::read_to_string(&record).expect("the browser was started");
    assert!(
        argv.contains(&url),
        "the browser got the authorization URL: {argv}"
    );
    for secret in &secrets {
        assert!(
            !done.stderr.contains(secret.as_str()),
            "stderr holds a secret"
        );
        assert!(
            !argv.contains(secret.as_str()),
            "the browser's argv holds a secret"
        );
    }
    // The PKCE verifier never leaves credctl: only its S256 challenge is in the URL.
    assert!(argv.contains("code_challenge_method=S256"));
}

#[test]
fn the_error_record_is_private_under_umask_000() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at", "rt");
    fake.token_answers(oauth_error(400, "invalid_grant", "bad"), None);
    let out = env
        .sh(r#"umask 000; exec "$0" auth token acme"#)
        .output()
        .expect("sh");
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(mode(&env.oauth_dir().join("acme@default.error")), 0o600);
}
