//! Bad input gets a clear error and the right exit code, and nothing is
//! stored. Covered elsewhere: a malformed config.toml and a non-loopback
//! http:// endpoint (flows.rs), an invalid --min-valid (refresh.rs), stdin
//! over the cap (login.rs), HTML and 10 MB answers (refresh.rs), a callback
//! with the wrong state (flows.rs).

use std::net::TcpListener;
use std::time::Duration;

use wiremock::ResponseTemplate;

use crate::common::fake::Fake;
use crate::common::*;

fn nothing_stored(env: &TestEnv) {
    let stored = env.store_files(".json");
    assert!(stored.is_empty(), "stored: {stored:?}");
}

#[test]
fn an_unknown_provider_exits_6_with_the_lines_to_add() {
    let env = TestEnv::new();
    let a = env.run(&["auth", "login", "nosuch"]).code(6);
    let err = stderr(&a);
    assert!(
        err.contains("unknown provider nosuch") && err.contains("[providers.nosuch]"),
        "{err}"
    );
    env.seed_oauth(
        "nosuch",
        "default",
        oauth(
            "at",
            Some("rt"),
            "2026-06-01T11:00:00Z",
            Some("2026-06-01T12:00:00Z"),
        ),
    );
    let a = env.run(&["auth", "refresh", "nosuch"]).code(6);
    assert!(
        stderr(&a).contains("unknown provider nosuch"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn a_token_endpoint_that_never_answers_is_given_up_on() {
    let mut env = TestEnv::new();
    env.set("CREDCTL_HTTP_TIMEOUT", "1s");
    // Accepts connections, reads nothing, answers nothing.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"m\"\nclient_secret = \"s\"\ntoken_url = \"http://127.0.0.1:{port}/token\"\n"
    ));
    let started = std::time::Instant::now();
    let a = env
        .run(&["auth", "login", "acme", "--flow", "client_credentials"])
        .code(5);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        stderr(&a).contains("did not answer in time"),
        "{}",
        stderr(&a)
    );
    nothing_stored(&env);
    drop(silent);
}

#[test]
fn html_or_huge_answers_at_sign_in_store_nothing() {
    let env = TestEnv::new();
    let fake = Fake::start();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"m\"\nclient_secret = \"s\"\ntoken_url = \"{}\"\n",
        fake.token_url()
    ));
    fake.token_answers(
        ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"),
        Some(1),
    );
    env.run(&["auth", "login", "acme", "--flow", "client_credentials"])
        .code(5);
    fake.token_answers(
        ResponseTemplate::new(200).set_body_raw(vec![b'{'; 10 * 1024 * 1024], "application/json"),
        None,
    );
    env.run(&["auth", "login", "acme", "--flow", "client_credentials"])
        .code(5);
    nothing_stored(&env);
}

#[test]
fn a_flow_the_provider_lacks_is_a_usage_error() {
    let env = TestEnv::new();
    env.config("[providers.acme]\nclient_id = \"c\"\ntoken_url = \"https://id.example/token\"\nauthorization_url = \"https://id.example/auth\"\n");
    let a = env
        .run(&["auth", "login", "acme", "--flow", "device"])
        .code(2);
    assert!(
        stderr(&a).contains("does not support the device flow"),
        "{}",
        stderr(&a)
    );
    env.run(&["auth", "login", "acme", "--flow", "teleport"])
        .code(2);
    nothing_stored(&env);
}

#[test]
fn bad_environment_values_are_usage_errors() {
    let mut env = TestEnv::new();
    env.set("CREDCTL_NOW", "yesterday");
    let a = env.run(&["auth", "list"]).code(2);
    assert!(stderr(&a).contains("CREDCTL_NOW"), "{}", stderr(&a));
    let mut env = TestEnv::new();
    env.set("CREDCTL_HTTP_TIMEOUT", "forever");
    env.run(&["auth", "list"]).code(2);
}

#[test]
fn config_cannot_override_the_protocol_parameters() {
    let env = TestEnv::new();
    for key in [
        "state",
        "code_challenge",
        "code_challenge_method",
        "redirect_uri",
        "response_type",
        "client_id",
        "nonce",
    ] {
        env.config(&format!(
            "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"https://id.example/token\"\nauthorization_url = \"https://id.example/auth\"\nauth_params = {{ {key} = \"mine\" }}\n"
        ));
        let a = env.run(&["auth", "login", "acme", "--no-browser"]).code(6);
        assert!(
            stderr(&a).contains(&format!("auth_params may not set `{key}`")),
            "{}",
            stderr(&a)
        );
    }
}

#[test]
fn durations_past_any_token_s_life_are_usage_errors_not_crashes() {
    let env = TestEnv::new();
    let a = env
        .cmd()
        .args([
            "auth",
            "login",
            "acme",
            "--with-token",
            "--expires-in",
            "99999999999d",
        ])
        .write_stdin("sk-1\n")
        .assert()
        .code(2);
    assert!(stderr(&a).contains("at most 100 years"), "{}", stderr(&a));
    nothing_stored(&env);
    env.cmd()
        .args([
            "auth",
            "login",
            "acme",
            "--with-token",
            "--expires-in",
            "36500d",
        ])
        .write_stdin("sk-1\n")
        .assert()
        .success();
    env.run(&["auth", "token", "acme", "--min-valid", "9999999999999d"])
        .code(2);
    let a = env
        .run(&[
            "auth",
            "token",
            "acme",
            "--format",
            "k8s",
            "--min-valid",
            "36000d",
        ])
        .success();
    assert!(
        stdout(&a).contains("\"expirationTimestamp\""),
        "{}",
        stdout(&a)
    );
}
