//! `auth token`: print an access token for scripts, in the format asked
//! for, and nothing else on stdout.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::cli::{TokenArgs, TokenFormat};
use crate::commands::terminal::Terminal;
use crate::error::Error;
use crate::manager::{Issued, Manager};
use crate::output;
use crate::paths::Env;

const K8S_V1: &str = "client.authentication.k8s.io/v1";
const K8S_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

pub fn run(manager: &Manager, env: &Env, args: TokenArgs) -> Result<(), Error> {
    let min_valid = args.min_valid.map(min_valid);
    let issued = manager.token(&args.provider, args.account.as_ref(), min_valid, &Terminal)?;
    if let Some(warning) = &issued.warning {
        output::warn(warning);
    }
    let credential = &issued.entry.credential;
    let token = credential.access_token().as_deref();
    match args.format {
        TokenFormat::Raw => output::token(token),
        TokenFormat::Header => output::token(
            token
                .map(|t| format!("Authorization: {} {t}", credential.token_type()))
                .as_deref(),
        ),
        TokenFormat::Json => output::json(&as_json(&issued, manager.now())),
        TokenFormat::K8s => {
            let version = k8s_version(env.kubernetes_exec_info.as_deref());
            output::json(&exec_credential(&issued, version, manager.now(), min_valid))
        }
    }
}

/// `--min-valid` as a time delta.
pub fn min_valid(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn as_json(issued: &Issued, now: DateTime<Utc>) -> Value {
    let entry = &issued.entry;
    let c = &entry.credential;
    json!({
        // The stdout boundary: the token is what `auth token` is for.
        "access_token": c.access_token().as_deref().expose(),
        "token_type": c.token_type(),
        "expires_at": c.expires_at().map(rfc3339),
        "expires_in": c.expires_at().map(|at| (at - now).num_seconds()),
        "provider": entry.id.provider.as_str(),
        "account": entry.id.account.as_str(),
        "scopes": c.scopes(),
    })
}

/// The ExecCredential version kubectl asked for in `KUBERNETES_EXEC_INFO`.
fn k8s_version(exec_info: Option<&str>) -> &'static str {
    let asked = exec_info
        .and_then(|info| serde_json::from_str::<Value>(info).ok())
        .and_then(|info| info["apiVersion"].as_str().map(String::from));
    match asked.as_deref() {
        Some(K8S_V1BETA1) => K8S_V1BETA1,
        _ => K8S_V1,
    }
}

/// A Kubernetes ExecCredential. kubectl reuses it until
/// `expirationTimestamp`, so that is when the token enters credctl's
/// margin (the expiry itself for a token already inside it): kubectl then
/// runs credctl again, which refreshes first.
fn exec_credential(
    issued: &Issued,
    version: &str,
    now: DateTime<Utc>,
    min_valid: Option<TimeDelta>,
) -> Value {
    let c = &issued.entry.credential;
    let mut status = json!({ "token": c.access_token().as_deref().expose() });
    if let Some(at) = c.expires_at() {
        let renew = at.checked_sub_signed(c.margin(min_valid));
        let shown = renew.filter(|renew| *renew > now).unwrap_or(at);
        status["expirationTimestamp"] = Value::from(rfc3339(shown));
    }
    json!({
        "apiVersion": version,
        "kind": "ExecCredential",
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_gets_the_version_it_asked_for() {
        assert_eq!(k8s_version(None), K8S_V1);
        let v1beta1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
        assert_eq!(k8s_version(Some(v1beta1)), K8S_V1BETA1);
        assert_eq!(k8s_version(Some("not json")), K8S_V1);
    }
}
