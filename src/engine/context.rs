//! A context: one subscriber with its engine thread. Opening it, and the requests an
//! application thread carries out itself (subscriptions, Get Configuration Data, the
//! first DNS queries) or hands to the engine (connects).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::Mutex;

use super::by_name::{FollowSpec, NameRequest, MIN_ATTEMPT_DELAY};
use super::config::{default_socket_budget, lingering_cap, Config, TestHooks};
use super::connector::{start_first, ConnectConfig, ConnectEvent, ConnectRequest, FirstAttempt, MAX_RACING};
use super::event_loop::{Engine, EngineRequest, StopHandle};
use super::helping::{Helping, HELP_MAX_TRANSLATIONS};
use super::logs::LogRecords;
use super::message::Message;
use super::operations::{Kind, Operation, Operations, Subject};
use super::outbox::Outbox;
use super::request::{ConnectToName, Preference, Request, Target};
use super::resolver::{DnsEvent, DnsShared, HeldSend, Job, Resolver};
use super::shared::Shared;
use crate::core::dns::{QueryName, Status};
use crate::core::model::{Announcement, Family, HostModel, Network, PvdInfo};
use crate::core::mptcp::{carried_elsewhere, Continuity};
use crate::core::race::{RaceConfig, Rank};
use crate::core::Error;
use crate::log::{log_at, route_to, LogSink};
use crate::os::files::{FileSources, SourcePaths};
use crate::os::rtnetlink::{DumpError, DumpSocket, EventSocket, Patience};
use crate::os::{error_of, pin, sys};

pub struct Context {
    pub(super) shared: Arc<Shared>,
    pub(super) stop: StopHandle,
    thread: Option<JoinHandle<()>>,
    pub(super) requests: crossbeam_channel::Sender<EngineRequest>,
    test: TestHooks,
    /// The context's connect pacing, the defaults of a Connect to Name.
    connect: ConnectConfig,
    /// Connect to PvD (3.2.7.21): the PvD used by requests that name pvd 0.
    default_pvd: Mutex<Option<u64>>,
    /// The application asked for `notify_fd` (see `DnsShared::place_for_application`).
    waits_on_fd: AtomicBool,
}

