//! One subscriber's subscriptions and the draft's announcement order: what a
//! subscriber was told, the difference to announce, and the requests (3.2.7.1–3.2.7.17).

use super::*;

impl HostModel {
    /// Recomputes what subscribers should see of one interface and announces the difference.
    pub(super) fn refresh(&mut self, ifindex: u32, now: Instant, out: &mut Vec<Announcement>) {
        #[cfg(test)]
        {
            self.refreshes += 1;
        }
        let mut new = self.compute_view(ifindex, now);
        let completed = self.settle_configured(ifindex, new.as_ref());
        let old = self.views.remove(&ifindex);
        self.finish_refresh(ifindex, old, new.take(), None, completed, now, out);
    }

    /// Refreshes interface `ifindex` after one of its addresses (`key`) changed or went,
    /// touching that address only: the view's other addresses are the same, so the
    /// work does not grow with their number (an interface may carry thousands). The
    /// PvD's end is worked out again over its addresses (`pvd_summary`: a scan, no
    /// copies). Falls back to `refresh` where the address may change more than itself:
    /// the PvD appearing or going, an element living by it (a lease), a connection
    /// watched on the interface. (Where resolv.conf's servers belong is the caller's:
    /// `mirror.rs` refreshes every interface when the address's subnet holds one.)
    pub(super) fn refresh_address(&mut self, ifindex: u32, key: AddrKey, now: Instant, out: &mut Vec<Announcement>) {
        match self.patched_view(ifindex, key, now) {
            Some((old, new)) => {
                #[cfg(test)]
                {
                    self.refreshes += 1;
                    self.patched += 1;
                    self.check_patched(ifindex, &old, &new, key, now);
                }
                self.finish_refresh(ifindex, Some(old), Some(new), Some(key), Vec::new(), now, out);
            }
            None => self.refresh(ifindex, now, out),
        }
    }

    /// The old view (its addresses cut down to `key`'s) and the new one, or `None`
    /// where the one-address refresh does not apply.
    fn patched_view(&mut self, ifindex: u32, key: AddrKey, now: Instant) -> Option<(LinkView, LinkView)> {
        let family = Family::of(&key.0);
        let link = self.links.get(&ifindex)?;
        let view = self.views.get(&ifindex)?;
        let pvd = view.pvds[family.index()].as_ref()?;
        if !(link.flags.up && link.flags.running) || view.flags != link.flags || view.name != link.name {
            return None;
        }
        let new_state = self
            .addrs
            .get(&ifindex)
            .and_then(|a| a.get(&key))
            .filter(|s| !matches!(s.scope, Scope::Link | Scope::Other(_)));
        // The PvD's last address going: the PvD goes.
        if new_state.is_none() && pvd.addrs.len() == 1 && pvd.addrs.contains_key(&key) {
            return None;
        }
        let watched = self.watches.values().chain(self.follows.values()).any(|w| w.on(ifindex));
        let leased = self.sourced.values().flatten().any(|(e, _)| e.lease_address == Some(key.0));
        // A learning period that a refresh would settle (none, normally: elements do not change here).
        if watched || leased || self.learning_of(ifindex, family) {
            return None;
        }
        let new_state = new_state.cloned();
        let mut old = view.clone_without_pvds();
        for (slot, p) in old.pvds.iter_mut().zip(&view.pvds) {
            *slot = p.as_ref().map(|p| p.clone_without_addrs());
        }
        if let (Some(old_pvd), Some(state)) = (old.pvds[family.index()].as_mut(), pvd.addrs.get(&key)) {
            old_pvd.addrs.insert(key, state.clone());
        }
        let mut new = self.views.remove(&ifindex)?;
        let Some(new_pvd) = new.pvds[family.index()].as_mut() else {
            self.views.insert(ifindex, new);
            return None;
        };
        match new_state {
            Some(state) => new_pvd.addrs.insert(key, state),
            None => new_pvd.addrs.remove(&key),
        };
        let summary = self.pvd_summary(ifindex, &new.name, family, &new_pvd.addrs, now);
        summary.set(new_pvd);
        Some((old, new))
    }

