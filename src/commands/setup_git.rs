//! `auth setup-git [P] [--unset]`: make credctl git's credential helper for
//! a provider's git hosts, as `gh auth setup-git` does.
//!
//! What always holds: only the global git config is changed (git itself
//! honours `GIT_CONFIG_GLOBAL`); running it twice changes nothing more;
//! `--unset` removes what it added.

use std::process::{Command, Stdio};

use crate::cli::SetupGitArgs;
use crate::error::Error;
use crate::manager::Manager;
use crate::output;

pub fn run(manager: &Manager, args: SetupGitArgs) -> Result<(), Error> {
    let hosts = manager.git_hosts(args.provider.as_ref())?;
    let helper = helper_command()?;
    for host in &hosts {
        // git matches helpers by scheme: a loopback host may be plain http.
        let schemes: &[&str] = if host.loopback {
            &["https", "http"]
        } else {
            &["https"]
        };
        for scheme in schemes {
            let key = format!("credential.{scheme}://{}.helper", host.host);
            if args.unset {
                // Exit 5 means it was not set: nothing to remove.
                git(&["config", "--global", "--unset-all", &key], &[0, 5])?;
            } else {
                // An empty helper first: no other helper answers for this host.
                git(&["config", "--global", "--replace-all", &key, ""], &[0])?;
                git(&["config", "--global", "--add", &key, &helper], &[0])?;
            }
        }
        let what = if args.unset { "Removed" } else { "Configured" };
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

/// `!'/abs/path/credctl' git-credential`, quoted for git's shell.
fn helper_command() -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Internal {
        what: "cannot find credctl's own path",
        source: Box::new(source),
    })?;
    let quoted = exe.to_string_lossy().replace('\'', r"'\''");
    Ok(format!("!'{quoted}' git-credential"))
}

fn git(args: &[&str], ok: &[i32]) -> Result<(), Error> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Git { source })?;
    if out.status.code().is_some_and(|c| ok.contains(&c)) {
        return Ok(());
    }
    Err(Error::GitConfig(crate::sanitize::text(
        &String::from_utf8_lossy(&out.stderr),
    )))
}
