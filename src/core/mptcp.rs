//! MPTCP subflow endpoints (the in-kernel path manager's table, `ip mptcp endpoint`)
//! and whether the kernel will carry a watched MPTCP connection to another network
//! (docs/connectivity.md, "MPTCP continuity").
//!
//! The table comes as generic-netlink `mptcp_pm` replies; this parses one endpoint's
//! attributes defensively (no crate parses `mptcp_pm` without an async runtime), from
//! the payload after the generic-netlink header. Pure: the OS layer fetches the bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `MPTCP_PM_ATTR_ADDR` (linux/mptcp_pm.h): the nested endpoint.
const ATTR_ADDR: u16 = 1;
/// `MPTCP_PM_ADDR_ATTR_*`.
const ADDR_ATTR_FAMILY: u16 = 1;
const ADDR_ATTR_ID: u16 = 2;
const ADDR_ATTR_ADDR4: u16 = 3;
const ADDR_ATTR_ADDR6: u16 = 4;
const ADDR_ATTR_FLAGS: u16 = 6;
const ADDR_ATTR_IF_IDX: u16 = 7;
/// `MPTCP_PM_ADDR_FLAG_SUBFLOW`: the kernel opens subflows from this address.
pub const FLAG_SUBFLOW: u32 = 1 << 1;
const NLA_TYPE_MASK: u16 = 0x3fff;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// One endpoint of the kernel's path manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: u8,
    pub addr: IpAddr,
    /// `MPTCP_PM_ADDR_FLAG_*` bits.
    pub flags: u32,
    /// The interface it is bound to (`dev`), if any.
    pub ifindex: Option<u32>,
}

/// Whether a watched MPTCP connection can be carried by the kernel when its path goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continuity {
    /// Not an MPTCP connection (plain TCP, UDP, or MPTCP fallen back to TCP).
    NotMptcp,
    /// MPTCP: not judged yet (the engine reads the endpoint table when the message is
    /// taken).
    Unknown,
    /// A subflow endpoint on another network exists: the kernel can move the
    /// connection there by itself.
    Kernel,
    /// No endpoint elsewhere: the application must reconnect.
    Reconnect,
    /// MPTCP, but the endpoint table could not be read (no MPTCP path manager).
    Unreadable,
}

/// The netlink attributes in `buf` (each: length u16, type u16, value, padded to 4), as
/// (type without flags, value); stops at the first malformed one.
fn attributes(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > buf.len() {
            break;
        }
        out.push((kind, &buf[4..len]));
        let padded = (len + 3) & !3;
        buf = buf.get(padded..).unwrap_or_default();
    }
    out
}

fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

/// The endpoint a `MPTCP_PM_CMD_GET_ADDR` reply describes (`payload`: after the
/// generic-netlink header). `None` for anything malformed: no address, a family that
/// does not match the address, an address of the wrong length.
pub fn parse_endpoint(payload: &[u8]) -> Option<Endpoint> {
    let nested = attributes(payload).into_iter().find(|(kind, _)| *kind == ATTR_ADDR)?.1;
    let mut family = None;
    let mut id = None;
    let mut addr = None;
    let mut flags = 0;
    let mut ifindex = None;
    for (kind, value) in attributes(nested) {
        match kind {
            ADDR_ATTR_FAMILY => family = Some(u16::from_ne_bytes(value.get(..2)?.try_into().ok()?)),
            ADDR_ATTR_ID => id = value.first().copied(),
            ADDR_ATTR_ADDR4 => addr = Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?))),
            ADDR_ATTR_ADDR6 => addr = Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(value).ok()?))),
            ADDR_ATTR_FLAGS => flags = u32_of(value)?,
            ADDR_ATTR_IF_IDX => ifindex = u32_of(value).filter(|i| *i != 0),
            _ => {}
        }
    }
    let addr = addr?;
    let family_ok =
        matches!((family, addr), (None, _) | (Some(AF_INET), IpAddr::V4(_)) | (Some(AF_INET6), IpAddr::V6(_)));
    family_ok.then_some(Endpoint { id: id?, addr, flags, ifindex })
}

