//! A context: the shared state between the application's threads and the engine.
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::Mutex;

use crate::engine::{self, Engine};
use crate::ffi::*;
use crate::log::log_at;
use crate::message::Message;
use crate::connect::{ConnectEvent, ConnectRequest};
use crate::dns::{DnsEvent, DnsShared, EngineRequest, Resolver, Status};
use crate::model::{HostModel, PvdInfo, RequestError};
use crate::netlink::{DumpSocket, EventSocket};
use crate::outbox::Outbox;
use crate::sources::{FileSources, SourcePaths};
use crate::request::Request;

/// Application threads read DNS answers themselves (see `DnsShared`) only while the
/// application has at most this many translations outstanding: then it waits for
/// them and the answer should wake it directly. With more, it has other work
/// (posting, taking results) and the engine reading answers on its own CPU in
/// parallel is faster (measured at 256 outstanding: 19–22 k names/s with the
/// application thread reading, 23 k with the engine).
const HELP_MAX_TRANSLATIONS: usize = 4;

/// Options as read from `mif_options`.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub netlink_rcvbuf: Option<usize>,
    pub root_dir: PathBuf,
    /// Static configuration file as given in the options (None: MIF_CONFIG or the default).
    pub config_file: Option<PathBuf>,
    pub test_flags: u32,
    pub dns: crate::dns::DnsConfig,
    pub connect: crate::connect::ConnectConfig,
}

impl Config {
    /// # Safety
    /// `opts` is NULL or points to at least `opts->size` readable bytes.
    pub(crate) unsafe fn from_c(opts: *const mif_options) -> Result<Config, mif_result> {
        let mut config = Config { netlink_rcvbuf: None, root_dir: PathBuf::from("/"), config_file: None, test_flags: 0,
            dns: crate::dns::DnsConfig::default(),
            connect: crate::connect::ConnectConfig::default(),
        };
        if opts.is_null() {
            return Ok(config);
        }
        let size = unsafe { std::ptr::read_unaligned(opts.cast::<u32>()) } as usize;
        if size < std::mem::size_of::<u32>() || size > std::mem::size_of::<mif_options>() {
            return Err(MIF_E_BAD_SIZE);
        }
        let mut copy = mif_options::default();
        unsafe { std::ptr::copy_nonoverlapping(opts.cast::<u8>(), (&mut copy as *mut mif_options).cast::<u8>(), size) };
        if copy.flags != 0 || copy.netlink_rcvbuf < 0 || copy.test_flags & !(MIF_TEST_PANIC_ENGINE | MIF_TEST_NO_BINDTODEVICE | MIF_TEST_PANIC_TRANSLATE) != 0 {
            return Err(MIF_E_INVALID_ARGUMENT);
        }
        if !copy.root_dir.is_null() {
            let dir = unsafe { CStr::from_ptr(copy.root_dir) };
            let dir = dir.to_str().map_err(|_| MIF_E_INVALID_ARGUMENT)?;
            if dir.is_empty() {
                return Err(MIF_E_INVALID_ARGUMENT);
            }
            config.root_dir = PathBuf::from(dir);
        }
        if !copy.config_file.is_null() {
            let file = unsafe { CStr::from_ptr(copy.config_file) };
            let file = file.to_str().map_err(|_| MIF_E_INVALID_ARGUMENT)?;
            if file.is_empty() {
                return Err(MIF_E_INVALID_ARGUMENT);
            }
            config.config_file = Some(PathBuf::from(file));
        }
        if copy.netlink_rcvbuf > 0 {
            config.netlink_rcvbuf = Some(copy.netlink_rcvbuf as usize);
        }
        config.test_flags = copy.test_flags;
        if copy.dns_timeout_ms > 0 {
            config.dns.timeout = std::time::Duration::from_millis(u64::from(copy.dns_timeout_ms));
        }
        if copy.connect_attempt_delay_ms > 0 {
            if !(10..=2000).contains(&copy.connect_attempt_delay_ms) {
                return Err(MIF_E_INVALID_ARGUMENT);
            }
            config.connect.attempt_delay = std::time::Duration::from_millis(u64::from(copy.connect_attempt_delay_ms));
        }
        if copy.connect_timeout_ms > 0 {
            config.connect.timeout = std::time::Duration::from_millis(u64::from(copy.connect_timeout_ms));
        }
        if copy.dns_tries > 0 {
            config.dns.tries = copy.dns_tries.min(16);
        }
        Ok(config)
    }
}

