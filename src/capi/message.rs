//! `mif_message`: message types, the struct the application takes, and the conversion
//! of the runtime's messages into it (owned allocation, strings and lists inside).

use std::ffi::{c_char, CStr, CString};
use std::net::IpAddr;
use std::os::fd::IntoRawFd;

use super::address::{c_address, c_address_on, mif_address, mif_family, socket_address};
use super::constants::*;
use super::options::mif_log_level;

use super::status::*;
use crate::core::model::Family;
use crate::core::model::{AddrInfo, Announcement, ConfigData, GoneReason, PvdInfo};
use crate::core::mptcp::Continuity;
use crate::core::race::AttemptOutcome;
use crate::engine::by_name::EstablishmentReport;
use crate::engine::connector::{ConnectEvent, Mptcp};
use crate::engine::message::WantConnectOutcome;
use crate::engine::resolver::DnsEvent;
use crate::engine::Message;

/// Type of a message the library sends to the application (`mif_message.msg_type`).
pub type mif_message_type = u32;
/// Draft 3.2.7.3: an interface exists (also re-sent, as an update, when it is renamed).
pub const MIF_MSG_INTERFACE_ANNOUNCEMENT: mif_message_type = 1;
/// Draft 3.2.7.4: a previously announced interface is gone.
pub const MIF_MSG_NO_INTERFACE_ANNOUNCEMENT: mif_message_type = 2;
/// Draft 3.2.7.7: a provisioning domain is present on an interface.
pub const MIF_MSG_PVD_ANNOUNCEMENT: mif_message_type = 3;
/// Draft 3.2.7.8: a previously announced provisioning domain is gone.
pub const MIF_MSG_NO_PVD_ANNOUNCEMENT: mif_message_type = 4;
/// Draft 3.2.7.14: a valid address of a provisioning domain (also re-sent, as an update,
/// when its flags, scope or lifetimes change).
pub const MIF_MSG_ADDRESS_ANNOUNCEMENT: mif_message_type = 5;
/// Draft 3.2.7.16: a previously announced address is no longer valid.
pub const MIF_MSG_NO_ADDRESS_ANNOUNCEMENT: mif_message_type = 6;
/// Draft 3.2.7.10: a configuration element of a provisioning domain, with its data
/// (also re-sent, as an update, when its data or lifetime changes).
pub const MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT: mif_message_type = 7;
/// Draft 3.2.7.11: a previously announced configuration element is no longer valid.
pub const MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT: mif_message_type = 8;
/// Draft 3.2.7.17: the answer to `MIF_REQ_GET_CONFIGURATION_DATA`.
pub const MIF_MSG_CONFIGURATION_DATA: mif_message_type = 9;
/// Draft 3.2.7.17: no configuration data of the asked kind.
pub const MIF_MSG_NO_CONFIGURATION_DATA: mif_message_type = 10;
/// Draft 3.2.7.20: one address found for a Translate Name request (one message per address).
pub const MIF_MSG_NAME_TRANSLATION: mif_message_type = 11;
/// Our addition: the translation is over; `translation_status` says how. Always the
/// last message of a translation.
pub const MIF_MSG_NAME_TRANSLATION_DONE: mif_message_type = 12;
/// Draft 3.2.7.24: a connection is established; `fd` is the connected socket, now the
/// application's.
pub const MIF_MSG_CONNECTED: mif_message_type = 13;
/// Draft 3.2.7.25: the connection could not be established; `error` (an errno value)
/// and `text` say why.
pub const MIF_MSG_NOT_CONNECTED: mif_message_type = 14;
/// Our addition: the engine thread failed. `status` and `text` say why. This is the
/// last message the context ever delivers; later posts fail with `MIF_E_ENGINE_FAILED`.
pub const MIF_MSG_ENGINE_FAILED: mif_message_type = 100;
/// Our addition (extends 3.2.7.7): the provisioning domain's configuration is no longer
/// being learned (`config_state` was `MIF_CONFIG_STATE_LEARNING` in its PvD
/// announcement). Sent to subscribers of the PvD's interface (`MIF_REQ_ANNOUNCE_PVDS`).
pub const MIF_MSG_PVD_CONFIGURATION_COMPLETE: mif_message_type = 15;
/// Our addition (extends 3.2.7.17): the answer to `MIF_REQ_GET_CONFIGURATION_DATA`
/// while the provisioning domain's configuration is still being learned: the lists
/// hold what is known so far (maybe nothing). Ask again after
/// `MIF_MSG_PVD_CONFIGURATION_COMPLETE` for the settled answer.
pub const MIF_MSG_CONFIGURATION_LEARNING: mif_message_type = 16;
/// Our addition: the message queue reached `mif_options.max_queued_messages`, and
/// `dropped_messages` subscription announcements were left out since then. Right behind
/// this message (when you take it) the library queues the complete current state of
/// every subscription you hold, as their first announcements were: forget what the
/// subscriptions told you before and rebuild from what follows (a few newer changes
/// may come before it). Results of your requests (translations, connections,
/// configuration data) are never left out.
pub const MIF_MSG_QUEUE_OVERFLOW: mif_message_type = 17;
/// Our addition: one of the context's diagnostics, asked for with
/// `mif_options.log_level`: `text` (one line, no newline) at `log_level`. The
/// library's own wording: for people, not for parsing.
pub const MIF_MSG_LOG: mif_message_type = 18;
/// Interface is going away (draft 3.2.7.26.4): `ifindex`, `ifname`; `pvd` and
/// `pvd_name` for one provisioning domain, `pvd` 0 for the whole interface;
/// `deadline_ms`, the milliseconds until the library expects it gone (0: now), and
/// `going_away_reason` (`MIF_GOING_AWAY_*`). It comes before the No Address / No PvD
/// announcements it warns of, and again when the deadline moves. Sent to subscribers
/// of `MIF_REQ_ANNOUNCE_INTERFACES` (the whole interface) or of the interface's PvDs
/// (`MIF_REQ_ANNOUNCE_PVDS`: one PvD, also when they subscribe while it is going away).
/// Only the reasons listed are detected so far (docs/connectivity.md).
pub const MIF_MSG_INTERFACE_GOING_AWAY: mif_message_type = 19;
/// Our addition (extends 3.2.7.26.4): an earlier `MIF_MSG_INTERFACE_GOING_AWAY` (same
/// `ifindex`, `pvd` and `going_away_reason`) no longer holds: the carrier came back, or
/// an address of the PvD is preferred again (its lifetimes were refreshed).
pub const MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED: mif_message_type = 20;
/// Draft 3.2.7.26.5: interface `ifindex` is on its way up but not usable yet;
/// `going_up_reason` says what it waits for (`MIF_GOING_UP_NO_CARRIER`, then
/// `MIF_GOING_UP_NO_ADDRESS` once the carrier is there). Sent to interface subscribers
/// (`MIF_REQ_ANNOUNCE_INTERFACES`, also when they subscribe while it is going up) when
/// an interface appears, is taken up or gets its carrier back without a PvD, and
/// again when the reason changes. What follows: its PvD and Address announcements
/// once it is usable, or nothing if it never gets there (No Interface if it goes). A
/// link that loses its carrier while up is going away (`MIF_MSG_INTERFACE_GOING_AWAY`),
/// not going up. docs/connectivity.md.
pub const MIF_MSG_INTERFACE_GOING_UP: mif_message_type = 21;
/// Our addition (connection viability; extends 3.2.7.26.4 to one connection): the path
/// of watched connection `connection_id` (`MIF_REQ_WATCH_CONNECTION`,
/// `MIF_REQ_WATCH_SOCKET`), its local address on `pvd` (`ifindex`, `ifname`,
/// `pvd_name`, `family`), is expected gone in `deadline_ms` (0: now), for
/// `going_away_reason`: its own address deprecated (`MIF_GOING_AWAY_ADDRESSES_DEPRECATED`:
/// gone when its valid lifetime ends) or ending within the horizon
/// (`MIF_GOING_AWAY_LIFETIME_ENDING`), its PvD's router withdrawn, or the carrier lost.
/// Sent when it starts to hold, and again when the deadline moves by more than 1.5 s or
/// the reason changes; not for a connection that can be broken. Like subscription
/// announcements, left out of a full queue and stated again after the overflow.
pub const MIF_MSG_CONNECTION_GOING_AWAY: mif_message_type = 22;
/// Our addition: the warning of watched connection `connection_id` no longer holds (its
/// address was refreshed, a router came back); `going_away_reason` is the warning's.
/// After a queue overflow, every watched connection not going away gets one with
/// `going_away_reason` 0: no warning holds.
pub const MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED: mif_message_type = 23;
/// Our addition: the path of watched connection `connection_id` is gone:
/// `connection_gone_reason` (`MIF_CONNECTION_GONE_*`), its `local` address, and the
/// `pvd` it was on. The watch ends with it. Comes before the No Address / No PvD / No
/// Interface announcements of the same change; never left out of a full queue.
pub const MIF_MSG_CONNECTION_GONE: mif_message_type = 24;
/// Our addition: the answer to `MIF_REQ_GET_CONNECTION_STATES`: watched connections on
/// `ifindex` (`ifname`) by intent, in `active_connections`, `idle_connections` and
/// `breakable_connections`; `ifindex` 0 holds the totals and ends an answer about every
/// interface.
pub const MIF_MSG_CONNECTION_STATES: mif_message_type = 25;
/// Draft 3.2.7.26.1's answer (our addition: the draft gives none): what a
/// `MIF_REQ_WANT_CONNECT` did, in `want_connect_outcome` (`MIF_WANT_CONNECT_*`), with
/// `solicitations` (Router Solicitations sent), `hook_status` and `error`.
pub const MIF_MSG_WANT_CONNECT_OUTCOME: mif_message_type = 26;

