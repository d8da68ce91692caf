//! Messages for the application: the model's announcements plus our own engine-failure
//! message, and their conversion into the C `mif_message`.
use std::ffi::{c_char, CString};
use std::net::IpAddr;

use crate::ffi::*;
use crate::model::{is_link_local, AddrFlags, AddrInfo, Announcement, ConfigData, Family, LinkFlags, PvdInfo, Scope};
use crate::connect::ConnectEvent;
use crate::dns::{DnsEvent, NameSource, Status};
use std::os::fd::IntoRawFd;
use crate::request::{element_value, info_value};

/// A queued message, still in Rust form (converted to C when taken).
#[derive(Debug)]
pub(crate) enum Message {
    Announcement(Announcement),
    Dns(DnsEvent),
    /// Owns the connected socket until the application takes the message.
    Connect(ConnectEvent),
    EngineFailed { status: mif_result, text: String },
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
}

impl OwnedMessage {
    pub(crate) fn into_raw(message: Message) -> *mut mif_message {
        let owned = Box::new(to_c(message));
        Box::into_raw(owned).cast::<mif_message>()
    }

    /// # Safety
    /// `msg` must come from `into_raw` and not have been freed.
    pub(crate) unsafe fn from_raw(msg: *mut mif_message) {
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
    }
}

fn socket_address(a: &std::net::SocketAddr) -> (mif_address, u16) {
    let scope = match a {
        std::net::SocketAddr::V6(v6) => v6.scope_id(),
        _ => 0,
    };
    (c_address(&a.ip(), scope), a.port())
}

fn translation_status(status: Status) -> u32 {
    match status {
        Status::Done => MIF_TRANSLATION_DONE,
        Status::NoSuchName => MIF_TRANSLATION_NO_SUCH_NAME,
        Status::NoData => MIF_TRANSLATION_NO_DATA,
        Status::Timeout => MIF_TRANSLATION_TIMEOUT,
        Status::ServerFailure => MIF_TRANSLATION_SERVER_FAILURE,
        Status::NoServers => MIF_TRANSLATION_NO_SERVERS,
        Status::Cancelled => MIF_TRANSLATION_CANCELLED,
    }
}

fn copy_name<const N: usize>(dst: &mut [c_char; N], src: &str) {
    for (d, s) in dst.iter_mut().zip(src.bytes().take(N - 1)) {
        *d = s as c_char;
    }
}

fn link_flags(f: LinkFlags) -> u32 {
    (if f.up { MIF_LINK_UP } else { 0 })
        | (if f.running { MIF_LINK_RUNNING } else { 0 })
        | (if f.loopback { MIF_LINK_LOOPBACK } else { 0 })
        | (if f.pointopoint { MIF_LINK_POINTOPOINT } else { 0 })
}

fn address_flags(f: AddrFlags) -> u32 {
    (if f.temporary { MIF_ADDRESS_TEMPORARY } else { 0 })
        | (if f.deprecated { MIF_ADDRESS_DEPRECATED } else { 0 })
        | (if f.tentative { MIF_ADDRESS_TENTATIVE } else { 0 })
        | (if f.dadfailed { MIF_ADDRESS_DADFAILED } else { 0 })
        | (if f.permanent { MIF_ADDRESS_PERMANENT } else { 0 })
        | (if f.optimistic { MIF_ADDRESS_OPTIMISTIC } else { 0 })
}

fn family(f: Family) -> u8 {
    match f {
        Family::V4 => MIF_FAMILY_IPV4,
        Family::V6 => MIF_FAMILY_IPV6,
    }
}

fn scope(s: Scope) -> u8 {
    match s {
        Scope::Global | Scope::Other(_) => MIF_SCOPE_GLOBAL,
        Scope::Site => MIF_SCOPE_SITE,
        Scope::Link => MIF_SCOPE_LINK,
        Scope::Host => MIF_SCOPE_HOST,
    }
}

/// An address seen on interface `ifindex`: link-local ones carry it as their scope.
fn c_address_on(addr: &IpAddr, ifindex: u32) -> mif_address {
    c_address(addr, if is_link_local(addr) && addr.is_ipv6() { ifindex } else { 0 })
}

pub(crate) fn c_address(addr: &IpAddr, scope_id: u32) -> mif_address {
    let mut out = mif_address::default();
    match addr {
        IpAddr::V4(a) => {
            out.family = MIF_FAMILY_IPV4;
            out.bytes[..4].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.family = MIF_FAMILY_IPV6;
            out.bytes = a.octets();
            out.scope_id = scope_id;
        }
    }
    out
}

/// Text form of an address; `None` for an unknown family.
pub(crate) fn format_address(addr: &mif_address) -> Option<String> {
    match addr.family {
        MIF_FAMILY_IPV4 => {
            let b: [u8; 4] = addr.bytes[..4].try_into().ok()?;
            Some(std::net::Ipv4Addr::from(b).to_string())
        }
        MIF_FAMILY_IPV6 => {
            let text = std::net::Ipv6Addr::from(addr.bytes).to_string();
            Some(if addr.scope_id != 0 { format!("{text}%{}", addr.scope_id) } else { text })
        }
        _ => None,
    }
}

