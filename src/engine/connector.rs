//! Connections per provisioning domain (draft 3.2.7.21–3.2.7.25): nonblocking TCP
//! connects from the PvD's source addresses, pinned to its link, racing with RFC 8305
//! pacing, bounded by an overall timeout. Runs inside the engine's mio loop.
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use mio::{Interest, Registry, Token};
use socket2::{Protocol, Type};

use super::by_name::EstablishmentReport;
use super::tokens;
use crate::core::link::{is_link_local, on_link};
use crate::core::model::{Family, PvdInfo, PvdLink};
use crate::log::log_at;
use crate::os::errno_of;
use crate::os::pin::pinned_socket;
use crate::os::sys;

/// Pacing and limits, from the options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectConfig {
    /// RFC 8305 Connection Attempt Delay.
    pub attempt_delay: Duration,
    /// Overall limit of one request.
    pub timeout: Duration,
}

impl Default for ConnectConfig {
    fn default() -> Self {
        ConnectConfig { attempt_delay: Duration::from_millis(250), timeout: Duration::from_millis(10_000) }
    }
}

/// A connect request as the engine receives it.
#[derive(Debug)]
pub(crate) struct ConnectRequest {
    pub connection_id: u64,
    pub generation: u64,
    pub pvd: u64,
    pub remote: SocketAddr,
    /// Connect to Address From Address: this source only.
    pub local: Option<IpAddr>,
    pub started: Instant,
    /// Attempts that may run at once: the sockets the request reserved.
    pub max_parallel: usize,
    /// Multipath TCP asked for (IPPROTO_MPTCP sockets; plain TCP where the host has none).
    pub mptcp: bool,
    /// The first candidate's attempt, started by the posting thread (`start_first`).
    pub first: Option<StartedAttempt>,
}

/// A plain TCP attempt from the first source candidate, started on the posting thread
/// (`Context::connect`) and still connecting: the engine adopts it.
#[derive(Debug)]
pub(crate) struct StartedAttempt {
    pub source: Option<IpAddr>,
    pub socket: socket2::Socket,
}

/// What `start_first` did.
pub(crate) enum FirstAttempt {
    /// The kernel finished the handshake within connect() (a server on this host, in a
    /// container, behind a veth): the Connected event, made here.
    Connected(ConnectEvent),
    /// Still connecting (or failed after the SYN left): for the engine to watch.
    Started(StartedAttempt),
    /// Not started (MPTCP asked, no candidate, or the socket could not be made): the
    /// engine starts it as it does every attempt, and reports what fails.
    NotStarted,
}

/// Starts a plain TCP connect's first attempt on the calling thread: what the engine
/// would do first, minus its wake-up, and without any hand-off when the handshake is
/// over before connect() returns (BENCHMARKS.md, "connect").
pub(crate) fn start_first(
    req: &ConnectRequest,
    link: &PvdLink,
    use_bindtodevice: bool,
    now: impl Fn() -> Instant,
) -> FirstAttempt {
    if req.mptcp {
        return FirstAttempt::NotStarted;
    }
    let remote = on_link(req.remote, link.info.ifindex);
    let source = match req.local {
        Some(local) => Some(local),
        None => match source_candidates(link, &remote.ip()).first() {
            Some(first) => *first,
            None => return FirstAttempt::NotStarted,
        },
    };
    let (ifindex, ifname) = (link.info.ifindex, &link.info.ifname);
    let Ok(socket) = pinned_socket(Type::STREAM, Protocol::TCP, remote, source, ifindex, ifname, use_bindtodevice)
    else {
        return FirstAttempt::NotStarted;
    };
    // Connected once the peer is known (ENOTCONN while the SYN waits, or after a reset:
    // the engine then sees the socket writable with its error).
    if socket.peer_addr().is_err() {
        return FirstAttempt::Started(StartedAttempt { source, socket });
    }
    let stream = std::net::TcpStream::from(socket);
    FirstAttempt::Connected(handed_over(
        stream,
        req.connection_id,
        req.generation,
        link.info.clone(),
        remote,
        now().saturating_duration_since(req.started),
        Mptcp::NotAsked,
    ))
}