/// A message from the library. Allocated by the library and owned by the application
/// from `mif_get_message` until `mif_message_free`. Fields not used by a message type
/// are zero. The library may add fields at the end in later versions.
#[repr(C)]
pub struct mif_message {
    /// One of `MIF_MSG_*`.
    pub msg_type: mif_message_type,
    /// `MIF_OK`, or the error for `MIF_MSG_ENGINE_FAILED`.
    pub status: mif_result,
    /// Interface index (all announcement messages).
    pub ifindex: u32,
    /// `MIF_LINK_*` bits as the interface was when the message was made (interface messages).
    pub link_flags: mif_link_flags,
    /// Interface name, NUL-terminated (all announcement messages).
    pub ifname: [c_char; 16],
    /// Provisioning domain id (PvD and address messages); ids are never reused within a context.
    pub pvd: u64,
    /// Provisioning domain name such as "eth0/ipv6", NUL-terminated (PvD and address messages).
    pub pvd_name: [c_char; 32],
    /// `MIF_FAMILY_*` of the provisioning domain (PvD and address messages).
    pub family: mif_family,
    /// Prefix length of the address (address messages).
    pub prefix_len: u8,
    /// `MIF_SCOPE_*` of the address (address messages).
    pub scope: mif_scope,
    /// Reserved, 0.
    pub reserved: u8,
    /// `MIF_ADDRESS_*` bits (address messages).
    pub address_flags: mif_address_flags,
    /// The address (address messages).
    pub address: mif_address,
    /// Seconds of valid lifetime left when the message was made; `MIF_LIFETIME_INFINITE` = forever.
    pub valid_lifetime: mif_lifetime,
    /// Seconds of preferred lifetime left when the message was made; `MIF_LIFETIME_INFINITE` = forever.
    pub preferred_lifetime: mif_lifetime,
    /// A readable detail (for `MIF_MSG_ENGINE_FAILED`), NUL-terminated, owned by the
    /// message; NULL when there is none.
    pub text: *const c_char,
    /// `MIF_ELEMENT_*` (configuration element and data messages).
    pub element_type: mif_element_type,
    /// `MIF_INFO_*` asked for (configuration data messages).
    pub info_id: mif_info_id,
    /// Configuration element id (element messages): kept by the same element while its
    /// interface exists, never given to another element.
    pub element_id: u64,
    /// The router or server the element came from; family 0 when unknown (element messages).
    pub source: mif_address,
    /// Where the library read the element: "rtnetlink" or a file path, NUL-terminated,
    /// owned by the message; NULL for other messages.
    pub origin: *const c_char,
    /// Seconds the element stays valid; `MIF_LIFETIME_INFINITE` = until withdrawn.
    pub lifetime: mif_lifetime,
    /// Link MTU in bytes; 0 = unknown.
    pub mtu: u32,
    /// DNS servers: `dns_server_count` entries owned by the message (NULL when 0).
    pub dns_servers: *const mif_address,
    /// Number of `dns_servers`.
    pub dns_server_count: usize,
    /// DNS search domains: `search_domain_count` NUL-terminated strings owned by the message.
    pub search_domains: *const *const c_char,
    /// Number of `search_domains`.
    pub search_domain_count: usize,
    /// Default routers: `router_count` entries owned by the message (NULL when 0).
    pub routers: *const mif_address,
    /// Number of `routers`.
    pub router_count: usize,
    /// The application's translation id (name translation messages).
    pub translation_id: u64,
    /// `MIF_TRANSLATION_*` (`MIF_MSG_NAME_TRANSLATION_DONE`).
    pub translation_status: mif_translation_status,
    /// `MIF_NAME_SOURCE_*` that gave the address (`MIF_MSG_NAME_TRANSLATION`).
    pub name_source: mif_name_source,
    /// Seconds the address may be cached (DNS TTL; hosts file entries: 0).
    pub ttl: u32,
    /// Reserved, 0.
    pub reserved2: u32,
    /// The name that was answered, NUL-terminated, owned by the message: the asked
    /// name in ASCII (IDNA) form, with the search domain that matched if one did.
    pub name: *const c_char,
    /// The application's connection id (connection messages).
    pub connection_id: u64,
    /// The connected socket (`MIF_MSG_CONNECTED`), else -1. CLOEXEC and in blocking
    /// mode. It is the application's once `mif_get_message` returned the message:
    /// `mif_message_free` does not close it. The library keeps no reference; if the
    /// context closes before the message is taken, the library closes it.
    pub fd: i32,
    /// errno value of the failure (`MIF_MSG_NOT_CONNECTED`): ECONNREFUSED, ETIMEDOUT,
    /// EHOSTUNREACH, ENETDOWN (the PvD went away), ECANCELED, EADDRNOTAVAIL, ...
    pub error: i32,
    /// Local address and port of the connection (`MIF_MSG_CONNECTED`).
    pub local: mif_address,
    /// Local port.
    pub local_port: u16,
    /// Remote port.
    pub remote_port: u16,
    /// Reserved, 0.
    pub reserved3: u32,
    /// Remote address (connection messages).
    pub remote: mif_address,
    /// Microseconds from the request to the connection (`MIF_MSG_CONNECTED`) or to the failure.
    pub elapsed_us: u64,
    /// Our addition: `MIF_CONFIG_STATE_*` of the provisioning domain
    /// (`MIF_MSG_PVD_ANNOUNCEMENT`, the configuration data messages); else 0.
    pub config_state: mif_config_state,
    /// Prefix length of `pref64`; 0 when there is none (configuration data and element
    /// messages).
    pub pref64_len: u32,
    /// The NAT64 prefix (RFC 8781) of the data (configuration data and element messages).
    pub pref64: mif_address,
    /// The captive portal API URI (RFC 8910), NUL-terminated, owned by the message; NULL
    /// when there is none (configuration data and element messages).
    pub captive_portal: *const c_char,
    /// Our addition: subscription announcements left out (`MIF_MSG_QUEUE_OVERFLOW`).
    pub dropped_messages: u64,
    /// Our addition: `MIF_LOG_*` of a `MIF_MSG_LOG` message.
    pub log_level: mif_log_level,
    /// `MIF_GOING_AWAY_*` (`MIF_MSG_INTERFACE_GOING_AWAY` and its cancellation).
    pub going_away_reason: mif_going_away_reason,
    /// Milliseconds from when the message was made until the interface or PvD is
    /// expected gone; 0 = now (`MIF_MSG_INTERFACE_GOING_AWAY`).
    pub deadline_ms: u64,
    /// Our addition: how a `MIF_REQ_CONNECT_TO_NAME` was established or why not (its
    /// `MIF_MSG_CONNECTED` or `MIF_MSG_NOT_CONNECTED`; NULL for other connects and for a
    /// cancelled one). Owned by the message: valid until `mif_message_free`.
    pub report: *const mif_establishment_report,
    /// Our addition: `MIF_MPTCP_*`, whether the connection of a `MIF_MSG_CONNECTED` runs
    /// Multipath TCP (`MIF_CONNECT_MPTCP`); else 0.
    pub mptcp: mif_mptcp_status,
    /// `MIF_GOING_UP_*` (`MIF_MSG_INTERFACE_GOING_UP`); else 0.
    pub going_up_reason: mif_going_up_reason,
    /// Our addition: `MIF_CONNECTION_GONE_*` (`MIF_MSG_CONNECTION_GONE`); else 0.
    pub connection_gone_reason: mif_connection_gone_reason,
    /// Our addition: watched connections in use (`MIF_MSG_CONNECTION_STATES`).
    pub active_connections: u32,
    /// Our addition: watched connections idle (draft 3.2.7.26.2).
    pub idle_connections: u32,
    /// Our addition: watched connections that can be broken (draft 3.2.7.26.3).
    pub breakable_connections: u32,
    /// Our addition: `MIF_WANT_CONNECT_*` (`MIF_MSG_WANT_CONNECT_OUTCOME`); else 0.
    pub want_connect_outcome: mif_want_connect_outcome,
    /// Our addition: Router Solicitations a Wants to connect sent.
    pub solicitations: u32,
    /// Our addition: the Wants to connect hook's exit status (`MIF_WANT_CONNECT_HOOK_RAN`),
    /// or minus the signal that ended it; else 0.
    pub hook_status: i32,
    /// Our addition: 1 when this `MIF_MSG_CONNECTED` replaces an earlier one of the same
    /// `connection_id` whose path is going or gone (`MIF_CONNECT_FOLLOW`); else 0.
    pub replacement: u32,
    /// Our addition: `MIF_CONTINUITY_*` of a `MIF_MSG_CONNECTION_GOING_AWAY` or
    /// `MIF_MSG_CONNECTION_GONE`: for an MPTCP connection, whether the kernel can carry
    /// it to another network; else 0.
    pub continuity: mif_continuity,
    /// Reserved: 0 (keeps the struct free of padding).
    pub reserved4: u32,
}

