//! `auth login`: obtain a credential and store it, keeping the account's metadata.

use std::io::Read;

use crate::cli::LoginArgs;
use crate::commands::Context;
use crate::error::Error;
use crate::manager;
use crate::name::CredentialId;
use crate::output::{self, Terminal};
use crate::provider::LoginRequest;
use crate::secret::Secret;
use crate::token::{self, Credential, StaticToken};

/// A static token or API key longer than this is not one.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

pub fn run(ctx: &Context, args: LoginArgs) -> Result<(), Error> {
    if args.with_token {
        return with_token(ctx, CredentialId::new(args.provider, args.account));
    }
    let online = ctx.online()?;
    let terminal = Terminal::default();
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
        open_browser: !args.no_browser && ctx.env.has_display,
        has_display: ctx.env.has_display,
        timeout: args.timeout,
    };
    let entry = online.runtime.block_on(async {
        let provider = online.provider(&args.provider).await?;
        // Ctrl-C before the tokens arrive leaves the store untouched; the
        // save itself has no await point, so it cannot be cut in half.
        tokio::select! {
            entry = provider.login(request, ctx.clock(), &terminal, &terminal) => entry,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    })?;
    let now = ctx.now();
    let expires = output::expiry(now, entry.credential.expires_at());
    output::note(format_args!(
        "Logged in to {}. The token {expires}; {}.",
        entry.id,
        if entry.credential.can_refresh() {
            "credctl will refresh it"
        } else {
            "the provider issued no refresh token, so log in again then"
        }
    ));
    Ok(())
}

fn with_token(ctx: &Context, id: CredentialId) -> Result<(), Error> {
    let token = read_token()?;
    let now = ctx.now();
    let credential = Credential::Static(StaticToken {
        expires_at: token::jwt_expiry(token.expose()),
        token,
        obtained_at: now,
        unknown: Default::default(),
    });
    let expires_at = credential.expires_at();
    let entry = manager::save_login(&ctx.store, id, credential, now, &Terminal::default())?;
    output::note(format_args!(
        "Stored a token for {} in {}; it {}.",
        entry.id,
        ctx.store.path_of(&entry.id).display(),
        output::expiry(now, expires_at)
    ));
    Ok(())
}

/// Reads the token from stdin without echoing it: from a pipe as is, from a
/// terminal with echo off. One trailing newline is dropped; anything else that
/// is not part of a token is refused rather than stored.
fn read_token() -> Result<Secret<String>, Error> {
    let text = if output::stdin_is_terminal() {
        rpassword::prompt_password("Paste the token (input is hidden): ")
            .map_err(|e| Error::Usage(format!("cannot read the token from the terminal: {e}")))?
    } else {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_TOKEN_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Usage(format!("cannot read the token from stdin: {e}")))?;
        if bytes.len() > MAX_TOKEN_BYTES {
            return Err(Error::Usage(format!(
                "the input on stdin is larger than {} KiB, too large for a token; pipe only the token to `--with-token`",
                MAX_TOKEN_BYTES / 1024
            )));
        }
        String::from_utf8(bytes).map_err(|_| {
            Error::Usage(
                "the input on stdin is not UTF-8 text; pipe only the token to `--with-token`"
                    .into(),
            )
        })?
    };
    let text = Secret::new(text);
    let token = text.expose();
    let token = token
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(token);
    if token.is_empty() {
        return Err(Error::Usage(
            "no token on stdin; pipe the token in, e.g. `credctl auth login NAME --with-token < token.txt`".into(),
        ));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::Usage(format!(
            "the token is larger than {} KiB; pipe only the token to `--with-token`",
            MAX_TOKEN_BYTES / 1024
        )));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(
            "the input holds spaces, line breaks or control characters, which no token has; pipe exactly one token to `--with-token`".into(),
        ));
    }
    Ok(Secret::new(token.to_string()))
}
