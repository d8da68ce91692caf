//! rtnetlink adapter: the event socket, dumps, and the translation of
//! netlink-packet-route messages into the host model's facts. Thin on purpose.
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicI64, Ordering};

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, ParseableParametrized, NLM_F_DUMP,
    NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    LinkAttribute, LinkExtentMask, LinkFlags as KernelLinkFlags, LinkHeader, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::nduseropt::{self as ndopt, NdOption, RTM_NEWNDUSEROPT, RTNLGRP_ND_USEROPT};
use crate::core::model::{
    AddrFact, AddrFlags, Fact, Family, LinkFact, LinkFlags, PrefixRouteFact, RaOption, RouteFact, Scope, Snapshot,
};
use crate::core::ndopt::{captive_portal_uri, pref64, ND_OPT_CAPTIVE_PORTAL, ND_OPT_PREF64};
use crate::log::log_at;

/// Multicast groups of the event socket (linux/rtnetlink.h, enum rtnetlink_groups).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_ROUTE: u32 = 11;
/// The main routing table (RT_TABLE_MAIN).
const RT_TABLE_MAIN: u32 = 254;

/// Default receive buffer of the event socket: large enough that a burst of a few
/// thousand changes does not overrun; an overrun is survived anyway (re-dump).
const DEFAULT_RCVBUF: usize = 4 << 20;

/// Large enough for any rtnetlink datagram the kernel sends to a listener.
pub const RECV_BUFFER_SIZE: usize = 64 * 1024;

/// Why a dump gave no answer.
#[derive(Debug)]
pub enum DumpError {
    /// The kernel kept flagging the dump as interrupted by concurrent changes
    /// (NLM_F_DUMP_INTR) more often than `Patience` allows: try again later.
    Interrupted { what: &'static str },
    /// The socket failed or the kernel answered with an error.
    Io(io::Error),
}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> DumpError {
        DumpError::Io(e)
    }
}

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpError::Interrupted { what } => write!(f, "rtnetlink {what} interrupted too often"),
            DumpError::Io(e) => write!(f, "rtnetlink dump: {e}"),
        }
    }
}

/// How hard to try when the kernel flags a dump as interrupted by concurrent changes
/// (NLM_F_DUMP_INTR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// For mif_open, in the caller's thread: up to 60 attempts with a pause doubling
    /// from 1 to 64 ms (about 3 s), so that a burst of changes can end.
    Wait,
    /// For the engine thread, which must not sleep: 3 attempts back to back; the
    /// caller retries later.
    Brief,
}

impl Patience {
    fn attempts(self) -> usize {
        match self {
            Patience::Wait => 60,
            Patience::Brief => 3,
        }
    }

    fn pause(self, attempt: usize) {
        if self == Patience::Wait && attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1 << attempt.min(6)));
        }
    }
}

/// The nonblocking socket subscribed to link and address changes.
pub struct EventSocket {
    socket: Socket,
}

impl EventSocket {
    /// Opens, binds and subscribes; `rcvbuf` (bytes) overrides the default buffer size.
    pub fn open(rcvbuf: Option<usize>) -> io::Result<EventSocket> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        match rcvbuf {
            Some(size) => socket.set_rx_buf_sz(size)?,
            None => {
                // SO_RCVBUFFORCE passes the rmem_max cap when we have CAP_NET_ADMIN.
                if super::sys::set_rcvbuf_force(&socket, DEFAULT_RCVBUF).is_err() {
                    socket.set_rx_buf_sz(DEFAULT_RCVBUF)?;
                }
            }
        }
        for group in [
            RTNLGRP_LINK,
            RTNLGRP_IPV4_IFADDR,
            RTNLGRP_IPV6_IFADDR,
            RTNLGRP_IPV4_ROUTE,
            RTNLGRP_IPV6_ROUTE,
            RTNLGRP_ND_USEROPT,
        ] {
            socket.add_membership(group)?;
        }
        socket.set_non_blocking(true)?;
        Ok(EventSocket { socket })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Receives one datagram from the kernel. `Err` with `WouldBlock` when drained;
    /// `ENOBUFS` when the kernel dropped events because the buffer was full. A datagram
    /// another process sent to this socket (any sender port but 0, the kernel's) is
    /// dropped: only the kernel's word is a fact.
    pub fn recv(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        loop {
            buf.clear();
            let (n, from) = self.socket.recv_from(buf, 0)?;
            if from.port_number() == 0 {
                return Ok(n);
            }
            log_at!(Warn, "rtnetlink: a datagram from port {} (not the kernel) dropped", from.port_number());
        }
    }
}

