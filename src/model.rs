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
}

/// Everything a dump returned: the whole truth at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub links: Vec<LinkFact>,
    pub addrs: Vec<AddrFact>,
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
}

/// Why a request does not fit the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    UnknownInterface,
    UnknownPvd,
    NotSubscribed,
}

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
        let deadline = |l: LifetimeSecs| l.map(|s| now + Duration::from_secs(u64::from(s)));
        AddrState { scope: f.scope, flags: f.flags, valid_until: deadline(f.valid), preferred_until: deadline(f.preferred) }
    }

    /// The kernel reports whole seconds, so deadlines computed at different moments
    /// may differ by up to a second without anything having changed.
    /// Deadlines already past count as equal (both mean 0 s left).
    fn same_as(&self, other: &AddrState, now: Instant) -> bool {
        let close = |a: Option<Instant>, b: Option<Instant>| -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) if a <= now && b <= now => true,
                (Some(a), Some(b)) => {
                    let d = if a > b { a - b } else { b - a };
                    d <= Duration::from_millis(1500)
                }
                _ => false,
            }
        };
        self.scope == other.scope
            && self.flags == other.flags
            && close(self.valid_until, other.valid_until)
            && close(self.preferred_until, other.preferred_until)
    }

    fn info(&self, key: &AddrKey, now: Instant) -> AddrInfo {
        let remaining = |d: Option<Instant>| d.map(|d| d.saturating_duration_since(now).as_secs().min(u64::from(u32::MAX - 1)) as u32);
        AddrInfo {
            addr: key.0,
            prefix_len: key.1,
            scope: self.scope,
            flags: self.flags,
            valid: remaining(self.valid_until),
            preferred: remaining(self.preferred_until),
        }
    }
}

#[derive(Clone, Debug)]
struct Link {
    name: String,
    flags: LinkFlags,
}

/// What subscribers may see of one PvD.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PvdView {
    id: u64,
    name: String,
    addrs: BTreeMap<AddrKey, AddrState>,
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
        }
    }

    /// Applies one kernel fact and appends the announcements it implies.
    pub fn apply(&mut self, fact: Fact, now: Instant, out: &mut Vec<Announcement>) {
        let ifindex = match fact {
            Fact::Link(link) => {
                let ifindex = link.ifindex;
                self.links.insert(ifindex, Link { name: link.name, flags: link.flags });
                ifindex
            }
            Fact::LinkRemoved { ifindex } => {
                self.links.remove(&ifindex);
                self.addrs.remove(&ifindex);
                ifindex
            }
            Fact::Addr(a) => {
                if !self.links.contains_key(&a.ifindex) {
                    // The kernel announces a link before its addresses; an address for
                    // an unknown link belongs to one already deleted.
                    return;
                }
                let state = AddrState::from_fact(&a, now);
                self.addrs.entry(a.ifindex).or_default().insert((a.addr, a.prefix_len), state);
                a.ifindex
            }
            Fact::AddrRemoved { ifindex, addr, prefix_len } => {
                if let Some(map) = self.addrs.get_mut(&ifindex) {
                    map.remove(&(addr, prefix_len));
                }
                ifindex
            }
        };
        self.refresh(ifindex, now, out);
    }

    /// Replaces the mirror with a fresh dump (after lost events) and announces exactly
    /// the differences between what subscribers were told and the dump.
    pub fn resync(&mut self, snapshot: Snapshot, now: Instant, out: &mut Vec<Announcement>) {
        let mut touched: BTreeSet<u32> = self.views.keys().copied().collect();
        self.links.clear();
        self.addrs.clear();
        for link in snapshot.links {
            touched.insert(link.ifindex);
            self.links.insert(link.ifindex, Link { name: link.name, flags: link.flags });
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
        for ifindex in touched {
            self.refresh(ifindex, now, out);
        }
    }

    /// Recomputes what subscribers should see of one interface and announces the difference.
    fn refresh(&mut self, ifindex: u32, now: Instant, out: &mut Vec<Announcement>) {
        let new = self.compute_view(ifindex);
        let old = self.views.remove(&ifindex);
        self.announce_diff(ifindex, old.as_ref(), new.as_ref(), now, out);
        match new {
            Some(view) => {
                self.views.insert(ifindex, view);
            }
            None => {
                self.pvd_ids.retain(|(i, _), _| *i != ifindex);
            }
        }
    }

    fn compute_view(&mut self, ifindex: u32) -> Option<LinkView> {
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
                pvds[family.index()] = Some(PvdView { id, name, addrs });
            }
        }
        Some(LinkView { name: link.name.clone(), flags: link.flags, pvds })
    }

    /// The draft's order: No Address for every address that went (of every PvD), then
    /// No PvD for every PvD that went, then No Interface; then Interface, PvD and
    /// Address announcements for what is new or changed.
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
            for (family, old_pvd) in gone_pvds {
                // A subscription to a PvD's addresses ends with the PvD.
                self.subs.addresses.remove(&old_pvd.id);
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
            if old_pvd.is_none() && self.subs.pvds.contains(&ifindex) {
                out.push(Announcement::Pvd(pvd_info(new_view, new_pvd, family)));
            }
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
        let (ifindex, view, family, pvd_view) = self.find_pvd(pvd).ok_or(RequestError::UnknownPvd)?;
        let info = PvdInfo { id: pvd, ifindex, ifname: view.name.clone(), family, name: pvd_view.name.clone() };
        for (key, state) in &pvd_view.addrs {
            out.push(Announcement::Address { pvd: info.clone(), addr: state.info(key, now) });
        }
        self.subs.addresses.insert(pvd);
        Ok(())
    }

    pub fn stop_announcing_addresses(&mut self, pvd: u64) -> Result<(), RequestError> {
        if self.find_pvd(pvd).is_none() {
            return Err(RequestError::UnknownPvd);
        }
        if !self.subs.addresses.remove(&pvd) {
            return Err(RequestError::NotSubscribed);
        }
        Ok(())
    }

    fn find_pvd(&self, pvd: u64) -> Option<(u32, &LinkView, Family, &PvdView)> {
        self.views.iter().find_map(|(ifindex, view)| {
            Family::ALL.into_iter().find_map(|family| {
                view.pvds[family.index()].as_ref().filter(|p| p.id == pvd).map(|p| (*ifindex, view, family, p))
            })
        })
    }

    // ---- Read access for tests and other features ----

    /// Every (ifindex, address, prefix) currently mirrored, for comparisons with the kernel.
    pub fn mirrored_addresses(&self) -> Vec<(u32, IpAddr, u8)> {
        self.addrs.iter().flat_map(|(i, m)| m.keys().map(move |k| (*i, k.0, k.1))).collect()
    }

    /// Interface indexes currently mirrored.
    pub fn interfaces(&self) -> Vec<u32> {
        self.links.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests;
