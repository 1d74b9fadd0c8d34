//! `auth logout`: revoke at the provider (best effort), then delete locally.
//! `--all` on a terminal asks first; `--yes` skips the question, and a
//! script (no terminal) is never asked.

use crate::cli::LogoutArgs;
use crate::commands::terminal::{self, Terminal};
use crate::error::Error;
use crate::manager::{Manager, Selection};
use crate::output;

pub fn run(manager: &Manager, args: LogoutArgs) -> Result<(), Error> {
    terminal::arm_interrupt();
    let selection = match (args.all, args.provider) {
        (true, provider) => Selection::All { provider },
        (false, Some(provider)) => Selection::One {
            provider,
            account: args.account,
        },
        // clap requires a provider unless --all is given.
        (false, None) => Selection::All { provider: None },
    };
    if let Selection::All { provider } = &selection
        && !args.yes
        && output::stdin_is_terminal()
        && output::stderr_is_terminal()
        && !confirm(manager, provider.as_ref())?
    {
        output::note("Nothing was changed.");
        return Ok(());
    }
    let removed = manager.logout(selection, !args.local_only, &Terminal)?;
    if removed == 0 {
        output::note(format_args!(
            "No credentials to remove in {}.",
            manager.store_dir().display()
        ));
    }
    Ok(())
}

/// Asks before everything is revoked and deleted.
fn confirm(manager: &Manager, provider: Option<&crate::name::Name>) -> Result<bool, Error> {
    let ids: Vec<String> = manager
        .stored_ids()
        .into_iter()
        .filter(|id| provider.is_none_or(|p| &id.provider == p))
        .map(|id| id.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(true);
    }
    output::note(format_args!(
        "This revokes and deletes:\n  {}",
        ids.join("\n  ")
    ));
    let answer = dialoguer::Confirm::with_theme(&dialoguer::theme::ColorfulTheme::default())
        .with_prompt(format!("Log out of {} credential(s)?", ids.len()))
        .default(false)
        .interact_on(&console::Term::stderr());
    match answer {
        Ok(yes) => Ok(yes),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            terminal::interrupted()
        }
        Err(dialoguer::Error::IO(source)) => Err(Error::Output(source)),
    }
}
