//! Requests as the engine takes them: checked, in Rust terms. The C layer decodes
//! `mif_request` into these.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::core::dns::QueryName;
pub use crate::core::model::ConnectionIntent;
use crate::core::model::{ElementKind, InfoId};
pub use crate::core::race::FamilyPreference;

/// A request the application posted, valid on its face.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    AnnounceInterfaces,
    StopAnnouncingInterfaces,
    AnnouncePvds {
        ifindex: u32,
    },
    StopAnnouncingPvds {
        ifindex: u32,
    },
    AnnounceAddresses {
        pvd: u64,
    },
    StopAnnouncingAddresses {
        pvd: u64,
    },
    AnnounceElements {
        pvd: u64,
    },
    StopAnnouncingElements {
        pvd: u64,
    },
    GetConfigurationData {
        pvd: u64,
        kind: Option<ElementKind>,
        info: InfoId,
    },
    TranslateName {
        pvd: u64,
        translation_id: u64,
        name: QueryName,
    },
    StopTranslatingName {
        translation_id: u64,
    },
    Connect {
        pvd: u64,
        connection_id: u64,
        remote: SocketAddr,
        local: Option<IpAddr>,
        /// Multipath TCP asked for (`MIF_CONNECT_MPTCP`).
        mptcp: bool,
    },
    ConnectToPvd {
        pvd: u64,
    },
    CancelConnect {
        connection_id: u64,
    },
    /// Our addition: Connect to Name, raced across networks (`by_name`).
    ConnectToName(ConnectToName),
    /// Our addition: watch the connection of a Connected message taken from this context.
    WatchConnection {
        connection_id: u64,
    },
    /// Our addition: watch the application's own socket `fd` (a descriptor number: the C
    /// layer borrows it for `Context::watch_socket`; `Context::post` refuses it).
    WatchSocket {
        connection_id: u64,
        fd: i32,
    },
    StopWatching {
        connection_id: u64,
    },
    /// Draft 3.2.7.26.2–3 (and back to active).
    ConnectionIntent {
        connection_id: u64,
        intent: ConnectionIntent,
    },
    /// `None`: every interface with watched connections, then the totals.
    GetConnectionStates {
        ifindex: Option<u32>,
    },
    /// Draft 3.2.7.26.1.
    WantConnect,
}

/// A Connect to Name request, valid on its face.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectToName {
    pub connection_id: u64,
    pub name: QueryName,
    pub port: u16,
    pub selections: Vec<Selection>,
    pub family: FamilyPreference,
    /// `None`: the context's connect timeout.
    pub timeout: Option<Duration>,
    /// `None`: the context's attempt delay.
    pub attempt_delay: Option<Duration>,
    /// Multipath TCP asked for.
    pub mptcp: bool,
    /// The race's translations shown as Name Translation messages.
    pub translations: bool,
    /// Follow mode (`MIF_CONNECT_FOLLOW`): a replacement connection when the path goes.
    pub follow: bool,
}

/// What a selection names: an interface (a network) or a PvD (its network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Interface(u32),
    Pvd(u64),
}

/// RFC 9622 preference levels of a selection property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preference {
    Require,
    Prefer,
    Avoid,
    Prohibit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub target: Target,
    pub preference: Preference,
}
