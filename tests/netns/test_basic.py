"""Initial iteration, interfaces appearing, addresses coming and going."""

from bed import addr, check, going_up, iface, is_going_up, pvd, stream_problems


def test_initial_iteration(bed):
    """lo + mif0 (IPv4 + IPv6): two interfaces, four PvDs, exactly the four
    non-link-local addresses (no fe80::), interface -> PvD -> address order."""
    lo, mif0 = bed.ifindex("lo"), bed.ifindex("mif0")
    m = bed.start_mifctl()
    got = m.expect_phase([
        iface(lo, "lo"), iface(mif0, "mif0"),
        pvd(lo, "lo", "ipv4"), pvd(lo, "lo", "ipv6"),
        pvd(mif0, "mif0", "ipv4"), pvd(mif0, "mif0", "ipv6"),
        addr(lo, "lo", "127.0.0.1", 8, scope="host"),
        addr(lo, "lo", "::1", 128, scope="host"),
        addr(mif0, "mif0", "198.51.100.2", 24, scope="global"),
        addr(mif0, "mif0", "fd6d:6966:a::2", 64, scope="global"),
    ], what="initial iteration")
    probs = stream_problems(m.messages()[:m.pos])
    check(not probs, "order/consistency of the initial iteration: " + "; ".join(probs))
    ids = {g["pvd_name"]: g["pvd"] for g in got[2:6]}
    check(len(set(ids.values())) == 4, f"PvD ids not distinct: {ids}")
    for a in got[6:]:
        check(a["pvd"] == ids[a["pvd_name"]], f"address {a['address']} has pvd {a['pvd']}, "
              f"its PvD {a['pvd_name']} is {ids[a['pvd_name']]}")
        check(a["valid_lifetime"] is None and a["preferred_lifetime"] is None,
              f"static address {a['address']} must have infinite lifetimes: {a}")
        check(not {"tentative", "deprecated"} & set(a["flags"]), f"unexpected flags: {a}")
    v6 = got[9]
    check("permanent" in v6["flags"], f"static IPv6 address must be permanent: {v6}")
    check("loopback" in got[0]["link_flags"] and "up" in got[0]["link_flags"],
          f"lo link_flags: {got[0]}")
    check({"up", "running"} <= set(got[1]["link_flags"]) and "loopback" not in got[1]["link_flags"],
          f"mif0 link_flags: {got[1]}")
    m.expect_quiet("nothing after the initial iteration")


def test_veth_appears(bed):
    """A new veth link (created into the host ns, both ends up, then addresses added):
    interface announcement first, then its PvDs, then their addresses."""
    m = bed.start_mifctl()
    m.expect_initial()
    bed.ip("host", "link", "add", "mif2", "type", "veth", "peer", "name", "gw2", "netns", bed.ns["a"])
    idx = bed.ifindex("mif2")
    ann = m.expect(iface(idx, "mif2"))
    check("up" not in ann["link_flags"], f"a new link is down: {ann}")
    bed.ip("a", "link", "set", "gw2", "up")
    bed.ip("host", "link", "set", "mif2", "up")
    bed.wait_running("mif2")
    # Up and running with only an fe80:: address: no PvD, but going up (3.2.7.26.5), its
    # carrier there and an address still to come (no carrier first, while it lacked it).
    no_carrier = going_up(idx, "mif2", "no_carrier")
    m.expect(going_up(idx, "mif2", "no_address"), skip=lambda x: all(x.get(k) == v for k, v in no_carrier.items()))
    m.expect_quiet("no PvD for an interface with only a link-local address")
    bed.ip("host", "addr", "add", "198.18.2.2/24", "dev", "mif2")
    bed.ip("host", "addr", "add", "fd6d:6966:2::2/64", "dev", "mif2", "nodad")
    # mifctl subscribes to a PvD's addresses when it sees the PvD, so the second PvD may
    # come before or after the first PvD's address: one phase, order checked below.
    got = m.expect_phase([pvd(idx, "mif2", "ipv4"), pvd(idx, "mif2", "ipv6"),
                          addr(idx, "mif2", "198.18.2.2", 24), addr(idx, "mif2", "fd6d:6966:2::2", 64)],
                         what="PvDs and addresses of mif2")
    check(got[2]["pvd"] == got[0]["pvd"] and got[3]["pvd"] == got[1]["pvd"], f"pvd ids: {got}")
    probs = stream_problems(m.messages()[:m.pos])
    check(not probs, "; ".join(probs))
    m.expect_quiet()


