//! `mif_request`: request types, the struct the application fills, its init function,
//! and its decoding into the runtime's `Request`.

use std::ffi::{c_char, CStr};
use std::mem::{offset_of, size_of};
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::ptr;
use std::time::Duration;

use super::address::{ip_of, mif_address, MIF_FAMILY_IPV4, MIF_FAMILY_IPV6};
use super::constants::*;
use super::status::*;
use super::{read_sized, write_prefix};
use crate::core::dns::QueryName;
use crate::core::Error;
use crate::engine::request::{ConnectToName, ConnectionIntent, FamilyPreference, Preference, Selection, Target};
use crate::engine::Request;

/// Type of a request the application posts (`mif_request.request_type`).
pub type mif_request_type = u32;
/// Draft 3.2.7.1: announce every interface now and as they come and go.
pub const MIF_REQ_ANNOUNCE_INTERFACES: mif_request_type = 1;
/// Draft 3.2.7.2.
pub const MIF_REQ_STOP_ANNOUNCING_INTERFACES: mif_request_type = 2;
/// Draft 3.2.7.5: announce the provisioning domains of interface `ifindex`, and (our
/// addition) `MIF_MSG_PVD_CONFIGURATION_COMPLETE` when a PvD's configuration is learned.
pub const MIF_REQ_ANNOUNCE_PVDS: mif_request_type = 3;
/// Draft 3.2.7.6: for interface `ifindex`.
pub const MIF_REQ_STOP_ANNOUNCING_PVDS: mif_request_type = 4;
/// Draft 3.2.7.13: announce the addresses of provisioning domain `pvd`.
pub const MIF_REQ_ANNOUNCE_ADDRESSES: mif_request_type = 5;
/// Draft 3.2.7.15: for provisioning domain `pvd`.
pub const MIF_REQ_STOP_ANNOUNCING_ADDRESSES: mif_request_type = 6;
/// Draft 3.2.7.9: announce the configuration elements of provisioning domain `pvd`.
pub const MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS: mif_request_type = 7;
/// Draft 3.2.7.12: for provisioning domain `pvd`.
pub const MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS: mif_request_type = 8;
/// Draft 3.2.7.17: configuration data of `pvd`, from elements of `element_type`
/// (`MIF_ELEMENT_ANY` for all), for `info_id` (`MIF_INFO_ALL` for every list).
/// Answered by one `MIF_MSG_CONFIGURATION_DATA` or `MIF_MSG_NO_CONFIGURATION_DATA`
/// (while the PvD's configuration is still being learned: `MIF_MSG_CONFIGURATION_LEARNING`),
/// queued before the post returns.
pub const MIF_REQ_GET_CONFIGURATION_DATA: mif_request_type = 9;
/// Draft 3.2.7.18: translate `name` on provisioning domain `pvd`; `translation_id` is
/// the application's and must not be in use by an outstanding translation. On a PvD
/// whose configuration is still being learned the translation waits for it (at most
/// `mif_options.config_learning_ms`) before its queries leave.
pub const MIF_REQ_TRANSLATE_NAME: mif_request_type = 10;
/// Draft 3.2.7.19: stop translation `translation_id`. A final
/// `MIF_MSG_NAME_TRANSLATION_DONE` with `MIF_TRANSLATION_CANCELLED` is queued before the
/// call returns, waiting results of that translation are withdrawn, and the id is free.
/// The same when the translation has ended but its results are not taken yet: they
/// are withdrawn and replaced (so a Stop never races the end). `MIF_E_UNKNOWN_TRANSLATION`
/// only once the final message was taken (or for an id never used).
pub const MIF_REQ_STOP_TRANSLATING_NAME: mif_request_type = 11;
/// Draft 3.2.7.22: connect (TCP) to `remote`:`remote_port` from `pvd` (0: the default
/// PvD), racing its source addresses (docs/connections.md); `connection_id` is the
/// application's and must not be in use by an outstanding connection attempt. The
/// first source's nonblocking `connect()` is made within the post (plain TCP), so the
/// `MIF_MSG_CONNECTED` may already be queued when the call returns (a handshake the
/// kernel completes at once: a server on this host or behind a veth); nothing
/// else about the result changes.
pub const MIF_REQ_CONNECT_TO_ADDRESS: mif_request_type = 12;
/// Draft 3.2.7.23: the same from the given `local` address, which must be a valid
/// address of `pvd` (else `MIF_E_BAD_SOURCE`).
pub const MIF_REQ_CONNECT_FROM_ADDRESS: mif_request_type = 13;
/// Draft 3.2.7.21: choose `pvd` as the default for later requests that name pvd 0.
pub const MIF_REQ_CONNECT_TO_PVD: mif_request_type = 14;
/// Our addition: cancel connect `connection_id` (any connect request, Connect to Name
/// too). A final `MIF_MSG_NOT_CONNECTED` with error ECANCELED is queued before the call
/// returns, also when the connect has ended but its result is not taken yet: that
/// result is withdrawn (a Connected message's socket closed by the library), so a
/// cancel never races the result. `MIF_E_UNKNOWN_CONNECTION` only once the final
/// message was taken (or for an id never used).
pub const MIF_REQ_CANCEL_CONNECT: mif_request_type = 15;
/// Our addition, named after the draft's Connect to Address (3.2.7.22), doing its 3.3
/// flow (steps 13-16) as one request: translate `name` on every network allowed by
/// `selections` (through each network's own servers, over its link), connect (TCP) to
/// `remote_port` on the answers across networks, Happy Eyeballs style (RFC 8305:
/// `attempt_delay_ms`, a resolution delay of 50 ms; the next network after a network
/// delay of 300 ms unless the earlier ones failed), and deliver the first connection
/// that completes: one `MIF_MSG_CONNECTED` (or `MIF_MSG_NOT_CONNECTED`), each with its
/// establishment `report` (docs/connect-by-name.md). `connection_id` is the
/// application's and must not be in use by an outstanding connect. Reads `name`,
/// `remote_port`, `connection_id`, `selections`, `selection_count`,
/// `family_preference`, `timeout_ms`, `attempt_delay_ms` and `connect_flags`.
pub const MIF_REQ_CONNECT_TO_NAME: mif_request_type = 16;
/// Our addition (connection viability, docs/connectivity.md): watch the connection of
/// a `MIF_MSG_CONNECTED` this context delivered and the application took, by its
/// `connection_id`. From now on `MIF_MSG_CONNECTION_GOING_AWAY` says when its path
/// (its local address on its provisioning domain) is expected to go, with a deadline,
/// `MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED` when that no longer holds, and
/// `MIF_MSG_CONNECTION_GONE` when it went (the watch ends then). A warning that holds
/// already is queued before the call returns. `MIF_E_UNKNOWN_CONNECTION` when no
/// Connected with that id was taken (the library remembers the last 4096),
/// `MIF_E_DUPLICATE_ID` when it is watched already, `MIF_E_NO_PATH` when its local
/// address is on no present provisioning domain, `MIF_E_LIMIT_REACHED` at
/// `MIF_MAX_WATCHED_CONNECTIONS`. Reads `connection_id`.
pub const MIF_REQ_WATCH_CONNECTION: mif_request_type = 17;
/// Our addition: watch a connected (or bound) TCP or UDP socket the application made
/// itself, `socket`, under the application's `connection_id` (any id not watched
/// already). The library reads its local address and the interface it is bound to
/// (`SO_BINDTOIFINDEX`; else the interface holding the address) during the call and
/// keeps nothing of the descriptor. Then as `MIF_REQ_WATCH_CONNECTION`. Also
/// `MIF_E_BAD_DESCRIPTOR` (negative or closed) and `MIF_E_NOT_A_SOCKET` (not an IPv4
/// or IPv6 socket). Reads `connection_id` and `socket`.
pub const MIF_REQ_WATCH_SOCKET: mif_request_type = 18;
/// Our addition: stop watching `connection_id` (no message). `MIF_E_UNKNOWN_CONNECTION`
/// when it is not watched (also after its `MIF_MSG_CONNECTION_GONE`).
pub const MIF_REQ_STOP_WATCHING_CONNECTION: mif_request_type = 19;
/// Draft 3.2.7.26.2, Connection is idle: watched connection `connection_id` expects no
/// data either way for now but is kept. Recorded (`MIF_REQ_GET_CONNECTION_STATES`);
/// when every watched connection of an interface is idle or can be broken, the
/// operator's idle hook runs (docs/connectivity.md). Warnings go on.
pub const MIF_REQ_CONNECTION_IDLE: mif_request_type = 20;
/// Draft 3.2.7.26.3, Connection can be broken: the application can re-establish
/// watched connection `connection_id` if it breaks. Recorded as for idle; the library
/// stops warning about it (its `MIF_MSG_CONNECTION_GONE` still comes).
pub const MIF_REQ_CONNECTION_CAN_BE_BROKEN: mif_request_type = 21;
/// Our addition: watched connection `connection_id` is in use again (after idle or can
/// be broken); warnings resume with the next change.
pub const MIF_REQ_CONNECTION_ACTIVE: mif_request_type = 22;
/// Our addition: how many watched connections are active, idle or breakable, answered
/// before the call returns by `MIF_MSG_CONNECTION_STATES`: for interface `ifindex`
/// (counts may be 0; `MIF_E_UNKNOWN_INTERFACE` if unknown), or with `ifindex` 0 one per
/// interface that has watched connections, then one with `ifindex` 0 holding the totals.
pub const MIF_REQ_GET_CONNECTION_STATES: mif_request_type = 23;
/// Draft 3.2.7.26.1, Wants to connect: the library does what it can, without privilege,
/// to get networks configured, and answers with one `MIF_MSG_WANT_CONNECT_OUTCOME`:
/// nothing (every up interface has a provisioning domain), Router Solicitations on up
/// IPv6 links without an IPv6 provisioning domain (when permitted), a re-read of the
/// link managers' files, and the operator's hook when the static configuration names
/// one (`want_connect_hook`, docs/connectivity.md). No fields.
pub const MIF_REQ_WANT_CONNECT: mif_request_type = 24;

