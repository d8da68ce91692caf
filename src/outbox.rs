//! The queue of messages waiting for the application, and its eventfd.
//!
//! Invariant (kept under the queue lock): the eventfd's counter is non-zero exactly
//! while the queue is non-empty. We write 1 when the queue goes from empty to
//! non-empty and read the counter back to 0 when it goes empty, so `mif_fd` is
//! level-triggered: readable while a message waits, also after a partial drain.
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use parking_lot::Mutex;

use crate::ffi::{mif_result, MIF_E_INTERRUPTED, MIF_E_SYSTEM, MIF_NO_MESSAGE, MIF_OK};
use crate::message::Message;

pub(crate) struct Outbox {
    queue: Mutex<State>,
    event_fd: OwnedFd,
}

struct State {
    messages: VecDeque<Message>,
    /// Set once the final engine-failure message is queued: nothing may follow it.
    closed: bool,
}

impl Outbox {
    pub(crate) fn new() -> io::Result<Outbox> {
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Outbox {
            queue: Mutex::new(State { messages: VecDeque::new(), closed: false }),
            event_fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.event_fd.as_raw_fd()
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
            self.clear();
        }
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
            self.clear();
        }
        Some(message)
    }

    /// Waits until a message waits, like poll() on the eventfd.
    pub(crate) fn wait(&self, timeout_ms: i32) -> mif_result {
        let mut pfd = libc::pollfd { fd: self.fd(), events: libc::POLLIN, revents: 0 };
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        match rc {
            0 => MIF_NO_MESSAGE,
            n if n > 0 => MIF_OK,
            _ => {
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    MIF_E_INTERRUPTED
                } else {
                    MIF_E_SYSTEM
                }
            }
        }
    }

    fn signal(&self) {
        let one: u64 = 1;
        // Cannot block or fail: the counter is 0 here (NONBLOCK, far below the maximum).
        let _ = unsafe { libc::write(self.fd(), (&one as *const u64).cast(), 8) };
    }

    fn clear(&self) {
        let mut value: u64 = 0;
        let _ = unsafe { libc::read(self.fd(), (&mut value as *mut u64).cast(), 8) };
    }
}
