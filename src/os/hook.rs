//! The operator's hook commands (docs/connectivity.md): started without a shell, with
//! no input and output, watched through a pidfd so the engine's poll sees the end
//! without waiting, killed at their timeout.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A hook that is running.
#[derive(Debug)]
pub struct RunningHook {
    child: Child,
    /// Readable once the process ended (pidfd_open, CLOEXEC by the kernel); `None`
    /// where the kernel has none: then `poll_end` is called on a short timer.
    pidfd: Option<OwnedFd>,
}

/// How a hook ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookEnd {
    /// Its exit status, or minus the signal that ended it.
    Exited(i32),
    /// Still running.
    Running,
}

/// Starts `path` (an absolute path; no shell, no arguments) with `env` added to the
/// library's environment, stdin/stdout/stderr on /dev/null.
pub fn spawn(path: &Path, env: &[(&str, String)]) -> io::Result<RunningHook> {
    if !path.is_absolute() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    // Checked first, so that a missing or non-executable hook is named the same way
    // whatever the process spawner reports (posix_spawn under valgrind does not).
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).map_err(io::Error::from)?;
    if !path.is_file() {
        return Err(io::Error::from_raw_os_error(libc::EACCES));
    }
    let mut command = Command::new(path);
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn()?;
    // Without pidfds (Linux before 5.3, or under valgrind) the caller polls instead.
    let pidfd = super::sys::pidfd_open(child.id()).ok();
    Ok(RunningHook { child, pidfd })
}

impl RunningHook {
    /// The pidfd to poll, if there is one.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.pidfd.as_ref().map(|fd| fd.as_raw_fd())
    }

    /// Reaps the process if it ended (never blocks).
    pub fn poll_end(&mut self) -> HookEnd {
        match self.child.try_wait() {
            Ok(Some(status)) => HookEnd::Exited(status.code().unwrap_or_else(|| -status.signal().unwrap_or(0))),
            Ok(None) => HookEnd::Running,
            Err(_) => HookEnd::Exited(-libc::SIGKILL),
        }
    }
}

/// A hook still running when it is let go (its timeout passed, the context closed) is
/// killed and reaped: SIGKILL ends it at once, and no zombie is left.
impl Drop for RunningHook {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
