//! The queue of messages waiting for the application, and its eventfd.
//!
//! Invariant (kept under the queue lock): the eventfd's counter is non-zero exactly
//! while the queue is non-empty. We write 1 when the queue goes from empty to
//! non-empty and read the counter back to 0 when it goes empty, so `mif_fd` is
//! level-triggered: readable while a message waits, also after a partial drain.
//!
//! The queue is bounded (`limit`, `mif_options.max_queued_messages`): a subscription
//! announcement that finds it full is left out, and one overflow message stands for
//! it and every later one until the application takes that message (then the context
//! queues its subscriptions' complete state again, past the limit: `push_state`).
//! Results of requests are always queued: they are bounded by the requests in flight
//! (the socket budget).
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

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
    limit: usize,
    /// An overflow message waits; announcements left out since it was queued.
    overflow: Option<u64>,
}

impl Outbox {
    pub(crate) fn new(limit: usize) -> io::Result<Outbox> {
        let state = State { messages: VecDeque::new(), closed: false, shut: false, limit, overflow: None };
        Ok(Outbox { queue: Mutex::new(state), level: Level::new()? })
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
        for message in messages {
            if message.is_droppable() {
                if let Some(dropped) = state.overflow.as_mut() {
                    *dropped += 1;
                    continue;
                }
                if state.messages.len() >= state.limit {
                    state.overflow = Some(1);
                    state.messages.push_back(Message::Overflow { dropped: 0 });
                    continue;
                }
            }
            state.messages.push_back(message);
        }
        if was_empty && !state.messages.is_empty() {
            self.signal();
        }
    }

    /// Queues the complete state that follows a taken overflow message, whatever the
    /// limit: a state larger than the limit would otherwise overflow again at once, for
    /// ever. It is bounded by the host's state, and at most one is queued per overflow
    /// message the application took. Later announcements find the queue as full as it
    /// is and overflow again.
    pub(crate) fn push_state(&self, messages: impl IntoIterator<Item = Message>) {
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

    /// Whether the queue is at its limit (a Get Configuration Data post is refused).
    pub(crate) fn is_full(&self) -> bool {
        let state = self.queue.lock();
        state.messages.len() >= state.limit
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

    /// Takes the waiting messages `pick` selects out of the queue, in order (a late
    /// Stop or Cancel withdraws a result).
    pub(crate) fn take_matching(&self, pick: impl Fn(&Message) -> bool) -> Vec<Message> {
        let mut state = self.queue.lock();
        let was_empty = state.messages.is_empty();
        let (picked, kept): (VecDeque<Message>, VecDeque<Message>) =
            std::mem::take(&mut state.messages).into_iter().partition(|m| pick(m));
        state.messages = kept;
        if !was_empty && state.messages.is_empty() {
            self.clear_locked(&state);
        }
        picked.into()
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

    /// Whether the application closed the context, and whether the queue takes nothing
    /// more (closed by the application or by an engine failure), in one look.
    pub(crate) fn shut_and_closed(&self) -> (bool, bool) {
        let state = self.queue.lock();
        (state.shut, state.closed)
    }

    pub(crate) fn pop(&self) -> Option<Message> {
        let mut state = self.queue.lock();
        let mut message = state.messages.pop_front()?;
        if let Message::Overflow { dropped } = &mut message {
            *dropped = state.overflow.take().unwrap_or(0);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Announcement, Family, PvdInfo};
    use crate::core::Error;

    fn announcement(id: u64) -> Message {
        let pvd = PvdInfo { id, ifindex: 2, ifname: "mif0".into(), family: Family::V4, name: "mif0/ipv4".into() };
        Message::Announcement(Announcement::PvdConfigComplete(pvd))
    }

    fn result() -> Message {
        Message::EngineFailed { error: Error::System, text: "a result stands for any".into() }
    }

    fn show(m: &Message) -> String {
        match m {
            Message::Announcement(Announcement::PvdConfigComplete(p)) => format!("a{}", p.id),
            Message::Overflow { dropped } => format!("overflow {dropped}"),
            Message::EngineFailed { .. } => "result".into(),
            other => format!("{other:?}"),
        }
    }

    fn drain(outbox: &Outbox) -> Vec<String> {
        std::iter::from_fn(|| outbox.pop()).map(|m| show(&m)).collect()
    }

    #[test]
    fn a_full_queue_leaves_announcements_out_for_one_overflow_but_never_results() {
        let outbox = Outbox::new(3).unwrap();
        outbox.push_all((1..=5).map(announcement));
        outbox.push_all([result()]);
        outbox.push_all([announcement(6)]);
        assert!(outbox.is_full());
        assert_eq!(drain(&outbox), vec!["a1", "a2", "a3", "overflow 3", "result"]);
        assert!(!outbox.wait(0).unwrap(), "the descriptor is lowered once empty");
        // Once the overflow message was taken, announcements are queued again.
        outbox.push_all([announcement(7)]);
        assert_eq!(drain(&outbox), vec!["a7"]);
    }

    #[test]
    fn while_the_overflow_message_waits_every_announcement_is_counted_in_it() {
        let outbox = Outbox::new(2).unwrap();
        outbox.push_all((1..=3).map(announcement));
        assert_eq!(outbox.pop().map(|m| show(&m)).as_deref(), Some("a1"));
        // Room again, but the application has not seen the overflow yet: still left out.
        outbox.push_all((4..=5).map(announcement));
        assert_eq!(drain(&outbox), vec!["a2", "overflow 3"]);
    }
}
