//! `git-credential get|store|erase`: git's credential helper protocol.
//!
//! `get` prints `username`, `password` and `password_expiry_utc` for a host
//! credctl serves, nothing for any other (so git asks its other helpers),
//! and — when the credential is missing or needs a new sign-in — nothing on
//! stdout and one line on stderr with the command to run. Never interactive.

use crate::cli::{GitAction, GitCredentialArgs};
use crate::commands::terminal::Terminal;
use crate::error::Error;
use crate::manager::{GitRequest, Manager};
use crate::output;
use crate::secret::Secret;

pub fn run(manager: &Manager, args: GitCredentialArgs) -> Result<(), Error> {
    let request = GitRequest::read(std::io::stdin().lock()).map_err(|source| {
        Error::Input(crate::error::InputError::TokenRead {
            from: "stdin",
            source,
        })
    })?;
    let terminal = Terminal;
    match args.action {
        GitAction::Get => get(manager, &request, &terminal),
        GitAction::Erase => manager.git_erase(&request, &terminal),
        // credctl keeps its own tokens; git's copy is not stored.
        GitAction::Store => Ok(()),
    }
}

fn get(manager: &Manager, request: &GitRequest, terminal: &Terminal) -> Result<(), Error> {
    let answer = match manager.git_get(request, terminal) {
        Ok(Some(answer)) => answer,
        Ok(None) => return Ok(()),
        Err(e) => {
            // One line: git prints its own failure after it.
            let hint = e.hint().map(|h| format!("; {h}")).unwrap_or_default();
            output::note(format_args!("credctl: {}{hint}", crate::error::chain(&e)));
            return Err(Error::Reported(Box::new(e)));
        }
    };
    if let Some(warning) = &answer.issued.warning {
        output::warn(warning);
    }
    let mut lines = format!("username={}\n", answer.username);
    if let Some(expiry) = answer.expiry() {
        lines.push_str(&format!("password_expiry_utc={}\n", expiry.timestamp()));
    }
    let token = answer.issued.entry.credential.access_token().as_deref();
    // The stdout boundary, for git.
    output::token(Secret::new(format!("{lines}password={}", token.expose())))
}