/// State shared by the application's threads and the engine thread.
/// Lock order: `model` before the outbox's queue lock.
pub(crate) struct Shared {
    pub model: Mutex<HostModel>,
    pub outbox: Outbox,
    /// Outstanding translations by the application's id. Lock order: model, then
    /// this, then the outbox.
    pub translations: Mutex<HashMap<u64, Outstanding>>,
    /// Outstanding connection attempts by the application's id; same lock order.
    pub connections: Mutex<HashMap<u64, Outstanding>>,
    /// The resolver. Lock order: model, then this, then translations, then the outbox.
    pub dns: Mutex<DnsShared>,
}

impl Shared {
    /// Reads the ready DNS sockets, times out what expired and queues the results as
    /// one batch (one lock of the queue, at most one eventfd write). The engine calls
    /// it, and so does an application thread waiting in `mif_check_message`.
    pub(crate) fn process_dns(&self) {
        let mut dns = self.dns.lock();
        let finished = dns.process(|events| self.emit_dns(events));
        drop(dns);
        // Closing sockets takes microseconds: after the results are out, and unlocked.
        drop(finished);
    }

    /// Runs resolver work on an application thread. A panic there leaves the shared
    /// state unknown, as one in the engine does, so it ends the context the same way:
    /// a final `MIF_MSG_ENGINE_FAILED` message, and later posts fail.
    pub(crate) fn fail_on_panic<R>(&self, work: impl FnOnce() -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(r) => Some(r),
            Err(panic) => {
                self.fail(MIF_E_INTERNAL, format!("name translation panicked: {}", crate::log::panic_text(&*panic)));
                None
            }
        }
    }

    /// Ends the context: the final message, after which posts fail.
    pub(crate) fn fail(&self, status: mif_result, text: String) {
        log_at!(Error, "{text}");
        self.outbox.close_with(Message::EngineFailed { status, text });
    }

    /// Queues the resolver's results, unless their translation was stopped meanwhile.
    /// Called with `dns` locked, so that results keep their order.
    pub(crate) fn emit_dns(&self, events: Vec<DnsEvent>) {
        if events.is_empty() {
            return;
        }
        let mut translations = self.translations.lock();
        let mut messages = Vec::with_capacity(events.len());
        for event in events {
            let (translation_id, generation, done) = match &event {
                DnsEvent::Address { translation_id, generation, .. } => (*translation_id, *generation, false),
                DnsEvent::Done { translation_id, generation, .. } => (*translation_id, *generation, true),
            };
            if translations.get(&translation_id).map(|o| o.generation) != Some(generation) {
                continue;
            }
            messages.push(Message::Dns(event));
            if done {
                translations.remove(&translation_id);
            }
        }
        // One lock and at most one wake-up of the application for the whole batch.
        self.outbox.push_all(messages);
    }
}

/// An outstanding translation: which run of the engine carries it (ids are the
/// application's and may be reused after a Stop; generations never are).
pub(crate) struct Outstanding {
    pub generation: u64,
    pub pvd: PvdInfo,
    pub name: String,
    pub started: std::time::Instant,
}

pub(crate) struct Context {
    shared: Arc<Shared>,
    stop: engine::StopHandle,
    thread: Option<JoinHandle<()>>,
    requests: crossbeam_channel::Sender<EngineRequest>,
    test_flags: u32,
    /// Connect to PvD (3.2.7.21): the PvD used by requests that name pvd 0.
    default_pvd: Mutex<Option<u64>>,
    next_generation: AtomicU64,
}

fn code_of(e: &io::Error) -> mif_result {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => MIF_E_PERMISSION,
        None if e.kind() == io::ErrorKind::PermissionDenied => MIF_E_PERMISSION,
        _ => MIF_E_SYSTEM,
    }
}

