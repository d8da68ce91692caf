//! The hosts file, read through a cache that re-reads it only when its inode, size or
//! modification time change. Parsing is `core::dns::hosts_lookup`. It is read like every
//! other file the library reads: only a regular file (a FIFO or a device, such as a
//! symlink to /dev/zero, counts as no file), opened without blocking, at most
//! `MAX_HOSTS_FILE` bytes (a larger file counts as no file), each with a log line.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::log::log_at;

/// The largest hosts file read (large ad-blocking lists fit; a runaway file does not).
pub const MAX_HOSTS_FILE: u64 = 16 << 20;

/// The text of one hosts file.
#[derive(Default)]
pub struct HostsCache {
    stamp: Option<(u64, u64, i64, i64)>,
    text: String,
}

impl HostsCache {
    pub fn text(&mut self, path: &Path) -> &str {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(m) => {
                let stamp = (m.ino(), m.size(), m.mtime(), m.mtime_nsec());
                if self.stamp != Some(stamp) {
                    self.text = read_hosts(path, &m);
                    self.stamp = Some(stamp);
                }
            }
            Err(_) => {
                self.stamp = None;
                self.text.clear();
            }
        }
        &self.text
    }
}

/// The text of a hosts file, or "" for anything that is not a readable regular file
/// of at most `MAX_HOSTS_FILE` bytes.
fn read_hosts(path: &Path, meta: &std::fs::Metadata) -> String {
    if !meta.is_file() {
        log_at!(Warn, "{}: not a regular file, ignored", path.display());
        return String::new();
    }
    if meta.len() > MAX_HOSTS_FILE {
        log_at!(Warn, "{}: larger than {MAX_HOSTS_FILE} bytes, ignored", path.display());
        return String::new();
    }
    // O_NONBLOCK: should a FIFO have replaced the file since the check, opening it must
    // not wait for a writer.
    let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path);
    let mut bytes = Vec::new();
    match opened.and_then(|f| f.take(MAX_HOSTS_FILE + 1).read_to_end(&mut bytes)) {
        Ok(n) if n as u64 <= MAX_HOSTS_FILE => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(_) => {
            log_at!(Warn, "{}: grew past {MAX_HOSTS_FILE} bytes, ignored", path.display());
            String::new()
        }
        Err(e) => {
            log_at!(Warn, "{}: {e}", path.display());
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
        let mut cache = HostsCache::default();
        assert_eq!(cache.text(&path), "", "no file");
        std::fs::write(&path, "198.51.100.7 a.example\n").unwrap();
        assert!(cache.text(&path).contains("a.example"));
        // Same length, new content: the inode or modification time changes.
        std::fs::write(dir.join("hosts.new"), "198.51.100.8 b.example\n").unwrap();
        std::fs::rename(dir.join("hosts.new"), &path).unwrap();
        assert!(cache.text(&path).contains("b.example"));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(cache.text(&path), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fifos_and_devices_are_no_hosts_file() {
        let dir = std::env::temp_dir().join(format!("mif-hosts-odd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let mut cache = HostsCache::default();
        assert_eq!(cache.text(&fifo), "", "a FIFO: no text, and no wait for a writer");
        let zero = dir.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(cache.text(&zero), "", "a device: not read at all");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
