//! The hosts file, read through a cache that re-reads it only when its inode, size or
//! modification time change or an inotify watch reports a change to it, and that stats
//! it only when the watch reports something (or a second has passed). Parsing and the index of its names are `core::dns::HostsIndex`. It is
//! read like every other file the library reads: only a regular file (a FIFO or a
//! device, such as a symlink to /dev/zero, counts as no file), opened without blocking,
//! at most `MAX_HOSTS_FILE` bytes (a larger file counts as no file), each with a log line.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};

use super::root::Root;
use crate::core::dns::HostsIndex;
use crate::log::log_at;

/// How long an unchanged look is trusted while the watch stays quiet. inotify does not
/// see a file mounted over the hosts file, nor a directory above the watched ones (the
/// root's own, or its parents) renamed or replaced: those are noticed within this time.
pub const HOSTS_RECHECK: Duration = Duration::from_secs(1);

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
    /// Where each name of `text` is (rebuilt with it).
    index: HostsIndex,
    /// The paths the last look stat'ed, kept for the next (`StatPaths`).
    paths: Option<StatPaths>,
    /// Follows the file's path; while it reports nothing relevant, and for
    /// `HOSTS_RECHECK` at most, the last look stands without a stat.
    watch: Option<ChangeWatch>,
    /// When no inotify instance could be had: none is asked for again before
    /// `HOSTS_RECHECK` has passed.
    no_watch_since: Option<Instant>,
    /// Until when looks stat without arming the watch first: the last found a symlink
    /// (whose target the watch would not follow) or a component that could not be
    /// watched. After a look that finds a plain file again, the next one arms.
    skip_arming_until: Option<Instant>,
    /// How long a quiet watch is trusted (`None`: `HOSTS_RECHECK`; tests set more).
    recheck: Option<Duration>,
    /// How many looks went as far as a stat (read by tests).
    looks: u64,
}

/// One inotify instance, kept for the cache's life (closing an instance that holds
/// watches waits for the kernel to free them, an SRCU grace period: not on a post's
/// path), watching each component of the hosts file's path below the root
/// (`StatPaths::steps`): the directories for the next component created, removed,
/// renamed or changed and for their own renaming or removal, the file for writes and
/// attribute changes through any of its names. Events about other entries of a watched
/// directory (resolv.conf rewritten next to the hosts file) are read and dropped.
///
/// Not the engine's instance (`os::files`): the engine thread reads that one, so a
/// post could not tell an edit whose event the engine has read but not yet applied
/// from no edit at all. This one is read only by the look, with the resolver's lock.
struct ChangeWatch {
    inotify: Inotify,
    /// The watch of each component in order; `None`: not watched (missing, or not a
    /// directory where one is needed), and nothing after it either.
    watches: Vec<Option<WatchDescriptor>>,
    /// Each component's name: a directory's event matters when it names the next.
    names: Vec<OsString>,
    /// When the last look began.
    armed_at: Instant,
    /// Whether the last look may stand while the watch is quiet: every component was
    /// watched before it stat'ed, and it found a plain file (no symlink, whose target
    /// the watch would not follow) or, its directories all watched, no file at all.
    trusted: bool,
}

/// What the file's watch reports. Not IN_OPEN, IN_ACCESS or IN_CLOSE_NOWRITE: readers
/// (this library's too) change nothing.
const FILE_MASK: AddWatchFlags = AddWatchFlags::IN_MODIFY
    .union(AddWatchFlags::IN_ATTRIB)
    .union(AddWatchFlags::IN_CLOSE_WRITE)
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_MOVE_SELF)
    .union(AddWatchFlags::IN_DONT_FOLLOW);

/// What a directory's watch reports: entries made, removed or renamed, its own
/// attributes, renaming and removal. Not its entries' writes (IN_MODIFY,
/// IN_CLOSE_WRITE): the file's own watch has those, and a busy directory's other files
/// would fill the queue. A symlink is no directory (IN_ONLYDIR with IN_DONT_FOLLOW).
const DIRECTORY_MASK: AddWatchFlags = AddWatchFlags::IN_ATTRIB
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_MOVE_SELF)
    .union(AddWatchFlags::IN_ONLYDIR)
    .union(AddWatchFlags::IN_DONT_FOLLOW);

/// Events that concern a watched component itself, whatever the name they carry.
const SELF_EVENTS: AddWatchFlags = AddWatchFlags::IN_DELETE_SELF
    .union(AddWatchFlags::IN_MOVE_SELF)
    .union(AddWatchFlags::IN_IGNORED)
    .union(AddWatchFlags::IN_UNMOUNT);

