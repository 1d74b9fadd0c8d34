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
