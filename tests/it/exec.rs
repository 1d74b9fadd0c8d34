//! `auth exec`: the command runs with the token in its environment, never
//! in its argv, as the process credctl was (exit status and signals pass
//! through), and not at all when no token can be had.

use std::os::unix::process::ExitStatusExt;

use crate::common::*;

#[test]
fn the_child_sees_the_token_in_its_environment_not_in_its_argv() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-EXEC-CANARY");
    let a = env
        .run(&[
            "auth",
            "exec",
            "acme",
            "--",
            "sh",
            "-c",
            r#"printf '%s|' "$CREDCTL_TOKEN"; tr '\0' ' ' < /proc/self/cmdline"#,
        ])
        .success();
    let out = stdout(&a);
    let (seen, argv) = out.split_once('|').expect("two parts");
    assert_eq!(seen, "sk-EXEC-CANARY");
    assert!(!argv.contains("CANARY"), "the token is in argv: {argv}");
    // Several --env replace the default name.
    let a = env
        .run(&[
            "auth",
            "exec",
            "acme",
            "--env",
            "GH_TOKEN",
            "--env",
            "GITHUB_TOKEN",
            "--",
            "sh",
            "-c",
            r#"printf '%s %s %s' "$GH_TOKEN" "$GITHUB_TOKEN" "${CREDCTL_TOKEN:-unset}""#,
        ])
        .success();
    assert_eq!(stdout(&a), "sk-EXEC-CANARY sk-EXEC-CANARY unset");
}

#[test]
fn exit_status_and_signals_are_the_command_s() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    env.run(&["auth", "exec", "acme", "--", "sh", "-c", "exit 42"])
        .code(42);
    let out = env
        .command(BIN)
        .args(["auth", "exec", "acme", "--", "sh", "-c", "kill -TERM $$"])
        .output()
        .expect("run");
    assert_eq!(out.status.signal(), Some(15), "the command's signal");
    let a = env
        .run(&["auth", "exec", "acme", "--", "no-such-command-anywhere"])
        .code(127);
    assert!(
        stderr(&a).contains("no-such-command-anywhere"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn without_a_token_the_command_never_runs() {
    let env = TestEnv::new();
    let marker = env.root.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    env.run(&["auth", "exec", "acme", "--", "sh", "-c", &script])
        .code(3);
    assert!(!marker.exists(), "the command ran without a token");
    env.run(&["auth", "exec", "acme", "--env", "1BAD", "--", "true"])
        .code(2);
}
