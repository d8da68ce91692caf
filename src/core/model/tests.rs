//! Unit tests of the host model: kernel facts in, announcements out, no kernel.
use super::*;
use std::net::IpAddr;

use super::readiness::RA_GRACE;

fn up() -> LinkFlags {
    LinkFlags { up: true, running: true, ..LinkFlags::default() }
}

fn link(ifindex: u32, name: &str, flags: LinkFlags) -> Fact {
    Fact::Link(LinkFact { ifindex, name: name.into(), flags, mtu: None })
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
        lifetime_phase_ms: 0,
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
        Announcement::Pvd { pvd: p, .. } => format!("+pvd {} {}", p.id, p.name),
        Announcement::PvdConfigComplete(p) => format!("complete {} {}", p.id, p.name),
        Announcement::NoPvd(p) => format!("-pvd {} {}", p.id, p.name),
        Announcement::Address { pvd, addr } => format!("+addr {} {}/{}", pvd.id, addr.addr, addr.prefix_len),
        Announcement::NoAddress { pvd, addr } => format!("-addr {} {}/{}", pvd.id, addr.addr, addr.prefix_len),
        Announcement::Element { pvd, element } => {
            format!("+elem {} {:?} {}", pvd.id, element.kind, data(&element.data))
        }
        Announcement::NoElement { pvd, element } => {
            format!("-elem {} {:?} {}", pvd.id, element.kind, data(&element.data))
        }
        Announcement::ConfigData { pvd, data: d, .. } => format!("data {} {}", pvd.id, data(d)),
        Announcement::NoConfigData { pvd, .. } => format!("nodata {}", pvd.id),
        Announcement::ConfigLearning { pvd, data: d, .. } => format!("learning {} {}", pvd.id, data(d)),
        Announcement::GoingAway { ifindex, pvd, deadline_ms, reason, .. } => {
            format!(
                "going {ifindex} {} {deadline_ms}ms {reason:?}",
                pvd.as_ref().map_or("-".into(), |p| p.name.clone())
            )
        }
        Announcement::GoingUp { ifindex, reason, .. } => format!("up {ifindex} {reason:?}"),
        Announcement::GoingAwayCancelled { ifindex, pvd, reason, .. } => {
            format!("cancel {ifindex} {} {reason:?}", pvd.as_ref().map_or("-".into(), |p| p.name.clone()))
        }
        Announcement::ConnectionGoingAway { connection_id, pvd, deadline_ms, reason, .. } => {
            format!("conn-going {connection_id} {} {deadline_ms}ms {reason:?}", pvd.name)
        }
        Announcement::ConnectionGoingAwayCancelled { connection_id, pvd, reason } => {
            format!("conn-cancel {connection_id} {} {reason:?}", pvd.name)
        }
        Announcement::ConnectionGone { connection_id, local, pvd, reason, .. } => {
            format!("conn-gone {connection_id} {local} {} {reason:?}", pvd.name)
        }
        Announcement::ConnectionStates { ifindex, counts, .. } => {
            format!("states {ifindex} {}/{}/{}", counts.active, counts.idle, counts.breakable)
        }
    }
}

fn data(d: &ConfigData) -> String {
    let mut parts: Vec<String> = d.dns_servers.iter().map(|a| a.to_string()).collect();
    parts.extend(d.search_domains.iter().cloned());
    parts.extend(d.routers.iter().map(|r| format!("gw:{r}")));
    if let Some(m) = d.mtu {
        parts.push(format!("mtu:{m}"));
    }
    parts.join(",")
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
        self.follow(&mut out);
        out.iter().map(show).collect()
    }
    /// Subscribes to the PvDs, elements and addresses of what `out` announces, as mifctl does.
    fn follow(&mut self, out: &mut Vec<Announcement>) {
        let mut i = 0;
        // Subscribe to what is announced, as mifctl does.
        while i < out.len() {
            match out[i].clone() {
                Announcement::Interface { ifindex, .. } => {
                    let mut more = Vec::new();
                    self.model.announce_pvds(ifindex, self.now, &mut more).unwrap();
                    out.extend(more);
                }
                Announcement::Pvd { pvd: p, .. } => {
                    let mut more = Vec::new();
                    self.model.announce_elements(p.id, self.now, &mut more).unwrap();
                    self.model.announce_addresses(p.id, self.now, &mut more).unwrap();
                    out.extend(more);
                }
                _ => {}
            }
            i += 1;
        }
    }
    /// Applies facts and follows new PvDs like a subscriber would.
    fn apply_following(&mut self, facts: Vec<Fact>) -> Vec<String> {
        let mut out = Vec::new();
        for f in facts {
            self.model.apply(f, self.now, &mut out);
        }
        self.follow(&mut out);
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
fn reannounce_gives_the_complete_state_of_every_active_subscription() {
    let mut h = two_links();
    h.subscribe_all();
    // Changes the application never saw (its queue overflowed)...
    h.apply(vec![del_addr(2, "198.51.100.2", 24), addr(2, "198.51.100.7", 24), addr(5, "203.0.113.9", 24)]);
    h.apply(vec![Fact::LinkRemoved { ifindex: 1 }]);
    let mut out = Vec::new();
    let now = h.now;
    h.model.reannounce(now, &mut out);
    // ...and what it is told instead: the state now, in the first announcements' order.
    // PvD 2 went and came back meanwhile: its address subscription ended with it, so
    // its address comes once the application subscribes again, as after "+pvd 2".
    assert_eq!(
        out.iter().map(show).collect::<Vec<_>>(),
        vec!["+if 2 eth0", "+pvd 2 eth0/ipv4", "+pvd 3 eth0/ipv6", "+addr 3 fd6d:6966:a::2/64"]
    );
    assert!(out.iter().all(Announcement::is_subscription));
}

#[test]
fn link_local_alone_makes_no_pvd() {
    let mut h = Harness::new();
    h.apply(vec![link(3, "mif0", up()), addr(3, "fe80::2", 64)]);
    // Up with carrier, no usable address: going up (3.2.7.26.5).
    assert_eq!(h.subscribe_all(), vec!["+if 3 mif0", "up 3 NoAddress"]);
}

#[test]
fn live_changes_follow_the_draft_order() {
    let mut h = Harness::new();
    h.subscribe_all();
    assert_eq!(h.apply(vec![link(5, "mif1", up())]), vec!["+if 5 mif1", "up 5 NoAddress"]);
    let mut out = Vec::new();
    h.model.announce_pvds(5, h.now, &mut out).unwrap();
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
        vec![
            "-addr 2 198.51.100.2/24",
            "-addr 3 fd6d:6966:a::2/64",
            "-pvd 2 eth0/ipv4",
            "-pvd 3 eth0/ipv6",
            "-if 2 eth0"
        ]
    );
    // Its subscriptions ended with it.
    assert_eq!(h.model.stop_announcing_pvds(2), Err(Error::UnknownInterface));
    assert_eq!(h.model.stop_announcing_addresses(2), Err(Error::UnknownPvd));
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
        vec![
            // Carrier lost while up: the warning first (3.2.7.26.4), deadline now.
            "going 2 - 0ms CarrierLost",
            "-addr 2 198.51.100.2/24",
            "-addr 3 fd6d:6966:a::2/64",
            "-pvd 2 eth0/ipv4",
            "-pvd 3 eth0/ipv6"
        ]
    );
    // Address subscriptions ended with the PvDs; the PvD subscription stays.
    assert_eq!(h.model.stop_announcing_addresses(2), Err(Error::UnknownPvd));
    assert_eq!(
        h.apply(vec![link(2, "eth0", up())]),
        vec!["cancel 2 - CarrierLost", "+pvd 2 eth0/ipv4", "+pvd 3 eth0/ipv6"]
    );
    // Taken down by the administrator: no warning (the application's host did it).
    let admin_down = LinkFlags { up: false, running: false, ..LinkFlags::default() };
    assert_eq!(h.apply(vec![link(2, "eth0", admin_down)]), vec!["-pvd 2 eth0/ipv4", "-pvd 3 eth0/ipv6"]);
}

#[test]
fn ids_are_never_reused_after_an_interface_goes() {
    let mut h = two_links();
    h.subscribe_all();
    h.apply(vec![Fact::LinkRemoved { ifindex: 2 }]);
    let out = h.apply(vec![link(2, "eth0", up()), addr(2, "198.51.100.2", 24)]);
    assert_eq!(out, vec!["+if 2 eth0", "up 2 NoAddress"]);
    let mut more = Vec::new();
    h.model.announce_pvds(2, h.now, &mut more).unwrap();
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
    assert_eq!(h.model.stop_announcing_interfaces(), Err(Error::NotSubscribed));
}

