//! The queue of messages waiting for the application, and its eventfd.
//!
//! Invariant (kept under the queue lock): the eventfd's counter is non-zero exactly
//! while the queue is non-empty. We write 1 when the queue goes from empty to
//! non-empty and read the counter back to 0 when it goes empty, so `mif_fd` is
//! level-triggered: readable while a message waits, also after a partial drain.
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use parking_lot::Mutex;

use super::message::Message;
use crate::os::sys::{self, Level};

pub(crate) struct Outbox {
    queue: Mutex<State>,
    level: Level,
}

struct State {
    messages: VecDeque<Message>,
    /// Set once the final engine-failure message is queued: nothing may follow it.
    closed: bool,
    /// Set when the application closes the context: waiters wake and leave.
    shut: bool,
}

impl Outbox {
    pub(crate) fn new() -> io::Result<Outbox> {
        Ok(Outbox {
            queue: Mutex::new(State { messages: VecDeque::new(), closed: false, shut: false }),
            level: Level::new()?,
        })
    }

    /// The descriptor's number, for `mif_fd`.
    pub(crate) fn fd(&self) -> RawFd {
        self.level.as_fd().as_raw_fd()
    }

    /// The descriptor, for a wait.
    pub(crate) fn borrow_fd(&self) -> BorrowedFd<'_> {
        self.level.as_fd()
    }

    /// Queues messages in order. Ignored once the outbox is closed.
    pub(crate) fn push_all(&self, messages: impl IntoIterator<Item = Message>) {
        let mut state = self.queue.lock();
        if state.closed {
            return;
        }
        let was_empty = state.messages.is_empty();
        state.messages.extend(messages);
        if was_empty && !state.messages.is_empty() {
            self.signal();
        }
    }

    /// Queues the final message and refuses everything after it.
    pub(crate) fn close_with(&self, message: Message) {
        let mut state = self.queue.lock();
        if state.closed {
            return;
        }
        let was_empty = state.messages.is_empty();
        state.messages.push_back(message);
        state.closed = true;
        if was_empty {
            self.signal();
        }
    }

    /// Drops waiting messages that `keep` rejects (a Stop request withdraws what its
    /// subscription had queued).
    pub(crate) fn retain(&self, keep: impl Fn(&Message) -> bool) {
        let mut state = self.queue.lock();
        let was_empty = state.messages.is_empty();
        state.messages.retain(|m| keep(m));
        if !was_empty && state.messages.is_empty() {
            self.clear_locked(&state);
        }
    }

    /// The application is closing the context: the descriptor turns readable for good,
    /// so that every thread waiting on it wakes (and, seeing `is_shut`, leaves).
    pub(crate) fn shut(&self) {
        let mut state = self.queue.lock();
        state.shut = true;
        state.closed = true;
        self.signal();
    }

    pub(crate) fn is_shut(&self) -> bool {
        self.queue.lock().shut
    }

    pub(crate) fn has_messages(&self) -> bool {
        !self.queue.lock().messages.is_empty()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.queue.lock().closed
    }

    pub(crate) fn pop(&self) -> Option<Message> {
        let mut state = self.queue.lock();
        let message = state.messages.pop_front()?;
        if state.messages.is_empty() {
            self.clear_locked(&state);
        }
        Some(message)
    }

    /// Waits until a message waits, like poll() on the eventfd: `Ok(true)` when one
    /// does, `Ok(false)` when the time ran out; -1 waits forever.
    pub(crate) fn wait(&self, timeout_ms: i32) -> io::Result<bool> {
        sys::wait_readable(self.level.as_fd(), timeout_ms)
    }

    fn signal(&self) {
        self.level.raise();
    }

    /// Lowers the level once the queue is empty, but never after `shut`. Called with the
    /// queue locked (`state`).
    fn clear_locked(&self, state: &State) {
        if !state.shut {
            self.level.lower();
        }
    }
}