/// What one datagram held.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub facts: Vec<Fact>,
    /// The kernel reported an overrun inside the stream (NLMSG_OVERRUN).
    pub overrun: bool,
    /// A dump reply carried NLM_F_DUMP_INTR: the dump is inconsistent.
    pub dump_interrupted: bool,
    /// NLMSG_DONE was seen (end of a dump).
    pub done: bool,
    /// An NLMSG_ERROR with a non-zero code, or an NLMSG_DONE with a negative one.
    pub error: Option<i32>,
    /// Messages that did not decode (skipped).
    pub undecodable: usize,
}

/// Splits a datagram into netlink messages and turns the ones we follow into facts.
/// Malformed messages are skipped and counted, never trusted.
pub fn parse_datagram(mut buf: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    while !buf.is_empty() {
        let (len, flags) = match NetlinkBuffer::new_checked(buf) {
            Ok(b) => (b.length() as usize, b.flags()),
            Err(_) => {
                parsed.undecodable += 1;
                break;
            }
        };
        if len == 0 || len > buf.len() {
            parsed.undecodable += 1;
            break;
        }
        if flags & NLM_F_DUMP_INTR != 0 {
            parsed.dump_interrupted = true;
        }
        let message_type = NetlinkBuffer::new_checked(&buf[..len]).map(|b| b.message_type()).unwrap_or(0);
        if message_type == RTM_NEWLINK || message_type == RTM_DELLINK {
            match link_message_fact(message_type, &buf[..len]) {
                Ok(fact) => parsed.facts.extend(fact),
                Err(()) => parsed.undecodable += 1,
            }
        } else if message_type == RTM_NEWNDUSEROPT {
            // netlink-packet-route does not know this message: our own parser.
            match ndopt::parse_nlmsg(&buf[..len]) {
                Ok(opt) => parsed.facts.extend(ra_fact(opt)),
                Err(_) => parsed.undecodable += 1,
            }
        } else {
            match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[..len]) {
                Ok(message) => match message.payload {
                    NetlinkPayload::InnerMessage(inner) => {
                        if let Some(fact) = fact_of(inner) {
                            parsed.facts.push(fact);
                        }
                    }
                    NetlinkPayload::Done(done) => {
                        parsed.done = true;
                        // A dump the kernel refused mid-way ends with DONE carrying the
                        // error (netlink_dump_done), not with NLMSG_ERROR.
                        if done.code < 0 {
                            parsed.error = Some(done.code);
                        }
                    }
                    NetlinkPayload::Overrun(_) => parsed.overrun = true,
                    NetlinkPayload::Error(e) => {
                        if let Some(code) = e.code {
                            parsed.error = Some(code.get());
                        }
                    }
                    _ => {}
                },
                Err(_) => parsed.undecodable += 1,
            }
        }
        // Messages are 4-byte aligned within a datagram.
        let advance = (len + 3) & !3;
        buf = if advance >= buf.len() { &[] } else { &buf[advance..] };
    }
    parsed
}

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
/// struct ifinfomsg, before a link message's attributes.
const LINK_HEADER_LEN: usize = 16;

