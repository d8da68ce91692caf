//! Connect to Name (our addition: the draft's 3.3 flow, steps 13–16, as one request):
//! the engine's side of `core::race`. The racer decides; this module does the I/O it
//! asks for with the resolver and the connector, feeds their results back, and turns
//! the end of a race into one Connected or Not Connected carrying the establishment
//! report (docs/connect-by-name.md).
//!
//! A race's own translations and attempts run under internal generations (from
//! `INTERNAL_GENERATIONS`), so their results come here instead of to the application:
//! the resolver's through `Shared::race_dns` (an application thread helping with DNS
//! may read them), the connector's through `Engine::route_connect`.
//!
//! For implicit PvDs a network is an interface: the name is asked once per network,
//! through the servers of one of its PvDs (the IPv6 PvD's if it has servers, else the
//! IPv4 PvD's), over that link; each answer is connected through the PvD of the
//! answer's family on the same link. Explicit PvDs (several per link) will make a
//! network of each PvD instead.
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mio::Registry;

use super::connector::{ConnectEvent, ConnectRequest, Connector};
use super::message::Message;
use super::request::Preference;
use super::resolver::{ByType, DnsEvent, Job};
use super::shared::Shared;
use crate::core::dns::{QueryName, Status};
use crate::core::model::{Family, Network, PvdInfo};
use crate::core::race::{Action, AttemptOutcome, Failure, RaceConfig, RaceNetwork, Racer, Rank};
use crate::log::log_at;

/// Generations of a race's own translations and attempts: far above those of the
/// application's operations (`operations`), which count up from 1.
pub(crate) const INTERNAL_GENERATIONS: u64 = 1 << 62;

/// The shortest Connection Attempt Delay of a race, whatever the context's connects
/// use (RFC 8305 §5 recommends 100 ms as the lower bound).
pub(crate) const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(100);

/// A Connect to Name as the engine receives it: checked, its networks chosen.
#[derive(Debug)]
pub(crate) struct NameRequest {
    pub connection_id: u64,
    pub generation: u64,
    pub name: QueryName,
    pub port: u16,
    /// In the order the racer gets them (`HostModel::networks`), with their rank;
    /// prohibited networks are left out, and with a Require only the required ones.
    pub networks: Vec<(Network, Rank)>,
    pub config: RaceConfig,
    pub started: Instant,
    /// Attempts with IPPROTO_MPTCP.
    pub mptcp: bool,
    /// The race's own translations are shown to the application (`show_translation`).
    pub translations: bool,
    /// Follow mode (`follow`): what a replacement race needs.
    pub follow: Option<FollowSpec>,
    /// This race replaces a followed connection whose path is going or gone.
    pub replacement: bool,
}

/// What a followed Connect to Name needs to race again (`MIF_CONNECT_FOLLOW`): the
/// request as posted, its selections resolved to interfaces.
#[derive(Clone, Debug)]
pub(crate) struct FollowSpec {
    pub chosen: Vec<(u32, Preference)>,
    pub name: QueryName,
    pub port: u16,
    pub config: RaceConfig,
    pub mptcp: bool,
    pub translations: bool,
}

/// How one connection was established (or not): every resolution and every attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EstablishmentReport {
    pub resolutions: Vec<ResolutionReport>,
    pub attempts: Vec<AttemptReport>,
}

/// One record type asked on one network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolutionReport {
    pub ifindex: u32,
    pub ifname: String,
    /// The PvD whose servers were asked (0: none could be).
    pub pvd: u64,
    /// A (`V4`) or AAAA (`V6`).
    pub family: Family,
    /// The server that answered, else the first server asked.
    pub server: Option<IpAddr>,
    /// From the request.
    pub started: Duration,
    /// From `started` to the first answer of this type, or to the end of the
    /// translation (`None` only while the race runs).
    pub elapsed: Option<Duration>,
    pub answers: u32,
    /// How the translation ended when this type gave no answer (`Cancelled`: the race
    /// ended first); `None`: answered.
    pub status: Option<Status>,
}

/// One connection attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptReport {
    pub pvd: PvdInfo,
    pub local: Option<SocketAddr>,
    pub remote: SocketAddr,
    /// From the request.
    pub started: Duration,
    /// From `started` to its end; `None` when it was still running at the end.
    pub elapsed: Option<Duration>,
    pub outcome: AttemptOutcome,
    /// errno of a failure, else 0.
    pub errno: i32,
}

