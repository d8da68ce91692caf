//! The racer of "Connect to Name" across networks: Happy Eyeballs v2 (RFC 8305) within
//! a network, and racing across networks as TAPS does (RFC 9623 §4). A pure state
//! machine: the engine gives it the networks in selection order, feeds it DNS answers,
//! attempt outcomes and the time, and performs the actions it answers with.
//!
//! Rules:
//! - Order (RFC 9623 §4, ranks from RFC 9622 selection properties): networks sorted by rank,
//!   stable. The first resolves at once; the next (not Avoid) `network_delay` after the
//!   last one started, or at once when every network started so far has failed (its
//!   resolution is over, no untried candidate, no attempt running). Avoid networks start
//!   only when every other network has failed: the first at once, the next ones by the
//!   same rule among themselves. A network lost before it started is skipped.
//! - Candidates (RFC 8305 §4): a network's answers, families interleaved from the
//!   preferred one (First Address Family Count 1). `V6Only`/`V4Only` drop the other
//!   family, which then counts for nothing. A late answer joins the untried ones: the
//!   next family is the one the last attempt did not use, when it has any; tried ones
//!   never move. Duplicates are ignored; at most `MAX_CANDIDATES` per network.
//! - Resolution Delay (RFC 8305 §3): a network whose answers so far are all of the other
//!   family waits `resolution_delay` from the first of them before its first attempt; an
//!   answer of the preferred family or the end of its resolution ends the wait.
//! - Pacing (RFC 8305 §5): a network's next attempt starts `attempt_delay` after its last
//!   one started, or at once when none of its attempts is running (a failure starts the
//!   next). At most `max_in_flight` attempts run over all networks (at least 1); one that
//!   waits for a slot starts when one frees, networks in order.
//! - The first attempt to connect wins, even past the timeout (the connection is there):
//!   the others are abandoned, every translation still running is stopped.
//! - The race fails at its timeout (checked at every call), or when every network has
//!   started and failed: `NoAddresses` when none gave an address of an allowed family,
//!   else `AllFailed` with the errno of the last failure (a lost network's errno counts
//!   when it had candidates or attempts).
//! - Once finished, every call answers nothing; unknown attempts and networks are ignored.
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Addresses kept per network (tried and untried), so that a hostile DNS answer cannot
/// grow the race without bound; further ones are ignored.
pub const MAX_CANDIDATES: usize = 64;

