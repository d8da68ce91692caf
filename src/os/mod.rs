//! Kernel adapters: rtnetlink (`rtnetlink`, with the ND user-option framing in
//! `nduseropt`), configuration files and inotify (`files`, `hosts_file`), pinning
//! sockets to a link (`pin`), Router Solicitations (`solicit`) and the RAs the library
//! hears itself (`ra_listener`), the operator's hook
//! commands (`hook`), and `sys`, the one
//! module where the remaining system calls sit behind safe wrappers.
//!
//! Everything here turns kernel and file state into the core's plain values; nothing
//! here keeps the host model or knows the C API.

pub mod files;
pub mod hook;
pub mod hosts_file;
pub mod mptcp;
pub mod nduseropt;
pub mod pin;
pub mod ra_listener;
pub mod root;
pub mod rtnetlink;
pub mod solicit;
pub mod sys;

use std::io;

use crate::core::Error;

thread_local! {
    /// The errno of the last system error this thread turned into an `Error`, so that
    /// the C layer can leave it in errno after `MIF_E_SYSTEM` / `MIF_E_PERMISSION`
    /// (cleanup after the failure, closing descriptors, may change errno meanwhile).
    static LAST_ERRNO: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

fn note_errno(e: &io::Error) {
    if let Some(errno) = e.raw_os_error() {
        LAST_ERRNO.with(|last| last.set(errno));
    }
}

/// Takes (and forgets) the errno `error_of` / `wait_error_of` last saw on this thread;
/// 0 when none since the last take.
pub fn take_errno() -> i32 {
    LAST_ERRNO.with(|last| last.replace(0))
}

/// The one map from a system error to the runtime's error: a refusal (EPERM, EACCES)
/// is `Permission`, anything else `System`.
pub fn error_of(e: &io::Error) -> Error {
    note_errno(e);
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission,
        None if e.kind() == io::ErrorKind::PermissionDenied => Error::Permission,
        _ => Error::System,
    }
}

/// The same for a wait (`mif_check_message`): a signal handler that ran during it ends
/// it with `Interrupted`, as poll() returns EINTR; anything else is `System`.
pub fn wait_error_of(e: &io::Error) -> Error {
    note_errno(e);
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
