//! Configuration files as sources of configuration elements: the state files that
//! link managers keep per interface, the operator's static file, and /etc/resolv.conf.
//! Every path lives under the context's root directory. Files are watched with
//! inotify; directories that do not exist yet are waited for through their nearest
//! existing ancestor. Parsers are pure functions, tested without files.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::log::log_at;
use crate::model::{ConfigData, ElementKind, Fact, LinkRef, SourcedElement};

/// Larger files are not configuration: ignored with a log line.
const MAX_FILE_SIZE: u64 = 64 * 1024;
/// Caps on what one file may contribute.
const MAX_SERVERS: usize = 32;
const MAX_DOMAINS: usize = 64;

/// Which format a directory's files have and what they mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DirKind {
    /// systemd-networkd `/run/systemd/netif/links/<ifindex>`.
    NetworkdLink,
    /// systemd-networkd `/run/systemd/netif/leases/<ifindex>` (DHCPv4 leases).
    NetworkdLease,
    /// systemd-resolved per-link state `/run/systemd/resolve/netif/<ifindex>`.
    ResolvedLink,
    /// resolv.conf fragments named `<ifname>.<protocol>` (openresolv, Debian
    /// resolvconf, dhcpcd's hook state).
    ResolvconfFragments,
}

/// Directories under the root, with what their files mean (docs/configuration.md).
const STATE_DIRS: &[(&str, DirKind)] = &[
    ("run/systemd/netif/links", DirKind::NetworkdLink),
    ("run/systemd/netif/leases", DirKind::NetworkdLease),
    ("run/systemd/resolve/netif", DirKind::ResolvedLink),
    ("run/resolvconf/interfaces", DirKind::ResolvconfFragments),
    ("run/resolvconf/interface", DirKind::ResolvconfFragments),
    ("run/dhcpcd/hook-state/resolv.conf", DirKind::ResolvconfFragments),
];

/// A single file we follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    StaticConfig,
    ResolvConf,
}

/// Where the files are, resolved against the root directory.
#[derive(Clone, Debug)]
pub struct SourcePaths {
    dirs: Vec<(PathBuf, DirKind)>,
    files: Vec<(PathBuf, FileKind)>,
}

impl SourcePaths {
    /// `config_file`: from the options; else MIF_CONFIG; else `/etc/mif.conf`. Every
    /// path, absolute or relative, is taken under the root directory.
    pub fn new(root: &Path, config_file: Option<&Path>) -> SourcePaths {
        let config = config_file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("MIF_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("/etc/mif.conf"));
        let under_root = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
        SourcePaths {
            dirs: STATE_DIRS.iter().map(|(d, k)| (root.join(d), *k)).collect(),
            files: vec![(under_root(&config), FileKind::StaticConfig), (root.join("etc/resolv.conf"), FileKind::ResolvConf)],
        }
    }
}

// ---------------------------------------------------------------- parsers

/// A DNS server as written in state files: `198.51.100.1`, `fd6d::1%eth0`,
/// `[fd6d::1]:53`, `198.51.100.1:53`, `198.51.100.1#dns.example`.
fn parse_server(word: &str) -> Option<IpAddr> {
    let word = word.split('#').next()?;
    let word = word.split('%').next()?;
    if let Some(rest) = word.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = word.parse() {
        return Some(ip);
    }
    // IPv4 with a port.
    let (host, port) = word.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// A search domain, lowercased, without a trailing dot; `None` for anything that is
/// not a plausible domain name (RFC 1035 lengths, printable, no spaces).
fn parse_domain(word: &str) -> Option<String> {
    let d = word.trim_end_matches('.');
    if d.is_empty() || d.len() > 253 || d == "~" {
        return None;
    }
    if d.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    if !d.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || !c.is_ascii()) {
        return None;
    }
    Some(d.to_ascii_lowercase())
}

fn push_server(data: &mut ConfigData, word: &str) {
    match parse_server(word) {
        Some(ip) if data.dns_servers.len() < MAX_SERVERS && !data.dns_servers.contains(&ip) => data.dns_servers.push(ip),
        Some(_) => {}
        None => log_at!(Debug, "ignored DNS server {word:?}"),
    }
}

fn push_domain(data: &mut ConfigData, word: &str) {
    match parse_domain(word) {
        Some(d) if data.search_domains.len() < MAX_DOMAINS && !data.search_domains.contains(&d) => data.search_domains.push(d),
        Some(_) => {}
        None => log_at!(Debug, "ignored search domain {word:?}"),
    }
}

/// resolv.conf(5): `nameserver`, `search`, `domain`; everything else is ignored.
pub fn parse_resolv_conf(text: &str) -> ConfigData {
    let mut data = ConfigData::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(w) = words.next() {
                    push_server(&mut data, w);
                }
            }
            // The last search/domain line wins, as in the resolver.
            Some("search") | Some("domain") => {
                data.search_domains.clear();
                for w in words {
                    push_domain(&mut data, w);
                }
            }
            _ => {}
        }
    }
    data
}

