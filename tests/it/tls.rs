//! End to end over TLS: the real authorization server behind https with a
//! certificate authority made when the test starts. credctl trusts it
//! through `SSL_CERT_FILE` or a provider's `ca_file`, and refuses it (exit 6,
//! naming the host and how to add the CA) otherwise.

use chrono::TimeDelta;

use crate::common::idp::{self, Idp, IdpOptions};
use crate::common::tls::{self, TestCa};
use crate::common::*;

const REFRESH: &str = "refresh_token";

/// An environment whose config names the https issuer, trusting `ca`.
fn trusting(idp: &Idp, ca: &TestCa) -> TestEnv {
    let mut env = TestEnv::new();
    env.config_for(idp);
    env.set("SSL_CERT_FILE", &ca.ca_pem_path().display().to_string());
    env
}

fn device_login(env: &TestEnv, idp: &Idp, login: &str) -> Finished {
    let mut running = env.spawn(&["auth", "login", "idp", "--flow", "device"]);
    let _ = running.line("code prompt", |l| l.contains("this code (valid for"));
    let code = running.line("user code", |l| !l.trim().is_empty());
    idp.device_approve(code.trim(), login);
    running.finish(LOGIN_WAIT)
}

#[test]
fn browser_sign_in_refresh_with_rotation_and_logout_over_https() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    assert!(idp.issuer().starts_with("https://localhost:"));
    let mut env = trusting(&idp, &ca);

    let done = browser_login(&env, &idp, "default");
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let first = env.stored("idp", "default");
    let first_refresh = refresh_token(&first).expect("a refresh token");

    // One minute before expiry: `auth token` refreshes, and the server rotates.
    let expires_at = first.credential.expires_at().expect("expiry");
    env.set(
        "CREDCTL_NOW",
        &(expires_at - TimeDelta::seconds(60)).to_rfc3339(),
    );
    idp.reset_stats();
    let token = stdout(&env.run(&["auth", "token", "idp"]).success());
    assert_eq!(idp.token_requests(REFRESH), 1);
    assert_eq!(
        idp.discovery_requests(),
        0,
        "no discovery on the refresh path"
    );
    let second = env.stored("idp", "default");
    assert_ne!(
        refresh_token(&second).as_deref(),
        Some(first_refresh.as_str())
    );
    assert_eq!(token.trim_end(), access_token(&second));
    assert_eq!(idp.introspect(token.trim_end())["active"], true);

    let a = env.run(&["auth", "logout", "idp"]).success();
    assert!(stderr(&a).contains("Revoked"), "{}", stderr(&a));
    assert_eq!(idp.introspect(&access_token(&second))["active"], false);
}

#[test]
fn device_sign_in_over_https() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let env = trusting(&idp, &ca);
    let done = device_login(&env, &idp, "bob");
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let entry = env.stored("idp", "default");
    assert_eq!(idp.introspect(&access_token(&entry))["sub"], "bob");
}

#[test]
fn a_provider_ca_file_is_trusted_alongside_the_system_store() {
    let ca = TestCa::new();
    let idp = Idp::start_tls_with(IdpOptions::default(), &ca);
    let env = TestEnv::new();
    // Relative to config.toml.
    std::fs::create_dir_all(env.home()).expect("home");
    std::fs::copy(ca.ca_pem_path(), env.home().join("corp-ca.pem")).expect("copy");
    env.config(&format!(
        "[providers.machine]\nissuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nscopes = [\"api:read\"]\nflow = \"client_credentials\"\nca_file = \"corp-ca.pem\"\n",
        idp.issuer(),
        idp::CONFIDENTIAL_CLIENT_ID,
        idp::CONFIDENTIAL_CLIENT_SECRET,
    ));
    // A CA file someone else could write is someone else's CA: refused,
    // naming the file, before anything is sent.
    let pem = env.home().join("corp-ca.pem");
    let chmod = |mode| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    chmod(0o666);
    let a = env.run(&["auth", "login", "machine"]).code(6);
    let err = stderr(&a);
    assert!(err.contains(&pem.display().to_string()), "{err}");
    assert!(err.contains("writable by other users"), "{err}");
    // The store's own fix, not a generic pointer at SSL_CERT_FILE.
    assert!(
        err.contains(&format!("run `chmod 644 {}`", pem.display())),
        "{err}"
    );
    assert_eq!(idp.discovery_requests(), 0, "nothing was sent");
    chmod(0o644);
    if is_root() {
        std::os::unix::fs::chown(&pem, Some(NOBODY), Some(NOBODY)).expect("chown");
        let a = env.run(&["auth", "login", "machine"]).code(6);
        assert!(stderr(&a).contains("owned by uid 65534"), "{}", stderr(&a));
        std::os::unix::fs::chown(&pem, Some(0), Some(0)).expect("chown");
    }
    env.run(&["auth", "login", "machine"]).success();
    let token = stdout(&env.run(&["auth", "token", "machine"]).success());
    assert_eq!(idp.introspect(token.trim_end())["active"], true);
}

