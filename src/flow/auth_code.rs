//! Authorization code with PKCE (RFC 7636, S256): the browser flow, with a
//! one-shot listener on 127.0.0.1, and the paste flow, where the person
//! copies the code (or the whole redirect URL) back.
//!
//! What always holds: `state` is random and checked; when the callback
//! carries `iss` it must equal the issuer (RFC 9207), and it must be there
//! when the provider promised it; the token request sends the identical
//! redirect_uri, port included; nothing is returned unless all checks passed.

use std::time::Duration;

use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use url::Url;

use crate::error::Category;
use crate::flow::loopback::Listener;
use crate::flow::{
    ClientSettings, FlowError, Interaction, TokenResponse, classify, provider_error, redirect_cow,
    scopes, sender,
};
use crate::http::Http;

/// The default redirect: a loopback listener on any free port (RFC 8252 §7.3).
pub const DEFAULT_REDIRECT: &str = "http://127.0.0.1/callback";

pub struct Request<'a> {
    pub settings: &'a ClientSettings,
    pub scopes: &'a [String],
    /// Extra authorization parameters (`prompt=consent`, `access_type=offline`, …).
    pub params: &'a [(String, String)],
    /// Configured redirect URI, if any.
    pub redirect_uri: Option<&'a Url>,
}

struct Prepared {
    url: Url,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

impl Request<'_> {
    fn prepare(&self, redirect: &Url) -> Result<Prepared, FlowError> {
        let client = self.settings.oauth_client();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?
            .set_redirect_uri(redirect_cow(redirect))
            .add_scopes(scopes(self.scopes))
            // Sends code_challenge_method=S256 explicitly.
            .set_pkce_challenge(challenge);
        for (k, v) in self.params {
            request = request.add_extra_param(k.as_str(), v.as_str());
        }
        let (url, state) = request.url();
        Ok(Prepared {
            url,
            state,
            verifier,
        })
    }

