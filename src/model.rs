//! The host model: a mirror of the host's interfaces and addresses, the implicit
//! provisioning domains (PvDs) derived from them, and one subscriber's subscriptions.
//!
//! Pure: kernel facts and requests go in, the draft's announcements come out in the
//! draft's order. No sockets, no clock reads (the caller passes `now`), so every rule
//! here is unit-tested without a kernel.
//!
//! The PvD rule (docs/provisioning-domains.md): an interface has one implicit PvD per
//! address family while it is up and running (IFF_UP and IFF_RUNNING) and holds at
//! least one address of that family whose scope is not link-local. The PvD's addresses
//! are exactly those non-link-local addresses. A PvD id is allocated the first time the
//! (interface, family) pair has a PvD and stays the same for as long as the interface
//! exists, also across the PvD going and coming back; ids are never reused.
//!
//! Configuration elements (docs/configuration.md) attach to present PvDs: RA
//! elements (per router, from RDNSS/DNSSL options and RA default routes) to the IPv6
//! PvD, DHCPv4 to the IPv4 PvD, DHCPv6 to the IPv6 PvD, Static and System to both,
//! each keeping the servers and routers of the PvD's family.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

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
    const ALL: [Family; 2] = [Family::V4, Family::V6];
    fn index(self) -> usize {
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
}

/// One change the kernel reported.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fact {
    Link(LinkFact),
    LinkRemoved { ifindex: u32 },
    Addr(AddrFact),
    AddrRemoved { ifindex: u32, addr: IpAddr, prefix_len: u8 },
    /// An RA option the kernel forwarded (RTM_NEWNDUSEROPT).
    Ra { ifindex: u32, router: Option<std::net::Ipv6Addr>, option: RaOption },
    /// A default route appeared or changed.
    Route(RouteFact),
    /// A default route went.
    RouteRemoved(RouteFact),
    /// The whole default-route table of one family (after a route dump).
    Routes { family: Family, routes: Vec<RouteFact> },
    /// Everything one file source says now (empty: the file is gone or says nothing).
    Sourced { origin: String, elements: Vec<SourcedElement> },
    /// The host-wide resolver configuration (/etc/resolv.conf); `None`: no such file.
    System { origin: String, data: Option<ConfigData> },
}

/// The DNS options of Router Advertisements (RFC 8106).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaOption {
    /// Lifetime in seconds (`u32::MAX` = infinite, 0 = withdraw).
    Rdnss { lifetime: u32, servers: Vec<std::net::Ipv6Addr> },
    Dnssl { lifetime: u32, domains: Vec<String> },
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

/// Kinds of configuration element (stable C values in ffi.rs).
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
}

impl ConfigData {
    pub fn is_empty(&self) -> bool {
        self.dns_servers.is_empty() && self.search_domains.is_empty() && self.routers.is_empty() && self.mtu.is_none()
    }

    /// The part of this data that belongs to a PvD of `family`.
    fn for_family(&self, family: Family) -> ConfigData {
        ConfigData {
            dns_servers: self.dns_servers.iter().filter(|a| Family::of(a) == family).copied().collect(),
            search_domains: self.search_domains.clone(),
            routers: self.routers.iter().filter(|a| Family::of(a) == family).copied().collect(),
            mtu: self.mtu,
        }
    }

    fn merge(&mut self, other: &ConfigData) {
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
}

/// Which lists a Get Configuration Data asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoId {
    All,
    DnsServers,
    SearchDomains,
    Routers,
    Mtu,
}

/// Everything a dump returned: the whole truth at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub links: Vec<LinkFact>,
    pub addrs: Vec<AddrFact>,
    pub routes: Vec<RouteFact>,
}

/// Public description of a PvD, carried by announcements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvdInfo {
    pub id: u64,
    pub ifindex: u32,
    pub ifname: String,
    pub family: Family,
    pub name: String,
}

/// An address as announced, lifetimes already turned into seconds remaining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub scope: Scope,
    pub flags: AddrFlags,
    pub valid: LifetimeSecs,
    pub preferred: LifetimeSecs,
}

/// A message for the subscriber, in the draft's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Announcement {
    Interface { ifindex: u32, name: String, flags: LinkFlags },
    NoInterface { ifindex: u32, name: String, flags: LinkFlags },
    Pvd(PvdInfo),
    NoPvd(PvdInfo),
    Address { pvd: PvdInfo, addr: AddrInfo },
    NoAddress { pvd: PvdInfo, addr: AddrInfo },
    Element { pvd: PvdInfo, element: ElementInfo },
    NoElement { pvd: PvdInfo, element: ElementInfo },
    ConfigData { pvd: PvdInfo, kind: Option<ElementKind>, info: InfoId, data: ConfigData },
    NoConfigData { pvd: PvdInfo, kind: Option<ElementKind>, info: InfoId },
}

