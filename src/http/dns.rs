//! Name resolution without glibc: the binary is static, and `getaddrinfo`
//! in a static glibc program loads NSS modules at run time, which break
//! when the system's glibc changes (README, "Static binary").
//!
//! What always holds:
//! - names are looked up in /etc/hosts, then at the servers of
//!   /etc/resolv.conf (its `search`, `ndots` and `options` too), by
//!   hickory, reqwest's own resolver; /etc/nsswitch.conf is not read;
//! - a name /etc/hosts knows is answered from there alone, as glibc's
//!   `files` does: no DNS query for the other address family, which with
//!   no reachable server would wait for its timeout;
//! - without /etc/resolv.conf, or without a `nameserver` in it, the server
//!   asked is 127.0.0.1, as glibc does; /etc/hosts still answers first.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use hickory_resolver::config::{LookupIpStrategy, NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Hosts, TokioResolver};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Built at the first lookup, inside the runtime that makes it.
#[derive(Default)]
pub struct Resolver {
    system: Arc<OnceLock<System>>,
}

struct System {
    hosts: Hosts,
    dns: TokioResolver,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let system = Arc::clone(&self.system);
        Box::pin(async move {
            let system = system.get_or_init(System::read);
            let known = system.in_hosts(name.as_str());
            let found: Vec<IpAddr> = if known.is_empty() {
                system
                    .dns
                    .lookup_ip(name.as_str())
                    .await?
                    .into_iter()
                    .collect()
            } else {
                known
            };
            let addrs: Addrs = Box::new(found.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

impl System {
    fn read() -> System {
        let mut builder = TokioResolver::builder_tokio().unwrap_or_else(|e| {
            tracing::debug!(error = %e, "no usable /etc/resolv.conf; asking 127.0.0.1, as glibc does");
            let local =
                NameServerConfigGroup::from_ips_clear(&[IpAddr::V4(Ipv4Addr::LOCALHOST)], 53, true);
            TokioResolver::builder_with_config(
                ResolverConfig::from_parts(None, Vec::new(), local),
                TokioConnectionProvider::default(),
            )
        });
        // Both families, for happy eyeballs, as reqwest's own set-up does.
        builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        System {
            hosts: Hosts::from_system().unwrap_or_default(),
            dns: builder.build(),
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
