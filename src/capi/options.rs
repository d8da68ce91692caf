//! `mif_options`: what `mif_open` reads, its init function, the test-only flags, and
//! their decoding into the runtime's `Config`.

use std::ffi::{c_char, CStr};
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

use super::status::*;
use super::{read_sized, write_prefix};
use crate::core::Error;
use crate::engine::{Config, TestHooks};

/// Test-only: `mif_options.test_flags` bits (`MIF_TEST_*`); 0 in production.
pub type mif_test_flags = u32;

/// Test-only `mif_options.test_flags` bit: the engine thread panics right after its
/// start, to exercise the engine-failure path. Never set it in production.
pub const MIF_TEST_PANIC_ENGINE: mif_test_flags = 1;

/// Test-only `mif_options.test_flags` bit: never use SO_BINDTODEVICE, as on a kernel
/// that refuses it: UDP (DNS) is then pinned with IP_UNICAST_IF / IPV6_UNICAST_IF, and
/// TCP connects fail with EPERM because nothing else pins TCP to a link.
pub const MIF_TEST_NO_BINDTODEVICE: mif_test_flags = 2;

/// Test-only `mif_options.test_flags` bit: a `MIF_REQ_TRANSLATE_NAME` post panics in
/// the resolver work it does on the calling thread, once the translation started, to
/// exercise that failure path (the context ends as after an engine panic). Never set
/// it in production.
pub const MIF_TEST_PANIC_TRANSLATE: mif_test_flags = 8;

/// Test-only `mif_options.test_flags` bit: the engine thread neither reads DNS answers
/// nor keeps DNS deadlines, so that only application threads do (a wait in
/// `mif_check_message`, or `mif_get_message` after `mif_fd` woke): shows that those
/// read the answers themselves. Never set it in production: with it, a translation
/// nobody waits for never ends.
pub const MIF_TEST_ENGINE_LEAVES_DNS: mif_test_flags = 16;

/// Test flag bits this library knows. Bit 4 (value 4) was never assigned and stays
/// refused: never reuse it.
const KNOWN_TEST_FLAGS: u32 =
    MIF_TEST_PANIC_ENGINE | MIF_TEST_NO_BINDTODEVICE | MIF_TEST_PANIC_TRANSLATE | MIF_TEST_ENGINE_LEAVES_DNS;