/// How the application ranks a network (RFC 9622 selection properties; Require and
/// Prohibit are applied by the engine before the racer sees the networks: a required
/// set is the only networks given, a prohibited network is never given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Prefer,
    Neutral,
    Avoid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyPreference {
    V6First,
    V4First,
    V6Only,
    V4Only,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaceConfig {
    /// RFC 8305 §3 Resolution Delay (50 ms by default).
    pub resolution_delay: Duration,
    /// RFC 8305 §5 Connection Attempt Delay (250 ms by default).
    pub attempt_delay: Duration,
    /// How long a network gets before the next network in order starts (default 300 ms).
    pub network_delay: Duration,
    /// Overall limit of the race (default 10 s).
    pub timeout: Duration,
    /// Attempts in flight at once, across all networks (default 4): no SYN bursts.
    pub max_in_flight: usize,
    pub family: FamilyPreference,
}

impl Default for RaceConfig {
    fn default() -> RaceConfig {
        RaceConfig {
            resolution_delay: Duration::from_millis(50),
            attempt_delay: Duration::from_millis(250),
            network_delay: Duration::from_millis(300),
            timeout: Duration::from_secs(10),
            max_in_flight: 4,
            family: FamilyPreference::V6First,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceNetwork {
    /// The interface index.
    pub id: u32,
    pub rank: Rank,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No network was given (everything prohibited, nothing required exists).
    NoNetworks,
    /// Every network finished resolving and none gave an address (of an allowed family).
    NoAddresses,
    /// Every attempt failed; the errno of the last failure.
    AllFailed { errno: i32 },
    /// The overall timeout passed.
    Timeout,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start translating the name on this network (A and AAAA together).
    Resolve { network: u32 },
    /// Stop that network's translation (the race ended or the network is not needed).
    StopResolving { network: u32 },
    /// Open a socket on `network` and connect to `remote` (the engine adds the port).
    Connect { attempt: usize, network: u32, remote: IpAddr },
    /// Close an attempt's socket: it lost, or the race ended.
    Abandon { attempt: usize },
    /// This attempt's connection is the result. Nothing follows.
    Won { attempt: usize },
    /// The race failed. Nothing follows.
    Failed(Failure),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Running,
    Connected,
    Failed { errno: i32 },
    Abandoned,
}

/// One attempt, for the establishment report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    pub attempt: usize,
    pub network: u32,
    pub remote: IpAddr,
    /// From the race's start.
    pub started: Duration,
    /// From the race's start to its end; None while running.
    pub ended: Option<Duration>,
    pub outcome: AttemptOutcome,
}

/// One network's part of the race.
struct Net {
    id: u32,
    rank: Rank,
    started: bool,
    /// Its translation is over: done, stopped or lost.
    resolved: bool,
    lost: bool,
    /// Every address accepted (at most `MAX_CANDIDATES`), to ignore duplicates.
    seen: Vec<IpAddr>,
    /// Untried addresses of the preferred family [0] and the other [1], in arrival order.
    untried: [VecDeque<IpAddr>; 2],
    /// The family of the last attempt, to interleave.
    last_family: Option<usize>,
    /// When its last attempt started; None before its first.
    last_attempt: Option<Instant>,
    /// The first answer of the other family: when the Resolution Delay began.
    other_since: Option<Instant>,
}

pub struct Racer {
    config: RaceConfig,
    start: Instant,
    /// None when `start + timeout` cannot be represented: no timeout.
    deadline: Option<Instant>,
    nets: Vec<Net>,
    attempts: Vec<AttemptRecord>,
    last_network_start: Option<Instant>,
    any_address: bool,
    last_errno: Option<i32>,
    /// The attempt that connected, to end the race with.
    winner: Option<usize>,
    finished: bool,
}

impl Racer {
    /// Networks are ordered by rank (stable: the given order within a rank; a repeated id
    /// counts once).
    /// Returns the racer and its first actions (Resolve of the first network; or Failed(NoNetworks)).
    pub fn new(config: RaceConfig, networks: Vec<RaceNetwork>, now: Instant) -> (Racer, Vec<Action>) {
        let mut nets: Vec<Net> = Vec::with_capacity(networks.len());
        for n in networks {
            if nets.iter().all(|m| m.id != n.id) {
                nets.push(Net {
                    id: n.id,
                    rank: n.rank,
                    started: false,
                    resolved: false,
                    lost: false,
                    seen: Vec::new(),
                    untried: [VecDeque::new(), VecDeque::new()],
                    last_family: None,
                    last_attempt: None,
                    other_since: None,
                });
            }
        }
        nets.sort_by_key(|n| n.rank);
        let mut racer = Racer {
            config,
            start: now,
            deadline: now.checked_add(config.timeout),
            nets,
            attempts: Vec::new(),
            last_network_start: None,
            any_address: false,
            last_errno: None,
            winner: None,
            finished: false,
        };
        let mut out = Vec::new();
        if racer.nets.is_empty() {
            racer.finished = true;
            out.push(Action::Failed(Failure::NoNetworks));
        } else {
            racer.step(now, &mut out);
        }
        (racer, out)
    }

    /// Addresses a network's translation gave (any family, any number of calls; duplicates ignored).
    pub fn answers(&mut self, network: u32, addrs: &[IpAddr], now: Instant) -> Vec<Action> {
        self.event(now, |r| {
            let family = r.config.family;
            let Some(n) = r.nets.iter_mut().find(|n| n.id == network && n.started && !n.resolved) else { return };
            for &addr in addrs {
                let Some(fam) = family_index(family, addr) else { continue };
                if n.seen.contains(&addr) {
                    continue;
                }
                if n.seen.len() >= MAX_CANDIDATES {
                    break;
                }
                n.seen.push(addr);
                n.untried[fam].push_back(addr);
                r.any_address = true;
                if fam == 1 && n.other_since.is_none() {
                    n.other_since = Some(now);
                }
            }
        })
    }

    /// No more answers will come from this network's translation (whatever its status).
    pub fn resolution_done(&mut self, network: u32, now: Instant) -> Vec<Action> {
        self.event(now, |r| {
            if let Some(n) = r.nets.iter_mut().find(|n| n.id == network && n.started) {
                n.resolved = true;
            }
        })
    }

    pub fn attempt_connected(&mut self, attempt: usize, now: Instant) -> Vec<Action> {
        self.event(now, |r| {
            if r.running(attempt) {
                r.winner = Some(attempt);
            }
        })
    }

    pub fn attempt_failed(&mut self, attempt: usize, errno: i32, now: Instant) -> Vec<Action> {
        self.event(now, |r| {
            if r.running(attempt) {
                r.attempts[attempt].outcome = AttemptOutcome::Failed { errno };
                r.attempts[attempt].ended = Some(now.saturating_duration_since(r.start));
                r.last_errno = Some(errno);
            }
        })
    }

    /// The network went away: its translation is over, its untried addresses dropped, its
    /// running attempts failed with `errno` (the engine closes their sockets itself: emit no Abandon for them).
    pub fn network_lost(&mut self, network: u32, errno: i32, now: Instant) -> Vec<Action> {
        self.event(now, |r| {
            let ended = Some(now.saturating_duration_since(r.start));
            let Some(n) = r.nets.iter_mut().find(|n| n.id == network && !n.lost) else { return };
            n.lost = true;
            n.resolved = true;
            let mut had_candidates = !n.untried.iter().all(VecDeque::is_empty);
            n.untried.iter_mut().for_each(VecDeque::clear);
            for a in r.attempts.iter_mut().filter(|a| a.network == network && a.outcome == AttemptOutcome::Running) {
                a.outcome = AttemptOutcome::Failed { errno };
                a.ended = ended;
                had_candidates = true;
            }
            if had_candidates {
                r.last_errno = Some(errno);
            }
        })
    }

    /// The application cancelled: Abandon every running attempt, StopResolving every resolving network. Finished afterwards, no Failed.
    pub fn cancel(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.finished {
            self.stop_all(now, &mut out);
            self.finished = true;
        }
        out
    }

    /// When `tick` next has something to do; None when finished or waiting only on events.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        let mut next = self.deadline;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.network_start_at().map(|(_, t)| t));
        if self.in_flight() < self.max_in_flight() {
            for n in &self.nets {
                consider(self.attempt_ready_at(n));
            }
        }
        next
    }

    pub fn tick(&mut self, now: Instant) -> Vec<Action> {
        self.event(now, |_| {})
    }

    /// For the scenario tests: the engine learns the end from the Won / Failed action.
    #[cfg(test)]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn attempts(&self) -> &[AttemptRecord] {
        &self.attempts
    }

    /// Which network an attempt runs on (for the engine).
    pub fn network_of(&self, attempt: usize) -> Option<u32> {
        self.attempts.get(attempt).map(|a| a.network)
    }

    /// Applies an event unless finished, then does what is due.
    fn event(&mut self, now: Instant, apply: impl FnOnce(&mut Racer)) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.finished {
            apply(self);
            self.step(now, &mut out);
        }
        out
    }

    /// Does what is due at `now`: the win, the timeout, networks to start, attempts to
    /// start, the end when everything failed.
    fn step(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(attempt) = self.winner {
            self.attempts[attempt].outcome = AttemptOutcome::Connected;
            self.attempts[attempt].ended = Some(now.saturating_duration_since(self.start));
            self.end(now, Action::Won { attempt }, out);
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.end(now, Action::Failed(Failure::Timeout), out);
            return;
        }
        while let Some((i, at)) = self.network_start_at() {
            if at > now {
                break;
            }
            self.nets[i].started = true;
            self.last_network_start = Some(now);
            out.push(Action::Resolve { network: self.nets[i].id });
        }
        for i in 0..self.nets.len() {
            while self.in_flight() < self.max_in_flight()
                && self.attempt_ready_at(&self.nets[i]).is_some_and(|t| t <= now)
            {
                self.start_attempt(i, now, out);
            }
        }
        if self.nets.iter().all(|n| (n.started || n.lost) && self.failed(n)) {
            // Addresses but no failure cannot be: a lost network's errno counts.
            let failure = if self.any_address {
                Failure::AllFailed { errno: self.last_errno.unwrap_or(0) }
            } else {
                Failure::NoAddresses
            };
            self.end(now, Action::Failed(failure), out);
        }
    }

    /// Abandons what runs, stops what resolves, then `last`. Finished.
    fn end(&mut self, now: Instant, last: Action, out: &mut Vec<Action>) {
        self.stop_all(now, out);
        out.push(last);
        self.finished = true;
    }

    fn stop_all(&mut self, now: Instant, out: &mut Vec<Action>) {
        let ended = Some(now.saturating_duration_since(self.start));
        for a in self.attempts.iter_mut().filter(|a| a.outcome == AttemptOutcome::Running) {
            a.outcome = AttemptOutcome::Abandoned;
            a.ended = ended;
            out.push(Action::Abandon { attempt: a.attempt });
        }
        for n in self.nets.iter_mut().filter(|n| n.started && !n.resolved) {
            n.resolved = true;
            out.push(Action::StopResolving { network: n.id });
        }
    }

    fn start_attempt(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        let n = &mut self.nets[i];
        let want = if n.last_family == Some(0) { 1 } else { 0 };
        let fam = if n.untried[want].is_empty() { 1 - want } else { want };
        let Some(remote) = n.untried[fam].pop_front() else { return };
        n.last_family = Some(fam);
        n.last_attempt = Some(now);
        let attempt = self.attempts.len();
        let record = AttemptRecord {
            attempt,
            network: n.id,
            remote,
            started: now.saturating_duration_since(self.start),
            ended: None,
            outcome: AttemptOutcome::Running,
        };
        out.push(Action::Connect { attempt, network: n.id, remote });
        self.attempts.push(record);
    }

    /// The next network to start and the moment it may (the race's start: at once); None
    /// when none is left or it waits for others to fail.
    fn network_start_at(&self) -> Option<(usize, Instant)> {
        let i = self.nets.iter().position(|n| !n.started && !n.lost)?;
        let all_failed = |avoid: bool| {
            self.nets
                .iter()
                .filter(|n| (n.rank == Rank::Avoid) == avoid)
                .all(|n| (n.started || n.lost) && self.failed(n))
        };
        if self.nets[i].rank == Rank::Avoid {
            if !all_failed(false) {
                return None;
            }
            if !self.nets.iter().any(|n| n.rank == Rank::Avoid && n.started) {
                return Some((i, self.start));
            }
        }
        let started_failed = self.nets.iter().filter(|n| n.started || n.lost).all(|n| self.failed(n));
        if started_failed {
            return Some((i, self.start));
        }
        Some((i, self.last_network_start?.checked_add(self.config.network_delay)?))
    }

    /// When the network's next attempt may start (the race's start: at once); None when it
    /// has no untried candidate.
    fn attempt_ready_at(&self, n: &Net) -> Option<Instant> {
        if n.untried.iter().all(VecDeque::is_empty) {
            return None;
        }
        let mut at = self.start;
        if n.last_attempt.is_none() && !n.resolved && n.untried[0].is_empty() {
            if let Some(since) = n.other_since {
                at = at.max(since.checked_add(self.config.resolution_delay)?);
            }
        }
        if self.running_on(n.id) > 0 {
            if let Some(last) = n.last_attempt {
                at = at.max(last.checked_add(self.config.attempt_delay)?);
            }
        }
        Some(at)
    }

    /// Its translation is over, no candidate is left and none of its attempts runs.
    fn failed(&self, n: &Net) -> bool {
        n.resolved && n.untried.iter().all(VecDeque::is_empty) && self.running_on(n.id) == 0
    }

    fn running_on(&self, network: u32) -> usize {
        self.attempts.iter().filter(|a| a.network == network && a.outcome == AttemptOutcome::Running).count()
    }

    fn in_flight(&self) -> usize {
        self.attempts.iter().filter(|a| a.outcome == AttemptOutcome::Running).count()
    }

    fn max_in_flight(&self) -> usize {
        self.config.max_in_flight.max(1)
    }

    fn running(&self, attempt: usize) -> bool {
        self.attempts.get(attempt).is_some_and(|a| a.outcome == AttemptOutcome::Running)
    }
}

