//! No command shows a token on stderr, even at -vv.

use crate::common::*;

#[test]
fn no_command_shows_a_token_on_stderr_at_vv() {
    let env = TestEnv::fixed_clock();
    let static_token = "sk-REDACTION-CANARY-static";
    env.cmd()
        .args(["-vv", "auth", "login", "acme", "--with-token"])
        .write_stdin(format!("{static_token}\n"))
        .assert()
        .success();
    env.seed_oauth(
        "beta",
        "default",
        oauth(
            "at-REDACTION-CANARY",
            Some("rt-REDACTION-CANARY"),
            "2026-06-01T11:58:00Z",
            Some("2026-06-01T12:01:00Z"),
        ),
    );
    let runs: Vec<Vec<&str>> = vec![
        vec!["-vv", "auth", "list"],
        vec!["-vv", "auth", "list", "--json"],
        vec!["-vv", "auth", "token", "acme"],
        vec!["-vv", "auth", "token", "beta"],
        vec!["-vv", "auth", "logout", "beta"],
        vec!["-vv", "auth", "logout", "--all"],
    ];
    for args in runs {
        let a = env.cmd().args(&args).write_stdin("").assert();
        let err = stderr(&a);
        assert!(!err.contains("REDACTION-CANARY"), "{args:?} leaked: {err}");
        if !args.contains(&"token") {
            assert!(
                !stdout(&a).contains("REDACTION-CANARY"),
                "{args:?} leaked on stdout"
            );
        }
    }
}
