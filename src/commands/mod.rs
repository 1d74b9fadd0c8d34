//! One thin file per subcommand; this module dispatches and holds the context they share.

mod list;
mod login;
mod logout;
mod token;

use chrono::{DateTime, Utc};

use crate::cli::{AuthCommand, Cli, Command};
use crate::error::Error;
use crate::paths::Env;
use crate::store::TokenStore;

/// What every command receives: the environment, read once, and the store.
pub struct Context {
    pub env: Env,
    pub store: TokenStore,
}

impl Context {
    pub fn new(env: Env) -> Self {
        let store = TokenStore::new(env.oauth_dir());
        Context { env, store }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.env.now()
    }
}

pub fn run(cli: Cli, env: Env) -> Result<(), Error> {
    let ctx = Context::new(env);
    match cli.command {
        Command::Auth(command) => match command {
            AuthCommand::Login(args) => login::run(&ctx, args),
            AuthCommand::List(args) => list::run(&ctx, args),
            AuthCommand::Token(args) => token::run(&ctx, args),
            AuthCommand::Logout(args) => logout::run(&ctx, args),
        },
    }
}
