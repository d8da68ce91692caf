//! Name translation per provisioning domain (draft 3.2.7.18–3.2.7.20): the hosts
//! file, then DNS through that PvD's own servers only, over that PvD's link.
//!
//! The DNS client lives in the engine's mio loop: no thread per query, no
//! getaddrinfo. A Translate Name post reads the hosts file and sends the first
//! queries from the posting thread (one thread hand-off fewer on the way to the
//! server). The replies are read by a thread waiting in `mif_check_message` while
//! the application has few translations outstanding, else by the engine, which also
//! keeps the timeouts (see `DnsShared`).
//! Wire format comes from hickory-proto. Every query:
//! - leaves through the PvD's link: SO_BINDTODEVICE when permitted, else
//!   IP_UNICAST_IF / IPV6_UNICAST_IF, and from the PvD's own source address;
//! - uses a fresh UDP socket on a kernel-chosen random port, not connected: datagrams
//!   from any other address or port are read and dropped (the kernel would answer them
//!   with ICMP through the main routing table); IP_RECVERR reports the server's ICMP
//!   errors; a random 16-bit ID from getrandom, fetched 128 at a time (RFC 5452). The
//!   A and the AAAA query of one name to one server, sent together, share one fresh
//!   socket (as glibc does), each with its own ID (docs/name-translation.md);
//! - accepts only a reply from the server whose ID, QR bit and question match, reading
//!   at most `MAX_DATAGRAMS_PER_QUERY` of the server's datagrams;
//! - keeps its socket open one DNS timeout after it ended, dropping what still arrives
//!   (`retire`);
//! - carries EDNS0 with a 1232-byte UDP size; a truncated reply is asked again over TCP,
//!   pinned the same way.
//!
//! A and AAAA are asked in parallel; servers are tried in order, `tries` rounds, each
//! attempt bounded by `timeout`; an ICMP unreachable moves on at once.
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use socket2::{Protocol, Type};

use super::helping::HELP_MAX_TRANSLATIONS;
use super::tokens;
use crate::core::dns::cache::{AnswerCache, DEFAULT_CACHE_ENTRIES};
use crate::core::dns::{answer_addresses, build_query, build_query_pair, validate, NameSource, QueryName, Status};
use crate::core::link::on_link;
use crate::core::model::{Family, PvdInfo, PvdLink};
use crate::log::log_at;
use crate::os::hosts_file::HostsCache;
use crate::os::pin::{pinned_query_socket, pinned_socket};
use crate::os::root::Root;
use crate::os::sys::{self, LevelSet, OneShotTimer};

/// Datagrams read for one query before it is given up as flooded.
const MAX_DATAGRAMS_PER_QUERY: u32 = 32;
/// Largest TCP answer accepted.
const MAX_TCP_ANSWER: usize = 65535;
/// The largest UDP payload there can be.
const MAX_UDP_ANSWER: usize = 65535;

/// Timeouts and retries, from the options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsConfig {
    /// How long one server gets to answer one query.
    pub timeout: Duration,
    /// Rounds over the PvD's servers.
    pub tries: u32,
    /// Answers kept per context (`core::dns::cache`); 0: no cache.
    pub cache_entries: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig { timeout: Duration::from_millis(1000), tries: 2, cache_entries: DEFAULT_CACHE_ENTRIES }
    }
}

/// The resolver, shared by the application's threads and the engine (in
/// `Shared::dns`). A Translate Name request sends its queries from the posting
/// thread, so no thread hand-off sits between the post and the first datagram.
///
/// The query sockets live in their own mio poll set (`sockets`), nested in the
/// engine's poll. Whoever holds this lock reads the ready ones (`process`): the
/// engine, or an application thread waiting in `mif_check_message`.
///
/// The watching invariant: whenever no application thread helps (`helpers == 0`)
/// and a query is out, the engine watches the set (`watched`). While a thread helps,
/// or while no query is out, the set may be out of the engine's poll: an idle set
/// holds only lingering sockets (`Resolver::retire`), whose datagrams are read only
/// to be dropped and wait in their buffers meanwhile. Whoever lets go of this lock
/// with queries out and no helper puts the set back (`watch_if_needed`): the last
/// helper, a post that did not help, the engine before it sleeps. A post whose
/// queries are registered but not sent yet (`HeldSend`) puts it back once they are:
/// nothing can be answered before, and the set is out then only while no other query
/// is out or a thread helps.
/// So one name at a time costs one reregistration in the post and one in the wait,
/// both while the queries are in flight, and none before a query leaves or after its
/// answer.
///
/// Fd mode (`place_for_application`): once the application asked for `mif_fd`, while
/// it has at most `HELP_MAX_TRANSLATIONS` translations out, the set sits in the
/// application's descriptor (`app_set`) instead of the engine's poll, and an
/// application thread that finds no message reads the answers (`in_app_set`). The
/// invariant then reads: whenever no application thread helps, a query is out and
/// the set is not in the application's descriptor (or a race is out), the engine
/// watches it. Its deadlines stay the engine's; a timeout reads what arrived first.
/// One name at a time in fd mode costs no reregistration at all.
///
/// Timekeeping without waking the engine at every post: the engine records, under
/// this lock, when it will wake by itself (`engine_wake_at`); a post whose queries
/// expire before that arms `timer`, a timerfd in the engine's poll set, and the
/// engine, once awake, keeps every deadline itself. `next_wake` is the one place that
/// says when the resolver next needs attention.
pub(crate) struct DnsShared {
    pub resolver: Resolver,
    sockets: mio::Poll,
    ready: mio::Events,
    /// The engine's registry, to take the socket set out of its poll and back.
    engine_registry: Registry,
    helpers: usize,
    /// Whether the set is in the engine's poll (readable interest).
    watched: bool,
    /// The application's descriptor (`mif_fd`, shared with `Shared::app_set`): the
    /// queue's eventfd, and the socket set while the application reads the answers.
    app_set: Arc<LevelSet>,
    /// The application asked for `mif_fd`: it waits on it.
    app_waits_on_fd: bool,
    /// The socket set is watched in `app_set` (readable interest there): then an
    /// application thread that finds no message reads the answers, so that a readable
    /// descriptor never stays so.
    in_app_set: bool,
    /// The application reads the answers (fd mode): `in_app_set` and the last
    /// placement wanted it. Apart only after a failed switch out of the application's
    /// descriptor: the engine watches then too.
    app_reads: bool,
    /// Threads waiting in `mif_check_message` on the queue alone (`Shared::dns_sleepers`,
    /// counted with this lock held): while there are some, the engine watches the set
    /// in fd mode too, so that answers a post sends meanwhile reach them.
    sleepers: Arc<AtomicUsize>,
    /// Connect to Name races are under way (the engine says so before it sleeps):
    /// their answers are the engine's, so it watches the set then.
    races_out: bool,
    /// When the sleeping engine wakes by itself; `None`: not before some event.
    pub engine_wake_at: Option<Instant>,
    timer: OneShotTimer,
    timer_armed_at: Option<Instant>,
    /// Translations waiting for their PvD's configuration to be learned, each until a
    /// moment fixed when it was posted (a later trigger does not extend the wait).
    waiting: Vec<(Job, Instant)>,
    /// Ended queries whose sockets a waiting application thread left open
    /// (`defer_close`), at most `MAX_DEFERRED_CLOSES`.
    closing: Vec<QueryIo>,
}

/// Sockets of ended queries left for a later close (`DnsShared::defer_close`).
const MAX_DEFERRED_CLOSES: usize = 16;

impl DnsShared {
    /// `queue_fd`: the message queue's eventfd, which the application's descriptor
    /// watches always.
    pub(crate) fn new(
        resolver: Resolver,
        engine_registry: Registry,
        queue_fd: BorrowedFd<'_>,
    ) -> io::Result<DnsShared> {
        let timer = OneShotTimer::new()?;
        let sockets = mio::Poll::new()?;
        engine_registry.register(&mut SourceFd(&sockets.as_raw_fd()), tokens::DNS_SOCKETS, Interest::READABLE)?;
        let app_set = LevelSet::new()?;
        app_set.add(queue_fd, true)?;
        app_set.add_poll(&sockets, false)?;
        Ok(DnsShared {
            resolver,
            sockets,
            ready: mio::Events::with_capacity(256),
            engine_registry,
            helpers: 0,
            watched: true,
            app_set: Arc::new(app_set),
            app_waits_on_fd: false,
            in_app_set: false,
            app_reads: false,
            sleepers: Arc::new(AtomicUsize::new(0)),
            races_out: false,
            engine_wake_at: None,
            timer,
            timer_armed_at: None,
            waiting: Vec::new(),
            closing: Vec::new(),
        })
    }

    pub(crate) fn timer_fd(&self) -> RawFd {
        self.timer.raw_fd()
    }

    /// A second descriptor of the socket set, readable while a query socket is ready:
    /// a waiting thread polls it without holding this lock (`Shared::dns_sockets`).
    pub(crate) fn duplicate_sockets_fd(&self) -> io::Result<OwnedFd> {
        sys::duplicate_poll_fd(&self.sockets)
    }

    pub(crate) fn has_queries(&self) -> bool {
        !self.resolver.queries.is_empty()
    }

