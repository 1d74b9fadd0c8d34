//! `auth refresh`: refresh now, single-flight; `--all` reports each outcome.

use crate::cli::RefreshArgs;
use crate::commands::{Context, Online};
use crate::error::Error;
use crate::manager;
use crate::output::{self, Terminal};
use crate::provider::RefreshMode;
use crate::token::{Credential, Entry};

pub fn run(ctx: &Context, args: RefreshArgs) -> Result<(), Error> {
    if let Some(provider) = &args.provider {
        let entry = manager::load_for_reading(&ctx.store, provider, args.account.as_ref())?;
        check_refreshable(&entry)?;
        return refresh_one(ctx, &ctx.online()?, &entry);
    }
    let listing = ctx.store.list()?;
    let mut failures: Vec<Error> = listing.problems.into_iter().map(Error::from).collect();
    for problem in &failures {
        output::error(problem);
    }
    let total = listing.entries.len() + failures.len();
    let (refreshable, skipped): (Vec<&Entry>, Vec<&Entry>) = listing
        .entries
        .iter()
        .map(|(entry, _)| entry)
        .partition(|entry| entry.credential.can_refresh());
    for entry in skipped {
        output::note(format_args!(
            "{}: skipped, it has no refresh token",
            entry.id
        ));
    }
    if !refreshable.is_empty() {
        // Set up once: a broken config fails the command, not each credential.
        let online = ctx.online()?;
        for entry in refreshable {
            if let Err(e) = refresh_one(ctx, &online, entry) {
                output::error(&e);
                failures.push(e);
            }
        }
    }
    match Error::most_serious(&failures) {
        None => Ok(()),
        Some(code) => Err(Error::Incomplete {
            what: "credentials could not be refreshed",
            failed: failures.len(),
            total,
            code,
        }),
    }
}

/// Only OAuth credentials with a refresh token (or client credentials) can be refreshed.
fn check_refreshable(entry: &Entry) -> Result<(), Error> {
    match &entry.credential {
        _ if entry.credential.can_refresh() => Ok(()),
        Credential::Static(_) => Err(Error::Usage(format!(
            "{} holds a static token, which cannot be refreshed; store a new one with `{}`",
            entry.id,
            entry.login_command()
        ))),
        Credential::OAuth(_) => Err(Error::ReauthRequired {
            id: entry.id.clone(),
            reason: "the provider issued no refresh token, so it cannot be refreshed".into(),
            login: entry.login_command(),
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
    let expires = output::expiry(ctx.now(), refreshed.entry.credential.expires_at());
    if refreshed.by_us {
        output::note(format_args!(
            "Refreshed {}; the new token {expires}.",
            entry.id
        ));
    } else {
        output::note(format_args!(
            "{} was refreshed by another credctl process meanwhile; the token {expires}.",
            entry.id
        ));
    }
    Ok(())
}
