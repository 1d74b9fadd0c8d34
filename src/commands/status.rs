//! `auth status`: who each credential is, where it came from, and whether
//! it still works (`--check`).

use crate::cli::StatusArgs;
use crate::error::Error;
use crate::manager::{Manager, StatusItem};
use crate::output;
use crate::timefmt;

pub fn run(manager: &Manager, args: StatusArgs) -> Result<(), Error> {
    if args.check {
        crate::commands::terminal::arm_interrupt();
    }
    let status = manager.status(args.provider.as_ref(), args.account.as_ref(), args.check)?;
    if args.json {
        output::json(&status.items)?;
    } else {
        let text: Vec<String> = status.items.iter().map(|i| block(i, status.now)).collect();
        output::stdout(text.join("\n").as_bytes())?;
    }
    for problem in &status.problems {
        output::error(problem);
    }
    status.outcome()
}

/// One credential, as `gh auth status` shows one.
fn block(item: &StatusItem, now: chrono::DateTime<chrono::Utc>) -> String {
    let who = match (&item.name, &item.sub) {
        (Some(name), Some(sub)) if name != sub => format!("{name} (sub {sub})"),
        (Some(name), _) => name.clone(),
        _ => "unknown (no id_token)".into(),
    };
    let mut rows = vec![
        ("signed in as", who),
        ("kind", item.kind.to_string()),
        ("issuer", item.issuer.clone().unwrap_or_else(|| "-".into())),
        (
            "client",
            item.client_id.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "scopes",
            if item.scopes.is_empty() {
                "-".into()
            } else {
                item.scopes.join(" ")
            },
        ),
        (
            "expires",
            format!(
                "{} ({})",
                timefmt::countdown(now, item.expires_at),
                item.status
            ),
        ),
        (
            "last refresh",
            item.last_refresh_at
                .map(|at| timefmt::ago(now - at))
                .unwrap_or_else(|| "never".into()),
        ),
        (
            "last error",
            item.last_error
                .as_ref()
                .map(|e| {
                    format!(
                        "{} ({}): {}",
                        e.category.describe(),
                        timefmt::ago(now - e.at),
                        e.message
                    )
                })
                .unwrap_or_else(|| "none".into()),
        ),
    ];
    if let Some(check) = &item.check {
        let reason = check
            .check_reason
            .as_ref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        rows.push(("check", format!("{}{reason}", check.check)));
    }
    let mut text = format!("{} (account {})\n", item.provider, item.account);
    for (label, value) in rows {
        text.push_str(&format!("  {label:<13}{value}\n"));
    }
    text
}