    /// When the resolver next needs attention by itself: its earliest query deadline,
    /// or the end of a translation's wait for its PvD's configuration.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        let waiting = self.waiting.iter().map(|(_, until)| *until).min();
        self.resolver.next_deadline().into_iter().chain(waiting).min()
    }

    /// Whether the hosts file has `name`: then it is answered at once, whether or not
    /// its PvD's DNS configuration is still being learned (the hosts file comes first).
    pub(crate) fn in_hosts_file(&mut self, name: &QueryName) -> bool {
        if name.literal.is_some() {
            return true;
        }
        let r = &mut self.resolver;
        !r.hosts.lookup(&r.root, Path::new("/etc/hosts"), &name.ascii).is_empty()
    }

    /// Holds a translation until its PvD's configuration is learned, at most `until`
    /// (the engine starts it: `release_waiting`).
    pub(crate) fn wait_for_learning(&mut self, job: Job, until: Instant) {
        self.waiting.push((job, until));
    }

    /// Whether a held translation's wait has run out.
    pub(crate) fn waiting_due(&self, now: Instant) -> bool {
        self.waiting.iter().any(|(_, until)| *until <= now)
    }

    /// Starts the held translations whose PvD is no longer learning, or whose wait ran
    /// out. `state(pvd)` says whether the PvD is learning and what it is now (`None`:
    /// gone, and the translation ends with no servers).
    pub(crate) fn release_waiting(
        &mut self,
        state: impl Fn(u64) -> (bool, Option<PvdLink>),
        now: Instant,
        out: &mut Vec<DnsEvent>,
    ) {
        if self.waiting.is_empty() {
            return;
        }
        let mut still = Vec::new();
        for (job, until) in std::mem::take(&mut self.waiting) {
            let (learning, link) = state(job.pvd);
            if learning && link.is_some() && until > now {
                still.push((job, until));
            } else {
                self.start(job, link, now, out);
            }
        }
        self.waiting.extend(still);
    }

    /// Reads every ready query socket and times out what expired; the results go to
    /// `emit` (still under the lock, so they keep their order). Returns the finished
    /// queries, whose sockets the caller closes once the lock is released.
    pub(crate) fn process(&mut self, emit: impl FnOnce(Vec<DnsEvent>)) -> Vec<QueryIo> {
        let now = Instant::now();
        let mut out = Vec::new();
        loop {
            match self.sockets.poll(&mut self.ready, Some(Duration::ZERO)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log_at!(Error, "dns: cannot poll the query sockets: {e}");
                    break;
                }
            }
            let tokens: Vec<Token> = self.ready.iter().map(|e| e.token()).collect();
            for &token in &tokens {
                self.resolver.ready(token, self.sockets.registry(), now, &mut out);
            }
            // A full batch may leave more behind.
            if tokens.len() < self.ready.capacity() {
                break;
            }
        }
        self.resolver.expire(self.sockets.registry(), now, &mut out);
        emit(out);
        self.resolver.take_finished()
    }

    /// Keeps the sockets of ended queries open for now: an application thread waiting
    /// for its answers returns first, and the next post closes them once its own
    /// queries are out (`take_closing`), or the engine the next time it runs (a
    /// query's or a lingering socket's deadline wakes it at the latest). Closing a
    /// socket takes microseconds, and the socket of an ended query may linger anyway
    /// (`Resolver::retire`): these merely stay a little. Handed back, for the caller
    /// to close at once, beyond the bound, and when no deadline is left to wake the
    /// engine (nothing might close them then while the application posts nothing).
    pub(crate) fn defer_close(&mut self, finished: Vec<QueryIo>) -> Vec<QueryIo> {
        if self.closing.len() + finished.len() > MAX_DEFERRED_CLOSES || self.next_wake().is_none() {
            return finished;
        }
        self.closing.extend(finished);
        Vec::new()
    }

    /// The sockets `defer_close` kept, for the caller to drop once no lock is held.
    pub(crate) fn take_closing(&mut self) -> Vec<QueryIo> {
        std::mem::take(&mut self.closing)
    }

    /// An application thread starts waiting for messages and will read the query
    /// sockets itself: the first one takes the set out of the engine's poll if it is
    /// in. Should that fail, the engine merely keeps watching too. "Out" is an interest
    /// in priority data only, which an epoll set never has: EPOLL_CTL_MOD both ways,
    /// where removing and adding the nested set again made the kernel check for epoll
    /// loops at every wait (seen in a profile of one name at a time).
    pub(crate) fn begin_helping(&mut self) {
        self.helpers += 1;
        if self.helpers == 1 {
            self.unwatch();
        }
    }

    /// Puts the set in the engine's poll whatever else watches it (a failed switch).
    fn watch_anyway(&mut self) {
        if !self.watched {
            let fd = self.sockets.as_raw_fd();
            match self.engine_registry.reregister(&mut SourceFd(&fd), tokens::DNS_SOCKETS, Interest::READABLE) {
                Ok(()) => self.watched = true,
                Err(e) => log_at!(Error, "dns: the engine cannot watch the query sockets: {e}"),
            }
        }
    }

    /// Takes the set out of the engine's poll, if it is in.
    fn unwatch(&mut self) {
        if self.watched {
            let fd = self.sockets.as_raw_fd();
            match self.engine_registry.reregister(&mut SourceFd(&fd), tokens::DNS_SOCKETS, Interest::PRIORITY) {
                Ok(()) => self.watched = false,
                Err(e) => log_at!(Warn, "dns: the engine keeps watching the query sockets: {e}"),
            }
        }
    }

    /// The last waiting thread gives the set back to the engine if a query is still
    /// out (`watch_if_needed`).
    pub(crate) fn end_helping(&mut self) -> io::Result<()> {
        self.helpers -= 1;
        self.watch_if_needed()
    }

    /// Puts the set back in the engine's poll when no thread helps and a query is out
    /// (the watching invariant above); answers that arrived meanwhile and were not read
    /// wake the engine at once (registering a ready set reports it).
    pub(crate) fn watch_if_needed(&mut self) -> io::Result<()> {
        if self.helpers == 0
            && !self.watched
            && self.has_queries()
            && (!self.app_reads || self.races_out || self.has_sleepers())
        {
            self.engine_registry.reregister(
                &mut SourceFd(&self.sockets.as_raw_fd()),
                tokens::DNS_SOCKETS,
                Interest::READABLE,
            )?;
            self.watched = true;
        }
        Ok(())
    }

    /// The application's descriptor (`mif_fd`).
    pub(crate) fn app_set(&self) -> Arc<LevelSet> {
        Arc::clone(&self.app_set)
    }

    /// The count of threads waiting on the queue alone (`sleepers`).
    pub(crate) fn sleepers(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.sleepers)
    }

    fn has_sleepers(&self) -> bool {
        self.sleepers.load(Ordering::Acquire) > 0
    }

    /// Whether an application thread that finds no message reads the answers itself
    /// (the set is in the application's descriptor: fd mode).
    pub(crate) fn reads_for_application(&self) -> bool {
        self.in_app_set
    }

    /// The engine, before it sleeps: whether Connect to Name races are under way.
    pub(crate) fn set_races_out(&mut self, races_out: bool) {
        let ended = self.races_out && !races_out;
        self.races_out = races_out;
        // The last race ended: in fd mode the application's descriptor watches alone
        // again (both watching, the application often finds the lock held and sleeps).
        if ended && self.app_reads && self.helpers == 0 && !self.has_sleepers() {
            self.unwatch();
        }
    }

    /// The application asked for its descriptor: from now on it waits on it.
    pub(crate) fn application_waits_on_fd(&mut self, translations: usize) {
        self.app_waits_on_fd = true;
        self.place_for_application(translations);
    }

    /// Fd mode: while an application that waits on `mif_fd` has at most
    /// `HELP_MAX_TRANSLATIONS` translations out, its descriptor watches the socket set
    /// and the engine does not (unless races are out): an answer wakes the application,
    /// which reads it in `mif_get_message`, with no thread hand-off. With more, the
    /// engine reads them on its own CPU, as for an application that does not wait on
    /// the descriptor. Called by a post with the count including its own translation
    /// (the count only grows in a post), and when the application first asks for the
    /// descriptor. A failed switch leaves the other watcher on too: harmless.
    pub(crate) fn place_for_application(&mut self, translations: usize) {
        let want = self.app_waits_on_fd && translations <= HELP_MAX_TRANSLATIONS;
        if want != self.in_app_set {
            match self.app_set.watch_poll(&self.sockets, want) {
                Ok(()) => self.in_app_set = want,
                Err(e) => log_at!(Warn, "dns: cannot switch who watches the query sockets: {e}"),
            }
        }
        self.app_reads = want && self.in_app_set;
        if self.app_reads {
            if !self.races_out && !self.has_sleepers() {
                self.unwatch();
            }
        } else if self.in_app_set {
            // A failed switch out: the application's descriptor still wakes for the
            // answers (and its reads keep it from staying readable); the engine, which
            // reads faster with this many out, watches too.
            self.watch_anyway();
        }
    }

    /// Stops a translation's queries, or its wait (Stop Translating Name).
    pub(crate) fn cancel(&mut self, generation: u64) {
        self.waiting.retain(|(job, _)| job.generation != generation);
        self.resolver.cancel(generation, self.sockets.registry());
    }

    /// After kernel changes (see `Resolver::links_changed`).
    pub(crate) fn links_changed(&mut self, present: impl Fn(u64) -> bool, out: &mut Vec<DnsEvent>) {
        self.resolver.links_changed(present, self.sockets.registry(), out);
    }

    /// Starts a translation from the posting thread (see `Resolver::start`) and makes
    /// sure the engine wakes in time for its deadline.
    pub(crate) fn start(&mut self, job: Job, link: Option<PvdLink>, now: Instant, out: &mut Vec<DnsEvent>) {
        self.start_with(job, link, now, out, None);
    }

    fn start_with(
        &mut self,
        job: Job,
        link: Option<PvdLink>,
        now: Instant,
        out: &mut Vec<DnsEvent>,
        hold: Option<&mut Option<HeldSend>>,
    ) {
        let before = self.resolver.queries.len();
        self.resolver.start(job, link, self.sockets.registry(), now, out, hold);
        if self.resolver.queries.len() == before {
            return; // answered from the hosts file, or nothing could be sent
        }
        let deadline = now + self.resolver.config.timeout;
        if self.engine_wake_at.is_some_and(|w| w <= deadline) || self.timer_armed_at.is_some_and(|t| t <= deadline) {
            return;
        }
        match self.timer.arm(deadline.saturating_duration_since(Instant::now())) {
            Ok(()) => self.timer_armed_at = Some(deadline),
            Err(e) => log_at!(Error, "dns: cannot arm the engine's timer: {e}"),
        }
    }

    /// Starts a translation as `start` does, but leaves its first queries for the
    /// caller to send once it has let go of this lock (`HeldSend::send`, then
    /// `held_sent`).
    pub(crate) fn start_holding_sends(
        &mut self,
        job: Job,
        link: Option<PvdLink>,
        now: Instant,
        out: &mut Vec<DnsEvent>,
    ) -> Option<HeldSend> {
        let mut held = None;
        self.start_with(job, link, now, out, Some(&mut held));
        held
    }

    /// Takes back what a held send did (`Resolver::held_sent`). Returns the sockets
    /// done with, for the caller to close once it has let go of this lock: a query
    /// whose send failed is closed, and nothing else would close it before the engine
    /// next processes the resolver, which may be long.
    pub(crate) fn held_sent(&mut self, held: HeldSent, out: &mut Vec<DnsEvent>) -> Closing {
        let spare = self.resolver.held_sent(held, self.sockets.registry(), Instant::now(), out);
        Closing { _queries: self.resolver.take_finished(), _spare: spare }
    }

    /// The engine saw the timer expire: it keeps the deadlines from here on.
    pub(crate) fn timer_fired(&mut self) {
        self.timer.acknowledge();
        self.timer_armed_at = None;
    }
}

