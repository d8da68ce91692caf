//! Connection viability (our addition, docs/connectivity.md): connections the
//! application asked the library to watch, told by connection id when their path is
//! going away, when that no longer holds, and when it is gone; and the application's
//! intents about them (draft 3.2.7.26.2 Connection is idle, 3.2.7.26.3 Connection can
//! be broken), counted per interface.
//!
//! A connection's path is its local address on one interface: the PvD holding that
//! address. Its warning is the earlier of its own address's (deprecated with a finite
//! valid lifetime, or the valid lifetime ending within the horizon) and its PvD's
//! router withdrawal; a carrier loss warns with deadline 0. It is gone when the
//! address leaves the PvD (removed, or the PvD went with the carrier or the link) or
//! the interface vanishes; the watch ends then.

use super::*;
use crate::core::mptcp::Continuity;

/// Most connections one context watches at once: each is looked at on every change of
/// its interface, and each may leave one Gone message that is never dropped.
pub const MAX_WATCHES: usize = 4096;

/// What the application said of a watched connection (draft 3.2.7.26.2–3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionIntent {
    /// In use (the state a watch starts in).
    Active,
    /// 3.2.7.26.2: no data expected either way for now; the connection is kept.
    Idle,
    /// 3.2.7.26.3: it may be broken; the application re-establishes it if need be. The
    /// library stops warning about it (its Gone still comes).
    CanBeBroken,
}

/// Why a watched connection's path is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoneReason {
    /// Its local address was removed from the interface.
    AddressRemoved,
    /// The address is still on the interface, but its PvD went: the carrier was lost or
    /// the interface taken down.
    PvdLost,
    /// The interface vanished.
    InterfaceRemoved,
}

/// One watched connection.
#[derive(Clone, Debug)]
pub(super) struct Watch {
    ifindex: u32,
    local: IpAddr,
    family: Family,
    intent: ConnectionIntent,
    /// An MPTCP connection: its warnings say whether the kernel can carry it.
    mptcp: bool,
    /// The warning the application was last given (`None`: none holds).
    warned: Option<(Instant, GoingAwayReason)>,
}

impl Watch {
    /// Whether the watched connection's path is on interface `ifindex`.
    pub(super) fn on(&self, ifindex: u32) -> bool {
        self.ifindex == ifindex
    }
}

/// Per-interface counts of watched connections by intent (`HostModel::connection_states`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntentCounts {
    pub active: u32,
    pub idle: u32,
    pub breakable: u32,
}

impl IntentCounts {
    fn add(&mut self, intent: ConnectionIntent) {
        match intent {
            ConnectionIntent::Active => self.active += 1,
            ConnectionIntent::Idle => self.idle += 1,
            ConnectionIntent::CanBeBroken => self.breakable += 1,
        }
    }
}

impl HostModel {
    /// Starts watching connection `id` whose local address is `local`, bound to
    /// `bound_ifindex` if the socket was (else the interface holding the address). Its
    /// path's current warning, if any, is announced at once.
    pub fn watch_connection(
        &mut self,
        id: u64,
        local: IpAddr,
        bound_ifindex: Option<u32>,
        mptcp: bool,
        now: Instant,
        out: &mut Vec<Announcement>,
    ) -> Result<(), Error> {
        if self.watches.contains_key(&id) {
            return Err(Error::DuplicateId);
        }
        if self.watches.len() >= MAX_WATCHES {
            return Err(Error::LimitReached);
        }
        let family = Family::of(&local);
        let holds = |view: &LinkView| {
            view.pvds[family.index()].as_ref().is_some_and(|p| p.addrs.keys().any(|(a, _)| *a == local))
        };
        let ifindex = match bound_ifindex {
            Some(i) => Some(i).filter(|i| self.views.get(i).is_some_and(holds)),
            None => self.views.iter().find(|(_, v)| holds(v)).map(|(i, _)| *i),
        }
        .ok_or(Error::NoPath)?;
        let mut watch = Watch { ifindex, local, family, intent: ConnectionIntent::Active, mptcp, warned: None };
        let view = &self.views[&ifindex];
        if let Some(pvd) = &view.pvds[family.index()] {
            let warning = path_warning(pvd, local, now, self.going_away_horizon);
            if let Some((until, reason)) = warning {
                out.push(connection_going_away(id, view.pvd_info(ifindex, family, pvd), until, reason, mptcp, now));
            }
            watch.warned = warning;
        }
        self.watches.insert(id, watch);
        Ok(())
    }

