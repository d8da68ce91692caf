//! What goes into the model: facts from the kernel and from configuration files,
//! already decoded by the OS adapters into plain Rust values.

use std::net::IpAddr;

/// Address family of a PvD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
    pub fn suffix(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
    pub(crate) const ALL: [Family; 2] = [Family::V4, Family::V6];
    pub(crate) fn index(self) -> usize {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
        }
    }
}

/// Address scope as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Other(u8),
}

/// Interface flags that matter to the model (kernel IFF_* values are mapped by the adapter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkFlags {
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    pub pointopoint: bool,
}

/// Address flags that matter to subscribers (kernel IFA_F_* values are mapped by the adapter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrFlags {
    pub temporary: bool,
    pub deprecated: bool,
    pub tentative: bool,
    pub dadfailed: bool,
    pub permanent: bool,
    pub optimistic: bool,
}

/// Remaining lifetime in seconds as the kernel reports it; `None` = infinite.
pub type LifetimeSecs = Option<u32>;

/// A kernel fact about one interface (RTM_NEWLINK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkFact {
    pub ifindex: u32,
    pub name: String,
    pub flags: LinkFlags,
    /// IFLA_MTU, when reported.
    pub mtu: Option<u32>,
}

/// A kernel fact about one address (RTM_NEWADDR).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrFact {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub scope: Scope,
    pub flags: AddrFlags,
    pub valid: LifetimeSecs,
    pub preferred: LifetimeSecs,
    /// How far, in milliseconds (0 to 999), the kernel's countdown of these lifetimes
    /// is past the whole seconds it reports: the exact remaining lifetimes are `valid`
    /// and `preferred` less this (from the address's update stamp; 0 when unknown).
    pub lifetime_phase_ms: u32,
}

/// One change the kernel reported, or what a configuration file says now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fact {
    Link(LinkFact),
    LinkRemoved {
        ifindex: u32,
    },
    Addr(AddrFact),
    AddrRemoved {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    /// An RA option the kernel forwarded (RTM_NEWNDUSEROPT).
    Ra {
        ifindex: u32,
        router: Option<std::net::Ipv6Addr>,
        option: RaOption,
    },
    /// A default route appeared or changed.
    Route(RouteFact),
    /// A default route went.
    RouteRemoved(RouteFact),
    /// A route to a prefix (not the default) appeared or changed.
    PrefixRoute(PrefixRouteFact),
    /// A route to a prefix went.
    PrefixRouteRemoved(PrefixRouteFact),
    /// The whole default-route table of one family and its prefix routes (after a route dump).
    Routes {
        family: Family,
        routes: Vec<RouteFact>,
        prefixes: Vec<PrefixRouteFact>,
    },
    /// Everything one file source says now (empty: the file is gone or says nothing).
    Sourced {
        origin: String,
        elements: Vec<SourcedElement>,
    },
    /// The host-wide resolver configuration (/etc/resolv.conf); `None`: no such file.
    System {
        origin: String,
        data: Option<ConfigData>,
    },
}

impl Fact {
    /// A fact read from a file (rather than reported by the kernel).
    pub fn is_from_files(&self) -> bool {
        matches!(self, Fact::Sourced { .. } | Fact::System { .. })
    }
}

/// The Router Advertisement options the kernel forwards (RTM_NEWNDUSEROPT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaOption {
    /// RFC 8106. Lifetime in seconds (`u32::MAX` = infinite, 0 = withdraw).
    Rdnss {
        lifetime: u32,
        servers: Vec<std::net::Ipv6Addr>,
    },
    Dnssl {
        lifetime: u32,
        domains: Vec<String>,
    },
    /// RFC 8910: the captive portal API's URI (kept while the router's RA state is).
    CaptivePortal {
        uri: String,
    },
    /// RFC 8781: the NAT64 prefix; lifetime in seconds, 0 = withdraw.
    Pref64 {
        prefix: std::net::Ipv6Addr,
        prefix_len: u8,
        lifetime: u32,
    },
    /// Any other option (a prefix, say): it only tells that the router advertised.
    Other {
        kind: u8,
    },
}

/// A default route (destination length 0, main table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteFact {
    pub family: Family,
    pub ifindex: u32,
    pub gateway: Option<IpAddr>,
    pub metric: u32,
    /// Installed by the kernel from a Router Advertisement (proto ra).
    pub from_ra: bool,
    /// Seconds until the kernel removes it (RA router lifetime); `None` = no expiry.
    pub lifetime: LifetimeSecs,
}

