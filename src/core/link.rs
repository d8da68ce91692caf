//! Rules about one link that every feature shares: which addresses are link-local,
//! which scope a link-local address carries, and the order in which a PvD's source
//! addresses are tried (one rule for DNS queries, connects and `mif_bind_socket`).

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use super::model::{AddrFlags, PvdInfo};

/// A network as Connect to Name sees it (`HostModel::networks`): one interface and
/// its implicit PvDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub ifindex: u32,
    pub ifname: String,
    /// The PvD of each family (`Family::index`), if present.
    pub pvds: [Option<u64>; 2],
    /// A loopback interface: no network to reach a remote name through.
    pub loopback: bool,
    /// Its best default route as (metric, IPv4 after IPv6), if it has one: the order
    /// networks are raced in (`HostModel::networks`).
    pub(crate) order: Option<(u32, u8)>,
}

/// A PvD as name translation and connections see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvdLink {
    pub info: PvdInfo,
    /// (address, prefix length, flags) of the PvD's addresses, in the mirror's order
    /// (by address).
    pub addrs: Vec<(IpAddr, u8, AddrFlags)>,
    pub dns_servers: Vec<IpAddr>,
    pub search_domains: Vec<String>,
}

impl PvdLink {
    /// The source addresses to try towards `remote`, best first (`source_order`).
    pub fn sources_for(&self, remote: &IpAddr) -> Vec<IpAddr> {
        source_order(&self.addrs, remote.is_ipv4(), Some(remote))
    }

    /// The one source to use towards `remote` (`None`: none usable, or `remote` is
    /// link-local and the kernel picks the link-local source on the pinned link).
    pub fn source_for(&self, remote: &IpAddr) -> Option<IpAddr> {
        if is_link_local(remote) {
            return None;
        }
        self.sources_for(remote).into_iter().next()
    }

    /// The source a socket of this family gets when the destination is not known yet
    /// (`mif_bind_socket`).
    pub fn preferred_source(&self, ipv4: bool) -> Option<IpAddr> {
        source_order(&self.addrs, ipv4, None).into_iter().next()
    }
}

/// RFC 6724 source selection among one interface's addresses, the rules that apply
/// when every candidate is on the same link:
/// - candidates are of the family asked, neither tentative nor DAD-failed, and not
///   link-local (a link-local destination is left to the kernel);
/// - rule 3: deprecated addresses only when no other candidate exists;
/// - rule 2 (scope): an address of the destination's kind (loopback or not) first;
/// - rule 9: then the longest prefix in common with the destination;
/// - ties keep the given order (the mirror's: by address).
pub fn source_order(addrs: &[(IpAddr, u8, AddrFlags)], ipv4: bool, remote: Option<&IpAddr>) -> Vec<IpAddr> {
    let usable: Vec<(IpAddr, AddrFlags)> = addrs
        .iter()
        .filter(|(a, _, f)| a.is_ipv4() == ipv4 && !f.tentative && !f.dadfailed && !is_link_local(a))
        .map(|(a, _, f)| (*a, *f))
        .collect();
    let any_preferred = usable.iter().any(|(_, f)| !f.deprecated);
    let mut chosen: Vec<IpAddr> =
        usable.into_iter().filter(|(_, f)| !(any_preferred && f.deprecated)).map(|(a, _)| a).collect();
    if let Some(remote) = remote {
        let scope_rank = |a: &IpAddr| u8::from(a.is_loopback() != remote.is_loopback());
        chosen.sort_by(|a, b| {
            scope_rank(a).cmp(&scope_rank(b)).then(common_prefix_len(b, remote).cmp(&common_prefix_len(a, remote)))
        });
    }
    let mut seen = Vec::with_capacity(chosen.len());
    chosen.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    chosen
}

fn common_prefix_len(a: &IpAddr, b: &IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(*a) ^ u32::from(*b)).leading_zeros(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(*a) ^ u128::from(*b)).leading_zeros(),
        _ => 0,
    }
}

