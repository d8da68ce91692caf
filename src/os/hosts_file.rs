//! The hosts file, read through a cache that re-reads it only when its inode, size or
//! modification time change. Parsing is `core::dns::hosts_lookup`.

use std::path::Path;

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
                    self.text =
                        std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
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
}