#[test]
fn an_untrusted_certificate_is_a_configuration_error_naming_the_host() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let mut env = TestEnv::new();
    env.config_for(&idp);
    // Trusting another CA only, as a machine without the provider's CA does.
    let other = TestCa::new();
    env.set("SSL_CERT_FILE", &other.ca_pem_path().display().to_string());
    let a = env
        .run(&["auth", "login", "idp", "--flow", "device"])
        .code(6);
    let err = stderr(&a);
    assert!(
        err.contains(&format!(
            "the TLS certificate of localhost:{} is not trusted",
            idp.port()
        )),
        "{err}"
    );
    assert!(err.contains("ca_file"), "how to add the CA: {err}");
    assert_eq!(idp.discovery_requests(), 0, "nothing got through");
    assert!(!env.file("idp", "default").exists());

    env.set("SSL_CERT_FILE", "/nonexistent/ca.pem");
    let a = env
        .run(&["auth", "login", "idp", "--flow", "device"])
        .code(6);
    assert!(stderr(&a).contains("/nonexistent/ca.pem"), "{}", stderr(&a));
    assert!(
        stderr(&a).contains("hint: check SSL_CERT_FILE and SSL_CERT_DIR"),
        "{}",
        stderr(&a)
    );
}

/// `machine`: the confidential client of `idp`, client_credentials.
fn machine_config(idp: &Idp) -> String {
    format!(
        "[providers.machine]\nissuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nscopes = [\"api:read\"]\nflow = \"client_credentials\"\n",
        idp.issuer(),
        idp::CONFIDENTIAL_CLIENT_ID,
        idp::CONFIDENTIAL_CLIENT_SECRET,
    )
}

#[test]
fn ssl_cert_dir_is_trusted_and_a_certificate_for_another_name_is_named_as_such() {
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let mut env = TestEnv::new();
    env.config(&machine_config(&idp));
    // A directory of PEM files, as OpenSSL's SSL_CERT_DIR; no SSL_CERT_FILE.
    let dir = tempfile::tempdir().expect("cert dir");
    std::fs::copy(ca.ca_pem_path(), dir.path().join("test-ca.pem")).expect("copy");
    env.set("SSL_CERT_DIR", &dir.path().display().to_string());
    env.run(&["auth", "login", "machine"]).success();
    let token = stdout(&env.run(&["auth", "token", "machine"]).success());
    assert_eq!(idp.introspect(token.trim_end())["active"], true);

    // A trusted CA, but a certificate for another name: not "add its CA".
    let elsewhere = TestCa::for_names(&["elsewhere.credctl.test"]);
    let other = Idp::start_tls(&elsewhere);
    env.config(&machine_config(&other));
    env.set("SSL_CERT_DIR", "");
    env.set(
        "SSL_CERT_FILE",
        &elsewhere.ca_pem_path().display().to_string(),
    );
    let a = env
        .run(&["auth", "login", "machine", "--account", "b"])
        .code(6);
    let err = stderr(&a);
    assert!(
        err.contains("not valid for name \"localhost\"") && err.contains("elsewhere.credctl.test"),
        "{err}"
    );
    assert!(
        err.contains("hint: check the host in [providers.machine]"),
        "{err}"
    );
    assert!(!err.contains("ca_file"), "{err}");
    assert!(!env.file("machine", "b").exists());
}

