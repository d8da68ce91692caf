//! Connection viability and the application's intents (docs/connectivity.md): the
//! requests that watch connections, record what the application said of them, and
//! count them; carried out on the posting thread under the model's lock, so their
//! messages keep their place among the engine's.

use std::net::IpAddr;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use super::context::Context;
use super::event_loop::EngineRequest;
use super::message::Message;
use super::shared::{Delivered, DELIVERED_KEPT};
use crate::core::model::ConnectionIntent;
use crate::core::Error;
use crate::os::sys;

impl Context {
    /// Remembers a Connected message the application took, for Watch Connection.
    pub(super) fn remember_delivered(&self, connection_id: u64, local: IpAddr, ifindex: u32, mptcp: bool) {
        let mut delivered = self.shared.delivered.lock();
        delivered.retain(|d| d.connection_id != connection_id);
        if delivered.len() >= DELIVERED_KEPT {
            delivered.pop_front();
        }
        delivered.push_back(Delivered { connection_id, local, ifindex, mptcp });
    }

    /// Watch Connection: by the id of a Connected message taken from this context.
    pub(super) fn watch_connection(&self, connection_id: u64) -> Result<(), Error> {
        let found = self.shared.delivered.lock().iter().rev().find(|d| d.connection_id == connection_id).copied();
        let found = found.ok_or(Error::UnknownConnection)?;
        self.watch(connection_id, found.local, Some(found.ifindex), found.mptcp)
    }

    /// Watch Socket: the application's own socket, read now and not kept.
    pub fn watch_socket(&self, connection_id: u64, socket: BorrowedFd<'_>) -> Result<(), Error> {
        let path = sys::socket_path(socket).map_err(|e| match e.raw_os_error() {
            Some(libc::EBADF) => Error::BadDescriptor,
            Some(libc::ENOTSOCK) | Some(libc::EAFNOSUPPORT) => Error::NotASocket,
            _ => Error::NoPath,
        })?;
        let Some((local, bound)) = path else { return Err(Error::NoPath) };
        // An MPTCP socket still running MPTCP (not fallen back to TCP).
        let mptcp = sys::is_mptcp(&socket) == Some(true);
        self.watch(connection_id, local, bound, mptcp)
    }

    fn watch(&self, connection_id: u64, local: IpAddr, ifindex: Option<u32>, mptcp: bool) -> Result<(), Error> {
        if local.is_unspecified() || local.is_loopback() {
            return Err(Error::NoPath);
        }
        let mut model = self.shared.model.lock();
        let mut out = Vec::new();
        let result = model.watch_connection(connection_id, local, ifindex, mptcp, Instant::now(), &mut out);
        // Queued under the model's lock: before any later change of the same path.
        self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        result
    }

    /// Connection is idle / can be broken / active again (draft 3.2.7.26.2–3). When an
    /// interface is left with only idle or breakable watched connections, the engine
    /// runs the operator's idle hook for it.
    pub(super) fn connection_intent(&self, connection_id: u64, intent: ConnectionIntent) -> Result<(), Error> {
        let mut model = self.shared.model.lock();
        let before = model.interfaces_only_idle();
        model.set_connection_intent(connection_id, intent)?;
        let quiet: Vec<u32> = model.interfaces_only_idle().into_iter().filter(|i| !before.contains(i)).collect();
        drop(model);
        if !quiet.is_empty() && self.requests.send(EngineRequest::IdleHook { interfaces: quiet }).is_ok() {
            self.stop.wake();
        }
        Ok(())
    }

    /// Counts of watched connections by intent, answered before the post returns.
    pub(super) fn connection_states(&self, ifindex: Option<u32>) -> Result<(), Error> {
        let model = self.shared.model.lock();
        let mut out = Vec::new();
        model.connection_states(ifindex, &mut out)?;
        self.shared.outbox.push_all(out.into_iter().map(Message::Announcement));
        Ok(())
    }

    /// Wants to connect (draft 3.2.7.26.1): the engine does the work and answers.
    pub(super) fn want_connect(&self) -> Result<(), Error> {
        self.requests.send(EngineRequest::WantConnect).map_err(|_| Error::EngineFailed)?;
        self.stop.wake();
        Ok(())
    }
}
