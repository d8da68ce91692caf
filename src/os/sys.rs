//! The one door for system calls that no crate wraps safely for us. Every `unsafe`
//! below the C layer lives here, each with its `// SAFETY:` line; everything else in
//! the library calls these safe functions, nix, mio, socket2 or std.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

/// An eventfd used as a level: non-zero while something waits (`engine::outbox`).
pub struct Level {
    fd: EventFd,
}

impl AsFd for Level {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Level {
    pub fn new() -> io::Result<Level> {
        let fd = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        Ok(Level { fd })
    }

    /// Makes the descriptor readable. Cannot block: the counter is far below its
    /// maximum and the descriptor is nonblocking.
    pub fn raise(&self) {
        let _ = self.fd.write(1);
    }

    /// Makes the descriptor unreadable again (reads the counter back to 0).
    pub fn lower(&self) {
        let _ = self.fd.read();
    }
}

/// A level-triggered epoll set for the application to wait on (`mif_fd`): readable
/// while a member it watches is. A member is either watched (readable interest) or
/// only kept (priority-data interest, which neither an eventfd nor an epoll set ever
/// has): switching is one EPOLL_CTL_MOD, where removing and adding a nested epoll set
/// again makes the kernel check for loops.
pub struct LevelSet {
    epoll: nix::sys::epoll::Epoll,
}

impl AsFd for LevelSet {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.0.as_fd()
    }
}

impl LevelSet {
    /// CLOEXEC and, for event loops that expect it of every descriptor, NONBLOCK.
    pub fn new() -> io::Result<LevelSet> {
        use nix::fcntl::OFlag;
        use nix::sys::epoll::{Epoll, EpollCreateFlags};
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        fcntl(&epoll.0, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        Ok(LevelSet { epoll })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.epoll.0.as_raw_fd()
    }

    fn interest(watched: bool) -> nix::sys::epoll::EpollEvent {
        use nix::sys::epoll::{EpollEvent, EpollFlags};
        EpollEvent::new(if watched { EpollFlags::EPOLLIN } else { EpollFlags::EPOLLPRI }, 0)
    }

    pub fn add(&self, fd: BorrowedFd<'_>, watched: bool) -> io::Result<()> {
        self.epoll.add(fd, Self::interest(watched))?;
        Ok(())
    }

    /// Adds a mio poll set (nested) by its own descriptor.
    pub fn add_poll(&self, poll: &mio::Poll, watched: bool) -> io::Result<()> {
        // SAFETY: a `mio::Poll` owns its epoll descriptor for as long as it lives, and
        // the borrow ends within this call (the kernel keeps its own reference).
        let fd = unsafe { BorrowedFd::borrow_raw(poll.as_raw_fd()) };
        self.add(fd, watched)
    }

    /// Switches a mio poll set added with `add_poll` between watched and kept.
    pub fn watch_poll(&self, poll: &mio::Poll, watched: bool) -> io::Result<()> {
        // SAFETY: as in `add_poll`.
        let fd = unsafe { BorrowedFd::borrow_raw(poll.as_raw_fd()) };
        self.epoll.modify(fd, &mut Self::interest(watched))?;
        Ok(())
    }

    /// Waits until the set is readable or `timeout_ms` passed (`Ok(false)`).
    #[cfg(test)]
    pub fn readable_within(&self, timeout_ms: i32) -> io::Result<bool> {
        wait_readable(self.epoll.0.as_fd(), timeout_ms)
    }
}

/// A one-shot monotonic timer descriptor, for a poll set.
pub struct OneShotTimer {
    fd: TimerFd,
}

impl OneShotTimer {
    pub fn new() -> io::Result<OneShotTimer> {
        let fd = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_CLOEXEC | TimerFlags::TFD_NONBLOCK)?;
        Ok(OneShotTimer { fd })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }

    /// Fires once, `after` from now (at least 1 ns: a zero would disarm it).
    pub fn arm(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_nanos(1));
        self.fd.set(Expiration::OneShot(TimeSpec::from_duration(after)), TimerSetTimeFlags::empty())?;
        Ok(())
    }

    /// Reads the expiration count so the descriptor stops being readable.
    pub fn acknowledge(&self) {
        let mut count = [0u8; 8];
        let _ = nix::unistd::read(&self.fd, &mut count);
    }
}