    /// Checks a callback's parameters and returns the code.
    fn check(
        &self,
        query: &[(String, String)],
        state: &CsrfToken,
    ) -> Result<AuthorizationCode, FlowError> {
        let get = |k: &str| {
            query
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        // RFC 9207 §2.4: check `iss` before anything else in the response.
        match (get("iss"), &self.settings.issuer) {
            (Some(iss), Some(issuer))
                if iss.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') =>
            {
                return Err(FlowError::new(
                    Category::ReauthRequired,
                    format!(
                        "the callback came from issuer {:?}, not {issuer} (a mix-up attack or a misconfigured issuer); nothing was stored",
                        crate::flow::sanitize(iss)
                    ),
                ));
            }
            (None, Some(_)) if self.settings.iss_required => {
                return Err(FlowError::new(
                    Category::ReauthRequired,
                    "the callback has no `iss` although the provider promises one (RFC 9207); nothing was stored",
                ));
            }
            _ => {}
        }
        if get("state") != Some(state.secret().as_str()) {
            return Err(FlowError::new(
                Category::ReauthRequired,
                "the callback's state does not match this sign-in (a stale browser tab, or a forged request); nothing was stored",
            ));
        }
        if let Some(error) = get("error") {
            let mut e = provider_error(error, get("error_description"));
            e.category = Category::ReauthRequired;
            e.message = format!("the sign-in was not completed: {}", e.message);
            return Err(e);
        }
        match get("code") {
            Some(code) if !code.is_empty() => Ok(AuthorizationCode::new(code.to_string())),
            _ => Err(FlowError::new(
                Category::ReauthRequired,
                "the callback carries no authorization code",
            )),
        }
    }

    async fn exchange(
        &self,
        http: &Http,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
        redirect: &Url,
    ) -> Result<TokenResponse, FlowError> {
        let client = self.settings.oauth_client();
        let send = sender(http);
        let sent = [code.secret().clone(), verifier.secret().clone()];
        client
            .exchange_code(code)
            .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?
            .set_pkce_verifier(verifier)
            .set_redirect_uri(redirect_cow(redirect))
            .request_async(&send)
            .await
            .map_err(|e| self.settings.scrub(classify(e), &[&sent[0], &sent[1]]))
    }

    /// The browser flow: listen, send the person to the provider, wait for
    /// the redirect (at most `timeout`), check it, exchange the code.
    pub async fn browser(
        &self,
        http: &Http,
        ui: &dyn Interaction,
        open_browser: bool,
        timeout: Duration,
    ) -> Result<TokenResponse, FlowError> {
        let configured = match self.redirect_uri {
            Some(url) => url.clone(),
            None => Url::parse(DEFAULT_REDIRECT)
                .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?,
        };
        if !crate::provider::config::is_loopback(&configured) || configured.scheme() != "http" {
            return Err(FlowError::new(
                Category::Configuration,
                format!(
                    "the browser flow needs a loopback redirect_uri such as {DEFAULT_REDIRECT}, not {configured}; use `--flow paste` for a redirect to a web page"
                ),
            ));
        }
        // Listen where the redirect goes: ::1 for [::1], else 127.0.0.1
        // (also for `localhost`, which RFC 8252 §8.3 advises against).
        let ip = match configured.host() {
            Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
            Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
            _ => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        };
        let listener = Listener::bind(ip, configured.port().unwrap_or(0), configured.path())
            .await
            .map_err(|e| {
                FlowError::new(
                    Category::Configuration,
                    format!("cannot listen on {ip} for the redirect to {configured}: {e}"),
                )
            })?;
        let mut redirect = configured.clone();
        let port = listener
            .port()
            .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?;
        redirect
            .set_port(Some(port))
            .map_err(|()| FlowError::new(Category::Configuration, "bad redirect_uri"))?;
        let prepared = self.prepare(&redirect)?;
        let opened = open_browser && webbrowser::open(prepared.url.as_str()).is_ok();
        ui.authorization_url(&prepared.url, opened);

        let callback = tokio::time::timeout(timeout, listener.wait())
            .await
            .map_err(|_| {
                FlowError::new(
                    Category::ReauthRequired,
                    format!(
                        "no answer from the browser within {}; if the provider showed an error page, check that {} is a registered redirect URI of the client",
                        humantime::format_duration(timeout),
                        configured
                    ),
                )
            })?
            .map_err(|e| FlowError::new(Category::Transient, format!("the redirect listener failed: {e}")))?;
        let checked = self.check(&callback.query, &prepared.state);
        match &checked {
            Ok(_) => {
                callback
                    .respond(true, "Signed in", "credctl received the sign-in. You can close this tab and return to the terminal.")
                    .await;
            }
            Err(e) => {
                callback
                    .respond(
                        false,
                        "Sign-in failed",
                        &format!("{e}. Return to the terminal for details."),
                    )
                    .await;
            }
        }
        self.exchange(http, checked?, prepared.verifier, &redirect)
            .await
    }

    /// The paste flow: send the person to the provider, read the code or
    /// the whole redirect URL from the terminal, check it, exchange it.
    pub async fn paste(
        &self,
        http: &Http,
        ui: &dyn Interaction,
        open_browser: bool,
    ) -> Result<TokenResponse, FlowError> {
        let redirect = match self.redirect_uri {
            Some(url) => url.clone(),
            None => Url::parse(DEFAULT_REDIRECT)
                .map_err(|e| FlowError::new(Category::Configuration, e.to_string()))?,
        };
        let prepared = self.prepare(&redirect)?;
        let opened = open_browser && webbrowser::open(prepared.url.as_str()).is_ok();
        ui.authorization_url(&prepared.url, opened);
        ui.paste_prompt("Paste the code, or the whole URL the browser was sent to:");
        let line = read_stdin_line()
            .await
            .map_err(|e| {
                FlowError::new(
                    Category::ReauthRequired,
                    format!("cannot read the code: {e}"),
                )
            })?
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .ok_or_else(|| FlowError::new(Category::ReauthRequired, "no code was pasted"))?;
        let code = match parse_pasted(&line) {
            // A bare code: the page the provider sent the browser to showed only that.
            Pasted::Code(code) => AuthorizationCode::new(code),
            // A redirect URL carries the state we sent, and it must match.
            Pasted::Redirect(query) => self.check(&query, &prepared.state)?,
        };
        self.exchange(http, code, prepared.verifier, &redirect)
            .await
    }
}

/// One line of stdin, read on a thread of its own so that the sign-in stays
/// responsive to Ctrl-C while the person types (the thread ends with the process).
async fn read_stdin_line() -> std::io::Result<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::{BufRead, Read};
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .take(64 * 1024)
            .read_line(&mut line)
            .map(|n| (n > 0).then_some(line));
        let _ = tx.send(read);
    });
    rx.await
        .unwrap_or_else(|_| Err(std::io::Error::other("the reader stopped")))
}

