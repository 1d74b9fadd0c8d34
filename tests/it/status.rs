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