/// A second descriptor (CLOEXEC) of a mio poll set's epoll instance: readable exactly
/// when the set has a ready source, so another thread can wait on it without holding
/// whatever guards the `Poll` itself.
pub fn duplicate_poll_fd(poll: &mio::Poll) -> io::Result<OwnedFd> {
    // SAFETY: a `mio::Poll` owns its epoll descriptor for as long as it lives, and the
    // borrow ends within this call.
    let epoll = unsafe { BorrowedFd::borrow_raw(poll.as_raw_fd()) };
    let fd = fcntl(epoll, FcntlArg::F_DUPFD_CLOEXEC(0))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

fn poll_timeout(timeout_ms: i32) -> PollTimeout {
    PollTimeout::try_from(timeout_ms).unwrap_or(PollTimeout::NONE)
}

/// Waits until `fd` is readable: `Ok(true)` readable, `Ok(false)` timed out; -1 waits
/// forever. EINTR comes back as an error of kind `Interrupted`.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> io::Result<bool> {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    let n = nix::poll::poll(&mut fds, poll_timeout(timeout_ms))?;
    Ok(n > 0)
}

/// The calling thread's asynchronous signals, blocked while it works inside
/// `mif_check_message` and let in only while it waits (the pselect pattern).
/// Synchronous signals (faults, SIGABRT) are never blocked.
pub struct SignalsHeld {
    /// The mask to restore; `None` if blocking failed (then nothing is restored).
    saved: Option<SigSet>,
}

impl SignalsHeld {
    pub fn hold() -> SignalsHeld {
        let mut block = SigSet::all();
        for sig in [
            Signal::SIGSEGV,
            Signal::SIGBUS,
            Signal::SIGFPE,
            Signal::SIGILL,
            Signal::SIGTRAP,
            Signal::SIGSYS,
            Signal::SIGABRT,
        ] {
            block.remove(sig);
        }
        let mut saved = SigSet::empty();
        // Cannot fail with a valid `how`; should it, nothing was blocked and nothing is
        // restored later.
        let held = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&block), Some(&mut saved));
        SignalsHeld { saved: held.ok().map(|()| saved) }
    }

    /// ppoll() on `fds` (readable) with the thread's own mask, so a signal held back
    /// meanwhile interrupts it (`Interrupted`). Returns which descriptors are readable.
    pub fn poll<const N: usize>(&self, fds: [BorrowedFd<'_>; N], timeout_ms: i32) -> io::Result<[bool; N]> {
        let mut polled = fds.map(|fd| PollFd::new(fd, PollFlags::POLLIN));
        let timeout = (timeout_ms >= 0).then(|| TimeSpec::from_duration(Duration::from_millis(timeout_ms as u64)));
        nix::poll::ppoll(&mut polled, timeout, self.saved)?;
        Ok(polled.map(|p| p.revents().is_some_and(|r| !r.is_empty())))
    }
}

impl Drop for SignalsHeld {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(saved), None);
        }
    }
}

/// Blocks every signal in the calling thread (the engine's: signals are the
/// application's, and a handler must run on its threads).
pub fn block_all_signals() -> io::Result<()> {
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), None)?;
    Ok(())
}

/// Fills `buf` from getrandom(2) (no flags: blocks only before the kernel's pool is
/// initialised at boot). Returns false if it could not fill it whole.
pub fn fill_random(buf: &mut [u8]) -> bool {
    // SAFETY: the pointer and length describe `buf`, writable for its whole length.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    usize::try_from(n).is_ok_and(|n| n == buf.len())
}

