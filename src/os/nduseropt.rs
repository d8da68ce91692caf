//! The netlink framing of RTM_NEWNDUSEROPT messages (rtnetlink group
//! RTNLGRP_ND_USEROPT), which hand Router Advertisement options to user space. The
//! option inside is decoded by `core::ndopt`.
//!
//! Layout of the payload after the 16-byte `nlmsghdr` (linux/neighbour.h,
//! net/ipv6/ndisc.c `ndisc_ra_useropt`), all integers in host byte order:
//!
//! ```text
//! struct nduseroptmsg {            // 16 bytes
//!     u8  nduseropt_family;        // AF_INET6
//!     u8  nduseropt_pad1;
//!     u16 nduseropt_opts_len;      // bytes of ND options that follow
//!     i32 nduseropt_ifindex;
//!     u8  nduseropt_icmp_type;     // 134 = Router Advertisement
//!     u8  nduseropt_icmp_code;
//!     u16 nduseropt_pad2;
//!     u32 nduseropt_pad3;
//! };
//! ND option bytes (opts_len of them; the kernel puts exactly one option in each message)
//! padding to 4 bytes (NLMSG_ALIGN)
//! rtattrs: NDUSEROPT_SRCADDR (1) = the router's IPv6 source address (16 bytes)
//! ```
//!
//! Everything is bounds-checked: no input makes this module panic.
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::Ipv6Addr;

use netlink_packet_core::{NetlinkBuffer, NlasIterator};

use crate::core::ndopt::parse_option;
pub use crate::core::ndopt::ICMPV6_ROUTER_ADVERTISEMENT;
pub use crate::core::ndopt::{assert_invariants, NdOptError, NdOption, NdUserOpt};

/// nlmsg_type of RTM_NEWNDUSEROPT.
pub const RTM_NEWNDUSEROPT: u16 = 68;
/// rtnetlink multicast group carrying RTM_NEWNDUSEROPT (enum rtnetlink_groups).
pub const RTNLGRP_ND_USEROPT: u32 = 20;
/// rtattr type of the router's source address (enum NDUSEROPT_SRCADDR in linux/neighbour.h).
pub const NDUSEROPT_SRCADDR: u16 = 1;

/// Size of `struct nduseroptmsg`.
const NDUSEROPTMSG_LEN: usize = 16;
/// Size of `struct nlmsghdr`.
const NLMSGHDR_LEN: usize = 16;
const AF_INET6: u8 = 10;

/// Parses one whole netlink message (header included) that should be RTM_NEWNDUSEROPT.
/// Bytes after `nlmsg_len` (a following message in the same datagram) are ignored.
pub fn parse_nlmsg(msg: &[u8]) -> Result<NdUserOpt, NdOptError> {
    let buf = NetlinkBuffer::new_checked(msg).map_err(|e| NdOptError::BadHeader { detail: e.to_string() })?;
    if buf.message_type() != RTM_NEWNDUSEROPT {
        return Err(NdOptError::NotNdUserOpt(buf.message_type()));
    }
    // new_checked guaranteed NLMSGHDR_LEN <= nlmsg_len <= msg.len(); use get() all the same.
    let end = usize::try_from(buf.length()).unwrap_or(usize::MAX);
    let payload = msg.get(NLMSGHDR_LEN..end).ok_or_else(|| NdOptError::BadHeader {
        detail: format!("nlmsg_len {end} outside a {}-byte buffer", msg.len()),
    })?;
    parse_nduseropt(payload)
}

