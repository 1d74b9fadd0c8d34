//! `auth list`: every stored credential with its status and expiry countdown.
//! Never touches the network. A file that cannot be read does not hide the others.

use crate::cli::ListArgs;
use crate::error::Error;
use crate::manager::{ListItem, Manager};
use crate::output;
use crate::timefmt;

pub fn run(manager: &Manager, args: ListArgs) -> Result<(), Error> {
    let listing = manager.list()?;
    let dir = listing.dir.display();
    if listing.items.is_empty() && listing.problems.is_empty() {
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
    if args.json {
        output::json(&listing.items)?;
    } else if !listing.items.is_empty() {
        output::table(&rows(&listing.items, listing.now))?;
    }
    for problem in &listing.problems {
        output::error(problem);
    }
    listing.outcome()
}

fn rows(items: &[ListItem], now: chrono::DateTime<chrono::Utc>) -> Vec<Vec<String>> {
    let with_notes = items.iter().any(|i| i.last_error.is_some());
    let mut rows = vec![
        [
            "PROVIDER", "ACCOUNT", "KIND", "STATUS", "EXPIRES", "SCOPES", "NOTE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for item in items {
        rows.push(vec![
            item.provider.clone(),
            item.account.clone(),
            item.kind.to_string(),
            item.status.to_string(),
            timefmt::countdown(now, item.expires_at),
            if item.scopes.is_empty() {
                "-".to_string()
            } else {
                item.scopes.join(" ")
            },
            match &item.last_error {
                Some(e) => format!("{} ({})", e.category.describe(), timefmt::ago(now - e.at)),
                None => String::new(),
            },
        ]);
    }
    if !with_notes {
        for row in &mut rows {
            row.pop();
        }
    }
    rows
}
