//! Which proxy a request goes through, as curl decides it: `https_proxy` for
//! https, `http_proxy` for http, else `all_proxy`; `no_proxy` lists hosts,
//! domains (with their subdomains), IP addresses and CIDR blocks that go
//! direct, or `*` for all.
//!
//! What always holds: a loopback host (127.0.0.0/8, ::1, `localhost`) is
//! never proxied, whatever the variables say — a refresh token for a
//! provider on this machine never leaves it.

use std::net::IpAddr;

use url::{Host, Url};

use crate::http::{HttpError, is_loopback};
use crate::paths::ProxyVars;

#[derive(Debug, Clone, Default)]
pub struct Proxies {
    https: Option<Url>,
    http: Option<Url>,
    all: Option<Url>,
    no_proxy: Vec<String>,
}

impl Proxies {
    pub fn from_vars(vars: &ProxyVars) -> Result<Proxies, HttpError> {
        let parse =
            |name: &'static str, value: &Option<String>| -> Result<Option<Url>, HttpError> {
                let Some(value) = value else { return Ok(None) };
                // curl takes `host:port` for `http://host:port`.
                let text = if value.contains("://") {
                    value.clone()
                } else {
                    format!("http://{value}")
                };
                Url::parse(&text)
                    .map(Some)
                    .map_err(|source| HttpError::Proxy {
                        variable: name,
                        source,
                    })
            };
        Ok(Proxies {
            https: parse("https_proxy", &vars.https)?,
            http: parse("http_proxy", &vars.http)?,
            all: parse("all_proxy", &vars.all)?,
            no_proxy: vars
                .no_proxy
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        })
    }

    /// The proxy for `url`, or `None` to go direct.
    pub fn for_url(&self, url: &Url) -> Option<&Url> {
        if is_loopback(url) || self.bypassed(url) {
            return None;
        }
        let by_scheme = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        };
        by_scheme.or(self.all.as_ref())
    }

    fn bypassed(&self, url: &Url) -> bool {
        let Some(host) = url.host() else { return true };
        let name = match &host {
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        self.no_proxy.iter().any(|entry| {
            entry == "*"
                || name == *entry
                || (matches!(host, Host::Domain(_)) && name.ends_with(&format!(".{entry}")))
                || in_block(&host, entry)
        })
    }
}

/// Whether an IP host is in a `no_proxy` entry's address or CIDR block.
fn in_block(host: &Host<&str>, entry: &str) -> bool {
    let ip: IpAddr = match host {
        Host::Ipv4(ip) => (*ip).into(),
        Host::Ipv6(ip) => (*ip).into(),
        Host::Domain(_) => return false,
    };
    let (net, bits) = match entry.split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().ok()),
        None => (entry, None),
    };
    let Ok(net) = net.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// A proxy as it may be shown: scheme, host and port, never its credentials.
pub fn shown(proxy: &Url) -> String {
    match (proxy.host_str(), proxy.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", proxy.scheme()),
        (Some(host), None) => format!("{}://{host}", proxy.scheme()),
        _ => proxy.scheme().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(no_proxy: &str) -> Proxies {
        Proxies::from_vars(&ProxyVars {
            https: Some("http://user:pw@proxy.example:3128".into()),
            http: Some("proxy.example:8080".into()),
            all: None,
            no_proxy: Some(no_proxy.into()),
        })
        .expect("proxies")
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        p.for_url(&url.parse().expect("url")).map(shown)
    }

    #[test]
    fn loopback_is_never_proxied() {
        let p = proxies("");
        for url in [
            "http://127.0.0.1:4000/token",
            "https://127.1.2.3/token",
            "http://localhost/token",
            "http://[::1]:9/t",
        ] {
            assert_eq!(via(&p, url), None, "{url}");
        }
        assert_eq!(
            via(&p, "https://id.example/token").as_deref(),
            Some("http://proxy.example:3128")
        );
        assert_eq!(
            via(&p, "http://id.example/token").as_deref(),
            Some("http://proxy.example:8080")
        );
    }

    #[test]
    fn no_proxy_matches_like_curl() {
        let p = proxies("example.com, .corp.internal,10.0.0.0/8, 2001:db8::/32");
        for direct in [
            "https://example.com/t",
            "https://id.example.com/t",
            "https://a.corp.internal/t",
            "https://10.1.2.3/t",
            "https://[2001:db8::1]/t",
        ] {
            assert_eq!(via(&p, direct), None, "{direct}");
        }
        for proxied in [
            "https://notexample.com/t",
            "https://11.0.0.1/t",
            "https://example.org/t",
        ] {
            assert!(via(&p, proxied).is_some(), "{proxied}");
        }
        assert_eq!(via(&proxies("*"), "https://id.example/t"), None);
    }
}
