//! The C ABI: every exported function, type and constant of `include/mif.h`.
//!
//! Rules kept here (see README.md, "API conventions"):
//! - every export runs inside `ffi_guard!`, so no panic crosses the ABI;
//! - every pointer argument is NULL-checked before use;
//! - out-parameters are written only on success;
//! - structs the application fills start with a `size` field and are read
//!   only as far as that size reaches.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::context::Context;
use crate::message::OwnedMessage;
use crate::request::{self, Request};

/// Status code returned by every fallible function. `MIF_OK` (0) is success,
/// `MIF_NO_MESSAGE` (1) is "nothing waiting" and not an error; every other
/// value is an error. Numbers are stable and never reused.
pub type mif_result = i32;

/// Success.
pub const MIF_OK: mif_result = 0;
/// No message is waiting (from `mif_check_message` and `mif_get_message`). Not an error.
pub const MIF_NO_MESSAGE: mif_result = 1;

// 100-199: the caller passed something wrong on its face.
/// A required pointer argument was NULL.
pub const MIF_E_NULL_ARGUMENT: mif_result = 100;
/// A struct's `size` field is smaller than the fields this call needs, or larger than this library knows.
pub const MIF_E_BAD_SIZE: mif_result = 101;
/// The request type is not one this library knows.
pub const MIF_E_UNKNOWN_REQUEST_TYPE: mif_result = 102;
/// An argument is out of range (a timeout below -1, reserved fields not zero, an unknown option flag).
pub const MIF_E_INVALID_ARGUMENT: mif_result = 103;
/// A name to translate is empty, not UTF-8, or too long after IDNA (a label over 63
/// octets, the name over 253).
pub const MIF_E_BAD_NAME: mif_result = 104;

// 200-299: the request does not fit the current state.
/// The interface index names no interface the context currently knows.
pub const MIF_E_UNKNOWN_INTERFACE: mif_result = 200;
/// The provisioning domain id names no provisioning domain currently present.
pub const MIF_E_UNKNOWN_PVD: mif_result = 201;
/// A Stop request for a subscription that is not active.
pub const MIF_E_NOT_SUBSCRIBED: mif_result = 202;
/// The configuration element type is not one of `MIF_ELEMENT_*`.
pub const MIF_E_UNKNOWN_ELEMENT_TYPE: mif_result = 203;
/// The configuration information identifier is not one of `MIF_INFO_*`.
pub const MIF_E_UNKNOWN_INFO_ID: mif_result = 204;
/// The translation id is already used by an outstanding translation.
pub const MIF_E_DUPLICATE_ID: mif_result = 205;
/// No outstanding translation has this id.
pub const MIF_E_UNKNOWN_TRANSLATION: mif_result = 206;
/// No outstanding connection attempt has this id.
pub const MIF_E_UNKNOWN_CONNECTION: mif_result = 207;
/// The source address is not a valid address of the provisioning domain.
pub const MIF_E_BAD_SOURCE: mif_result = 208;
/// The request names no provisioning domain (pvd 0) and no default was chosen with
/// `MIF_REQ_CONNECT_TO_PVD`.
pub const MIF_E_NO_DEFAULT_PVD: mif_result = 209;
/// The address is unusable here: wrong family for the provisioning domain, port 0,
/// unspecified or multicast.
pub const MIF_E_BAD_ADDRESS: mif_result = 105;

// 300-399: the library or the system failed.
/// The engine thread has stopped after a failure; the context can only be closed.
pub const MIF_E_ENGINE_FAILED: mif_result = 300;
/// A wait was interrupted by a signal (EINTR).
pub const MIF_E_INTERRUPTED: mif_result = 301;
/// A system call failed (socket, eventfd, thread creation, netlink dump).
pub const MIF_E_SYSTEM: mif_result = 302;
/// An internal error: a panic was caught at the API boundary.
pub const MIF_E_INTERNAL: mif_result = 303;
/// The system denied an operation the library needs (EPERM/EACCES).
pub const MIF_E_PERMISSION: mif_result = 304;

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