/// What comes back to a race from its I/O.
enum Input {
    Answers(u32, Vec<IpAddr>),
    ResolutionDone(u32),
    Connected(usize, ConnectEvent),
    Failed(usize, i32),
}

struct Race {
    connection_id: u64,
    name: QueryName,
    port: u16,
    started: Instant,
    mptcp: bool,
    translations: bool,
    /// It replaces a followed connection (its Connected says so).
    replacement: bool,
    /// The PvD each resolving network's translation goes through.
    asked: HashMap<u32, PvdInfo>,
    racer: Racer,
    networks: HashMap<u32, Network>,
    /// The translation of each network that resolves, by its internal generation.
    resolving: HashMap<u32, u64>,
    /// The connector generation of each running attempt.
    running: HashMap<usize, u64>,
    report: EstablishmentReport,
    /// Index into `report.attempts` of each attempt.
    attempt_rows: HashMap<usize, usize>,
    /// Why the last attempt failed, for the Not Connected text.
    last_failure: String,
}

/// Every Connect to Name in flight of one context.
pub(crate) struct NameRaces {
    races: HashMap<u64, Race>,
    /// Internal generation → (race, network) of a translation.
    dns_owner: HashMap<u64, (u64, u32)>,
    /// Internal generation → (race, attempt) of an attempt.
    attempt_owner: HashMap<u64, (u64, usize)>,
    next_internal: u64,
    /// Races in follow mode, by generation: taken with their result (`take_followed`).
    follow_specs: HashMap<u64, FollowSpec>,
}

/// The result of a followed race (`NameRaces::take_followed`).
pub(crate) struct Followed {
    pub connection_id: u64,
    pub generation: u64,
    pub spec: FollowSpec,
    /// Connected: its local address and interface; `None`: Not Connected.
    pub path: Option<(std::net::IpAddr, u32)>,
}

/// What the I/O of one step needs from the engine.
pub(crate) struct Io<'a> {
    pub shared: &'a Shared,
    pub connector: &'a mut Connector,
    pub registry: &'a Registry,
}

impl NameRaces {
    pub(crate) fn new() -> NameRaces {
        NameRaces {
            races: HashMap::new(),
            dns_owner: HashMap::new(),
            attempt_owner: HashMap::new(),
            next_internal: INTERNAL_GENERATIONS,
            follow_specs: HashMap::new(),
        }
    }

    /// The results in `out` of races in follow mode, with what following them needs.
    pub(crate) fn take_followed(&mut self, out: &[ConnectEvent]) -> Vec<Followed> {
        if self.follow_specs.is_empty() {
            return Vec::new();
        }
        let mut followed = Vec::new();
        for event in out {
            let (connection_id, generation) = event.ids();
            let Some(spec) = self.follow_specs.remove(&generation) else { continue };
            let path = match event {
                ConnectEvent::Connected { local, pvd, .. } => Some((local.ip(), pvd.ifindex)),
                ConnectEvent::NotConnected { .. } => None,
            };
            followed.push(Followed { connection_id, generation, spec, path });
        }
        followed
    }

    /// Forgets the follow mode of a cancelled race.
    pub(crate) fn drop_follow(&mut self, generation: u64) -> bool {
        self.follow_specs.remove(&generation).is_some()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.races.is_empty()
    }

    /// Whether a connector result belongs to a race's attempt.
    pub(crate) fn owns_attempt(&self, generation: u64) -> bool {
        self.attempt_owner.contains_key(&generation)
    }

    /// Whether `generation` is a race (a Cancel Connect for it comes here).
    pub(crate) fn has(&self, generation: u64) -> bool {
        self.races.contains_key(&generation)
    }

    fn internal(&mut self) -> u64 {
        let g = self.next_internal;
        self.next_internal += 1;
        g
    }