fn continuity_value(continuity: Continuity) -> mif_continuity {
    match continuity {
        Continuity::NotMptcp => MIF_CONTINUITY_NOT_MPTCP,
        Continuity::Kernel => MIF_CONTINUITY_KERNEL,
        Continuity::Reconnect => MIF_CONTINUITY_RECONNECT,
        Continuity::Unknown | Continuity::Unreadable => MIF_CONTINUITY_UNKNOWN,
    }
}

/// Our addition: `mif_message.continuity`.
pub type mif_continuity = u32;
/// Not an MPTCP connection (plain TCP, UDP, MPTCP fallen back to TCP), or not a
/// going-away message: the application moves the session itself.
pub const MIF_CONTINUITY_NOT_MPTCP: mif_continuity = 0;
/// An MPTCP connection with a subflow endpoint on another present network (the
/// kernel's path manager table, `ip mptcp endpoint`): the kernel can move the session
/// there by itself, no reconnect needed.
pub const MIF_CONTINUITY_KERNEL: mif_continuity = 1;
/// An MPTCP connection with no subflow endpoint elsewhere: the application must
/// reconnect (or add an endpoint).
pub const MIF_CONTINUITY_RECONNECT: mif_continuity = 2;
/// An MPTCP connection, but the endpoint table could not be read (no MPTCP path
/// manager in this kernel).
pub const MIF_CONTINUITY_UNKNOWN: mif_continuity = 3;