/// Most connections one context watches at once (`MIF_E_LIMIT_REACHED` beyond).
pub const MIF_MAX_WATCHED_CONNECTIONS: u32 = 4096;
const _: () = assert!(MIF_MAX_WATCHED_CONNECTIONS as usize == crate::core::model::MAX_WATCHES);

/// Our addition: RFC 9622 preference of a Connect to Name selection (`mif_selection`).
pub type mif_preference = u32;
/// Only the networks named with Require are used (in the order of the others' ranks).
pub const MIF_PREFERENCE_REQUIRE: mif_preference = 1;
/// Tried first.
pub const MIF_PREFERENCE_PREFER: mif_preference = 2;
/// Tried only once every other network failed.
pub const MIF_PREFERENCE_AVOID: mif_preference = 3;
/// Never used: no packet leaves through it, not even a DNS query.
pub const MIF_PREFERENCE_PROHIBIT: mif_preference = 4;

/// Our addition: a network's place in a Connect to Name (`mif_request.selections`).
/// Names exactly one of `ifindex` and `pvd` (a PvD stands for its network: for implicit
/// PvDs, its interface). Initialize with
/// `{ .size = sizeof(mif_selection), .preference = ..., .ifindex = ... }`; every element
/// of one array has the same `size`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct mif_selection {
    /// `sizeof(mif_selection)` as the application was compiled.
    pub size: u32,
    /// One of `MIF_PREFERENCE_*`.
    pub preference: mif_preference,
    /// Interface index, or 0 when `pvd` names the network.
    pub ifindex: u32,
    /// Reserved: must be 0.
    pub reserved: u32,
    /// Provisioning domain id, or 0 when `ifindex` names the network.
    pub pvd: u64,
}

/// Our addition: the address families a Connect to Name tries (`family_preference`).
pub type mif_family_preference = u32;
/// IPv6 first, then the families interleaved (RFC 8305 section 4); the default (0).
pub const MIF_FAMILY_PREFERENCE_IPV6_FIRST: mif_family_preference = 0;
/// IPv4 first, then interleaved.
pub const MIF_FAMILY_PREFERENCE_IPV4_FIRST: mif_family_preference = 1;
/// IPv6 only: AAAA answers only are tried.
pub const MIF_FAMILY_PREFERENCE_IPV6_ONLY: mif_family_preference = 2;
/// IPv4 only.
pub const MIF_FAMILY_PREFERENCE_IPV4_ONLY: mif_family_preference = 3;

/// Our addition: options of a Connect to Name (`mif_request.connect_flags`).
pub type mif_connect_flags = u32;
/// Multipath TCP (RFC 8684): every attempt is an IPPROTO_MPTCP socket. With a peer that
/// speaks MPTCP the connection is MPTCP (it can then survive its network going away
/// when the kernel has a subflow endpoint on another network); with one that does not
/// it falls back to plain TCP by itself. `mif_message.mptcp` says which. Also for
/// `MIF_REQ_CONNECT_TO_ADDRESS` and `MIF_REQ_CONNECT_FROM_ADDRESS`.
pub const MIF_CONNECT_MPTCP: mif_connect_flags = 1;
/// The race's own translations are delivered too: per network asked, its
/// `MIF_MSG_NAME_TRANSLATION` messages and one `MIF_MSG_NAME_TRANSLATION_DONE`
/// (`MIF_TRANSLATION_CANCELLED` when the end of the race stopped it), with
/// `translation_id` = the connection id and the PvD whose servers were asked, all
/// before the Connected / Not Connected. A Cancel Connect withdraws those still waiting.
pub const MIF_CONNECT_TRANSLATIONS: mif_connect_flags = 2;
/// Follow mode (our addition, docs/connectivity.md): once connected, the library
/// watches the connection's path; when it is going away (a deadline: make before
/// break) or gone, it races the request again over the other networks its selections
/// allow and delivers a replacement `MIF_MSG_CONNECTED` for the same `connection_id`
/// (`replacement` 1). The application swaps sockets; the library never touches the
/// old one. A replacement that fails is a final `MIF_MSG_NOT_CONNECTED`, and following
/// ends; `MIF_REQ_CANCEL_CONNECT` on the id ends it at any time.
pub const MIF_CONNECT_FOLLOW: mif_connect_flags = 4;

/// Most selections one Connect to Name may carry.
pub const MIF_MAX_SELECTIONS: usize = 64;

