//! `auth providers`: built-in and configured providers. Never uses the network.

use crate::cli::ProvidersArgs;
use crate::error::Error;
use crate::manager::Manager;
use crate::output;

pub fn run(manager: &Manager, args: ProvidersArgs) -> Result<(), Error> {
    let (config_path, items) = manager.providers()?;
    output::note(format_args!(
        "Providers (built-in, and from {}):",
        config_path.display()
    ));
    if args.json {
        return output::json(&items);
    }
    let mut rows = vec![
        ["NAME", "SOURCE", "FLOWS", "CLIENT_ID", "ISSUER"]
            .map(String::from)
            .to_vec(),
    ];
    for item in &items {
        rows.push(vec![
            item.name.clone(),
            item.source.to_string(),
            if item.flows.is_empty() {
                "-".into()
            } else {
                item.flows.join(",")
            },
            if item.client_id_configured {
                "set"
            } else {
                "missing"
            }
            .to_string(),
            item.issuer.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    output::table(&rows)
}
