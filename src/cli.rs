//! The command line: clap derive structs. The doc comment of each item is its help text.

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::name::Name;

/// A credential manager for the command line: sign in to OAuth 2.0 / OpenID
/// Connect providers, keep the tokens safely on disk, and hand fresh access
/// tokens to scripts.
#[derive(Debug, Parser)]
#[command(name = "credctl", version, propagate_version = true)]
pub struct Cli {
    /// More logging on stderr (-v debug, -vv trace); or set CREDCTL_LOG to an EnvFilter directive
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in, list credentials, print tokens, sign out
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    Login(LoginArgs),
    List(ListArgs),
    Token(TokenArgs),
    Logout(LogoutArgs),
}

/// Sign in to a provider and store the credential
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Provider name, e.g. github or a provider from config.toml
    pub provider: Name,

    /// Account name, to keep several credentials for one provider
    #[arg(long, default_value = "default")]
    pub account: Name,

    /// Read a static token or API key from stdin instead of signing in
    #[arg(long)]
    pub with_token: bool,
}

/// List stored credentials with their status and expiry (never uses the network)
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

/// Print an access token for scripts: `$(credctl auth token github)`
#[derive(Debug, Args)]
pub struct TokenArgs {
    pub provider: Name,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long)]
    pub account: Option<Name>,
}

/// Remove stored credentials
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Provider to log out of (with --all: every account of it)
    #[arg(required_unless_present = "all")]
    pub provider: Option<Name>,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long, conflicts_with = "all")]
    pub account: Option<Name>,

    /// Every account of the provider, or everything when no provider is given
    #[arg(long)]
    pub all: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
