//! The DNS helping path: an application thread reads the DNS answers itself instead
//! of waiting for the engine to hand them over (`resolver::DnsShared` states the
//! invariant). Used by a Translate Name post and by `mif_check_message`'s wait.

use parking_lot::MutexGuard;

use super::resolver::DnsShared;
use super::shared::Shared;
use crate::core::Error;

/// Application threads read DNS answers themselves only while the application has at
/// most this many translations outstanding: then it waits for them and the answer
/// should wake it directly. With more, it has other work (posting, taking results)
/// and the engine reading answers on its own CPU in parallel is faster
/// (BENCHMARKS.md, "The layers change": the measurement behind the 4).
pub(crate) const HELP_MAX_TRANSLATIONS: usize = 4;

/// An application thread reading DNS answers itself (see `DnsShared`), with the
/// resolver locked; when this drops, also on unwind, the engine gets the sockets back
/// if a query is still out (`DnsShared::watch_if_needed`).
pub(crate) struct Helping<'a> {
    dns: MutexGuard<'a, DnsShared>,
    on: bool,
    shared: &'a Shared,
}

impl<'a> Helping<'a> {
    pub(crate) fn begin(mut dns: MutexGuard<'a, DnsShared>, on: bool, shared: &'a Shared) -> Helping<'a> {
        if on {
            dns.begin_helping();
        }
        Helping { dns, on, shared }
    }

    /// Keeps helping with the lock released (while the thread waits).
    pub(crate) fn unlock(mut self) -> HelpingUnlocked<'a> {
        let on = std::mem::replace(&mut self.on, false);
        let shared = self.shared;
        drop(self);
        HelpingUnlocked { shared, on }
    }
}

/// Gives the socket set back to the engine. If that fails the engine would never see
/// an answer again unless a thread waits in `mif_check_message`: the context ends.
fn end_helping(dns: &mut DnsShared, shared: &Shared) {
    if let Err(e) = dns.end_helping() {
        shared.fail(Error::System, format!("cannot give the DNS sockets back to the engine: {e}"));
    }
}

impl std::ops::Deref for Helping<'_> {
    type Target = DnsShared;
    fn deref(&self) -> &DnsShared {
        &self.dns
    }
}

impl std::ops::DerefMut for Helping<'_> {
    fn deref_mut(&mut self) -> &mut DnsShared {
        &mut self.dns
    }
}

impl Drop for Helping<'_> {
    fn drop(&mut self) {
        if self.on {
            end_helping(&mut self.dns, self.shared);
        }
    }
}

pub(crate) struct HelpingUnlocked<'a> {
    shared: &'a Shared,
    on: bool,
}

impl Drop for HelpingUnlocked<'_> {
    fn drop(&mut self) {
        if self.on {
            end_helping(&mut self.shared.dns.lock(), self.shared);
        }
    }
}
