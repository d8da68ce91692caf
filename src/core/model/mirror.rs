//! The mirror of kernel and file truth: facts in, the mirror updated, the interfaces
//! they touch refreshed; expiry of what carries a lifetime; re-reading after an overrun.

use super::*;
use crate::log::log_at;

/// At most this many routers' RA options are kept per link, ...
pub const MAX_RA_ROUTERS_PER_LINK: usize = 16;
/// ... this many RDNSS servers per router ...
pub const MAX_RA_SERVERS_PER_ROUTER: usize = 32;
/// ... and this many DNSSL domains per router (the limits of a state file). More are
/// ignored with a log line (docs/configuration.md).
pub const MAX_RA_DOMAINS_PER_ROUTER: usize = 64;
/// At most this many routes to prefixes are kept (a router holding a full Internet
/// table has a million): more are ignored with a log line, and a resolv.conf server
/// reached only through one of those goes to the default route's holder.
pub const MAX_PREFIX_ROUTES: usize = 4096;

impl HostModel {
    /// Applies facts in order and appends the announcements they imply. A run of
    /// facts from files (a scan of a state directory: one per file) updates the mirror
    /// first and refreshes the interfaces once at its end, so that reading N files
    /// costs N, not N times N: a file's elements may concern any interface, and a
    /// refresh merges every file's elements. Kernel facts are applied one by one, so
    /// that every state the kernel reported is announced.
    pub fn apply_all(&mut self, facts: impl IntoIterator<Item = Fact>, now: Instant, out: &mut Vec<Announcement>) {
        let mut files_pending = false;
        for fact in facts {
            match fact {
                Fact::Sourced { origin, elements } => self.set_sourced(origin, elements, now),
                Fact::System { origin, data } => self.system = data.map(|d| (origin, d)),
                kernel => {
                    if std::mem::take(&mut files_pending) {
                        self.refresh_all(now, out);
                    }
                    self.apply(kernel, now, out);
                    continue;
                }
            }
            files_pending = true;
        }
        if files_pending {
            self.refresh_all(now, out);
        }
    }

    fn set_sourced(&mut self, origin: String, elements: Vec<SourcedElement>, now: Instant) {
        if elements.is_empty() {
            self.sourced.remove(&origin);
        } else {
            let timed = elements.into_iter().map(|e| {
                let until = deadline_after(now, e.lifetime);
                (e, until)
            });
            self.sourced.insert(origin, timed.collect());
        }
    }

    fn refresh_all(&mut self, now: Instant, out: &mut Vec<Announcement>) {
        let links: Vec<u32> = self.links.keys().copied().collect();
        self.refresh_many(links, now, out);
        self.settle_learning(now, out);
    }

