//! `auth status`: who each credential is, where it came from, and, with
//! `--check`, what the provider says of its token — never "rejected" for
//! a network failure.

use crate::common::idp::{self, Idp};
use crate::common::*;

#[test]
fn sign_in_names_who_and_status_shows_where_from() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config(&format!(
        "[providers.idp]\nissuer = \"{}\"\nclient_id = \"{}\"\nscopes = [\"openid\", \"email\", \"offline_access\"]\n",
        idp.issuer(),
        idp::PUBLIC_CLIENT_ID
    ));
    let done = browser_login(&env, &idp, "default");
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("Logged in to idp as alice@example.test (account default)"),
        "{}",
        done.stderr
    );
    let a = env.run(&["auth", "status", "idp", "--json"]).success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    let item = &items[0];
    assert_eq!(item["sub"], "alice");
    assert_eq!(item["name"], "alice@example.test");
    assert_eq!(item["issuer"], idp.issuer());
    assert_eq!(item["client_id"], idp::PUBLIC_CLIENT_ID);
    for key in [
        "provider",
        "account",
        "scopes",
        "expires_at",
        "expires_in",
        "last_refresh_at",
        "last_error",
        "refreshable",
    ] {
        assert!(item.get(key).is_some(), "{key} in {item}");
    }
    assert!(item.get("check").is_none(), "no check without --check");
    assert!(!stdout(&a).contains(&access_token(&env.stored("idp", "default"))));
    let a = env.run(&["auth", "status"]).success();
    assert!(
        stdout(&a).contains("signed in as alice@example.test (sub alice)"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn check_says_valid_rejected_or_could_not_check() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    env.login_with_token("apikey", "default", "sk-static");

    let a = env
        .run(&["auth", "status", "idp", "--check", "--json"])
        .success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    assert_eq!(items[0]["check"], "valid", "{items}");
    // The key is there for every checked credential: null when valid.
    assert_eq!(items[0].get("check_reason"), Some(&serde_json::Value::Null));
    // Without --check, neither key.
    let a = env.run(&["auth", "status", "idp", "--json"]).success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    assert!(items[0].get("check").is_none() && items[0].get("check_reason").is_none());

    // A static token has nothing to ask: unchecked, exit 5.
    let a = env.run(&["auth", "status", "apikey", "--check"]).code(5);
    assert!(
        stdout(&a).contains("check        unchecked"),
        "{}",
        stdout(&a)
    );

    // Revoked at the provider: rejected, exit 4.
    let entry = env.stored("idp", "default");
    let revoked = idp.revoke(&refresh_token(&entry).expect("refresh token"));
    assert!(revoked);
    let a = env.run(&["auth", "status", "idp", "--check"]).code(4);
    assert!(
        stdout(&a).contains("check        rejected"),
        "{}",
        stdout(&a)
    );

    // The provider is gone: could not check (exit 5), never "rejected".
    drop(idp);
    let a = env.run(&["auth", "status", "idp", "--check"]).code(5);
    assert!(
        stdout(&a).contains("check        unchecked: the check of"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn without_an_id_token_the_identity_is_unknown() {
    let env = TestEnv::new();
    env.login_with_token("apikey", "default", "sk-1");
    let a = env.run(&["auth", "status"]).success();
    assert!(
        stdout(&a).contains("signed in as unknown (no id_token)"),
        "{}",
        stdout(&a)
    );
    env.run(&["auth", "status", "nosuch"]).code(3);
}

#[test]
fn a_check_against_a_changed_config_exits_6_and_sends_nothing() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    let token = access_token(&env.stored("idp", "default"));

    // The config now names another issuer, one that would gladly answer.
    let other = eager_issuer();
    let uri = other.server.uri();
    env.config(&format!(
        "[providers.idp]\nissuer = \"{uri}\"\nclient_id = \"{}\"\n",
        idp::PUBLIC_CLIENT_ID
    ));
    let a = env.run(&["auth", "status", "idp", "--check"]).code(6);
    assert!(
        stdout(&a).contains("check        unchecked"),
        "{}",
        stdout(&a)
    );
    assert!(
        stderr(&a).contains("fix the configuration"),
        "{}",
        stderr(&a)
    );
    let seen = other.received();
    assert!(
        seen.iter().all(|r| !r.contains(&token)),
        "the token went to the newly configured issuer: {seen:?}"
    );
}

/// An issuer that would answer anything, discovery and userinfo alike.
fn eager_issuer() -> crate::common::fake::Fake {
    let fake = crate::common::fake::Fake::start();
    let uri = fake.server.uri();
    fake.mount(
        wiremock::Mock::given(wiremock::matchers::any()).respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "issuer": uri,
                "token_endpoint": format!("{uri}/token"),
                "userinfo_endpoint": format!("{uri}/userinfo"),
                "sub": "alice",
            })),
        ),
    );
    fake
}

#[test]
fn check_never_sends_a_token_where_it_did_not_come_from() {
    // A credential stored before origins were recorded: whatever the config
    // names now is not where it came from.
    let env = TestEnv::fixed_clock();
    let fake = eager_issuer();
    env.config(&format!(
        "[providers.acme]\nissuer = \"{}\"\nclient_id = \"cli\"\n",
        fake.server.uri()
    ));
    env.seed_oauth(
        "acme",
        "default",
        oauth(
            "at-legacy",
            Some("rt-legacy"),
            "2026-06-01T11:30:00Z",
            Some("2026-06-01T13:00:00Z"),
        ),
    );
    let a = env.run(&["auth", "status", "acme", "--check"]).code(5);
    assert!(
        stdout(&a).contains("it records no provider to ask"),
        "{}",
        stdout(&a)
    );
    let seen = fake.received();
    assert!(
        seen.iter().all(|r| !r.contains("at-legacy")),
        "the token was sent: {seen:?}"
    );

    // A static token has no provider to ask either.
    env.login_with_token("apikey", "default", "sk-static");
    let a = env.run(&["auth", "status", "apikey", "--check"]).code(5);
    assert!(
        stdout(&a).contains("it records no provider to ask"),
        "{}",
        stdout(&a)
    );
}
