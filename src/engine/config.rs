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
    pub test: TestHooks,
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
}

impl TestHooks {
    pub fn use_bindtodevice(&self) -> bool {
        !self.no_bindtodevice
    }
}