impl Context {
    pub(crate) fn open(config: Config) -> Result<Context, mif_result> {
        let fail = |what: &str, e: io::Error| {
            log_at!(Warn, "mif_open: {what}: {e}");
            code_of(&e)
        };
        let outbox = Outbox::new().map_err(|e| fail("eventfd", e))?;
        // Subscribe before dumping so that no change falls between dump and events.
        let events = EventSocket::open(config.netlink_rcvbuf).map_err(|e| fail("rtnetlink event socket", e))?;
        let mut dumper = DumpSocket::open().map_err(|e| fail("rtnetlink dump socket", e))?;
        let snapshot = dumper.snapshot(crate::netlink::Patience::Wait).map_err(|e| fail("rtnetlink dump", e))?;
        let mut files = FileSources::open(SourcePaths::new(&config.root_dir, config.config_file.as_deref()))
            .map_err(|e| fail("inotify", e))?;
        let mut model = HostModel::new();
        let mut nothing = Vec::new();
        let now = Instant::now();
        model.resync(snapshot, now, &mut nothing);
        for fact in files.scan_all() {
            model.apply(fact, now, &mut nothing);
        }
        let poll = mio::Poll::new().map_err(|e| fail("mio poll", e))?;
        let use_bindtodevice = config.test_flags & MIF_TEST_NO_BINDTODEVICE == 0;
        let resolver = Resolver::new(config.dns, &config.root_dir, use_bindtodevice);
        let registry = poll.registry().try_clone().map_err(|e| fail("mio registry", e))?;
        let dns = DnsShared::new(resolver, registry).map_err(|e| fail("timerfd", e))?;
        let shared = Arc::new(Shared {
            model: Mutex::new(model),
            outbox,
            translations: Mutex::new(HashMap::new()),
            connections: Mutex::new(HashMap::new()),
            dns: Mutex::new(dns),
        });
        let (requests, request_rx) = crossbeam_channel::unbounded();
        let engine = Engine::new(Arc::clone(&shared), poll, events, dumper, files, request_rx, &config).map_err(|e| fail("mio poll", e))?;
        let stop = engine.stop_handle();
        let thread = std::thread::Builder::new()
            .name("mif-engine".into())
            .spawn(move || engine.run())
            .map_err(|e| fail("engine thread", e))?;
        Ok(Context { shared, stop, thread: Some(thread), requests, test_flags: config.test_flags, default_pvd: Mutex::new(None), next_generation: AtomicU64::new(1) })
    }

    pub(crate) fn notify_fd(&self) -> i32 {
        self.shared.outbox.fd()
    }

