//! Configuration files as sources of configuration elements: the state files that
//! link managers keep per interface, the operator's static file, and /etc/resolv.conf.
//! Every path lives under the context's root directory and is opened through
//! `os::root`, so that no `..` and no symlink leads out of it. Files are watched with
//! inotify; directories that do not exist yet are waited for through their nearest
//! existing ancestor. The formats are parsed by `core::config_files`.
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::core::config_files::{
    dir_file_elements, parse_resolv_conf, parse_static_config, parse_static_hooks, DirKind, Hooks, RelatedFile,
    STATE_DIRS,
};
use crate::core::model::{Fact, SourcedElement};
use crate::log::log_at;
use crate::os::root::Root;

/// Larger files are not configuration: ignored with a log line.
const MAX_FILE_SIZE: u64 = 64 * 1024;

/// A single file we follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    StaticConfig,
    ResolvConf,
}

/// Where the files are, resolved against the root directory.
#[derive(Clone, Debug)]
pub struct SourcePaths {
    root: Root,
    dirs: Vec<(PathBuf, DirKind)>,
    files: Vec<(PathBuf, FileKind)>,
}

impl SourcePaths {
    /// `config_file`: from the options; else MIF_CONFIG (ignored in a set-user-ID or
    /// set-group-ID program: `sys::secure_execution`); else `/etc/mif.conf`. Every
    /// path, absolute or relative, is taken under the root directory.
    pub fn new(root: &Path, config_file: Option<&Path>) -> SourcePaths {
        let config = config_file
            .map(Path::to_path_buf)
            .or_else(|| {
                (!super::sys::secure_execution()).then(|| std::env::var_os("MIF_CONFIG")).flatten().map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("/etc/mif.conf"));
        let under_root = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
        SourcePaths {
            root: Root::new(root),
            dirs: STATE_DIRS.iter().map(|(d, k)| (root.join(d), *k)).collect(),
            files: vec![
                (under_root(&config), FileKind::StaticConfig),
                (root.join("etc/resolv.conf"), FileKind::ResolvConf),
            ],
        }
    }
}

// ---------------------------------------------------------------- files and inotify

/// A configuration file's text and how long ago it was written.
struct Small {
    bytes: Vec<u8>,
    age: std::time::Duration,
}

impl Small {
    /// As text: lossy UTF-8 (every format but dhcpcd's leases is text).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Reads a file shown as `path` (the root joined with the path inside it).
fn read_small(root: &Root, path: &Path) -> io::Result<Option<Small>> {
    // Opened without blocking: a FIFO someone left there must not block the engine.
    let file = match root.open_read(root.inside(path)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        log_at!(Warn, "{}: not a regular file, ignored", path.display());
        return Ok(None);
    }
    let mut buf = Vec::new();
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_FILE_SIZE {
        log_at!(Warn, "{}: larger than {MAX_FILE_SIZE} bytes, ignored", path.display());
        return Ok(None);
    }
    // A modification time in the future (a clock step) counts as "just written".
    let age =
        meta.modified().ok().and_then(|m| std::time::SystemTime::now().duration_since(m).ok()).unwrap_or_default();
    Ok(Some(Small { bytes: buf, age }))
}

/// Names that editors and atomic writers use for temporary files.
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".tmp") || name.ends_with(".new")
}

/// How often files are looked at when no inotify instance could be had.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// What tells a file changed: device, inode, size, modification time.
type Stamp = (u64, u64, u64, i64, i64);

/// The file sources of one context.
pub struct FileSources {
    paths: SourcePaths,
    /// `None` when the user's inotify instances are exhausted
    /// (fs.inotify.max_user_instances, 128 by default, shared by every program of the
    /// user): the files are then polled every `POLL_INTERVAL` (`poll_changes`).
    inotify: Option<Inotify>,
    /// While polling: each file's stamp at the last look.
    stamps: HashMap<PathBuf, Stamp>,
    /// Watched directories by descriptor (targets and the ancestors we wait on).
    watched: HashMap<WatchDescriptor, PathBuf>,
    watched_paths: BTreeSet<PathBuf>,
    /// Origins that currently contribute something, so that their withdrawal is announced.
    reported: BTreeSet<String>,
}

const WATCH_MASK: AddWatchFlags = AddWatchFlags::IN_CLOSE_WRITE
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_MOVE_SELF)
    .union(AddWatchFlags::IN_ATTRIB)
    .union(AddWatchFlags::IN_ONLYDIR);

