//! How often the library may send Router Solicitations on one link. RFC 4861 lets a
//! host send MAX_RTR_SOLICITATIONS (3) when an interface starts, RTR_SOLICITATION_INTERVAL
//! (4 s) apart; the library asks again after every netlink overrun (RA options cannot
//! be dumped), and overruns can come many times a second under a burst of changes.
//! So: at most 3 per link in any minute, at least 4 s apart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// RFC 4861 MAX_RTR_SOLICITATIONS.
pub const MAX_SOLICITATIONS: usize = 3;
/// RFC 4861 RTR_SOLICITATION_INTERVAL.
pub const SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// The window in which at most `MAX_SOLICITATIONS` are sent per link.
pub const SOLICITATION_WINDOW: Duration = Duration::from_secs(60);

/// The solicitations sent per link, and whether another may go now.
#[derive(Debug, Default)]
pub struct SolicitationPacer {
    sent: HashMap<u32, Vec<Instant>>,
}

impl SolicitationPacer {
    /// Whether a solicitation may go on `ifindex` at `now`; if so it counts as sent.
    pub fn allow(&mut self, ifindex: u32, now: Instant) -> bool {
        let sent = self.sent.entry(ifindex).or_default();
        sent.retain(|t| now.saturating_duration_since(*t) < SOLICITATION_WINDOW);
        let spaced = sent.last().is_none_or(|t| now.saturating_duration_since(*t) >= SOLICITATION_INTERVAL);
        if sent.len() >= MAX_SOLICITATIONS || !spaced {
            return false;
        }
        sent.push(now);
        true
    }

    /// Whether a solicitation went on `ifindex` within the last `SOLICITATION_INTERVAL`:
    /// its answer may still come, so asking again is not needed (Wants to connect).
    pub fn recently_sent(&self, ifindex: u32, now: Instant) -> bool {
        self.sent
            .get(&ifindex)
            .and_then(|s| s.last())
            .is_some_and(|t| now.saturating_duration_since(*t) < SOLICITATION_INTERVAL)
    }

    /// Forgets links that are gone.
    pub fn retain_links(&mut self, present: impl Fn(u32) -> bool) {
        self.sent.retain(|ifindex, _| present(*ifindex));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_three_a_minute_four_seconds_apart() {
        let mut p = SolicitationPacer::default();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_millis(s);
        let mut log = Vec::new();
        // An overrun every 500 ms for two minutes.
        for step in 0..240u64 {
            if p.allow(7, at(step * 500)) {
                log.push(step * 500);
            }
        }
        assert_eq!(log, vec![0, 4000, 8000, 60000, 64000, 68000]);
        assert!(p.allow(8, at(1000)), "links are counted apart");
        p.retain_links(|i| i == 8);
        assert!(p.allow(7, at(130_000)), "a forgotten link starts afresh");
    }
}