#[test]
fn stop_without_start_and_unknown_objects_are_refused() {
    let mut h = two_links();
    let mut out = Vec::new();
    assert_eq!(h.model.stop_announcing_interfaces(), Err(Error::NotSubscribed));
    assert_eq!(h.model.stop_announcing_pvds(2), Err(Error::NotSubscribed));
    assert_eq!(h.model.stop_announcing_pvds(77), Err(Error::UnknownInterface));
    assert_eq!(h.model.announce_pvds(77, h.now, &mut out), Err(Error::UnknownInterface));
    assert_eq!(h.model.announce_addresses(99, h.now, &mut out), Err(Error::UnknownPvd));
    h.model.announce_pvds(2, h.now, &mut out).unwrap();
    assert_eq!(h.model.stop_announcing_addresses(2), Err(Error::NotSubscribed));
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
        // Its PvD's only address is deprecated: the PvD is going away when it ends.
        [going @ Announcement::GoingAway { .. }, Announcement::Address { addr, .. }] => {
            assert_eq!(show(going), "going 2 eth0/ipv6 300000ms AddressesDeprecated");
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

/// An address fact with finite lifetimes, deprecated when `preferred` is 0.
fn timed_addr(ifindex: u32, a: &str, prefix_len: u8, valid: u32, preferred: u32) -> Fact {
    let mut f = addr_fact(ifindex, a, prefix_len, Scope::Global);
    f.flags = AddrFlags { deprecated: preferred == 0, ..AddrFlags::default() };
    f.valid = Some(valid);
    f.preferred = Some(preferred);
    Fact::Addr(f)
}

#[test]
fn a_pvd_whose_addresses_are_all_deprecated_is_going_away_until_refreshed() {
    let mut h = two_links();
    h.apply(vec![timed_addr(2, "fd6d:6966:a::2", 64, 600, 300), timed_addr(2, "fd6d:6966:a::3", 64, 600, 300)]);
    h.subscribe_all();
    // One of two deprecated: the other still serves the PvD.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::2", 64, 40, 0)]);
    assert_eq!(out, vec!["+addr 3 fd6d:6966:a::2/64"]);
    // Both: going away when the longer valid lifetime ends.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::3", 64, 90, 0)]);
    assert_eq!(out, vec!["going 2 eth0/ipv6 90000ms AddressesDeprecated", "+addr 3 fd6d:6966:a::3/64"]);
    // The same deadline reported again later: no new warning; a new deadline: warned again.
    h.now += Duration::from_secs(10);
    assert!(h.apply(vec![timed_addr(2, "fd6d:6966:a::3", 64, 80, 0)]).is_empty());
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::3", 64, 20, 0)]);
    assert_eq!(out[0], "going 2 eth0/ipv6 30000ms AddressesDeprecated", "{out:?}");
    // A subscriber that comes now learns it with the PvD.
    let mut late = Vec::new();
    h.model.stop_announcing_pvds(2).unwrap();
    h.model.announce_pvds(2, h.now, &mut late).unwrap();
    let late: Vec<String> = late.iter().map(show).collect();
    assert_eq!(late, vec!["+pvd 2 eth0/ipv4", "+pvd 3 eth0/ipv6", "going 2 eth0/ipv6 30000ms AddressesDeprecated"]);
    // An RA refreshed the prefix: preferred again, the warning is withdrawn.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::3", 64, 600, 300)]);
    assert_eq!(out, vec!["cancel 2 eth0/ipv6 AddressesDeprecated", "+addr 3 fd6d:6966:a::3/64"]);
    // Deprecated but valid for ever: nothing to warn of (no end in sight).
    let mut forever = addr_fact(2, "fd6d:6966:a::3", 64, Scope::Global);
    forever.flags.deprecated = true;
    forever.preferred = Some(0);
    let out = h.apply(vec![Fact::Addr(forever)]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
}

#[test]
fn a_pvd_whose_last_valid_lifetime_comes_within_the_horizon_is_going_away() {
    let mut h = two_links();
    h.model.set_going_away_horizon(Duration::from_secs(60));
    // Preferred as long as valid (a DHCPv6 lease, a static address with lifetimes):
    // never deprecated before it goes.
    h.apply(vec![timed_addr(2, "fd6d:6966:a::2", 64, 100, 100)]);
    h.subscribe_all();
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(40)), "wake at the horizon");
    h.now += Duration::from_secs(40);
    let mut out = Vec::new();
    let now = h.now;
    h.model.expire(now, &mut out);
    let out: Vec<String> = out.iter().map(show).collect();
    assert_eq!(out, vec!["going 2 eth0/ipv6 60000ms LifetimeEnding"]);
    assert_eq!(h.model.next_deadline(h.now), None, "warned: nothing more to wake up for");
    // Renewed: cancelled, with the reason it was given.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::2", 64, 3600, 3600)]);
    assert_eq!(out, vec!["cancel 2 eth0/ipv6 LifetimeEnding", "+addr 3 fd6d:6966:a::2/64"]);
}

#[test]
fn rename_is_reannounced() {
    let mut h = two_links();
    h.subscribe_all();
    assert_eq!(h.apply(vec![link(2, "wan0", up())]), vec!["+if 2 wan0", "+pvd 2 wan0/ipv4", "+pvd 3 wan0/ipv6"]);
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
            LinkFact { ifindex: 1, name: "lo".into(), flags: LinkFlags { loopback: true, ..up() }, mtu: None },
            LinkFact { ifindex: 2, name: "eth0".into(), flags: up(), mtu: None },
            LinkFact { ifindex: 7, name: "mif7".into(), flags: up(), mtu: None },
        ],
        addrs: vec![
            addr_fact(1, "127.0.0.1", 8, Scope::Global),
            addr_fact(2, "fd6d:6966:a::2", 64, Scope::Global),
            addr_fact(2, "fd6d:6966:a::3", 64, Scope::Global),
            addr_fact(7, "198.18.0.1", 24, Scope::Global),
        ],
        routes: vec![],
        prefix_routes: vec![],
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

/// `mif_open` applies the configuration files before the first snapshot (each view is
/// then worked out once): a subscriber sees what the other order gave (interfaces,
/// PvDs, addresses, file and system elements; element ids, which `show` leaves out,
/// may be numbered in another order).
#[test]
fn files_before_the_first_snapshot_give_the_state_of_the_other_order() {
    let snapshot = Snapshot {
        links: vec![
            LinkFact { ifindex: 1, name: "lo".into(), flags: LinkFlags { loopback: true, ..up() }, mtu: None },
            LinkFact { ifindex: 2, name: "eth0".into(), flags: up(), mtu: None },
            LinkFact { ifindex: 3, name: "wlan0".into(), flags: up(), mtu: None },
        ],
        addrs: vec![
            addr_fact(1, "127.0.0.1", 8, Scope::Global),
            addr_fact(2, "198.51.100.2", 24, Scope::Global),
            addr_fact(2, "fd6d:6966:a::2", 64, Scope::Global),
            addr_fact(3, "203.0.113.9", 24, Scope::Global),
        ],
        routes: vec![],
        prefix_routes: vec![],
    };
    let element = |link: LinkRef, server: &str| SourcedElement {
        link,
        kind: ElementKind::Static,
        server: None,
        data: ConfigData { dns_servers: ips(&[server]), ..Default::default() },
        lifetime: None,
        lease_address: None,
        configuring: false,
        besides_heard_ra: false,
    };
    let files = || {
        vec![
            Fact::Sourced {
                origin: "/etc/mif.conf".into(),
                elements: vec![
                    element(LinkRef::Name("eth0".into()), "198.51.100.53"),
                    element(LinkRef::Name("gone0".into()), "198.18.0.53"),
                ],
            },
            Fact::Sourced { origin: "/run/lease".into(), elements: vec![element(LinkRef::Index(3), "203.0.113.53")] },
            Fact::System {
                origin: "/etc/resolv.conf".into(),
                data: Some(ConfigData { dns_servers: ips(&["203.0.113.1"]), ..Default::default() }),
            },
        ]
    };
    let mut snapshot_first = Harness::new();
    let mut files_first = Harness::new();
    let now = snapshot_first.now;
    snapshot_first.model.resync(snapshot.clone(), now, &mut Vec::new());
    snapshot_first.model.apply_all(files(), now, &mut Vec::new());
    files_first.now = now;
    files_first.model.apply_all(files(), now, &mut Vec::new());
    files_first.model.resync(snapshot, now, &mut Vec::new());
    let state = snapshot_first.subscribe_all();
    assert!(state.iter().any(|l| l.ends_with(" Static 198.51.100.53")), "{state:?}");
    assert!(state.iter().any(|l| l.ends_with(" Static 203.0.113.53")), "{state:?}");
    assert!(state.iter().any(|l| l.ends_with(" System 203.0.113.1")), "{state:?}");
    assert_eq!(files_first.subscribe_all(), state);
}

#[test]
fn resync_removes_vanished_interfaces_in_order() {
    let mut h = two_links();
    h.subscribe_all();
    let snapshot = Snapshot {
        links: vec![LinkFact { ifindex: 1, name: "lo".into(), flags: LinkFlags { loopback: true, ..up() }, mtu: None }],
        addrs: vec![addr_fact(1, "127.0.0.1", 8, Scope::Global)],
        routes: vec![],
        prefix_routes: vec![],
    };
    let mut out = Vec::new();
    h.model.resync(snapshot, h.now, &mut out);
    let shown: Vec<String> = out.iter().map(show).collect();
    assert_eq!(
        shown,
        vec![
            "-addr 2 198.51.100.2/24",
            "-addr 3 fd6d:6966:a::2/64",
            "-pvd 2 eth0/ipv4",
            "-pvd 3 eth0/ipv6",
            "-if 2 eth0"
        ]
    );
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

// ---- Configuration elements ----

fn rdnss(ifindex: u32, router: &str, lifetime: u32, servers: &[&str]) -> Fact {
    Fact::Ra {
        ifindex,
        router: Some(router.parse().unwrap()),
        option: RaOption::Rdnss { lifetime, servers: servers.iter().map(|s| s.parse().unwrap()).collect() },
    }
}

fn dnssl(ifindex: u32, router: &str, lifetime: u32, domains: &[&str]) -> Fact {
    Fact::Ra {
        ifindex,
        router: Some(router.parse().unwrap()),
        option: RaOption::Dnssl { lifetime, domains: domains.iter().map(|s| s.to_string()).collect() },
    }
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[test]
fn ra_dns_options_make_one_element_per_router_and_updates_follow() {
    let mut h = two_links();
    h.subscribe_all();
    assert_eq!(h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"])]), vec!["+elem 3 Ra fd6d:6966:a::1"]);
    assert_eq!(h.apply(vec![dnssl(2, "fe80::1", 30, &["A.Example"])]), vec!["+elem 3 Ra fd6d:6966:a::1,a.example"]);
    // The same RA again within a second: no change.
    assert!(h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"])]).is_empty());
    // A second router: a second element.
    assert_eq!(h.apply(vec![rdnss(2, "fe80::2", 60, &["fd6d:6966:a::53"])]), vec!["+elem 3 Ra fd6d:6966:a::53"]);
    // Lifetime 0 withdraws at once.
    assert_eq!(h.apply(vec![rdnss(2, "fe80::2", 0, &["fd6d:6966:a::53"])]), vec!["-elem 3 Ra fd6d:6966:a::53"]);
}

#[test]
fn ra_entries_expire_by_themselves() {
    let mut h = two_links();
    h.subscribe_all();
    h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"]), dnssl(2, "fe80::1", 10, &["a.example"])]);
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(10)));
    let mut out = Vec::new();
    h.model.expire(h.now + Duration::from_secs(11), &mut out);
    let shown: Vec<String> = out.iter().map(show).collect();
    assert_eq!(shown, vec!["+elem 3 Ra fd6d:6966:a::1"], "the domain expired: an update");
    out.clear();
    h.model.expire(h.now + Duration::from_secs(31), &mut out);
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), vec!["-elem 3 Ra fd6d:6966:a::1"]);
    assert_eq!(h.model.next_deadline(h.now), None, "nothing left to wake up for");
}

#[test]
fn ra_before_the_address_attaches_when_the_pvd_appears() {
    let mut h = Harness::new();
    h.subscribe_all();
    let out = h.apply_following(vec![
        link(4, "mif0", up()),
        addr(4, "fe80::2", 64),
        rdnss(4, "fe80::1", 30, &["fd6d:6966:a::1"]),
    ]);
    assert_eq!(out, vec!["+if 4 mif0", "up 4 NoAddress"]);
    let out = h.apply_following(vec![addr(4, "fd6d:6966:a::2", 64)]);
    assert_eq!(out, vec!["+pvd 1 mif0/ipv6", "+elem 1 Ra fd6d:6966:a::1", "+addr 1 fd6d:6966:a::2/64"]);
}

#[test]
fn removal_order_addresses_elements_pvds_interface() {
    let mut h = two_links();
    h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"])]);
    h.subscribe_all();
    assert_eq!(
        h.apply(vec![Fact::LinkRemoved { ifindex: 2 }]),
        vec![
            "-addr 2 198.51.100.2/24",
            "-addr 3 fd6d:6966:a::2/64",
            "-elem 3 Ra fd6d:6966:a::1",
            "-pvd 2 eth0/ipv4",
            "-pvd 3 eth0/ipv6",
            "-if 2 eth0"
        ]
    );
    // The RA state went with the interface: nothing to expire.
    assert_eq!(h.model.next_deadline(h.now), None);
}

#[test]
fn ra_default_route_gives_the_element_its_router() {
    let mut h = two_links();
    h.subscribe_all();
    let route = RouteFact {
        family: Family::V6,
        ifindex: 2,
        gateway: Some("fe80::1".parse().unwrap()),
        metric: 1024,
        from_ra: true,
        lifetime: Some(1800),
    };
    assert_eq!(h.apply(vec![Fact::Route(route.clone())]), vec!["+elem 3 Ra gw:fe80::1"]);
    assert_eq!(
        h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"])]),
        vec!["+elem 3 Ra fd6d:6966:a::1,gw:fe80::1"]
    );
    // The router withdrew (lifetime 0): the PvD is going away now (3.2.7.26.4), its
    // element loses the router.
    assert_eq!(
        h.apply(vec![Fact::RouteRemoved(route.clone())]),
        vec!["going 2 eth0/ipv6 0ms RouterWithdrawn", "+elem 3 Ra fd6d:6966:a::1"]
    );
    assert_eq!(h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"])]), Vec::<String>::new(), "said once");
    // It came back: no longer.
    assert_eq!(
        h.apply(vec![Fact::Route(route)]),
        vec!["cancel 2 eth0/ipv6 RouterWithdrawn", "+elem 3 Ra fd6d:6966:a::1,gw:fe80::1"]
    );
    // A default route not from an RA (static, DHCPv4) going says nothing of the kind.
    let static4 = static_route4(2, "198.51.100.1", 0);
    h.apply(vec![Fact::Route(static4.clone())]);
    assert_eq!(h.apply(vec![Fact::RouteRemoved(static4)]), Vec::<String>::new());
}

#[test]
fn file_elements_attach_by_name_and_family_and_go_with_the_file() {
    let mut h = two_links();
    h.subscribe_all();
    let lease = SourcedElement {
        link: LinkRef::Name("eth0".into()),
        kind: ElementKind::Dhcpv4,
        server: Some("198.51.100.1".parse().unwrap()),
        data: ConfigData {
            dns_servers: ips(&["198.51.100.1"]),
            search_domains: vec!["a.example".into()],
            ..Default::default()
        },
        lifetime: None,
        lease_address: None,
        configuring: false,
        besides_heard_ra: false,
    };
    let origin = "/run/resolvconf/interface/eth0.dhcp".to_string();
    assert_eq!(
        h.apply(vec![Fact::Sourced { origin: origin.clone(), elements: vec![lease] }]),
        vec!["+elem 2 Dhcpv4 198.51.100.1,a.example"]
    );
    // A static element splits by family.
    let stat = SourcedElement {
        link: LinkRef::Index(2),
        kind: ElementKind::Static,
        server: None,
        data: ConfigData { dns_servers: ips(&["198.51.100.53", "fd6d:6966:a::53"]), ..Default::default() },
        lifetime: None,
        lease_address: None,
        configuring: false,
        besides_heard_ra: false,
    };
    assert_eq!(
        h.apply(vec![Fact::Sourced { origin: "/etc/mif.conf".into(), elements: vec![stat] }]),
        vec!["+elem 2 Static 198.51.100.53", "+elem 3 Static fd6d:6966:a::53"]
    );
    assert_eq!(
        h.apply(vec![Fact::Sourced { origin, elements: vec![] }]),
        vec!["-elem 2 Dhcpv4 198.51.100.1,a.example"]
    );
}

#[test]
fn a_scan_of_many_files_refreshes_each_interface_once_and_announces_as_one_by_one() {
    // 1,000 state files, one server each, for eth0 (one of them) and for interfaces
    // that do not exist: a directory an attacker or a busy host filled.
    let facts: Vec<Fact> = (0..1000)
        .map(|i| {
            let link = if i == 500 { LinkRef::Index(2) } else { LinkRef::Name(format!("gone{i}")) };
            let element = SourcedElement {
                link,
                kind: ElementKind::Dhcpv4,
                server: None,
                data: ConfigData { dns_servers: ips(&["198.51.100.1"]), ..Default::default() },
                lifetime: None,
                lease_address: None,
                configuring: false,
                besides_heard_ra: false,
            };
            Fact::Sourced { origin: format!("/run/resolvconf/interface/f{i}"), elements: vec![element] }
        })
        .collect();
    let mut one_by_one = two_links();
    one_by_one.subscribe_all();
    let expected = one_by_one.apply(facts.clone());
    let mut h = two_links();
    h.subscribe_all();
    let before = h.model.refreshes;
    let mut out = Vec::new();
    let now = h.now;
    h.model.apply_all(facts, now, &mut out);
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), expected);
    assert_eq!(expected, vec!["+elem 2 Dhcpv4 198.51.100.1"]);
    assert_eq!(h.model.refreshes - before, 2, "lo and eth0 once each, not once per file");
    assert!(one_by_one.model.refreshes >= 2000, "what one fact at a time costs");
}

