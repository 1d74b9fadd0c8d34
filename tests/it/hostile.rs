//! A provider that sends hostile text (wiremock): escape sequences, bidi
//! overrides and zero-width characters in every field credctl shows or
//! keeps, tokens that would inject a header, and error text that echoes
//! the request back. Nothing of it may reach the terminal, a file or JSON.

use std::fs;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::fake::{Fake, tokens};
use crate::common::*;

/// Sets a window title, clears the screen, moves the cursor up, reverses
/// text, hides a character, and a C1 control sequence introducer.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[1A\u{202e}evil\u{200b}\u{9b}31m";

const FORBIDDEN: [char; 8] = [
    '\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{200b}', '\u{2066}', '\r', '\u{0}',
];

fn assert_clean(what: &str, text: &str) {
    for c in FORBIDDEN {
        assert!(
            !text.contains(c),
            "{what} holds U+{:04X}: {text:?}",
            c as u32
        );
    }
}

/// A fake provider with a device endpoint that answers `device` and then,
/// on the first poll, `token`.
fn device_provider(env: &TestEnv, device: serde_json::Value, token: ResponseTemplate) -> Fake {
    let fake = Fake::start();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"{0}/token\"\ndevice_authorization_url = \"{0}/device\"\n",
        fake.server.uri()
    ));
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/device"))
            .respond_with(ResponseTemplate::new(200).set_body_json(device)),
    );
    fake.token_answers(token, None);
    fake
}

#[test]
fn a_hostile_device_answer_cannot_touch_the_terminal_and_is_flagged() {
    let env = TestEnv::new();
    let device = json!({
        "device_code": "dc-1",
        "user_code": format!("WDJB{HOSTILE}-MJHT"),
        "verification_uri": "http://evil.example/activate",
        "verification_uri_complete": format!("http://evil.example/activate?code={HOSTILE}"),
        "expires_in": 600,
        "interval": 1,
    });
    let answer = ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "at-ok",
        "token_type": format!("Bearer{HOSTILE}"),
        "expires_in": "3600",
        "scope": format!("read {HOSTILE}write"),
    }));
    let _fake = device_provider(&env, device, answer);
    let a = env
        .cmd()
        .args(["auth", "login", "acme", "--flow", "device"])
        .timeout(Duration::from_secs(30))
        .write_stdin("")
        .assert()
        .success();
    let err = stderr(&a);
    assert_clean("the device prompt", &err);
    assert!(
        err.contains("warning: the provider sent a verification page that is not https"),
        "{err}"
    );
    let file = fs::read_to_string(env.file("acme", "default")).expect("stored");
    assert_clean("the credential file", &file);
    let list = env.run(&["auth", "list"]).success();
    assert_clean("auth list", &stdout(&list));
    let json = env.list_json();
    assert_clean("auth list --json", &json.to_string());
    let expires_in = json[0]["expires_in"]
        .as_i64()
        .expect("expires_in as a string is read");
    assert!((3590..=3600).contains(&expires_in), "{expires_in}");
}

#[test]
fn a_verification_page_on_another_host_is_flagged() {
    let env = TestEnv::new();
    let device = json!({
        "device_code": "dc-1",
        "user_code": "WDJB-MJHT",
        "verification_uri": "https://login.evil.example/activate",
        "expires_in": 600,
        "interval": 1,
    });
    let _fake = device_provider(&env, device, tokens("at-ok", None, Some(3600)));
    let a = env
        .run(&["auth", "login", "acme", "--flow", "device"])
        .success();
    assert!(
        stderr(&a)
            .contains("warning: the verification page is on login.evil.example, not on 127.0.0.1"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn hostile_error_text_reaches_no_terminal_file_or_json() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(
        ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": format!("revoked{HOSTILE}"),
        })),
        Some(1),
    );
    // An error code that is no OAuth code is a configuration problem.
    fake.token_answers(
        ResponseTemplate::new(400).set_body_json(json!({
            "error": format!("invalid_grant{HOSTILE}"),
        })),
        None,
    );
    for code in [4, 6] {
        let a = env.run(&["auth", "token", "acme"]).code(code);
        assert_clean("stderr", &stderr(&a));
        assert!(stderr(&a).contains("invalid_grant"), "{}", stderr(&a));
        let record =
            fs::read_to_string(env.oauth_dir().join("acme@default.error")).expect("record");
        assert_clean("the error record", &record);
        assert_clean("auth list --json", &env.list_json().to_string());
    }
}