/// A translation as the resolver starts it.
#[derive(Debug)]
pub(crate) struct Job {
    pub translation_id: u64,
    pub generation: u64,
    pub pvd: u64,
    pub name: QueryName,
}

/// What the resolver reports; the engine turns these into messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DnsEvent {
    Address {
        translation_id: u64,
        generation: u64,
        pvd: PvdInfo,
        addr: IpAddr,
        ttl: u32,
        source: NameSource,
        /// The DNS server that answered (`None`: the hosts file or the cache).
        server: Option<IpAddr>,
        name: String,
    },
    Done {
        translation_id: u64,
        generation: u64,
        pvd: PvdInfo,
        status: Status,
        name: String,
        /// How the A and the AAAA lookup of the last name asked ended (`Done`: with
        /// addresses), when they were asked (Connect to Name's report).
        by_type: ByType,
    },
}

/// The outcome of a translation's A (`v4`) and AAAA (`v6`) lookups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ByType {
    pub v4: Option<Status>,
    pub v6: Option<Status>,
}

impl DnsEvent {
    pub(crate) fn generation(&self) -> u64 {
        match self {
            DnsEvent::Address { generation, .. } | DnsEvent::Done { generation, .. } => *generation,
        }
    }
}

fn status_of(outcome: Outcome) -> Status {
    match outcome {
        Outcome::Addresses => Status::Done,
        Outcome::NxDomain => Status::NoSuchName,
        Outcome::NoData => Status::NoData,
        Outcome::ServFail => Status::ServerFailure,
        Outcome::Timeout => Status::Timeout,
    }
}

/// The result of one lookup (one record type for one candidate name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Addresses,
    NxDomain,
    NoData,
    ServFail,
    Timeout,
}

#[derive(Debug)]
struct Lookup {
    qtype: RecordType,
    outcome: Option<Outcome>,
    /// Index into the servers, and the round.
    server: usize,
    round: u32,
    token: Option<usize>,
    /// Why the last server failed (decides Timeout or ServFail when all fail).
    last_failure: Outcome,
}

impl Lookup {
    fn new(qtype: RecordType) -> Lookup {
        Lookup { qtype, outcome: None, server: 0, round: 0, token: None, last_failure: Outcome::Timeout }
    }
}

#[derive(Debug)]
struct Translation {
    translation_id: u64,
    link: PvdLink,
    candidates: Vec<String>,
    candidate: usize,
    lookups: [Lookup; 2],
    /// The worst negative outcome of the candidates tried so far.
    outcomes: Vec<Outcome>,
    /// The name as asked, for the cache.
    asked: QueryName,
    /// The addresses announced so far, with their TTLs, for the cache.
    answers: Vec<(IpAddr, u32)>,
}

enum Transport {
    /// Shared with a post that sends the queries after letting go of the resolver's
    /// lock (`HeldSend`): a Stop or a link change that ends the query meanwhile closes
    /// nothing under the sender.
    Udp(Arc<mio::net::UdpSocket>),
    Tcp {
        stream: mio::net::TcpStream,
        out: Vec<u8>,
        written: usize,
        inbuf: Vec<u8>,
        connected: bool,
    },
}

/// Datagrams from others than the server read and dropped in one call (`read_udp`).
const MAX_STRAYS_PER_READ: u32 = 1024;

/// An ended query's socket, reading and dropping what still arrives until `until`.
struct Lingering {
    io: QueryIo,
    until: Instant,
}

/// One query a socket waits for the answer to: the lookup (`Translation::lookups`
/// index), its ID and record type.
#[derive(Clone, Copy, Debug)]
struct Ask {
    which: usize,
    id: u16,
    qtype: RecordType,
}

/// One query socket and the queries it waits for: one, or the A and the AAAA query of
/// one name sent together to one server (`launch_both`). Over TCP always one.
pub(crate) struct QueryIo {
    generation: u64,
    asks: Vec<Ask>,
    qname: Name,
    server: SocketAddr,
    deadline: Instant,
    /// The server's datagrams read so far: at most `MAX_DATAGRAMS_PER_QUERY` for the
    /// socket, shared or not (two answers are expected, and a forger gets no more
    /// guesses at either ID than with a socket each).
    datagrams: u32,
    transport: Transport,
}

/// One query of a socket, on its own (an answer or a failure to act on).
struct Asked {
    generation: u64,
    which: usize,
    id: u16,
    qname: Name,
    qtype: RecordType,
    server: SocketAddr,
}

impl QueryIo {
    fn asked(&self, ask: Ask) -> Asked {
        let (generation, qname, server) = (self.generation, self.qname.clone(), self.server);
        Asked { generation, which: ask.which, id: ask.id, qname, qtype: ask.qtype, server }
    }
}

/// All name translations of one context.
pub(crate) struct Resolver {
    config: DnsConfig,
    /// Where the hosts file (/etc/hosts) is looked up.
    root: Root,
    hosts: HostsCache,
    use_bindtodevice: bool,
    translations: HashMap<u64, Translation>,
    queries: HashMap<usize, QueryIo>,
    next_token: usize,
    ids: IdSource,
    /// Answered queries whose sockets are closed after the results are queued
    /// (closing a socket takes microseconds; the application waits for the results).
    finished: Vec<QueryIo>,
    /// Sockets of ended queries kept open a while, by token (`retire`).
    lingering: HashMap<usize, Lingering>,
    max_lingering: usize,
    /// One receive buffer for every UDP answer: as large as a datagram can be, so that
    /// a server ignoring our EDNS size is read whole, not cut (and then ignored).
    recv_buf: Vec<u8>,
    /// Answers per PvD (`core::dns::cache`); `None` when the application turned it off.
    cache: Option<AnswerCache>,
    /// Fresh query sockets opened ahead of their query (`open_spare`), at most
    /// `MAX_SPARES`, never used for a query yet.
    spares: Vec<(SpareKey, Instant, mio::net::UdpSocket)>,
}

/// The A and the AAAA query of a name, registered and counted as out, for the posting
/// thread to send with no lock held (`send`), and the result to hand back under the
/// lock (`Resolver::held_sent`). Sending under the resolver's lock let the woken
/// server preempt the post (on the same CPU) and the engine, woken by the answer, find
/// the lock held and yield (BENCHMARKS.md, session 12).
pub(crate) struct HeldSend {
    token: usize,
    generation: u64,
    socket: Arc<mio::net::UdpSocket>,
    queries: [Vec<u8>; 2],
    server: SocketAddr,
    /// The next name's socket to open after the send (`Resolver::open_spare`), with the
    /// link's name to pin it to; `None` when a spare for the key waits already.
    spare: Option<(SpareKey, String)>,
    use_bindtodevice: bool,
}

/// Sockets to close once the resolver's lock is let go (closing one takes
/// microseconds): ended queries, and a spare socket not kept.
#[must_use]
pub(crate) struct Closing {
    _queries: Vec<QueryIo>,
    _spare: Option<mio::net::UdpSocket>,
}

/// What became of a `HeldSend`.
pub(crate) struct HeldSent {
    token: usize,
    generation: u64,
    server: SocketAddr,
    /// As `sys::send_two` reports it.
    sent: io::Result<usize>,
    spare: Option<(SpareKey, Instant, mio::net::UdpSocket)>,
}

impl HeldSend {
    /// Sends both queries, then opens the spare socket while the answer travels. Runs
    /// with no lock held: the socket is shared with its query (`Transport::Udp`).
    pub(crate) fn send(self) -> HeldSent {
        let HeldSend { token, generation, socket, queries, server, spare, use_bindtodevice } = self;
        let sent = sys::send_two(&*socket, &queries[0], &queries[1], server);
        drop(socket);
        let spare = match (&sent, spare) {
            (Ok(2), Some((key, ifname))) => {
                match open_query_socket(server, key.source, key.ifindex, &ifname, use_bindtodevice) {
                    Ok(socket) => Some((key, Instant::now(), socket)),
                    Err(e) => {
                        log_at!(Debug, "dns: no spare query socket for {server}: {e}");
                        None
                    }
                }
            }
            _ => None,
        };
        HeldSent { token, generation, server, sent, spare }
    }
}

/// Spare query sockets a context keeps: one per (link, family, source address) that
/// names were recently translated on, for up to this many at once.
const MAX_SPARES: usize = 4;

/// How far `launch_both` got with a name's two queries.
enum Sending {
    Both,
    /// The second query failed to leave (`sys::send_two`).
    FirstOnly,
    /// Left for the posting thread to send (`HeldSend`).
    Held([Vec<u8>; 2]),
}

/// What a query socket is opened for: the link it is pinned to, the server's family,
/// the source address it is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SpareKey {
    ifindex: u32,
    ipv4: bool,
    source: Option<IpAddr>,
}

impl SpareKey {
    fn new(link: &PvdLink, server: SocketAddr, source: Option<IpAddr>) -> SpareKey {
        SpareKey { ifindex: link.info.ifindex, ipv4: server.is_ipv4(), source }
    }
}

/// Query IDs from getrandom(2), fetched 128 at a time: one system call per 128
/// queries instead of one per query, with the same unpredictability (RFC 5452).
pub(crate) struct IdSource {
    pool: [u8; 256],
    used: usize,
}