/// The result of a won attempt: its socket handed over in blocking mode (what a plain
/// connect() gives), with its local address.
fn handed_over(
    stream: std::net::TcpStream,
    connection_id: u64,
    generation: u64,
    pvd: PvdInfo,
    remote: SocketAddr,
    elapsed: Duration,
    mptcp: Mptcp,
) -> ConnectEvent {
    let local = stream.local_addr();
    let handed = stream.set_nonblocking(false).map(|()| OwnedFd::from(stream));
    match (handed, local) {
        (Ok(fd), Ok(local)) => ConnectEvent::Connected {
            connection_id,
            generation,
            pvd,
            fd,
            local,
            remote,
            elapsed,
            report: None,
            mptcp,
            replacement: false,
        },
        (Err(e), _) | (_, Err(e)) => ConnectEvent::NotConnected {
            connection_id,
            generation,
            pvd,
            remote,
            error: errno_of(&e),
            text: e.to_string(),
            elapsed,
            report: None,
        },
    }
}

/// Whether a connection runs Multipath TCP (`mif_message.mptcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mptcp {
    NotAsked,
    /// MPTCP end to end.
    Active,
    /// Asked for, but the peer answered with plain TCP (or the kernel cannot tell).
    Fallback,
    /// Asked for, but this host makes no MPTCP sockets (net.mptcp.enabled = 0, or a
    /// kernel without it): plain TCP.
    Unavailable,
}

/// Source addresses one connect races at once (RFC 8305 §5 races them one after the
/// other; more than a few in flight only costs descriptors).
pub(crate) const MAX_RACING: usize = 4;

/// What the connector reports; the engine turns these into messages.
#[derive(Debug)]
pub(crate) enum ConnectEvent {
    Connected {
        connection_id: u64,
        generation: u64,
        pvd: PvdInfo,
        fd: OwnedFd,
        local: SocketAddr,
        remote: SocketAddr,
        elapsed: Duration,
        /// Connect to Name: how the connection was established (`by_name`).
        report: Option<Box<EstablishmentReport>>,
        mptcp: Mptcp,
        /// It replaces a followed connection (`MIF_CONNECT_FOLLOW`).
        replacement: bool,
    },
    NotConnected {
        connection_id: u64,
        generation: u64,
        pvd: PvdInfo,
        remote: SocketAddr,
        error: i32,
        text: String,
        elapsed: Duration,
        /// Connect to Name: every resolution and attempt (`by_name`).
        report: Option<Box<EstablishmentReport>>,
    },
}

impl ConnectEvent {
    pub(crate) fn ids(&self) -> (u64, u64) {
        match self {
            ConnectEvent::Connected { connection_id, generation, .. }
            | ConnectEvent::NotConnected { connection_id, generation, .. } => (*connection_id, *generation),
        }
    }
}

struct Connection {
    connection_id: u64,
    link: PvdLink,
    remote: SocketAddr,
    /// Source addresses in RFC 6724 order; `None` lets the kernel choose (link-local).
    candidates: Vec<Option<IpAddr>>,
    next_candidate: usize,
    /// When the next candidate starts if the running ones have not finished.
    next_start: Option<Instant>,
    deadline: Instant,
    started: Instant,
    running: Vec<usize>,
    max_parallel: usize,
    failures: Vec<String>,
    last_error: i32,
    mptcp: bool,
}

struct Attempt {
    generation: u64,
    source: Option<IpAddr>,
    stream: mio::net::TcpStream,
    /// Made with IPPROTO_MPTCP (false also when MPTCP was asked and unavailable).
    mptcp_socket: bool,
}

/// All connection attempts of one context.
pub(crate) struct Connector {
    config: ConnectConfig,
    use_bindtodevice: bool,
    connections: HashMap<u64, Connection>,
    attempts: HashMap<usize, Attempt>,
    /// Attempts given up while still connecting, kept until `abandon`'s deadline.
    abandoned: HashMap<usize, (Attempt, Instant)>,
    /// How many at most (`config::lingering_cap`); the rest close at once.
    max_abandoned: usize,
    next_token: usize,
}