/// A link message, decoded only as far as the model reads it: the header, IFLA_IFNAME
/// and IFLA_MTU, each by netlink-packet-route, attribute by attribute. Decoding the
/// whole message (every attribute: AF_SPEC's device configuration arrays, link info,
/// ...) only to drop it was a fifth of `mif_open` on 601 interfaces (a perf profile).
/// An interface name that is not UTF-8 is legal in Linux and refused by the crate: it
/// is taken lossily. Only the interface's own messages (family AF_UNSPEC) count: a
/// bridge sends an AF_BRIDGE RTM_DELLINK when a port leaves it, and the port stays.
/// `Err`: the message is malformed (counted as undecodable); `Ok(None)`: nothing for
/// the model (another family, or a new link without a name).
fn link_message_fact(message_type: u16, msg: &[u8]) -> Result<Option<Fact>, ()> {
    let message = NetlinkBuffer::new_checked(msg).map_err(|_| ())?;
    let payload = message.payload();
    let header = LinkHeader::parse(payload).map_err(|_| ())?;
    if header.interface_family != AddressFamily::Unspec {
        return Ok(None);
    }
    if message_type == RTM_DELLINK {
        return Ok(Some(Fact::LinkRemoved { ifindex: header.index }));
    }
    let mut name = None;
    let mut mtu = None;
    for nla in NlasIterator::new(payload.get(LINK_HEADER_LEN..).ok_or(())?) {
        let nla = nla.map_err(|_| ())?;
        match nla.kind() {
            IFLA_IFNAME => {
                name = Some(match LinkAttribute::parse_with_param(&nla, header.interface_family) {
                    Ok(LinkAttribute::IfName(n)) => n,
                    _ => {
                        let raw = nla.value();
                        let raw = raw.split(|b| *b == 0).next().unwrap_or(raw);
                        String::from_utf8_lossy(raw).into_owned()
                    }
                })
            }
            IFLA_MTU => {
                mtu = match LinkAttribute::parse_with_param(&nla, header.interface_family) {
                    Ok(LinkAttribute::Mtu(m)) => Some(m),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Ok(name.map(|name| Fact::Link(LinkFact { ifindex: header.index, name, mtu, flags: link_flags(header.flags) })))
}

/// Every RA option becomes a fact: DNS options, the captive portal URI and the NAT64
/// prefix with their content, any other (a prefix, say) as the sign that a router
/// advertised (readiness). A malformed captive portal or PREF64 option counts as
/// such a sign only.
pub(crate) fn ra_fact(opt: ndopt::NdUserOpt) -> Option<Fact> {
    if opt.icmp_type != ndopt::ICMPV6_ROUTER_ADVERTISEMENT {
        return None;
    }
    let option = match opt.option {
        NdOption::Rdnss { lifetime, servers } => RaOption::Rdnss { lifetime, servers },
        NdOption::Dnssl { lifetime, domains } => RaOption::Dnssl { lifetime, domains },
        NdOption::Other { kind, data } => match kind {
            ND_OPT_CAPTIVE_PORTAL => match captive_portal_uri(&data) {
                Some(uri) => RaOption::CaptivePortal { uri },
                None => RaOption::Other { kind },
            },
            ND_OPT_PREF64 => match pref64(&data) {
                Some((prefix, prefix_len, lifetime)) => RaOption::Pref64 { prefix, prefix_len, lifetime },
                None => RaOption::Other { kind },
            },
            _ => RaOption::Other { kind },
        },
    };
    Some(Fact::Ra { ifindex: opt.ifindex, router: opt.router, option })
}

/// A unicast route of the main table: a default route, or one to a prefix.
enum MainRoute {
    Default(RouteFact),
    Prefix(PrefixRouteFact),
}

/// A unicast route of the main table, or `None` for every other route.
fn route_fact(msg: &RouteMessage) -> Option<MainRoute> {
    // Cached exceptions (PMTU, redirects) come in dumps without strict checking.
    if msg.header.kind != RouteType::Unicast || msg.header.flags.contains(RouteFlags::Cloned) {
        return None;
    }
    let family = match msg.header.address_family {
        AddressFamily::Inet => Family::V4,
        AddressFamily::Inet6 => Family::V6,
        _ => return None,
    };
    let mut table = u32::from(msg.header.table);
    let mut ifindex = None;
    let mut gateway = None;
    let mut metric = 0;
    let mut lifetime = None;
    let mut destination = None;
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(RouteAddress::Inet(a)) => destination = Some(IpAddr::V4(*a)),
            RouteAttribute::Destination(RouteAddress::Inet6(a)) => destination = Some(IpAddr::V6(*a)),
            // rta_expires counts clock ticks (USER_HZ = 100 on Linux).
            RouteAttribute::CacheInfo(c) if c.expires != 0 => lifetime = Some(c.expires / 100),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Oif(i) => ifindex = Some(*i),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Gateway(RouteAddress::Inet(a)) => gateway = Some(IpAddr::V4(*a)),
            RouteAttribute::Gateway(RouteAddress::Inet6(a)) => gateway = Some(IpAddr::V6(*a)),
            _ => {}
        }
    }
    if table != RT_TABLE_MAIN {
        return None;
    }
    let prefix_len = msg.header.destination_prefix_length;
    if prefix_len != 0 {
        return Some(MainRoute::Prefix(PrefixRouteFact {
            ifindex: ifindex?,
            destination: destination?,
            prefix_len,
            metric,
        }));
    }
    Some(MainRoute::Default(RouteFact {
        family,
        ifindex: ifindex?,
        gateway,
        metric,
        from_ra: msg.header.protocol == RouteProtocol::Ra,
        lifetime,
    }))
}

fn fact_of(message: RouteNetlinkMessage) -> Option<Fact> {
    match message {
        RouteNetlinkMessage::NewAddress(addr) => addr_fact(&addr).map(Fact::Addr),
        RouteNetlinkMessage::DelAddress(addr) => {
            addr_fact(&addr).map(|a| Fact::AddrRemoved { ifindex: a.ifindex, addr: a.addr, prefix_len: a.prefix_len })
        }
        RouteNetlinkMessage::NewRoute(route) => route_fact(&route).map(|r| match r {
            MainRoute::Default(r) => Fact::Route(r),
            MainRoute::Prefix(p) => Fact::PrefixRoute(p),
        }),
        RouteNetlinkMessage::DelRoute(route) => route_fact(&route).map(|r| match r {
            MainRoute::Default(r) => Fact::RouteRemoved(r),
            MainRoute::Prefix(p) => Fact::PrefixRouteRemoved(p),
        }),
        _ => None,
    }
}

/// The kernel's IFF_* flags that the model uses.
fn link_flags(f: KernelLinkFlags) -> LinkFlags {
    LinkFlags {
        up: f.contains(KernelLinkFlags::Up),
        running: f.contains(KernelLinkFlags::Running),
        loopback: f.contains(KernelLinkFlags::Loopback),
        pointopoint: f.contains(KernelLinkFlags::Pointopoint),
    }
}

fn addr_fact(msg: &AddressMessage) -> Option<AddrFact> {
    // IFA_LOCAL is the interface's own address on point-to-point links, where
    // IFA_ADDRESS is the peer; elsewhere they are equal or only IFA_ADDRESS is set.
    let mut address: Option<IpAddr> = None;
    let mut local: Option<IpAddr> = None;
    let mut flags = u32::from(msg.header.flags.bits());
    let mut cache = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Flags(f) => flags = f.bits(),
            AddressAttribute::CacheInfo(c) => cache = Some(*c),
            _ => {}
        }
    }
    let addr = local.or(address)?;
    let kernel = AddressFlags::from_bits_retain(flags);
    let lifetime = |v: u32| if v == u32::MAX { None } else { Some(v) };
    Some(AddrFact {
        ifindex: msg.header.index,
        addr,
        prefix_len: msg.header.prefix_len,
        scope: match msg.header.scope {
            AddressScope::Universe => Scope::Global,
            AddressScope::Site => Scope::Site,
            AddressScope::Link => Scope::Link,
            AddressScope::Host => Scope::Host,
            AddressScope::Nowhere => Scope::Other(255),
            AddressScope::Other(v) => Scope::Other(v),
            _ => Scope::Other(u8::from(msg.header.scope)),
        },
        flags: AddrFlags {
            // IFA_F_SECONDARY means "temporary" for IPv6 and "secondary" for IPv4.
            temporary: addr.is_ipv6() && kernel.contains(AddressFlags::Secondary),
            deprecated: kernel.contains(AddressFlags::Deprecated),
            tentative: kernel.contains(AddressFlags::Tentative),
            dadfailed: kernel.contains(AddressFlags::Dadfailed),
            permanent: kernel.contains(AddressFlags::Permanent),
            optimistic: kernel.contains(AddressFlags::Optimistic),
        },
        valid: cache.and_then(|c| lifetime(c.ifa_valid)),
        preferred: cache.and_then(|c| lifetime(c.ifa_preferred)),
        lifetime_phase_ms: cache
            .map_or(0, |c| lifetime_phase_ms(c.tstamp, super::sys::uptime_centiseconds(), &STAMP_OFFSET_CS)),
    })
}