/// A request for `mif_post_message`. Fill with `mif_request_init` first.
/// Which fields a request reads depends on its type (see each `MIF_REQ_*`).
#[repr(C)]
pub struct mif_request {
    /// `sizeof(mif_request)` as the application was compiled; set by `mif_request_init`.
    pub size: u32,
    /// One of `MIF_REQ_*`.
    pub request_type: mif_request_type,
    /// Interface index, for `MIF_REQ_ANNOUNCE_PVDS` / `MIF_REQ_STOP_ANNOUNCING_PVDS`.
    pub ifindex: u32,
    /// Reserved: must be 0.
    pub reserved: u32,
    /// Provisioning domain id, for the address, configuration element and
    /// configuration data requests.
    pub pvd: u64,
    /// `MIF_ELEMENT_*`, for `MIF_REQ_GET_CONFIGURATION_DATA`.
    pub element_type: mif_element_type,
    /// `MIF_INFO_*`, for `MIF_REQ_GET_CONFIGURATION_DATA`.
    pub info_id: mif_info_id,
    /// The application's id, for `MIF_REQ_TRANSLATE_NAME` / `MIF_REQ_STOP_TRANSLATING_NAME`.
    pub translation_id: u64,
    /// UTF-8 name, NUL-terminated, for `MIF_REQ_TRANSLATE_NAME`; copied during the call.
    pub name: *const c_char,
    /// The application's id, for the connect requests.
    pub connection_id: u64,
    /// Destination address, for the connect requests.
    pub remote: mif_address,
    /// Destination port (host byte order).
    pub remote_port: u16,
    /// Reserved: must be 0.
    pub reserved2: u16,
    /// Reserved: must be 0.
    pub reserved3: u32,
    /// Source address, for `MIF_REQ_CONNECT_FROM_ADDRESS`.
    pub local: mif_address,
    /// Our addition, for `MIF_REQ_CONNECT_TO_NAME`: `selection_count` selections (at
    /// most `MIF_MAX_SELECTIONS`), read during the call; NULL when the count is 0. None:
    /// every network, in the host's default-route order.
    pub selections: *const mif_selection,
    /// Number of `selections`.
    pub selection_count: usize,
    /// `MIF_FAMILY_PREFERENCE_*`, for `MIF_REQ_CONNECT_TO_NAME`.
    pub family_preference: mif_family_preference,
    /// Overall limit in ms of a `MIF_REQ_CONNECT_TO_NAME` (1 to 3600000); 0 = the
    /// context's `connect_timeout_ms`.
    pub timeout_ms: u32,
    /// RFC 8305 Connection Attempt Delay in ms of a `MIF_REQ_CONNECT_TO_NAME` (100 to
    /// 2000); 0 = the context's `connect_attempt_delay_ms` (at least 100).
    pub attempt_delay_ms: u32,
    /// `MIF_CONNECT_*` options of a `MIF_REQ_CONNECT_TO_NAME` (and `MIF_CONNECT_MPTCP` of
    /// the Connect to Address requests); other bits must be 0.
    pub connect_flags: mif_connect_flags,
    /// Our addition: the socket descriptor of a `MIF_REQ_WATCH_SOCKET`; only read
    /// during the call.
    pub socket: i32,
    /// Reserved: must be 0 (keeps the struct free of padding).
    pub reserved4: u32,
}

/// All fields zero, pointers NULL (see `mif_options`' `Default`).
impl Default for mif_request {
    fn default() -> Self {
        mif_request {
            size: 0,
            request_type: 0,
            ifindex: 0,
            reserved: 0,
            pvd: 0,
            element_type: 0,
            info_id: 0,
            translation_id: 0,
            name: ptr::null(),
            connection_id: 0,
            remote: mif_address::default(),
            remote_port: 0,
            reserved2: 0,
            reserved3: 0,
            local: mif_address::default(),
            selections: ptr::null(),
            selection_count: 0,
            family_preference: 0,
            timeout_ms: 0,
            attempt_delay_ms: 0,
            connect_flags: 0,
            socket: 0,
            reserved4: 0,
        }
    }
}

/// Zeroes `req`, sets `req->size` and `req->request_type = request_type`. Call it
/// through the header's macro `mif_request_init(req, type)`, which passes
/// `sizeof(mif_request)` as the program was compiled.
///
/// Returns `MIF_OK`, `MIF_E_NULL_ARGUMENT` (req NULL) or `MIF_E_BAD_SIZE` (`size` does
/// not cover `size` and `request_type`). The type is checked later, by
/// `mif_post_message`. Thread safety: touches only `*req`.
#[no_mangle]
pub extern "C" fn mif_request_init_sized(
    req: *mut mif_request,
    size: usize,
    request_type: mif_request_type,
) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if req.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        if size < 2 * std::mem::size_of::<u32>() || size > u32::MAX as usize {
            return MIF_E_BAD_SIZE;
        }
        let defaults = mif_request { size: size as u32, request_type, ..mif_request::default() };
        // SAFETY: `req` is non-NULL and the application's struct has `size` bytes (the
        // macro passes its sizeof).
        unsafe { write_prefix(req.cast::<u8>(), size, &defaults) };
        MIF_OK
    })
}

/// An address the application passed, checked: its reserved bytes must be 0
/// (`InvalidArgument`, as for every reserved field); an unknown family or an IPv4
/// address with a scope id is `bad` (IPv4 has no scope ids).
fn checked_ip(a: &mif_address, bad: Error) -> Result<(IpAddr, u32), Error> {
    if a.reserved != [0; 3] {
        return Err(Error::InvalidArgument);
    }
    let (ip, scope) = ip_of(a).ok_or(bad)?;
    if ip.is_ipv4() && a.scope_id != 0 {
        return Err(bad);
    }
    Ok((ip, scope))
}