/// How long an attempt given up while connecting stays open: a server retransmits its
/// SYN-ACK about 1 s and 3 s after the first (Linux), and a SYN-ACK that finds no socket
/// is answered with a reset routed by the main table, out of another PvD's link.
const ABANDONED_LINGER: Duration = Duration::from_secs(4);

/// The sources to race towards `remote`, best first (`core::link::source_order`);
/// `None` lets the kernel choose (a link-local destination).
fn source_candidates(link: &PvdLink, remote: &IpAddr) -> Vec<Option<IpAddr>> {
    if is_link_local(remote) {
        return vec![None];
    }
    link.sources_for(remote).into_iter().map(Some).collect()
}

impl Connector {
    pub(crate) fn new(config: ConnectConfig, use_bindtodevice: bool, max_abandoned: usize) -> Connector {
        Connector {
            config,
            use_bindtodevice,
            connections: HashMap::new(),
            attempts: HashMap::new(),
            abandoned: HashMap::new(),
            max_abandoned,
            next_token: tokens::FIRST_CONNECT,
        }
    }

    pub(crate) fn owns(token: Token) -> bool {
        token.0 >= tokens::FIRST_CONNECT
    }

    /// Starts a connect. `link` is the PvD as the model sees it now (`None`: gone).
    pub(crate) fn start(
        &mut self,
        req: ConnectRequest,
        link: Option<PvdLink>,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) {
        let Some(link) = link else {
            if let Some(first) = req.first {
                self.linger(first, req.generation, registry, now);
            }
            let pvd =
                PvdInfo { id: req.pvd, ifindex: 0, ifname: String::new(), family: Family::V4, name: String::new() };
            out.push(ConnectEvent::NotConnected {
                connection_id: req.connection_id,
                generation: req.generation,
                pvd,
                remote: req.remote,
                error: libc::ENETDOWN,
                text: "the provisioning domain went away".into(),
                elapsed: now.saturating_duration_since(req.started),
                report: None,
            });
            return;
        };
        let remote = on_link(req.remote, link.info.ifindex);
        let mut candidates = match req.local {
            Some(local) => vec![Some(local)],
            None => source_candidates(&link, &remote.ip()),
        };
        let mut first = req.first;
        let mut failures = Vec::new();
        // The posting thread's attempt is the first candidate's. Its source may have
        // gone since (the engine applied the removal before this request): then it
        // fails as a bind from that source would have; otherwise it comes first, also
        // should the order have changed.
        if let Some(source) = first.as_ref().map(|f| f.source) {
            let usable = |src: IpAddr| link.addrs.iter().any(|(a, _, fl)| *a == src && !fl.tentative && !fl.dadfailed);
            match source {
                Some(src) if !usable(src) => {
                    failures.push(format!("{src}: the address went away"));
                    candidates.retain(|c| *c != Some(src));
                    if let Some(f) = first.take() {
                        // Still present but tentative again (DAD after a link bounce),
                        // it could yet receive the SYN-ACK: given up like any attempt.
                        self.linger(f, req.generation, registry, now);
                    }
                }
                source if candidates.first() != Some(&source) => {
                    candidates.retain(|c| *c != source);
                    candidates.insert(0, source);
                }
                _ => {}
            }
        }
        let connection = Connection {
            connection_id: req.connection_id,
            link,
            remote,
            candidates,
            next_candidate: 0,
            next_start: None,
            deadline: req.started + self.config.timeout,
            started: req.started,
            running: Vec::new(),
            max_parallel: req.max_parallel.max(1),
            failures,
            last_error: libc::EADDRNOTAVAIL,
            mptcp: req.mptcp,
        };
        if connection.candidates.is_empty() {
            let c = connection;
            let text = match c.failures.is_empty() {
                true => "the provisioning domain has no usable source address of that family".into(),
                false => c.failures.join("; "),
            };
            out.push(ConnectEvent::NotConnected {
                connection_id: c.connection_id,
                generation: req.generation,
                pvd: c.link.info,
                remote: c.remote,
                error: libc::EADDRNOTAVAIL,
                text,
                elapsed: now.saturating_duration_since(req.started),
                report: None,
            });
            return;
        }
        self.connections.insert(req.generation, connection);
        if let Some(first) = first {
            if let Some(c) = self.connections.get_mut(&req.generation) {
                c.next_candidate = 1;
            }
            let stream = mio_stream(first.socket);
            // Registering a socket that is already writable reports it at once.
            if self.adopt(req.generation, first.source, stream, false, registry, now) {
                return;
            }
        }
        self.start_next(req.generation, registry, now, out);
    }

