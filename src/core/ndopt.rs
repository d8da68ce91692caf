//! Defensive parser for the IPv6 Neighbor Discovery options the kernel forwards from
//! Router Advertisements (RFC 4861 section 4.6): type, length in units of 8 octets,
//! body, in network byte order. RDNSS and DNSSL (RFC 8106) are decoded; every other
//! option (PIO, captive portal, PREF64, ...) is handed back raw. The netlink framing
//! around an option (RTM_NEWNDUSEROPT) is read in `os::nduseropt`.
//!
//! Everything is bounds-checked: no input makes this module panic. The clippy lints
//! below keep it that way (no indexing, no unchecked arithmetic, no unwrap).
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::fmt;
use std::net::Ipv6Addr;

use hickory_proto::rr::Name;
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, DecodeError as DnsDecodeError};

/// ICMPv6 type of a Router Advertisement.
pub const ICMPV6_ROUTER_ADVERTISEMENT: u8 = 134;
// Option types and the infinite lifetime are named here, with the wire format, even
// where only the tests use them yet.
/// ND option type: Prefix Information (RFC 4861).
#[cfg_attr(not(test), allow(dead_code))]
pub const ND_OPT_PREFIX_INFORMATION: u8 = 3;
/// ND option type: Recursive DNS Server (RFC 8106).
pub const ND_OPT_RDNSS: u8 = 25;
/// ND option type: DNS Search List (RFC 8106).
pub const ND_OPT_DNSSL: u8 = 31;
/// ND option type: Captive Portal (RFC 8910).
pub const ND_OPT_CAPTIVE_PORTAL: u8 = 37;
/// ND option type: PREF64 (RFC 8781).
pub const ND_OPT_PREF64: u8 = 38;
/// Option lifetime meaning "forever" (RFC 8106).
#[cfg_attr(not(test), allow(dead_code))]
pub const LIFETIME_INFINITE: u32 = u32::MAX;

/// Size of the fixed part of an RDNSS or DNSSL option: type, length, reserved (2), lifetime (4).
const DNS_OPT_FIXED_LEN: usize = 8;

/// One RTM_NEWNDUSEROPT message: one ND option from one Router Advertisement (or
/// another ICMPv6 message: `icmp_type` is reported as received, the caller decides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdUserOpt {
    /// Interface the message arrived on (always > 0).
    pub ifindex: u32,
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// The router's source address (NDUSEROPT_SRCADDR), normally link-local; `None` if
    /// the attribute is absent.
    pub router: Option<Ipv6Addr>,
    pub option: NdOption,
}

/// The ND option carried by the message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NdOption {
    /// RFC 8106 Recursive DNS Server option. `lifetime` in seconds,
    /// [`LIFETIME_INFINITE`] = forever, 0 = withdraw these servers. At least one server.
    Rdnss { lifetime: u32, servers: Vec<Ipv6Addr> },
    /// RFC 8106 DNS Search List option. `lifetime` as for RDNSS. Domains in lowercase
    /// ASCII presentation form without the trailing dot, e.g. "a.example"; at least one.
    /// Labels are restricted to letters, digits, '-' and '_', and do not start with '-'
    /// (so no escaping is ever needed); anything else makes the option an error.
    Dnssl { lifetime: u32, domains: Vec<String> },
    /// Any other option (PIO, captive portal, PREF64, ...): the complete option as on
    /// the wire, type and length bytes included (`data[0] == kind`).
    Other { kind: u8, data: Vec<u8> },
}

/// Why a domain name in a DNSSL option was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// A compression pointer (RFC 1035 4.1.4); RFC 8106 forbids compression.
    CompressionPointer,
    /// A label length above 63 (length bytes 64..=191 included: their top bits are the
    /// reserved 01/10 label types).
    LabelTooLong(usize),
    /// The name is longer than 255 octets in wire format (the value is hickory's count).
    NameTooLong(usize),
    /// The name runs past the end of the option without its terminating zero octet.
    Unterminated,
    /// A label byte other than a letter, digit, '-' or '_', or a label starting with '-'.
    BadCharacter(u8),
    /// Any other decoding failure reported by hickory-proto.
    Other(String),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::CompressionPointer => f.write_str("compression pointer (not allowed in ND options)"),
            NameError::LabelTooLong(n) => write!(f, "label length {n} exceeds 63"),
            NameError::NameTooLong(n) => write!(f, "name length {n} exceeds 255 octets"),
            NameError::Unterminated => f.write_str("name runs past the end of the option"),
            NameError::BadCharacter(b) => write!(f, "label byte {b:#04x} is not a letter, digit, '-' or '_'"),
            NameError::Other(s) => f.write_str(s),
        }
    }
}

