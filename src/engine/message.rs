//! Messages waiting for the application, in Rust terms: the model's announcements,
//! the resolver's and the connector's results, and the engine-failure message. The C
//! layer turns each into a `mif_message` when the application takes it.

use crate::core::model::Announcement;
use crate::core::Error;

use super::connector::ConnectEvent;
use super::resolver::DnsEvent;

/// A queued message.
#[derive(Debug)]
pub enum Message {
    Announcement(Announcement),
    Dns(DnsEvent),
    /// Owns the connected socket until the application takes the message.
    Connect(ConnectEvent),
    /// The context ended; nothing follows this message.
    EngineFailed {
        error: Error,
        text: String,
    },
}
