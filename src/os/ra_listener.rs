//! The library's own ear for Router Advertisements. The kernel hands RA options to
//! user space (RTM_NEWNDUSEROPT, `nduseropt`) only on links where it processes RAs
//! itself; systemd-networkd and NetworkManager turn that off (accept_ra=0) and handle
//! RAs in their own process, so on the links they manage the kernel says nothing. A
//! raw ICMPv6 socket (CAP_NET_RAW), filtered in the kernel to RAs only, hears them
//! there too; each option becomes the same fact as the kernel's message would
//! (docs/configuration.md, "Router Advertisements heard directly"). On a link where
//! the kernel processes RAs it forwards their options itself, a little after the raw
//! copy arrives and after it applied the RA's routes; the engine keeps the kernel's
//! there (`kernel_forwards_ra_options`), so nothing is heard twice or out of order.
//!
//! RFC 4861 section 6.1.2: an RA counts only with hop limit 255 and a link-local
//! source (no router forwarded it); the kernel has checked the ICMPv6 checksum.
use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::net::Ipv6Addr;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn6};
use socket2::{Domain, Protocol, Socket, Type};

use super::rtnetlink::ra_fact;
use super::sys::icmp6_filter_pass_only;
use crate::core::model::Fact;
use crate::core::ndopt::{parse_option, ra_options, NdUserOpt, ICMPV6_ROUTER_ADVERTISEMENT};
use crate::log::log_at;

/// An RA is at most one link MTU; 64 KiB covers any.
const RA_BUFFER: usize = 65536;

/// What one drain heard.
#[derive(Debug, Default)]
pub struct Heard {
    pub facts: Vec<Fact>,
    /// RAs dropped: wrong hop limit or source, malformed (each logged at debug).
    pub refused: usize,
}

pub struct RaListener {
    socket: Socket,
    buf: Vec<u8>,
}

impl RaListener {
    /// Opens the listener; fails without CAP_NET_RAW (EPERM), which the caller logs.
    pub fn open() -> io::Result<RaListener> {
        let socket = Socket::new(Domain::IPV6, Type::RAW.cloexec(), Some(Protocol::ICMPV6))?;
        icmp6_filter_pass_only(&socket, ICMPV6_ROUTER_ADVERTISEMENT)?;
        setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true).map_err(io::Error::from)?;
        socket.set_nonblocking(true)?;
        Ok(RaListener { socket, buf: vec![0; RA_BUFFER] })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Reads every RA waiting (until WouldBlock) into facts, for the interfaces and
    /// routers `wanted` says (the others' RAs are read and dropped unparsed).
    pub fn drain(&mut self, mut wanted: impl FnMut(u32, Ipv6Addr) -> bool) -> io::Result<Heard> {
        let mut heard = Heard::default();
        loop {
            let mut cmsg = nix::cmsg_space!(libc::c_int);
            let (len, from, hop_limit) = {
                let mut iov = [IoSliceMut::new(&mut self.buf)];
                match recvmsg::<SockaddrIn6>(
                    self.socket.as_fd().as_raw_fd(),
                    &mut iov,
                    Some(&mut cmsg),
                    MsgFlags::MSG_DONTWAIT,
                ) {
                    Ok(msg) => {
                        let hop_limit = msg.cmsgs().ok().into_iter().flatten().find_map(|c| match c {
                            ControlMessageOwned::Ipv6HopLimit(h) => Some(h),
                            _ => None,
                        });
                        (msg.bytes, msg.address, hop_limit)
                    }
                    Err(nix::errno::Errno::EAGAIN) => break,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(io::Error::from(e)),
                }
            };
            let Some(from) = from else { continue };
            if !wanted(from.scope_id(), from.ip()) {
                continue;
            }
            let ra = self.buf.get(..len).unwrap_or_default();
            match ra_facts(ra, from.ip(), from.scope_id(), hop_limit) {
                Ok(facts) => heard.facts.extend(facts),
                Err(why) => {
                    heard.refused += 1;
                    log_at!(Debug, "RA from {}%{} refused: {why}", from.ip(), from.scope_id());
                }
            }
        }
        Ok(heard)
    }
}

/// Whether the kernel processes RAs on interface `ifname`, and so forwards their
/// options (RTM_NEWNDUSEROPT): net.ipv6.conf.IF.accept_ra is 2, or 1 while the
/// interface does not forward (the kernel's `ipv6_accept_ra`). Unreadable: assumed so
/// (the kernel's default), keeping the behaviour the library had without the listener.
pub fn kernel_forwards_ra_options(ifname: &str) -> bool {
    let read = |key: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{ifname}/{key}"))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
    };
    match read("accept_ra") {
        Some(2) => true,
        Some(1) => read("forwarding").is_none_or(|forwarding| forwarding == 0),
        Some(_) => false,
        None => true,
    }
}

/// How long an interface's `kernel_forwards_ra_options` is taken as read: the sysctls
/// change with no notification (a link manager starting turns accept_ra off), and a
/// router advertises every few seconds at most; reading them at each RA cost ~5 µs.
pub const KERNEL_FORWARDS_FRESH: Duration = Duration::from_secs(1);

/// `kernel_forwards_ra_options` per interface, read again after `KERNEL_FORWARDS_FRESH`.
#[derive(Debug, Default)]
pub struct KernelForwards {
    read: HashMap<u32, (bool, Instant)>,
}

impl KernelForwards {
    pub fn of(&mut self, ifindex: u32, ifname: impl FnOnce() -> Option<String>, now: Instant) -> bool {
        if let Some((forwards, at)) = self.read.get(&ifindex) {
            if now.saturating_duration_since(*at) < KERNEL_FORWARDS_FRESH {
                return *forwards;
            }
        }
        // An interface the model does not know (yet): as the kernel would by default.
        let forwards = ifname().is_none_or(|name| kernel_forwards_ra_options(&name));
        // Bounded by the interfaces RAs arrive on; forgotten ones are dropped with age.
        self.read.retain(|_, (_, at)| now.saturating_duration_since(*at) < KERNEL_FORWARDS_FRESH);
        self.read.insert(ifindex, (forwards, now));
        forwards
    }
}

/// The facts of one RA heard on interface `ifindex` from `router`, or why it is refused.
fn ra_facts(ra: &[u8], router: Ipv6Addr, ifindex: u32, hop_limit: Option<i32>) -> Result<Vec<Fact>, String> {
    if hop_limit != Some(255) {
        return Err(format!("hop limit {hop_limit:?}, not 255"));
    }
    // fe80::/10 (`Ipv6Addr::is_unicast_link_local` is newer than our MSRV).
    if router.segments()[0] & 0xffc0 != 0xfe80 || ifindex == 0 {
        return Err("source not link-local".into());
    }
    let options = ra_options(ra).map_err(|e| e.to_string())?;
    let mut facts = Vec::new();
    for option in options {
        // A bad option is skipped, as the kernel's forwarding skips it; the others count.
        match parse_option(option) {
            Ok(option) => facts.extend(ra_fact(NdUserOpt {
                ifindex,
                icmp_type: ICMPV6_ROUTER_ADVERTISEMENT,
                icmp_code: 0,
                router: Some(router),
                option,
            })),
            Err(e) => log_at!(Debug, "RA from {router}%{ifindex}: option skipped: {e}"),
        }
    }
    Ok(facts)
}
