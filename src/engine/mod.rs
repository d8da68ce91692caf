//! The runtime: threads, locks and the message queue, in Rust terms only (no C
//! types, no result numbers).
//!
//! - `context`: opening a context and carrying out requests on the posting thread;
//! - `wait`: the wait for a message; `helping`: application threads reading DNS
//!   answers themselves;
//! - `event_loop`: the engine thread (c-ares' event thread shape);
//! - `shared`: the state both sides share, with the lock order;
//! - `operations`: the one registry of outstanding translations and connects;
//! - `resolver`, `connector`: the DNS client and the connection racer of one PvD;
//! - `by_name`: Connect to Name, racing networks (`core::race` decides);
//! - `outbox`: the message queue and its eventfd; `message`, `request`, `config`:
//!   the vocabulary the C layer translates to and from; `tokens`: every mio token.

pub mod by_name;
pub mod config;
pub mod connector;
pub mod context;
mod endpoints;
mod event_loop;
mod follow;
mod helping;
mod logs;
pub mod message;
mod operations;
mod outbox;
pub mod request;
pub mod resolver;
mod shared;
mod tokens;
mod viability;
mod wait;
mod want_connect;

/// The errno behind the last `System` / `Permission` error of this thread's call.
pub use crate::os::take_errno;
pub use config::{Config, TestHooks};
pub use context::Context;
pub use message::Message;
pub use request::Request;