    /// Applies one fact and appends the announcements it implies.
    pub fn apply(&mut self, fact: Fact, now: Instant, out: &mut Vec<Announcement>) {
        // A link coming, going or changing state moves the resolv.conf servers it
        // reached (on-link or by a route) to another interface's PvD, or back.
        let placed_before = matches!(fact, Fact::Link(_) | Fact::LinkRemoved { .. })
            .then(|| self.system.is_some().then(|| self.system_placement()))
            .flatten();
        let mut touched: Vec<u32> = match fact {
            Fact::Link(link) => {
                let ifindex = link.ifindex;
                let usable = |f: &LinkFlags| f.up && f.running;
                let came_up = usable(&link.flags) && self.links.get(&ifindex).is_none_or(|old| !usable(&old.flags));
                self.links.insert(ifindex, Link { name: link.name, flags: link.flags, mtu: link.mtu });
                if came_up {
                    // Routers and DHCP servers answer a link that just came up.
                    self.learn(ifindex, Family::V4, now);
                    self.learn(ifindex, Family::V6, now);
                }
                // Elements from files may name the interface: all its views may change.
                vec![ifindex]
            }
            Fact::LinkRemoved { ifindex } => {
                self.links.remove(&ifindex);
                self.addrs.remove(&ifindex);
                self.ra.retain(|(i, _), _| *i != ifindex);
                self.routes.retain(|(_, i, _, _), _| *i != ifindex);
                self.prefix_routes.retain(|p| p.ifindex != ifindex);
                vec![ifindex]
            }
            Fact::Addr(a) => {
                if !self.links.contains_key(&a.ifindex) {
                    // The kernel announces a link before its addresses; an address for
                    // an unknown link belongs to one already deleted.
                    return;
                }
                let state = AddrState::from_fact(&a, now);
                let new = self.addrs.entry(a.ifindex).or_default().insert((a.addr, a.prefix_len), state).is_none();
                // A new subnet may hold a resolv.conf server: its System element may move here.
                let touched = if new { self.interfaces_if_system_server_in(&a.addr, a.prefix_len) } else { vec![] };
                if touched.is_empty() {
                    self.refresh_address(a.ifindex, (a.addr, a.prefix_len), now, out);
                    self.settle_learning(now, out);
                    return;
                }
                touched
            }
            Fact::AddrRemoved { ifindex, addr, prefix_len } => {
                if let Some(map) = self.addrs.get_mut(&ifindex) {
                    map.remove(&(addr, prefix_len));
                }
                let touched = self.interfaces_if_system_server_in(&addr, prefix_len);
                if touched.is_empty() {
                    self.refresh_address(ifindex, (addr, prefix_len), now, out);
                    self.settle_learning(now, out);
                    return;
                }
                touched
            }
            Fact::Ra { ifindex, router, option } => {
                if !self.links.contains_key(&ifindex) {
                    return;
                }
                self.apply_ra(ifindex, router, option, now);
                self.heard_router(ifindex, now);
                vec![ifindex]
            }
            Fact::Route(r) => {
                if r.from_ra && r.family == Family::V6 {
                    self.heard_router(r.ifindex, now);
                }
                // The default route decides where the System element goes: any interface may change.
                // An event sets the route anew: its lifetime is the router lifetime.
                self.routes.insert(
                    (r.family, r.ifindex, r.gateway, r.metric),
                    (r.from_ra, deadline_after(now, r.lifetime), r.lifetime),
                );
                self.links.keys().copied().collect()
            }
            Fact::RouteRemoved(r) => {
                self.routes.remove(&(r.family, r.ifindex, r.gateway, r.metric));
                self.links.keys().copied().collect()
            }
            Fact::PrefixRoute(p) => {
                if !self.links.contains_key(&p.ifindex) || !self.add_prefix_route(p) {
                    return;
                }
                self.interfaces_if_system_server_in(&p.destination, p.prefix_len)
            }
            Fact::PrefixRouteRemoved(p) => {
                if !self.prefix_routes.remove(&p) {
                    return;
                }
                self.interfaces_if_system_server_in(&p.destination, p.prefix_len)
            }
            Fact::Routes { family, routes, prefixes } => {
                self.prefix_routes.retain(|p| Family::of(&p.destination) != family);
                self.add_prefix_routes(prefixes);
                let before: BTreeMap<RouteKey, (bool, Option<Instant>, LifetimeSecs)> =
                    self.routes.iter().filter(|((f, _, _, _), _)| *f == family).map(|(k, v)| (*k, *v)).collect();
                self.routes.retain(|(f, _, _, _), _| *f != family);
                for r in routes {
                    let key = (r.family, r.ifindex, r.gateway, r.metric);
                    let entry = route_entry(before.get(&key), &r, now);
                    self.routes.insert(key, entry);
                }
                self.links.keys().copied().collect()
            }
            Fact::Sourced { origin, elements } => {
                self.set_sourced(origin, elements, now);
                self.links.keys().copied().collect()
            }
            Fact::System { origin, data } => {
                self.system = data.map(|d| (origin, d));
                self.links.keys().copied().collect()
            }
        };
        if let Some(before) = placed_before {
            if before != self.system_placement() {
                touched = self.links.keys().copied().chain(touched).collect();
                touched.sort_unstable();
                touched.dedup();
            }
        }
        self.refresh_many(touched, now, out);
        self.settle_learning(now, out);
    }

    /// Refreshes these interfaces. Where resolv.conf's servers belong and which
    /// interfaces hold the default routes depend on every interface, so they are
    /// worked out once for the pass (`system_placement`), not once per PvD: that was
    /// quadratic in the interfaces and addresses (601 interfaces: 22% of `mif_open`).
    pub(super) fn refresh_many(
        &mut self,
        ifindices: impl IntoIterator<Item = u32>,
        now: Instant,
        out: &mut Vec<Announcement>,
    ) {
        let mut ifindices = ifindices.into_iter().peekable();
        if ifindices.peek().is_none() {
            return;
        }
        self.placement = Some(self.system_placement());
        for ifindex in ifindices {
            self.refresh(ifindex, now, out);
        }
        self.placement = None;
    }

    /// Keeps a route to a prefix unless `MAX_PREFIX_ROUTES` are kept already; whether
    /// the model changed.
    fn add_prefix_route(&mut self, p: PrefixRouteFact) -> bool {
        if self.prefix_routes.len() >= MAX_PREFIX_ROUTES && !self.prefix_routes.contains(&p) {
            log_at!(
                Debug,
                "route {}/{} ignored: {MAX_PREFIX_ROUTES} prefix routes kept already",
                p.destination,
                p.prefix_len
            );
            return false;
        }
        self.prefix_routes.insert(p)
    }

