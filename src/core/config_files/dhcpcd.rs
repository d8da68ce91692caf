//! dhcpcd's lease files, `/var/lib/dhcpcd/<if>.lease` and `<if>.lease6`: the DHCP
//! reply the server sent, as it came (dhcpcd 9.4.1 writes the BOOTP message of the
//! DHCPACK, and the DHCPv6 Reply, from the message type on).
//! dhcpcd counts the lease from the file's modification time and rewrites the file at
//! every renewal. What the library takes from it: the address the lease gave (DHCPv4
//! `yiaddr`, DHCPv6 an IA_NA or IA_TA address), or, without one, how long the lease
//! lasts. Anything that does not decode as such a reply is refused, with a reason.
//!
//! Hand-written and defensive, as `ndopt.rs`: every length is checked before it is
//! used. (The `dhcproto` crate was tried first: its DHCPv6 decoder subtracts from
//! option lengths unchecked, and the fuzz target made it panic within seconds on a
//! status-code option shorter than two bytes.) Tests: captured files in
//! `tests.rs`, the fuzz target `dhcpcd_lease`.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// What a dhcpcd lease file says of its lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpcdLease {
    /// The address leased (DHCPv4 `yiaddr`; DHCPv6 the first IA_NA, else IA_TA, address
    /// with a valid lifetime).
    pub address: Option<IpAddr>,
    /// The lease's length in seconds from when the file was written (DHCPv4 option 51;
    /// DHCPv6 the longest valid lifetime of its addresses and delegated prefixes);
    /// `None`: infinite (0xffffffff), or the reply gives none (an information-only
    /// reply, a BOOTP reply): the lease lasts until dhcpcd withdraws it.
    pub seconds: Option<u32>,
}

/// Why a lease file is not used (logged; the element then lives until withdrawn, as
/// without a lease file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseRefusal {
    /// The bytes do not decode as a DHCP message (truncated, garbled).
    Undecodable(String),
    /// A DHCPv4 message that is not a reply with an acknowledgement (BOOTREQUEST, a
    /// DHCPOFFER, a DHCPNAK...).
    NotAnAck(String),
    /// A DHCPv6 message that is not a Reply.
    NotAReply(String),
    /// Bytes after the message's end (a file written over a longer one, say).
    TrailingBytes(usize),
}

impl fmt::Display for LeaseRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseRefusal::Undecodable(e) => write!(f, "not a DHCP message ({e})"),
            LeaseRefusal::NotAnAck(what) => write!(f, "not a DHCPACK but {what}"),
            LeaseRefusal::NotAReply(what) => write!(f, "not a DHCPv6 Reply but {what}"),
            LeaseRefusal::TrailingBytes(n) => write!(f, "{n} bytes past the message's end"),
        }
    }
}

/// dhcpcd's shortest lease (`DHCP_MIN_LEASE`): a shorter one from the server (0
/// included) is taken as this long, as dhcpcd does.
pub const MIN_LEASE_SECS: u32 = 20;

/// Infinite, in DHCPv4 option 51 and in DHCPv6 lifetimes.
const INFINITE: u32 = u32::MAX;

/// `<if>.lease` (`v6` false) or `<if>.lease6` as dhcpcd wrote it.
pub fn parse_dhcpcd_lease(bytes: &[u8], v6: bool) -> Result<DhcpcdLease, LeaseRefusal> {
    if v6 {
        parse_v6(bytes)
    } else {
        parse_v4(bytes)
    }
}

/// The DHCPv4 magic cookie, after the 236 bytes of the BOOTP header.
const COOKIE: [u8; 4] = [99, 130, 83, 99];
const V4_OPTIONS: usize = 240;
const BOOTREPLY: u8 = 2;
const DHCPACK: u8 = 5;
const OPT_LEASE_TIME: u8 = 51;
const OPT_MESSAGE_TYPE: u8 = 53;

/// The DHCPv4 options as (code, data): the magic cookie, then options that each fit,
/// up to End, with nothing but padding after it (option overload, RFC 2132 option 52,
/// is not followed: dhcpcd's servers put the lease time in the options field).
fn v4_options(bytes: &[u8]) -> Result<Vec<(u8, &[u8])>, LeaseRefusal> {
    let short = || LeaseRefusal::Undecodable(format!("cut short at {} bytes", bytes.len()));
    if bytes.get(236..V4_OPTIONS).ok_or_else(short)? != COOKIE {
        return Err(LeaseRefusal::Undecodable("no DHCP magic cookie".into()));
    }
    let mut options = Vec::new();
    let mut i = V4_OPTIONS;
    loop {
        match *bytes.get(i).ok_or_else(short)? {
            0 => i += 1,
            255 => {
                let trailing = bytes.get(i + 1..).unwrap_or_default().iter().filter(|b| **b != 0).count();
                return if trailing == 0 { Ok(options) } else { Err(LeaseRefusal::TrailingBytes(trailing)) };
            }
            code => {
                let len = usize::from(*bytes.get(i + 1).ok_or_else(short)?);
                options.push((code, bytes.get(i + 2..i + 2 + len).ok_or_else(short)?));
                i += 2 + len;
            }
        }
    }
}