/// Reads a `mif_request` whose `size` the application set.
///
/// # Safety
/// `req` must be non-NULL and point to at least `req->size` readable bytes.
pub(crate) unsafe fn request_from_c(req: *const mif_request) -> Result<Request, Error> {
    let header_end = offset_of!(mif_request, request_type) + size_of::<u32>();
    // SAFETY: non-NULL with at least `size` readable bytes (the caller's guarantee).
    let (copy, size) = unsafe { read_sized(req, header_end) }?;
    let needs = |end: usize| if size >= end { Ok(()) } else { Err(Error::BadSize) };
    let ifindex_end = offset_of!(mif_request, ifindex) + size_of::<u32>();
    let pvd_end = offset_of!(mif_request, pvd) + size_of::<u64>();
    let info_end = offset_of!(mif_request, info_id) + size_of::<u32>();
    let tid_end = offset_of!(mif_request, translation_id) + size_of::<u64>();
    let name_end = offset_of!(mif_request, name) + size_of::<*const std::ffi::c_char>();
    let remote_end = offset_of!(mif_request, remote_port) + size_of::<u16>();
    let local_end = offset_of!(mif_request, local) + size_of::<mif_address>();
    let cid_end = offset_of!(mif_request, connection_id) + size_of::<u64>();
    if copy.reserved2 != 0 || copy.reserved3 != 0 || copy.reserved4 != 0 {
        return Err(Error::InvalidArgument);
    }
    let remote = || -> Result<SocketAddr, Error> {
        let (ip, scope) = checked_ip(&copy.remote, Error::BadAddress)?;
        let broadcast = ip == IpAddr::from([255, 255, 255, 255]);
        if copy.remote_port == 0 || ip.is_unspecified() || ip.is_multicast() || broadcast {
            return Err(Error::BadAddress);
        }
        Ok(match ip {
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, copy.remote_port, 0, scope)),
            v4 => SocketAddr::new(v4, copy.remote_port),
        })
    };
    if copy.reserved != 0 {
        return Err(Error::InvalidArgument);
    }
    Ok(match copy.request_type {
        MIF_REQ_ANNOUNCE_INTERFACES => Request::AnnounceInterfaces,
        MIF_REQ_STOP_ANNOUNCING_INTERFACES => Request::StopAnnouncingInterfaces,
        MIF_REQ_ANNOUNCE_PVDS => {
            needs(ifindex_end)?;
            Request::AnnouncePvds { ifindex: copy.ifindex }
        }
        MIF_REQ_STOP_ANNOUNCING_PVDS => {
            needs(ifindex_end)?;
            Request::StopAnnouncingPvds { ifindex: copy.ifindex }
        }
        MIF_REQ_ANNOUNCE_ADDRESSES => {
            needs(pvd_end)?;
            Request::AnnounceAddresses { pvd: copy.pvd }
        }
        MIF_REQ_STOP_ANNOUNCING_ADDRESSES => {
            needs(pvd_end)?;
            Request::StopAnnouncingAddresses { pvd: copy.pvd }
        }
        MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS => {
            needs(pvd_end)?;
            Request::AnnounceElements { pvd: copy.pvd }
        }
        MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS => {
            needs(pvd_end)?;
            Request::StopAnnouncingElements { pvd: copy.pvd }
        }
        MIF_REQ_GET_CONFIGURATION_DATA => {
            needs(info_end)?;
            let kind = match copy.element_type {
                MIF_ELEMENT_ANY => None,
                other => Some(element_kind(other).ok_or(Error::UnknownElementType)?),
            };
            let info = info_id(copy.info_id).ok_or(Error::UnknownInfoId)?;
            Request::GetConfigurationData { pvd: copy.pvd, kind, info }
        }
        MIF_REQ_TRANSLATE_NAME => {
            needs(name_end)?;
            if copy.name.is_null() {
                return Err(Error::NullArgument);
            }
            // SAFETY: non-NULL, and the application passes a NUL-terminated string.
            let text = unsafe { std::ffi::CStr::from_ptr(copy.name) };
            let text = text.to_str().map_err(|_| Error::BadName)?;
            let name = QueryName::parse(text).ok_or(Error::BadName)?;
            Request::TranslateName { pvd: copy.pvd, translation_id: copy.translation_id, name }
        }
        MIF_REQ_STOP_TRANSLATING_NAME => {
            needs(tid_end)?;
            Request::StopTranslatingName { translation_id: copy.translation_id }
        }
        MIF_REQ_CONNECT_TO_ADDRESS => {
            needs(remote_end)?;
            let mptcp = address_connect_flags(copy.connect_flags)?;
            Request::Connect { pvd: copy.pvd, connection_id: copy.connection_id, remote: remote()?, local: None, mptcp }
        }
        MIF_REQ_CONNECT_FROM_ADDRESS => {
            needs(local_end)?;
            let mptcp = address_connect_flags(copy.connect_flags)?;
            let (local, _) = checked_ip(&copy.local, Error::BadSource)?;
            let (pvd, connection_id, remote, local) = (copy.pvd, copy.connection_id, remote()?, Some(local));
            Request::Connect { pvd, connection_id, remote, local, mptcp }
        }
        MIF_REQ_CONNECT_TO_PVD => {
            needs(pvd_end)?;
            Request::ConnectToPvd { pvd: copy.pvd }
        }
        MIF_REQ_CANCEL_CONNECT => {
            needs(cid_end)?;
            Request::CancelConnect { connection_id: copy.connection_id }
        }
        MIF_REQ_CONNECT_TO_NAME => {
            needs(offset_of!(mif_request, connect_flags) + size_of::<u32>())?;
            // SAFETY: `copy` is the application's request; its pointers are its promise.
            unsafe { connect_to_name(&copy) }?
        }
        MIF_REQ_WATCH_CONNECTION => {
            needs(cid_end)?;
            Request::WatchConnection { connection_id: copy.connection_id }
        }
        MIF_REQ_WATCH_SOCKET => {
            needs(offset_of!(mif_request, socket) + size_of::<i32>())?;
            if copy.socket < 0 {
                return Err(Error::BadDescriptor);
            }
            Request::WatchSocket { connection_id: copy.connection_id, fd: copy.socket }
        }
        MIF_REQ_STOP_WATCHING_CONNECTION => {
            needs(cid_end)?;
            Request::StopWatching { connection_id: copy.connection_id }
        }
        MIF_REQ_CONNECTION_IDLE | MIF_REQ_CONNECTION_CAN_BE_BROKEN | MIF_REQ_CONNECTION_ACTIVE => {
            needs(cid_end)?;
            let intent = match copy.request_type {
                MIF_REQ_CONNECTION_IDLE => ConnectionIntent::Idle,
                MIF_REQ_CONNECTION_CAN_BE_BROKEN => ConnectionIntent::CanBeBroken,
                _ => ConnectionIntent::Active,
            };
            Request::ConnectionIntent { connection_id: copy.connection_id, intent }
        }
        MIF_REQ_GET_CONNECTION_STATES => {
            needs(ifindex_end)?;
            Request::GetConnectionStates { ifindex: (copy.ifindex != 0).then_some(copy.ifindex) }
        }
        MIF_REQ_WANT_CONNECT => Request::WantConnect,
        _ => return Err(Error::UnknownRequestType),
    })
}

/// The `connect_flags` of Connect to Address (From Address): `MIF_CONNECT_MPTCP` only.
/// A program built against an older header has no such field: `size` stops before it
/// and it reads as 0.
fn address_connect_flags(flags: mif_connect_flags) -> Result<bool, Error> {
    if flags & !MIF_CONNECT_MPTCP != 0 {
        return Err(Error::InvalidArgument);
    }
    Ok(flags == MIF_CONNECT_MPTCP)
}

