//! The other constant families of the C API (translation status, name source,
//! element types, information identifiers, lifetimes, address and link flags,
//! scopes, name sizes), their names, and the maps between them and the core's values.

use std::ffi::c_char;

use crate::core::dns::{NameSource, Status};
use crate::core::model::{AddrFlags, ElementKind, Family, GoingAwayReason, GoingUpReason, InfoId, LinkFlags, Scope};

use super::address::{MIF_FAMILY_IPV4, MIF_FAMILY_IPV6};

/// How a name translation ended (`MIF_TRANSLATION_*`, `mif_message.translation_status`).
pub type mif_translation_status = u32;
/// `translation_status`: at least one address was found.
pub const MIF_TRANSLATION_DONE: mif_translation_status = 1;
/// `translation_status`: the name does not exist (NXDOMAIN), with every search domain.
pub const MIF_TRANSLATION_NO_SUCH_NAME: mif_translation_status = 2;
/// `translation_status`: the name exists but has no A or AAAA record.
pub const MIF_TRANSLATION_NO_DATA: mif_translation_status = 3;
/// `translation_status`: no server answered in time.
pub const MIF_TRANSLATION_TIMEOUT: mif_translation_status = 4;
/// `translation_status`: the servers answered with errors (SERVFAIL, REFUSED, an ICMP
/// unreachable) or could not be sent to. A reply that does not parse or does not match
/// the query is ignored like a forgery, so junk alone ends in `MIF_TRANSLATION_TIMEOUT`.
pub const MIF_TRANSLATION_SERVER_FAILURE: mif_translation_status = 5;
/// `translation_status`: the provisioning domain has no DNS server, or went away
/// before or during the translation.
pub const MIF_TRANSLATION_NO_SERVERS: mif_translation_status = 6;
/// `translation_status`: stopped by `MIF_REQ_STOP_TRANSLATING_NAME`.
pub const MIF_TRANSLATION_CANCELLED: mif_translation_status = 7;
/// Where a translated address came from (`MIF_NAME_SOURCE_*`, `mif_message.name_source`).
pub type mif_name_source = u32;
/// `name_source`: the hosts file (`<root_dir>/etc/hosts`).
pub const MIF_NAME_SOURCE_HOSTS: mif_name_source = 1;
/// `name_source`: DNS, through the provisioning domain's own servers.
pub const MIF_NAME_SOURCE_DNS: mif_name_source = 2;
/// Our addition: `name_source`: an earlier DNS answer through the same provisioning
/// domain's servers, from the context's cache (docs/name-translation.md, "Cache");
/// `ttl` is what is left of the answer's. `mif_options.flags` `MIF_OPTION_NO_DNS_CACHE`
/// turns the cache off.
pub const MIF_NAME_SOURCE_CACHE: mif_name_source = 3;
/// Our addition: the name was an IPv4 or IPv6 address, which translates to itself with
/// no lookup (`ttl` 0), as with getaddrinfo; Connect to Name then races that address
/// over the networks its selections allow.
pub const MIF_NAME_SOURCE_LITERAL: mif_name_source = 4;