#[test]
fn one_address_changing_touches_that_address_only() {
    // 2,000 addresses on eth0: adding, updating and removing one is a one-address
    // refresh (each checked against a whole one, `check_patched`), announced alone.
    let mut h = two_links();
    let many: Vec<Fact> = (0..2000u32).map(|i| addr(2, &format!("198.18.{}.{}", i / 250, i % 250 + 1), 16)).collect();
    h.apply(many);
    h.subscribe_all();
    let before = h.model.patched;
    assert_eq!(h.apply(vec![addr(2, "198.19.0.1", 16)]), vec!["+addr 2 198.19.0.1/16"]);
    let deprecated = Fact::Addr(AddrFact {
        preferred: Some(0),
        ..match addr(2, "198.19.0.1", 16) {
            Fact::Addr(a) => a,
            _ => unreachable!(),
        }
    });
    assert_eq!(h.apply(vec![deprecated]).len(), 1, "the update alone");
    let removed = Fact::AddrRemoved { ifindex: 2, addr: "198.19.0.1".parse().unwrap(), prefix_len: 16 };
    assert_eq!(h.apply(vec![removed]), vec!["-addr 2 198.19.0.1/16"]);
    assert_eq!(h.model.patched - before, 3, "three one-address refreshes");
    // The PvD's last address going, or its first coming, is a whole refresh.
    let mut h = two_links();
    h.subscribe_all();
    let before = h.model.patched;
    let gone = Fact::AddrRemoved { ifindex: 2, addr: "198.51.100.2".parse().unwrap(), prefix_len: 24 };
    assert_eq!(h.apply(vec![gone]), vec!["-addr 2 198.51.100.2/24", "-pvd 2 eth0/ipv4"]);
    assert_eq!(h.model.patched, before);
}

