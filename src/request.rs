//! Requests as the application posts them, read from C memory as far as `size` says.
use std::mem::{offset_of, size_of};

use crate::ffi::*;
use crate::model::{ElementKind, InfoId};

/// A validated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    AnnounceInterfaces,
    StopAnnouncingInterfaces,
    AnnouncePvds { ifindex: u32 },
    StopAnnouncingPvds { ifindex: u32 },
    AnnounceAddresses { pvd: u64 },
    StopAnnouncingAddresses { pvd: u64 },
    AnnounceElements { pvd: u64 },
    StopAnnouncingElements { pvd: u64 },
    GetConfigurationData { pvd: u64, kind: Option<ElementKind>, info: InfoId },
    TranslateName { pvd: u64, translation_id: u64, name: crate::dns::QueryName },
    StopTranslatingName { translation_id: u64 },
    Connect { pvd: u64, connection_id: u64, remote: std::net::SocketAddr, local: Option<std::net::IpAddr> },
    ConnectToPvd { pvd: u64 },
    CancelConnect { connection_id: u64 },
}

/// A `mif_address` as an IP address with its scope; `None` for an unknown family.
pub(crate) fn ip_of(a: &mif_address) -> Option<(std::net::IpAddr, u32)> {
    match a.family {
        MIF_FAMILY_IPV4 => {
            let b: [u8; 4] = a.bytes[..4].try_into().ok()?;
            Some((std::net::IpAddr::from(b), 0))
        }
        MIF_FAMILY_IPV6 => Some((std::net::IpAddr::from(a.bytes), a.scope_id)),
        _ => None,
    }
}

/// Reads a `mif_request` whose `size` the application set.
///
/// # Safety
/// `req` must be non-NULL and point to at least `req->size` readable bytes.
pub(crate) unsafe fn from_c(req: *const mif_request) -> Result<Request, mif_result> {
    // The size field comes first; read it alone before trusting anything else.
    let size = unsafe { std::ptr::read_unaligned(req.cast::<u32>()) } as usize;
    let header_end = offset_of!(mif_request, request_type) + size_of::<u32>();
    if size < header_end || size > size_of::<mif_request>() {
        return Err(MIF_E_BAD_SIZE);
    }
    // Copy the prefix the application knows of; later fields stay zero.
    let mut copy = mif_request::default();
    unsafe {
        std::ptr::copy_nonoverlapping(req.cast::<u8>(), (&mut copy as *mut mif_request).cast::<u8>(), size);
    }
    let needs = |end: usize| if size >= end { Ok(()) } else { Err(MIF_E_BAD_SIZE) };
    let ifindex_end = offset_of!(mif_request, ifindex) + size_of::<u32>();
    let pvd_end = offset_of!(mif_request, pvd) + size_of::<u64>();
    let info_end = offset_of!(mif_request, info_id) + size_of::<u32>();
    let tid_end = offset_of!(mif_request, translation_id) + size_of::<u64>();
    let name_end = offset_of!(mif_request, name) + size_of::<*const std::ffi::c_char>();
    let remote_end = offset_of!(mif_request, remote_port) + size_of::<u16>();
    let local_end = offset_of!(mif_request, local) + size_of::<mif_address>();
    let cid_end = offset_of!(mif_request, connection_id) + size_of::<u64>();
    if copy.reserved2 != 0 || copy.reserved3 != 0 {
        return Err(MIF_E_INVALID_ARGUMENT);
    }
    let remote = || -> Result<std::net::SocketAddr, mif_result> {
        let (ip, scope) = ip_of(&copy.remote).ok_or(MIF_E_BAD_ADDRESS)?;
        if copy.remote_port == 0 || ip.is_unspecified() || ip.is_multicast() {
            return Err(MIF_E_BAD_ADDRESS);
        }
        Ok(match ip {
            std::net::IpAddr::V6(v6) => std::net::SocketAddr::V6(std::net::SocketAddrV6::new(v6, copy.remote_port, 0, scope)),
            v4 => std::net::SocketAddr::new(v4, copy.remote_port),
        })
    };
    if copy.reserved != 0 {
        return Err(MIF_E_INVALID_ARGUMENT);
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
                other => Some(element_kind(other).ok_or(MIF_E_UNKNOWN_ELEMENT_TYPE)?),
            };
            let info = match copy.info_id {
                MIF_INFO_ALL => InfoId::All,
                MIF_INFO_DNS_SERVERS => InfoId::DnsServers,
                MIF_INFO_SEARCH_DOMAINS => InfoId::SearchDomains,
                MIF_INFO_ROUTERS => InfoId::Routers,
                MIF_INFO_MTU => InfoId::Mtu,
                _ => return Err(MIF_E_UNKNOWN_INFO_ID),
            };
            Request::GetConfigurationData { pvd: copy.pvd, kind, info }
        }
        MIF_REQ_TRANSLATE_NAME => {
            needs(name_end)?;
            if copy.name.is_null() {
                return Err(MIF_E_NULL_ARGUMENT);
            }
            let text = unsafe { std::ffi::CStr::from_ptr(copy.name) };
            let text = text.to_str().map_err(|_| MIF_E_BAD_NAME)?;
            let name = crate::dns::QueryName::parse(text).ok_or(MIF_E_BAD_NAME)?;
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
            let (local, _) = ip_of(&copy.local).ok_or(MIF_E_BAD_SOURCE)?;
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
        _ => return Err(MIF_E_UNKNOWN_REQUEST_TYPE),
    })
}

/// Our stable C value of an element type to the model's kind.
pub(crate) fn element_kind(value: u32) -> Option<ElementKind> {
    match value {
        MIF_ELEMENT_RA => Some(ElementKind::Ra),
        MIF_ELEMENT_DHCPV4 => Some(ElementKind::Dhcpv4),
        MIF_ELEMENT_DHCPV6 => Some(ElementKind::Dhcpv6),
        MIF_ELEMENT_STATIC => Some(ElementKind::Static),
        MIF_ELEMENT_SYSTEM => Some(ElementKind::System),
        _ => None,
    }
}

/// The model's kind to our stable C value.
pub(crate) fn element_value(kind: ElementKind) -> u32 {
    match kind {
        ElementKind::Ra => MIF_ELEMENT_RA,
        ElementKind::Dhcpv4 => MIF_ELEMENT_DHCPV4,
        ElementKind::Dhcpv6 => MIF_ELEMENT_DHCPV6,
        ElementKind::Static => MIF_ELEMENT_STATIC,
        ElementKind::System => MIF_ELEMENT_SYSTEM,
    }
}

pub(crate) fn info_value(info: InfoId) -> u32 {
    match info {
        InfoId::All => MIF_INFO_ALL,
        InfoId::DnsServers => MIF_INFO_DNS_SERVERS,
        InfoId::SearchDomains => MIF_INFO_SEARCH_DOMAINS,
        InfoId::Routers => MIF_INFO_ROUTERS,
        InfoId::Mtu => MIF_INFO_MTU,
    }
}
