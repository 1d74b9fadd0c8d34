//! The command line: clap derive structs. The doc comment of each item is its help text.

use std::ffi::OsString;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCandidates;

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
    GitCredential(GitCredentialArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
    /// `credctl login` and the like: answered with the command meant.
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

/// What every `--help` ends with.
pub const FOOTER: &str = "\
Files: $CREDCTL_HOME/config.toml (providers) and $CREDCTL_HOME/oauth/ (credentials);
       CREDCTL_HOME defaults to ~/.app.
Exit codes: 0 ok, 1 bug, 2 usage, 3 not logged in, 4 log in again, 5 temporary,
            6 configuration, 7 local storage, 130 interrupted.
More: `credctl man`, and README.md in credctl's repository.";

/// The command line, with the footer on every command's help.
pub fn command() -> clap::Command {
    fn footer(cmd: clap::Command) -> clap::Command {
        cmd.after_help(FOOTER).mut_subcommands(footer)
    }
    footer(<Cli as clap::CommandFactory>::command())
}

impl Cli {
    /// The shape scripts run, `auth token P [--account A] [--format F]`,
    /// read without building clap's command tree: building, parsing and
    /// dropping it is 40 % of the fast path's instructions. Anything else,
    /// every error and every help request included, is `None` and goes to
    /// clap; a test holds the two to the same result.
    pub fn parse_script_shape(args: &[OsString]) -> Option<Cli> {
        let mut words = args.iter().map(|a| a.to_str());
        if (words.next()?, words.next()?) != (Some("auth"), Some("token")) {
            return None;
        }
        let (mut provider, mut account, mut format) = (None, None, None);
        while let Some(word) = words.next() {
            let word = word?;
            let slot = match word {
                "--account" => &mut account,
                "--format" => &mut format,
                _ if !word.starts_with('-') && provider.is_none() => {
                    provider = Some(word.parse::<Name>().ok()?);
                    continue;
                }
                _ => return None,
            };
            let value = words.next()??;
            if slot.is_some() || value.starts_with('-') {
                return None;
            }
            *slot = Some(value);
        }
        let format = match format {
            Some(f) => <TokenFormat as clap::ValueEnum>::from_str(f, false).ok()?,
            None => TokenFormat::Raw,
        };
        Some(Cli {
            verbose: 0,
            command: Command::Auth(AuthCommand::Token(TokenArgs {
                provider: provider?,
                account: account.map(str::parse).transpose().ok()?,
                min_valid: None,
                format,
            })),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    Login(LoginArgs),
    List(ListArgs),
    Token(TokenArgs),
    Exec(ExecArgs),
    Status(StatusArgs),
    Refresh(RefreshArgs),
    Logout(LogoutArgs),
    Providers(ProvidersArgs),
    SetupGit(SetupGitArgs),
}

/// Sign in to a provider and store the credential
///
/// Logging in again to an existing account replaces its tokens and keeps its
/// metadata (creation time, refresh history). Without a provider, a terminal
/// offers a picker.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Provider name: a built-in (github, gitlab, google, microsoft) or one from config.toml
    #[arg(add = providers())]
    pub provider: Option<Name>,

    /// Account name, to keep several credentials for one provider
    #[arg(long, default_value = "default", add = accounts())]
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

    /// The static token expires this long from now (e.g. 90d, 12h)
    #[arg(long, value_parser = parse_duration, requires = "with_token", conflicts_with = "expires_at")]
    pub expires_in: Option<Duration>,

    /// The static token expires at this time (RFC 3339, or a date: 2027-01-31)
    #[arg(long, value_parser = parse_time, requires = "with_token")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
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
    #[arg(add = providers())]
    pub provider: Name,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long, add = accounts())]
    pub account: Option<Name>,

    /// Refresh unless the token stays valid at least this long (e.g. 90s, 10m)
    #[arg(long, value_parser = parse_duration)]
    pub min_valid: Option<Duration>,

    /// What to print: the token (raw), an Authorization header, JSON, or a
    /// Kubernetes ExecCredential (k8s)
    #[arg(long, value_enum, default_value_t = TokenFormat::Raw)]
    pub format: TokenFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenFormat {
    /// The token and a newline
    Raw,
    /// `Authorization: Bearer <token>`
    Header,
    /// One JSON object: token, type, expiry, provider, account, scopes
    Json,
    /// A Kubernetes ExecCredential, for kubectl's exec plugins
    K8s,
}

/// Run a command with a fresh token in its environment, never in its argv
///
/// The token is got exactly as `auth token` gets it; then credctl replaces
/// itself with the command, so its exit status and signals are the
/// command's. If no token can be had, the command does not run.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Provider name
    #[arg(add = providers())]
    pub provider: Name,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long, add = accounts())]
    pub account: Option<Name>,

    /// Refresh unless the token stays valid at least this long (e.g. 90s, 10m)
    #[arg(long, value_parser = parse_duration)]
    pub min_valid: Option<Duration>,

    /// The environment variable to put the token in; may be given several times
    #[arg(long = "env", value_name = "NAME", default_value = "CREDCTL_TOKEN", value_parser = parse_env_name)]
    pub env: Vec<String>,

    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// Who each credential is, where it came from, and whether it still works
///
/// Shows the identity from the id_token (email, preferred_username or name,
/// and sub), the issuer, client, scopes, expiry, last refresh and last
/// error. Makes no network call unless --check is given.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Provider name (default: every credential)
    #[arg(add = providers())]
    pub provider: Option<Name>,

    /// Account name (default: every account of the provider)
    #[arg(long, requires = "provider", add = accounts())]
    pub account: Option<Name>,

    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,

    /// Ask the provider whether each token is still accepted (userinfo, else introspection)
    #[arg(long)]
    pub check: bool,
}