impl FileSources {
    pub fn open(paths: SourcePaths) -> io::Result<FileSources> {
        let inotify = match Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK) {
            Ok(inotify) => Some(inotify),
            Err(e @ (Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM)) => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    log_at!(
                        Warn,
                        "no inotify instance ({e}: fs.inotify.max_user_instances): configuration files are looked \
                         at every {} s instead of followed",
                        POLL_INTERVAL.as_secs()
                    )
                });
                None
            }
            Err(e) => return Err(e.into()),
        };
        Ok(FileSources {
            paths,
            inotify,
            stamps: HashMap::new(),
            watched: HashMap::new(),
            watched_paths: BTreeSet::new(),
            reported: BTreeSet::new(),
        })
    }

    /// Sources that poll, as when no inotify instance can be had.
    #[cfg(test)]
    fn open_polling(paths: SourcePaths) -> FileSources {
        let mut sources = FileSources::open(paths).unwrap();
        sources.inotify = None;
        sources
    }

    /// The inotify descriptor to wait on; `None`: poll (`poll_changes`).
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.inotify.as_ref().map(|i| i.as_fd().as_raw_fd())
    }

    /// Arms the watches and reads every file: the facts for the initial state.
    pub fn scan_all(&mut self) -> Vec<Fact> {
        self.arm();
        // Polling: the stamps are taken before the files are read, so that a change made
        // while they are read shows as a change at the next look.
        let stamps = self.inotify.is_none().then(|| self.stamps_now());
        let mut facts = Vec::new();
        let dirs = self.paths.dirs.clone();
        let mut present = BTreeSet::new();
        for (dir, kind) in &dirs {
            if let Ok(names) = self.paths.root.read_dir(self.paths.root.inside(dir)) {
                for name in names {
                    let path = dir.join(name);
                    present.insert(path.to_string_lossy().into_owned());
                    facts.extend(self.read_dir_file(&path, *kind));
                }
            }
        }
        let files = self.paths.files.clone();
        for (file, kind) in &files {
            present.insert(file.to_string_lossy().into_owned());
            facts.extend(self.read_single(file, *kind));
        }
        // Whatever we reported before and is gone now is withdrawn.
        let gone: Vec<String> = self.reported.iter().filter(|o| !present.contains(*o)).cloned().collect();
        for origin in gone {
            self.reported.remove(&origin);
            facts.push(Fact::Sourced { origin, elements: vec![] });
        }
        if let Some(stamps) = stamps {
            self.stamps = stamps;
        }
        facts
    }

    /// Without inotify: the facts for the files whose stamp changed since the last
    /// look, that appeared or that went.
    pub fn poll_changes(&mut self) -> Vec<Fact> {
        // Stamps first, reads after (as in `scan_all`).
        let now = self.stamps_now();
        let mut changed: BTreeSet<PathBuf> =
            now.iter().filter(|(path, stamp)| self.stamps.get(*path) != Some(*stamp)).map(|(p, _)| p.clone()).collect();
        changed.extend(self.stamps.keys().filter(|path| !now.contains_key(*path)).cloned());
        self.stamps = now;
        changed.iter().filter_map(|path| self.fact_for(path)).collect()
    }

    /// The stamp of every file of the sources that exists now.
    fn stamps_now(&self) -> HashMap<PathBuf, Stamp> {
        use std::os::unix::fs::MetadataExt;
        let root = &self.paths.root;
        let stamp = |path: &Path| {
            let m = root.open_read(root.inside(path)).and_then(|f| f.metadata()).ok()?;
            Some((m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
        };
        let mut stamps = HashMap::new();
        for (dir, _) in &self.paths.dirs {
            for name in root.read_dir(root.inside(dir)).unwrap_or_default() {
                let path = dir.join(name);
                if let Some(s) = stamp(&path) {
                    stamps.insert(path, s);
                }
            }
        }
        for (file, _) in &self.paths.files {
            if let Some(s) = stamp(file) {
                stamps.insert(file.clone(), s);
            }
        }
        stamps
    }

    /// Watches every target directory that exists, and for the others their nearest
    /// existing ancestor, so that their creation is noticed. A directory created just
    /// before a new watch on its parent took effect sends no event, so after adding a
    /// watch we look again, until a pass adds none.
    fn arm(&mut self) {
        if self.inotify.is_none() {
            return;
        }
        for _ in 0..64 {
            if !self.arm_once() {
                return;
            }
        }
    }

    /// One pass of `arm`; says whether it added a watch.
    fn arm_once(&mut self) -> bool {
        let mut added = false;
        let mut wanted: Vec<PathBuf> = self.paths.dirs.iter().map(|(d, _)| d.clone()).collect();
        wanted.extend(self.paths.files.iter().filter_map(|(f, _)| f.parent().map(Path::to_path_buf)));
        for target in wanted {
            let mut dir = target.as_path();
            loop {
                if dir.is_dir() {
                    if let Some(inotify) = self.inotify.as_ref().filter(|_| !self.watched_paths.contains(dir)) {
                        match inotify.add_watch(dir, WATCH_MASK) {
                            Ok(wd) => {
                                self.watched.insert(wd, dir.to_path_buf());
                                self.watched_paths.insert(dir.to_path_buf());
                                added = true;
                            }
                            Err(e) => log_at!(Debug, "cannot watch {}: {e}", dir.display()),
                        }
                    }
                    break;
                }
                match dir.parent() {
                    Some(p) => dir = p,
                    None => break,
                }
            }
        }
        added
    }

    fn read_dir_file(&mut self, path: &Path, kind: DirKind) -> Option<Fact> {
        let name = path.file_name().and_then(OsStr::to_str)?;
        if is_temporary(name) {
            return None;
        }
        let root = &self.paths.root;
        let elements = match read_small(root, path) {
            Ok(Some(file)) => {
                // Files a state file names (networkd's .network file and lease, dhcpcd's
                // lease) are read under the root too, with the same limits.
                let related = |named: &str| {
                    read_small(root, &root.display_path(Path::new(named)))
                        .ok()
                        .flatten()
                        .map(|f| RelatedFile { bytes: f.bytes, age: f.age })
                };
                dir_file_elements(kind, name, &file.text(), file.age, &related)
            }
            Ok(None) => vec![],
            Err(e) => {
                log_at!(Warn, "{}: {e}", path.display());
                vec![]
            }
        };
        self.report(path, elements)
    }

    fn read_single(&mut self, path: &Path, kind: FileKind) -> Option<Fact> {
        let text = match read_small(&self.paths.root, path) {
            Ok(t) => t.map(|file| file.text()),
            Err(e) => {
                log_at!(Warn, "{}: {e}", path.display());
                None
            }
        };
        let origin = path.to_string_lossy().into_owned();
        match kind {
            FileKind::StaticConfig => self.report(path, text.map(|t| parse_static_config(&t)).unwrap_or_default()),
            FileKind::ResolvConf => {
                let data = text.map(|t| parse_resolv_conf(&t)).filter(|d| !d.is_empty());
                let known = self.reported.contains(&origin);
                if data.is_none() && !known {
                    return None;
                }
                if data.is_some() {
                    self.reported.insert(origin.clone());
                } else {
                    self.reported.remove(&origin);
                }
                Some(Fact::System { origin, data })
            }
        }
    }

    /// The operator's hooks, read from the static file now (docs/connectivity.md).
    pub fn hooks(&self) -> Hooks {
        let path = self.paths.files.iter().find(|(_, k)| *k == FileKind::StaticConfig).map(|(p, _)| p.clone());
        let text = path.and_then(|p| match read_small(&self.paths.root, &p) {
            Ok(file) => file.map(|f| f.text()),
            Err(e) => {
                log_at!(Warn, "{}: {e}", p.display());
                None
            }
        });
        parse_static_hooks(text.as_deref().unwrap_or(""))
    }

    /// A fact for a file's elements, or nothing when an unknown file says nothing.
    fn report(&mut self, path: &Path, elements: Vec<SourcedElement>) -> Option<Fact> {
        let origin = path.to_string_lossy().into_owned();
        if elements.is_empty() && !self.reported.remove(&origin) {
            return None;
        }
        if !elements.is_empty() {
            self.reported.insert(origin.clone());
        }
        Some(Fact::Sourced { origin, elements })
    }

    /// Reads pending inotify events and returns the facts they lead to (polling: the
    /// files that changed since the last look).
    pub fn drain(&mut self) -> Vec<Fact> {
        let Some(inotify) = self.inotify.as_ref() else {
            return self.poll_changes();
        };
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        let mut rescan = false;
        loop {
            match inotify.read_events() {
                Ok(events) => {
                    for ev in events {
                        if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                            rescan = true;
                            continue;
                        }
                        if ev.mask.intersects(
                            AddWatchFlags::IN_IGNORED | AddWatchFlags::IN_DELETE_SELF | AddWatchFlags::IN_MOVE_SELF,
                        ) {
                            if let Some(dir) = self.watched.remove(&ev.wd) {
                                self.watched_paths.remove(&dir);
                            }
                            rescan = true;
                            continue;
                        }
                        let Some(dir) = self.watched.get(&ev.wd) else { continue };
                        let Some(name) = ev.name.as_ref() else { continue };
                        let path = dir.join(name);
                        if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                            // A directory we wait for (or one on the way to it) appeared or went.
                            rescan = true;
                        } else {
                            changed.insert(path);
                        }
                    }
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    log_at!(Warn, "inotify: {e}");
                    break;
                }
            }
        }
        if rescan {
            return self.scan_all();
        }
        let mut facts = Vec::new();
        for path in changed {
            if let Some(fact) = self.fact_for(&path) {
                facts.push(fact);
            }
        }
        facts
    }

    fn fact_for(&mut self, path: &Path) -> Option<Fact> {
        let dir = path.parent()?;
        if let Some((_, kind)) = self.paths.dirs.iter().find(|(d, _)| d == dir) {
            let kind = *kind;
            return self.read_dir_file(path, kind);
        }
        if let Some((_, kind)) = self.paths.files.iter().find(|(f, _)| f == path) {
            let kind = *kind;
            return self.read_single(path, kind);
        }
        None
    }
}

#[cfg(test)]
mod tests;
