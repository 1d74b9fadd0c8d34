//! A real OAuth 2.0 / OpenID Connect authorization server for the end-to-end
//! tests: `oidc-provider` (npm) launched by `tests/idp/server.mjs`, plus a
//! simulated "browser" that fills in its login, consent and device pages.
//!
//! Plain http on `http://127.0.0.1:PORT` by default; [`Idp::start_tls`] serves
//! https on `https://localhost:PORT` with a [`TestCa`]'s certificate, and then
//! every helper client here trusts that CA and nothing else.
//!
//! Needs `node` on PATH and `npm ci --prefix tests/idp` once.
//!
//! Clients registered by the launcher:
//! - [`PUBLIC_CLIENT_ID`]: the CLI. Public, PKCE S256 required, redirect
//!   `http://127.0.0.1/callback` (any port), authorization code, refresh token
//!   and device code grants. A refresh token needs `offline_access` and, in the
//!   browser flow, `prompt=consent`.
//! - [`CONFIDENTIAL_CLIENT_ID`] / [`CONFIDENTIAL_CLIENT_SECRET`]:
//!   client_credentials (`scope=api:read` is granted), and introspection of
//!   anyone's tokens.
//! - `bench-confidential` / `bench-secret`: device code and refresh token
//!   grants, for oidc-agent in `bench/peers.sh`; no test uses it.
//!
//! Everything here is blocking (`reqwest::blocking`): call it from a plain
//! `#[test]`, or from `spawn_blocking` inside an async test.

// Each test uses only some of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;
use serde_json::Value;

use super::tls::TestCa;

pub const PUBLIC_CLIENT_ID: &str = "credctl-public";
pub const CONFIDENTIAL_CLIENT_ID: &str = "credctl-confidential";
pub const CONFIDENTIAL_CLIENT_SECRET: &str = "credctl-secret";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long to wait for the launcher's "listening" line.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Bound on every HTTP call the helpers make, so a stuck server fails a test
/// instead of hanging it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on redirects and form posts in one simulated browser session.
const MAX_BROWSER_STEPS: usize = 20;

/// Settings passed to the launcher as `IDP_*` environment variables.
#[derive(Debug, Clone)]
pub struct IdpOptions {
    /// Access token (and client_credentials token) lifetime, seconds.
    pub access_token_ttl: u64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl: u64,
    /// Device code lifetime, seconds.
    pub device_code_ttl: u64,
    /// Delay added to every token endpoint request, milliseconds.
    pub token_delay_ms: u64,
    /// Rotate refresh tokens on every use, with reuse detection: presenting a
    /// rotated-out refresh token revokes the whole grant.
    pub rotate_refresh: bool,
    /// Port to listen on (on 127.0.0.1); 0 picks any free port.
    pub port: u16,
    /// Where the server writes its notices and warnings (appending) instead of
    /// stderr; then [`Idp::server_log`] gets at most a fatal error's one line.
    pub log: Option<PathBuf>,
}

impl Default for IdpOptions {
    fn default() -> Self {
        IdpOptions {
            access_token_ttl: 3600,
            refresh_token_ttl: 86400,
            device_code_ttl: 600,
            token_delay_ms: 0,
            rotate_refresh: true,
            port: 0,
            log: None,
        }
    }
}

/// A running authorization server. Dropping it stops the node process.
pub struct Idp {
    /// The launcher; `None` for a server this helper did not start.
    child: Option<Child>,
    /// Kept open: the launcher exits when its stdin closes.
    stdin: Option<ChildStdin>,
    issuer: String,
    port: u16,
    /// The CA every helper client trusts, over https.
    ca: Option<reqwest::Certificate>,
    http: Client,
    stderr: Arc<Mutex<String>>,
}

/// What the simulated user does at the login and consent pages.
enum Choice<'a> {
    Approve { login: &'a str },
    Deny,
}

impl Idp {
    /// Starts a server with default options.
    pub fn start() -> Idp {
        Idp::start_with(IdpOptions::default())
    }

