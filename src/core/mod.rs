//! The pure core: no system calls, no OS crates, no clock (time is passed in).
//! Everything here is tested without a kernel.
//!
//! - `model`: the host model (the mirror of kernel and file truth, implicit PvDs,
//!   one subscriber's subscriptions and the draft's announcement order);
//! - `link`: rules about one link (link-local, scopes, RFC 6724 source order);
//! - `dns`: names, queries and the checks a reply must pass;
//! - `ndopt`: Router Advertisement options (RDNSS, DNSSL);
//! - `config_files`: the text of configuration and state files;
//! - `solicitation`: how often Router Solicitations may go;
//! - `race`: the racer of Connect to Name across networks (RFC 8305 Happy Eyeballs v2);
//! - `error`: the one error type the runtime returns.

pub mod config_files;
pub mod dns;
pub mod error;
pub mod link;
pub mod model;
pub mod mptcp;
pub mod ndopt;
pub mod race;
pub mod solicitation;

pub use error::Error;
