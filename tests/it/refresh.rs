//! Refresh against a fake token endpoint: every failure shape, its category,
//! its exit code, and what it leaves on disk.

use std::fs;
use std::time::{Duration, Instant};

use base64::Engine as _;
use wiremock::ResponseTemplate;

use crate::common::fake::{Fake, oauth_error, slow, tokens};
use crate::common::*;

const EXPIRING: (&str, &str) = ("2026-06-01T11:02:00Z", "2026-06-01T12:02:00Z");
const VALID: (&str, &str) = ("2026-06-01T11:59:00Z", "2026-06-01T12:59:00Z");

fn setup(state: (&str, &str)) -> (TestEnv, Fake) {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_oauth(
        "acme",
        "default",
        oauth("at-old", Some("rt-old"), state.0, Some(state.1)),
    );
    (env, fake)
}

fn file_bytes(env: &TestEnv) -> Vec<u8> {
    env.file_bytes("acme", "default")
}

fn stored(env: &TestEnv) -> credctl::token::Entry {
    env.stored("acme", "default")
}

fn list_item(env: &TestEnv) -> serde_json::Value {
    env.list_json()[0].clone()
}

#[test]
fn an_expired_token_is_refreshed_and_the_rotated_refresh_token_saved() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");

    let requests = fake.token_requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].contains("grant_type=refresh_token")
            && requests[0].contains("refresh_token=rt-old")
    );
    let entry = stored(&env);
    assert_eq!(refresh_token(&entry).as_deref(), Some("rt-new"));
    assert_eq!(
        entry.credential.expires_at(),
        Some(at("2026-06-01T13:00:00Z"))
    );
    assert_eq!(entry.metadata.refresh_count, 1);
    assert_eq!(entry.metadata.last_refresh_at, Some(now()));
    // Fresh now: the next call sends nothing.
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    assert_eq!(fake.token_requests().len(), 1);
}

#[test]
fn without_a_new_refresh_token_the_old_one_is_kept() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(tokens("at-new", None, Some(3600)), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    let entry = stored(&env);
    assert_eq!(refresh_token(&entry).as_deref(), Some("rt-old"));
}

#[test]
fn a_valid_token_is_not_refreshed() {
    let (env, fake) = setup(VALID);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-old\n");
    assert!(fake.token_requests().is_empty());
}

#[test]
fn min_valid_asks_for_more_than_the_margin() {
    let (env, fake) = setup(VALID); // 59 minutes left
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    env.run(&["auth", "token", "acme", "--min-valid", "30m"])
        .success()
        .stdout("at-old\n");
    env.run(&["auth", "token", "acme", "--min-valid", "1h"])
        .success()
        .stdout("at-new\n");
    assert_eq!(fake.token_requests().len(), 1);
    env.run(&["auth", "token", "acme", "--min-valid", "soon"])
        .code(2);
}

#[test]
fn two_503s_then_200_succeeds_after_three_requests() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(ResponseTemplate::new(503), Some(2));
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    assert_eq!(fake.token_requests().len(), 3);
}

#[test]
fn a_429_with_retry_after_is_waited_for() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        Some(1),
    );
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    let started = Instant::now();
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(fake.token_requests().len(), 2);
}

#[test]
fn invalid_grant_exits_4_and_leaves_the_file_byte_identical() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        oauth_error(400, "invalid_grant", "refresh token revoked"),
        None,
    );
    let before = file_bytes(&env);
    let a = env.run(&["auth", "token", "acme"]).code(4).stdout("");
    let err = stderr(&a);
    assert!(
        err.contains("invalid_grant") && err.contains("refresh token revoked"),
        "{err}"
    );
    assert!(err.contains("run `credctl auth login acme`"), "{err}");
    assert_eq!(
        fake.token_requests().len(),
        1,
        "a permanent failure is not retried"
    );
    assert_eq!(file_bytes(&env), before);
    let item = list_item(&env);
    assert_eq!(item["last_error"]["category"], "reauth_required");
    let table = stdout(&env.run(&["auth", "list"]).success());
    assert!(table.contains("re-login required"), "{table}");
}

#[test]
fn connection_refused_on_an_expired_token_exits_5_and_leaves_the_file_byte_identical() {
    let env = TestEnv::fixed_clock();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"http://127.0.0.1:{port}/token\"\n"
    ));
    env.seed_oauth(
        "acme",
        "default",
        oauth("at-old", Some("rt-old"), EXPIRED.0, Some(EXPIRED.1)),
    );
    let before = file_bytes(&env);
    let a = env.run(&["auth", "token", "acme"]).code(5).stdout("");
    assert!(stderr(&a).contains("cannot connect"), "{}", stderr(&a));
    assert_eq!(file_bytes(&env), before);
    assert_eq!(list_item(&env)["last_error"]["category"], "transient");
}