impl Context {
    pub fn open(config: Config) -> Result<Context, Error> {
        let logs = (config.log_level > 0).then(|| Arc::new(LogRecords::new(config.log_level)));
        let route = logs.as_ref().map(|logs| route_to(Arc::clone(logs) as Arc<dyn LogSink>));
        let fail = |what: &str, e: io::Error| {
            log_at!(Warn, "mif_open: {what}: {e}");
            error_of(&e)
        };
        let outbox = Outbox::new(config.max_queued_messages).map_err(|e| fail("eventfd", e))?;
        let socket_budget = config.max_sockets.unwrap_or_else(|| default_socket_budget(sys::descriptor_limit()));
        let mut config = config;
        config.max_sockets = Some(socket_budget);
        // Subscribe before dumping so that no change falls between dump and events.
        let events = EventSocket::open(config.netlink_rcvbuf).map_err(|e| fail("rtnetlink event socket", e))?;
        let mut dumper = DumpSocket::open().map_err(|e| fail("rtnetlink dump socket", e))?;
        let snapshot = dumper.snapshot(Patience::Wait).map_err(|e| match e {
            DumpError::Io(e) => fail("rtnetlink dump", e),
            DumpError::Interrupted { .. } => {
                log_at!(Warn, "mif_open: {e}");
                Error::System
            }
        })?;
        let mut files = FileSources::open(SourcePaths::new(&config.root_dir, config.config_file.as_deref()))
            .map_err(|e| fail("inotify", e))?;
        let mut model = HostModel::new();
        model.set_going_away_horizon(config.going_away_horizon);
        let mut nothing = Vec::new();
        let now = Instant::now();
        // The files first, while the model holds no interface: the snapshot's pass then
        // works out every view once, with their elements (the other order computed
        // every view twice: a tenth of `mif_open` on 601 interfaces).
        model.apply_all(files.scan_all(), now, &mut nothing);
        model.resync(snapshot, now, &mut nothing);
        // RA options cannot be dumped: a new context learns them from the answer to its
        // Router Solicitation (the engine sends it) or the next RA. Marked here, before
        // the first post can ask.
        model.set_learning_window(config.learning_window);
        for ifindex in model.ipv6_links() {
            model.learn(ifindex, Family::V6, now);
        }
        let poll = mio::Poll::new().map_err(|e| fail("mio poll", e))?;
        let resolver =
            Resolver::new(config.dns, &config.root_dir, config.test.use_bindtodevice(), lingering_cap(socket_budget));
        let registry = poll.registry().try_clone().map_err(|e| fail("mio registry", e))?;
        let dns = DnsShared::new(resolver, registry, outbox.borrow_fd()).map_err(|e| fail("DNS socket set", e))?;
        let app_set = dns.app_set();
        let dns_sleepers = dns.sleepers();
        let dns_sockets = dns.duplicate_sockets_fd().map_err(|e| fail("dup", e))?;
        let shared = Arc::new(Shared {
            model: Mutex::new(model),
            dns: Mutex::new(dns),
            dns_sockets,
            app_set,
            dns_sleepers,
            operations: Mutex::new(Operations::new(socket_budget)),
            outbox,
            logs,
            race_dns: Mutex::new(Vec::new()),
            engine_waker: std::sync::OnceLock::new(),
            delivered: Mutex::new(std::collections::VecDeque::new()),
            following: Mutex::new(std::collections::HashSet::new()),
        });
        drop(route);
        shared.flush_logs();
        let (requests, request_rx) = crossbeam_channel::unbounded();
        let engine = Engine::new(Arc::clone(&shared), poll, events, dumper, files, request_rx, &config)
            .map_err(|e| fail("mio poll", e))?;
        let stop = engine.stop_handle();
        let thread = std::thread::Builder::new()
            .name("mif-engine".into())
            .spawn(move || engine.run())
            .map_err(|e| fail("engine thread", e))?;
        Ok(Context {
            shared,
            stop,
            thread: Some(thread),
            requests,
            test: config.test,
            connect: config.connect,
            default_pvd: Mutex::new(None),
            waits_on_fd: AtomicBool::new(false),
        })
    }

    /// The descriptor that polls readable while a message waits, or, while a few
    /// translations are out, a DNS answer that `take` reads (fd mode: an application
    /// that asks for it waits on it).
    pub fn notify_fd(&self) -> i32 {
        if !self.waits_on_fd.load(Ordering::Acquire) && !self.waits_on_fd.swap(true, Ordering::AcqRel) {
            let route = self.shared.route_logs();
            let mut dns = self.shared.dns.lock();
            let translations = self.shared.operations.lock().translations();
            dns.application_waits_on_fd(translations);
            drop(dns);
            drop(route);
            self.shared.flush_logs();
        }
        self.shared.app_set.raw_fd()
    }

    /// Whether the application asked for `notify_fd` (fd mode may be on).
    pub(super) fn asked_for_fd(&self) -> bool {
        self.waits_on_fd.load(Ordering::Acquire)
    }

    /// Takes the oldest waiting message. Taking the overflow message queues the
    /// complete state of every subscription again; taking a Connected message gives
    /// its socket to the application (it leaves the socket budget).
    pub fn take(&self) -> Option<Message> {
        self.shared.flush_logs();
        let message = match self.shared.outbox.pop() {
            Some(message) => message,
            None if !self.asked_for_fd() => return None,
            // Fd mode: the descriptor may have woken the application for a DNS answer,
            // read here. (After a panic there, the final ENGINE_FAILED message waits.)
            None => {
                // Diagnostics of the answers read here are messages too.
                let route = self.shared.route_logs();
                let read = self.shared.read_answers_for_application();
                drop(route);
                if read == Some(false) {
                    return None;
                }
                self.shared.flush_logs();
                self.shared.outbox.pop()?
            }
        };
        let message = self.judge_continuity(message);
        match &message {
            Message::Overflow { .. } => {
                let mut model = self.shared.model.lock();
                let mut out = Vec::new();
                model.reannounce(Instant::now(), &mut out);
                self.shared.outbox.push_state(out.into_iter().map(Message::Announcement));
            }
            Message::Connect(event) => {
                if let ConnectEvent::Connected { connection_id, local, pvd, mptcp, .. } = event {
                    let active = matches!(mptcp, super::connector::Mptcp::Active);
                    self.remember_delivered(*connection_id, local.ip(), pvd.ifindex, active);
                }
                let mut operations = self.shared.operations.lock();
                if matches!(event, ConnectEvent::Connected { .. }) {
                    operations.release_queued_socket();
                }
                let (id, generation) = event.ids();
                operations.final_taken(Kind::Connect, id, generation);
            }
            Message::Dns(DnsEvent::Done { translation_id, generation, .. }) => {
                self.shared.operations.lock().final_taken(Kind::Translation, *translation_id, *generation);
            }
            _ => {}
        }
        Some(message)
    }