#[test]
fn processes_that_find_the_token_renewed_load_no_trust_store() {
    // Of many processes that wait for one refresh, all but one find the new
    // token on disk: they must not pay for loading the trust store, which
    // is read only when a request is about to be sent. An unreadable trust
    // store shows it: a process that sends nothing does not notice it.
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let mut env = trusting(&idp, &ca);
    assert_eq!(device_login(&env, &idp, "alice").code, Some(0));
    env.set("SSL_CERT_FILE", "/nonexistent/ca.pem");
    // Valid for the default margin: no request, so the broken store is unseen.
    env.run(&["auth", "token", "idp"]).success().stderr("");
    // Asked to refresh (a validity longer than the token's life), it is
    // seen, named, and the still valid token is printed with a warning.
    let a = env
        .run(&["auth", "token", "idp", "--min-valid", "36000d"])
        .success();
    assert!(
        stderr(&a).contains("warning: refresh of idp (account default) failed: cannot use the trusted certificates of /nonexistent/ca.pem"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn a_provider_name_resolves_through_etc_hosts_without_glibc_nss() {
    // The binary is static; glibc's getaddrinfo would load NSS modules at run
    // time. credctl resolves with reqwest's own resolver, which reads
    // /etc/hosts itself: here an /etc/hosts, an nsswitch.conf and a
    // resolv.conf of the test's own (in a private mount namespace), the
    // second naming an NSS module that does not exist, so getaddrinfo could
    // resolve nothing.
    if !is_root() {
        return; // mount namespaces need root; CI runs the tests as root.
    }
    let ca = TestCa::new();
    let idp = Idp::start_tls(&ca);
    let env = TestEnv::new();
    let etc = env.root.path().join("etc");
    std::fs::create_dir_all(&etc).expect("etc");
    std::fs::write(
        etc.join("hosts"),
        format!("127.0.0.1 localhost\n127.0.0.1 {}\n", tls::HOSTS_NAME),
    )
    .expect("hosts");
    std::fs::write(etc.join("nsswitch.conf"), "hosts: credctl_no_such_module\n")
        .expect("nsswitch.conf");
    // No nameserver either: /etc/hosts must still answer, as with glibc.
    std::fs::write(etc.join("resolv.conf"), "").expect("resolv.conf");
    env.config(&format!(
        "[providers.machine]\ntoken_url = \"https://{}:{}/token\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nscopes = [\"api:read\"]\nflow = \"client_credentials\"\nca_file = \"ca.pem\"\n",
        tls::HOSTS_NAME,
        idp.port(),
        idp::CONFIDENTIAL_CLIENT_ID,
        idp::CONFIDENTIAL_CLIENT_SECRET,
    ));
    std::fs::copy(ca.ca_pem_path(), env.home().join("ca.pem")).expect("ca");
    let script = r#"for f in hosts nsswitch.conf resolv.conf; do mount --bind "$1/$f" "/etc/$f" || exit 99; done
        getent hosts idp.credctl.test && exit 98
        exec "$0" auth login machine"#;
    let out = env
        .command("unshare")
        .args(["--mount", "sh", "-c", script, BIN])
        .arg(&etc)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("unshare");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = access_token(&env.stored("machine", "default"));
    assert_eq!(idp.introspect(&token)["active"], true);

    // A name /etc/hosts does not know, with no nameserver: said at once.
    env.config(&format!(
        "[providers.other]\ntoken_url = \"https://unknown.credctl.test:{}/token\"\nclient_id = \"m\"\nclient_secret = \"s\"\nflow = \"client_credentials\"\n",
        idp.port(),
    ));
    let script = r#"for f in hosts nsswitch.conf resolv.conf; do mount --bind "$1/$f" "/etc/$f" || exit 99; done
        exec "$0" auth login other"#;
    let started = std::time::Instant::now();
    let out = env
        .command("unshare")
        .args(["--mount", "sh", "-c", script, BIN])
        .arg(&etc)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("unshare");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("cannot resolve unknown.credctl.test: /etc/resolv.conf names no nameserver"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_unreadable_trust_store_is_found_before_anyone_signs_in() {
    // With endpoints in the config there is no discovery: without a check
    // up front, the first request would be the code exchange, after the
    // person has signed in.
    let mut env = TestEnv::new();
    env.config(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"https://127.0.0.1:9/token\"\nauthorization_url = \"https://127.0.0.1:9/auth\"\n",
    );
    env.set("SSL_CERT_FILE", "/nonexistent/ca.pem");
    let a = env
        .cmd()
        .args(["auth", "login", "acme", "--flow", "paste"])
        .write_stdin("code-that-must-not-be-read\n")
        .assert()
        .code(6);
    let err = stderr(&a);
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    assert!(
        !err.contains("127.0.0.1:9/auth"),
        "the sign-in page was shown: {err}"
    );
}