    pub(crate) fn post(&self, request: Request) -> mif_result {
        if self.shared.outbox.is_closed() {
            return MIF_E_ENGINE_FAILED;
        }
        match request {
            Request::TranslateName { pvd, translation_id, name } => return self.translate(pvd, translation_id, name),
            Request::StopTranslatingName { translation_id } => return self.stop_translating(translation_id),
            Request::Connect { pvd, connection_id, remote, local } => return self.connect(pvd, connection_id, remote, local),
            Request::ConnectToPvd { pvd } => {
                if !self.shared.model.lock().has_pvd(pvd) {
                    return MIF_E_UNKNOWN_PVD;
                }
                *self.default_pvd.lock() = Some(pvd);
                return MIF_OK;
            }
            Request::CancelConnect { connection_id } => return self.cancel_connect(connection_id),
            _ => {}
        }
        let mut model = self.shared.model.lock();
        let mut out = Vec::new();
        let now = Instant::now();
        let result = match request.clone() {
            Request::AnnounceInterfaces => {
                model.announce_interfaces(&mut out);
                Ok(())
            }
            Request::StopAnnouncingInterfaces => model.stop_announcing_interfaces(),
            Request::AnnouncePvds { ifindex } => model.announce_pvds(ifindex, &mut out),
            Request::StopAnnouncingPvds { ifindex } => model.stop_announcing_pvds(ifindex),
            Request::AnnounceAddresses { pvd } => model.announce_addresses(pvd, now, &mut out),
            Request::StopAnnouncingAddresses { pvd } => model.stop_announcing_addresses(pvd),
            Request::AnnounceElements { pvd } => model.announce_elements(pvd, now, &mut out),
            Request::StopAnnouncingElements { pvd } => model.stop_announcing_elements(pvd),
            Request::GetConfigurationData { pvd, kind, info } => model.get_configuration_data(pvd, kind, info, &mut out),
            Request::TranslateName { .. }
            | Request::StopTranslatingName { .. }
            | Request::Connect { .. }
            | Request::ConnectToPvd { .. }
            | Request::CancelConnect { .. } => unreachable!("handled above"),
        };
        // Queue while still holding the model lock, so these messages keep their place
        // relative to the engine's.
        self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        if result.is_ok() {
            if let Some(withdrawn) = withdrawn_by(&request) {
                self.shared.outbox.retain(|m| !withdrawn(m));
            }
        }
        drop(model);
        match result {
            Ok(()) => MIF_OK,
            Err(RequestError::UnknownInterface) => MIF_E_UNKNOWN_INTERFACE,
            Err(RequestError::UnknownPvd) => MIF_E_UNKNOWN_PVD,
            Err(RequestError::NotSubscribed) => MIF_E_NOT_SUBSCRIBED,
        }
    }

    /// Translate Name: checked here; the hosts file is read and the queries are sent
    /// from this thread (the engine reads the replies).
    fn translate(&self, pvd: u64, translation_id: u64, name: crate::dns::QueryName) -> mif_result {
        let model = self.shared.model.lock();
        let Some(link) = model.pvd_link(pvd) else {
            return MIF_E_UNKNOWN_PVD;
        };
        // The resolver is locked before the id is listed and before the model is let
        // go: a Stop for this id (it takes the resolver's lock to cancel) and a link
        // change the engine applies both come after the queries are out, and find them.
        let dns = self.shared.dns.lock();
        let mut translations = self.shared.translations.lock();
        if translations.contains_key(&translation_id) {
            return MIF_E_DUPLICATE_ID;
        }
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        translations.insert(
            translation_id,
            Outstanding { generation, pvd: link.info.clone(), name: name.ascii.clone(), started: Instant::now() },
        );
        let help = translations.len() <= HELP_MAX_TRANSLATIONS;
        drop(translations);
        drop(model);
        let shared = &self.shared;
        let done = shared.fail_on_panic(|| {
            // The first answer often arrives while the second query is being sent: this
            // thread reads it (below) instead of the engine waking up for it and waiting
            // for this lock.
            let mut dns = Helping::begin(dns, help, shared);
            let mut out = Vec::new();
            dns.start(translation_id, generation, pvd, name, Some(link), Instant::now(), &mut out);
            if self.test_flags & MIF_TEST_PANIC_TRANSLATE != 0 {
                panic!("test-requested panic in a translate post (MIF_TEST_PANIC_TRANSLATE)");
            }
            shared.emit_dns(out);
            let finished = if help { dns.process(|events| shared.emit_dns(events)) } else { Vec::new() };
            drop(dns);
            drop(finished);
        });
        if done.is_some() { MIF_OK } else { MIF_E_INTERNAL }
    }

    /// Stop Translating Name: the final "cancelled" message is queued before this
    /// returns and waiting results of the translation are withdrawn.
    fn stop_translating(&self, translation_id: u64) -> mif_result {
        let mut translations = self.shared.translations.lock();
        let Some(outstanding) = translations.remove(&translation_id) else {
            return MIF_E_UNKNOWN_TRANSLATION;
        };
        self.shared
            .outbox
            .retain(|m| !matches!(m, Message::Dns(DnsEvent::Address { generation, .. }) if *generation == outstanding.generation));
        self.shared.outbox.push_all([Message::Dns(DnsEvent::Done {
            translation_id,
            generation: outstanding.generation,
            pvd: outstanding.pvd,
            status: Status::Cancelled,
            name: outstanding.name,
        })]);
        drop(translations);
        self.shared.dns.lock().cancel(outstanding.generation);
        MIF_OK
    }