/// A configuration element type (`MIF_ELEMENT_*`).
pub type mif_element_type = u32;
/// Configuration element type: any (only in `MIF_REQ_GET_CONFIGURATION_DATA`).
pub const MIF_ELEMENT_ANY: mif_element_type = 0;
/// Configuration element type: an IPv6 Router Advertisement (RDNSS, DNSSL, default router).
pub const MIF_ELEMENT_RA: mif_element_type = 1;
/// Configuration element type: a DHCPv4 lease.
pub const MIF_ELEMENT_DHCPV4: mif_element_type = 2;
/// Configuration element type: a DHCPv6 lease.
pub const MIF_ELEMENT_DHCPV6: mif_element_type = 3;
/// Configuration element type: declared by the operator or a network manager (static).
pub const MIF_ELEMENT_STATIC: mif_element_type = 4;
/// Configuration element type: the host-wide /etc/resolv.conf, attached to the
/// provisioning domain(s) holding the default route.
pub const MIF_ELEMENT_SYSTEM: mif_element_type = 5;
/// A configuration information identifier (`MIF_INFO_*`).
pub type mif_info_id = u32;
/// Configuration information identifier: every list at once.
pub const MIF_INFO_ALL: mif_info_id = 0;
/// Configuration information identifier: DNS servers (`dns_servers`).
pub const MIF_INFO_DNS_SERVERS: mif_info_id = 1;
/// Configuration information identifier: DNS search domains (`search_domains`).
pub const MIF_INFO_SEARCH_DOMAINS: mif_info_id = 2;
/// Configuration information identifier: default routers (`routers`).
pub const MIF_INFO_ROUTERS: mif_info_id = 3;
/// Configuration information identifier: link MTU (`mtu`).
pub const MIF_INFO_MTU: mif_info_id = 4;
/// Configuration information identifier (our addition): the captive portal API URI of
/// RFC 8910 (`captive_portal`), from Router Advertisements.
pub const MIF_INFO_CAPTIVE_PORTAL: mif_info_id = 5;
/// Configuration information identifier (our addition): the NAT64 prefix of RFC 8781
/// (`pref64`, `pref64_len`), from Router Advertisements.
pub const MIF_INFO_PREF64: mif_info_id = 6;