def test_veth_appears_configured(bed):
    """A new link configured while down, then brought up: exactly Interface, then
    both PvDs, then both addresses."""
    m = bed.start_mifctl()
    m.expect_initial()
    bed.ip("host", "link", "add", "mif2", "type", "veth", "peer", "name", "gw2", "netns", bed.ns["a"])
    idx = bed.ifindex("mif2")
    bed.ip("host", "addr", "add", "198.18.2.2/24", "dev", "mif2")
    bed.ip("host", "addr", "add", "fd6d:6966:2::2/64", "dev", "mif2", "nodad")
    m.expect(iface(idx, "mif2"))
    m.expect_quiet("no PvD while the link is down")
    bed.ip("a", "link", "set", "gw2", "up")
    bed.ip("host", "link", "set", "mif2", "up")
    # (Going up without carrier for as long as the kernel takes to report it.)
    m.expect_phases([
        [pvd(idx, "mif2", "ipv4"), pvd(idx, "mif2", "ipv6")],
        [addr(idx, "mif2", "198.18.2.2", 24), addr(idx, "mif2", "fd6d:6966:2::2", 64)],
    ], what="mif2 up", ignore=is_going_up)
    m.expect_quiet()


def test_address_add_remove(bed):
    """Adding and removing addresses: Address / No Address with the right prefix
    length, family and PvD; nothing else."""
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial()
    p4, p6 = m.pvd_id("mif0/ipv4"), m.pvd_id("mif0/ipv6")
    cases = [("198.51.100.77", 24, p4), ("198.18.7.7", 32, p4),
             ("fd6d:6966:a::77", 64, p6), ("fd6d:6966:7::78", 128, p6)]
    for a, plen, p in cases:
        extra = ["nodad"] if ":" in a else []
        bed.ip("host", "addr", "add", f"{a}/{plen}", "dev", "mif0", *extra)
        got = m.expect(addr(idx, "mif0", a, plen, pvd=p, scope="global"))
        check(got["valid_lifetime"] is None, f"static address: infinite lifetime expected: {got}")
    m.expect_quiet()
    for a, plen, p in cases:
        bed.ip("host", "addr", "del", f"{a}/{plen}", "dev", "mif0")
        m.expect(addr(idx, "mif0", a, plen, gone=True, pvd=p))
    m.expect_quiet()


def test_bridge_port_stays(bed):
    """mif0 joins a bridge and leaves it. The bridge's own link messages about its port
    (family AF_BRIDGE; an RTM_DELLINK when the port leaves) are no news of mif0, which
    neither goes nor loses its PvDs or addresses; afterwards it still answers by the
    same PvD ids."""
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial()
    p4, p6 = m.pvd_id("mif0/ipv4"), m.pvd_id("mif0/ipv6")
    bed.ip("host", "link", "add", "mifbr0", "type", "bridge")
    br = bed.ifindex("mifbr0")
    m.expect(iface(br, "mifbr0"))

    def about_the_bridge(msg):
        return msg.get("ifindex") == br

    bed.ip("host", "link", "set", "mif0", "master", "mifbr0")
    m.expect_quiet("nothing about mif0 as it joins the bridge", allow=about_the_bridge)
    bed.ip("host", "link", "set", "mif0", "nomaster")
    m.expect_quiet("nothing about mif0 as it leaves the bridge", allow=about_the_bridge)
    # Still the same interface and PvDs: an address added now is announced on them.
    bed.ip("host", "addr", "add", "198.51.100.78/24", "dev", "mif0")
    m.expect(addr(idx, "mif0", "198.51.100.78", 24, pvd=p4), skip=about_the_bridge)
    bed.ip("host", "addr", "add", "fd6d:6966:a::78/64", "dev", "mif0", "nodad")
    m.expect(addr(idx, "mif0", "fd6d:6966:a::78", 64, pvd=p6), skip=about_the_bridge)
    m.expect_quiet(allow=about_the_bridge)


def test_last_ipv4_removed(bed):
    """The last IPv4 address goes: No Address, then No PvD for mif0/ipv4. An address
    back: PvD Announcement with the same id, then the Address."""
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial()
    p4 = m.pvd_id("mif0/ipv4")
    bed.ip("host", "addr", "del", "198.51.100.2/24", "dev", "mif0")
    m.expect_sequence([addr(idx, "mif0", "198.51.100.2", 24, gone=True, pvd=p4),
                     pvd(idx, "mif0", "ipv4", gone=True, pvd=p4)], what="last IPv4 address removed")
    m.expect_quiet("nothing about mif0/ipv6")
    bed.ip("host", "addr", "add", "198.51.100.3/24", "dev", "mif0")
    m.expect_sequence([pvd(idx, "mif0", "ipv4", pvd=p4),
                     addr(idx, "mif0", "198.51.100.3", 24, pvd=p4)], what="IPv4 address back")
    m.expect_quiet()


def test_interface_name_not_utf8(bed):
    """Linux allows interface names that are not UTF-8 (netlink-packet-route refuses to
    decode them; the library then takes the name's bytes lossily): such an interface is still
    announced, its name with the invalid byte replaced by U+FFFD, and its removal too."""
    m = bed.start_mifctl()
    m.expect_initial()
    # "bad\xff" as the kernel sees it (surrogateescape gives the raw byte to ip).
    bed.ip("host", "link", "add", "bad\udcff", "index", "77", "type", "veth", "peer", "name", "gw7", "netns", bed.ns["a"])
    m.expect(iface(77, "bad\ufffd"))
    bed.ip("host", "link", "del", "dev", "bad\udcff")
    m.expect(iface(77, "bad\ufffd", gone=True))
    m.expect_quiet()
