//! `auth token`: print an access token for scripts, and nothing else on stdout.

use chrono::TimeDelta;

use crate::cli::TokenArgs;
use crate::commands::terminal::Terminal;
use crate::error::Error;
use crate::manager::Manager;
use crate::output;

pub fn run(manager: &Manager, args: TokenArgs) -> Result<(), Error> {
    let min_valid = args
        .min_valid
        .map(|d| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX));
    let issued = manager.token(
        &args.provider,
        args.account.as_ref(),
        min_valid,
        &Terminal::default(),
    )?;
    if let Some(warning) = &issued.warning {
        output::warn(warning);
    }
    output::token(issued.entry.credential.access_token().as_deref())
}