/// fe80::/10 and 169.254.0.0/16: addresses that mean something only on one link.
pub fn is_link_local(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// The scope an address seen on interface `ifindex` carries: the interface for an
/// IPv6 link-local address (usable only with it), else 0.
pub fn scope_on(addr: &IpAddr, ifindex: u32) -> u32 {
    match addr {
        IpAddr::V6(_) if is_link_local(addr) => ifindex,
        _ => 0,
    }
}

/// A destination on interface `ifindex`: an IPv6 link-local one without a scope gets
/// the interface as its scope; anything else is left as it is.
pub fn on_link(addr: SocketAddr, ifindex: u32) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) if v6.scope_id() == 0 && is_link_local(&IpAddr::V6(*v6.ip())) => {
            SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), v6.flowinfo(), ifindex))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Family;

    fn link(addrs: &[(&str, AddrFlags)]) -> PvdLink {
        PvdLink {
            info: PvdInfo { id: 1, ifindex: 2, ifname: "mif0".into(), family: Family::V6, name: "mif0/ipv6".into() },
            addrs: addrs.iter().map(|(a, f)| (a.parse().unwrap(), 64, *f)).collect(),
            dns_servers: vec![],
            search_domains: vec![],
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sources_skip_unusable_and_prefer_the_longest_prefix() {
        let ok = AddrFlags::default();
        let dep = AddrFlags { deprecated: true, ..ok };
        let tent = AddrFlags { tentative: true, ..ok };
        let l = link(&[
            ("fd6d:6966:b::2", ok),
            ("fd6d:6966:a::9", dep),
            ("fd6d:6966:a::8", tent),
            ("fd6d:6966:a::2", ok),
            ("198.51.100.2", ok),
            ("fe80::2", ok),
        ]);
        assert_eq!(l.sources_for(&ip("fd6d:6966:a::1")), vec![ip("fd6d:6966:a::2"), ip("fd6d:6966:b::2")]);
        assert_eq!(l.sources_for(&ip("198.51.100.1")), vec![ip("198.51.100.2")]);
        assert_eq!(l.source_for(&ip("fe80::1")), None, "link-local destinations: the kernel chooses");
        assert_eq!(l.preferred_source(false), Some(ip("fd6d:6966:b::2")), "no destination: the mirror's order");
    }

    #[test]
    fn deprecated_addresses_only_when_nothing_else_is_left() {
        let ok = AddrFlags::default();
        let dep = AddrFlags { deprecated: true, ..ok };
        let only_deprecated = link(&[("fd6d:6966:a::9", dep), ("fd6d:6966:b::9", dep)]);
        assert_eq!(only_deprecated.preferred_source(false), Some(ip("fd6d:6966:a::9")));
        assert_eq!(
            only_deprecated.sources_for(&ip("fd6d:6966:b::1")),
            vec![ip("fd6d:6966:b::9"), ip("fd6d:6966:a::9")]
        );
        let mixed = link(&[("fd6d:6966:a::9", dep), ("fd6d:6966:b::2", ok)]);
        assert_eq!(mixed.source_for(&ip("fd6d:6966:a::1")), Some(ip("fd6d:6966:b::2")));
    }

    #[test]
    fn link_local_destinations_get_the_interface_as_scope() {
        let r = on_link("[fe80::1]:80".parse().unwrap(), 7);
        assert_eq!(r, SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 80, 0, 7)));
        let g = on_link("[fd6d:6966:a::1]:80".parse().unwrap(), 7);
        assert_eq!(g, "[fd6d:6966:a::1]:80".parse::<SocketAddr>().unwrap());
        assert_eq!(scope_on(&ip("fe80::1"), 7), 7);
        assert_eq!(scope_on(&ip("169.254.1.1"), 7), 0, "IPv4 has no scope ids");
        assert_eq!(scope_on(&ip("fd6d:6966:a::1"), 7), 0);
    }
}
