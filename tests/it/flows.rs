//! Sign-in flows end to end: the built binary against a real authorization
//! server (oidc-provider), its login and consent pages driven over plain HTTP.

use std::time::Duration;

use crate::common::idp::Idp;
use crate::common::*;

fn stored_tokens(env: &TestEnv, account: &str) -> (String, Option<String>) {
    let entry = env.stored("idp", account);
    (access_token(&entry), refresh_token(&entry))
}

#[test]
fn browser_flow_signs_in_and_stores_a_refreshable_token() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let done = browser_login(&env, &idp, "default");
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stdout.is_empty(), "nothing for scripts on stdout");

    let (access, refresh) = stored_tokens(&env, "default");
    let refresh = refresh.expect("offline_access with prompt=consent yields a refresh token");
    assert!(!done.stderr.contains(&access) && !done.stderr.contains(&refresh));
    assert_eq!(idp.introspect(&access)["active"], true);
    env.run(&["auth", "token", "idp"])
        .success()
        .stdout(format!("{access}\n"));
    let a = env.run(&["auth", "list", "--json"]).success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    assert_eq!(items[0]["status"], "valid");
    assert_eq!(items[0]["refreshable"], true);
    assert_eq!(
        items[0]["expires_in"].as_i64().map(|s| s > 3500),
        Some(true)
    );
}

#[test]
fn a_callback_with_the_wrong_state_is_refused_and_the_real_one_still_signs_in() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let mut running = env.spawn(&["auth", "login", "idp", "--flow", "browser", "--no-browser"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let callback = idp.authorize(&url, "alice");
    let mut forged = reqwest::Url::parse(&callback).expect("url");
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let page = reqwest::blocking::get(forged).expect("listener");
    assert_eq!(page.status(), 400);
    running.line("the warning", |l| l.contains("state does not match"));
    assert!(!env.file("idp", "default").exists(), "nothing stored yet");
    // The sign-in goes on: the real callback still works.
    let page = reqwest::blocking::get(&callback).expect("listener");
    assert_eq!(page.status(), 200);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(env.file("idp", "default").exists());
}

#[test]
fn a_denied_browser_sign_in_exits_4() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let mut running = env.spawn(&["auth", "login", "idp", "--flow", "browser", "--no-browser"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let callback = idp.authorize_deny(&url);
    let page = reqwest::blocking::get(&callback).expect("listener");
    assert_eq!(page.status(), 400);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(done.stderr.contains("access_denied"), "{}", done.stderr);
    assert!(!env.file("idp", "default").exists());
}

/// The device flow prints the URL and the code, each alone on a line.
fn device_start(env: &TestEnv, idp: &Idp) -> (Running, String) {
    let mut running = env.spawn(&["auth", "login", "idp", "--flow", "device"]);
    let _url = running.line("verification URL", |l| {
        l.starts_with(idp.issuer()) && l.contains("/device")
    });
    let _ = running.line("code prompt", |l| l.contains("this code (valid for"));
    let code = running.line("user code", |l| !l.trim().is_empty());
    (running, code.trim().to_string())
}

#[test]
fn device_flow_polls_while_pending_then_signs_in() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let (running, code) = device_start(&env, &idp);
    // Approve only once credctl has been told "authorization_pending".
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while idp.token_requests(crate::common::idp::DEVICE_CODE_GRANT) == 0 {
        assert!(std::time::Instant::now() < deadline, "credctl never polled");
        std::thread::sleep(Duration::from_millis(100));
    }
    idp.device_approve(&code, "bob");
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(idp.token_requests(crate::common::idp::DEVICE_CODE_GRANT) >= 2);
    let (access, refresh) = stored_tokens(&env, "default");
    assert!(
        refresh.is_some(),
        "offline_access yields a refresh token in the device flow"
    );
    assert_eq!(idp.introspect(&access)["active"], true);
}

#[test]
fn a_denied_device_sign_in_exits_4_with_its_own_message() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let (running, code) = device_start(&env, &idp);
    idp.device_deny(&code);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(done.stderr.contains("denied"), "{}", done.stderr);
    assert!(!env.file("idp", "default").exists());
}

#[test]
fn client_credentials_sign_in_a_machine() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let a = env.run(&["auth", "login", "machine"]).success().stdout("");
    assert!(!stderr(&a).contains(crate::common::idp::CONFIDENTIAL_CLIENT_SECRET));
    let token = stdout(&env.run(&["auth", "token", "machine"]).success());
    let introspection = idp.introspect(token.trim());
    assert_eq!(introspection["active"], true);
    assert_eq!(
        introspection["client_id"],
        crate::common::idp::CONFIDENTIAL_CLIENT_ID
    );
}