    /// A watched MPTCP connection's warning says whether the kernel can carry it: judged
    /// now, from the kernel's endpoint table (read without privilege) and the host as
    /// the model sees it.
    fn judge_continuity(&self, message: Message) -> Message {
        let (ifindex, ipv4) = match &message {
            Message::Announcement(
                Announcement::ConnectionGoingAway { pvd, continuity: Continuity::Unknown, .. }
                | Announcement::ConnectionGone { pvd, continuity: Continuity::Unknown, .. },
            ) => (pvd.ifindex, pvd.family == Family::V4),
            _ => return message,
        };
        let judged = match crate::os::mptcp::endpoints() {
            Ok(endpoints) => {
                let model = self.shared.model.lock();
                if carried_elsewhere(&endpoints, ipv4, ifindex, |ip| model.interface_of_address(ip)) {
                    Continuity::Kernel
                } else {
                    Continuity::Reconnect
                }
            }
            Err(e) => {
                log_at!(Debug, "MPTCP endpoints unreadable: {e}");
                Continuity::Unreadable
            }
        };
        match message {
            Message::Announcement(Announcement::ConnectionGoingAway {
                connection_id,
                pvd,
                deadline_ms,
                reason,
                ..
            }) => Message::Announcement(Announcement::ConnectionGoingAway {
                connection_id,
                pvd,
                deadline_ms,
                reason,
                continuity: judged,
            }),
            Message::Announcement(Announcement::ConnectionGone { connection_id, local, pvd, reason, .. }) => {
                Message::Announcement(Announcement::ConnectionGone {
                    connection_id,
                    local,
                    pvd,
                    reason,
                    continuity: judged,
                })
            }
            other => other,
        }
    }

    /// The application began to close the context: every thread waiting in `check`
    /// wakes with `Closed`; the context is dropped once they have left.
    pub fn begin_close(&self) {
        self.shared.outbox.shut();
    }

    /// Runs an application call on this context with its diagnostics routed here, then
    /// queues them (`logs`).
    fn routed<R>(&self, call: impl FnOnce() -> R) -> R {
        let route = self.shared.route_logs();
        let result = call();
        drop(route);
        self.shared.flush_logs();
        result
    }

    pub fn post(&self, request: Request) -> Result<(), Error> {
        self.routed(|| self.post_routed(request))
    }

    fn post_routed(&self, request: Request) -> Result<(), Error> {
        // Read together: a close between two reads looked like an engine failure.
        match self.shared.outbox.shut_and_closed() {
            (true, _) => return Err(Error::Closed),
            (false, true) => return Err(Error::EngineFailed),
            (false, false) => {}
        }
        // A request whose results must be queued is refused while the queue is full: the
        // results are never left out, so this is what bounds them.
        let answered = matches!(
            request,
            Request::TranslateName { .. }
                | Request::Connect { .. }
                | Request::ConnectToName(_)
                | Request::GetConfigurationData { .. }
                | Request::GetConnectionStates { .. }
                | Request::WantConnect
        );
        if answered && self.shared.outbox.is_full() {
            return Err(Error::QueueFull);
        }
        match request {
            Request::TranslateName { pvd, translation_id, name } => self.translate(pvd, translation_id, name),
            Request::StopTranslatingName { translation_id } => self.stop_translating(translation_id),
            Request::Connect { pvd, connection_id, remote, local, mptcp } => {
                self.connect(pvd, connection_id, remote, local, mptcp)
            }
            Request::ConnectToPvd { pvd } => {
                if !self.shared.model.lock().has_pvd(pvd) {
                    return Err(Error::UnknownPvd);
                }
                *self.default_pvd.lock() = Some(pvd);
                Ok(())
            }
            Request::CancelConnect { connection_id } => self.cancel_connect(connection_id),
            Request::ConnectToName(request) => self.connect_to_name(request),
            Request::WatchConnection { connection_id } => self.watch_connection(connection_id),
            // The C layer borrows the descriptor and calls `watch_socket`.
            Request::WatchSocket { .. } => Err(Error::InvalidArgument),
            Request::StopWatching { connection_id } => self.shared.model.lock().unwatch_connection(connection_id),
            Request::ConnectionIntent { connection_id, intent } => self.connection_intent(connection_id, intent),
            Request::GetConnectionStates { ifindex } => self.connection_states(ifindex),
            Request::WantConnect => self.want_connect(),
            subscription => self.subscription(subscription),
        }
    }