/// Type of a request the application posts (`mif_request.request_type`).
pub type mif_request_type = u32;
/// Draft 3.2.7.1: announce every interface now and as they come and go.
pub const MIF_REQ_ANNOUNCE_INTERFACES: mif_request_type = 1;
/// Draft 3.2.7.2.
pub const MIF_REQ_STOP_ANNOUNCING_INTERFACES: mif_request_type = 2;
/// Draft 3.2.7.5: announce the provisioning domains of interface `ifindex`.
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
/// Answered by one `MIF_MSG_CONFIGURATION_DATA` or `MIF_MSG_NO_CONFIGURATION_DATA`,
/// queued before the post returns.
pub const MIF_REQ_GET_CONFIGURATION_DATA: mif_request_type = 9;

/// Draft 3.2.7.18: translate `name` on provisioning domain `pvd`; `translation_id` is
/// the application's and must not be in use by an outstanding translation.
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

/// `translation_status`: at least one address was found.
pub const MIF_TRANSLATION_DONE: u32 = 1;
/// `translation_status`: the name does not exist (NXDOMAIN), with every search domain.
pub const MIF_TRANSLATION_NO_SUCH_NAME: u32 = 2;
/// `translation_status`: the name exists but has no A or AAAA record.
pub const MIF_TRANSLATION_NO_DATA: u32 = 3;
/// `translation_status`: no server answered in time.
pub const MIF_TRANSLATION_TIMEOUT: u32 = 4;
/// `translation_status`: the servers answered with errors (SERVFAIL, REFUSED, an ICMP
/// unreachable) or could not be sent to. A reply that does not parse or does not match
/// the query is ignored like a forgery, so junk alone ends in `MIF_TRANSLATION_TIMEOUT`.
pub const MIF_TRANSLATION_SERVER_FAILURE: u32 = 5;
/// `translation_status`: the provisioning domain has no DNS server, or went away
/// before or during the translation.
pub const MIF_TRANSLATION_NO_SERVERS: u32 = 6;
/// `translation_status`: stopped by `MIF_REQ_STOP_TRANSLATING_NAME`.
pub const MIF_TRANSLATION_CANCELLED: u32 = 7;

/// `name_source`: the hosts file (`<root_dir>/etc/hosts`).
pub const MIF_NAME_SOURCE_HOSTS: u32 = 1;
/// `name_source`: DNS, through the provisioning domain's own servers.
pub const MIF_NAME_SOURCE_DNS: u32 = 2;

/// Test-only `mif_options.test_flags` bit: never use SO_BINDTODEVICE, as on a kernel
/// that refuses it: UDP (DNS) is then pinned with IP_UNICAST_IF / IPV6_UNICAST_IF, and
/// TCP connects fail with EPERM because nothing else pins TCP to a link.
pub const MIF_TEST_NO_BINDTODEVICE: u32 = 2;

/// Configuration element type: any (only in `MIF_REQ_GET_CONFIGURATION_DATA`).
pub const MIF_ELEMENT_ANY: u32 = 0;
/// Configuration element type: an IPv6 Router Advertisement (RDNSS, DNSSL, default router).
pub const MIF_ELEMENT_RA: u32 = 1;
/// Configuration element type: a DHCPv4 lease.
pub const MIF_ELEMENT_DHCPV4: u32 = 2;
/// Configuration element type: a DHCPv6 lease.
pub const MIF_ELEMENT_DHCPV6: u32 = 3;
/// Configuration element type: declared by the operator or a network manager (static).
pub const MIF_ELEMENT_STATIC: u32 = 4;
/// Configuration element type: the host-wide /etc/resolv.conf, attached to the
/// provisioning domain(s) holding the default route.
pub const MIF_ELEMENT_SYSTEM: u32 = 5;