#[test]
fn where_resolv_conf_servers_belong_is_worked_out_once_per_pass() {
    // 200 interfaces, each with an address: a resolv.conf change refreshes every one,
    // and the System servers' placement (which depends on every interface's addresses
    // and the default routes) is worked out once, not once per PvD.
    let mut h = two_links();
    let mut facts = Vec::new();
    for i in 0..200u32 {
        facts.push(link(10 + i, &format!("veth{i}"), up()));
        facts.push(addr(10 + i, &format!("198.18.{i}.2"), 24));
    }
    h.apply(facts);
    h.subscribe_all();
    let resolv = ConfigData { dns_servers: ips(&["198.18.0.53"]), ..Default::default() };
    let before = h.model.placements.get();
    let out = h.apply(vec![Fact::System { origin: "/etc/resolv.conf".into(), data: Some(resolv) }]);
    assert_eq!(h.model.placements.get() - before, 1, "one placement for the pass over 202 interfaces");
    // On veth0's subnet (198.18.0.0/24) only: one element, on veth0's IPv4 PvD.
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].ends_with(" System 198.18.0.53"), "{out:?}");
}

#[test]
fn file_elements_with_a_lifetime_expire() {
    let mut h = two_links();
    h.subscribe_all();
    let lease = SourcedElement {
        link: LinkRef::Index(2),
        kind: ElementKind::Dhcpv4,
        server: None,
        data: ConfigData { dns_servers: ips(&["198.51.100.1"]), ..Default::default() },
        lifetime: Some(600),
        lease_address: None,
        configuring: false,
        besides_heard_ra: false,
    };
    h.apply(vec![Fact::Sourced { origin: "lease".into(), elements: vec![lease] }]);
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(600)));
    let mut out = Vec::new();
    h.model.expire(h.now + Duration::from_secs(601), &mut out);
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), vec!["-elem 2 Dhcpv4 198.51.100.1"]);
}

#[test]
fn system_element_follows_the_default_route() {
    // A server on no link's subnet: reached through the default route.
    let mut h = two_links();
    h.apply(vec![link(5, "mif1", up()), addr(5, "203.0.113.2", 24)]);
    h.subscribe_all();
    let resolv = ConfigData {
        dns_servers: ips(&["198.18.0.53"]),
        search_domains: vec!["b.example".into()],
        ..Default::default()
    };
    assert!(
        h.apply(vec![Fact::System { origin: "/etc/resolv.conf".into(), data: Some(resolv) }]).is_empty(),
        "no default route yet"
    );
    let via_eth0 = static_route4(2, "198.51.100.1", 100);
    assert_eq!(h.apply(vec![Fact::Route(via_eth0.clone())]), vec!["+elem 2 System 198.18.0.53,b.example"]);
    // A better default route through mif1 moves the element there.
    let via_mif1 = static_route4(5, "203.0.113.1", 50);
    assert_eq!(
        h.apply(vec![Fact::Route(via_mif1)]),
        vec!["-elem 2 System 198.18.0.53,b.example", "+elem 4 System 198.18.0.53,b.example"]
    );
}

#[test]
fn resolv_conf_servers_go_to_the_link_that_reaches_them() {
    let mut h = two_links();
    h.apply(vec![link(5, "mif1", up()), addr(5, "203.0.113.2", 24)]);
    let via_eth0 = static_route4(2, "198.51.100.1", 100);
    h.apply(vec![Fact::Route(via_eth0)]);
    h.subscribe_all();
    // mif1's server on mif1's subnet, one reached only by the default route, a stub.
    let resolv = ConfigData {
        dns_servers: ips(&["203.0.113.1", "198.18.0.53", "127.0.0.53"]),
        search_domains: vec!["b.example".into()],
        ..Default::default()
    };
    assert_eq!(
        h.apply(vec![Fact::System { origin: "/etc/resolv.conf".into(), data: Some(resolv) }]),
        vec!["+elem 2 System 198.18.0.53,b.example", "+elem 4 System 203.0.113.1"]
    );
    let link4 = |pvd| h.model.pvd_link(pvd).unwrap().dns_servers;
    assert_eq!(link4(2), ips(&["198.18.0.53"]), "eth0/ipv4 never asks mif1's server");
    assert_eq!(link4(4), ips(&["203.0.113.1"]));
    // Only a loopback stub (systemd-resolved): no PvD gets it.
    let stub = ConfigData { dns_servers: ips(&["127.0.0.53"]), ..Default::default() };
    assert_eq!(
        h.apply(vec![Fact::System { origin: "/etc/resolv.conf".into(), data: Some(stub) }]),
        vec!["-elem 2 System 198.18.0.53,b.example", "-elem 4 System 203.0.113.1"]
    );
}

#[test]
fn resolv_conf_servers_reached_by_a_specific_route_go_to_its_link() {
    // eth0 holds the default route; mif1 has a route to 198.18.53.0/24 (behind its
    // router): the server there is mif1's, not the default route holder's.
    let mut h = two_links();
    h.apply(vec![link(5, "mif1", up()), addr(5, "203.0.113.2", 24)]);
    let via_eth0 = static_route4(2, "198.51.100.1", 100);
    h.apply(vec![Fact::Route(via_eth0)]);
    h.subscribe_all();
    let resolv = ConfigData { dns_servers: ips(&["198.18.53.53", "198.18.0.53"]), ..Default::default() };
    assert_eq!(
        h.apply(vec![Fact::System { origin: "/etc/resolv.conf".into(), data: Some(resolv) }]),
        vec!["+elem 2 System 198.18.53.53,198.18.0.53"],
        "no specific route yet: both behind the default route"
    );
    // A route holding no server changes nothing and refreshes nothing.
    let before = h.model.placements.get();
    assert!(h.apply(vec![Fact::PrefixRoute(prefix_route(5, "198.19.0.0", 16, 0))]).is_empty());
    assert_eq!(h.model.placements.get(), before, "no placement worked out for an unrelated route");
    assert_eq!(
        h.apply(vec![Fact::PrefixRoute(prefix_route(5, "198.18.53.0", 24, 0))]),
        vec!["+elem 2 System 198.18.0.53", "+elem 4 System 198.18.53.53"]
    );
    assert_eq!(h.model.pvd_link(2).unwrap().dns_servers, ips(&["198.18.0.53"]), "eth0/ipv4 never asks it");
    // A longer prefix through eth0 wins over mif1's /24; equal prefixes: the lower metric.
    assert_eq!(
        h.apply(vec![Fact::PrefixRoute(prefix_route(2, "198.18.53.0", 25, 0))]),
        vec!["+elem 2 System 198.18.53.53,198.18.0.53", "-elem 4 System 198.18.53.53"]
    );
    h.apply(vec![Fact::PrefixRouteRemoved(prefix_route(2, "198.18.53.0", 25, 0))]);
    assert_eq!(h.model.pvd_link(4).unwrap().dns_servers, ips(&["198.18.53.53"]));
    assert_eq!(
        h.apply(vec![Fact::PrefixRoute(prefix_route(2, "198.18.53.0", 24, 10))]),
        Vec::<String>::new(),
        "mif1's route has the lower metric"
    );
    // A more specific subnet of an address wins over a shorter route; an equal one
    // is on-link first.
    h.apply(vec![Fact::PrefixRouteRemoved(prefix_route(2, "198.18.53.0", 24, 10))]);
    assert_eq!(
        h.apply(vec![addr(2, "198.18.53.2", 24)]),
        vec!["+elem 2 System 198.18.53.53,198.18.0.53", "+addr 2 198.18.53.2/24", "-elem 4 System 198.18.53.53"]
    );
    // The route dump replaces the family's prefix routes; the link going removes its own.
    h.apply(vec![Fact::AddrRemoved { ifindex: 2, addr: "198.18.53.2".parse().unwrap(), prefix_len: 24 }]);
    assert_eq!(h.model.pvd_link(4).unwrap().dns_servers, ips(&["198.18.53.53"]));
    let dump = Fact::Routes { family: Family::V4, routes: vec![], prefixes: vec![] };
    let out = h.apply(vec![dump]);
    assert!(out.contains(&"-elem 4 System 198.18.53.53".to_string()), "{out:?}");
    h.apply(vec![Fact::PrefixRoute(prefix_route(5, "198.18.53.0", 24, 0))]);
    let out = h.apply(vec![Fact::LinkRemoved { ifindex: 5 }]);
    assert!(out.contains(&"-elem 4 System 198.18.53.53".to_string()), "{out:?}");
    assert!(h.model.prefix_routes.is_empty());
}