    /// The model's requests: subscriptions and Get Configuration Data. Their messages
    /// are queued before this returns.
    fn subscription(&self, request: Request) -> Result<(), Error> {
        let mut model = self.shared.model.lock();
        let mut out = Vec::new();
        let now = Instant::now();
        let result = match request {
            Request::AnnounceInterfaces => {
                model.announce_interfaces(&mut out);
                Ok(())
            }
            Request::StopAnnouncingInterfaces => model.stop_announcing_interfaces(),
            Request::AnnouncePvds { ifindex } => model.announce_pvds(ifindex, now, &mut out),
            Request::StopAnnouncingPvds { ifindex } => model.stop_announcing_pvds(ifindex),
            Request::AnnounceAddresses { pvd } => model.announce_addresses(pvd, now, &mut out),
            Request::StopAnnouncingAddresses { pvd } => model.stop_announcing_addresses(pvd),
            Request::AnnounceElements { pvd } => model.announce_elements(pvd, now, &mut out),
            Request::StopAnnouncingElements { pvd } => model.stop_announcing_elements(pvd),
            Request::GetConfigurationData { pvd, kind, info } => {
                model.get_configuration_data(pvd, kind, info, &mut out)
            }
            other => unreachable!("not a model request: {other:?}"),
        };
        // Queue while still holding the model lock, so these messages keep their place
        // relative to the engine's.
        self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        if result.is_ok() {
            if let Some(withdrawn) = withdrawn_by(&request) {
                self.shared.outbox.retain(|m| !withdrawn(m));
            }
        }
        result
    }

