//! The hosts file, read through a cache that re-reads it only when its inode, size or
//! modification time change. Parsing is `core::dns::hosts_lookup`. It is read like every
//! other file the library reads: only a regular file (a FIFO or a device, such as a
//! symlink to /dev/zero, counts as no file), opened without blocking, at most
//! `MAX_HOSTS_FILE` bytes (a larger file counts as no file), each with a log line.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::root::Root;
use crate::log::log_at;

/// The largest hosts file read (large ad-blocking lists fit; a runaway file does not).
pub const MAX_HOSTS_FILE: u64 = 16 << 20;

type Stamp = (u64, u64, u64, i64, i64);

fn stamp_of(m: &std::fs::Metadata) -> Stamp {
    (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec())
}

/// The text of one hosts file.
#[derive(Default)]
pub struct HostsCache {
    stamp: Option<Stamp>,
    /// The last look found no file.
    missing: bool,
    text: String,
    /// The paths the last look stat'ed, kept for the next (`StatPaths`).
    paths: Option<StatPaths>,
}

/// What `HostsCache::text` stats for one root and path, worked out once: the path is
/// asked at every translation, and joining and splitting it each time was a third of
/// the look's CPU time in a profile of one name at a time.
struct StatPaths {
    root: PathBuf,
    inside: PathBuf,
    shown: PathBuf,
    host_root: bool,
    /// Under another root than `/`: each component's path below the root, which
    /// `lstat_without_symlinks` stats in turn; `Err` when the path is not a plain one
    /// or names no file.
    steps: Result<Vec<PathBuf>, &'static str>,
}

impl StatPaths {
    fn new(root: &Root, inside: &Path) -> StatPaths {
        StatPaths {
            root: root.path().to_path_buf(),
            inside: inside.to_path_buf(),
            shown: root.display_path(inside),
            host_root: root.is_host_root(),
            steps: component_paths(root, inside),
        }
    }
}

impl HostsCache {
    /// The hosts file's text: `inside` the root (`os::root`: it cannot lead out of it),
    /// re-read only when the file opened is another one or changed.
    ///
    /// It is asked at every translation, so the common case costs a stat or two of the
    /// path instead of opening the root and the file (five system calls, ~4 µs here):
    /// when that finds the very file read last time (device, inode, size, modification
    /// time), the text is the same. A stat only decides whether to read again; what is
    /// read always comes through the root-confined open. The stat must resolve the path
    /// as that open does: under `/` any stat does; under another root, only a path with
    /// no symlink in it below the root (each component's lstat says so), since a
    /// symlink is followed differently there (as under chroot). "No such file" is taken
    /// from the stat only when the root is `/`.
    pub fn text(&mut self, root: &Root, inside: &Path) -> &str {
        // Compared as spelled: `Path`'s == ignores a trailing slash or a `.`, which the
        // host's stat does not.
        let same =
            |p: &StatPaths| p.root.as_os_str() == root.path().as_os_str() && p.inside.as_os_str() == inside.as_os_str();
        if !self.paths.as_ref().is_some_and(same) {
            self.paths = Some(StatPaths::new(root, inside));
        }
        let paths = self.paths.as_ref().expect("set above");
        let stat = if paths.host_root { std::fs::metadata(&paths.shown) } else { lstat_without_symlinks(&paths.steps) };
        match stat {
            Ok(m) if self.stamp == Some(stamp_of(&m)) => return &self.text,
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.missing && paths.host_root => {
                return &self.text;
            }
            _ => {}
        }
        let shown = paths.shown.clone();
        let opened = root.open_read(inside).and_then(|f| f.metadata().map(|m| (f, m)));
        self.missing = false;
        match opened {
            Ok((file, m)) => {
                let stamp = stamp_of(&m);
                if self.stamp != Some(stamp) {
                    self.text = read_hosts(file, &m, &shown);
                    self.stamp = Some(stamp);
                }
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::NotFound {
                    self.missing = true;
                } else {
                    log_at!(Debug, "{}: {e}", shown.display());
                }
                self.stamp = None;
                self.text.clear();
            }
        }
        &self.text
    }
}

/// The path of each component of `inside` below `root`, in order; an error for a path
/// that is not plain (a `..` or a prefix: resolved by the confined open alone) or names
/// no file.
fn component_paths(root: &Root, inside: &Path) -> Result<Vec<PathBuf>, &'static str> {
    let mut path = root.path().to_path_buf();
    let mut steps = Vec::new();
    for component in inside.components() {
        let name = match component {
            std::path::Component::Normal(name) => name,
            std::path::Component::RootDir | std::path::Component::CurDir => continue,
            _ => return Err("not a plain path"),
        };
        path.push(name);
        steps.push(path.clone());
    }
    if steps.is_empty() {
        return Err("no file named");
    }
    Ok(steps)
}

/// The metadata of the last of `steps` (`component_paths`) by lstat, component by
/// component; an error (as if there were no such file, which sends the caller to the
/// confined open) when any component below the root is a symlink.
fn lstat_without_symlinks(steps: &Result<Vec<PathBuf>, &'static str>) -> io::Result<std::fs::Metadata> {
    let steps = steps.as_ref().map_err(|why| io::Error::other(*why))?;
    let mut last = None;
    for path in steps {
        let m = std::fs::symlink_metadata(path)?;
        if m.file_type().is_symlink() {
            return Err(io::Error::other("a symlink on the way"));
        }
        last = Some(m);
    }
    last.ok_or_else(|| io::Error::other("no file named"))
}