/// Options for `mif_open`. Fill with `mif_options_init` first, then change fields.
#[repr(C)]
pub struct mif_options {
    /// `sizeof(mif_options)` as the application was compiled; set by `mif_options_init`.
    pub size: u32,
    /// `MIF_OPTION_*` bits; 0 = the defaults. Unknown bits are refused.
    pub flags: mif_option_flags,
    /// Directory under which every configuration and state file is looked up
    /// (/etc/resolv.conf, /run/...): NULL means "/". Tests point it at their own tree.
    /// Nothing read leaves it: paths resolve as if it were "/" (a `..` stops there, a
    /// symlink points inside it, as under chroot; Linux 5.6 and later). The string is
    /// copied.
    pub root_dir: *const c_char,
    /// Test-only (not ABI; leave 0): SO_RCVBUF of the rtnetlink event socket in bytes,
    /// so that tests can force a netlink overrun; 0 = the library's default.
    pub test_netlink_rcvbuf: i32,
    /// Test-only (not ABI; leave 0): `MIF_TEST_*` bits that make the library fail on
    /// purpose.
    pub test_flags: mif_test_flags,
    /// The static configuration file (docs/configuration.md); NULL means the
    /// environment variable MIF_CONFIG if set, else /etc/mif.conf. Like every path the
    /// library reads, it is taken under `root_dir`, whether absolute or relative. The
    /// string is copied.
    pub config_file: *const c_char,
    /// DNS: how long to wait for one server's answer, in milliseconds; 0 = 1000.
    pub dns_timeout_ms: u32,
    /// DNS: how many rounds over the provisioning domain's servers; 0 = 2.
    pub dns_tries: u32,
    /// Connections: Connection Attempt Delay between racing source addresses (RFC 8305),
    /// in milliseconds, 10 to 2000; 0 = 250.
    pub connect_attempt_delay_ms: u32,
    /// Connections: overall time limit of one connect request, in milliseconds; 0 = 10000.
    pub connect_timeout_ms: u32,
    /// Our addition: how long a provisioning domain's configuration may still be
    /// arriving after the context opens, its link comes up or a Router Solicitation is
    /// sent, in milliseconds, 10 to 60000; 0 = 4000 (RFC 4861's RTR_SOLICITATION_INTERVAL).
    /// Translations on a learning PvD wait for it at most this long
    /// (docs/configuration.md, "Readiness").
    pub config_learning_ms: u32,
    /// Reserved: must be 0 (keeps the struct free of padding).
    pub reserved: u32,
    /// Our addition: messages the queue holds before subscription announcements are
    /// left out for one `MIF_MSG_QUEUE_OVERFLOW` (docs/limits.md), 16 to 10000000;
    /// 0 = 8192.
    pub max_queued_messages: u32,
    /// Our addition: sockets the context may hold for requests at once (a translation
    /// reserves 2, a connect 1 per source address it races, at most 4; a Connected
    /// message holds 1 until taken); beyond it posts return `MIF_E_BUSY`. 4 to 1000000;
    /// 0 = a quarter of the process's RLIMIT_NOFILE soft limit when the context opens,
    /// 16 to 4096.
    pub max_sockets: u32,
    /// Our addition: the context's diagnostics (bad lines in configuration files,
    /// refused router options, system errors it worked around...) up to this level
    /// come as `MIF_MSG_LOG` messages on its queue: `MIF_LOG_NONE` (0, the default),
    /// `MIF_LOG_ERROR`, `MIF_LOG_WARN`, `MIF_LOG_INFO` or `MIF_LOG_DEBUG`. Nothing runs on
    /// the library's threads for it, and it is independent of the MIF_LOG environment
    /// variable, which prints to stderr. Diagnostics count against
    /// `max_queued_messages` like subscription announcements (left out and counted in
    /// `MIF_MSG_QUEUE_OVERFLOW` when the queue is full); more than 256 made between two
    /// deliveries are left out and counted in one `MIF_LOG_WARN` message.
    pub log_level: mif_log_level,
    /// Reserved: must be 0 (keeps the struct free of padding).
    pub reserved2: u32,
    /// Our addition: how long before the end of a provisioning domain's last valid
    /// address lifetime it is announced going away (`MIF_GOING_AWAY_LIFETIME_ENDING`)
    /// when nothing refreshed it, in milliseconds, 1000 to 3600000; 0 = 60000
    /// (docs/connectivity.md).
    pub going_away_horizon_ms: u32,
    /// Reserved: must be 0 (keeps the struct free of padding).
    pub reserved3: u32,
}

/// Bits of `mif_options.flags`.
pub type mif_option_flags = u32;
/// Our addition: no DNS answer cache. By default each context keeps positive answers
/// for their TTL (at most a day), per provisioning domain and only while that PvD's DNS
/// servers and search domains stay the same, up to 1024 names, and answers a repeated
/// name from it (`MIF_NAME_SOURCE_CACHE`; docs/name-translation.md, "Cache").
pub const MIF_OPTION_NO_DNS_CACHE: mif_option_flags = 1;
/// Our addition (docs/connectivity.md, "MPTCP continuity"): the context manages the
/// kernel's MPTCP subflow endpoints for its networks: one (flag `subflow`, bound to its
/// interface) for each usable address of a provisioning domain, added when the address
/// becomes usable, removed when its PvD is going away or at once when it is lost, and
/// every one it added removed at `mif_close`. Endpoints it did not add are never
/// touched, nor `net.mptcp.*`. Needs CAP_NET_ADMIN: without it nothing is changed (one
/// log line).
pub const MIF_OPTION_MANAGE_MPTCP_ENDPOINTS: mif_option_flags = 2;
const KNOWN_OPTION_FLAGS: mif_option_flags = MIF_OPTION_NO_DNS_CACHE | MIF_OPTION_MANAGE_MPTCP_ENDPOINTS;

