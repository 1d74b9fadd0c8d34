//! Storage faults: each gets its own exit code and a message that names the
//! path, and leaves the other credentials intact. (A directory, a 0644 file,
//! a truncated, empty or future-version file: see store.rs.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use wiremock::ResponseTemplate;

use crate::common::fake::{Fake, tokens};
use crate::common::*;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_read_only_oauth_directory_refuses_writes_and_keeps_reads_working() {
    let env = TestEnv::new();
    env.login_with_token("other", "default", "good-token");
    fs::set_permissions(env.oauth_dir(), fs::Permissions::from_mode(0o500)).expect("chmod");

    let out = env.run_unprivileged(&["auth", "login", "acme", "--with-token"], "new-token\n");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&env.oauth_dir().display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("Permission denied") && err.contains("check the owner and permissions"),
        "{err}"
    );

    let out = env.run_unprivileged(&["auth", "token", "other"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "good-token\n");
    assert!(!env.file("acme", "default").exists());
}

/// A full disk: a small tmpfs on `$CREDCTL_HOME`, filled up, where mounting
/// is allowed; elsewhere a file-size limit of 0 makes every write fail the
/// same way (EFBIG instead of ENOSPC), through a shell that ignores SIGXFSZ.
struct FullDisk {
    tmpfs: Option<Tmpfs>,
}

impl FullDisk {
    /// Call before anything is written under `$CREDCTL_HOME`.
    fn prepare(env: &TestEnv) -> FullDisk {
        FullDisk {
            tmpfs: Tmpfs::mount(&env.home(), "64k"),
        }
    }

    fn run(&self, env: &TestEnv, args: &[&str], stdin: &str) -> Output {
        let script = match &self.tmpfs {
            Some(tmpfs) => {
                tmpfs.fill();
                r#"printf '%s' "$STDIN" | exec "$0" "$@""#
            }
            None => r#"trap '' XFSZ; ulimit -f 0; printf '%s' "$STDIN" | exec "$0" "$@""#,
        };
        env.sh(script)
            .env("STDIN", stdin)
            .args(args)
            .output()
            .expect("sh")
    }

    fn reason(&self) -> &'static str {
        if self.tmpfs.is_some() {
            "the disk is full"
        } else {
            "File too large"
        }
    }
}

#[test]
fn a_full_disk_fails_the_write_names_the_file_and_loses_nothing() {
    let env = TestEnv::new();
    let disk = FullDisk::prepare(&env);
    env.login_with_token("other", "default", "good-token");
    env.login_with_token("acme", "default", "old-token");
    let before = fs::read(env.file("acme", "default")).expect("read");

    let out = disk.run(
        &env,
        &["auth", "login", "acme", "--with-token"],
        &"n".repeat(8000),
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(disk.reason()), "{err}");
    assert!(
        err.contains(&env.file("acme", "default").display().to_string()),
        "{err}"
    );
    assert_eq!(fs::read(env.file("acme", "default")).expect("read"), before);
    assert_eq!(
        env.store_files(".tmp").len(),
        0,
        "a failed write removes its temporary file"
    );
    env.run(&["auth", "token", "other"])
        .success()
        .stdout("good-token\n");
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("old-token\n");
}

#[test]
fn a_refresh_that_cannot_be_saved_says_what_to_do() {
    let env = TestEnv::fixed_clock();
    let disk = FullDisk::prepare(&env);
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    let before = fs::read(env.file("acme", "default")).expect("read");
    fake.token_answers(
        tokens(&"a".repeat(20_000), Some("rt-new"), Some(3600)),
        Some(1),
    );
    fake.token_answers(ResponseTemplate::new(500), None);

    let out = disk.run(&env, &["auth", "token", "acme"], "");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "no token is handed out unsaved");
    let err = text(&out.stderr);
    assert!(err.contains("saving the refreshed tokens of acme"), "{err}");
    assert!(err.contains(disk.reason()), "{err}");
    assert!(err.contains("credctl auth login acme"), "{err}");
    assert_eq!(fs::read(env.file("acme", "default")).expect("read"), before);
    assert_eq!(fake.token_requests().len(), 1);
}