/// Sends `first` and then `second` to `to` from `socket` in one sendmmsg(2): one system
/// call instead of two, and no return to user space between the datagrams, where a
/// server woken on the same CPU by the first would preempt the caller (the kernel's
/// own reschedule points remain, as the preemption model allows). Returns how many
/// left: 2, or 1 when the second failed (sendmmsg then reports only what was sent, and
/// the second's error is lost). nix's wrapper is not used: counting its results reads
/// address buffers that only recvmmsg fills.
pub fn send_two(socket: &impl AsFd, first: &[u8], second: &[u8], to: std::net::SocketAddr) -> io::Result<usize> {
    let addr = socket2::SockAddr::from(to);
    let mut iov = [first, second].map(|b| libc::iovec { iov_base: b.as_ptr().cast_mut().cast(), iov_len: b.len() });
    // SAFETY: mmsghdr is plain data (pointers and integers), for which all zeroes is a
    // valid value: null name, no iovecs, no control data.
    let mut msgs: [libc::mmsghdr; 2] = unsafe { std::mem::zeroed() };
    for (msg, iov) in msgs.iter_mut().zip(iov.iter_mut()) {
        msg.msg_hdr.msg_name = addr.as_ptr().cast_mut().cast();
        msg.msg_hdr.msg_namelen = addr.len();
        msg.msg_hdr.msg_iov = iov;
        msg.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the descriptor is open (borrowed from `socket`); each header points at a
    // live address (`addr`) and a live iovec describing a borrowed slice, for the call.
    let sent = unsafe {
        libc::sendmmsg(socket.as_fd().as_raw_fd(), msgs.as_mut_ptr(), msgs.len() as libc::c_uint, libc::MSG_NOSIGNAL)
    };
    match Errno::result(sent) {
        Ok(0) => Err(io::Error::new(io::ErrorKind::WriteZero, "sendmmsg sent nothing")),
        Ok(n) => Ok(n as usize),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// IP_UNICAST_IF and IPV6_UNICAST_IF (linux/in.h, linux/in6.h): the interface a
/// datagram socket sends through. Neither nix nor socket2 wraps them.
const IP_UNICAST_IF: libc::c_int = 50;
const IPV6_UNICAST_IF: libc::c_int = 76;

/// Sets IP_UNICAST_IF (or IPV6_UNICAST_IF) on `socket` to `ifindex`.
pub fn set_unicast_if(socket: &impl AsFd, ipv4: bool, ifindex: u32) -> io::Result<()> {
    // Both options take the index in network byte order.
    let value = (ifindex as libc::c_int).to_be();
    let (level, option) = if ipv4 { (libc::IPPROTO_IP, IP_UNICAST_IF) } else { (libc::IPPROTO_IPV6, IPV6_UNICAST_IF) };
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is open (borrowed from `socket`); the value pointer and
    // length describe a live c_int.
    let rc = unsafe {
        libc::setsockopt(socket.as_fd().as_raw_fd(), level, option, (&value as *const libc::c_int).cast(), len)
    };
    Errno::result(rc).map(drop).map_err(io::Error::from)
}

/// ICMP6_FILTER (linux/icmpv6.h): which ICMPv6 types a raw ICMPv6 socket receives.
const ICMP6_FILTER: libc::c_int = 1;

/// Makes a raw ICMPv6 socket receive only messages of `icmp_type` (struct
/// icmp6_filter: one bit per type, set = blocked). Neither nix nor socket2 wraps it.
pub fn icmp6_filter_pass_only(socket: &impl AsFd, icmp_type: u8) -> io::Result<()> {
    let mut blocked = [u32::MAX; 8];
    if let Some(word) = blocked.get_mut(usize::from(icmp_type >> 5)) {
        *word &= !(1u32 << (icmp_type & 31));
    }
    let len = std::mem::size_of_val(&blocked) as libc::socklen_t;
    // SAFETY: the descriptor is open (borrowed from `socket`); the pointer and length
    // describe a live [u32; 8], the layout of struct icmp6_filter.
    let rc = unsafe {
        libc::setsockopt(socket.as_fd().as_raw_fd(), libc::IPPROTO_ICMPV6, ICMP6_FILTER, blocked.as_ptr().cast(), len)
    };
    Errno::result(rc).map(drop).map_err(io::Error::from)
}

/// TCP_IS_MPTCP (linux/tcp.h, Linux 5.16): on a socket made with IPPROTO_MPTCP, 1 while
/// the connection runs MPTCP, 0 once it fell back to plain TCP (the peer did not answer
/// with MPTCP). Neither nix nor socket2 wraps it.
const TCP_IS_MPTCP: libc::c_int = 43;

/// Whether a connected IPPROTO_MPTCP socket runs MPTCP (`Some(false)`: it fell back to
/// TCP); `None` when the kernel cannot tell (older than 5.16).
pub fn is_mptcp(socket: &impl AsFd) -> Option<bool> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is open (borrowed from `socket`); the value pointer and
    // length describe a live c_int the kernel writes at most `len` bytes of.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::SOL_TCP,
            TCP_IS_MPTCP,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value != 0)
}

/// Sets SO_RCVBUFFORCE (needs CAP_NET_ADMIN).
pub fn set_rcvbuf_force(socket: &impl AsFd, size: usize) -> io::Result<()> {
    nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::RcvBufForce, &size)?;
    Ok(())
}

/// The index of the interface named `name`, if there is one.
pub fn interface_index(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok().filter(|i| *i != 0)
}

