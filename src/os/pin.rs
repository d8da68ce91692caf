//! Pinning a socket to one link, the rule every socket of a PvD follows (DNS queries,
//! connection attempts, the application's sockets through mif_bind_socket).
use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

/// Pins `socket` to interface `ifname`/`ifindex`: SO_BINDTODEVICE when the kernel
/// permits it (Linux 5.7+ on a fresh socket, older kernels with CAP_NET_RAW); else, for
/// datagram sockets only, IP_UNICAST_IF / IPV6_UNICAST_IF. Those options do not steer a
/// TCP connect (the SYN would follow the default route), so a stream socket that cannot
/// be bound to the device is refused with PermissionDenied rather than leaked.
pub fn pin_to_link(socket: &Socket, ipv4: bool, ifindex: u32, ifname: &str, use_bindtodevice: bool) -> io::Result<()> {
    if use_bindtodevice {
        match socket.bind_device(Some(ifname.as_bytes())) {
            Ok(()) => return Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) => {}
            Err(e) => return Err(e),
        }
    }
    if socket.r#type()? == Type::STREAM {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "SO_BINDTODEVICE not permitted, and TCP cannot be pinned to a link otherwise",
        ));
    }
    super::sys::set_unicast_if(socket, ipv4, ifindex)
}

/// A nonblocking, CLOEXEC UDP socket for DNS queries to `server`'s family, pinned to
/// the link and bound to `source` (or any address) on a kernel-chosen port, and *not*
/// connected: a datagram from another address or port is then received (and dropped
/// by the caller) instead of answered by the kernel with ICMP port unreachable, which
/// would leave by the main routing table, not this link. IP_RECVERR / IPV6_RECVERR
/// keep what a connected socket gives: an ICMP error from the server (port
/// unreachable) fails the next receive at once.
pub fn pinned_query_socket(
    server: SocketAddr,
    source: Option<IpAddr>,
    ifindex: u32,
    ifname: &str,
    use_bindtodevice: bool,
) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(server), Type::DGRAM.nonblocking().cloexec(), Some(Protocol::UDP))?;
    pin_to_link(&socket, server.is_ipv4(), ifindex, ifname, use_bindtodevice)?;
    super::sys::set_recv_errors(&socket, server.is_ipv4())?;
    let any: IpAddr = if server.is_ipv4() { [0, 0, 0, 0].into() } else { [0u16; 8].into() };
    socket.bind(&SocketAddr::new(source.unwrap_or(any), 0).into())?;
    Ok(socket)
}

/// A nonblocking, CLOEXEC socket pinned to the link and bound to `source`, connected
/// (UDP) or connecting (TCP) to `server`.
pub fn pinned_socket(
    ty: Type,
    protocol: Protocol,
    server: SocketAddr,
    source: Option<IpAddr>,
    ifindex: u32,
    ifname: &str,
    use_bindtodevice: bool,
) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(server), ty.nonblocking().cloexec(), Some(protocol))?;
    pin_to_link(&socket, server.is_ipv4(), ifindex, ifname, use_bindtodevice)?;
    if let Some(src) = source {
        socket.bind(&SocketAddr::new(src, 0).into())?;
    }
    match socket.connect(&server.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket)
}