/// Decodes a Connect to Name.
///
/// # Safety
/// `copy.name` is NULL or NUL-terminated; `copy.selections` is NULL or points to
/// `copy.selection_count` selections of the size the first one gives.
unsafe fn connect_to_name(copy: &mif_request) -> Result<Request, Error> {
    if copy.connect_flags & !(MIF_CONNECT_MPTCP | MIF_CONNECT_TRANSLATIONS | MIF_CONNECT_FOLLOW) != 0 {
        return Err(Error::InvalidArgument);
    }
    if copy.name.is_null() {
        return Err(Error::NullArgument);
    }
    // SAFETY: non-NULL, and the application passes a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(copy.name) }.to_str().map_err(|_| Error::BadName)?;
    let name = QueryName::parse(text).ok_or(Error::BadName)?;
    if copy.remote_port == 0 {
        return Err(Error::BadAddress);
    }
    let family = match copy.family_preference {
        MIF_FAMILY_PREFERENCE_IPV6_FIRST => FamilyPreference::V6First,
        MIF_FAMILY_PREFERENCE_IPV4_FIRST => FamilyPreference::V4First,
        MIF_FAMILY_PREFERENCE_IPV6_ONLY => FamilyPreference::V6Only,
        MIF_FAMILY_PREFERENCE_IPV4_ONLY => FamilyPreference::V4Only,
        _ => return Err(Error::InvalidArgument),
    };
    let timeout = match copy.timeout_ms {
        0 => None,
        ms @ 1..=3_600_000 => Some(Duration::from_millis(u64::from(ms))),
        _ => return Err(Error::InvalidArgument),
    };
    let attempt_delay = match copy.attempt_delay_ms {
        0 => None,
        ms @ 100..=2000 => Some(Duration::from_millis(u64::from(ms))),
        _ => return Err(Error::InvalidArgument),
    };
    if copy.selection_count > MIF_MAX_SELECTIONS {
        return Err(Error::InvalidArgument);
    }
    let mut selections = Vec::with_capacity(copy.selection_count);
    if copy.selection_count > 0 {
        if copy.selections.is_null() {
            return Err(Error::NullArgument);
        }
        let min = offset_of!(mif_selection, pvd) + size_of::<u64>();
        // SAFETY: the first element's size field is readable (the caller's guarantee).
        let stride = unsafe { ptr::read_unaligned(copy.selections.cast::<u32>()) } as usize;
        if stride < min || stride > size_of::<mif_selection>() {
            return Err(Error::BadSize);
        }
        for i in 0..copy.selection_count {
            // SAFETY: `selection_count` elements of `stride` bytes (the caller's
            // guarantee; every element has the first one's size, checked below).
            let at = unsafe { copy.selections.cast::<u8>().add(i * stride) }.cast::<mif_selection>();
            // SAFETY: as above: `stride` readable bytes at `at`.
            let (s, size) = unsafe { super::read_sized(at, min) }?;
            if size != stride {
                return Err(Error::BadSize);
            }
            if s.reserved != 0 {
                return Err(Error::InvalidArgument);
            }
            let target = match (s.ifindex, s.pvd) {
                (0, 0) => return Err(Error::BadSelection),
                (i, 0) => Target::Interface(i),
                (0, p) => Target::Pvd(p),
                _ => return Err(Error::BadSelection),
            };
            let preference = match s.preference {
                MIF_PREFERENCE_REQUIRE => Preference::Require,
                MIF_PREFERENCE_PREFER => Preference::Prefer,
                MIF_PREFERENCE_AVOID => Preference::Avoid,
                MIF_PREFERENCE_PROHIBIT => Preference::Prohibit,
                _ => return Err(Error::BadSelection),
            };
            selections.push(Selection { target, preference });
        }
    }
    Ok(Request::ConnectToName(ConnectToName {
        connection_id: copy.connection_id,
        name,
        port: copy.remote_port,
        selections,
        family,
        timeout,
        attempt_delay,
        mptcp: copy.connect_flags & MIF_CONNECT_MPTCP != 0,
        translations: copy.connect_flags & MIF_CONNECT_TRANSLATIONS != 0,
        follow: copy.connect_flags & MIF_CONNECT_FOLLOW != 0,
    }))
}

/// The snake_case name of a request type ("announce_interfaces", ...), static and
/// NUL-terminated; "unknown" for numbers this library does not define.
#[no_mangle]
pub extern "C" fn mif_request_type_name(request_type: mif_request_type) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), { request_type_name(request_type).as_ptr() })
}

fn request_type_name(request_type: mif_request_type) -> &'static CStr {
    match request_type {
        MIF_REQ_ANNOUNCE_INTERFACES => c"announce_interfaces",
        MIF_REQ_STOP_ANNOUNCING_INTERFACES => c"stop_announcing_interfaces",
        MIF_REQ_ANNOUNCE_PVDS => c"announce_pvds",
        MIF_REQ_STOP_ANNOUNCING_PVDS => c"stop_announcing_pvds",
        MIF_REQ_ANNOUNCE_ADDRESSES => c"announce_addresses",
        MIF_REQ_STOP_ANNOUNCING_ADDRESSES => c"stop_announcing_addresses",
        MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS => c"announce_config_elements",
        MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS => c"stop_announcing_config_elements",
        MIF_REQ_GET_CONFIGURATION_DATA => c"get_configuration_data",
        MIF_REQ_TRANSLATE_NAME => c"translate_name",
        MIF_REQ_STOP_TRANSLATING_NAME => c"stop_translating_name",
        MIF_REQ_CONNECT_TO_ADDRESS => c"connect_to_address",
        MIF_REQ_CONNECT_FROM_ADDRESS => c"connect_from_address",
        MIF_REQ_CONNECT_TO_PVD => c"connect_to_pvd",
        MIF_REQ_CANCEL_CONNECT => c"cancel_connect",
        MIF_REQ_CONNECT_TO_NAME => c"connect_to_name",
        MIF_REQ_WATCH_CONNECTION => c"watch_connection",
        MIF_REQ_WATCH_SOCKET => c"watch_socket",
        MIF_REQ_STOP_WATCHING_CONNECTION => c"stop_watching_connection",
        MIF_REQ_CONNECTION_IDLE => c"connection_idle",
        MIF_REQ_CONNECTION_CAN_BE_BROKEN => c"connection_can_be_broken",
        MIF_REQ_CONNECTION_ACTIVE => c"connection_active",
        MIF_REQ_GET_CONNECTION_STATES => c"get_connection_states",
        MIF_REQ_WANT_CONNECT => c"want_connect",
        _ => c"unknown",
    }
}

