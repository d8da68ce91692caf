//! PvD derivation: which implicit PvDs an interface has, their ids, their
//! configuration elements, and what name translation and connections see of a PvD.

use super::*;
use crate::core::link::is_link_local;

/// How often the routes are read again while a router-lifetime warning holds.
const ROUTER_RECHECK: Duration = Duration::from_secs(1);

impl HostModel {
    pub(super) fn compute_view(&mut self, ifindex: u32, now: Instant) -> Option<LinkView> {
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
                let keys = &mut self.pvd_keys;
                let id = *self.pvd_ids.entry((ifindex, family)).or_insert_with(|| {
                    let id = *next;
                    *next += 1;
                    keys.insert(id, (ifindex, family));
                    id
                });
                let name = format!("{}/{}", link.name, family.suffix());
                let summary = self.pvd_summary(ifindex, &link.name, family, &addrs, now);
                let mut pvd = PvdView {
                    id,
                    name,
                    addrs,
                    elements: BTreeMap::new(),
                    last_valid: None,
                    router_warn_at: None,
                    going_away: None,
                    ra_routed: false,
                    routed: false,
                };
                summary.set(&mut pvd);
                pvds[family.index()] = Some(pvd);
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
        let configuring = self.sourced.values().flatten().any(|(e, _)| {
            e.configuring
                && match &e.link {
                    LinkRef::Index(i) => *i == ifindex,
                    LinkRef::Name(n) => *n == name,
                }
        });
        Some(LinkView { name, flags, pvds, carrier_warned: false, going_up: None, configuring })
    }

    /// What a PvD's addresses and its interface's routes say of its end: the parts of
    /// its view that are not its addresses and elements (`compute_view`, and the
    /// one-address refresh, `patched_view`).
    pub(super) fn pvd_summary(
        &self,
        ifindex: u32,
        ifname: &str,
        family: Family,
        addrs: &BTreeMap<AddrKey, AddrState>,
        now: Instant,
    ) -> PvdSummary {
        let last_valid = last_valid_of(addrs);
        let by_address = last_valid.and_then(|last| going_away_of(addrs, last, now, self.going_away_horizon));
        let routes_here = || self.routes.iter().filter(|((f, i, _, _), _)| *f == family && *i == ifindex);
        let ra_routed = routes_here().any(|(_, (from_ra, _, _))| *from_ra);
        let routed = routes_here().next().is_some();
        // Every default route from an RA, each with a router lifetime: the PvD
        // reaches beyond its link until the last of them ends.
        let last_router = routed
            .then(|| {
                routes_here()
                    .map(|(_, (from_ra, until, span))| until.zip(*span).filter(|_| *from_ra))
                    .collect::<Option<Vec<_>>>()
            })
            .flatten()
            .and_then(|ends| ends.into_iter().max_by_key(|(end, _)| *end));
        // A live router re-advertises well within its router lifetime (radvd
        // every third of it at most): warned within the horizon, but never
        // before two thirds of its lifetime went by without a new RA.
        let router_warn_at = last_router.map(|(end, span)| {
            let window = self.going_away_horizon.min(Duration::from_secs(u64::from(span) / 3));
            end.checked_sub(window).unwrap_or(now)
        });
        let by_router = last_router
            .zip(router_warn_at)
            .filter(|(_, at)| *at <= now)
            .map(|((end, _), _)| (end, GoingAwayReason::RouterLifetimeEnding));
        // Every address leased by DHCP: the lease is what ends (`lease_ending`).
        let by_address = match by_address {
            None | Some((_, GoingAwayReason::LifetimeEnding)) => {
                self.lease_ending(ifindex, ifname, family, addrs, now).or(by_address)
            }
            deprecated => deprecated,
        };
        // The earlier end wins.
        let going_away = match (by_address, by_router) {
            (Some(a), Some(r)) => Some(if r.0 < a.0 { r } else { a }),
            (a, r) => a.or(r),
        };
        PvdSummary { last_valid, router_warn_at, going_away, ra_routed, routed }
    }

