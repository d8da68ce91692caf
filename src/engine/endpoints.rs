//! MPTCP subflow endpoints managed for the context's networks
//! (`MIF_OPTION_MANAGE_MPTCP_ENDPOINTS`, docs/connectivity.md): after every change of
//! the host model, the kernel's endpoint table is brought to one `subflow` endpoint per
//! usable PvD address (`HostModel::usable_addresses`), touching only the endpoints this
//! context added; all of those are removed when the engine ends. Without CAP_NET_ADMIN
//! the first refusal turns it off, with one log line: nothing is changed.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use super::event_loop::Engine;
use crate::log::log_at;
use crate::os::mptcp;

/// The endpoints this context added, by address (with their interface).
#[derive(Debug, Default)]
pub(crate) struct ManagedEndpoints {
    enabled: bool,
    /// Refused (no CAP_NET_ADMIN, no MPTCP): nothing more is tried.
    refused: bool,
    ours: BTreeMap<IpAddr, u32>,
    /// Addresses left as they are: someone else's endpoint, or one the kernel refused
    /// (its table holds 8 at most). Not tried again while they stay usable, so a change
    /// of the host does not re-read the table for them each time.
    settled: std::collections::BTreeSet<IpAddr>,
}

impl ManagedEndpoints {
    pub(crate) fn new(enabled: bool) -> ManagedEndpoints {
        ManagedEndpoints { enabled, ..ManagedEndpoints::default() }
    }
}

impl Engine {
    /// Brings the endpoint table to the usable addresses (only ours are changed).
    pub(super) fn manage_endpoints(&mut self) {
        if !self.endpoints.enabled || self.endpoints.refused {
            return;
        }
        let mut desired: BTreeMap<IpAddr, u32> =
            self.shared.model.lock().usable_addresses(Instant::now()).into_iter().collect();
        self.endpoints.settled.retain(|a| desired.contains_key(a));
        desired.retain(|a, _| !self.endpoints.settled.contains(a));
        let unchanged = desired.len() == self.endpoints.ours.len()
            && desired.iter().all(|(a, i)| self.endpoints.ours.get(a) == Some(i));
        if unchanged {
            return;
        }
        let table = match mptcp::endpoints() {
            Ok(t) => t,
            Err(e) => return self.refuse_endpoints(&e),
        };
        let stale: Vec<(IpAddr, u32)> =
            self.endpoints.ours.iter().filter(|(a, i)| desired.get(a) != Some(i)).map(|(a, i)| (*a, *i)).collect();
        for (addr, _) in stale {
            if let Some(e) = table.iter().find(|e| e.addr == addr) {
                if let Err(err) = mptcp::delete_endpoint(e.id, addr) {
                    log_at!(Warn, "MPTCP endpoint {addr} (id {}) not removed: {err}", e.id);
                } else {
                    log_at!(Debug, "MPTCP endpoint {addr} removed");
                }
            }
            self.endpoints.ours.remove(&addr);
        }
        for (addr, ifindex) in desired {
            if self.endpoints.ours.contains_key(&addr) {
                continue;
            }
            // An endpoint someone else made for this address stays theirs.
            if table.iter().any(|e| e.addr == addr) {
                self.endpoints.settled.insert(addr);
                continue;
            }
            match mptcp::add_subflow_endpoint(addr, ifindex) {
                Ok(()) => {
                    log_at!(Debug, "MPTCP endpoint {addr} added on ifindex {ifindex}");
                    self.endpoints.ours.insert(addr, ifindex);
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => {
                    return self.refuse_endpoints(&e);
                }
                Err(e) => {
                    log_at!(Warn, "MPTCP endpoint {addr} not added: {e}");
                    self.endpoints.settled.insert(addr);
                }
            }
        }
    }

    fn refuse_endpoints(&mut self, e: &std::io::Error) {
        log_at!(Warn, "MPTCP endpoints not managed: {e} (CAP_NET_ADMIN and MPTCP are needed); nothing is changed");
        self.endpoints.refused = true;
    }

    /// Removes every endpoint this context added (the engine ends).
    pub(super) fn release_endpoints(&mut self) {
        if self.endpoints.ours.is_empty() {
            return;
        }
        let table = mptcp::endpoints().unwrap_or_default();
        for addr in std::mem::take(&mut self.endpoints.ours).into_keys() {
            if let Some(e) = table.iter().find(|e| e.addr == addr) {
                if let Err(err) = mptcp::delete_endpoint(e.id, addr) {
                    log_at!(Warn, "MPTCP endpoint {addr} not removed at close: {err}");
                }
            }
        }
    }
}
