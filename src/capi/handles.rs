//! The table of open contexts behind `mif_ctx *` handles, and the fork rule.
//!
//! A `mif_ctx *` is a handle, not an address: the library never reads memory through
//! it. Each exported call looks the handle up here and holds the context (an `Arc`)
//! for the length of the call, so that:
//! - `mif_close` can wake the threads still inside a call on the context (they return
//!   `MIF_E_CLOSED`) and frees the context only after the last of them left;
//! - a call with a closed handle, or a handle closed twice, finds nothing and returns
//!   `MIF_E_CLOSED` instead of reading freed memory (handles are never reused);
//! - contexts do not cross fork(): a `pthread_atfork` child handler starts a new fork
//!   generation, and a context opened in an earlier one answers `MIF_E_FORKED` in the
//!   child. The table's lock is held across fork() so that the child never inherits it
//!   locked; no other lock of the library is taken by a call on an inherited context.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Once, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use super::context::mif_ctx;
use super::status::{mif_result, MIF_E_CLOSED, MIF_E_FORKED, MIF_E_NULL_ARGUMENT};
use crate::engine::Context;

pub(crate) struct Live {
    pub context: Context,
    /// The fork generation the context was opened in.
    generation: u64,
}

/// Open contexts by handle value.
type Table = BTreeMap<usize, Arc<Live>>;

/// std's lock, not parking_lot's: it is held across fork() and let go in the child,
/// and std's unlock is one atomic and a futex wake, where parking_lot's slow path
/// takes a global table's lock that a parent thread may have held at fork time.
static CONTEXTS: RwLock<Table> = RwLock::new(BTreeMap::new());

/// The table, read (a poisoned lock is still consistent: no code panics holding it).
fn table() -> RwLockReadGuard<'static, Table> {
    CONTEXTS.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The table, written.
fn table_mut() -> RwLockWriteGuard<'static, Table> {
    CONTEXTS.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}
/// Handle values: multiples of 16 from 16 on, never reused (2^60 opens).
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(1);
/// Incremented in every child of fork().
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

/// Registers an open context and returns its handle.
pub(crate) fn register(context: Context) -> *mut mif_ctx {
    ATFORK.call_once(|| {
        // SAFETY: the three handlers are `extern "C"` functions with no arguments that
        // live as long as the process (the library is linked with `-z nodelete`).
        let rc = unsafe { libc::pthread_atfork(Some(before_fork), Some(after_fork_parent), Some(after_fork_child)) };
        if rc != 0 {
            crate::log::log_at!(Warn, "pthread_atfork failed ({rc}): contexts inherited by a child are not detected");
        }
    });
    let generation = FORK_GENERATION.load(Ordering::Acquire);
    let key = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed) << 4;
    table_mut().insert(key, Arc::new(Live { context, generation }));
    key as *mut mif_ctx
}

/// The open context behind a handle, held for the length of a call.
pub(crate) fn find(ctx: *const mif_ctx) -> Result<Arc<Live>, mif_result> {
    if ctx.is_null() {
        return Err(MIF_E_NULL_ARGUMENT);
    }
    let live = table().get(&(ctx as usize)).cloned().ok_or(MIF_E_CLOSED)?;
    if live.generation != FORK_GENERATION.load(Ordering::Acquire) {
        return Err(MIF_E_FORKED);
    }
    Ok(live)
}

/// `mif_close`: takes the handle out of the table (later calls find nothing), wakes
/// the threads inside a call on it, waits until they have left, and frees the context.
/// In a child of fork() an inherited context is left alone: its engine thread does not
/// exist there and its locks may have been held at fork time, so nothing of it is
/// touched (its memory and the child's copies of its descriptors, all CLOEXEC, stay
/// until the child execs or exits; later calls still answer `MIF_E_FORKED`).
pub(crate) fn close(ctx: *mut mif_ctx) {
    let mut live = {
        let mut table = table_mut();
        match table.get(&(ctx as usize)) {
            Some(live) if live.generation == FORK_GENERATION.load(Ordering::Acquire) => {}
            _ => return,
        }
        match table.remove(&(ctx as usize)) {
            Some(live) => live,
            None => return,
        }
    };
    live.context.begin_close();
    // The callers were woken; each lets go of its `Arc` on its way out.
    loop {
        match Arc::try_unwrap(live) {
            Ok(last) => {
                drop(last);
                return;
            }
            Err(shared) => {
                live = shared;
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
}

thread_local! {
    /// The table's lock, held by the thread calling fork() from just before the fork
    /// until just after it, in both processes.
    static HELD_ACROSS_FORK: RefCell<Option<RwLockWriteGuard<'static, Table>>> = const { RefCell::new(None) };
}

extern "C" fn before_fork() {
    // The child thus never inherits the table locked by a thread that does not exist
    // there (the child's one thread is the one that called fork()).
    let guard = table_mut();
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some(guard));
}

extern "C" fn after_fork_parent() {
    HELD_ACROSS_FORK.with(|held| held.borrow_mut().take());
}

extern "C" fn after_fork_child() {
    FORK_GENERATION.fetch_add(1, Ordering::AcqRel);
    HELD_ACROSS_FORK.with(|held| held.borrow_mut().take());
}
