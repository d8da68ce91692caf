//! Fuzz target: arbitrary bytes as the state and configuration files the library reads
//! (resolv.conf and its fragments, systemd-networkd's per-link state, leases and
//! `.network` files, systemd-resolved's per-link state, the operator's static file, the
//! hosts file). `mif::fuzzing::fuzz_state_files` runs every parser and checks what it
//! promises: caps, no duplicates, domains in their checked form, each parser's output
//! written back in its own format and parsed again giving the same, elements that only
//! split what the file says, a lease's time left counting down with the file's age.
//! NUL bytes split the input into the file, its name, and the files it names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mif::fuzzing::fuzz_state_files(data);
});