/// Configure git to use credctl for a provider's git hosts, as `gh auth setup-git` does
///
/// Sets credential.https://HOST.helper in the global git config
/// ($GIT_CONFIG_GLOBAL or ~/.gitconfig), first to the empty string (so that
/// no other helper answers for that host) and then to credctl.
#[derive(Debug, Args)]
pub struct SetupGitArgs {
    /// Provider whose git_hosts to configure (default: every provider that has some)
    #[arg(add = providers())]
    pub provider: Option<Name>,

    /// Remove what setup-git added
    #[arg(long)]
    pub unset: bool,
}

/// git's credential helper protocol (gitcredentials(7)); set up with `auth setup-git`
#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// What git asks for
    #[arg(value_enum)]
    pub action: GitAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GitAction {
    /// Print a username and a fresh token for the host on stdin
    Get,
    /// Nothing: credctl keeps its own tokens
    Store,
    /// The token was rejected: refresh it on the next get
    Erase,
}

/// Print a shell completion script
///
/// bash: `source <(credctl completions bash)` in ~/.bashrc; zsh: the same in
/// ~/.zshrc; fish: `credctl completions fish | source` in
/// ~/.config/fish/config.fish. Provider and account names are completed
/// from config.toml and the store.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

/// Print the manual page (roff): `credctl man | man -l -`
#[derive(Debug, Args)]
pub struct ManArgs {}

/// Refresh a credential now, whatever its expiry
#[derive(Debug, Args)]
#[command(
    override_usage = "credctl auth refresh [OPTIONS] <PROVIDER>\n       credctl auth refresh --all"
)]
pub struct RefreshArgs {
    /// Provider to refresh
    #[arg(required_unless_present = "all", conflicts_with = "all", add = providers())]
    pub provider: Option<Name>,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long, conflicts_with = "all", add = accounts())]
    pub account: Option<Name>,

    /// Every refreshable credential
    #[arg(long)]
    pub all: bool,
}

/// Sign out: revoke at the provider (best effort), then delete locally
#[derive(Debug, Args)]
#[command(
    override_usage = "credctl auth logout [OPTIONS] <PROVIDER>\n       credctl auth logout --all [PROVIDER] [--yes]"
)]
pub struct LogoutArgs {
    /// Provider to log out of (with --all: every account of it)
    #[arg(required_unless_present = "all", add = providers())]
    pub provider: Option<Name>,

    /// Account name (default: `default`, or the provider's only account)
    #[arg(long, conflicts_with = "all", add = accounts())]
    pub account: Option<Name>,

    /// Every account of the provider, or everything when no provider is given
    #[arg(long)]
    pub all: bool,

    /// Delete locally without revoking at the provider
    #[arg(long)]
    pub local_only: bool,

    /// Do not ask before `--all` revokes and deletes (a terminal asks; a script never does)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// List built-in and configured providers
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

/// Provider names, completed from config.toml and the store.
fn providers() -> ArgValueCandidates {
    ArgValueCandidates::new(crate::commands::completions::provider_names)
}

/// Account names, completed from the store.
fn accounts() -> ArgValueCandidates {
    ArgValueCandidates::new(crate::commands::completions::account_names)
}

fn parse_env_name(s: &str) -> Result<String, String> {
    let valid = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(s.to_string())
    } else {
        Err(
            "an environment variable name is letters, digits and `_`, not starting with a digit"
                .into(),
        )
    }
}

/// RFC 3339, or a date (midnight UTC).
fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| "use an RFC 3339 time (2027-01-31T12:00:00Z) or a date (2027-01-31)".into())
}

const MAX_DURATION: Duration = Duration::from_secs(36500 * 86400);

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e}; use e.g. 90s, 10m or 1h"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    // Beyond this no token lives, and date arithmetic would overflow.
    if d > MAX_DURATION {
        return Err("must be at most 100 years (36500d)".into());
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
        command().debug_assert();
    }

    #[test]
    fn the_script_shape_reads_as_clap_reads_it() {
        let lines = [
            "auth token acme",
            "auth token acme --account work",
            "auth token --account work acme",
            "auth token acme --format k8s",
            "auth token acme --format header --account ci",
            "auth token acme --format json",
        ];
        for line in lines {
            let args: Vec<OsString> = line.split(' ').map(OsString::from).collect();
            let ours = Cli::parse_script_shape(&args).expect(line);
            let clap =
                Cli::try_parse_from(std::iter::once("credctl".into()).chain(args)).expect(line);
            assert_eq!(format!("{ours:?}"), format!("{clap:?}"), "{line}");
        }
        // Left to clap: its errors, its help, its other spellings.
        let others = [
            "auth token",
            "auth token acme extra",
            "auth token -acme",
            "auth token acme --account",
            "auth token acme --account -v",
            "auth token acme --account a --account b",
            "auth token acme --account=work",
            "auth token acme --format yaml",
            "auth token acme --min-valid 10m",
            "auth token acme -v",
            "auth token acme --help",
            "auth token -- acme",
            "auth token Acme!",
            "auth list",
            "auth",
            "",
        ];
        for line in others {
            let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
            assert!(Cli::parse_script_shape(&args).is_none(), "{line}");
        }
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("36500d"), Ok(MAX_DURATION));
        assert!(parse_duration("36501d").is_err());
    }
}
