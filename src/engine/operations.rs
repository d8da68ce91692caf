//! The one registry of outstanding operations: every translation and connect the
//! application started and that has not ended yet, by the application's id.
//!
//! An id is the application's and may be reused once its operation ended; a
//! generation is ours and never reused. The workers (resolver, connector) keep their
//! I/O state by generation and report results with it; a result is delivered only if
//! its operation is still registered under that generation (`finish`), so a result
//! that races a Stop or Cancel is dropped, and exactly one final message ends each
//! operation. Lock order: after the model and the resolver, before the queue.

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
}

/// Outstanding operations of one context.
#[derive(Debug)]
pub struct Operations {
    by_id: HashMap<(Kind, u64), Operation>,
    next_generation: u64,
    translations: usize,
}

impl Default for Operations {
    fn default() -> Self {
        Operations { by_id: HashMap::new(), next_generation: 1, translations: 0 }
    }
}

impl Operations {
    /// Registers an operation under the application's id; returns its generation.
    pub fn start(
        &mut self,
        kind: Kind,
        id: u64,
        pvd: PvdInfo,
        subject: Subject,
        started: Instant,
    ) -> Result<u64, Error> {
        if self.by_id.contains_key(&(kind, id)) {
            return Err(Error::DuplicateId);
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.by_id.insert((kind, id), Operation { generation, pvd, subject, started });
        if kind == Kind::Translation {
            self.translations += 1;
        }
        Ok(generation)
    }

    /// Ends an operation at the application's request (Stop, Cancel).
    pub fn cancel(&mut self, kind: Kind, id: u64) -> Option<Operation> {
        let op = self.by_id.remove(&(kind, id))?;
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
        self.cancel(kind, id);
        true
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
        let mut ops = Operations::default();
        let now = Instant::now();
        let a = ops.start(Kind::Translation, 7, pvd(), Subject::Name("a.example".into()), now).unwrap();
        let remote = "198.51.100.1:80".parse().unwrap();
        let b = ops.start(Kind::Connect, 7, pvd(), Subject::Remote(remote), now).unwrap();
        assert_ne!(a, b);
        assert_eq!(ops.start(Kind::Translation, 7, pvd(), Subject::Name("b".into()), now), Err(Error::DuplicateId));
        assert_eq!(ops.translations(), 1);
        assert!(ops.cancel(Kind::Translation, 7).is_some());
        let c = ops.start(Kind::Translation, 7, pvd(), Subject::Name("c".into()), now).unwrap();
        assert!(c > b, "a reused id gets a new generation");
        assert!(!ops.finish(Kind::Translation, 7, a), "a result of the stopped run is dropped");
        assert!(ops.finish(Kind::Translation, 7, c));
        assert!(!ops.finish(Kind::Translation, 7, c), "exactly one final result");
        assert_eq!(ops.translations(), 0);
        assert_eq!(ops.cancel(Kind::Connect, 7).map(|op| op.subject), Some(Subject::Remote(remote)));
    }
}