/// How far the kernel's countdown of an address's lifetimes is past the whole seconds
/// it reports: it counts whole seconds since the address's update stamp (`tstamp`,
/// hundredths of a second since boot on the kernel's jiffies clock), so the exact
/// remaining lifetime is the reported one less the fraction of a second since then.
/// `now_cs` is CLOCK_MONOTONIC in the same unit (`sys::uptime_centiseconds`); the two
/// clocks differ by a constant set at boot (measured: a quarter of a second), learnt
/// in `offset` as the least `now - tstamp` seen: an address updated a moment before
/// its event is read. 0 (whole seconds, as reported) until an offset below a second
/// was seen, or when either stamp is unknown.
fn lifetime_phase_ms(tstamp_cs: u32, now_cs: Option<u64>, offset: &AtomicI64) -> u32 {
    let Some(now) = now_cs.filter(|_| tstamp_cs != 0) else { return 0 };
    // The kernel's stamp is a u32 of hundredths: it wraps after 497 days of uptime.
    let seen = i64::from((now as u32).wrapping_sub(tstamp_cs) as i32);
    let least = offset.fetch_min(seen, Ordering::Relaxed).min(seen);
    if least.abs() >= 100 {
        return 0;
    }
    ((seen - least).max(0) % 100) as u32 * 10
}

/// The least `now - tstamp` seen so far, in hundredths of a second (`lifetime_phase_ms`):
/// the clocks are the system's, so one learning serves every context.
static STAMP_OFFSET_CS: AtomicI64 = AtomicI64::new(i64::MAX);

