//! The browser credctl starts, played by the test.
//!
//! credctl runs `$BROWSER` with a one-time start URL. [`FakeBrowser`] is a
//! script that records its argv (and lingers a while, so that its command
//! line can be inspected); [`CookieJar`] then does what a real browser does
//! with that URL: fetches it, keeps the cookie credctl sets, follows the
//! redirect to the authorization server and comes back to credctl's
//! listener with the same cookie.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;

use super::TestEnv;

pub struct FakeBrowser {
    /// One argv element per line, for each start.
    pub record: PathBuf,
}

impl FakeBrowser {
    /// Installs the script as `$BROWSER` (with a `DISPLAY`, so that credctl
    /// starts it). It stays in the process table for `linger` seconds.
    pub fn install(env: &mut TestEnv, linger: u32) -> FakeBrowser {
        let record = env.root.path().join("browser-argv");
        let script = env.root.path().join("browser");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\nsh -c 'sleep {linger}' fake-browser \"$@\" >/dev/null 2>&1 &\n",
                record.display()
            ),
        )
        .expect("browser script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
        env.set("BROWSER", &script.display().to_string());
        env.set("DISPLAY", ":99");
        FakeBrowser { record }
    }

    /// The URL credctl gave the browser, once it has.
    pub fn url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(line) = fs::read_to_string(&self.record)
                .ok()
                .and_then(|t| t.lines().find(|l| l.starts_with("http")).map(String::from))
            {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "credctl did not start the browser"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the browser was given on its command line.
    pub fn argv(&self) -> String {
        fs::read_to_string(&self.record).unwrap_or_default()
    }
}

/// A browser's cookie jar, for credctl's listener.
pub struct CookieJar {
    client: Client,
}

impl CookieJar {
    pub fn new() -> CookieJar {
        CookieJar {
            client: Client::builder()
                .no_proxy()
                .cookie_store(true)
                .redirect(Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    /// Fetches credctl's start URL; returns where it redirects (the
    /// authorization URL), keeping the cookie it sets.
    pub fn open(&self, start_url: &str) -> String {
        let response = self.get(start_url);
        assert_eq!(response.status(), 302, "the start URL redirects");
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("a Location")
            .to_string()
    }

    /// A GET with the jar's cookies.
    pub fn get(&self, url: &str) -> Response {
        self.client
            .get(url)
            .send()
            .expect("credctl's listener answers")
    }
}
