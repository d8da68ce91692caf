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

mod announcement;
mod facts;
mod mirror;
mod pvd;
mod readiness;
mod subscriptions;
mod watches;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use announcement::{AddrInfo, Announcement, ElementInfo, GoingAwayReason, GoingUpReason, PvdInfo};
pub use facts::{
    AddrFact, AddrFlags, ConfigData, ElementKind, Fact, Family, InfoId, LifetimeSecs, LinkFact, LinkFlags, LinkRef,
    PrefixRouteFact, RaOption, RouteFact, Scope, Snapshot, SourcedElement,
};

pub use readiness::DEFAULT_LEARNING_WINDOW;
pub use watches::{ConnectionIntent, GoneReason, MAX_WATCHES};

/// How long before the end of a PvD's last valid address lifetime it is announced
/// going away when nothing refreshed it: long enough to move a session (a connection,
/// a TLS handshake and a resend take seconds), short enough that addresses an RA
/// refreshes every few minutes are never near it (docs/connectivity.md).
pub const DEFAULT_GOING_AWAY_HORIZON: Duration = Duration::from_secs(60);

pub use crate::core::error::Error;
pub use crate::core::link::{Network, PvdLink};

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

/// Whether a going-away warning that holds `(until, reason)` now differs from the one
/// given before: its deadline moved, or its reason changed. An address whose preferred
/// lifetime ends with its valid one (lifetime ending) is marked deprecated by the
/// kernel a moment before it goes: the same end, not news.
fn warning_changed(
    before: Option<(Instant, GoingAwayReason)>,
    until: Instant,
    reason: GoingAwayReason,
    now: Instant,
) -> bool {
    let Some((b, r)) = before else { return true };
    let same_end = matches!(
        (r, reason),
        (GoingAwayReason::LifetimeEnding | GoingAwayReason::LeaseEnding, GoingAwayReason::AddressesDeprecated)
            | (GoingAwayReason::RouterLifetimeEnding, GoingAwayReason::RouterWithdrawn)
    );
    !deadlines_close(Some(b), Some(until), now) || (r != reason && !same_end)
}

fn remaining(deadline: Option<Instant>, now: Instant) -> LifetimeSecs {
    deadline.map(|d| d.saturating_duration_since(now).as_secs().min(u64::from(u32::MAX - 1)) as u32)
}

/// The end of a lifetime the kernel reports in whole seconds, `phase_ms` into its
/// countdown (`AddrFact::lifetime_phase_ms`): the whole seconds alone would put the end
/// up to a second late.
fn exact_deadline(now: Instant, lifetime: LifetimeSecs, phase_ms: u32) -> Option<Instant> {
    let phase = Duration::from_millis(u64::from(phase_ms.min(999)));
    lifetime.map(|s| (now + Duration::from_secs(u64::from(s))).checked_sub(phase).unwrap_or(now))
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
    /// RFC 8910 captive portal URI: no lifetime of its own.
    captive_portal: Option<String>,
    /// RFC 8781 NAT64 prefix, its length, and when it expires.
    pref64: Option<(std::net::Ipv6Addr, u8, Instant)>,
}

impl RaState {
    fn is_empty(&self) -> bool {
        self.servers.is_empty() && self.domains.is_empty() && self.captive_portal.is_none() && self.pref64.is_none()
    }
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
            valid_until: exact_deadline(now, f.valid, f.lifetime_phase_ms),
            preferred_until: exact_deadline(now, f.preferred, f.lifetime_phase_ms),
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
    /// The end of the longest valid lifetime, when every address's is finite
    /// (`last_valid_of`): the engine wakes when it comes within the horizon.
    last_valid: Option<Instant>,
    /// When the PvD is to be warned of its routers' lifetimes ending, when every default
    /// route is from a Router Advertisement with a router lifetime (the engine wakes then).
    router_warn_at: Option<Instant>,
    /// When the PvD is expected gone, and why (`going_away_of`, `router_withdrawn`).
    going_away: Option<(Instant, GoingAwayReason)>,
    /// A default route of the PvD's family through its interface, learned from a
    /// Router Advertisement, exists (`router_withdrawn`).
    ra_routed: bool,
    /// Any default route of its family through its interface exists.
    routed: bool,
}

impl PvdView {
    /// A copy without its addresses (`patched_view`: the one that changed is added).
    fn clone_without_addrs(&self) -> PvdView {
        PvdView {
            id: self.id,
            name: self.name.clone(),
            addrs: BTreeMap::new(),
            elements: self.elements.clone(),
            last_valid: self.last_valid,
            router_warn_at: self.router_warn_at,
            going_away: self.going_away,
            ra_routed: self.ra_routed,
            routed: self.routed,
        }
    }
}