    /// Translate Name: checked here; the hosts file is read and the queries are sent
    /// from this thread (the engine reads the replies, or in fd mode the application's
    /// threads).
    fn translate(&self, pvd: u64, translation_id: u64, name: QueryName) -> Result<(), Error> {
        let model = self.shared.model.lock();
        let link = model.pvd_link(pvd).ok_or(Error::UnknownPvd)?;
        // The resolver is locked before the id is registered and before the model is
        // let go: a Stop for this id (it takes the resolver's lock to cancel) and a link
        // change the engine applies both come after the queries are registered, and find
        // them. Should they come before a held send leaves (`HeldSend`), a Stop leaves
        // the socket lingering, and a link change that ends the PvD closes it once the
        // send lets go of it.
        let dns = self.shared.dns.lock();
        let mut operations = self.shared.operations.lock();
        let subject = Subject::Name(name.ascii.clone());
        // A translation's A and AAAA lookups each hold a socket at a time.
        let generation =
            operations.start(Kind::Translation, translation_id, link.info.clone(), subject, Instant::now(), 2)?;
        // Alone, this translation's answers rarely arrive before its post returns (the
        // A and the AAAA query leave together): nothing to read here (should they, the
        // engine reads them once the set is back in its poll, or in fd mode an
        // application thread).
        let translations = operations.translations();
        let help = (2..=HELP_MAX_TRANSLATIONS).contains(&translations);
        drop(operations);
        let mut dns = dns;
        dns.place_for_application(translations);
        let learning_until = model.learning_until(pvd);
        drop(model);
        let shared = &self.shared;
        let done = shared.fail_on_panic(|| {
            // The first answer often arrives while the second query is being sent: this
            // thread reads it (below) instead of the engine waking up for it and waiting
            // for this lock.
            let mut dns = Helping::begin(dns, help, shared);
            let mut out = Vec::new();
            let job = Job { translation_id, generation, pvd, name };
            let held = match learning_until {
                // The engine starts it once the PvD's configuration is learned (a name
                // in the hosts file needs no DNS configuration: answered now).
                Some(until) if !dns.in_hosts_file(&job.name) => {
                    dns.wait_for_learning(job, until);
                    None
                }
                _ if help => {
                    dns.start(job, Some(link), Instant::now(), &mut out);
                    None
                }
                // Not helping (one translation out, or more than 4): the queries leave
                // once this lock is let go (`HeldSend`).
                _ => dns.start_holding_sends(job, Some(link), Instant::now(), &mut out),
            };
            if self.test.panic_translate {
                panic!("test-requested panic in a translate post (MIF_TEST_PANIC_TRANSLATE)");
            }
            shared.emit_dns_locked(out);
            let mut finished = if help { dns.process(|events| shared.emit_dns_locked(events)) } else { Vec::new() };
            if let Some(held) = held {
                // The set goes back to the engine once the queries are out (`send_held`):
                // until then nothing can be answered, and the set is out only while no
                // other query is out or a thread helps (`DnsShared`'s invariant).
                drop(dns);
                send_held(shared, held);
                return;
            }
            if !help {
                watch_dns_sockets(&mut dns, shared);
            }
            // Sockets an earlier wait left open close now that this post's queries are
            // out (`DnsShared::defer_close`).
            finished.extend(dns.take_closing());
            drop(dns);
            drop(finished);
        });
        done.ok_or(Error::Internal)
    }

    /// Stop Translating Name: the final "cancelled" message is queued before this
    /// returns and waiting results of the translation are withdrawn, also when the
    /// translation has ended but its results wait in the queue still.
    fn stop_translating(&self, translation_id: u64) -> Result<(), Error> {
        let mut operations = self.shared.operations.lock();
        let (op, outstanding) = match operations.cancel(Kind::Translation, translation_id) {
            Some(op) => (op, true),
            None => {
                (operations.take_finished(Kind::Translation, translation_id).ok_or(Error::UnknownTranslation)?, false)
            }
        };
        let generation = op.generation;
        let withdrawn =
            self.shared.outbox.take_matching(|m| matches!(m, Message::Dns(e) if e.generation() == generation));
        if !outstanding && withdrawn.is_empty() {
            return Err(Error::UnknownTranslation);
        }
        let name = match &op.subject {
            Subject::Name(name) => name.clone(),
            Subject::Remote(_) => String::new(),
        };
        self.shared.outbox.push_all([Message::Dns(DnsEvent::Done {
            translation_id,
            generation,
            pvd: op.pvd.clone(),
            status: Status::Cancelled,
            name,
            by_type: Default::default(),
        })]);
        operations.queued_final(Kind::Translation, translation_id, op);
        drop(operations);
        drop(withdrawn);
        if outstanding {
            self.shared.dns.lock().cancel(generation);
        }
        Ok(())
    }

    /// The PvD a request means: its own, or the default for pvd 0.
    fn pvd_or_default(&self, pvd: u64) -> Result<u64, Error> {
        if pvd != 0 {
            return Ok(pvd);
        }
        self.default_pvd.lock().ok_or(Error::NoDefaultPvd)
    }