/// A configuration element as announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementInfo {
    pub id: u64,
    pub kind: ElementKind,
    /// "rtnetlink" or the path of the file it was read from.
    pub origin: String,
    pub server: Option<IpAddr>,
    pub data: ConfigData,
    /// Seconds left; `None` = until withdrawn.
    pub lifetime: LifetimeSecs,
}

/// A PvD as name translation and connections see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvdLink {
    pub info: PvdInfo,
    /// (address, prefix length, flags) of the PvD's addresses.
    pub addrs: Vec<(IpAddr, u8, AddrFlags)>,
    pub dns_servers: Vec<IpAddr>,
    pub search_domains: Vec<String>,
}

impl PvdLink {
    /// The address to send from to a non-link-local destination of this family: a
    /// usable (not tentative, not DAD-failed) non-link-local address, preferring one
    /// that is not deprecated (RFC 6724 rule 3).
    pub fn preferred_source(&self, ipv4: bool) -> Option<IpAddr> {
        let usable = self.addrs.iter().filter(|(a, _, f)| a.is_ipv4() == ipv4 && !f.tentative && !f.dadfailed && !is_link_local(a));
        let mut fallback = None;
        for (a, _, f) in usable {
            if !f.deprecated {
                return Some(*a);
            }
            fallback.get_or_insert(*a);
        }
        fallback
    }
}

/// fe80::/10 and 169.254.0.0/16: addresses that mean something only on one link.
pub fn is_link_local(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// Why a request does not fit the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    UnknownInterface,
    UnknownPvd,
    NotSubscribed,
}

/// Origin of elements learnt from Router Advertisements.
pub const RA_ORIGIN: &str = "rtnetlink";

/// Deadlines computed from whole seconds at different moments may differ by up to a
/// second without anything having changed; past deadlines all mean "0 s left".
fn deadlines_close(a: Option<Instant>, b: Option<Instant>, now: Instant) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a <= now && b <= now => true,
        (Some(a), Some(b)) => {
            let d = if a > b { a - b } else { b - a };
            d <= Duration::from_millis(1500)
        }
        _ => false,
    }
}

fn remaining(deadline: Option<Instant>, now: Instant) -> LifetimeSecs {
    deadline.map(|d| d.saturating_duration_since(now).as_secs().min(u64::from(u32::MAX - 1)) as u32)
}

fn deadline_after(now: Instant, lifetime: LifetimeSecs) -> Option<Instant> {
    lifetime.map(|s| now + Duration::from_secs(u64::from(s)))
}

/// Identity of an element on one interface.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ElementIdent {
    kind: ElementKind,
    origin: String,
    server: Option<IpAddr>,
}

#[derive(Clone, Debug)]
struct ElementView {
    id: u64,
    data: ConfigData,
    until: Option<Instant>,
}

impl ElementView {
    fn info(&self, ident: &ElementIdent, now: Instant) -> ElementInfo {
        ElementInfo {
            id: self.id,
            kind: ident.kind,
            origin: ident.origin.clone(),
            server: ident.server,
            data: self.data.clone(),
            lifetime: remaining(self.until, now),
        }
    }
}

/// DNS options learnt from one router on one interface; each entry expires on its own.
#[derive(Clone, Debug, Default)]
struct RaState {
    servers: BTreeMap<std::net::Ipv6Addr, Option<Instant>>,
    domains: BTreeMap<String, Option<Instant>>,
}

type RouteKey = (Family, u32, Option<IpAddr>, u32);

/// Addresses are keyed as the kernel keys them closely enough: by address and prefix.
type AddrKey = (IpAddr, u8);

/// Mirrored state of one address; lifetimes are absolute deadlines so that a re-dump
/// later does not look like a change just because time passed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct AddrState {
    scope: Scope,
    flags: AddrFlags,
    valid_until: Option<Instant>,
    preferred_until: Option<Instant>,
}

impl AddrState {
    fn from_fact(f: &AddrFact, now: Instant) -> AddrState {
        AddrState {
            scope: f.scope,
            flags: f.flags,
            valid_until: deadline_after(now, f.valid),
            preferred_until: deadline_after(now, f.preferred),
        }
    }

    /// The kernel reports whole seconds, so deadlines computed at different moments
    /// may differ by up to a second without anything having changed.
    fn same_as(&self, other: &AddrState, now: Instant) -> bool {
        self.scope == other.scope
            && self.flags == other.flags
            && deadlines_close(self.valid_until, other.valid_until, now)
            && deadlines_close(self.preferred_until, other.preferred_until, now)
    }

    fn info(&self, key: &AddrKey, now: Instant) -> AddrInfo {
        AddrInfo {
            addr: key.0,
            prefix_len: key.1,
            scope: self.scope,
            flags: self.flags,
            valid: remaining(self.valid_until, now),
            preferred: remaining(self.preferred_until, now),
        }
    }
}

#[derive(Clone, Debug)]
struct Link {
    name: String,
    flags: LinkFlags,
    mtu: Option<u32>,
}

