//! One thin file per subcommand; this module dispatches and holds the context they share.

mod list;
mod login;
mod logout;
mod providers;
mod refresh;
mod token;

use chrono::{DateTime, Utc};

use crate::cli::{AuthCommand, Cli, Command};
use crate::error::Error;
use crate::http::{DEFAULT_TIMEOUT, Http};
use crate::name::Name;
use crate::paths::{Clock, Env};
use crate::provider::Provider;
use crate::provider::registry::Registry;
use crate::store::TokenStore;

/// What every command receives: the environment, read once, and the store.
pub struct Context {
    pub env: Env,
    pub store: TokenStore,
}

impl Context {
    pub fn new(env: Env) -> Self {
        let mut store = TokenStore::new(env.oauth_dir());
        if let Some(timeout) = env.lock_timeout {
            store = store.with_lock_timeout(timeout);
        }
        Context { env, store }
    }

    pub fn clock(&self) -> Clock {
        self.env.clock()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock().now()
    }

    pub fn registry(&self) -> Result<Registry, Error> {
        Registry::load(self.env.config_file(), self.store.clone())
    }

    /// What a command needs to use the network. Built only by commands that
    /// do: the fast path of `auth token` never gets here.
    pub fn online(&self) -> Result<Online, Error> {
        let registry = self.registry()?;
        let http = Http::new(self.env.http_timeout.unwrap_or(DEFAULT_TIMEOUT))
            .map_err(|e| Error::Internal(format!("cannot set up the HTTP client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
        Ok(Online {
            registry,
            http,
            runtime,
        })
    }
}

/// The registry, the HTTP client and a single-threaded runtime.
pub struct Online {
    pub registry: Registry,
    pub http: Http,
    pub runtime: tokio::runtime::Runtime,
}

impl Online {
    /// The provider, built with the store injected and initialised.
    pub async fn provider(&self, name: &Name) -> Result<Provider, Error> {
        self.registry.provider(name, &self.http).await
    }
}

pub fn run(cli: Cli, env: Env) -> Result<(), Error> {
    let ctx = Context::new(env);
    match cli.command {
        Command::Auth(command) => match command {
            AuthCommand::Login(args) => login::run(&ctx, args),
            AuthCommand::List(args) => list::run(&ctx, args),
            AuthCommand::Token(args) => token::run(&ctx, args),
            AuthCommand::Refresh(args) => refresh::run(&ctx, args),
            AuthCommand::Logout(args) => logout::run(&ctx, args),
            AuthCommand::Providers(args) => providers::run(&ctx, args),
        },
    }
}