/// Whether the kernel can carry an MPTCP connection (`ipv4`: of that family) whose path on
/// interface `ifindex` goes: a subflow endpoint of the same family (the path manager
/// opens subflows of the connection's family only) exists on another interface (its
/// `dev`, else the interface holding its address: `interface_of`), present now.
pub fn carried_elsewhere(
    endpoints: &[Endpoint],
    ipv4: bool,
    ifindex: u32,
    interface_of: impl Fn(IpAddr) -> Option<u32>,
) -> bool {
    endpoints
        .iter()
        .filter(|e| e.flags & FLAG_SUBFLOW != 0 && e.addr.is_ipv4() == ipv4)
        .filter_map(|e| interface_of(e.addr).map(|held| e.ifindex.unwrap_or(held)))
        .any(|i| i != ifindex)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MPTCP_PM_ADDR_FLAG_BACKUP`.
    const FLAG_BACKUP: u32 = 1 << 2;

    /// Replies to `MPTCP_PM_CMD_GET_ADDR` as kernel 6.18 sent them (captured with
    /// `os::mptcp`'s ignored `dump_mptcp_endpoints`) for `ip mptcp endpoint add
    /// 198.18.6.1 dev vx0 subflow` and `... fd6d:6966:6::1 dev vx0 signal backup`
    /// (ifindex 3), after the generic-netlink header: one nested MPTCP_PM_ATTR_ADDR with
    /// family, port 0, id, flags, ifindex, address.
    const CAPTURED_V4: &[u8] = &[
        0x34, 0x00, 0x01, 0x80, 0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0xc6, 0x12, 0x06, 0x01,
    ];
    const CAPTURED_V6: &[u8] = &[
        0x40, 0x00, 0x01, 0x80, 0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, 0x14, 0x00, 0x04, 0x00, 0xfd, 0x6d, 0x69, 0x66, 0x00, 0x06,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    #[test]
    fn captured_endpoints_parse() {
        let e = parse_endpoint(CAPTURED_V4).unwrap();
        assert_eq!(e, Endpoint { id: 1, addr: "198.18.6.1".parse().unwrap(), flags: FLAG_SUBFLOW, ifindex: Some(3) });
        let e = parse_endpoint(CAPTURED_V6).unwrap();
        let signal_backup = 1 | FLAG_BACKUP;
        assert_eq!(
            e,
            Endpoint { id: 2, addr: "fd6d:6966:6::1".parse().unwrap(), flags: signal_backup, ifindex: Some(3) }
        );
    }

    #[test]
    fn malformed_endpoints_are_refused_not_misread() {
        // Truncated anywhere: nothing, or an endpoint without what was cut.
        for cut in 0..CAPTURED_V4.len() {
            if let Some(e) = parse_endpoint(&CAPTURED_V4[..cut]) {
                assert_eq!(e.addr, "198.18.6.1".parse::<IpAddr>().unwrap());
            }
        }
        // An IPv4 address under the IPv6 family.
        let mut wrong = CAPTURED_V4.to_vec();
        wrong[8] = 10;
        assert_eq!(parse_endpoint(&wrong), None);
        // A length past the end.
        let mut long = CAPTURED_V4.to_vec();
        long[0] = 0xff;
        assert_eq!(parse_endpoint(&long), None);
        assert_eq!(parse_endpoint(&[]), None);
    }

    #[test]
    fn the_kernel_carries_a_connection_only_with_an_endpoint_elsewhere() {
        let on = |addr: &str, flags, ifindex| Endpoint { id: 1, addr: addr.parse().unwrap(), flags, ifindex };
        let interface_of = |ip: IpAddr| match ip.to_string().as_str() {
            "198.18.5.1" => Some(4),
            "198.18.6.1" => Some(5),
            _ => None,
        };
        // A subflow endpoint on the other network: carried.
        let local = true; // an IPv4 connection
        assert!(carried_elsewhere(&[on("198.18.6.1", FLAG_SUBFLOW, None)], local, 4, interface_of));
        // Only on the network that goes, a signal-only one, or one whose address is gone.
        assert!(!carried_elsewhere(&[on("198.18.5.1", FLAG_SUBFLOW, None)], local, 4, interface_of));
        assert!(!carried_elsewhere(&[on("198.18.6.1", 1, None)], local, 4, interface_of));
        assert!(!carried_elsewhere(&[on("198.18.9.9", FLAG_SUBFLOW, None)], local, 4, interface_of));
        assert!(!carried_elsewhere(&[], local, 4, interface_of));
        // An IPv6 connection cannot move onto an IPv4 endpoint.
        let local6 = false;
        assert!(!carried_elsewhere(&[on("198.18.6.1", FLAG_SUBFLOW, None)], local6, 4, interface_of));
    }
}
