//! The browser flow's listener against everything that is not the real
//! callback: a second fetch of the start URL, stray and forged requests,
//! a browser without the start URL's cookie, file-descriptor exhaustion,
//! and both loopback addresses of `localhost`. Real authorization server.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::common::browser::{CookieJar, FakeBrowser};
use crate::common::idp::Idp;
use crate::common::*;

/// `credctl auth login idp --flow browser` with a browser to play.
fn start(idp: &Idp) -> (TestEnv, FakeBrowser, Running) {
    let mut env = TestEnv::new();
    env.config_for(idp);
    let browser = FakeBrowser::install(&mut env, 1);
    let running = env.spawn(&["auth", "login", "idp", "--flow", "browser"]);
    (env, browser, running)
}

fn with_query(url: &str, key: &str, value: Option<&str>) -> String {
    let mut url = reqwest::Url::parse(url).expect("url");
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    if let Some(value) = value {
        pairs.push((key.to_string(), value.to_string()));
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[test]
fn a_start_url_opened_twice_stops_the_sign_in() {
    let idp = Idp::start();
    let (env, browser, running) = start(&idp);
    let start_url = browser.url();
    let first = CookieJar::new();
    first.open(&start_url);
    let second = CookieJar::new().get(&start_url);
    assert_eq!(second.status(), 410, "a second fetch is not served");
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(done.stderr.contains("opened twice"), "{}", done.stderr);
    assert!(done.stderr.contains("--flow device"), "{}", done.stderr);
    assert!(!env.file("idp", "default").exists());
}

#[test]
fn requests_that_are_not_the_callback_are_answered_400_and_the_wait_goes_on() {
    let idp = Idp::start();
    let (env, browser, mut running) = start(&idp);
    let jar = CookieJar::new();
    let authorization_url = jar.open(&browser.url());
    let callback = idp.authorize(&authorization_url, "erin");
    let base = reqwest::Url::parse(&callback).expect("url");
    let other_path = base.join("/favicon.ico").expect("url").to_string();
    let other = jar.get(&other_path);
    assert_eq!(other.status(), 400);
    assert!(
        other
            .text()
            .expect("page")
            .contains("Return to the terminal")
    );
    for bad in [
        with_query(&callback, "state", None),
        with_query(&callback, "state", Some("forged")),
        with_query(&callback, "iss", None),
        with_query(&callback, "iss", Some("https://evil.example")),
    ] {
        assert_eq!(jar.get(&bad).status(), 400, "{bad}");
    }
    // The right callback from a browser that did not fetch the start URL.
    let stray = reqwest::blocking::get(&callback).expect("listener");
    assert_eq!(stray.status(), 400);
    running.line("a warning about it", |l| {
        l.contains("did not open this sign-in")
    });
    assert!(!env.file("idp", "default").exists());

    let page = jar.get(&callback);
    assert_eq!(page.status(), 200);
    let text = page.text().expect("page");
    assert!(
        text.contains("signed you in to idp (account default)"),
        "the page names provider and account: {text}"
    );
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

#[test]
fn a_failed_exchange_is_what_the_page_says() {
    let idp = Idp::start();
    let (env, browser, running) = start(&idp);
    let jar = CookieJar::new();
    let authorization_url = jar.open(&browser.url());
    let callback = idp.authorize(&authorization_url, "erin");
    // A code that the server never issued: right state, right iss, wrong code.
    let page = jar.get(&with_query(&callback, "code", Some("not-a-code")));
    assert_eq!(page.status(), 400);
    let text = page.text().expect("page");
    assert!(text.contains("Sign-in failed"), "{text}");
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(text.contains("Return to the terminal"), "{text}");
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(!env.file("idp", "default").exists());
}

#[test]
fn running_out_of_file_descriptors_does_not_end_the_wait() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    // Few descriptors: the idle connections below use them all up.
    let mut running =
        env.spawn_sh(r#"ulimit -n 24; exec "$0" auth login idp --flow browser --no-browser"#);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let callback = idp.authorize(&url, "frank");
    let port = reqwest::Url::parse(&callback)
        .expect("url")
        .port()
        .expect("port");
    let idle: Vec<TcpStream> = (0..40)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(idle);
    // The listener accepts again once descriptors are free.
    let page = reqwest::blocking::get(&callback).expect("listener");
    assert_eq!(page.status(), 200);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

/// A config whose redirect goes to `redirect`.
fn redirected(idp: &Idp, redirect: &str) -> TestEnv {
    let env = TestEnv::new();
    env.config(&format!(
        "[providers.idp]\nissuer = \"{}\"\nclient_id = \"{}\"\nscopes = [\"openid\", \"offline_access\"]\nredirect_uri = \"{redirect}\"\n",
        idp.issuer(),
        idp::PUBLIC_CLIENT_ID
    ));
    env
}

#[test]
fn a_localhost_redirect_holds_both_loopback_addresses() {
    let idp = Idp::start();
    let env = redirected(&idp, "http://localhost/callback");
    let mut running = env.spawn(&["auth", "login", "idp", "--flow", "browser", "--no-browser"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    let redirect = reqwest::Url::parse(&url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("redirect_uri");
    let port = reqwest::Url::parse(&redirect)
        .expect("url")
        .port()
        .expect("port");
    assert!(redirect.starts_with("http://localhost:"), "{redirect}");
    // Nobody else can take either address at that port.
    assert!(TcpListener::bind(("127.0.0.1", port)).is_err());
    assert!(TcpListener::bind(("::1", port)).is_err());
    assert!(TcpStream::connect(("::1", port)).is_ok());
    let callback = idp.authorize(&url, "gina");
    let page = reqwest::blocking::get(&callback).expect("listener");
    assert_eq!(page.status(), 200);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

/// The start URL is on the redirect's own host, so that the cookie it sets
/// comes back with the callback: `localhost` and `[::1]` redirects sign in
/// through a browser too.
#[test]
fn the_start_url_is_on_the_redirect_s_host() {
    let idp = Idp::start();
    for (redirect, host) in [
        ("http://localhost/callback", "localhost"),
        ("http://[::1]/callback", "[::1]"),
    ] {
        let mut env = redirected(&idp, redirect);
        let browser = FakeBrowser::install(&mut env, 1);
        let running = env.spawn(&["auth", "login", "idp", "--flow", "browser"]);
        let start = browser.url();
        assert!(start.starts_with(&format!("http://{host}:")), "{start}");
        let jar = CookieJar::new();
        let authorization_url = jar.open(&start);
        let callback = idp.authorize(&authorization_url, "hana");
        assert_eq!(jar.get(&callback).status(), 200, "{redirect}");
        let done = running.finish(LOGIN_WAIT);
        assert_eq!(done.code, Some(0), "{redirect}: {}", done.stderr);
    }
}

#[test]
fn a_browser_that_runs_in_the_terminal_does_not_stall_the_sign_in() {
    let idp = Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    // Like lynx: records the URL, then runs (here: sleeps) until killed.
    let record = env.root.path().join("argv");
    let script = env.root.path().join("textbrowser");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1\" > '{}'\nexec sleep 60\n",
            record.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    env.set("BROWSER", &script.display().to_string());
    let running = env.spawn(&[
        "auth",
        "login",
        "idp",
        "--flow",
        "browser",
        "--timeout",
        "30s",
    ]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&record).is_ok_and(|t| t.starts_with("http")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = std::fs::read_to_string(&record)
        .expect("url")
        .trim()
        .to_string();
    let jar = CookieJar::new();
    let callback = idp.authorize(&jar.open(&start), "ivan");
    assert_eq!(jar.get(&callback).status(), 200);
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

#[test]
fn the_paste_flow_starts_no_browser() {
    let idp = Idp::start();
    let mut env = TestEnv::new();
    env.config_for(&idp);
    let browser = FakeBrowser::install(&mut env, 1);
    let mut running = env.spawn_interactive(&["auth", "login", "idp", "--flow", "paste"]);
    let url = running.line("authorization URL", is_authorize_url(&idp));
    running.line("paste prompt", |l| l.contains("paste it here"));
    running.type_line(&idp.authorize(&url, "jane"));
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        browser.argv().is_empty(),
        "the authorization URL went into a browser's argv: {}",
        browser.argv()
    );
}
