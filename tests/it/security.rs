//! Secrets stay out of stderr at every log level, and out of the argv of any
//! process credctl starts. (Modes under umask 000: store.rs.)

use crate::common::browser::{CookieJar, FakeBrowser};
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
    let browser = FakeBrowser::install(&mut env, 1);

    let running = env.spawn(&["-vv", "auth", "login", "idp", "--flow", "browser"]);
    let start = browser.url();
    let jar = CookieJar::new();
    let authorization_url = jar.open(&start);
    let callback = idp.authorize(&authorization_url, "dave");
    let page = jar.get(&callback);
    assert_eq!(page.status(), 200);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);

    let entry = env.stored("idp", "default");
    let mut secrets = vec![access_token(&entry)];
    secrets.extend(refresh_token(&entry));
    secrets.extend(id_token(&entry));
    assert_eq!(secrets.len(), 3, "access, refresh and id token");
    let query = |url: &str, key: &str| {
        reqwest::Url::parse(url)
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("{key} in {url}"))
    };
    secrets.push(query(&callback, "code"));
    let state = query(&authorization_url, "state");
    let challenge = query(&authorization_url, "code_challenge");

    let argv = browser.argv();
    assert_eq!(argv.trim(), start, "the browser got the start URL alone");
    for token in &secrets {
        assert!(
            !done.stderr.contains(token.as_str()),
            "stderr holds a secret"
        );
    }
    // The person's own terminal shows the authorization URL; no other
    // process's command line ever holds its state or PKCE challenge.
    for secret in secrets.iter().chain([&state, &challenge]) {
        assert!(
            !argv.contains(secret.as_str()),
            "the browser's argv holds a secret"
        );
    }
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

#[test]
fn closed_standard_streams_are_opened_on_dev_null() {
    // Started with stdout and stderr closed, the first files credctl opens
    // would get descriptors 1 and 2, and the token or a message would be
    // written into them. Rust's runtime opens /dev/null in their place;
    // credctl starts at C's main and must do it itself. The command that
    // `auth exec` runs inherits what credctl had.
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    let seen = env.root.path().join("fds");
    let status = env
        .sh(r#""$0" auth exec acme -- sh -c 'fds=$(readlink /proc/$$/fd/1 /proc/$$/fd/2); echo "$fds" > "$1"' sh "$1" >&- 2>&-"#)
        .arg(&seen)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("sh");
    assert!(status.success(), "{status}");
    assert_eq!(
        std::fs::read_to_string(&seen).expect("written"),
        "/dev/null\n/dev/null\n"
    );
}
