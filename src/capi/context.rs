//! `mif_ctx`: the context's functions (open, close, the fd, post, check, get, bind a
//! socket) and the library's version.

use std::ffi::{c_char, c_int, CStr};
use std::os::fd::BorrowedFd;

use super::handles;
use super::message::{mif_message, OwnedMessage};
use super::options::{config_from_c, mif_options};
use super::request::{mif_request, request_from_c};
use super::status::*;

use crate::engine::{Context, Request};

/// An opaque library context: one subscriber, one engine thread, one message queue.
/// A `mif_ctx *` is a handle, not an address: the library never reads memory through
/// it, a closed handle is never given out again, and a call with one returns
/// `MIF_E_CLOSED` (for the API's pointer-typed functions that cannot return a status:
/// -1 or no effect).
///
/// Contexts do not cross fork(): in the child, every call on a context the parent
/// opened returns `MIF_E_FORKED` (`mif_fd`: -1) without touching the parent's
/// descriptors, queue or thread, and `mif_close` on it does nothing (its memory and
/// the child's copies of its descriptors, all CLOEXEC, stay until the child execs or
/// exits). The child opens contexts of its own after exec: between fork() and exec in a
/// threaded program (and a program with a context is one) only calls on inherited
/// contexts are defined, as POSIX allows only async-signal-safe work there.
/// (Our addition.)
pub struct mif_ctx {
    _opaque: [u8; 0],
}

/// Looks a handle up, or returns its status from the exported function.
macro_rules! try_live {
    ($ctx:expr) => {
        match handles::find($ctx) {
            Ok(live) => live,
            Err(code) => return code,
        }
    };
}

/// Opens a context: reads the host's interfaces and addresses (an rtnetlink dump) and
/// starts the context's engine thread, which follows changes from then on.
///
/// `opts` may be NULL for the defaults; otherwise it must have been filled by
/// `mif_options_init`. On success `*ctx_out` receives the context, which the caller
/// owns and must close with `mif_close`; on failure `*ctx_out` is left untouched.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT` (ctx_out NULL); `MIF_E_BAD_SIZE`;
/// `MIF_E_INVALID_ARGUMENT` (reserved fields or unknown flag bits set, negative rcvbuf,
/// a numeric option outside its documented range, `log_level` above `MIF_LOG_DEBUG`,
/// an empty or non-UTF-8 `root_dir` or `config_file`); `MIF_E_PERMISSION`;
/// `MIF_E_SYSTEM` (a socket, eventfd, dump or thread could not be made; errno says
/// why); `MIF_E_INTERNAL`.
/// Thread safety: may be called from any thread.
/// Handles are not pointers to memory: never dereference one.
#[no_mangle]
pub extern "C" fn mif_open(opts: *const mif_options, ctx_out: *mut *mut mif_ctx) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if ctx_out.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        // SAFETY: `opts` is NULL or was filled by `mif_options_init` (the API's contract).
        let config = match unsafe { config_from_c(opts) } {
            Ok(c) => c,
            Err(e) => return code_of(e),
        };
        crate::engine::take_errno();
        with_errno(match Context::open(config) {
            Ok(context) => {
                let handle = handles::register(context);
                // SAFETY: `ctx_out` is non-NULL and points to writable storage for a
                // pointer (the API's contract).
                unsafe { *ctx_out = handle };
                MIF_OK
            }
            Err(e) => code_of(e),
        })
    })
}

/// Closes a context: stops its engine thread, frees every message still queued and
/// closes every descriptor the context owns (including the one `mif_fd` returned).
/// Messages already taken with `mif_get_message` stay valid until freed.
///
/// Threads waiting in `mif_check_message` on `ctx` when it begins are woken and return
/// `MIF_E_CLOSED`; other calls in progress finish normally (a post may still succeed, a
/// get still return a message). The context is freed after the last of them left,
/// before `mif_close` returns. Calls made afterwards return `MIF_E_CLOSED`. `ctx` may
/// be NULL, or already closed (no effect); when two threads close it at once, one
/// does the work and the other returns at once. A thread that never leaves its call
/// (it left a wait by siglongjmp, or was cancelled) keeps `mif_close` waiting. In a
/// child of fork(), closing a context the parent opened leaves it alone (see
/// `mif_ctx`).
/// Thread safety: any thread; our addition beyond draft 3.2.6 (which has no close).
#[no_mangle]
pub extern "C" fn mif_close(ctx: *mut mif_ctx) {
    ffi_guard!((), {
        if !ctx.is_null() {
            handles::close(ctx);
        }
    })
}