/// For the fuzz target (fuzz/fuzz_targets/request.rs): decodes `req` as
/// `mif_post_message` does (`request_from_c`) and checks the outcome against the raw
/// bytes, field by field, from the struct's layout: only the first `size` bytes count
/// (later fields read as 0 / NULL), a size outside `[8, sizeof(mif_request)]` or short
/// of the fields a type reads is `BadSize`, a set reserved field is `InvalidArgument`,
/// and a decoded request carries exactly the fields of its type. Panics when the
/// decoding breaks one of these. Returns the outcome in words, so that the target can
/// check that bytes past `size` change nothing.
///
/// # Safety
/// As for `request_from_c`: `req` is non-NULL and points to at least `max(4, req->size)`
/// readable bytes, and `req->name` is NULL or a NUL-terminated string when `size`
/// reaches it.
#[doc(hidden)]
pub unsafe fn fuzz_request_from_c(req: *const mif_request) -> String {
    // SAFETY: the caller's guarantee, passed on.
    let decoded = unsafe { request_from_c(req) };
    // SAFETY: the size field's 4 bytes are readable (the caller's guarantee).
    let size = unsafe { ptr::read_unaligned(req.cast::<u32>()) } as usize;
    let ours = size_of::<mif_request>();
    if !(2 * size_of::<u32>()..=ours).contains(&size) {
        assert_eq!(decoded, Err(Error::BadSize), "size {size}");
        return format!("{decoded:?}");
    }
    // The application's bytes over zeroes: what the library may know of the request.
    let mut raw = vec![0u8; ours];
    // SAFETY: `size` bytes are readable at `req` (the caller's guarantee) and `raw`
    // has room for them (size <= ours, checked above).
    unsafe { ptr::copy_nonoverlapping(req.cast::<u8>(), raw.as_mut_ptr(), size) };
    let bytes = |offset: usize, len: usize| raw.get(offset..offset + len).unwrap_or_default();
    let u32_at = |offset| u32::from_ne_bytes(bytes(offset, 4).try_into().unwrap_or_default());
    let u64_at = |offset| u64::from_ne_bytes(bytes(offset, 8).try_into().unwrap_or_default());
    let field_end = |offset: usize, len: usize| offset + len;
    let request_type = u32_at(offset_of!(mif_request, request_type));
    let ifindex = u32_at(offset_of!(mif_request, ifindex));
    let pvd = u64_at(offset_of!(mif_request, pvd));
    let element_type = u32_at(offset_of!(mif_request, element_type));
    let info = u32_at(offset_of!(mif_request, info_id));
    let translation_id = u64_at(offset_of!(mif_request, translation_id));
    let connection_id = u64_at(offset_of!(mif_request, connection_id));
    let name_at = offset_of!(mif_request, name);
    let remote_at = offset_of!(mif_request, remote);
    let port_at = offset_of!(mif_request, remote_port);
    let local_at = offset_of!(mif_request, local);
    let port = u16::from_ne_bytes(bytes(port_at, 2).try_into().unwrap_or_default());
    let connect_flags = u32_at(offset_of!(mif_request, connect_flags));
    let reserved_set = u32_at(offset_of!(mif_request, reserved)) != 0
        || bytes(offset_of!(mif_request, reserved2), 2) != [0, 0]
        || u32_at(offset_of!(mif_request, reserved3)) != 0
        || u32_at(offset_of!(mif_request, reserved4)) != 0;
    // The end of the last field each type reads.
    let needs = match request_type {
        MIF_REQ_ANNOUNCE_INTERFACES | MIF_REQ_STOP_ANNOUNCING_INTERFACES => 8,
        MIF_REQ_ANNOUNCE_PVDS | MIF_REQ_STOP_ANNOUNCING_PVDS => field_end(offset_of!(mif_request, ifindex), 4),
        MIF_REQ_ANNOUNCE_ADDRESSES
        | MIF_REQ_STOP_ANNOUNCING_ADDRESSES
        | MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS
        | MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS
        | MIF_REQ_CONNECT_TO_PVD => field_end(offset_of!(mif_request, pvd), 8),
        MIF_REQ_GET_CONFIGURATION_DATA => field_end(offset_of!(mif_request, info_id), 4),
        MIF_REQ_TRANSLATE_NAME => field_end(name_at, size_of::<*const c_char>()),
        MIF_REQ_STOP_TRANSLATING_NAME => field_end(offset_of!(mif_request, translation_id), 8),
        MIF_REQ_CONNECT_TO_ADDRESS => field_end(port_at, 2),
        MIF_REQ_CONNECT_FROM_ADDRESS => field_end(local_at, size_of::<mif_address>()),
        MIF_REQ_CANCEL_CONNECT => field_end(offset_of!(mif_request, connection_id), 8),
        MIF_REQ_CONNECT_TO_NAME => field_end(offset_of!(mif_request, connect_flags), 4),
        MIF_REQ_WATCH_CONNECTION
        | MIF_REQ_STOP_WATCHING_CONNECTION
        | MIF_REQ_CONNECTION_IDLE
        | MIF_REQ_CONNECTION_CAN_BE_BROKEN
        | MIF_REQ_CONNECTION_ACTIVE => field_end(offset_of!(mif_request, connection_id), 8),
        MIF_REQ_WATCH_SOCKET => field_end(offset_of!(mif_request, socket), 4),
        MIF_REQ_GET_CONNECTION_STATES => field_end(offset_of!(mif_request, ifindex), 4),
        MIF_REQ_WANT_CONNECT => 8,
        _ => {
            let want = if reserved_set { Error::InvalidArgument } else { Error::UnknownRequestType };
            assert_eq!(decoded, Err(want), "type {request_type}");
            return format!("{decoded:?}");
        }
    };
    if reserved_set {
        assert_eq!(decoded, Err(Error::InvalidArgument), "a reserved field is set");
        return format!("{decoded:?}");
    }
    if size < needs {
        assert_eq!(decoded, Err(Error::BadSize), "type {request_type}, size {size} < {needs}");
        return format!("{decoded:?}");
    }
    // An address field as the application wrote it: (family, reserved bytes, scope, 16 bytes).
    let address =
        |at: usize| (raw.get(at).copied().unwrap_or(0), bytes(at + 1, 3) != [0; 3], u32_at(at + 4), bytes(at + 8, 16));
    let ip_of_field = |(family, _, _, b): (u8, bool, u32, &[u8])| -> Option<IpAddr> {
        match family {
            MIF_FAMILY_IPV4 => <[u8; 4]>::try_from(b.get(..4)?).ok().map(IpAddr::from),
            MIF_FAMILY_IPV6 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
            _ => None,
        }
    };
    match (request_type, &decoded) {
        (MIF_REQ_ANNOUNCE_INTERFACES, Ok(Request::AnnounceInterfaces))
        | (MIF_REQ_STOP_ANNOUNCING_INTERFACES, Ok(Request::StopAnnouncingInterfaces)) => {}
        (MIF_REQ_ANNOUNCE_PVDS, Ok(Request::AnnouncePvds { ifindex: i }))
        | (MIF_REQ_STOP_ANNOUNCING_PVDS, Ok(Request::StopAnnouncingPvds { ifindex: i })) => assert_eq!(*i, ifindex),
        (MIF_REQ_ANNOUNCE_ADDRESSES, Ok(Request::AnnounceAddresses { pvd: p }))
        | (MIF_REQ_STOP_ANNOUNCING_ADDRESSES, Ok(Request::StopAnnouncingAddresses { pvd: p }))
        | (MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, Ok(Request::AnnounceElements { pvd: p }))
        | (MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, Ok(Request::StopAnnouncingElements { pvd: p }))
        | (MIF_REQ_CONNECT_TO_PVD, Ok(Request::ConnectToPvd { pvd: p })) => assert_eq!(*p, pvd),
        (MIF_REQ_STOP_TRANSLATING_NAME, Ok(Request::StopTranslatingName { translation_id: t })) => {
            assert_eq!(*t, translation_id)
        }
        (MIF_REQ_CANCEL_CONNECT, Ok(Request::CancelConnect { connection_id: c }))
        | (MIF_REQ_WATCH_CONNECTION, Ok(Request::WatchConnection { connection_id: c }))
        | (MIF_REQ_STOP_WATCHING_CONNECTION, Ok(Request::StopWatching { connection_id: c })) => {
            assert_eq!(*c, connection_id)
        }
        (
            MIF_REQ_CONNECTION_IDLE | MIF_REQ_CONNECTION_CAN_BE_BROKEN | MIF_REQ_CONNECTION_ACTIVE,
            Ok(Request::ConnectionIntent { connection_id: c, intent }),
        ) => {
            assert_eq!(*c, connection_id);
            let want = match request_type {
                MIF_REQ_CONNECTION_IDLE => ConnectionIntent::Idle,
                MIF_REQ_CONNECTION_CAN_BE_BROKEN => ConnectionIntent::CanBeBroken,
                _ => ConnectionIntent::Active,
            };
            assert_eq!(*intent, want);
        }
        (MIF_REQ_WATCH_SOCKET, result) => {
            let socket = u32_at(offset_of!(mif_request, socket)) as i32;
            match result {
                Ok(Request::WatchSocket { connection_id: c, fd }) => {
                    assert_eq!((*c, *fd), (connection_id, socket));
                    assert!(socket >= 0);
                }
                Err(Error::BadDescriptor) => assert!(socket < 0),
                other => panic!("watch_socket: unexpected {other:?}"),
            }
        }
        (MIF_REQ_GET_CONNECTION_STATES, Ok(Request::GetConnectionStates { ifindex: i })) => {
            assert_eq!(i.unwrap_or(0), ifindex);
            assert_ne!(*i, Some(0));
        }
        (MIF_REQ_WANT_CONNECT, Ok(Request::WantConnect)) => {}
        (MIF_REQ_GET_CONFIGURATION_DATA, Ok(Request::GetConfigurationData { pvd: p, kind, info: i })) => {
            assert_eq!(*p, pvd);
            assert_eq!(kind.map_or(MIF_ELEMENT_ANY, element_value), element_type);
            assert_eq!(info_value(*i), info);
        }
        (MIF_REQ_GET_CONFIGURATION_DATA, Err(Error::UnknownElementType)) => {
            assert!(element_type != MIF_ELEMENT_ANY && element_kind(element_type).is_none())
        }
        (MIF_REQ_GET_CONFIGURATION_DATA, Err(Error::UnknownInfoId)) => assert!(info_id(info).is_none()),
        (MIF_REQ_TRANSLATE_NAME, result) => {
            let pointer = usize::from_ne_bytes(bytes(name_at, size_of::<usize>()).try_into().unwrap_or_default());
            if pointer == 0 {
                assert_eq!(*result, Err(Error::NullArgument));
                return format!("{decoded:?}");
            }
            // SAFETY: non-NULL, and a NUL-terminated string (the caller's guarantee).
            let text = unsafe { CStr::from_ptr(pointer as *const c_char) };
            match (text.to_str().ok().and_then(QueryName::parse), result) {
                (Some(want), Ok(Request::TranslateName { pvd: p, translation_id: t, name })) => {
                    assert_eq!((*p, *t, name), (pvd, translation_id, &want));
                    let ascii = &name.ascii;
                    assert!(!ascii.is_empty() && ascii.len() <= 253 && ascii.is_ascii(), "{ascii:?}");
                    assert!(ascii.split('.').all(|l| !l.is_empty() && l.len() <= 63), "{ascii:?}");
                    assert_eq!(name.absolute, text.to_bytes().ends_with(b"."));
                }
                (None, Err(Error::BadName)) => {}
                (want, got) => panic!("name {text:?}: expected {want:?}, decoded {got:?}"),
            }
        }
        (MIF_REQ_CONNECT_TO_ADDRESS | MIF_REQ_CONNECT_FROM_ADDRESS, result) => {
            let remote = address(remote_at);
            let local = address(local_at);
            let from = request_type == MIF_REQ_CONNECT_FROM_ADDRESS;
            match result {
                Ok(Request::Connect { pvd: p, connection_id: c, remote: r, local: l, mptcp }) => {
                    assert_eq!((*p, *c), (pvd, connection_id));
                    assert_eq!(*mptcp, connect_flags == MIF_CONNECT_MPTCP);
                    assert!(connect_flags & !MIF_CONNECT_MPTCP == 0, "unknown connect flags accepted");
                    assert!(!(remote.1 || (from && local.1)), "reserved address bytes accepted");
                    assert_eq!((Some(r.ip()), r.port()), (ip_of_field(remote), port));
                    assert!(port != 0 && !r.ip().is_unspecified() && !r.ip().is_multicast());
                    assert_ne!(r.ip(), IpAddr::from([255, 255, 255, 255]));
                    match r {
                        SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), remote.2),
                        SocketAddr::V4(_) => assert_eq!(remote.2, 0),
                    }
                    if from {
                        let want = ip_of_field(local);
                        assert!(want.is_some() && *l == want, "local {l:?}, expected {want:?}");
                        assert!(!(want.is_some_and(|ip| ip.is_ipv4()) && local.2 != 0));
                    } else {
                        assert_eq!(*l, None);
                    }
                }
                Err(Error::InvalidArgument) => {
                    assert!(remote.1 || (from && local.1) || connect_flags & !MIF_CONNECT_MPTCP != 0)
                }
                Err(Error::BadAddress) => {
                    let ip = ip_of_field(remote);
                    let v4_scope = ip.is_some_and(|ip| ip.is_ipv4()) && remote.2 != 0;
                    let bad = ip.is_none_or(|ip| {
                        ip.is_unspecified() || ip.is_multicast() || ip == IpAddr::from([255, 255, 255, 255])
                    });
                    assert!(bad || v4_scope || port == 0, "remote {remote:?} port {port} refused");
                }
                Err(Error::BadSource) => {
                    let ip = ip_of_field(local);
                    assert!(from && (ip.is_none() || (ip.is_some_and(|ip| ip.is_ipv4()) && local.2 != 0)));
                }
                other => panic!("connect: unexpected {other:?}"),
            }
        }
        (MIF_REQ_CONNECT_TO_NAME, result) => {
            // SAFETY: the caller's guarantee, passed on (name and selections pointers).
            unsafe { check_connect_to_name(&raw, result) }
        }
        (_, other) => panic!("type {request_type}, size {size}: unexpected {other:?}"),
    }
    format!("{decoded:?}")
}