    /// Tests only: the one-address refresh gives the view a whole refresh would.
    #[cfg(test)]
    fn check_patched(&mut self, ifindex: u32, old: &LinkView, new: &LinkView, key: AddrKey, now: Instant) {
        let full = self.compute_view(ifindex, now).expect("the interface has a view");
        for (family, (p, f)) in Family::ALL.into_iter().zip(new.pvds.iter().zip(&full.pvds)) {
            assert_eq!(p.is_some(), f.is_some(), "{family:?} PvD after {key:?}");
            let (Some(p), Some(f)) = (p, f) else { continue };
            assert_eq!(p.addrs, f.addrs, "{family:?} addresses after {key:?}");
            let summary = |v: &PvdView| (v.id, v.last_valid, v.router_warn_at, v.going_away, v.ra_routed, v.routed);
            assert_eq!(summary(p), summary(f), "{family:?} summary after {key:?}");
            let elements =
                |v: &PvdView| v.elements.iter().map(|(k, e)| (k.clone(), e.data.clone())).collect::<Vec<_>>();
            assert_eq!(elements(p), elements(f), "{family:?} elements after {key:?}");
        }
        let old_keys: Vec<&AddrKey> = old.pvds.iter().flatten().flat_map(|p| p.addrs.keys()).collect();
        assert!(old_keys.iter().all(|k| **k == key), "the old view keeps only {key:?}: {old_keys:?}");
    }

    /// The second half of a refresh: the warnings carried over, the watches judged,
    /// the differences announced (`only_addr`: the one address that may differ), the
    /// new view kept.
    #[allow(clippy::too_many_arguments)]
    fn finish_refresh(
        &mut self,
        ifindex: u32,
        old: Option<LinkView>,
        mut new: Option<LinkView>,
        only_addr: Option<AddrKey>,
        completed: Vec<Family>,
        now: Instant,
        out: &mut Vec<Announcement>,
    ) {
        if let Some(n) = new.as_mut() {
            let warned = old.as_ref().is_some_and(|o| o.carrier_warned || carrier_lost(o, n) && self.subs.interfaces);
            n.carrier_warned = warned && n.flags.up && !n.flags.running;
            n.going_up = going_up_of(old.as_ref(), n);
            router_withdrawn(old.as_ref(), n, now);
        }
        self.judge_watches(ifindex, old.as_ref(), new.as_ref(), now, out);
        self.announce_diff(ifindex, old.as_ref(), new.as_ref(), only_addr, now, out);
        if let Some(view) = new.as_ref().filter(|_| self.subs.pvds.contains(&ifindex)) {
            for family in completed {
                if let Some(pvd) = &view.pvds[family.index()] {
                    out.push(Announcement::PvdConfigComplete(view.pvd_info(ifindex, family, pvd)));
                }
            }
        }
        match new {
            Some(view) => {
                self.views.insert(ifindex, view);
            }
            None => {
                self.pvd_ids.retain(|(i, _), _| *i != ifindex);
                self.pvd_keys.retain(|_, (i, _)| *i != ifindex);
                self.element_ids.retain(|(i, _, _), _| *i != ifindex);
            }
        }
    }

