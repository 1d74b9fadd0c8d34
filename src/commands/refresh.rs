//! `auth refresh`: refresh now, single-flight; `--all` reports each outcome.

use crate::cli::RefreshArgs;
use crate::commands::terminal::Terminal;
use crate::error::Error;
use crate::manager::Manager;

pub fn run(manager: &Manager, args: RefreshArgs) -> Result<(), Error> {
    crate::commands::terminal::arm_interrupt();
    let terminal = Terminal;
    match &args.provider {
        Some(provider) => manager.refresh(provider, args.account.as_ref(), &terminal),
        None => manager.refresh_all(&terminal),
    }
}
