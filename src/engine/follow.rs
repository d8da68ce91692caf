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
    /// A replacement is needed but could not start yet (the last Connected of the id is
    /// not taken): tried again at the next change.
    pending: bool,
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
                    if let Err(e) = model.follow_connection(f.connection_id, local, ifindex, now) {
                        // Its path went before it could be watched: race again at once.
                        log_at!(Info, "follow {}: path already gone ({e:?})", f.connection_id);
                    }
                    let entry = Following { spec: f.spec, ifindex, racing: None, pending: false };
                    self.follows.by_id.insert(f.connection_id, entry);
                    self.shared.following.lock().insert(f.connection_id);
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
        let mut due: Vec<(u64, u32)> = Vec::new();
        for event in events {
            match event {
                Announcement::ConnectionGoingAway { connection_id, pvd, .. }
                | Announcement::ConnectionGone { connection_id, pvd, .. } => due.push((connection_id, pvd.ifindex)),
                _ => {}
            }
        }
        for (id, f) in &self.follows.by_id {
            if f.pending && !due.iter().any(|(d, _)| d == id) {
                due.push((*id, f.ifindex));
            }
        }
        for (id, ifindex) in due {
            self.replace(id, ifindex);
        }
    }

    /// Races followed connection `id` again without network `ifindex`.
    fn replace(&mut self, id: u64, ifindex: u32) {
        let Some(f) = self.follows.by_id.get_mut(&id) else { return };
        if f.racing.is_some() {
            return;
        }
        let networks = race_networks(&self.shared.model.lock(), &f.spec.chosen, Some(ifindex));
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

    /// Cancel Connect on a followed id: following ends (a replacement race in flight
    /// was cancelled by the caller already).
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
