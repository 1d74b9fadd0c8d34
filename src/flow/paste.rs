//! The paste flow: the authorization code request of
//! [`crate::flow::auth_code`], with the code (or the whole URL the browser
//! was sent to) pasted back by the person, for providers whose redirect is
//! a fixed web page.
//!
//! What always holds: a pasted redirect URL carries the `state` we sent, and
//! it must match; a bare code is accepted only as the page showed it.

use oauth2::AuthorizationCode;
use url::Url;

use crate::flow::auth_code::Request;
use crate::flow::{FlowError, TokenResponse};
use crate::http::Http;
use crate::ui::Interaction;

/// Bound on one pasted line.
const MAX_LINE: u64 = 64 * 1024;

impl Request<'_> {
    /// Shows the person the authorization URL, reads the code or the
    /// redirect URL from the terminal, checks it, exchanges it. No browser
    /// is started: the URL (with `state` and the PKCE challenge) would be in
    /// its command line, readable by every user; it is printed on the
    /// person's own terminal only.
    pub async fn paste(
        &self,
        http: &Http,
        ui: &dyn Interaction,
    ) -> Result<TokenResponse, FlowError> {
        let redirect = self.redirect();
        let prepared = self.prepare(&redirect)?;
        ui.authorization_url(&prepared.url, false);
        ui.paste_prompt(
            "After you sign in, the browser lands on a page that may show an error: that is expected, nothing listens there.\nCopy the whole URL from the browser's address bar (or the code the page shows) and paste it here:",
        );
        let line = read_stdin_line()
            .await
            .map_err(FlowError::PasteRead)?
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .ok_or(FlowError::NothingPasted)?;
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
            .take(MAX_LINE)
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
