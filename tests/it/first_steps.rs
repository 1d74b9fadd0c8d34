//! The first half hour of a new user: $BROWSER without a display, every
//! prompt and wait left cleanly with Ctrl-C (under a pseudo-terminal), what
//! the browser flow says it waits for, the provider picker, familiar
//! mistakes, colour, the logout --all question, static tokens, and messages
//! that lead with the point.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::fake::{Fake, oauth_error, tokens};
use crate::common::idp::Idp;
use crate::common::pty::CTRL_C;
use crate::common::*;

/// A provider `acme` whose device flow waits forever (authorization_pending).
fn pending_device_provider(env: &TestEnv) -> Fake {
    let fake = Fake::start();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"{0}/token\"\ndevice_authorization_url = \"{0}/device\"\nauthorization_url = \"{0}/auth\"\n",
        fake.server.uri()
    ));
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/device"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "device_code": "dc-1",
                "user_code": "WDJB-MJHT",
                "verification_uri": format!("{}/activate", fake.server.uri()),
                "expires_in": 600,
                "interval": 1,
            }))),
    );
    fake.token_answers(oauth_error(400, "authorization_pending", ""), None);
    fake
}

/// `exit=N` and the terminal's echo flag, printed after the command by the script.
const AFTER: &str = r#"; echo "exit=$?"; stty -a | grep -o -- '-*echo ' | head -1"#;

fn assert_left_cleanly(run: &crate::common::pty::PtyRun) {
    assert!(
        run.missed.is_none(),
        "never saw {:?}:\n{}",
        run.missed,
        run.output
    );
    assert!(run.output.contains("exit=130"), "{}", run.output);
    assert!(run.output.contains("interrupted"), "{}", run.output);
    assert!(
        !run.output.contains("-echo "),
        "echo left off:\n{}",
        run.output
    );
    assert!(
        !run.output.contains("^Cerror"),
        "^C glued to error:\n{}",
        run.output
    );
}