#[test]
fn a_read_timeout_after_sending_is_never_resent() {
    let (mut env, fake) = setup(EXPIRED);
    env.set("CREDCTL_HTTP_TIMEOUT", "1s");
    fake.token_answers(
        slow(
            tokens("at-new", Some("rt-new"), Some(3600)),
            Duration::from_secs(5),
        ),
        None,
    );
    let before = file_bytes(&env);
    let a = env.run(&["auth", "token", "acme"]).code(5);
    assert!(stderr(&a).contains("may have reached it"), "{}", stderr(&a));
    assert_eq!(
        fake.token_requests().len(),
        1,
        "exactly one request reached the server"
    );
    assert_eq!(file_bytes(&env), before);
}

#[test]
fn inside_the_margin_a_failed_refresh_still_prints_the_valid_token() {
    let (env, fake) = setup(EXPIRING);
    fake.token_answers(ResponseTemplate::new(503), None);
    let before = file_bytes(&env);
    let a = env
        .run(&["auth", "token", "acme"])
        .success()
        .stdout("at-old\n");
    let err = stderr(&a);
    assert!(
        err.contains("warning:") && err.contains("HTTP 503"),
        "{err}"
    );
    assert_eq!(
        fake.token_requests().len(),
        4,
        "3 retries after the first attempt"
    );
    assert_eq!(file_bytes(&env), before);
    assert_eq!(list_item(&env)["last_error"]["category"], "transient");
}

#[test]
fn a_success_clears_the_recorded_failure() {
    let (env, fake) = setup(EXPIRING);
    fake.token_answers(oauth_error(400, "invalid_grant", "no"), Some(1));
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-old\n");
    assert_eq!(list_item(&env)["last_error"]["category"], "reauth_required");
    env.run(&["auth", "refresh", "acme"]).success();
    assert!(list_item(&env)["last_error"].is_null());
}

