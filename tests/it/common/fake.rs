//! A fake token endpoint (wiremock), for the error shapes a real server will
//! not produce on demand: 5xx, 429, timeouts, HTML, huge bodies.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::TestEnv;

pub struct Fake {
    runtime: tokio::runtime::Runtime,
    pub server: MockServer,
}

impl Fake {
    pub fn start() -> Fake {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        // The server runs on a thread of its own; this runtime only drives its API.
        let server = runtime.block_on(MockServer::start());
        Fake { runtime, server }
    }

    /// A server already named in `env`'s config as `[providers.acme]`.
    pub fn serving(env: &TestEnv) -> Fake {
        let fake = Fake::start();
        fake.configure(env);
        fake
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.server.uri())
    }

    /// Answers POST /token with `response`, at most `times` times if given.
    pub fn token_answers(&self, response: ResponseTemplate, times: Option<u64>) {
        let mock = Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(response);
        let mock = match times {
            Some(n) => mock.up_to_n_times(n),
            None => mock,
        };
        self.runtime.block_on(mock.mount(&self.server));
    }

    /// Mounts any mock.
    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    /// The bodies of the requests POST /token received, in order.
    pub fn token_requests(&self) -> Vec<String> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == "/token")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// Every request received, as its head and body, for leak checks.
    pub fn received(&self) -> Vec<String> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let headers: Vec<String> = r
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v:?}"))
                    .collect();
                format!(
                    "{} {}\n{}\n\n{}",
                    r.method,
                    r.url,
                    headers.join("\n"),
                    String::from_utf8_lossy(&r.body)
                )
            })
            .collect()
    }

    /// `[providers.acme]` with this server's token endpoint, public client `cli`.
    pub fn configure(&self, env: &TestEnv) {
        env.config(&format!(
            "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"{}\"\nauthorization_url = \"{}/auth\"\n",
            self.token_url(),
            self.server.uri()
        ));
    }
}

/// A token endpoint success answer.
pub fn tokens(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> ResponseTemplate {
    let mut body = json!({ "access_token": access, "token_type": "bearer" });
    if let Some(refresh) = refresh {
        body["refresh_token"] = Value::from(refresh);
    }
    if let Some(expires_in) = expires_in {
        body["expires_in"] = Value::from(expires_in);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

/// An OAuth error answer (RFC 6749 §5.2).
pub fn oauth_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({ "error": error, "error_description": description }))
}

pub fn slow(response: ResponseTemplate, delay: Duration) -> ResponseTemplate {
    response.set_delay(delay)
}
