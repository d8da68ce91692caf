//! What comes out of the model: the draft's announcements, in plain Rust values.

use std::net::IpAddr;

use super::facts::{AddrFlags, ConfigData, ElementKind, Family, InfoId, LifetimeSecs, LinkFlags, Scope};
use super::watches::{GoneReason, IntentCounts};

/// Public description of a PvD, carried by announcements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvdInfo {
    pub id: u64,
    pub ifindex: u32,
    pub ifname: String,
    pub family: Family,
    pub name: String,
}

/// An address as announced, lifetimes already turned into seconds remaining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub scope: Scope,
    pub flags: AddrFlags,
    pub valid: LifetimeSecs,
    pub preferred: LifetimeSecs,
}

/// A message for the subscriber, in the draft's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Announcement {
    Interface {
        ifindex: u32,
        name: String,
        flags: LinkFlags,
    },
    NoInterface {
        ifindex: u32,
        name: String,
        flags: LinkFlags,
    },
    /// `learning`: its configuration is still being learned (`readiness.rs`).
    Pvd {
        pvd: PvdInfo,
        learning: bool,
    },
    NoPvd(PvdInfo),
    /// Our addition: the PvD's configuration is no longer being learned.
    PvdConfigComplete(PvdInfo),
    Address {
        pvd: PvdInfo,
        addr: AddrInfo,
    },
    NoAddress {
        pvd: PvdInfo,
        addr: AddrInfo,
    },
    Element {
        pvd: PvdInfo,
        element: ElementInfo,
    },
    NoElement {
        pvd: PvdInfo,
        element: ElementInfo,
    },
    ConfigData {
        pvd: PvdInfo,
        kind: Option<ElementKind>,
        info: InfoId,
        data: ConfigData,
    },
    NoConfigData {
        pvd: PvdInfo,
        kind: Option<ElementKind>,
        info: InfoId,
    },
    /// Get Configuration Data while the PvD is learning: what is known so far.
    ConfigLearning {
        pvd: PvdInfo,
        kind: Option<ElementKind>,
        info: InfoId,
        data: ConfigData,
    },
    /// Interface is going away (draft 3.2.7.26.4): the whole interface (`pvd` None) or
    /// one PvD is expected gone in `deadline_ms` milliseconds (0: now).
    GoingAway {
        ifindex: u32,
        ifname: String,
        pvd: Option<PvdInfo>,
        deadline_ms: u64,
        reason: GoingAwayReason,
    },
    /// Our addition: an earlier GoingAway no longer holds (carrier came back, the
    /// addresses' lifetimes were refreshed).
    GoingAwayCancelled {
        ifindex: u32,
        ifname: String,
        pvd: Option<PvdInfo>,
        reason: GoingAwayReason,
    },
    /// Interface is going up (draft 3.2.7.26.5): on its way, not usable yet.
    GoingUp {
        ifindex: u32,
        ifname: String,
        reason: GoingUpReason,
    },
    /// Our addition (connection viability, `watches.rs`): the path of a watched
    /// connection, its local address over `pvd`, is expected gone in `deadline_ms`.
    ConnectionGoingAway {
        connection_id: u64,
        pvd: PvdInfo,
        deadline_ms: u64,
        reason: GoingAwayReason,
        /// For an MPTCP connection, whether the kernel can carry it elsewhere.
        continuity: crate::core::mptcp::Continuity,
    },
    /// Our addition: the warning of a watched connection no longer holds (`reason`:
    /// the warning's; `None` when re-stating after a queue overflow that none holds).
    ConnectionGoingAwayCancelled {
        connection_id: u64,
        pvd: PvdInfo,
        reason: Option<GoingAwayReason>,
    },
    /// Our addition: a watched connection's path is gone; its watch ended.
    ConnectionGone {
        connection_id: u64,
        local: IpAddr,
        pvd: PvdInfo,
        reason: GoneReason,
        /// For an MPTCP connection, whether the kernel can carry it elsewhere.
        continuity: crate::core::mptcp::Continuity,
    },
    /// Our addition: watched connections by intent on one interface (`ifindex` 0: the
    /// totals, ending an answer about every interface).
    ConnectionStates {
        ifindex: u32,
        ifname: String,
        counts: IntentCounts,
    },
}

/// Why an interface is going up, i.e. what it still waits for (`HostModel::going_up_of`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoingUpReason {
    /// Administratively up, no carrier yet (a cable, an association, a peer to come).
    NoCarrier,
    /// Carrier, but no usable address yet (DAD running, an RA or a DHCP lease expected).
    NoAddress,
    /// Carrier, no usable address yet, and the link manager (systemd-networkd) says it
    /// is configuring the link.
    Configuring,
}

/// Why an interface or PvD is going away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoingAwayReason {
    /// The link lost its carrier while administratively up.
    CarrierLost,
    /// Every address of the PvD is deprecated (preferred lifetime over) and still
    /// valid for a while; the deadline is when the last valid lifetime ends.
    AddressesDeprecated,
    /// The PvD's addresses are all still preferred or some are, but every one's valid
    /// lifetime ends within the horizon (`HostModel::set_going_away_horizon`) and
    /// nothing refreshed them; the deadline is when the last one ends.
    LifetimeEnding,
    /// The PvD's only default router withdrew itself (a Router Advertisement with
    /// router lifetime 0) or its router lifetime ran out: the kernel removed the last
    /// default route of the PvD's family through its interface. The addresses stay,
    /// but nothing beyond the link is reachable through it; deadline now.
    RouterWithdrawn,
    /// Every default route of the PvD is from a Router Advertisement and the last of
    /// their router lifetimes ends within the horizon with no new RA; the deadline is
    /// its end (then, if no RA came, `RouterWithdrawn`).
    RouterLifetimeEnding,
    /// Every address of the PvD was leased by a DHCP client (its lease file names it)
    /// and the last lease ends within the horizon with no renewal; the deadline is its end.
    LeaseEnding,
}

impl Announcement {
    /// Sent to a subscription (rather than in answer to Get Configuration Data), so it
    /// may be left out of a full queue and stated again after the overflow. A watched
    /// connection's Gone is not: its watch ends with it, nothing could state it again
    /// (at most one per watch, so they are bounded).
    pub fn is_subscription(&self) -> bool {
        !matches!(
            self,
            Announcement::ConfigData { .. }
                | Announcement::NoConfigData { .. }
                | Announcement::ConfigLearning { .. }
                | Announcement::ConnectionStates { .. }
                | Announcement::ConnectionGone { .. }
        )
    }
}

/// A configuration element as announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementInfo {
    pub id: u64,
    pub kind: ElementKind,
    /// "rtnetlink" or the path of the file it was read from.
    pub origin: String,
    pub server: Option<IpAddr>,
    pub data: ConfigData,
    /// Seconds left; `None` = until withdrawn.
    pub lifetime: LifetimeSecs,
}
