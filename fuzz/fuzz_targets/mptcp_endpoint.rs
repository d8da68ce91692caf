//! Fuzz target: replies to MPTCP_PM_CMD_GET_ADDR (the bytes after the generic-netlink
//! header), as `os::mptcp` hands them to `core::mptcp::parse_endpoint`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mif::fuzzing::parse_endpoint;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = parse_endpoint(data) {
        // An endpoint always has its address, of the family it says.
        assert!(e.addr.is_ipv4() || e.addr.is_ipv6());
        assert_ne!(e.ifindex, Some(0));
    }
});
