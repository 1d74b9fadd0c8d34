//! `auth login`: a sign-in flow at the provider, or a static token from stdin.

use chrono::{DateTime, Utc};

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
    /// before the tokens arrive leaves the store untouched; during the save,
    /// the atomic replace leaves the old file or the new one.
    pub fn login(
        &self,
        provider: &crate::name::Name,
        request: LoginRequest,
        ui: &dyn Interaction,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        // Refused before the provider spends a code on tokens that could not be kept.
        self.store.check()?;
        let online = self.online()?;
        online.runtime.block_on(async {
            let provider = online
                .provider(provider, crate::provider::Purpose::SignIn)
                .await?;
            provider.login(request, ui, progress).await
        })
    }

    /// Stores a static token or API key, as typed or piped in. Any provider
    /// name will do: a static token needs no endpoints.
    /// `expires_at`: from `--expires-in` or `--expires-at`; else a JWT's
    /// `exp`, else unknown.
    pub fn login_with_token(
        &self,
        id: CredentialId,
        input: Secret<String>,
        expires_at: Option<DateTime<Utc>>,
        progress: &dyn Progress,
    ) -> Result<Entry, Error> {
        let token = one_token(input)?;
        let now = self.now();
        let credential = Credential::Static(StaticToken {
            expires_at: expires_at.or_else(|| token.as_deref().map(jwt::expiry).expose()),
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

/// The token in what was typed or piped: whitespace and line breaks around
/// it are dropped; inside it, they (and control characters) are refused
/// rather than stored.
fn one_token(input: Secret<String>) -> Result<Secret<String>, Error> {
    let checked = input.as_deref().map(|text| {
        let start = text.len() - text.trim_start().len();
        let token = text.trim();
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
        // RFC 6750 §2.1, as for tokens from providers: it goes into headers.
        if !token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(InputError::TokenNotAscii);
        }
        Ok(start..start + token.len())
    });
    let range = checked.expose()?;
    Ok(input.map(|text| text[range].to_string()))
}
