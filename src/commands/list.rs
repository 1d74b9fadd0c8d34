//! `auth list`: every stored credential with its status and expiry countdown.
//! Never touches the network. A file that cannot be read does not hide the others.

use crate::cli::ListArgs;
use crate::commands::Context;
use crate::error::{Error, exit};
use crate::output::{self, ListError, ListItem};

pub fn run(ctx: &Context, args: ListArgs) -> Result<(), Error> {
    let listing = ctx.store.list()?;
    let now = ctx.now();
    let dir = ctx.store.dir().display();
    if listing.entries.is_empty() && listing.problems.is_empty() {
        output::note(format_args!(
            "No credentials stored in {dir}. Log in with `credctl auth login <provider>`."
        ));
        return if args.json {
            output::json(&[(); 0])
        } else {
            Ok(())
        };
    }
    output::note(format_args!("Credentials in {dir}:"));
    let items: Vec<ListItem> = listing
        .entries
        .iter()
        .map(|(entry, last_error)| {
            let c = &entry.credential;
            let m = &entry.metadata;
            ListItem {
                provider: entry.id.provider.to_string(),
                account: entry.id.account.to_string(),
                kind: c.kind(),
                status: c.freshness(now, None).as_str(),
                expires_at: c.expires_at(),
                expires_in: c.expires_at().map(|at| (at - now).num_seconds()),
                refreshable: c.can_refresh(),
                scopes: c.scopes().to_vec(),
                created_at: m.created_at,
                updated_at: m.updated_at,
                refresh_count: m.refresh_count,
                last_refresh_at: m.last_refresh_at,
                last_error: last_error.as_ref().map(|e| ListError {
                    category: e.category,
                    at: e.at,
                    message: e.message.clone(),
                }),
            }
        })
        .collect();
    if args.json {
        output::json(&items)?;
    } else if !items.is_empty() {
        output::list_table(&items, now)?;
    }
    for problem in &listing.problems {
        output::error(problem);
    }
    if listing.problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Incomplete {
            what: "credential files could not be read",
            failed: listing.problems.len(),
            total: listing.problems.len() + listing.entries.len(),
            code: exit::STORAGE,
        })
    }
}
