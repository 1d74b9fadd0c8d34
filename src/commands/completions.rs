//! `completions <shell>` and `man`: the shell completion script and the
//! manual page.
//!
//! The script registers credctl itself as the completer: at completion time
//! the shell runs `COMPLETE=<shell> credctl -- <words>`, which `main` hands
//! to clap_complete before anything else, so provider and account names
//! come from config.toml and the store as they are then.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::error::Error;
use crate::manager::Manager;
use crate::output;
use crate::paths::Env;

/// The variable that turns a credctl run into a completion request.
pub const COMPLETE_VAR: &str = "COMPLETE";

pub fn completions(args: CompletionsArgs) -> Result<(), Error> {
    let shell: &dyn EnvCompleter = match args.shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::Powershell => &Powershell,
    };
    let exe = std::env::current_exe().map_err(|source| Error::Internal {
        what: "cannot find credctl's own path",
        source: Box::new(source),
    })?;
    let mut script = Vec::new();
    shell
        .write_registration(
            COMPLETE_VAR,
            "credctl",
            "credctl",
            &exe.to_string_lossy(),
            &mut script,
        )
        .map_err(Error::Output)?;
    output::stdout(&script)
}

pub fn man() -> Result<(), Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(Error::Output)?;
    // One page with every command: the subcommands' own pages follow.
    for sub in Cli::command().get_subcommands() {
        for leaf in std::iter::once(sub).chain(sub.get_subcommands()) {
            let name = if std::ptr::eq(leaf, sub) {
                format!("credctl {}", sub.get_name())
            } else {
                format!("credctl {} {}", sub.get_name(), leaf.get_name())
            };
            let _ = writeln!(page, ".SH \"{}\"", name.to_uppercase());
            let man = clap_mangen::Man::new(leaf.clone());
            man.render_description_section(&mut page)
                .and_then(|()| man.render_options_section(&mut page))
                .map_err(Error::Output)?;
        }
    }
    output::stdout(&page)
}

/// Provider names for completion: configured and built-in ones, and those in the store.
pub fn provider_names() -> Vec<CompletionCandidate> {
    let Ok(env) = Env::from_process() else {
        return Vec::new();
    };
    let manager = Manager::new(&env);
    let mut names: Vec<String> = manager
        .providers()
        .map(|(_, items)| items.into_iter().map(|i| i.name).collect())
        .unwrap_or_default();
    names.extend(
        manager
            .stored_ids()
            .into_iter()
            .map(|id| id.provider.to_string()),
    );
    names.sort();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// Account names in the store, for completion.
pub fn account_names() -> Vec<CompletionCandidate> {
    let Ok(env) = Env::from_process() else {
        return Vec::new();
    };
    let mut names: Vec<String> = Manager::new(&env)
        .stored_ids()
        .into_iter()
        .map(|id| id.account.to_string())
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}
