//! What a person sees and types while a use-case runs: interfaces only.
//!
//! Flows, providers and use-cases call these traits; the command layer
//! implements them with `output` (the only module that prints). Keeping the
//! traits here, below everything that uses them, lets the lower layers talk
//! to the person without importing a higher layer.

use std::time::Duration;

use url::Url;

use crate::name::CredentialId;

/// Waiting that a person should hear about.
pub trait Progress {
    /// Another process has held the credential's lock for a while; we wait for it.
    fn waiting_for_lock(&self, id: &CredentialId);
    /// A refresh is about to go over the network: a wait may follow.
    fn refreshing(&self) {}
}

/// A sign-in's conversation with the person at the terminal.
pub trait Interaction {
    /// The authorization URL, printed alone on its own line.
    fn authorization_url(&self, url: &Url, browser_opened: bool);
    /// The browser flow waits for the browser to come back, at most `timeout`.
    fn browser_waiting(&self, timeout: Duration);
    /// The device flow's verification URL and user code, each on its own line.
    fn device_code(&self, verification_url: &str, user_code: &str, expires_in: Duration);
    /// The device flow waits for approval; called again with a new interval on `slow_down`.
    fn device_waiting(&self, expires_in: Duration, interval: Duration);
    /// The wait (browser or device) is over, whatever its outcome.
    fn wait_done(&self);
    /// A passing problem the flow recovers from.
    fn warn(&self, message: &str);
    /// Asks for the pasted code (the paste flow); the flow reads stdin.
    fn paste_prompt(&self, prompt: &str);
}

/// A use-case that is quiet: for tests and for callers without a terminal.
pub struct Silent;

impl Progress for Silent {
    fn waiting_for_lock(&self, _: &CredentialId) {}
}