    /// Starts a race; its first results may come at once (hosts file, no networks).
    pub(crate) fn start(&mut self, req: NameRequest, io: &mut Io<'_>, now: Instant, out: &mut Vec<ConnectEvent>) {
        let racing: Vec<RaceNetwork> =
            req.networks.iter().map(|(n, rank)| RaceNetwork { id: n.ifindex, rank: *rank }).collect();
        let (racer, actions) = Racer::new(req.config, racing, now);
        let race = Race {
            connection_id: req.connection_id,
            name: req.name,
            port: req.port,
            started: req.started,
            mptcp: req.mptcp,
            translations: req.translations,
            replacement: req.replacement,
            asked: HashMap::new(),
            racer,
            networks: req.networks.into_iter().map(|(n, _)| (n.ifindex, n)).collect(),
            resolving: HashMap::new(),
            running: HashMap::new(),
            report: EstablishmentReport::default(),
            attempt_rows: HashMap::new(),
            last_failure: String::new(),
        };
        if let Some(spec) = req.follow {
            self.follow_specs.insert(req.generation, spec);
        }
        self.races.insert(req.generation, race);
        self.act(req.generation, actions, io, now, out);
    }

    /// The application cancelled (its Not Connected is already queued).
    pub(crate) fn cancel(&mut self, generation: u64, io: &mut Io<'_>, now: Instant) {
        let Some(race) = self.races.get_mut(&generation) else { return };
        let actions = race.racer.cancel(now);
        let mut out = Vec::new();
        self.act(generation, actions, io, now, &mut out);
        self.forget(generation);
        // Nothing is delivered for a cancelled race: a Connected that raced the cancel
        // is dropped here, and its socket closed.
        drop(out);
    }

    /// Results of the connector for race attempts (`owns_attempt`).
    pub(crate) fn connect_events(
        &mut self,
        events: Vec<ConnectEvent>,
        io: &mut Io<'_>,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) {
        for event in events {
            let (_, internal) = event.ids();
            let Some((race, attempt)) = self.attempt_owner.remove(&internal) else { continue };
            let input = match event {
                ConnectEvent::NotConnected { error, ref text, .. } => {
                    if let Some(r) = self.races.get_mut(&race) {
                        r.last_failure = text.clone();
                    }
                    Input::Failed(attempt, error)
                }
                connected @ ConnectEvent::Connected { .. } => Input::Connected(attempt, connected),
            };
            self.feed(race, input, io, now, out);
        }
    }

    /// Results of the resolver for race translations (taken from `Shared::race_dns`).
    pub(crate) fn dns_events(
        &mut self,
        events: Vec<DnsEvent>,
        io: &mut Io<'_>,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) {
        // Addresses of one translation arrive together: hand them over at once, so
        // that the racer orders them as one answer.
        let mut batch: Vec<(u64, Input)> = Vec::new();
        let mut shown = Vec::new();
        for event in events {
            if let Some((race, _)) = self.dns_owner.get(&event.generation()) {
                if let Some(r) = self.races.get(race).filter(|r| r.translations) {
                    shown.push(Message::Dns(r.show_translation(*race, event.clone())));
                }
            }
            match event {
                DnsEvent::Address { generation, addr, server, .. } => {
                    let Some(&(race, network)) = self.dns_owner.get(&generation) else { continue };
                    if let Some(r) = self.races.get_mut(&race) {
                        r.note_answer(network, addr, server, now);
                    }
                    match batch.last_mut() {
                        Some((g, Input::Answers(n, addrs))) if *g == race && *n == network => addrs.push(addr),
                        _ => batch.push((race, Input::Answers(network, vec![addr]))),
                    }
                }
                DnsEvent::Done { generation, status, by_type, .. } => {
                    let Some((race, network)) = self.dns_owner.remove(&generation) else { continue };
                    if let Some(r) = self.races.get_mut(&race) {
                        r.note_done(network, status, by_type, now);
                        r.resolving.remove(&network);
                    }
                    batch.push((race, Input::ResolutionDone(network)));
                }
            }
        }
        // Before anything the answers lead to: the result comes after them.
        io.shared.outbox.push_all(shown);
        for (race, input) in batch {
            self.feed(race, input, io, now, out);
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.races.values().filter_map(|r| r.racer.next_deadline()).min()
    }

    /// Runs the racers' timers.
    pub(crate) fn tick(&mut self, io: &mut Io<'_>, now: Instant, out: &mut Vec<ConnectEvent>) {
        let due: Vec<u64> = self
            .races
            .iter()
            .filter(|(_, r)| r.racer.next_deadline().is_some_and(|d| d <= now))
            .map(|(g, _)| *g)
            .collect();
        for generation in due {
            let Some(race) = self.races.get_mut(&generation) else { continue };
            let actions = race.racer.tick(now);
            self.act(generation, actions, io, now, out);
        }
    }

    /// One input to a race, then what its actions bring back at once, until quiet.
    fn feed(&mut self, generation: u64, input: Input, io: &mut Io<'_>, now: Instant, out: &mut Vec<ConnectEvent>) {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            let Some(race) = self.races.get_mut(&generation) else { return };
            let mut winner = None;
            let actions = match input {
                Input::Answers(network, addrs) => race.racer.answers(network, &addrs, now),
                Input::ResolutionDone(network) => race.racer.resolution_done(network, now),
                Input::Failed(attempt, errno) => {
                    race.running.remove(&attempt);
                    race.note_attempt_end(attempt, None, errno, now);
                    race.racer.attempt_failed(attempt, errno, now)
                }
                Input::Connected(attempt, event) => {
                    race.running.remove(&attempt);
                    if let ConnectEvent::Connected { local, .. } = &event {
                        race.note_attempt_end(attempt, Some(*local), 0, now);
                    }
                    winner = Some((attempt, event));
                    race.racer.attempt_connected(attempt, now)
                }
            };
            let more = self.act_inner(generation, actions, winner, io, now, out);
            inputs.extend(more);
        }
    }

