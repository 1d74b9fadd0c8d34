//! `auth token`: print an access token for scripts, and nothing else on stdout.
//!
//! The fast path — a stored token valid for longer than the margin — reads one
//! file and prints: no HTTP client, no TLS, no async runtime, no config file.

use tracing::debug;

use crate::cli::TokenArgs;
use crate::commands::Context;
use crate::error::Error;
use crate::manager;
use crate::output;
use crate::token::Freshness;

pub fn run(ctx: &Context, args: TokenArgs) -> Result<(), Error> {
    let entry = manager::load_for_reading(&ctx.store, &args.provider, args.account.as_ref())?;
    let now = ctx.now();
    let credential = &entry.credential;
    let freshness = credential.freshness(now, None);
    debug!(
        credential = %entry.id,
        freshness = freshness.as_str(),
        left_secs = credential.expires_at().map(|at| (at - now).num_seconds()),
        margin_secs = credential.margin(None).num_seconds(),
        "checked the stored token"
    );
    match freshness {
        Freshness::Valid | Freshness::Unknown => output::token(credential.access_token()),
        Freshness::Expiring => {
            output::warn(format_args!(
                "the token for {} expires {}; credctl cannot refresh it yet",
                entry.id,
                output::countdown(now, credential.expires_at())
            ));
            output::token(credential.access_token())
        }
        Freshness::Expired => Err(Error::ReauthRequired {
            id: entry.id,
            reason: "the stored token has expired".into(),
        }),
    }
}
