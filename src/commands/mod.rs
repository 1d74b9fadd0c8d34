//! One thin file per subcommand: parse, call one use-case of the manager,
//! print what it returns. This module dispatches.

mod list;
mod login;
mod logout;
mod providers;
mod refresh;
mod terminal;
mod token;

use crate::cli::{AuthCommand, Cli, Command};
use crate::error::Error;
use crate::manager::Manager;
use crate::paths::Env;

pub fn run(cli: Cli, env: Env) -> Result<(), Error> {
    let manager = Manager::new(&env);
    match cli.command {
        Command::Auth(command) => match command {
            AuthCommand::Login(args) => login::run(&manager, &env, args),
            AuthCommand::List(args) => list::run(&manager, args),
            AuthCommand::Token(args) => token::run(&manager, args),
            AuthCommand::Refresh(args) => refresh::run(&manager, args),
            AuthCommand::Logout(args) => logout::run(&manager, args),
            AuthCommand::Providers(args) => providers::run(&manager, args),
        },
    }
}