    /// Starts `node tests/idp/server.mjs` and waits (20 s at most) for it to
    /// listen. Panics with a hint if node or `tests/idp/node_modules` is missing.
    pub fn start_with(opts: IdpOptions) -> Idp {
        Idp::launch(opts, None)
    }

    /// Starts a server with default options over https, with `ca`'s server
    /// certificate: the issuer is `https://localhost:PORT`. The helpers'
    /// clients trust `ca` only (not the system's roots). The server reads the
    /// certificate files while starting; `ca` may be dropped afterwards.
    pub fn start_tls(ca: &TestCa) -> Idp {
        Idp::start_tls_with(IdpOptions::default(), ca)
    }

    /// [`Idp::start_tls`] with options.
    pub fn start_tls_with(opts: IdpOptions, ca: &TestCa) -> Idp {
        Idp::launch(opts, Some(ca))
    }

    fn launch(opts: IdpOptions, tls: Option<&TestCa>) -> Idp {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("idp");
        if !dir.join("node_modules").join("oidc-provider").is_dir() {
            panic!(
                "oidc-provider is not installed in {}: run `npm ci --prefix tests/idp` first",
                dir.display()
            );
        }
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("server.mjs"))
            .env("IDP_ACCESS_TOKEN_TTL", opts.access_token_ttl.to_string())
            .env("IDP_REFRESH_TOKEN_TTL", opts.refresh_token_ttl.to_string())
            .env("IDP_DEVICE_CODE_TTL", opts.device_code_ttl.to_string())
            .env("IDP_TOKEN_DELAY_MS", opts.token_delay_ms.to_string())
            .env(
                "IDP_ROTATE_REFRESH",
                if opts.rotate_refresh { "1" } else { "0" },
            )
            .env("IDP_PORT", opts.port.to_string())
            .env("IDP_EXIT_ON_STDIN_CLOSE", "1")
            .env_remove("IDP_TLS_CERT")
            .env_remove("IDP_TLS_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Without a log file, everything but the JSON line goes to stderr,
        // which is collected below.
        match &opts.log {
            Some(path) => cmd.env("IDP_LOG", path),
            None => cmd.env_remove("IDP_LOG"),
        };
        if let Some(ca) = tls {
            cmd.env("IDP_TLS_CERT", ca.cert_path())
                .env("IDP_TLS_KEY", ca.key_path());
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `node` (is Node.js 20+ on PATH?): {e}"));

        // Drain stderr into a buffer (warnings, crash traces) for panic messages.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("child stderr is piped");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                lock(&sink).push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        // The first stdout line is {"issuer":...,"port":...}; keep draining after.
        let out_pipe = child.stdout.take().expect("child stdout is piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(out_pipe).lines();
            if let Some(Ok(line)) = lines.next() {
                // The receiver is gone only if start_with already gave up.
                let _ = tx.send(line);
            }
            for _ in lines {}
        });

        let stdin = child.stdin.take();
        let ca = tls.map(TestCa::reqwest_cert);
        let http = client_builder(ca.as_ref())
            .build()
            .expect("build the reqwest client");
        let mut idp = Idp {
            child: Some(child),
            stdin,
            issuer: String::new(),
            port: 0,
            ca,
            http,
            stderr,
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(e) => panic!(
                "the test authorization server did not start ({e}); \
                 did you run `npm ci --prefix tests/idp`? Its stderr:\n{}",
                idp.server_log()
            ),
        };
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("launcher's first line is not JSON ({e}): {line}"));
        idp.issuer = ready["issuer"]
            .as_str()
            .unwrap_or_else(|| panic!("launcher's first line has no issuer: {line}"))
            .to_owned();
        idp.port = ready["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("launcher's first line has no port: {line}"));
        idp
    }

    /// The pages and endpoints of a server started elsewhere (plain http),
    /// for driving its sign-in pages; dropping it stops nothing.
    pub fn attach(issuer: &str) -> Idp {
        Idp {
            child: None,
            stdin: None,
            issuer: issuer.to_string(),
            port: reqwest::Url::parse(issuer)
                .ok()
                .and_then(|u| u.port())
                .unwrap_or(0),
            ca: None,
            http: Client::builder()
                .no_proxy()
                .timeout(HTTP_TIMEOUT)
                .redirect(Policy::none())
                .build()
                .expect("build the reqwest client"),
            stderr: Arc::new(Mutex::new(String::new())),
        }
    }

