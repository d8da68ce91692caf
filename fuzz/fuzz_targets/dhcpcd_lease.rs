//! Fuzz target: arbitrary bytes as dhcpcd's lease files (`/var/lib/dhcpcd/<if>.lease`,
//! the DHCPACK as received, and `<if>.lease6`, the DHCPv6 Reply).
//! `mif::fuzzing::fuzz_dhcpcd_lease` parses them both ways and checks what the parser
//! promises: a refusal or a lease whose address is of the right family and usable, a
//! lease time never infinite in disguise nor under dhcpcd's minimum, time left counting
//! down with the file's age, and the hook-state fragment's element carrying exactly that.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mif::fuzzing::fuzz_dhcpcd_lease(data);
});