    /// The PvD a request means: its own, or the default for pvd 0.
    fn pvd_or_default(&self, pvd: u64) -> Result<u64, mif_result> {
        if pvd != 0 {
            return Ok(pvd);
        }
        self.default_pvd.lock().ok_or(MIF_E_NO_DEFAULT_PVD)
    }

    /// Connect to Address (From Address): checked here, carried out by the engine.
    fn connect(&self, pvd: u64, connection_id: u64, remote: std::net::SocketAddr, local: Option<std::net::IpAddr>) -> mif_result {
        let pvd = match self.pvd_or_default(pvd) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let model = self.shared.model.lock();
        let Some(link) = model.pvd_link(pvd) else {
            return MIF_E_UNKNOWN_PVD;
        };
        let family_ok = match link.info.family {
            crate::model::Family::V4 => remote.is_ipv4(),
            crate::model::Family::V6 => remote.is_ipv6(),
        };
        if !family_ok {
            return MIF_E_BAD_ADDRESS;
        }
        if let Some(local) = local {
            let valid = link.addrs.iter().any(|(a, _, f)| *a == local && !f.tentative && !f.dadfailed);
            if !valid {
                return MIF_E_BAD_SOURCE;
            }
        }
        let mut connections = self.shared.connections.lock();
        if connections.contains_key(&connection_id) {
            return MIF_E_DUPLICATE_ID;
        }
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        connections.insert(connection_id, Outstanding { generation, pvd: link.info, name: remote.to_string(), started });
        drop(connections);
        drop(model);
        let request = ConnectRequest { connection_id, generation, pvd, remote, local, started };
        if self.requests.send(EngineRequest::Connect(request)).is_err() {
            self.shared.connections.lock().remove(&connection_id);
            return MIF_E_ENGINE_FAILED;
        }
        self.stop.wake();
        MIF_OK
    }

    /// Cancel: the final Not Connected (ECANCELED) is queued before this returns. Once
    /// the engine has queued the result the id is no longer outstanding: the cancel is
    /// refused (MIF_E_UNKNOWN_CONNECTION) and that result stands.
    fn cancel_connect(&self, connection_id: u64) -> mif_result {
        let mut connections = self.shared.connections.lock();
        let Some(outstanding) = connections.remove(&connection_id) else {
            return MIF_E_UNKNOWN_CONNECTION;
        };
        let generation = outstanding.generation;
        let remote = outstanding.name.parse().unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        self.shared.outbox.push_all([Message::Connect(ConnectEvent::NotConnected {
            connection_id,
            generation,
            pvd: outstanding.pvd,
            remote,
            error: libc::ECANCELED,
            text: "cancelled by the application".into(),
            elapsed: outstanding.started.elapsed(),
        })]);
        drop(connections);
        let _ = self.requests.send(EngineRequest::CancelConnect { generation });
        self.stop.wake();
        MIF_OK
    }

    /// mif_bind_socket: pins the application's socket to a PvD.
    pub(crate) fn bind_socket(&self, fd: i32, pvd: u64, bind_source: bool) -> mif_result {
        let pvd = match self.pvd_or_default(pvd) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let Some(link) = self.shared.model.lock().pvd_link(pvd) else {
            return MIF_E_UNKNOWN_PVD;
        };
        if fd < 0 {
            return MIF_E_INVALID_ARGUMENT;
        }
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let domain = match socket.domain() {
            Ok(d) => d,
            Err(_) => return MIF_E_INVALID_ARGUMENT,
        };
        let v4 = domain == socket2::Domain::IPV4;
        let family_ok = match link.info.family {
            crate::model::Family::V4 => domain == socket2::Domain::IPV4,
            crate::model::Family::V6 => domain == socket2::Domain::IPV6,
        };
        if !family_ok {
            return MIF_E_BAD_ADDRESS;
        }
        let system = |e: std::io::Error| code_of(&e);
        let use_bindtodevice = self.test_flags & MIF_TEST_NO_BINDTODEVICE == 0;
        if let Err(e) = crate::pin::pin_to_link(&socket, v4, link.info.ifindex, &link.info.ifname, use_bindtodevice) {
            return system(e);
        }
        if bind_source {
            let Some(src) = link.preferred_source(v4) else {
                return MIF_E_BAD_SOURCE;
            };
            if let Err(e) = socket.bind(&std::net::SocketAddr::new(src, 0).into()) {
                return system(e);
            }
        }
        MIF_OK
    }