    fn act(
        &mut self,
        generation: u64,
        actions: Vec<Action>,
        io: &mut Io<'_>,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) {
        let more = self.act_inner(generation, actions, None, io, now, out);
        for input in more {
            self.feed(generation, input, io, now, out);
        }
    }

    /// Carries out a racer's actions; returns the inputs they produced at once.
    /// `winner` is the attempt that just connected, with its event (its socket).
    fn act_inner(
        &mut self,
        generation: u64,
        actions: Vec<Action>,
        mut winner: Option<(usize, ConnectEvent)>,
        io: &mut Io<'_>,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) -> Vec<Input> {
        let mut inputs = Vec::new();
        for action in actions {
            match action {
                Action::Resolve { network } => self.resolve(generation, network, io, now, &mut inputs),
                Action::StopResolving { network } => {
                    let Some(race) = self.races.get_mut(&generation) else { continue };
                    if let Some(internal) = race.resolving.remove(&network) {
                        self.dns_owner.remove(&internal);
                        io.shared.dns.lock().cancel(internal);
                        race.show_done(generation, network, Status::Cancelled, io.shared);
                    }
                }
                Action::Connect { attempt, network, remote } => {
                    self.connect(generation, attempt, network, remote, io, now, &mut inputs)
                }
                Action::Abandon { attempt } => {
                    let Some(race) = self.races.get_mut(&generation) else { continue };
                    if let Some(internal) = race.running.remove(&attempt) {
                        self.attempt_owner.remove(&internal);
                        io.connector.cancel(internal, io.registry);
                    }
                }
                Action::Won { attempt } => {
                    let Some(mut race) = self.races.remove(&generation) else { continue };
                    self.forget_internal(generation);
                    match winner.take() {
                        Some((a, ConnectEvent::Connected { pvd, fd, local, remote, mptcp, .. })) if a == attempt => {
                            let report = race.finish_report(now);
                            out.push(ConnectEvent::Connected {
                                connection_id: race.connection_id,
                                generation,
                                pvd,
                                fd,
                                local,
                                remote,
                                elapsed: now.saturating_duration_since(race.started),
                                report: Some(Box::new(report)),
                                mptcp,
                                replacement: race.replacement,
                            });
                        }
                        _ => {
                            // The racer names the attempt that just connected; anything
                            // else is a bug, reported as a failure rather than a hang.
                            log_at!(Error, "connect to name: the winner's connection is missing");
                            race.last_failure = "internal error: the winner's connection is missing".into();
                            out.push(race.not_connected(generation, libc::EIO, now));
                        }
                    }
                }
                Action::Failed(failure) => {
                    let Some(mut race) = self.races.remove(&generation) else { continue };
                    self.forget_internal(generation);
                    let (errno, text) = match failure {
                        Failure::NoNetworks => (libc::ENETUNREACH, "no network to try (selection)".to_string()),
                        Failure::NoAddresses => {
                            (libc::ENOENT, format!("no network's servers gave an address for {}", race.name.ascii))
                        }
                        Failure::AllFailed { errno } => {
                            (errno, format!("every attempt failed; the last: {}", race.last_failure))
                        }
                        Failure::Timeout => (libc::ETIMEDOUT, "no connection within the request's timeout".into()),
                    };
                    race.last_failure = text;
                    out.push(race.not_connected(generation, errno, now));
                }
            }
        }
        inputs
    }