    /// Keeps the routes of a dump, logging once how many were over the limit.
    fn add_prefix_routes(&mut self, prefixes: Vec<PrefixRouteFact>) {
        let mut ignored = 0usize;
        for p in prefixes {
            if self.prefix_routes.len() < MAX_PREFIX_ROUTES || self.prefix_routes.contains(&p) {
                self.prefix_routes.insert(p);
            } else {
                ignored += 1;
            }
        }
        if ignored > 0 {
            log_at!(Warn, "{ignored} prefix routes ignored: {MAX_PREFIX_ROUTES} kept already (docs/limits.md)");
        }
    }

    /// A route to a prefix, or a subnet, matters to other interfaces only through the
    /// servers of /etc/resolv.conf it holds: every interface when it holds one (their
    /// System elements may move), else none.
    fn interfaces_if_system_server_in(&self, net: &IpAddr, prefix_len: u8) -> Vec<u32> {
        let holds = self.system.as_ref().is_some_and(|(_, data)| {
            data.dns_servers.iter().any(|s| Family::of(s) == Family::of(net) && pvd::in_subnet(s, net, prefix_len))
        });
        if holds {
            self.links.keys().copied().collect()
        } else {
            Vec::new()
        }
    }

    pub(super) fn apply_ra(
        &mut self,
        ifindex: u32,
        router: Option<std::net::Ipv6Addr>,
        option: RaOption,
        now: Instant,
    ) {
        // A hostile router (or many) must not grow the model without bound: every
        // lookup merges these lists under the model lock.
        let known = self.ra.contains_key(&(ifindex, router));
        if !known && self.ra.keys().filter(|(i, _)| *i == ifindex).count() >= MAX_RA_ROUTERS_PER_LINK {
            log_at!(Warn, "ifindex {ifindex}: RA from {router:?} ignored: {MAX_RA_ROUTERS_PER_LINK} routers already");
            return;
        }
        let state = self.ra.entry((ifindex, router)).or_default();
        // RFC 8106: 0xffffffff is infinity, 0 withdraws the listed entries at once.
        let until = |lifetime: u32| {
            if lifetime == u32::MAX {
                None
            } else {
                Some(now + Duration::from_secs(u64::from(lifetime)))
            }
        };
        match option {
            RaOption::Rdnss { lifetime, servers } => {
                for server in servers {
                    if lifetime == 0 {
                        state.servers.remove(&server);
                    } else if state.servers.len() < MAX_RA_SERVERS_PER_ROUTER || state.servers.contains_key(&server) {
                        state.servers.insert(server, until(lifetime));
                    } else {
                        log_at!(
                            Debug,
                            "ifindex {ifindex}: RDNSS {server} ignored: {MAX_RA_SERVERS_PER_ROUTER} servers already"
                        );
                    }
                }
            }
            RaOption::Dnssl { lifetime, domains } => {
                for domain in domains {
                    let domain = domain.to_ascii_lowercase();
                    if lifetime == 0 {
                        state.domains.remove(&domain);
                    } else if state.domains.len() < MAX_RA_DOMAINS_PER_ROUTER || state.domains.contains_key(&domain) {
                        state.domains.insert(domain, until(lifetime));
                    } else {
                        log_at!(
                            Debug,
                            "ifindex {ifindex}: DNSSL {domain} ignored: {MAX_RA_DOMAINS_PER_ROUTER} domains already"
                        );
                    }
                }
            }
            RaOption::CaptivePortal { uri } => state.captive_portal = Some(uri),
            RaOption::Pref64 { prefix, prefix_len, lifetime } => {
                state.pref64 =
                    (lifetime > 0).then(|| (prefix, prefix_len, now + Duration::from_secs(u64::from(lifetime))));
            }
            RaOption::Other { .. } => {}
        }
        if state.is_empty() {
            self.ra.remove(&(ifindex, router));
        }
    }