    /// Waits for a message. While name translations are out, the waiting thread
    /// reads their answers itself (see `DnsShared`): the answer then wakes this thread
    /// directly, where the engine would have to wake first and then wake it.
    pub(crate) fn check(&self, timeout_ms: i32) -> mif_result {
        let outbox = &self.shared.outbox;
        if timeout_ms == 0 {
            return outbox.wait(0);
        }
        let until = (timeout_ms > 0).then(|| Instant::now() + std::time::Duration::from_millis(timeout_ms as u64));
        // Once this thread works between waits (reading answers), signals are held back
        // and let in only inside ppoll(), so that a handler running at any moment of the
        // call still ends it with MIF_E_INTERRUPTED, as the single poll() would.
        let mut signals: Option<SignalsHeld> = None;
        loop {
            if outbox.has_messages() {
                return MIF_OK;
            }
            let now = Instant::now();
            let left_ms = |t: Instant| -> i32 {
                let d = t.saturating_duration_since(now);
                // Round up: never wake before the moment.
                d.as_millis().saturating_add(u128::from(d.subsec_nanos() % 1_000_000 != 0)).min(i32::MAX as u128) as i32
            };
            let user_ms = until.map_or(-1, left_ms);
            let dns = self.shared.dns.lock();
            if !dns.has_queries() || self.shared.translations.lock().len() > HELP_MAX_TRANSLATIONS {
                drop(dns);
                return match &signals {
                    None => outbox.wait(user_ms),
                    Some(held) => match held.poll(&mut [pollfd(outbox.fd())], user_ms) {
                        Ok(0) => MIF_NO_MESSAGE,
                        Ok(_) => MIF_OK,
                        Err(e) => interrupted_or_system(&e),
                    },
                };
            }
            let held = signals.get_or_insert_with(SignalsHeld::hold);
            let dns_due = dns.resolver.next_deadline();
            let sockets_fd = dns.sockets_fd();
            let helping = Helping::begin(dns, true, &self.shared).unlock();
            let wait_ms = match dns_due.map(left_ms) {
                Some(d) if user_ms < 0 || d < user_ms => d,
                _ => user_ms,
            };
            let mut fds = [pollfd(outbox.fd()), pollfd(sockets_fd)];
            let polled = held.poll(&mut fds, wait_ms);
            let answers_or_due = fds[1].revents != 0 || dns_due.is_some_and(|d| d <= Instant::now());
            if answers_or_due && self.shared.fail_on_panic(|| self.shared.process_dns()).is_none() {
                return MIF_OK; // the final ENGINE_FAILED message waits
            }
            drop(helping);
            if let Err(e) = polled {
                return interrupted_or_system(&e);
            }
            if outbox.has_messages() {
                return MIF_OK;
            }
            if until.is_some_and(|t| t <= Instant::now()) {
                return MIF_NO_MESSAGE;
            }
        }
    }


    pub(crate) fn take(&self) -> Option<Message> {
        self.shared.outbox.pop()
    }
}

fn pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd { fd, events: libc::POLLIN, revents: 0 }
}

fn interrupted_or_system(e: &io::Error) -> mif_result {
    if e.raw_os_error() == Some(libc::EINTR) {
        MIF_E_INTERRUPTED
    } else {
        MIF_E_SYSTEM
    }
}

/// The calling thread's asynchronous signals, blocked while it works inside
/// `mif_check_message` and let in only while it waits (the pselect pattern).
/// Synchronous signals (faults, SIGABRT) are never blocked.
struct SignalsHeld {
    saved: libc::sigset_t,
}

