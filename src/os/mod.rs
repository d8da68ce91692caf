//! Kernel adapters: rtnetlink (`rtnetlink`, with the ND user-option framing in
//! `nduseropt`), configuration files and inotify (`files`, `hosts_file`), pinning
//! sockets to a link (`pin`), Router Solicitations (`solicit`), and `sys`, the one
//! module where the remaining system calls sit behind safe wrappers.
//!
//! Everything here turns kernel and file state into the core's plain values; nothing
//! here keeps the host model or knows the C API.

pub mod files;
pub mod hosts_file;
pub mod nduseropt;
pub mod pin;
pub mod root;
pub mod rtnetlink;
pub mod solicit;
pub mod sys;

use std::io;

use crate::core::Error;

/// The one map from a system error to the runtime's error: a refusal (EPERM, EACCES)
/// is `Permission`, anything else `System`.
pub fn error_of(e: &io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission,
        None if e.kind() == io::ErrorKind::PermissionDenied => Error::Permission,
        _ => Error::System,
    }
}

/// The same for a wait (`mif_check_message`): a signal handler that ran during it ends
/// it with `Interrupted`, as poll() returns EINTR; anything else is `System`.
pub fn wait_error_of(e: &io::Error) -> Error {
    if e.raw_os_error() == Some(libc::EINTR) || e.kind() == io::ErrorKind::Interrupted {
        Error::Interrupted
    } else {
        Error::System
    }
}

/// The errno to report for a failed connection attempt (`Not Connected`'s `error`).
pub fn errno_of(e: &io::Error) -> i32 {
    match e.raw_os_error() {
        Some(n) => n,
        None if e.kind() == io::ErrorKind::PermissionDenied => libc::EPERM,
        None => libc::EIO,
    }
}