/// Configuration information identifier: every list at once.
pub const MIF_INFO_ALL: u32 = 0;
/// Configuration information identifier: DNS servers (`dns_servers`).
pub const MIF_INFO_DNS_SERVERS: u32 = 1;
/// Configuration information identifier: DNS search domains (`search_domains`).
pub const MIF_INFO_SEARCH_DOMAINS: u32 = 2;
/// Configuration information identifier: default routers (`routers`).
pub const MIF_INFO_ROUTERS: u32 = 3;
/// Configuration information identifier: link MTU (`mtu`).
pub const MIF_INFO_MTU: u32 = 4;

/// Address family values used in this API (not AF_INET / AF_INET6).
pub const MIF_FAMILY_IPV4: u8 = 4;
/// IPv6.
pub const MIF_FAMILY_IPV6: u8 = 6;

/// `mif_message.valid_lifetime` / `preferred_lifetime` value meaning "forever".
pub const MIF_LIFETIME_INFINITE: u32 = 0xffff_ffff;

/// Address flag: an IPv6 temporary (privacy) address, RFC 8981.
pub const MIF_ADDRESS_TEMPORARY: u32 = 1;
/// Address flag: its preferred lifetime is over; do not use for new connections.
pub const MIF_ADDRESS_DEPRECATED: u32 = 2;
/// Address flag: duplicate address detection is still running; not usable yet.
pub const MIF_ADDRESS_TENTATIVE: u32 = 4;
/// Address flag: duplicate address detection failed; never usable.
pub const MIF_ADDRESS_DADFAILED: u32 = 8;
/// Address flag: configured by the operator (static), not learned from the network.
pub const MIF_ADDRESS_PERMANENT: u32 = 16;
/// Address flag: optimistic DAD (RFC 4429): usable while DAD runs.
pub const MIF_ADDRESS_OPTIMISTIC: u32 = 32;

/// Address scope: global (includes IPv6 ULA and private IPv4).
pub const MIF_SCOPE_GLOBAL: u8 = 0;
/// Address scope: site (deprecated IPv6 site-local).
pub const MIF_SCOPE_SITE: u8 = 1;
/// Address scope: link.
pub const MIF_SCOPE_LINK: u8 = 2;
/// Address scope: host (loopback).
pub const MIF_SCOPE_HOST: u8 = 3;

/// Interface flag: administratively up.
pub const MIF_LINK_UP: u32 = 1;
/// Interface flag: operationally up (carrier present).
pub const MIF_LINK_RUNNING: u32 = 2;
/// Interface flag: a loopback interface.
pub const MIF_LINK_LOOPBACK: u32 = 4;
/// Interface flag: a point-to-point interface (tunnels, PPP).
pub const MIF_LINK_POINTOPOINT: u32 = 8;

/// Test-only `mif_options.test_flags` bit: the engine thread panics right after its
/// start, to exercise the engine-failure path. Never set it in production.
pub const MIF_TEST_PANIC_ENGINE: u32 = 1;

/// Test-only `mif_options.test_flags` bit: a `MIF_REQ_TRANSLATE_NAME` post panics in
/// the resolver work it does on the calling thread, once the translation started, to
/// exercise that failure path (the context ends as after an engine panic). Never set
/// it in production.
pub const MIF_TEST_PANIC_TRANSLATE: u32 = 8;

/// Size of `mif_message.ifname` (IFNAMSIZ).
pub const MIF_IFNAME_SIZE: usize = 16;
/// Size of `mif_message.pvd_name`.
pub const MIF_PVD_NAME_SIZE: usize = 32;
/// Buffer size that always fits `mif_address_format`'s output.
pub const MIF_ADDRESS_TEXT_SIZE: usize = 64;

/// An opaque library context: one subscriber, one engine thread, one message queue.
pub struct mif_ctx {
    pub(crate) inner: Context,
}