    /// `http://127.0.0.1:<port>`, or `https://localhost:<port>` over TLS; no
    /// trailing slash.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the server wrote to stderr so far (warnings, stack traces).
    pub fn server_log(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Acts as the user's browser: opens `authorization_url`, signs in as
    /// `login` (any password works) and approves the consent page. Returns the
    /// URL it was finally redirected to outside the server (the loopback
    /// callback with `code`, `state` and `iss`, or with `error` if the request
    /// was refused) without requesting it. Each call uses fresh cookies.
    /// Panics, quoting the page, if the server shows an error page instead
    /// (e.g. a redirect_uri that is not registered).
    pub fn authorize(&self, authorization_url: &str, login: &str) -> String {
        self.browse(authorization_url, Choice::Approve { login })
    }

    /// Like [`Idp::authorize`], but the user aborts at the first page (the
    /// "Cancel" link); returns the callback URL carrying `error=access_denied`.
    pub fn authorize_deny(&self, authorization_url: &str) -> String {
        self.browse(authorization_url, Choice::Deny)
    }

    /// Acts as the user on the device verification page: enters `user_code`,
    /// confirms, signs in as `login` and approves the consent page.
    pub fn device_approve(&self, user_code: &str, login: &str) {
        let (browser, xsrf) = self.device_confirm_page(user_code);
        let form = [
            ("xsrf", xsrf.as_str()),
            ("user_code", user_code),
            ("confirm", "yes"),
        ];
        let url = self.url("/device");
        let resp = browser
            .post(&url)
            .form(&form)
            .send()
            .expect("POST the device confirm form");
        let mut next = self.follow(&browser, &url, resp, &Choice::Approve { login });
        for _ in 0..MAX_BROWSER_STEPS {
            match next {
                Step::Page(_, body) if body.contains("Sign-in Success") => return,
                Step::Page(url, body) => panic!(
                    "device flow for {user_code} did not succeed at {url}: {}",
                    page_error(&body)
                ),
                Step::Left(url) => panic!("device flow redirected away from the server: {url}"),
                Step::Next(url, resp) => {
                    next = self.follow(&browser, &url, resp, &Choice::Approve { login })
                }
            }
        }
        panic!("device flow for {user_code} took more than {MAX_BROWSER_STEPS} steps");
    }

    /// Acts as the user on the device verification page: enters `user_code`,
    /// then clicks "Abort". The CLI's next poll gets `access_denied`.
    pub fn device_deny(&self, user_code: &str) {
        let (browser, xsrf) = self.device_confirm_page(user_code);
        let form = [
            ("xsrf", xsrf.as_str()),
            ("user_code", user_code),
            ("abort", "yes"),
        ];
        let resp = browser
            .post(self.url("/device"))
            .form(&form)
            .send()
            .expect("POST the device abort form");
        let body = resp.text().expect("read the device abort page");
        if !body.contains("The Sign-in request was interrupted") {
            panic!(
                "aborting device code {user_code} failed: {}",
                page_error(&body)
            );
        }
    }

    /// RFC 7662 introspection with the confidential client's credentials.
    /// `active` is false for unknown, expired and revoked tokens.
    pub fn introspect(&self, token: &str) -> Value {
        let resp = self
            .http
            .post(self.url("/token/introspection"))
            .basic_auth(CONFIDENTIAL_CLIENT_ID, Some(CONFIDENTIAL_CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .expect("POST the introspection endpoint");
        let status = resp.status();
        let body: Value = resp.json().expect("introspection answer is JSON");
        assert!(
            status.is_success(),
            "introspection failed with {status}: {body}"
        );
        body
    }

    /// RFC 7009 revocation as the public client; `true` when accepted. It
    /// ends the whole grant.
    pub fn revoke(&self, token: &str) -> bool {
        self.http
            .post(self.url("/token/revocation"))
            .form(&[("token", token), ("client_id", PUBLIC_CLIENT_ID)])
            .send()
            .expect("POST the revocation endpoint")
            .status()
            .is_success()
    }

    /// A check that a token is active at this server (introspection), for
    /// the test servers that stand for APIs accepting its tokens.
    pub fn introspector(&self) -> impl Fn(&str) -> bool + Send + Sync + 'static {
        let http = self.http.clone();
        let url = self.url("/token/introspection");
        move |token: &str| {
            http.post(&url)
                .basic_auth(CONFIDENTIAL_CLIENT_ID, Some(CONFIDENTIAL_CLIENT_SECRET))
                .form(&[("token", token)])
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["active"] == true)
        }
    }

    /// A refresh_token grant as the public client, straight to the token
    /// endpoint: (HTTP status, JSON body). With rotation on, presenting a
    /// rotated-out token gives (400, `invalid_grant`) and revokes the grant.
    pub fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", PUBLIC_CLIENT_ID),
        ];
        let resp = self
            .http
            .post(self.url("/token"))
            .form(&form)
            .send()
            .expect("POST the token endpoint");
        let status = resp.status().as_u16();
        (status, resp.json().expect("token endpoint answer is JSON"))
    }

    /// How many token endpoint requests with this `grant_type` reached the
    /// server since start or the last [`Idp::reset_stats`] (counted on arrival).
    /// Device code polls count under [`DEVICE_CODE_GRANT`].
    pub fn token_requests(&self, grant_type: &str) -> u64 {
        let stats: Value = self
            .http
            .get(self.url("/__test/stats"))
            .send()
            .expect("GET /__test/stats")
            .json()
            .expect("/__test/stats answer is JSON");
        stats["token_requests"][grant_type].as_u64().unwrap_or(0)
    }

    /// How many discovery documents (`/.well-known/…`) were asked for since
    /// start or the last [`Idp::reset_stats`].
    pub fn discovery_requests(&self) -> u64 {
        let stats: Value = self
            .http
            .get(self.url("/__test/stats"))
            .send()
            .expect("GET /__test/stats")
            .json()
            .expect("/__test/stats answer is JSON");
        stats["discovery_requests"].as_u64().unwrap_or(0)
    }

    /// Zeroes the token endpoint counters.
    pub fn reset_stats(&self) {
        let resp = self
            .http
            .post(self.url("/__test/reset"))
            .send()
            .expect("POST /__test/reset");
        assert!(
            resp.status().is_success(),
            "/__test/reset answered {}",
            resp.status()
        );
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A fresh browser: its own cookie jar, redirects followed by hand. Over
    /// https the server's cookies are `secure`; this jar sends them back there.
    fn browser(&self) -> Client {
        client_builder(self.ca.as_ref())
            .cookie_store(true)
            .build()
            .expect("build the browser's reqwest client")
    }

    fn browse(&self, start: &str, choice: Choice<'_>) -> String {
        let browser = self.browser();
        let resp = browser
            .get(start)
            .send()
            .expect("GET the authorization URL");
        let mut next = self.follow(&browser, start, resp, &choice);
        for _ in 0..MAX_BROWSER_STEPS {
            match next {
                Step::Left(url) => return url,
                Step::Page(url, body) => panic!(
                    "the authorization server showed an error page at {url} instead of redirecting \
                     (check client_id, redirect_uri and PKCE parameters): {}",
                    page_error(&body)
                ),
                Step::Next(url, resp) => next = self.follow(&browser, &url, resp, &choice),
            }
        }
        panic!("authorization of {start} took more than {MAX_BROWSER_STEPS} steps");
    }

    /// One browser step: follows a redirect, or fills in a login/consent form.
    fn follow(&self, browser: &Client, url: &str, resp: Response, choice: &Choice<'_>) -> Step {
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{status} without a Location header from {url}"));
            let target = Url::parse(url)
                .and_then(|base| base.join(location))
                .unwrap_or_else(|e| panic!("bad Location {location:?} from {url}: {e}"))
                .to_string();
            if !target.starts_with(&format!("{}/", self.issuer)) {
                return Step::Left(target);
            }
            let resp = browser.get(&target).send().expect("follow a redirect");
            return Step::Next(target, resp);
        }
        let body = resp.text().expect("read an HTML page");
        let prompt = attr_after(&body, "name=\"prompt\" value=\"");
        let (Some(prompt), true) = (prompt, status.is_success()) else {
            return Step::Page(url.to_owned(), body);
        };
        if let Choice::Deny = choice {
            let abort = abort_link(&body)
                .unwrap_or_else(|| panic!("no abort link on the {prompt} page at {url}"));
            let resp = browser.get(&abort).send().expect("GET the abort link");
            return Step::Next(abort, resp);
        }
        let action = attr_after(&body, "action=\"")
            .unwrap_or_else(|| panic!("no form action on the {prompt} page at {url}"));
        let resp = match (prompt.as_str(), choice) {
            ("login", Choice::Approve { login }) => browser
                .post(&action)
                .form(&[
                    ("prompt", "login"),
                    ("login", login),
                    ("password", "any-password"),
                ])
                .send()
                .expect("POST the login form"),
            ("consent", _) => browser
                .post(&action)
                .form(&[("prompt", "consent")])
                .send()
                .expect("POST the consent form"),
            (other, _) => panic!("unexpected interaction prompt {other:?} at {url}"),
        };
        Step::Next(action, resp)
    }

    /// GET /device, enter the user code; returns the browser and the form's
    /// xsrf token, standing on the "Confirm Device" page.
    fn device_confirm_page(&self, user_code: &str) -> (Client, String) {
        let browser = self.browser();
        let url = self.url("/device");
        let page = browser
            .get(&url)
            .send()
            .expect("GET /device")
            .text()
            .expect("read /device");
        let xsrf = attr_after(&page, "name=\"xsrf\" value=\"")
            .unwrap_or_else(|| panic!("no xsrf field on the device page: {}", page_error(&page)));
        let form = [("xsrf", xsrf.as_str()), ("user_code", user_code)];
        let page = browser
            .post(&url)
            .form(&form)
            .send()
            .expect("POST the user code")
            .text()
            .expect("read");
        if !page.contains("op.deviceConfirmForm") {
            panic!(
                "user code {user_code} was not accepted: {}",
                page_error(&page)
            );
        }
        (browser, xsrf)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

enum Step {
    /// A response still on the server (URL it came from).
    Next(String, Response),
    /// A redirect to somewhere outside the server: the client's callback.
    Left(String),
    /// A page that is neither a redirect nor a login/consent form.
    Page(String, String),
}

/// Every helper client: no proxy, bounded, redirects by hand; with `ca`, it
/// trusts that CA and no built-in root.
fn client_builder(ca: Option<&reqwest::Certificate>) -> reqwest::blocking::ClientBuilder {
    let builder = Client::builder()
        .no_proxy()
        .timeout(HTTP_TIMEOUT)
        .redirect(Policy::none());
    match ca {
        Some(ca) => builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone()),
        None => builder,
    }
}

fn lock(m: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The attribute value starting right after the first `prefix`, unescaped.
fn attr_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let len = html[start..].find('"')?;
    Some(unescape(&html[start..start + len]))
}

/// The devInteractions "[ Cancel ]" link: `<a href=".../interaction/<uid>/abort">`.
fn abort_link(html: &str) -> Option<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.ends_with("/abort"))
        .map(unescape)
}

/// The error text of an oidc-provider page: `<pre>key: value</pre>` lines on
/// the error page, `<p class="red">` on the device pages, else the page itself.
fn page_error(html: &str) -> String {
    let mut parts = Vec::new();
    for (open, close) in [("<pre>", "</pre>"), ("<p class=\"red\">", "</p>")] {
        let mut rest = html;
        while let Some(i) = rest.find(open) {
            rest = &rest[i + open.len()..];
            let end = rest.find(close).unwrap_or(rest.len());
            parts.push(unescape(&strip_tags(&rest[..end])));
            rest = &rest[end..];
        }
    }
    if parts.is_empty() {
        let text: String = html.chars().take(2000).collect();
        return text;
    }
    parts.join("; ")
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
