//! The engine thread: one mio `Poll` per context, in the shape of c-ares' event
//! thread: wait, process what is ready, apply it to the model under its lock,
//! queue the announcements. It never calls the application. No timer runs while
//! nothing happens, so an idle engine does not wake up.
use std::io;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Waker};
use parking_lot::MutexGuard;

use super::by_name::{Io, NameRaces, NameRequest};
use super::config::{lingering_cap, Config, SOCKET_BUDGET_MAX};
use super::connector::{ConnectEvent, ConnectRequest, Connector};
use super::endpoints::ManagedEndpoints;
use super::follow::Follows;
use super::message::Message;
use super::operations::Kind;
use super::shared::Shared;
use super::tokens::{DNS_SOCKETS, DNS_TIMER, FILES, NETLINK, RA_LISTENER, WAKER};
use super::want_connect::Hooks;
use crate::core::model::{Fact, Family, HostModel};
use crate::core::solicitation::SolicitationPacer;
use crate::core::Error;
use crate::log::{log_at, panic_text};
use crate::os::files::{FileSources, POLL_INTERVAL};
use crate::os::ra_listener::{KernelForwards, RaListener};
use crate::os::rtnetlink::{parse_datagram, DumpError, DumpSocket, EventSocket, Patience, RECV_BUFFER_SIZE};
use crate::os::solicit::solicit_routers;
use crate::os::sys;

/// Work the application's threads hand to the engine.
#[derive(Debug)]
pub(crate) enum EngineRequest {
    Connect(ConnectRequest),
    ConnectToName(Box<NameRequest>),
    CancelConnect {
        generation: u64,
    },
    /// Draft 3.2.7.26.1 (`want_connect`).
    WantConnect,
    /// Interfaces left with only idle or breakable watched connections.
    IdleHook {
        interfaces: Vec<u32>,
    },
    /// Cancel Connect on a followed connection between races (`follow`).
    StopFollowing {
        connection_id: u64,
    },
}

/// Wakes the engine and asks it to finish.
pub(crate) struct StopHandle {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl StopHandle {
    /// Wakes the engine to pick up queued requests.
    pub(crate) fn wake(&self) {
        if let Err(e) = self.waker.wake() {
            log_at!(Error, "cannot wake the engine thread: {e}");
        }
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            log_at!(Error, "cannot wake the engine thread: {e}");
        }
    }
}

pub(crate) struct Engine {
    pub(super) shared: Arc<Shared>,
    pub(super) poll: Poll,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    events: EventSocket,
    dumper: DumpSocket,
    pub(super) files: FileSources,
    requests: crossbeam_channel::Receiver<EngineRequest>,
    connector: Connector,
    /// Connect to Name races (`by_name`).
    races: NameRaces,
    panic_at_start: bool,
    /// Test hook (`TestHooks::engine_leaves_dns`).
    leaves_dns: bool,
    buf: Vec<u8>,
    /// A re-dump that could not complete (the kernel kept interrupting it) is tried
    /// again at this moment instead of failing the engine.
    resync_due: Option<Instant>,
    /// When the files are looked at next, if there is no inotify instance to follow them.
    files_look_due: Option<Instant>,
    /// How often Router Solicitations may go, per link.
    pub(super) pacer: SolicitationPacer,
    /// The operator's hooks running (`want_connect`).
    pub(super) hooks: Hooks,
    /// Followed connections (`follow`).
    pub(super) follows: Follows,
    /// The model's deadline the engine last slept for (`expire`).
    model_wake: Option<Instant>,
    /// MPTCP endpoints this context manages (`endpoints`).
    pub(super) endpoints: ManagedEndpoints,
    /// Whether the last Router Solicitations could go (`None`: none tried yet). Without
    /// CAP_NET_RAW the pacer still counts them as tried (`want_connect`).
    pub(super) solicitations_go: Option<bool>,
    /// The library's own ear for RAs (`None` without CAP_NET_RAW).
    ra_listener: Option<RaListener>,
    /// Per interface, whether the kernel forwards RA options itself (then the
    /// listener's copy is dropped).
    kernel_forwards: KernelForwards,
}

