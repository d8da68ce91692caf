//! Files under the context's root directory (`mif_options.root_dir`), opened so that
//! nothing leaves it: every path is resolved by the kernel as if the root were `/`
//! (openat2 with RESOLVE_IN_ROOT, Linux 5.6 and later), so a `..` stops at the root
//! and a symlink, absolute or relative, points inside it, as under chroot. A state file
//! that names another file, a configuration path from the options or the environment,
//! and a symlinked /etc/resolv.conf are all read this way. Opens never block (a FIFO
//! opens at once) and every descriptor is CLOEXEC.
//!
//! Where openat2 is missing (ENOSYS: Linux before 5.6, or valgrind, which does not
//! know it), the same resolution is done here, one component at a time from the
//! root's descriptor (`resolve_in_root`): no component is followed by the kernel.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{open, openat, openat2, readlinkat, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

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

    /// The root directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the root is the host's own `/` (paths then resolve as everywhere else).
    pub fn is_host_root(&self) -> bool {
        self.path == Path::new("/")
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

    fn open(&self, inside: &Path, flags: OFlag) -> io::Result<OwnedFd> {
        let relative = inside.strip_prefix("/").unwrap_or(inside);
        let relative = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            let root = open(&self.path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())?;
            let how =
                OpenHow::new().flags(flags).resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            // EAGAIN: a rename or mount somewhere raced a `..` walk (openat2(2) says to
            // retry); after a few, the walk below does the same without that check.
            for _ in 0..4 {
                match openat2(&root, relative, how) {
                    Err(Errno::EAGAIN) => continue,
                    // ENOSYS: no openat2 (Linux < 5.6, valgrind); EPERM: a seccomp filter
                    // that refuses it.
                    Err(Errno::ENOSYS | Errno::EPERM) => {
                        NO_OPENAT2.store(true, Ordering::Relaxed);
                        break;
                    }
                    done => return done.map_err(io::Error::from),
                }
            }
        }
        Ok(resolve_in_root(&self.path, relative, flags)?)
    }
}

/// Symlinks followed in one path at most, as the kernel's own limit (ELOOP).
const MAX_SYMLINKS: usize = 40;

/// openat2's RESOLVE_IN_ROOT, done here: walks `relative` from the root one component
/// at a time, never letting the kernel follow a symlink (`O_NOFOLLOW`, and symlinks
/// read with readlinkat and resolved against the root when absolute), and never going
/// above the root on `..`.
fn resolve_in_root(root: &Path, relative: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let root = open(root, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())?;
    // The directories walked below the root; the current one is the last.
    let mut walked: Vec<OwnedFd> = Vec::new();
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_components(&mut pending, relative);
    let mut symlinks = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            walked.pop();
            continue;
        }
        let here = walked.last().map_or(root.as_fd(), |d| d.as_fd());
        let stat = fstatat(here, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
            symlinks += 1;
            if symlinks > MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            let target = readlinkat(here, name.as_os_str())?;
            let target = Path::new(&target);
            if target.is_absolute() {
                walked.clear();
            }
            let mut rest = VecDeque::new();
            push_components(&mut rest, target);
            rest.extend(pending);
            pending = rest;
            continue;
        }
        if pending.is_empty() {
            return openat(here, name.as_os_str(), flags | OFlag::O_NOFOLLOW, Mode::empty());
        }
        let next = openat(here, name.as_os_str(), dir_flags, Mode::empty())?;
        walked.push(next);
    }
    // The path ends in a directory (".", "..", a symlink to a directory's parent).
    let here = walked.last().map_or(root.as_fd(), |d| d.as_fd());
    openat(here, ".", flags, Mode::empty())
}

/// The names of a path's components, `..` kept, `.` and `/` left out.
fn push_components(into: &mut VecDeque<OsString>, path: &Path) {
    for component in path.components() {
        match component {
            Component::Normal(name) => into.push_back(name.to_os_string()),
            Component::ParentDir => into.push_back(OsString::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// What a path inside the root reads as, through the kernel (openat2) and through
    /// `resolve_in_root`, which must agree.
    fn both(root: &Path, inside: &str) -> (String, String) {
        let read = |fd: nix::Result<OwnedFd>| match fd {
            Ok(fd) => {
                let mut text = String::new();
                File::from(fd).read_to_string(&mut text).map(|_| text).unwrap_or_else(|e| format!("error {e}"))
            }
            Err(e) => format!("error {e}"),
        };
        let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
        let root_fd = open(root, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).unwrap();
        let relative = Path::new(inside.trim_start_matches('/'));
        let how =
            OpenHow::new().flags(flags).resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        (read(openat2(&root_fd, relative, how)), read(resolve_in_root(root, relative, flags)))
    }

    #[test]
    fn resolving_here_agrees_with_the_kernel_and_never_leaves_the_root() {
        let base = std::env::temp_dir().join(format!("mif-root-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("etc/deep")).unwrap();
        std::fs::write(base.join("secret"), "outside").unwrap();
        std::fs::write(root.join("secret"), "root's own").unwrap();
        std::fs::write(root.join("etc/real"), "inside").unwrap();
        symlink(base.join("secret"), root.join("etc/abs-out")).unwrap();
        symlink("../../../../secret", root.join("etc/rel-out")).unwrap();
        symlink("/etc/real", root.join("etc/abs-in")).unwrap();
        symlink("deep/../real", root.join("etc/via-dir")).unwrap();
        symlink("/etc", root.join("etc/deep/up")).unwrap();
        symlink("loop-b", root.join("etc/loop-a")).unwrap();
        symlink("loop-a", root.join("etc/loop-b")).unwrap();
        let cases = [
            ("etc/real", "inside"),
            ("/etc/real", "inside"),
            ("etc/rel-out", "root's own"),
            ("../../secret", "root's own"),
            ("etc/abs-in", "inside"),
            ("etc/via-dir", "inside"),
            ("etc/deep/up/real", "inside"),
            ("etc/deep/up/../../../secret", "root's own"),
        ];
        for (inside, want) in cases {
            let (kernel, here) = both(&root, inside);
            assert_eq!(here, kernel, "{inside}: resolved here vs by the kernel");
            assert_eq!(here, want, "{inside}");
        }
        // The absolute symlink names <base>/secret: inside the root that path does not exist.
        let (kernel, here) = both(&root, "etc/abs-out");
        assert!(here.starts_with("error"), "an absolute symlink out of the root: {here}");
        assert_eq!(here, kernel);
        let (kernel, here) = both(&root, "etc/loop-a");
        assert!(kernel.contains("ELOOP") || kernel.contains("symbolic links"), "{kernel}");
        assert_eq!(here, kernel);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