/// A blocking socket for dumps, separate from the event socket so that dump replies
/// and events never interleave in one stream.
pub struct DumpSocket {
    socket: Socket,
    seq: u32,
    /// NETLINK_GET_STRICT_CHK is on: the kernel filters route dumps by table itself.
    strict: bool,
}

impl DumpSocket {
    pub fn open() -> io::Result<DumpSocket> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // With strict checking (Linux 4.20+) the kernel honours the table asked for in
        // a route dump: the local table (a multicast route per IPv6 link, a local and a
        // broadcast route per IPv4 address) is neither built nor parsed. Without it
        // everything comes and `route_fact` keeps the main table's routes, as before.
        let strict = match socket.set_netlink_get_strict_chk(true) {
            Ok(()) => true,
            Err(e) => {
                log_at!(Debug, "rtnetlink: no strict dump checking ({e}): route dumps read every table");
                false
            }
        };
        Ok(DumpSocket { socket, seq: 0, strict })
    }

    /// A route dump request for the main table (all families: `AddressFamily::Unspec`).
    fn main_routes(family: AddressFamily) -> RouteNetlinkMessage {
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        request.header.table = RT_TABLE_MAIN as u8;
        RouteNetlinkMessage::GetRoute(request)
    }

    /// A link dump request without the counters (RTEXT_FILTER_SKIP_STATS, Linux 4.20+;
    /// older kernels ignore the bit): a third of each link's message, never read.
    fn links_without_stats() -> RouteNetlinkMessage {
        let mut request = LinkMessage::default();
        request.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        RouteNetlinkMessage::GetLink(request)
    }

    /// Dumps the default routes and the prefix routes of one family (the kernel removes
    /// IPv4 routes of a link that goes down without telling listeners, so the engine
    /// re-reads them), as the fact that replaces the model's.
    pub fn routes(&mut self, family: Family, patience: Patience) -> Result<Fact, DumpError> {
        let request = Self::main_routes(match family {
            Family::V4 => AddressFamily::Inet,
            Family::V6 => AddressFamily::Inet6,
        });
        for attempt in 0..patience.attempts() {
            patience.pause(attempt);
            let (facts, interrupted) = self.dump(request.clone())?;
            if interrupted {
                continue;
            }
            let (mut routes, mut prefixes) = (Vec::new(), Vec::new());
            for fact in facts {
                match fact {
                    Fact::Route(r) if r.family == family => routes.push(r),
                    Fact::PrefixRoute(p) if Family::of(&p.destination) == family => prefixes.push(p),
                    _ => {}
                }
            }
            return Ok(Fact::Routes { family, routes, prefixes });
        }
        Err(DumpError::Interrupted { what: "route dump" })
    }

    /// Dumps links, addresses and default routes, retrying while the kernel flags the dump as
    /// interrupted by concurrent changes.
    pub fn snapshot(&mut self, patience: Patience) -> Result<Snapshot, DumpError> {
        for attempt in 0..patience.attempts() {
            patience.pause(attempt);
            let (links, intr_links) = self.dump(Self::links_without_stats())?;
            let (addrs, intr_addrs) = self.dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?;
            let (routes, intr_routes) = self.dump(Self::main_routes(AddressFamily::Unspec))?;
            if intr_links || intr_addrs || intr_routes {
                continue;
            }
            let mut snapshot = Snapshot::default();
            for fact in links.into_iter().chain(addrs).chain(routes) {
                match fact {
                    Fact::Link(l) => snapshot.links.push(l),
                    Fact::Addr(a) => snapshot.addrs.push(a),
                    Fact::Route(r) => snapshot.routes.push(r),
                    Fact::PrefixRoute(p) => snapshot.prefix_routes.push(p),
                    _ => {}
                }
            }
            return Ok(snapshot);
        }
        Err(DumpError::Interrupted { what: "dump" })
    }

    fn dump(&mut self, request: RouteNetlinkMessage) -> io::Result<(Vec<Fact>, bool)> {
        // One family's route dump: ENOENT there is its own main table missing. In an
        // all-families dump it comes after other families' routes were sent (a family
        // without that table, on some kernels): retried unchecked like a refusal.
        let one_family_routes =
            matches!(&request, RouteNetlinkMessage::GetRoute(m) if m.header.address_family != AddressFamily::Unspec);
        match self.dump_once(&request) {
            // A table asked for that does not exist (no IPv4 route was ever put in the
            // main table): nothing to read.
            Err(e) if self.strict && one_family_routes && e.raw_os_error() == Some(libc::ENOENT) => {
                Ok((Vec::new(), false))
            }
            // A kernel whose strict checking refuses a field of ours (MPLS refuses a
            // table in an all-families route dump): the same request unchecked, from
            // now on (the filters are then done here).
            Err(e) if self.strict && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) => {
                log_at!(Info, "rtnetlink: strict dump checking refused a request ({e}): turned off");
                self.strict = false;
                self.socket.set_netlink_get_strict_chk(false)?;
                self.dump_once(&request)
            }
            other => other,
        }
    }

    fn dump_once(&mut self, request: &RouteNetlinkMessage) -> io::Result<(Vec<Fact>, bool)> {
        self.seq = self.seq.wrapping_add(1);
        self.socket.send(&dump_request_bytes(request.clone(), self.seq), 0)?;

        let mut facts = Vec::new();
        let mut interrupted = false;
        let mut buf = Vec::with_capacity(RECV_BUFFER_SIZE);
        loop {
            buf.clear();
            let (_, from) = self.socket.recv_from(&mut buf, 0)?;
            if from.port_number() != 0 {
                log_at!(Warn, "rtnetlink: a dump reply from port {} (not the kernel) dropped", from.port_number());
                continue;
            }
            // The rest of an earlier dump that ended in an error: not this one's.
            if let Ok(header) = NetlinkBuffer::new_checked(&buf[..]) {
                if header.sequence_number() != self.seq {
                    log_at!(Debug, "rtnetlink: a reply to dump {} dropped", header.sequence_number());
                    continue;
                }
            }
            let parsed = parse_datagram(&buf);
            facts.extend(parsed.facts);
            interrupted |= parsed.dump_interrupted;
            if let Some(code) = parsed.error {
                return Err(io::Error::from_raw_os_error(-code));
            }
            if parsed.done {
                return Ok((facts, interrupted));
            }
        }
    }
}