/// Options for `mif_open`. Fill with `mif_options_init` first, then change fields.
#[repr(C)]
pub struct mif_options {
    /// `sizeof(mif_options)` as the application was compiled; set by `mif_options_init`.
    pub size: u32,
    /// Reserved: must be 0.
    pub flags: u32,
    /// Directory under which every configuration and state file is looked up
    /// (/etc/resolv.conf, /run/...): NULL means "/". Tests point it at their own tree.
    /// The string is copied.
    pub root_dir: *const c_char,
    /// Test-only: SO_RCVBUF of the rtnetlink event socket in bytes; 0 = the library's default.
    pub netlink_rcvbuf: i32,
    /// Test-only: `MIF_TEST_*` bits; 0 in production.
    pub test_flags: u32,
    /// The static configuration file (docs/configuration.md); NULL means the
    /// environment variable MIF_CONFIG if set, else /etc/mif.conf. Like every path the
    /// library reads, it is taken under `root_dir`, whether absolute or relative. The
    /// string is copied.
    pub config_file: *const c_char,
    /// DNS: how long to wait for one server's answer, in milliseconds; 0 = 1000.
    pub dns_timeout_ms: u32,
    /// DNS: how many rounds over the provisioning domain's servers; 0 = 2.
    pub dns_tries: u32,
    /// Connections: Connection Attempt Delay between racing source addresses (RFC 8305),
    /// in milliseconds, 10 to 2000; 0 = 250.
    pub connect_attempt_delay_ms: u32,
    /// Connections: overall time limit of one connect request, in milliseconds; 0 = 10000.
    pub connect_timeout_ms: u32,
}

/// All fields zero, pointers NULL: what `mif_options_init` writes (besides `size`),
/// and what a field an older program does not know of reads as.
impl Default for mif_options {
    fn default() -> Self {
        mif_options {
            size: 0,
            flags: 0,
            root_dir: ptr::null(),
            netlink_rcvbuf: 0,
            test_flags: 0,
            config_file: ptr::null(),
            dns_timeout_ms: 0,
            dns_tries: 0,
            connect_attempt_delay_ms: 0,
            connect_timeout_ms: 0,
        }
    }
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

/// An IPv4 or IPv6 address.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct mif_address {
    /// `MIF_FAMILY_IPV4` or `MIF_FAMILY_IPV6`; 0 when the field is unused.
    pub family: u8,
    /// Reserved, 0.
    pub reserved: [u8; 3],
    /// IPv6 scope (interface index) for link-local addresses, else 0.
    pub scope_id: u32,
    /// The address in network byte order; IPv4 uses the first 4 bytes.
    pub bytes: [u8; 16],
}

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
    pub link_flags: u32,
    /// Interface name, NUL-terminated (all announcement messages).
    pub ifname: [c_char; 16],
    /// Provisioning domain id (PvD and address messages); ids are never reused within a context.
    pub pvd: u64,
    /// Provisioning domain name such as "eth0/ipv6", NUL-terminated (PvD and address messages).
    pub pvd_name: [c_char; 32],
    /// `MIF_FAMILY_*` of the provisioning domain (PvD and address messages).
    pub family: u8,
    /// Prefix length of the address (address messages).
    pub prefix_len: u8,
    /// `MIF_SCOPE_*` of the address (address messages).
    pub scope: u8,
    /// Reserved, 0.
    pub reserved: u8,
    /// `MIF_ADDRESS_*` bits (address messages).
    pub address_flags: u32,
    /// The address (address messages).
    pub address: mif_address,
    /// Seconds of valid lifetime left when the message was made; `MIF_LIFETIME_INFINITE` = forever.
    pub valid_lifetime: u32,
    /// Seconds of preferred lifetime left when the message was made; `MIF_LIFETIME_INFINITE` = forever.
    pub preferred_lifetime: u32,
    /// A readable detail (for `MIF_MSG_ENGINE_FAILED`), NUL-terminated, owned by the
    /// message; NULL when there is none.
    pub text: *const c_char,
    /// `MIF_ELEMENT_*` (configuration element and data messages).
    pub element_type: u32,
    /// `MIF_INFO_*` asked for (configuration data messages).
    pub info_id: u32,
    /// Configuration element id (element messages): kept by the same element while its
    /// interface exists, never given to another element.
    pub element_id: u64,
    /// The router or server the element came from; family 0 when unknown (element messages).
    pub source: mif_address,
    /// Where the library read the element: "rtnetlink" or a file path, NUL-terminated,
    /// owned by the message; NULL for other messages.
    pub origin: *const c_char,
    /// Seconds the element stays valid; `MIF_LIFETIME_INFINITE` = until withdrawn.
    pub lifetime: u32,
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
    pub translation_status: u32,
    /// `MIF_NAME_SOURCE_*` that gave the address (`MIF_MSG_NAME_TRANSLATION`).
    pub name_source: u32,
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
}