/// What subscribers may see of one PvD.
#[derive(Clone, Debug)]
struct PvdView {
    id: u64,
    name: String,
    addrs: BTreeMap<AddrKey, AddrState>,
    elements: BTreeMap<ElementIdent, ElementView>,
}

/// What subscribers may see of one interface.
#[derive(Clone, Debug)]
struct LinkView {
    name: String,
    flags: LinkFlags,
    pvds: [Option<PvdView>; 2],
}

#[derive(Default, Debug)]
struct Subscriptions {
    interfaces: bool,
    pvds: BTreeSet<u32>,
    addresses: BTreeSet<u64>,
    elements: BTreeSet<u64>,
}

/// The host model of one context.
#[derive(Debug)]
pub struct HostModel {
    links: BTreeMap<u32, Link>,
    addrs: BTreeMap<u32, BTreeMap<AddrKey, AddrState>>,
    /// The last state subscribers were told about, per interface.
    views: BTreeMap<u32, LinkView>,
    pvd_ids: HashMap<(u32, Family), u64>,
    next_pvd_id: u64,
    subs: Subscriptions,
    ra: BTreeMap<(u32, Option<std::net::Ipv6Addr>), RaState>,
    /// Default routes: installed from an RA, and when they expire.
    routes: BTreeMap<RouteKey, (bool, Option<Instant>)>,
    sourced: BTreeMap<String, Vec<(SourcedElement, Option<Instant>)>>,
    system: Option<(String, ConfigData)>,
    element_ids: HashMap<(u32, Family, ElementIdent), u64>,
    next_element_id: u64,
}

impl Default for HostModel {
    fn default() -> Self {
        Self::new()
    }
}

impl HostModel {
    pub fn new() -> HostModel {
        HostModel {
            links: BTreeMap::new(),
            addrs: BTreeMap::new(),
            views: BTreeMap::new(),
            pvd_ids: HashMap::new(),
            next_pvd_id: 1,
            subs: Subscriptions::default(),
            ra: BTreeMap::new(),
            routes: BTreeMap::new(),
            sourced: BTreeMap::new(),
            system: None,
            element_ids: HashMap::new(),
            next_element_id: 1,
        }
    }

    /// Applies one fact and appends the announcements it implies.
    pub fn apply(&mut self, fact: Fact, now: Instant, out: &mut Vec<Announcement>) {
        let touched: Vec<u32> = match fact {
            Fact::Link(link) => {
                let ifindex = link.ifindex;
                self.links.insert(ifindex, Link { name: link.name, flags: link.flags, mtu: link.mtu });
                // Elements from files may name the interface: all its views may change.
                vec![ifindex]
            }
            Fact::LinkRemoved { ifindex } => {
                self.links.remove(&ifindex);
                self.addrs.remove(&ifindex);
                self.ra.retain(|(i, _), _| *i != ifindex);
                self.routes.retain(|(_, i, _, _), _| *i != ifindex);
                vec![ifindex]
            }
            Fact::Addr(a) => {
                if !self.links.contains_key(&a.ifindex) {
                    // The kernel announces a link before its addresses; an address for
                    // an unknown link belongs to one already deleted.
                    return;
                }
                let state = AddrState::from_fact(&a, now);
                self.addrs.entry(a.ifindex).or_default().insert((a.addr, a.prefix_len), state);
                vec![a.ifindex]
            }
            Fact::AddrRemoved { ifindex, addr, prefix_len } => {
                if let Some(map) = self.addrs.get_mut(&ifindex) {
                    map.remove(&(addr, prefix_len));
                }
                vec![ifindex]
            }
            Fact::Ra { ifindex, router, option } => {
                if !self.links.contains_key(&ifindex) {
                    return;
                }
                self.apply_ra(ifindex, router, option, now);
                vec![ifindex]
            }
            Fact::Route(r) => {
                // The default route decides where the System element goes: any interface may change.
                self.routes.insert((r.family, r.ifindex, r.gateway, r.metric), (r.from_ra, deadline_after(now, r.lifetime)));
                self.links.keys().copied().collect()
            }
            Fact::RouteRemoved(r) => {
                self.routes.remove(&(r.family, r.ifindex, r.gateway, r.metric));
                self.links.keys().copied().collect()
            }
            Fact::Routes { family, routes } => {
                self.routes.retain(|(f, _, _, _), _| *f != family);
                for r in routes {
                    self.routes.insert((r.family, r.ifindex, r.gateway, r.metric), (r.from_ra, deadline_after(now, r.lifetime)));
                }
                self.links.keys().copied().collect()
            }
            Fact::Sourced { origin, elements } => {
                if elements.is_empty() {
                    self.sourced.remove(&origin);
                } else {
                    let timed = elements.into_iter().map(|e| {
                        let until = deadline_after(now, e.lifetime);
                        (e, until)
                    });
                    self.sourced.insert(origin, timed.collect());
                }
                self.links.keys().copied().collect()
            }
            Fact::System { origin, data } => {
                self.system = data.map(|d| (origin, d));
                self.links.keys().copied().collect()
            }
        };
        for ifindex in touched {
            self.refresh(ifindex, now, out);
        }
    }