#[test]
fn logout_revokes_at_the_provider_then_deletes() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    let (access, refresh) = stored_tokens(&env, "default");
    let refresh = refresh.expect("refresh token");
    let a = env.run(&["auth", "logout", "idp"]).success();
    assert!(stderr(&a).contains("Revoked"), "{}", stderr(&a));
    assert_eq!(idp.introspect(&access)["active"], false);
    assert_eq!(idp.introspect(&refresh)["active"], false);
    assert!(!env.file("idp", "default").exists());
}

#[test]
fn logout_local_only_leaves_the_tokens_alive() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    env.run(&["auth", "login", "machine"]).success();
    let token = stdout(&env.run(&["auth", "token", "machine"]).success());
    env.run(&["auth", "logout", "machine", "--local-only"])
        .success();
    assert_eq!(idp.introspect(token.trim())["active"], true);
    assert!(!env.file("machine", "default").exists());
}

#[test]
fn a_failed_revocation_warns_and_still_deletes() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    env.run(&["auth", "login", "machine"]).success();
    let revocation = format!("{}/token/revocation", idp.issuer());
    drop(idp); // the provider is gone
    let a = env.run(&["auth", "logout", "machine"]).success();
    let err = stderr(&a);
    assert!(err.contains("warning:"), "{err}");
    assert!(
        err.contains(&format!("at {revocation}")),
        "names the URL: {err}"
    );
    assert!(
        err.contains("may stay valid at the provider until they expire"),
        "{err}"
    );
    assert!(
        !err.contains("retry"),
        "no retry advice once the file is gone: {err}"
    );
    assert!(!env.file("machine", "default").exists());
}

#[test]
fn logging_in_again_keeps_the_metadata() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "work").code, Some(0));
    let first = env.stored("idp", "work");
    let (first_access, _) = stored_tokens(&env, "work");
    assert_eq!(browser_login(&env, &idp, "work").code, Some(0));
    let second = env.stored("idp", "work");
    assert_eq!(second.metadata.created_at, first.metadata.created_at);
    assert!(second.metadata.updated_at > first.metadata.updated_at);
    assert_ne!(stored_tokens(&env, "work").0, first_access);
}

#[test]
fn an_unknown_client_id_exits_6() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config(&format!(
        "[providers.idp]\nissuer = \"{}\"\nclient_id = \"no-such-client\"\n",
        idp.issuer()
    ));
    let a = env
        .run(&["auth", "login", "idp", "--flow", "device"])
        .code(6);
    assert!(stderr(&a).contains("invalid_client"), "{}", stderr(&a));
    assert!(!env.file("idp", "default").exists());
}