#[test]
fn a_link_going_gives_its_resolv_conf_servers_back() {
    // tun0 (5) reaches 198.18.53.53 by a route; eth0 (2) holds the default route.
    let mut h = two_links();
    h.apply(vec![link(5, "tun0", up()), addr(5, "203.0.113.2", 24)]);
    h.apply(vec![Fact::Route(static_route4(2, "198.51.100.1", 100))]);
    let route = |ifindex| prefix_route(ifindex, "198.18.53.0", 24, 0);
    h.apply(vec![Fact::PrefixRoute(route(5))]);
    let resolv = ConfigData { dns_servers: ips(&["198.18.53.53", "198.18.0.53"]), ..Default::default() };
    h.apply(vec![Fact::System { origin: "/etc/resolv.conf".into(), data: Some(resolv) }]);
    h.subscribe_all();
    let servers = |h: &Harness, pvd| h.model.pvd_link(pvd).map(|l| l.dns_servers).unwrap_or_default();
    assert_eq!(servers(&h, 4), ips(&["198.18.53.53"]));
    // The kernel drops a down link's IPv4 routes silently: its prefix route says re-read.
    let down = link(5, "tun0", LinkFlags { up: false, ..LinkFlags::default() });
    assert!(h.model.may_drop_ipv4_routes(&down), "a link with a prefix route going down");
    let out = h.apply(vec![down]);
    assert!(out.contains(&"+elem 2 System 198.18.53.53,198.18.0.53".to_string()), "back to eth0: {out:?}");
    h.apply(vec![link(5, "tun0", up())]);
    assert_eq!(servers(&h, 4), ips(&["198.18.53.53"]), "up again, the route still mirrored");
    let out = h.apply(vec![Fact::LinkRemoved { ifindex: 5 }]);
    assert!(out.contains(&"+elem 2 System 198.18.53.53,198.18.0.53".to_string()), "removed: {out:?}");
    // A device route on a link with no IPv4 address: the server stays with eth0.
    h.apply(vec![link(6, "eth1", up()), addr(6, "fd6d:6966:b::2", 64), Fact::PrefixRoute(route(6))]);
    assert_eq!(servers(&h, 2), ips(&["198.18.53.53", "198.18.0.53"]));
}

#[test]
fn prefix_routes_are_bounded() {
    let mut h = two_links();
    let many: Vec<PrefixRouteFact> = (0..mirror::MAX_PREFIX_ROUTES as u32 + 10)
        .map(|i| prefix_route(2, &std::net::Ipv4Addr::from(0xc612_0000 + (i << 8)).to_string(), 24, 0))
        .collect();
    h.apply(vec![Fact::Routes { family: Family::V4, routes: vec![], prefixes: many.clone() }]);
    assert_eq!(h.model.prefix_routes.len(), mirror::MAX_PREFIX_ROUTES);
    h.apply(vec![Fact::PrefixRoute(many[mirror::MAX_PREFIX_ROUTES + 5])]);
    assert_eq!(h.model.prefix_routes.len(), mirror::MAX_PREFIX_ROUTES, "one more by event is refused too");
}

#[test]
fn get_configuration_data_merges_selects_and_says_when_there_is_none() {
    let mut h = two_links();
    h.apply(vec![
        rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"]),
        dnssl(2, "fe80::1", 30, &["a.example"]),
        Fact::Route(RouteFact {
            family: Family::V6,
            ifindex: 2,
            gateway: Some("fe80::1".parse().unwrap()),
            metric: 1024,
            from_ra: true,
            lifetime: Some(1800),
        }),
    ]);
    let mut out = Vec::new();
    h.model.get_configuration_data(3, None, InfoId::All, &mut out).unwrap();
    h.model.get_configuration_data(3, None, InfoId::DnsServers, &mut out).unwrap();
    h.model.get_configuration_data(3, Some(ElementKind::Dhcpv6), InfoId::All, &mut out).unwrap();
    h.model.get_configuration_data(2, None, InfoId::DnsServers, &mut out).unwrap();
    assert_eq!(
        out.iter().map(show).collect::<Vec<_>>(),
        vec!["data 3 fd6d:6966:a::1,a.example,gw:fe80::1", "data 3 fd6d:6966:a::1", "nodata 3", "nodata 2"]
    );
    assert_eq!(h.model.get_configuration_data(99, None, InfoId::All, &mut out), Err(Error::UnknownPvd));
}

#[test]
fn element_subscription_ends_with_its_pvd_and_stop_is_checked() {
    let mut h = two_links();
    h.subscribe_all();
    assert_eq!(h.model.stop_announcing_elements(3), Ok(()));
    assert_eq!(h.model.stop_announcing_elements(3), Err(Error::NotSubscribed));
    assert!(h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"])]).is_empty());
    assert_eq!(h.model.stop_announcing_elements(42), Err(Error::UnknownPvd));
}

#[test]
fn ipv4_route_reread_only_when_a_default_route_holder_changes() {
    let mut h = two_links();
    let route = static_route4(2, "198.51.100.1", 0);
    let down = link(2, "eth0", LinkFlags { up: false, ..LinkFlags::default() });
    let del_v4 = del_addr(2, "198.51.100.2", 24);
    assert!(!h.model.may_drop_ipv4_routes(&down), "no default route on eth0 yet");
    h.apply(vec![Fact::Route(route)]);
    assert!(h.model.may_drop_ipv4_routes(&down));
    assert!(h.model.may_drop_ipv4_routes(&del_v4));
    assert!(!h.model.may_drop_ipv4_routes(&link(2, "eth0", up())), "flags unchanged");
    assert!(!h.model.may_drop_ipv4_routes(&del_addr(2, "fd6d:6966:a::2", 64)), "IPv6 address");
    assert!(!h.model.may_drop_ipv4_routes(&del_addr(1, "127.0.0.1", 8)), "another link");
}

// ---- Readiness (our addition: docs/configuration.md, "Readiness") ----

fn ra_other(ifindex: u32, router: &str, kind: u8) -> Fact {
    Fact::Ra { ifindex, router: Some(router.parse().unwrap()), option: RaOption::Other { kind } }
}

/// eth0 with a static ULA and IPv4 address, a 4 s learning window, everything subscribed.
fn learning_host() -> Harness {
    let mut h = Harness::new();
    h.model.set_learning_window(Duration::from_secs(4));
    h.apply(vec![link(2, "eth0", LinkFlags::default()), addr(2, "198.51.100.2", 24), addr(2, "fd6d:6966:a::2", 64)]);
    h.subscribe_all();
    h
}

fn expire_at(h: &mut Harness, after: Duration) -> Vec<String> {
    h.now += after;
    let mut out = Vec::new();
    h.model.expire(h.now, &mut out);
    out.iter().map(show).collect()
}

#[test]
fn a_link_coming_up_learns_until_its_router_answers() {
    let mut h = learning_host();
    // Up with carrier: both PvDs appear, learning.
    let out = h.apply_following(vec![link(2, "eth0", up())]);
    assert!(out.contains(&"+pvd 1 eth0/ipv4".to_string()) && out.contains(&"+pvd 2 eth0/ipv6".to_string()), "{out:?}");
    assert!(h.model.is_learning(1) && h.model.is_learning(2));
    let mut data = Vec::new();
    h.model.get_configuration_data(2, None, InfoId::DnsServers, &mut data).unwrap();
    assert_eq!(data.iter().map(show).collect::<Vec<_>>(), vec!["learning 2 "]);
    // The RA's first option: its other options are awaited for RA_GRACE.
    h.now += Duration::from_millis(300);
    assert_eq!(h.apply(vec![ra_other(2, "fe80::1", 3)]), Vec::<String>::new());
    assert!(h.model.is_learning(2));
    assert_eq!(h.apply(vec![rdnss(2, "fe80::1", 600, &["fd6d:6966:a::53"])]), vec!["+elem 2 Ra fd6d:6966:a::53"]);
    assert_eq!(expire_at(&mut h, RA_GRACE), vec!["complete 2 eth0/ipv6"]);
    assert!(!h.model.is_learning(2) && h.model.is_learning(1), "IPv4 waits for DHCP or the window");
    assert_eq!(expire_at(&mut h, Duration::from_secs(4)), vec!["complete 1 eth0/ipv4"]);
    let mut data = Vec::new();
    h.model.get_configuration_data(2, None, InfoId::DnsServers, &mut data).unwrap();
    assert_eq!(data.iter().map(show).collect::<Vec<_>>(), vec!["data 2 fd6d:6966:a::53"]);
}

#[test]
fn learning_ends_with_the_window_when_nobody_answers() {
    let mut h = learning_host();
    h.apply_following(vec![link(2, "eth0", up())]);
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(4)));
    assert_eq!(expire_at(&mut h, Duration::from_millis(3999)), Vec::<String>::new());
    assert_eq!(expire_at(&mut h, Duration::from_millis(1)), vec!["complete 1 eth0/ipv4", "complete 2 eth0/ipv6"]);
    assert_eq!(h.model.next_deadline(h.now), None, "an idle model sleeps");
    // A trigger while up (a Router Solicitation) starts learning again, IPv6 only.
    h.model.learn(2, Family::V6, h.now);
    assert!(h.model.is_learning(2) && !h.model.is_learning(1));
}