/// The context's notification descriptor: an epoll descriptor (CLOEXEC, NONBLOCK)
/// that polls readable while at least one message waits. Put it in poll()/epoll
/// (level triggered) and call `mif_get_message` until it returns `MIF_NO_MESSAGE`
/// when it is readable. Never read, write or close it: the library owns it and closes it in
/// `mif_close`.
///
/// Asking for it says that the application waits on it (our addition). Then, while up
/// to 4 name translations are outstanding, it also polls readable when one of their
/// DNS answers arrives, and `mif_get_message` (or `mif_check_message`) reads that
/// answer on the calling thread and queues its messages before it takes one: the
/// answer wakes the application directly instead of the engine thread first (the
/// messages are the same; with more translations out the engine thread reads them:
/// from the post that leaves a fifth out until a post finds at most 4).
/// So a wake may bring no message (an answer that is dropped, such as a forgery);
/// once `mif_get_message` returned `MIF_NO_MESSAGE`, the descriptor stays unreadable
/// until something new arrives. An application that asked for the descriptor and
/// does not call `mif_get_message` meanwhile gets those answers read by the engine
/// when their query's timeout comes, not lost (a thread waiting in
/// `mif_check_message` gets them at once). The descriptor nests two epoll sets: an
/// application's epoll sets can hold it three deep (a fourth gets ELOOP from the
/// kernel).
///
/// Returns the descriptor, or -1 if `ctx` is NULL, closed, or inherited across
/// fork(). Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_fd(ctx: *const mif_ctx) -> c_int {
    ffi_guard!(-1, {
        match handles::find(ctx) {
            Ok(live) => live.context.notify_fd(),
            Err(_) => -1,
        }
    })
}

/// Posts a request (draft 3.2.6.1). Returns at once: subscription requests are applied
/// before the call returns (their first announcements are queued by then, unless a
/// `MIF_MSG_QUEUE_OVERFLOW` is waiting: then they are counted in it, and come with the
/// complete state once it is taken); work that waits on the network reports later, as
/// messages.
///
/// Returns `MIF_OK`; `MIF_E_NULL_ARGUMENT`; `MIF_E_BAD_SIZE` (`req->size` too small for
/// the request's fields or larger than this library's `mif_request`);
/// `MIF_E_UNKNOWN_REQUEST_TYPE`; `MIF_E_INVALID_ARGUMENT` (reserved field not 0);
/// `MIF_E_UNKNOWN_INTERFACE`; `MIF_E_UNKNOWN_PVD`; `MIF_E_NOT_SUBSCRIBED` (a Stop
/// without a matching start); `MIF_E_BUSY` (the socket budget is taken);
/// `MIF_E_QUEUE_FULL` (a translation, connect or Get Configuration Data while the
/// message queue is at its limit); `MIF_E_BAD_NAME` (a name to translate);
/// `MIF_E_BAD_ADDRESS` (a connect's address or port); `MIF_E_BAD_SOURCE` (a Connect
/// From Address source the PvD does not have); `MIF_E_UNKNOWN_ELEMENT_TYPE` /
/// `MIF_E_UNKNOWN_INFO_ID` (Get Configuration Data); `MIF_E_DUPLICATE_ID` (a
/// translation or connection id already in use); `MIF_E_UNKNOWN_TRANSLATION` /
/// `MIF_E_UNKNOWN_CONNECTION` (a Stop or Cancel naming none); `MIF_E_NO_DEFAULT_PVD`
/// (pvd 0 with no default PvD); `MIF_E_ENGINE_FAILED`; `MIF_E_CLOSED`; `MIF_E_FORKED`;
/// `MIF_E_INTERNAL`. Never `MIF_E_SYSTEM`: what fails in the network later is reported
/// in the request's result message.
/// The request is only read during the call. Thread safety: any number of threads may
/// post, check and get on one context at once.
#[no_mangle]
pub extern "C" fn mif_post_message(ctx: *mut mif_ctx, req: *const mif_request) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let live = try_live!(ctx);
        if req.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        // SAFETY: non-NULL and filled by `mif_request_init` (the API's contract).
        match unsafe { request_from_c(req) } {
            Ok(Request::WatchSocket { connection_id, fd }) => {
                // SAFETY: the application's descriptor (checked non-negative), open for
                // the duration of this call (the API's contract); only borrowed and read.
                let socket = unsafe { BorrowedFd::borrow_raw(fd) };
                result_of(live.context.watch_socket(connection_id, socket))
            }
            Ok(request) => result_of(live.context.post(request)),
            Err(e) => code_of(e),
        }
    })
}

