//! `auth logout`: delete stored credentials.

use crate::cli::LogoutArgs;
use crate::commands::Context;
use crate::error::Error;
use crate::manager;
use crate::name::CredentialId;
use crate::output;

pub fn run(ctx: &Context, args: LogoutArgs) -> Result<(), Error> {
    let store = &ctx.store;
    if !args.all {
        let provider = args
            .provider
            .as_ref()
            .ok_or_else(|| Error::Usage("name a provider, or use --all".into()))?;
        let id = manager::resolve_id(store, provider, args.account.as_ref())?;
        return if remove(ctx, &id)? {
            Ok(())
        } else {
            Err(Error::NotLoggedIn { id })
        };
    }
    let ids: Vec<CredentialId> = store
        .ids()?
        .into_iter()
        .filter(|id| args.provider.as_ref().is_none_or(|p| &id.provider == p))
        .collect();
    if ids.is_empty() {
        output::note(format_args!(
            "No credentials to remove in {}.",
            store.dir().display()
        ));
        return Ok(());
    }
    let mut failed = Vec::new();
    for id in &ids {
        if let Err(e) = remove(ctx, id) {
            output::error(&e);
            failed.push(e);
        }
    }
    match failed.iter().map(Error::exit_code).max() {
        None => Ok(()),
        Some(code) => Err(Error::Incomplete {
            what: "credentials could not be removed",
            failed: failed.len(),
            total: ids.len(),
            code,
        }),
    }
}

/// Deletes one credential under its lock; `false` when there was none.
fn remove(ctx: &Context, id: &CredentialId) -> Result<bool, Error> {
    let guard = manager::lock(&ctx.store, id, &output::Stderr)?;
    let removed = ctx.store.delete(&guard)?;
    if removed {
        output::note(format_args!(
            "Logged out of {id}: removed {}.",
            ctx.store.path_of(id).display()
        ));
    }
    Ok(removed)
}
