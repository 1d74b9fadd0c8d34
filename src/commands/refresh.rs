//! `auth refresh`: refresh now, single-flight; `--all` reports each outcome.

use crate::cli::RefreshArgs;
use crate::commands::{Context, Online};
use crate::error::{Error, exit};
use crate::manager;
use crate::output::{self, Terminal};
use crate::provider::RefreshMode;
use crate::token::Entry;

pub fn run(ctx: &Context, args: RefreshArgs) -> Result<(), Error> {
    let online = ctx.online()?;
    if let Some(provider) = &args.provider {
        let entry = manager::load_for_reading(&ctx.store, provider, args.account.as_ref())?;
        return refresh_one(ctx, &online, &entry);
    }
    let listing = ctx.store.list()?;
    let mut failures: Vec<Error> = listing.problems.into_iter().map(Error::from).collect();
    for problem in &failures {
        output::error(problem);
    }
    let total = listing.entries.len() + failures.len();
    for (entry, _) in &listing.entries {
        if !entry.credential.can_refresh() {
            output::note(format_args!(
                "{}: skipped, it has no refresh token",
                entry.id
            ));
            continue;
        }
        if let Err(e) = refresh_one(ctx, &online, entry) {
            output::error(&e);
            failures.push(e);
        }
    }
    match failures
        .iter()
        .map(Error::exit_code)
        .max_by_key(|c| severity(*c))
    {
        None => Ok(()),
        Some(code) => Err(Error::Incomplete {
            what: "credentials could not be refreshed",
            failed: failures.len(),
            total,
            code,
        }),
    }
}

fn refresh_one(ctx: &Context, online: &Online, entry: &Entry) -> Result<(), Error> {
    let terminal = Terminal::default();
    let refreshed = online.runtime.block_on(async {
        let provider = online.provider(&entry.id.provider).await?;
        provider
            .refresh(entry, RefreshMode::Force, ctx.clock(), &terminal)
            .await
    })?;
    let expires = output::countdown(ctx.now(), refreshed.entry.credential.expires_at());
    if refreshed.by_us {
        output::note(format_args!("Refreshed {} (expires {expires}).", entry.id));
    } else {
        output::note(format_args!(
            "{} was refreshed by another credctl process meanwhile (expires {expires}).",
            entry.id
        ));
    }
    Ok(())
}

/// Which failure decides the exit code of `--all`: the one that needs the
/// most from a person. A transient failure heals by itself; a rejected
/// refresh token needs a login; bad configuration or storage needs a fix.
fn severity(code: u8) -> u8 {
    match code {
        exit::INTERNAL => 6,
        exit::STORAGE => 5,
        exit::CONFIG => 4,
        exit::AUTH => 3,
        exit::TEMPORARY => 2,
        _ => 1,
    }
}