/// Runs `$body`, turning a panic into `$fallback`: no unwinding crosses the ABI.
macro_rules! ffi_guard {
    ($fallback:expr, $body:block) => {
        match catch_unwind(AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(_) => $fallback,
        }
    };
}

/// Turns a possibly-NULL pointer into a reference or returns `MIF_E_NULL_ARGUMENT`.
macro_rules! try_ref {
    ($ptr:expr) => {
        match unsafe { $ptr.as_ref() } {
            Some(r) => r,
            None => return MIF_E_NULL_ARGUMENT,
        }
    };
}

/// Fills `opts` with the defaults and sets `opts->size`. Call it through the header's
/// macro `mif_options_init(opts)`, which passes `sizeof(mif_options)` as the program was
/// compiled: the library then never writes past a struct from an older header.
///
/// `size` must cover at least the `size` field. Returns `MIF_OK`, `MIF_E_NULL_ARGUMENT`
/// (opts NULL) or `MIF_E_BAD_SIZE`. Thread safety: touches only `*opts`.
#[no_mangle]
pub extern "C" fn mif_options_init_sized(opts: *mut mif_options, size: usize) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if opts.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        if size < std::mem::size_of::<u32>() || size > u32::MAX as usize {
            return MIF_E_BAD_SIZE;
        }
        let defaults = mif_options { size: size as u32, ..mif_options::default() };
        unsafe { write_prefix(opts.cast::<u8>(), size, &defaults) };
        MIF_OK
    })
}

/// Zeroes `req`, sets `req->size` and `req->request_type = request_type`. Call it
/// through the header's macro `mif_request_init(req, type)`, which passes
/// `sizeof(mif_request)` as the program was compiled.
///
/// Returns `MIF_OK`, `MIF_E_NULL_ARGUMENT` (req NULL) or `MIF_E_BAD_SIZE` (`size` does
/// not cover `size` and `request_type`). The type is checked later, by
/// `mif_post_message`. Thread safety: touches only `*req`.
#[no_mangle]
pub extern "C" fn mif_request_init_sized(req: *mut mif_request, size: usize, request_type: mif_request_type) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if req.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        if size < 2 * std::mem::size_of::<u32>() || size > u32::MAX as usize {
            return MIF_E_BAD_SIZE;
        }
        let defaults = mif_request { size: size as u32, request_type, ..mif_request::default() };
        unsafe { write_prefix(req.cast::<u8>(), size, &defaults) };
        MIF_OK
    })
}

/// Writes the first `size` bytes of `value` to `dst` (zeroes past our own struct, for a
/// program compiled against a newer, larger one), never more than the caller's `size`.
///
/// # Safety
/// `dst` must be valid for `size` bytes of writes.
unsafe fn write_prefix<T>(dst: *mut u8, size: usize, value: &T) {
    let ours = std::mem::size_of::<T>();
    unsafe {
        ptr::write_bytes(dst, 0, size);
        ptr::copy_nonoverlapping((value as *const T).cast::<u8>(), dst, size.min(ours));
    }
}

