//! Configuration readiness (our addition to draft 3.2.7.7 and 3.2.7.17): whether a
//! PvD's configuration is still being learned.
//!
//! A PvD's configuration arrives after the PvD itself can exist: a context opened on a
//! running network learns RA DNS options only from the next RA (the kernel keeps none),
//! and a link that just came up waits for its routers and DHCP. So each (interface,
//! family) is *learning* from a trigger until the first of:
//! - the learning window passed (`HostModel::set_learning_window`; the engine's
//!   default is RFC 4861's RTR_SOLICITATION_INTERVAL, 4 s: how long a host waits for
//!   an answer to a Router Solicitation before it would ask again);
//! - IPv6: a router was heard on the link (any RA option the kernel forwards, or a
//!   default route from an RA); the options of one RA arrive as separate messages
//!   microseconds apart, so learning ends `RA_GRACE` after the first;
//! - the PvD has DNS servers from a source other than RAs (a DHCP lease, a link
//!   manager's state, static configuration, /etc/resolv.conf): it is configured.
//!
//! Triggers: the link coming up with carrier (both families); and, from the engine,
//! a context opening and an overrun re-read (IPv6: RA options cannot be dumped, so
//! they are awaited again), each together with the Router Solicitation sent then
//! when permitted.

use super::*;

/// How long after the first option of an RA its other options are still awaited.
pub const RA_GRACE: Duration = Duration::from_millis(20);

/// The default learning window: RFC 4861's RTR_SOLICITATION_INTERVAL.
pub const DEFAULT_LEARNING_WINDOW: Duration = Duration::from_secs(4);

impl HostModel {
    /// Sets how long a trigger keeps a PvD learning at most. A new model learns
    /// nothing (a zero window) until this is called; the engine sets its window at open.
    pub fn set_learning_window(&mut self, window: Duration) {
        self.learning_window = window;
    }

    /// A trigger: the configuration of (`ifindex`, `family`) may be on its way.
    /// Learning lasts until `now` + the window (a later trigger extends it).
    pub fn learn(&mut self, ifindex: u32, family: Family, now: Instant) {
        if !self.links.contains_key(&ifindex) || self.learning_window.is_zero() || self.configured(ifindex, family) {
            return;
        }
        let until = now + self.learning_window;
        let entry = self.learning.entry((ifindex, family)).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// A router advertised on `ifindex`: its IPv6 configuration is complete once the
    /// rest of that RA's options are in.
    pub(super) fn heard_router(&mut self, ifindex: u32, now: Instant) {
        if let Some(until) = self.learning.get_mut(&(ifindex, Family::V6)) {
            *until = (*until).min(now + RA_GRACE);
        }
    }

    /// Whether PvD `pvd` is learning. A period that ran out stays "learning" until
    /// `expire` settles it (the engine wakes for that at its end), so this state and
    /// the Configuration Complete message never disagree.
    pub fn is_learning(&self, pvd: u64) -> bool {
        self.find_pvd(pvd).is_some_and(|(info, _)| self.learning_of(info.ifindex, info.family))
    }

    /// Until when PvD `pvd` is learning at most (`None`: it is not).
    pub fn learning_until(&self, pvd: u64) -> Option<Instant> {
        let (info, _) = self.find_pvd(pvd)?;
        self.learning.get(&(info.ifindex, info.family)).copied()
    }

    pub(super) fn learning_of(&self, ifindex: u32, family: Family) -> bool {
        self.learning.contains_key(&(ifindex, family))
    }

    /// Whether the PvD (`ifindex`, `family`) has DNS servers from a source other than
    /// RAs: then it is configured, whatever RAs may add later.
    pub(super) fn configured(&self, ifindex: u32, family: Family) -> bool {
        let pvd = self.views.get(&ifindex).and_then(|v| v.pvds[family.index()].as_ref());
        pvd.is_some_and(configured_view)
    }

    /// Ends the learning of PvDs configured in `new` (a view being announced), before
    /// they are announced: a PvD announced now is announced complete. Returns those
    /// that were announced before, as learning: they get Configuration Complete.
    pub(super) fn settle_configured(&mut self, ifindex: u32, new: Option<&LinkView>) -> Vec<Family> {
        let mut announced = Vec::new();
        let Some(view) = new else { return announced };
        for family in Family::ALL {
            let Some(pvd) = &view.pvds[family.index()] else { continue };
            if configured_view(pvd) && self.learning.remove(&(ifindex, family)).is_some() {
                let old = self.views.get(&ifindex).and_then(|v| v.pvds[family.index()].as_ref());
                if old.is_some_and(|o| o.id == pvd.id) {
                    announced.push(family);
                }
            }
        }
        announced
    }

    /// The earliest end of a learning period.
    pub(super) fn learning_deadline(&self) -> Option<Instant> {
        self.learning.values().min().copied()
    }

    /// Ends the learning periods that ran out (or whose interface went) and tells the
    /// PvD's subscribers (Configuration Complete). Runs after every change and at every
    /// expiry. (A PvD that became configured ended its learning in `refresh` already:
    /// `settle_configured`.)
    pub(super) fn settle_learning(&mut self, now: Instant, out: &mut Vec<Announcement>) {
        let over: Vec<(u32, Family)> =
            self.learning.iter().filter(|(_, until)| **until <= now).map(|(key, _)| *key).collect();
        self.learning.retain(|(ifindex, _), until| *until > now && self.links.contains_key(ifindex));
        for (ifindex, family) in over {
            let Some(view) = self.views.get(&ifindex).filter(|_| self.subs.pvds.contains(&ifindex)) else { continue };
            if let Some(pvd) = &view.pvds[family.index()] {
                out.push(Announcement::PvdConfigComplete(view.pvd_info(ifindex, family, pvd)));
            }
        }
    }
}

/// A PvD with DNS servers from a source other than RAs.
fn configured_view(pvd: &PvdView) -> bool {
    pvd.elements.iter().any(|(ident, e)| ident.kind != ElementKind::Ra && !e.data.dns_servers.is_empty())
}