enum Pasted {
    Code(String),
    Redirect(Vec<(String, String)>),
}

fn parse_pasted(line: &str) -> Pasted {
    let query = if line.contains("://") {
        // Some pages put the parameters in the fragment.
        Url::parse(line)
            .ok()
            .map(|u| u.query().or(u.fragment()).unwrap_or("").to_string())
    } else if line.starts_with('?') || line.contains("code=") {
        Some(line.trim_start_matches('?').to_string())
    } else {
        None
    };
    match query {
        Some(q) => Pasted::Redirect(
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect(),
        ),
        None => Pasted::Code(line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::config::Endpoints;

    fn settings(issuer: Option<&str>, iss_required: bool) -> ClientSettings {
        ClientSettings {
            client_id: "cli".into(),
            client_secret: None,
            endpoints: Endpoints {
                authorization: Some("https://id.example/auth".parse().expect("url")),
                token: Some("https://id.example/token".parse().expect("url")),
                ..Endpoints::default()
            },
            issuer: issuer.map(|i| i.parse().expect("url")),
            iss_required,
        }
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_url_carries_pkce_s256_state_and_the_redirect() {
        let s = settings(None, false);
        let scopes = vec!["openid".to_string(), "offline_access".to_string()];
        let params = vec![("prompt".to_string(), "consent".to_string())];
        let r = Request {
            settings: &s,
            scopes: &scopes,
            params: &params,
            redirect_uri: None,
        };
        let redirect: Url = "http://127.0.0.1:4321/callback".parse().expect("url");
        let p = r.prepare(&redirect).expect("prepare");
        let query: std::collections::HashMap<_, _> = p.url.query_pairs().into_owned().collect();
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["redirect_uri"], "http://127.0.0.1:4321/callback");
        assert_eq!(query["scope"], "openid offline_access");
        assert_eq!(query["prompt"], "consent");
        assert_eq!(query["state"], *p.state.secret());
        assert!(query["code_challenge"].len() >= 43);
    }

    #[test]
    fn state_iss_and_errors_are_checked() {
        let s = settings(Some("https://id.example"), true);
        let r = Request {
            settings: &s,
            scopes: &[],
            params: &[],
            redirect_uri: None,
        };
        let state = CsrfToken::new("s1".into());
        assert!(
            r.check(
                &q(&[
                    ("code", "c"),
                    ("state", "s1"),
                    ("iss", "https://id.example")
                ]),
                &state
            )
            .is_ok()
        );
        let wrong_state = r.check(
            &q(&[
                ("code", "c"),
                ("state", "s2"),
                ("iss", "https://id.example"),
            ]),
            &state,
        );
        assert!(
            wrong_state
                .expect_err("state")
                .message
                .contains("state does not match")
        );
        let wrong_iss = r.check(
            &q(&[
                ("code", "c"),
                ("state", "s1"),
                ("iss", "https://evil.example"),
            ]),
            &state,
        );
        assert!(wrong_iss.expect_err("iss").message.contains("evil.example"));
        let no_iss = r.check(&q(&[("code", "c"), ("state", "s1")]), &state);
        assert!(no_iss.is_err());
        let denied = r.check(
            &q(&[
                ("error", "access_denied"),
                ("state", "s1"),
                ("iss", "https://id.example"),
            ]),
            &state,
        );
        let denied = denied.expect_err("denied");
        assert_eq!(denied.category, Category::ReauthRequired);
        assert!(denied.message.contains("access_denied"));
    }

    #[test]
    fn pasted_input_is_a_code_or_a_redirect() {
        assert!(matches!(parse_pasted("4/0Adeu5BW"), Pasted::Code(c) if c == "4/0Adeu5BW"));
        match parse_pasted("http://127.0.0.1/callback?code=abc&state=xyz") {
            Pasted::Redirect(q) => assert_eq!(
                q,
                vec![
                    ("code".into(), "abc".into()),
                    ("state".into(), "xyz".into())
                ]
            ),
            Pasted::Code(_) => panic!("a redirect"),
        }
    }
}
