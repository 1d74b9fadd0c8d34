//! `auth list` and `auth providers`: what is stored and what is known,
//! without the network.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Category, Error};
use crate::manager::Manager;
use crate::token::LastError;

/// One row of `auth list`; also its `--json` form. Holds no token.
#[derive(Debug, Serialize)]
pub struct ListItem {
    pub provider: String,
    pub account: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub expires_at: Option<DateTime<Utc>>,
    /// Seconds; negative when expired, null when unknown.
    pub expires_in: Option<i64>,
    pub refreshable: bool,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refresh_count: u64,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<ListedError>,
}

#[derive(Debug, Serialize)]
pub struct ListedError {
    pub category: Category,
    pub at: DateTime<Utc>,
    pub message: String,
}

impl From<&LastError> for ListedError {
    fn from(e: &LastError) -> Self {
        ListedError {
            category: e.category,
            at: e.at,
            message: e.message.clone(),
        }
    }
}

/// Every readable credential, and the files that could not be read.
pub struct Listing {
    pub dir: PathBuf,
    pub now: DateTime<Utc>,
    pub items: Vec<ListItem>,
    pub problems: Vec<Error>,
}

impl Listing {
    /// `Err` when some files could not be read (the others are listed).
    pub fn outcome(self) -> Result<(), Error> {
        if self.problems.is_empty() {
            return Ok(());
        }
        Err(Error::Incomplete {
            what: "credential files could not be read",
            total: self.problems.len() + self.items.len(),
            failures: self.problems,
        })
    }
}

/// One row of `auth providers`; also its `--json` form. Holds no secret.
#[derive(Debug, Serialize)]
pub struct ProviderItem {
    pub name: String,
    pub source: &'static str,
    pub flows: Vec<String>,
    pub client_id_configured: bool,
    pub issuer: Option<String>,
}

impl Manager {
    /// Every stored credential with its status. Never touches the network.
    pub fn list(&self) -> Result<Listing, Error> {
        let listing = self.store.list()?;
        let now = self.now();
        let items = listing
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
                    last_error: last_error.as_ref().map(ListedError::from),
                }
            })
            .collect();
        Ok(Listing {
            dir: self.store.dir().to_path_buf(),
            now,
            items,
            problems: listing.problems.into_iter().map(Error::from).collect(),
        })
    }

    /// Built-in and configured providers, and where the config is.
    pub fn providers(&self) -> Result<(PathBuf, Vec<ProviderItem>), Error> {
        let registry = self.registry()?;
        let items = registry
            .configs()
            .map(|p| ProviderItem {
                name: p.name.to_string(),
                source: p.source.as_str(),
                flows: match p.flows_known() {
                    Some(flows) => flows.iter().map(ToString::to_string).collect(),
                    // Endpoints of an issuer are discovered at sign-in.
                    None => vec!["discovered".into()],
                },
                client_id_configured: p.client_id.is_some(),
                issuer: p.issuer.as_ref().map(ToString::to_string),
            })
            .collect();
        Ok((registry.config_path().to_path_buf(), items))
    }
}
