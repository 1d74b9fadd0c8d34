//! Authorization code with PKCE (RFC 7636, S256), and the browser flow: a
//! listener on loopback receives the redirect (RFC 8252 §7.3). The paste
//! flow, which shares the request, is in [`crate::flow::paste`].
//!
//! What always holds: `state` is random and checked; when the callback
//! carries `iss` it must equal the issuer (RFC 9207), and it must be there
//! when the provider promised it; the token request sends the identical
//! redirect_uri, port included; nothing is returned unless all checks passed.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use url::Url;

use crate::flow::loopback::{Bind, Callback, Incoming, Listener, Page};
use crate::flow::{
    ClientSettings, FlowError, TokenResponse, classify, redirect_cow, scopes, sender,
};
use crate::http::{Http, Resend, is_loopback};
use crate::secret::Secret;
use crate::ui::Interaction;

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

/// An authorization request ready to send, and what checks its answer.
pub(crate) struct Prepared {
    pub url: Url,
    pub state: CsrfToken,
    pub verifier: PkceCodeVerifier,
}

impl Request<'_> {
    /// The configured redirect URI, or the default one.
    pub(crate) fn redirect(&self) -> Url {
        self.redirect_uri
            .cloned()
            .unwrap_or_else(|| Url::parse(DEFAULT_REDIRECT).expect("a constant URL"))
    }

    pub(crate) fn prepare(&self, redirect: &Url) -> Result<Prepared, FlowError> {
        let client = self.settings.oauth_client();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .map_err(|_| FlowError::MissingEndpoint("authorization"))?
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
    pub(crate) fn check(
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
            (Some(iss), Some(issuer)) if !issuer.is(iss) => {
                return Err(FlowError::CallbackIssuer {
                    got: crate::sanitize::text_max(iss, 200),
                    expected: issuer.to_string(),
                });
            }
            (None, Some(_)) if self.settings.iss_required => {
                return Err(FlowError::CallbackWithoutIss);
            }
            _ => {}
        }
        if get("state") != Some(state.secret().as_str()) {
            return Err(FlowError::StateMismatch);
        }
        if let Some(error) = get("error") {
            return Err(FlowError::SignInRefused {
                code: crate::sanitize::text_max(error, 100),
                description: get("error_description").map(crate::sanitize::text),
            });
        }
        match get("code") {
            Some(code) if !code.is_empty() => Ok(AuthorizationCode::new(code.to_string())),
            _ => Err(FlowError::NoCode),
        }
    }

    pub(crate) async fn exchange(
        &self,
        http: &Http,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
        redirect: &Url,
    ) -> Result<TokenResponse, FlowError> {
        let client = self.settings.oauth_client();
        let send = sender(http, Resend::SpendsGrant);
        let sent = [code.secret().clone(), verifier.secret().clone()];
        client
            .exchange_code(code)
            .map_err(|_| FlowError::MissingEndpoint("token"))?
            .set_pkce_verifier(verifier)
            .set_redirect_uri(redirect_cow(redirect))
            .request_async(&send)
            .await
            .map_err(|e| {
                let sent = sent.iter().map(|s| Secret::new(s.as_str()));
                self.settings.scrub(classify(e), &sent.collect::<Vec<_>>())
            })
    }

    /// The browser flow: listen, send the browser to a one-time start URL
    /// that redirects it to the provider, wait for the callback (at most
    /// `timeout`), check it, exchange the code. The browser's page is
    /// answered through the returned [`Reply`] once the caller knows the outcome.
    pub async fn browser(
        &self,
        http: &Http,
        ui: &dyn Interaction,
        open_browser: bool,
        timeout: Duration,
    ) -> Result<(TokenResponse, Reply), FlowError> {
        let configured = self.redirect();
        let (mut listener, redirect) = listen(&configured).await?;
        let prepared = self.prepare(&redirect)?;
        // The browser's argv holds only the start URL: `state` and the PKCE
        // challenge never reach another process's command line.
        let start = listener
            .start_url(prepared.url.clone(), &redirect)
            .map_err(FlowError::Listener)?;
        let opened = open_browser && open(&start).await;
        // The person's own terminal may show the authorization URL itself.
        ui.authorization_url(&prepared.url, opened);
        ui.browser_waiting(timeout);
        let wait = self.wait_for_code(&mut listener, &prepared.state, ui);
        let waited = tokio::time::timeout(timeout, wait).await;
        ui.wait_done();
        // A browser that really opened fetched the start URL; one that
        // failed after starting (a `$BROWSER` that exits 1, a display that
        // is not there) never did.
        let (code, callback) = waited.map_err(|_| FlowError::NoBrowserAnswer {
            waited: timeout,
            redirect: configured.to_string(),
            suggest_device: !opened || !listener.start_served(),
        })??;
        match self
            .exchange(http, code, prepared.verifier, &redirect)
            .await
        {
            Ok(response) => Ok((response, Reply(Some(callback)))),
            Err(e) => {
                Reply(Some(callback)).failed(&e).await;
                Err(e)
            }
        }
    }

    /// Waits for the callback of this sign-in. A request that is not it — a
    /// wrong path, a missing or wrong `state` or `iss`, no cookie from the
    /// browser that fetched the start URL — gets a 400 page and the wait
    /// goes on. Only a denial carrying the right `state` ends it.
    async fn wait_for_code(
        &self,
        listener: &mut Listener,
        state: &CsrfToken,
        ui: &dyn Interaction,
    ) -> Result<(AuthorizationCode, Callback), FlowError> {
        loop {
            let callback = match listener.next().await.map_err(FlowError::Listener)? {
                Incoming::StartOpenedTwice => return Err(FlowError::StartOpenedTwice),
                Incoming::Callback(callback) => callback,
            };
            if listener.start_served() && !callback.has_cookie {
                ui.warn("ignored a callback from a browser that did not open this sign-in; still waiting");
                callback
                    .respond(Page::BadRequest {
                        message: "This request does not come from the browser that started the sign-in.",
                    })
                    .await;
                continue;
            }
            match self.check(&callback.query, state) {
                Ok(code) => return Ok((code, callback)),
                Err(e @ FlowError::SignInRefused { .. }) => {
                    Reply(Some(callback)).failed(&e).await;
                    return Err(e);
                }
                Err(e) => {
                    ui.warn(&format!("ignored a callback: {e}; still waiting"));
                    callback
                        .respond(Page::BadRequest {
                            message: "This is not the answer credctl is waiting for.",
                        })
                        .await;
                }
            }
        }
    }
}