/// Our addition: `mif_message.mptcp`.
pub type mif_mptcp_status = u32;
/// MPTCP was not asked for: plain TCP.
pub const MIF_MPTCP_NOT_ASKED: mif_mptcp_status = 0;
/// The connection runs MPTCP end to end.
pub const MIF_MPTCP_ACTIVE: mif_mptcp_status = 1;
/// Asked for, but the peer answered with plain TCP: the connection fell back to TCP.
pub const MIF_MPTCP_FALLBACK: mif_mptcp_status = 2;
/// Asked for, but this host makes no MPTCP sockets (`net.mptcp.enabled` is 0, or the
/// kernel has no MPTCP): plain TCP.
pub const MIF_MPTCP_UNAVAILABLE: mif_mptcp_status = 3;

/// Our addition: the establishment report of a Connect to Name (`mif_message.report`),
/// owned by its message. Both arrays are in the order things started.
#[repr(C)]
pub struct mif_establishment_report {
    /// Each record type asked on each network (an AAAA and an A row per network asked).
    pub resolutions: *const mif_resolution_record,
    /// Number of `resolutions`.
    pub resolution_count: usize,
    /// Each connection attempt.
    pub attempts: *const mif_attempt_record,
    /// Number of `attempts`.
    pub attempt_count: usize,
}

/// Our addition: one record type asked on one network (`mif_establishment_report`).
#[repr(C)]
pub struct mif_resolution_record {
    /// The network's interface.
    pub ifindex: u32,
    /// Its name, NUL-terminated.
    pub ifname: [c_char; 16],
    /// Reserved, 0.
    pub reserved: u32,
    /// The provisioning domain whose servers were asked; 0 when none could be.
    pub pvd: u64,
    /// 28 (AAAA) or 1 (A).
    pub record_type: u16,
    /// Reserved, 0.
    pub reserved2: u16,
    /// `MIF_TRANSLATION_DONE` when this type was answered (`answers` > 0), else how the
    /// translation ended (`MIF_TRANSLATION_CANCELLED`: the race ended first).
    pub translation_status: mif_translation_status,
    /// The server that answered, else the first one asked (family 0: none).
    pub server: mif_address,
    /// Microseconds from the request to the query.
    pub start_us: u64,
    /// Microseconds from the query to the first answer of this type, or to the end.
    pub elapsed_us: u64,
    /// Addresses of this type answered.
    pub answers: u32,
    /// Reserved, 0.
    pub reserved3: u32,
}

/// Our addition: how a connection attempt ended (`mif_attempt_record.outcome`).
pub type mif_attempt_outcome = u32;
/// The attempt that won: the message's connection.
pub const MIF_ATTEMPT_CONNECTED: mif_attempt_outcome = 1;
/// It failed; `error` says why.
pub const MIF_ATTEMPT_FAILED: mif_attempt_outcome = 2;
/// Closed unfinished: another attempt won, or the race ended.
pub const MIF_ATTEMPT_ABANDONED: mif_attempt_outcome = 3;

/// Our addition: one connection attempt (`mif_establishment_report`).
#[repr(C)]
pub struct mif_attempt_record {
    /// The provisioning domain it went through (0 when the network had none of the
    /// address's family: then `error` is ENETUNREACH and no packet left).
    pub pvd: u64,
    /// Its name, NUL-terminated.
    pub pvd_name: [c_char; 32],
    /// The interface.
    pub ifindex: u32,
    /// `MIF_ATTEMPT_*`.
    pub outcome: mif_attempt_outcome,
    /// Local address of the winner (family 0 for the others).
    pub local: mif_address,
    /// Local port of the winner.
    pub local_port: u16,
    /// Remote port.
    pub remote_port: u16,
    /// errno of a failed attempt (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETDOWN, ...), else 0.
    pub error: i32,
    /// The address connected to.
    pub remote: mif_address,
    /// Microseconds from the request to the attempt's start.
    pub start_us: u64,
    /// Microseconds the attempt ran.
    pub elapsed_us: u64,
}

