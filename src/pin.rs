//! Pinning a socket to one link, the rule every socket of a PvD follows (DNS queries,
//! connection attempts, the application's sockets through mif_bind_socket).
use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

/// IP_UNICAST_IF and IPV6_UNICAST_IF (linux/in.h, linux/in6.h).
const IP_UNICAST_IF: libc::c_int = 50;
const IPV6_UNICAST_IF: libc::c_int = 76;

/// Pins `socket` to interface `ifname`/`ifindex`: SO_BINDTODEVICE when the kernel
/// permits it (Linux 5.7+ on a fresh socket, older kernels with CAP_NET_RAW); else, for
/// datagram sockets only, IP_UNICAST_IF / IPV6_UNICAST_IF. Those options do not steer a
/// TCP connect (the SYN would follow the default route), so a stream socket that cannot
/// be bound to the device is refused with PermissionDenied rather than leaked.
pub(crate) fn pin_to_link(socket: &Socket, ipv4: bool, ifindex: u32, ifname: &str, use_bindtodevice: bool) -> io::Result<()> {
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
    // Both options take the index in network byte order.
    let value = (ifindex as libc::c_int).to_be();
    let (level, option) = if ipv4 { (libc::IPPROTO_IP, IP_UNICAST_IF) } else { (libc::IPPROTO_IPV6, IPV6_UNICAST_IF) };
    let fd = std::os::fd::AsRawFd::as_raw_fd(socket);
    let rc = unsafe {
        libc::setsockopt(fd, level, option, (&value as *const libc::c_int).cast(), std::mem::size_of::<libc::c_int>() as libc::socklen_t)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A nonblocking, CLOEXEC socket pinned to the link and bound to `source`, connected
/// (UDP) or connecting (TCP) to `server`.
pub(crate) fn pinned_socket(
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
