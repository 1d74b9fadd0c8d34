//! `auth logout`: local deletion, one account or all.

use crate::common::*;

#[test]
fn logout_removes_one_credential_and_keeps_the_others() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "a");
    env.login_with_token("acme", "work", "b");
    env.login_with_token("beta", "default", "c");
    let a = env.run(&["auth", "logout", "acme"]).success().stdout("");
    assert!(
        stderr(&a).contains("acme (account default)"),
        "{}",
        stderr(&a)
    );
    assert!(!env.file("acme", "default").exists());
    env.run(&["auth", "token", "acme"]).success().stdout("b\n");
    env.run(&["auth", "token", "beta"]).success();
}

#[test]
fn logout_of_nothing_exits_3() {
    let env = TestEnv::new();
    env.run(&["auth", "logout", "acme"]).code(3);
}

#[test]
fn logout_all_removes_everything_and_says_what() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "a");
    env.login_with_token("acme", "work", "b");
    env.login_with_token("beta", "default", "c");
    let a = env.run(&["auth", "logout", "acme", "--all"]).success();
    assert_eq!(stderr(&a).matches("Logged out of").count(), 2);
    env.run(&["auth", "token", "beta"]).success();
    let a = env.run(&["auth", "logout", "--all"]).success();
    assert_eq!(stderr(&a).matches("Logged out of").count(), 1);
    env.run(&["auth", "list", "--json"])
        .success()
        .stdout("[]\n");
    env.run(&["auth", "logout", "--all"]).success();
}

#[test]
fn a_corrupt_credential_can_still_be_logged_out() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "a");
    std::fs::write(env.file("acme", "default"), b"").expect("truncate");
    env.run(&["auth", "logout", "acme"]).success();
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn a_config_problem_stops_the_logout_before_anything_is_deleted() {
    let env = TestEnv::new();
    env.seed_oauth(
        "acme",
        "default",
        oauth(
            "at",
            Some("rt"),
            "2026-06-01T11:00:00Z",
            Some("2026-06-01T12:00:00Z"),
        ),
    );
    env.config("[providers.acme\n");
    let a = env.run(&["auth", "logout", "--all"]).code(6);
    assert!(stderr(&a).contains("--local-only"), "{}", stderr(&a));
    assert!(env.file("acme", "default").exists(), "nothing was deleted");
    env.run(&["auth", "logout", "acme", "--local-only"])
        .success();
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn an_unreadable_trust_store_stops_the_logout_before_anything_is_deleted() {
    // The HTTP client is built at the first request; a trust store that
    // cannot be read is a local problem that prevents revoking, and
    // deleting would lose the only copy of a token never revoked.
    let idp = crate::common::idp::Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    let refresh = refresh_token(&env.stored("idp", "default")).expect("refresh token");
    env.set("SSL_CERT_FILE", "/nonexistent/ca.pem");
    let a = env.run(&["auth", "logout", "idp"]).code(6);
    let err = stderr(&a);
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    assert!(err.contains("--local-only"), "{err}");
    assert!(env.file("idp", "default").exists(), "nothing was deleted");
    assert_eq!(
        idp.introspect(&refresh)["active"],
        true,
        "nothing was revoked"
    );
}
