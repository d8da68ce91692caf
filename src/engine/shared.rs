//! State shared by the application's threads and the engine thread.
//!
//! Lock order (take them in this order, never the other way round):
//! `model` → `dns` (the resolver) → `operations` → the outbox's queue.
//! A function whose name ends in `_locked` expects the lock named in its comment to
//! be held by its caller.

use std::os::fd::OwnedFd;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, MutexGuard};

use super::by_name::INTERNAL_GENERATIONS;
use super::connector::ConnectEvent;
use super::logs::LogRecords;
use super::message::Message;
use super::operations::{Kind, Operations};
use super::outbox::Outbox;
use super::resolver::{DnsEvent, DnsShared};
use crate::core::model::HostModel;
use crate::core::Error;
use crate::log::{log_at, panic_text, route_to, LogSink, Route};
use crate::os::sys::LevelSet;

pub(crate) struct Shared {
    pub model: Mutex<HostModel>,
    /// The resolver (its queries and the sockets they use).
    pub dns: Mutex<DnsShared>,
    /// A second descriptor of the resolver's socket set, for a thread that waits for
    /// answers with the resolver's lock released (`wait.rs`).
    pub dns_sockets: OwnedFd,
    /// The application's descriptor (`mif_fd`), also `dns`'s (`DnsShared::app_set`).
    pub app_set: Arc<LevelSet>,
    /// Threads waiting in `mif_check_message` on the queue alone (`wait.rs`), also
    /// `dns`'s (`DnsShared::sleepers`).
    pub dns_sleepers: Arc<AtomicUsize>,
    /// Every outstanding translation and connect (`operations`).
    pub operations: Mutex<Operations>,
    pub outbox: Outbox,
    /// Diagnostics for the application, when it asked for them (`logs`).
    pub logs: Option<Arc<LogRecords>>,
    /// Results of Connect to Name's own translations, for the engine (`by_name`); a
    /// leaf lock. Whoever read them (an application thread helping with DNS, too)
    /// wakes the engine.
    pub race_dns: Mutex<Vec<DnsEvent>>,
    /// The engine's waker, once the engine exists.
    pub engine_waker: OnceLock<Arc<mio::Waker>>,
    /// Connections the application took from Connected messages, newest last, at most
    /// `DELIVERED_KEPT`: what Watch Connection finds by id (`viability`). A leaf lock.
    pub delivered: Mutex<std::collections::VecDeque<Delivered>>,
    /// Connection ids the engine follows (`follow`), for Cancel Connect; a leaf lock.
    pub following: Mutex<std::collections::HashSet<u64>>,
}

/// A Connected message the application took: its id, local address and interface.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Delivered {
    pub connection_id: u64,
    pub local: std::net::IpAddr,
    pub ifindex: u32,
    /// The connection runs MPTCP (`Mptcp::Active`).
    pub mptcp: bool,
}

/// How many taken Connected messages are remembered for Watch Connection.
pub(crate) const DELIVERED_KEPT: usize = 4096;

impl Shared {
    /// Routes the calling thread's diagnostics to this context until the guard drops
    /// (nothing when the application did not ask for them).
    pub(crate) fn route_logs(&self) -> Option<Route> {
        self.logs.as_ref().map(|logs| route_to(Arc::clone(logs) as Arc<dyn LogSink>))
    }

    /// Moves pending diagnostics to the message queue. Called with no lock held.
    pub(crate) fn flush_logs(&self) {
        if let Some(logs) = &self.logs {
            let records = logs.take();
            if !records.is_empty() {
                self.outbox
                    .push_all(records.into_iter().map(|(level, text)| Message::Log { level: level as u8, text }));
            }
        }
    }

    /// Reads the ready DNS sockets, times out what expired and queues the results as
    /// one batch (one lock of the queue, at most one eventfd write). The engine calls
    /// it, and so does an application thread waiting in `mif_check_message`.
    pub(crate) fn process_dns(&self) {
        let mut dns = self.dns.lock();
        let mut finished = dns.process(|events| self.emit_dns_locked(events));
        finished.extend(dns.take_closing());
        drop(dns);
        // Closing sockets takes microseconds: after the results are out, and unlocked.
        drop(finished);
    }

