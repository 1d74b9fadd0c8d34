//! `auth login`: a sign-in flow at the provider, or a static token from stdin.

use crate::error::{Error, InputError};
use crate::jwt;
use crate::manager::Manager;
use crate::name::CredentialId;
use crate::provider::LoginRequest;
use crate::secret::Secret;
use crate::token::{Credential, Entry, StaticToken};
use crate::ui::{Interaction, Progress};

/// A static token or API key longer than this is not one.
pub const TOKEN_INPUT_MAX: usize = 64 * 1024;

impl Manager {
    /// Runs the provider's sign-in flow and saves the credential. Ctrl-C
    /// before the tokens arrive leaves the store untouched; the save itself
    /// has no await point, so it cannot be cut in half.
    pub fn login(
        &self,
        provider: &crate::name::Name,
        request: LoginRequest,
        ui: &dyn Interaction,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        let online = self.online()?;
        online.runtime.block_on(async {
            let provider = online
                .provider(provider, crate::provider::Purpose::SignIn)
                .await?;
            tokio::select! {
                entry = provider.login(request, ui, progress) => entry,
                _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
            }
        })
    }

    /// Stores a static token or API key, as typed or piped in. Any provider
    /// name will do: a static token needs no endpoints.
    pub fn login_with_token(
        &self,
        id: CredentialId,
        input: Secret<String>,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        let token = one_token(input)?;
        let now = self.now();
        let credential = Credential::Static(StaticToken {
            expires_at: token.as_deref().map(jwt::expiry).expose(),
            token,
            obtained_at: now,
            rejected_at: None,
            unknown: Default::default(),
        });
        let guard = self
            .store
            .lock(&id, &mut || progress.waiting_for_lock(&id))?;
        Ok(self.store.save_login(&guard, credential, now)?)
    }

    /// Where a credential's file is, for messages.
    pub fn path_of(&self, id: &CredentialId) -> std::path::PathBuf {
        self.store.path_of(id)
    }
}

/// The token in what was typed or piped: one trailing newline is dropped;
/// anything else that is not part of a token is refused rather than stored.
fn one_token(input: Secret<String>) -> Result<Secret<String>, Error> {
    let checked = input.as_deref().map(|text| {
        let token = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(text);
        if token.is_empty() {
            return Err(InputError::NoToken);
        }
        if token.len() > TOKEN_INPUT_MAX {
            return Err(InputError::TokenTooLarge {
                max: TOKEN_INPUT_MAX,
            });
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InputError::TokenNotOneWord);
        }
        Ok(token.len())
    });
    let len = checked.expose()?;
    Ok(input.map(|mut text| {
        text.truncate(len);
        text
    }))
}