/// A unicast route to a prefix (destination length > 0, main table): where the servers
/// of /etc/resolv.conf are reached when no link's subnet holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PrefixRouteFact {
    pub ifindex: u32,
    pub destination: IpAddr,
    pub prefix_len: u8,
    pub metric: u32,
}

/// Kinds of configuration element (their stable C values are in capi).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ElementKind {
    Ra,
    Dhcpv4,
    Dhcpv6,
    Static,
    System,
}

/// What a configuration element says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigData {
    pub dns_servers: Vec<IpAddr>,
    pub search_domains: Vec<String>,
    pub routers: Vec<IpAddr>,
    pub mtu: Option<u32>,
    /// RFC 8910 captive portal API URI (RA elements).
    pub captive_portal: Option<String>,
    /// RFC 8781 NAT64 prefix and its length (RA elements).
    pub pref64: Option<(std::net::Ipv6Addr, u8)>,
}

impl ConfigData {
    pub fn is_empty(&self) -> bool {
        self.dns_servers.is_empty()
            && self.search_domains.is_empty()
            && self.routers.is_empty()
            && self.mtu.is_none()
            && self.captive_portal.is_none()
            && self.pref64.is_none()
    }

    /// The part of this data that belongs to a PvD of `family`.
    pub(crate) fn for_family(&self, family: Family) -> ConfigData {
        ConfigData {
            dns_servers: self.dns_servers.iter().filter(|a| Family::of(a) == family).copied().collect(),
            search_domains: self.search_domains.clone(),
            routers: self.routers.iter().filter(|a| Family::of(a) == family).copied().collect(),
            mtu: self.mtu,
            captive_portal: self.captive_portal.clone(),
            pref64: self.pref64,
        }
    }

    pub(crate) fn merge(&mut self, other: &ConfigData) {
        for a in &other.dns_servers {
            if !self.dns_servers.contains(a) {
                self.dns_servers.push(*a);
            }
        }
        for d in &other.search_domains {
            if !self.search_domains.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                self.search_domains.push(d.clone());
            }
        }
        for a in &other.routers {
            if !self.routers.contains(a) {
                self.routers.push(*a);
            }
        }
        self.mtu = self.mtu.or(other.mtu);
        if self.captive_portal.is_none() {
            self.captive_portal.clone_from(&other.captive_portal);
        }
        self.pref64 = self.pref64.or(other.pref64);
    }
}

/// Which interface a file's element is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRef {
    Index(u32),
    Name(String),
}

/// A configuration element as a file source reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcedElement {
    pub link: LinkRef,
    pub kind: ElementKind,
    /// The DHCP server or router it came from, when the source says.
    pub server: Option<IpAddr>,
    pub data: ConfigData,
    /// Seconds it stays valid from now; `None` = until the source withdraws it.
    pub lifetime: LifetimeSecs,
    /// The address the lease gave (DHCP). While set, the element lives exactly as long
    /// as that address on its link, and counts down with the address's valid lifetime:
    /// the DHCP client sets it from the lease and renews it, and the kernel or the
    /// client removes the address when the lease ends (`pvd.rs`, `elements_of`).
    pub lease_address: Option<IpAddr>,
    /// The link manager says it is configuring the link (systemd-networkd's
    /// `ADMIN_STATE=configuring`, `pending` or `initialized`): an up link without an
    /// address is going up for that reason (`GoingUpReason::Configuring`). Carried by
    /// an element that may have no data of its own.
    pub configuring: bool,
    /// What a link manager learned from the network by RA or by DHCPv6, which its files
    /// do not tell apart (systemd-networkd): the servers and domains that an RA the
    /// library heard on the link lists are left out here, being that RA's element.
    pub besides_heard_ra: bool,
}

/// Which lists a Get Configuration Data asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoId {
    All,
    DnsServers,
    SearchDomains,
    Routers,
    Mtu,
    CaptivePortal,
    Pref64,
}

/// Everything a dump returned: the whole truth at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub links: Vec<LinkFact>,
    pub addrs: Vec<AddrFact>,
    pub routes: Vec<RouteFact>,
    pub prefix_routes: Vec<PrefixRouteFact>,
}
