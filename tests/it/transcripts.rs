//! What a person sees, as snapshots of exit code, stdout and stderr: every
//! row of the exit-code table, the tables of `auth list` and `auth
//! providers`, the device-flow prompt, and the `--help` of every command.
//! Paths, ports, times and tokens are normalised (`common::transcript`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::fake::{Fake, oauth_error};
use crate::common::*;

fn output(env: &TestEnv, args: &[&str]) -> Output {
    env.cmd()
        .args(args)
        .write_stdin("")
        .output()
        .expect("credctl runs")
}

// Exit 0.

#[test]
fn list_table() {
    let env = TestEnv::fixed_clock();
    env.seed_one_of_each();
    Normalize::new(&env).assert("list_table", &output(&env, &["auth", "list"]));
}

#[test]
fn list_json() {
    let env = TestEnv::fixed_clock();
    env.seed_one_of_each();
    Normalize::new(&env).assert("list_json", &output(&env, &["auth", "list", "--json"]));
}

#[test]
fn providers_table_and_json() {
    let env = TestEnv::new();
    env.config(
        "[providers.github]\nclient_id = \"Iv1.abc\"\n\n[providers.acme]\nissuer = \"https://id.acme.example\"\nclient_id = \"cli\"\n",
    );
    let n = Normalize::new(&env);
    n.assert("providers_table", &output(&env, &["auth", "providers"]));
    n.assert(
        "providers_json",
        &output(&env, &["auth", "providers", "--json"]),
    );
}

#[test]
fn token_formats() {
    let env = TestEnv::fixed_clock();
    let mut token = oauth(
        "at-FORMAT-TOKEN",
        Some("rt-1"),
        "2026-06-01T11:30:00Z",
        Some("2026-06-01T12:30:00Z"),
    );
    token.token_type = "bearer".into(); // as some providers spell it
    env.seed_oauth("acme", "default", token);
    let n = Normalize::new(&env).secrets(&["at-FORMAT-TOKEN", "sk-FORMAT-TOKEN"]);
    for format in ["raw", "header", "json", "k8s"] {
        n.assert(
            &format!("token_format_{format}"),
            &output(&env, &["auth", "token", "acme", "--format", format]),
        );
    }
    // Another token type goes out as the provider spelled it.
    let mut dpop = oauth("at-DPOP", None, "2026-06-01T11:30:00Z", None);
    dpop.token_type = "DPoP".into();
    env.seed_oauth("acme", "dpop", dpop);
    let a = env
        .run(&[
            "auth",
            "token",
            "acme",
            "--account",
            "dpop",
            "--format",
            "header",
        ])
        .success();
    assert_eq!(stdout(&a), "Authorization: DPoP at-DPOP\n");
    let mut v1beta1 = env.cmd();
    v1beta1
        .env(
            "KUBERNETES_EXEC_INFO",
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#,
        )
        .args(["auth", "token", "acme", "--format", "k8s"]);
    n.assert(
        "token_format_k8s_v1beta1",
        &v1beta1.output().expect("credctl runs"),
    );
    // kubectl reuses the credential until expirationTimestamp: the moment the
    // token enters the 5-minute margin, not its expiry.
    let k8s = stdout(
        &env.run(&["auth", "token", "acme", "--format", "k8s"])
            .success(),
    );
    let k8s: serde_json::Value = serde_json::from_str(&k8s).expect("json");
    assert_eq!(k8s["status"]["expirationTimestamp"], "2026-06-01T12:25:00Z");
    env.login_with_token("static", "default", "sk-FORMAT-TOKEN");
    n.assert(
        "token_format_header_static",
        &output(&env, &["auth", "token", "static", "--format", "header"]),
    );
}

// Exit 1: an unexpected failure, here a stdout that cannot be written.

#[test]
fn exit_1_stdout_cannot_be_written() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-full");
    let out = env
        .sh(r#"exec "$0" auth token acme > /dev/full"#)
        .stdin(Stdio::null())
        .output()
        .expect("sh");
    Normalize::new(&env).assert("exit_1_stdout_cannot_be_written", &out);
}

// Exit 2: usage.

#[test]
fn exit_2_several_accounts() {
    let env = TestEnv::new();
    env.login_with_token("acme", "work", "t1");
    env.login_with_token("acme", "home", "t2");
    Normalize::new(&env).assert(
        "exit_2_several_accounts",
        &output(&env, &["auth", "token", "acme"]),
    );
}

#[test]
fn exit_2_bad_name() {
    let env = TestEnv::new();
    Normalize::new(&env).assert("exit_2_bad_name", &output(&env, &["auth", "token", "../x"]));
}

#[test]
fn exit_2_static_token_refresh() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    Normalize::new(&env).assert(
        "exit_2_static_token_refresh",
        &output(&env, &["auth", "refresh", "acme"]),
    );
}

// Exit 3: not logged in.

#[test]
fn exit_3_not_logged_in() {
    let env = TestEnv::new();
    Normalize::new(&env).assert(
        "exit_3_not_logged_in",
        &output(&env, &["auth", "token", "acme", "--account", "work"]),
    );
}

// Exit 4: log in again.

#[test]
fn exit_4_expired_without_refresh_token() {
    let env = TestEnv::fixed_clock();
    env.seed_oauth(
        "acme",
        "default",
        oauth("at-1", None, EXPIRED.0, Some(EXPIRED.1)),
    );
    Normalize::new(&env).assert(
        "exit_4_expired_without_refresh_token",
        &output(&env, &["auth", "token", "acme"]),
    );
}

#[test]
fn exit_4_refresh_token_rejected() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(
        oauth_error(400, "invalid_grant", "refresh token revoked"),
        None,
    );
    Normalize::new(&env).assert(
        "exit_4_refresh_token_rejected",
        &output(&env, &["auth", "token", "acme"]),
    );
}

