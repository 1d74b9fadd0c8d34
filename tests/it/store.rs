//! The store, seen from the built binary: modes, atomicity, concurrency and bad files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use credctl::token::Entry;

use crate::common::*;

#[test]
fn files_are_0600_and_directories_0700_even_under_umask_000() {
    let env = TestEnv::new();
    let out = env
        .sh(r#"umask 000; printf 'tok\n' | "$0" auth login acme --with-token && umask"#)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0000");

    assert_eq!(mode(&env.home()), 0o700);
    assert_eq!(mode(&env.oauth_dir()), 0o700);
    assert_eq!(mode(&env.file("acme", "default")), 0o600);
    assert_eq!(mode(&env.oauth_dir().join("acme@default.lock")), 0o600);
}

#[test]
fn a_replace_is_atomic_readers_never_see_a_torn_file() {
    let env = TestEnv::new();
    let store = env.store();
    let small = env.seed_static("acme", "default", "small");
    let mut big = small.clone();
    big.credential = credctl::token::Credential::Static(credctl::token::StaticToken {
        token: credctl::secret::Secret::new("b".repeat(200_000)),
        expires_at: None,
        obtained_at: now(),
        rejected_at: None,
        unknown: Default::default(),
    });

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        let store = store.clone();
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let entry = store
                    .load(&id("acme", "default"))
                    .expect("every read parses")
                    .expect("the file never disappears");
                let len = access_token(&entry).len();
                assert!(len == 5 || len == 200_000, "torn read: {len} bytes");
                reads += 1;
            }
            reads
        })
    };
    let guard = store
        .lock(&id("acme", "default"), &mut || {})
        .expect("lock");
    for i in 0..200 {
        let entry: &Entry = if i % 2 == 0 { &big } else { &small };
        store.save(&guard, entry).expect("save");
    }
    done.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader");
    assert!(reads > 0);
    assert_no_temp_files(&env);
}

#[test]
fn concurrent_writers_to_one_credential_leave_one_whole_file() {
    let env = TestEnv::new();
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut child = env
                .command(BIN)
                .args(["auth", "login", "acme", "--with-token"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "token-{i}").expect("write stdin");
            drop(stdin);
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let entry = env.stored("acme", "default");
    let token = access_token(&entry);
    assert!(
        token.starts_with("token-") && token["token-".len()..].parse::<u32>().is_ok_and(|n| n < 16),
        "{token}"
    );
    assert_no_temp_files(&env);
}

#[test]
fn concurrent_writers_to_different_accounts_all_survive() {
    let env = TestEnv::new();
    std::thread::scope(|s| {
        for i in 0..12 {
            let env = &env;
            s.spawn(move || env.login_with_token("acme", &format!("a{i}"), &format!("token-{i}")));
        }
    });
    let listing = env.store().list().expect("list");
    assert_eq!(listing.entries.len(), 12);
    assert!(listing.problems.is_empty());
}

fn assert_no_temp_files(env: &TestEnv) {
    let temps = env.store_files(".tmp");
    assert!(temps.is_empty(), "{temps:?}");
}

/// A bad file is reported by path with exit 7, never overwritten, and the
/// other credentials keep working.
fn assert_bad_file_is_contained(env: &TestEnv, expected: &str) {
    let path = env.file("acme", "default");
    let before = fs::read(&path).ok();
    let path_str = path.display().to_string();

    let a = env.run(&["auth", "token", "acme"]).code(7);
    let err = stderr(&a);
    assert!(err.contains(&path_str) && err.contains(expected), "{err}");
    assert!(stdout(&a).is_empty());

    let a = env.run(&["auth", "list"]).code(7);
    assert!(
        stdout(&a).contains("other"),
        "the good credential is still listed"
    );
    assert!(stderr(&a).contains(&path_str));

    env.run(&["auth", "token", "other"])
        .success()
        .stdout("good-token\n");

    env.cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("new-token\n")
        .assert()
        .code(7);
    assert_eq!(
        fs::read(&path).ok(),
        before,
        "the bad file was not overwritten"
    );
}

#[test]
fn a_corrupt_file_is_reported_and_contained() {
    let env = TestEnv::new();
    env.seed_static("other", "default", "good-token");
    env.seed_static("acme", "default", "tok");
    fs::write(
        env.file("acme", "default"),
        b"{\"version\":1, \"provider\": tru",
    )
    .expect("write");
    assert_bad_file_is_contained(&env, "not a valid credential file (truncated JSON");
}

#[test]
fn a_zero_byte_file_is_reported_and_contained() {
    let env = TestEnv::new();
    env.seed_static("other", "default", "good-token");
    env.seed_static("acme", "default", "tok");
    fs::write(env.file("acme", "default"), b"").expect("truncate");
    assert_bad_file_is_contained(&env, "empty (0 bytes)");
}

#[test]
fn a_file_from_a_newer_version_is_refused_not_rewritten() {
    let env = TestEnv::new();
    env.seed_static("other", "default", "good-token");
    env.seed_static("acme", "default", "tok");
    let path = env.file("acme", "default");
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replace("\"version\": 1", "\"version\": 2")).expect("write");
    assert_bad_file_is_contained(&env, "written by a newer credctl");
}

#[test]
fn a_directory_in_place_of_a_credential_is_contained() {
    let env = TestEnv::new();
    env.seed_static("other", "default", "good-token");
    fs::create_dir(env.file("acme", "default")).expect("mkdir");
    fs::set_permissions(
        env.file("acme", "default"),
        fs::Permissions::from_mode(0o700),
    )
    .expect("chmod");
    let a = env.run(&["auth", "token", "acme"]).code(7);
    assert!(
        stderr(&a).contains("a directory stands where a file belongs"),
        "{}",
        stderr(&a)
    );
    env.run(&["auth", "list"]).code(7);
    env.run(&["auth", "token", "other"]).success();
}

#[test]
fn a_file_other_users_can_read_is_refused_with_the_chmod_that_fixes_it() {
    let env = TestEnv::new();
    env.seed_static("acme", "default", "tok");
    let path = env.file("acme", "default");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let a = env.run(&["auth", "token", "acme"]).code(7);
    let err = stderr(&a);
    assert!(
        err.contains(&format!("chmod 600 {}", path.display())) && err.contains("0644"),
        "{err}"
    );
    assert!(stdout(&a).is_empty());
}

#[test]
fn a_directory_other_users_can_read_is_refused_with_the_chmod_that_fixes_it() {
    let env = TestEnv::new();
    env.seed_static("acme", "default", "tok");
    fs::set_permissions(env.oauth_dir(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let a = env.run(&["auth", "token", "acme"]).code(7);
    let err = stderr(&a);
    assert!(
        err.contains(&format!("chmod 700 {}", env.oauth_dir().display())),
        "{err}"
    );
    env.cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("x\n")
        .assert()
        .code(7);
}

#[test]
fn leftover_temp_files_are_ignored_then_cleaned_up() {
    let env = TestEnv::new();
    env.seed_static("acme", "default", "tok");
    let leftover = env.oauth_dir().join(".acme@default~AbC123.tmp");
    fs::write(&leftover, b"{\"version\":1,\"torn").expect("write");
    fs::set_permissions(&leftover, fs::Permissions::from_mode(0o600)).expect("chmod");

    let a = env.run(&["auth", "list", "--json"]).success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    assert_eq!(items.as_array().map(Vec::len), Some(1));

    env.login_with_token("acme", "default", "tok2");
    assert!(
        !leftover.exists(),
        "the next write under the lock removed it"
    );
}
