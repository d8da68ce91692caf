//! Fuzzing entry point for the state-file parsers (fuzz/fuzz_targets/state_files.rs):
//! every parser of this module, and the hosts-file lookup, run on the same bytes, with
//! what each promises checked. Panics when a promise is broken.

use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::core::dns::{hosts_lookup, HostsIndex};

/// `bytes` as the files the library reads (lossy UTF-8, as `os::files` reads them),
/// split at NUL bytes into at most four parts: the file's text; its name in the state
/// directory (default "2", as networkd names files by ifindex, and "mif0.dhcp" for the
/// resolv.conf fragments); the text of the `.network` file a networkd link file names;
/// the text of the lease it names. A file without NUL bytes (every real one) is the
/// text alone.
#[doc(hidden)]
pub fn fuzz_state_files(bytes: &[u8]) {
    let raw: Vec<&[u8]> = bytes.splitn(4, |b| *b == 0).collect();
    let mut parts = raw.iter().map(|p| String::from_utf8_lossy(p));
    let text = parts.next().unwrap_or_default();
    let name = parts.next();
    let network = parts.next();
    // The lease as bytes: dhcpcd's are binary (and keep their NUL bytes, the last part).
    let lease_bytes = raw.get(3).copied();

    let d = parse_resolv_conf(&text);
    assert_data(&d);
    assert!(d.routers.is_empty() && d.mtu.is_none(), "{d:?}");
    assert_eq!(parse_resolv_conf(&render_resolv_conf(&d)), d, "resolv.conf round trip");

    let d = parse_networkd_link(&text);
    assert_data(&d);
    assert!(d.routers.is_empty() && d.mtu.is_none(), "{d:?}");
    let again = format!("DNS={}\nDOMAINS={}\n", words(&d.dns_servers), d.search_domains.join(" "));
    assert_eq!(parse_networkd_link(&again), d, "networkd link round trip");

    let d = parse_resolved_link(&text);
    assert_data(&d);
    assert!(d.routers.is_empty() && d.mtu.is_none(), "{d:?}");
    let again = format!("SERVERS={}\nDOMAINS={}\n", words(&d.dns_servers), d.search_domains.join(" "));
    assert_eq!(parse_resolved_link(&again), d, "resolved link round trip");

    let (d, server) = parse_networkd_lease(&text);
    assert_data(&d);
    assert!(d.mtu.is_none_or(|m| m >= 68), "{d:?}");
    let mut again = format!(
        "DNS={}\nDOMAIN_SEARCH_LIST={}\nROUTER={}\n",
        words(&d.dns_servers),
        d.search_domains.join(" "),
        words(&d.routers)
    );
    if let Some(mtu) = d.mtu {
        again += &format!("MTU={mtu}\n");
    }
    if let Some(s) = server {
        again += &format!("SERVER_ADDRESS={s}\n");
    }
    assert_eq!(parse_networkd_lease(&again), (d, server), "networkd lease round trip");

    let d = parse_network_file(&text);
    assert_data(&d);
    assert!(d.routers.is_empty() && d.mtu.is_none(), "{d:?}");
    let again = format!("[Network]\nDNS={}\nDomains={}\n", words(&d.dns_servers), d.search_domains.join(" "));
    assert_eq!(parse_network_file(&again), d, ".network file round trip");

    let elements = parse_static_config(&text);
    let mut again = String::new();
    for e in &elements {
        let LinkRef::Name(ifname) = &e.link else { panic!("static config by index: {e:?}") };
        assert!(!ifname.is_empty() && ifname.len() <= 15 && !ifname.contains(['/', ' ', '#']), "{ifname:?}");
        assert_eq!(ifname.trim(), ifname);
        assert_eq!((e.kind, e.server, e.lifetime, e.lease_address), (ElementKind::Static, None, None, None));
        assert!(!e.data.is_empty());
        assert_data(&e.data);
        assert!(e.data.mtu.is_none_or(|m| (68..=65535).contains(&m)), "{e:?}");
        again += &format!("[{ifname}]\n");
        again += &format!("dns = {}\nsearch = {}\n", words(&e.data.dns_servers), e.data.search_domains.join(" "));
        again += &format!("routers = {}\n", words(&e.data.routers));
        if let Some(mtu) = e.data.mtu {
            again += &format!("mtu = {mtu}\n");
        }
    }
    assert_eq!(parse_static_config(&again), elements, "static config round trip");

    // A lease's time left: counts down with the file's age, never past u32::MAX - 1.
    let at = |secs| networkd_lease_lifetime(&text, Duration::from_secs(secs));
    let fresh = at(0);
    for age in [1, 600, u64::from(u32::MAX), u64::MAX] {
        let left = at(age);
        assert_eq!(left.is_some(), fresh.is_some());
        if let (Some(fresh), Some(left)) = (fresh, left) {
            assert!(left <= fresh && fresh < u32::MAX);
            if fresh < u32::MAX - 1 {
                assert_eq!(u64::from(left), u64::from(fresh).saturating_sub(age));
            }
        }
    }

    // The state directories' files.
    let network_text = network.as_deref();
    let related = |path: &str| {
        let mut file = if path.ends_with(".network") {
            RelatedFile::new(network_text?.as_bytes())
        } else {
            RelatedFile::new(lease_bytes?)
        };
        file.age = Duration::from_secs(7);
        Some(file)
    };
    let age = Duration::from_secs(5);
    for (kind, default_name) in [
        (DirKind::NetworkdLink, "2"),
        (DirKind::NetworkdLease, "2"),
        (DirKind::ResolvedLink, "2"),
        (DirKind::ResolvconfFragments, "mif0.dhcp"),
        (DirKind::DhcpcdHookState, "mif0.dhcp"),
    ] {
        let name = name.as_deref().unwrap_or(default_name);
        let elements = dir_file_elements(kind, name, &text, age, &related);
        for e in &elements {
            // Only networkd's "configuring" state rides an element of its own.
            assert!(!e.data.is_empty() || (e.configuring && kind == DirKind::NetworkdLink), "{e:?}");
            assert!(!e.configuring || kind == DirKind::NetworkdLink, "{e:?}");
            assert_data(&e.data);
        }
        let index = name.parse::<u32>().ok().map(LinkRef::Index);
        match kind {
            DirKind::NetworkdLink => assert_networkd_link(name, &text, &related, &elements),
            DirKind::NetworkdLease => {
                assert!(elements.len() <= 1);
                if let Some(e) = elements.first() {
                    let (data, server) = parse_networkd_lease(&text);
                    assert_eq!(
                        (Some(&e.link), e.kind, e.server, &e.data),
                        (index.as_ref(), ElementKind::Dhcpv4, server, &data)
                    );
                    assert!(e.lifetime.is_none() || e.lease_address.is_none(), "{e:?}");
                    if e.lease_address.is_none() {
                        assert_eq!(e.lifetime, networkd_lease_lifetime(&text, age));
                    }
                }
            }
            DirKind::ResolvedLink => {
                assert!(elements.len() <= 1);
                if let Some(e) = elements.first() {
                    assert_eq!((Some(&e.link), e.kind, e.server), (index.as_ref(), ElementKind::Static, None));
                    assert_eq!(e.data, parse_resolved_link(&text));
                }
            }
            DirKind::ResolvconfFragments | DirKind::DhcpcdHookState => {
                assert!(elements.len() <= 1);
                if let Some(e) = elements.first() {
                    // dhcpcd's element: what its lease file says, or nothing from it.
                    let (ifname, protocol) = name.rsplit_once('.').expect("a fragment's name has a protocol");
                    let lease = dhcpcd_lease_path(ifname, protocol)
                        .filter(|_| kind == DirKind::DhcpcdHookState)
                        .and_then(|(path, v6)| Some((related(&path)?, v6)))
                        .and_then(|(file, v6)| Some((parse_dhcpcd_lease(&file.bytes, v6).ok()?, file.age)));
                    let expected = match lease {
                        Some((l @ DhcpcdLease { address: None, .. }, age)) => (None, dhcpcd_lease_left(&l, age)),
                        Some((l, _)) => (l.address, None),
                        None => (None, None),
                    };
                    assert_eq!((e.lease_address, e.lifetime), expected, "{e:?}");
                    assert!(!ifname.is_empty());
                    assert_eq!(
                        (&e.link, e.kind, e.server),
                        (&LinkRef::Name(ifname.to_string()), fragment_kind(protocol), None)
                    );
                    assert_eq!(e.data, parse_resolv_conf(&text));
                }
            }
        }
    }

    // The hosts file, asked for the name part (default "localhost").
    let host = name.as_deref().unwrap_or("localhost");
    let found = hosts_lookup(&text, host);
    assert_unique(&found);
    let index = HostsIndex::build(&text);
    assert_eq!(index.lookup(&text, host), found, "the index against the scan");
    for word in text.split_whitespace().take(16) {
        assert_eq!(index.lookup(&text, word), hosts_lookup(&text, word), "the index against the scan: {word:?}");
    }
    let plain = !host.is_empty() && !host.ends_with('.') && !host.contains('#') && !host.contains(char::is_whitespace);
    if plain {
        let again: String = found.iter().map(|a| format!("{a} {host}\n")).collect();
        assert_eq!(hosts_lookup(&again, host), found, "hosts round trip");
    }
}

