//! The one registry of outstanding operations: every translation and connect the
//! application started and that has not ended yet, by the application's id.
//!
//! An id is the application's and may be reused once its operation ended; a
//! generation is ours and never reused. The workers (resolver, connector) keep their
//! I/O state by generation and report results with it; a result is delivered only if
//! its operation is still registered under that generation (`finish`), so a result
//! that races a Stop or Cancel is dropped, and exactly one final message ends each
//! operation. Lock order: after the model and the resolver, before the queue.
//!
//! It also keeps the context's socket budget: each operation reserves the sockets it
//! may hold at once (a translation 2, a connect its racing attempts) from `start` to
//! its end, and a Connected message keeps one until the application takes it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use crate::core::model::PvdInfo;
use crate::core::Error;

/// Which kind of operation an application id names (ids are per kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Translation,
    Connect,
}

/// What an outstanding operation is about, as far as its final message needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The name asked (ASCII form).
    Name(String),
    /// The destination.
    Remote(SocketAddr),
}

/// One outstanding operation.
#[derive(Clone, Debug)]
pub struct Operation {
    pub generation: u64,
    pub pvd: PvdInfo,
    pub subject: Subject,
    pub started: Instant,
    /// Sockets reserved from the budget.
    pub sockets: usize,
}

/// Outstanding operations of one context.
#[derive(Debug)]
pub struct Operations {
    by_id: HashMap<(Kind, u64), Operation>,
    /// Operations whose final message is queued and not taken yet: the generation and
    /// the operation, so that a late Stop or Cancel can withdraw that result
    /// (`take_finished`). Bounded by the queue: an entry goes when its message is taken.
    finished: HashMap<(Kind, u64), Operation>,
    next_generation: u64,
    translations: usize,
    /// Sockets the context may hold for requests: reserved by outstanding operations
    /// and held by Connected messages not taken yet.
    budget: usize,
    sockets: usize,
}

impl Operations {
    pub fn new(budget: usize) -> Operations {
        Operations {
            by_id: HashMap::new(),
            finished: HashMap::new(),
            next_generation: 1,
            translations: 0,
            budget,
            sockets: 0,
        }
    }

    /// Registers an operation under the application's id; returns its generation.
    pub fn start(
        &mut self,
        kind: Kind,
        id: u64,
        pvd: PvdInfo,
        subject: Subject,
        started: Instant,
        sockets: usize,
    ) -> Result<u64, Error> {
        if self.by_id.contains_key(&(kind, id)) {
            return Err(Error::DuplicateId);
        }
        if self.sockets + sockets > self.budget {
            return Err(Error::Busy);
        }
        self.sockets += sockets;
        let generation = self.next_generation;
        self.next_generation += 1;
        self.by_id.insert((kind, id), Operation { generation, pvd, subject, started, sockets });
        if kind == Kind::Translation {
            self.translations += 1;
        }
        Ok(generation)
    }

    /// Ends an operation at the application's request (Stop, Cancel).
    pub fn cancel(&mut self, kind: Kind, id: u64) -> Option<Operation> {
        let op = self.by_id.remove(&(kind, id))?;
        self.sockets -= op.sockets;
        if kind == Kind::Translation {
            self.translations -= 1;
        }
        Some(op)
    }

    /// Whether a worker's result for `(kind, id)` of `generation` is still wanted.
    pub fn is_current(&self, kind: Kind, id: u64, generation: u64) -> bool {
        self.by_id.get(&(kind, id)).is_some_and(|op| op.generation == generation)
    }

    /// Ends an operation with a worker's final result; false (and nothing changes)
    /// when the operation was stopped meanwhile, so the result must be dropped.
    pub fn finish(&mut self, kind: Kind, id: u64, generation: u64) -> bool {
        if !self.is_current(kind, id, generation) {
            return false;
        }
        if let Some(op) = self.cancel(kind, id) {
            self.finished.insert((kind, id), op);
        }
        true
    }

    /// A final message was queued for an operation that ended (a Stop or Cancel's own
    /// message): until it is taken, another Stop or Cancel may replace it.
    pub fn queued_final(&mut self, kind: Kind, id: u64, op: Operation) {
        self.finished.insert((kind, id), op);
    }

    /// The operation of `(kind, id)` whose final message waits in the queue, if any
    /// (removed: the caller withdraws that message).
    pub fn take_finished(&mut self, kind: Kind, id: u64) -> Option<Operation> {
        self.finished.remove(&(kind, id))
    }

    /// The application took the final message of `(kind, id)` of `generation`.
    pub fn final_taken(&mut self, kind: Kind, id: u64, generation: u64) {
        if self.finished.get(&(kind, id)).is_some_and(|op| op.generation == generation) {
            self.finished.remove(&(kind, id));
        }
    }