impl Default for IdSource {
    fn default() -> Self {
        IdSource { pool: [0; 256], used: 256 }
    }
}

impl IdSource {
    pub(crate) fn next(&mut self) -> u16 {
        if self.used + 2 > self.pool.len() {
            if !sys::fill_random(&mut self.pool) {
                // Never expected; fall back to the clock rather than a fixed ID.
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                return (nanos ^ (nanos >> 16)) as u16;
            }
            self.used = 0;
        }
        let id = u16::from_ne_bytes([self.pool[self.used], self.pool[self.used + 1]]);
        // Each ID is used once: wipe it from the pool.
        self.pool[self.used..self.used + 2].fill(0);
        self.used += 2;
        id
    }
}

impl Resolver {
    pub(crate) fn new(config: DnsConfig, root: &Path, use_bindtodevice: bool, max_lingering: usize) -> Resolver {
        Resolver {
            config,
            root: Root::new(root),
            hosts: HostsCache::default(),
            use_bindtodevice,
            translations: HashMap::new(),
            queries: HashMap::new(),
            next_token: tokens::FIRST_QUERY,
            ids: IdSource::default(),
            finished: Vec::new(),
            lingering: HashMap::new(),
            max_lingering,
            recv_buf: vec![0; MAX_UDP_ANSWER],
            cache: (config.cache_entries > 0).then(|| AnswerCache::new(config.cache_entries)),
            spares: Vec::new(),
        }
    }

    /// The spare opened for a query from `key`, if there is one and nothing reached it
    /// while it waited. A spare waits unwatched, possibly for minutes: a datagram that
    /// came meanwhile (a forger spraying ports for a name it guesses comes next) would
    /// be read before the real answer, so a spare that holds anything, or a pending
    /// error, is closed instead and the query gets a socket opened now. Costs one
    /// receive that finds nothing.
    ///
    /// A spare older than one DNS timeout is closed unused too: it was pinned by the
    /// link's name as the model knew it then, and names can move between links.
    fn take_spare(&mut self, key: SpareKey, now: Instant) -> Option<mio::net::UdpSocket> {
        let i = self.spares.iter().position(|(k, _, _)| *k == key)?;
        let (_, opened, socket) = self.spares.remove(i);
        if now.saturating_duration_since(opened) > self.config.timeout {
            return None;
        }
        let mut byte = [0u8; 1];
        match socket.recv_from(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(socket),
            other => {
                log_at!(Debug, "dns: a spare query socket received something before its query: closed ({other:?})");
                None
            }
        }
    }

    /// A socket for a query of translation `generation` to `server` from `source`: the
    /// spare opened for that (`take_spare`), else a new one.
    fn query_socket(
        &mut self,
        generation: u64,
        server: SocketAddr,
        source: Option<IpAddr>,
        now: Instant,
    ) -> io::Result<mio::net::UdpSocket> {
        let gone = || io::Error::other("translation gone");
        let key = SpareKey::new(&self.translations.get(&generation).ok_or_else(gone)?.link, server, source);
        if let Some(socket) = self.take_spare(key, now) {
            return Ok(socket);
        }
        let t = self.translations.get(&generation).ok_or_else(gone)?;
        open_query_socket(server, source, t.link.info.ifindex, &t.link.info.ifname, self.use_bindtodevice)
    }

    /// Opens the socket the next query from `key` may use, after this one's queries
    /// left: the socket, pinning and binding system calls then run while the answer
    /// travels instead of before the next query. It is as fresh as one opened at query
    /// time (a kernel-chosen random port, never used before), only opened earlier; one
    /// that received anything meanwhile, or waited longer than one DNS timeout, is not
    /// used (`take_spare`). A spare stays until it is taken, pushed out by a fifth (the
    /// oldest goes), or the context closes: a query's key comes from the model as it
    /// is then, so a spare for a source address no longer chosen is never taken.
    fn open_spare(&mut self, generation: u64, key: SpareKey, server: SocketAddr, now: Instant) {
        if self.spares.iter().any(|(k, _, _)| *k == key) {
            return;
        }
        let Some(t) = self.translations.get(&generation) else { return };
        let (ifindex, ifname) = (t.link.info.ifindex, &t.link.info.ifname);
        match open_query_socket(server, key.source, ifindex, ifname, self.use_bindtodevice) {
            Ok(socket) => drop(self.keep_spare(key, now, socket)),
            Err(e) => log_at!(Debug, "dns: no spare query socket for {server}: {e}"),
        }
    }

    /// Adds a spare opened at `opened` for `key`, unless one for the key waits already;
    /// the oldest goes for a fifth. Returns the socket not kept, for the caller to close.
    fn keep_spare(
        &mut self,
        key: SpareKey,
        opened: Instant,
        socket: mio::net::UdpSocket,
    ) -> Option<mio::net::UdpSocket> {
        if self.spares.iter().any(|(k, _, _)| *k == key) {
            return Some(socket);
        }
        let pushed_out = (self.spares.len() >= MAX_SPARES).then(|| self.spares.remove(0).2);
        self.spares.push((key, opened, socket));
        pushed_out
    }

    /// Starts a translation. `link` is the PvD as the model sees it now (`None`: gone).
    /// `hold`: the first queries are left there for the caller to send with no lock
    /// held (`HeldSend`), instead of sent now.
    pub(crate) fn start(
        &mut self,
        job: Job,
        link: Option<PvdLink>,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<DnsEvent>,
        hold: Option<&mut Option<HeldSend>>,
    ) {
        let Job { translation_id, generation, pvd, name } = job;
        let Some(link) = link else {
            let pvd = PvdInfo { id: pvd, ifindex: 0, ifname: String::new(), family: Family::V4, name: String::new() };
            out.push(DnsEvent::Done {
                translation_id,
                generation,
                pvd,
                status: Status::NoServers,
                name: name.ascii,
                by_type: ByType::default(),
            });
            return;
        };
        // 0. An address written as the name is itself; 1. the hosts file.
        let (found, source) = match name.literal {
            Some(ip) => (vec![ip], NameSource::Literal),
            None => (self.hosts.lookup(&self.root, Path::new("/etc/hosts"), &name.ascii), NameSource::Hosts),
        };
        if !found.is_empty() {
            for addr in found {
                out.push(DnsEvent::Address {
                    translation_id,
                    generation,
                    pvd: link.info.clone(),
                    addr,
                    ttl: 0,
                    source,
                    server: None,
                    name: name.ascii.clone(),
                });
            }
            out.push(DnsEvent::Done {
                translation_id,
                generation,
                pvd: link.info,
                status: Status::Done,
                name: name.ascii,
                by_type: ByType::default(),
            });
            return;
        }
        // 2. DNS through this PvD's servers only. The DNS timeout starts now, when the
        // queries leave: the time the hosts file took is not the server's.
        let now = now.max(Instant::now());
        if link.dns_servers.is_empty() {
            out.push(DnsEvent::Done {
                translation_id,
                generation,
                pvd: link.info,
                status: Status::NoServers,
                name: name.ascii,
                by_type: ByType::default(),
            });
            return;
        }
        // 3. An earlier answer through these same servers.
        if let Some(cache) = self.cache.as_mut() {
            let (servers, domains) = (&link.dns_servers, &link.search_domains);
            if let Some(hit) = cache.get(link.info.id, servers, domains, &name.ascii, name.absolute, now) {
                for (addr, ttl) in hit.addrs {
                    out.push(DnsEvent::Address {
                        translation_id,
                        generation,
                        pvd: link.info.clone(),
                        addr,
                        ttl,
                        source: NameSource::Cache,
                        server: None,
                        name: hit.answered.clone(),
                    });
                }
                let pvd = link.info;
                let by_type = ByType::default();
                out.push(DnsEvent::Done {
                    translation_id,
                    generation,
                    pvd,
                    status: Status::Done,
                    name: hit.answered,
                    by_type,
                });
                return;
            }
        }
        let candidates = name.candidates(&link.search_domains);
        let translation = Translation {
            translation_id,
            link,
            candidates,
            candidate: 0,
            lookups: [Lookup::new(RecordType::A), Lookup::new(RecordType::AAAA)],
            outcomes: Vec::new(),
            asked: name,
            answers: Vec::new(),
        };
        self.translations.insert(generation, translation);
        self.launch_both(generation, registry, now, out, hold);
    }

    /// Drops a translation and its sockets; no event follows for it.
    pub(crate) fn cancel(&mut self, generation: u64, registry: &Registry) {
        if let Some(t) = self.translations.remove(&generation) {
            let now = Instant::now();
            for lookup in &t.lookups {
                if let Some(token) = lookup.token {
                    if let Some(q) = self.close(token, registry) {
                        self.retire(token, q, now);
                    }
                }
            }
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let lingering = self.lingering.values().map(|l| l.until);
        self.queries.values().map(|q| q.deadline).chain(lingering).min()
    }

    /// Queries done with, for the caller to drop (close) once no lock is held.
    pub(crate) fn take_finished(&mut self) -> Vec<QueryIo> {
        std::mem::take(&mut self.finished)
    }

    fn take_token(&mut self) -> usize {
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1).max(tokens::FIRST_QUERY);
        token
    }

    /// Times out every query whose deadline passed.
    pub(crate) fn expire(&mut self, registry: &Registry, now: Instant, out: &mut Vec<DnsEvent>) {
        let expired: Vec<usize> = self.queries.iter().filter(|(_, q)| q.deadline <= now).map(|(t, _)| *t).collect();
        for token in expired {
            if let Some(q) = self.close(token, registry) {
                for ask in &q.asks {
                    log_at!(Debug, "dns: {} {:?} to {} timed out", q.qname, ask.qtype, q.server);
                    self.fail_attempt(q.generation, ask.which, Outcome::Timeout, registry, now, out);
                }
                self.retire(token, q, now);
            }
        }
        let done: Vec<usize> = self.lingering.iter().filter(|(_, l)| l.until <= now).map(|(t, _)| *t).collect();
        for token in done {
            if let Some(l) = self.lingering.remove(&token) {
                self.finished.push(l.io);
            }
        }
    }