    /// Connect to Address (From Address): checked here, carried out by the engine.
    fn connect(
        &self,
        pvd: u64,
        connection_id: u64,
        remote: SocketAddr,
        local: Option<IpAddr>,
        mptcp: bool,
    ) -> Result<(), Error> {
        let pvd = self.pvd_or_default(pvd)?;
        let model = self.shared.model.lock();
        let link = model.pvd_link(pvd).ok_or(Error::UnknownPvd)?;
        let family_ok = match link.info.family {
            Family::V4 => remote.is_ipv4(),
            Family::V6 => remote.is_ipv6(),
        };
        if !family_ok {
            return Err(Error::BadAddress);
        }
        if let Some(local) = local {
            let valid = link.addrs.iter().any(|(a, _, f)| *a == local && !f.tentative && !f.dadfailed);
            if !valid {
                return Err(Error::BadSource);
            }
        }
        let started = Instant::now();
        // The attempts it may run at once, each a socket.
        let max_parallel = match local {
            Some(_) => 1,
            None => link.sources_for(&remote.ip()).len().clamp(1, MAX_RACING),
        };
        let generation = self.shared.operations.lock().start(
            Kind::Connect,
            connection_id,
            link.info.clone(),
            Subject::Remote(remote),
            started,
            max_parallel,
        )?;
        drop(model);
        let mut request =
            ConnectRequest { connection_id, generation, pvd, remote, local, started, max_parallel, mptcp, first: None };
        // The first attempt starts here, as a translation's queries leave from its post.
        let first =
            self.shared.fail_on_panic(|| start_first(&request, &link, self.test.use_bindtodevice(), Instant::now));
        match first.ok_or(Error::Internal)? {
            FirstAttempt::Connected(event) => {
                // Done before the engine heard of it: no hand-off at all.
                self.shared.emit_connect(vec![event]);
                return Ok(());
            }
            FirstAttempt::Started(attempt) => request.first = Some(attempt),
            FirstAttempt::NotStarted => {}
        }
        if self.requests.send(EngineRequest::Connect(request)).is_err() {
            self.shared.operations.lock().cancel(Kind::Connect, connection_id);
            return Err(Error::EngineFailed);
        }
        self.stop.wake();
        Ok(())
    }

    /// Connect to Name: the selection is checked against the networks present and
    /// applied here (docs/connect-by-name.md); the engine races.
    fn connect_to_name(&self, request: ConnectToName) -> Result<(), Error> {
        let model = self.shared.model.lock();
        // Each selection names a network: an interface, or the interface of a PvD.
        let mut chosen: Vec<(u32, Preference)> = Vec::new();
        for s in &request.selections {
            let ifindex = match s.target {
                Target::Interface(i) if model.has_interface(i) => i,
                Target::Interface(_) => return Err(Error::UnknownInterface),
                Target::Pvd(p) => model.pvd_link(p).ok_or(Error::UnknownPvd)?.info.ifindex,
            };
            match chosen.iter().find(|(i, _)| *i == ifindex) {
                Some((_, p)) if *p != s.preference => return Err(Error::BadSelection),
                Some(_) => {}
                None => chosen.push((ifindex, s.preference)),
            }
        }
        let networks = race_networks(&model, &chosen, None);
        drop(model);
        let config = RaceConfig {
            attempt_delay: request.attempt_delay.unwrap_or(self.connect.attempt_delay).max(MIN_ATTEMPT_DELAY),
            timeout: request.timeout.unwrap_or(self.connect.timeout),
            family: request.family,
            ..RaceConfig::default()
        };
        let started = Instant::now();
        // Its attempts in flight and each network's A and AAAA queries.
        let sockets = config.max_in_flight + 2 * networks.len();
        let nobody = PvdInfo { id: 0, ifindex: 0, ifname: String::new(), family: Family::V4, name: String::new() };
        let subject = Subject::Name(request.name.ascii.clone());
        let connection_id = request.connection_id;
        let generation =
            self.shared.operations.lock().start(Kind::Connect, connection_id, nobody, subject, started, sockets)?;
        let follow = request.follow.then(|| FollowSpec {
            chosen: chosen.clone(),
            name: request.name.clone(),
            port: request.port,
            config,
            mptcp: request.mptcp,
            translations: request.translations,
        });
        let race = NameRequest {
            connection_id,
            generation,
            name: request.name,
            port: request.port,
            networks,
            config,
            started,
            mptcp: request.mptcp,
            translations: request.translations,
            follow,
            replacement: false,
        };
        if self.requests.send(EngineRequest::ConnectToName(Box::new(race))).is_err() {
            self.shared.operations.lock().cancel(Kind::Connect, connection_id);
            return Err(Error::EngineFailed);
        }
        self.stop.wake();
        Ok(())
    }

