//! `auth logout`: revoke at the provider (best effort), then delete locally.
//!
//! A revocation the provider fails is a warning, never a reason to keep the
//! local credential; but it is always said, never silently skipped. A local
//! problem that prevents revoking (a bad config.toml) stops the logout
//! before anything is deleted: deleting would lose the only copy of a token
//! that could then never be revoked. `--local-only` deletes without revoking.

use std::collections::HashMap;

use crate::cli::LogoutArgs;
use crate::commands::{Context, Online};
use crate::error::Error;
use crate::manager;
use crate::name::{CredentialId, Name};
use crate::output::{self, Terminal};
use crate::provider::{Provider, REFRESH_TIMEOUT};
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
    let mut revoker = (!args.local_only).then(Revoker::default);
    let mut failed = Vec::new();
    for id in &ids {
        match remove(ctx, revoker.as_mut(), id) {
            Ok(true) => {}
            Ok(false) if !args.all => return Err(Error::NotLoggedIn { id: id.clone() }),
            Ok(false) => {}
            Err(e) if !args.all => return Err(e),
            // The config is broken for every credential alike: stop here.
            Err(e) if revoker.as_ref().is_some_and(|r| r.setup_failed) => return Err(e),
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

/// The network side of logout, set up at the first credential that can be
/// revoked, with each provider built (and discovered) once.
#[derive(Default)]
struct Revoker {
    online: Option<Online>,
    providers: HashMap<Name, Option<Provider>>,
    setup_failed: bool,
}

impl Revoker {
    /// Revokes `credential`. `Err` only for a local problem that must stop
    /// the logout; what the provider or the network does is a warning.
    fn revoke(
        &mut self,
        ctx: &Context,
        id: &CredentialId,
        credential: &Credential,
    ) -> Result<(), Error> {
        let online = match &mut self.online {
            Some(online) => online,
            None => self.online.insert(ctx.online().inspect_err(|_| {
                self.setup_failed = true;
                output::note(format_args!(
                    "Stopped before deleting {id}: fix that, or delete without revoking with `credctl auth logout {} --local-only`.",
                    id.cli_args()
                ));
            })?),
        };
        if online.registry.get(&id.provider).is_none() {
            output::warn(format_args!(
                "{} is not a configured provider, so its token could not be revoked; it stays valid at the provider until it expires",
                id.provider
            ));
            return Ok(());
        }
        let providers = &mut self.providers;
        let outcome = online.runtime.block_on(async {
            let revoke = async {
                if !providers.contains_key(&id.provider) {
                    // Built (discovery included) once; a failure is remembered.
                    let built = online.provider(&id.provider).await;
                    let error = built.as_ref().err().map(ToString::to_string);
                    providers.insert(id.provider.clone(), built.ok());
                    if let Some(error) = error {
                        return Err(error);
                    }
                }
                match providers.get(&id.provider) {
                    Some(Some(provider)) => provider
                        .revoke(id, credential)
                        .await
                        .map_err(|e| e.to_string()),
                    _ => Err(format!(
                        "{} could not be set up earlier in this logout",
                        id.provider
                    )),
                }
            };
            tokio::time::timeout(REFRESH_TIMEOUT, revoke)
                .await
                .unwrap_or_else(|_| {
                    Err(format!("no answer within {} s", REFRESH_TIMEOUT.as_secs()))
                })
        });
        match outcome {
            Ok(true) => output::note(format_args!("Revoked the tokens of {id} at the provider.")),
            Ok(false) => output::note(format_args!(
                "{} has no revocation endpoint: the tokens stay valid at the provider until they expire.",
                id.provider
            )),
            Err(e) => output::warn(format_args!(
                "could not revoke the tokens of {id}: {e}\ndeleting the local credential anyway"
            )),
        }
        Ok(())
    }
}

/// Revokes (unless `revoker` is `None`) and deletes one credential under its
/// lock; `false` when there was none.
fn remove(ctx: &Context, revoker: Option<&mut Revoker>, id: &CredentialId) -> Result<bool, Error> {
    let terminal = Terminal::default();
    let guard = manager::lock(&ctx.store, id, &terminal)?;
    if let Some(revoker) = revoker {
        match ctx.store.load(id) {
            Ok(Some(entry)) => {
                if let Credential::OAuth(_) = entry.credential {
                    revoker.revoke(ctx, id, &entry.credential)?;
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
