//! Requests as the engine takes them: checked, in Rust terms. The C layer decodes
//! `mif_request` into these.

use std::net::{IpAddr, SocketAddr};

use crate::core::dns::QueryName;
use crate::core::model::{ElementKind, InfoId};

/// A request the application posted, valid on its face.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    AnnounceInterfaces,
    StopAnnouncingInterfaces,
    AnnouncePvds { ifindex: u32 },
    StopAnnouncingPvds { ifindex: u32 },
    AnnounceAddresses { pvd: u64 },
    StopAnnouncingAddresses { pvd: u64 },
    AnnounceElements { pvd: u64 },
    StopAnnouncingElements { pvd: u64 },
    GetConfigurationData { pvd: u64, kind: Option<ElementKind>, info: InfoId },
    TranslateName { pvd: u64, translation_id: u64, name: QueryName },
    StopTranslatingName { translation_id: u64 },
    Connect { pvd: u64, connection_id: u64, remote: SocketAddr, local: Option<IpAddr> },
    ConnectToPvd { pvd: u64 },
    CancelConnect { connection_id: u64 },
}