    /// Cancel: the final Not Connected (ECANCELED) is queued before this returns. Once
    /// the engine has queued the result the id is no longer outstanding: the cancel is
    /// refused (`UnknownConnection`) and that result stands.
    fn cancel_connect(&self, connection_id: u64) -> Result<(), Error> {
        let mut operations = self.shared.operations.lock();
        let Some(op) = operations.cancel(Kind::Connect, connection_id) else {
            // Its result may be queued still: withdrawn (a Connected's socket closed
            // with it), the cancellation takes its place.
            let Some(op) = operations.take_finished(Kind::Connect, connection_id) else {
                drop(operations);
                // Followed and connected (its Connected taken): following ends, quietly.
                return if self.end_following(connection_id) { Ok(()) } else { Err(Error::UnknownConnection) };
            };
            let generation = op.generation;
            let withdrawn = self.shared.outbox.take_matching(|m| match m {
                Message::Connect(e) => e.ids() == (connection_id, generation),
                // A Connect to Name's own translations (MIF_CONNECT_TRANSLATIONS).
                Message::Dns(e) => e.generation() == generation,
                _ => false,
            });
            if !withdrawn.iter().any(|m| matches!(m, Message::Connect(_))) {
                return Err(Error::UnknownConnection);
            }
            for m in &withdrawn {
                if matches!(m, Message::Connect(ConnectEvent::Connected { .. })) {
                    operations.release_queued_socket();
                }
            }
            self.queue_cancelled(&mut operations, connection_id, op);
            drop(operations);
            drop(withdrawn);
            self.end_following(connection_id);
            return Ok(());
        };
        let generation = op.generation;
        // A Connect to Name's own translations shown so far (MIF_CONNECT_TRANSLATIONS).
        let shown = self.shared.outbox.take_matching(|m| matches!(m, Message::Dns(e) if e.generation() == generation));
        self.queue_cancelled(&mut operations, connection_id, op);
        drop(operations);
        drop(shown);
        let _ = self.requests.send(EngineRequest::CancelConnect { generation });
        self.stop.wake();
        Ok(())
    }

    /// Queues the Not Connected (ECANCELED) that ends connect `op`; until it is taken,
    /// another cancel replaces it. Called with the operations locked (`operations`).
    /// Ends the following of `connection_id` (`MIF_CONNECT_FOLLOW`); whether it was.
    fn end_following(&self, connection_id: u64) -> bool {
        if !self.shared.following.lock().remove(&connection_id) {
            return false;
        }
        let _ = self.requests.send(EngineRequest::StopFollowing { connection_id });
        self.stop.wake();
        true
    }