/// For the fuzz target and its seeds: the memory a non-zero `selections` field points
/// to, from the input's bytes after the name: as many selections as any count the
/// library reads (`MIF_MAX_SELECTIONS` of our size), zeroes past the bytes given,
/// aligned for `mif_selection`.
#[doc(hidden)]
pub fn fuzz_selections(bytes: &[u8]) -> Vec<mif_selection> {
    let mut out = vec![mif_selection::default(); MIF_MAX_SELECTIONS];
    let len = bytes.len().min(MIF_MAX_SELECTIONS * size_of::<mif_selection>());
    // SAFETY: `out` owns MIF_MAX_SELECTIONS selections, plain integers that any bytes
    // make valid; `len` is at most their size.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().cast::<u8>(), len) };
    out
}

/// `fuzz_request_from_c` for a Connect to Name: the outcome follows from the fields.
///
/// # Safety
/// As for `fuzz_request_from_c`: `name` is NULL or NUL-terminated, `selections` NULL or
/// pointing to `selection_count` selections of the first one's size (when the count is
/// at most `MIF_MAX_SELECTIONS`).
unsafe fn check_connect_to_name(raw: &[u8], result: &Result<Request, Error>) {
    let at = |offset: usize, len: usize| raw.get(offset..offset + len).unwrap_or_default();
    let u32_at = |offset| u32::from_ne_bytes(at(offset, 4).try_into().unwrap_or_default());
    let usize_at = |offset| usize::from_ne_bytes(at(offset, size_of::<usize>()).try_into().unwrap_or_default());
    let flags = u32_at(offset_of!(mif_request, connect_flags));
    let family = u32_at(offset_of!(mif_request, family_preference));
    let timeout = u32_at(offset_of!(mif_request, timeout_ms));
    let delay = u32_at(offset_of!(mif_request, attempt_delay_ms));
    let count = usize_at(offset_of!(mif_request, selection_count));
    let selections = usize_at(offset_of!(mif_request, selections)) as *const u8;
    let name = usize_at(offset_of!(mif_request, name)) as *const c_char;
    let port = u16::from_ne_bytes(at(offset_of!(mif_request, remote_port), 2).try_into().unwrap_or_default());
    let out_of_range = flags & !(MIF_CONNECT_MPTCP | MIF_CONNECT_TRANSLATIONS | MIF_CONNECT_FOLLOW) != 0
        || family > MIF_FAMILY_PREFERENCE_IPV4_ONLY
        || timeout > 3_600_000
        || (delay != 0 && !(100..=2000).contains(&delay))
        || count > MIF_MAX_SELECTIONS;
    // SAFETY: non-NULL and NUL-terminated (the caller's guarantee).
    let parsed = (!name.is_null()).then(|| unsafe { CStr::from_ptr(name) }.to_str().ok().and_then(QueryName::parse));
    // Each selection as the application wrote it: (size, preference, ifindex, reserved, pvd).
    let mut fields = Vec::new();
    if count > 0 && count <= MIF_MAX_SELECTIONS && !selections.is_null() {
        // SAFETY: the first selection's size field is readable (the caller's guarantee).
        let stride = unsafe { ptr::read_unaligned(selections.cast::<u32>()) } as usize;
        if (size_of::<mif_selection>()..=size_of::<mif_selection>()).contains(&stride) {
            for i in 0..count {
                // SAFETY: `count` selections of `stride` bytes (the caller's guarantee).
                let s = unsafe { ptr::read_unaligned(selections.add(i * stride).cast::<mif_selection>()) };
                fields.push(s);
            }
        }
    }
    match result {
        Ok(Request::ConnectToName(c)) => {
            assert!(!out_of_range && port != 0, "accepted out of range: {c:?}");
            assert_eq!(Some(Some(c.name.clone())), parsed);
            assert_eq!((c.connection_id, c.port), (u64_of(at(offset_of!(mif_request, connection_id), 8)), port));
            assert_eq!(c.timeout.map_or(0, |d| d.as_millis() as u32), timeout);
            assert_eq!(c.attempt_delay.map_or(0, |d| d.as_millis() as u32), delay);
            assert_eq!((c.mptcp, c.translations, c.follow), (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0));
            assert_eq!(c.selections.len(), count);
            for (s, raw) in c.selections.iter().zip(&fields) {
                let target = match s.target {
                    Target::Interface(i) => (i, 0),
                    Target::Pvd(p) => (0, p),
                };
                assert_eq!(target, (raw.ifindex, raw.pvd));
                assert!(target.0 == 0 || target.1 == 0);
                assert_eq!(raw.reserved, 0);
            }
        }
        Err(Error::InvalidArgument) => {
            assert!(out_of_range || fields.iter().any(|s| s.reserved != 0), "InvalidArgument without a cause")
        }
        Err(Error::NullArgument) => assert!(name.is_null() || (count > 0 && selections.is_null())),
        Err(Error::BadName) => assert_eq!(parsed, Some(None)),
        Err(Error::BadAddress) => assert_eq!(port, 0),
        Err(Error::BadSize) => assert!(count > 0 && !selections.is_null()),
        Err(Error::BadSelection) => assert!(fields.iter().any(|s| {
            (s.ifindex == 0) == (s.pvd == 0)
                || !(MIF_PREFERENCE_REQUIRE..=MIF_PREFERENCE_PROHIBIT).contains(&s.preference)
        })),
        other => panic!("connect to name: unexpected {other:?}"),
    }
}

