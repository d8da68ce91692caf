//! Fuzz target: arbitrary bytes as the UDP reply to a pending DNS query (A and AAAA
//! for a fixed name, random IDs). `mif::fuzzing::fuzz_reply` runs the library's reply
//! validation and, for what it accepts, the answer extraction (CNAME chains included);
//! it must never panic, and (debug assertions, on under cargo fuzz) only addresses of
//! the asked family may come out.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mif::fuzzing::fuzz_reply(data);
});
