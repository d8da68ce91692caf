//! libmif: the IETF MIF API (draft-ietf-mif-api-extension-05) on Linux, as a C library.
//!
//! Four layers, each using only the ones below it (docs/architecture.md):
//! - `capi`: the only code that speaks C (`include/mif.h` is generated from it);
//! - `engine`: threads, locks, the message queue, the resolver and the connector;
//! - `os`: kernel adapters (rtnetlink, files and inotify, sockets) and `os::sys`, the
//!   one door for the remaining system calls;
//! - `core`: pure rules and data (the host model, DNS, ND options, file formats),
//!   tested without a kernel.
//!
//! `log` may be used by every layer. `make check-layers` enforces the direction.

pub mod capi;
mod core;
mod engine;
mod log;
mod os;

/// Entry points for the fuzz targets (fuzz/): the parsers fed untrusted bytes.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::capi::request::{fuzz_request_from_c, fuzz_selections};
    pub use crate::core::config_files::{fuzz_dhcpcd_lease, fuzz_state_files};
    pub use crate::core::dns::fuzz_reply;
    pub use crate::core::mptcp::parse_endpoint;
    pub use crate::core::ndopt::{parse_option, ra_options, NdUserOpt};
    pub use crate::os::nduseropt::{assert_invariants, parse_nduseropt, parse_nlmsg};
}