#[test]
fn a_link_managers_learned_servers_leave_out_what_a_heard_ra_lists() {
    // networkd's per-link file: fd6d:6966:a::53 (DHCPv6) and fd6d:6966:a::1 (the RA)
    // in one learned element; the RA the library hears lists ::1, which is its own.
    let mut h = two_links();
    h.subscribe_all();
    let learned = SourcedElement {
        link: LinkRef::Index(2),
        kind: ElementKind::Dhcpv6,
        server: None,
        data: ConfigData {
            dns_servers: ips(&["fd6d:6966:a::53", "fd6d:6966:a::1"]),
            search_domains: vec!["a.example".into(), "d6.example".into()],
            ..Default::default()
        },
        lifetime: None,
        lease_address: None,
        configuring: false,
        besides_heard_ra: true,
    };
    let facts = vec![Fact::Sourced { origin: "links/2".into(), elements: vec![learned] }];
    assert_eq!(h.apply(facts), vec!["+elem 3 Dhcpv6 fd6d:6966:a::53,fd6d:6966:a::1,a.example,d6.example"]);
    assert_eq!(
        h.apply(vec![rdnss(2, "fe80::1", 30, &["fd6d:6966:a::1"]), dnssl(2, "fe80::1", 30, &["a.example"])]),
        vec![
            "+elem 3 Ra fd6d:6966:a::1",
            "+elem 3 Dhcpv6 fd6d:6966:a::53,a.example,d6.example",
            "+elem 3 Ra fd6d:6966:a::1,a.example",
            "+elem 3 Dhcpv6 fd6d:6966:a::53,d6.example",
        ]
    );
    // The RA withdraws its server: the link manager still has it, so it is counted there again.
    assert_eq!(
        h.apply(vec![rdnss(2, "fe80::1", 0, &["fd6d:6966:a::1"])]),
        vec!["+elem 3 Ra a.example", "+elem 3 Dhcpv6 fd6d:6966:a::53,fd6d:6966:a::1,d6.example"]
    );
}

#[test]
fn a_pvd_configured_by_dhcp_or_files_is_complete_at_once() {
    let mut h = learning_host();
    h.apply_following(vec![link(2, "eth0", up())]);
    let lease = SourcedElement {
        link: LinkRef::Index(2),
        kind: ElementKind::Dhcpv4,
        server: Some("198.51.100.1".parse().unwrap()),
        data: ConfigData { dns_servers: ips(&["198.51.100.1"]), ..Default::default() },
        lifetime: Some(600),
        lease_address: None,
        configuring: false,
        besides_heard_ra: false,
    };
    assert_eq!(
        h.apply(vec![Fact::Sourced { origin: "lease".into(), elements: vec![lease] }]),
        vec!["+elem 1 Dhcpv4 198.51.100.1", "complete 1 eth0/ipv4"]
    );
    assert!(h.model.is_learning(2), "IPv6 still waits for its router");
}

#[test]
fn a_new_model_learns_nothing_without_a_window() {
    let mut h = Harness::new();
    h.apply(vec![link(2, "eth0", up()), addr(2, "fd6d:6966:a::2", 64)]);
    h.model.learn(2, Family::V6, h.now);
    assert!(!h.model.is_learning(1));
    assert_eq!(h.model.next_deadline(h.now), None);
}

#[test]
fn captive_portal_and_pref64_ride_the_ra_element() {
    let mut h = two_links();
    h.subscribe_all();
    let router = "fe80::1";
    let portal = Fact::Ra {
        ifindex: 2,
        router: Some(router.parse().unwrap()),
        option: RaOption::CaptivePortal { uri: "https://portal.example/api".into() },
    };
    let prefix = Fact::Ra {
        ifindex: 2,
        router: Some(router.parse().unwrap()),
        option: RaOption::Pref64 { prefix: "64:ff9b::".parse().unwrap(), prefix_len: 96, lifetime: 600 },
    };
    assert_eq!(h.apply(vec![portal]).len(), 1);
    h.apply(vec![prefix]);
    let mut out = Vec::new();
    h.model.get_configuration_data(3, None, InfoId::CaptivePortal, &mut out).unwrap();
    h.model.get_configuration_data(3, None, InfoId::Pref64, &mut out).unwrap();
    match &out[..] {
        [Announcement::ConfigData { data: a, .. }, Announcement::ConfigData { data: b, .. }] => {
            assert_eq!(a.captive_portal.as_deref(), Some("https://portal.example/api"));
            assert_eq!(a.pref64, None);
            assert_eq!(b.pref64, Some(("64:ff9b::".parse().unwrap(), 96)));
        }
        other => panic!("{other:?}"),
    }
    // The NAT64 prefix expires with its lifetime; the portal URI stays with the router.
    h.now += Duration::from_secs(601);
    let mut gone = Vec::new();
    h.model.expire(h.now, &mut gone);
    let mut out = Vec::new();
    h.model.get_configuration_data(3, None, InfoId::Pref64, &mut out).unwrap();
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), vec!["nodata 3"]);
}

#[test]
fn a_lease_lives_and_counts_down_with_its_address() {
    let mut h = two_links();
    h.subscribe_all();
    let lease = SourcedElement {
        link: LinkRef::Index(2),
        kind: ElementKind::Dhcpv4,
        server: Some("198.51.100.1".parse().unwrap()),
        data: ConfigData { dns_servers: ips(&["198.51.100.53"]), ..Default::default() },
        lifetime: None,
        lease_address: Some("198.51.100.150".parse().unwrap()),
        configuring: false,
        besides_heard_ra: false,
    };
    // The address is not there yet: neither is the lease.
    assert!(h.apply(vec![Fact::Sourced { origin: "lease".into(), elements: vec![lease] }]).is_empty());
    let leased = |valid| {
        Fact::Addr(AddrFact {
            ifindex: 2,
            addr: "198.51.100.150".parse().unwrap(),
            prefix_len: 24,
            scope: Scope::Global,
            flags: AddrFlags::default(),
            valid: Some(valid),
            preferred: Some(valid),
            lifetime_phase_ms: 0,
        })
    };
    let out = h.apply(vec![leased(120)]);
    assert!(out.contains(&"+elem 2 Dhcpv4 198.51.100.53".to_string()), "{out:?}");
    let mut data = Vec::new();
    h.model.announce_elements(2, h.now, &mut data).unwrap();
    match &data[..] {
        [Announcement::Element { element, .. }] => assert_eq!(element.lifetime, Some(120)),
        other => panic!("{other:?}"),
    }
    // A renewal (the client sets a fresh valid lifetime): the element follows.
    h.now += Duration::from_secs(60);
    let out = h.apply(vec![leased(120)]);
    assert!(out.contains(&"+elem 2 Dhcpv4 198.51.100.53".to_string()), "re-announced with its new lifetime: {out:?}");
    // The lease ends: its address goes, and so does the element.
    let out = h.apply(vec![del_addr(2, "198.51.100.150", 24)]);
    assert!(out.contains(&"-elem 2 Dhcpv4 198.51.100.53".to_string()), "{out:?}");
}

#[test]
fn a_flood_of_router_advertisements_is_bounded() {
    let mut h = two_links();
    // 600 RAs from one router, each with a new server and a new domain.
    for i in 0..600u32 {
        h.apply(vec![
            rdnss(2, "fe80::1", 600, &[&format!("fd6d:6966:a::{:x}", 0x1000 + i)]),
            dnssl(2, "fe80::1", 600, &[&format!("d{i}.example")]),
        ]);
    }
    let link = h.model.pvd_link(3).unwrap();
    assert_eq!(link.dns_servers.len(), super::mirror::MAX_RA_SERVERS_PER_ROUTER);
    assert_eq!(link.search_domains.len(), super::mirror::MAX_RA_DOMAINS_PER_ROUTER);
    // 40 routers: 16 kept (the first), one server each, besides fe80::1's.
    for r in 2..42u32 {
        h.apply(vec![rdnss(2, &format!("fe80::{r:x}"), 600, &[&format!("fd6d:6966:b::{r:x}")])]);
    }
    let link = h.model.pvd_link(3).unwrap();
    assert_eq!(link.dns_servers.len(), super::mirror::MAX_RA_SERVERS_PER_ROUTER + 15);
    // A known server is refreshed, a withdrawal still works.
    h.apply(vec![rdnss(2, "fe80::1", 0, &["fd6d:6966:a::1000"])]);
    assert_eq!(h.model.pvd_link(3).unwrap().dns_servers.len(), super::mirror::MAX_RA_SERVERS_PER_ROUTER + 14);
}