    /// The configuration elements of the PvD (ifindex, family), from every source.
    pub(super) fn elements_of(
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
            for ((f, i, gw, _), (from_ra, _, _)) in &self.routes {
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
                    if let Some(uri) = &state.captive_portal {
                        data.captive_portal = Some(uri.clone());
                    }
                    if let Some((prefix, len, d)) = state.pref64.filter(|(_, _, d)| *d > now) {
                        data.pref64 = Some((prefix, len));
                        extend(Some(d));
                    }
                }
                if let Some(r) = router {
                    let gw = Some(IpAddr::V6(r));
                    let route = self
                        .routes
                        .iter()
                        .find(|((f, i, g, _), (ra, _, _))| *f == Family::V6 && *i == ifindex && *g == gw && *ra);
                    if let Some((_, (_, route_until, _))) = route {
                        data.routers.push(IpAddr::V6(r));
                        // The kernel removes the route when the router lifetime ends.
                        extend(*route_until);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let ident = ElementIdent {
                    kind: ElementKind::Ra,
                    origin: RA_ORIGIN.to_string(),
                    server: router.map(IpAddr::V6),
                };
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
                if !matches_link || !family_ok {
                    continue;
                }
                // A lease lives as long as the address it gave (see `lease_address`).
                let until = match e.lease_address {
                    None => *until,
                    Some(lease) => {
                        match self.addrs.get(&ifindex).and_then(|a| a.iter().find(|((a, _), _)| *a == lease)) {
                            Some((_, state)) => state.valid_until,
                            None => continue,
                        }
                    }
                };
                if !alive(&until) {
                    continue;
                }
                let mut data = e.data.for_family(family);
                if e.besides_heard_ra {
                    self.leave_out_heard_ra(ifindex, &mut data);
                }
                if data.is_empty() {
                    continue;
                }
                let ident = ElementIdent { kind: e.kind, origin: origin.clone(), server: e.server };
                match out.get_mut(&ident) {
                    Some((d, _)) => ConfigData::merge(d, &data),
                    None => {
                        out.insert(ident, (data, until));
                    }
                }
            }
        }
        if let Some((origin, data)) = &self.system {
            let computed;
            let placement = match &self.placement {
                Some(p) => p,
                None => {
                    computed = self.system_placement();
                    &computed
                }
            };
            let holds_default = placement.default_holders[family.index()].contains(&ifindex);
            let mut data = data.for_family(family);
            // Each server goes where it is reached (`system_server_place`).
            data.dns_servers.retain(|s| match placement.place_of(s) {
                ServerPlace::OnLink(i) | ServerPlace::Routed(i) => i == ifindex,
                ServerPlace::DefaultRoute => holds_default,
                ServerPlace::Nowhere => false,
            });
            if !holds_default {
                data = ConfigData { dns_servers: data.dns_servers, ..ConfigData::default() };
            }
            if !data.is_empty() {
                out.insert(
                    ElementIdent { kind: ElementKind::System, origin: origin.clone(), server: None },
                    (data, None),
                );
            }
        }
        out
    }

    /// Leaves out of a link manager's learned servers and domains those an RA heard on
    /// the link lists (`SourcedElement::besides_heard_ra`).
    fn leave_out_heard_ra(&self, ifindex: u32, data: &mut ConfigData) {
        let heard = || self.ra.iter().filter(move |((i, _), _)| *i == ifindex).map(|(_, state)| state);
        data.dns_servers.retain(|s| match s {
            IpAddr::V6(s) => !heard().any(|state| state.servers.contains_key(s)),
            IpAddr::V4(_) => true,
        });
        data.search_domains.retain(|d| !heard().any(|state| state.domains.contains_key(d)));
    }