/// Opens a context: reads the host's interfaces and addresses (an rtnetlink dump) and
/// starts the context's engine thread, which follows changes from then on.
///
/// `opts` may be NULL for the defaults; otherwise it must have been filled by
/// `mif_options_init`. On success `*ctx_out` receives the context, which the caller
/// owns and must close with `mif_close`; on failure `*ctx_out` is left untouched.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT` (ctx_out NULL); `MIF_E_BAD_SIZE`;
/// `MIF_E_INVALID_ARGUMENT` (reserved bits set, negative rcvbuf); `MIF_E_PERMISSION`;
/// `MIF_E_SYSTEM` (a socket, eventfd, dump or thread could not be made).
/// Thread safety: may be called from any thread.
#[no_mangle]
pub extern "C" fn mif_open(opts: *const mif_options, ctx_out: *mut *mut mif_ctx) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if ctx_out.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        let config = match unsafe { crate::context::Config::from_c(opts) } {
            Ok(c) => c,
            Err(code) => return code,
        };
        match Context::open(config) {
            Ok(inner) => {
                let boxed = Box::new(mif_ctx { inner });
                unsafe { *ctx_out = Box::into_raw(boxed) };
                MIF_OK
            }
            Err(code) => code,
        }
    })
}

/// Closes a context: stops its engine thread, frees every message still queued and
/// closes every descriptor the context owns (including the one `mif_fd` returned).
/// Messages already taken with `mif_get_message` stay valid until freed.
///
/// `ctx` may be NULL (no effect). No other thread may use `ctx` during or after this call.
#[no_mangle]
pub extern "C" fn mif_close(ctx: *mut mif_ctx) {
    ffi_guard!((), {
        if !ctx.is_null() {
            let boxed = unsafe { Box::from_raw(ctx) };
            drop(boxed);
        }
    })
}

/// The context's notification descriptor: an eventfd (CLOEXEC, NONBLOCK) that polls
/// readable exactly while at least one message waits. Put it in poll()/epoll (level
/// triggered) and call `mif_get_message` when it is readable. Never read, write or
/// close it: the library owns it and closes it in `mif_close`.
///
/// Returns the descriptor, or -1 if `ctx` is NULL. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_fd(ctx: *const mif_ctx) -> c_int {
    ffi_guard!(-1, {
        match unsafe { ctx.as_ref() } {
            Some(ctx) => ctx.inner.notify_fd(),
            None => -1,
        }
    })
}

/// Posts a request (draft 3.2.6.1). Returns at once: subscription requests are applied
/// before the call returns (their first announcements are queued by then); work that
/// waits on the network reports later, as messages.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT`; `MIF_E_BAD_SIZE` (`req->size` too small for
/// the request's fields or larger than this library's `mif_request`);
/// `MIF_E_UNKNOWN_REQUEST_TYPE`; `MIF_E_INVALID_ARGUMENT` (reserved field not 0);
/// `MIF_E_UNKNOWN_INTERFACE`; `MIF_E_UNKNOWN_PVD`; `MIF_E_NOT_SUBSCRIBED` (a Stop
/// without a matching start); `MIF_E_ENGINE_FAILED`.
/// The request is only read during the call. Thread safety: any number of threads may
/// post, check and get on one context at once.
#[no_mangle]
pub extern "C" fn mif_post_message(ctx: *mut mif_ctx, req: *const mif_request) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let ctx = try_ref!(ctx);
        if req.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        let request: Request = match unsafe { request::from_c(req) } {
            Ok(r) => r,
            Err(code) => return code,
        };
        ctx.inner.post(request)
    })
}

/// Checks for a waiting message (draft 3.2.6.2), like poll() on `mif_fd`.
///
/// `timeout_ms`: 0 = probe without blocking; > 0 = wait at most that many
/// milliseconds; -1 = wait until a message arrives.
/// Returns `MIF_OK` when a message waits, `MIF_NO_MESSAGE` when the time ran out,
/// `MIF_E_INTERRUPTED` when a signal handler ran during the wait (EINTR: the call is
/// not restarted, so a SIGINT handler can stop a loop; call again to go on waiting),
/// `MIF_E_INVALID_ARGUMENT` for a timeout below -1, `MIF_E_NULL_ARGUMENT`.
/// With several threads waiting, all may wake for one message and all but one then
/// get `MIF_NO_MESSAGE` from `mif_get_message`. A failed engine queues a final
/// `MIF_MSG_ENGINE_FAILED` message, so a wait never hangs on a dead engine.
/// While a few (up to 4) name translations are outstanding, the waiting thread reads their DNS
/// answers itself instead of waiting for the engine thread to hand them over: the
/// messages are the same, they only arrive sooner. No application code runs.
#[no_mangle]
pub extern "C" fn mif_check_message(ctx: *mut mif_ctx, timeout_ms: c_int) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let ctx = try_ref!(ctx);
        if timeout_ms < -1 {
            return MIF_E_INVALID_ARGUMENT;
        }
        ctx.inner.check(timeout_ms)
    })
}