    /// The earliest moment at which something expires by itself (an RA DNS entry, a
    /// lease, a learning period): the engine sleeps until then, and no longer when
    /// nothing can expire.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let ra = self.ra.values().flat_map(|s| s.servers.values().chain(s.domains.values())).flatten().copied();
        let sourced = self.sourced.values().flatten().filter_map(|(_, until)| *until);
        let pref64 = self.ra.values().filter_map(|s| s.pref64.map(|(_, _, until)| until));
        ra.chain(sourced)
            .chain(pref64)
            .chain(self.learning_deadline())
            .chain(self.next_going_away_horizon(now))
            .chain(self.next_watch_horizon(now))
            .chain(self.next_router_recheck(now))
            .min()
    }

    /// Drops what expired by `now` and announces the consequences.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<Announcement>) {
        let alive = |d: &Option<Instant>| d.is_none_or(|d| d > now);
        for state in self.ra.values_mut() {
            state.servers.retain(|_, d| alive(d));
            state.domains.retain(|_, d| alive(d));
        }
        for state in self.ra.values_mut() {
            if state.pref64.is_some_and(|(_, _, until)| until <= now) {
                state.pref64 = None;
            }
        }
        self.ra.retain(|_, s| !s.is_empty());
        for elements in self.sourced.values_mut() {
            elements.retain(|(_, d)| alive(d));
        }
        self.sourced.retain(|_, e| !e.is_empty());
        let all: Vec<u32> = self.views.keys().copied().collect();
        self.refresh_many(all, now, out);
        self.settle_learning(now, out);
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
            self.routes.insert(
                (r.family, r.ifindex, r.gateway, r.metric),
                (r.from_ra, deadline_after(now, r.lifetime), r.lifetime),
            );
        }
        self.prefix_routes.clear();
        self.add_prefix_routes(snapshot.prefix_routes);
        let links = &self.links;
        self.ra.retain(|(i, _), _| links.contains_key(i));
        self.routes.retain(|(_, i, _, _), _| links.contains_key(i));
        self.prefix_routes.retain(|p| links.contains_key(&p.ifindex));
        self.refresh_many(touched, now, out);
        self.settle_learning(now, out);
    }

    /// Whether `fact` may have made the kernel drop IPv4 default routes silently: a
    /// link holding one changed its up/running state or lost an IPv4 address (the
    /// kernel sends no RTM_DELROUTE then). Call before applying the fact.
    pub fn may_drop_ipv4_routes(&self, fact: &Fact) -> bool {
        // Default routes, and routes to prefixes (where resolv.conf's servers are reached).
        let holds = |ifindex: u32| {
            self.routes.keys().any(|(f, i, _, _)| *f == Family::V4 && *i == ifindex)
                || self.prefix_routes.iter().any(|p| p.ifindex == ifindex && p.destination.is_ipv4())
        };
        match fact {
            Fact::Link(l) => {
                let changed = self
                    .links
                    .get(&l.ifindex)
                    .is_none_or(|old| (old.flags.up, old.flags.running) != (l.flags.up, l.flags.running));
                changed && holds(l.ifindex)
            }
            Fact::AddrRemoved { ifindex, addr, .. } => addr.is_ipv4() && holds(*ifindex),
            _ => false,
        }
    }

    /// Every (ifindex, address, prefix) currently mirrored, for comparisons with the kernel.
    #[cfg(test)]
    pub fn mirrored_addresses(&self) -> Vec<(u32, IpAddr, u8)> {
        self.addrs.iter().flat_map(|(i, m)| m.keys().map(move |k| (*i, k.0, k.1))).collect()
    }

    /// Interfaces that are not operational (draft 3.2.7.26.1): not loopback, and down,
    /// or up without any PvD; with their names.
    pub fn not_operational(&self) -> Vec<(u32, String)> {
        self.links
            .iter()
            .filter(|(i, l)| !l.flags.loopback && self.views.get(i).is_none_or(|v| v.pvds.iter().all(Option::is_none)))
            .map(|(i, l)| (*i, l.name.clone()))
            .collect()
    }

    /// The name of interface `ifindex`.
    pub fn interface_name(&self, ifindex: u32) -> Option<String> {
        self.links.get(&ifindex).map(|l| l.name.clone())
    }

    /// Whether `addr` is one of interface `ifindex`'s own addresses (any scope).
    pub fn is_own_address(&self, ifindex: u32, addr: IpAddr) -> bool {
        self.addrs.get(&ifindex).is_some_and(|a| a.keys().any(|(k, _)| *k == addr))
    }

    /// Interfaces that are up and running, not loopback, with an IPv6 address: where a
    /// Router Solicitation makes sense.
    pub fn ipv6_links(&self) -> Vec<u32> {
        self.links
            .iter()
            .filter(|(i, l)| {
                l.flags.up
                    && l.flags.running
                    && !l.flags.loopback
                    && self.addrs.get(i).is_some_and(|m| m.keys().any(|k| k.0.is_ipv6()))
            })
            .map(|(i, _)| *i)
            .collect()
    }
}

/// A default route read again (a dump) as the model keeps it: from an RA, its end, and
/// its router lifetime. A re-read reports what is *left* of the lifetime: the lifetime last set stays unless
/// the end moved later (a new RA set it again), so that the warning window
/// (`HostModel::compute_view`, a third of the lifetime) does not shrink with each read.
fn route_entry(
    old: Option<&(bool, Option<Instant>, LifetimeSecs)>,
    r: &RouteFact,
    now: Instant,
) -> (bool, Option<Instant>, LifetimeSecs) {
    let until = deadline_after(now, r.lifetime);
    let span = match (old, until) {
        (Some((_, Some(old_until), old_span)), Some(new_until))
            if new_until <= *old_until + std::time::Duration::from_millis(1500) =>
        {
            old_span.or(r.lifetime)
        }
        _ => r.lifetime,
    };
    (r.from_ra, until, span)
}