impl Engine {
    /// `poll` is the one whose registry `shared.dns` holds.
    pub(crate) fn new(
        shared: Arc<Shared>,
        poll: Poll,
        events: EventSocket,
        dumper: DumpSocket,
        files: FileSources,
        requests: crossbeam_channel::Receiver<EngineRequest>,
        config: &Config,
    ) -> io::Result<Engine> {
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let _ = shared.engine_waker.set(Arc::clone(&waker));
        poll.registry().register(&mut SourceFd(&events.raw_fd()), NETLINK, Interest::READABLE)?;
        if let Some(fd) = files.raw_fd() {
            poll.registry().register(&mut SourceFd(&fd), FILES, Interest::READABLE)?;
        }
        // Without inotify the files are looked at on a timer.
        let files_look_due = files.raw_fd().is_none().then(|| Instant::now() + POLL_INTERVAL);
        let timer_fd = shared.dns.lock().timer_fd();
        poll.registry().register(&mut SourceFd(&timer_fd), DNS_TIMER, Interest::READABLE)?;
        let ra_listener = match RaListener::open() {
            Ok(listener) => {
                poll.registry().register(&mut SourceFd(&listener.raw_fd()), RA_LISTENER, Interest::READABLE)?;
                Some(listener)
            }
            Err(e) => {
                log_at!(Debug, "no RA listener (RAs only where the kernel forwards them): {e}");
                None
            }
        };
        Ok(Engine {
            shared,
            poll,
            waker,
            stop: Arc::new(AtomicBool::new(false)),
            events,
            dumper,
            files,
            requests,
            connector: Connector::new(
                config.connect,
                config.test.use_bindtodevice(),
                lingering_cap(config.max_sockets.unwrap_or(SOCKET_BUDGET_MAX)),
            ),
            races: NameRaces::new(),
            panic_at_start: config.test.panic_engine,
            leaves_dns: config.test.engine_leaves_dns,
            buf: Vec::with_capacity(RECV_BUFFER_SIZE),
            resync_due: None,
            files_look_due,
            pacer: SolicitationPacer::default(),
            hooks: Hooks::default(),
            follows: Follows::default(),
            model_wake: None,
            endpoints: ManagedEndpoints::new(config.manage_mptcp_endpoints),
            solicitations_go: None,
            ra_listener,
            kernel_forwards: KernelForwards::default(),
        })
    }

    pub(crate) fn stop_handle(&self) -> StopHandle {
        StopHandle { stop: Arc::clone(&self.stop), waker: Arc::clone(&self.waker) }
    }

