//! Wants to connect (draft 3.2.7.26.1) and the operator's hooks (docs/connectivity.md):
//! what a library can do without privilege to get networks configured, carried out on
//! the engine thread; hooks run as child processes the engine's poll watches (their
//! pidfd), killed at their timeout, never waited for.

use std::path::Path;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::event_loop::Engine;
use super::message::Message;
use super::tokens::FIRST_HOOK;
use crate::core::model::Family;
use crate::log::log_at;
use crate::os::hook::{self, HookEnd, RunningHook};
use crate::os::solicit::solicit_routers;

/// Most hooks running at once; a Wants to connect beyond it is answered
/// `HookFailed { errno: EBUSY }`, an idle hook beyond it is skipped with a log line.
pub(crate) const MAX_HOOKS: usize = 4;

/// How often a hook is looked at where the kernel gives no pidfd to poll.
const NO_PIDFD_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// What a Wants to connect did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WantConnectOutcome {
    /// Every up interface has a PvD: nothing to do.
    NoOp,
    /// Router Solicitations went out; no hook configured.
    Solicited { solicitations: u32 },
    /// The hook ran; its exit status (or minus the signal).
    HookRan { solicitations: u32, status: i32 },
    /// The hook ran past its timeout and was killed.
    HookTimedOut { solicitations: u32 },
    /// The hook could not be started (errno).
    HookFailed { solicitations: u32, errno: i32 },
    /// Nothing could be done.
    NothingPossible,
}

/// Why a hook runs.
#[derive(Debug)]
enum Purpose {
    WantConnect { solicitations: u32 },
    Idle,
}

/// A hook the engine waits for.
#[derive(Debug)]
pub(crate) struct HookRun {
    hook: RunningHook,
    deadline: Instant,
    purpose: Purpose,
    path: String,
}

/// The hooks running, and the next token.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    running: Vec<HookRun>,
    next: usize,
}

impl Hooks {
    pub(crate) fn owns(token: Token) -> bool {
        (FIRST_HOOK..FIRST_HOOK + (1 << 20)).contains(&token.0)
    }

    /// The earliest hook timeout; while a hook has no pidfd to poll, every
    /// `NO_PIDFD_POLL` (it is reaped by `check_hooks` on each wake).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let timeouts = self.running.iter().map(|r| r.deadline).min();
        let polled = self.running.iter().any(|r| r.hook.raw_fd().is_none()).then(|| Instant::now() + NO_PIDFD_POLL);
        timeouts.into_iter().chain(polled).min()
    }
}

impl Engine {
    /// Wants to connect: re-read the link managers' files, solicit routers on up IPv6
    /// links without an IPv6 PvD, run the operator's hook; answer when it is known.
    pub(super) fn want_connect(&mut self) {
        let facts = self.files.scan_all();
        self.apply(facts);
        let now = Instant::now();
        let (pending, to_solicit) = {
            let model = self.shared.model.lock();
            let pending = model.not_operational();
            let v6: Vec<u32> = model.ipv6_links();
            let to_solicit: Vec<u32> = v6.into_iter().filter(|i| pending.iter().any(|(p, _)| p == i)).collect();
            (pending, to_solicit)
        };
        if pending.is_empty() {
            self.answer_want_connect(WantConnectOutcome::NoOp);
            return;
        }
        // A link solicited within the last 4 s (the engine asks when it starts) counts:
        // its answer may still come, and RFC 4861 spaces solicitations that far apart.
        let recent = if self.solicitations_go == Some(true) {
            to_solicit.iter().filter(|i| self.pacer.recently_sent(**i, now)).count()
        } else {
            0
        };
        let allowed: Vec<u32> = to_solicit.iter().copied().filter(|i| self.pacer.allow(*i, now)).collect();
        let sent = solicit_routers(&allowed);
        if !allowed.is_empty() {
            self.solicitations_go = Some(!sent.is_empty());
        }
        {
            let mut model = self.shared.model.lock();
            for ifindex in &sent {
                model.learn(*ifindex, Family::V6, now);
            }
        }
        let solicitations = (sent.len() + recent) as u32;
        let names: Vec<String> = pending.into_iter().map(|(_, name)| name).collect();
        let hooks = self.files.hooks();
        let Some(path) = hooks.want_connect else {
            self.answer_want_connect(if solicitations > 0 {
                WantConnectOutcome::Solicited { solicitations }
            } else {
                WantConnectOutcome::NothingPossible
            });
            return;
        };
        let started =
            self.start_hook(&path, "want-connect", &names, hooks.timeout, Purpose::WantConnect { solicitations });
        if let Err(errno) = started {
            self.answer_want_connect(WantConnectOutcome::HookFailed { solicitations, errno });
        }
    }