fn fill_pvd(m: &mut mif_message, pvd: &PvdInfo) {
    m.ifindex = pvd.ifindex;
    copy_name(&mut m.ifname, &pvd.ifname);
    m.pvd = pvd.id;
    copy_name(&mut m.pvd_name, &pvd.name);
    m.family = family(pvd.family);
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
struct Lists {
    dns_servers: Vec<mif_address>,
    routers: Vec<mif_address>,
    domains: Vec<CString>,
}

/// Link-local addresses in the lists are only usable with their interface as scope.
fn lists_of(data: &ConfigData, ifindex: u32) -> Lists {
    let addr = |a: &IpAddr| c_address_on(a, ifindex);
    Lists {
        dns_servers: data.dns_servers.iter().map(addr).collect(),
        routers: data.routers.iter().map(addr).collect(),
        domains: data.search_domains.iter().map(|d| cstring(d)).collect(),
    }
}

fn to_c(message: Message) -> OwnedMessage {
    let mut m = empty();
    let mut text = None;
    let mut origin = None;
    let mut name = None;
    let mut lists = Lists { dns_servers: Vec::new(), routers: Vec::new(), domains: Vec::new() };
    match message {
        Message::Announcement(a) => match a {
            Announcement::Interface { ifindex, ref name, flags } | Announcement::NoInterface { ifindex, ref name, flags } => {
                m.msg_type = if matches!(a, Announcement::Interface { .. }) {
                    MIF_MSG_INTERFACE_ANNOUNCEMENT
                } else {
                    MIF_MSG_NO_INTERFACE_ANNOUNCEMENT
                };
                m.ifindex = ifindex;
                copy_name(&mut m.ifname, name);
                m.link_flags = link_flags(flags);
            }
            Announcement::Pvd(ref pvd) => {
                m.msg_type = MIF_MSG_PVD_ANNOUNCEMENT;
                fill_pvd(&mut m, pvd);
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
                m.mtu = element.data.mtu.unwrap_or(0);
                lists = lists_of(&element.data, pvd.ifindex);
            }
            Announcement::ConfigData { ref pvd, kind, info, ref data } => {
                m.msg_type = MIF_MSG_CONFIGURATION_DATA;
                fill_pvd(&mut m, pvd);
                m.element_type = kind.map_or(MIF_ELEMENT_ANY, element_value);
                m.info_id = info_value(info);
                m.mtu = data.mtu.unwrap_or(0);
                lists = lists_of(data, pvd.ifindex);
            }
            Announcement::NoConfigData { ref pvd, kind, info } => {
                m.msg_type = MIF_MSG_NO_CONFIGURATION_DATA;
                fill_pvd(&mut m, pvd);
                m.element_type = kind.map_or(MIF_ELEMENT_ANY, element_value);
                m.info_id = info_value(info);
            }
        },
        Message::Dns(DnsEvent::Address { translation_id, ref pvd, addr, ttl, source, name: ref n, .. }) => {
            m.msg_type = MIF_MSG_NAME_TRANSLATION;
            fill_pvd(&mut m, pvd);
            m.translation_id = translation_id;
            m.address = c_address_on(&addr, pvd.ifindex);
            m.ttl = ttl;
            m.name_source = match source {
                NameSource::Hosts => MIF_NAME_SOURCE_HOSTS,
                NameSource::Dns => MIF_NAME_SOURCE_DNS,
            };
            name = Some(cstring(n));
        }
        Message::Dns(DnsEvent::Done { translation_id, ref pvd, status, name: ref n, .. }) => {
            m.msg_type = MIF_MSG_NAME_TRANSLATION_DONE;
            fill_pvd(&mut m, pvd);
            m.translation_id = translation_id;
            m.translation_status = translation_status(status);
            name = Some(cstring(n));
        }
        Message::Connect(ConnectEvent::Connected { connection_id, pvd, fd, local, remote, elapsed, .. }) => {
            m.msg_type = MIF_MSG_CONNECTED;
            fill_pvd(&mut m, &pvd);
            m.connection_id = connection_id;
            (m.local, m.local_port) = socket_address(&local);
            (m.remote, m.remote_port) = socket_address(&remote);
            m.elapsed_us = elapsed.as_micros().min(u128::from(u64::MAX)) as u64;
            // From here on the descriptor is the application's.
            m.fd = fd.into_raw_fd();
        }
        Message::Connect(ConnectEvent::NotConnected { connection_id, pvd, remote, error, text: t, elapsed, .. }) => {
            m.msg_type = MIF_MSG_NOT_CONNECTED;
            fill_pvd(&mut m, &pvd);
            m.connection_id = connection_id;
            (m.remote, m.remote_port) = socket_address(&remote);
            m.error = error;
            m.elapsed_us = elapsed.as_micros().min(u128::from(u64::MAX)) as u64;
            text = Some(cstring(&t));
        }
        Message::EngineFailed { status, text: t } => {
            m.msg_type = MIF_MSG_ENGINE_FAILED;
            m.status = status;
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
    };
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
    owned
}
