//! Files under the context's root directory (`mif_options.root_dir`), opened so that
//! nothing leaves it: every path is resolved by the kernel as if the root were `/`
//! (openat2 with RESOLVE_IN_ROOT, Linux 5.6 and later), so a `..` stops at the root
//! and a symlink, absolute or relative, points inside it, as under chroot. A state file
//! that names another file, a configuration path from the options or the environment,
//! and a symlinked /etc/resolv.conf are all read this way. Opens never block (a FIFO
//! opens at once) and every descriptor is CLOEXEC.
//!
//! On a kernel without openat2 (ENOSYS) a path with a `..` component is refused and
//! other paths are opened as they are (symlinks followed): documented in
//! docs/limits.md.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{open, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

/// The root directory every configuration and state file is looked up under.
#[derive(Clone, Debug)]
pub struct Root {
    path: PathBuf,
}

/// Set once openat2 answered ENOSYS: the fallback from then on.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

impl Root {
    pub fn new(path: &Path) -> Root {
        Root { path: path.to_path_buf() }
    }

    /// Where `inside` (absolute or relative, meaning the same: under the root) shows
    /// in messages and origins: the root joined with it, as written.
    pub fn display_path(&self, inside: &Path) -> PathBuf {
        self.path.join(inside.strip_prefix("/").unwrap_or(inside))
    }

    /// `shown` (a `display_path`) back to the path inside the root.
    pub fn inside<'a>(&self, shown: &'a Path) -> &'a Path {
        shown.strip_prefix(&self.path).unwrap_or(shown)
    }

    /// Opens a file under the root for reading, without blocking.
    pub fn open_read(&self, inside: &Path) -> io::Result<File> {
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
        self.open(inside, flags).map(File::from)
    }

    /// The names in a directory under the root.
    pub fn read_dir(&self, inside: &Path) -> io::Result<Vec<OsString>> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let mut dir = Dir::from_fd(self.open(inside, flags)?)?;
        let names = dir
            .iter()
            .filter_map(Result::ok)
            .map(|entry| OsString::from(OsStr::from_bytes(entry.file_name().to_bytes())))
            .filter(|name| name != "." && name != "..")
            .collect();
        Ok(names)
    }

    fn open(&self, inside: &Path, flags: OFlag) -> io::Result<std::os::fd::OwnedFd> {
        let relative = inside.strip_prefix("/").unwrap_or(inside);
        let relative = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            let root = open(&self.path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())?;
            let how =
                OpenHow::new().flags(flags).resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            match openat2(&root, relative, how) {
                Err(Errno::ENOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
                done => return done.map_err(io::Error::from),
            }
        }
        if relative.components().any(|c| c == Component::ParentDir) {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "a '..' path leaves the root directory"));
        }
        Ok(open(&self.path.join(relative), flags, Mode::empty())?)
    }
}