/// Parses the payload of one RTM_NEWNDUSEROPT message (the bytes after the 16-byte netlink header).
pub fn parse_nduseropt(payload: &[u8]) -> Result<NdUserOpt, NdOptError> {
    let (hdr, rest) = payload.split_first_chunk::<NDUSEROPTMSG_LEN>().ok_or(NdOptError::Truncated {
        what: "struct nduseroptmsg",
        need: NDUSEROPTMSG_LEN,
        have: payload.len(),
    })?;
    let [family, _pad1, ol0, ol1, i0, i1, i2, i3, icmp_type, icmp_code, ..] = *hdr;
    if family != AF_INET6 {
        return Err(NdOptError::BadFamily(family));
    }
    let opts_len = usize::from(u16::from_ne_bytes([ol0, ol1]));
    let raw_ifindex = i32::from_ne_bytes([i0, i1, i2, i3]);
    let ifindex = u32::try_from(raw_ifindex).ok().filter(|&i| i > 0).ok_or(NdOptError::BadIfindex(raw_ifindex))?;

    let opts = rest.get(..opts_len).ok_or(NdOptError::Truncated {
        what: "ND option bytes (nduseropt_opts_len)",
        need: opts_len,
        have: rest.len(),
    })?;
    let option = parse_option(opts)?;

    // The rtattrs start at NLMSG_ALIGN(sizeof(nduseroptmsg) + opts_len); the header is
    // 16 bytes, so aligning opts_len is the same. A message ending before the aligned
    // offset simply has no attributes.
    let attrs_start = opts_len.checked_next_multiple_of(4).unwrap_or(usize::MAX);
    let attrs = rest.get(attrs_start..).unwrap_or(&[]);
    let router = parse_attrs(attrs)?;

    Ok(NdUserOpt { ifindex, icmp_type, icmp_code, router, option })
}

