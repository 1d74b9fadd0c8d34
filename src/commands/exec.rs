//! `auth exec`: run a command with a fresh token in its environment.
//!
//! What always holds: the token is never in the command's argv; if no token
//! can be had the command does not run; on Unix credctl replaces itself
//! with the command, so the exit status and signals are the command's.

use std::os::unix::process::CommandExt;

use crate::cli::ExecArgs;
use crate::commands::terminal::Terminal;
use crate::commands::token::min_valid;
use crate::error::Error;
use crate::manager::Manager;
use crate::output;

pub fn run(manager: &Manager, args: ExecArgs) -> Result<(), Error> {
    let issued = manager.token(
        &args.provider,
        args.account.as_ref(),
        args.min_valid.map(min_valid),
        &Terminal,
    )?;
    if let Some(warning) = &issued.warning {
        output::warn(warning);
    }
    let Some((program, rest)) = args.command.split_first() else {
        return Ok(()); // clap requires the command
    };
    let mut command = std::process::Command::new(program);
    command.args(rest);
    // The one place a token goes into another process's environment: on purpose.
    let token = issued.entry.credential.access_token().as_deref().expose();
    for name in &args.env {
        command.env(name, token);
    }
    crate::process::before_exec();
    // Only returns if the command could not be started.
    let source = command.exec();
    Err(Error::Exec {
        program: program.to_string_lossy().into_owned(),
        source,
    })
}
