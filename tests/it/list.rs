//! `auth list`: statuses and countdowns for a fixed clock, and never a token.

use crate::common::*;

const TOKENS: [&str; 7] = [
    "at-valid",
    "rt-valid",
    "at-expiring",
    "rt-expiring",
    "at-expired",
    "sk-static",
    "rt-",
];

#[test]
fn the_table_shows_status_and_countdowns() {
    let env = TestEnv::fixed_clock();
    env.seed_one_of_each();
    let a = env.run(&["auth", "list"]).success();
    insta::assert_snapshot!(stdout(&a), @r"
    PROVIDER  ACCOUNT  KIND    STATUS    EXPIRES         SCOPES
    acme      default  oauth   valid     in 59m 12s      openid offline_access
    acme      work     oauth   expiring  in 2m           openid offline_access
    beta      default  oauth   expired   expired 3h ago  openid offline_access
    gamma     default  static  unknown   unknown         -
    ");
    assert!(stderr(&a).contains(&env.oauth_dir().display().to_string()));
}

#[test]
fn json_has_the_documented_fields_and_no_token() {
    let env = TestEnv::fixed_clock();
    env.seed_one_of_each();
    let a = env.run(&["auth", "list", "--json"]).success();
    let out = stdout(&a);
    for token in TOKENS {
        assert!(!out.contains(token), "{token} leaked into {out}");
    }
    let items: serde_json::Value = serde_json::from_str(&out).expect("json");
    let summary: Vec<_> = items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| {
            (
                i["provider"].as_str().expect("provider").to_string(),
                i["account"].as_str().expect("account").to_string(),
                i["kind"].as_str().expect("kind").to_string(),
                i["status"].as_str().expect("status").to_string(),
                i["expires_at"].clone(),
                i["expires_in"].clone(),
                i["refreshable"].as_bool().expect("refreshable"),
                i["scopes"].as_array().expect("scopes").len(),
            )
        })
        .collect();
    use serde_json::Value as V;
    assert_eq!(
        summary,
        vec![
            (
                "acme".into(),
                "default".into(),
                "oauth".into(),
                "valid".into(),
                V::from("2026-06-01T12:59:12Z"),
                V::from(3552),
                true,
                2
            ),
            (
                "acme".into(),
                "work".into(),
                "oauth".into(),
                "expiring".into(),
                V::from("2026-06-01T12:02:00Z"),
                V::from(120),
                true,
                2
            ),
            (
                "beta".into(),
                "default".into(),
                "oauth".into(),
                "expired".into(),
                V::from("2026-06-01T09:00:00Z"),
                V::from(-10800),
                false,
                2
            ),
            (
                "gamma".into(),
                "default".into(),
                "static".into(),
                "unknown".into(),
                V::Null,
                V::Null,
                false,
                0
            ),
        ]
    );
}

#[test]
fn an_empty_store_says_so_on_stderr_and_exits_0() {
    let env = TestEnv::new();
    let a = env.run(&["auth", "list"]).success().stdout("");
    assert!(
        stderr(&a).contains("No credentials stored"),
        "{}",
        stderr(&a)
    );
    env.run(&["auth", "list", "--json"])
        .success()
        .stdout("[]\n");
}

#[test]
fn list_never_creates_the_store() {
    let env = TestEnv::new();
    env.run(&["auth", "list"]).success();
    assert!(!env.home().exists());
}

#[test]
fn a_large_store_is_listed_in_order_with_its_bad_files_named() {
    // Past 64 credentials the files are read on several threads: the order
    // and the reports must not depend on it.
    let env = TestEnv::new();
    for i in 0..150 {
        env.seed_static(
            &format!("p{}", i % 7),
            &format!("a{i:03}"),
            &format!("sk-{i}"),
        );
    }
    let bad = [env.file("p0", "a000"), env.file("p6", "a146")];
    for path in &bad {
        std::fs::write(path, b"{").expect("corrupt");
    }
    let a = env.run(&["auth", "list", "--json"]).code(7);
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    let listed: Vec<(String, String)> = items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| {
            (
                i["provider"].as_str().expect("p").into(),
                i["account"].as_str().expect("a").into(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 148);
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "listed in order");
    for path in &bad {
        assert!(
            stderr(&a).contains(&path.display().to_string()),
            "{}",
            stderr(&a)
        );
    }
}

#[test]
fn a_thread_that_cannot_be_started_is_not_a_crash() {
    // Under a process limit the threads of a large listing cannot start;
    // their share is read on the main thread.
    if !is_root() {
        return; // the limit must apply to a user of its own; CI runs as root.
    }
    let env = TestEnv::new();
    for i in 0..70 {
        env.seed_static("acme", &format!("a{i:02}"), "sk-1");
    }
    let mut prlimit = env.command("prlimit");
    prlimit.args(["--nproc=1", BIN, "auth", "list", "--json"]);
    let out = env.run_command_unprivileged(prlimit);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(items.as_array().map(Vec::len), Some(70));
}
