//! Messages waiting for the application, in Rust terms: the model's announcements,
//! the resolver's and the connector's results, and the engine-failure message. The C
//! layer turns each into a `mif_message` when the application takes it.

use crate::core::model::Announcement;
use crate::core::Error;

use super::connector::ConnectEvent;
use super::resolver::DnsEvent;
pub use super::want_connect::WantConnectOutcome;

impl Message {
    /// A subscription announcement: may be left out when the queue is full (the
    /// overflow message and the re-announcement stand for it). Everything else answers
    /// a request, is bounded by the requests in flight, and is always queued.
    /// Whether a full queue may leave it out (counted in the overflow message):
    /// subscription announcements (queued again when the overflow message is taken)
    /// and diagnostics.
    pub fn is_droppable(&self) -> bool {
        matches!(self, Message::Announcement(a) if a.is_subscription()) || matches!(self, Message::Log { .. })
    }
}

/// A queued message.
#[derive(Debug)]
pub enum Message {
    Announcement(Announcement),
    Dns(DnsEvent),
    /// Owns the connected socket until the application takes the message.
    Connect(ConnectEvent),
    /// The queue was full: `dropped` subscription announcements were left out. When the
    /// application takes it, the complete state of its subscriptions is queued again.
    Overflow {
        dropped: u64,
    },
    /// A diagnostic for the application (`mif_options.log_level`): level 1 = error,
    /// 2 = warn, 3 = info, 4 = debug.
    Log {
        level: u8,
        text: String,
    },
    /// What a Wants to connect did (draft 3.2.7.26.1; `want_connect`).
    WantConnect(WantConnectOutcome),
    /// The context ended; nothing follows this message.
    EngineFailed {
        error: Error,
        text: String,
    },
}