    /// A posting thread's attempt whose request is over before the engine saw it (the
    /// PvD went, or another thread cancelled it): its SYN left, so it stays open a while
    /// as any attempt given up while connecting does (`ABANDONED_LINGER`).
    pub(crate) fn linger(&mut self, first: StartedAttempt, generation: u64, registry: &Registry, now: Instant) {
        let mut stream = mio_stream(first.socket);
        if let Ok(token) = self.watch(&mut stream, registry) {
            let attempt = Attempt { generation, source: first.source, stream, mptcp_socket: false };
            self.abandon(token, attempt, registry, now);
        }
    }

    /// Registers a connecting socket for writability under a fresh token.
    fn watch(&mut self, stream: &mut mio::net::TcpStream, registry: &Registry) -> io::Result<usize> {
        let token = self.next_token;
        self.next_token += 1;
        registry.register(stream, Token(token), Interest::WRITABLE)?;
        Ok(token)
    }

    /// Watches a connecting attempt; `false` (recorded as the source's failure) when
    /// the socket cannot be registered.
    fn adopt(
        &mut self,
        generation: u64,
        source: Option<IpAddr>,
        mut stream: mio::net::TcpStream,
        mptcp_socket: bool,
        registry: &Registry,
        now: Instant,
    ) -> bool {
        if !self.connections.contains_key(&generation) {
            return false;
        }
        let watched = self.watch(&mut stream, registry);
        let Some(c) = self.connections.get_mut(&generation) else { return false };
        let token = match watched {
            Ok(token) => token,
            Err(e) => {
                c.failures.push(format!("{}: {e}", show_source(source)));
                c.last_error = errno_of(&e);
                return false;
            }
        };
        c.running.push(token);
        // RFC 8305: the next source after the attempt delay, or at once when this one fails.
        c.next_start = (c.next_candidate < c.candidates.len()).then(|| now + self.config.attempt_delay);
        self.attempts.insert(token, Attempt { generation, source, stream, mptcp_socket });
        true
    }