/// A diagnostic's level (`mif_options.log_level`, `mif_message.log_level`).
pub type mif_log_level = u32;
/// Our addition: no diagnostics as messages (the default).
pub const MIF_LOG_NONE: mif_log_level = 0;
/// Our addition: errors: a context ending, a system call failing in a way the
/// application will notice.
pub const MIF_LOG_ERROR: mif_log_level = 1;
/// Our addition: warnings: input refused or ignored (configuration file lines, state
/// files, router options), resources the library did without.
pub const MIF_LOG_WARN: mif_log_level = 2;
/// Our addition: notable events (a netlink overrun and the re-read that followed).
pub const MIF_LOG_INFO: mif_log_level = 3;
/// Our addition: details for debugging the library (every ignored value).
pub const MIF_LOG_DEBUG: mif_log_level = 4;

/// All fields zero, pointers NULL: what `mif_options_init` writes (besides `size`),
/// and what a field an older program does not know of reads as.
impl Default for mif_options {
    fn default() -> Self {
        mif_options {
            size: 0,
            flags: 0,
            root_dir: ptr::null(),
            test_netlink_rcvbuf: 0,
            test_flags: 0,
            config_file: ptr::null(),
            dns_timeout_ms: 0,
            dns_tries: 0,
            connect_attempt_delay_ms: 0,
            connect_timeout_ms: 0,
            config_learning_ms: 0,
            reserved: 0,
            max_queued_messages: 0,
            max_sockets: 0,
            log_level: MIF_LOG_NONE,
            reserved2: 0,
            going_away_horizon_ms: 0,
            reserved3: 0,
        }
    }
}

/// Fills `opts` with the defaults and sets `opts->size`. Call it through the header's
/// macro `mif_options_init(opts)`, which passes `sizeof(mif_options)` as the program was
/// compiled: the library then never writes past a struct from an older header.
///
/// `size` must cover at least the `size` field. Returns `MIF_OK`, `MIF_E_NULL_ARGUMENT`
/// (opts NULL) or `MIF_E_BAD_SIZE`. Thread safety: touches only `*opts`.
#[no_mangle]
pub extern "C" fn mif_options_init_sized(opts: *mut mif_options, size: usize) -> mif_result {
    ffi_guard!(MIF_E_INTERNAL, {
        if opts.is_null() {
            return MIF_E_NULL_ARGUMENT;
        }
        if size < std::mem::size_of::<u32>() || size > u32::MAX as usize {
            return MIF_E_BAD_SIZE;
        }
        let defaults = mif_options { size: size as u32, ..mif_options::default() };
        // SAFETY: `opts` is non-NULL and the application's struct has `size` bytes (the
        // macro passes its sizeof).
        unsafe { write_prefix(opts.cast::<u8>(), size, &defaults) };
        MIF_OK
    })
}