/// Why an RTM_NEWNDUSEROPT message was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NdOptError {
    /// Fewer bytes than the structure needs.
    Truncated { what: &'static str, need: usize, have: usize },
    /// nduseropt_family is not AF_INET6.
    BadFamily(u8),
    /// nduseropt_ifindex is not a valid interface index (> 0).
    BadIfindex(i32),
    /// A length field is inconsistent (`what` names it, `len` is its value in bytes).
    BadLength { what: &'static str, len: usize, detail: String },
    /// The option's content breaks its RFC (e.g. an even RDNSS length).
    BadOption { kind: u8, detail: String },
    /// A DNSSL domain name is malformed; `offset` is where it starts within the option.
    BadDomainName { offset: usize, reason: NameError },
    /// The rtattrs after the option are malformed (or NDUSEROPT_SRCADDR is).
    BadAttribute { detail: String },
    /// `os::nduseropt::parse_nlmsg` only: the netlink header is malformed.
    BadHeader { detail: String },
    /// `os::nduseropt::parse_nlmsg` only: the message is not RTM_NEWNDUSEROPT.
    NotNdUserOpt(u16),
    /// `ra_options` only: the ICMPv6 message is not a Router Advertisement (type 134,
    /// code 0).
    NotRouterAdvertisement { icmp_type: u8, icmp_code: u8 },
}

impl fmt::Display for NdOptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NdOptError::Truncated { what, need, have } => {
                write!(f, "RTM_NEWNDUSEROPT truncated: {what} needs {need} bytes, {have} present")
            }
            NdOptError::BadFamily(fam) => write!(f, "RTM_NEWNDUSEROPT family {fam} is not AF_INET6"),
            NdOptError::BadIfindex(i) => write!(f, "RTM_NEWNDUSEROPT ifindex {i} is invalid"),
            NdOptError::BadLength { what, len, detail } => {
                write!(f, "RTM_NEWNDUSEROPT bad {what} {len}: {detail}")
            }
            NdOptError::BadOption { kind, detail } => write!(f, "ND option type {kind}: {detail}"),
            NdOptError::BadDomainName { offset, reason } => {
                write!(f, "DNSSL option: bad domain name at option offset {offset}: {reason}")
            }
            NdOptError::BadAttribute { detail } => write!(f, "RTM_NEWNDUSEROPT attributes: {detail}"),
            NdOptError::BadHeader { detail } => write!(f, "bad netlink header: {detail}"),
            NdOptError::NotNdUserOpt(t) => write!(f, "netlink message type {t} is not RTM_NEWNDUSEROPT"),
            NdOptError::NotRouterAdvertisement { icmp_type, icmp_code } => {
                write!(f, "ICMPv6 type {icmp_type} code {icmp_code} is not a Router Advertisement")
            }
        }
    }
}

impl std::error::Error for NdOptError {}

/// Size of a Router Advertisement before its options (RFC 4861 section 4.2): type,
/// code, checksum, hop limit, flags, router lifetime, reachable time, retrans timer.
const RA_FIXED_LEN: usize = 16;