    fn apply_ra(&mut self, ifindex: u32, router: Option<std::net::Ipv6Addr>, option: RaOption, now: Instant) {
        let state = self.ra.entry((ifindex, router)).or_default();
        // RFC 8106: 0xffffffff is infinity, 0 withdraws the listed entries at once.
        let until = |lifetime: u32| if lifetime == u32::MAX { None } else { Some(now + Duration::from_secs(u64::from(lifetime))) };
        match option {
            RaOption::Rdnss { lifetime, servers } => {
                for server in servers {
                    if lifetime == 0 {
                        state.servers.remove(&server);
                    } else {
                        state.servers.insert(server, until(lifetime));
                    }
                }
            }
            RaOption::Dnssl { lifetime, domains } => {
                for domain in domains {
                    let domain = domain.to_ascii_lowercase();
                    if lifetime == 0 {
                        state.domains.remove(&domain);
                    } else {
                        state.domains.insert(domain, until(lifetime));
                    }
                }
            }
        }
        if state.servers.is_empty() && state.domains.is_empty() {
            self.ra.remove(&(ifindex, router));
        }
    }

    /// The earliest moment at which something expires by itself (an RA DNS entry, a
    /// lease): the engine sleeps until then, and no longer when nothing can expire.
    pub fn next_deadline(&self) -> Option<Instant> {
        let ra = self.ra.values().flat_map(|s| s.servers.values().chain(s.domains.values())).flatten().copied();
        let sourced = self.sourced.values().flatten().filter_map(|(_, until)| *until);
        ra.chain(sourced).min()
    }