/// Fuzzing entry point for dhcpcd's lease files (fuzz/fuzz_targets/dhcpcd_lease.rs):
/// `bytes` as `<if>.lease` and as `<if>.lease6`, parsed, then read for the element of
/// the hook-state fragment `mif0.dhcp` (`mif0.dhcp6`) at a few file ages. A refusal is
/// an answer; a panic or a broken promise is not.
#[doc(hidden)]
pub fn fuzz_dhcpcd_lease(bytes: &[u8]) {
    for (v6, fragment) in [(false, "mif0.dhcp"), (true, "mif0.dhcp6")] {
        let parsed = parse_dhcpcd_lease(bytes, v6);
        if let Ok(lease) = &parsed {
            match lease.address {
                Some(IpAddr::V4(a)) => assert!(!v6 && !a.is_unspecified() && !a.is_broadcast(), "{lease:?}"),
                Some(IpAddr::V6(a)) => assert!(v6 && !a.is_unspecified() && !a.is_multicast(), "{lease:?}"),
                None => {}
            }
            if let Some(s) = lease.seconds {
                assert!(s != u32::MAX && (v6 || s >= MIN_LEASE_SECS), "{lease:?}");
            }
            let mut last = None;
            for age in [0, 1, 19, 3600, u64::from(u32::MAX), u64::MAX] {
                let left = dhcpcd_lease_left(lease, Duration::from_secs(age));
                assert_eq!(left.is_some(), lease.seconds.is_some());
                if let (Some(left), Some(seconds)) = (left, lease.seconds) {
                    assert_eq!(u64::from(left), u64::from(seconds).saturating_sub(age));
                    assert!(last.is_none_or(|l| left <= l));
                    last = Some(left);
                }
            }
        } else if let Err(refusal) = &parsed {
            assert!(!refusal.to_string().is_empty());
        }
        for age in [0, 60, u64::MAX] {
            let related = |path: &str| {
                assert_eq!(path, format!("/var/lib/dhcpcd/mif0.lease{}", if v6 { "6" } else { "" }));
                Some(RelatedFile { bytes: bytes.to_vec(), age: Duration::from_secs(age) })
            };
            let text = "nameserver 198.51.100.1\nnameserver fd6d:6966:a::1\n";
            let e = dir_file_elements(DirKind::DhcpcdHookState, fragment, text, Duration::ZERO, &related);
            assert_eq!(e.len(), 1);
            let expected = match &parsed {
                Ok(l @ DhcpcdLease { address: None, .. }) => (None, dhcpcd_lease_left(l, Duration::from_secs(age))),
                Ok(l) => (l.address, None),
                Err(_) => (None, None),
            };
            assert_eq!((e[0].lease_address, e[0].lifetime), expected);
        }
    }
}