/// `KEY=VALUE` lines, as systemd writes its state files.
fn env_lines(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// systemd-networkd's per-link state: `DNS=`, `DOMAINS=`.
pub fn parse_networkd_link(text: &str) -> ConfigData {
    let vars = env_lines(text);
    let mut data = ConfigData::default();
    for w in vars.get("DNS").copied().unwrap_or("").split_whitespace() {
        push_server(&mut data, w);
    }
    for w in vars.get("DOMAINS").copied().unwrap_or("").split_whitespace() {
        push_domain(&mut data, w);
    }
    data
}

/// systemd-networkd's DHCPv4 lease: `DNS=`, `DOMAINNAME=`, `DOMAIN_SEARCH_LIST=`,
/// `ROUTER=`, `MTU=`, `SERVER_ADDRESS=`.
pub fn parse_networkd_lease(text: &str) -> (ConfigData, Option<IpAddr>) {
    let vars = env_lines(text);
    let mut data = ConfigData::default();
    for w in vars.get("DNS").copied().unwrap_or("").split_whitespace() {
        push_server(&mut data, w);
    }
    for key in ["DOMAIN_SEARCH_LIST", "DOMAINNAME"] {
        for w in vars.get(key).copied().unwrap_or("").split_whitespace() {
            push_domain(&mut data, w);
        }
    }
    for w in vars.get("ROUTER").copied().unwrap_or("").split_whitespace() {
        if let Ok(ip) = w.parse::<IpAddr>() {
            if !data.routers.contains(&ip) {
                data.routers.push(ip);
            }
        }
    }
    data.mtu = vars.get("MTU").and_then(|m| m.parse().ok()).filter(|m| *m >= 68);
    let server = vars.get("SERVER_ADDRESS").and_then(|s| s.parse().ok());
    (data, server)
}

/// systemd-resolved's per-link state: `SERVERS=`, `DOMAINS=` (routing-only `~domains`
/// are not search domains and are skipped).
pub fn parse_resolved_link(text: &str) -> ConfigData {
    let vars = env_lines(text);
    let mut data = ConfigData::default();
    for w in vars.get("SERVERS").copied().unwrap_or("").split_whitespace() {
        push_server(&mut data, w);
    }
    for w in vars.get("DOMAINS").copied().unwrap_or("").split_whitespace() {
        if !w.starts_with('~') {
            push_domain(&mut data, w);
        }
    }
    data
}

/// The element type a resolv.conf fragment's protocol suffix means.
pub fn fragment_kind(protocol: &str) -> ElementKind {
    match protocol {
        "dhcp" | "dhcp4" | "dhclient" | "udhcpc" => ElementKind::Dhcpv4,
        "dhcp6" | "dhclient6" => ElementKind::Dhcpv6,
        "ra" | "slaac" => ElementKind::Ra,
        _ => ElementKind::Static,
    }
}

/// The operator's static file (docs/configuration.md):
/// ```text
/// [eth0]
/// dns = 198.51.100.53 fd6d:6966:a::53
/// search = a.example
/// routers = 198.51.100.1
/// mtu = 1400
/// ```
pub fn parse_static_config(text: &str) -> Vec<SourcedElement> {
    let mut out: Vec<SourcedElement> = Vec::new();
    // Whether keys belong to the last pushed section (false after a bad header).
    let mut in_section = false;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            if name.is_empty() || name.len() > 15 || name.contains(['/', ' ']) {
                log_at!(Warn, "static config line {}: bad interface name {name:?}", number + 1);
                in_section = false;
                continue;
            }
            in_section = true;
            out.push(SourcedElement {
                link: LinkRef::Name(name.to_string()),
                kind: ElementKind::Static,
                server: None,
                data: ConfigData::default(),
                lifetime: None,
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            log_at!(Warn, "static config line {}: expected key = value", number + 1);
            continue;
        };
        let Some(current) = out.last_mut().filter(|_| in_section) else {
            log_at!(Warn, "static config line {}: outside an [interface] section", number + 1);
            continue;
        };
        let data = &mut current.data;
        match key.trim() {
            "dns" => value.split_whitespace().for_each(|w| push_server(data, w)),
            "search" => value.split_whitespace().for_each(|w| push_domain(data, w)),
            "routers" => {
                for w in value.split_whitespace() {
                    match w.parse::<IpAddr>() {
                        Ok(ip) if !data.routers.contains(&ip) => data.routers.push(ip),
                        Ok(_) => {}
                        Err(_) => log_at!(Warn, "static config line {}: bad router {w:?}", number + 1),
                    }
                }
            }
            "mtu" => data.mtu = value.trim().parse().ok().filter(|m| (68..=65535).contains(m)),
            other => log_at!(Warn, "static config line {}: unknown key {other:?}", number + 1),
        }
    }
    out.retain(|e| !e.data.is_empty());
    out
}

/// What a file in a state directory says, as elements.
fn dir_file_elements(kind: DirKind, name: &str, text: &str) -> Vec<SourcedElement> {
    let by_index = || name.parse::<u32>().ok().map(LinkRef::Index);
    let element = |link, kind, server, data: ConfigData| {
        if data.is_empty() {
            vec![]
        } else {
            vec![SourcedElement { link, kind, server, data, lifetime: None }]
        }
    };
    match kind {
        DirKind::NetworkdLink => match by_index() {
            Some(link) => element(link, ElementKind::Static, None, parse_networkd_link(text)),
            None => vec![],
        },
        DirKind::NetworkdLease => match by_index() {
            Some(link) => {
                let (data, server) = parse_networkd_lease(text);
                element(link, ElementKind::Dhcpv4, server, data)
            }
            None => vec![],
        },
        DirKind::ResolvedLink => match by_index() {
            Some(link) => element(link, ElementKind::Static, None, parse_resolved_link(text)),
            None => vec![],
        },
        DirKind::ResolvconfFragments => match name.rsplit_once('.') {
            Some((ifname, protocol)) if !ifname.is_empty() => {
                element(LinkRef::Name(ifname.to_string()), fragment_kind(protocol), None, parse_resolv_conf(text))
            }
            _ => vec![],
        },
    }
}

// ---------------------------------------------------------------- files and inotify

fn read_small(path: &Path) -> io::Result<Option<String>> {
    // O_NONBLOCK: opening a FIFO someone left there must not block the engine.
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
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
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Names that editors and atomic writers use for temporary files.
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".tmp") || name.ends_with(".new")
}