    /// A query socket is ready.
    pub(crate) fn ready(&mut self, token: Token, registry: &Registry, now: Instant, out: &mut Vec<DnsEvent>) {
        if self.lingering.contains_key(&token.0) {
            self.linger_ready(token.0);
            return;
        }
        // Readiness is edge-triggered: a socket shared by two queries is read on after
        // the first answer, for the second may already wait in it.
        while self.read_query_socket(token, registry, now, out) {}
    }

    /// Reads a query socket once; whether to read it again (an answer was taken and
    /// the socket still waits for another).
    fn read_query_socket(&mut self, token: Token, registry: &Registry, now: Instant, out: &mut Vec<DnsEvent>) -> bool {
        let Some(q) = self.queries.get_mut(&token.0) else { return false };
        let result = match &mut q.transport {
            Transport::Udp(socket) => {
                read_udp(socket, q.server, &q.asks, &q.qname, &mut q.datagrams, &mut self.recv_buf)
            }
            Transport::Tcp { stream, out: wbuf, written, inbuf, connected } => match q.asks.first() {
                Some(ask) => drive_tcp(stream, wbuf, written, inbuf, connected, ask.id, &q.qname, ask.qtype)
                    .map_answer(|msg| (msg, 0)),
                None => Progress::Failed(Outcome::ServFail, "no query".into()),
            },
        };
        match result {
            Progress::Pending => {}
            Progress::Answer((msg, index)) => {
                // That query is answered; a socket shared with the other lookup's stays
                // open for it.
                let asked = {
                    let q = self.queries.get_mut(&token.0).expect("query present");
                    let ask = q.asks.remove(index);
                    q.asked(ask)
                };
                if let Some(t) = self.translations.get_mut(&asked.generation) {
                    if t.lookups[asked.which].token == Some(token.0) {
                        t.lookups[asked.which].token = None;
                    }
                }
                let udp = matches!(self.queries.get(&token.0).map(|q| &q.transport), Some(Transport::Udp(_)));
                if self.queries.get(&token.0).is_some_and(|q| q.asks.is_empty()) {
                    if let Some(q) = self.close(token.0, registry) {
                        self.retire(token.0, q, now);
                    }
                }
                if msg.metadata.truncation && udp {
                    self.retry_over_tcp(&asked, registry, now, out);
                } else {
                    self.answer_with(&asked, msg, registry, now, out);
                }
                return self.queries.contains_key(&token.0);
            }
            Progress::Failed(outcome, why) => {
                let q = self.close(token.0, registry).expect("query present");
                for ask in &q.asks {
                    log_at!(Debug, "dns: {} {:?} to {}: {why}", q.qname, ask.qtype, q.server);
                    self.fail_attempt(q.generation, ask.which, outcome, registry, now, out);
                }
                self.retire(token.0, q, now);
            }
        }
        false
    }

