//! Status codes: `mif_result` and its numbers, the one map from the runtime's
//! `Error` to them, and their texts.
//!
//! Retired numbers, never to be reused: none yet. When a code is retired, its line
//! moves here as a comment with the version that retired it.

use std::ffi::{c_char, CStr};

use crate::core::Error;

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
/// No translation has this id, outstanding or with a final message not taken yet.
pub const MIF_E_UNKNOWN_TRANSLATION: mif_result = 206;
/// No connect has this id, outstanding or with a final message not taken yet; for the
/// watch requests, no watched connection (or, for `MIF_REQ_WATCH_CONNECTION`, no
/// `MIF_MSG_CONNECTED` taken from this context) has it.
pub const MIF_E_UNKNOWN_CONNECTION: mif_result = 207;
/// The source address is not a valid address of the provisioning domain.
pub const MIF_E_BAD_SOURCE: mif_result = 208;
/// The request names no provisioning domain (pvd 0) and no default was chosen with
/// `MIF_REQ_CONNECT_TO_PVD`.
pub const MIF_E_NO_DEFAULT_PVD: mif_result = 209;
/// The context is closed: `mif_close` began while this call was in progress (a
/// `mif_check_message` wait is woken with it), or the handle was closed before.
pub const MIF_E_CLOSED: mif_result = 210;
/// The context was opened by the parent of this process before fork(): contexts do not
/// cross fork (see `mif_ctx`). Our addition.
pub const MIF_E_FORKED: mif_result = 211;
/// Our addition: the context's socket budget (`mif_options.max_sockets`) is taken by
/// outstanding translations and connects and by Connected messages not taken yet. Take
/// messages, or wait for results, and post again (`mif_options.max_sockets` is at least
/// 4, so every request fits an empty budget).
pub const MIF_E_BUSY: mif_result = 212;
/// Our addition: the message queue is at `mif_options.max_queued_messages`; a request
/// whose results must be queued (Translate Name, Connect, Get Configuration Data) is
/// refused. Take messages first.
pub const MIF_E_QUEUE_FULL: mif_result = 213;
/// The address is unusable here: wrong family for the provisioning domain, port 0,
/// unspecified, multicast or the IPv4 broadcast address, or an IPv4 address with a
/// scope id.
pub const MIF_E_BAD_ADDRESS: mif_result = 105;
/// Our addition: a Connect to Name selection (`mif_selection`) names neither or both of
/// an interface and a provisioning domain, has an unknown preference, or contradicts
/// another selection of the same network (one interface both preferred and avoided, a
/// PvD and its interface given different preferences).
pub const MIF_E_BAD_SELECTION: mif_result = 106;
/// Our addition: a descriptor to watch (`MIF_REQ_WATCH_SOCKET`) is negative or not
/// open (EBADF).
pub const MIF_E_BAD_DESCRIPTOR: mif_result = 107;
/// Our addition: a descriptor to watch is not an IPv4 or IPv6 socket.
pub const MIF_E_NOT_A_SOCKET: mif_result = 108;
/// Our addition: the connection to watch has no local address on a provisioning domain
/// present now (not connected or bound yet, loopback, or its network already gone), or
/// it is bound to an interface that does not hold that address.
pub const MIF_E_NO_PATH: mif_result = 214;
/// Our addition: a documented limit is reached (`MIF_MAX_WATCHED_CONNECTIONS`).
pub const MIF_E_LIMIT_REACHED: mif_result = 215;

// 300-399: the library or the system failed.
/// The engine thread has stopped after a failure; the context can only be closed.
pub const MIF_E_ENGINE_FAILED: mif_result = 300;
/// A wait was interrupted by a signal (EINTR).
pub const MIF_E_INTERRUPTED: mif_result = 301;
/// A system call failed (socket, eventfd, thread creation, netlink dump). After
/// `mif_open`, `mif_check_message` and `mif_bind_socket` return it, errno holds the
/// failing call's error (`strerror(errno)` says which); no other function returns it.
pub const MIF_E_SYSTEM: mif_result = 302;
/// An internal error: a panic was caught at the API boundary. Any function returning
/// `mif_result` may return it (a bug in the library: please report it); the context
/// stays usable unless a `MIF_MSG_ENGINE_FAILED` message says otherwise.
pub const MIF_E_INTERNAL: mif_result = 303;
/// The system denied an operation the library needs (EPERM/EACCES; errno holds which,
/// as after `MIF_E_SYSTEM`).
pub const MIF_E_PERMISSION: mif_result = 304;