    /// `process_dns` for an application thread waiting in `mif_check_message`: it
    /// returns with the results before closing the ended queries' sockets, which the
    /// next post or the engine closes (`DnsShared::defer_close`).
    pub(crate) fn process_dns_waiting(&self) {
        self.process_dns_waiting_locked(self.dns.lock());
    }

    fn process_dns_waiting_locked(&self, mut dns: MutexGuard<'_, DnsShared>) {
        let finished = dns.process(|events| self.emit_dns_locked(events));
        let to_close = dns.defer_close(finished);
        drop(dns);
        drop(to_close);
    }

    /// Fd mode (`DnsShared::place_for_application`): an application thread that found
    /// no message reads the DNS answers that woke it, as `process_dns_waiting`.
    /// `Some(false)`: not in fd mode, nothing read; `None`: that work panicked (the
    /// context has ended).
    pub(crate) fn read_answers_for_application(&self) -> Option<bool> {
        let dns = self.dns.lock();
        if !dns.reads_for_application() {
            return Some(false);
        }
        self.fail_on_panic(|| self.process_dns_waiting_locked(dns)).map(|()| true)
    }

    /// Runs library work on an application thread (resolver work, a connect's first attempt). A panic there leaves the shared
    /// state unknown, as one in the engine does, so it ends the context the same way:
    /// a final `MIF_MSG_ENGINE_FAILED` message, and later posts fail.
    pub(crate) fn fail_on_panic<R>(&self, work: impl FnOnce() -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(r) => Some(r),
            Err(panic) => {
                self.fail(
                    Error::Internal,
                    format!("library work on an application thread panicked: {}", panic_text(&*panic)),
                );
                None
            }
        }
    }

    /// Ends the context: the final message, after which posts fail.
    pub(crate) fn fail(&self, error: Error, text: String) {
        log_at!(Error, "{text}");
        self.flush_logs();
        self.outbox.close_with(Message::EngineFailed { error, text });
    }

    /// Queues the resolver's results, unless their translation was stopped meanwhile.
    /// Called with `dns` locked, so that results keep their order.
    pub(crate) fn emit_dns_locked(&self, events: Vec<DnsEvent>) {
        if events.is_empty() {
            return;
        }
        // A race's own translations go to the engine, not to the application (split only
        // when there are some: the common batch is the application's alone).
        let ours = |e: &DnsEvent| e.generation() >= INTERNAL_GENERATIONS;
        let (races, events): (Vec<DnsEvent>, Vec<DnsEvent>) =
            if events.iter().any(ours) { events.into_iter().partition(ours) } else { (Vec::new(), events) };
        if !races.is_empty() {
            self.race_dns.lock().extend(races);
            if let Some(waker) = self.engine_waker.get() {
                if let Err(e) = waker.wake() {
                    log_at!(Error, "cannot wake the engine thread: {e}");
                }
            }
        }
        if events.is_empty() {
            return;
        }
        let mut operations = self.operations.lock();
        let mut messages = Vec::with_capacity(events.len());
        for event in events {
            let (translation_id, generation, done) = match &event {
                DnsEvent::Address { translation_id, generation, .. } => (*translation_id, *generation, false),
                DnsEvent::Done { translation_id, generation, .. } => (*translation_id, *generation, true),
            };
            let wanted = if done {
                operations.finish(Kind::Translation, translation_id, generation)
            } else {
                operations.is_current(Kind::Translation, translation_id, generation)
            };
            if wanted {
                messages.push(Message::Dns(event));
            }
        }
        // One lock and at most one wake-up of the application for the whole batch.
        self.outbox.push_all(messages);
    }

    /// Queues connection results unless the connect was cancelled meanwhile (then the
    /// socket of a late success is simply closed with the event).
    /// Queues connect results whose operation is still outstanding (a cancelled one's
    /// result is dropped: the cancel queued the final message); returns the
    /// generations queued.
    pub(crate) fn emit_connect(&self, events: Vec<ConnectEvent>) -> Vec<u64> {
        let mut queued = Vec::new();
        if events.is_empty() {
            return queued;
        }
        let mut operations = self.operations.lock();
        for event in events {
            let (connection_id, generation) = event.ids();
            if operations.finish(Kind::Connect, connection_id, generation) {
                if matches!(event, ConnectEvent::Connected { .. }) {
                    operations.hold_queued_socket();
                }
                self.outbox.push_all([Message::Connect(event)]);
                queued.push(generation);
            }
        }
        queued
    }
}