/// 0 for the preferred family, 1 for the other; None when the other is not allowed.
fn family_index(family: FamilyPreference, addr: IpAddr) -> Option<usize> {
    let v6 = addr.is_ipv6();
    match family {
        FamilyPreference::V6First => Some(if v6 { 0 } else { 1 }),
        FamilyPreference::V4First => Some(if v6 { 1 } else { 0 }),
        FamilyPreference::V6Only => v6.then_some(0),
        FamilyPreference::V4Only => (!v6).then_some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rank::{Avoid, Neutral, Prefer};

    const V6A: &str = "fd6d:6966:1::10";
    const V6B: &str = "fd6d:6966:1::11";
    const V6C: &str = "fd6d:6966:1::12";
    const V4A: &str = "198.18.1.10";
    const V4B: &str = "198.18.1.11";
    const V4C: &str = "198.18.1.12";

    /// A racer driven by a fake clock in ms, every action logged as "ms what".
    struct Race {
        racer: Racer,
        t0: Instant,
        now: u64,
        log: Vec<String>,
        /// The most attempts running at once over the whole race (checked against the cap).
        most_running: usize,
        cap: usize,
    }

    fn show(ms: u64, a: &Action) -> String {
        match a {
            Action::Resolve { network } => format!("{ms} resolve {network}"),
            Action::StopResolving { network } => format!("{ms} stop {network}"),
            Action::Connect { attempt, network, remote } => format!("{ms} connect #{attempt} {network} {remote}"),
            Action::Abandon { attempt } => format!("{ms} abandon #{attempt}"),
            Action::Won { attempt } => format!("{ms} won #{attempt}"),
            Action::Failed(Failure::AllFailed { errno }) => format!("{ms} failed AllFailed {errno}"),
            Action::Failed(f) => format!("{ms} failed {f:?}"),
        }
    }

    impl Race {
        fn with(config: RaceConfig, nets: &[(u32, Rank)]) -> Race {
            let t0 = Instant::now();
            let nets = nets.iter().map(|&(id, rank)| RaceNetwork { id, rank }).collect();
            let (racer, first) = Racer::new(config, nets, t0);
            let mut r = Race { racer, t0, now: 0, log: Vec::new(), most_running: 0, cap: config.max_in_flight.max(1) };
            r.record(first);
            r
        }
        fn new(nets: &[(u32, Rank)]) -> Race {
            Race::with(RaceConfig::default(), nets)
        }
        fn at(&self, ms: u64) -> Instant {
            self.t0 + Duration::from_millis(ms)
        }
        fn record(&mut self, actions: Vec<Action>) {
            let running = self.racer.attempts().iter().filter(|a| a.outcome == AttemptOutcome::Running).count();
            self.most_running = self.most_running.max(running);
            assert!(running <= self.cap, "{running} attempts in flight");
            let now = self.now;
            self.log.extend(actions.iter().map(|a| show(now, a)));
        }
        /// Moves the clock to `ms` only by jumping to each `next_deadline()` up to it: a
        /// tick 1 ms before a deadline does nothing, a tick at it does something.
        fn until(&mut self, ms: u64) {
            while let Some(d) = self.racer.next_deadline() {
                let d = d.duration_since(self.t0).as_millis() as u64;
                if d > ms {
                    break;
                }
                assert!(d > self.now, "deadline {d} not after now {}", self.now);
                assert_eq!(self.racer.tick(self.at(d - 1)), vec![], "tick at {} is early", d - 1);
                self.now = d;
                let actions = self.racer.tick(self.at(d));
                assert!(!actions.is_empty(), "nothing happened at the deadline {d}");
                self.record(actions);
            }
            self.now = self.now.max(ms);
        }
        /// Moves the clock to `ms`, then logs what the racer answers to `event` at `ms`.
        fn on(&mut self, ms: u64, event: impl FnOnce(&mut Racer, Instant) -> Vec<Action>) {
            self.until(ms);
            let now = self.at(ms);
            let out = event(&mut self.racer, now);
            self.record(out);
        }
        fn answers(&mut self, ms: u64, network: u32, addrs: &[&str]) {
            let addrs: Vec<IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
            self.on(ms, |r, now| r.answers(network, &addrs, now));
        }
        fn done(&mut self, ms: u64, network: u32) {
            self.on(ms, |r, now| r.resolution_done(network, now));
        }
        fn connected(&mut self, ms: u64, attempt: usize) {
            self.on(ms, |r, now| r.attempt_connected(attempt, now));
        }
        fn failed(&mut self, ms: u64, attempt: usize, errno: i32) {
            self.on(ms, |r, now| r.attempt_failed(attempt, errno, now));
        }
        fn lost(&mut self, ms: u64, network: u32, errno: i32) {
            self.on(ms, |r, now| r.network_lost(network, errno, now));
        }
    }

    #[test]
    fn aaaa_first_connects_at_once_and_wins() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(10, 2, &[V6A]);
        r.answers(30, 2, &[V4A]);
        r.done(30, 2);
        r.connected(40, 0);
        assert_eq!(r.log, ["0 resolve 2", "10 connect #0 2 fd6d:6966:1::10", "40 won #0"]);
        let a = &r.racer.attempts()[0];
        assert_eq!((a.started, a.ended, a.outcome), (ms(10), Some(ms(40)), AttemptOutcome::Connected));
        assert!(r.racer.is_finished());
        assert_eq!(r.racer.next_deadline(), None);
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_first_waits_the_resolution_delay() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(10, 2, &[V4A]);
        assert_eq!(r.racer.next_deadline(), Some(r.at(60)));
        r.answers(100, 2, &[V6A]);
        r.until(400);
        assert_eq!(r.log, ["0 resolve 2", "60 connect #0 2 198.18.1.10", "310 connect #1 2 fd6d:6966:1::10"]);
        // The end of the translation ends the wait.
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(10, 2, &[V4A]);
        r.done(20, 2);
        assert_eq!(r.log, ["0 resolve 2", "20 connect #0 2 198.18.1.10"]);
    }

    #[test]
    fn aaaa_within_the_resolution_delay_goes_first() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(10, 2, &[V4A]);
        r.answers(40, 2, &[V6A]);
        r.until(1000);
        assert_eq!(r.log, ["0 resolve 2", "40 connect #0 2 fd6d:6966:1::10", "290 connect #1 2 198.18.1.10"]);
    }

    #[test]
    fn families_interleave_paced_by_the_attempt_delay() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(0, 2, &[V4A, V4B, V4C]);
        r.answers(0, 2, &[V6A, V6B, V6A]);
        r.done(5, 2);
        // Four in flight at 750: the fifth waits for a slot, then for its pacing.
        r.failed(900, 0, 111);
        r.connected(2000, 3);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 fd6d:6966:1::10",
                "250 connect #1 2 198.18.1.10",
                "500 connect #2 2 fd6d:6966:1::11",
                "750 connect #3 2 198.18.1.11",
                "1000 connect #4 2 198.18.1.12",
                "2000 abandon #1",
                "2000 abandon #2",
                "2000 abandon #4",
                "2000 won #3",
            ]
        );
        let outcomes: Vec<AttemptOutcome> = r.racer.attempts().iter().map(|a| a.outcome).collect();
        assert_eq!(outcomes[0], AttemptOutcome::Failed { errno: 111 });
        assert_eq!(outcomes[1], AttemptOutcome::Abandoned);
        assert_eq!(outcomes[3], AttemptOutcome::Connected);
        assert_eq!(r.racer.network_of(4), Some(2));
        assert_eq!(r.racer.network_of(5), None);
    }

    #[test]
    fn a_failure_starts_the_next_at_once() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(0, 2, &[V6A, V4A, V6B]);
        r.failed(20, 0, 111);
        r.failed(100, 1, 113);
        r.until(400);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 fd6d:6966:1::10",
                "20 connect #1 2 198.18.1.10",
                "100 connect #2 2 fd6d:6966:1::11",
            ]
        );
    }

    #[test]
    fn late_answers_join_the_untried_ones_interleaved() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(0, 2, &[V6A]);
        r.answers(100, 2, &[V4A]);
        // v4 was tried last: a later v6 goes before v4 answers that came first.
        r.answers(260, 2, &[V4B, V4C]);
        r.answers(270, 2, &[V6B, V6A]);
        r.done(280, 2);
        // After the end of the translation: ignored.
        r.answers(290, 2, &[V6C]);
        r.failed(600, 0, 111);
        r.until(2000);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 fd6d:6966:1::10",
                "250 connect #1 2 198.18.1.10",
                "500 connect #2 2 fd6d:6966:1::11",
                "750 connect #3 2 198.18.1.11",
                "1000 connect #4 2 198.18.1.12",
            ]
        );
    }

    #[test]
    fn a_blackholed_network_gives_way_to_the_next_after_the_network_delay() {
        let mut r = Race::new(&[(2, Neutral), (3, Neutral)]);
        r.answers(20, 2, &[V6A, V4A]);
        r.answers(330, 3, &["fd6d:6966:2::10"]);
        r.connected(412, 2);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "20 connect #0 2 fd6d:6966:1::10",
                "270 connect #1 2 198.18.1.10",
                "300 resolve 3",
                "330 connect #2 3 fd6d:6966:2::10",
                "412 abandon #0",
                "412 abandon #1",
                "412 stop 2",
                "412 stop 3",
                "412 won #2",
            ]
        );
    }

    #[test]
    fn a_failed_resolution_starts_the_next_network_at_once() {
        let mut r = Race::new(&[(2, Neutral), (3, Neutral), (4, Neutral)]);
        r.done(30, 2);
        r.answers(60, 3, &[V4A]);
        r.done(70, 3);
        r.failed(90, 0, 111);
        r.until(20_000);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "30 resolve 3",
                "70 connect #0 3 198.18.1.10",
                "90 resolve 4",
                "10000 stop 4",
                "10000 failed Timeout",
            ]
        );
    }

    #[test]
    fn the_name_only_on_the_second_network() {
        let mut r = Race::new(&[(2, Neutral), (3, Neutral)]);
        r.answers(300, 3, &[V6A]);
        r.done(310, 2);
        r.connected(350, 0);
        assert_eq!(
            r.log,
            ["0 resolve 2", "300 resolve 3", "300 connect #0 3 fd6d:6966:1::10", "350 stop 3", "350 won #0"]
        );
    }

    #[test]
    fn ranks_order_and_avoid_waits_for_every_other_to_fail() {
        let mut r = Race::new(&[(5, Avoid), (2, Neutral), (6, Avoid), (3, Prefer)]);
        r.answers(10, 3, &[V4A]);
        r.done(10, 3);
        // However long it takes: the Avoid networks wait for network 2 to fail.
        r.until(5000);
        r.failed(5000, 0, 111);
        r.done(5100, 2);
        r.until(6000);
        r.done(6000, 5);
        assert_eq!(
            r.log,
            ["0 resolve 3", "10 connect #0 3 198.18.1.10", "300 resolve 2", "5100 resolve 5", "5400 resolve 6"]
        );
        assert_eq!(r.racer.next_deadline(), Some(r.at(10_000)));
    }

    #[test]
    fn all_failed_with_the_last_errno() {
        let mut r = Race::new(&[(2, Neutral), (3, Neutral)]);
        r.answers(0, 2, &[V4A]);
        r.done(0, 2);
        r.failed(100, 0, 111);
        r.answers(110, 3, &[V6A]);
        r.done(120, 3);
        r.failed(200, 1, 113);
        r.failed(210, 1, 110);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 198.18.1.10",
                "100 resolve 3",
                "110 connect #1 3 fd6d:6966:1::10",
                "200 failed AllFailed 113",
            ]
        );
    }

    #[test]
    fn nothing_anywhere_and_no_networks() {
        let mut r = Race::new(&[(2, Neutral), (3, Avoid)]);
        r.done(40, 2);
        r.done(50, 3);
        assert_eq!(r.log, ["0 resolve 2", "40 resolve 3", "50 failed NoAddresses"]);
        let r = Race::new(&[]);
        assert_eq!(r.log, ["0 failed NoNetworks"]);
        assert!(r.racer.is_finished());
    }

    #[test]
    fn timeout_abandons_and_stops_everything() {
        let mut r =
            Race::with(RaceConfig { timeout: ms(1000), ..RaceConfig::default() }, &[(2, Neutral), (3, Neutral)]);
        r.answers(0, 2, &[V6A]);
        r.until(5000);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 fd6d:6966:1::10",
                "300 resolve 3",
                "1000 abandon #0",
                "1000 stop 2",
                "1000 stop 3",
                "1000 failed Timeout"
            ]
        );
        assert_eq!(r.racer.attempts()[0].outcome, AttemptOutcome::Abandoned);
    }

    #[test]
    fn a_lost_network_fails_its_attempts_and_the_others_go_on() {
        let mut r = Race::new(&[(2, Neutral), (3, Neutral), (4, Neutral)]);
        r.answers(0, 2, &[V6A, V6B]);
        r.lost(100, 4, 19);
        r.answers(300, 3, &[V4A]);
        r.lost(400, 2, 19);
        r.done(400, 3);
        r.failed(500, 2, 111);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 fd6d:6966:1::10",
                "250 connect #1 2 fd6d:6966:1::11",
                "300 resolve 3",
                "350 connect #2 3 198.18.1.10",
                "500 failed AllFailed 111",
            ]
        );
        // Failed, not abandoned: the engine closed their sockets.
        let a = &r.racer.attempts()[1];
        assert_eq!((a.ended, a.outcome), (Some(ms(400)), AttemptOutcome::Failed { errno: 19 }));
    }

    #[test]
    fn cancel_abandons_and_stops_and_then_nothing() {
        let mut r = Race::new(&[(2, Neutral), (3, Neutral)]);
        r.answers(0, 2, &[V6A]);
        r.done(0, 2);
        r.on(400, |r, now| r.cancel(now));
        r.on(410, |r, now| r.cancel(now));
        r.answers(420, 3, &[V4A]);
        r.until(20_000);
        assert_eq!(
            r.log,
            ["0 resolve 2", "0 connect #0 2 fd6d:6966:1::10", "300 resolve 3", "400 abandon #0", "400 stop 3"]
        );
        assert!(r.racer.is_finished());
    }

    #[test]
    fn events_after_the_end_and_unknown_ones_are_ignored() {
        let mut r = Race::new(&[(2, Neutral)]);
        r.answers(0, 9, &[V6A]);
        r.failed(0, 7, 111);
        r.connected(0, 7);
        r.lost(0, 9, 19);
        r.answers(0, 2, &[V6A]);
        r.connected(10, 0);
        r.connected(20, 0);
        r.failed(20, 0, 111);
        r.answers(20, 2, &[V4A]);
        r.done(20, 2);
        r.lost(20, 2, 19);
        r.until(20_000);
        assert_eq!(r.log, ["0 resolve 2", "0 connect #0 2 fd6d:6966:1::10", "10 stop 2", "10 won #0"]);
    }

    #[test]
    fn never_more_in_flight_than_the_cap() {
        let config = RaceConfig { max_in_flight: 3, attempt_delay: ms(100), ..RaceConfig::default() };
        let mut r = Race::with(config, &[(2, Neutral), (3, Neutral)]);
        r.answers(0, 2, &[V6A, V6B, V6C, V4A, V4B, V4C]);
        r.answers(300, 3, &["fd6d:6966:2::10", "198.18.2.10", "198.18.2.11"]);
        r.done(300, 2);
        r.done(300, 3);
        // Blackholed: no slot frees until 1000.
        r.until(1000);
        r.failed(1000, 1, 111);
        r.failed(1000, 0, 111);
        r.until(3000);
        // Then each attempt fails 40 ms after it started (or at once if that passed).
        while !r.racer.is_finished() {
            let oldest = r.racer.attempts().iter().find(|a| a.outcome == AttemptOutcome::Running).unwrap().clone();
            r.failed((oldest.started.as_millis() as u64 + 40).max(r.now), oldest.attempt, 111);
        }
        assert_eq!(r.most_running, 3);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "0 connect #0 2 fd6d:6966:1::10",
                "100 connect #1 2 198.18.1.10",
                "200 connect #2 2 fd6d:6966:1::11",
                "300 resolve 3",
                "1000 connect #3 2 198.18.1.11",
                "1000 connect #4 3 fd6d:6966:2::10",
                "3000 connect #5 2 fd6d:6966:1::12",
                "3000 connect #6 3 198.18.2.10",
                "3040 connect #7 2 198.18.1.12",
                "3040 connect #8 3 198.18.2.11",
                "3080 failed AllFailed 111",
            ]
        );
    }

    #[test]
    fn v4_only_drops_v6_which_counts_for_nothing() {
        let config = RaceConfig { family: FamilyPreference::V4Only, ..RaceConfig::default() };
        let mut r = Race::with(config, &[(2, Neutral)]);
        r.answers(0, 2, &[V6A]);
        r.answers(10, 2, &[V6B, V4A]);
        r.until(1000);
        assert_eq!(r.log, ["0 resolve 2", "10 connect #0 2 198.18.1.10"]);
        let mut r = Race::with(config, &[(2, Neutral)]);
        r.answers(0, 2, &[V6A]);
        r.done(20, 2);
        assert_eq!(r.log, ["0 resolve 2", "20 failed NoAddresses"]);
    }

    #[test]
    fn v4_first_leads_with_v4_and_delays_a_lone_v6() {
        let config = RaceConfig { family: FamilyPreference::V4First, ..RaceConfig::default() };
        let mut r = Race::with(config, &[(2, Neutral)]);
        r.answers(0, 2, &[V6A, V6B]);
        r.answers(20, 2, &[V4A]);
        r.until(600);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "20 connect #0 2 198.18.1.10",
                "270 connect #1 2 fd6d:6966:1::10",
                "520 connect #2 2 fd6d:6966:1::11"
            ]
        );
    }

    #[test]
    fn a_hostile_answer_stays_bounded() {
        let mut r = Race::new(&[(2, Neutral)]);
        let flood: Vec<IpAddr> = (0..10_000u32)
            .map(|i| {
                if i % 2 == 0 {
                    IpAddr::from([0xfd6d, 0x6966, 0, 0, 0, 0, 0, i as u16])
                } else {
                    IpAddr::from(i.to_be_bytes())
                }
            })
            .collect();
        for _ in 0..3 {
            r.racer.answers(2, &flood, r.at(0));
        }
        r.racer.resolution_done(2, r.at(0));
        // Each failure starts the next at once, until every candidate was tried.
        let mut last = Vec::new();
        while !r.racer.is_finished() {
            last = r.racer.attempt_failed(r.racer.attempts().len() - 1, 111, r.at(0));
        }
        assert_eq!(last, [Action::Failed(Failure::AllFailed { errno: 111 })]);
        let tried = r.racer.attempts();
        assert_eq!(tried.len(), MAX_CANDIDATES);
        assert!(tried.iter().enumerate().all(|(i, a)| a.remote.is_ipv6() == (i % 2 == 0)), "interleaved");
    }

    #[test]
    fn next_deadline_is_the_next_thing_to_happen() {
        let mut r = Race::new(&[(2, Neutral), (3, Avoid)]);
        assert_eq!(r.racer.next_deadline(), Some(r.at(10_000)), "an Avoid network waits for events");
        r.answers(5, 2, &[V4A, V4B, V4C]);
        assert_eq!(r.racer.next_deadline(), Some(r.at(55)));
        r.until(55);
        assert_eq!(r.racer.next_deadline(), Some(r.at(305)));
        r.failed(100, 0, 111);
        assert_eq!(r.racer.next_deadline(), Some(r.at(350)));
        r.done(110, 2);
        r.failed(120, 1, 113);
        assert_eq!(r.racer.next_deadline(), Some(r.at(10_000)), "one running, nothing untried");
        r.failed(130, 2, 113);
        r.until(10_000);
        assert_eq!(
            r.log,
            [
                "0 resolve 2",
                "55 connect #0 2 198.18.1.10",
                "100 connect #1 2 198.18.1.11",
                "120 connect #2 2 198.18.1.12",
                "130 resolve 3",
                "10000 stop 3",
                "10000 failed Timeout",
            ]
        );
        assert_eq!(r.racer.next_deadline(), None);
    }

    #[test]
    fn time_math_does_not_panic() {
        let config = RaceConfig {
            resolution_delay: Duration::MAX,
            attempt_delay: Duration::MAX,
            network_delay: Duration::MAX,
            timeout: Duration::MAX,
            max_in_flight: 0,
            family: FamilyPreference::V6First,
        };
        let mut r = Race::with(config, &[(2, Neutral), (3, Neutral)]);
        r.answers(10, 2, &[V4A, V4B]);
        r.done(20, 2);
        assert_eq!(r.racer.next_deadline(), None);
        let out = r.racer.tick(r.t0);
        r.record(out);
        assert_eq!(r.log, ["0 resolve 2", "20 connect #0 2 198.18.1.10"]);
    }
}
