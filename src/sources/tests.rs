//! Parser tests on the formats real hosts write, and the watcher on a temporary tree.
use super::*;
use std::time::Duration;

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[test]
fn resolv_conf_servers_search_and_garbage() {
    let text = "# generated\nnameserver 198.51.100.1\nnameserver fe80::1%eth0\nnameserver not-an-ip\n\
                options edns0\ndomain old.example\nsearch A.example b.example. bad..name\nnameserver 198.51.100.1 ; dup\n";
    let d = parse_resolv_conf(text);
    assert_eq!(d.dns_servers, ips(&["198.51.100.1", "fe80::1"]));
    assert_eq!(d.search_domains, vec!["a.example", "b.example"]);
}

#[test]
fn networkd_link_and_lease() {
    let link = "# This is private data. Do not parse.\nADMIN_STATE=configured\nDNS=198.51.100.53 fd6d:6966:a::53\nDOMAINS=a.example\n";
    let d = parse_networkd_link(link);
    assert_eq!(d.dns_servers, ips(&["198.51.100.53", "fd6d:6966:a::53"]));
    assert_eq!(d.search_domains, vec!["a.example"]);
    let lease = "ADDRESS=198.51.100.150\nNETMASK=255.255.255.0\nROUTER=198.51.100.1\nSERVER_ADDRESS=198.51.100.1\n\
                 DNS=198.51.100.1\nDOMAINNAME=a.example\nMTU=1400\nLIFETIME=600\n";
    let (d, server) = parse_networkd_lease(lease);
    assert_eq!(server, Some("198.51.100.1".parse().unwrap()));
    assert_eq!(d.dns_servers, ips(&["198.51.100.1"]));
    assert_eq!(d.routers, ips(&["198.51.100.1"]));
    assert_eq!(d.mtu, Some(1400));
    assert_eq!(d.search_domains, vec!["a.example"]);
}

#[test]
fn resolved_link_skips_routing_only_domains_and_reads_ports() {
    let text = "LLMNR=yes\nSERVERS=198.51.100.1:53 [fd6d:6966:a::1]:53 198.51.100.2#dns.example\nDOMAINS=~. ~corp.example a.example\n";
    let d = parse_resolved_link(text);
    assert_eq!(d.dns_servers, ips(&["198.51.100.1", "fd6d:6966:a::1", "198.51.100.2"]));
    assert_eq!(d.search_domains, vec!["a.example"]);
}

#[test]
fn fragment_names_decide_the_element_type() {
    assert_eq!(fragment_kind("dhcp"), ElementKind::Dhcpv4);
    assert_eq!(fragment_kind("dhcp6"), ElementKind::Dhcpv6);
    assert_eq!(fragment_kind("ra"), ElementKind::Ra);
    assert_eq!(fragment_kind("inet"), ElementKind::Static);
    let e = dir_file_elements(DirKind::ResolvconfFragments, "eth0.100.dhcp", "nameserver 198.51.100.1\n");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].link, LinkRef::Name("eth0.100".into()));
    assert_eq!(e[0].kind, ElementKind::Dhcpv4);
    assert!(dir_file_elements(DirKind::ResolvconfFragments, "noproto", "nameserver 198.51.100.1\n").is_empty());
    assert!(dir_file_elements(DirKind::NetworkdLink, "eth0", "DNS=198.51.100.1\n").is_empty(), "networkd names files by index");
}

#[test]
fn static_config_sections_and_errors() {
    let text = "dns = 198.51.100.9   # before any section: ignored\n[mif0]\ndns = 198.51.100.53 fd6d:6966:a::53\nsearch = a.example\n\
                routers = 198.51.100.1 nonsense\nmtu = 1400\ncolour = blue\n[bad name]\ndns = 198.51.100.1\n[mif1]\n[mif2]\nmtu = 9\n";
    let e = parse_static_config(text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].link, LinkRef::Name("mif0".into()));
    assert_eq!(e[0].data.dns_servers, ips(&["198.51.100.53", "fd6d:6966:a::53"]));
    assert_eq!(e[0].data.routers, ips(&["198.51.100.1"]));
    assert_eq!(e[0].data.mtu, Some(1400));
}

#[test]
fn garbage_never_panics() {
    let mut seed: u32 = 12345;
    for len in [0usize, 1, 7, 100, 5000] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_resolv_conf(&text);
        let _ = parse_networkd_link(&text);
        let _ = parse_networkd_lease(&text);
        let _ = parse_resolved_link(&text);
        let _ = parse_static_config(&text);
    }
    let long = format!("search {}\n", "a".repeat(300));
    assert!(parse_resolv_conf(&long).search_domains.is_empty());
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
    assert!(facts.iter().any(|f| matches!(f, Fact::System { data: Some(d), .. } if d.dns_servers == ips(&["203.0.113.1"]))), "{facts:?}");

    // A huge file is ignored (withdrawn), not parsed.
    std::fs::write(root.join("etc/resolv.conf"), "nameserver 203.0.113.1\n".repeat(10_000)).unwrap();
    let facts = wait_facts(&mut sources);
    assert!(facts.iter().any(|f| matches!(f, Fact::System { data: None, .. })), "{facts:?}");
    std::fs::remove_dir_all(&root).unwrap();
}
