//! Unit tests of the host model: kernel facts in, announcements out, no kernel.
use super::*;
use std::net::IpAddr;

fn up() -> LinkFlags {
    LinkFlags { up: true, running: true, ..LinkFlags::default() }
}

fn link(ifindex: u32, name: &str, flags: LinkFlags) -> Fact {
    Fact::Link(LinkFact { ifindex, name: name.into(), flags })
}

fn addr_fact(ifindex: u32, addr: &str, prefix_len: u8, scope: Scope) -> AddrFact {
    AddrFact {
        ifindex,
        addr: addr.parse().unwrap(),
        prefix_len,
        scope,
        flags: AddrFlags { permanent: true, ..AddrFlags::default() },
        valid: None,
        preferred: None,
    }
}

fn addr(ifindex: u32, a: &str, prefix_len: u8) -> Fact {
    let scope = if a.starts_with("fe80") { Scope::Link } else { Scope::Global };
    Fact::Addr(addr_fact(ifindex, a, prefix_len, scope))
}

fn del_addr(ifindex: u32, a: &str, prefix_len: u8) -> Fact {
    Fact::AddrRemoved { ifindex, addr: a.parse().unwrap(), prefix_len }
}

/// A compact, comparable rendering of an announcement.
fn show(a: &Announcement) -> String {
    match a {
        Announcement::Interface { ifindex, name, .. } => format!("+if {ifindex} {name}"),
        Announcement::NoInterface { ifindex, name, .. } => format!("-if {ifindex} {name}"),
        Announcement::Pvd(p) => format!("+pvd {} {}", p.id, p.name),
        Announcement::NoPvd(p) => format!("-pvd {} {}", p.id, p.name),
        Announcement::Address { pvd, addr } => format!("+addr {} {}/{}", pvd.id, addr.addr, addr.prefix_len),
        Announcement::NoAddress { pvd, addr } => format!("-addr {} {}/{}", pvd.id, addr.addr, addr.prefix_len),
    }
}

struct Harness {
    model: HostModel,
    now: Instant,
}

impl Harness {
    fn new() -> Harness {
        Harness { model: HostModel::new(), now: Instant::now() }
    }
    fn apply(&mut self, facts: Vec<Fact>) -> Vec<String> {
        let mut out = Vec::new();
        for f in facts {
            self.model.apply(f, self.now, &mut out);
        }
        out.iter().map(show).collect()
    }
    fn subscribe_all(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        self.model.announce_interfaces(&mut out);
        let mut i = 0;
        // Subscribe to what is announced, as mifctl does.
        while i < out.len() {
            match out[i].clone() {
                Announcement::Interface { ifindex, .. } => {
                    let mut more = Vec::new();
                    self.model.announce_pvds(ifindex, &mut more).unwrap();
                    out.extend(more);
                }
                Announcement::Pvd(p) => {
                    let mut more = Vec::new();
                    self.model.announce_addresses(p.id, self.now, &mut more).unwrap();
                    out.extend(more);
                }
                _ => {}
            }
            i += 1;
        }
        out.iter().map(show).collect()
    }
}

/// A host with lo and eth0 (IPv4 + IPv6 + link-local).
fn two_links() -> Harness {
    let mut h = Harness::new();
    h.apply(vec![
        link(1, "lo", LinkFlags { loopback: true, ..up() }),
        addr(1, "127.0.0.1", 8),
        link(2, "eth0", up()),
        addr(2, "198.51.100.2", 24),
        addr(2, "fe80::1", 64),
        addr(2, "fd6d:6966:a::2", 64),
    ]);
    h
}

#[test]
fn nothing_is_announced_without_a_subscription() {
    let mut h = Harness::new();
    assert!(h.apply(vec![link(2, "eth0", up()), addr(2, "198.51.100.2", 24)]).is_empty());
}

#[test]
fn initial_iteration_in_order_and_without_link_local() {
    let mut h = two_links();
    assert_eq!(
        h.subscribe_all(),
        vec![
            "+if 1 lo",
            "+if 2 eth0",
            "+pvd 1 lo/ipv4",
            "+pvd 2 eth0/ipv4",
            "+pvd 3 eth0/ipv6",
            "+addr 1 127.0.0.1/8",
            "+addr 2 198.51.100.2/24",
            "+addr 3 fd6d:6966:a::2/64",
        ]
    );
}

#[test]
fn link_local_alone_makes_no_pvd() {
    let mut h = Harness::new();
    h.apply(vec![link(3, "mif0", up()), addr(3, "fe80::2", 64)]);
    assert_eq!(h.subscribe_all(), vec!["+if 3 mif0"]);
}