/// The allocation behind a `mif_message*`: the public struct first, so a pointer to
/// the whole is a pointer to the public part, then what the public part points into.
#[repr(C)]
pub(crate) struct OwnedMessage {
    public: mif_message,
    text: Option<CString>,
    origin: Option<CString>,
    name: Option<CString>,
    dns_servers: Vec<mif_address>,
    routers: Vec<mif_address>,
    domains: Vec<CString>,
    domain_ptrs: Vec<*const c_char>,
    captive_portal: Option<CString>,
    report: Option<Box<OwnedReport>>,
}

/// A report and the arrays it points into (`mif_message.report`).
struct OwnedReport {
    public: mif_establishment_report,
    resolutions: Vec<mif_resolution_record>,
    attempts: Vec<mif_attempt_record>,
}

fn micros(d: std::time::Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

fn c_report(report: &EstablishmentReport) -> Box<OwnedReport> {
    let resolutions: Vec<mif_resolution_record> = report
        .resolutions
        .iter()
        .map(|r| {
            let mut row = mif_resolution_record {
                ifindex: r.ifindex,
                ifname: [0; 16],
                reserved: 0,
                pvd: r.pvd,
                record_type: if r.family == Family::V6 { 28 } else { 1 },
                reserved2: 0,
                translation_status: r.status.map_or(MIF_TRANSLATION_DONE, translation_status),
                server: r.server.map(|s| c_address_on(&s, r.ifindex)).unwrap_or_default(),
                start_us: micros(r.started),
                elapsed_us: r.elapsed.map_or(0, micros),
                answers: r.answers,
                reserved3: 0,
            };
            copy_name(&mut row.ifname, &r.ifname);
            row
        })
        .collect();
    let attempts: Vec<mif_attempt_record> = report
        .attempts
        .iter()
        .map(|a| {
            let (local, local_port) = a.local.as_ref().map(socket_address).unwrap_or_default();
            let (remote, remote_port) = socket_address(&a.remote);
            let mut row = mif_attempt_record {
                pvd: a.pvd.id,
                pvd_name: [0; 32],
                ifindex: a.pvd.ifindex,
                outcome: match a.outcome {
                    AttemptOutcome::Connected => MIF_ATTEMPT_CONNECTED,
                    AttemptOutcome::Failed { .. } => MIF_ATTEMPT_FAILED,
                    _ => MIF_ATTEMPT_ABANDONED,
                },
                local,
                local_port,
                remote_port,
                error: a.errno,
                remote,
                start_us: micros(a.started),
                elapsed_us: a.elapsed.map_or(0, micros),
            };
            copy_name(&mut row.pvd_name, &a.pvd.name);
            row
        })
        .collect();
    let mut owned = Box::new(OwnedReport {
        public: mif_establishment_report {
            resolutions: std::ptr::null(),
            resolution_count: 0,
            attempts: std::ptr::null(),
            attempt_count: 0,
        },
        resolutions,
        attempts,
    });
    // The vectors' buffers do not move with the box.
    if !owned.resolutions.is_empty() {
        owned.public.resolutions = owned.resolutions.as_ptr();
        owned.public.resolution_count = owned.resolutions.len();
    }
    if !owned.attempts.is_empty() {
        owned.public.attempts = owned.attempts.as_ptr();
        owned.public.attempt_count = owned.attempts.len();
    }
    owned
}

impl OwnedMessage {
    pub(crate) fn into_raw(message: Message) -> *mut mif_message {
        let owned = Box::new(to_c(message));
        Box::into_raw(owned).cast::<mif_message>()
    }

    /// # Safety
    /// `msg` must come from `into_raw` and not have been freed.
    pub(crate) unsafe fn from_raw(msg: *mut mif_message) {
        // SAFETY: `msg` came from `into_raw` (a boxed `OwnedMessage`, whose first field
        // is the public struct) and was not freed (the caller's guarantee).
        drop(unsafe { Box::from_raw(msg.cast::<OwnedMessage>()) });
    }
}

fn empty() -> mif_message {
    mif_message {
        msg_type: 0,
        status: MIF_OK,
        ifindex: 0,
        link_flags: 0,
        ifname: [0; 16],
        pvd: 0,
        pvd_name: [0; 32],
        family: 0,
        prefix_len: 0,
        scope: 0,
        reserved: 0,
        address_flags: 0,
        address: mif_address::default(),
        valid_lifetime: 0,
        preferred_lifetime: 0,
        text: std::ptr::null(),
        element_type: 0,
        info_id: 0,
        element_id: 0,
        source: mif_address::default(),
        origin: std::ptr::null(),
        lifetime: 0,
        mtu: 0,
        dns_servers: std::ptr::null(),
        dns_server_count: 0,
        search_domains: std::ptr::null(),
        search_domain_count: 0,
        routers: std::ptr::null(),
        router_count: 0,
        translation_id: 0,
        translation_status: 0,
        name_source: 0,
        ttl: 0,
        reserved2: 0,
        name: std::ptr::null(),
        connection_id: 0,
        fd: -1,
        error: 0,
        local: mif_address::default(),
        local_port: 0,
        remote_port: 0,
        reserved3: 0,
        remote: mif_address::default(),
        elapsed_us: 0,
        config_state: MIF_CONFIG_STATE_NONE,
        pref64_len: 0,
        pref64: mif_address::default(),
        captive_portal: std::ptr::null(),
        dropped_messages: 0,
        log_level: 0,
        going_away_reason: 0,
        deadline_ms: 0,
        report: std::ptr::null(),
        mptcp: 0,
        going_up_reason: 0,
        connection_gone_reason: 0,
        active_connections: 0,
        idle_connections: 0,
        breakable_connections: 0,
        want_connect_outcome: 0,
        solicitations: 0,
        hook_status: 0,
        replacement: 0,
        continuity: 0,
        reserved4: 0,
    }
}

fn copy_name<const N: usize>(dst: &mut [c_char; N], src: &str) {
    for (d, s) in dst.iter_mut().zip(src.bytes().take(N - 1)) {
        *d = s as c_char;
    }
}

fn fill_pvd(m: &mut mif_message, pvd: &PvdInfo) {
    m.ifindex = pvd.ifindex;
    copy_name(&mut m.ifname, &pvd.ifname);
    m.pvd = pvd.id;
    copy_name(&mut m.pvd_name, &pvd.name);
    m.family = family(pvd.family);
}

fn fill_interface_or_pvd(m: &mut mif_message, ifindex: u32, ifname: &str, pvd: Option<&PvdInfo>) {
    match pvd {
        Some(pvd) => fill_pvd(m, pvd),
        None => {
            m.ifindex = ifindex;
            copy_name(&mut m.ifname, ifname);
        }
    }
}

fn fill_addr(m: &mut mif_message, pvd: &PvdInfo, a: &AddrInfo) {
    fill_pvd(m, pvd);
    m.address = c_address_on(&a.addr, pvd.ifindex);
    m.prefix_len = a.prefix_len;
    m.scope = scope(a.scope);
    m.address_flags = address_flags(a.flags);
    m.valid_lifetime = a.valid.unwrap_or(MIF_LIFETIME_INFINITE);
    m.preferred_lifetime = a.preferred.unwrap_or(MIF_LIFETIME_INFINITE);
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Lists of configuration data, owned next to the public struct that points at them.
#[derive(Default)]
struct Lists {
    dns_servers: Vec<mif_address>,
    routers: Vec<mif_address>,
    domains: Vec<CString>,
    captive_portal: Option<CString>,
}

/// Configuration data into `m` and the lists it points into. Link-local addresses in
/// the lists are only usable with their interface as scope.
fn fill_data(m: &mut mif_message, data: &ConfigData, ifindex: u32) -> Lists {
    let addr = |a: &IpAddr| c_address_on(a, ifindex);
    m.mtu = data.mtu.unwrap_or(0);
    if let Some((prefix, len)) = data.pref64 {
        m.pref64 = c_address(&IpAddr::V6(prefix), 0);
        m.pref64_len = u32::from(len);
    }
    Lists {
        dns_servers: data.dns_servers.iter().map(addr).collect(),
        routers: data.routers.iter().map(addr).collect(),
        domains: data.search_domains.iter().map(|d| cstring(d)).collect(),
        captive_portal: data.captive_portal.as_deref().map(cstring),
    }
}

fn to_c(message: Message) -> OwnedMessage {
    let mut m = empty();
    let mut text = None;
    let mut origin = None;
    let mut name = None;
    let mut lists = Lists::default();
    let mut report = None;
    match message {
        Message::Announcement(a) => match a {
            Announcement::Interface { ifindex, ref name, flags }
            | Announcement::NoInterface { ifindex, ref name, flags } => {
                m.msg_type = if matches!(a, Announcement::Interface { .. }) {
                    MIF_MSG_INTERFACE_ANNOUNCEMENT
                } else {
                    MIF_MSG_NO_INTERFACE_ANNOUNCEMENT
                };
                m.ifindex = ifindex;
                copy_name(&mut m.ifname, name);
                m.link_flags = link_flags(flags);
            }
            Announcement::Pvd { ref pvd, learning } => {
                m.msg_type = MIF_MSG_PVD_ANNOUNCEMENT;
                fill_pvd(&mut m, pvd);
                m.config_state = config_state(learning);
            }
            Announcement::GoingAway { ifindex, ref ifname, ref pvd, deadline_ms, reason } => {
                m.msg_type = MIF_MSG_INTERFACE_GOING_AWAY;
                fill_interface_or_pvd(&mut m, ifindex, ifname, pvd.as_ref());
                m.deadline_ms = deadline_ms;
                m.going_away_reason = going_away_reason_value(reason);
            }
            Announcement::GoingUp { ifindex, ref ifname, reason } => {
                m.msg_type = MIF_MSG_INTERFACE_GOING_UP;
                fill_interface_or_pvd(&mut m, ifindex, ifname, None);
                m.going_up_reason = going_up_reason_value(reason);
            }
            Announcement::GoingAwayCancelled { ifindex, ref ifname, ref pvd, reason } => {
                m.msg_type = MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED;
                fill_interface_or_pvd(&mut m, ifindex, ifname, pvd.as_ref());
                m.going_away_reason = going_away_reason_value(reason);
            }
            Announcement::ConnectionGoingAway { connection_id, ref pvd, deadline_ms, reason, continuity } => {
                m.msg_type = MIF_MSG_CONNECTION_GOING_AWAY;
                m.continuity = continuity_value(continuity);
                fill_pvd(&mut m, pvd);
                m.connection_id = connection_id;
                m.deadline_ms = deadline_ms;
                m.going_away_reason = going_away_reason_value(reason);
            }
            Announcement::ConnectionGoingAwayCancelled { connection_id, ref pvd, reason } => {
                m.msg_type = MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED;
                fill_pvd(&mut m, pvd);
                m.connection_id = connection_id;
                m.going_away_reason = reason.map_or(0, going_away_reason_value);
            }
            Announcement::ConnectionGone { connection_id, local, ref pvd, reason, continuity } => {
                m.msg_type = MIF_MSG_CONNECTION_GONE;
                m.continuity = continuity_value(continuity);
                fill_pvd(&mut m, pvd);
                m.connection_id = connection_id;
                m.local = c_address_on(&local, pvd.ifindex);
                m.connection_gone_reason = match reason {
                    GoneReason::AddressRemoved => MIF_CONNECTION_GONE_ADDRESS_REMOVED,
                    GoneReason::PvdLost => MIF_CONNECTION_GONE_PVD_LOST,
                    GoneReason::InterfaceRemoved => MIF_CONNECTION_GONE_INTERFACE_REMOVED,
                };
            }
            Announcement::ConnectionStates { ifindex, ref ifname, ref counts } => {
                m.msg_type = MIF_MSG_CONNECTION_STATES;
                m.ifindex = ifindex;
                copy_name(&mut m.ifname, ifname);
                m.active_connections = counts.active;
                m.idle_connections = counts.idle;
                m.breakable_connections = counts.breakable;
            }
            Announcement::PvdConfigComplete(ref pvd) => {
                m.msg_type = MIF_MSG_PVD_CONFIGURATION_COMPLETE;
                fill_pvd(&mut m, pvd);
                m.config_state = MIF_CONFIG_STATE_COMPLETE;
            }
            Announcement::NoPvd(ref pvd) => {
                m.msg_type = MIF_MSG_NO_PVD_ANNOUNCEMENT;
                fill_pvd(&mut m, pvd);
            }
            Announcement::Address { ref pvd, ref addr } => {
                m.msg_type = MIF_MSG_ADDRESS_ANNOUNCEMENT;
                fill_addr(&mut m, pvd, addr);
            }
            Announcement::NoAddress { ref pvd, ref addr } => {
                m.msg_type = MIF_MSG_NO_ADDRESS_ANNOUNCEMENT;
                fill_addr(&mut m, pvd, addr);
            }
            Announcement::Element { ref pvd, ref element } | Announcement::NoElement { ref pvd, ref element } => {
                m.msg_type = if matches!(a, Announcement::Element { .. }) {
                    MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT
                } else {
                    MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT
                };
                fill_pvd(&mut m, pvd);
                m.element_type = element_value(element.kind);
                m.element_id = element.id;
                if let Some(server) = &element.server {
                    m.source = c_address_on(server, pvd.ifindex);
                }
                origin = Some(cstring(&element.origin));
                m.lifetime = element.lifetime.unwrap_or(MIF_LIFETIME_INFINITE);
                lists = fill_data(&mut m, &element.data, pvd.ifindex);
            }
            Announcement::ConfigData { ref pvd, kind, info, ref data }
            | Announcement::ConfigLearning { ref pvd, kind, info, ref data } => {
                let learning = matches!(a, Announcement::ConfigLearning { .. });
                m.msg_type = if learning { MIF_MSG_CONFIGURATION_LEARNING } else { MIF_MSG_CONFIGURATION_DATA };
                fill_pvd(&mut m, pvd);
                m.element_type = kind.map_or(MIF_ELEMENT_ANY, element_value);
                m.info_id = info_value(info);
                m.config_state = config_state(learning);
                lists = fill_data(&mut m, data, pvd.ifindex);
            }
            Announcement::NoConfigData { ref pvd, kind, info } => {
                m.msg_type = MIF_MSG_NO_CONFIGURATION_DATA;
                fill_pvd(&mut m, pvd);
                m.element_type = kind.map_or(MIF_ELEMENT_ANY, element_value);
                m.info_id = info_value(info);
                m.config_state = MIF_CONFIG_STATE_COMPLETE;
            }
        },
        Message::WantConnect(outcome) => {
            m.msg_type = MIF_MSG_WANT_CONNECT_OUTCOME;
            let (code, solicitations, status, errno) = match outcome {
                WantConnectOutcome::NoOp => (MIF_WANT_CONNECT_NO_OP, 0, 0, 0),
                WantConnectOutcome::Solicited { solicitations } => (MIF_WANT_CONNECT_SOLICITED, solicitations, 0, 0),
                WantConnectOutcome::HookRan { solicitations, status } => {
                    (MIF_WANT_CONNECT_HOOK_RAN, solicitations, status, 0)
                }
                WantConnectOutcome::HookTimedOut { solicitations } => {
                    (MIF_WANT_CONNECT_HOOK_TIMED_OUT, solicitations, 0, 0)
                }
                WantConnectOutcome::HookFailed { solicitations, errno } => {
                    (MIF_WANT_CONNECT_HOOK_FAILED, solicitations, 0, errno)
                }
                WantConnectOutcome::NothingPossible => (MIF_WANT_CONNECT_NOTHING_POSSIBLE, 0, 0, 0),
            };
            m.want_connect_outcome = code;
            m.solicitations = solicitations;
            m.hook_status = status;
            m.error = errno;
        }
        Message::Dns(DnsEvent::Address { translation_id, ref pvd, addr, ttl, source, name: ref n, .. }) => {
            m.msg_type = MIF_MSG_NAME_TRANSLATION;
            fill_pvd(&mut m, pvd);
            m.translation_id = translation_id;
            m.address = c_address_on(&addr, pvd.ifindex);
            m.ttl = ttl;
            m.name_source = name_source_value(source);
            name = Some(cstring(n));
        }
        Message::Dns(DnsEvent::Done { translation_id, ref pvd, status, name: ref n, .. }) => {
            m.msg_type = MIF_MSG_NAME_TRANSLATION_DONE;
            fill_pvd(&mut m, pvd);
            m.translation_id = translation_id;
            m.translation_status = translation_status(status);
            name = Some(cstring(n));
        }
        Message::Connect(ConnectEvent::Connected {
            connection_id,
            pvd,
            fd,
            local,
            remote,
            elapsed,
            report: r,
            mptcp,
            replacement,
            ..
        }) => {
            m.replacement = u32::from(replacement);
            report = r.as_deref().map(c_report);
            m.mptcp = match mptcp {
                Mptcp::NotAsked => MIF_MPTCP_NOT_ASKED,
                Mptcp::Active => MIF_MPTCP_ACTIVE,
                Mptcp::Fallback => MIF_MPTCP_FALLBACK,
                Mptcp::Unavailable => MIF_MPTCP_UNAVAILABLE,
            };
            m.msg_type = MIF_MSG_CONNECTED;
            fill_pvd(&mut m, &pvd);
            m.connection_id = connection_id;
            (m.local, m.local_port) = socket_address(&local);
            (m.remote, m.remote_port) = socket_address(&remote);
            m.elapsed_us = elapsed.as_micros().min(u128::from(u64::MAX)) as u64;
            // From here on the descriptor is the application's.
            m.fd = fd.into_raw_fd();
        }
        Message::Connect(ConnectEvent::NotConnected {
            connection_id,
            pvd,
            remote,
            error,
            text: t,
            elapsed,
            report: r,
            ..
        }) => {
            report = r.as_deref().map(c_report);
            m.msg_type = MIF_MSG_NOT_CONNECTED;
            fill_pvd(&mut m, &pvd);
            m.connection_id = connection_id;
            (m.remote, m.remote_port) = socket_address(&remote);
            m.error = error;
            m.elapsed_us = elapsed.as_micros().min(u128::from(u64::MAX)) as u64;
            text = Some(cstring(&t));
        }
        Message::Overflow { dropped } => {
            m.msg_type = MIF_MSG_QUEUE_OVERFLOW;
            m.dropped_messages = dropped;
        }
        Message::Log { level, text: t } => {
            m.msg_type = MIF_MSG_LOG;
            m.log_level = mif_log_level::from(level);
            text = Some(cstring(&t));
        }
        Message::EngineFailed { error, text: t } => {
            m.msg_type = MIF_MSG_ENGINE_FAILED;
            m.status = code_of(error);
            text = Some(cstring(&t));
        }
    }
    let domain_ptrs: Vec<*const c_char> = lists.domains.iter().map(|d| d.as_ptr()).collect();
    let mut owned = OwnedMessage {
        public: m,
        text,
        origin,
        name,
        dns_servers: lists.dns_servers,
        routers: lists.routers,
        domains: lists.domains,
        domain_ptrs,
        captive_portal: lists.captive_portal,
        report,
    };
    if let Some(r) = &owned.report {
        owned.public.report = &r.public;
    }
    // The vectors' heap buffers do not move when `owned` is boxed, so these stay valid.
    if let Some(t) = &owned.text {
        owned.public.text = t.as_ptr();
    }
    if let Some(o) = &owned.origin {
        owned.public.origin = o.as_ptr();
    }
    if let Some(n) = &owned.name {
        owned.public.name = n.as_ptr();
    }
    if !owned.dns_servers.is_empty() {
        owned.public.dns_servers = owned.dns_servers.as_ptr();
        owned.public.dns_server_count = owned.dns_servers.len();
    }
    if !owned.routers.is_empty() {
        owned.public.routers = owned.routers.as_ptr();
        owned.public.router_count = owned.routers.len();
    }
    if !owned.domain_ptrs.is_empty() {
        owned.public.search_domains = owned.domain_ptrs.as_ptr();
        owned.public.search_domain_count = owned.domain_ptrs.len();
    }
    if let Some(c) = &owned.captive_portal {
        owned.public.captive_portal = c.as_ptr();
    }
    owned
}

fn config_state(learning: bool) -> u32 {
    if learning {
        MIF_CONFIG_STATE_LEARNING
    } else {
        MIF_CONFIG_STATE_COMPLETE
    }
}

/// Frees a message from `mif_get_message`. NULL is fine. Any thread; the message must
/// not be used afterwards.
#[no_mangle]
pub extern "C" fn mif_message_free(msg: *mut mif_message) {
    ffi_guard!((), {
        if !msg.is_null() {
            // SAFETY: a message from `mif_get_message`, not yet freed (the API's contract).
            unsafe { OwnedMessage::from_raw(msg) };
        }
    })
}

/// The snake_case name of a message type ("interface_announcement", ...), static and
/// NUL-terminated; "unknown" for numbers this library does not define.
#[no_mangle]
pub extern "C" fn mif_message_type_name(msg_type: mif_message_type) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), { message_type_name(msg_type).as_ptr() })
}