/// Finds NDUSEROPT_SRCADDR among the rtattrs; unknown attributes are skipped.
fn parse_attrs(attrs: &[u8]) -> Result<Option<Ipv6Addr>, NdOptError> {
    let mut router = None;
    for nla in NlasIterator::new(attrs) {
        let nla = nla.map_err(|e| NdOptError::BadAttribute { detail: e.to_string() })?;
        if nla.kind() != NDUSEROPT_SRCADDR {
            continue;
        }
        let octets: [u8; 16] = nla.value().try_into().map_err(|_| NdOptError::BadAttribute {
            detail: format!("NDUSEROPT_SRCADDR has {} bytes, not 16", nla.value().len()),
        })?;
        if router.is_some() {
            return Err(NdOptError::BadAttribute { detail: "NDUSEROPT_SRCADDR appears twice".into() });
        }
        router = Some(Ipv6Addr::from(octets));
    }
    Ok(router)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::core::ndopt::{
        NameError, LIFETIME_INFINITE, ND_OPT_CAPTIVE_PORTAL, ND_OPT_PREF64, ND_OPT_PREFIX_INFORMATION,
    };

    const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0xac4a, 0xafff, 0xfedf, 0x2f25);

    fn unhex(s: &str) -> Vec<u8> {
        assert!(s.len() % 2 == 0, "odd hex length");
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// The full captured netlink messages (header included), in file order: PIO, RDNSS, DNSSL.
    fn captured() -> Vec<Vec<u8>> {
        let text = include_str!("../../tests/data/nduseropt-radvd.txt");
        let msgs: Vec<Vec<u8>> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut f = l.split_whitespace();
                assert_eq!(f.next(), Some("68"));
                let bytes = unhex(f.next().unwrap());
                assert_eq!(f.next(), None);
                bytes
            })
            .collect();
        assert_eq!(msgs.len(), 3);
        msgs
    }

    /// Payloads (the 16-byte nlmsghdr stripped).
    fn payloads() -> Vec<Vec<u8>> {
        captured().into_iter().map(|m| m[NLMSGHDR_LEN..].to_vec()).collect()
    }

    fn pio() -> Vec<u8> {
        payloads().remove(0)
    }
    fn rdnss() -> Vec<u8> {
        payloads().remove(1)
    }
    fn dnssl() -> Vec<u8> {
        payloads().remove(2)
    }

    const ATTR_SRCADDR: [u8; 20] =
        [0x14, 0x00, 0x01, 0x00, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xac, 0x4a, 0xaf, 0xff, 0xfe, 0xdf, 0x2f, 0x25];

    /// Builds a payload around one option (given whole, as on the wire) with `attrs` after it.
    fn build(option: &[u8], attrs: &[u8]) -> Vec<u8> {
        let mut p = vec![AF_INET6, 0];
        p.extend_from_slice(&(option.len() as u16).to_ne_bytes());
        p.extend_from_slice(&2i32.to_ne_bytes());
        p.extend_from_slice(&[134, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(option);
        while p.len() % 4 != 0 {
            p.push(0);
        }
        p.extend_from_slice(attrs);
        p
    }

    /// A DNSSL option (type 31, lifetime 30) around raw name bytes, zero-padded to 8.
    fn dnssl_opt(names: &[u8]) -> Vec<u8> {
        let mut o = vec![31, 0, 0, 0, 0, 0, 0, 30];
        o.extend_from_slice(names);
        while o.len() % 8 != 0 {
            o.push(0);
        }
        o[1] = (o.len() / 8) as u8;
        o
    }

    fn name_err(names: &[u8]) -> NameError {
        match parse_nduseropt(&build(&dnssl_opt(names), &ATTR_SRCADDR)) {
            Err(NdOptError::BadDomainName { offset, reason }) => {
                assert!(offset >= 8);
                reason
            }
            other => panic!("expected BadDomainName, got {other:?}"),
        }
    }

    /// Wire form of a name made of `labels`.
    fn wire(labels: &[&[u8]]) -> Vec<u8> {
        let mut w = Vec::new();
        for l in labels {
            w.push(l.len() as u8);
            w.extend_from_slice(l);
        }
        w.push(0);
        w
    }

    #[test]
    fn captured_pio() {
        let m = parse_nduseropt(&pio()).unwrap();
        assert_eq!(m.ifindex, 2);
        assert_eq!(m.icmp_type, 134);
        assert_eq!(m.icmp_code, 0);
        assert_eq!(m.router, Some(ROUTER));
        let mut expected = vec![3u8, 4, 64, 0xc0];
        expected.extend_from_slice(&600u32.to_be_bytes()); // valid lifetime
        expected.extend_from_slice(&300u32.to_be_bytes()); // preferred lifetime
        expected.extend_from_slice(&[0; 4]); // reserved2
        expected.extend_from_slice(&"fd6d:6966:a::".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(m.option, NdOption::Other { kind: ND_OPT_PREFIX_INFORMATION, data: expected });
    }

    #[test]
    fn captured_rdnss() {
        let m = parse_nduseropt(&rdnss()).unwrap();
        assert_eq!(
            m,
            NdUserOpt {
                ifindex: 2,
                icmp_type: 134,
                icmp_code: 0,
                router: Some(ROUTER),
                option: NdOption::Rdnss {
                    lifetime: 30,
                    servers: vec!["fd6d:6966:a::1".parse().unwrap(), "fd6d:6966:a::53".parse().unwrap()],
                },
            }
        );
    }

    #[test]
    fn captured_dnssl() {
        let m = parse_nduseropt(&dnssl()).unwrap();
        assert_eq!(
            m,
            NdUserOpt {
                ifindex: 2,
                icmp_type: 134,
                icmp_code: 0,
                router: Some(ROUTER),
                option: NdOption::Dnssl { lifetime: 30, domains: vec!["a.example".into(), "b.example".into()] },
            }
        );
    }

    #[test]
    fn whole_messages_via_parse_nlmsg() {
        let msgs = captured();
        for (m, p) in msgs.iter().zip(payloads()) {
            assert_eq!(parse_nlmsg(m).unwrap(), parse_nduseropt(&p).unwrap());
        }
        // Trailing bytes after nlmsg_len (a next message) are not ours.
        let mut two = msgs[1].clone();
        two.extend_from_slice(&msgs[2]);
        assert_eq!(parse_nlmsg(&two).unwrap(), parse_nlmsg(&msgs[1]).unwrap());
        // Another message type.
        let mut other = msgs[1].clone();
        other[4] = 20; // RTM_NEWADDR
        assert_eq!(parse_nlmsg(&other), Err(NdOptError::NotNdUserOpt(20)));
        // nlmsg_len beyond the buffer.
        let mut long = msgs[1].clone();
        long[0] = long[0].wrapping_add(4);
        assert!(matches!(parse_nlmsg(&long), Err(NdOptError::BadHeader { .. })));
        assert!(matches!(parse_nlmsg(&msgs[1][..10]), Err(NdOptError::BadHeader { .. })));
    }

    #[test]
    fn withdrawal_lifetime_zero() {
        // Derived from the captured RDNSS datagram by zeroing its lifetime (option bytes 4..8).
        let mut p = rdnss();
        p[16 + 4..16 + 8].copy_from_slice(&[0; 4]);
        match parse_nduseropt(&p).unwrap().option {
            NdOption::Rdnss { lifetime, servers } => {
                assert_eq!(lifetime, 0);
                assert_eq!(servers.len(), 2);
            }
            o => panic!("{o:?}"),
        }
        // Same for the captured DNSSL.
        let mut p = dnssl();
        p[16 + 4..16 + 8].copy_from_slice(&[0; 4]);
        assert!(matches!(parse_nduseropt(&p).unwrap().option, NdOption::Dnssl { lifetime: 0, .. }));
    }

    #[test]
    fn infinite_lifetime() {
        // Derived from the captured RDNSS / DNSSL datagrams by setting the lifetime to 0xffffffff.
        let mut p = rdnss();
        p[16 + 4..16 + 8].copy_from_slice(&[0xff; 4]);
        assert!(matches!(parse_nduseropt(&p).unwrap().option, NdOption::Rdnss { lifetime: LIFETIME_INFINITE, .. }));
        let mut p = dnssl();
        p[16 + 4..16 + 8].copy_from_slice(&[0xff; 4]);
        assert!(matches!(parse_nduseropt(&p).unwrap().option, NdOption::Dnssl { lifetime: LIFETIME_INFINITE, .. }));
    }

    #[test]
    fn every_truncation_is_err_or_sane() {
        for (full_msg, full) in captured().iter().zip(payloads()) {
            let good = parse_nduseropt(&full).unwrap();
            let opts_end = 16 + usize::from(u16::from_ne_bytes([full[2], full[3]]));
            for cut in 0..full.len() {
                let r = parse_nduseropt(&full[..cut]);
                if cut < opts_end {
                    assert!(matches!(r, Err(NdOptError::Truncated { .. })), "cut {cut}: {r:?}");
                } else {
                    // Only the attributes were cut: either the option without a router, or
                    // an attribute error. Never a different option.
                    match r {
                        Ok(m) => {
                            assert_eq!(m.option, good.option, "cut {cut}");
                            assert_eq!(m.router, None, "cut {cut}");
                        }
                        Err(e) => assert!(matches!(e, NdOptError::BadAttribute { .. }), "cut {cut}: {e:?}"),
                    }
                }
                // Truncations of the whole message, too.
                let _ = parse_nlmsg(&full_msg[..cut]);
            }
            // And every single-byte corruption of each message.
            for i in 0..full.len() {
                for v in [0x00u8, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff] {
                    let mut p = full.clone();
                    p[i] = v;
                    if let Ok(m) = parse_nduseropt(&p) {
                        assert_invariants(&m);
                    }
                }
            }
        }
    }

    #[test]
    fn rdnss_even_length() {
        // Captured RDNSS (length 5) relabelled length 4 with opts_len 32: the even length is refused.
        let p = rdnss();
        let opt = &p[16..16 + 32];
        let mut opt = opt.to_vec();
        opt[1] = 4;
        let r = parse_nduseropt(&build(&opt, &ATTR_SRCADDR));
        assert!(matches!(r, Err(NdOptError::BadOption { kind: 25, .. })), "{r:?}");
        // Length 1 (no address) is refused too.
        let r = parse_nduseropt(&build(&[25, 1, 0, 0, 0, 0, 0, 30], &ATTR_SRCADDR));
        assert!(matches!(r, Err(NdOptError::BadOption { kind: 25, .. })), "{r:?}");
        // Length 3, one server, is fine.
        let mut one = vec![25, 3, 0, 0, 0, 0, 0, 30];
        one.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        assert_eq!(
            parse_nduseropt(&build(&one, &ATTR_SRCADDR)).unwrap().option,
            NdOption::Rdnss { lifetime: 30, servers: vec![Ipv6Addr::LOCALHOST] }
        );
    }

    #[test]
    fn option_length_zero() {
        let mut p = rdnss();
        p[16 + 1] = 0;
        let r = parse_nduseropt(&p);
        assert!(matches!(r, Err(NdOptError::BadLength { len: 0, .. })), "{r:?}");
    }

    #[test]
    fn option_length_beyond_opts_len() {
        let mut p = rdnss();
        p[16 + 1] = 7; // 56 bytes, opts_len says 40
        let r = parse_nduseropt(&p);
        assert!(matches!(r, Err(NdOptError::BadLength { len: 56, .. })), "{r:?}");
        // Shorter than opts_len (a second option or junk behind it) is refused as well.
        let mut p = rdnss();
        p[16 + 1] = 3;
        let r = parse_nduseropt(&p);
        assert!(matches!(r, Err(NdOptError::BadLength { len: 24, .. })), "{r:?}");
    }

    #[test]
    fn opts_len_beyond_payload() {
        let mut p = rdnss();
        let len = p.len() as u16 - 16 + 8;
        p[2..4].copy_from_slice(&len.to_ne_bytes());
        let r = parse_nduseropt(&p);
        assert!(matches!(r, Err(NdOptError::Truncated { .. })), "{r:?}");
        p[2..4].copy_from_slice(&u16::MAX.to_ne_bytes());
        assert!(matches!(parse_nduseropt(&p), Err(NdOptError::Truncated { .. })));
        // opts_len 0: no option header.
        p[2..4].copy_from_slice(&0u16.to_ne_bytes());
        assert!(matches!(parse_nduseropt(&p), Err(NdOptError::Truncated { what: "ND option header", .. })));
    }

    #[test]
    fn bad_family_and_ifindex() {
        let mut p = rdnss();
        p[0] = 2; // AF_INET
        assert_eq!(parse_nduseropt(&p), Err(NdOptError::BadFamily(2)));
        let mut p = rdnss();
        p[4..8].copy_from_slice(&0i32.to_ne_bytes());
        assert_eq!(parse_nduseropt(&p), Err(NdOptError::BadIfindex(0)));
        p[4..8].copy_from_slice(&(-3i32).to_ne_bytes());
        assert_eq!(parse_nduseropt(&p), Err(NdOptError::BadIfindex(-3)));
    }

    #[test]
    fn other_icmp_type_is_reported() {
        let mut p = rdnss();
        p[8] = 137; // Redirect
        p[9] = 1;
        let m = parse_nduseropt(&p).unwrap();
        assert_eq!((m.icmp_type, m.icmp_code), (137, 1));
        assert!(matches!(m.option, NdOption::Rdnss { .. }));
    }

    #[test]
    fn dnssl_compression_pointer() {
        // "a.example" then "b" + pointer to offset 2 of the option area (to "example").
        let mut names = wire(&[b"a", b"example"]);
        names.extend_from_slice(&[1, b'b', 0xc0, 0x02]);
        assert_eq!(name_err(&names), NameError::CompressionPointer);
        // A name that is only a pointer.
        assert_eq!(name_err(&[0xc0, 0x00]), NameError::CompressionPointer);
        // A pointer cut by the end of the option (last byte of the option is 0xc0).
        let o = [31, 2, 0, 0, 0, 0, 0, 30, 4, b'a', b'b', b'c', b'd', 1, b'z', 0xc0];
        let r = parse_nduseropt(&build(&o, &ATTR_SRCADDR));
        assert!(matches!(r, Err(NdOptError::BadDomainName { reason: NameError::CompressionPointer, .. })), "{r:?}");
    }

    #[test]
    fn dnssl_label_64() {
        let label = [b'x'; 64];
        assert_eq!(name_err(&wire(&[&label, b"example"])), NameError::LabelTooLong(64));
        // 63 is fine.
        let label = [b'x'; 63];
        let m = parse_nduseropt(&build(&dnssl_opt(&wire(&[&label, b"example"])), &[])).unwrap();
        assert!(matches!(m.option, NdOption::Dnssl { ref domains, .. } if domains[0].len() == 63 + 8));
        // Other reserved label types (10xxxxxx).
        assert!(matches!(name_err(&[0x80, 0]), NameError::LabelTooLong(128)));
    }

    #[test]
    fn dnssl_name_over_255() {
        // 63+63+63+62 = 251 label octets + 4 length bytes + root = 256 octets: too long.
        let l63 = [b'a'; 63];
        let l62 = [b'b'; 62];
        let too_long = wire(&[&l63, &l63, &l63, &l62]);
        assert_eq!(too_long.len(), 256);
        assert!(matches!(name_err(&too_long), NameError::NameTooLong(_)));
        // 255 octets exactly is the maximum and accepted.
        let l61 = [b'b'; 61];
        let max = wire(&[&l63, &l63, &l63, &l61]);
        assert_eq!(max.len(), 255);
        let m = parse_nduseropt(&build(&dnssl_opt(&max), &ATTR_SRCADDR)).unwrap();
        match m.option {
            NdOption::Dnssl { domains, .. } => {
                let a = "a".repeat(63);
                assert_eq!(domains, vec![format!("{a}.{a}.{a}.{}", "b".repeat(61))]);
                assert_eq!(domains[0].len(), 253);
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn dnssl_padding_and_case() {
        // Upper case is lowered; padding zeros are ignored; the length covers 3 units.
        let names = wire(&[b"Corp", b"EXAMPLE"]);
        let mut o = dnssl_opt(&names);
        o.extend_from_slice(&[0; 8]);
        o[1] += 1;
        let m = parse_nduseropt(&build(&o, &ATTR_SRCADDR)).unwrap();
        assert_eq!(m.option, NdOption::Dnssl { lifetime: 30, domains: vec!["corp.example".into()] });
        // Non-zero garbage in the padding is an error.
        let last = o.len() - 1;
        o[last] = 7;
        let r = parse_nduseropt(&build(&o, &ATTR_SRCADDR));
        assert!(matches!(r, Err(NdOptError::BadOption { kind: 31, .. })), "{r:?}");
        // Only padding: no domain at all.
        let r = parse_nduseropt(&build(&[31, 2, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0], &[]));
        assert!(matches!(r, Err(NdOptError::BadOption { kind: 31, .. })), "{r:?}");
        // Length 1 (no room for a name) is below the RFC minimum.
        let r = parse_nduseropt(&build(&[31, 1, 0, 0, 0, 0, 0, 30], &[]));
        assert!(matches!(r, Err(NdOptError::BadOption { kind: 31, .. })), "{r:?}");
        // A name running into the end of the option.
        let mut o = dnssl_opt(&[5, b'a', b'b', b'c', b'd', b'e', 5, b'x']);
        *o.last_mut().unwrap() = b'y';
        assert_eq!(name_err_opt(&o), NameError::Unterminated);
        // Bytes that would need escaping are refused.
        assert_eq!(name_err(&wire(&[b"a b", b"example"])), NameError::BadCharacter(b' '));
        assert_eq!(name_err(&wire(&[b"a.b", b"example"])), NameError::BadCharacter(b'.'));
        assert_eq!(name_err(&wire(&[&[0xc3, 0xa9], b"example"])), NameError::BadCharacter(0xc3));
        // Found by the fuzzer: a leading '-' would be presented escaped ("\\-x"); refused.
        assert_eq!(name_err(&wire(&[b"a", b"-xample"])), NameError::BadCharacter(b'-'));
        // Inner and trailing '-' and '_' anywhere are fine.
        let m = parse_nduseropt(&build(&dnssl_opt(&wire(&[b"_a-", b"x-y"])), &[])).unwrap();
        assert_eq!(m.option, NdOption::Dnssl { lifetime: 30, domains: vec!["_a-.x-y".into()] });
    }

    fn name_err_opt(o: &[u8]) -> NameError {
        match parse_nduseropt(&build(o, &ATTR_SRCADDR)) {
            Err(NdOptError::BadDomainName { reason, .. }) => reason,
            other => panic!("expected BadDomainName, got {other:?}"),
        }
    }

    #[test]
    fn missing_srcaddr() {
        let p = rdnss();
        let m = parse_nduseropt(&p[..16 + 40]).unwrap();
        assert_eq!(m.router, None);
        assert!(matches!(m.option, NdOption::Rdnss { .. }));
    }

    #[test]
    fn unknown_rtattr_before_srcaddr() {
        let p = rdnss();
        let mut attrs = vec![0x07, 0x00, 0x09, 0x00, 0xaa, 0xbb, 0xcc, 0x00]; // type 9, 3 bytes + pad
        attrs.extend_from_slice(&[0x08, 0x00, 0x02, 0x00, 1, 2, 3, 4]); // type 2, 4 bytes
        attrs.extend_from_slice(&ATTR_SRCADDR);
        attrs.extend_from_slice(&[0x04, 0x00, 0x05, 0x00]); // empty type 5 after it
        let opt = &p[16..16 + 40];
        let m = parse_nduseropt(&build(opt, &attrs)).unwrap();
        assert_eq!(m.router, Some(ROUTER));
        assert_eq!(m, parse_nduseropt(&p).unwrap());
    }

    #[test]
    fn bad_srcaddr_attributes() {
        let opt = &rdnss()[16..16 + 40];
        // Wrong size.
        let r = parse_nduseropt(&build(opt, &[0x08, 0x00, 0x01, 0x00, 1, 2, 3, 4]));
        assert!(matches!(r, Err(NdOptError::BadAttribute { .. })), "{r:?}");
        // Twice.
        let mut twice = ATTR_SRCADDR.to_vec();
        twice.extend_from_slice(&ATTR_SRCADDR);
        assert!(matches!(parse_nduseropt(&build(opt, &twice)), Err(NdOptError::BadAttribute { .. })));
        // rta_len below the header size, or beyond the buffer.
        assert!(matches!(parse_nduseropt(&build(opt, &[2, 0, 1, 0])), Err(NdOptError::BadAttribute { .. })));
        assert!(matches!(parse_nduseropt(&build(opt, &[0x40, 0, 1, 0])), Err(NdOptError::BadAttribute { .. })));
    }

    #[test]
    fn unknown_option_is_other() {
        // Captive portal (RFC 8910): type 37, length 3, URI "https://cp.example/" NUL-padded.
        let mut cp = vec![37u8, 3];
        cp.extend_from_slice(b"https://cp.example/");
        cp.resize(24, 0);
        let m = parse_nduseropt(&build(&cp, &ATTR_SRCADDR)).unwrap();
        assert_eq!(m.router, Some(ROUTER));
        assert_eq!(m.option, NdOption::Other { kind: ND_OPT_CAPTIVE_PORTAL, data: cp });
        // PREF64 (RFC 8781): type 38, length 2.
        let pref64 = [38u8, 2, 0x07, 0x08, 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_nduseropt(&build(&pref64, &[])).unwrap().option,
            NdOption::Other { kind: ND_OPT_PREF64, data: pref64.to_vec() }
        );
    }

    #[test]
    fn errors_display() {
        let cases = [
            NdOptError::Truncated { what: "x", need: 2, have: 1 },
            NdOptError::BadFamily(2),
            NdOptError::BadLength { what: "ND option length", len: 0, detail: "d".into() },
            NdOptError::BadDomainName { offset: 8, reason: NameError::CompressionPointer },
        ];
        for e in cases {
            assert!(!e.to_string().is_empty());
        }
    }
}
