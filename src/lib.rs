//! libmif: the IETF MIF API (draft-ietf-mif-api-extension-05) on Linux, as a C library.
//!
//! Layout: `model` is the pure host model (kernel facts in, the draft's announcements
//! out); `netlink` turns rtnetlink messages into facts; `engine` is the mio thread;
//! `outbox` is the message queue with its eventfd; `context` ties them together;
//! `ffi` is the only module that speaks C.

mod connect;
mod context;
pub mod dns;
mod engine;
pub mod ffi;
mod log;
mod message;
pub mod model;
pub mod netlink;
pub mod ndopt;
mod outbox;
mod pin;
mod request;
mod solicit;
mod sources;
