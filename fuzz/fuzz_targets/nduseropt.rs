//! Fuzz target: RTM_NEWNDUSEROPT payloads (the bytes after the netlink header).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mif::fuzzing::{assert_invariants, parse_nduseropt, parse_nlmsg};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_nduseropt(data) {
        assert_invariants(&m);
    }
    // The same bytes read as a whole netlink message (header included).
    let _ = parse_nlmsg(data);
});
