//! The one error type the runtime returns. The C layer maps each value to its stable
//! `MIF_E_*` number in one place (`capi::status`); nothing below it knows the numbers.

use std::fmt;

/// Why a call failed. New values may be added; match with a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // The caller passed something wrong on its face.
    /// A required pointer was NULL.
    NullArgument,
    /// A struct's size does not fit this library.
    BadSize,
    /// The request type is unknown.
    UnknownRequestType,
    /// An argument is out of range or a reserved field is set.
    InvalidArgument,
    /// A name to translate is empty, not UTF-8 or too long.
    BadName,
    /// An address is unusable for the request (family, port 0, unspecified, multicast).
    BadAddress,
    /// A Connect to Name selection is malformed or contradicts another (one network
    /// both preferred and avoided).
    BadSelection,
    /// A descriptor is negative or not open.
    BadDescriptor,
    /// A descriptor is not an IPv4 or IPv6 socket.
    NotASocket,
    // The request does not fit the current state.
    UnknownInterface,
    UnknownPvd,
    /// A Stop request without its start.
    NotSubscribed,
    UnknownElementType,
    UnknownInfoId,
    /// The application's id is in use by an outstanding operation.
    DuplicateId,
    UnknownTranslation,
    UnknownConnection,
    /// The source address is not a valid address of the PvD.
    BadSource,
    /// The request names no PvD and no default was chosen.
    NoDefaultPvd,
    /// A connection to watch has no local address on a present PvD.
    NoPath,
    /// A documented limit is reached (watched connections).
    LimitReached,
    // The library or the system failed.
    /// The context ended after a failure; it can only be closed.
    EngineFailed,
    /// The context's socket budget is taken by outstanding requests and Connected
    /// messages not taken yet.
    Busy,
    /// The message queue is at its limit: the application must take messages first.
    QueueFull,
    /// The context is being closed (a wait or call in progress when `close` began).
    Closed,
    /// A wait was interrupted by a signal.
    Interrupted,
    /// A system call failed.
    System,
    /// The system denied an operation (EPERM, EACCES).
    Permission,
    /// A bug: a panic was caught.
    Internal,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Error {}
