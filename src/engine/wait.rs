//! Waiting for a message (`mif_check_message`), and the DNS helping path.
//!
//! While name translations are out, a thread waiting here reads their answers itself
//! (see `DnsShared`): the answer then wakes this thread directly, where the engine
//! would have to wake first and then wake it. While it does that work, the thread's
//! asynchronous signals are held back and let in only inside ppoll(), so that a
//! handler running at any moment of the call still ends it with `Interrupted`, as
//! the single poll() would.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicUsize, Ordering};

use super::context::Context;
use super::helping::{Helping, HELP_MAX_TRANSLATIONS};
use crate::core::Error;
use crate::os::sys::SignalsHeld;
use crate::os::wait_error_of;

impl Context {
    /// Waits for a message: `Ok(true)` when one waits, `Ok(false)` when `timeout_ms`
    /// ran out (0 probes, -1 waits forever), `Closed` when the application began to
    /// close the context meanwhile.
    pub fn check(&self, timeout_ms: i32) -> Result<bool, Error> {
        let route = self.shared.route_logs();
        let waited = self.wait_for_message(timeout_ms);
        drop(route);
        // Diagnostics of this wait (DNS answers it read) are messages too.
        self.shared.flush_logs();
        if self.shared.outbox.is_shut() {
            return Err(Error::Closed);
        }
        match waited {
            Ok(false) if self.shared.outbox.has_messages() => Ok(true),
            other => other,
        }
    }

    fn wait_for_message(&self, timeout_ms: i32) -> Result<bool, Error> {
        let outbox = &self.shared.outbox;
        let as_error = |e: std::io::Error| wait_error_of(&e);
        if timeout_ms == 0 {
            // Fd mode: a probe after the descriptor woke for a DNS answer reads it.
            if self.asked_for_fd() && !outbox.has_messages() && self.shared.read_answers_for_application().is_none() {
                return Ok(true); // the final ENGINE_FAILED message waits
            }
            return outbox.wait(0).map_err(as_error);
        }
        let until = (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        let mut signals: Option<SignalsHeld> = None;
        loop {
            // Shut: the descriptor stays readable, `check` answers `Closed`.
            if outbox.has_messages() || outbox.is_shut() {
                return Ok(true);
            }
            let now = Instant::now();
            let left_ms = |t: Instant| -> i32 {
                let d = t.saturating_duration_since(now);
                // Round up: never wake before the moment.
                d.as_millis().saturating_add(u128::from(d.subsec_nanos() % 1_000_000 != 0)).min(i32::MAX as u128) as i32
            };
            let user_ms = until.map_or(-1, left_ms);
            let dns = self.shared.dns.lock();
            // In fd mode the engine does not watch the set even for queries started
            // later (a translation waiting for its PvD's configuration, another
            // thread's post): a waiting thread watches it then, also with none out yet.
            let watch = dns.has_queries() || dns.reads_for_application();
            if !watch || self.shared.operations.lock().translations() > HELP_MAX_TRANSLATIONS {
                // Counted while it sleeps: meanwhile another thread's post or first
                // `mif_fd` may switch to fd mode, which then leaves the engine watching
                // the sockets too, so that this thread's answers are not left to their
                // timeout (`DnsShared::place_for_application`).
                let sleeping = Sleeping::begin(&self.shared.dns_sleepers);
                drop(dns);
                let waited = match &signals {
                    None => outbox.wait(user_ms).map_err(as_error),
                    Some(held) => held.poll([outbox.borrow_fd()], user_ms).map(|[ready]| ready).map_err(as_error),
                };
                drop(sleeping);
                return waited;
            }
            let held = signals.get_or_insert_with(SignalsHeld::hold);
            let dns_due = dns.next_wake();
            let helping = Helping::begin(dns, true, &self.shared).unlock();
            let wait_ms = match dns_due.map(left_ms) {
                Some(d) if user_ms < 0 || d < user_ms => d,
                _ => user_ms,
            };
            let polled = held.poll([outbox.borrow_fd(), self.shared.dns_sockets.as_fd()], wait_ms);
            let answers = polled.as_ref().is_ok_and(|ready| ready[1]);
            let answers_or_due = answers || dns_due.is_some_and(|d| d <= Instant::now());
            if answers_or_due && self.shared.fail_on_panic(|| self.shared.process_dns_waiting()).is_none() {
                return Ok(true); // the final ENGINE_FAILED message waits
            }
            drop(helping);
            polled.map_err(as_error)?;
            if outbox.has_messages() {
                return Ok(true);
            }
            if until.is_some_and(|t| t <= Instant::now()) {
                return Ok(false);
            }
        }
    }
}

/// A thread waiting in `mif_check_message` on the queue alone, counted while it waits
/// (`Shared::dns_sleepers`); uncounted when this drops, also on unwind.
struct Sleeping<'a>(&'a AtomicUsize);

impl<'a> Sleeping<'a> {
    /// With the resolver's lock held, so that a post's placement sees the count.
    fn begin(count: &'a AtomicUsize) -> Sleeping<'a> {
        count.fetch_add(1, Ordering::AcqRel);
        Sleeping(count)
    }
}

impl Drop for Sleeping<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