/// Whether a provisioning domain's configuration is complete (`MIF_CONFIG_STATE_*`,
/// `mif_message.config_state`).
pub type mif_config_state = u32;
/// Why an interface or provisioning domain is going away
/// (`mif_message.going_away_reason`, `MIF_MSG_INTERFACE_GOING_AWAY`).
pub type mif_going_away_reason = u32;
/// `going_away_reason`: the link lost its carrier while administratively up (a cable
/// pulled, Wi-Fi out of range, the far end down): the whole interface (`pvd` 0), now
/// (`deadline_ms` 0). Its PvDs' No Address / No PvD announcements follow.
pub const MIF_GOING_AWAY_CARRIER_LOST: mif_going_away_reason = 1;
/// `going_away_reason`: every address of the PvD is deprecated (its preferred
/// lifetime over: the router or DHCP server stopped renewing it) and still valid;
/// `deadline_ms` is when the last valid lifetime ends.
pub const MIF_GOING_AWAY_ADDRESSES_DEPRECATED: mif_going_away_reason = 2;
/// `going_away_reason`: every address of the PvD has a finite valid lifetime and the
/// longest ends within the horizon (`mif_options.going_away_horizon_ms`, 60 s by
/// default) with nothing refreshing it; `deadline_ms` is when it ends.
pub const MIF_GOING_AWAY_LIFETIME_ENDING: mif_going_away_reason = 3;
/// `going_away_reason`: the PvD's default router withdrew itself (a Router
/// Advertisement with router lifetime 0) or its router lifetime ran out: the last
/// default route of its family through its interface is gone while its addresses stay
/// (nothing beyond the link is reachable through it); `deadline_ms` 0. Cancelled when a
/// default route comes back.
pub const MIF_GOING_AWAY_ROUTER_WITHDRAWN: mif_going_away_reason = 4;
/// `going_away_reason`: every default route of the PvD was learned from Router
/// Advertisements and the last router lifetime ends within the horizon with no new RA
/// (the router stopped advertising); `deadline_ms` is its end. Cancelled when an RA
/// renews it; followed by `MIF_GOING_AWAY_ROUTER_WITHDRAWN` when it runs out (the same
/// end: that second message may be left out).
pub const MIF_GOING_AWAY_ROUTER_LIFETIME_ENDING: mif_going_away_reason = 5;
/// `going_away_reason`: every address of the PvD was leased by a DHCP client whose
/// lease file the library reads (systemd-networkd, dhcpcd, dhclient, udhcpc) and the
/// last lease ends within the horizon without a renewal; `deadline_ms` is its end (the
/// earlier of the lease file's lifetime and the address's). Cancelled when the lease is
/// renewed beyond the horizon, sent again when a renewal moves the end within it.
pub const MIF_GOING_AWAY_LEASE_ENDING: mif_going_away_reason = 6;
/// Why an interface is going up, i.e. what it still waits for
/// (`mif_message.going_up_reason`, `MIF_MSG_INTERFACE_GOING_UP`).
pub type mif_going_up_reason = u32;
/// `going_up_reason`: administratively up, no carrier yet (no cable, no association,
/// the far end down).
pub const MIF_GOING_UP_NO_CARRIER: mif_going_up_reason = 1;
/// `going_up_reason`: carrier, but no usable address yet (duplicate address detection
/// running, a Router Advertisement or a DHCP lease expected).
pub const MIF_GOING_UP_NO_ADDRESS: mif_going_up_reason = 2;
/// `going_up_reason`: carrier, no usable address yet, and the link manager says it is
/// configuring the link (systemd-networkd's per-link state: `ADMIN_STATE=configuring`,
/// `pending` or `initialized`).
pub const MIF_GOING_UP_CONFIGURING: mif_going_up_reason = 3;
/// Our addition: why a watched connection's path is gone
/// (`mif_message.connection_gone_reason`, `MIF_MSG_CONNECTION_GONE`).
pub type mif_connection_gone_reason = u32;
/// `connection_gone_reason`: its local address was removed from the interface.
pub const MIF_CONNECTION_GONE_ADDRESS_REMOVED: mif_connection_gone_reason = 1;
/// `connection_gone_reason`: the address is still on the interface but its
/// provisioning domain went: the carrier was lost or the interface taken down.
pub const MIF_CONNECTION_GONE_PVD_LOST: mif_connection_gone_reason = 2;
/// `connection_gone_reason`: the interface vanished.
pub const MIF_CONNECTION_GONE_INTERFACE_REMOVED: mif_connection_gone_reason = 3;
/// Our addition: what a `MIF_REQ_WANT_CONNECT` did (`mif_message.want_connect_outcome`,
/// `MIF_MSG_WANT_CONNECT_OUTCOME`; docs/connectivity.md).
pub type mif_want_connect_outcome = u32;
/// Nothing to do: every interface that is up has a provisioning domain (draft
/// 3.2.7.26.1: "a no-op").
pub const MIF_WANT_CONNECT_NO_OP: mif_want_connect_outcome = 1;
/// Router Solicitations went out (`solicitations` of them) on up IPv6 links without an
/// IPv6 provisioning domain; no operator hook is configured.
pub const MIF_WANT_CONNECT_SOLICITED: mif_want_connect_outcome = 2;
/// The operator's hook ran to its end; `hook_status` is its exit status (0 success),
/// or minus the signal that ended it. Solicitations may have gone too.
pub const MIF_WANT_CONNECT_HOOK_RAN: mif_want_connect_outcome = 3;
/// The hook ran longer than its timeout and was killed (SIGKILL).
pub const MIF_WANT_CONNECT_HOOK_TIMED_OUT: mif_want_connect_outcome = 4;
/// The hook could not be started: missing, not executable, or not an absolute path
/// (`error` holds errno).
pub const MIF_WANT_CONNECT_HOOK_FAILED: mif_want_connect_outcome = 5;
/// Something is not operational but nothing could be done: no IPv6 link to solicit
/// on, or solicitations not permitted (no CAP_NET_RAW), and no hook configured.
pub const MIF_WANT_CONNECT_NOTHING_POSSIBLE: mif_want_connect_outcome = 6;
/// `mif_message.config_state` (our addition): the message does not say.
pub const MIF_CONFIG_STATE_NONE: mif_config_state = 0;
/// `config_state`: the provisioning domain's configuration is complete: its routers
/// answered, or it is configured by DHCP, a link manager or static configuration, or
/// the learning window passed (docs/configuration.md, "Readiness").
pub const MIF_CONFIG_STATE_COMPLETE: mif_config_state = 1;
/// `config_state`: the provisioning domain's configuration is still being learned
/// (after the context opened, its link came up, or a Router Solicitation); a
/// `MIF_MSG_PVD_CONFIGURATION_COMPLETE` follows for PvD subscribers.
pub const MIF_CONFIG_STATE_LEARNING: mif_config_state = 2;