/// The options of a whole Router Advertisement as a raw ICMPv6 socket hands it (the
/// ICMPv6 header first; the library's own listener, for links whose RAs the kernel
/// does not forward): each option's bytes, type and length included, for
/// `parse_option`. As RFC 4861 section 6.1.2 says, an RA with a code other than 0,
/// shorter than its fixed part, or with an option of length 0 or running past the end
/// is discarded whole (the error names why).
pub fn ra_options(ra: &[u8]) -> Result<Vec<&[u8]>, NdOptError> {
    let (&[icmp_type, icmp_code], _) =
        ra.split_first_chunk::<2>().ok_or(NdOptError::Truncated { what: "ICMPv6 header", need: 2, have: ra.len() })?;
    if icmp_type != ICMPV6_ROUTER_ADVERTISEMENT || icmp_code != 0 {
        return Err(NdOptError::NotRouterAdvertisement { icmp_type, icmp_code });
    }
    let mut rest = ra.get(RA_FIXED_LEN..).ok_or(NdOptError::Truncated {
        what: "Router Advertisement",
        need: RA_FIXED_LEN,
        have: ra.len(),
    })?;
    let mut options = Vec::new();
    while let Some(&[kind, len8]) = rest.first_chunk::<2>() {
        let opt_len = usize::from(len8).saturating_mul(8);
        if opt_len == 0 {
            return Err(NdOptError::BadLength {
                what: "ND option length",
                len: 0,
                detail: format!("option type {kind} has length 0 (RFC 4861 requires >= 1)"),
            });
        }
        let (option, after) = rest.split_at_checked(opt_len).ok_or_else(|| NdOptError::BadLength {
            what: "ND option length",
            len: opt_len,
            detail: format!("option type {kind} runs past the end of the RA ({} bytes left)", rest.len()),
        })?;
        options.push(option);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(NdOptError::Truncated { what: "ND option header", need: 2, have: rest.len() });
    }
    Ok(options)
}

/// Parses the ND option area: exactly one option filling `opts` (which is what the
/// kernel sends: opts_len = the option's length * 8).
pub fn parse_option(opts: &[u8]) -> Result<NdOption, NdOptError> {
    let (&[kind, len8], _) = opts.split_first_chunk::<2>().ok_or(NdOptError::Truncated {
        what: "ND option header",
        need: 2,
        have: opts.len(),
    })?;
    if len8 == 0 {
        return Err(NdOptError::BadLength {
            what: "ND option length",
            len: 0,
            detail: format!("option type {kind} has length 0 (RFC 4861 requires >= 1)"),
        });
    }
    // At most 255 * 8 = 2040: no overflow.
    let opt_len = usize::from(len8).saturating_mul(8);
    if opt_len != opts.len() {
        return Err(NdOptError::BadLength {
            what: "ND option length",
            len: opt_len,
            detail: if opt_len > opts.len() {
                format!("option type {kind} exceeds nduseropt_opts_len {}", opts.len())
            } else {
                format!(
                    "option type {kind} leaves {} of nduseropt_opts_len {} unused (the kernel sends one option per message)",
                    opts.len().saturating_sub(opt_len),
                    opts.len()
                )
            },
        });
    }
    match kind {
        ND_OPT_RDNSS => parse_rdnss(opts, len8),
        ND_OPT_DNSSL => parse_dnssl(opts, len8),
        _ => Ok(NdOption::Other { kind, data: opts.to_vec() }),
    }
}

/// Lifetime of an RDNSS/DNSSL option (bytes 4..8) and the bytes after the fixed part.
fn dns_opt_fixed(opt: &[u8]) -> Option<(u32, &[u8])> {
    let (fixed, body) = opt.split_first_chunk::<DNS_OPT_FIXED_LEN>()?;
    let [_, _, _, _, l0, l1, l2, l3] = *fixed;
    Some((u32::from_be_bytes([l0, l1, l2, l3]), body))
}

fn parse_rdnss(opt: &[u8], len8: u8) -> Result<NdOption, NdOptError> {
    // RFC 8106 5.1 / 5.3.1: Length = 1 + 2 * (number of addresses), at least 3.
    if len8 < 3 || len8 % 2 == 0 {
        return Err(NdOptError::BadOption {
            kind: ND_OPT_RDNSS,
            detail: format!("length {len8} is not odd and >= 3 (RFC 8106)"),
        });
    }
    let (lifetime, body) = dns_opt_fixed(opt).ok_or(NdOptError::Truncated {
        what: "RDNSS option",
        need: DNS_OPT_FIXED_LEN,
        have: opt.len(),
    })?;
    let mut chunks = body.chunks_exact(16);
    let mut servers = Vec::new();
    for chunk in &mut chunks {
        if let Ok(octets) = <[u8; 16]>::try_from(chunk) {
            servers.push(Ipv6Addr::from(octets));
        }
    }
    if !chunks.remainder().is_empty() || servers.is_empty() {
        // Cannot happen with an odd length >= 3 filling the option; kept for robustness.
        return Err(NdOptError::BadOption {
            kind: ND_OPT_RDNSS,
            detail: format!("{} bytes do not hold a whole number of addresses", body.len()),
        });
    }
    Ok(NdOption::Rdnss { lifetime, servers })
}

