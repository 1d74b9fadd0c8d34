//! Names are validated before anything touches the disk.

use crate::common::*;

const BAD: [&str; 5] = ["../x", "a/b", "", "UPPER", "a-very-long-name"];

fn bad_names() -> Vec<String> {
    let mut names: Vec<String> = BAD.iter().map(|s| s.to_string()).collect();
    names[4] = "n".repeat(200);
    names
}

#[test]
fn bad_provider_and_account_names_are_usage_errors_and_write_nothing() {
    let env = TestEnv::new();
    for bad in bad_names() {
        env.cmd()
            .args(["auth", "login", &bad, "--with-token"])
            .write_stdin("tok\n")
            .assert()
            .code(2);
        env.cmd()
            .args(["auth", "login", "acme", "--account", &bad, "--with-token"])
            .write_stdin("tok\n")
            .assert()
            .code(2);
        env.run(&["auth", "token", &bad]).code(2);
        env.run(&["auth", "token", "acme", "--account", &bad])
            .code(2);
        env.run(&["auth", "logout", &bad]).code(2);
        env.run(&["auth", "logout", "acme", "--account", &bad])
            .code(2);
    }
    assert_eq!(env.tree(), vec!["home".to_string()], "nothing was written");
}

#[test]
fn the_error_says_what_a_name_may_hold() {
    let env = TestEnv::new();
    let a = env.run(&["auth", "token", "../x"]).code(2);
    assert!(stderr(&a).contains("a-z, 0-9"), "{}", stderr(&a));
}
