//! What crosses the network: which failures are retried (never one that
//! may have spent a refresh token), proxies as curl uses them (never for
//! loopback), answers as real providers send them, and tokens that arrive
//! already expired.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::fake::{Fake, tokens};
use crate::common::*;

/// A listener that records what each connection sent first and answers 502.
struct Trap {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Trap {
    fn start() -> Trap {
        Trap::answering(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
    }

    /// A proxy that logs what it is sent and answers `answer`.
    fn answering(answer: &'static [u8]) -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 1024];
                let n = stream.read(&mut buf).unwrap_or(0);
                log.lock()
                    .expect("lock")
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ = stream.write_all(answer);
            }
        });
        Trap { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

#[test]
fn a_grant_spending_request_is_never_resent_after_a_gateway_error() {
    for status in [500, 502, 504, 501, 505] {
        let env = TestEnv::fixed_clock();
        let fake = Fake::serving(&env);
        env.seed_expired("at-old", "rt-old");
        fake.token_answers(ResponseTemplate::new(status), None);
        // 501 and 505 say the server will never serve this: a configuration
        // problem (6), not a wait (5).
        let code = if matches!(status, 501 | 505) { 6 } else { 5 };
        let a = env.run(&["auth", "token", "acme"]).code(code);
        assert_eq!(fake.token_requests().len(), 1, "HTTP {status} was resent");
        if matches!(status, 500 | 502 | 504) {
            assert!(
                stderr(&a).contains("a gateway may have passed the request on"),
                "{}",
                stderr(&a)
            );
        }
    }
}

#[test]
fn discovery_is_retried_after_a_gateway_error() {
    let env = TestEnv::new();
    let fake = Fake::start();
    let issuer = fake.server.uri();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(1),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": issuer,
                "token_endpoint": format!("{issuer}/token"),
            }))),
    );
    fake.token_answers(tokens("at-machine", None, Some(3600)), None);
    env.config(&format!(
        "[providers.acme]\nissuer = \"{issuer}\"\nclient_id = \"m\"\nclient_secret = \"s\"\nflow = \"client_credentials\"\n"
    ));
    env.run(&["auth", "login", "acme"]).success();
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-machine\n");
}

#[test]
fn loopback_is_never_proxied() {
    let mut env = TestEnv::fixed_clock();
    let trap = Trap::start();
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"] {
        env.set(var, &trap.url());
    }
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    assert!(trap.seen().is_empty(), "the proxy saw {:?}", trap.seen());
}

#[test]
fn a_remote_provider_goes_through_the_proxy_and_its_errors_name_it() {
    let mut env = TestEnv::fixed_clock();
    let trap = Trap::start();
    env.set("HTTPS_PROXY", &trap.url());
    env.config(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"https://id.example.test/token\"\n",
    );
    env.seed_expired("at-old", "rt-old");
    let a = env.run(&["auth", "token", "acme"]).code(5);
    let seen = trap.seen();
    assert!(
        seen.first()
            .is_some_and(|s| s.starts_with("CONNECT id.example.test:443")),
        "{seen:?}"
    );
    assert!(
        stderr(&a).contains(&format!("through the proxy {}", trap.url())),
        "{}",
        stderr(&a)
    );
}

#[test]
fn all_proxy_is_used_and_a_proxy_that_wants_credentials_is_a_configuration_error() {
    let mut env = TestEnv::fixed_clock();
    let trap = Trap::answering(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n",
    );
    // Only ALL_PROXY: curl uses it for https when HTTPS_PROXY is not set.
    env.set("ALL_PROXY", &trap.url());
    env.config(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"https://id.example.test/token\"\n",
    );
    env.seed_expired("at-old", "rt-old");
    let a = env.run(&["auth", "token", "acme"]).code(6);
    let seen = trap.seen();
    assert_eq!(seen.len(), 1, "asked once, never again: {seen:?}");
    assert!(
        seen[0].starts_with("CONNECT id.example.test:443"),
        "{seen:?}"
    );
    let err = stderr(&a);
    assert!(
        err.contains(&format!("the proxy {} asks for credentials", trap.url())),
        "{err}"
    );
    assert!(err.contains("USER:PASSWORD@"), "{err}");
}

#[test]
fn a_connection_closed_mid_answer_is_said_so_and_not_resent() {
    let env = TestEnv::fixed_clock();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(Mutex::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            *counter.lock().expect("lock") += 1;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"access_token\":");
            // Dropped here: the connection closes in the middle of the body.
        }
    });
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"http://127.0.0.1:{port}/token\"\n"
    ));
    env.seed_expired("at-old", "rt-old");
    let a = env.run(&["auth", "token", "acme"]).code(5);
    assert!(
        stderr(&a).contains("closed before the answer was complete"),
        "{}",
        stderr(&a)
    );
    assert_eq!(*count.lock().expect("lock"), 1, "not resent");
}

#[test]
fn a_token_that_arrives_expired_is_never_printed_but_its_refresh_token_is_kept() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(tokens("at-dead", Some("rt-new"), Some(0)), None);
    let a = env.run(&["auth", "token", "acme"]).code(5).stdout("");
    assert!(stderr(&a).contains("already expired"), "{}", stderr(&a));
    assert_eq!(
        refresh_token(&env.stored("acme", "default")).as_deref(),
        Some("rt-new"),
        "the rotated refresh token is not lost"
    );
}

#[test]
fn clock_skew_is_named_with_both_times() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    // A JWT that expired an hour before our clock, from a server two hours ahead.
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = at(NOW).timestamp() - 3600;
    let jwt = format!(
        "{}.{}.sig",
        enc.encode(r#"{"alg":"none"}"#),
        enc.encode(format!(r#"{{"exp":{exp}}}"#))
    );
    fake.token_answers(
        tokens(&jwt, Some("rt-new"), None).insert_header("Date", "Mon, 01 Jun 2026 14:00:00 GMT"),
        None,
    );
    let a = env.run(&["auth", "token", "acme"]).code(5).stdout("");
    let err = stderr(&a);
    assert!(err.contains("clock skew"), "{err}");
    assert!(
        err.contains("2026-06-01 14:00:00 UTC"),
        "the server's time: {err}"
    );
    assert!(err.contains("2026-06-01 12:00:00 UTC"), "ours: {err}");
}

#[test]
fn expires_in_as_a_string_is_read_at_refresh() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    env.seed_expired("at-old", "rt-old");
    fake.token_answers(
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-new",
            "token_type": "Bearer",
            "expires_in": "3600",
        })),
        None,
    );
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    assert_eq!(env.list_json()[0]["expires_in"], 3600);
}