    /// Starts a network's translation through the servers of one of its PvDs.
    fn resolve(&mut self, generation: u64, network: u32, io: &mut Io<'_>, now: Instant, inputs: &mut Vec<Input>) {
        let internal = self.internal();
        let Some(race) = self.races.get_mut(&generation) else { return };
        let Some(net) = race.networks.get(&network).cloned() else {
            inputs.push(Input::ResolutionDone(network));
            return;
        };
        let model = io.shared.model.lock();
        // The IPv6 PvD's servers first, then the IPv4 PvD's; a PvD still learning its
        // configuration when neither has servers yet; else any (the hosts file may know).
        let present: Vec<u64> = [Family::V6, Family::V4].iter().filter_map(|f| net.pvds[f.index()]).collect();
        let links: Vec<_> = present.iter().filter_map(|p| model.pvd_link(*p)).collect();
        let chosen = links
            .iter()
            .find(|l| !l.dns_servers.is_empty())
            .or_else(|| links.iter().find(|l| model.is_learning(l.info.id)))
            .or_else(|| links.first())
            .cloned();
        let Some(link) = chosen else {
            drop(model);
            race.note_resolving(&net, 0, None, now);
            race.note_done(network, Status::NoServers, ByType::default(), now);
            inputs.push(Input::ResolutionDone(network));
            return;
        };
        let learning_until = if link.dns_servers.is_empty() { model.learning_until(link.info.id) } else { None };
        race.note_resolving(&net, link.info.id, link.dns_servers.first().copied(), now);
        race.resolving.insert(network, internal);
        race.asked.insert(network, link.info.clone());
        self.dns_owner.insert(internal, (generation, network));
        let job = Job {
            translation_id: race.connection_id,
            generation: internal,
            pvd: link.info.id,
            name: race.name.clone(),
        };
        let mut dns = io.shared.dns.lock();
        drop(model);
        let mut events = Vec::new();
        match learning_until {
            Some(until) if !dns.in_hosts_file(&job.name) => dns.wait_for_learning(job, until),
            _ => dns.start(job, Some(link), now, &mut events),
        }
        // Hosts-file and cached answers come at once: through the race inbox, like all.
        io.shared.emit_dns_locked(events);
    }