/// DHCPv6 options (RFC 8415 section 21.1: code, length, data) filling `bytes` exactly,
/// as (code, data).
fn v6_options(bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, LeaseRefusal> {
    let mut options = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let bad = || LeaseRefusal::Undecodable(format!("a DHCPv6 option cut short ({} bytes left)", rest.len()));
        let head = rest.get(..4).ok_or_else(bad)?;
        let code = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        options.push((code, rest.get(4..4 + len).ok_or_else(bad)?));
        rest = &rest[4 + len..];
    }
    Ok(options)
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn parse_v4(bytes: &[u8]) -> Result<DhcpcdLease, LeaseRefusal> {
    let options = v4_options(bytes)?;
    if bytes[0] != BOOTREPLY {
        return Err(LeaseRefusal::NotAnAck(format!("BOOTP op {}", bytes[0])));
    }
    let find = |code| options.iter().find(|(c, _)| *c == code).map(|(_, data)| *data);
    // A BOOTP reply has no message type; dhcpcd keeps it as a lease too.
    match find(OPT_MESSAGE_TYPE) {
        None | Some([DHCPACK]) => {}
        Some(other) => return Err(LeaseRefusal::NotAnAck(format!("message type {other:?}"))),
    }
    let yiaddr = std::net::Ipv4Addr::from(be32(bytes, 16).unwrap_or_default());
    let usable = !(yiaddr.is_unspecified() || yiaddr.is_broadcast() || yiaddr.is_multicast() || yiaddr.is_loopback());
    let seconds = match find(OPT_LEASE_TIME) {
        Some(data @ [_, _, _, _]) => be32(data, 0).filter(|s| *s != INFINITE).map(|s| s.max(MIN_LEASE_SECS)),
        Some(other) => {
            return Err(LeaseRefusal::Undecodable(format!("a lease time option of {} bytes", other.len())));
        }
        None => None,
    };
    Ok(DhcpcdLease { address: usable.then_some(IpAddr::V4(yiaddr)), seconds })
}

const REPLY: u8 = 7;
const OPT_IA_NA: u16 = 3;
const OPT_IA_TA: u16 = 4;
const OPT_IAADDR: u16 = 5;
const OPT_IA_PD: u16 = 25;
const OPT_IAPREFIX: u16 = 26;

fn parse_v6(bytes: &[u8]) -> Result<DhcpcdLease, LeaseRefusal> {
    let head =
        bytes.get(..4).ok_or_else(|| LeaseRefusal::Undecodable(format!("cut short at {} bytes", bytes.len())))?;
    let options = v6_options(&bytes[4..])?;
    if head[0] != REPLY {
        return Err(LeaseRefusal::NotAReply(format!("message type {}", head[0])));
    }
    let malformed = |what: &str| LeaseRefusal::Undecodable(format!("a malformed {what}"));
    let mut address = None;
    let mut longest: Option<u32> = None;
    // IA_NA before IA_TA (in the file's order within each): the first address with a
    // valid lifetime names the lease.
    for (ia, header) in [(OPT_IA_NA, 12), (OPT_IA_TA, 4), (OPT_IA_PD, 12)] {
        for (_, data) in options.iter().filter(|(code, _)| *code == ia) {
            let inner = data.get(header..).ok_or_else(|| malformed("IA option"))?;
            for (code, sub) in v6_options(inner)? {
                match code {
                    OPT_IAADDR if ia != OPT_IA_PD => {
                        let valid = be32(sub, 20).ok_or_else(|| malformed("IAADDR"))?;
                        let octets: [u8; 16] =
                            sub.get(..16).and_then(|o| o.try_into().ok()).ok_or_else(|| malformed("IAADDR"))?;
                        let a = std::net::Ipv6Addr::from(octets);
                        if valid > 0 && !a.is_unspecified() && !a.is_multicast() {
                            address = address.or(Some(IpAddr::V6(a)));
                            longest = longest.max(Some(valid));
                        }
                    }
                    OPT_IAPREFIX if ia == OPT_IA_PD => {
                        let valid = be32(sub, 4).filter(|_| sub.len() >= 25).ok_or_else(|| malformed("IAPREFIX"))?;
                        if valid > 0 {
                            longest = longest.max(Some(valid));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // A lifetime of INFINITE makes the lease infinite; none at all (an
    // information-only reply): dhcpcd never expires it.
    let seconds = longest.filter(|s| *s != INFINITE);
    Ok(DhcpcdLease { address, seconds })
}

/// Seconds left of a lease whose file is `age` old: its length less the age, 0 once
/// over; `None` for an infinite lease. Never more than `u32::MAX - 1` (finite).
pub fn dhcpcd_lease_left(lease: &DhcpcdLease, age: Duration) -> Option<u32> {
    let seconds = lease.seconds?;
    let left = u64::from(seconds).saturating_sub(age.as_secs());
    Some(u32::try_from(left).unwrap_or(u32::MAX - 1).min(u32::MAX - 1))
}

/// The lease file that belongs to dhcpcd's hook-state fragment `<if>.dhcp` (`.dhcp6`):
/// `/var/lib/dhcpcd/<if>.lease` (`.lease6`), and whether it is DHCPv6's. `None` for
/// other protocols, and for names that are not an interface's (empty, longer than 15
/// bytes, with a slash or starting with a dot).
pub fn dhcpcd_lease_path(ifname: &str, protocol: &str) -> Option<(String, bool)> {
    let v6 = match protocol {
        "dhcp" => false,
        "dhcp6" => true,
        _ => return None,
    };
    let plausible = !ifname.is_empty() && ifname.len() <= 15 && !ifname.starts_with('.') && !ifname.contains('/');
    plausible.then(|| (format!("/var/lib/dhcpcd/{ifname}.lease{}", if v6 { "6" } else { "" }), v6))
}
