//! `auth login`: obtain a credential and store it, keeping the account's metadata.

use std::io::Read;

use crate::cli::LoginArgs;
use crate::commands::terminal::Terminal;
use crate::error::{Error, InputError};
use crate::manager::{Manager, TOKEN_INPUT_MAX};
use crate::name::CredentialId;
use crate::output;
use crate::paths::Env;
use crate::provider::LoginRequest;
use crate::secret::Secret;

pub fn run(manager: &Manager, env: &Env, args: LoginArgs) -> Result<(), Error> {
    let terminal = Terminal::default();
    if args.with_token {
        let id = CredentialId::new(args.provider, args.account);
        let entry = manager.login_with_token(id, read_token()?, &terminal)?;
        output::note(format_args!(
            "Stored a token for {} in {}; it {}.",
            entry.id,
            manager.path_of(&entry.id).display(),
            manager.expiry(&entry)
        ));
        return Ok(());
    }
    let request = LoginRequest {
        account: args.account,
        flow: args.flow,
        scopes: args.scopes.map(|scopes| {
            scopes
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_string)
                .collect()
        }),
        open_browser: !args.no_browser && env.has_display,
        has_display: env.has_display,
        timeout: args.timeout,
    };
    let entry = manager.login(&args.provider, request, &terminal, &terminal)?;
    let who = match entry.credential.identity() {
        Some(identity) => format!(
            "{} as {} (account {})",
            entry.id.provider, identity.name, entry.id.account
        ),
        None => entry.id.to_string(),
    };
    output::note(format_args!(
        "Logged in to {who}. The token {}; {}.",
        manager.expiry(&entry),
        if entry.credential.can_refresh() {
            "credctl will refresh it"
        } else {
            "the provider issued no refresh token, so log in again then"
        }
    ));
    Ok(())
}

/// Reads the token from stdin without echoing it: from a pipe as is, from a
/// terminal with echo off.
fn read_token() -> Result<Secret<String>, Error> {
    if output::stdin_is_terminal() {
        return rpassword::prompt_password("Paste the token (input is hidden): ")
            .map(Secret::new)
            .map_err(|source| {
                InputError::TokenRead {
                    from: "the terminal",
                    source,
                }
                .into()
            });
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(TOKEN_INPUT_MAX as u64 + 2)
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::TokenRead {
            from: "stdin",
            source,
        })?;
    let bytes = Secret::new(bytes);
    // A token of the largest size, and a CR LF after it.
    if bytes.as_ref().map(Vec::len).expose() > TOKEN_INPUT_MAX + 1 {
        return Err(InputError::TokenTooLarge {
            max: TOKEN_INPUT_MAX,
        }
        .into());
    }
    bytes
        .map(String::from_utf8)
        .transpose()
        .map_err(|_| InputError::TokenNotText.into())
}