    /// A query ended: its socket stays open for one more DNS timeout, reading and
    /// dropping whatever still arrives (a duplicate or late answer, a TCP server still
    /// sending: its write side is shut), so that the kernel does not answer those with
    /// ICMP port unreachable or a TCP reset. Those would be routed by the main table,
    /// out of another PvD's link with this PvD's source address. At most
    /// `max_lingering` at once (`config::lingering_cap`); the rest close at once.
    fn retire(&mut self, token: usize, io: QueryIo, now: Instant) {
        if self.lingering.len() >= self.max_lingering {
            self.finished.push(io);
            return;
        }
        if let Transport::Tcp { stream, .. } = &io.transport {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        self.lingering.insert(token, Lingering { io, until: now + self.config.timeout });
    }

    /// A lingering socket is readable: drops what it holds; closes it at a TCP end.
    fn linger_ready(&mut self, token: usize) {
        let Some(l) = self.lingering.get_mut(&token) else { return };
        let ended = match &mut l.io.transport {
            Transport::Udp(socket) => {
                // What waits is dropped (an error: a late ICMP, consumed). Bounded: a
                // flood stays in the receive buffer, which the kernel bounds.
                for _ in 0..MAX_DATAGRAMS_PER_QUERY {
                    match socket.recv_from(&mut self.recv_buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Ok(_) | Err(_) => {}
                    }
                }
                false
            }
            Transport::Tcp { stream, .. } => loop {
                match std::io::Read::read(stream, &mut self.recv_buf) {
                    Ok(0) => break true,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break true,
                }
            },
        };
        if ended {
            if let Some(l) = self.lingering.remove(&token) {
                self.finished.push(l.io);
            }
        }
    }

    fn close(&mut self, token: usize, registry: &Registry) -> Option<QueryIo> {
        // No epoll_ctl(DEL): closing the socket (when the QueryIo drops) removes it
        // from the epoll set, and a query costs two system calls fewer.
        let _ = registry;
        let q = self.queries.remove(&token)?;
        if let Some(t) = self.translations.get_mut(&q.generation) {
            for ask in &q.asks {
                if t.lookups[ask.which].token == Some(token) {
                    t.lookups[ask.which].token = None;
                }
            }
        }
        Some(q)
    }

    /// Sends the current lookup's query to its current server, moving on past servers
    /// that cannot even be reached.
    fn launch(&mut self, generation: u64, which: usize, registry: &Registry, now: Instant, out: &mut Vec<DnsEvent>) {
        loop {
            let Some(t) = self.translations.get(&generation) else { return };
            let lookup = &t.lookups[which];
            if lookup.outcome.is_some() {
                return;
            }
            let server_ip = t.link.dns_servers[lookup.server];
            let server = on_link(SocketAddr::new(server_ip, 53), t.link.info.ifindex);
            let qname = match Name::from_ascii(&t.candidates[t.candidate]) {
                Ok(mut n) => {
                    n.set_fqdn(true);
                    n
                }
                Err(_) => {
                    self.finish_lookup(generation, which, Outcome::NxDomain, registry, now, out);
                    return;
                }
            };
            let qtype = lookup.qtype;
            let id = self.ids.next();
            let source = t.link.source_for(&server_ip);
            let token = self.next_token;
            // Registered before it sends: a socket that could not be watched never has a
            // query in flight (its answer would meet a closed port).
            let sent = build_query(id, &qname, qtype).and_then(|bytes| {
                let mut socket = self.query_socket(generation, server, source, now)?;
                registry.register(&mut socket, Token(token), Interest::READABLE)?;
                socket.send_to(&bytes, server)?;
                Ok(socket)
            });
            match sent {
                Ok(socket) => {
                    self.take_token();
                    let deadline = now + self.config.timeout;
                    let transport = Transport::Udp(Arc::new(socket));
                    let asks = vec![Ask { which, id, qtype }];
                    self.queries
                        .insert(token, QueryIo { generation, asks, qname, server, deadline, datagrams: 0, transport });
                    if let Some(t) = self.translations.get_mut(&generation) {
                        t.lookups[which].token = Some(token);
                    }
                    return;
                }
                Err(e) => log_at!(Debug, "dns: cannot send to {server}: {e}"),
            }
            // Could not send at all: the next server, at once.
            if !self.advance(generation, which, Outcome::ServFail) {
                let last =
                    self.translations.get(&generation).map_or(Outcome::ServFail, |t| t.lookups[which].last_failure);
                self.finish_lookup(generation, which, last, registry, now, out);
                return;
            }
        }
    }

    /// Starts both lookups of the current candidate. They start together at the same
    /// server: the A and the AAAA query leave from one fresh socket, each with its own
    /// random ID (one socket to open, pin, bind and close instead of two). Should that
    /// fail, each lookup is launched on its own, which handles every failure.
    fn launch_both(
        &mut self,
        generation: u64,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<DnsEvent>,
        hold: Option<&mut Option<HeldSend>>,
    ) {
        let plan = (|| {
            let t = self.translations.get(&generation)?;
            let [a, aaaa] = &t.lookups;
            if a.outcome.is_some() || aaaa.outcome.is_some() || a.server != aaaa.server {
                return None;
            }
            // `build_query_pair` makes an A and an AAAA query, in that order.
            if (a.qtype, aaaa.qtype) != (RecordType::A, RecordType::AAAA) {
                return None;
            }
            let server_ip = t.link.dns_servers[a.server];
            let server = on_link(SocketAddr::new(server_ip, 53), t.link.info.ifindex);
            let mut qname = Name::from_ascii(&t.candidates[t.candidate]).ok()?;
            qname.set_fqdn(true);
            Some((server, qname, t.link.source_for(&server_ip)))
        })();
        let shared = plan.and_then(|(server, qname, source)| {
            let asks = [(0, RecordType::A), (1, RecordType::AAAA)].map(|(which, qtype)| Ask {
                which,
                id: self.ids.next(),
                qtype,
            });
            let spare_key = SpareKey::new(&self.translations.get(&generation)?.link, server, source);
            let token = self.next_token;
            // Registered before it sends (see `launch`).
            let sent = (|| {
                let queries = build_query_pair([asks[0].id, asks[1].id], &qname)?;
                let mut socket = self.query_socket(generation, server, source, now)?;
                registry.register(&mut socket, Token(token), Interest::READABLE)?;
                let socket = Arc::new(socket);
                if hold.is_some() {
                    return Ok((socket, Sending::Held(queries)));
                }
                let both = sys::send_two(&*socket, &queries[0], &queries[1], server)? == 2;
                if !both {
                    // sendmmsg reports only what left: the second's error is lost.
                    log_at!(Debug, "dns: AAAA query to {server} not sent on the shared socket (cause not reported)");
                }
                Ok::<_, io::Error>((socket, if both { Sending::Both } else { Sending::FirstOnly }))
            })();
            match sent {
                Ok((socket, sending)) => Some((socket, asks, sending, qname, server, token, spare_key)),
                Err(e) => {
                    log_at!(Debug, "dns: cannot send both queries to {server} on one socket: {e}");
                    None
                }
            }
        });
        let Some((socket, asks, sending, qname, server, token, spare_key)) = shared else {
            for which in 0..2 {
                self.launch(generation, which, registry, now, out);
            }
            return;
        };
        self.take_token();
        // Held: out as far as everyone else can tell; the post sends once it lets go
        // of the lock (`HeldSend::send`), and hands the result back (`held_sent`).
        let both = !matches!(sending, Sending::FirstOnly);
        match (sending, hold) {
            (Sending::Held(queries), Some(hold)) => {
                let spare = match self.spares.iter().any(|(k, _, _)| *k == spare_key) {
                    true => None,
                    false => self.translations.get(&generation).map(|t| (spare_key, t.link.info.ifname.clone())),
                };
                let use_bindtodevice = self.use_bindtodevice;
                let socket = Arc::clone(&socket);
                *hold = Some(HeldSend { token, generation, socket, queries, server, spare, use_bindtodevice });
            }
            (Sending::Both, _) => self.open_spare(generation, spare_key, server, now),
            (Sending::Held(_), None) => unreachable!("a held pair comes only with a place to hold it"),
            (Sending::FirstOnly, _) => {}
        }
        let io = QueryIo {
            generation,
            asks: if both { asks.to_vec() } else { Vec::new() },
            qname,
            server,
            deadline: now + self.config.timeout,
            datagrams: 0,
            transport: Transport::Udp(socket),
        };
        if !both {
            // The second send failed, typically with the server's ICMP unreachable for
            // the first query (IP_RECVERR reports it on the next send, which consumes
            // it): the server cannot be reached, and both lookups move on as from a
            // send that failed. The socket lingers for the first query's late answer.
            self.retire(token, io, now);
            for which in 0..2 {
                self.fail_attempt(generation, which, Outcome::ServFail, registry, now, out);
            }
            return;
        }
        self.queries.insert(token, io);
        if let Some(t) = self.translations.get_mut(&generation) {
            for lookup in &mut t.lookups {
                lookup.token = Some(token);
            }
        }
    }

    /// Takes back a `HeldSend` the post sent with no lock held. Both left: the spare
    /// it opened joins the others. Otherwise only the lookups the query still asks for
    /// move on (an answer may have been read, and acted on, meanwhile): if only the
    /// first query left, as from a failed send (the socket lingers for the first's
    /// late answer); if nothing left, each is launched again on its own. A Stop, a link
    /// change or its expiry may have ended the query meanwhile: then nothing more is
    /// done for it. Returns the spare socket not kept
    /// (one for the key came meanwhile, or the oldest pushed out), for the caller to
    /// close with no lock held.
    fn held_sent(
        &mut self,
        held: HeldSent,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<DnsEvent>,
    ) -> Option<mio::net::UdpSocket> {
        let HeldSent { token, generation, server, sent, spare } = held;
        let not_kept = spare.and_then(|(key, opened, socket)| self.keep_spare(key, opened, socket));
        if self.queries.get(&token).is_none_or(|q| q.generation != generation) {
            return not_kept;
        }
        match sent {
            Ok(2) => {}
            // Only the lookups the query still asks for: the first query left, and its
            // answer may have been read meanwhile (and acted on: the lookup may be done
            // or already asking elsewhere).
            Ok(_) => {
                log_at!(Debug, "dns: AAAA query to {server} not sent on the shared socket (cause not reported)");
                let Some(q) = self.close(token, registry) else { return not_kept };
                let whiches: Vec<usize> = q.asks.iter().map(|a| a.which).collect();
                self.retire(token, q, now);
                for which in whiches {
                    self.fail_attempt(generation, which, Outcome::ServFail, registry, now, out);
                }
            }
            Err(e) => {
                log_at!(Debug, "dns: cannot send both queries to {server} on one socket: {e}");
                let Some(q) = self.close(token, registry) else { return not_kept };
                let whiches: Vec<usize> = q.asks.iter().map(|a| a.which).collect();
                self.finished.push(q);
                for which in whiches {
                    self.launch(generation, which, registry, now, out);
                }
            }
        }
        not_kept
    }

    /// Moves a lookup to its next server; false when every round is used up.
    fn advance(&mut self, generation: u64, which: usize, failure: Outcome) -> bool {
        let tries = self.config.tries;
        let Some(t) = self.translations.get_mut(&generation) else { return false };
        let servers = t.link.dns_servers.len();
        let lookup = &mut t.lookups[which];
        lookup.last_failure = failure;
        lookup.server += 1;
        if lookup.server >= servers {
            lookup.server = 0;
            lookup.round += 1;
        }
        lookup.round < tries
    }

    fn fail_attempt(
        &mut self,
        generation: u64,
        which: usize,
        failure: Outcome,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<DnsEvent>,
    ) {
        if self.advance(generation, which, failure) {
            self.launch(generation, which, registry, now, out);
        } else {
            self.finish_lookup(generation, which, failure, registry, now, out);
        }
    }

    fn answer_with(&mut self, q: &Asked, msg: Message, registry: &Registry, now: Instant, out: &mut Vec<DnsEvent>) {
        match msg.metadata.response_code {
            ResponseCode::NoError => {
                let addresses = answer_addresses(&msg, &q.qname, q.qtype);
                if addresses.is_empty() {
                    self.finish_lookup(q.generation, q.which, Outcome::NoData, registry, now, out);
                    return;
                }
                if let Some(t) = self.translations.get_mut(&q.generation) {
                    let name = t.candidates[t.candidate].clone();
                    t.answers.extend(addresses.iter().copied());
                    for (addr, ttl) in addresses {
                        out.push(DnsEvent::Address {
                            translation_id: t.translation_id,
                            generation: q.generation,
                            pvd: t.link.info.clone(),
                            addr,
                            ttl,
                            source: NameSource::Dns,
                            server: Some(q.server.ip()),
                            name: name.clone(),
                        });
                    }
                }
                self.finish_lookup(q.generation, q.which, Outcome::Addresses, registry, now, out);
            }
            ResponseCode::NXDomain => self.finish_lookup(q.generation, q.which, Outcome::NxDomain, registry, now, out),
            other => {
                log_at!(Debug, "dns: {} {:?} from {}: {other:?}", q.qname, q.qtype, q.server);
                self.fail_attempt(q.generation, q.which, Outcome::ServFail, registry, now, out);
            }
        }
    }

    /// Asks a truncated query again over TCP (the UDP socket lingers like any ended
    /// query's once no query of it is left: `retire`).
    fn retry_over_tcp(&mut self, q: &Asked, registry: &Registry, now: Instant, out: &mut Vec<DnsEvent>) {
        let Some(t) = self.translations.get(&q.generation) else { return };
        let source = t.link.source_for(&q.server.ip());
        let made = build_query(q.id, &q.qname, q.qtype).and_then(|bytes| {
            let socket = pinned_socket(
                Type::STREAM,
                Protocol::TCP,
                q.server,
                source,
                t.link.info.ifindex,
                &t.link.info.ifname,
                self.use_bindtodevice,
            )?;
            let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&bytes);
            Ok((mio::net::TcpStream::from_std(std::net::TcpStream::from(socket)), framed))
        });
        match made {
            Ok((mut stream, framed)) => {
                let token = self.take_token();
                if registry.register(&mut stream, Token(token), Interest::READABLE | Interest::WRITABLE).is_ok() {
                    log_at!(Debug, "dns: {} {:?} truncated, asking {} over TCP", q.qname, q.qtype, q.server);
                    let tcp = QueryIo {
                        generation: q.generation,
                        asks: vec![Ask { which: q.which, id: q.id, qtype: q.qtype }],
                        qname: q.qname.clone(),
                        server: q.server,
                        deadline: now + self.config.timeout,
                        datagrams: 0,
                        transport: Transport::Tcp {
                            stream,
                            out: framed,
                            written: 0,
                            inbuf: Vec::new(),
                            connected: false,
                        },
                    };
                    self.queries.insert(token, tcp);
                    if let Some(t) = self.translations.get_mut(&q.generation) {
                        t.lookups[q.which].token = Some(token);
                    }
                    return;
                }
                self.fail_attempt(q.generation, q.which, Outcome::ServFail, registry, now, out);
            }
            Err(e) => {
                log_at!(Debug, "dns: TCP to {}: {e}", q.server);
                self.fail_attempt(q.generation, q.which, Outcome::ServFail, registry, now, out);
            }
        }
    }

    /// Records a lookup's outcome; when both lookups of the candidate are over,
    /// finishes the translation or moves to the next candidate.
    fn finish_lookup(
        &mut self,
        generation: u64,
        which: usize,
        outcome: Outcome,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<DnsEvent>,
    ) {
        let Some(t) = self.translations.get_mut(&generation) else { return };
        t.lookups[which].outcome = Some(outcome);
        let (Some(a), Some(b)) = (t.lookups[0].outcome, t.lookups[1].outcome) else { return };
        let negative = |o: Outcome| matches!(o, Outcome::NxDomain | Outcome::NoData);
        if a == Outcome::Addresses || b == Outcome::Addresses {
            self.done(generation, Status::Done, out);
            return;
        }
        t.outcomes.push(a);
        t.outcomes.push(b);
        if negative(a) && negative(b) && t.candidate + 1 < t.candidates.len() {
            t.candidate += 1;
            t.lookups = [Lookup::new(RecordType::A), Lookup::new(RecordType::AAAA)];
            self.launch_both(generation, registry, now, out, None);
            return;
        }
        // Timeouts and failures mean "could not tell", which outranks a negative answer.
        let status = if t.outcomes.contains(&Outcome::Timeout) {
            Status::Timeout
        } else if t.outcomes.contains(&Outcome::ServFail) {
            Status::ServerFailure
        } else if t.outcomes.contains(&Outcome::NoData) {
            Status::NoData
        } else {
            Status::NoSuchName
        };
        self.done(generation, status, out);
    }

    fn done(&mut self, generation: u64, status: Status, out: &mut Vec<DnsEvent>) {
        if let Some(t) = self.translations.remove(&generation) {
            let name = t.candidates.get(t.candidate).cloned().unwrap_or_default();
            if let (Status::Done, Some(cache)) = (status, self.cache.as_mut()) {
                let (servers, domains) = (&t.link.dns_servers, &t.link.search_domains);
                let asked = &t.asked;
                cache.put(
                    t.link.info.id,
                    servers,
                    domains,
                    &asked.ascii,
                    asked.absolute,
                    &name,
                    &t.answers,
                    Instant::now(),
                );
            }
            let of = |l: &Lookup| l.outcome.map(status_of);
            let by_type = ByType { v4: of(&t.lookups[0]), v6: of(&t.lookups[1]) };
            let (translation_id, pvd) = (t.translation_id, t.link.info);
            out.push(DnsEvent::Done { translation_id, generation, pvd, status, name, by_type });
        }
    }