#[test]
fn going_up_says_what_the_interface_waits_for_and_only_on_the_way_up() {
    let mut h = Harness::new();
    h.subscribe_all();
    let admin_down = LinkFlags::default();
    let no_carrier = LinkFlags { up: true, running: false, ..LinkFlags::default() };
    // Down: not going anywhere. Taken up without carrier, then the carrier comes.
    assert_eq!(h.apply_following(vec![link(6, "wl0", admin_down)]), vec!["+if 6 wl0"]);
    assert_eq!(h.apply(vec![link(6, "wl0", no_carrier)]), vec!["up 6 NoCarrier"]);
    assert_eq!(h.apply(vec![link(6, "wl0", no_carrier)]), Vec::<String>::new(), "said once");
    assert_eq!(h.apply(vec![link(6, "wl0", up())]), vec!["up 6 NoAddress"]);
    // Usable: the PvD says so; nothing more about going up.
    let out = h.apply_following(vec![addr(6, "198.51.100.2", 24)]);
    assert_eq!(out, vec!["+pvd 1 wl0/ipv4", "+addr 1 198.51.100.2/24"]);
    // Losing the carrier while up is going away, not up; its return brings the PvD back.
    let out = h.apply_following(vec![link(6, "wl0", no_carrier)]);
    assert_eq!(out, vec!["going 6 - 0ms CarrierLost", "-addr 1 198.51.100.2/24", "-pvd 1 wl0/ipv4"]);
    let out = h.apply_following(vec![link(6, "wl0", up())]);
    assert_eq!(out, vec!["cancel 6 - CarrierLost", "+pvd 1 wl0/ipv4", "+addr 1 198.51.100.2/24"]);
    // The last address removed from a usable link: not "going up" again.
    let out = h.apply_following(vec![del_addr(6, "198.51.100.2", 24)]);
    assert_eq!(out, vec!["-addr 1 198.51.100.2/24", "-pvd 1 wl0/ipv4"]);
    // Taken down and up again without an address: going up once more.
    assert_eq!(h.apply(vec![link(6, "wl0", admin_down)]), Vec::<String>::new());
    assert_eq!(h.apply(vec![link(6, "wl0", up())]), vec!["up 6 NoAddress"]);
    // A subscriber arriving now is told with the interface.
    let mut late = Vec::new();
    h.model.stop_announcing_interfaces().unwrap();
    h.model.announce_interfaces(&mut late);
    let late: Vec<String> = late.iter().map(show).collect();
    assert_eq!(late, vec!["+if 6 wl0", "up 6 NoAddress"]);
}

// ------------------------------------------------------------ connection viability

fn ip(a: &str) -> IpAddr {
    a.parse().unwrap()
}

#[test]
fn a_watched_connection_is_warned_of_its_own_address_and_told_when_it_is_gone() {
    let mut h = two_links();
    h.apply(vec![timed_addr(2, "fd6d:6966:a::7", 64, 600, 300)]);
    h.subscribe_all();
    let mut out = Vec::new();
    // Nothing holds yet: no message; the id is now taken.
    h.model.watch_connection(7, ip("fd6d:6966:a::7"), None, false, h.now, &mut out).unwrap();
    h.model.watch_connection(2, ip("fd6d:6966:a::2"), Some(2), false, h.now, &mut out).unwrap();
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(
        h.model.watch_connection(7, ip("fd6d:6966:a::7"), None, false, h.now, &mut out),
        Err(Error::DuplicateId)
    );
    // Not on any PvD (an address nobody holds; bound to an interface without it).
    assert_eq!(h.model.watch_connection(8, ip("fd6d:6966:a::99"), None, false, h.now, &mut out), Err(Error::NoPath));
    assert_eq!(h.model.watch_connection(8, ip("fd6d:6966:a::2"), Some(1), false, h.now, &mut out), Err(Error::NoPath));
    // Its own address deprecated while the PvD's other address stays preferred: the
    // connection is warned (it dies with its address), the PvD is not.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::7", 64, 40, 0)]);
    assert_eq!(out, vec!["conn-going 7 eth0/ipv6 40000ms AddressesDeprecated", "+addr 3 fd6d:6966:a::7/64"]);
    // Refreshed: cancelled, before the address update.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::7", 64, 600, 300)]);
    assert_eq!(out, vec!["conn-cancel 7 eth0/ipv6 Some(AddressesDeprecated)", "+addr 3 fd6d:6966:a::7/64"]);
    // Removed: gone, before the No Address; the watch ends with it.
    let out = h.apply(vec![del_addr(2, "fd6d:6966:a::7", 64)]);
    assert_eq!(out, vec!["conn-gone 7 fd6d:6966:a::7 eth0/ipv6 AddressRemoved", "-addr 3 fd6d:6966:a::7/64"]);
    assert_eq!(h.model.unwatch_connection(7), Err(Error::UnknownConnection));
    // The interface vanishes: the other watch is gone too, before the announcements.
    let out = h.apply(vec![Fact::LinkRemoved { ifindex: 2 }]);
    assert_eq!(
        out.first().map(String::as_str),
        Some("conn-gone 2 fd6d:6966:a::2 eth0/ipv6 InterfaceRemoved"),
        "{out:?}"
    );
}

#[test]
fn a_watched_connection_hears_of_a_carrier_loss_and_its_lifetime_ending() {
    let mut h = two_links();
    h.model.set_going_away_horizon(Duration::from_secs(60));
    h.apply(vec![timed_addr(2, "198.51.100.9", 24, 100, 100)]);
    let mut out = Vec::new();
    h.model.watch_connection(9, ip("198.51.100.9"), None, false, h.now, &mut out).unwrap();
    h.model.watch_connection(3, ip("198.51.100.2"), None, false, h.now, &mut out).unwrap();
    assert!(out.is_empty());
    // The engine wakes when the address comes within the horizon: then the warning.
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(40)));
    h.now += Duration::from_secs(40);
    let mut out = Vec::new();
    h.model.expire(h.now, &mut out);
    let out: Vec<String> = out.iter().map(show).collect();
    assert_eq!(out, vec!["conn-going 9 eth0/ipv4 60000ms LifetimeEnding"]);
    // A connection watched while a warning holds learns it at once.
    let mut out = Vec::new();
    h.model.unwatch_connection(9).unwrap();
    h.model.watch_connection(9, ip("198.51.100.9"), None, false, h.now, &mut out).unwrap();
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), vec!["conn-going 9 eth0/ipv4 60000ms LifetimeEnding"]);
    // Carrier lost: warned with deadline 0, then gone (the address stays in the kernel).
    let no_carrier = LinkFlags { up: true, running: false, ..LinkFlags::default() };
    let out = h.apply(vec![link(2, "eth0", no_carrier)]);
    let want = [
        "conn-going 9 eth0/ipv4 0ms CarrierLost",
        "conn-gone 9 198.51.100.9 eth0/ipv4 PvdLost",
        "conn-going 3 eth0/ipv4 0ms CarrierLost",
        "conn-gone 3 198.51.100.2 eth0/ipv4 PvdLost",
    ];
    let mut got: Vec<String> = out.iter().take(4).cloned().collect();
    got.sort();
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "{out:?}");
}

#[test]
fn intents_are_counted_and_can_be_broken_ends_the_warnings() {
    let mut h = two_links();
    h.apply(vec![link(3, "wl0", up()), addr(3, "203.0.113.2", 24), timed_addr(2, "fd6d:6966:a::7", 64, 600, 300)]);
    let mut out = Vec::new();
    h.model.watch_connection(1, ip("198.51.100.2"), None, false, h.now, &mut out).unwrap();
    h.model.watch_connection(2, ip("fd6d:6966:a::7"), None, false, h.now, &mut out).unwrap();
    h.model.watch_connection(3, ip("203.0.113.2"), None, false, h.now, &mut out).unwrap();
    assert_eq!(h.model.set_connection_intent(9, ConnectionIntent::Idle), Err(Error::UnknownConnection));
    h.model.set_connection_intent(1, ConnectionIntent::Idle).unwrap();
    assert_eq!(h.model.interfaces_only_idle(), Vec::<u32>::new());
    h.model.set_connection_intent(2, ConnectionIntent::CanBeBroken).unwrap();
    assert_eq!(h.model.interfaces_only_idle(), vec![2]);
    let mut out = Vec::new();
    h.model.connection_states(None, &mut out).unwrap();
    h.model.connection_states(Some(1), &mut out).unwrap();
    assert_eq!(h.model.connection_states(Some(77), &mut out), Err(Error::UnknownInterface));
    let out: Vec<String> = out.iter().map(show).collect();
    assert_eq!(out, vec!["states 2 0/1/1", "states 3 1/0/0", "states 0 1/1/1", "states 1 0/0/0"]);
    // Can be broken: no warning for it, but its end is still said.
    let out = h.apply(vec![timed_addr(2, "fd6d:6966:a::7", 64, 40, 0)]);
    assert_eq!(out, Vec::<String>::new());
    let out = h.apply(vec![del_addr(2, "fd6d:6966:a::7", 64)]);
    assert_eq!(out, vec!["conn-gone 2 fd6d:6966:a::7 eth0/ipv6 AddressRemoved"]);
}

