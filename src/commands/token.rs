//! `auth token`: print an access token for scripts, and nothing else on stdout.
//!
//! The fast path — a stored token valid for longer than the margin, or with
//! no known expiry — reads one file and prints: no HTTP client, no TLS, no
//! async runtime, no config file. Otherwise the token is refreshed first,
//! single-flight. A token still valid but inside the margin is a soft case:
//! if the refresh fails, the token is printed anyway with a warning.

use chrono::TimeDelta;
use tracing::debug;

use crate::cli::TokenArgs;
use crate::commands::Context;
use crate::error::{Error, StoreError};
use crate::manager;
use crate::output::{self, Terminal};
use crate::provider::RefreshMode;
use crate::token::{Entry, Freshness};

pub fn run(ctx: &Context, args: TokenArgs) -> Result<(), Error> {
    let entry = manager::load_for_reading(&ctx.store, &args.provider, args.account.as_ref())?;
    let min_valid = args
        .min_valid
        .map(|d| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX));
    let now = ctx.now();
    let credential = &entry.credential;
    let freshness = credential.freshness(now, min_valid);
    debug!(
        credential = %entry.id,
        freshness = freshness.as_str(),
        left_secs = credential.expires_at().map(|at| (at - now).num_seconds()),
        margin_secs = credential.margin(min_valid).num_seconds(),
        "checked the stored token"
    );
    match freshness {
        Freshness::Valid => {
            debug!("more than the margin is left: not refreshing");
            return output::token(credential.access_token());
        }
        Freshness::Unknown => {
            debug!("no expiry is known (no expires_in, no JWT exp): not refreshing");
            return output::token(credential.access_token());
        }
        Freshness::Expiring | Freshness::Expired => {}
    }
    let outcome = if credential.can_refresh() {
        refresh(ctx, &entry, min_valid)
    } else {
        // Nothing is recorded: `auth list` shows it as not refreshable, and
        // recording would take the lock on every call.
        Err(Error::ReauthRequired {
            id: entry.id.clone(),
            reason: format!(
                "the token {} and there is no refresh token",
                output::expiry(now, credential.expires_at())
            ),
            login: entry.login_command(),
        })
    };
    match outcome {
        Ok(fresh) => {
            let now = ctx.now();
            if matches!(
                fresh.credential.freshness(now, min_valid),
                Freshness::Expiring | Freshness::Expired
            ) {
                output::warn(format_args!(
                    "the new token for {} {}, sooner than asked",
                    fresh.id,
                    output::expiry(now, fresh.credential.expires_at())
                ));
            }
            output::token(fresh.credential.access_token())
        }
        Err(error) => soft(ctx, &entry, error),
    }
}

fn refresh(ctx: &Context, seen: &Entry, min_valid: Option<TimeDelta>) -> Result<Entry, Error> {
    debug!("less than the margin is left: refreshing");
    let online = ctx.online().inspect_err(|e| record(ctx, seen, e))?;
    let terminal = Terminal::default();
    online.runtime.block_on(async {
        let provider = online
            .provider(&seen.id.provider)
            .await
            .inspect_err(|e| record(ctx, seen, e))?;
        // A failure from here on is recorded under the credential's lock.
        let refreshed = provider
            .refresh(
                seen,
                RefreshMode::IfNeeded { min_valid },
                ctx.clock(),
                &terminal,
            )
            .await?;
        Ok(refreshed.entry)
    })
}

/// Records a failure met before a refresh could be sent, for `auth list`.
fn record(ctx: &Context, entry: &Entry, error: &Error) {
    if let Err(e) = manager::record_failure(
        &ctx.store,
        &entry.id,
        error,
        ctx.now(),
        &Terminal::default(),
    ) {
        debug!(error = %e, "could not record the failure");
    }
}

/// A failed refresh of a token that is still valid: print it and warn.
/// Only an expired token turns a failure into a non-zero exit — checked
/// again now, as the failed attempt may have outlived the token. A
/// credential that is gone or unreadable meanwhile is not printed at all.
fn soft(ctx: &Context, entry: &Entry, error: Error) -> Result<(), Error> {
    let now = ctx.now();
    let gone = match &error {
        Error::NotLoggedIn { .. } | Error::Interrupted | Error::Internal(_) => true,
        Error::Store(e) => !matches!(e, StoreError::LockTimeout { .. }),
        _ => false,
    };
    if gone || entry.credential.expires_at().is_none_or(|at| at <= now) {
        return Err(error);
    }
    output::warn(format_args!(
        "{error}\nprinting the current token of {}, which {}",
        entry.id,
        output::expiry(now, entry.credential.expires_at())
    ));
    output::token(entry.credential.access_token())
}