/// The text of a hosts file, or "" for anything that is not a readable regular file
/// of at most `MAX_HOSTS_FILE` bytes.
fn read_hosts(file: File, meta: &std::fs::Metadata, shown: &Path) -> String {
    if !meta.is_file() {
        log_at!(Warn, "{}: not a regular file, ignored", shown.display());
        return String::new();
    }
    if meta.len() > MAX_HOSTS_FILE {
        log_at!(Warn, "{}: larger than {MAX_HOSTS_FILE} bytes, ignored", shown.display());
        return String::new();
    }
    let mut bytes = Vec::new();
    match file.take(MAX_HOSTS_FILE + 1).read_to_end(&mut bytes) {
        Ok(n) if n as u64 <= MAX_HOSTS_FILE => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(_) => {
            log_at!(Warn, "{}: grew past {MAX_HOSTS_FILE} bytes, ignored", shown.display());
            String::new()
        }
        Err(e) => {
            log_at!(Warn, "{}: {e}", shown.display());
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_cache_follows_rewrites_and_removal() {
        let dir = std::env::temp_dir().join(format!("mif-hosts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts");
        let slash = Root::new(Path::new("/"));
        let mut cache = HostsCache::default();
        assert_eq!(cache.text(&slash, &path), "", "no file");
        std::fs::write(&path, "198.51.100.7 a.example\n").unwrap();
        assert!(cache.text(&slash, &path).contains("a.example"));
        // Same length, new content: the inode or modification time changes.
        std::fs::write(dir.join("hosts.new"), "198.51.100.8 b.example\n").unwrap();
        std::fs::rename(dir.join("hosts.new"), &path).unwrap();
        assert!(cache.text(&slash, &path).contains("b.example"));
        // The same path spelled otherwise is looked at afresh (not through the paths
        // remembered for the first spelling): the answer is a fresh cache's.
        let mut slashed = path.clone().into_os_string();
        slashed.push("/");
        let fresh = HostsCache::default().text(&slash, Path::new(&slashed)).to_string();
        assert_eq!(cache.text(&slash, Path::new(&slashed)), fresh, "{slashed:?}");
        assert!(cache.text(&slash, &path).contains("b.example"));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(cache.text(&slash, &path), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_stat_shortcut_never_reads_outside_the_root() {
        // <root>/etc/hosts -> /etc/hosts: inside the root that is itself (a loop: no
        // file); the host's stat finds the host's /etc/hosts, which must never be read.
        let dir = std::env::temp_dir().join(format!("mif-hosts-stat-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/hosts", dir.join("etc/hosts")).unwrap();
        let root = Root::new(&dir);
        let mut cache = HostsCache::default();
        for _ in 0..3 {
            assert_eq!(cache.text(&root, Path::new("/etc/hosts")), "");
        }
        // A real file inside the root: read, then answered from the stat while unchanged.
        std::fs::remove_file(dir.join("etc/hosts")).unwrap();
        std::fs::write(dir.join("etc/hosts"), "198.51.100.9 c.example\n").unwrap();
        assert!(cache.text(&root, Path::new("/etc/hosts")).contains("c.example"));
        assert!(cache.text(&root, Path::new("/etc/hosts")).contains("c.example"));
        std::fs::write(dir.join("etc/hosts.new"), "198.51.100.9 d.example\n").unwrap();
        std::fs::rename(dir.join("etc/hosts.new"), dir.join("etc/hosts")).unwrap();
        assert!(cache.text(&root, Path::new("/etc/hosts")).contains("d.example"));
        // The file read moved out of the root, a symlink to it in its place: the host's
        // stat would find the same file, but inside the root the symlink leads nowhere.
        let outside = dir.with_extension("outside");
        std::fs::rename(dir.join("etc/hosts"), &outside).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("etc/hosts")).unwrap();
        assert_eq!(cache.text(&root, Path::new("/etc/hosts")), "", "not the text read before");
        std::fs::remove_file(&outside).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fifos_and_devices_are_no_hosts_file() {
        let dir = std::env::temp_dir().join(format!("mif-hosts-odd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let slash = Root::new(Path::new("/"));
        let mut cache = HostsCache::default();
        assert_eq!(cache.text(&slash, &fifo), "", "a FIFO: no text, and no wait for a writer");
        let zero = dir.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(cache.text(&slash, &zero), "", "a device: not read at all");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlinks_and_dot_dots_stay_inside_the_root() {
        let base = std::env::temp_dir().join(format!("mif-hosts-root-{}", std::process::id()));
        let root_dir = base.join("root");
        std::fs::create_dir_all(root_dir.join("etc")).unwrap();
        std::fs::write(base.join("outside"), "198.51.100.9 secret.example\n").unwrap();
        std::fs::write(root_dir.join("etc/real"), "198.51.100.7 inside.example\n").unwrap();
        let root = Root::new(&root_dir);
        let hosts = root_dir.join("etc/hosts");
        let mut cache = HostsCache::default();
        // An absolute symlink is taken inside the root, as under chroot.
        std::os::unix::fs::symlink(base.join("outside"), &hosts).unwrap();
        assert_eq!(cache.text(&root, Path::new("/etc/hosts")), "", "an absolute symlink out of the root");
        std::fs::remove_file(&hosts).unwrap();
        std::os::unix::fs::symlink("../../../../../../outside", &hosts).unwrap();
        assert_eq!(cache.text(&root, Path::new("/etc/hosts")), "", "'..' stops at the root");
        assert_eq!(cache.text(&root, Path::new("../outside")), "", "a '..' path");
        std::fs::remove_file(&hosts).unwrap();
        std::os::unix::fs::symlink("/etc/real", &hosts).unwrap();
        assert!(cache.text(&root, Path::new("/etc/hosts")).contains("inside.example"), "a symlink inside the root");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