#[test]
fn live_changes_follow_the_draft_order() {
    let mut h = Harness::new();
    h.subscribe_all();
    assert_eq!(h.apply(vec![link(5, "mif1", up())]), vec!["+if 5 mif1"]);
    let mut out = Vec::new();
    h.model.announce_pvds(5, &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(h.apply(vec![addr(5, "203.0.113.2", 24)]), vec!["+pvd 1 mif1/ipv4"]);
    h.model.announce_addresses(1, h.now, &mut out).unwrap();
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), vec!["+addr 1 203.0.113.2/24"]);
    assert_eq!(h.apply(vec![addr(5, "203.0.113.3", 24)]), vec!["+addr 1 203.0.113.3/24"]);
    assert_eq!(h.apply(vec![del_addr(5, "203.0.113.3", 24)]), vec!["-addr 1 203.0.113.3/24"]);
}

#[test]
fn interface_removal_order_addresses_then_pvds_then_interface() {
    let mut h = two_links();
    h.subscribe_all();
    assert_eq!(
        h.apply(vec![Fact::LinkRemoved { ifindex: 2 }]),
        vec!["-addr 2 198.51.100.2/24", "-addr 3 fd6d:6966:a::2/64", "-pvd 2 eth0/ipv4", "-pvd 3 eth0/ipv6", "-if 2 eth0"]
    );
    // Its subscriptions ended with it.
    assert_eq!(h.model.stop_announcing_pvds(2), Err(RequestError::UnknownInterface));
    assert_eq!(h.model.stop_announcing_addresses(2), Err(RequestError::UnknownPvd));
    // Nothing more about that index.
    assert!(h.apply(vec![addr(2, "198.51.100.9", 24)]).is_empty());
}

#[test]
fn link_down_removes_pvds_but_not_the_interface_and_ids_come_back() {
    let mut h = two_links();
    h.subscribe_all();
    let down = LinkFlags { up: true, running: false, ..LinkFlags::default() };
    assert_eq!(
        h.apply(vec![link(2, "eth0", down)]),
        vec!["-addr 2 198.51.100.2/24", "-addr 3 fd6d:6966:a::2/64", "-pvd 2 eth0/ipv4", "-pvd 3 eth0/ipv6"]
    );
    // Address subscriptions ended with the PvDs; the PvD subscription stays.
    assert_eq!(h.model.stop_announcing_addresses(2), Err(RequestError::UnknownPvd));
    assert_eq!(h.apply(vec![link(2, "eth0", up())]), vec!["+pvd 2 eth0/ipv4", "+pvd 3 eth0/ipv6"]);
}

#[test]
fn ids_are_never_reused_after_an_interface_goes() {
    let mut h = two_links();
    h.subscribe_all();
    h.apply(vec![Fact::LinkRemoved { ifindex: 2 }]);
    let out = h.apply(vec![link(2, "eth0", up()), addr(2, "198.51.100.2", 24)]);
    assert_eq!(out, vec!["+if 2 eth0"]);
    let mut more = Vec::new();
    h.model.announce_pvds(2, &mut more).unwrap();
    assert_eq!(more.iter().map(show).collect::<Vec<_>>(), vec!["+pvd 4 eth0/ipv4"]);
}

#[test]
fn last_address_of_a_family_takes_the_pvd_with_it() {
    let mut h = two_links();
    h.subscribe_all();
    assert_eq!(h.apply(vec![del_addr(2, "198.51.100.2", 24)]), vec!["-addr 2 198.51.100.2/24", "-pvd 2 eth0/ipv4"]);
    assert_eq!(h.apply(vec![addr(2, "198.51.100.7", 24)]), vec!["+pvd 2 eth0/ipv4"]);
}

#[test]
fn stop_means_no_more_messages_of_that_kind() {
    let mut h = two_links();
    h.subscribe_all();
    h.model.stop_announcing_addresses(2).unwrap();
    h.model.stop_announcing_addresses(3).unwrap();
    assert!(h.apply(vec![addr(2, "198.51.100.3", 24)]).is_empty());
    h.model.stop_announcing_pvds(2).unwrap();
    h.model.stop_announcing_interfaces().unwrap();
    assert!(h.apply(vec![Fact::LinkRemoved { ifindex: 2 }, link(9, "x", up())]).is_empty());
    assert_eq!(h.model.stop_announcing_interfaces(), Err(RequestError::NotSubscribed));
}

#[test]
fn stop_without_start_and_unknown_objects_are_refused() {
    let mut h = two_links();
    let mut out = Vec::new();
    assert_eq!(h.model.stop_announcing_interfaces(), Err(RequestError::NotSubscribed));
    assert_eq!(h.model.stop_announcing_pvds(2), Err(RequestError::NotSubscribed));
    assert_eq!(h.model.stop_announcing_pvds(77), Err(RequestError::UnknownInterface));
    assert_eq!(h.model.announce_pvds(77, &mut out), Err(RequestError::UnknownInterface));
    assert_eq!(h.model.announce_addresses(99, h.now, &mut out), Err(RequestError::UnknownPvd));
    h.model.announce_pvds(2, &mut out).unwrap();
    assert_eq!(h.model.stop_announcing_addresses(2), Err(RequestError::NotSubscribed));
}

