//! As ssh's StrictModes: `$CREDCTL_HOME`, `oauth/`, `config.toml` and every
//! file in `oauth/` must be ours and not writable by others; a refusal
//! exits 7 with the fix. Planted links are never followed. Temporary files
//! are 0600 from their first byte (checked with strace).

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};

use crate::common::fake::{Fake, tokens};
use crate::common::*;

/// An expiring `acme` credential whose refresh would go to `fake`.
fn expiring(env: &TestEnv) -> Fake {
    let fake = Fake::serving(env);
    env.seed_oauth(
        "acme",
        "default",
        oauth(
            "at-old",
            Some("rt-old"),
            "2026-06-01T11:02:00Z",
            Some("2026-06-01T12:02:00Z"),
        ),
    );
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    fake
}

fn chmod(path: &std::path::Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_config_others_can_write_is_refused_and_nothing_is_sent() {
    let env = TestEnv::fixed_clock();
    let fake = expiring(&env);
    let config = env.home().join("config.toml");
    for mode in [0o666, 0o620, 0o602] {
        chmod(&config, mode);
        let a = env.run(&["auth", "token", "acme"]).code(7).stdout("");
        let err = stderr(&a);
        assert!(err.contains("is writable by other users"), "{err}");
        assert!(
            err.contains(&format!("chmod {:o} {}", mode & 0o644, config.display())),
            "{err}"
        );
    }
    assert!(
        fake.token_requests().is_empty(),
        "no refresh token was sent"
    );
    // Readable by others is fine when it holds no secret.
    chmod(&config, 0o644);
    env.run(&["auth", "token", "acme"]).success();
}

#[test]
fn a_config_or_credential_owned_by_another_user_is_refused() {
    if !is_root() {
        return; // chown needs root; CI runs the tests as root.
    }
    let env = TestEnv::fixed_clock();
    let fake = expiring(&env);
    let config = env.home().join("config.toml");
    std::os::unix::fs::chown(&config, Some(NOBODY), Some(NOBODY)).expect("chown");
    let a = env.run(&["auth", "token", "acme"]).code(7);
    let err = stderr(&a);
    assert!(
        err.contains("is owned by uid 65534, not by you (uid 0)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("chown 0 {}", config.display())),
        "{err}"
    );
    assert!(fake.token_requests().is_empty());

    std::os::unix::fs::chown(&config, Some(0), Some(0)).expect("chown");
    let file = env.file("acme", "default");
    std::os::unix::fs::chown(&file, Some(NOBODY), Some(NOBODY)).expect("chown");
    let a = env.run(&["auth", "token", "acme"]).code(7).stdout("");
    assert!(stderr(&a).contains("owned by uid 65534"), "{}", stderr(&a));
}

#[test]
fn a_credctl_home_others_can_write_is_refused() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    chmod(&env.home(), 0o777);
    let a = env.run(&["auth", "token", "acme"]).code(7).stdout("");
    let err = stderr(&a);
    assert!(
        err.contains(&format!("chmod 755 {}", env.home().display())),
        "{err}"
    );
    chmod(&env.home(), 0o755);
    env.run(&["auth", "token", "acme"]).success();
}

#[test]
fn a_planted_credential_link_is_refused_not_followed() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-real");
    env.login_with_token("other", "default", "sk-other");
    fs::remove_file(env.file("acme", "default")).expect("rm");
    symlink(env.file("other", "default"), env.file("acme", "default")).expect("link");
    let a = env.run(&["auth", "token", "acme"]).code(7).stdout("");
    assert!(stderr(&a).contains("is a symbolic link"), "{}", stderr(&a));
    let a = env.run(&["auth", "list"]).code(7);
    assert!(stdout(&a).contains("other"), "the others are listed");
}

#[test]
fn a_dangling_lock_link_never_creates_its_target() {
    let env = TestEnv::fixed_clock();
    let fake = expiring(&env);
    let target = env.root.path().join("outside-the-store");
    let lock = env.oauth_dir().join("acme@default.lock");
    fs::remove_file(&lock).expect("rm");
    symlink(&target, &lock).expect("link");
    // A tampered store hands out nothing, even a token inside the margin.
    let a = env.run(&["auth", "token", "acme"]).code(7).stdout("");
    assert!(stderr(&a).contains("is a symbolic link"), "{}", stderr(&a));
    assert!(!target.exists(), "credctl created the link's target");
    assert!(fake.token_requests().is_empty());
    env.run(&["auth", "logout", "acme", "--local-only"]).code(7);
    assert!(!target.exists());
}

#[test]
fn a_planted_error_record_link_is_reported() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    let target = env.root.path().join("elsewhere.json");
    fs::write(&target, "{}").expect("write");
    symlink(&target, env.oauth_dir().join("acme@default.error")).expect("link");
    let a = env.run(&["auth", "list"]).code(7);
    assert!(
        stderr(&a).contains("acme@default.error is a symbolic link"),
        "{}",
        stderr(&a)
    );
}

/// Every file credctl creates in `oauth/` is created 0600 — the mode given
/// to the open call itself — and no mode is changed afterwards. A file
/// created wider and narrowed later would be readable for an instant.
#[test]
fn files_are_created_0600_from_the_first_byte() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    let trace = env.root.path().join("trace");
    let script = format!(
        r#"umask 000; strace -f -qq -e trace=open,openat,creat,chmod,fchmod,fchmodat -o '{}' "$0" auth token acme \
           && printf 'sk-1\n' | strace -f -qq -e trace=open,openat,creat,chmod,fchmod,fchmodat -o '{}.2' "$0" auth login beta --with-token"#,
        trace.display(),
        trace.display()
    );
    let out = env.sh(&script).output().expect("sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = fs::read_to_string(&trace).expect("trace");
    text.push_str(&fs::read_to_string(trace.with_extension("2")).expect("trace"));
    let dir = env.oauth_dir().display().to_string();
    let mut created = 0;
    for line in text.lines().filter(|l| l.contains(&dir)) {
        assert!(
            !line.contains("chmod"),
            "a mode was changed after creation: {line}"
        );
        if line.contains("O_CREAT") {
            created += 1;
            assert!(line.contains(", 0600)"), "created wider than 0600: {line}");
        }
    }
    // The refresh's temporary file and lock, the login's temporary file and lock.
    assert!(created >= 4, "saw {created} creations:\n{text}");
}

#[test]
fn a_login_into_a_store_others_can_reach_is_refused_before_anything_is_sent() {
    // Tokens the provider hands out and credctl cannot keep are wasted at
    // best; the store is judged before the first request.
    let env = TestEnv::new();
    let fake = Fake::start();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"m\"\nclient_secret = \"s\"\ntoken_url = \"{}\"\nflow = \"client_credentials\"\n",
        fake.token_url()
    ));
    fake.token_answers(tokens("at-machine", None, Some(3600)), None);
    fs::create_dir_all(env.oauth_dir()).expect("oauth dir");
    for (dir, mode) in [(env.oauth_dir(), 0o750), (env.home(), 0o770)] {
        chmod(&dir, mode);
        let a = env.run(&["auth", "login", "acme"]).code(7);
        assert!(
            stderr(&a).contains(&dir.display().to_string()),
            "{}",
            stderr(&a)
        );
        assert!(
            fake.token_requests().is_empty(),
            "{mode:o}: a grant was spent"
        );
        chmod(&dir, 0o700);
    }
    env.run(&["auth", "login", "acme"]).success();
    assert_eq!(fake.token_requests().len(), 1);
}