/// Reads the application's options into the runtime's settings.
///
/// # Safety
/// `opts` is NULL or points to at least `opts->size` readable bytes, and its string
/// pointers are NULL or point to NUL-terminated strings.
pub(crate) unsafe fn config_from_c(opts: *const mif_options) -> Result<Config, Error> {
    let mut config = Config::default();
    if opts.is_null() {
        return Ok(config);
    }
    // SAFETY: non-NULL, and at least `size` readable bytes (the caller's guarantee).
    let (copy, _) = unsafe { read_sized(opts, std::mem::size_of::<u32>()) }?;
    if copy.flags & !KNOWN_OPTION_FLAGS != 0
        || copy.reserved != 0
        || copy.reserved2 != 0
        || copy.reserved3 != 0
        || copy.log_level > MIF_LOG_DEBUG
        || copy.test_netlink_rcvbuf < 0
        || copy.test_flags & !KNOWN_TEST_FLAGS != 0
    {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: the string pointers are NULL or NUL-terminated (the caller's guarantee).
    if let Some(dir) = unsafe { path_of(copy.root_dir) }? {
        config.root_dir = dir;
    }
    // SAFETY: as above.
    config.config_file = unsafe { path_of(copy.config_file) }?;
    if copy.test_netlink_rcvbuf > 0 {
        config.netlink_rcvbuf = Some(copy.test_netlink_rcvbuf as usize);
    }
    config.test = TestHooks {
        panic_engine: copy.test_flags & MIF_TEST_PANIC_ENGINE != 0,
        panic_translate: copy.test_flags & MIF_TEST_PANIC_TRANSLATE != 0,
        no_bindtodevice: copy.test_flags & MIF_TEST_NO_BINDTODEVICE != 0,
        engine_leaves_dns: copy.test_flags & MIF_TEST_ENGINE_LEAVES_DNS != 0,
    };
    if copy.dns_timeout_ms > 0 {
        config.dns.timeout = Duration::from_millis(u64::from(copy.dns_timeout_ms));
    }
    if copy.connect_attempt_delay_ms > 0 {
        if !(10..=2000).contains(&copy.connect_attempt_delay_ms) {
            return Err(Error::InvalidArgument);
        }
        config.connect.attempt_delay = Duration::from_millis(u64::from(copy.connect_attempt_delay_ms));
    }
    if copy.connect_timeout_ms > 0 {
        config.connect.timeout = Duration::from_millis(u64::from(copy.connect_timeout_ms));
    }
    if copy.config_learning_ms > 0 {
        if !(10..=60_000).contains(&copy.config_learning_ms) {
            return Err(Error::InvalidArgument);
        }
        config.learning_window = Duration::from_millis(u64::from(copy.config_learning_ms));
    }
    if copy.dns_tries > 0 {
        config.dns.tries = copy.dns_tries.min(16);
    }
    if copy.max_queued_messages > 0 {
        if !(16..=10_000_000).contains(&copy.max_queued_messages) {
            return Err(Error::InvalidArgument);
        }
        config.max_queued_messages = copy.max_queued_messages as usize;
    }
    if copy.max_sockets > 0 {
        // Below 4 some requests could never be posted (a connect racing 4 sources).
        if !(4..=1_000_000).contains(&copy.max_sockets) {
            return Err(Error::InvalidArgument);
        }
        config.max_sockets = Some(copy.max_sockets as usize);
    }
    config.log_level = copy.log_level as u8;
    if copy.going_away_horizon_ms > 0 {
        if !(1000..=3_600_000).contains(&copy.going_away_horizon_ms) {
            return Err(Error::InvalidArgument);
        }
        config.going_away_horizon = Duration::from_millis(u64::from(copy.going_away_horizon_ms));
    }
    if copy.flags & MIF_OPTION_NO_DNS_CACHE != 0 {
        config.dns.cache_entries = 0;
    }
    config.manage_mptcp_endpoints = copy.flags & MIF_OPTION_MANAGE_MPTCP_ENDPOINTS != 0;
    Ok(config)
}

/// A path option: NULL is `None`; empty or not UTF-8 is refused.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string.
unsafe fn path_of(text: *const c_char) -> Result<Option<PathBuf>, Error> {
    if text.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated (the caller's guarantee).
    let text = unsafe { CStr::from_ptr(text) }.to_str().map_err(|_| Error::InvalidArgument)?;
    if text.is_empty() {
        return Err(Error::InvalidArgument);
    }
    Ok(Some(PathBuf::from(text)))
}