    /// Starts one attempt through the PvD of the address's family on that network.
    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        generation: u64,
        attempt: usize,
        network: u32,
        remote: IpAddr,
        io: &mut Io<'_>,
        now: Instant,
        inputs: &mut Vec<Input>,
    ) {
        let internal = self.internal();
        let Some(race) = self.races.get_mut(&generation) else { return };
        let family = Family::of(&remote);
        let pvd = race.networks.get(&network).and_then(|n| n.pvds[family.index()]);
        let link = pvd.and_then(|p| io.shared.model.lock().pvd_link(p));
        let remote_sa = SocketAddr::new(remote, race.port);
        let row = race.report.attempts.len();
        let pvd_info = link.as_ref().map(|l| l.info.clone()).unwrap_or_else(|| PvdInfo {
            id: 0,
            ifindex: network,
            ifname: race.networks.get(&network).map(|n| n.ifname.clone()).unwrap_or_default(),
            family,
            name: String::new(),
        });
        race.report.attempts.push(AttemptReport {
            pvd: pvd_info,
            local: None,
            remote: remote_sa,
            started: now.saturating_duration_since(race.started),
            elapsed: None,
            outcome: AttemptOutcome::Running,
            errno: 0,
        });
        race.attempt_rows.insert(attempt, row);
        let Some(link) = link else {
            race.last_failure = format!("{remote}: the network has no {} provisioning domain", family.suffix());
            inputs.push(Input::Failed(attempt, libc::ENETUNREACH));
            return;
        };
        race.running.insert(attempt, internal);
        self.attempt_owner.insert(internal, (generation, attempt));
        let request = ConnectRequest {
            connection_id: race.connection_id,
            generation: internal,
            pvd: link.info.id,
            remote: remote_sa,
            local: None,
            started: now,
            max_parallel: 1,
            mptcp: race.mptcp,
            first: None,
        };
        let mut events = Vec::new();
        io.connector.start(request, Some(link), io.registry, now, &mut events);
        // A socket that could not even be made fails at once.
        for event in events {
            if let ConnectEvent::NotConnected { error, text, .. } = event {
                self.attempt_owner.remove(&internal);
                if let Some(race) = self.races.get_mut(&generation) {
                    race.running.remove(&attempt);
                    race.last_failure = text;
                }
                inputs.push(Input::Failed(attempt, error));
            }
        }
    }

    /// The networks of running races that are no longer present (`present(ifindex)`),
    /// worked out under the model's lock; `lost` acts on them once it is let go.
    pub(crate) fn networks_gone(&self, present: impl Fn(u32) -> bool) -> Vec<(u64, u32)> {
        let mut gone = Vec::new();
        for (generation, race) in &self.races {
            gone.extend(race.networks.keys().filter(|i| !present(**i)).map(|i| (*generation, *i)));
        }
        gone
    }

    /// Networks that went away mid-race: their translation stops, their attempts fail
    /// (ENETDOWN), their untried addresses are dropped; the other networks go on, and
    /// the next starts at once if no other is left running.
    pub(crate) fn lost(&mut self, gone: Vec<(u64, u32)>, io: &mut Io<'_>, now: Instant, out: &mut Vec<ConnectEvent>) {
        for (generation, network) in gone {
            let Some(race) = self.races.get_mut(&generation) else { continue };
            let Some(net) = race.networks.remove(&network) else { continue };
            if let Some(internal) = race.resolving.remove(&network) {
                self.dns_owner.remove(&internal);
                io.shared.dns.lock().cancel(internal);
                race.show_done(generation, network, Status::NoServers, io.shared);
            }
            race.note_done(network, Status::NoServers, ByType::default(), now);
            let on_it: Vec<usize> =
                race.running.keys().copied().filter(|a| race.racer.network_of(*a) == Some(network)).collect();
            for attempt in on_it {
                if let Some(internal) = race.running.remove(&attempt) {
                    self.attempt_owner.remove(&internal);
                    io.connector.cancel(internal, io.registry);
                }
                race.note_attempt_end(attempt, None, libc::ENETDOWN, now);
            }
            race.last_failure = format!("{} went away", net.ifname);
            let actions = race.racer.network_lost(network, libc::ENETDOWN, now);
            self.act(generation, actions, io, now, out);
        }
    }

    /// Drops the bookkeeping of a race that ended.
    fn forget(&mut self, generation: u64) {
        self.races.remove(&generation);
        self.forget_internal(generation);
    }

    fn forget_internal(&mut self, generation: u64) {
        self.dns_owner.retain(|_, (race, _)| *race != generation);
        self.attempt_owner.retain(|_, (race, _)| *race != generation);
    }
}

impl Race {
    /// One of the race's translation results as the application sees it (`MIF_CONNECT_TRANSLATIONS`):
    /// its translation id is the connection id, its generation the race's.
    fn show_translation(&self, race: u64, event: DnsEvent) -> DnsEvent {
        match event {
            DnsEvent::Address { pvd, addr, ttl, source, server, name, .. } => DnsEvent::Address {
                translation_id: self.connection_id,
                generation: race,
                pvd,
                addr,
                ttl,
                source,
                server,
                name,
            },
            DnsEvent::Done { pvd, status, name, by_type, .. } => {
                DnsEvent::Done { translation_id: self.connection_id, generation: race, pvd, status, name, by_type }
            }
        }
    }