#[test]
fn attribute_changes_are_updates_and_lifetimes_count_down() {
    let mut h = Harness::new();
    let mut f = addr_fact(2, "fd6d:6966:a::5", 64, Scope::Global);
    f.valid = Some(300);
    f.preferred = Some(200);
    h.apply(vec![link(2, "eth0", up()), Fact::Addr(f.clone())]);
    h.subscribe_all();
    // Same fact again: nothing changed.
    assert!(h.apply(vec![Fact::Addr(f.clone())]).is_empty());
    // Deprecated: an update.
    let mut dep = f.clone();
    dep.flags.deprecated = true;
    dep.preferred = Some(0);
    let mut out = Vec::new();
    h.model.apply(Fact::Addr(dep.clone()), h.now, &mut out);
    match &out[..] {
        [Announcement::Address { addr, .. }] => {
            assert!(addr.flags.deprecated);
            assert_eq!(addr.preferred, Some(0));
            assert_eq!(addr.valid, Some(300));
        }
        other => panic!("unexpected {other:?}"),
    }
    // 100 s later a fresh subscription reports what is left.
    h.now += Duration::from_secs(100);
    h.model.stop_announcing_addresses(1).unwrap();
    out.clear();
    h.model.announce_addresses(1, h.now, &mut out).unwrap();
    match &out[..] {
        [Announcement::Address { addr, .. }] => assert_eq!(addr.valid, Some(200)),
        other => panic!("unexpected {other:?}"),
    }
    // The kernel reporting the same deadline 100 s later is not a change.
    let mut later = dep;
    later.valid = Some(200);
    assert!(h.apply(vec![Fact::Addr(later)]).is_empty());
}

#[test]
fn rename_is_reannounced() {
    let mut h = two_links();
    h.subscribe_all();
    assert_eq!(h.apply(vec![link(2, "wan0", up())]), vec!["+if 2 wan0"]);
}

#[test]
fn resync_announces_exactly_the_difference() {
    let mut h = two_links();
    h.subscribe_all();
    let now = h.now;
    // The truth after lost events: eth0 lost its IPv4 address and got another IPv6 one,
    // lo is unchanged, and a new interface appeared.
    let snapshot = Snapshot {
        links: vec![
            LinkFact { ifindex: 1, name: "lo".into(), flags: LinkFlags { loopback: true, ..up() } },
            LinkFact { ifindex: 2, name: "eth0".into(), flags: up() },
            LinkFact { ifindex: 7, name: "mif7".into(), flags: up() },
        ],
        addrs: vec![
            addr_fact(1, "127.0.0.1", 8, Scope::Global),
            addr_fact(2, "fd6d:6966:a::2", 64, Scope::Global),
            addr_fact(2, "fd6d:6966:a::3", 64, Scope::Global),
            addr_fact(7, "198.18.0.1", 24, Scope::Global),
        ],
    };
    let mut out = Vec::new();
    h.model.resync(snapshot.clone(), now, &mut out);
    let shown: Vec<String> = out.iter().map(show).collect();
    assert_eq!(shown, vec!["-addr 2 198.51.100.2/24", "-pvd 2 eth0/ipv4", "+addr 3 fd6d:6966:a::3/64", "+if 7 mif7"]);
    // A second resync with the same truth announces nothing.
    out.clear();
    h.model.resync(snapshot, now + Duration::from_millis(700), &mut out);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn resync_removes_vanished_interfaces_in_order() {
    let mut h = two_links();
    h.subscribe_all();
    let snapshot = Snapshot {
        links: vec![LinkFact { ifindex: 1, name: "lo".into(), flags: LinkFlags { loopback: true, ..up() } }],
        addrs: vec![addr_fact(1, "127.0.0.1", 8, Scope::Global)],
    };
    let mut out = Vec::new();
    h.model.resync(snapshot, h.now, &mut out);
    let shown: Vec<String> = out.iter().map(show).collect();
    assert_eq!(shown, vec!["-addr 2 198.51.100.2/24", "-addr 3 fd6d:6966:a::2/64", "-pvd 2 eth0/ipv4", "-pvd 3 eth0/ipv6", "-if 2 eth0"]);
}

#[test]
fn addresses_of_unknown_links_are_ignored() {
    let mut h = Harness::new();
    h.subscribe_all();
    assert!(h.apply(vec![addr(42, "198.51.100.2", 24)]).is_empty());
    assert!(h.model.mirrored_addresses().is_empty());
    let ip: IpAddr = "198.51.100.2".parse().unwrap();
    h.apply(vec![link(42, "x", up()), addr(42, "198.51.100.2", 24)]);
    assert_eq!(h.model.mirrored_addresses(), vec![(42, ip, 24)]);
}