/// IP_RECVERR / IPV6_RECVERR: ICMP errors reach an unconnected UDP socket (its next
/// receive fails with them).
pub fn set_recv_errors(socket: &impl AsFd, ipv4: bool) -> io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    let done = if ipv4 {
        setsockopt(socket, sockopt::Ipv4RecvErr, &true)
    } else {
        setsockopt(socket, sockopt::Ipv6RecvErr, &true)
    };
    done.map_err(io::Error::from)
}

/// The soft limit on this process's open descriptors (RLIMIT_NOFILE); `None` when
/// unlimited or unknown.
pub fn descriptor_limit() -> Option<u64> {
    use nix::sys::resource::{getrlimit, Resource, RLIM_INFINITY};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) if soft != RLIM_INFINITY => Some(soft),
        _ => None,
    }
}

/// Whether the process runs in secure-execution mode (the kernel's AT_SECURE: set-user-ID,
/// set-group-ID, or capabilities gained at exec): its environment is then the caller's
/// to choose, and no environment variable may steer what the library reads.
pub fn secure_execution() -> bool {
    // SAFETY: getauxval only reads the process's auxiliary vector; no pointer is passed.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// SO_BINDTOIFINDEX (asm-generic/socket.h, Linux 5.0): the interface a socket is bound
/// to, 0 when none. Neither nix nor socket2 reads it.
const SO_BINDTOIFINDEX: libc::c_int = 62;

/// A socket's local IP address and the interface it is bound to (connection viability):
/// `Ok(None)` when it has no IP address yet (unbound, or unspecified). Errors: EBADF (not
/// open), ENOTSOCK, EAFNOSUPPORT (not an IPv4 or IPv6 socket).
pub fn socket_path(socket: BorrowedFd<'_>) -> io::Result<Option<(std::net::IpAddr, Option<u32>)>> {
    use nix::sys::socket::{getsockname, SockaddrLike, SockaddrStorage};
    let name: SockaddrStorage = getsockname(socket.as_raw_fd())?;
    let local = match (name.as_sockaddr_in(), name.as_sockaddr_in6()) {
        (Some(v4), _) => std::net::IpAddr::V4(v4.ip()),
        // An IPv6 socket connected over IPv4 has a v4-mapped address: the IPv4 one.
        (_, Some(v6)) => std::net::IpAddr::V6(v6.ip()).to_canonical(),
        _ if name.family().is_some() => return Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT)),
        _ => return Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT)),
    };
    if local.is_unspecified() {
        return Ok(None);
    }
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is borrowed, open for the call; the value pointer and length
    // describe a live c_int the kernel writes at most `len` bytes of.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_BINDTOIFINDEX,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    let bound = (rc == 0 && value > 0).then_some(value as u32);
    Ok(Some((local, bound)))
}

/// pidfd_open(2) (Linux 5.3): a descriptor that polls readable once process `pid` ended
/// (CLOEXEC: the kernel sets it). nix does not wrap it.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; no
    // memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor pidfd_open just returned, owned by nobody else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as RawFd) })
}

/// The time since boot in hundredths of a second (CLOCK_MONOTONIC), the clock of the
/// kernel's address stamps (IFA_CACHEINFO `cstamp`/`tstamp`, jiffies since boot).
pub fn uptime_centiseconds() -> Option<u64> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).ok()?;
    Some(ts.tv_sec() as u64 * 100 + ts.tv_nsec() as u64 / 10_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_two_sends_both_datagrams_in_order() {
        let to = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let from = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(send_two(&from, b"first", b"second", to.local_addr().unwrap()).unwrap(), 2);
        let mut buf = [0u8; 16];
        for want in [&b"first"[..], b"second"] {
            let (n, peer) = to.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], want);
            assert_eq!(peer, from.local_addr().unwrap());
        }
    }

    #[test]
    fn send_two_counts_one_when_only_the_first_leaves() {
        let to = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let from = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Larger than a UDP datagram can be: the second fails with EMSGSIZE.
        let too_large = vec![0u8; 70_000];
        assert_eq!(send_two(&from, b"first", &too_large, to.local_addr().unwrap()).unwrap(), 1);
        let mut buf = [0u8; 16];
        let (n, _) = to.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"first");
    }

    #[test]
    fn send_two_reports_a_first_datagram_that_cannot_leave() {
        // IPv4 socket, IPv6 destination: the first send fails, so the call does.
        let from = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(send_two(&from, b"first", b"second", "[::1]:53".parse().unwrap()).is_err());
    }
}