impl SignalsHeld {
    fn hold() -> SignalsHeld {
        unsafe {
            let mut block: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut block);
            for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS, libc::SIGABRT] {
                libc::sigdelset(&mut block, sig);
            }
            let mut saved: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut saved);
            SignalsHeld { saved }
        }
    }

    /// ppoll() with the thread's own mask: a signal held back meanwhile interrupts it.
    fn poll(&self, fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<i32> {
        let ts = (timeout_ms >= 0).then(|| libc::timespec {
            tv_sec: libc::time_t::from(timeout_ms / 1000),
            tv_nsec: libc::c_long::from(timeout_ms % 1000) * 1_000_000,
        });
        let ts_ptr = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        let rc = unsafe { libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ts_ptr, &self.saved) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc)
    }
}

impl Drop for SignalsHeld {
    fn drop(&mut self) {
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.saved, std::ptr::null_mut()) };
    }
}

/// An application thread reading DNS answers itself (see `DnsShared`), with the
/// resolver locked; the engine gets the sockets back when this drops, also on unwind.
struct Helping<'a> {
    dns: parking_lot::MutexGuard<'a, DnsShared>,
    on: bool,
    shared: &'a Shared,
}

impl<'a> Helping<'a> {
    fn begin(mut dns: parking_lot::MutexGuard<'a, DnsShared>, on: bool, shared: &'a Shared) -> Helping<'a> {
        if on {
            dns.begin_helping();
        }
        Helping { dns, on, shared }
    }

    /// Keeps helping with the lock released (while the thread waits).
    fn unlock(mut self) -> HelpingUnlocked<'a> {
        let on = std::mem::replace(&mut self.on, false);
        let shared = self.shared;
        drop(self);
        HelpingUnlocked { shared, on }
    }
}

/// Gives the socket set back to the engine. If that fails the engine would never see
/// an answer again unless a thread waits in `mif_check_message`: the context ends.
fn end_helping(dns: &mut DnsShared, shared: &Shared) {
    if let Err(e) = dns.end_helping() {
        shared.fail(MIF_E_SYSTEM, format!("cannot give the DNS sockets back to the engine: {e}"));
    }
}

impl std::ops::Deref for Helping<'_> {
    type Target = DnsShared;
    fn deref(&self) -> &DnsShared {
        &self.dns
    }
}

impl std::ops::DerefMut for Helping<'_> {
    fn deref_mut(&mut self) -> &mut DnsShared {
        &mut self.dns
    }
}

impl Drop for Helping<'_> {
    fn drop(&mut self) {
        if self.on {
            end_helping(&mut self.dns, self.shared);
        }
    }
}

struct HelpingUnlocked<'a> {
    shared: &'a Shared,
    on: bool,
}

impl Drop for HelpingUnlocked<'_> {
    fn drop(&mut self) {
        if self.on {
            end_helping(&mut self.shared.dns.lock(), self.shared);
        }
    }
}

/// For a Stop request: which waiting messages belong to the subscription it ends.
fn withdrawn_by(request: &Request) -> Option<Box<dyn Fn(&Message) -> bool>> {
    use crate::model::Announcement as A;
    match *request {
        Request::StopAnnouncingInterfaces => Some(Box::new(|m| {
            matches!(m, Message::Announcement(A::Interface { .. } | A::NoInterface { .. }))
        })),
        Request::StopAnnouncingPvds { ifindex } => Some(Box::new(move |m| {
            matches!(m, Message::Announcement(A::Pvd(p) | A::NoPvd(p)) if p.ifindex == ifindex)
        })),
        Request::StopAnnouncingAddresses { pvd } => Some(Box::new(move |m| {
            matches!(m, Message::Announcement(A::Address { pvd: p, .. } | A::NoAddress { pvd: p, .. }) if p.id == pvd)
        })),
        Request::StopAnnouncingElements { pvd } => Some(Box::new(move |m| {
            matches!(m, Message::Announcement(A::Element { pvd: p, .. } | A::NoElement { pvd: p, .. }) if p.id == pvd)
        })),
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
