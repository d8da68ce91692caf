//! Minimal diagnostics on stderr, chosen by the MIF_LOG environment variable
//! (`off` (default), `error`, `warn`, `info`, `debug`). A library prints nothing unless
//! asked; the tests ask to see events such as a netlink overrun.
use std::cell::Cell;
use std::sync::{Once, OnceLock};

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
        Ok("error") => 1,
        Ok("warn") => 2,
        Ok("info") => 3,
        Ok("debug") => 4,
        _ => 0,
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

thread_local! {
    /// How deep the current thread is inside the library (an exported function, or the
    /// engine thread's whole life).
    static IN_LIBRARY: Cell<usize> = const { Cell::new(0) };
}

/// Marks the current thread as running library code until dropped. A panic raised
/// meanwhile is caught by the library and reported as a message; the panic hook
/// (`quiet_panics`) then prints nothing, unless `MIF_LOG=debug` asks.
pub(crate) struct InLibrary(());

impl InLibrary {
    pub(crate) fn enter() -> InLibrary {
        quiet_panics();
        IN_LIBRARY.with(|depth| depth.set(depth.get() + 1));
        InLibrary(())
    }
}

impl Drop for InLibrary {
    fn drop(&mut self) {
        IN_LIBRARY.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Installs, once per process, a panic hook that keeps quiet about panics raised in
/// library code (they are caught and reported as `MIF_MSG_ENGINE_FAILED` or
/// `MIF_E_INTERNAL`) and passes every other panic to the hook that was there before,
/// so the application's own panics (a Rust program using the library) look as before.
fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_LIBRARY.with(Cell::get) == 0 {
                previous(info);
            } else if enabled(Level::Debug) {
                eprintln!("libmif[debug]: caught panic: {info}");
            }
        }));
    });
}