    /// Drops what expired by `now` and announces the consequences.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<Announcement>) {
        let alive = |d: &Option<Instant>| d.is_none_or(|d| d > now);
        for state in self.ra.values_mut() {
            state.servers.retain(|_, d| alive(d));
            state.domains.retain(|_, d| alive(d));
        }
        self.ra.retain(|_, s| !(s.servers.is_empty() && s.domains.is_empty()));
        for elements in self.sourced.values_mut() {
            elements.retain(|(_, d)| alive(d));
        }
        self.sourced.retain(|_, e| !e.is_empty());
        let all: Vec<u32> = self.views.keys().copied().collect();
        for ifindex in all {
            self.refresh(ifindex, now, out);
        }
    }

    /// Replaces the mirror with a fresh dump (after lost events) and announces exactly
    /// the differences between what subscribers were told and the dump.
    pub fn resync(&mut self, snapshot: Snapshot, now: Instant, out: &mut Vec<Announcement>) {
        let mut touched: BTreeSet<u32> = self.views.keys().copied().collect();
        self.links.clear();
        self.addrs.clear();
        for link in snapshot.links {
            touched.insert(link.ifindex);
            self.links.insert(link.ifindex, Link { name: link.name, flags: link.flags, mtu: link.mtu });
        }
        for a in snapshot.addrs {
            if !self.links.contains_key(&a.ifindex) {
                continue;
            }
            // Deadlines recomputed from the dump match the old ones within a second
            // (AddrState::same_as), so lifetimes that merely counted down are not re-announced.
            let state = AddrState::from_fact(&a, now);
            self.addrs.entry(a.ifindex).or_default().insert((a.addr, a.prefix_len), state);
        }
        self.routes.clear();
        for r in snapshot.routes {
            self.routes.insert((r.family, r.ifindex, r.gateway, r.metric), (r.from_ra, deadline_after(now, r.lifetime)));
        }
        let links = &self.links;
        self.ra.retain(|(i, _), _| links.contains_key(i));
        self.routes.retain(|(_, i, _, _), _| links.contains_key(i));
        for ifindex in touched {
            self.refresh(ifindex, now, out);
        }
    }

    /// Recomputes what subscribers should see of one interface and announces the difference.
    fn refresh(&mut self, ifindex: u32, now: Instant, out: &mut Vec<Announcement>) {
        let new = self.compute_view(ifindex, now);
        let old = self.views.remove(&ifindex);
        self.announce_diff(ifindex, old.as_ref(), new.as_ref(), now, out);
        match new {
            Some(view) => {
                self.views.insert(ifindex, view);
            }
            None => {
                self.pvd_ids.retain(|(i, _), _| *i != ifindex);
                self.element_ids.retain(|(i, _, _), _| *i != ifindex);
            }
        }
    }

    fn compute_view(&mut self, ifindex: u32, now: Instant) -> Option<LinkView> {
        let link = self.links.get(&ifindex)?;
        let mut pvds: [Option<PvdView>; 2] = [None, None];
        if link.flags.up && link.flags.running {
            for family in Family::ALL {
                let addrs: BTreeMap<AddrKey, AddrState> = self
                    .addrs
                    .get(&ifindex)
                    .into_iter()
                    .flatten()
                    .filter(|(k, s)| Family::of(&k.0) == family && !matches!(s.scope, Scope::Link | Scope::Other(_)))
                    .map(|(k, s)| (*k, s.clone()))
                    .collect();
                if addrs.is_empty() {
                    continue;
                }
                let next = &mut self.next_pvd_id;
                let id = *self.pvd_ids.entry((ifindex, family)).or_insert_with(|| {
                    let id = *next;
                    *next += 1;
                    id
                });
                let name = format!("{}/{}", link.name, family.suffix());
                pvds[family.index()] = Some(PvdView { id, name, addrs, elements: BTreeMap::new() });
            }
        }
        let name = link.name.clone();
        let flags = link.flags;
        for family in Family::ALL {
            if pvds[family.index()].is_none() {
                continue;
            }
            let elements = self.elements_of(ifindex, &name, family, now);
            let mut with_ids = BTreeMap::new();
            for (ident, (data, until)) in elements {
                let next = &mut self.next_element_id;
                let id = *self.element_ids.entry((ifindex, family, ident.clone())).or_insert_with(|| {
                    let id = *next;
                    *next += 1;
                    id
                });
                with_ids.insert(ident, ElementView { id, data, until });
            }
            if let Some(pvd) = pvds[family.index()].as_mut() {
                pvd.elements = with_ids;
            }
        }
        Some(LinkView { name, flags, pvds })
    }

    /// The configuration elements of the PvD (ifindex, family), from every source.
    fn elements_of(
        &self,
        ifindex: u32,
        ifname: &str,
        family: Family,
        now: Instant,
    ) -> BTreeMap<ElementIdent, (ConfigData, Option<Instant>)> {
        let mut out = BTreeMap::new();
        let alive = |d: &Option<Instant>| d.is_none_or(|d| d > now);
        if family == Family::V6 {
            // One RA element per router: its DNS options and the default route it gave.
            let mut routers: BTreeSet<Option<std::net::Ipv6Addr>> =
                self.ra.keys().filter(|(i, _)| *i == ifindex).map(|(_, r)| *r).collect();
            for ((f, i, gw, _), (from_ra, _)) in &self.routes {
                if *f == Family::V6 && *i == ifindex && *from_ra {
                    if let Some(IpAddr::V6(gw)) = gw {
                        routers.insert(Some(*gw));
                    }
                }
            }
            for router in routers {
                let mut data = ConfigData::default();
                let mut until: Option<Option<Instant>> = None; // None: no entry yet
                let mut extend = |d: Option<Instant>| {
                    until = Some(match (until, d) {
                        (None, d) => d,
                        (Some(None), _) | (_, None) => None,
                        (Some(Some(a)), Some(b)) => Some(a.max(b)),
                    })
                };
                if let Some(state) = self.ra.get(&(ifindex, router)) {
                    for (server, d) in state.servers.iter().filter(|(_, d)| alive(d)) {
                        data.dns_servers.push(IpAddr::V6(*server));
                        extend(*d);
                    }
                    for (domain, d) in state.domains.iter().filter(|(_, d)| alive(d)) {
                        data.search_domains.push(domain.clone());
                        extend(*d);
                    }
                }
                if let Some(r) = router {
                    let gw = Some(IpAddr::V6(r));
                    let route = self.routes.iter().find(|((f, i, g, _), (ra, _))| *f == Family::V6 && *i == ifindex && *g == gw && *ra);
                    if let Some((_, (_, route_until))) = route {
                        data.routers.push(IpAddr::V6(r));
                        // The kernel removes the route when the router lifetime ends.
                        extend(*route_until);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let ident = ElementIdent { kind: ElementKind::Ra, origin: RA_ORIGIN.to_string(), server: router.map(IpAddr::V6) };
                out.insert(ident, (data, until.flatten()));
            }
        }
        for (origin, elements) in &self.sourced {
            for (e, until) in elements {
                let matches_link = match &e.link {
                    LinkRef::Index(i) => *i == ifindex,
                    LinkRef::Name(n) => n == ifname,
                };
                let family_ok = match e.kind {
                    ElementKind::Dhcpv4 => family == Family::V4,
                    ElementKind::Dhcpv6 | ElementKind::Ra => family == Family::V6,
                    ElementKind::Static | ElementKind::System => true,
                };
                if !matches_link || !family_ok || !alive(until) {
                    continue;
                }
                let data = e.data.for_family(family);
                if data.is_empty() {
                    continue;
                }
                let ident = ElementIdent { kind: e.kind, origin: origin.clone(), server: e.server };
                match out.get_mut(&ident) {
                    Some((d, _)) => ConfigData::merge(d, &data),
                    None => {
                        out.insert(ident, (data, *until));
                    }
                }
            }
        }
        if let Some((origin, data)) = &self.system {
            if self.holds_default_route(ifindex, family) {
                let data = data.for_family(family);
                if !data.is_empty() {
                    out.insert(ElementIdent { kind: ElementKind::System, origin: origin.clone(), server: None }, (data, None));
                }
            }
        }
        out
    }

    /// Whether the interface has a default route of this family with the lowest metric.
    fn holds_default_route(&self, ifindex: u32, family: Family) -> bool {
        let best = self.routes.keys().filter(|(f, _, _, _)| *f == family).map(|(_, _, _, m)| *m).min();
        best.is_some_and(|best| self.routes.keys().any(|(f, i, _, m)| *f == family && *i == ifindex && *m == best))
    }

    /// The draft's order: No Address for every address that went (of every PvD), No
    /// Configuration Element for every element that went, No PvD for every PvD that
    /// went, then No Interface; then Interface, PvD, Configuration Element and Address
    /// announcements for what is new or changed.
    fn announce_diff(
        &mut self,
        ifindex: u32,
        old: Option<&LinkView>,
        new: Option<&LinkView>,
        now: Instant,
        out: &mut Vec<Announcement>,
    ) {
        let pvd_info = |view: &LinkView, pvd: &PvdView, family: Family| PvdInfo {
            id: pvd.id,
            ifindex,
            ifname: view.name.clone(),
            family,
            name: pvd.name.clone(),
        };

        // Removals.
        if let Some(old_view) = old {
            let mut gone_pvds = Vec::new();
            for family in Family::ALL {
                let Some(old_pvd) = &old_view.pvds[family.index()] else { continue };
                let new_pvd = new.and_then(|n| n.pvds[family.index()].as_ref()).filter(|p| p.id == old_pvd.id);
                if self.subs.addresses.contains(&old_pvd.id) {
                    for (key, state) in &old_pvd.addrs {
                        if new_pvd.is_none_or(|p| !p.addrs.contains_key(key)) {
                            out.push(Announcement::NoAddress { pvd: pvd_info(old_view, old_pvd, family), addr: state.info(key, now) });
                        }
                    }
                }
                if new_pvd.is_none() {
                    gone_pvds.push((family, old_pvd));
                }
            }
            for family in Family::ALL {
                let Some(old_pvd) = &old_view.pvds[family.index()] else { continue };
                let new_pvd = new.and_then(|n| n.pvds[family.index()].as_ref()).filter(|p| p.id == old_pvd.id);
                if self.subs.elements.contains(&old_pvd.id) {
                    for (ident, e) in &old_pvd.elements {
                        if new_pvd.is_none_or(|p| !p.elements.contains_key(ident)) {
                            out.push(Announcement::NoElement { pvd: pvd_info(old_view, old_pvd, family), element: e.info(ident, now) });
                        }
                    }
                }
            }
            for (family, old_pvd) in gone_pvds {
                // Subscriptions to a PvD's addresses and elements end with the PvD.
                self.subs.addresses.remove(&old_pvd.id);
                self.subs.elements.remove(&old_pvd.id);
                if self.subs.pvds.contains(&ifindex) {
                    out.push(Announcement::NoPvd(pvd_info(old_view, old_pvd, family)));
                }
            }
            if new.is_none() {
                // PvD subscriptions of a vanished interface end by themselves (3.2.7.5).
                self.subs.pvds.remove(&ifindex);
                if self.subs.interfaces {
                    out.push(Announcement::NoInterface { ifindex, name: old_view.name.clone(), flags: old_view.flags });
                }
            }
        }

        // Additions and updates.
        let Some(new_view) = new else { return };
        let renamed = old.is_some_and(|o| o.name != new_view.name);
        if (old.is_none() || renamed) && self.subs.interfaces {
            out.push(Announcement::Interface { ifindex, name: new_view.name.clone(), flags: new_view.flags });
        }
        for family in Family::ALL {
            let Some(new_pvd) = &new_view.pvds[family.index()] else { continue };
            let old_pvd = old.and_then(|o| o.pvds[family.index()].as_ref()).filter(|p| p.id == new_pvd.id);
            // A renamed interface renames its PvDs: announced again, as an update.
            let renamed_pvd = old_pvd.is_some_and(|p| p.name != new_pvd.name);
            if (old_pvd.is_none() || renamed_pvd) && self.subs.pvds.contains(&ifindex) {
                out.push(Announcement::Pvd(pvd_info(new_view, new_pvd, family)));
            }
        }
        for family in Family::ALL {
            let Some(new_pvd) = &new_view.pvds[family.index()] else { continue };
            let old_pvd = old.and_then(|o| o.pvds[family.index()].as_ref()).filter(|p| p.id == new_pvd.id);
            if self.subs.elements.contains(&new_pvd.id) {
                for (ident, e) in &new_pvd.elements {
                    let unchanged = old_pvd
                        .and_then(|p| p.elements.get(ident))
                        .is_some_and(|o| o.data == e.data && deadlines_close(o.until, e.until, now));
                    if !unchanged {
                        out.push(Announcement::Element { pvd: pvd_info(new_view, new_pvd, family), element: e.info(ident, now) });
                    }
                }
            }
        }
        for family in Family::ALL {
            let Some(new_pvd) = &new_view.pvds[family.index()] else { continue };
            let old_pvd = old.and_then(|o| o.pvds[family.index()].as_ref()).filter(|p| p.id == new_pvd.id);
            if self.subs.addresses.contains(&new_pvd.id) {
                for (key, state) in &new_pvd.addrs {
                    let unchanged = old_pvd.and_then(|p| p.addrs.get(key)).is_some_and(|s| s.same_as(state, now));
                    if !unchanged {
                        out.push(Announcement::Address { pvd: pvd_info(new_view, new_pvd, family), addr: state.info(key, now) });
                    }
                }
            }
        }
    }

    // ---- Requests (draft 3.2.7.1 – 3.2.7.16) ----

    /// Announce Interfaces: every known interface now, then changes.
    pub fn announce_interfaces(&mut self, out: &mut Vec<Announcement>) {
        self.subs.interfaces = true;
        for (ifindex, view) in &self.views {
            out.push(Announcement::Interface { ifindex: *ifindex, name: view.name.clone(), flags: view.flags });
        }
    }

    pub fn stop_announcing_interfaces(&mut self) -> Result<(), RequestError> {
        if !std::mem::replace(&mut self.subs.interfaces, false) {
            return Err(RequestError::NotSubscribed);
        }
        Ok(())
    }

    /// Announce Provisioning Domains of one interface.
    pub fn announce_pvds(&mut self, ifindex: u32, out: &mut Vec<Announcement>) -> Result<(), RequestError> {
        let view = self.views.get(&ifindex).ok_or(RequestError::UnknownInterface)?;
        self.subs.pvds.insert(ifindex);
        for family in Family::ALL {
            if let Some(pvd) = &view.pvds[family.index()] {
                out.push(Announcement::Pvd(PvdInfo {
                    id: pvd.id,
                    ifindex,
                    ifname: view.name.clone(),
                    family,
                    name: pvd.name.clone(),
                }));
            }
        }
        Ok(())
    }

    pub fn stop_announcing_pvds(&mut self, ifindex: u32) -> Result<(), RequestError> {
        if !self.views.contains_key(&ifindex) {
            return Err(RequestError::UnknownInterface);
        }
        if !self.subs.pvds.remove(&ifindex) {
            return Err(RequestError::NotSubscribed);
        }
        Ok(())
    }

    /// Announce Address for one PvD.
    pub fn announce_addresses(&mut self, pvd: u64, now: Instant, out: &mut Vec<Announcement>) -> Result<(), RequestError> {
        let (info, pvd_view) = self.find_pvd(pvd).ok_or(RequestError::UnknownPvd)?;
        for (key, state) in &pvd_view.addrs {
            out.push(Announcement::Address { pvd: info.clone(), addr: state.info(key, now) });
        }
        self.subs.addresses.insert(pvd);
        Ok(())
    }

    pub fn stop_announcing_addresses(&mut self, pvd: u64) -> Result<(), RequestError> {
        self.stop_pvd_subscription(pvd, |s| &mut s.addresses)
    }

    /// Announce Configuration Element for one PvD (3.2.7.9).
    pub fn announce_elements(&mut self, pvd: u64, now: Instant, out: &mut Vec<Announcement>) -> Result<(), RequestError> {
        let (info, pvd_view) = self.find_pvd(pvd).ok_or(RequestError::UnknownPvd)?;
        for (ident, e) in &pvd_view.elements {
            out.push(Announcement::Element { pvd: info.clone(), element: e.info(ident, now) });
        }
        self.subs.elements.insert(pvd);
        Ok(())
    }

    /// Stop Announce Configuration Element (3.2.7.12).
    pub fn stop_announcing_elements(&mut self, pvd: u64) -> Result<(), RequestError> {
        self.stop_pvd_subscription(pvd, |s| &mut s.elements)
    }

    /// Get Configuration Data (3.2.7.17): merges the PvD's elements of `kind` (all when
    /// `None`) and answers with the lists `info` asks for, or No Configuration Data.
    /// With `kind == None`, default routers also come from the kernel's default routes
    /// and the MTU from the interface, so that what the host uses is always listed.
    pub fn get_configuration_data(
        &self,
        pvd: u64,
        kind: Option<ElementKind>,
        info: InfoId,
        out: &mut Vec<Announcement>,
    ) -> Result<(), RequestError> {
        let (pvd_info, pvd_view) = self.find_pvd(pvd).ok_or(RequestError::UnknownPvd)?;
        let (ifindex, family) = (pvd_info.ifindex, pvd_info.family);
        let mut data = ConfigData::default();
        for (ident, e) in &pvd_view.elements {
            if kind.is_none_or(|k| k == ident.kind) {
                data.merge(&e.data);
            }
        }
        if kind.is_none() {
            for (f, i, gw, _) in self.routes.keys() {
                if *f == family && *i == ifindex {
                    if let Some(gw) = gw {
                        if !data.routers.contains(gw) {
                            data.routers.push(*gw);
                        }
                    }
                }
            }
            if data.mtu.is_none() {
                data.mtu = self.links.get(&ifindex).and_then(|l| l.mtu);
            }
        }
        let selected = match info {
            InfoId::All => data,
            InfoId::DnsServers => ConfigData { dns_servers: data.dns_servers, ..ConfigData::default() },
            InfoId::SearchDomains => ConfigData { search_domains: data.search_domains, ..ConfigData::default() },
            InfoId::Routers => ConfigData { routers: data.routers, ..ConfigData::default() },
            InfoId::Mtu => ConfigData { mtu: data.mtu, ..ConfigData::default() },
        };
        if selected.is_empty() {
            out.push(Announcement::NoConfigData { pvd: pvd_info, kind, info });
        } else {
            out.push(Announcement::ConfigData { pvd: pvd_info, kind, info, data: selected });
        }
        Ok(())
    }

    /// What name translation and connections need of a PvD: its link, its usable
    /// addresses and its DNS servers and search domains (every element's, merged in
    /// element order).
    pub fn pvd_link(&self, pvd: u64) -> Option<PvdLink> {
        let (info, pvd_view) = self.find_pvd(pvd)?;
        let mut data = ConfigData::default();
        for e in pvd_view.elements.values() {
            data.merge(&e.data);
        }
        Some(PvdLink {
            info,
            addrs: pvd_view.addrs.iter().map(|(k, s)| (k.0, k.1, s.flags)).collect(),
            dns_servers: data.dns_servers,
            search_domains: data.search_domains,
        })
    }

    /// Whether `fact` may have made the kernel drop IPv4 default routes silently: a
    /// link holding one changed its up/running state or lost an IPv4 address (the
    /// kernel sends no RTM_DELROUTE then). Call before applying the fact.
    pub fn may_drop_ipv4_routes(&self, fact: &Fact) -> bool {
        let holds = |ifindex: u32| self.routes.keys().any(|(f, i, _, _)| *f == Family::V4 && *i == ifindex);
        match fact {
            Fact::Link(l) => {
                let changed = self.links.get(&l.ifindex).is_none_or(|old| (old.flags.up, old.flags.running) != (l.flags.up, l.flags.running));
                changed && holds(l.ifindex)
            }
            Fact::AddrRemoved { ifindex, addr, .. } => addr.is_ipv4() && holds(*ifindex),
            _ => false,
        }
    }

    /// Whether a PvD is present now.
    pub fn has_pvd(&self, pvd: u64) -> bool {
        self.find_pvd(pvd).is_some()
    }

    /// A present PvD: its public description and its view.
    fn find_pvd(&self, pvd: u64) -> Option<(PvdInfo, &PvdView)> {
        self.views.iter().find_map(|(ifindex, view)| {
            Family::ALL.into_iter().find_map(|family| {
                view.pvds[family.index()].as_ref().filter(|p| p.id == pvd).map(|p| {
                    (PvdInfo { id: pvd, ifindex: *ifindex, ifname: view.name.clone(), family, name: p.name.clone() }, p)
                })
            })
        })
    }

    /// Ends a subscription to one PvD's addresses or elements.
    fn stop_pvd_subscription(&mut self, pvd: u64, set: fn(&mut Subscriptions) -> &mut BTreeSet<u64>) -> Result<(), RequestError> {
        if self.find_pvd(pvd).is_none() {
            return Err(RequestError::UnknownPvd);
        }
        if !set(&mut self.subs).remove(&pvd) {
            return Err(RequestError::NotSubscribed);
        }
        Ok(())
    }

    // ---- Read access for tests and other features ----

    /// Every (ifindex, address, prefix) currently mirrored, for comparisons with the kernel.
    pub fn mirrored_addresses(&self) -> Vec<(u32, IpAddr, u8)> {
        self.addrs.iter().flat_map(|(i, m)| m.keys().map(move |k| (*i, k.0, k.1))).collect()
    }

    /// Interfaces that are up and running, not loopback, with an IPv6 address: where a
    /// Router Solicitation makes sense.
    pub fn ipv6_links(&self) -> Vec<u32> {
        self.links
            .iter()
            .filter(|(i, l)| {
                l.flags.up && l.flags.running && !l.flags.loopback && self.addrs.get(i).is_some_and(|m| m.keys().any(|k| k.0.is_ipv6()))
            })
            .map(|(i, _)| *i)
            .collect()
    }

}

#[cfg(test)]
mod tests;