#[test]
fn browser_is_honoured_without_a_display() {
    let idp = Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    let record = env.root.path().join("argv");
    let script = env.root.path().join("browser");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", record.display()),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    env.set("BROWSER", &script.display().to_string());
    let running = env.spawn(&["auth", "login", "idp", "--timeout", "5s"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !record.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "$BROWSER was never called"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(
        done.code,
        Some(4),
        "the browser never came back: {}",
        done.stderr
    );
}

#[test]
fn ctrl_c_at_the_hidden_token_prompt_restores_the_terminal() {
    let env = TestEnv::new();
    let run = env.pty(
        &format!(r#"trap : INT; "$0" auth login acme --with-token{AFTER}"#),
        &[("Paste the token", CTRL_C)],
    );
    assert_left_cleanly(&run);
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn ctrl_c_at_the_device_wait_clears_the_spinner() {
    let env = TestEnv::new();
    let _fake = pending_device_provider(&env);
    let run = env.pty(
        &format!(r#"trap : INT; "$0" auth login acme --flow device{AFTER}"#),
        &[("the code expires in", CTRL_C)],
    );
    assert_left_cleanly(&run);
    assert!(run.output.contains("Ctrl-C to cancel"), "{}", run.output);
    // The spinner's line is cleared (CR, erase line) before the message.
    let before_error = &run.output[..run.output.find("interrupted").expect("message")];
    assert!(
        before_error.contains("\r\u{1b}[2K"),
        "spinner not cleared:\n{:?}",
        run.output
    );
}

#[test]
fn ctrl_c_at_the_browser_and_paste_waits() {
    let env = TestEnv::new();
    let _fake = pending_device_provider(&env);
    let run = env.pty(
        &format!(r#"trap : INT; "$0" auth login acme --flow browser --no-browser{AFTER}"#),
        &[("gives up in", CTRL_C)],
    );
    assert_left_cleanly(&run);
    assert!(
        run.output
            .contains("Waiting for the browser… Ctrl-C to cancel, gives up in"),
        "{}",
        run.output
    );
    let run = env.pty(
        &format!(r#"trap : INT; "$0" auth login acme --flow paste{AFTER}"#),
        &[("paste it here", CTRL_C)],
    );
    assert_left_cleanly(&run);
    assert!(
        run.output.contains("may show an error") && run.output.contains("whole URL"),
        "{}",
        run.output
    );
}

#[test]
fn a_browser_that_never_came_back_suggests_the_device_flow() {
    let env = TestEnv::new();
    let _fake = pending_device_provider(&env);
    let a = env
        .run(&[
            "auth",
            "login",
            "acme",
            "--flow",
            "browser",
            "--no-browser",
            "--timeout",
            "1s",
        ])
        .code(4);
    assert!(stderr(&a).contains("--flow device"), "{}", stderr(&a));

    // A browser that started but never fetched the start URL: one that
    // failed ($BROWSER exits 1), or one on another machine (over SSH).
    for (browser, ssh) in [("false", false), ("true", true)] {
        let mut env = TestEnv::new();
        let _fake = pending_device_provider(&env);
        env.set("BROWSER", browser);
        if ssh {
            env.set("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22");
        }
        let a = env
            .run(&[
                "auth",
                "login",
                "acme",
                "--flow",
                "browser",
                "--timeout",
                "1s",
            ])
            .code(4);
        assert!(
            stderr(&a).contains("--flow device"),
            "BROWSER={browser}: {}",
            stderr(&a)
        );
    }
}

#[test]
fn login_without_a_provider_offers_a_picker_on_a_terminal() {
    let env = TestEnv::new();
    let fake = Fake::start();
    fake.token_answers(tokens("at-machine", None, Some(3600)), None);
    env.config(&format!(
        "[providers.aaa]\nclient_id = \"m\"\nclient_secret = \"s\"\ntoken_url = \"{}\"\n",
        fake.token_url()
    ));
    // The first choice is `aaa`; Enter takes it.
    let run = env.pty(
        r#""$0" auth login; echo "exit=$?""#,
        &[("Select authentication provider", "\r")],
    );
    assert!(run.missed.is_none(), "{}", run.output);
    assert!(
        run.plain().contains("? Select authentication provider ›"),
        "{}",
        run.plain()
    );
    assert!(
        run.output.contains("client_credentials"),
        "flows are shown: {}",
        run.output
    );
    assert!(run.output.contains("exit=0"), "{}", run.output);
    assert!(env.file("aaa", "default").exists());
    // Without a terminal: exit 2, listing the providers.
    let a = env.run(&["auth", "login"]).code(2);
    for name in ["aaa", "github", "google"] {
        assert!(stderr(&a).contains(name), "{}", stderr(&a));
    }
}

#[test]
fn familiar_mistakes_get_the_command_they_meant() {
    let env = TestEnv::new();
    for (typed, meant) in [
        ("login", "credctl auth login github"),
        ("logout", "credctl auth logout github"),
        ("token", "credctl auth token github"),
        ("list", "credctl auth list github"),
        ("status", "credctl auth status github"),
    ] {
        let a = env.run(&[typed, "github"]).code(2);
        assert!(
            stderr(&a).contains(&format!("did you mean `{meant}`?")),
            "{}",
            stderr(&a)
        );
    }
}

#[test]
fn error_and_warning_are_coloured_on_a_terminal_only() {
    let env = TestEnv::new();
    let run = env.pty(r#""$0" auth token acme"#, &[]);
    assert!(
        run.output.contains("\u{1b}[1m\u{1b}[31merror:\u{1b}[0m"),
        "{:?}",
        run.output
    );
    let run = env.pty(r#"NO_COLOR=1 "$0" auth token acme"#, &[]);
    assert!(
        run.output.contains("error: not logged in"),
        "{:?}",
        run.output
    );
    assert!(!run.output.contains("\u{1b}[31m"), "{:?}", run.output);
    let a = env.run(&["auth", "token", "acme"]).code(3);
    assert!(
        stderr(&a).starts_with("error: "),
        "plain on a pipe: {}",
        stderr(&a)
    );
}

#[test]
fn logout_all_asks_first_on_a_terminal() {
    let env = TestEnv::new();
    env.login_with_token("acme", "default", "sk-1");
    let run = env.pty(
        r#""$0" auth logout --all; echo "exit=$?""#,
        &[("Log out of 1 credential", "n")],
    );
    assert!(run.missed.is_none(), "{}", run.output);
    assert!(run.output.contains("Nothing was changed"), "{}", run.output);
    assert!(env.file("acme", "default").exists());
    let run = env.pty(r#""$0" auth logout --all --yes; echo "exit=$?""#, &[]);
    assert!(run.output.contains("exit=0"), "{}", run.output);
    assert!(
        !run.output.contains("Log out of"),
        "--yes does not ask: {}",
        run.output
    );
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn ctrl_c_at_the_picker_and_the_logout_question_leaves_cleanly() {
    let env = TestEnv::new();
    let run = env.pty(
        &format!(r#"trap : INT; "$0" auth login{AFTER}"#),
        &[("Select authentication provider", CTRL_C)],
    );
    assert_left_cleanly(&run);
    env.login_with_token("acme", "default", "sk-1");
    let run = env.pty(
        &format!(r#"trap : INT; "$0" auth logout --all{AFTER}"#),
        &[("Log out of 1 credential", CTRL_C)],
    );
    assert_left_cleanly(&run);
    assert!(env.file("acme", "default").exists(), "nothing was deleted");
}

#[test]
fn static_tokens_are_trimmed_and_can_expire() {
    let env = TestEnv::fixed_clock();
    env.cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("  \t sk-trimmed  \r\n\n")
        .assert()
        .success();
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("sk-trimmed\n");
    let a = env
        .cmd()
        .args(["auth", "login", "acme", "--with-token"])
        .write_stdin("sk one\n")
        .assert()
        .code(2);
    assert!(stderr(&a).contains("spaces"), "{}", stderr(&a));
    env.cmd()
        .args([
            "auth",
            "login",
            "pat",
            "--with-token",
            "--expires-in",
            "90d",
        ])
        .write_stdin("ghp_x\n")
        .assert()
        .success();
    env.cmd()
        .args([
            "auth",
            "login",
            "dated",
            "--with-token",
            "--expires-at",
            "2026-06-02",
        ])
        .write_stdin("sk_y\n")
        .assert()
        .success();
    let table = stdout(&env.run(&["auth", "list"]).success());
    assert!(table.contains("in 90d"), "{table}");
    assert!(table.contains("in 12h"), "{table}");
}

#[test]
fn messages_lead_with_the_point() {
    let env = TestEnv::new();
    env.config("[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"https://id.example/token\"\n");
    let a = env
        .run(&["auth", "login", "acme", "--flow", "client_credentials"])
        .code(6);
    assert!(
        stderr(&a).contains("needs a client_secret, and [providers.acme] has none")
            && stderr(&a).contains("client_secret = "),
        "{}",
        stderr(&a)
    );
    let a = env
        .run(&["auth", "login", "google", "--flow", "device"])
        .code(6);
    assert!(
        stderr(&a).contains("Google desktop clients also need their client_secret"),
        "{}",
        stderr(&a)
    );
}