#[test]
fn watches_are_bounded() {
    let mut h = two_links();
    let mut out = Vec::new();
    for id in 0..MAX_WATCHES as u64 {
        h.model.watch_connection(id, ip("198.51.100.2"), None, false, h.now, &mut out).unwrap();
    }
    let extra = h.model.watch_connection(u64::MAX, ip("198.51.100.2"), None, false, h.now, &mut out);
    assert_eq!(extra, Err(Error::LimitReached));
}

/// A static IPv4 default route (not from an RA, no lifetime).
fn static_route4(ifindex: u32, gateway: &str, metric: u32) -> RouteFact {
    RouteFact {
        family: Family::V4,
        ifindex,
        gateway: Some(gateway.parse().unwrap()),
        metric,
        from_ra: false,
        lifetime: None,
    }
}

/// A route to `net`/`len` through interface `ifindex`.
fn prefix_route(ifindex: u32, net: &str, len: u8, metric: u32) -> PrefixRouteFact {
    PrefixRouteFact { ifindex, destination: net.parse().unwrap(), prefix_len: len, metric }
}

/// An IPv6 default route through eth0 (ifindex 2) via `gateway`, metric 1024, with
/// `lifetime` seconds (an RA's router lifetime when `from_ra`).
fn eth0_route6(gateway: &str, from_ra: bool, lifetime: u32) -> RouteFact {
    RouteFact {
        family: Family::V6,
        ifindex: 2,
        gateway: Some(gateway.parse().unwrap()),
        metric: 1024,
        from_ra,
        lifetime: Some(lifetime),
    }
}

#[test]
fn a_pvd_whose_router_lifetime_ends_within_the_horizon_is_going_away() {
    let mut h = two_links();
    h.model.set_going_away_horizon(Duration::from_secs(60));
    h.subscribe_all();
    let ra_route = |lifetime| Fact::Route(eth0_route6("fe80::1", true, lifetime));
    // 300 s of router lifetime: not yet; the engine wakes when the horizon's 60 s are left.
    let out = h.apply(vec![ra_route(300)]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(240)));
    h.now += Duration::from_secs(240);
    // The engine re-reads the routes first (the kernel does not report a refresh): the
    // same end, 60 s left, is no new RA; the warning comes.
    let reread = vec![eth0_route6("fe80::1", true, 60)];
    let out = h.apply(vec![Fact::Routes { family: Family::V6, routes: reread, prefixes: vec![] }]);
    assert_eq!(out, vec!["going 2 eth0/ipv6 60000ms RouterLifetimeEnding"]);
    let mut out = Vec::new();
    h.model.expire(h.now, &mut out);
    assert!(out.is_empty(), "said once: {out:?}");
    // A new RA renews it: cancelled.
    let out = h.apply(vec![ra_route(1800)]);
    assert_eq!(out[0], "cancel 2 eth0/ipv6 RouterLifetimeEnding", "{out:?}");
    // A short router lifetime (30 s) is refreshed often by a live router: warned only
    // once two thirds went by without an RA; then it runs out (the kernel removes the
    // route): the same end, not said again.
    let out = h.apply(vec![ra_route(30)]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
    assert_eq!(h.model.next_deadline(h.now), Some(h.now + Duration::from_secs(20)));
    h.now += Duration::from_secs(20);
    let mut out = Vec::new();
    h.model.expire(h.now, &mut out);
    let out: Vec<String> = out.iter().map(show).collect();
    assert_eq!(out, vec!["going 2 eth0/ipv6 10000ms RouterLifetimeEnding"]);
    h.now += Duration::from_secs(10);
    let out = h.apply(vec![Fact::RouteRemoved(eth0_route6("fe80::1", true, 0))]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
    // A static default route next to the RA's: the PvD does not depend on routers.
    let mut static6 = eth0_route6("fd6d:6966:a::1", false, 0);
    (static6.metric, static6.lifetime) = (100, None);
    h.apply(vec![Fact::Route(static6)]);
    let out = h.apply(vec![ra_route(20)]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
}

#[test]
fn a_pvd_whose_every_address_is_leased_is_going_away_when_the_lease_ends() {
    let mut h = two_links();
    h.model.set_going_away_horizon(Duration::from_secs(60));
    h.apply(vec![link(3, "wl0", up())]);
    let lease = SourcedElement {
        link: LinkRef::Index(3),
        kind: ElementKind::Dhcpv4,
        server: Some("203.0.113.1".parse().unwrap()),
        data: ConfigData { dns_servers: ips(&["203.0.113.53"]), ..Default::default() },
        lifetime: None,
        lease_address: Some("203.0.113.150".parse().unwrap()),
        configuring: false,
        besides_heard_ra: false,
    };
    h.apply(vec![Fact::Sourced { origin: "lease".into(), elements: vec![lease] }]);
    h.subscribe_all();
    let leased = |valid| timed_addr(3, "203.0.113.150", 24, valid, valid);
    // Leased for 600 s: nothing to say.
    let out = h.apply_following(vec![leased(600)]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
    // 50 s left of the lease, no renewal: going away, and the lease is why.
    let out = h.apply(vec![leased(50)]);
    assert_eq!(out[0], "going 3 wl0/ipv4 50000ms LeaseEnding", "{out:?}");
    // Renewed: cancelled.
    let out = h.apply(vec![leased(600)]);
    assert_eq!(out[0], "cancel 3 wl0/ipv4 LeaseEnding", "{out:?}");
    // An address the client did not lease next to it: the PvD outlives the lease.
    h.apply(vec![addr(3, "203.0.113.7", 24)]);
    let out = h.apply(vec![leased(50)]);
    assert!(out.iter().all(|a| !a.starts_with("going")), "{out:?}");
}

#[test]
fn a_link_its_manager_is_configuring_is_going_up_for_that_reason() {
    let mut h = two_links();
    h.subscribe_all();
    let state = |configuring| Fact::Sourced {
        origin: "/run/systemd/netif/links/3".into(),
        elements: vec![SourcedElement {
            link: LinkRef::Index(3),
            kind: ElementKind::Static,
            server: None,
            data: ConfigData::default(),
            lifetime: None,
            lease_address: None,
            configuring,
            besides_heard_ra: false,
        }],
    };
    // networkd takes the link up and starts configuring it (DHCP, RA to come).
    assert_eq!(h.apply(vec![state(true)]), Vec::<String>::new(), "no such link yet: nothing");
    let out = h.apply(vec![link(3, "wl0", up())]);
    assert_eq!(out, vec!["+if 3 wl0", "up 3 Configuring"]);
    // networkd is done but no address came: still going up, for the plain reason.
    assert_eq!(h.apply(vec![state(false)]), vec!["up 3 NoAddress"]);
    // It configures again (a reconfigure): said again.
    assert_eq!(h.apply(vec![state(true)]), vec!["up 3 Configuring"]);
    // The address comes: the PvD, and nothing more of going up.
    let out = h.apply_following(vec![addr(3, "203.0.113.2", 24)]);
    assert!(out.iter().all(|a| !a.starts_with("up ")), "{out:?}");
    let mut out = Vec::new();
    h.model.announce_pvds(3, h.now, &mut out).unwrap();
    assert!(out.iter().map(show).any(|a| a.ends_with("wl0/ipv4")), "{out:?}");
}

#[test]
fn after_an_overflow_every_watch_says_again_whether_a_warning_holds() {
    let mut h = two_links();
    h.apply(vec![timed_addr(2, "fd6d:6966:a::7", 64, 40, 0)]);
    let mut out = Vec::new();
    h.model.watch_connection(1, ip("fd6d:6966:a::7"), None, false, h.now, &mut out).unwrap();
    h.model.watch_connection(2, ip("198.51.100.2"), None, false, h.now, &mut out).unwrap();
    h.model.watch_connection(3, ip("fd6d:6966:a::2"), None, false, h.now, &mut out).unwrap();
    h.model.set_connection_intent(3, ConnectionIntent::CanBeBroken).unwrap();
    assert_eq!(out.iter().map(show).collect::<Vec<_>>(), vec!["conn-going 1 eth0/ipv6 40000ms AddressesDeprecated"]);
    // The queue overflowed: the warning again, a cancellation (none holds) for the
    // other, nothing for the one that can be broken.
    let mut out = Vec::new();
    h.model.reannounce(h.now, &mut out);
    let out: Vec<String> = out.iter().map(show).collect();
    assert_eq!(out, vec!["conn-going 1 eth0/ipv6 40000ms AddressesDeprecated", "conn-cancel 2 eth0/ipv4 None"]);
}