    /// A Connected message was queued: its socket counts until the application takes it.
    pub fn hold_queued_socket(&mut self) {
        self.sockets += 1;
    }

    /// The application took a Connected message (or it was dropped unread).
    pub fn release_queued_socket(&mut self) {
        self.sockets = self.sockets.saturating_sub(1);
    }

    /// Sockets reserved or held now, and the budget.
    #[cfg(test)]
    pub fn sockets(&self) -> (usize, usize) {
        (self.sockets, self.budget)
    }

    /// How many translations are outstanding.
    pub fn translations(&self) -> usize {
        self.translations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Family;

    fn pvd() -> PvdInfo {
        PvdInfo { id: 1, ifindex: 2, ifname: "mif0".into(), family: Family::V4, name: "mif0/ipv4".into() }
    }

    #[test]
    fn ids_are_per_kind_and_generations_never_repeat() {
        let mut ops = Operations::new(64);
        let now = Instant::now();
        let a = ops.start(Kind::Translation, 7, pvd(), Subject::Name("a.example".into()), now, 1).unwrap();
        let remote = "198.51.100.1:80".parse().unwrap();
        let b = ops.start(Kind::Connect, 7, pvd(), Subject::Remote(remote), now, 1).unwrap();
        assert_ne!(a, b);
        assert_eq!(ops.start(Kind::Translation, 7, pvd(), Subject::Name("b".into()), now, 1), Err(Error::DuplicateId));
        assert_eq!(ops.translations(), 1);
        assert!(ops.cancel(Kind::Translation, 7).is_some());
        let c = ops.start(Kind::Translation, 7, pvd(), Subject::Name("c".into()), now, 1).unwrap();
        assert!(c > b, "a reused id gets a new generation");
        assert!(!ops.finish(Kind::Translation, 7, a), "a result of the stopped run is dropped");
        assert!(ops.finish(Kind::Translation, 7, c));
        assert!(!ops.finish(Kind::Translation, 7, c), "exactly one final result");
        assert_eq!(ops.translations(), 0);
        assert_eq!(ops.cancel(Kind::Connect, 7).map(|op| op.subject), Some(Subject::Remote(remote)));
    }

    #[test]
    fn a_final_message_not_taken_can_be_withdrawn_once_per_generation() {
        let mut ops = Operations::new(8);
        let now = Instant::now();
        let a = ops.start(Kind::Connect, 1, pvd(), Subject::Name("a.example".into()), now, 1).unwrap();
        assert!(ops.finish(Kind::Connect, 1, a));
        // The id is free (a new connect may reuse it) while its result waits.
        let b = ops.start(Kind::Connect, 1, pvd(), Subject::Name("b.example".into()), now, 1).unwrap();
        assert!(ops.finish(Kind::Connect, 1, b));
        // Taking the older result leaves the newer one withdrawable.
        ops.final_taken(Kind::Connect, 1, a);
        assert_eq!(ops.take_finished(Kind::Connect, 1).map(|op| op.generation), Some(b));
        assert!(ops.take_finished(Kind::Connect, 1).is_none(), "withdrawn once");
        // A cancellation queued in its place can be replaced until it is taken.
        let op = Operation { generation: b, pvd: pvd(), subject: Subject::Name("b".into()), started: now, sockets: 0 };
        ops.queued_final(Kind::Connect, 1, op);
        ops.final_taken(Kind::Connect, 1, b);
        assert!(ops.take_finished(Kind::Connect, 1).is_none(), "taken: nothing to withdraw");
        assert_eq!(ops.sockets(), (0, 8));
    }

    #[test]
    fn the_socket_budget_is_reserved_until_the_end_and_held_by_a_queued_connected() {
        let mut ops = Operations::new(5);
        let now = Instant::now();
        let remote: SocketAddr = "198.51.100.1:80".parse().unwrap();
        let t = ops.start(Kind::Translation, 1, pvd(), Subject::Name("a.example".into()), now, 2).unwrap();
        let c = ops.start(Kind::Connect, 1, pvd(), Subject::Remote(remote), now, 3).unwrap();
        assert_eq!(ops.sockets(), (5, 5));
        assert_eq!(ops.start(Kind::Connect, 2, pvd(), Subject::Remote(remote), now, 1), Err(Error::Busy));
        assert!(ops.finish(Kind::Connect, 1, c));
        ops.hold_queued_socket();
        assert_eq!(ops.sockets(), (3, 5), "the winner's socket waits in the queue");
        assert!(ops.cancel(Kind::Translation, 1).is_some());
        assert!(!ops.finish(Kind::Translation, 1, t));
        assert_eq!(ops.sockets(), (1, 5));
        ops.release_queued_socket();
        assert_eq!(ops.sockets(), (0, 5));
        assert!(ops.start(Kind::Connect, 2, pvd(), Subject::Remote(remote), now, 5).is_ok());
    }
}