fn u64_of(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes.try_into().unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Runs `fuzz_request_from_c` as the fuzz target does, with `size` bytes backed: the
    /// struct from `input`, zeroes after it, a non-zero `name` pointing to the rest up to
    /// a NUL, a non-zero `selections` to what follows that NUL (`fuzz_selections`).
    fn decode(input: &[u8]) -> String {
        let ours = size_of::<mif_request>();
        let (head, tail) = input.split_at(input.len().min(ours));
        let mut name: Vec<u8> = tail.iter().copied().take_while(|b| *b != 0).collect();
        let selections = crate::fuzzing::fuzz_selections(tail.get(name.len() + 1..).unwrap_or_default());
        name.push(0);
        let mut buf = vec![0u64; 64]; // 512 bytes, aligned
                                      // SAFETY: 512 bytes, owned; viewed as bytes only here.
        let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), 512) };
        bytes[..head.len()].copy_from_slice(head);
        let at = offset_of!(mif_request, name);
        if bytes[at..at + 8].iter().any(|b| *b != 0) {
            bytes[at..at + 8].copy_from_slice(&(name.as_ptr() as usize).to_ne_bytes());
        }
        let at = offset_of!(mif_request, selections);
        if bytes[at..at + 8].iter().any(|b| *b != 0) {
            bytes[at..at + 8].copy_from_slice(&(selections.as_ptr() as usize).to_ne_bytes());
        }
        let size = u32::from_ne_bytes(bytes[..4].try_into().unwrap());
        assert!(size <= 512 || size as usize > ours, "the test backs at most 512 bytes");
        // SAFETY: at least `size` readable bytes when size <= 512 (and no more are read
        // past our struct, which the larger sizes are refused for); `name` is alive.
        unsafe { fuzz_request_from_c(buf.as_ptr().cast::<mif_request>()) }
    }

    #[test]
    fn fuzz_seeds_keep_the_promises() {
        // The fuzz target's seeds: mif_request structs as a C program fills them
        // (fuzz/tools/request_seeds.c).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/request");
        let mut outcomes = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            outcomes.push((name, decode(&std::fs::read(&path).unwrap())));
        }
        outcomes.sort();
        let outcome = |file: &str| &outcomes.iter().find(|(n, _)| n == file).unwrap().1;
        assert!(outcomes.len() >= 20);
        assert_eq!(outcome("announce-interfaces.bin"), "Ok(AnnounceInterfaces)");
        assert_eq!(outcome("announce-pvds.bin"), "Ok(AnnouncePvds { ifindex: 2 })");
        assert!(outcome("translate-name-idna.bin").contains("xn--bcher-kva.example"));
        assert_eq!(outcome("translate-name-null.bin"), "Err(NullArgument)");
        assert_eq!(outcome("older-header-stop-translating.bin"), "Ok(StopTranslatingName { translation_id: 7 })");
        assert_eq!(outcome("older-header-too-short.bin"), "Err(BadSize)");
        assert_eq!(outcome("watch-socket.bin"), "Ok(WatchSocket { connection_id: 13, fd: 3 })");
        assert_eq!(outcome("watch-socket-negative.bin"), "Err(BadDescriptor)");
        assert_eq!(outcome("get-connection-states.bin"), "Ok(GetConnectionStates { ifindex: None })");
        assert_eq!(outcome("newer-header.bin"), "Err(BadSize)");
        assert!(outcome("connect-to-address-v6-scoped.bin").contains("[fe80::1%2]:443"));
        assert!(outcome("connect-to-name.bin").contains("ascii: \"www.example.com\""));
        let selections = outcome("connect-to-name-selections.bin");
        assert!(selections.contains("target: Interface(3), preference: Prefer"), "{selections}");
        assert!(selections.contains("target: Pvd(5), preference: Avoid"), "{selections}");
        assert!(selections.contains("family: V4First") && selections.contains("150ms"), "{selections}");
        assert_eq!(outcome("connect-to-name-bad-selection.bin"), "Err(BadSelection)");
    }

    #[test]
    fn fuzz_checks_small_sizes_and_reserved_fields() {
        for size in 0u32..=16 {
            let mut input = size.to_ne_bytes().to_vec();
            input.extend_from_slice(&MIF_REQ_ANNOUNCE_PVDS.to_ne_bytes());
            input.extend_from_slice(&[2, 0, 0, 0, 1, 0, 0, 0]); // ifindex 2, reserved 1
            let want = match size {
                0..=11 => "Err(BadSize)",
                // The reserved field is past the size: not the application's.
                12 => "Ok(AnnouncePvds { ifindex: 2 })",
                _ => "Err(InvalidArgument)",
            };
            // Bytes past `size` are zeroes to the library (the reserved byte, too).
            let truncated = &input[..(size as usize).clamp(4, input.len())];
            assert_eq!(decode(truncated), want, "size {size}");
        }
    }
}