/// Starts the browser on `url`. A terminal browser (lynx, w3m) runs until it
/// exits, so the start is not waited for longer than a moment: the listener
/// must be serving meanwhile.
async fn open(url: &Url) -> bool {
    let url = url.to_string();
    let started = tokio::task::spawn_blocking(move || webbrowser::open(&url).is_ok());
    match tokio::time::timeout(Duration::from_secs(2), started).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(_)) => false,
        // Still running: a browser in this terminal.
        Err(_) => true,
    }
}

/// The browser's page, answered once the outcome is known: after the code
/// exchange and the save, not before.
pub struct Reply(Option<Callback>);

impl Reply {
    /// No browser is waiting (device, paste, client credentials).
    pub fn none() -> Reply {
        Reply(None)
    }

    /// `what`: who signed in where, e.g. "acme (account default)".
    pub async fn signed_in(self, what: &str) {
        if let Some(callback) = self.0 {
            let message = format!(
                "credctl signed you in to {what}. You can close this tab and return to the terminal."
            );
            callback
                .respond(Page::Success {
                    title: "Signed in",
                    message: &message,
                })
                .await;
        }
    }

    pub async fn failed(self, error: &dyn std::fmt::Display) {
        if let Some(callback) = self.0 {
            let message = error.to_string();
            let line = message.lines().next().unwrap_or_default();
            callback.respond(Page::Failure { message: line }).await;
        }
    }
}

/// Listens where the redirect goes: ::1 for `[::1]`, 127.0.0.1 for an IPv4
/// address, and both for `localhost` (RFC 8252 §8.3), so that no other user
/// can take the address the browser tries first. Returns the listener and
/// the redirect URI with its actual port.
async fn listen(configured: &Url) -> Result<(Listener, Url), FlowError> {
    if !is_loopback(configured) || configured.scheme() != "http" {
        return Err(FlowError::NotLoopbackRedirect(configured.to_string()));
    }
    let (bind, ip) = match configured.host() {
        Some(url::Host::Ipv6(ip)) => (Bind::One(IpAddr::V6(ip)), IpAddr::V6(ip)),
        Some(url::Host::Ipv4(ip)) => (Bind::One(IpAddr::V4(ip)), IpAddr::V4(ip)),
        _ => (Bind::Localhost, IpAddr::V4(Ipv4Addr::LOCALHOST)),
    };
    let listen_error = |source| FlowError::Listen {
        ip,
        redirect: configured.to_string(),
        source,
    };
    let listener = Listener::bind(bind, configured.port().unwrap_or(0), configured.path())
        .await
        .map_err(listen_error)?;
    let port = listener.port().map_err(listen_error)?;
    let mut redirect = configured.clone();
    redirect
        .set_port(Some(port))
        .map_err(|()| FlowError::NotLoopbackRedirect(configured.to_string()))?;
    Ok((listener, redirect))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Endpoints;

    fn settings(issuer: Option<&str>, iss_required: bool) -> ClientSettings {
        ClientSettings {
            client_id: "cli".into(),
            client_secret: None,
            endpoints: Endpoints {
                authorization: Some("https://id.example/auth".parse().expect("url")),
                token: Some("https://id.example/token".parse().expect("url")),
                ..Endpoints::default()
            },
            issuer: issuer.map(|i| crate::flow::Issuer::parse(i).expect("url")),
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
        let iss = ("iss", "https://id.example");
        assert!(
            r.check(&q(&[("code", "c"), ("state", "s1"), iss]), &state)
                .is_ok()
        );
        let wrong_state = r.check(&q(&[("code", "c"), ("state", "s2"), iss]), &state);
        assert!(matches!(wrong_state, Err(FlowError::StateMismatch)));
        let wrong_iss = r.check(
            &q(&[
                ("code", "c"),
                ("state", "s1"),
                ("iss", "https://evil.example"),
            ]),
            &state,
        );
        assert!(
            wrong_iss
                .expect_err("iss")
                .to_string()
                .contains("evil.example")
        );
        let no_iss = r.check(&q(&[("code", "c"), ("state", "s1")]), &state);
        assert!(matches!(no_iss, Err(FlowError::CallbackWithoutIss)));
        let denied = r
            .check(
                &q(&[("error", "access_denied"), ("state", "s1"), iss]),
                &state,
            )
            .expect_err("denied");
        assert_eq!(denied.category(), crate::error::Category::ReauthRequired);
        assert!(denied.to_string().contains("access_denied"));
    }
}