fn message_type_name(msg_type: mif_message_type) -> &'static CStr {
    match msg_type {
        MIF_MSG_INTERFACE_ANNOUNCEMENT => c"interface_announcement",
        MIF_MSG_NO_INTERFACE_ANNOUNCEMENT => c"no_interface_announcement",
        MIF_MSG_PVD_ANNOUNCEMENT => c"pvd_announcement",
        MIF_MSG_NO_PVD_ANNOUNCEMENT => c"no_pvd_announcement",
        MIF_MSG_ADDRESS_ANNOUNCEMENT => c"address_announcement",
        MIF_MSG_NO_ADDRESS_ANNOUNCEMENT => c"no_address_announcement",
        MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT => c"config_element_announcement",
        MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT => c"no_config_element_announcement",
        MIF_MSG_CONFIGURATION_DATA => c"configuration_data",
        MIF_MSG_NO_CONFIGURATION_DATA => c"no_configuration_data",
        MIF_MSG_NAME_TRANSLATION => c"name_translation",
        MIF_MSG_NAME_TRANSLATION_DONE => c"name_translation_done",
        MIF_MSG_CONNECTED => c"connected",
        MIF_MSG_NOT_CONNECTED => c"not_connected",
        MIF_MSG_PVD_CONFIGURATION_COMPLETE => c"pvd_configuration_complete",
        MIF_MSG_CONFIGURATION_LEARNING => c"configuration_learning",
        MIF_MSG_QUEUE_OVERFLOW => c"queue_overflow",
        MIF_MSG_LOG => c"log",
        MIF_MSG_INTERFACE_GOING_AWAY => c"interface_going_away",
        MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED => c"interface_going_away_cancelled",
        MIF_MSG_INTERFACE_GOING_UP => c"interface_going_up",
        MIF_MSG_CONNECTION_GOING_AWAY => c"connection_going_away",
        MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED => c"connection_going_away_cancelled",
        MIF_MSG_CONNECTION_GONE => c"connection_gone",
        MIF_MSG_CONNECTION_STATES => c"connection_states",
        MIF_MSG_WANT_CONNECT_OUTCOME => c"want_connect_outcome",
        MIF_MSG_ENGINE_FAILED => c"engine_failed",
        _ => c"unknown",
    }
}
