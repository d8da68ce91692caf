//! Minimal diagnostics on stderr, chosen by the MIF_LOG environment variable
//! (`off`, `error`, `warn` (default), `info`, `debug`). A library must not print
//! unless asked, but the tests need to see events such as a netlink overrun.
use std::sync::OnceLock;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

fn max_level() -> u8 {
    static LEVEL: OnceLock<u8> = OnceLock::new();
    *LEVEL.get_or_init(|| match std::env::var("MIF_LOG").as_deref() {
        Ok("off") | Ok("0") => 0,
        Ok("error") => 1,
        Ok("info") => 3,
        Ok("debug") => 4,
        _ => 2,
    })
}

pub(crate) fn enabled(level: Level) -> bool {
    level as u8 <= max_level()
}

pub(crate) fn write(level: Level, args: std::fmt::Arguments<'_>) {
    if enabled(level) {
        eprintln!("libmif[{}]: {}", format!("{level:?}").to_lowercase(), args);
    }
}

macro_rules! log_at {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::$level, format_args!($($arg)*))
    };
}
pub(crate) use log_at;

/// The message a panic carried (`panic!` with a literal or with a format).
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