// Exit 5: temporary.

#[test]
fn exit_5_provider_unreachable() {
    let env = TestEnv::fixed_clock();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"http://127.0.0.1:{port}/token\"\n"
    ));
    env.seed_expired("at-old", "rt-old");
    Normalize::new(&env)
        .pattern(r"os error \d+", "os error [N]")
        .assert(
            "exit_5_provider_unreachable",
            &output(&env, &["auth", "token", "acme"]),
        );
}

#[test]
fn exit_5_another_process_holds_the_lock() {
    let mut env = TestEnv::fixed_clock();
    let _fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    env.set("CREDCTL_LOCK_TIMEOUT", "2s");
    let _held = env
        .store()
        .lock(&id("acme", "default"), &mut || {})
        .expect("lock");
    Normalize::new(&env).assert(
        "exit_5_another_process_holds_the_lock",
        &output(&env, &["auth", "token", "acme"]),
    );
}

// Exit 6: configuration.

#[test]
fn exit_6_unknown_provider() {
    let env = TestEnv::new();
    Normalize::new(&env).assert(
        "exit_6_unknown_provider",
        &output(&env, &["auth", "login", "nosuch"]),
    );
}

#[test]
fn exit_6_no_client_id() {
    let env = TestEnv::new();
    Normalize::new(&env).assert(
        "exit_6_no_client_id",
        &output(&env, &["auth", "login", "github", "--flow", "device"]),
    );
}

#[test]
fn exit_6_bad_config() {
    let env = TestEnv::new();
    env.config("[providers.acme]\nclient_secret = \"hunter2\nissuer = 1\n");
    Normalize::new(&env).assert("exit_6_bad_config", &output(&env, &["auth", "providers"]));
}

#[test]
fn exit_6_client_rejected() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(
        oauth_error(401, "invalid_client", "client authentication failed"),
        None,
    );
    Normalize::new(&env).assert(
        "exit_6_client_rejected",
        &output(&env, &["auth", "token", "acme"]),
    );
}

#[test]
fn exit_6_config_names_another_token_endpoint() {
    let env = TestEnv::fixed_clock();
    let _replaced = Fake::serving(&env);
    let mut token = oauth("at-old", Some("rt-old"), EXPIRED.0, Some(EXPIRED.1));
    token.origin = Some(Box::new(credctl::token::Origin {
        issuer: None,
        token_endpoint: "https://id.example/token".into(),
        revocation_endpoint: None,
        client_id: "cli".into(),
        userinfo_endpoint: None,
        introspection_endpoint: None,
        unknown: Default::default(),
    }));
    env.seed_oauth("acme", "default", token);
    Normalize::new(&env).assert(
        "exit_6_config_names_another_token_endpoint",
        &output(&env, &["auth", "token", "acme"]),
    );
}

// Exit 7: local storage.

#[test]
fn exit_7_file_readable_by_others() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    fs::set_permissions(
        env.file("acme", "default"),
        fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    Normalize::new(&env).assert(
        "exit_7_file_readable_by_others",
        &output(&env, &["auth", "token", "acme"]),
    );
}

#[test]
fn exit_7_list_with_a_corrupt_file() {
    let env = TestEnv::fixed_clock();
    env.seed_static("acme", "default", "sk-1");
    env.seed_static("beta", "default", "sk-2");
    fs::write(env.file("beta", "default"), "{\"version\": 1, \"provider\"").expect("write");
    Normalize::new(&env).assert(
        "exit_7_list_with_a_corrupt_file",
        &output(&env, &["auth", "list"]),
    );
}

// Exit 130: interrupted, here at the device-flow prompt.

#[test]
fn exit_130_device_prompt_interrupted() {
    let env = TestEnv::new();
    let fake = Fake::start();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"{0}/token\"\ndevice_authorization_url = \"{0}/device\"\n",
        fake.server.uri()
    ));
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/device"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "device_code": "dc-secret",
                "user_code": "WDJB-MJHT",
                "verification_uri": format!("{}/activate", fake.server.uri()),
                "expires_in": 600,
                "interval": 1,
            }))),
    );
    fake.token_answers(oauth_error(400, "authorization_pending", ""), None);
    let mut running = env.spawn(&["auth", "login", "acme", "--flow", "device"]);
    running.line("waiting line", |l| l.starts_with("Waiting for the sign-in"));
    running.interrupt();
    let done = running.finish(Duration::from_secs(30));
    Normalize::new(&env).assert("exit_130_device_prompt_interrupted", &done.output());
}

// --help of every command.

#[test]
fn help_of_every_command() {
    let env = TestEnv::new();
    let n = Normalize::new(&env);
    for (name, args) in [
        ("help_credctl", vec!["--help"]),
        ("help_auth", vec!["auth", "--help"]),
        ("help_auth_login", vec!["auth", "login", "--help"]),
        ("help_auth_list", vec!["auth", "list", "--help"]),
        ("help_auth_token", vec!["auth", "token", "--help"]),
        ("help_auth_refresh", vec!["auth", "refresh", "--help"]),
        ("help_auth_logout", vec!["auth", "logout", "--help"]),
        ("help_auth_providers", vec!["auth", "providers", "--help"]),
        ("help_auth_exec", vec!["auth", "exec", "--help"]),
        ("help_auth_status", vec!["auth", "status", "--help"]),
        ("help_auth_setup_git", vec!["auth", "setup-git", "--help"]),
        ("help_git_credential", vec!["git-credential", "--help"]),
        ("help_completions", vec!["completions", "--help"]),
        ("help_man", vec!["man", "--help"]),
    ] {
        n.assert(name, &output(&env, &args));
    }
}
