//! `auth status`: who each credential is, where it came from, and — with
//! `--check` — whether the provider still accepts its token.
//!
//! What always holds: no network call without `--check`; a network failure
//! is never reported as an invalid token ("could not check", not
//! "rejected"); a token is checked only where the credential came from.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Error;
use crate::flow::check::Verdict;
use crate::manager::{ListedError, Manager};
use crate::name::{CredentialId, Name};
use crate::provider::Purpose;
use crate::token::{Entry, Freshness};

/// One credential in `auth status`; also its `--json` form. Holds no token.
#[derive(Debug, Serialize)]
pub struct StatusItem {
    pub provider: String,
    pub account: String,
    pub kind: &'static str,
    pub sub: Option<String>,
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub status: &'static str,
    pub expires_at: Option<DateTime<Utc>>,
    pub expires_in: Option<i64>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<ListedError>,
    pub refreshable: bool,
    /// With `--check` only: `check` and `check_reason` (null when valid).
    #[serde(flatten)]
    pub check: Option<Check>,
    /// Why a check could not be made, when it is the configuration's fault.
    #[serde(skip)]
    pub check_problem: Option<crate::token::Category>,
}

/// What `--check` found for one credential.
#[derive(Debug, Serialize)]
pub struct Check {
    /// `valid`, `rejected` or `unchecked`.
    pub check: &'static str,
    pub check_reason: Option<String>,
}

/// The credentials shown, and the files that could not be read.
pub struct Status {
    pub now: DateTime<Utc>,
    pub items: Vec<StatusItem>,
    pub problems: Vec<Error>,
}

impl Status {
    /// Exit 7 for unreadable files; with `--check`, 4 when a token was
    /// rejected and 5 when one could not be checked.
    pub fn outcome(self) -> Result<(), Error> {
        if !self.problems.is_empty() {
            return Err(Error::Incomplete {
                what: "credential files could not be read",
                total: self.problems.len() + self.items.len(),
                failures: self.problems,
            });
        }
        let count = |check| {
            self.items
                .iter()
                .filter(|i| i.check.as_ref().is_some_and(|c| c.check == check))
                .count()
        };
        let (rejected, unchecked) = (count("rejected"), count("unchecked"));
        if rejected + unchecked == 0 {
            return Ok(());
        }
        let misconfigured = self.items.iter().any(|i| i.check_problem.is_some());
        Err(Error::CheckFailed {
            rejected,
            unchecked,
            misconfigured,
            total: self.items.len(),
        })
    }
}

impl Manager {
    /// The credentials of `provider` (every one without it; every account
    /// of it without `account`), checked at the provider when `check`.
    pub fn status(
        &self,
        provider: Option<&Name>,
        account: Option<&Name>,
        check: bool,
    ) -> Result<Status, Error> {
        let listing = self.store.list()?;
        let mut problems: Vec<Error> = listing.problems.into_iter().map(Error::from).collect();
        let chosen: Vec<_> = listing
            .entries
            .into_iter()
            .filter(|(e, _)| provider.is_none_or(|p| &e.id.provider == p))
            .filter(|(e, _)| account.is_none_or(|a| &e.id.account == a))
            .collect();
        if let (Some(provider), true) = (provider, chosen.is_empty() && problems.is_empty()) {
            let account = account.cloned().unwrap_or_else(Name::default_account);
            return Err(Error::NotLoggedIn {
                id: CredentialId::new(provider.clone(), account),
            });
        }
        let now = self.now();
        let mut items: Vec<StatusItem> = chosen
            .iter()
            .map(|(entry, last_error)| item(entry, last_error.as_ref(), now))
            .collect();
        if check {
            let entries: Vec<&Entry> = chosen.iter().map(|(e, _)| e).collect();
            self.check_all(&entries, &mut items, &mut problems)?;
        }
        Ok(Status {
            now,
            items,
            problems,
        })
    }

    fn check_all(
        &self,
        entries: &[&Entry],
        items: &mut [StatusItem],
        problems: &mut Vec<Error>,
    ) -> Result<(), Error> {
        let online = match self.online() {
            Ok(online) => online,
            Err(e) => {
                problems.push(e);
                return Ok(());
            }
        };
        for (entry, item) in entries.iter().zip(items.iter_mut()) {
            let (check, reason) = if entry.credential.freshness(self.now(), None)
                == Freshness::Expired
            {
                (
                    "unchecked",
                    Some(format!(
                        "the token expired or was rejected; `credctl auth token {}` renews it",
                        entry.id.cli_args()
                    )),
                )
            } else if entry.credential.origin().is_none() {
                (
                        "unchecked",
                        Some("it records no provider to ask (a static token, or one stored before credctl recorded origins)".into()),
                    )
            } else {
                let verdict = online.runtime.block_on(async {
                    let provider = online.provider(&entry.id.provider, Purpose::Bound).await?;
                    provider.check(&entry.id, &entry.credential).await
                });
                match verdict {
                    Ok(Some(Verdict::Valid)) => ("valid", None),
                    Ok(Some(Verdict::Rejected(reason))) => ("rejected", Some(reason)),
                    Ok(None) => (
                        "unchecked",
                        Some("no userinfo or introspection endpoint is known for it".into()),
                    ),
                    Err(e) => {
                        item.check_problem = e
                            .category()
                            .filter(|c| *c == crate::token::Category::Configuration);
                        ("unchecked", Some(crate::error::chain(&e)))
                    }
                }
            };
            item.check = Some(Check {
                check,
                check_reason: reason,
            });
        }
        Ok(())
    }
}

fn item(
    entry: &Entry,
    last_error: Option<&crate::token::LastError>,
    now: DateTime<Utc>,
) -> StatusItem {
    let c = &entry.credential;
    let identity = c.identity();
    let origin = c.origin();
    StatusItem {
        provider: entry.id.provider.to_string(),
        account: entry.id.account.to_string(),
        kind: c.kind(),
        sub: identity.as_ref().map(|i| i.sub.clone()),
        name: identity.map(|i| i.name),
        issuer: origin.and_then(|o| o.issuer.clone()),
        client_id: origin.map(|o| o.client_id.clone()),
        scopes: c.scopes().to_vec(),
        status: c.freshness(now, None).as_str(),
        expires_at: c.expires_at(),
        expires_in: c.expires_at().map(|at| (at - now).num_seconds()),
        last_refresh_at: entry.metadata.last_refresh_at,
        last_error: last_error.map(ListedError::from),
        refreshable: c.can_refresh(),
        check: None,
        check_problem: None,
    }
}