/// A lifetime in seconds (`mif_message.valid_lifetime`, `preferred_lifetime`, `lifetime`).
pub type mif_lifetime = u32;
/// `mif_message.valid_lifetime` / `preferred_lifetime` value meaning "forever".
pub const MIF_LIFETIME_INFINITE: mif_lifetime = 0xffff_ffff;

/// Address flag bits (`MIF_ADDRESS_*`, `mif_message.address_flags`).
pub type mif_address_flags = u32;
/// Address flag: an IPv6 temporary (privacy) address, RFC 8981.
pub const MIF_ADDRESS_TEMPORARY: mif_address_flags = 1;
/// Address flag: its preferred lifetime is over; do not use for new connections.
pub const MIF_ADDRESS_DEPRECATED: mif_address_flags = 2;
/// Address flag: duplicate address detection is still running; not usable yet.
pub const MIF_ADDRESS_TENTATIVE: mif_address_flags = 4;
/// Address flag: duplicate address detection failed; never usable.
pub const MIF_ADDRESS_DADFAILED: mif_address_flags = 8;
/// Address flag: configured by the operator (static), not learned from the network.
pub const MIF_ADDRESS_PERMANENT: mif_address_flags = 16;
/// Address flag: optimistic DAD (RFC 4429): usable while DAD runs.
pub const MIF_ADDRESS_OPTIMISTIC: mif_address_flags = 32;
/// An address scope (`MIF_SCOPE_*`, `mif_message.scope`).
pub type mif_scope = u8;
/// Address scope: global (includes IPv6 ULA and private IPv4).
pub const MIF_SCOPE_GLOBAL: mif_scope = 0;
/// Address scope: site (deprecated IPv6 site-local).
pub const MIF_SCOPE_SITE: mif_scope = 1;
/// Address scope: link.
pub const MIF_SCOPE_LINK: mif_scope = 2;
/// Address scope: host (loopback).
pub const MIF_SCOPE_HOST: mif_scope = 3;
/// Interface flag bits (`MIF_LINK_*`, `mif_message.link_flags`).
pub type mif_link_flags = u32;
/// Interface flag: administratively up.
pub const MIF_LINK_UP: mif_link_flags = 1;
/// Interface flag: operationally up (carrier present).
pub const MIF_LINK_RUNNING: mif_link_flags = 2;
/// Interface flag: a loopback interface.
pub const MIF_LINK_LOOPBACK: mif_link_flags = 4;
/// Interface flag: a point-to-point interface (tunnels, PPP).
pub const MIF_LINK_POINTOPOINT: mif_link_flags = 8;

/// Size of `mif_message.ifname` (IFNAMSIZ).
pub const MIF_IFNAME_SIZE: usize = 16;
/// Size of `mif_message.pvd_name`.
pub const MIF_PVD_NAME_SIZE: usize = 32;

/// The lowercase name of a configuration element type ("ra", "dhcpv4", "dhcpv6",
/// "static", "system", "any"), static and NUL-terminated; "unknown" otherwise.
#[no_mangle]
pub extern "C" fn mif_element_type_name(element_type: mif_element_type) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), {
        match element_type {
            MIF_ELEMENT_ANY => c"any",
            MIF_ELEMENT_RA => c"ra",
            MIF_ELEMENT_DHCPV4 => c"dhcpv4",
            MIF_ELEMENT_DHCPV6 => c"dhcpv6",
            MIF_ELEMENT_STATIC => c"static",
            MIF_ELEMENT_SYSTEM => c"system",
            _ => c"unknown",
        }
        .as_ptr()
    })
}

