//! `auth providers`: built-in and configured providers. Never uses the network.

use crate::cli::ProvidersArgs;
use crate::commands::Context;
use crate::error::Error;
use crate::output::{self, ProviderItem};

pub fn run(ctx: &Context, args: ProvidersArgs) -> Result<(), Error> {
    let registry = ctx.registry()?;
    let items: Vec<ProviderItem> = registry
        .configs()
        .map(|p| {
            let mut flows: Vec<String> = p
                .endpoints
                .flows(p.client_secret.is_some())
                .iter()
                .map(|f| f.to_string())
                .collect();
            // Endpoints of an issuer are discovered at sign-in.
            if p.issuer.is_some() && p.endpoints.token.is_none() {
                flows = vec!["discovered".into()];
            }
            ProviderItem {
                name: p.name.to_string(),
                source: p.source.as_str(),
                flows,
                client_id_configured: p.client_id.is_some(),
                issuer: p.issuer.as_ref().map(|u| u.to_string()),
            }
        })
        .collect();
    output::note(format_args!(
        "Providers (built-in, and from {}):",
        registry.config_path().display()
    ));
    if args.json {
        output::json(&items)
    } else {
        output::providers_table(&items)
    }
}