    /// Where a server of /etc/resolv.conf (the System element) belongs: to the PvD of
    /// the interface that reaches it by a more specific way than the default route: the
    /// subnet of one of its addresses (on-link) or a route to a prefix holding it; the
    /// longest prefix wins, on-link before a route of the same length, then the lowest
    /// metric. Only when no interface reaches it so, to the PvDs holding the default
    /// route of its family (lowest metric), as every server did before. A loopback server (a local stub such as
    /// systemd-resolved's 127.0.0.53 or a local dnsmasq) belongs to no PvD: it cannot
    /// be reached over any link, and the stub's own per-link state
    /// (systemd-resolved's, read as its own source) names the real servers.
    pub(super) fn system_server_place(&self, server: &IpAddr) -> ServerPlace {
        if server.is_loopback() || server.is_unspecified() {
            return ServerPlace::Nowhere;
        }
        let family = Family::of(server);
        let usable = |ifindex: &u32| self.links.get(ifindex).is_some_and(|l| l.flags.up && l.flags.running);
        let on_link = self
            .addrs
            .iter()
            .filter(|(ifindex, _)| usable(ifindex))
            .flat_map(|(ifindex, addrs)| addrs.keys().map(move |(a, len)| (*ifindex, *a, *len)))
            .filter(|(_, a, len)| Family::of(a) == family && !is_link_local(a) && in_subnet(server, a, *len))
            .max_by_key(|(_, _, len)| *len);
        // Only a link with a PvD of the family can hold the server (a device route on a
        // link without such an address leaves it to the next candidate).
        let has_pvd = |ifindex: &u32| {
            self.addrs.get(ifindex).is_some_and(|a| {
                a.iter()
                    .any(|((ip, _), s)| Family::of(ip) == family && !matches!(s.scope, Scope::Link | Scope::Other(_)))
            })
        };
        let routed = self
            .prefix_routes
            .iter()
            .filter(|p| Family::of(&p.destination) == family && !is_link_local(&p.destination))
            .filter(|p| in_subnet(server, &p.destination, p.prefix_len))
            // The link's state last: only routes that hold the server get that far.
            .filter(|p| usable(&p.ifindex) && has_pvd(&p.ifindex))
            // Longest prefix, then lowest metric (`min_by_key` keeps the first of equals).
            .min_by_key(|p| (std::cmp::Reverse(p.prefix_len), p.metric));
        match (on_link, routed) {
            (Some((_, _, len)), Some(p)) if p.prefix_len > len => ServerPlace::Routed(p.ifindex),
            (Some((ifindex, _, _)), _) => ServerPlace::OnLink(ifindex),
            (None, Some(p)) => ServerPlace::Routed(p.ifindex),
            (None, None) => ServerPlace::DefaultRoute,
        }
    }

    /// When a PvD's last valid lifetime comes within the going-away horizon (the
    /// engine wakes then to announce it): the earliest such moment still ahead.
    pub(super) fn next_going_away_horizon(&self, now: Instant) -> Option<Instant> {
        let horizon = self.going_away_horizon;
        self.views
            .values()
            .flat_map(|v| v.pvds.iter().flatten())
            .filter(|p| p.going_away.is_none())
            .flat_map(|p| [p.last_valid.and_then(|end| end.checked_sub(horizon)), p.router_warn_at])
            .flatten()
            .filter(|at| *at > now)
            .min()
    }

    /// A PvD whose every address a DHCP client leased (a DHCPv4 or DHCPv6 element of its
    /// family names it as its lease's address), when the last lease ends within the
    /// horizon: the end of each lease is the earlier of the lease file's lifetime and the
    /// address's valid lifetime (networkd gives the address the lease's lifetime; a
    /// client may leave it infinite and say so only in its lease file).
    fn lease_ending(
        &self,
        ifindex: u32,
        ifname: &str,
        family: Family,
        addrs: &BTreeMap<AddrKey, AddrState>,
        now: Instant,
    ) -> Option<(Instant, GoingAwayReason)> {
        let kind = match family {
            Family::V4 => ElementKind::Dhcpv4,
            Family::V6 => ElementKind::Dhcpv6,
        };
        let leases: Vec<(IpAddr, Option<Instant>)> = self
            .sourced
            .values()
            .flatten()
            .filter(|(e, _)| {
                e.kind == kind
                    && match &e.link {
                        LinkRef::Index(i) => *i == ifindex,
                        LinkRef::Name(n) => n == ifname,
                    }
            })
            .filter_map(|(e, until)| Some((e.lease_address?, *until)))
            .collect();
        if leases.is_empty() {
            return None;
        }
        let mut last: Option<Instant> = None;
        for ((addr, _), state) in addrs {
            let lease = leases.iter().filter(|(a, _)| a == addr).map(|(_, until)| *until).next()?;
            let end = match (lease, state.valid_until) {
                (Some(l), Some(v)) => l.min(v),
                (l, v) => l.or(v)?,
            };
            last = last.max(Some(end));
        }
        let last = last?;
        (last.saturating_duration_since(now) <= self.going_away_horizon).then_some((last, GoingAwayReason::LeaseEnding))
    }