fn parse_dnssl(opt: &[u8], len8: u8) -> Result<NdOption, NdOptError> {
    // RFC 8106 5.3.1: the DNSSL Length must be at least 2.
    if len8 < 2 {
        return Err(NdOptError::BadOption {
            kind: ND_OPT_DNSSL,
            detail: format!("length {len8} is below 2 (RFC 8106)"),
        });
    }
    let (lifetime, body) = dns_opt_fixed(opt).ok_or(NdOptError::Truncated {
        what: "DNSSL option",
        need: DNS_OPT_FIXED_LEN,
        have: opt.len(),
    })?;
    let mut domains = Vec::new();
    let mut rest = body;
    let mut offset = DNS_OPT_FIXED_LEN;
    loop {
        match rest.first() {
            None => break,
            Some(0) => {
                // A zero octet where a name would start: padding up to the end of the
                // option (RFC 8106 5.2). It must be all zeros.
                if let Some(pos) = rest.iter().position(|&b| b != 0) {
                    return Err(NdOptError::BadOption {
                        kind: ND_OPT_DNSSL,
                        detail: format!("non-zero byte in padding at option offset {}", offset.saturating_add(pos)),
                    });
                }
                break;
            }
            Some(_) => {
                let (domain, used) = read_name(rest).map_err(|reason| NdOptError::BadDomainName { offset, reason })?;
                domains.push(domain);
                // used >= 1 (at least the terminating zero) and <= rest.len().
                rest = rest.get(used..).unwrap_or(&[]);
                offset = offset.saturating_add(used);
            }
        }
    }
    if domains.is_empty() {
        return Err(NdOptError::BadOption {
            kind: ND_OPT_DNSSL,
            detail: "no domain name (RFC 8106 requires one or more)".into(),
        });
    }
    Ok(NdOption::Dnssl { lifetime, domains })
}

/// Decodes one uncompressed wire-format name at the start of `buf` with hickory-proto.
/// Returns the presentation form (lowercase, no trailing dot) and the bytes consumed.
///
/// The decoder is created fresh on `buf`, so the name starts at decoder index 0 and
/// hickory's rule "a pointer must point before the name" rejects every pointer: no
/// pointer is ever followed.
fn read_name(buf: &[u8]) -> Result<(String, usize), NameError> {
    let mut decoder = BinDecoder::new(buf);
    let name = Name::read(&mut decoder).map_err(|e| match e {
        DnsDecodeError::PointerNotPriorToLabel { .. } => NameError::CompressionPointer,
        DnsDecodeError::UnrecognizedLabelCode(b) => NameError::LabelTooLong(usize::from(b)),
        DnsDecodeError::LabelBytesTooLong(n) => NameError::LabelTooLong(n),
        DnsDecodeError::DomainNameTooLong(n) => NameError::NameTooLong(n),
        DnsDecodeError::InsufficientBytes => {
            // A pointer cut short by the end of the option also lands here; report it as a pointer.
            if ends_in_pointer(buf) {
                NameError::CompressionPointer
            } else {
                NameError::Unterminated
            }
        }
        other => NameError::Other(other.to_string()),
    })?;
    let used = decoder.index();
    // Letters, digits, '-' and '_', no leading '-': exactly the labels hickory presents
    // without escapes (and nothing a resolv.conf line or an argv could misread).
    for label in name.iter() {
        if label.first() == Some(&b'-') {
            return Err(NameError::BadCharacter(b'-'));
        }
        if let Some(&b) = label.iter().find(|&&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_')) {
            return Err(NameError::BadCharacter(b));
        }
    }
    let mut text = name.to_lowercase().to_ascii();
    if text.ends_with('.') {
        text.pop();
    }
    Ok((text, used))
}

