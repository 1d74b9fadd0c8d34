//! One thin file per subcommand: parse, call one use-case of the manager,
//! print what it returns. This module dispatches.

pub mod completions;
mod exec;
mod git_credential;
mod list;
mod login;
mod logout;
mod providers;
mod refresh;
mod setup_git;
mod status;
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
            AuthCommand::Token(args) => token::run(&manager, &env, args),
            AuthCommand::Exec(args) => exec::run(&manager, args),
            AuthCommand::Status(args) => status::run(&manager, args),
            AuthCommand::Refresh(args) => refresh::run(&manager, args),
            AuthCommand::Logout(args) => logout::run(&manager, args),
            AuthCommand::Providers(args) => providers::run(&manager, args),
            AuthCommand::SetupGit(args) => setup_git::run(&manager, args),
        },
        Command::GitCredential(args) => git_credential::run(&manager, args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(_) => completions::man(),
        Command::Other(words) => Err(did_you_mean(&words)),
    }
}

/// `credctl login` and the like: the `auth` command meant, as a usage error.
fn did_you_mean(words: &[std::ffi::OsString]) -> Error {
    let typed: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let first = typed.first().map(String::as_str).unwrap_or_default();
    let auth = [
        "login",
        "logout",
        "token",
        "list",
        "status",
        "refresh",
        "exec",
        "providers",
    ];
    let meant = if auth.contains(&first) {
        format!("auth {}", typed.join(" "))
    } else {
        "--help".to_string()
    };
    Error::DidYouMean {
        typed: crate::sanitize::text_max(&typed.join(" "), 200),
        meant: crate::sanitize::text_max(&meant, 200),
    }
}