#[test]
fn paste_flow_takes_the_whole_redirect_url() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let mut running = env.spawn_interactive(&["auth", "login", "idp", "--flow", "paste"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    // Nothing listens at the redirect: the person copies it from the address bar.
    let redirect = idp.authorize(&url, "carol");
    running.line("paste prompt", |l| l.starts_with("Copy the whole URL"));
    running.type_line(&redirect);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let (access, refresh) = stored_tokens(&env, "default");
    assert!(refresh.is_some());
    assert_eq!(idp.introspect(&access)["active"], true);
}

#[test]
fn paste_flow_takes_a_bare_code_and_checks_a_pasted_state() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let mut running = env.spawn_interactive(&["auth", "login", "idp", "--flow", "paste"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let redirect = reqwest::Url::parse(&idp.authorize(&url, "carol")).expect("url");
    let code = redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    running.type_line(&code);
    assert_eq!(running.finish(LOGIN_WAIT).code, Some(0));

    let mut running =
        env.spawn_interactive(&["auth", "login", "idp", "--flow", "paste", "--account", "b"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let redirect = idp.authorize(&url, "carol").replace("state=", "state=x");
    running.type_line(&redirect);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(!env.file("idp", "b").exists());

    // A pasted URL must carry the state: dropping it does not skip the check.
    let mut running =
        env.spawn_interactive(&["auth", "login", "idp", "--flow", "paste", "--account", "c"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let redirect = reqwest::Url::parse(&idp.authorize(&url, "carol")).expect("url");
    let mut stripped = redirect.clone();
    stripped
        .query_pairs_mut()
        .clear()
        .extend_pairs(redirect.query_pairs().filter(|(k, _)| k != "state"));
    running.type_line(stripped.as_str());
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(
        done.stderr.contains("state does not match"),
        "{}",
        done.stderr
    );
}

#[test]
fn the_browser_wait_times_out_with_a_hint() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let a = env
        .run(&[
            "auth",
            "login",
            "idp",
            "--flow",
            "browser",
            "--no-browser",
            "--timeout",
            "1s",
        ])
        .code(4);
    assert!(
        stderr(&a).contains("no answer from the browser within 1s"),
        "{}",
        stderr(&a)
    );
    assert!(stderr(&a).contains("redirect URI"), "{}", stderr(&a));
}

#[test]
fn a_builtin_without_client_id_prints_the_config_lines_to_add() {
    let env = TestEnv::new();
    let a = env
        .run(&["auth", "login", "github", "--flow", "device"])
        .code(6);
    let err = stderr(&a);
    assert!(
        err.contains("[providers.github]\nclient_id = \"YOUR_CLIENT_ID\""),
        "{err}"
    );
    assert!(
        err.contains(&env.home().join("config.toml").display().to_string()),
        "{err}"
    );
}

#[test]
fn bad_config_exits_6_naming_the_file_and_key() {
    let env = TestEnv::new();
    for (toml, expected) in [
        ("[providers.acme\n", "line 1"),
        (
            "[providers.acme]\nissuer = \"https://id.example\"\nflow = \"magic\"\n",
            "magic",
        ),
        ("[providers.acme]\nclient_id = \"x\"\n", "no endpoints"),
        (
            "[providers.acme]\nissuer = \"http://id.example\"\n",
            "not loopback",
        ),
    ] {
        env.config(toml);
        let a = env.run(&["auth", "login", "acme"]).code(6);
        let err = stderr(&a);
        assert!(
            err.contains("config.toml") && err.contains(expected),
            "{toml:?}: {err}"
        );
        env.run(&["auth", "providers"]).code(6);
    }
}

#[test]
fn providers_lists_builtins_and_configured_ones() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    let a = env.run(&["auth", "providers", "--json"]).success();
    let items: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    let names: Vec<_> = items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["github", "gitlab", "google", "idp", "machine", "microsoft"]
    );
    let github = &items[0];
    assert_eq!(github["source"], "built-in");
    assert_eq!(github["client_id_configured"], false);
    assert_eq!(
        github["flows"],
        serde_json::json!(["browser", "device", "paste"])
    );
    assert_eq!(items[3]["client_id_configured"], true);
    assert!(!stdout(&a).contains(crate::common::idp::CONFIDENTIAL_CLIENT_SECRET));
}

/// RFC 8628 error shapes the real server does not produce on demand.
mod device_faults {
    use std::time::{Duration, Instant};

    use serde_json::json;
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::common::*;

    fn setup(
        poll_answers: Vec<ResponseTemplate>,
    ) -> (TestEnv, MockServer, tokio::runtime::Runtime) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime.block_on(MockServer::start());
        runtime.block_on(
            Mock::given(method("POST"))
                .and(path("/device"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "device_code": "dc-1", "user_code": "ABCD-EFGH",
                    "verification_uri": format!("{}/activate", server.uri()),
                    "expires_in": 600, "interval": 1
                })))
                .mount(&server),
        );
        for answer in poll_answers {
            runtime.block_on(
                Mock::given(method("POST"))
                    .and(path("/token"))
                    .and(body_string_contains("device_code=dc-1"))
                    .respond_with(answer)
                    .up_to_n_times(1)
                    .mount(&server),
            );
        }
        let env = TestEnv::new();
        env.config(&format!(
            "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"{0}/token\"\ndevice_authorization_url = \"{0}/device\"\n",
            server.uri()
        ));
        (env, server, runtime)
    }

    fn error(code: &str) -> ResponseTemplate {
        ResponseTemplate::new(400).set_body_json(json!({ "error": code }))
    }

    #[test]
    fn slow_down_adds_five_seconds_to_the_interval() {
        let tokens = ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at", "token_type": "Bearer", "expires_in": 60
        }));
        let (env, _server, _rt) = setup(vec![
            error("authorization_pending"),
            error("slow_down"),
            tokens,
        ]);
        let started = Instant::now();
        let a = env
            .run(&["auth", "login", "acme", "--flow", "device"])
            .success();
        // Polls at 1 s, 2 s, then 1 + 5 = 6 s later: 8 s in all.
        let took = started.elapsed();
        assert!(took >= Duration::from_secs(8), "{took:?}: {}", stderr(&a));
        let err = stderr(&a);
        assert!(
            err.lines().any(|l| l.trim_end().ends_with("/activate")),
            "{err}"
        );
        assert!(
            err.lines().any(|l| l == "ABCD-EFGH"),
            "the code alone on its line: {err}"
        );
    }

    #[test]
    fn a_pending_answer_with_http_200_keeps_polling() {
        // GitHub answers authorization_pending with HTTP 200.
        let pending =
            ResponseTemplate::new(200).set_body_json(json!({ "error": "authorization_pending" }));
        let tokens = ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at", "token_type": "bearer"
        }));
        let (env, _server, _rt) = setup(vec![pending, tokens]);
        env.run(&["auth", "login", "acme", "--flow", "device"])
            .success();
        env.run(&["auth", "token", "acme"]).success().stdout("at\n");
    }

    #[test]
    fn an_expired_code_has_its_own_message() {
        let (env, _server, _rt) = setup(vec![error("expired_token")]);
        let a = env
            .run(&["auth", "login", "acme", "--flow", "device"])
            .code(4);
        assert!(
            stderr(&a).contains("the code expired before the sign-in was approved"),
            "{}",
            stderr(&a)
        );
        assert!(!env.file("acme", "default").exists());
    }
}
