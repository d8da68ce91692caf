//! Follow mode of Connect to Name (`MIF_CONNECT_FOLLOW`, docs/connectivity.md): once a
//! followed race connected, the model watches the connection's path for the engine
//! (`HostModel::follow_connection`); when the path is going away or gone, the engine
//! races the request again without that network and delivers a replacement Connected
//! for the same connection id (make before break when there is a deadline). The
//! application swaps sockets; the old one is never touched here.

use std::collections::HashMap;
use std::time::Instant;

use super::by_name::{FollowSpec, Followed, NameRequest};
use super::context::race_networks;
use super::event_loop::Engine;
use super::operations::{Kind, Subject};
use crate::core::model::{Announcement, Family, PvdInfo};
use crate::log::log_at;

/// One followed connection.
#[derive(Debug)]
pub(crate) struct Following {
    spec: FollowSpec,
    /// The interface of its current path.
    ifindex: u32,
    /// The generation of a replacement race in flight.
    racing: Option<u64>,
    /// A replacement is needed but could not start yet (the socket budget is taken, or
    /// the application reused the id): tried again at the next change.
    pending: bool,
    /// Its path is lost (not only going away).
    gone: bool,
}

/// Every followed connection of a context, by connection id.
#[derive(Debug, Default)]
pub(crate) struct Follows {
    by_id: HashMap<u64, Following>,
}

impl Follows {
    pub(crate) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl Engine {
    /// Results of followed races (`NameRaces::take_followed`), after they were queued: a
    /// Connected is followed (its path watched); a Not Connected ends following.
    pub(super) fn followed_results(&mut self, results: Vec<Followed>) {
        let now = Instant::now();
        for f in results {
            let mut model = self.shared.model.lock();
            match f.path {
                Some((local, ifindex)) => {
                    // Cancel Connect ended it between the race's end and now.
                    if !self.shared.following.lock().contains(&f.connection_id) {
                        continue;
                    }
                    // Its path went before it could be watched: replaced at once.
                    let lost = model.follow_connection(f.connection_id, local, ifindex, now).is_err();
                    if lost {
                        log_at!(Info, "follow {}: its path is gone already", f.connection_id);
                    }
                    let entry = Following { spec: f.spec, ifindex, racing: None, pending: lost, gone: lost };
                    self.follows.by_id.insert(f.connection_id, entry);
                }
                None => {
                    model.unfollow_connection(f.connection_id);
                    self.follows.by_id.remove(&f.connection_id);
                    self.shared.following.lock().remove(&f.connection_id);
                }
            }
        }
        // What the model said of the new paths (a warning that holds already).
        self.follow_changes();
    }

    /// After the model changed: replacements for followed connections whose path is
    /// going away or gone.
    pub(super) fn follow_changes(&mut self) {
        if self.follows.is_empty() {
            return;
        }
        let events = self.shared.model.lock().take_follow_events();
        let mut due: Vec<(u64, u32, bool)> = Vec::new();
        for event in events {
            match event {
                Announcement::ConnectionGoingAway { connection_id, pvd, .. } => {
                    due.push((connection_id, pvd.ifindex, false))
                }
                Announcement::ConnectionGone { connection_id, pvd, .. } => due.push((connection_id, pvd.ifindex, true)),
                _ => {}
            }
        }
        for (id, f) in &self.follows.by_id {
            if f.pending && !due.iter().any(|(d, _, _)| d == id) {
                due.push((*id, f.ifindex, f.gone));
            }
        }
        for (id, ifindex, gone) in due {
            self.replace(id, ifindex, gone);
        }
    }

    /// Races followed connection `id` again without network `ifindex` (`gone`: its path
    /// is lost already; else it is going away). Networks that are going away themselves
    /// are left out too, so that a connection does not bounce between two of them; when
    /// only such networks are left, a warning waits for the loss, and a loss takes them.
    fn replace(&mut self, id: u64, ifindex: u32, gone: bool) {
        // Cancel Connect may have ended the following meanwhile (`Context::end_following`).
        if !self.shared.following.lock().contains(&id) {
            self.follows.by_id.remove(&id);
            self.shared.model.lock().unfollow_connection(id);
            return;
        }
        let Some(f) = self.follows.by_id.get_mut(&id) else { return };
        if f.racing.is_some() {
            return;
        }
        f.gone |= gone;
        let (mut networks, leaving) = {
            let model = self.shared.model.lock();
            (race_networks(&model, &f.spec.chosen, Some(ifindex)), model.going_away_interfaces())
        };
        let steady: Vec<_> = networks.iter().filter(|(n, _)| !leaving.contains(&n.ifindex)).cloned().collect();
        if !steady.is_empty() {
            networks = steady;
        } else if !f.gone {
            log_at!(Info, "follow {id}: every other network is going away too: waiting for the loss");
            f.pending = false;
            return;
        }
        let started = Instant::now();
        let sockets = f.spec.config.max_in_flight + 2 * networks.len();
        let nobody = PvdInfo { id: 0, ifindex: 0, ifname: String::new(), family: Family::V4, name: String::new() };
        let subject = Subject::Name(f.spec.name.ascii.clone());
        let generation = match self.shared.operations.lock().start(Kind::Connect, id, nobody, subject, started, sockets)
        {
            Ok(g) => g,
            Err(e) => {
                log_at!(Info, "follow {id}: replacement deferred ({e:?})");
                f.pending = true;
                return;
            }
        };
        log_at!(
            Info,
            "follow {id}: its path on ifindex {ifindex} is going: racing again over {} networks",
            networks.len()
        );
        f.pending = false;
        f.racing = Some(generation);
        let spec = f.spec.clone();
        let request = NameRequest {
            connection_id: id,
            generation,
            name: spec.name.clone(),
            port: spec.port,
            networks,
            config: spec.config,
            started,
            mptcp: spec.mptcp,
            translations: spec.translations,
            follow: Some(spec),
            replacement: true,
        };
        self.with_races(|races, io, out| races.start(request, io, started, out));
    }

    /// Cancel Connect on a followed id: following ends. (A replacement race in flight
    /// when the application cancels is an outstanding connect: the cancel ends it as
    /// any other, and `race_cancelled` brings the engine here.)
    pub(super) fn stop_following(&mut self, id: u64) {
        self.follows.by_id.remove(&id);
        self.shared.model.lock().unfollow_connection(id);
        self.shared.following.lock().remove(&id);
    }

    /// A replacement race was cancelled: its follow ends with it.
    pub(super) fn race_cancelled(&mut self, generation: u64) {
        let ids: Vec<u64> =
            self.follows.by_id.iter().filter(|(_, f)| f.racing == Some(generation)).map(|(id, _)| *id).collect();
        for id in ids {
            self.stop_following(id);
        }
    }
}