#[test]
fn without_expires_in_the_jwt_exp_is_used() {
    let (env, fake) = setup(EXPIRED);
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // exp = 2026-06-01T12:30:00Z
    let jwt = format!(
        "{}.{}.c2ln",
        enc.encode(r#"{"alg":"RS256"}"#),
        enc.encode(r#"{"exp":1780317000}"#)
    );
    fake.token_answers(tokens(&jwt, Some("rt-new"), None), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout(format!("{jwt}\n"));
    assert_eq!(
        stored(&env).credential.expires_at(),
        Some(at("2026-06-01T12:30:00Z"))
    );
}

#[test]
fn with_neither_the_expiry_is_unknown_and_auth_token_does_not_refresh() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(tokens("opaque-new", Some("rt-new"), None), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("opaque-new\n");
    assert_eq!(stored(&env).credential.expires_at(), None);
    assert_eq!(list_item(&env)["status"], "unknown");

    let a = env
        .run(&["-v", "auth", "token", "acme"])
        .success()
        .stdout("opaque-new\n");
    assert!(stderr(&a).contains("no expiry is known"), "{}", stderr(&a));
    assert_eq!(
        fake.token_requests().len(),
        1,
        "an unknown expiry is not refreshed"
    );

    env.run(&["auth", "refresh", "acme"]).success();
    assert_eq!(
        fake.token_requests().len(),
        2,
        "auth refresh refreshes it anyway"
    );
}

#[test]
fn a_rejected_client_exits_6() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        oauth_error(401, "invalid_client", "client authentication failed"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(6);
    assert!(stderr(&a).contains("invalid_client"), "{}", stderr(&a));
    assert!(stderr(&a).contains("config.toml"), "{}", stderr(&a));
}

#[test]
fn another_4xx_exits_6_with_the_providers_words() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        oauth_error(400, "invalid_scope", "scope\u{7} api:write\nis not allowed"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(6);
    let err = stderr(&a);
    assert!(
        err.contains("`invalid_scope`: scope  api:write is not allowed"),
        "{err}"
    );
}

#[test]
fn an_html_error_page_is_named_not_dumped() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        ResponseTemplate::new(404)
            .insert_header("content-type", "text/html")
            .set_body_string("<!DOCTYPE html><html><body>SECRET-LOOKING-PAGE</body></html>"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(6);
    let err = stderr(&a);
    assert!(
        err.contains("HTTP 404 Not Found with an HTML page"),
        "{err}"
    );
    assert!(!err.contains("SECRET-LOOKING-PAGE"), "{err}");
}

#[test]
fn a_malformed_success_exits_5_and_says_what_was_wrong() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        ResponseTemplate::new(200).set_body_raw("<html>ok</html>", "text/html"),
        Some(1),
    );
    let a = env.run(&["auth", "token", "acme"]).code(5);
    assert!(
        stderr(&a).contains("not a valid token response"),
        "{}",
        stderr(&a)
    );
    fake.token_answers(
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"token_type": "bearer"})),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(5);
    assert!(
        stderr(&a).contains("missing field `access_token`"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn a_huge_answer_is_refused() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        ResponseTemplate::new(200).set_body_raw(vec![b' '; 10 * 1024 * 1024], "application/json"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(5);
    assert!(
        stderr(&a).contains("larger than 1024 KiB"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn refresh_all_reports_each_and_exits_with_the_most_serious() {
    let env = TestEnv::fixed_clock();
    let good = Fake::start();
    let bad = Fake::start();
    good.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    bad.token_answers(oauth_error(400, "invalid_grant", "revoked"), None);
    env.config(&format!(
        "[providers.good]\nclient_id = \"cli\"\ntoken_url = \"{}\"\n\n[providers.bad]\nclient_id = \"cli\"\ntoken_url = \"{}\"\n",
        good.token_url(),
        bad.token_url()
    ));
    env.seed_oauth(
        "good",
        "default",
        oauth("a1", Some("r1"), VALID.0, Some(VALID.1)),
    );
    env.seed_oauth(
        "bad",
        "default",
        oauth("a2", Some("r2"), VALID.0, Some(VALID.1)),
    );
    env.seed_static("apikey", "default", "sk-1");
    let a = env.run(&["auth", "refresh", "--all"]).code(4);
    let err = stderr(&a);
    assert!(err.contains("Refreshed good (account default)"), "{err}");
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(err.contains("apikey (account default): skipped"), "{err}");
    assert!(
        err.contains("1 of 3 credentials could not be refreshed"),
        "{err}"
    );
}

#[test]
fn a_process_that_waits_for_the_lock_says_so_and_gives_up_with_exit_5() {
    let (mut env, fake) = setup(EXPIRED);
    // The wait is announced after a second; it gives up after two.
    env.set("CREDCTL_LOCK_TIMEOUT", "2s");
    let store = env.store();
    let _held = store
        .lock(&id("acme", "default"), &mut || {})
        .expect("lock");
    let a = env.run(&["auth", "token", "acme"]).code(5).stdout("");
    let err = stderr(&a);
    assert!(
        err.contains("waiting for another credctl process that is using acme"),
        "{err}"
    );
    assert!(
        err.contains("held the lock") && err.contains("acme@default.lock"),
        "{err}"
    );
    assert!(fake.token_requests().is_empty());
}

#[test]
fn a_short_wait_for_the_lock_is_quiet() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    let held = env
        .store()
        .lock(&id("acme", "default"), &mut || {})
        .expect("lock");
    let running = env.spawn(&["auth", "token", "acme"]);
    std::thread::sleep(Duration::from_millis(300));
    drop(held);
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(!done.stderr.contains("waiting"), "{}", done.stderr);
}

/// Runs credctl with `args` while the lock of `acme` is held; once it says
/// it is waiting, "another process" saves `at-theirs` under that lock and
/// lets go.
fn renewed_by_another_process_while_waiting(env: &TestEnv, args: &[&str]) -> Finished {
    let store = env.store();
    let held = store
        .lock(&id("acme", "default"), &mut || {})
        .expect("lock");
    let mut running = env.spawn(args);
    running.line("lock wait notice", |l| {
        l.contains("waiting for another credctl process")
    });
    let mut theirs = stored(env);
    theirs.credential = credctl::token::Credential::OAuth(oauth(
        "at-theirs",
        Some("rt-theirs"),
        "2026-06-01T12:00:00Z",
        Some("2026-06-01T13:00:00Z"),
    ));
    store.save(&held, &theirs).expect("save");
    drop(held);
    running.finish(Duration::from_secs(30))
}

#[test]
fn a_forced_refresh_that_waited_takes_the_result_of_the_process_it_waited_for() {
    let (env, fake) = setup(VALID);
    fake.token_answers(tokens("at-mine", Some("rt-mine"), Some(3600)), None);
    let done = renewed_by_another_process_while_waiting(&env, &["auth", "refresh", "acme"]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("refreshed by another credctl process"),
        "{}",
        done.stderr
    );
    assert!(fake.token_requests().is_empty(), "nothing was sent");
    assert_eq!(access_token(&stored(&env)), "at-theirs");
}

#[test]
fn a_process_that_finds_the_token_renewed_loads_no_trust_store() {
    // In a stampede, all processes but one wait for the lock and then find
    // the new token on disk. They must not pay for an HTTP client (loading
    // the trust store is most of it); an unreadable store shows whether
    // one was built.
    let (mut env, fake) = setup(EXPIRED);
    env.set("SSL_CERT_FILE", "/nonexistent/ca.pem");
    let done = renewed_by_another_process_while_waiting(&env, &["auth", "token", "acme"]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(done.stdout, "at-theirs\n");
    assert!(fake.token_requests().is_empty(), "nothing was sent");
}

#[test]
fn inside_the_margin_a_lock_timeout_still_prints_the_valid_token() {
    let (mut env, _fake) = setup(EXPIRING);
    env.set("CREDCTL_LOCK_TIMEOUT", "1s");
    let store = env.store();
    let _held = store
        .lock(&id("acme", "default"), &mut || {})
        .expect("lock");
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-old\n");
}

#[test]
fn githubs_name_for_a_dead_refresh_token_asks_for_a_login() {
    let (env, fake) = setup(EXPIRED);
    // GitHub answers errors with HTTP 200.
    fake.token_answers(
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired."
        })),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(4);
    assert!(
        stderr(&a).contains("run `credctl auth login acme`"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn a_provider_quoting_the_refresh_token_back_does_not_leak_it() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        oauth_error(400, "invalid_grant", "refresh token rt-old is revoked"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(4);
    assert!(!stderr(&a).contains("rt-old"), "{}", stderr(&a));
    assert!(
        stderr(&a).contains("refresh token *** is revoked"),
        "{}",
        stderr(&a)
    );
    let listing = stdout(&env.run(&["auth", "list", "--json"]).success());
    assert!(!listing.contains("rt-old"), "{listing}");
}

#[test]
fn a_json_404_without_an_oauth_error_is_a_configuration_problem() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        ResponseTemplate::new(404).set_body_json(serde_json::json!({"message": "Not Found"})),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(6);
    assert!(
        stderr(&a).contains("JSON without an OAuth `error`"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn refresh_checks_the_credential_before_the_config() {
    let env = TestEnv::new();
    env.config("[providers.acme\n"); // broken
    env.run(&["auth", "refresh", "acme"]).code(3);
    env.login_with_token("acme", "default", "sk-1");
    let a = env.run(&["auth", "refresh", "acme"]).code(2);
    assert!(
        stderr(&a).contains("static token") && stderr(&a).contains("--with-token"),
        "{}",
        stderr(&a)
    );
    // Logging out of a static token needs neither the config nor the network.
    env.run(&["auth", "logout", "acme"]).success();
}

#[test]
fn a_shared_config_holding_a_client_secret_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let (env, _fake) = setup(EXPIRED);
    let path = env.home().join("config.toml");
    let text = fs::read_to_string(&path).expect("config");
    fs::write(&path, format!("{text}client_secret = \"hunter2\"\n")).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let a = env.run(&["auth", "token", "acme"]).code(7);
    assert!(
        stderr(&a).contains(&format!("chmod 600 {}", path.display())),
        "{}",
        stderr(&a)
    );
    assert!(!stderr(&a).contains("hunter2"));
}

#[test]
fn interaction_required_asks_for_a_login() {
    let (env, fake) = setup(EXPIRED);
    fake.token_answers(
        oauth_error(400, "interaction_required", "AADSTS50076: MFA is required"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(4);
    assert!(
        stderr(&a).contains("run `credctl auth login acme`"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn a_long_refresh_token_quoted_back_is_blanked_out_whole() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    let long = format!("rt-{}", "x".repeat(1200));
    env.seed_oauth(
        "acme",
        "default",
        oauth("at-old", Some(&long), EXPIRED.0, Some(EXPIRED.1)),
    );
    fake.token_answers(
        oauth_error(
            400,
            "invalid_grant",
            &format!("{} the token {long} is revoked", "word ".repeat(50)),
        ),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(4);
    assert!(!stderr(&a).contains("xxxxxxxx"), "{}", stderr(&a));
    let listing = stdout(&env.run(&["auth", "list", "--json"]).success());
    assert!(!listing.contains("xxxxxxxx"), "{listing}");
}