/// Our addition: the lowercase name of a going-away reason ("carrier_lost",
/// "addresses_deprecated", "lifetime_ending", "router_withdrawn",
/// "router_lifetime_ending", "lease_ending"), static and NUL-terminated; "unknown"
/// otherwise.
#[no_mangle]
pub extern "C" fn mif_going_away_reason_name(reason: mif_going_away_reason) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), {
        match reason {
            MIF_GOING_AWAY_CARRIER_LOST => c"carrier_lost",
            MIF_GOING_AWAY_ADDRESSES_DEPRECATED => c"addresses_deprecated",
            MIF_GOING_AWAY_LIFETIME_ENDING => c"lifetime_ending",
            MIF_GOING_AWAY_ROUTER_WITHDRAWN => c"router_withdrawn",
            MIF_GOING_AWAY_ROUTER_LIFETIME_ENDING => c"router_lifetime_ending",
            MIF_GOING_AWAY_LEASE_ENDING => c"lease_ending",
            _ => c"unknown",
        }
        .as_ptr()
    })
}

/// Our addition: the lowercase name of a going-up reason ("no_carrier", "no_address",
/// "configuring"), static and NUL-terminated; "unknown" otherwise.
#[no_mangle]
pub extern "C" fn mif_going_up_reason_name(reason: mif_going_up_reason) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), {
        match reason {
            MIF_GOING_UP_NO_CARRIER => c"no_carrier",
            MIF_GOING_UP_NO_ADDRESS => c"no_address",
            MIF_GOING_UP_CONFIGURING => c"configuring",
            _ => c"unknown",
        }
        .as_ptr()
    })
}

/// The lowercase name of a translation status ("done", "no_such_name", "no_data",
/// "timeout", "server_failure", "no_servers", "cancelled"), static; "unknown" otherwise.
#[no_mangle]
pub extern "C" fn mif_translation_status_name(status: mif_translation_status) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), {
        match status {
            MIF_TRANSLATION_DONE => c"done",
            MIF_TRANSLATION_NO_SUCH_NAME => c"no_such_name",
            MIF_TRANSLATION_NO_DATA => c"no_data",
            MIF_TRANSLATION_TIMEOUT => c"timeout",
            MIF_TRANSLATION_SERVER_FAILURE => c"server_failure",
            MIF_TRANSLATION_NO_SERVERS => c"no_servers",
            MIF_TRANSLATION_CANCELLED => c"cancelled",
            _ => c"unknown",
        }
        .as_ptr()
    })
}

/// Our stable C value of an element type to the core's kind.
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

/// The core's kind to our stable C value.
pub(crate) fn element_value(kind: ElementKind) -> u32 {
    match kind {
        ElementKind::Ra => MIF_ELEMENT_RA,
        ElementKind::Dhcpv4 => MIF_ELEMENT_DHCPV4,
        ElementKind::Dhcpv6 => MIF_ELEMENT_DHCPV6,
        ElementKind::Static => MIF_ELEMENT_STATIC,
        ElementKind::System => MIF_ELEMENT_SYSTEM,
    }
}

/// Our stable C value of an information identifier to the core's.
pub(crate) fn info_id(value: u32) -> Option<InfoId> {
    match value {
        MIF_INFO_ALL => Some(InfoId::All),
        MIF_INFO_DNS_SERVERS => Some(InfoId::DnsServers),
        MIF_INFO_SEARCH_DOMAINS => Some(InfoId::SearchDomains),
        MIF_INFO_ROUTERS => Some(InfoId::Routers),
        MIF_INFO_MTU => Some(InfoId::Mtu),
        MIF_INFO_CAPTIVE_PORTAL => Some(InfoId::CaptivePortal),
        MIF_INFO_PREF64 => Some(InfoId::Pref64),
        _ => None,
    }
}

