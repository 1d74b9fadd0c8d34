//! `auth setup-git [P] [--unset]`: make credctl git's credential helper for
//! a provider's git hosts, as `gh auth setup-git` does.
//!
//! What always holds: only the global git config is changed (git itself
//! honours `GIT_CONFIG_GLOBAL`); running it twice changes nothing more;
//! `--unset` removes what it added.

use crate::cli::SetupGitArgs;
use crate::error::Error;
use crate::manager::Manager;
use crate::output;

pub fn run(manager: &Manager, args: SetupGitArgs) -> Result<(), Error> {
    let hosts = manager.setup_git(args.provider.as_ref(), args.unset)?;
    let what = if args.unset { "Removed" } else { "Configured" };
    for host in &hosts {
        output::note(format_args!(
            "{what} credctl as git's credential helper for {}.",
            host.host
        ));
    }
    if hosts.is_empty() {
        output::note(
            "No provider has git hosts; add git_hosts = [\"HOST\"] to one in config.toml.",
        );
    }
    Ok(())
}