#[test]
fn a_token_that_would_inject_a_header_is_refused_and_nothing_changes() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    let before = env.file_bytes("acme", "default");
    fake.token_answers(
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-new\r\nX-Injected: yes",
            "token_type": "bearer",
            "expires_in": 3600,
        })),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(5).stdout("");
    assert!(stderr(&a).contains("RFC 6750"), "{}", stderr(&a));
    assert_clean("stderr", &stderr(&a));
    assert_eq!(env.file_bytes("acme", "default"), before);
}

#[test]
fn a_token_that_would_inject_a_header_is_never_stored_at_sign_in() {
    let env = TestEnv::new();
    let device = json!({
        "device_code": "dc-1",
        "user_code": "WDJB-MJHT",
        "verification_uri": "http://127.0.0.1/activate",
        "expires_in": 600,
        "interval": 1,
    });
    let answer = ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "ok",
        "refresh_token": "rt\r\nX-Injected: yes",
        "token_type": "bearer",
    }));
    let _fake = device_provider(&env, device, answer);
    let a = env
        .run(&["auth", "login", "acme", "--flow", "device"])
        .code(5);
    assert!(stderr(&a).contains("refresh token"), "{}", stderr(&a));
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn an_echoed_request_body_leaks_no_encoded_refresh_token() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    // `/`, `+` and `=` change under form encoding.
    let refresh = "rt/ab+cd=ef/SECRET";
    env.seed_expired("at-old", refresh);
    fake.token_answers(
        ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_request",
            "error_description": "bad body: grant_type=refresh_token&refresh_token=rt%2Fab%2Bcd%3Def%2FSECRET&client_id=cli, decoded rt/ab+cd=ef/SECRET, lower rt%2fab%2bcd%3def%2fSECRET",
        })),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(6);
    let record = fs::read_to_string(env.oauth_dir().join("acme@default.error")).expect("record");
    for (what, text) in [
        ("stderr", stderr(&a)),
        ("the error record", record),
        ("auth list --json", env.list_json().to_string()),
    ] {
        assert!(!text.contains("SECRET"), "{what} leaked: {text}");
        assert!(text.contains("***"), "{what} shows the blank: {text}");
    }
}

#[test]
fn a_device_interval_of_years_does_not_outlast_the_code() {
    // RFC 8628 makes the interval a floor; a provider that sends 10^12 s
    // must not park the terminal past the code's own two-second life.
    let env = TestEnv::new();
    let device = json!({
        "device_code": "dc-1",
        "user_code": "WDJB-MJHT",
        "verification_uri": "http://127.0.0.1/activate",
        "expires_in": 2,
        "interval": 1_000_000_000_000u64,
    });
    let fake = device_provider(&env, device, oauth_pending());
    let started = std::time::Instant::now();
    let a = env
        .cmd()
        .args(["auth", "login", "acme", "--flow", "device"])
        .timeout(Duration::from_secs(20))
        .write_stdin("")
        .assert()
        .code(4);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(stderr(&a).contains("expired"), "{}", stderr(&a));
    assert!(fake.token_requests().len() <= 1);
}

fn oauth_pending() -> ResponseTemplate {
    crate::common::fake::oauth_error(400, "authorization_pending", "waiting")
}

#[test]
fn hostile_claims_in_an_id_token_are_shown_cleaned() {
    use base64::Engine as _;
    let env = TestEnv::fixed_clock();
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = json!({
        "sub": format!("user{HOSTILE}"),
        "email": format!("alice{HOSTILE}@example.com"),
    });
    let jwt = format!(
        "{}.{}.sig",
        enc.encode(br#"{"alg":"none"}"#),
        enc.encode(claims.to_string())
    );
    let mut token = oauth("at-1", Some("rt-1"), "2026-06-01T11:30:00Z", None);
    token.id_token = Some(credctl::secret::Secret::new(jwt));
    env.seed_oauth("acme", "default", token);
    for args in [
        &["auth", "status"][..],
        &["auth", "status", "--json"],
        &["auth", "list"],
        &["auth", "list", "--json"],
    ] {
        let a = env.run(args).success();
        assert_clean(&args.join(" "), &stdout(&a));
        assert_clean(&args.join(" "), &stderr(&a));
    }
    let a = env.run(&["auth", "status"]).success();
    assert!(stdout(&a).contains("alice"), "{}", stdout(&a));
}
