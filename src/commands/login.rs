//! `auth login`: obtain a credential and store it, keeping the account's metadata.

use std::io::Read;

use crate::cli::LoginArgs;
use crate::commands::terminal::{self, Terminal};
use crate::error::{Error, InputError};
use crate::manager::{Manager, TOKEN_INPUT_MAX};
use crate::name::{CredentialId, Name};
use crate::output;
use crate::paths::Env;
use crate::provider::LoginRequest;
use crate::secret::Secret;

pub fn run(manager: &Manager, env: &Env, args: LoginArgs) -> Result<(), Error> {
    terminal::arm_interrupt();
    let terminal = Terminal;
    let provider = match args.provider {
        Some(provider) => provider,
        None => pick(manager)?,
    };
    if args.with_token {
        let expires_at = match (args.expires_in, args.expires_at) {
            (Some(d), _) => Some(manager.now() + crate::commands::token::min_valid(d)),
            (None, at) => at,
        };
        let id = CredentialId::new(provider, args.account);
        let entry = manager.login_with_token(id, read_token()?, expires_at, &terminal)?;
        output::note(format_args!(
            "Stored a token for {} in {}; it {}.",
            entry.id,
            manager.path_of(&entry.id).display(),
            manager.expiry(&entry)
        ));
        return Ok(());
    }
    // VS Code Remote, Codespaces, devcontainers and WSL set $BROWSER without a display.
    let can_open = env.has_display || env.has_browser_var;
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
        open_browser: !args.no_browser && can_open,
        has_display: can_open,
        remote: env.over_ssh,
        timeout: args.timeout,
    };
    let entry = manager.login(&provider, request, &terminal, &terminal)?;
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

/// Without a provider: a picker on a terminal, else a usage error listing them.
fn pick(manager: &Manager) -> Result<Name, Error> {
    let (_, providers) = manager.providers()?;
    let choices: Vec<(Name, String)> = providers
        .iter()
        .filter_map(|p| {
            let name: Name = p.name.parse().ok()?;
            let flows = if p.flows.is_empty() {
                "no flow".to_string()
            } else {
                p.flows.join(", ")
            };
            let client = if p.client_id_configured {
                ""
            } else {
                ", no client_id yet"
            };
            Some((name, format!("{:<12} {flows}{client}", p.name)))
        })
        .collect();
    if !(output::stdin_is_terminal() && output::stderr_is_terminal()) {
        return Err(Error::NoProvider {
            providers: choices.into_iter().map(|(_, line)| line).collect(),
        });
    }
    let labels: Vec<&str> = choices.iter().map(|(_, line)| line.as_str()).collect();
    let picked = dialoguer::Select::with_theme(&dialoguer::theme::ColorfulTheme::default())
        .with_prompt("Select authentication provider")
        .items(&labels)
        .default(0)
        .interact_on(&console::Term::stderr());
    match picked {
        Ok(i) => Ok(choices[i].0.clone()),
        // Ctrl-C in the picker reads as a key, not as a signal.
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            terminal::interrupted()
        }
        Err(dialoguer::Error::IO(source)) => Err(Error::Output(source)),
    }
}

/// Reads the token: from a pipe as is, from a terminal with echo off.
fn read_token() -> Result<Secret<String>, Error> {
    if output::stdin_is_terminal() {
        return terminal::read_hidden("Paste the token (input is hidden): ");
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(TOKEN_INPUT_MAX as u64 + 1024)
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::TokenRead {
            from: "stdin",
            source,
        })?;
    let bytes = Secret::new(bytes);
    // A token of the largest size, and whitespace around it.
    if bytes.as_ref().map(Vec::len).expose() > TOKEN_INPUT_MAX + 1023 {
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
