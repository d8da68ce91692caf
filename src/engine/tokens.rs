//! Every mio token of a context, in one table.
//!
//! The engine's poll: the fixed tokens below, then connection attempts from
//! `FIRST_CONNECT`. The DNS query sockets live in their own poll set (nested in the
//! engine's under `DNS_SOCKETS`), numbered from `FIRST_QUERY`.

use mio::Token;

/// The waker posts use to hand the engine work (connects, cancels, stop).
pub const WAKER: Token = Token(0);
/// The rtnetlink event socket.
pub const NETLINK: Token = Token(1);
/// The inotify descriptor of the configuration files.
pub const FILES: Token = Token(2);
/// The timerfd a post arms when the sleeping engine would wake too late for its
/// queries' deadline (`resolver::DnsShared::start`).
pub const DNS_TIMER: Token = Token(3);
/// The nested poll set of the DNS query sockets.
pub const DNS_SOCKETS: Token = Token(4);
/// The library's own raw ICMPv6 socket hearing Router Advertisements (`os::ra_listener`).
pub const RA_LISTENER: Token = Token(5);
/// First token of the operator's hooks (their pidfds, `want_connect`), 2^20 of them.
pub const FIRST_HOOK: usize = 1 << 30;
/// First token of connection attempts (engine poll); every token from here on is one.
pub const FIRST_CONNECT: usize = 1 << 40;
/// First token of DNS query sockets (their own poll set, so any range would do; kept
/// apart from the engine's tokens for clearer logs).
pub const FIRST_QUERY: usize = 1 << 16;
