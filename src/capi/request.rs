//! `mif_request`: request types, the struct the application fills, its init function,
//! and its decoding into the runtime's `Request`.

use std::ffi::{c_char, CStr};
use std::mem::{offset_of, size_of};
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::ptr;

use super::address::{ip_of, mif_address};
use super::constants::*;
use super::status::*;
use super::{read_sized, write_prefix};
use crate::core::dns::QueryName;
use crate::core::Error;
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
pub const MIF_REQ_STOP_TRANSLATING_NAME: mif_request_type = 11;
/// Draft 3.2.7.22: connect (TCP) to `remote`:`remote_port` from `pvd` (0: the default
/// PvD), racing its source addresses (docs/connections.md); `connection_id` is the
/// application's and must not be in use by an outstanding connection attempt.
pub const MIF_REQ_CONNECT_TO_ADDRESS: mif_request_type = 12;
/// Draft 3.2.7.23: the same from the given `local` address, which must be a valid
/// address of `pvd` (else `MIF_E_BAD_SOURCE`).
pub const MIF_REQ_CONNECT_FROM_ADDRESS: mif_request_type = 13;
/// Draft 3.2.7.21: choose `pvd` as the default for later requests that name pvd 0.
pub const MIF_REQ_CONNECT_TO_PVD: mif_request_type = 14;
/// Our addition: cancel outstanding connection attempt `connection_id`. A final
/// `MIF_MSG_NOT_CONNECTED` with error ECANCELED is queued before the call returns. Once
/// the result is queued the connect is no longer outstanding (MIF_E_UNKNOWN_CONNECTION).
pub const MIF_REQ_CANCEL_CONNECT: mif_request_type = 15;

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
    pub element_type: u32,
    /// `MIF_INFO_*`, for `MIF_REQ_GET_CONFIGURATION_DATA`.
    pub info_id: u32,
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
    if copy.reserved2 != 0 || copy.reserved3 != 0 {
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
            Request::Connect { pvd: copy.pvd, connection_id: copy.connection_id, remote: remote()?, local: None }
        }
        MIF_REQ_CONNECT_FROM_ADDRESS => {
            needs(local_end)?;
            let (local, _) = checked_ip(&copy.local, Error::BadSource)?;
            Request::Connect { pvd: copy.pvd, connection_id: copy.connection_id, remote: remote()?, local: Some(local) }
        }
        MIF_REQ_CONNECT_TO_PVD => {
            needs(pvd_end)?;
            Request::ConnectToPvd { pvd: copy.pvd }
        }
        MIF_REQ_CANCEL_CONNECT => {
            needs(cid_end)?;
            Request::CancelConnect { connection_id: copy.connection_id }
        }
        _ => return Err(Error::UnknownRequestType),
    })
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
        _ => c"unknown",
    }
}