    /// The addresses an MPTCP subflow may start from, with their interface: every
    /// address of a present PvD that is not going away, on a link that is not loopback,
    /// neither deprecated nor tentative (MPTCP endpoint management, `engine::endpoints`).
    pub fn usable_addresses(&self, now: Instant) -> Vec<(IpAddr, u32)> {
        let mut out = Vec::new();
        for (ifindex, view) in &self.views {
            if view.flags.loopback {
                continue;
            }
            for pvd in view.pvds.iter().flatten().filter(|p| p.going_away.is_none()) {
                for ((addr, _), s) in &pvd.addrs {
                    let deprecated = s.flags.deprecated || s.preferred_until.is_some_and(|p| p <= now);
                    if !deprecated && !s.flags.tentative && !s.flags.dadfailed {
                        out.push((*addr, *ifindex));
                    }
                }
            }
        }
        out
    }

    /// Interfaces that are going away: a carrier-lost warning stands, or one of their
    /// PvDs is going away (a followed connection is not moved onto them).
    pub fn going_away_interfaces(&self) -> Vec<u32> {
        self.views
            .iter()
            .filter(|(_, v)| v.carrier_warned || v.pvds.iter().flatten().any(|p| p.going_away.is_some()))
            .map(|(i, _)| *i)
            .collect()
    }

    /// The interface whose present PvD holds `addr`.
    pub fn interface_of_address(&self, addr: IpAddr) -> Option<u32> {
        let family = Family::of(&addr);
        self.views
            .iter()
            .find(|(_, v)| v.pvds[family.index()].as_ref().is_some_and(|p| p.addrs.keys().any(|(a, _)| *a == addr)))
            .map(|(i, _)| *i)
    }

    /// Stops watching connection `id`.
    pub fn unwatch_connection(&mut self, id: u64) -> Result<(), Error> {
        self.watches.remove(&id).map(|_| ()).ok_or(Error::UnknownConnection)
    }

    /// Records the application's intent for watched connection `id`.
    pub fn set_connection_intent(&mut self, id: u64, intent: ConnectionIntent) -> Result<(), Error> {
        let watch = self.watches.get_mut(&id).ok_or(Error::UnknownConnection)?;
        watch.intent = intent;
        Ok(())
    }

    /// Counts of watched connections by intent on `ifindex`, or with `None` on every
    /// interface that has one (in interface order) followed by the totals (ifindex 0).
    pub fn connection_states(&self, ifindex: Option<u32>, out: &mut Vec<Announcement>) -> Result<(), Error> {
        let name_of = |i: u32| self.views.get(&i).map(|v| v.name.clone());
        let mut per: BTreeMap<u32, IntentCounts> = BTreeMap::new();
        for w in self.watches.values() {
            per.entry(w.ifindex).or_default().add(w.intent);
        }
        match ifindex {
            Some(i) => {
                let ifname = name_of(i).ok_or(Error::UnknownInterface)?;
                let counts = per.remove(&i).unwrap_or_default();
                out.push(Announcement::ConnectionStates { ifindex: i, ifname, counts });
            }
            None => {
                let mut total = IntentCounts::default();
                for (i, counts) in per {
                    total.active += counts.active;
                    total.idle += counts.idle;
                    total.breakable += counts.breakable;
                    out.push(Announcement::ConnectionStates {
                        ifindex: i,
                        ifname: name_of(i).unwrap_or_default(),
                        counts,
                    });
                }
                out.push(Announcement::ConnectionStates { ifindex: 0, ifname: String::new(), counts: total });
            }
        }
        Ok(())
    }

    /// Interfaces whose every watched connection is idle or can be broken (and that
    /// have at least one): what an operator's idle hook is told.
    pub fn interfaces_only_idle(&self) -> Vec<u32> {
        let mut per: BTreeMap<u32, bool> = BTreeMap::new();
        for w in self.watches.values() {
            let quiet = w.intent != ConnectionIntent::Active;
            per.entry(w.ifindex).and_modify(|q| *q &= quiet).or_insert(quiet);
        }
        per.into_iter().filter(|(_, quiet)| *quiet).map(|(i, _)| i).collect()
    }