/// What subscribers may see of one interface.
#[derive(Clone, Debug)]
struct LinkView {
    name: String,
    flags: LinkFlags,
    pvds: [Option<PvdView>; 2],
    /// A carrier-lost warning was sent and the carrier has not come back (nor the
    /// interface gone down): its return is announced as the warning's cancellation.
    carrier_warned: bool,
    /// On its way up and what it waits for (`going_up_of`).
    going_up: Option<GoingUpReason>,
    /// Its link manager says it is configuring it (`SourcedElement::configuring`).
    configuring: bool,
}

impl LinkView {
    /// A copy with no PvDs (`patched_view` adds cut-down ones).
    fn clone_without_pvds(&self) -> LinkView {
        LinkView {
            name: self.name.clone(),
            flags: self.flags,
            pvds: [None, None],
            carrier_warned: self.carrier_warned,
            going_up: self.going_up,
            configuring: self.configuring,
        }
    }

    /// The public description of `pvd`, one of this interface's (`ifindex`) PvDs.
    fn pvd_info(&self, ifindex: u32, family: Family, pvd: &PvdView) -> PvdInfo {
        PvdInfo { id: pvd.id, ifindex, ifname: self.name.clone(), family, name: pvd.name.clone() }
    }
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
    /// The same, the other way round (`find_pvd`: requests name PvDs by id).
    pvd_keys: HashMap<u64, (u32, Family)>,
    next_pvd_id: u64,
    subs: Subscriptions,
    ra: BTreeMap<(u32, Option<std::net::Ipv6Addr>), RaState>,
    /// Default routes: installed from an RA, when they expire, and the lifetime they
    /// had when last set (an RA's router lifetime).
    routes: BTreeMap<RouteKey, (bool, Option<Instant>, LifetimeSecs)>,
    /// Routes to prefixes (main table), at most `MAX_PREFIX_ROUTES`: where resolv.conf's
    /// servers are reached when no subnet of a link holds them.
    prefix_routes: BTreeSet<PrefixRouteFact>,
    sourced: BTreeMap<String, Vec<(SourcedElement, Option<Instant>)>>,
    system: Option<(String, ConfigData)>,
    element_ids: HashMap<(u32, Family, ElementIdent), u64>,
    next_element_id: u64,
    /// (interface, family) whose configuration is being learned, until when
    /// (`readiness.rs`).
    learning: BTreeMap<(u32, Family), Instant>,
    learning_window: Duration,
    /// How far ahead of the end of a PvD's last valid lifetime it is announced going
    /// away (`set_going_away_horizon`).
    going_away_horizon: Duration,
    /// Watched connections by the application's connection id (`watches.rs`).
    watches: BTreeMap<u64, watches::Watch>,
    /// Connections the engine follows (Connect to Name's follow mode), judged alike.
    follows: BTreeMap<u64, watches::Watch>,
    /// What the followed connections heard, for the engine (`take_follow_events`).
    follow_events: Vec<Announcement>,
    /// While a pass refreshes several interfaces: the System element's placement,
    /// worked out once for the pass (`refresh_many`).
    placement: Option<pvd::SystemPlacement>,
    /// System placements worked out so far (`refresh_many`): the tests count them.
    #[cfg(test)]
    placements: std::cell::Cell<usize>,
    /// Interface refreshes so far: the tests count them (a refresh merges every file's
    /// elements, so their number decides whether a scan is linear).
    #[cfg(test)]
    refreshes: usize,
    /// Of those, one-address refreshes (`refresh_address`).
    #[cfg(test)]
    patched: usize,
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
            pvd_keys: HashMap::new(),
            next_pvd_id: 1,
            subs: Subscriptions::default(),
            ra: BTreeMap::new(),
            routes: BTreeMap::new(),
            prefix_routes: BTreeSet::new(),
            sourced: BTreeMap::new(),
            system: None,
            element_ids: HashMap::new(),
            next_element_id: 1,
            learning: BTreeMap::new(),
            learning_window: Duration::ZERO,
            placement: None,
            watches: BTreeMap::new(),
            follows: BTreeMap::new(),
            follow_events: Vec::new(),
            going_away_horizon: DEFAULT_GOING_AWAY_HORIZON,
            #[cfg(test)]
            refreshes: 0,
            #[cfg(test)]
            patched: 0,
            #[cfg(test)]
            placements: std::cell::Cell::new(0),
        }
    }
}

#[cfg(test)]
mod tests;
