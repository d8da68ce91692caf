//! `mif_address`: addresses as the C API carries them, their text form, and the
//! conversions to and from Rust's addresses.

use std::ffi::c_char;
use std::net::{IpAddr, SocketAddr};
use std::ptr;

use super::status::*;

use crate::core::link::scope_on;

/// An address family as this API numbers them (`MIF_FAMILY_*`, not AF_INET / AF_INET6).
pub type mif_family = u8;
/// Address family values used in this API (not AF_INET / AF_INET6).
pub const MIF_FAMILY_IPV4: mif_family = 4;
/// IPv6.
pub const MIF_FAMILY_IPV6: mif_family = 6;
/// Buffer size that always fits `mif_address_format`'s output.
pub const MIF_ADDRESS_TEXT_SIZE: usize = 64;

/// An IPv4 or IPv6 address.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct mif_address {
    /// `MIF_FAMILY_IPV4` or `MIF_FAMILY_IPV6`; 0 when the field is unused.
    pub family: mif_family,
    /// Reserved: 0 (a request with a non-zero byte here gets `MIF_E_INVALID_ARGUMENT`).
    pub reserved: [u8; 3],
    /// IPv6 scope (interface index) for link-local addresses, else 0 (an IPv4 address
    /// with a scope id in a request gets `MIF_E_BAD_ADDRESS`).
    pub scope_id: u32,
    /// The address in network byte order; IPv4 uses the first 4 bytes.
    pub bytes: [u8; 16],
}

/// An address seen on interface `ifindex`: link-local ones carry it as their scope.
pub(crate) fn c_address_on(addr: &IpAddr, ifindex: u32) -> mif_address {
    c_address(addr, scope_on(addr, ifindex))
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

pub(crate) fn socket_address(a: &SocketAddr) -> (mif_address, u16) {
    let scope = match a {
        SocketAddr::V6(v6) => v6.scope_id(),
        _ => 0,
    };
    (c_address(&a.ip(), scope), a.port())
}

/// A `mif_address` as an IP address with its scope; `None` for an unknown family.
pub(crate) fn ip_of(a: &mif_address) -> Option<(IpAddr, u32)> {
    match a.family {
        MIF_FAMILY_IPV4 => {
            let b: [u8; 4] = a.bytes[..4].try_into().ok()?;
            Some((IpAddr::from(b), 0))
        }
        MIF_FAMILY_IPV6 => Some((IpAddr::from(a.bytes), a.scope_id)),
        _ => None,
    }
}

/// Text form of an address; `None` for an unknown family.
fn format_address(addr: &mif_address) -> Option<String> {
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
        let Some(text) = format_address(addr) else {
            return MIF_E_INVALID_ARGUMENT;
        };
        if text.len() + 1 > len {
            return MIF_E_INVALID_ARGUMENT;
        }
        // SAFETY: `buf` is non-NULL with `len` writable bytes (the API's contract), and
        // `text.len() + 1 <= len` was checked.
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            *buf.add(text.len()) = 0;
        }
        MIF_OK
    })
}

/// Our addition: reads the text form of an address into `*out`: "198.51.100.7",
/// "fd6d:6966::1", and a link-local IPv6 address with its scope as an interface index
/// or name ("fe80::1%3", "fe80::1%eth0"): what `mif_address_format` writes, and what
/// `inet_pton` reads plus the scope. `*out` is written only on success.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT`; `MIF_E_INVALID_ARGUMENT` (not an address,
/// spaces included; a scope on an IPv4 address; an empty scope); `MIF_E_UNKNOWN_INTERFACE`
/// (a scope naming no interface). Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_address_parse(text: *const c_char, out: *mut mif_address) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if text.is_null() || out.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        // SAFETY: non-NULL and NUL-terminated (the API's contract).
        let Ok(text) = unsafe { std::ffi::CStr::from_ptr(text) }.to_str() else {
            return MIF_E_INVALID_ARGUMENT;
        };
        match parse_address(text) {
            Ok(address) => {
                // SAFETY: `out` is non-NULL and points to a writable `mif_address`.
                unsafe { *out = address };
                MIF_OK
            }
            Err(code) => code,
        }
    })
}

fn parse_address(text: &str) -> Result<mif_address, mif_result> {
    let (addr, scope) = match text.split_once('%') {
        Some((addr, scope)) => (addr, Some(scope)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| MIF_E_INVALID_ARGUMENT)?;
    let scope_id = match (ip, scope) {
        (_, None) => 0,
        (IpAddr::V4(_), Some(_)) => return Err(MIF_E_INVALID_ARGUMENT),
        (IpAddr::V6(_), Some("")) => return Err(MIF_E_INVALID_ARGUMENT),
        (IpAddr::V6(_), Some(scope)) if scope.bytes().all(|b| b.is_ascii_digit()) => {
            scope.parse::<u32>().map_err(|_| MIF_E_INVALID_ARGUMENT)?
        }
        (IpAddr::V6(_), Some(name)) => crate::os::sys::interface_index(name).ok_or(MIF_E_UNKNOWN_INTERFACE)?,
    };
    Ok(c_address(&ip, scope_id))
}
