//! A context's settings in Rust terms; the C layer fills them from `mif_options`.

use std::path::PathBuf;
use std::time::Duration;

use super::connector::ConnectConfig;
use super::resolver::DnsConfig;
use crate::core::model::DEFAULT_LEARNING_WINDOW;

/// Options of one context.
#[derive(Clone, Debug)]
pub struct Config {
    /// SO_RCVBUF of the rtnetlink event socket; `None`: the library's default.
    pub netlink_rcvbuf: Option<usize>,
    /// Every configuration and state file is looked up under this directory.
    pub root_dir: PathBuf,
    /// The static configuration file; `None`: MIF_CONFIG, else /etc/mif.conf.
    pub config_file: Option<PathBuf>,
    pub dns: DnsConfig,
    pub connect: ConnectConfig,
    /// How long a PvD's configuration may still be arriving after a trigger
    /// (`core::model` readiness).
    pub learning_window: Duration,
    /// Messages the queue holds before subscription announcements are left out
    /// (`outbox`).
    pub max_queued_messages: usize,
    /// Sockets the context may hold for requests (`operations`); `None`: a quarter of
    /// the process's descriptor limit (`default_socket_budget`).
    pub max_sockets: Option<usize>,
    /// Diagnostics queued for the application as messages up to this level (1 = error
    /// ... 4 = debug); 0: none (`logs`).
    pub log_level: u8,
    /// How far ahead of a PvD's last valid lifetime's end it is announced going away.
    pub going_away_horizon: Duration,
    /// Add and remove MPTCP subflow endpoints for the PvDs' addresses (`endpoints`).
    pub manage_mptcp_endpoints: bool,
    pub test: TestHooks,
}

/// `max_queued_messages` unless the application sets it.
pub const DEFAULT_MAX_QUEUED_MESSAGES: usize = 8192;
/// Bounds of the default socket budget.
pub const SOCKET_BUDGET_MIN: usize = 16;
pub const SOCKET_BUDGET_MAX: usize = 4096;

/// Sockets kept open after their request ended (lingering DNS queries; connection
/// attempts given up while connecting), each kind: a quarter of the budget, at most 64,
/// so that with them the context stays within 1.5 budgets plus its own descriptors
/// plus the spare query sockets and those awaiting their close (`engine::resolver`:
/// `MAX_SPARES`, `MAX_DEFERRED_CLOSES`).
pub fn lingering_cap(socket_budget: usize) -> usize {
    (socket_budget / 4).min(64)
}

/// The socket budget of a context whose application set none: a quarter of the
/// process's descriptor limit (the application keeps the rest), 16 to 4096.
pub fn default_socket_budget(descriptor_limit: Option<u64>) -> usize {
    match descriptor_limit {
        Some(limit) => ((limit / 4) as usize).clamp(SOCKET_BUDGET_MIN, SOCKET_BUDGET_MAX),
        None => SOCKET_BUDGET_MAX,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            netlink_rcvbuf: None,
            root_dir: PathBuf::from("/"),
            config_file: None,
            dns: DnsConfig::default(),
            connect: ConnectConfig::default(),
            learning_window: DEFAULT_LEARNING_WINDOW,
            max_queued_messages: DEFAULT_MAX_QUEUED_MESSAGES,
            max_sockets: None,
            log_level: 0,
            going_away_horizon: crate::core::model::DEFAULT_GOING_AWAY_HORIZON,
            manage_mptcp_endpoints: false,
            test: TestHooks::default(),
        }
    }
}

/// Test-only behaviour, decoded from the C test flags at the C edge. All off in
/// production.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestHooks {
    /// The engine thread panics right after its start.
    pub panic_engine: bool,
    /// A Translate Name post panics in the resolver work it does on the caller's thread.
    pub panic_translate: bool,
    /// Never use SO_BINDTODEVICE, as on a kernel that refuses it.
    pub no_bindtodevice: bool,
    /// The engine thread never reads the DNS sockets nor keeps DNS deadlines: only
    /// application threads do (fd mode, a wait in `mif_check_message`).
    pub engine_leaves_dns: bool,
}

impl TestHooks {
    pub fn use_bindtodevice(&self) -> bool {
        !self.no_bindtodevice
    }
}
