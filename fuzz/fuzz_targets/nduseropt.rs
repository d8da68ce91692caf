//! Fuzz target: RTM_NEWNDUSEROPT payloads (the bytes after the netlink header), and
//! the same bytes as a whole Router Advertisement heard on the library's raw ICMPv6
//! socket (`ra_options`, then each option as the listener parses it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mif::fuzzing::{assert_invariants, parse_nduseropt, parse_nlmsg, parse_option, ra_options, NdUserOpt};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_nduseropt(data) {
        assert_invariants(&m);
    }
    // The same bytes read as a whole netlink message (header included).
    let _ = parse_nlmsg(data);
    // The same bytes as an RA: options of whole 8-octet units inside it, each parsed.
    if let Ok(options) = ra_options(data) {
        assert!(options.iter().map(|o| o.len()).sum::<usize>() + 16 <= data.len());
        for option in options {
            assert!(!option.is_empty() && option.len() % 8 == 0);
            if let Ok(option) = parse_option(option) {
                assert_invariants(&NdUserOpt { ifindex: 1, icmp_type: 134, icmp_code: 0, router: None, option });
            }
        }
    }
});
