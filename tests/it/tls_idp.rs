//! The test authorization server over https with a CA made at test time, and
//! the launcher's fixed port and log file: the fixtures themselves, checked
//! with reqwest directly (credctl over TLS is tested in tls.rs).

use std::error::Error as _;
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::blocking::Client;
use serde_json::Value;

use crate::common::idp::{DEVICE_CODE_GRANT, Idp, IdpOptions, PUBLIC_CLIENT_ID};
use crate::common::tls::TestCa;

/// RFC 7636 Appendix B: a code verifier and its S256 challenge.
const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A loopback redirect registered for the public client (any port matches);
/// nothing listens there: `authorize` returns the URL without requesting it.
const REDIRECT_URI: &str = "http://127.0.0.1:45678/callback";

/// Bound on polling the token endpoint in the device flow.
const POLL_FOR: Duration = Duration::from_secs(30);

fn discovery(client: &Client, idp: &Idp) -> Value {
    let resp = client
        .get(format!("{}/.well-known/openid-configuration", idp.issuer()))
        .send()
        .expect("GET the discovery document over https");
    assert_eq!(resp.status(), 200);
    resp.json().expect("discovery document is JSON")
}

fn endpoint(doc: &Value, name: &str) -> String {
    doc[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in discovery: {doc}"))
        .to_owned()
}

/// The error and all its sources, one string.
fn chain(err: &reqwest::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

#[test]
fn a_test_ca_writes_its_files_and_is_unrelated_to_another() {
    let ca = TestCa::new();
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    assert_eq!(read(&ca.ca_pem_path()), ca.ca_pem());
    assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(read(&ca.cert_path()).starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(read(&ca.key_path()).starts_with("-----BEGIN PRIVATE KEY-----"));
    for path in [ca.ca_pem_path(), ca.cert_path(), ca.key_path()] {
        assert_eq!(path.parent(), Some(ca.dir()));
    }
    let other = TestCa::new();
    assert_ne!(other.ca_pem(), ca.ca_pem());
    assert_ne!(other.dir(), ca.dir());

    let dir = ca.dir().to_path_buf();
    drop(ca);
    assert!(!dir.exists(), "the files go with the TestCa");
}

#[test]
fn discovery_over_tls_names_the_localhost_issuer() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let expected = format!("https://localhost:{}", idp.port());
    assert_eq!(idp.issuer(), expected);

    let doc = discovery(&ca.client(), &idp);
    assert_eq!(doc["issuer"], expected.as_str());
    // Endpoints are on the name the client used, which the certificate covers.
    for name in [
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
    ] {
        let url = endpoint(&doc, name);
        assert!(url.starts_with(&format!("{expected}/")), "{name}: {url}");
    }
}

#[test]
fn device_flow_over_tls_yields_an_active_token() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let client = ca.client();
    let doc = discovery(&client, &idp);

    let resp = client
        .post(endpoint(&doc, "device_authorization_endpoint"))
        .form(&[
            ("client_id", PUBLIC_CLIENT_ID),
            ("scope", "openid offline_access"),
        ])
        .send()
        .expect("POST the device authorization endpoint");
    assert_eq!(resp.status(), 200);
    let auth: Value = resp.json().expect("device authorization answer is JSON");
    let device_code = auth["device_code"].as_str().expect("device_code");
    let user_code = auth["user_code"].as_str().expect("user_code");
    let verification = auth["verification_uri"].as_str().expect("verification_uri");
    assert_eq!(verification, format!("{}/device", idp.issuer()));

    idp.device_approve(user_code, "alice");

    let deadline = Instant::now() + POLL_FOR;
    let token = loop {
        let resp = client
            .post(endpoint(&doc, "token_endpoint"))
            .form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("device_code", device_code),
                ("client_id", PUBLIC_CLIENT_ID),
            ])
            .send()
            .expect("POST the token endpoint");
        let status = resp.status();
        let body: Value = resp.json().expect("token answer is JSON");
        if status == 200 {
            break body;
        }
        assert_eq!(
            body["error"], "authorization_pending",
            "device token poll failed with {status}: {body}"
        );
        assert!(
            Instant::now() < deadline,
            "the device code was still pending after {POLL_FOR:?}"
        );
        thread::sleep(Duration::from_millis(200));
    };
    assert!(idp.token_requests(DEVICE_CODE_GRANT) >= 1);

    let access = token["access_token"].as_str().expect("access_token");
    let introspection = idp.introspect(access);
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["sub"], "alice", "{introspection}");

    // The helpers' refresh goes over https as well.
    let refresh = token["refresh_token"].as_str().expect("refresh_token");
    let (status, body) = idp.refresh(refresh);
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
}

