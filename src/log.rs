//! Diagnostics. On stderr when the MIF_LOG environment variable asks (`off` (default),
//! `error`, `warn`, `info`, `debug`): a library prints nothing unless asked; the tests
//! ask to see events such as a netlink overrun. And, for an application that wants
//! them in its own log, to a `LogSink` a thread is routed to (`route_to`): a context's
//! engine thread for its whole life, an application thread while it is inside a call on
//! that context. The sink only queues the record; no application code runs.
use std::cell::{Cell, RefCell};
use std::sync::{Arc, Once, OnceLock};

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

impl Level {
    /// `error`, `warn`, `info`, `debug`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// Where a thread's diagnostics go besides stderr. `record` must not block or log.
pub(crate) trait LogSink: Send + Sync {
    /// The most verbose level wanted (1 = error ... 4 = debug).
    fn max_level(&self) -> u8;
    fn record(&self, level: Level, text: String);
}

thread_local! {
    static SINK: RefCell<Option<Arc<dyn LogSink>>> = const { RefCell::new(None) };
}

/// Routes this thread's diagnostics to `sink` until the guard is dropped (then to
/// whatever was routed before).
pub(crate) fn route_to(sink: Arc<dyn LogSink>) -> Route {
    Route(SINK.with(|s| s.replace(Some(sink))))
}

#[must_use]
pub(crate) struct Route(Option<Arc<dyn LogSink>>);

impl Drop for Route {
    fn drop(&mut self) {
        let previous = self.0.take();
        SINK.with(|s| *s.borrow_mut() = previous);
    }
}

pub(crate) fn write(level: Level, args: std::fmt::Arguments<'_>) {
    if level as u8 <= max_level() {
        eprintln!("libmif[{}]: {}", level.name(), args);
    }
    // Taken out while it runs: a record the sink logs itself is not routed (no
    // recursion), and a routed thread pays one thread-local swap per record.
    if let Some(sink) = SINK.with(|s| s.borrow_mut().take()) {
        if level as u8 <= sink.max_level() {
            sink.record(level, args.to_string());
        }
        SINK.with(|s| *s.borrow_mut() = Some(sink));
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
            } else if Level::Debug as u8 <= max_level() {
                eprintln!("libmif[debug]: caught panic: {info}");
            }
        }));
    });
}
