//! `auth logout`: revoke at the provider (best effort), then delete locally.
//!
//! A failed or impossible revocation is a warning, never a reason to keep
//! the local credential; but it is always said, never silently skipped.

use crate::cli::LogoutArgs;
use crate::commands::{Context, Online};
use crate::error::Error;
use crate::manager;
use crate::name::CredentialId;
use crate::output::{self, Terminal};
use crate::token::Credential;

pub fn run(ctx: &Context, args: LogoutArgs) -> Result<(), Error> {
    let store = &ctx.store;
    let ids: Vec<CredentialId> = if args.all {
        store
            .ids()?
            .into_iter()
            .filter(|id| args.provider.as_ref().is_none_or(|p| &id.provider == p))
            .collect()
    } else {
        let provider = args
            .provider
            .as_ref()
            .ok_or_else(|| Error::Usage("name a provider, or use --all".into()))?;
        vec![manager::resolve_id(store, provider, args.account.as_ref())?]
    };
    if ids.is_empty() {
        output::note(format_args!(
            "No credentials to remove in {}.",
            store.dir().display()
        ));
        return Ok(());
    }
    // Built at the first credential that can be revoked: a static token or
    // --local-only needs neither the config nor the network.
    let mut online = Network::NotYet;
    let mut failed = Vec::new();
    for id in &ids {
        let network = if args.local_only {
            None
        } else {
            Some(&mut online)
        };
        match remove(ctx, network, id) {
            Ok(true) => {}
            Ok(false) if !args.all => return Err(Error::NotLoggedIn { id: id.clone() }),
            Ok(false) => {}
            Err(e) if !args.all => return Err(e),
            Err(e) => {
                output::error(&e);
                failed.push(e);
            }
        }
    }
    match Error::most_serious(&failed) {
        None => Ok(()),
        Some(code) => Err(Error::Incomplete {
            what: "credentials could not be removed",
            failed: failed.len(),
            total: ids.len(),
            code,
        }),
    }
}

enum Network {
    NotYet,
    Ready(Box<Online>),
    /// The config or the HTTP client could not be set up; said once.
    Unavailable,
}

impl Network {
    fn get(&mut self, ctx: &Context) -> Option<&Online> {
        if let Network::NotYet = self {
            *self = match ctx.online() {
                Ok(online) => Network::Ready(Box::new(online)),
                Err(e) => {
                    output::warn(format_args!(
                        "{e}
credentials will be deleted without revoking them"
                    ));
                    Network::Unavailable
                }
            };
        }
        match self {
            Network::Ready(online) => Some(online),
            _ => None,
        }
    }
}

/// Revokes (unless `network` is `None`) and deletes one credential under its
/// lock; `false` when there was none.
fn remove(ctx: &Context, network: Option<&mut Network>, id: &CredentialId) -> Result<bool, Error> {
    let terminal = Terminal::default();
    let guard = manager::lock(&ctx.store, id, &terminal)?;
    if let Some(network) = network {
        match ctx.store.load(id) {
            Ok(Some(entry)) if matches!(entry.credential, Credential::Static(_)) => {}
            Ok(Some(entry)) => {
                if let Some(online) = network.get(ctx) {
                    revoke(online, id, &entry.credential);
                }
            }
            Ok(None) => return Ok(false),
            Err(e) => output::warn(format_args!(
                "{e}\nit cannot be revoked at the provider; deleting it locally"
            )),
        }
    }
    let removed = ctx.store.delete(&guard)?;
    if removed {
        output::note(format_args!(
            "Logged out of {id}: removed {}.",
            ctx.store.path_of(id).display()
        ));
    }
    Ok(removed)
}

fn revoke(online: &Online, id: &CredentialId, credential: &Credential) {
    if online.registry.get(&id.provider).is_none() {
        output::warn(format_args!(
            "{} is not a configured provider, so its token could not be revoked; it stays valid at the provider until it expires",
            id.provider
        ));
        return;
    }
    let outcome = online.runtime.block_on(async {
        let provider = online.provider(&id.provider).await?;
        provider.revoke(id, credential).await
    });
    match outcome {
        Ok(true) => output::note(format_args!("Revoked the tokens of {id} at the provider.")),
        Ok(false) => output::note(format_args!(
            "{} has no revocation endpoint: the tokens stay valid at the provider until they expire.",
            id.provider
        )),
        Err(e) => output::warn(format_args!("{e}\ndeleting the local credential anyway")),
    }
}