pub(crate) fn info_value(info: InfoId) -> u32 {
    match info {
        InfoId::All => MIF_INFO_ALL,
        InfoId::DnsServers => MIF_INFO_DNS_SERVERS,
        InfoId::SearchDomains => MIF_INFO_SEARCH_DOMAINS,
        InfoId::Routers => MIF_INFO_ROUTERS,
        InfoId::Mtu => MIF_INFO_MTU,
        InfoId::CaptivePortal => MIF_INFO_CAPTIVE_PORTAL,
        InfoId::Pref64 => MIF_INFO_PREF64,
    }
}

pub(crate) fn going_up_reason_value(reason: GoingUpReason) -> mif_going_up_reason {
    match reason {
        GoingUpReason::NoCarrier => MIF_GOING_UP_NO_CARRIER,
        GoingUpReason::NoAddress => MIF_GOING_UP_NO_ADDRESS,
        GoingUpReason::Configuring => MIF_GOING_UP_CONFIGURING,
    }
}

pub(crate) fn going_away_reason_value(reason: GoingAwayReason) -> mif_going_away_reason {
    match reason {
        GoingAwayReason::CarrierLost => MIF_GOING_AWAY_CARRIER_LOST,
        GoingAwayReason::AddressesDeprecated => MIF_GOING_AWAY_ADDRESSES_DEPRECATED,
        GoingAwayReason::LifetimeEnding => MIF_GOING_AWAY_LIFETIME_ENDING,
        GoingAwayReason::RouterWithdrawn => MIF_GOING_AWAY_ROUTER_WITHDRAWN,
        GoingAwayReason::RouterLifetimeEnding => MIF_GOING_AWAY_ROUTER_LIFETIME_ENDING,
        GoingAwayReason::LeaseEnding => MIF_GOING_AWAY_LEASE_ENDING,
    }
}

pub(crate) fn name_source_value(source: NameSource) -> u32 {
    match source {
        NameSource::Hosts => MIF_NAME_SOURCE_HOSTS,
        NameSource::Dns => MIF_NAME_SOURCE_DNS,
        NameSource::Cache => MIF_NAME_SOURCE_CACHE,
        NameSource::Literal => MIF_NAME_SOURCE_LITERAL,
    }
}

pub(crate) fn translation_status(status: Status) -> u32 {
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

pub(crate) fn link_flags(f: LinkFlags) -> u32 {
    (if f.up { MIF_LINK_UP } else { 0 })
        | (if f.running { MIF_LINK_RUNNING } else { 0 })
        | (if f.loopback { MIF_LINK_LOOPBACK } else { 0 })
        | (if f.pointopoint { MIF_LINK_POINTOPOINT } else { 0 })
}

pub(crate) fn address_flags(f: AddrFlags) -> u32 {
    (if f.temporary { MIF_ADDRESS_TEMPORARY } else { 0 })
        | (if f.deprecated { MIF_ADDRESS_DEPRECATED } else { 0 })
        | (if f.tentative { MIF_ADDRESS_TENTATIVE } else { 0 })
        | (if f.dadfailed { MIF_ADDRESS_DADFAILED } else { 0 })
        | (if f.permanent { MIF_ADDRESS_PERMANENT } else { 0 })
        | (if f.optimistic { MIF_ADDRESS_OPTIMISTIC } else { 0 })
}

pub(crate) fn family(f: Family) -> u8 {
    match f {
        Family::V4 => MIF_FAMILY_IPV4,
        Family::V6 => MIF_FAMILY_IPV6,
    }
}

pub(crate) fn scope(s: Scope) -> u8 {
    match s {
        Scope::Global | Scope::Other(_) => MIF_SCOPE_GLOBAL,
        Scope::Site => MIF_SCOPE_SITE,
        Scope::Link => MIF_SCOPE_LINK,
        Scope::Host => MIF_SCOPE_HOST,
    }
}