    /// The thread's body. A panic or a fatal error becomes the context's final
    /// message, so the application sees `mif_fd` readable instead of a hang.
    pub(crate) fn run(mut self) {
        // The whole thread is library code: a panic in it is reported as a message.
        let _inside = crate::log::InLibrary::enter();
        // The application may want this thread's diagnostics as messages.
        let _route = self.shared.route_logs();
        // Signals are the application's: a handler must run on its threads, where it
        // interrupts its waits (EINTR), never on ours.
        if let Err(e) = sys::block_all_signals() {
            log_at!(Warn, "cannot block signals in the engine thread: {e}");
        }
        let shared = Arc::clone(&self.shared);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.event_loop()));
        // Endpoints this context added never outlive it (also after a failure).
        let _ = catch_unwind(AssertUnwindSafe(|| self.release_endpoints()));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => shared.fail(Error::System, format!("engine stopped: {e}")),
            Err(panic) => shared.fail(Error::Internal, format!("engine thread panicked: {}", panic_text(&*panic))),
        }
    }

    fn event_loop(&mut self) -> io::Result<()> {
        if self.panic_at_start {
            panic!("test-requested engine panic (MIF_TEST_PANIC_ENGINE)");
        }
        // Changes that happened while mif_open dumped are already waiting.
        self.drain_netlink()?;
        self.solicit();
        let facts = self.files.drain();
        self.apply(facts);
        self.manage_endpoints();
        let mut events = Events::with_capacity(256);
        self.shared.flush_logs();
        loop {
            if self.stop.load(Ordering::Acquire) {
                return Ok(());
            }
            // Sleep until the next expiry (an RA DNS entry, a lease, a DNS query) or forever.
            let model_deadline = self.shared.model.lock().next_deadline(Instant::now());
            self.model_wake = model_deadline;
            let (deadline, dns_deadline, closing) = {
                let mut dns = self.shared.dns.lock();
                // Queries this thread started (retries, held translations, races) are
                // watched while it sleeps (in fd mode the application's descriptor
                // watches the application's; the races' are the engine's).
                dns.set_races_out(!self.races.is_empty());
                dns.watch_if_needed()?;
                let closing = dns.take_closing();
                let dns_deadline = if self.leaves_dns { None } else { dns.next_wake() };
                let deadline = [
                    model_deadline,
                    dns_deadline,
                    self.connector.next_deadline(),
                    self.races.next_deadline(),
                    self.resync_due,
                    self.files_look_due,
                    self.hooks.next_deadline(),
                ]
                .into_iter()
                .flatten()
                .min();
                // From here a post arms the timer if its queries expire earlier.
                dns.engine_wake_at = deadline;
                (deadline, dns_deadline, closing)
            };
            drop(closing);
            let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            // Ready DNS sockets are read together, under one hold of the resolver's lock.
            let mut dns_ready = false;
            for event in events.iter() {
                match event.token() {
                    NETLINK => self.drain_netlink()?,
                    FILES => {
                        let facts = self.files.drain();
                        self.apply(facts);
                    }
                    WAKER => self.take_requests(),
                    RA_LISTENER => self.drain_ra_listener(),
                    DNS_TIMER => {
                        self.shared.dns.lock().timer_fired();
                        dns_ready = true;
                    }
                    DNS_SOCKETS => dns_ready = true,
                    token if Hooks::owns(token) => {}
                    token if Connector::owns(token) => {
                        let mut out = Vec::new();
                        self.connector.ready(token, self.poll.registry(), Instant::now(), &mut out);
                        self.route_connect(out);
                    }
                    _ => {}
                }
            }
            // Queries posted while this thread slept expire later than dns_deadline; the
            // timer (above) covers those.
            if (dns_ready && !self.leaves_dns) || dns_deadline.is_some_and(|d| d <= Instant::now()) {
                self.shared.process_dns();
            }
            self.expire();
            if self.resync_due.is_some_and(|d| d <= Instant::now()) {
                self.resync_due = None;
                self.resync()?;
            }
            if self.files_look_due.is_some_and(|d| d <= Instant::now()) {
                self.files_look_due = Some(Instant::now() + POLL_INTERVAL);
                let facts = self.files.drain();
                self.apply(facts);
            }
            let mut out = Vec::new();
            self.connector.tick(self.poll.registry(), Instant::now(), &mut out);
            self.route_connect(out);
            self.run_races();
            self.check_hooks();
            self.shared.flush_logs();
        }
    }

    /// Reads the event socket until it would block (mio is edge-triggered). An
    /// ENOBUFS means the kernel dropped events: finish draining, then re-dump and
    /// let the model announce exactly the difference.
    fn drain_netlink(&mut self) -> io::Result<()> {
        let mut lost_events = false;
        let mut reread_ipv4_routes = false;
        loop {
            match self.events.recv(&mut self.buf) {
                Ok(_) => {
                    let parsed = parse_datagram(&self.buf);
                    lost_events |= parsed.overrun;
                    if parsed.undecodable > 0 {
                        log_at!(Debug, "skipped {} undecodable rtnetlink messages", parsed.undecodable);
                    }
                    // The kernel drops IPv4 routes of a link that goes down or loses its
                    // address without RTM_DELROUTE: re-read them after such changes.
                    reread_ipv4_routes |= self.apply(parsed.facts);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    lost_events = true;
                }
                Err(e) => return Err(e),
            }
        }
        if reread_ipv4_routes && !lost_events {
            match self.dumper.routes(Family::V4, Patience::Brief) {
                Ok(routes) => {
                    self.apply(vec![routes]);
                }
                // Still changing: a full re-read a little later covers the routes too.
                Err(e @ DumpError::Interrupted { .. }) => self.postpone_resync(&e),
                Err(DumpError::Io(e)) => return Err(e),
            }
        }
        if lost_events {
            log_at!(Info, "rtnetlink overrun (ENOBUFS): events lost, re-dumping");
            self.resync()?;
            // RA options lost with the overrun cannot be dumped: ask the routers again.
            self.solicit();
        }
        Ok(())
    }

    /// The RAs the library heard itself, as facts.
    fn drain_ra_listener(&mut self) {
        let Some(listener) = self.ra_listener.as_mut() else { return };
        // Where the kernel forwards the options itself, its messages are the ones kept;
        // the host's own RAs (it routes for that link: radvd, a shared connection) are
        // no router of its, as the kernel's accept_ra_from_local=0 says.
        let (forwards, shared, now) = (&mut self.kernel_forwards, &self.shared, Instant::now());
        let drained = listener.drain(|ifindex, router| {
            !forwards.of(ifindex, || shared.model.lock().interface_name(ifindex), now)
                && !shared.model.lock().is_own_address(ifindex, IpAddr::V6(router))
        });
        let heard = match drained {
            Ok(heard) => heard,
            Err(e) => {
                // The listener is an extra: without it, RAs come only where the kernel forwards.
                log_at!(Warn, "RA listener closed after an error (RAs only where the kernel forwards them): {e}");
                if let Some(listener) = self.ra_listener.take() {
                    let _ = self.poll.registry().deregister(&mut SourceFd(&listener.raw_fd()));
                }
                return;
            }
        };
        if heard.refused > 0 {
            log_at!(Debug, "{} router advertisements refused", heard.refused);
        }
        if !heard.facts.is_empty() {
            self.apply(heard.facts);
        }
    }

    /// Asks the routers of every up IPv6 interface for a fresh RA (when permitted and
    /// not too often: `core::solicitation`), and marks the IPv6 configuration of the
    /// links asked as being learned: RA options cannot be dumped, so they are awaited.
    fn solicit(&mut self) {
        let now = Instant::now();
        let links = self.shared.model.lock().ipv6_links();
        self.pacer.retain_links(|i| links.contains(&i));
        let allowed: Vec<u32> = links.iter().copied().filter(|i| self.pacer.allow(*i, now)).collect();
        let sent = solicit_routers(&allowed);
        if !allowed.is_empty() {
            self.solicitations_go = Some(!sent.is_empty());
        }
        log_at!(Debug, "sent {} router solicitations ({} links, {} allowed)", sent.len(), links.len(), allowed.len());
        let mut model = self.shared.model.lock();
        for ifindex in sent {
            model.learn(ifindex, Family::V6, now);
        }
    }

    /// The kernel kept interrupting a dump: try again in 100 ms rather than sleep here.
    fn postpone_resync(&mut self, why: &DumpError) {
        log_at!(Info, "resync postponed: {why}");
        self.resync_due.get_or_insert(Instant::now() + std::time::Duration::from_millis(100));
    }

    /// Re-reads the kernel's state and announces the difference. A dump that keeps
    /// being interrupted by a burst of changes is retried a little later.
    fn resync(&mut self) -> io::Result<()> {
        let snapshot = match self.dumper.snapshot(Patience::Brief) {
            Ok(s) => s,
            Err(e @ DumpError::Interrupted { .. }) => {
                self.postpone_resync(&e);
                return Ok(());
            }
            Err(DumpError::Io(e)) => return Err(e),
        };
        let now = Instant::now();
        let shared = Arc::clone(&self.shared);
        let mut model = shared.model.lock();
        let mut out = Vec::new();
        model.resync(snapshot, now, &mut out);
        log_at!(Info, "resync after overrun: {} announcements", out.len());
        self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        self.links_changed(model, now);
        Ok(())
    }

    /// After the model changed: connects and translations in flight whose PvD (or
    /// source address) went end at once; translations that waited for their PvD's
    /// configuration start once it is learned. Takes the model's lock guard and lets
    /// it go.
    fn links_changed(&mut self, model: MutexGuard<'_, HostModel>, now: Instant) {
        let mut events = Vec::new();
        self.connector.links_changed(|pvd| model.pvd_link(pvd), self.poll.registry(), now, &mut events);
        let gone = if self.races.is_empty() { Vec::new() } else { self.races.networks_gone(|i| model.has_network(i)) };
        {
            let mut dns = self.shared.dns.lock();
            let mut dns_events = Vec::new();
            dns.links_changed(|pvd| model.has_pvd(pvd), &mut dns_events);
            dns.release_waiting(|pvd| (model.is_learning(pvd), model.pvd_link(pvd)), now, &mut dns_events);
            self.shared.emit_dns_locked(dns_events);
        }
        drop(model);
        self.route_connect(events);
        if !gone.is_empty() {
            self.with_races(|races, io, out| races.lost(gone, io, now, out));
        }
        self.follow_changes();
        self.manage_endpoints();
    }

    /// Applies the requests the application's threads queued.
    fn take_requests(&mut self) {
        while let Ok(request) = self.requests.try_recv() {
            match request {
                EngineRequest::Connect(mut request) => {
                    // Cancelled by another thread while the post was connecting: its
                    // Cancel Connect came first and found nothing here to stop.
                    let (id, generation) = (request.connection_id, request.generation);
                    if !self.shared.operations.lock().is_current(Kind::Connect, id, generation) {
                        if let Some(first) = request.first.take() {
                            self.connector.linger(first, generation, self.poll.registry(), Instant::now());
                        }
                        continue;
                    }
                    let link = self.shared.model.lock().pvd_link(request.pvd);
                    let mut events = Vec::new();
                    self.connector.start(request, link, self.poll.registry(), Instant::now(), &mut events);
                    self.route_connect(events);
                }
                EngineRequest::ConnectToName(request) => {
                    self.with_races(|races, io, out| races.start(*request, io, Instant::now(), out));
                }
                EngineRequest::CancelConnect { generation } if self.races.has(generation) => {
                    self.races.drop_follow(generation);
                    self.race_cancelled(generation);
                    self.with_races(|races, io, _| races.cancel(generation, io, Instant::now()));
                }
                EngineRequest::StopFollowing { connection_id } => self.stop_following(connection_id),
                EngineRequest::CancelConnect { generation } => self.connector.cancel(generation, self.poll.registry()),
                EngineRequest::WantConnect => self.want_connect(),
                EngineRequest::IdleHook { interfaces } => self.idle_hook(interfaces),
            }
        }
    }

    /// Connector results: those of race attempts go to their race, the rest to the
    /// application.
    fn route_connect(&mut self, events: Vec<ConnectEvent>) {
        if events.is_empty() {
            return;
        }
        let (races, own): (Vec<ConnectEvent>, Vec<ConnectEvent>) =
            events.into_iter().partition(|e| self.races.owns_attempt(e.ids().1));
        self.shared.emit_connect(own);
        if !races.is_empty() {
            self.with_races(|r, io, out| r.connect_events(races, io, Instant::now(), out));
        }
    }

    /// Runs race work with the I/O it needs, then delivers the races' results.
    pub(super) fn with_races(&mut self, work: impl FnOnce(&mut NameRaces, &mut Io<'_>, &mut Vec<ConnectEvent>)) {
        let shared = Arc::clone(&self.shared);
        let mut io = Io { shared: &shared, connector: &mut self.connector, registry: self.poll.registry() };
        let mut out = Vec::new();
        work(&mut self.races, &mut io, &mut out);
        let mut followed = self.races.take_followed(&out);
        // Marked followed before the Connected is queued, so that a Cancel Connect the
        // application makes as soon as it is (`Context::end_following`) finds it.
        if !followed.is_empty() {
            let mut following = shared.following.lock();
            for f in followed.iter().filter(|f| f.path.is_some()) {
                following.insert(f.connection_id);
            }
        }
        let queued = shared.emit_connect(out);
        if !followed.is_empty() {
            // A result dropped because the connect was cancelled meanwhile is not followed.
            let mut following = shared.following.lock();
            for f in followed.iter().filter(|f| !queued.contains(&f.generation)) {
                following.remove(&f.connection_id);
            }
            drop(following);
            followed.retain(|f| queued.contains(&f.generation));
            self.followed_results(followed);
        }
    }

    /// Feeds the races what their translations answered and runs their timers.
    fn run_races(&mut self) {
        let answers = std::mem::take(&mut *self.shared.race_dns.lock());
        if answers.is_empty() && self.races.is_empty() {
            return;
        }
        let now = Instant::now();
        self.with_races(|races, io, out| {
            if !answers.is_empty() {
                races.dns_events(answers, io, now, out);
            }
            races.tick(io, now, out);
        });
        // Events the steps above produced for the races come back through the inbox:
        // the next iteration takes them (the waker was raised).
    }

    /// Lets the model drop what expired (RA DNS entries, leases, learning periods) and
    /// announce it; then what waited for it goes on.
    fn expire(&mut self) {
        let now = Instant::now();
        // The moment the engine slept for counts too: a PvD crossing the going-away
        // horizon is no deadline any more once crossed (`next_going_away_horizon`).
        let model_due = self.model_wake.is_some_and(|d| d <= now)
            || self.shared.model.lock().next_deadline(now).is_some_and(|d| d <= now);
        if model_due {
            self.model_wake = None;
        }
        // The kernel refreshes an RA default route's lifetime without telling (no
        // RTM_NEWROUTE for a new expiry): its routes are read again before a router
        // lifetime is judged to be ending, and only then.
        if model_due && self.shared.model.lock().router_warning_due(now) {
            match self.dumper.routes(Family::V6, Patience::Brief) {
                Ok(routes) => {
                    self.apply(vec![routes]);
                }
                Err(e) => log_at!(Debug, "IPv6 routes not re-read before expiry: {e}"),
            }
        }
        let now = Instant::now();
        let shared = Arc::clone(&self.shared);
        let mut model = shared.model.lock();
        if model_due {
            let mut out = Vec::new();
            model.expire(now, &mut out);
            self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        }
        if model_due || self.shared.dns.lock().waiting_due(now) {
            self.links_changed(model, now);
        }
    }

    /// Applies facts; says whether IPv4 default routes may have been dropped silently.
    pub(super) fn apply(&mut self, facts: Vec<Fact>) -> bool {
        if facts.is_empty() {
            return false;
        }
        let now = Instant::now();
        let shared = Arc::clone(&self.shared);
        let mut model = shared.model.lock();
        let mut out = Vec::new();
        let mut routes_stale = false;
        // Runs of file facts are applied together (`apply_all`); a kernel fact is judged
        // against the state the facts before it left.
        let mut files = Vec::new();
        for fact in facts {
            if fact.is_from_files() {
                files.push(fact);
                continue;
            }
            model.apply_all(files.drain(..), now, &mut out);
            routes_stale |= model.may_drop_ipv4_routes(&fact);
            model.apply(fact, now, &mut out);
        }
        model.apply_all(files, now, &mut out);
        self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        self.links_changed(model, now);
        routes_stale
    }
}
