//! dhcpcd's lease files, `/var/lib/dhcpcd/<if>.lease` and `<if>.lease6`: the DHCP
//! reply the server sent, as it came (dhcpcd 9.4.1 writes the BOOTP message of the
//! DHCPACK, and the DHCPv6 Reply, from the message type on), decoded with `dhcproto`.
//! dhcpcd counts the lease from the file's modification time and rewrites the file at
//! every renewal. What the library takes from it: the address the lease gave (DHCPv4
//! `yiaddr`, DHCPv6 an IA_NA or IA_TA address), or, without one, how long the lease
//! lasts. Anything that does not decode as such a reply is refused, with a reason.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use dhcproto::{v4, v6, Decodable};

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

/// The DHCPv4 message's frame: the magic cookie, then options that each fit, up to
/// End, with nothing but padding after it. dhcproto stops quietly at the first option it
/// cannot decode, so that a file cut short would lose its lease time unnoticed.
fn check_v4_frame(bytes: &[u8]) -> Result<(), LeaseRefusal> {
    let short = || LeaseRefusal::Undecodable(format!("cut short at {} bytes", bytes.len()));
    if bytes.get(236..V4_OPTIONS).ok_or_else(short)? != COOKIE {
        return Err(LeaseRefusal::Undecodable("no DHCP magic cookie".into()));
    }
    let mut i = V4_OPTIONS;
    loop {
        match *bytes.get(i).ok_or_else(short)? {
            0 => i += 1,
            255 => {
                let trailing = bytes.get(i + 1..).unwrap_or_default().iter().filter(|b| **b != 0).count();
                return if trailing == 0 { Ok(()) } else { Err(LeaseRefusal::TrailingBytes(trailing)) };
            }
            _ => i += 2 + usize::from(*bytes.get(i + 1).ok_or_else(short)?),
        }
    }
}

/// The DHCPv6 message's frame: the type and transaction id, then options (code, length,
/// data) that end exactly with the file.
fn check_v6_frame(bytes: &[u8]) -> Result<(), LeaseRefusal> {
    let short = || LeaseRefusal::Undecodable(format!("cut short at {} bytes", bytes.len()));
    let mut i = 4;
    if bytes.len() < i {
        return Err(short());
    }
    while i < bytes.len() {
        let len = bytes.get(i + 2..i + 4).ok_or_else(short)?;
        i += 4 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    if i > bytes.len() {
        return Err(short());
    }
    Ok(())
}

fn parse_v4(bytes: &[u8]) -> Result<DhcpcdLease, LeaseRefusal> {
    check_v4_frame(bytes)?;
    let msg = v4::Message::from_bytes(bytes).map_err(|e| LeaseRefusal::Undecodable(e.to_string()))?;
    if msg.opcode() != v4::Opcode::BootReply {
        return Err(LeaseRefusal::NotAnAck(format!("{:?}", msg.opcode())));
    }
    // A BOOTP reply has no message type; dhcpcd keeps it as a lease too.
    match msg.opts().msg_type() {
        None | Some(v4::MessageType::Ack) => {}
        Some(other) => return Err(LeaseRefusal::NotAnAck(format!("{other:?}"))),
    }
    let yiaddr = msg.yiaddr();
    let usable = !(yiaddr.is_unspecified() || yiaddr.is_broadcast() || yiaddr.is_multicast() || yiaddr.is_loopback());
    let seconds = match msg.opts().get(v4::OptionCode::AddressLeaseTime) {
        Some(v4::DhcpOption::AddressLeaseTime(s)) if *s != INFINITE => Some((*s).max(MIN_LEASE_SECS)),
        _ => None,
    };
    Ok(DhcpcdLease { address: usable.then_some(IpAddr::V4(yiaddr)), seconds })
}

fn parse_v6(bytes: &[u8]) -> Result<DhcpcdLease, LeaseRefusal> {
    check_v6_frame(bytes)?;
    let msg = v6::Message::from_bytes(bytes).map_err(|e| LeaseRefusal::Undecodable(e.to_string()))?;
    if msg.msg_type() != v6::MessageType::Reply {
        return Err(LeaseRefusal::NotAReply(format!("{:?}", msg.msg_type())));
    }
    let mut address = None;
    let mut longest: Option<u32> = None;
    // IA_NA before IA_TA: the first address with a valid lifetime names the lease.
    for code in [v6::OptionCode::IANA, v6::OptionCode::IATA] {
        for opt in msg.opts().get_all(code).unwrap_or_default() {
            let inner = match opt {
                v6::DhcpOption::IANA(ia) => &ia.opts,
                v6::DhcpOption::IATA(ia) => &ia.opts,
                _ => continue,
            };
            for a in inner.get_all(v6::OptionCode::IAAddr).unwrap_or_default() {
                let v6::DhcpOption::IAAddr(a) = a else { continue };
                if a.valid_life > 0 && !a.addr.is_unspecified() && !a.addr.is_multicast() {
                    address = address.or(Some(IpAddr::V6(a.addr)));
                    longest = longest.max(Some(a.valid_life));
                }
            }
        }
    }
    for opt in msg.opts().get_all(v6::OptionCode::IAPD).unwrap_or_default() {
        let v6::DhcpOption::IAPD(pd) = opt else { continue };
        for p in pd.opts.get_all(v6::OptionCode::IAPrefix).unwrap_or_default() {
            let v6::DhcpOption::IAPrefix(p) = p else { continue };
            if p.valid_lifetime > 0 {
                longest = longest.max(Some(p.valid_lifetime));
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
