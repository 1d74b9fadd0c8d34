//! Name resolution without glibc: the binary is static, and `getaddrinfo`
//! in a static glibc program loads NSS modules at run time, which break
//! when the system's glibc changes (README, "Static binary").
//!
//! What always holds:
//! - names are looked up by hickory (reqwest's own resolver) in
//!   /etc/hosts, then at the servers of /etc/resolv.conf, with its
//!   `search`, `domain`, `ndots`, `timeout`, `attempts` and `edns0`;
//!   /etc/nsswitch.conf is not read;
//! - a name /etc/hosts knows is answered from there alone, as glibc's
//!   `files` does: no DNS query for the other address family, which with
//!   no reachable server would wait for its timeout;
//! - /etc/resolv.conf is read as glibc reads it: a line it does not know is
//!   skipped, not fatal; without a `nameserver` (or without the file) only
//!   /etc/hosts answers, and the error says so at once;
//! - an error names the host, and never holds a debug dump.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, NameServerConfigGroup, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{Hosts, TokioResolver};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tracing::debug;

const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Built at the first lookup, inside the runtime that makes it.
#[derive(Default)]
pub struct Resolver {
    system: Arc<OnceLock<System>>,
}

struct System {
    hosts: Hosts,
    /// `None` when /etc/resolv.conf names no server.
    dns: Option<TokioResolver>,
}

/// Why a name has no address, in words.
#[derive(Debug)]
struct Unresolved {
    host: String,
    why: String,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "cannot resolve {}: {}", self.host, self.why)
    }
}

impl std::error::Error for Unresolved {}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let system = Arc::clone(&self.system);
        Box::pin(async move {
            let system = system.get_or_init(System::read);
            let host = name.as_str();
            let unresolved = |why: String| Unresolved {
                host: host.to_string(),
                why,
            };
            let mut found = system.in_hosts(host);
            if found.is_empty() {
                let Some(dns) = &system.dns else {
                    let why = format!(
                        "{RESOLV_CONF} names no nameserver, and /etc/hosts does not know it"
                    );
                    return Err(unresolved(why).into());
                };
                found = match dns.lookup_ip(host).await {
                    Ok(lookup) => lookup.into_iter().collect(),
                    Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                        return Err(unresolved("no such host".into()).into());
                    }
                    Err(e) => return Err(unresolved(format!("DNS: {e}")).into()),
                };
            }
            let addrs: Addrs = Box::new(found.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

impl System {
    fn read() -> System {
        let text = std::fs::read(RESOLV_CONF).unwrap_or_else(|e| {
            debug!(error = %e, "cannot read {RESOLV_CONF}");
            Vec::new()
        });
        let (config, mut options) = resolv_conf(&text);
        // Both families, for happy eyeballs, as reqwest's own set-up does.
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        let dns = (!config.name_servers().is_empty()).then(|| {
            let mut builder =
                TokioResolver::builder_with_config(config, TokioConnectionProvider::default());
            *builder.options_mut() = options;
            builder.build()
        });
        System {
            hosts: Hosts::from_system().unwrap_or_default(),
            dns,
        }
    }

    /// The addresses /etc/hosts gives `name`, of both families.
    fn in_hosts(&self, name: &str) -> Vec<IpAddr> {
        let Ok(name) = hickory_resolver::Name::from_ascii(name) else {
            return Vec::new();
        };
        [RecordType::A, RecordType::AAAA]
            .into_iter()
            .filter_map(|kind| {
                self.hosts
                    .lookup_static_host(&Query::query(name.clone(), kind))
            })
            .flat_map(|found| {
                found
                    .iter()
                    .filter_map(|data| data.ip_addr())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// /etc/resolv.conf as hickory reads it, but as leniently as glibc: a
/// line that does not parse is skipped. (hickory's own reader refuses the
/// whole file, and every lookup with it.)
fn resolv_conf(text: &[u8]) -> (ResolverConfig, ResolverOpts) {
    let (parsed, skipped) = resolv_conf::Config::parse_with_errors(text);
    for e in skipped {
        debug!(error = %e, "skipping a line of {RESOLV_CONF}");
    }
    let mut servers = NameServerConfigGroup::new();
    for ip in &parsed.nameservers {
        let addr = SocketAddr::new(ip.into(), 53);
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            let mut server = NameServerConfig::new(addr, protocol);
            server.trust_negative_responses = false;
            servers.push(server);
        }
    }
    let search = parsed
        .get_last_search_or_domain()
        .filter(|domain| *domain != "--")
        .filter_map(|domain| hickory_resolver::Name::from_str_relaxed(domain).ok())
        .collect();
    let domain = parsed
        .get_system_domain()
        .and_then(|domain| hickory_resolver::Name::from_str(&domain).ok());
    let mut options = ResolverOpts::default();
    options.ndots = parsed.ndots as usize;
    options.timeout = Duration::from_secs(u64::from(parsed.timeout));
    options.attempts = parsed.attempts as usize;
    options.edns0 = parsed.edns0;
    (ResolverConfig::from_parts(domain, search, servers), options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_is_read_as_leniently_as_glibc_reads_it() {
        let (config, options) = resolv_conf(
            b"# a comment\nnameserver 10.0.0.53\noptions edns0 strict-error ndots:2 timeout:3\nsearch corp.example\nunknown-directive x\n",
        );
        let servers: Vec<String> = config
            .name_servers()
            .iter()
            .map(|s| s.socket_addr.to_string())
            .collect();
        assert_eq!(servers, ["10.0.0.53:53", "10.0.0.53:53"]);
        assert_eq!(config.search().len(), 1);
        assert_eq!(config.search()[0].to_ascii(), "corp.example");
        assert_eq!(options.ndots, 2);
        assert_eq!(options.timeout, Duration::from_secs(3));
        assert!(options.edns0);

        let (config, _) = resolv_conf(b"");
        assert!(config.name_servers().is_empty());
    }
}