    /// The end of a network's translation that the race cut short, shown when asked.
    fn show_done(&self, race: u64, network: u32, status: Status, shared: &Shared) {
        let Some(pvd) = self.asked.get(&network).filter(|_| self.translations) else { return };
        shared.outbox.push_all([Message::Dns(DnsEvent::Done {
            translation_id: self.connection_id,
            generation: race,
            pvd: pvd.clone(),
            status,
            name: self.name.ascii.clone(),
            by_type: ByType::default(),
        })]);
    }

    fn note_resolving(&mut self, net: &Network, pvd: u64, server: Option<IpAddr>, now: Instant) {
        let started = now.saturating_duration_since(self.started);
        for family in [Family::V6, Family::V4] {
            self.report.resolutions.push(ResolutionReport {
                ifindex: net.ifindex,
                ifname: net.ifname.clone(),
                pvd,
                family,
                server,
                started,
                elapsed: None,
                answers: 0,
                status: None,
            });
        }
    }

    fn note_answer(&mut self, network: u32, addr: IpAddr, server: Option<IpAddr>, now: Instant) {
        let family = Family::of(&addr);
        let started = self.started;
        if let Some(row) = self.report.resolutions.iter_mut().rev().find(|r| r.ifindex == network && r.family == family)
        {
            row.answers = row.answers.saturating_add(1);
            if row.elapsed.is_none() {
                row.elapsed = Some(now.saturating_duration_since(started).saturating_sub(row.started));
            }
            if server.is_some() {
                row.server = server;
            }
        }
    }

    /// The network's translation ended: each record type that gave nothing gets its own
    /// lookup's outcome, else the translation's (hosts file, no servers, gone).
    fn note_done(&mut self, network: u32, status: Status, by_type: ByType, now: Instant) {
        let since = now.saturating_duration_since(self.started);
        for row in self.report.resolutions.iter_mut().filter(|r| r.ifindex == network && r.answers == 0) {
            if row.elapsed.is_none() {
                let own = if row.family == Family::V6 { by_type.v6 } else { by_type.v4 };
                row.elapsed = Some(since.saturating_sub(row.started));
                row.status = Some(own.filter(|s| *s != Status::Done).unwrap_or(match status {
                    // The other type answered: this one had no data.
                    Status::Done => Status::NoData,
                    other => other,
                }));
            }
        }
    }

    fn note_attempt_end(&mut self, attempt: usize, local: Option<SocketAddr>, errno: i32, now: Instant) {
        let since = now.saturating_duration_since(self.started);
        if let Some(row) = self.attempt_rows.get(&attempt).and_then(|i| self.report.attempts.get_mut(*i)) {
            row.local = local.or(row.local);
            row.errno = errno;
            row.elapsed = Some(since.saturating_sub(row.started));
        }
    }

    /// The report as it stands at the end: each attempt's outcome from the racer.
    fn finish_report(&mut self, now: Instant) -> EstablishmentReport {
        let since = now.saturating_duration_since(self.started);
        for record in self.racer.attempts() {
            if let Some(row) = self.attempt_rows.get(&record.attempt).and_then(|i| self.report.attempts.get_mut(*i)) {
                // Still connecting when the race ended: closed with it.
                row.outcome = match record.outcome {
                    AttemptOutcome::Running => AttemptOutcome::Abandoned,
                    other => other,
                };
                if row.elapsed.is_none() {
                    row.elapsed = Some(since.saturating_sub(row.started));
                }
            }
        }
        // Translations the end of the race stopped.
        for row in self.report.resolutions.iter_mut().filter(|r| r.elapsed.is_none()) {
            row.elapsed = Some(since.saturating_sub(row.started));
            row.status = Some(Status::Cancelled);
        }
        std::mem::take(&mut self.report)
    }

    fn not_connected(&mut self, generation: u64, errno: i32, now: Instant) -> ConnectEvent {
        let report = self.finish_report(now);
        let pvd = PvdInfo { id: 0, ifindex: 0, ifname: String::new(), family: Family::V4, name: String::new() };
        ConnectEvent::NotConnected {
            connection_id: self.connection_id,
            generation,
            pvd,
            remote: SocketAddr::new(IpAddr::from([0, 0, 0, 0]), self.port),
            error: errno,
            text: std::mem::take(&mut self.last_failure),
            elapsed: now.saturating_duration_since(self.started),
            report: Some(Box::new(report)),
        }
    }
}
