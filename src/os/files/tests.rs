//! The watcher on a temporary tree.
use super::*;
use std::net::IpAddr;
use std::time::Duration;

use crate::core::model::ElementKind;

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn temp_root(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mif-sources-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits for inotify to report and returns the facts (bounded, never hangs).
fn wait_facts(sources: &mut FileSources) -> Vec<Fact> {
    for _ in 0..200 {
        let facts = sources.drain();
        if !facts.is_empty() {
            return facts;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    vec![]
}

#[test]
fn watcher_follows_files_and_directories_that_appear_later() {
    let root = temp_root("watch");
    let mut sources = FileSources::open(SourcePaths::new(&root, None)).unwrap();
    assert!(sources.scan_all().is_empty(), "an empty tree says nothing");

    // A directory that did not exist: noticed through its ancestor.
    let dir = root.join("run/resolvconf/interface");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mif0.dhcp"), "nameserver 198.51.100.1\nsearch a.example\n").unwrap();
    let mut facts = wait_facts(&mut sources);
    // Directory creation and file creation may be seen in one or two steps.
    if facts.is_empty() || !matches!(&facts[0], Fact::Sourced { elements, .. } if !elements.is_empty()) {
        facts.extend(wait_facts(&mut sources));
    }
    let origin = dir.join("mif0.dhcp").to_string_lossy().into_owned();
    assert!(
        facts.iter().any(|f| matches!(f, Fact::Sourced { origin: o, elements } if *o == origin && elements.len() == 1 && elements[0].kind == ElementKind::Dhcpv4)),
        "{facts:?}"
    );

    // Atomic replace (write to a temporary name, rename).
    std::fs::write(dir.join(".mif0.dhcp.tmp"), "nameserver 198.51.100.2\n").unwrap();
    std::fs::rename(dir.join(".mif0.dhcp.tmp"), dir.join("mif0.dhcp")).unwrap();
    let facts = wait_facts(&mut sources);
    assert!(
        facts.iter().any(|f| matches!(f, Fact::Sourced { elements, .. } if elements.len() == 1 && elements[0].data.dns_servers == ips(&["198.51.100.2"]))),
        "{facts:?}"
    );

    // Deleted: withdrawn.
    std::fs::remove_file(dir.join("mif0.dhcp")).unwrap();
    let facts = wait_facts(&mut sources);
    assert_eq!(facts, vec![Fact::Sourced { origin: origin.clone(), elements: vec![] }]);

    // resolv.conf under the root becomes the System fact.
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let mut facts = wait_facts(&mut sources);
    std::fs::write(root.join("etc/resolv.conf"), "nameserver 203.0.113.1\n").unwrap();
    facts.extend(wait_facts(&mut sources));
    assert!(
        facts.iter().any(|f| matches!(f, Fact::System { data: Some(d), .. } if d.dns_servers == ips(&["203.0.113.1"]))),
        "{facts:?}"
    );

    // A huge file is ignored (withdrawn), not parsed.
    std::fs::write(root.join("etc/resolv.conf"), "nameserver 203.0.113.1\n".repeat(10_000)).unwrap();
    let facts = wait_facts(&mut sources);
    assert!(facts.iter().any(|f| matches!(f, Fact::System { data: None, .. })), "{facts:?}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn without_inotify_the_files_are_polled_for_changes() {
    let root = temp_root("poll");
    let dir = root.join("run/resolvconf/interface");
    std::fs::create_dir_all(&dir).unwrap();
    let mut sources = FileSources::open_polling(SourcePaths::new(&root, None));
    assert!(sources.raw_fd().is_none());
    assert!(sources.scan_all().is_empty());
    assert!(sources.drain().is_empty(), "nothing changed");
    let file = dir.join("mif0.dhcp");
    let origin = file.to_string_lossy().into_owned();
    std::fs::write(&file, "nameserver 198.51.100.1\n").unwrap();
    let servers = |facts: &[Fact]| -> Vec<Vec<IpAddr>> {
        facts
            .iter()
            .map(|f| match f {
                Fact::Sourced { origin: o, elements } if *o == origin => {
                    elements.iter().flat_map(|e| e.data.dns_servers.clone()).collect()
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };
    assert_eq!(servers(&sources.drain()), vec![ips(&["198.51.100.1"])], "a new file");
    assert!(sources.drain().is_empty(), "read once");
    // A rewrite by rename (another inode), as atomic writers do.
    std::fs::write(dir.join(".tmp"), "nameserver 198.51.100.2\n").unwrap();
    std::fs::rename(dir.join(".tmp"), &file).unwrap();
    assert_eq!(servers(&sources.drain()), vec![ips(&["198.51.100.2"])], "a rewritten file");
    std::fs::remove_file(&file).unwrap();
    assert_eq!(servers(&sources.drain()), vec![Vec::<IpAddr>::new()], "a file gone is withdrawn");
    assert!(sources.drain().is_empty());
    std::fs::remove_dir_all(&root).unwrap();
}