/// Checks for a waiting message (draft 3.2.6.2), like poll() on `mif_fd` followed,
/// when it is readable for a DNS answer (fd mode, see `mif_fd`), by reading that
/// answer.
///
/// `timeout_ms`: 0 = probe without blocking; > 0 = wait at most that many
/// milliseconds; -1 = wait until a message arrives.
/// Returns `MIF_OK` when a message waits, `MIF_NO_MESSAGE` when the time ran out,
/// `MIF_E_INTERRUPTED` when a signal handler ran during the wait (EINTR: the call is
/// not restarted, so a SIGINT handler can stop a loop; call again to go on waiting),
/// `MIF_E_INVALID_ARGUMENT` for a timeout below -1, `MIF_E_NULL_ARGUMENT`,
/// `MIF_E_CLOSED` (also when `mif_close` begins during the wait: it wakes the waiter),
/// `MIF_E_FORKED`, `MIF_E_SYSTEM` (poll failed; errno says why), `MIF_E_INTERNAL`.
/// With several threads waiting, all may wake for one message and all but one then
/// get `MIF_NO_MESSAGE` from `mif_get_message`. A failed engine queues a final
/// `MIF_MSG_ENGINE_FAILED` message, so a wait never hangs on a dead engine.
/// While a few (up to 4) name translations are outstanding, the waiting thread reads their DNS
/// answers itself instead of waiting for the engine thread to hand them over: the
/// messages are the same, they only arrive sooner. After `mif_fd` was asked for, it
/// does so also while none is out yet (the engine then leaves the answers to the
/// application's threads). No application code runs.
#[no_mangle]
pub extern "C" fn mif_check_message(ctx: *mut mif_ctx, timeout_ms: c_int) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let live = try_live!(ctx);
        if timeout_ms < -1 {
            return MIF_E_INVALID_ARGUMENT;
        }
        crate::engine::take_errno();
        with_errno(match live.context.check(timeout_ms) {
            Ok(true) => MIF_OK,
            Ok(false) => MIF_NO_MESSAGE,
            Err(e) => code_of(e),
        })
    })
}

/// Takes the oldest waiting message (draft 3.2.6.3) without blocking.
///
/// On `MIF_OK`, `*msg_out` receives a message the caller owns and must free with
/// `mif_message_free`. Returns `MIF_NO_MESSAGE` (not an error; `*msg_out` untouched)
/// when none waits, `MIF_E_NULL_ARGUMENT`, `MIF_E_CLOSED`, `MIF_E_FORKED`. Thread
/// safety: any thread; each message is delivered to exactly one caller.
/// Finding no message after the application asked for `mif_fd`, with up to 4 name
/// translations out, it first reads their DNS answers that arrived (see `mif_fd`);
/// it never waits on the network.
#[no_mangle]
pub extern "C" fn mif_get_message(ctx: *mut mif_ctx, msg_out: *mut *mut mif_message) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let live = try_live!(ctx);
        if msg_out.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        match live.context.take() {
            Some(message) => {
                // SAFETY: `msg_out` is non-NULL and points to writable storage for a
                // pointer (the API's contract).
                unsafe { *msg_out = OwnedMessage::into_raw(message) };
                MIF_OK
            }
            None => MIF_NO_MESSAGE,
        }
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
/// kernel refused; errno holds its error); `MIF_E_CLOSED`; `MIF_E_FORKED`; `MIF_E_INTERNAL`.
/// The fd stays the application's.
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_bind_socket(ctx: *mut mif_ctx, fd: c_int, pvd: u64, bind_source: c_int) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        let live = try_live!(ctx);
        // SAFETY: the application's descriptor, open for the duration of this call (the
        // API's contract); only borrowed, never closed.
        let socket = (fd >= 0).then(|| unsafe { BorrowedFd::borrow_raw(fd) });
        crate::engine::take_errno();
        with_errno(result_of(live.context.bind_socket(socket, pvd, bind_source != 0)))
    })
}

/// The library's version, such as "0.1.0": static, NUL-terminated.
#[no_mangle]
pub extern "C" fn mif_version() -> *const c_char {
    ffi_guard!(c"unknown".as_ptr(), { VERSION.as_ptr() })
}

/// Our addition: the header's version, at compile time (`mif_version_num()` tells the
/// library's at run time). The major number is the soname's (`libmif.so.0`).
pub const MIF_VERSION_MAJOR: u32 = 0;
/// Minor version: grows with additions (new functions, constants, fields at the end of
/// a struct); a program built against an older minor version runs unchanged.
pub const MIF_VERSION_MINOR: u32 = 1;
/// Patch version: fixes only.
pub const MIF_VERSION_PATCH: u32 = 0;
/// The three as one number to compare, 0xMMmmpp (like `LIBCURL_VERSION_NUM`):
/// `#if MIF_VERSION_NUM >= 0x000200`. A plain number, so that declaration parsers
/// such as Python's cffi read it (docs/bindings.md).
pub const MIF_VERSION_NUM: u32 = 0x00_01_00;

/// Our addition: the running library's `MIF_VERSION_NUM` (compare it with the header's
/// to learn whether the library is at least as new as the program expects).
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn mif_version_num() -> u32 {
    MIF_VERSION_NUM
}

/// A decimal number at compile time (the version parts cargo passes).
const fn parse_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "a version part is not a number");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

// The header's numbers are Cargo.toml's version: a build with one and not the other fails.
const _: () = assert!(MIF_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(MIF_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(MIF_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));
// MIF_VERSION_NUM is written out (cbindgen would copy an expression, which cffi cannot read).
const _: () = assert!(MIF_VERSION_NUM == (MIF_VERSION_MAJOR << 16) | (MIF_VERSION_MINOR << 8) | MIF_VERSION_PATCH);

const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => c"unknown",
};