    /// The draft's order: No Address for every address that went (of every PvD), No
    /// Configuration Element for every element that went, No PvD for every PvD that
    /// went, then No Interface; then Interface, PvD, Configuration Element and Address
    /// announcements for what is new or changed.
    pub(super) fn announce_diff(
        &mut self,
        ifindex: u32,
        old: Option<&LinkView>,
        new: Option<&LinkView>,
        only_addr: Option<AddrKey>,
        now: Instant,
        out: &mut Vec<Announcement>,
    ) {
        let pvd_info = |view: &LinkView, pvd: &PvdView, family: Family| view.pvd_info(ifindex, family, pvd);

        // Removals.
        if let Some(old_view) = old {
            // Carrier lost while administratively up: the interface's PvDs go now. The
            // warning comes first (3.2.7.26.4), then what it warned of.
            if new.is_some_and(|n| carrier_lost(old_view, n)) && self.subs.interfaces {
                out.push(Announcement::GoingAway {
                    ifindex,
                    ifname: old_view.name.clone(),
                    pvd: None,
                    deadline_ms: 0,
                    reason: GoingAwayReason::CarrierLost,
                });
            }
            let mut gone_pvds = Vec::new();
            for family in Family::ALL {
                let Some(old_pvd) = &old_view.pvds[family.index()] else { continue };
                let new_pvd = new.and_then(|n| n.pvds[family.index()].as_ref()).filter(|p| p.id == old_pvd.id);
                if self.subs.addresses.contains(&old_pvd.id) {
                    for (key, state) in only(&old_pvd.addrs, only_addr) {
                        if new_pvd.is_none_or(|p| !p.addrs.contains_key(key)) {
                            out.push(Announcement::NoAddress {
                                pvd: pvd_info(old_view, old_pvd, family),
                                addr: state.info(key, now),
                            });
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
                            out.push(Announcement::NoElement {
                                pvd: pvd_info(old_view, old_pvd, family),
                                element: e.info(ident, now),
                            });
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
        let carrier_back = old.is_some_and(|o| o.carrier_warned) && new_view.flags.up && new_view.flags.running;
        if carrier_back && self.subs.interfaces {
            out.push(Announcement::GoingAwayCancelled {
                ifindex,
                ifname: new_view.name.clone(),
                pvd: None,
                reason: GoingAwayReason::CarrierLost,
            });
        }
        if let Some(reason) = new_view.going_up.filter(|r| old.and_then(|o| o.going_up) != Some(*r)) {
            if self.subs.interfaces {
                out.push(Announcement::GoingUp { ifindex, ifname: new_view.name.clone(), reason });
            }
        }
        for family in Family::ALL {
            let Some(new_pvd) = &new_view.pvds[family.index()] else { continue };
            let old_pvd = old.and_then(|o| o.pvds[family.index()].as_ref()).filter(|p| p.id == new_pvd.id);
            // A renamed interface renames its PvDs: announced again, as an update.
            let renamed_pvd = old_pvd.is_some_and(|p| p.name != new_pvd.name);
            if (old_pvd.is_none() || renamed_pvd) && self.subs.pvds.contains(&ifindex) {
                let learning = self.learning_of(ifindex, family);
                out.push(Announcement::Pvd { pvd: pvd_info(new_view, new_pvd, family), learning });
            }
            // Every address deprecated: going away when the last valid lifetime ends;
            // announced again when that moves, cancelled when an address is preferred
            // again (an RA refreshed the prefix) or valid for ever.
            if self.subs.pvds.contains(&ifindex) {
                let before = old_pvd.and_then(|p| p.going_away);
                let info = || pvd_info(new_view, new_pvd, family);
                match (before, new_pvd.going_away) {
                    (before, Some((until, reason))) if warning_changed(before, until, reason, now) => {
                        out.push(going_away_of_pvd(ifindex, info(), until, reason, now));
                    }
                    (Some((_, reason)), None) if old_pvd.is_some() => out.push(Announcement::GoingAwayCancelled {
                        ifindex,
                        ifname: new_view.name.clone(),
                        pvd: Some(info()),
                        reason,
                    }),
                    _ => {}
                }
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
                        out.push(Announcement::Element {
                            pvd: pvd_info(new_view, new_pvd, family),
                            element: e.info(ident, now),
                        });
                    }
                }
            }
        }
        for family in Family::ALL {
            let Some(new_pvd) = &new_view.pvds[family.index()] else { continue };
            let old_pvd = old.and_then(|o| o.pvds[family.index()].as_ref()).filter(|p| p.id == new_pvd.id);
            if self.subs.addresses.contains(&new_pvd.id) {
                for (key, state) in only(&new_pvd.addrs, only_addr) {
                    let unchanged = old_pvd.and_then(|p| p.addrs.get(key)).is_some_and(|s| s.same_as(state, now));
                    if !unchanged {
                        out.push(Announcement::Address {
                            pvd: pvd_info(new_view, new_pvd, family),
                            addr: state.info(key, now),
                        });
                    }
                }
            }
        }
    }

    /// Announce Interfaces: every known interface now, then changes.
    pub fn announce_interfaces(&mut self, out: &mut Vec<Announcement>) {
        self.subs.interfaces = true;
        for (ifindex, view) in &self.views {
            out.push(Announcement::Interface { ifindex: *ifindex, name: view.name.clone(), flags: view.flags });
            if let Some(reason) = view.going_up {
                out.push(Announcement::GoingUp { ifindex: *ifindex, ifname: view.name.clone(), reason });
            }
        }
    }

    pub fn stop_announcing_interfaces(&mut self) -> Result<(), Error> {
        if !std::mem::replace(&mut self.subs.interfaces, false) {
            return Err(Error::NotSubscribed);
        }
        Ok(())
    }

    /// Announce Provisioning Domains of one interface (and those going away, 3.2.7.26.4).
    pub fn announce_pvds(&mut self, ifindex: u32, now: Instant, out: &mut Vec<Announcement>) -> Result<(), Error> {
        let view = self.views.get(&ifindex).ok_or(Error::UnknownInterface)?;
        self.subs.pvds.insert(ifindex);
        for family in Family::ALL {
            if let Some(pvd) = &view.pvds[family.index()] {
                let info = view.pvd_info(ifindex, family, pvd);
                out.push(Announcement::Pvd { pvd: info.clone(), learning: self.learning_of(ifindex, family) });
                if let Some((until, reason)) = pvd.going_away {
                    out.push(going_away_of_pvd(ifindex, info, until, reason, now));
                }
            }
        }
        Ok(())
    }

    pub fn stop_announcing_pvds(&mut self, ifindex: u32) -> Result<(), Error> {
        if !self.views.contains_key(&ifindex) {
            return Err(Error::UnknownInterface);
        }
        if !self.subs.pvds.remove(&ifindex) {
            return Err(Error::NotSubscribed);
        }
        Ok(())
    }

    /// Announce Address for one PvD.
    pub fn announce_addresses(&mut self, pvd: u64, now: Instant, out: &mut Vec<Announcement>) -> Result<(), Error> {
        let (info, pvd_view) = self.find_pvd(pvd).ok_or(Error::UnknownPvd)?;
        for (key, state) in &pvd_view.addrs {
            out.push(Announcement::Address { pvd: info.clone(), addr: state.info(key, now) });
        }
        self.subs.addresses.insert(pvd);
        Ok(())
    }

    pub fn stop_announcing_addresses(&mut self, pvd: u64) -> Result<(), Error> {
        self.stop_pvd_subscription(pvd, |s| &mut s.addresses)
    }

    /// After the application's queue overflowed: every active subscription's complete
    /// current state, as its first announcements were. Subscriptions whose interface or
    /// PvD is gone meanwhile stay as they are and announce nothing.
    pub fn reannounce(&mut self, now: Instant, out: &mut Vec<Announcement>) {
        if self.subs.interfaces {
            self.announce_interfaces(out);
        }
        for ifindex in self.subs.pvds.clone() {
            let _ = self.announce_pvds(ifindex, now, out);
        }
        // The draft's order, as in `announce_diff`: elements before addresses.
        for pvd in self.subs.elements.clone() {
            let _ = self.announce_elements(pvd, now, out);
        }
        for pvd in self.subs.addresses.clone() {
            let _ = self.announce_addresses(pvd, now, out);
        }
        self.reannounce_watches(now, out);
    }

    /// Announce Configuration Element for one PvD (3.2.7.9).
    pub fn announce_elements(&mut self, pvd: u64, now: Instant, out: &mut Vec<Announcement>) -> Result<(), Error> {
        let (info, pvd_view) = self.find_pvd(pvd).ok_or(Error::UnknownPvd)?;
        for (ident, e) in &pvd_view.elements {
            out.push(Announcement::Element { pvd: info.clone(), element: e.info(ident, now) });
        }
        self.subs.elements.insert(pvd);
        Ok(())
    }

    /// Stop Announce Configuration Element (3.2.7.12).
    pub fn stop_announcing_elements(&mut self, pvd: u64) -> Result<(), Error> {
        self.stop_pvd_subscription(pvd, |s| &mut s.elements)
    }

    /// Get Configuration Data (3.2.7.17): merges the PvD's elements of `kind` (all when
    /// `None`) and answers with the lists `info` asks for, or No Configuration Data; while
    /// the PvD is learning (`readiness.rs`), with what is known so far, marked as such.
    /// With `kind == None`, default routers also come from the kernel's default routes
    /// and the MTU from the interface, so that what the host uses is always listed.
    pub fn get_configuration_data(
        &self,
        pvd: u64,
        kind: Option<ElementKind>,
        info: InfoId,
        out: &mut Vec<Announcement>,
    ) -> Result<(), Error> {
        let (pvd_info, pvd_view) = self.find_pvd(pvd).ok_or(Error::UnknownPvd)?;
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
            InfoId::CaptivePortal => ConfigData { captive_portal: data.captive_portal, ..ConfigData::default() },
            InfoId::Pref64 => ConfigData { pref64: data.pref64, ..ConfigData::default() },
        };
        if self.learning_of(ifindex, family) {
            // Distinct from No Configuration Data: more may be on its way.
            out.push(Announcement::ConfigLearning { pvd: pvd_info, kind, info, data: selected });
        } else if selected.is_empty() {
            out.push(Announcement::NoConfigData { pvd: pvd_info, kind, info });
        } else {
            out.push(Announcement::ConfigData { pvd: pvd_info, kind, info, data: selected });
        }
        Ok(())
    }

    /// Ends a subscription to one PvD's addresses or elements.
    pub(super) fn stop_pvd_subscription(
        &mut self,
        pvd: u64,
        set: fn(&mut Subscriptions) -> &mut BTreeSet<u64>,
    ) -> Result<(), Error> {
        if self.find_pvd(pvd).is_none() {
            return Err(Error::UnknownPvd);
        }
        if !set(&mut self.subs).remove(&pvd) {
            return Err(Error::NotSubscribed);
        }
        Ok(())
    }
}

/// A PvD's going-away warning: gone at `until`.
fn going_away_of_pvd(
    ifindex: u32,
    pvd: PvdInfo,
    until: Instant,
    reason: GoingAwayReason,
    now: Instant,
) -> Announcement {
    let deadline_ms = until.saturating_duration_since(now).as_millis().min(u128::from(u64::MAX)) as u64;
    Announcement::GoingAway { ifindex, ifname: pvd.ifname.clone(), pvd: Some(pvd), deadline_ms, reason }
}

/// The link lost its carrier while administratively up (not: taken down).
pub(super) fn carrier_lost(old: &LinkView, new: &LinkView) -> bool {
    old.flags.up && old.flags.running && new.flags.up && !new.flags.running
}

/// Whether an interface is on its way up, and what it waits for (draft 3.2.7.26.5): up
/// without a PvD yet, having just come up (new, taken up, its carrier back) or been
/// going up already. A link that loses its carrier while up is going away instead, and
/// one that was up and usable and lost its last address is not "going up" again.
fn going_up_of(old: Option<&LinkView>, new: &LinkView) -> Option<GoingUpReason> {
    if !new.flags.up || new.pvds.iter().any(Option::is_some) {
        return None;
    }
    // A link manager that starts configuring an up link without a PvD brings it up too.
    let coming = match old {
        None => true,
        Some(o) => {
            !o.flags.up
                || o.going_up.is_some()
                || (!o.flags.running && new.flags.running)
                || (!o.configuring && new.configuring)
        }
    };
    if !coming {
        return None;
    }
    Some(if !new.flags.running {
        GoingUpReason::NoCarrier
    } else if new.configuring {
        GoingUpReason::Configuring
    } else {
        GoingUpReason::NoAddress
    })
}

/// A PvD whose last default route, one a Router Advertisement installed, went (router
/// lifetime 0, or run out) while its addresses stay: going away now
/// (`GoingAwayReason::RouterWithdrawn`), until a default route comes back. An
/// address-based warning takes precedence; a PvD that never had a router from an RA
/// (static, DHCPv4) is not warned about.
fn router_withdrawn(old: Option<&LinkView>, new: &mut LinkView, now: Instant) {
    for family in Family::ALL {
        let Some(p) = new.pvds[family.index()].as_mut() else { continue };
        if p.going_away.is_some() || p.routed {
            continue;
        }
        let before = old.and_then(|o| o.pvds[family.index()].as_ref()).filter(|o| o.id == p.id);
        let Some(before) = before else { continue };
        let was_withdrawn = before.going_away.filter(|(_, r)| *r == GoingAwayReason::RouterWithdrawn);
        if before.ra_routed || was_withdrawn.is_some() {
            p.going_away = Some((was_withdrawn.map_or(now, |(at, _)| at), GoingAwayReason::RouterWithdrawn));
        }
    }
}

/// A view's addresses, or only `key`'s when it is the one that may differ.
fn only(
    addrs: &BTreeMap<AddrKey, AddrState>,
    key: Option<AddrKey>,
) -> Box<dyn Iterator<Item = (&AddrKey, &AddrState)> + '_> {
    match key {
        Some(key) => Box::new(addrs.get_key_value(&key).into_iter()),
        None => Box::new(addrs.iter()),
    }
}