/// A dump request as it goes on the wire.
fn dump_request_bytes(request: RouteNetlinkMessage, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    serialized(header, request)
}

fn serialized(header: NetlinkHeader, inner: RouteNetlinkMessage) -> Vec<u8> {
    let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(inner));
    message.finalize();
    let mut out = vec![0u8; message.buffer_len()];
    message.serialize(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_refused_midway_reports_the_code_of_its_done() {
        // nlmsghdr (len 20, NLMSG_DONE, NLM_F_MULTI, seq 7, port 0) and -EINVAL, as
        // netlink_dump_done sends when a family's dumpit fails (MPLS refusing a table).
        let mut done = Vec::new();
        done.extend_from_slice(&20u32.to_ne_bytes());
        done.extend_from_slice(&3u16.to_ne_bytes());
        done.extend_from_slice(&2u16.to_ne_bytes());
        done.extend_from_slice(&7u32.to_ne_bytes());
        done.extend_from_slice(&0u32.to_ne_bytes());
        done.extend_from_slice(&(-libc::EINVAL).to_ne_bytes());
        let parsed = parse_datagram(&done);
        assert!(parsed.done);
        assert_eq!(parsed.error, Some(-libc::EINVAL));
        // The usual end of a dump: code 0, no error.
        done[16..20].copy_from_slice(&0i32.to_ne_bytes());
        let parsed = parse_datagram(&done);
        assert!(parsed.done && parsed.error.is_none());
    }

    #[test]
    fn cached_route_exceptions_are_not_prefix_routes() {
        let route = |flags: RouteFlags| {
            let mut m = RouteMessage::default();
            m.header.address_family = AddressFamily::Inet;
            m.header.table = RT_TABLE_MAIN as u8;
            m.header.kind = RouteType::Unicast;
            m.header.destination_prefix_length = 32;
            m.header.flags = flags;
            m.attributes.push(RouteAttribute::Destination(RouteAddress::Inet("198.18.0.80".parse().unwrap())));
            m.attributes.push(RouteAttribute::Oif(2));
            parse_datagram(&serialized(NetlinkHeader::default(), RouteNetlinkMessage::NewRoute(m))).facts
        };
        // A PMTU exception (RTM_F_CLONED), as a dump without strict checking lists it.
        assert!(route(RouteFlags::Cloned).is_empty());
        assert!(matches!(route(RouteFlags::empty()).as_slice(), [Fact::PrefixRoute(p)] if p.prefix_len == 32));
    }

    #[test]
    fn route_dumps_ask_for_the_main_table_and_nothing_else() {
        for (family, byte) in [(AddressFamily::Unspec, 0u8), (AddressFamily::Inet, 2), (AddressFamily::Inet6, 10)] {
            let bytes = dump_request_bytes(DumpSocket::main_routes(family), 1);
            // struct rtmsg after the 16-byte nlmsghdr: family, dst_len, src_len, tos,
            // table, protocol, scope, type, flags (u32); strict checking refuses a
            // dump whose lengths, tos, scope or flags are set.
            assert_eq!(bytes[16..28], [byte, 0, 0, 0, 254, 0, 0, 0, 0, 0, 0, 0], "{family:?}");
            assert_eq!(bytes.len(), 28, "no attributes");
        }
    }

    #[test]
    fn link_dumps_skip_the_counters() {
        let bytes = dump_request_bytes(DumpSocket::links_without_stats(), 1);
        // struct ifinfomsg (16 bytes, all zero: strict checking refuses a type, flags
        // or index in a dump), then IFLA_EXT_MASK (29) = RTEXT_FILTER_SKIP_STATS (8).
        assert_eq!(bytes[16..32], [0; 16]);
        assert_eq!(bytes[32..], [8, 0, 29, 0, 8, 0, 0, 0]);
    }

    #[test]
    fn the_lifetime_phase_is_the_fraction_of_a_second_since_the_stamp() {
        let offset = AtomicI64::new(i64::MAX);
        // An old address first (a dump): no offset below a second known yet.
        assert_eq!(lifetime_phase_ms(1000, Some(51042), &offset), 0);
        assert_eq!(lifetime_phase_ms(1000, None, &offset), 0, "no clock: whole seconds");
        assert_eq!(lifetime_phase_ms(0, Some(5000), &offset), 0, "no stamp");
        // A fresh event: the clocks differ by 26 hundredths.
        assert_eq!(lifetime_phase_ms(60000, Some(60026), &offset), 0);
        // 4.2 s after its stamp: 200 ms into the countdown's fifth second.
        assert_eq!(lifetime_phase_ms(60000, Some(60446), &offset), 200);
        assert_eq!(lifetime_phase_ms(1000, Some(51042), &offset), 160);
        // A clock ahead of the stamps learnt smaller: it wins.
        assert_eq!(lifetime_phase_ms(70000, Some(70010), &offset), 0);
        assert_eq!(lifetime_phase_ms(60000, Some(60446), &offset), 360);
    }

    /// Datagrams captured from a real kernel (see the file's header).
    fn captured() -> Vec<Vec<u8>> {
        include_str!("../../tests/data/rtnetlink-veth-session.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let hex = l.split_whitespace().nth(1).unwrap();
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
            })
            .collect()
    }

    fn all_facts() -> Vec<Fact> {
        captured().iter().flat_map(|d| parse_datagram(d).facts).collect()
    }

    /// The link messages decoded attribute by attribute give the facts the whole
    /// message's decoding by netlink-packet-route gives (what the model read before).
    #[test]
    fn link_messages_decode_as_the_whole_message_does() {
        let (mut new, mut removed) = (0, 0);
        for message in captured() {
            let kind = NetlinkBuffer::new_checked(&message[..]).unwrap().message_type();
            if kind != RTM_NEWLINK && kind != RTM_DELLINK {
                continue;
            }
            let whole = match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&message).unwrap().payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                    new += 1;
                    let name = link.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(n) => Some(n.clone()),
                        _ => None,
                    });
                    let mtu = link.attributes.iter().find_map(|a| match a {
                        LinkAttribute::Mtu(m) => Some(*m),
                        _ => None,
                    });
                    let flags = link_flags(link.header.flags);
                    Fact::Link(LinkFact { ifindex: link.header.index, name: name.unwrap(), mtu, flags })
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => {
                    removed += 1;
                    Fact::LinkRemoved { ifindex: link.header.index }
                }
                other => panic!("{other:?}"),
            };
            assert_eq!(link_message_fact(kind, &message), Ok(Some(whole)));
            // The same message from a bridge about its port (family AF_BRIDGE, 7): the
            // interface itself neither comes nor goes.
            let mut bridged = message.clone();
            bridged[16] = 7;
            assert_eq!(parse_datagram(&bridged).facts, vec![]);
            assert_eq!(parse_datagram(&bridged).undecodable, 0);
        }
        assert!(new >= 3 && removed >= 1, "{new} new, {removed} removed");
    }

    #[test]
    fn captured_session_decodes_to_the_expected_facts() {
        let facts = all_facts();
        let t0 = facts.iter().find_map(|f| match f {
            Fact::Link(l) if l.name == "t0" => Some(l.ifindex),
            _ => None,
        });
        let t0 = t0.expect("a NEWLINK for t0");
        let v4: IpAddr = "198.51.100.2".parse().unwrap();
        let v6: IpAddr = "fd6d:6966:a::2".parse().unwrap();
        let added_v4 = facts.iter().find_map(|f| match f {
            Fact::Addr(a) if a.addr == v4 => Some(a.clone()),
            _ => None,
        });
        let a = added_v4.expect("NEWADDR 198.51.100.2");
        assert_eq!((a.ifindex, a.prefix_len, a.scope), (t0, 24, Scope::Global));
        assert!(a.flags.permanent && !a.flags.temporary);
        assert_eq!((a.valid, a.preferred), (None, None));
        let a6 = facts
            .iter()
            .find_map(|f| match f {
                Fact::Addr(a) if a.addr == v6 => Some(a.clone()),
                _ => None,
            })
            .expect("NEWADDR fd6d:6966:a::2");
        assert_eq!(a6.prefix_len, 64);
        assert!(!a6.flags.permanent, "an address with finite lifetimes is not permanent");
        assert!(a6.valid.is_some_and(|v| (290..=300).contains(&v)), "{:?}", a6.valid);
        assert!(a6.preferred.is_some_and(|v| (190..=200).contains(&v)), "{:?}", a6.preferred);
        assert!(facts.contains(&Fact::AddrRemoved { ifindex: t0, addr: v4, prefix_len: 24 }));
        assert!(facts.contains(&Fact::LinkRemoved { ifindex: t0 }));
        // Link up and carrier show in the flags of a later NEWLINK.
        assert!(facts.iter().any(|f| matches!(f, Fact::Link(l) if l.ifindex == t0 && l.flags.up && l.flags.running)));
        // The deletion comes last for t0.
        let last_t0 = facts.iter().rposition(|f| match f {
            Fact::Link(l) => l.ifindex == t0,
            Fact::LinkRemoved { ifindex } => *ifindex == t0,
            _ => false,
        });
        assert_eq!(facts[last_t0.unwrap()], Fact::LinkRemoved { ifindex: t0 });
    }

    #[test]
    fn captured_session_replayed_into_the_model_leaves_nothing_of_t0() {
        let mut model = crate::core::model::HostModel::new();
        let mut out = Vec::new();
        model.announce_interfaces(&mut out);
        let now = std::time::Instant::now();
        for f in all_facts() {
            model.apply(f, now, &mut out);
        }
        assert!(model.mirrored_addresses().iter().all(|(_, a, _)| a.is_loopback()));
        let names: Vec<String> = out
            .iter()
            .filter_map(|a| match a {
                crate::core::model::Announcement::Interface { name, .. } => Some(format!("+{name}")),
                crate::core::model::Announcement::NoInterface { name, .. } => Some(format!("-{name}")),
                _ => None,
            })
            .collect();
        assert!(names.contains(&"+t0".to_string()) && names.contains(&"-t0".to_string()), "{names:?}");
    }

    #[test]
    fn truncated_and_garbled_datagrams_are_skipped_not_trusted() {
        for d in captured() {
            for cut in [0, 1, 4, 15, 16, 17, d.len() / 2, d.len() - 1] {
                let _ = parse_datagram(&d[..cut.min(d.len())]);
            }
            let mut bad = d.clone();
            // A length field larger than the datagram.
            bad[0..4].copy_from_slice(&(d.len() as u32 + 100).to_ne_bytes());
            let parsed = parse_datagram(&bad);
            assert!(parsed.facts.is_empty());
            assert_eq!(parsed.undecodable, 1);
            // A length field of zero must not loop forever.
            bad[0..4].copy_from_slice(&0u32.to_ne_bytes());
            assert!(parse_datagram(&bad).facts.is_empty());
        }
        // Garbage bytes.
        let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let _ = parse_datagram(&noise);
    }

    #[test]
    fn two_messages_in_one_datagram_are_both_read() {
        let d = captured();
        let v4_add = d.iter().find(|x| x[4] == 20 && x.len() == 76).unwrap();
        let mut both = v4_add.clone();
        both.extend_from_slice(v4_add);
        assert_eq!(parse_datagram(&both).facts.len(), 2);
    }
}

#[cfg(test)]
mod link_name_tests {
    use super::*;

    #[test]
    fn interface_names_that_are_not_utf8_still_make_a_link() {
        let line = include_str!("../../tests/data/rtnetlink-veth-session.txt")
            .lines()
            .find(|l| l.starts_with("16 ") && l.contains("0700030074300000"))
            .expect("a captured NEWLINK for t0");
        let hex = line.split_whitespace().nth(1).unwrap().replacen("0700030074300000", "07000300ff300000", 1);
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let parsed = parse_datagram(&bytes);
        assert_eq!(parsed.undecodable, 0);
        match &parsed.facts[..] {
            [Fact::Link(l)] => {
                assert_eq!(l.name, "\u{fffd}0");
                assert!(l.mtu.is_some());
            }
            other => panic!("{other:?}"),
        }
    }
}