/// Takes the oldest waiting message (draft 3.2.6.3) without blocking.
///
/// On `MIF_OK`, `*msg_out` receives a message the caller owns and must free with
/// `mif_message_free`. Returns `MIF_NO_MESSAGE` (not an error; `*msg_out` untouched)
/// when none waits, `MIF_E_NULL_ARGUMENT`. Thread safety: any thread; each message is
/// delivered to exactly one caller.
#[no_mangle]
pub extern "C" fn mif_get_message(ctx: *mut mif_ctx, msg_out: *mut *mut mif_message) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let ctx = try_ref!(ctx);
        if msg_out.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        match ctx.inner.take() {
            Some(message) => {
                unsafe { *msg_out = OwnedMessage::into_raw(message) };
                MIF_OK
            }
            None => MIF_NO_MESSAGE,
        }
    })
}

/// Frees a message from `mif_get_message`. NULL is fine. Any thread; the message must
/// not be used afterwards.
#[no_mangle]
pub extern "C" fn mif_message_free(msg: *mut mif_message) {
    ffi_guard!((), {
        if !msg.is_null() {
            unsafe { OwnedMessage::from_raw(msg) };
        }
    })
}

/// A static, NUL-terminated description of a `mif_result` ("unknown status" for
/// numbers this library does not define). Never NULL; never free it.
#[no_mangle]
pub extern "C" fn mif_strerror(code: mif_result) -> *const c_char {
    ffi_guard!(c"internal error".as_ptr(), { status_text(code).as_ptr() })
}

/// The snake_case name of a message type ("interface_announcement", ...), static and
/// NUL-terminated; "unknown" for numbers this library does not define.
#[no_mangle]
pub extern "C" fn mif_message_type_name(msg_type: mif_message_type) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), { message_type_name(msg_type).as_ptr() })
}

/// The lowercase name of a configuration element type ("ra", "dhcpv4", "dhcpv6",
/// "static", "system", "any"), static and NUL-terminated; "unknown" otherwise.
#[no_mangle]
pub extern "C" fn mif_element_type_name(element_type: u32) -> *const c_char {
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

/// The lowercase name of a translation status ("done", "no_such_name", "no_data",
/// "timeout", "server_failure", "no_servers", "cancelled"), static; "unknown" otherwise.
#[no_mangle]
pub extern "C" fn mif_translation_status_name(status: u32) -> *const c_char {
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

/// The snake_case name of a request type ("announce_interfaces", ...), static and
/// NUL-terminated; "unknown" for numbers this library does not define.
#[no_mangle]
pub extern "C" fn mif_request_type_name(request_type: mif_request_type) -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), { request_type_name(request_type).as_ptr() })
}

/// Writes `addr` as text ("198.51.100.7", "fe80::1%3") into `buf` of `len` bytes,
/// NUL-terminated. `MIF_ADDRESS_TEXT_SIZE` bytes always suffice.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT`; `MIF_E_INVALID_ARGUMENT` (unknown family,
/// or `len` too small: then `buf` is untouched). Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_address_format(addr: *const mif_address, buf: *mut c_char, len: usize) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let addr = try_ref!(addr);
        if buf.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        let Some(text) = crate::message::format_address(addr) else {
            return MIF_E_INVALID_ARGUMENT;
        };
        if text.len() + 1 > len {
            return MIF_E_INVALID_ARGUMENT;
        }
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            *buf.add(text.len()) = 0;
        }
        MIF_OK
    })
}