/// At most this many reads of the watch per look, 4 KiB (about a hundred events) each:
/// more than the kernel queues for an instance (`fs.inotify.max_queued_events`,
/// 16,384 by default, after which it reports an overflow), so the queue is emptied; a
/// queue still not empty counts as a change.
const MAX_WATCH_READS: usize = 1024;

/// What the components' watches came to when (re)armed.
struct Armed {
    /// Every directory on the way is watched.
    directories: bool,
    /// The file itself is watched.
    file: bool,
    /// The file does not exist (its directory is watched for it).
    file_missing: bool,
    /// A component exists but could not be watched (a symlink where a directory is
    /// needed, no permission, the user's watch limit): arming again soon would fail
    /// again.
    failed: bool,
}

impl ChangeWatch {
    fn new(now: Instant) -> nix::Result<ChangeWatch> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
        Ok(ChangeWatch { inotify, watches: Vec::new(), names: Vec::new(), armed_at: now, trusted: false })
    }

    /// Watches each of `steps` (again: a component already watched keeps its watch),
    /// the directories with IN_ONLYDIR (a symlink there is no directory: not watched),
    /// and drops the watches of components no longer on the path. Done before the look
    /// stats, so that a change after the stat is reported.
    fn arm(&mut self, steps: &Result<Vec<PathBuf>, &'static str>, now: Instant) -> Armed {
        self.armed_at = now;
        self.trusted = false;
        let old = std::mem::take(&mut self.watches);
        self.names.clear();
        let mut armed = Armed { directories: false, file: false, file_missing: false, failed: false };
        if let Ok(steps) = steps {
            armed.directories = true;
            for (i, step) in steps.iter().enumerate() {
                let last = i + 1 == steps.len();
                self.names.push(step.file_name().unwrap_or_default().to_os_string());
                let mask = if last { FILE_MASK } else { DIRECTORY_MASK };
                let added = if armed.directories { Some(self.inotify.add_watch(step.as_path(), mask)) } else { None };
                match added {
                    Some(Ok(wd)) => {
                        armed.file = last;
                        self.watches.push(Some(wd));
                    }
                    Some(Err(e)) => {
                        armed.failed |= e != Errno::ENOENT;
                        if last {
                            armed.file_missing = e == Errno::ENOENT;
                        } else {
                            armed.directories = false;
                        }
                        self.watches.push(None);
                    }
                    None => self.watches.push(None),
                }
            }
        }
        for wd in old.into_iter().flatten() {
            if !self.watches.contains(&Some(wd)) {
                // Already gone when its inode was (IN_IGNORED): EINVAL, nothing to undo.
                let _ = self.inotify.rm_watch(wd);
            }
        }
        armed
    }

    /// What the watch says now: its events read and sorted (one nonblocking read,
    /// `EAGAIN`, in the common case).
    fn report(&mut self, now: Instant, recheck: Duration) -> WatchReport {
        let mut changed = false;
        let mut drained = false;
        for _ in 0..MAX_WATCH_READS {
            match self.inotify.read_events() {
                Ok(events) => changed |= events.iter().any(|e| self.concerns_the_file(e)),
                Err(Errno::EAGAIN) => {
                    drained = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if changed || !drained {
            WatchReport::Changed
        } else if !self.trusted || now.saturating_duration_since(self.armed_at) >= recheck {
            WatchReport::Expired
        } else {
            WatchReport::Quiet
        }
    }

    /// Whether `event` may change what the path leads to: any event of the file's own
    /// watch, a directory's own renaming or removal (or attributes: its permissions),
    /// an event naming the next component, a lost queue.
    fn concerns_the_file(&self, event: &InotifyEvent) -> bool {
        if event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
            return true;
        }
        // Every component this watch stands for (one inode may be two components: a
        // directory mounted on its own child); none: a watch dropped at the last
        // arming (its IN_IGNORED, for one).
        let mut components = self.watches.iter().enumerate().filter(|(_, w)| **w == Some(event.wd)).map(|(i, _)| i);
        components.any(|i| {
            event.mask.intersects(SELF_EVENTS)
                || match (&event.name, self.names.get(i + 1)) {
                    (_, None) | (None, Some(_)) => true,
                    (Some(name), Some(next)) => name == next,
                }
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WatchReport {
    /// Nothing relevant reported, and the last look is trusted and recent: it stands.
    Quiet,
    /// Nothing reported, but the last look is not trusted or `HOSTS_RECHECK` old.
    Expired,
    /// A change was reported: read the file again even if its stamp looks the same (a
    /// rewrite of the same length within the file system's timestamp granularity).
    Changed,
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
    /// Every address the hosts file gives `name` (`core::dns::HostsIndex::lookup`), the
    /// file looked at as `text` does.
    pub fn lookup(&mut self, root: &Root, inside: &Path, name: &str) -> Vec<IpAddr> {
        self.text(root, inside);
        self.index.lookup(&self.text, name)
    }

    /// The hosts file's text: `inside` the root (`os::root`: it cannot lead out of it),
    /// re-read only when the file opened is another one or changed.
    ///
    /// It is asked at every translation. The common case is one nonblocking read of the
    /// watch (below); when the watch cannot vouch for the last look, a stat or two of
    /// the path instead of opening the root and the file (five system calls, ~4 µs
    /// here): when that finds the very file read last time (device, inode, size,
    /// modification time), the text is the same. A stat only decides whether to read again; what is
    /// read always comes through the root-confined open. The stat must resolve the path
    /// as that open does: under `/` any stat does; under another root, only a path with
    /// no symlink in it below the root (each component's lstat says so), since a
    /// symlink is followed differently there (as under chroot). "No such file" is taken
    /// from the stat only when the root is `/`.
    ///
    /// The stat itself is skipped while the `ChangeWatch` armed before the last look
    /// reports nothing that concerns the file, for `HOSTS_RECHECK` at most: one
    /// nonblocking read of an inotify descriptor instead of a path walk per component
    /// (under a `root_dir`, two `statx` were 18 % of a Translate Name post's time at
    /// concurrency 256, BENCHMARKS.md session 15). A quiet watch may stand for a stat
    /// only because each component was watched as what the stat would find: the
    /// directories with IN_ONLYDIR and IN_DONT_FOLLOW, the file unless a symlink. inotify
    /// queues an event before the writer's system call returns, so a change made before
    /// a post is seen by it.
    pub fn text(&mut self, root: &Root, inside: &Path) -> &str {
        // Compared as spelled: `Path`'s == ignores a trailing slash or a `.`, which the
        // host's stat does not.
        let same =
            |p: &StatPaths| p.root.as_os_str() == root.path().as_os_str() && p.inside.as_os_str() == inside.as_os_str();
        if !self.paths.as_ref().is_some_and(same) {
            self.paths = Some(StatPaths::new(root, inside));
            if let Some(watch) = self.watch.as_mut() {
                watch.trusted = false; // re-armed for the new path below
            }
        }
        let now = Instant::now();
        let recheck = self.recheck.unwrap_or(HOSTS_RECHECK);
        let report = self.watch.as_mut().map(|w| w.report(now, recheck));
        if report == Some(WatchReport::Quiet) {
            return &self.text;
        }
        let changed = report == Some(WatchReport::Changed);
        self.looks += 1;
        let paths = self.paths.as_ref().expect("set above");
        if self.watch.is_none() && self.no_watch_since.is_none_or(|t| now.saturating_duration_since(t) >= HOSTS_RECHECK)
        {
            match ChangeWatch::new(now) {
                Ok(watch) => self.watch = Some(watch),
                Err(e) => {
                    log_at!(
                        Debug,
                        "{}: no inotify instance to follow it ({e}): stat'ed at each look",
                        paths.shown.display()
                    );
                    self.no_watch_since = Some(now);
                }
            }
        }
        // Not armed: the look ends untrusted (set below).
        let armed = if self.skip_arming_until.is_some_and(|t| now < t) {
            None
        } else {
            self.watch.as_mut().map(|w| w.arm(&paths.steps, now))
        };
        let (stat, plain) = if paths.host_root {
            // The file's own lstat tells whether it is a symlink, whose target the
            // watch would not follow; the directories' are checked by IN_ONLYDIR.
            match std::fs::symlink_metadata(&paths.shown) {
                Ok(m) if !m.file_type().is_symlink() => (Ok(m), true),
                _ => (std::fs::metadata(&paths.shown), false),
            }
        } else {
            let stat = lstat_without_symlinks(&paths.steps);
            let plain = stat.is_ok();
            (stat, plain)
        };
        // Neither a plain file nor none: a symlink, or a path that cannot be read.
        let unwatchable = !plain && !stat.as_ref().is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
        let arming_failed = armed.as_ref().is_some_and(|a| a.failed);
        self.skip_arming_until = (unwatchable || arming_failed).then_some(now + recheck);
        // What this look may be trusted for while the watch stays quiet.
        let file_watched = armed.as_ref().is_some_and(|a| a.directories && a.file) && plain;
        let absence_watched = armed.as_ref().is_some_and(|a| a.directories && a.file_missing);
        let mut trusted = false;
        match stat {
            Ok(m) if !changed && self.stamp == Some(stamp_of(&m)) => trusted = file_watched,
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.missing && paths.host_root => {
                trusted = absence_watched;
            }
            _ => {
                let shown = paths.shown.clone();
                let opened = root.open_read(inside).and_then(|f| f.metadata().map(|m| (f, m)));
                self.missing = false;
                match opened {
                    Ok((file, m)) => {
                        let stamp = stamp_of(&m);
                        if changed || self.stamp != Some(stamp) {
                            // The old text and index go first: the two are never held
                            // twice over.
                            self.text = String::new();
                            self.index = HostsIndex::default();
                            self.text = read_hosts(file, &m, &shown);
                            self.index = HostsIndex::build(&self.text);
                            self.stamp = Some(stamp);
                        }
                        // The file opened is the one the stat found, or a change was
                        // reported to the watch, which the next look sees.
                        trusted = file_watched;
                    }
                    Err(e) => {
                        if e.kind() == io::ErrorKind::NotFound {
                            self.missing = true;
                            trusted = absence_watched;
                        } else {
                            log_at!(Debug, "{}: {e}", shown.display());
                        }
                        self.stamp = None;
                        self.text.clear();
                        self.index = HostsIndex::default();
                    }
                }
            }
        }
        if let Some(watch) = self.watch.as_mut() {
            watch.trusted = trusted;
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
        // The index follows the text: the new name is found, the old one no longer.
        assert_eq!(cache.lookup(&slash, &path, "B.example"), vec!["198.51.100.8".parse::<IpAddr>().unwrap()]);
        assert!(cache.lookup(&slash, &path, "a.example").is_empty());
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

    /// Each change, made the way an editor, a package manager or an administrator
    /// makes it, is seen by the very next look; while nothing changes, no look stats.
    #[test]
    fn the_watch_spares_the_stat_until_something_changes() {
        use std::io::Write;
        // Canonical: a symlink on the way (TMPDIR through one) would not be watched.
        let tmp = std::env::temp_dir().canonicalize().unwrap();
        let base = tmp.join(format!("mif-hosts-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root_dir = base.join("root");
        std::fs::create_dir_all(root_dir.join("etc")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        let etc = root_dir.join("etc");
        let hosts = etc.join("hosts");
        // Under a root_dir, and the same file under `/` by its full path.
        let roots = [(Root::new(&root_dir), PathBuf::from("/etc/hosts")), (Root::new(Path::new("/")), hosts.clone())];
        for (root, inside) in &roots {
            std::fs::write(&hosts, "198.51.100.1 a.example\n").unwrap();
            // A quiet watch trusted for a minute: a loaded machine's pause between two
            // looks must not pass for a change.
            let mut cache = HostsCache { recheck: Some(Duration::from_secs(60)), ..HostsCache::default() };
            let look = |cache: &mut HostsCache, want: &str, stats: bool, what: &str| {
                let before = cache.looks;
                let text = cache.text(root, inside).to_string();
                assert!(text.contains(want), "{what}: {text:?} lacks {want:?}");
                assert_eq!(cache.looks > before, stats, "{what}: stat'ed?");
            };
            look(&mut cache, "a.example", true, "first look");
            for _ in 0..3 {
                look(&mut cache, "a.example", false, "unchanged");
            }
            // Written in place, same length, through another name of the file.
            let other = base.join("elsewhere/hosts-link");
            let _ = std::fs::remove_file(&other);
            std::fs::hard_link(&hosts, &other).unwrap();
            look(&mut cache, "a.example", true, "a link made in another directory changes the file's attributes");
            look(&mut cache, "a.example", false, "unchanged");
            std::fs::write(&other, "198.51.100.2 b.example\n").unwrap();
            look(&mut cache, "b.example", true, "written through a hard link elsewhere");
            std::fs::remove_file(&other).unwrap();
            look(&mut cache, "b.example", true, "the other link removed");
            // Rewritten in place at the same length, its modification time then set
            // back: the stamp is the old one, only the watch's event tells.
            let mtime = std::fs::metadata(&hosts).unwrap().modified().unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&hosts)
                .unwrap()
                .write_all(b"198.51.100.2 s.example\n")
                .unwrap();
            std::fs::File::options().write(true).open(&hosts).unwrap().set_modified(mtime).unwrap();
            look(&mut cache, "s.example", true, "the same stamp, another text");
            look(&mut cache, "s.example", false, "unchanged");
            // Attributes only: looked at, text unchanged.
            std::fs::set_permissions(&hosts, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            look(&mut cache, "s.example", true, "chmod");
            look(&mut cache, "s.example", false, "unchanged");
            // Replaced by rename, as editors and package managers do.
            std::fs::write(etc.join("hosts.new"), "198.51.100.3 c.example\n").unwrap();
            std::fs::rename(etc.join("hosts.new"), &hosts).unwrap();
            look(&mut cache, "c.example", true, "renamed over");
            look(&mut cache, "c.example", false, "unchanged");
            // Another file in the directory: its events are read and dropped.
            std::fs::write(etc.join("resolv.conf"), "nameserver 198.51.100.53\n").unwrap();
            std::fs::rename(etc.join("resolv.conf"), etc.join("resolv.conf.old")).unwrap();
            look(&mut cache, "c.example", false, "a neighbour written and renamed");
            // The file's directory's own attributes (its permissions) are the file's
            // concern.
            std::fs::set_permissions(&etc, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            look(&mut cache, "c.example", true, "the directory's chmod");
            look(&mut cache, "c.example", false, "unchanged");
            // The whole directory swapped.
            std::fs::create_dir_all(base.join("etc2")).unwrap();
            std::fs::write(base.join("etc2/hosts"), "198.51.100.4 d.example\n").unwrap();
            std::fs::rename(&etc, base.join("etc-old")).unwrap();
            std::fs::rename(base.join("etc2"), &etc).unwrap();
            look(&mut cache, "d.example", true, "the directory renamed away and another put in its place");
            look(&mut cache, "d.example", false, "unchanged");
            std::fs::remove_dir_all(base.join("etc-old")).unwrap();
            // A symlink (under `/`, followed; under a root_dir, to a file inside it):
            // its target can change without an event here, so every look stats.
            std::fs::write(etc.join("real"), "198.51.100.5 e.example\n").unwrap();
            std::fs::remove_file(&hosts).unwrap();
            let target = if root.is_host_root() { etc.join("real") } else { PathBuf::from("/etc/real") };
            std::os::unix::fs::symlink(&target, &hosts).unwrap();
            look(&mut cache, "e.example", true, "a symlink");
            look(&mut cache, "e.example", true, "a symlink, unchanged");
            // Another length: with no watch, only the stamp tells.
            std::fs::write(etc.join("real"), "198.51.100.6 ff.example\n").unwrap();
            look(&mut cache, "ff.example", true, "its target rewritten");
            std::fs::remove_file(&hosts).unwrap();
            std::fs::remove_file(etc.join("real")).unwrap();
            // A plain file again: the first look after a symlink does not arm the
            // watch, the next does.
            std::fs::write(&hosts, "198.51.100.7 g.example\n").unwrap();
            look(&mut cache, "g.example", true, "created again");
            look(&mut cache, "g.example", true, "armed again");
            look(&mut cache, "g.example", false, "unchanged");
            // After the time the watch is trusted, a look stats even if nothing was
            // reported (a mount over the file reports nothing).
            cache.recheck = Some(Duration::ZERO);
            look(&mut cache, "g.example", true, "the watch expired");
            cache.recheck = Some(Duration::from_secs(60));
            look(&mut cache, "g.example", false, "armed afresh");
            // No file: while its directory's watch is quiet, that stands too.
            std::fs::remove_file(&hosts).unwrap();
            assert_eq!(cache.text(root, inside), "", "removed");
            let before = cache.looks;
            assert_eq!(cache.text(root, inside), "", "still none");
            assert_eq!(cache.looks, before, "no file, unchanged: not stat'ed");
            std::fs::write(&hosts, "198.51.100.9 h.example\n").unwrap();
            look(&mut cache, "h.example", true, "created in the watched directory");
            look(&mut cache, "h.example", false, "unchanged");
            std::fs::remove_file(&hosts).unwrap();
        }
        std::fs::remove_dir_all(&base).unwrap();
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