    fn queue_cancelled(&self, operations: &mut Operations, connection_id: u64, op: Operation) {
        let remote = match op.subject {
            Subject::Remote(remote) => remote,
            Subject::Name(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        self.shared.outbox.push_all([Message::Connect(ConnectEvent::NotConnected {
            connection_id,
            generation: op.generation,
            pvd: op.pvd.clone(),
            remote,
            error: libc::ECANCELED,
            text: "cancelled by the application".into(),
            elapsed: op.started.elapsed(),
            report: None,
        })]);
        operations.queued_final(Kind::Connect, connection_id, op);
    }

    /// mif_bind_socket: pins the application's socket to a PvD. `socket` is `None` for
    /// a negative descriptor, refused after the PvD is checked.
    pub fn bind_socket(&self, socket: Option<BorrowedFd<'_>>, pvd: u64, bind_source: bool) -> Result<(), Error> {
        self.routed(|| self.bind_socket_routed(socket, pvd, bind_source))
    }

    fn bind_socket_routed(&self, socket: Option<BorrowedFd<'_>>, pvd: u64, bind_source: bool) -> Result<(), Error> {
        let pvd = self.pvd_or_default(pvd)?;
        let link = self.shared.model.lock().pvd_link(pvd).ok_or(Error::UnknownPvd)?;
        let socket = socket.ok_or(Error::InvalidArgument)?;
        let socket = socket2::SockRef::from(&socket);
        let domain = socket.domain().map_err(|_| Error::InvalidArgument)?;
        let v4 = domain == socket2::Domain::IPV4;
        let family_ok = match link.info.family {
            Family::V4 => domain == socket2::Domain::IPV4,
            Family::V6 => domain == socket2::Domain::IPV6,
        };
        if !family_ok {
            return Err(Error::BadAddress);
        }
        pin::pin_to_link(&socket, v4, link.info.ifindex, &link.info.ifname, self.test.use_bindtodevice())
            .map_err(|e| error_of(&e))?;
        if bind_source {
            let src = link.preferred_source(v4).ok_or(Error::BadSource)?;
            socket.bind(&SocketAddr::new(src, 0).into()).map_err(|e| error_of(&e))?;
        }
        Ok(())
    }
}

/// Which queued messages a Stop request withdraws.
type MessageFilter = Box<dyn Fn(&Message) -> bool>;

/// The networks a Connect to Name races over, in the host's order with their ranks
/// (docs/connect-by-name.md): `chosen` are its selections by interface; `exclude` is
/// left out too (a followed connection's network that is going).
pub(super) fn race_networks(
    model: &HostModel,
    chosen: &[(u32, Preference)],
    exclude: Option<u32>,
) -> Vec<(Network, Rank)> {
    let preference = |ifindex: u32| chosen.iter().find(|(i, _)| *i == ifindex).map(|(_, p)| *p);
    let required = chosen.iter().any(|(_, p)| *p == Preference::Require);
    model
        .networks()
        .into_iter()
        .filter_map(|n| {
            if Some(n.ifindex) == exclude {
                return None;
            }
            let rank = match preference(n.ifindex) {
                Some(Preference::Prohibit) => return None,
                // Loopback takes part only when a selection names it.
                None if n.loopback => return None,
                _ if required && preference(n.ifindex) != Some(Preference::Require) => return None,
                Some(Preference::Prefer) => Rank::Prefer,
                Some(Preference::Avoid) => Rank::Avoid,
                Some(Preference::Require) | None => Rank::Neutral,
            };
            Some((n, rank))
        })
        .collect()
}

/// For a Stop request: which waiting messages belong to the subscription it ends.
fn withdrawn_by(request: &Request) -> Option<MessageFilter> {
    use Announcement as A;
    match *request {
        Request::StopAnnouncingInterfaces => {
            Some(Box::new(|m| matches!(m, Message::Announcement(A::Interface { .. } | A::NoInterface { .. }))))
        }
        Request::StopAnnouncingPvds { ifindex } => Some(Box::new(
            move |m| matches!(m, Message::Announcement(A::Pvd { pvd: p, .. } | A::NoPvd(p) | A::PvdConfigComplete(p)) if p.ifindex == ifindex),
        )),
        Request::StopAnnouncingAddresses { pvd } => Some(Box::new(
            move |m| matches!(m, Message::Announcement(A::Address { pvd: p, .. } | A::NoAddress { pvd: p, .. }) if p.id == pvd),
        )),
        Request::StopAnnouncingElements { pvd } => Some(Box::new(
            move |m| matches!(m, Message::Announcement(A::Element { pvd: p, .. } | A::NoElement { pvd: p, .. }) if p.id == pvd),
        )),
        _ => None,
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends the queries a post left to send with no lock held (`HeldSend`), then hands
/// back under the resolver's lock what became of them; the sockets done with close
/// once the lock is let go.
fn send_held(shared: &Shared, held: HeldSend) {
    let sent = held.send();
    let mut dns = shared.dns.lock();
    let mut out = Vec::new();
    let closing = dns.held_sent(sent, &mut out);
    shared.emit_dns_locked(out);
    // The queries are out (a failed send may have launched others, or ended the last):
    // the engine watches for their answers unless a thread helps.
    watch_dns_sockets(&mut dns, shared);
    // Sockets an earlier wait left open close now that this post's queries are out
    // (`DnsShared::defer_close`).
    let earlier = dns.take_closing();
    drop(dns);
    drop((closing, earlier));
}

/// Puts the query socket set back in the engine's poll if no thread helps and a query
/// is out (`DnsShared::watch_if_needed`). Should that fail, the engine would not see
/// the answers: the context ends.
fn watch_dns_sockets(dns: &mut DnsShared, shared: &Shared) {
    if let Err(e) = dns.watch_if_needed() {
        shared.fail(Error::System, format!("cannot give the DNS sockets to the engine: {e}"));
    }
}