/// Walks the label lengths of `buf` (already known to be malformed) to tell whether the
/// name ran out while a compression pointer (top bits 11) was being read.
fn ends_in_pointer(buf: &[u8]) -> bool {
    let mut i = 0usize;
    while let Some(&b) = buf.get(i) {
        if b & 0xc0 == 0xc0 {
            return true;
        }
        if b == 0 || b & 0xc0 != 0 {
            return false;
        }
        i = i.saturating_add(usize::from(b)).saturating_add(1);
    }
    false
}

/// The URI of an RFC 8910 Captive Portal option (the whole option, type and length
/// included, as `NdOption::Other` holds it): NUL padding removed; `None` when empty,
/// longer than the option, not UTF-8, or holding control characters or spaces.
pub fn captive_portal_uri(option: &[u8]) -> Option<String> {
    if option.first() != Some(&ND_OPT_CAPTIVE_PORTAL) {
        return None;
    }
    let body = option.get(2..)?;
    let end = body.iter().rposition(|&b| b != 0).map_or(0, |i| i.saturating_add(1));
    let uri = std::str::from_utf8(body.get(..end)?).ok()?;
    if uri.is_empty() || uri.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    Some(uri.to_string())
}

/// The prefix, its length and the lifetime in seconds of an RFC 8781 PREF64 option (the
/// whole option, as `NdOption::Other` holds it); `None` when malformed (not 16 bytes,
/// or a prefix length code other than 0–5).
pub fn pref64(option: &[u8]) -> Option<(Ipv6Addr, u8, u32)> {
    if option.first() != Some(&ND_OPT_PREF64) || option.len() != 16 {
        return None;
    }
    let field = u16::from_be_bytes([*option.get(2)?, *option.get(3)?]);
    // Scaled lifetime: 13 bits in units of 8 seconds; the prefix length code: 3 bits.
    let lifetime = u32::from(field >> 3).checked_mul(8)?;
    let prefix_len = match field & 0x7 {
        0 => 96,
        1 => 64,
        2 => 56,
        3 => 48,
        4 => 40,
        5 => 32,
        _ => return None,
    };
    let mut octets = [0u8; 16];
    octets.get_mut(..12)?.copy_from_slice(option.get(4..16)?);
    // Bits past the prefix length are ignored (RFC 8781 section 4).
    let bits = u128::from_be_bytes(octets) & (!0u128).checked_shl(128u32.checked_sub(u32::from(prefix_len))?)?;
    Some((Ipv6Addr::from(bits), prefix_len, lifetime))
}

