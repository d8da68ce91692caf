//! A context's diagnostics for the application (`mif_options.log_level`): records the
//! context's threads log are kept here, bounded, and moved to the message queue as
//! `Message::Log` when no lock is held (`Shared::flush_logs`): at the end of each engine
//! iteration and of each call the application makes on the context. Keeping them apart
//! from the queue means logging never takes the queue's lock, whatever lock the logging
//! code holds.
use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::log::{Level, LogSink};

/// Records kept between two flushes; more are counted and reported in one record.
pub(crate) const MAX_PENDING_LOG_RECORDS: usize = 256;

pub(crate) struct LogRecords {
    max_level: u8,
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    records: VecDeque<(Level, String)>,
    dropped: u64,
}

impl LogRecords {
    pub(crate) fn new(max_level: u8) -> LogRecords {
        LogRecords { max_level, pending: Mutex::new(Pending::default()) }
    }

    /// Takes what is pending, oldest first; records left out for lack of room are told
    /// by one warning in their place (at the point they were lost).
    pub(crate) fn take(&self) -> Vec<(Level, String)> {
        let mut pending = self.pending.lock();
        let mut out: Vec<(Level, String)> = pending.records.drain(..).collect();
        if pending.dropped > 0 {
            out.push((
                Level::Warn,
                format!(
                    "{} diagnostics left out: more than {MAX_PENDING_LOG_RECORDS} between two deliveries",
                    pending.dropped
                ),
            ));
            pending.dropped = 0;
        }
        out
    }
}

impl LogSink for LogRecords {
    fn max_level(&self) -> u8 {
        self.max_level
    }

    fn record(&self, level: Level, text: String) {
        let mut pending = self.pending.lock();
        if pending.records.len() < MAX_PENDING_LOG_RECORDS {
            pending.records.push_back((level, text));
        } else {
            pending.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::log::{log_at, route_to};

    fn render(records: &[(Level, String)]) -> String {
        records.iter().map(|(l, t)| format!("{}: {t}\n", l.name())).collect()
    }

    #[test]
    fn a_routed_thread_records_up_to_its_level() {
        let sink = Arc::new(LogRecords::new(Level::Warn as u8));
        {
            let _route = route_to(sink.clone());
            log_at!(Error, "one {}", 1);
            log_at!(Warn, "two");
            log_at!(Info, "not wanted");
            log_at!(Debug, "not wanted either");
        }
        log_at!(Error, "after the route ended");
        assert_eq!(render(&sink.take()), "error: one 1\nwarn: two\n");
        assert_eq!(render(&sink.take()), "");
    }

    #[test]
    fn routes_nest_and_other_threads_are_not_routed() {
        let outer = Arc::new(LogRecords::new(Level::Debug as u8));
        let inner = Arc::new(LogRecords::new(Level::Debug as u8));
        let _route = route_to(outer.clone());
        log_at!(Info, "outer 1");
        {
            let _route = route_to(inner.clone());
            log_at!(Info, "inner");
        }
        log_at!(Info, "outer 2");
        std::thread::spawn(|| log_at!(Error, "another thread")).join().unwrap();
        assert_eq!(render(&outer.take()), "info: outer 1\ninfo: outer 2\n");
        assert_eq!(render(&inner.take()), "info: inner\n");
    }

    #[test]
    fn records_beyond_the_bound_are_counted_in_one_warning() {
        let sink = Arc::new(LogRecords::new(Level::Debug as u8));
        let _route = route_to(sink.clone());
        for i in 0..MAX_PENDING_LOG_RECORDS + 10 {
            log_at!(Debug, "record {i}");
        }
        let taken = sink.take();
        assert_eq!(taken.len(), MAX_PENDING_LOG_RECORDS + 1);
        assert_eq!(taken[0].1, "record 0");
        assert_eq!(
            render(&taken[MAX_PENDING_LOG_RECORDS..]),
            "warn: 10 diagnostics left out: more than 256 between two deliveries\n"
        );
        log_at!(Debug, "next");
        assert_eq!(render(&sink.take()), "debug: next\n");
    }
}
