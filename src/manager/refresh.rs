//! `auth refresh`: refresh now, single-flight; one credential, or every
//! refreshable one with each outcome reported.

use crate::error::Error;
use crate::manager::{Event, Manager, Online, Report};
use crate::name::Name;
use crate::provider::RefreshMode;
use crate::token::{Credential, Entry};

impl Manager {
    /// Refreshes one credential, whatever its expiry.
    pub fn refresh(
        &self,
        provider: &Name,
        account: Option<&Name>,
        report: &dyn Report,
    ) -> Result<(), Error> {
        let entry = self.load_for_reading(provider, account)?;
        check_refreshable(&entry)?;
        self.refresh_one(&self.online()?, &entry, report)
    }

    /// Refreshes every refreshable credential; the others are skipped.
    pub fn refresh_all(&self, report: &dyn Report) -> Result<(), Error> {
        let listing = self.store.list()?;
        let mut failures: Vec<Error> = listing.problems.into_iter().map(Error::from).collect();
        for error in &failures {
            report.failed(error);
        }
        let total = listing.entries.len() + failures.len();
        let (refreshable, skipped): (Vec<&Entry>, Vec<&Entry>) = listing
            .entries
            .iter()
            .map(|(entry, _)| entry)
            .partition(|entry| entry.credential.can_refresh());
        for entry in skipped {
            report.event(Event::Skipped {
                id: entry.id.clone(),
            });
        }
        if !refreshable.is_empty() {
            // Set up once: a broken config fails the command, not each credential.
            let online = self.online()?;
            for entry in refreshable {
                if let Err(error) = self.refresh_one(&online, entry, report) {
                    report.failed(&error);
                    failures.push(error);
                }
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        Err(Error::Incomplete {
            what: "credentials could not be refreshed",
            failures,
            total,
        })
    }

    fn refresh_one(
        &self,
        online: &Online,
        entry: &Entry,
        report: &dyn Report,
    ) -> Result<(), Error> {
        let refreshed = online.runtime.block_on(async {
            let provider = online
                .provider(&entry.id.provider, crate::provider::Purpose::Bound)
                .await?;
            provider.refresh(entry, RefreshMode::Force, report).await
        })?;
        report.event(Event::Refreshed {
            id: entry.id.clone(),
            by_us: refreshed.by_us,
            expiry: self.expiry(&refreshed.entry),
        });
        Ok(())
    }
}

/// Only OAuth credentials with a refresh token (or client credentials) can be refreshed.
fn check_refreshable(entry: &Entry) -> Result<(), Error> {
    match &entry.credential {
        _ if entry.credential.can_refresh() => Ok(()),
        Credential::Static(_) => Err(Error::StaticToken {
            id: entry.id.clone(),
            login: entry.login_command(),
        }),
        Credential::OAuth(_) => Err(Error::NotRefreshable {
            id: entry.id.clone(),
            login: entry.login_command(),
        }),
    }
}
