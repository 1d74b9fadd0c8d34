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
    // beta's token is inside the margin and beta is not configured: its
    // refresh fails, and the still-valid token is printed with a warning.
    let runs: Vec<(Vec<&str>, i32)> = vec![
        (vec!["-vv", "auth", "list"], 0),
        (vec!["-vv", "auth", "list", "--json"], 0),
        (vec!["-vv", "auth", "token", "acme"], 0),
        (vec!["-vv", "auth", "token", "beta"], 0),
        (vec!["-vv", "auth", "logout", "beta"], 0),
        (vec!["-vv", "auth", "logout", "--all"], 0),
        (vec!["-vv", "auth", "token", "beta"], 3),
    ];
    for (args, code) in runs {
        let a = env.cmd().args(&args).write_stdin("").assert().code(code);
        let err = stderr(&a);
        assert!(!err.contains("REDACTION-CANARY"), "{args:?} leaked: {err}");
        if args.contains(&"token") && code == 0 {
            assert!(
                stdout(&a).contains("REDACTION-CANARY"),
                "{args:?} printed its token"
            );
        } else {
            assert!(
                !stdout(&a).contains("REDACTION-CANARY"),
                "{args:?} leaked on stdout"
            );
        }
    }
}