    /// After kernel changes: a translation whose PvD went away ends at once with
    /// `NoServers` (its link and servers are gone).
    pub(crate) fn links_changed(
        &mut self,
        present: impl Fn(u64) -> bool,
        registry: &Registry,
        out: &mut Vec<DnsEvent>,
    ) {
        if let Some(cache) = self.cache.as_mut() {
            cache.retain_pvds(&present);
        }
        let gone: Vec<u64> =
            self.translations.iter().filter(|(_, t)| !present(t.link.info.id)).map(|(g, _)| *g).collect();
        for generation in gone {
            if let Some(t) = self.translations.get(&generation) {
                let tokens: Vec<usize> = t.lookups.iter().filter_map(|l| l.token).collect();
                for token in tokens {
                    self.close(token, registry);
                }
            }
            self.done(generation, Status::NoServers, out);
        }
    }
}

/// Opens a UDP socket for one query: pinned to the PvD's link, bound to its source
/// address on a kernel-chosen random port, not connected (`pin::pinned_query_socket`:
/// what comes from elsewhere is read and dropped here, not answered by the kernel),
/// nonblocking, CLOEXEC.
fn open_query_socket(
    server: SocketAddr,
    source: Option<IpAddr>,
    ifindex: u32,
    ifname: &str,
    use_bindtodevice: bool,
) -> io::Result<mio::net::UdpSocket> {
    let socket = pinned_query_socket(server, source, ifindex, ifname, use_bindtodevice)?;
    Ok(mio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket)))
}

enum Progress<A = Message> {
    Pending,
    Answer(A),
    Failed(Outcome, String),
}

impl Progress {
    fn map_answer<B>(self, f: impl FnOnce(Message) -> B) -> Progress<B> {
        match self {
            Progress::Pending => Progress::Pending,
            Progress::Answer(msg) => Progress::Answer(f(msg)),
            Progress::Failed(outcome, why) => Progress::Failed(outcome, why),
        }
    }
}