/// Our addition: pins the application's own socket `fd` (TCP or UDP, not yet bound or
/// connected) to provisioning domain `pvd` (0: the default PvD) with the rules the
/// library uses for its own sockets: SO_BINDTODEVICE when permitted (Linux 5.7 and
/// later permit it on a fresh socket without privileges), else, for UDP only,
/// IP_UNICAST_IF / IPV6_UNICAST_IF (they do not steer TCP, so a TCP socket that cannot
/// be bound to the device gets `MIF_E_PERMISSION`); and, when `bind_source` is
/// non-zero, binds it to the PvD's preferred source address of the socket's family.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT`; `MIF_E_UNKNOWN_PVD`; `MIF_E_NO_DEFAULT_PVD`;
/// `MIF_E_BAD_SOURCE` (the PvD has no usable address of the socket's family);
/// `MIF_E_BAD_ADDRESS` (the socket is not of the PvD's family, or not an IP socket);
/// `MIF_E_INVALID_ARGUMENT` (fd negative or not a socket); `MIF_E_PERMISSION` / `MIF_E_SYSTEM` (the
/// kernel refused; errno is left set). The fd stays the application's.
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_bind_socket(ctx: *mut mif_ctx, fd: c_int, pvd: u64, bind_source: c_int) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let ctx = try_ref!(ctx);
        ctx.inner.bind_socket(fd, pvd, bind_source != 0)
    })
}

/// The library's version, such as "0.1.0": static, NUL-terminated.
#[no_mangle]
pub extern "C" fn mif_version() -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), { VERSION.as_ptr() })
}

const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => c"unknown",
};

pub(crate) fn status_text(code: mif_result) -> &'static CStr {
    match code {
        MIF_OK => c"success",
        MIF_NO_MESSAGE => c"no message waiting",
        MIF_E_NULL_ARGUMENT => c"a required pointer argument was NULL",
        MIF_E_BAD_SIZE => c"the struct's size field does not match this library",
        MIF_E_UNKNOWN_REQUEST_TYPE => c"unknown request type",
        MIF_E_INVALID_ARGUMENT => c"invalid argument",
        MIF_E_UNKNOWN_INTERFACE => c"unknown interface index",
        MIF_E_UNKNOWN_PVD => c"unknown provisioning domain id",
        MIF_E_NOT_SUBSCRIBED => c"stop request without an active subscription",
        MIF_E_UNKNOWN_ELEMENT_TYPE => c"unknown configuration element type",
        MIF_E_UNKNOWN_INFO_ID => c"unknown configuration information identifier",
        MIF_E_DUPLICATE_ID => c"the id is already used by an outstanding request",
        MIF_E_UNKNOWN_TRANSLATION => c"no outstanding translation has this id",
        MIF_E_BAD_NAME => c"the name is empty, not UTF-8, or too long",
        MIF_E_UNKNOWN_CONNECTION => c"no outstanding connection attempt has this id",
        MIF_E_BAD_SOURCE => c"the source address is not a valid address of the provisioning domain",
        MIF_E_NO_DEFAULT_PVD => c"no provisioning domain given and no default chosen",
        MIF_E_BAD_ADDRESS => c"the address is unusable here",
        MIF_E_ENGINE_FAILED => c"the engine thread has failed; close the context",
        MIF_E_INTERRUPTED => c"interrupted by a signal",
        MIF_E_SYSTEM => c"a system call failed",
        MIF_E_INTERNAL => c"internal error",
        MIF_E_PERMISSION => c"permission denied",
        _ => c"unknown status",
    }
}

pub(crate) fn message_type_name(msg_type: mif_message_type) -> &'static CStr {
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
        MIF_MSG_ENGINE_FAILED => c"engine_failed",
        _ => c"unknown",
    }
}

pub(crate) fn request_type_name(request_type: mif_request_type) -> &'static CStr {
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
