//! The command line: clap derive structs. The doc comment of each item is its help text.

use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::name::Name;
use crate::token::FlowKind;

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
    Refresh(RefreshArgs),
    Logout(LogoutArgs),
    Providers(ProvidersArgs),
}

/// Sign in to a provider and store the credential
///
/// Logging in again to an existing account replaces its tokens and keeps its
/// metadata (creation time, refresh history).
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Provider name: a built-in (github, gitlab, google, microsoft) or one from config.toml
    pub provider: Name,

    /// Account name, to keep several credentials for one provider
    #[arg(long, default_value = "default")]
    pub account: Name,

    /// How to sign in (default: the config's `flow`, else browser with a display, device without)
    #[arg(long, value_enum, conflicts_with = "with_token")]
    pub flow: Option<FlowKind>,

    /// Scopes to ask for, separated by commas or spaces (default: the provider's)
    #[arg(long, value_delimiter = ',', conflicts_with = "with_token")]
    pub scopes: Option<Vec<String>>,

    /// Do not start a browser; print the URL to open instead
    #[arg(long, conflicts_with = "with_token")]
    pub no_browser: bool,

    /// How long to wait for the browser to come back
    #[arg(long, default_value = "5m", value_parser = parse_duration, conflicts_with = "with_token")]
    pub timeout: Duration,

    /// Read a static token or API key from stdin instead of signing in (any provider name)
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
///
/// The token is valid for at least the margin (5 minutes, or half the token's
/// lifetime if shorter); it is refreshed first when needed. Never interactive.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Provider name
    pub provider: Name,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long)]
    pub account: Option<Name>,

    /// Refresh unless the token stays valid at least this long (e.g. 90s, 10m)
    #[arg(long, value_parser = parse_duration)]
    pub min_valid: Option<Duration>,
}

/// Refresh a credential now, whatever its expiry
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Provider to refresh
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub provider: Option<Name>,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long, conflicts_with = "all")]
    pub account: Option<Name>,

    /// Every refreshable credential
    #[arg(long)]
    pub all: bool,
}

/// Sign out: revoke at the provider (best effort), then delete locally
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

    /// Delete locally without revoking at the provider
    #[arg(long)]
    pub local_only: bool,
}

/// List built-in and configured providers
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e}; use e.g. 90s, 10m or 1h"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