/// The one map from the runtime's error to its stable number.
pub(crate) fn code_of(error: Error) -> mif_result {
    match error {
        Error::NullArgument => MIF_E_NULL_ARGUMENT,
        Error::BadSize => MIF_E_BAD_SIZE,
        Error::UnknownRequestType => MIF_E_UNKNOWN_REQUEST_TYPE,
        Error::InvalidArgument => MIF_E_INVALID_ARGUMENT,
        Error::BadName => MIF_E_BAD_NAME,
        Error::BadAddress => MIF_E_BAD_ADDRESS,
        Error::BadSelection => MIF_E_BAD_SELECTION,
        Error::BadDescriptor => MIF_E_BAD_DESCRIPTOR,
        Error::NotASocket => MIF_E_NOT_A_SOCKET,
        Error::NoPath => MIF_E_NO_PATH,
        Error::LimitReached => MIF_E_LIMIT_REACHED,
        Error::UnknownInterface => MIF_E_UNKNOWN_INTERFACE,
        Error::UnknownPvd => MIF_E_UNKNOWN_PVD,
        Error::NotSubscribed => MIF_E_NOT_SUBSCRIBED,
        Error::UnknownElementType => MIF_E_UNKNOWN_ELEMENT_TYPE,
        Error::UnknownInfoId => MIF_E_UNKNOWN_INFO_ID,
        Error::DuplicateId => MIF_E_DUPLICATE_ID,
        Error::UnknownTranslation => MIF_E_UNKNOWN_TRANSLATION,
        Error::UnknownConnection => MIF_E_UNKNOWN_CONNECTION,
        Error::BadSource => MIF_E_BAD_SOURCE,
        Error::NoDefaultPvd => MIF_E_NO_DEFAULT_PVD,
        Error::EngineFailed => MIF_E_ENGINE_FAILED,
        Error::Closed => MIF_E_CLOSED,
        Error::Busy => MIF_E_BUSY,
        Error::QueueFull => MIF_E_QUEUE_FULL,
        Error::Interrupted => MIF_E_INTERRUPTED,
        Error::System => MIF_E_SYSTEM,
        Error::Permission => MIF_E_PERMISSION,
        Error::Internal => MIF_E_INTERNAL,
    }
}

/// The result of a call that may fail in a system call (`mif_open`, `mif_check_message`,
/// `mif_bind_socket`): after `MIF_E_SYSTEM` or `MIF_E_PERMISSION`, errno is set back to
/// what the failing system call left (when one was seen during the call; cleanup since
/// may have changed it). Call it once, last, with the call's result.
pub(crate) fn with_errno(rc: mif_result) -> mif_result {
    let errno = crate::engine::take_errno();
    if (rc == MIF_E_SYSTEM || rc == MIF_E_PERMISSION) && errno != 0 {
        // SAFETY: __errno_location returns this thread's errno, always valid to write.
        unsafe { *libc::__errno_location() = errno };
    }
    rc
}

/// `MIF_OK` or the error's number.
pub(crate) fn result_of(result: Result<(), Error>) -> mif_result {
    match result {
        Ok(()) => MIF_OK,
        Err(e) => code_of(e),
    }
}

/// A static, NUL-terminated description of a `mif_result` ("unknown status" for
/// numbers this library does not define). Never NULL; never free it.
#[no_mangle]
pub extern "C" fn mif_strerror(code: mif_result) -> *const c_char {
    ffi_guard!(c"internal error".as_ptr(), { status_text(code).as_ptr() })
}

fn status_text(code: mif_result) -> &'static CStr {
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
        MIF_E_UNKNOWN_CONNECTION => c"no outstanding connection attempt or watched connection has this id",
        MIF_E_BAD_DESCRIPTOR => c"the descriptor is negative or not open",
        MIF_E_NOT_A_SOCKET => c"the descriptor is not an IPv4 or IPv6 socket",
        MIF_E_NO_PATH => c"the connection has no local address on a present provisioning domain",
        MIF_E_LIMIT_REACHED => c"a documented limit is reached",
        MIF_E_BAD_SOURCE => c"the source address is not a valid address of the provisioning domain",
        MIF_E_NO_DEFAULT_PVD => c"no provisioning domain given and no default chosen",
        MIF_E_BAD_ADDRESS => c"the address is unusable here",
        MIF_E_BAD_SELECTION => c"a selection is malformed or contradicts another",
        MIF_E_CLOSED => c"the context is closed",
        MIF_E_BUSY => c"the context's socket budget is taken by outstanding requests",
        MIF_E_QUEUE_FULL => c"the message queue is full: take messages first",
        MIF_E_FORKED => c"the context belongs to the parent process (contexts do not cross fork)",
        MIF_E_ENGINE_FAILED => c"the engine thread has failed; close the context",
        MIF_E_INTERRUPTED => c"interrupted by a signal",
        MIF_E_SYSTEM => c"a system call failed",
        MIF_E_INTERNAL => c"internal error",
        MIF_E_PERMISSION => c"permission denied",
        _ => c"unknown status",
    }
}