/// The promises `os::nduseropt::parse_nduseropt` makes on success, as assertions: for the unit tests
/// and the fuzz target (fuzz/fuzz_targets/nduseropt.rs). Panics when one is broken.
#[doc(hidden)]
pub fn assert_invariants(m: &NdUserOpt) {
    assert!(m.ifindex > 0);
    match &m.option {
        NdOption::Rdnss { servers, .. } => assert!(!servers.is_empty()),
        NdOption::Dnssl { domains, .. } => {
            assert!(!domains.is_empty());
            for d in domains {
                assert!(!d.is_empty() && d.len() <= 253, "{d:?}");
                assert!(!d.ends_with('.'), "{d:?}");
                assert!(
                    d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)),
                    "{d:?}"
                );
            }
        }
        NdOption::Other { kind, data } => {
            assert_eq!(data.first(), Some(kind));
            assert_eq!(Some(data.len()), data.get(1).map(|&len8| usize::from(len8) * 8));
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    /// A whole RA as the library's raw ICMPv6 socket received it from radvd 2.19 in the
    /// test bed (M and O flags, router lifetime 30 s; PIO fd6d:6966:a::/64, RDNSS
    /// fd6d:6966:a::1, DNSSL a.example, source link-layer address).
    const RADVD_RA: &str = "8600964640c0001e0000000000000000030440c0000002580000012c00000000fd6d6966000a000000000000\
                            00000000190300000000000afd6d6966000a000000000000000000011f0300000000000a0161076578616d\
                            706c650000000000000101ea1ed25ac2d0";

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn ra_options_of_a_captured_router_advertisement() {
        let ra = unhex(RADVD_RA);
        let options = ra_options(&ra).unwrap();
        let parsed: Vec<String> = options.iter().map(|o| format!("{:?}", parse_option(o).unwrap())).collect();
        assert_eq!(
            parsed,
            vec![
                format!("Other {{ kind: 3, data: {:?} }}", options[0]),
                "Rdnss { lifetime: 10, servers: [fd6d:6966:a::1] }".to_string(),
                "Dnssl { lifetime: 10, domains: [\"a.example\"] }".to_string(),
                format!("Other {{ kind: 1, data: {:?} }}", options[3]),
            ]
        );
    }

    #[test]
    fn ra_options_discard_malformed_router_advertisements_whole() {
        let ra = unhex(RADVD_RA);
        let show = |b: &[u8]| ra_options(b).map(|o| o.len()).map_err(|e| e.to_string());
        assert_eq!(show(&ra[..16]), Ok(0), "no options");
        assert_eq!(show(&[]), Err("RTM_NEWNDUSEROPT truncated: ICMPv6 header needs 2 bytes, 0 present".into()));
        assert!(show(&ra[..15]).unwrap_err().contains("Router Advertisement needs 16"));
        let mut solicitation = ra.clone();
        solicitation[0] = 133;
        assert_eq!(show(&solicitation), Err("ICMPv6 type 133 code 0 is not a Router Advertisement".into()));
        let mut code = ra.clone();
        code[1] = 1;
        assert!(show(&code).is_err(), "code 1");
        assert!(show(&ra[..ra.len() - 1]).unwrap_err().contains("runs past the end"), "last option cut");
        assert!(show(&ra[..17]).unwrap_err().contains("truncated"), "one byte of an option header");
        let mut zero = ra.clone();
        zero[17] = 0;
        assert!(show(&zero).unwrap_err().contains("length 0"));
    }

    #[test]
    fn captive_portal_uri_without_padding() {
        let mut opt = vec![ND_OPT_CAPTIVE_PORTAL, 4];
        opt.extend_from_slice(b"https://portal.example/api");
        opt.resize(32, 0);
        assert_eq!(captive_portal_uri(&opt).as_deref(), Some("https://portal.example/api"));
        assert_eq!(captive_portal_uri(&[ND_OPT_CAPTIVE_PORTAL, 1, 0, 0, 0, 0, 0, 0]), None, "empty");
        let mut spaced = vec![ND_OPT_CAPTIVE_PORTAL, 1];
        spaced.extend_from_slice(b"a b\0\0\0");
        assert_eq!(captive_portal_uri(&spaced), None, "a space");
        assert_eq!(captive_portal_uri(&[ND_OPT_CAPTIVE_PORTAL, 1, 0xff, 0xfe, 0, 0, 0, 0]), None, "not UTF-8");
        assert_eq!(captive_portal_uri(&[ND_OPT_PREF64, 1, b'a', 0, 0, 0, 0, 0]), None, "another option");
    }

    #[test]
    fn pref64_lengths_lifetime_and_junk() {
        // 64:ff9b::/96 for 600 s: scaled lifetime 75, PLC 0.
        let mut opt = vec![ND_OPT_PREF64, 2];
        opt.extend_from_slice(&(75u16 << 3).to_be_bytes()); // length code 0: /96
        opt.extend_from_slice(&[0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(pref64(&opt), Some(("64:ff9b::".parse().unwrap(), 96, 600)));
        // /56 (PLC 2): bits past the length are ignored.
        let mut short = opt.clone();
        short[2..4].copy_from_slice(&((1u16 << 3) | 2).to_be_bytes());
        short[11] = 0xaa;
        assert_eq!(pref64(&short), Some(("64:ff9b::".parse().unwrap(), 56, 8)));
        let mut bad = opt.clone();
        bad[3] |= 7;
        assert_eq!(pref64(&bad), None, "length code 7");
        assert_eq!(pref64(&opt[..8]), None, "truncated");
    }
}