    /// Starts the next candidate (and, if it fails at once, the ones after it).
    fn start_next(&mut self, generation: u64, registry: &Registry, now: Instant, out: &mut Vec<ConnectEvent>) {
        loop {
            let Some(c) = self.connections.get_mut(&generation) else { return };
            if c.running.len() >= c.max_parallel {
                // At the request's socket reservation: the next starts when one fails.
                c.next_start = None;
                return;
            }
            let Some(source) = c.candidates.get(c.next_candidate).copied() else {
                c.next_start = None;
                if c.running.is_empty() {
                    self.fail(generation, None, now, out);
                }
                return;
            };
            c.next_candidate += 1;
            let pinned = |protocol| {
                let (ifindex, ifname) = (c.link.info.ifindex, &c.link.info.ifname);
                pinned_socket(Type::STREAM, protocol, c.remote, source, ifindex, ifname, self.use_bindtodevice)
            };
            let mut mptcp_socket = c.mptcp;
            let made = if c.mptcp {
                match pinned(Protocol::MPTCP) {
                    // No MPTCP on this host (disabled, or not built): plain TCP, and
                    // Connected says so.
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::EPROTONOSUPPORT | libc::ENOPROTOOPT | libc::EINVAL)
                        ) =>
                    {
                        log_at!(Debug, "connect {}: no MPTCP socket ({e}): plain TCP", c.remote);
                        mptcp_socket = false;
                        pinned(Protocol::TCP)
                    }
                    other => other,
                }
            } else {
                pinned(Protocol::TCP)
            };
            match made {
                Ok(socket) => {
                    let stream = mio_stream(socket);
                    if self.adopt(generation, source, stream, mptcp_socket, registry, now) {
                        return;
                    }
                }
                Err(e) => {
                    log_at!(Debug, "connect {} from {}: {e}", c.remote, show_source(source));
                    c.failures.push(format!("{}: {e}", show_source(source)));
                    c.last_error = errno_of(&e);
                }
            }
        }
    }

    /// The connect's final failure (every attempt failed, the deadline passed, the PvD went).
    fn fail(&mut self, generation: u64, forced: Option<(i32, String)>, now: Instant, out: &mut Vec<ConnectEvent>) {
        let Some(c) = self.connections.remove(&generation) else { return };
        for token in &c.running {
            self.attempts.remove(token);
        }
        let (error, text) = forced.unwrap_or_else(|| (c.last_error, c.failures.join("; ")));
        out.push(ConnectEvent::NotConnected {
            connection_id: c.connection_id,
            generation,
            pvd: c.link.info,
            remote: c.remote,
            error,
            text,
            elapsed: now.saturating_duration_since(c.started),
            report: None,
        });
    }

    /// Drops a connect and its sockets; no event follows for it.
    pub(crate) fn cancel(&mut self, generation: u64, registry: &Registry) {
        if let Some(c) = self.connections.remove(&generation) {
            let now = Instant::now();
            for token in c.running {
                if let Some(a) = self.attempts.remove(&token) {
                    self.abandon(token, a, registry, now);
                }
            }
        }
    }

    /// An attempt given up (another won, the connect ended) while its SYN may still be
    /// answered: its socket stays open, registered, until it connects or fails (then it
    /// is closed: an orderly FIN through its own link) or `ABANDONED_LINGER` passed.
    /// Closed at once, the late SYN-ACK would find no socket and the kernel would
    /// answer with a reset through the default route's link.
    fn abandon(&mut self, token: usize, mut a: Attempt, registry: &Registry, now: Instant) {
        if self.abandoned.len() >= self.max_abandoned {
            let _ = registry.deregister(&mut a.stream);
            return;
        }
        self.abandoned.insert(token, (a, now + ABANDONED_LINGER));
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let abandoned = self.abandoned.values().map(|(_, until)| *until);
        self.connections.values().flat_map(|c| [Some(c.deadline), c.next_start]).flatten().chain(abandoned).min()
    }

    /// Starts delayed attempts and ends connects whose time is up.
    pub(crate) fn tick(&mut self, registry: &Registry, now: Instant, out: &mut Vec<ConnectEvent>) {
        self.abandoned.retain(|_, (a, until)| {
            let keep = *until > now;
            if !keep {
                let _ = registry.deregister(&mut a.stream);
            }
            keep
        });
        let due: Vec<u64> =
            self.connections.iter().filter(|(_, c)| c.next_start.is_some_and(|t| t <= now)).map(|(g, _)| *g).collect();
        for generation in due {
            self.start_next(generation, registry, now, out);
        }
        let expired: Vec<u64> = self.connections.iter().filter(|(_, c)| c.deadline <= now).map(|(g, _)| *g).collect();
        for generation in expired {
            let ms = self.config.timeout.as_millis();
            self.close_attempts(generation, registry, now);
            self.fail(generation, Some((libc::ETIMEDOUT, format!("no connection within {ms} ms"))), now, out);
        }
    }

    fn close_attempts(&mut self, generation: u64, registry: &Registry, now: Instant) {
        let Some(c) = self.connections.get_mut(&generation) else { return };
        let running: Vec<usize> = c.running.drain(..).collect();
        for token in running {
            if let Some(a) = self.attempts.remove(&token) {
                self.abandon(token, a, registry, now);
            }
        }
    }

    /// After kernel changes: a connect whose PvD went fails at once; an attempt whose
    /// source address went fails and the next source starts.
    pub(crate) fn links_changed(
        &mut self,
        lookup: impl Fn(u64) -> Option<PvdLink>,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) {
        let generations: Vec<u64> = self.connections.keys().copied().collect();
        for generation in generations {
            let pvd = self.connections[&generation].link.info.id;
            match lookup(pvd) {
                None => {
                    self.close_attempts(generation, registry, now);
                    self.fail(generation, Some((libc::ENETDOWN, "the provisioning domain went away".into())), now, out);
                }
                Some(link) => {
                    let c = self.connections.get_mut(&generation).expect("present");
                    let gone: Vec<usize> = c
                        .running
                        .iter()
                        .copied()
                        .filter(|t| {
                            self.attempts
                                .get(t)
                                .and_then(|a| a.source)
                                .is_some_and(|src| !link.addrs.iter().any(|(a, _, _)| *a == src))
                        })
                        .collect();
                    for token in gone {
                        self.attempt_failed(
                            token,
                            libc::EADDRNOTAVAIL,
                            "source address removed".into(),
                            registry,
                            now,
                            out,
                        );
                    }
                    if let Some(c) = self.connections.get_mut(&generation) {
                        c.link.addrs = link.addrs;
                    }
                }
            }
        }
    }

    fn attempt_failed(
        &mut self,
        token: usize,
        error: i32,
        why: String,
        registry: &Registry,
        now: Instant,
        out: &mut Vec<ConnectEvent>,
    ) {
        let Some(mut a) = self.attempts.remove(&token) else { return };
        let _ = registry.deregister(&mut a.stream);
        let generation = a.generation;
        let Some(c) = self.connections.get_mut(&generation) else { return };
        c.running.retain(|t| *t != token);
        c.failures.push(format!("{}: {why}", show_source(a.source)));
        c.last_error = error;
        // A failure starts the next source at once (RFC 8305).
        self.start_next(generation, registry, now, out);
    }

    /// An attempt's socket is writable: connected or failed.
    pub(crate) fn ready(&mut self, token: Token, registry: &Registry, now: Instant, out: &mut Vec<ConnectEvent>) {
        if let Some((mut a, _)) = self.abandoned.remove(&token.0) {
            // Connected or failed: it can be closed now (a FIN through its own link).
            let _ = registry.deregister(&mut a.stream);
            return;
        }
        let Some(a) = self.attempts.get(&token.0) else { return };
        // A nonblocking connect is finished when writable: take_error, then peer_addr.
        let result = match a.stream.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => a.stream.peer_addr().map(|_| ()),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => self.attempt_failed(token.0, errno_of(&e), e.to_string(), registry, now, out),
            Ok(()) => self.won(token.0, registry, now, out),
        }
    }

    fn won(&mut self, token: usize, registry: &Registry, now: Instant, out: &mut Vec<ConnectEvent>) {
        let Some(mut a) = self.attempts.remove(&token) else { return };
        let _ = registry.deregister(&mut a.stream);
        let generation = a.generation;
        self.close_attempts(generation, registry, now);
        let Some(c) = self.connections.remove(&generation) else { return };
        let mptcp = match (c.mptcp, a.mptcp_socket) {
            (false, _) => Mptcp::NotAsked,
            (true, false) => Mptcp::Unavailable,
            (true, true) if sys::is_mptcp(&a.stream) == Some(true) => Mptcp::Active,
            (true, true) => Mptcp::Fallback,
        };
        let stream = std::net::TcpStream::from(OwnedFd::from(a.stream));
        let elapsed = now.saturating_duration_since(c.started);
        out.push(handed_over(stream, c.connection_id, generation, c.link.info, c.remote, elapsed, mptcp));
    }
}