    /// After `ifindex` was recomputed (`refresh`): what each of its watched
    /// connections' applications must hear, before the announcements of the same
    /// change (a warning precedes what it warns of). `old` is what the interface was.
    /// The engine's own watches (`follow_connection`) are judged alike; what they hear
    /// waits in `follow_events`.
    pub(super) fn judge_watches(
        &mut self,
        ifindex: u32,
        old: Option<&LinkView>,
        new: Option<&LinkView>,
        now: Instant,
        out: &mut Vec<Announcement>,
    ) {
        let horizon = self.going_away_horizon;
        let addrs = self.addrs.get(&ifindex);
        let kernel_has = |local: IpAddr| addrs.is_some_and(|a| a.keys().any(|(k, _)| *k == local));
        if !self.watches.is_empty() {
            judge(&mut self.watches, ifindex, old, new, now, horizon, &kernel_has, out);
        }
        if !self.follows.is_empty() {
            judge(&mut self.follows, ifindex, old, new, now, horizon, &kernel_has, &mut self.follow_events);
        }
    }

    /// The engine follows connection `id` (Connect to Name's follow mode): its path is
    /// judged as a watched connection's, and what it hears goes to `take_follow_events`
    /// instead of the application. Replaces an earlier path of the same id. `NoPath`
    /// when the address is on no present PvD.
    pub fn follow_connection(&mut self, id: u64, local: IpAddr, ifindex: u32, now: Instant) -> Result<(), Error> {
        let family = Family::of(&local);
        let view = self.views.get(&ifindex).ok_or(Error::NoPath)?;
        let pvd = view.pvds[family.index()].as_ref().filter(|p| p.addrs.keys().any(|(a, _)| *a == local));
        let pvd = pvd.ok_or(Error::NoPath)?;
        let warned = path_warning(pvd, local, now, self.going_away_horizon);
        if let Some((until, reason)) = warned {
            let info = view.pvd_info(ifindex, family, pvd);
            self.follow_events.push(connection_going_away(id, info, until, reason, false, now));
        }
        let follow = Watch { ifindex, local, family, intent: ConnectionIntent::Active, mptcp: false, warned };
        self.follows.insert(id, follow);
        Ok(())
    }

    /// The engine stops following connection `id`.
    pub fn unfollow_connection(&mut self, id: u64) {
        self.follows.remove(&id);
    }

    /// What the followed connections heard since the last call (Connection Going Away
    /// and Gone, as the application would for a watch).
    pub fn take_follow_events(&mut self) -> Vec<Announcement> {
        std::mem::take(&mut self.follow_events)
    }

    /// After a queue overflow: every watched connection's state again, a warning for
    /// those going away, a cancellation (no warning holds) for the others.
    pub(super) fn reannounce_watches(&self, now: Instant, out: &mut Vec<Announcement>) {
        for (id, w) in &self.watches {
            if w.intent == ConnectionIntent::CanBeBroken {
                continue;
            }
            let Some(view) = self.views.get(&w.ifindex) else { continue };
            let Some(pvd) = &view.pvds[w.family.index()] else { continue };
            let info = view.pvd_info(w.ifindex, w.family, pvd);
            out.push(match w.warned {
                Some((until, reason)) => connection_going_away(*id, info, until, reason, w.mptcp, now),
                None => Announcement::ConnectionGoingAwayCancelled { connection_id: *id, pvd: info, reason: None },
            });
        }
    }

    /// When a watched connection's own address comes within the horizon of its valid
    /// lifetime's end: the engine wakes then (`next_deadline`).
    pub(super) fn next_watch_horizon(&self, now: Instant) -> Option<Instant> {
        self.watches
            .values()
            .chain(self.follows.values())
            .filter(|w| w.warned.is_none())
            .filter_map(|w| {
                let pvd = self.views.get(&w.ifindex)?.pvds[w.family.index()].as_ref()?;
                let state = pvd.addrs.iter().find(|((a, _), _)| *a == w.local)?.1;
                let soonest = [state.valid_until?.checked_sub(self.going_away_horizon)?, state.preferred_until?];
                soonest.into_iter().filter(|at| *at > now).min()
            })
            .min()
    }
}