/// What every parser promises of the data it returns.
fn assert_data(d: &ConfigData) {
    assert!(d.dns_servers.len() <= MAX_SERVERS, "{} servers", d.dns_servers.len());
    assert!(d.search_domains.len() <= MAX_DOMAINS, "{} domains", d.search_domains.len());
    assert_unique(&d.dns_servers);
    assert_unique(&d.search_domains);
    assert_unique(&d.routers);
    for domain in &d.search_domains {
        assert!(!domain.is_empty() && domain.len() <= 253 && domain != "~", "{domain:?}");
        assert!(domain.split('.').all(|l| !l.is_empty() && l.len() <= 63), "{domain:?}");
        assert!(
            domain.chars().all(|c| !c.is_ascii() || c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)),
            "{domain:?}"
        );
    }
    assert!(d.captive_portal.is_none() && d.pref64.is_none(), "{d:?}");
}

fn assert_unique<T: PartialEq + std::fmt::Debug>(list: &[T]) {
    for (i, x) in list.iter().enumerate() {
        assert!(!list.get(..i).unwrap_or_default().contains(x), "{x:?} twice in {list:?}");
    }
}

/// A networkd link file's elements: a `static` one and an `ra` one at most, in that
/// order, splitting the file's own servers and domains between them; what neither
/// holds is the lease's.
fn assert_networkd_link(name: &str, text: &str, related: Related, elements: &[SourcedElement]) {
    let Ok(ifindex) = name.parse::<u32>() else {
        assert!(elements.is_empty(), "{elements:?}");
        return;
    };
    let kinds: Vec<ElementKind> = elements.iter().map(|e| e.kind).collect();
    assert!(
        [&[][..], &[ElementKind::Static], &[ElementKind::Ra], &[ElementKind::Static, ElementKind::Ra]]
            .contains(&kinds.as_slice()),
        "{kinds:?}"
    );
    let all = parse_networkd_link(text);
    let leased = env_lines(text).get("DHCP_LEASE").and_then(|p| related(p)).map(|f| parse_networkd_lease(&f.text()).0);
    let leased = leased.unwrap_or_default();
    let mut servers = Vec::new();
    let mut domains = Vec::new();
    for e in elements {
        assert_eq!((&e.link, e.server, e.lifetime, e.lease_address), (&LinkRef::Index(ifindex), None, None, None));
        assert_eq!(e.configuring, networkd_configuring(text));
        assert!(e.data.routers.is_empty() && e.data.mtu.is_none());
        servers.extend(e.data.dns_servers.iter().copied());
        domains.extend(e.data.search_domains.iter().cloned());
    }
    assert_unique(&servers);
    assert_unique(&domains);
    let all_servers: Vec<IpAddr> = all.dns_servers;
    for s in &servers {
        assert!(all_servers.contains(s), "{s} is not in the link file");
    }
    for s in &all_servers {
        assert!(servers.contains(s) || leased.dns_servers.contains(s), "{s} went missing");
    }
    for d in &domains {
        assert!(all.search_domains.contains(d), "{d} is not in the link file");
    }
    for d in &all.search_domains {
        assert!(domains.contains(d) || leased.search_domains.contains(d), "{d} went missing");
    }
}

fn words(list: &[IpAddr]) -> String {
    list.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(" ")
}

fn render_resolv_conf(d: &ConfigData) -> String {
    let mut out: String = d.dns_servers.iter().map(|s| format!("nameserver {s}\n")).collect();
    if !d.search_domains.is_empty() {
        out += &format!("search {}\n", d.search_domains.join(" "));
    }
    out
}