/// The file sources of one context.
pub struct FileSources {
    paths: SourcePaths,
    inotify: Inotify,
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
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).map_err(io::Error::from)?;
        Ok(FileSources { paths, inotify, watched: HashMap::new(), watched_paths: BTreeSet::new(), reported: BTreeSet::new() })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }

    /// Arms the watches and reads every file: the facts for the initial state.
    pub fn scan_all(&mut self) -> Vec<Fact> {
        self.arm();
        let mut facts = Vec::new();
        let dirs = self.paths.dirs.clone();
        let mut present = BTreeSet::new();
        for (dir, kind) in &dirs {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
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
        facts
    }

    /// Watches every target directory that exists, and for the others their nearest
    /// existing ancestor, so that their creation is noticed. A directory created just
    /// before a new watch on its parent took effect sends no event, so after adding a
    /// watch we look again, until a pass adds none.
    fn arm(&mut self) {
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
                    if !self.watched_paths.contains(dir) {
                        match self.inotify.add_watch(dir, WATCH_MASK) {
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
        let elements = match read_small(path) {
            Ok(Some(text)) => dir_file_elements(kind, name, &text),
            Ok(None) => vec![],
            Err(e) => {
                log_at!(Warn, "{}: {e}", path.display());
                vec![]
            }
        };
        self.report(path, elements)
    }

    fn read_single(&mut self, path: &Path, kind: FileKind) -> Option<Fact> {
        let text = match read_small(path) {
            Ok(t) => t,
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

    /// Reads pending inotify events and returns the facts they lead to.
    pub fn drain(&mut self) -> Vec<Fact> {
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        let mut rescan = false;
        loop {
            match self.inotify.read_events() {
                Ok(events) => {
                    for ev in events {
                        if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                            rescan = true;
                            continue;
                        }
                        if ev.mask.intersects(AddWatchFlags::IN_IGNORED | AddWatchFlags::IN_DELETE_SELF | AddWatchFlags::IN_MOVE_SELF) {
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
