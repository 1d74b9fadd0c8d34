//! `auth logout`: revoke at the provider (best effort), then delete locally.

use crate::cli::LogoutArgs;
use crate::commands::terminal::Terminal;
use crate::error::Error;
use crate::manager::{Manager, Selection};
use crate::output;

pub fn run(manager: &Manager, args: LogoutArgs) -> Result<(), Error> {
    let selection = match (args.all, args.provider) {
        (true, provider) => Selection::All { provider },
        (false, Some(provider)) => Selection::One {
            provider,
            account: args.account,
        },
        // clap requires a provider unless --all is given.
        (false, None) => Selection::All { provider: None },
    };
    let removed = manager.logout(selection, !args.local_only, &Terminal::default())?;
    if removed == 0 {
        output::note(format_args!(
            "No credentials to remove in {}.",
            manager.store_dir().display()
        ));
    }
    Ok(())
}