/// Reads the socket's datagrams until one answers one of `asks` (the answer and that
/// query's index in `asks`).
fn read_udp(
    socket: &mio::net::UdpSocket,
    server: SocketAddr,
    asks: &[Ask],
    qname: &Name,
    datagrams: &mut u32,
    buf: &mut [u8],
) -> Progress<(Message, usize)> {
    // Datagrams from anyone but the server are dropped uncounted (a stranger must not
    // use up the server's allowance), up to MAX_STRAYS_PER_READ per call: a receive
    // buffer holds fewer, so only a flood still arriving stops the loop, and its next
    // datagram is the next readiness edge.
    let mut strays = 0;
    loop {
        if *datagrams >= MAX_DATAGRAMS_PER_QUERY {
            return Progress::Failed(Outcome::ServFail, "too many unmatched datagrams".into());
        }
        match socket.recv_from(buf) {
            Ok((_, from)) if from.ip() != server.ip() || from.port() != server.port() => {
                strays += 1;
                if strays >= MAX_STRAYS_PER_READ {
                    return Progress::Pending;
                }
            }
            Ok((n, _)) => {
                *datagrams += 1;
                // The ID picks the query (both are tried should the two IDs be equal).
                let id = buf.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                for (index, ask) in asks.iter().enumerate().filter(|(_, a)| Some(a.id) == id) {
                    if let Some(msg) = validate(&buf[..n], ask.id, qname, ask.qtype) {
                        return Progress::Answer((msg, index));
                    }
                }
                // Not ours (wrong ID or question): ignore and keep waiting.
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Pending,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // ICMP port/host unreachable from the server (IP_RECVERR).
            Err(e) => return Progress::Failed(Outcome::ServFail, e.to_string()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn drive_tcp(
    stream: &mut mio::net::TcpStream,
    wbuf: &mut [u8],
    written: &mut usize,
    inbuf: &mut Vec<u8>,
    connected: &mut bool,
    id: u16,
    qname: &Name,
    qtype: RecordType,
) -> Progress {
    if !*connected {
        // A nonblocking connect is finished when writable: take_error, then peer_addr.
        match stream.take_error() {
            Ok(Some(e)) | Err(e) => return Progress::Failed(Outcome::ServFail, e.to_string()),
            Ok(None) => {}
        }
        match stream.peer_addr() {
            Ok(_) => *connected = true,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Progress::Pending,
            Err(e) => return Progress::Failed(Outcome::ServFail, e.to_string()),
        }
    }
    while *written < wbuf.len() {
        match stream.write(&wbuf[*written..]) {
            Ok(0) => return Progress::Failed(Outcome::ServFail, "connection closed".into()),
            Ok(n) => *written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Pending,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Progress::Failed(Outcome::ServFail, e.to_string()),
        }
    }
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Progress::Failed(Outcome::ServFail, "connection closed before the answer".into()),
            Ok(n) => {
                inbuf.extend_from_slice(&buf[..n]);
                if inbuf.len() > MAX_TCP_ANSWER + 2 {
                    return Progress::Failed(Outcome::ServFail, "answer too large".into());
                }
                if inbuf.len() >= 2 {
                    let len = usize::from(u16::from_be_bytes([inbuf[0], inbuf[1]]));
                    if inbuf.len() >= len + 2 {
                        return match validate(&inbuf[2..len + 2], id, qname, qtype) {
                            Some(msg) => Progress::Answer(msg),
                            None => Progress::Failed(Outcome::ServFail, "TCP answer does not match the query".into()),
                        };
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Pending,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Progress::Failed(Outcome::ServFail, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    /// An engine poll with a resolver's query set nested in it, as `Context::open` makes
    /// them, and the queue's eventfd that the application's descriptor holds.
    fn engine_and_resolver() -> (mio::Poll, DnsShared, sys::Level) {
        let engine = mio::Poll::new().unwrap();
        let resolver = Resolver::new(DnsConfig::default(), Path::new("/"), false, 4);
        let queue = sys::Level::new().unwrap();
        let dns = DnsShared::new(resolver, engine.registry().try_clone().unwrap(), queue.as_fd()).unwrap();
        (engine, dns, queue)
    }

    /// Whether the engine's poll reports the query set within `wait_ms`.
    fn engine_woke(engine: &mut mio::Poll, events: &mut mio::Events, wait_ms: u64) -> bool {
        engine.poll(events, Some(Duration::from_millis(wait_ms))).unwrap();
        events.iter().any(|e| e.token() == tokens::DNS_SOCKETS)
    }

    /// The watching invariant, on real epoll sets: an engine poll with the query set
    /// nested in it as `DnsShared::new` does, one UDP query socket in the set.
    #[test]
    fn the_engine_watches_the_set_whenever_a_query_is_out_and_nobody_helps() {
        let (mut engine, mut dns, _queue) = engine_and_resolver();
        let mut events = mio::Events::with_capacity(8);
        let mut woke = |engine: &mut mio::Poll, wait_ms: u64| engine_woke(engine, &mut events, wait_ms);
        // Alone, a helper takes the set out; with no query out it stays out after it.
        dns.begin_helping();
        dns.end_helping().unwrap();
        assert!(!dns.watched, "no query out: the set need not go back");
        // A query goes out (as a post that did not help leaves it): watched again.
        let (server, to) = one_query_out(&mut dns);
        dns.watch_if_needed().unwrap();
        assert!(dns.watched);
        // A helper takes it out: a datagram then does not wake the engine...
        dns.begin_helping();
        assert!(!dns.watched);
        server.send_to(b"first", to).unwrap();
        assert!(!woke(&mut engine, 200), "the engine woke while a thread helped");
        // ...and when the last helper leaves with the query still out, the engine
        // hears of the datagram that came meanwhile.
        dns.begin_helping();
        dns.end_helping().unwrap();
        assert!(!dns.watched, "a helper is still there");
        dns.end_helping().unwrap();
        assert!(dns.watched);
        assert!(woke(&mut engine, 10_000), "the datagram that came while helped was not reported");
    }

    /// Registers one UDP query in the set, as a post does; gives its server's socket
    /// and the query socket's address.
    fn one_query_out(dns: &mut DnsShared) -> (std::net::UdpSocket, SocketAddr) {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_nonblocking(true).unwrap();
        let mut socket = mio::net::UdpSocket::from_std(client);
        let to = socket.local_addr().unwrap();
        dns.sockets.registry().register(&mut socket, Token(tokens::FIRST_QUERY), Interest::READABLE).unwrap();
        let io = QueryIo {
            generation: 1,
            asks: vec![Ask { which: 0, id: 1, qtype: RecordType::A }],
            qname: Name::from_ascii("host.example.").unwrap(),
            server: server.local_addr().unwrap(),
            deadline: Instant::now() + Duration::from_secs(60),
            datagrams: 0,
            transport: Transport::Udp(Arc::new(socket)),
        };
        dns.resolver.queries.insert(tokens::FIRST_QUERY, io);
        (server, to)
    }

    /// Fd mode, on real epoll sets: once the application asked for its descriptor,
    /// with up to 4 translations out the descriptor watches the query set and the
    /// engine does not; a fifth gives the set to the engine (the descriptor then no
    /// longer wakes for it); Connect to Name races keep the engine watching.
    #[test]
    fn in_fd_mode_the_application_descriptor_watches_the_set_up_to_four_translations() {
        let (mut engine, mut dns, queue) = engine_and_resolver();
        let mut events = mio::Events::with_capacity(8);
        let mut woke = |engine: &mut mio::Poll, wait_ms: u64| engine_woke(engine, &mut events, wait_ms);
        // Loopback delivery may be deferred on a loaded machine: readable within 10 s.
        let app_readable = |dns: &DnsShared| dns.app_set.readable_within(10_000).unwrap();
        let app_unreadable = |dns: &DnsShared| !dns.app_set.readable_within(0).unwrap();
        let (server, to) = one_query_out(&mut dns);
        // Not asked for the descriptor yet: a post leaves the set with the engine.
        dns.place_for_application(1);
        assert!(!dns.reads_for_application() && dns.watched);
        dns.application_waits_on_fd(1);
        assert!(dns.reads_for_application() && !dns.watched);
        dns.watch_if_needed().unwrap();
        assert!(!dns.watched, "the engine took the set back from the application");
        server.send_to(b"answer", to).unwrap();
        assert!(app_readable(&dns), "the answer did not make the application's descriptor readable");
        assert!(!woke(&mut engine, 200), "the engine woke in fd mode");
        // The queue's eventfd is in the descriptor too.
        queue.raise();
        assert!(app_readable(&dns));
        queue.lower();
        // A fifth translation: the engine reads, and hears of the unread answer.
        dns.place_for_application(5);
        assert!(!dns.reads_for_application());
        assert!(app_unreadable(&dns), "the descriptor still wakes for answers the engine reads");
        dns.watch_if_needed().unwrap();
        assert!(dns.watched);
        assert!(woke(&mut engine, 10_000), "the unread answer was not reported to the engine");
        // Back to 1 (a post): the application's again.
        dns.place_for_application(1);
        assert!(dns.reads_for_application() && !dns.watched && app_readable(&dns));
        // A race is out: the engine watches too, and a post does not take it away.
        dns.set_races_out(true);
        dns.watch_if_needed().unwrap();
        assert!(dns.watched);
        dns.place_for_application(1);
        assert!(dns.watched && dns.reads_for_application());
        // The race ends: the application's descriptor watches alone again.
        dns.set_races_out(false);
        assert!(!dns.watched && dns.reads_for_application());
        // A thread waits on the queue alone (`Sleeping`): the engine watches too, and a
        // post does not take it away; once it is gone, the next post does.
        dns.sleepers.fetch_add(1, Ordering::AcqRel);
        dns.watch_if_needed().unwrap();
        assert!(dns.watched);
        dns.place_for_application(1);
        assert!(dns.watched);
        dns.sleepers.fetch_sub(1, Ordering::AcqRel);
        dns.place_for_application(1);
        assert!(!dns.watched && dns.reads_for_application());
    }

    /// A held send from which only the A query left, handed back after the A answer was
    /// read (by the engine, meanwhile): only the AAAA lookup, which the query still asks
    /// for, fails; the translation ends with its addresses. And a hand-back for a query
    /// a Stop ended meanwhile does nothing. Nothing can be sent: the link has no
    /// servers to move on to (a regression that launched again would panic on the
    /// empty list, not send), and one try.
    #[test]
    fn a_held_send_that_left_only_the_first_query_fails_only_what_is_still_asked() {
        let config = DnsConfig { tries: 1, ..DnsConfig::default() };
        let poll = mio::Poll::new().unwrap();
        let token = tokens::FIRST_QUERY;
        // The address the held query went to (never used here: nothing is sent).
        let server = SocketAddr::new("198.18.0.53".parse().unwrap(), 53);
        let start = || {
            let mut resolver = Resolver::new(config, Path::new("/"), false, 4);
            let info = PvdInfo { id: 7, ifindex: 1, ifname: "lo".into(), family: Family::V4, name: "lo/ipv4".into() };
            let link = PvdLink { info, addrs: Vec::new(), dns_servers: Vec::new(), search_domains: Vec::new() };
            let mut lookups = [Lookup::new(RecordType::A), Lookup::new(RecordType::AAAA)];
            lookups[0].outcome = Some(Outcome::Addresses);
            lookups[1].token = Some(token);
            let translation = Translation {
                translation_id: 9,
                link,
                candidates: vec!["host.example".into()],
                candidate: 0,
                lookups,
                outcomes: Vec::new(),
                asked: QueryName::parse("host.example").unwrap(),
                answers: Vec::new(),
            };
            resolver.translations.insert(1, translation);
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            let io = QueryIo {
                generation: 1,
                asks: vec![Ask { which: 1, id: 2, qtype: RecordType::AAAA }],
                qname: Name::from_ascii("host.example.").unwrap(),
                server,
                deadline: Instant::now() + Duration::from_secs(60),
                datagrams: 0,
                transport: Transport::Udp(Arc::new(mio::net::UdpSocket::from_std(socket))),
            };
            resolver.queries.insert(token, io);
            resolver
        };
        let first_only = HeldSent { token, generation: 1, server, sent: Ok(1), spare: None };
        let show = |out: &[DnsEvent]| -> Vec<String> {
            out.iter()
                .map(|e| match e {
                    DnsEvent::Done { translation_id, status, .. } => format!("{translation_id} done {status:?}"),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        let mut resolver = start();
        let mut out = Vec::new();
        resolver.held_sent(first_only, poll.registry(), Instant::now(), &mut out);
        assert_eq!(show(&out), vec!["9 done Done"]);
        assert!(resolver.queries.is_empty() && resolver.translations.is_empty());
        // A Stop came first: its query lingers, and the hand-back leaves it so.
        let mut resolver = start();
        resolver.cancel(1, poll.registry());
        let first_only = HeldSent { token, generation: 1, server, sent: Ok(1), spare: None };
        let mut out = Vec::new();
        resolver.held_sent(first_only, poll.registry(), Instant::now(), &mut out);
        assert_eq!(show(&out), Vec::<String>::new());
        assert!(resolver.queries.is_empty() && resolver.lingering.contains_key(&token));
    }

    #[test]
    fn random_ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| IdSource::default().next()).collect();
        assert!(ids.len() > 32);
    }

    #[test]
    fn pooled_ids_vary_across_refills() {
        // 1000 IDs span eight getrandom refills of 128; 16 random bits give about 992
        // distinct values in 1000 draws, and a refill that failed or repeated the pool
        // would give at most ~128.
        let mut ids = IdSource::default();
        let drawn: Vec<u16> = (0..1000).map(|_| ids.next()).collect();
        let distinct: std::collections::HashSet<u16> = drawn.iter().copied().collect();
        assert!(distinct.len() > 900, "{} distinct IDs in 1000", distinct.len());
        assert_ne!(drawn[..128], drawn[128..256], "the second refill repeated the first");
    }

    #[test]
    fn a_udp_answer_larger_than_4096_bytes_is_read_whole() {
        // A server that ignores our EDNS size: 300 A records, about 4.8 kB.
        let mut qname = Name::from_ascii("big.example.com").unwrap();
        qname.set_fqdn(true);
        let mut answer =
            Message::new(0x4242, hickory_proto::op::MessageType::Response, hickory_proto::op::OpCode::Query);
        answer.add_query(hickory_proto::op::Query::query(qname.clone(), RecordType::A));
        for i in 0..300u32 {
            let a = std::net::Ipv4Addr::from(0xc612_0000 + i); // 198.18.x.y
            answer.add_answer(hickory_proto::rr::Record::from_rdata(
                qname.clone(),
                60,
                hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A(a)),
            ));
        }
        let bytes = answer.to_vec().unwrap();
        assert!(bytes.len() > 4096, "{} bytes", bytes.len());
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let stranger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // The same answer from another port first: read and dropped, not taken.
        stranger.send_to(&bytes, client.local_addr().unwrap()).unwrap();
        server.send_to(&bytes, client.local_addr().unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        let client = mio::net::UdpSocket::from_std(client);
        let mut buf = vec![0; MAX_UDP_ANSWER];
        let mut datagrams = 0;
        let from = server.local_addr().unwrap();
        let asks = [Ask { which: 0, id: 0x4242, qtype: RecordType::A }];
        match read_udp(&client, from, &asks, &qname, &mut datagrams, &mut buf) {
            Progress::Answer((msg, 0)) => {
                assert_eq!(msg.answers.len(), 300);
                assert_eq!(datagrams, 1, "the stranger's copy was read and dropped first, uncounted");
            }
            Progress::Answer((_, index)) => panic!("answered query {index}"),
            Progress::Pending => panic!("the answer was not read whole (cut, then ignored)"),
            Progress::Failed(_, why) => panic!("{why}"),
        }
    }

    #[test]
    fn one_socket_reads_the_a_and_the_aaaa_answer_each_by_its_id() {
        let qname = Name::from_ascii("host.example.").unwrap();
        let reply = |id: u16, qtype: RecordType| {
            let mut m = Message::new(id, hickory_proto::op::MessageType::Response, hickory_proto::op::OpCode::Query);
            m.add_query(hickory_proto::op::Query::query(qname.clone(), qtype));
            m.to_vec().unwrap()
        };
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = client.local_addr().unwrap();
        // The AAAA answer first; then one with the A's ID but the AAAA question (not
        // the A's answer: ignored, counted); then the A answer.
        server.send_to(&reply(0x2222, RecordType::AAAA), to).unwrap();
        server.send_to(&reply(0x1111, RecordType::AAAA), to).unwrap();
        server.send_to(&reply(0x1111, RecordType::A), to).unwrap();
        client.set_nonblocking(true).unwrap();
        let client = mio::net::UdpSocket::from_std(client);
        let mut buf = vec![0; MAX_UDP_ANSWER];
        let mut datagrams = 0;
        let from = server.local_addr().unwrap();
        let mut asks = vec![
            Ask { which: 0, id: 0x1111, qtype: RecordType::A },
            Ask { which: 1, id: 0x2222, qtype: RecordType::AAAA },
        ];
        let mut answered = Vec::new();
        while !asks.is_empty() {
            match read_udp(&client, from, &asks, &qname, &mut datagrams, &mut buf) {
                Progress::Answer((msg, index)) => {
                    let ask = asks.remove(index);
                    assert_eq!(msg.metadata.id, ask.id);
                    answered.push(ask.which);
                }
                Progress::Pending => panic!("answers left unread: {asks:?}"),
                Progress::Failed(_, why) => panic!("{why}"),
            }
        }
        assert_eq!(answered, vec![1, 0], "AAAA, then A (the mismatched datagram in between ignored)");
        assert_eq!(datagrams, 3);
    }
}