fn mio_stream(socket: socket2::Socket) -> mio::net::TcpStream {
    mio::net::TcpStream::from_std(std::net::TcpStream::from(socket))
}

fn show_source(source: Option<IpAddr>) -> String {
    source.map_or_else(|| "kernel-chosen source".to_string(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::AddrFlags;
    use std::net::{Ipv4Addr, TcpListener};

    const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

    /// lo's IPv4 PvD holding 127.0.0.1 only.
    fn lo_link() -> PvdLink {
        let info = PvdInfo { id: 1, ifindex: 1, ifname: "lo".into(), family: Family::V4, name: "lo/ipv4".into() };
        PvdLink {
            info,
            addrs: vec![(IpAddr::V4(LO), 8, AddrFlags::default())],
            dns_servers: Vec::new(),
            search_domains: Vec::new(),
        }
    }

    fn request(remote: SocketAddr, first: Option<StartedAttempt>) -> ConnectRequest {
        let started = Instant::now();
        ConnectRequest {
            connection_id: 7,
            generation: 70,
            pvd: 1,
            remote,
            local: None,
            started,
            max_parallel: 1,
            mptcp: false,
            first,
        }
    }

    /// A posted attempt from `source` towards `remote`, still connecting or not.
    fn posted(source: Ipv4Addr, remote: SocketAddr) -> StartedAttempt {
        let source = Some(IpAddr::V4(source));
        let socket = pinned_socket(Type::STREAM, Protocol::TCP, remote, source, 1, "lo", true).unwrap();
        StartedAttempt { source, socket }
    }

    /// A connector that has just started request 70 (connection 7) on `link`, towards a
    /// fresh listener on lo, with an attempt posted from `posted_from`.
    struct Started {
        c: Connector,
        poll: mio::Poll,
        out: Vec<ConnectEvent>,
        _listener: TcpListener,
    }

    fn start_posted(posted_from: Ipv4Addr, link: Option<PvdLink>) -> Started {
        let listener = TcpListener::bind((LO, 0)).unwrap();
        let remote = listener.local_addr().unwrap();
        let poll = mio::Poll::new().unwrap();
        let mut c = Connector::new(ConnectConfig::default(), true, 16);
        let mut out = Vec::new();
        c.start(request(remote, Some(posted(posted_from, remote))), link, poll.registry(), Instant::now(), &mut out);
        Started { c, poll, out, _listener: listener }
    }

    #[test]
    fn a_posted_attempt_whose_pvd_went_lingers_and_the_connect_fails() {
        let Started { c, out, .. } = start_posted(LO, None);
        assert!(matches!(out.as_slice(), [ConnectEvent::NotConnected { error: libc::ENETDOWN, .. }]), "{out:?}");
        // Its SYN left: kept open (watched) until it connects or ABANDONED_LINGER passes.
        assert_eq!(c.abandoned.len(), 1);
        assert!(c.connections.is_empty() && c.attempts.is_empty());
    }

    #[test]
    fn a_posted_attempt_from_a_source_gone_fails_as_a_bind_would_and_the_next_source_wins() {
        // Posted from 127.0.0.2, which the PvD no longer holds when the engine starts it.
        let Started { mut c, mut poll, mut out, _listener } =
            start_posted(Ipv4Addr::new(127, 0, 0, 2), Some(lo_link()));
        assert!(out.is_empty(), "{out:?}");
        let connection = &c.connections[&70];
        assert_eq!(connection.failures, ["127.0.0.2: the address went away"]);
        assert_eq!(connection.candidates, [Some(IpAddr::V4(LO))]);
        // The engine's own attempt from 127.0.0.1 runs; the posted one is given up but
        // stays open a while, as any attempt given up while connecting.
        assert_eq!((c.attempts.len(), c.abandoned.len()), (1, 1));
        let mut events = mio::Events::with_capacity(8);
        while out.is_empty() {
            poll.poll(&mut events, Some(Duration::from_secs(10))).unwrap();
            assert!(!events.is_empty(), "no connect within 10 s");
            for e in events.iter() {
                c.ready(e.token(), poll.registry(), Instant::now(), &mut out);
            }
        }
        match out.as_slice() {
            [ConnectEvent::Connected { local, connection_id: 7, .. }] => assert_eq!(local.ip(), IpAddr::V4(LO)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_posted_attempt_from_a_usable_source_is_adopted_as_the_first_candidate() {
        let Started { c, out, .. } = start_posted(LO, Some(lo_link()));
        assert!(out.is_empty(), "{out:?}");
        let connection = &c.connections[&70];
        assert!(connection.failures.is_empty());
        assert_eq!((connection.next_candidate, c.attempts.len(), c.abandoned.len()), (1, 1, 0));
    }
}