    /// Whether a PvD is within its router-lifetime warning window (`router_warn_at`
    /// passed): the engine reads the routes again before judging it, since the kernel
    /// refreshes their lifetimes without telling; a warning is withdrawn only so.
    pub fn router_warning_due(&self, now: Instant) -> bool {
        self.views.values().flat_map(|v| v.pvds.iter().flatten()).any(|p| p.router_warn_at.is_some_and(|at| at <= now))
    }

    /// While a router-lifetime warning holds, the engine looks at the routes again every
    /// `ROUTER_RECHECK`: a router that came back refreshes the kernel's route silently,
    /// and its return cancels the warning only when seen.
    pub(super) fn next_router_recheck(&self, now: Instant) -> Option<Instant> {
        let warned = self
            .views
            .values()
            .flat_map(|v| v.pvds.iter().flatten())
            .any(|p| p.going_away.is_some_and(|(_, r)| r == GoingAwayReason::RouterLifetimeEnding));
        warned.then(|| now + ROUTER_RECHECK)
    }

    /// How far ahead of the end of a PvD's last valid address lifetime it is
    /// announced going away (`DEFAULT_GOING_AWAY_HORIZON`).
    pub fn set_going_away_horizon(&mut self, horizon: Duration) {
        self.going_away_horizon = horizon;
    }

