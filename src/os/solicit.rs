//! Router Solicitations: the kernel keeps no RA DNS state, so a new context would
//! know a router's RDNSS/DNSSL only at its next periodic RA (up to 30 minutes away).
//! When the process may open a raw ICMPv6 socket (CAP_NET_RAW), one RS per up IPv6
//! interface makes routers answer now. Without the capability nothing is sent.
use std::io;
use std::net::{Ipv6Addr, SocketAddrV6};

use socket2::{Domain, Protocol, Socket, Type};

use crate::log::log_at;

/// ICMPv6 Router Solicitation: type 133, code 0, checksum (filled by the kernel), reserved.
const ROUTER_SOLICITATION: [u8; 8] = [133, 0, 0, 0, 0, 0, 0, 0];
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// Sends one RS on each interface; returns the interfaces it went on.
pub(crate) fn solicit_routers(ifindexes: &[u32]) -> Vec<u32> {
    if ifindexes.is_empty() {
        return Vec::new();
    }
    let socket = match open() {
        Ok(s) => s,
        Err(e) => {
            log_at!(Debug, "no router solicitation: {e}");
            return Vec::new();
        }
    };
    let mut sent = Vec::new();
    for &ifindex in ifindexes {
        let to = SocketAddrV6::new(ALL_ROUTERS, 0, 0, ifindex);
        match socket.send_to(&ROUTER_SOLICITATION, &to.into()) {
            Ok(_) => sent.push(ifindex),
            Err(e) => log_at!(Debug, "router solicitation on ifindex {ifindex}: {e}"),
        }
    }
    sent
}

fn open() -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV6, Type::RAW.cloexec(), Some(Protocol::ICMPV6))?;
    // RFC 4861: hop limit 255, or routers drop it.
    socket.set_multicast_hops_v6(255)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}