#[test]
fn authorization_code_with_pkce_over_tls() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let client = ca.client();
    let doc = discovery(&client, &idp);

    let state = "state-over-tls";
    let mut url = Url::parse(&endpoint(&doc, "authorization_endpoint")).expect("URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", PUBLIC_CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid offline_access")
        .append_pair("prompt", "consent")
        .append_pair("state", state)
        .append_pair("code_challenge", PKCE_CHALLENGE)
        .append_pair("code_challenge_method", "S256");

    // Login and consent over https: the interaction cookies are `secure`.
    let callback = idp.authorize(url.as_str(), "alice");
    let callback = Url::parse(&callback).expect("callback URL");
    assert!(
        callback.as_str().starts_with(REDIRECT_URI),
        "redirected to {callback}"
    );
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {callback}"))
    };
    assert_eq!(param("state"), state);
    assert_eq!(param("iss"), idp.issuer());
    let code = param("code");

    let resp = client
        .post(endpoint(&doc, "token_endpoint"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", PUBLIC_CLIENT_ID),
            ("code_verifier", PKCE_VERIFIER),
        ])
        .send()
        .expect("POST the token endpoint");
    let status = resp.status();
    let token: Value = resp.json().expect("token answer is JSON");
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().expect("access_token");
    assert_eq!(idp.introspect(access)["active"], true);
}

#[test]
fn a_client_that_does_not_trust_the_ca_fails_the_handshake() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let url = format!("{}/.well-known/openid-configuration", idp.issuer());

    let other_ca = TestCa::new();
    let default_roots = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    for (who, client) in [
        ("a client trusting another CA", other_ca.client()),
        ("a client with the built-in roots", default_roots),
    ] {
        let err = client
            .get(&url)
            .send()
            .expect_err("the handshake must fail");
        let text = chain(&err);
        assert!(err.is_connect(), "{who}: not a connection error: {text}");
        assert!(
            text.contains("invalid peer certificate: UnknownIssuer"),
            "{who}: not an unknown-issuer certificate error: {text}"
        );
    }

    // The server is fine: a client trusting the CA gets through.
    assert_eq!(
        ca.client().get(&url).send().expect("trusted GET").status(),
        200
    );
}

#[test]
fn idp_port_binds_the_requested_port() {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
        probe.local_addr().expect("probe address").port()
    };
    let idp = Idp::start_with(IdpOptions {
        port,
        ..IdpOptions::default()
    });
    assert_eq!(idp.port(), port);
    assert_eq!(idp.issuer(), format!("http://127.0.0.1:{port}"));
    let resp = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
        .get(format!(
            "http://127.0.0.1:{port}/.well-known/openid-configuration"
        ))
        .send()
        .expect("GET discovery on the requested port");
    assert_eq!(resp.status(), 200);
}

#[test]
fn idp_log_keeps_the_notices_off_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("idp.log");
    let idp = Idp::start_with(IdpOptions {
        log: Some(log.clone()),
        ..IdpOptions::default()
    });
    // oidc-provider warns about its development-only interactions while
    // starting, before it prints the JSON line.
    let logged = std::fs::read_to_string(&log).expect("the log file exists");
    assert!(logged.contains("devInteractions"), "log: {logged}");
    assert!(
        !logged.contains(idp.issuer()),
        "the JSON line is not logged"
    );
    let stderr = idp.server_log();
    assert!(!stderr.contains("oidc-provider"), "stderr: {stderr}");
}