    /// Where each System server belongs and which interfaces hold each family's default
    /// route (the lowest metric), for one pass over the interfaces (`refresh_many`).
    pub(super) fn system_placement(&self) -> SystemPlacement {
        #[cfg(test)]
        self.placements.set(self.placements.get() + 1);
        // Used only for the System element: nothing to work out without one.
        let Some((_, data)) = &self.system else { return SystemPlacement::default() };
        let servers = data.dns_servers.iter().map(|s| (*s, self.system_server_place(s))).collect();
        let mut default_holders = [BTreeSet::new(), BTreeSet::new()];
        for family in Family::ALL {
            let best = self.routes.keys().filter(|(f, _, _, _)| *f == family).map(|(_, _, _, m)| *m).min();
            if let Some(best) = best {
                default_holders[family.index()] = self
                    .routes
                    .keys()
                    .filter(|(f, _, _, m)| *f == family && *m == best)
                    .map(|(_, i, _, _)| *i)
                    .collect();
            }
        }
        SystemPlacement { servers, default_holders }
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

    /// The networks Connect to Name races (docs/connect-by-name.md): for implicit PvDs a
    /// network is an interface with at least one PvD. Ordered as the host routes: the
    /// interfaces holding the lowest-metric default route first (IPv6 before IPv4 at
    /// equal metric), those without a default route last, then by index.
    pub fn networks(&self) -> Vec<Network> {
        let mut out: Vec<Network> = self
            .views
            .iter()
            .filter(|(_, v)| v.pvds.iter().any(Option::is_some))
            .map(|(ifindex, view)| {
                let metric = self
                    .routes
                    .keys()
                    .filter(|(_, i, _, _)| i == ifindex)
                    .map(|(f, _, _, m)| (*m, u8::from(*f == Family::V4)))
                    .min();
                Network {
                    ifindex: *ifindex,
                    ifname: view.name.clone(),
                    pvds: [view.pvds[0].as_ref().map(|p| p.id), view.pvds[1].as_ref().map(|p| p.id)],
                    loopback: view.flags.loopback,
                    order: metric,
                }
            })
            .collect();
        out.sort_by_key(|n| (n.order.is_none(), n.order, n.ifindex));
        out
    }

    /// Whether an interface is present now.
    pub fn has_interface(&self, ifindex: u32) -> bool {
        self.views.contains_key(&ifindex)
    }

    /// Whether an interface is present with at least one PvD (a network, `networks`).
    pub fn has_network(&self, ifindex: u32) -> bool {
        self.views.get(&ifindex).is_some_and(|v| v.pvds.iter().any(Option::is_some))
    }

    /// Whether a PvD is present now.
    pub fn has_pvd(&self, pvd: u64) -> bool {
        self.find_pvd(pvd).is_some()
    }

    /// A present PvD: its public description and its view.
    pub(super) fn find_pvd(&self, pvd: u64) -> Option<(PvdInfo, &PvdView)> {
        let (ifindex, family) = *self.pvd_keys.get(&pvd)?;
        let view = self.views.get(&ifindex)?;
        view.pvds[family.index()].as_ref().filter(|p| p.id == pvd).map(|p| (view.pvd_info(ifindex, family, p), p))
    }
}

/// The end of the longest valid lifetime of these addresses, if every one is finite
/// (an address valid for ever keeps the PvD: no end in sight).
fn last_valid_of(addrs: &BTreeMap<AddrKey, AddrState>) -> Option<Instant> {
    addrs.values().map(|s| s.valid_until).collect::<Option<Vec<_>>>()?.into_iter().max()
}

/// When a PvD with these addresses, all valid until `last` at the longest, is expected
/// gone, and why: every one is deprecated (its preferred lifetime over: the kernel's
/// flag, or the deadline passed), or `last` is within `horizon`. Tentative addresses
/// count as they are (DAD ends soon).
fn going_away_of(
    addrs: &BTreeMap<AddrKey, AddrState>,
    last: Instant,
    now: Instant,
    horizon: Duration,
) -> Option<(Instant, GoingAwayReason)> {
    let all_deprecated = addrs.values().all(|s| s.flags.deprecated || s.preferred_until.is_some_and(|p| p <= now));
    if all_deprecated {
        Some((last, GoingAwayReason::AddressesDeprecated))
    } else if last.saturating_duration_since(now) <= horizon {
        Some((last, GoingAwayReason::LifetimeEnding))
    } else {
        None
    }
}

/// Whether `addr` lies in the subnet `net`/`len`.
pub(super) fn in_subnet(addr: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            u32::from(*a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
            u128::from(*a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}

/// `HostModel::system_placement`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct SystemPlacement {
    servers: Vec<(IpAddr, ServerPlace)>,
    /// Per family (`Family::index`), the interfaces holding the best default route.
    default_holders: [BTreeSet<u32>; 2],
}

impl SystemPlacement {
    fn place_of(&self, server: &IpAddr) -> ServerPlace {
        self.servers.iter().find(|(s, _)| s == server).map_or(ServerPlace::Nowhere, |(_, p)| *p)
    }
}

/// Where a server of /etc/resolv.conf belongs (`HostModel::system_server_place`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ServerPlace {
    OnLink(u32),
    /// Reached through a route to a prefix (not the default) on this interface.
    Routed(u32),
    DefaultRoute,
    Nowhere,
}

/// `HostModel::pvd_summary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PvdSummary {
    last_valid: Option<Instant>,
    router_warn_at: Option<Instant>,
    going_away: Option<(Instant, GoingAwayReason)>,
    ra_routed: bool,
    routed: bool,
}

impl PvdSummary {
    pub(super) fn set(self, pvd: &mut PvdView) {
        pvd.last_valid = self.last_valid;
        pvd.router_warn_at = self.router_warn_at;
        pvd.going_away = self.going_away;
        pvd.ra_routed = self.ra_routed;
        pvd.routed = self.routed;
    }
}