/// Judges the watches of `ifindex` after it was recomputed (`judge_watches`).
#[allow(clippy::too_many_arguments)]
fn judge(
    watches: &mut BTreeMap<u64, Watch>,
    ifindex: u32,
    old: Option<&LinkView>,
    new: Option<&LinkView>,
    now: Instant,
    horizon: Duration,
    kernel_has: &dyn Fn(IpAddr) -> bool,
    out: &mut Vec<Announcement>,
) {
    let mut gone = Vec::new();
    for (id, w) in watches.iter_mut().filter(|(_, w)| w.ifindex == ifindex) {
        let old_pvd = old.and_then(|o| o.pvds[w.family.index()].as_ref());
        let old_info = |o: &LinkView, p: &PvdView| o.pvd_info(ifindex, w.family, p);
        let holding = new.and_then(|n| {
            n.pvds[w.family.index()].as_ref().filter(|p| p.addrs.keys().any(|(a, _)| *a == w.local)).map(|p| (n, p))
        });
        let Some((view, pvd)) = holding else {
            let reason = match new {
                None => GoneReason::InterfaceRemoved,
                Some(_) if kernel_has(w.local) => GoneReason::PvdLost,
                Some(_) => GoneReason::AddressRemoved,
            };
            let info = match (old, old_pvd) {
                (Some(o), Some(p)) => old_info(o, p),
                _ => PvdInfo { id: 0, ifindex, ifname: String::new(), family: w.family, name: String::new() },
            };
            // A carrier lost is warned of (deadline 0) before the path is gone.
            let carrier = old.zip(new).is_some_and(|(o, n)| super::subscriptions::carrier_lost(o, n));
            if carrier && w.intent != ConnectionIntent::CanBeBroken {
                out.push(connection_going_away(*id, info.clone(), now, GoingAwayReason::CarrierLost, w.mptcp, now));
            }
            let continuity = if w.mptcp { Continuity::Unknown } else { Continuity::NotMptcp };
            out.push(Announcement::ConnectionGone {
                connection_id: *id,
                local: w.local,
                pvd: info,
                reason,
                continuity,
            });
            gone.push(*id);
            continue;
        };
        let warning = path_warning(pvd, w.local, now, horizon);
        let info = || view.pvd_info(ifindex, w.family, pvd);
        let quiet = w.intent == ConnectionIntent::CanBeBroken;
        match (w.warned, warning) {
            (before, Some((until, reason))) if !quiet && warning_changed(before, until, reason, now) => {
                out.push(connection_going_away(*id, info(), until, reason, w.mptcp, now));
            }
            (Some((_, reason)), None) if !quiet => {
                out.push(Announcement::ConnectionGoingAwayCancelled {
                    connection_id: *id,
                    pvd: info(),
                    reason: Some(reason),
                });
            }
            _ => {}
        }
        w.warned = warning;
    }
    for id in gone {
        watches.remove(&id);
    }
}

/// The warning that holds for a connection from `local` over `pvd`: its own address
/// deprecated with a finite valid lifetime (gone when that ends), or ending within the
/// horizon; or the PvD's router withdrawn (deadline now). The earliest wins.
fn path_warning(pvd: &PvdView, local: IpAddr, now: Instant, horizon: Duration) -> Option<(Instant, GoingAwayReason)> {
    let own = pvd.addrs.iter().filter(|((a, _), _)| *a == local).find_map(|(_, s)| {
        let valid = s.valid_until?;
        let deprecated = s.flags.deprecated || s.preferred_until.is_some_and(|p| p <= now);
        if deprecated {
            Some((valid, GoingAwayReason::AddressesDeprecated))
        } else if valid.saturating_duration_since(now) <= horizon {
            Some((valid, GoingAwayReason::LifetimeEnding))
        } else {
            None
        }
    });
    let router = pvd
        .going_away
        .filter(|(_, r)| matches!(r, GoingAwayReason::RouterWithdrawn | GoingAwayReason::RouterLifetimeEnding));
    match (own, router) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn connection_going_away(
    connection_id: u64,
    pvd: PvdInfo,
    until: Instant,
    reason: GoingAwayReason,
    mptcp: bool,
    now: Instant,
) -> Announcement {
    let deadline_ms = until.saturating_duration_since(now).as_millis().min(u128::from(u64::MAX)) as u64;
    // Whether the kernel carries an MPTCP connection is judged when the message is
    // taken (`Context::take`): the endpoint table is the OS's.
    let continuity = if mptcp { Continuity::Unknown } else { Continuity::NotMptcp };
    Announcement::ConnectionGoingAway { connection_id, pvd, deadline_ms, reason, continuity }
}