    /// The operator's idle hook, for interfaces left with only idle or breakable
    /// watched connections (nothing is answered: the outcome is logged).
    pub(super) fn idle_hook(&mut self, interfaces: Vec<u32>) {
        let hooks = self.files.hooks();
        let Some(path) = hooks.idle else { return };
        let names: Vec<String> = {
            let model = self.shared.model.lock();
            interfaces.iter().filter_map(|i| model.interface_name(*i)).collect()
        };
        if names.is_empty() {
            return;
        }
        if let Err(errno) = self.start_hook(&path, "idle", &names, hooks.timeout, Purpose::Idle) {
            log_at!(Warn, "idle hook {path}: cannot start (errno {errno})");
        }
    }

    fn start_hook(
        &mut self,
        path: &str,
        event: &str,
        interfaces: &[String],
        timeout: std::time::Duration,
        purpose: Purpose,
    ) -> Result<(), i32> {
        if self.hooks.running.len() >= MAX_HOOKS {
            log_at!(Warn, "hook {path} not started: {MAX_HOOKS} hooks running already");
            return Err(libc::EBUSY);
        }
        let env = [("MIF_EVENT", event.to_string()), ("MIF_INTERFACES", interfaces.join(" "))];
        let hook = hook::spawn(Path::new(path), &env).map_err(|e| {
            log_at!(Warn, "hook {path}: {e}");
            e.raw_os_error().unwrap_or(libc::EIO)
        })?;
        let token = Token(FIRST_HOOK + self.hooks.next % (1 << 20));
        self.hooks.next += 1;
        if let Some(fd) = hook.raw_fd() {
            if let Err(e) = self.poll.registry().register(&mut SourceFd(&fd), token, Interest::READABLE) {
                log_at!(Warn, "hook {path}: cannot watch it: {e}");
                return Err(e.raw_os_error().unwrap_or(libc::EIO));
            }
        }
        log_at!(Info, "hook {path} started for {event}: {}", interfaces.join(" "));
        let deadline = Instant::now() + timeout;
        self.hooks.running.push(HookRun { hook, deadline, purpose, path: path.to_string() });
        Ok(())
    }

    /// A hook's pidfd polled readable, or a deadline passed: reap what ended, kill what
    /// ran too long, answer the Wants to connect they belonged to.
    pub(super) fn check_hooks(&mut self) {
        if self.hooks.running.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut i = 0;
        while i < self.hooks.running.len() {
            let end = self.hooks.running[i].hook.poll_end();
            let timed_out = end == HookEnd::Running && self.hooks.running[i].deadline <= now;
            if end == HookEnd::Running && !timed_out {
                i += 1;
                continue;
            }
            let run = self.hooks.running.swap_remove(i);
            if let Some(fd) = run.hook.raw_fd() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            let outcome = match (end, &run.purpose) {
                (HookEnd::Exited(status), Purpose::WantConnect { solicitations }) => {
                    log_at!(Info, "hook {} ended: {status}", run.path);
                    Some(WantConnectOutcome::HookRan { solicitations: *solicitations, status })
                }
                (HookEnd::Running, Purpose::WantConnect { solicitations }) => {
                    log_at!(Warn, "hook {} killed at its timeout", run.path);
                    Some(WantConnectOutcome::HookTimedOut { solicitations: *solicitations })
                }
                (HookEnd::Exited(status), Purpose::Idle) => {
                    log_at!(Info, "idle hook {} ended: {status}", run.path);
                    None
                }
                (HookEnd::Running, Purpose::Idle) => {
                    log_at!(Warn, "idle hook {} killed at its timeout", run.path);
                    None
                }
            };
            // Dropping the run kills and reaps a hook still running.
            drop(run);
            if let Some(outcome) = outcome {
                self.answer_want_connect(outcome);
            }
        }
    }

    fn answer_want_connect(&self, outcome: WantConnectOutcome) {
        self.shared.outbox.push_all([Message::WantConnect(outcome)]);
    }
}
