//! `auth login --with-token`: what is accepted, what is refused, what is kept.

use crate::common::*;

#[test]
fn the_trailing_newline_is_trimmed_and_nothing_is_echoed() {
    let env = TestEnv::new();
    let a = env
        .cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("sk-123\r\n")
        .assert()
        .success()
        .stdout("");
    assert!(!stderr(&a).contains("sk-123"));
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("sk-123\n");
}

#[test]
fn empty_and_oversized_input_is_refused_and_nothing_stored() {
    let env = TestEnv::new();
    for input in [String::new(), "\n".to_string(), "a".repeat(64 * 1024 + 1)] {
        env.cmd()
            .args(["auth", "login", "acme", "--with-token"])
            .write_stdin(input)
            .assert()
            .code(2)
            .stdout("");
    }
    env.cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("two\ntokens\n")
        .assert()
        .code(2);
    // It goes into Authorization headers: printable ASCII only (RFC 6750).
    for token in ["s\u{e9}same", "sk-\u{202e}1", "sk\u{7f}1"] {
        let a = env
            .cmd()
            .args(["auth", "login", "acme", "--with-token"])
            .write_stdin(format!("{token}\n"))
            .assert()
            .code(2);
        assert!(
            stderr(&a).contains("printable ASCII") || stderr(&a).contains("control characters"),
            "{token:?}: {}",
            stderr(&a)
        );
    }
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn a_token_of_exactly_64_kib_is_accepted() {
    let env = TestEnv::new();
    env.cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("a".repeat(64 * 1024))
        .assert()
        .success();
}

#[test]
fn logging_in_again_keeps_created_at_and_history() {
    let env = TestEnv::new();
    let mut first = env.seed_static("acme", "default", "old");
    first.metadata.refresh_count = 3;
    first
        .metadata
        .unknown
        .insert("label".into(), serde_json::Value::from("ci"));
    env.seed(&first);

    env.login_with_token("acme", "default", "new");
    let again = env.stored("acme", "default");
    assert_eq!(again.metadata.created_at, first.metadata.created_at);
    assert!(again.metadata.updated_at > first.metadata.updated_at);
    assert_eq!(again.metadata.refresh_count, 3);
    assert_eq!(again.metadata.unknown["label"], "ci");
    assert_eq!(access_token(&again), "new");
}

#[test]
fn a_jwt_gets_its_expiry_from_the_exp_claim() {
    use base64::Engine as _;
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // exp 2026-06-01T13:00:00Z
    let jwt = format!(
        "{}.{}.c2ln",
        enc.encode(r#"{"alg":"RS256"}"#),
        enc.encode(r#"{"sub":"me","exp":1780318800}"#)
    );
    let env = TestEnv::fixed_clock();
    env.login_with_token("acme", "default", &jwt);
    let a = env.run(&["auth", "list", "--json"]).success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    assert_eq!(items[0]["expires_at"], "2026-06-01T13:00:00Z");
    assert_eq!(items[0]["expires_in"], 3600);
}
