"""Configuration elements from files (draft 3.2.7.9-3.2.7.12, docs/configuration.md,
sources 2-4): link-manager state files, resolv.conf fragments, the static file and
/etc/resolv.conf, each created, changed (renamed into place and rewritten in place)
and deleted under the test's own root directory (--root); and Get Configuration Data
(3.2.7.17) through `mifctl config`."""

import os
import shutil

from bed import bed_options, check, element, matches

PRIVATE = "# This is private data. Do not parse.\n"


def file_element(idx, ifname, family, kind, path, dns=(), search=(), routers=(), mtu=None,
                 source=None, **kw):
    """An element read from a file: origin = its path, lifetime infinite."""
    return element(idx, ifname, family, kind, origin=path, source=source, lifetime=None,
                   dns_servers=list(dns), search_domains=list(search), routers=list(routers),
                   mtu=mtu, **kw)


def gone(m):
    """Matcher: the No Configuration Element for element message m (same id, PvD, origin)."""
    return dict(msg="no_config_element_announcement", ifindex=m["ifindex"], ifname=m["ifname"],
                pvd=m["pvd"], pvd_name=m["pvd_name"], element=m["element"],
                element_id=m["element_id"], origin=m["origin"])


def config_of(entries, pvd_name):
    found = [e for e in entries if e.get("pvd_name") == pvd_name]
    check(len(found) == 1, f"mifctl config: one line for {pvd_name} expected: {entries}")
    return found[0]


def check_data(entry, dns, search, routers, mtu):
    want = dict(msg="configuration_data", element="any", dns_servers=list(dns),
                search_domains=list(search), routers=list(routers), mtu=mtu)
    check(matches(entry, want), f"mifctl config {entry.get('pvd_name')}: got {entry}, expected {want}")


# ---------------------------------------------------------------- systemd-networkd

def test_config_networkd_link(bed):
    """run/systemd/netif/links/<ifindex> (DNS=, DOMAINS=): static elements on both PvDs
    of the interface, each with the servers of its family; renamed into place,
    rewritten in place, deleted."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    rel = f"run/systemd/netif/links/{idx}"
    body = PRIVATE + "ADMIN_STATE=configured\nOPER_STATE=routable\n"
    path = bed.write(rel, body + "DNS=198.51.100.53 fd6d:6966:a::53\nDOMAINS=a.example b.example\n")
    e4, e6 = m.expect_phase([
        file_element(idx, "mif0", "ipv4", "static", path, ["198.51.100.53"], ["a.example", "b.example"]),
        file_element(idx, "mif0", "ipv6", "static", path, ["fd6d:6966:a::53"], ["a.example", "b.example"]),
    ], what="static elements from the networkd link file")
    check(e4["element_id"] != e6["element_id"], f"two elements, one id: {e4} {e6}")
    m.expect_quiet()

    # Renamed into place: only the IPv4 server changes, only the IPv4 element is re-announced.
    bed.write(rel, body + "DNS=198.51.100.54 fd6d:6966:a::53\nDOMAINS=a.example b.example\n")
    m.expect(file_element(idx, "mif0", "ipv4", "static", path, ["198.51.100.54"], ["a.example", "b.example"],
                          element_id=e4["element_id"], pvd=e4["pvd"]))
    m.expect_quiet("only the IPv4 element changed")

    # Rewritten in place: the domains change on both.
    bed.write(rel, body + "DNS=198.51.100.54 fd6d:6966:a::53\nDOMAINS=c.example\n", how="inplace")
    m.expect_phase([
        file_element(idx, "mif0", "ipv4", "static", path, ["198.51.100.54"], ["c.example"], element_id=e4["element_id"]),
        file_element(idx, "mif0", "ipv6", "static", path, ["fd6d:6966:a::53"], ["c.example"], element_id=e6["element_id"]),
    ], what="in-place rewrite")
    m.expect_quiet()

    data = bed.mifctl_config("--interface", "mif0")
    check(sorted(e["pvd_name"] for e in data) == ["mif0/ipv4", "mif0/ipv6"],
          f"mifctl config --interface mif0: one line per PvD of mif0: {data}")
    check_data(config_of(data, "mif0/ipv4"), ["198.51.100.54"], ["c.example"], [], 1500)
    check_data(config_of(data, "mif0/ipv6"), ["fd6d:6966:a::53"], ["c.example"], [], 1500)

    # Only an IPv6 server left: the IPv4 element goes (it has no data any more).
    bed.write(rel, body + "DNS=fd6d:6966:a::53\n")
    m.expect_phase([gone(e4), file_element(idx, "mif0", "ipv6", "static", path, ["fd6d:6966:a::53"], [],
                                           element_id=e6["element_id"])], what="IPv4 part removed")
    m.expect_quiet()
    bed.remove(rel)
    m.expect(gone(e6))
    m.expect_quiet("nothing after the file is deleted")


def test_config_networkd_lease(bed):
    """run/systemd/netif/leases/<ifindex>: a dhcpv4 element on the IPv4 PvD only, with
    servers, search domains (DOMAIN_SEARCH_LIST then DOMAINNAME), router, MTU, the
    DHCP server as source; it lives with the leased address (ADDRESS=, which networkd
    puts on the link with the lease's valid lifetime), and its lifetime is that
    address's. (A real networkd: test_config_networkd_real.)"""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ip("host", "addr", "add", "198.51.100.150/24", "dev", "mif0", "valid_lft", "600", "preferred_lft", "600")
    rel = f"run/systemd/netif/leases/{idx}"
    lease = (PRIVATE + "ADDRESS=198.51.100.150\nNETMASK=255.255.255.0\nROUTER=198.51.100.1\n"
             "SERVER_ADDRESS=198.51.100.1\nT1=300\nT2=525\nLIFETIME=600\n"
             "DNS=198.51.100.1 198.51.100.2\nDOMAINNAME=a.example\nDOMAIN_SEARCH_LIST=b.example\n"
             "CLIENTID=ffaabbccdd\n")
    path = bed.write(rel, lease + "MTU=1400\n")
    plain = file_element(idx, "mif0", "ipv4", "dhcpv4", path, ["198.51.100.1", "198.51.100.2"],
                         ["b.example", "a.example"], ["198.51.100.1"], 1400, source="198.51.100.1")
    del plain["lifetime"]

    def leased(**kw):
        """The element, with the lease's 600 s less the file's age (a few seconds at most)."""
        want = dict(plain, **kw)
        return lambda x: matches(x, want) and isinstance(x.get("lifetime"), int) and 590 <= x["lifetime"] <= 600

    want = leased()
    m = bed.start_mifctl()
    m.expect_initial(elements=[want])
    e = m.elements(element="dhcpv4")[0]

    data = bed.mifctl_config()
    check_data(config_of(data, "mif0/ipv4"), ["198.51.100.1", "198.51.100.2"], ["b.example", "a.example"],
               ["198.51.100.1"], 1400)
    check_data(config_of(data, "mif0/ipv6"), [], [], [], 1500)

    bed.write(rel, lease + "MTU=1380\n")
    m.expect(leased(mtu=1380, element_id=e["element_id"]))
    m.expect_quiet()
    bed.remove(rel)
    m.expect(gone(e))
    m.expect_quiet()


def test_config_networkd_lease_absurd_lifetimes(bed):
    """Lease files naming no address (then LIFETIME less the file's age counts) with
    lifetimes no real lease has: a non-number (the element stays until withdrawn, with
    a log line), one far past 32 bits (the longest finite lifetime), 0 (a lease already
    over: no element at all, and a later valid one appears)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    rel = f"run/systemd/netif/leases/{idx}"
    base = PRIVATE + "SERVER_ADDRESS=198.51.100.1\nDNS=198.51.100.1\n"
    path = bed.write(rel, base + "LIFETIME=soon\n")
    want = file_element(idx, "mif0", "ipv4", "dhcpv4", path, ["198.51.100.1"], source="198.51.100.1")
    m = bed.start_mifctl()
    m.expect_initial(elements=[want])
    e = m.elements(element="dhcpv4")[0]
    bed.write(rel, base + "LIFETIME=99999999999999\n")
    m.expect(dict(want, lifetime=2 ** 32 - 2, element_id=e["element_id"]))
    bed.write(rel, base + "LIFETIME=0\n")
    m.expect(gone(e))
    m.expect_quiet()
    bed.write(rel, base + "LIFETIME=600\n")
    m.expect(lambda x: matches(x, {k: v for k, v in want.items() if k != "lifetime"})
             and isinstance(x.get("lifetime"), int) and 590 <= x["lifetime"] <= 600)
    m.expect_quiet()


# ---------------------------------------------------------------- systemd-resolved

def test_config_resolved_dir_created_later(bed):
    """run/systemd/resolve/netif/<ifindex> (SERVERS=, DOMAINS=; ~routing domains are not
    search domains): its directory does not exist when mifctl starts and is created
    later, step by step and at once; removed with its directory and created again,
    it is still followed."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    check(not os.path.exists(bed.path("run/systemd")), "the root must start without run/systemd")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    os.makedirs(bed.path("run/systemd/resolve"))
    m.expect_quiet("nothing for empty directories")
    rel = f"run/systemd/resolve/netif/{idx}"
    text = (PRIVATE + "LLMNR=yes\nMDNS=no\nSERVERS=198.51.100.53 fd6d:6966:a::53\n"
            "DOMAINS=a.example ~corp.example ~.\n")
    path = bed.write(rel, text)
    e4, e6 = m.expect_phase([
        file_element(idx, "mif0", "ipv4", "static", path, ["198.51.100.53"], ["a.example"]),
        file_element(idx, "mif0", "ipv6", "static", path, ["fd6d:6966:a::53"], ["a.example"]),
    ], what="elements once the directory exists")
    m.expect_quiet()

    shutil.rmtree(bed.path("run/systemd"))
    m.expect_phase([gone(e4), gone(e6)], what="withdrawal with the directory")
    m.expect_quiet()

    bed.write(rel, text)       # every directory at once, then the file
    m.expect_phase([
        file_element(idx, "mif0", "ipv4", "static", path, ["198.51.100.53"], ["a.example"], element_id=e4["element_id"]),
        file_element(idx, "mif0", "ipv6", "static", path, ["fd6d:6966:a::53"], ["a.example"], element_id=e6["element_id"]),
    ], what="elements again after the directories were created again")
    m.expect_quiet()
    bed.remove(rel)
    m.expect_phase([gone(e4), gone(e6)])
    m.expect_quiet()


# ---------------------------------------------------------------- resolv.conf fragments

def test_config_resolvconf_fragments(bed):
    """resolv.conf fragments <if>.<proto>: the suffix decides the type (dhcp6 ->
    dhcpv6 on the IPv6 PvD, ra -> ra, udhcpc -> dhcpv4, anything else -> static on
    both), in openresolv's, Debian resolvconf's and dhcpcd's directories; Get
    Configuration Data merges them in element order (RA, DHCPv4, DHCPv6, Static)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])

    p6 = bed.write("run/resolvconf/interfaces/mif0.dhcp6",
                   "# resolv.conf from mif0.dhcp6\nnameserver fd6d:6966:a::35\nnameserver 198.51.100.35\n"
                   "search six.example\n")
    d6 = m.expect(file_element(idx, "mif0", "ipv6", "dhcpv6", p6, ["fd6d:6966:a::35"], ["six.example"]))
    m.expect_quiet("a DHCPv6 fragment gives nothing to the IPv4 PvD")

    pra = bed.write("run/dhcpcd/hook-state/resolv.conf/mif0.ra",
                    "# Generated by dhcpcd from mif0.ra\nnameserver fd6d:6966:a::36\nsearch ra.example\n")
    ra = m.expect(file_element(idx, "mif0", "ipv6", "ra", pra, ["fd6d:6966:a::36"], ["ra.example"]))
    m.expect_quiet()

    p4 = bed.write("run/resolvconf/interface/mif0.udhcpc", "nameserver 198.51.100.37\n")
    d4 = m.expect(file_element(idx, "mif0", "ipv4", "dhcpv4", p4, ["198.51.100.37"], []))
    m.expect_quiet()

    # "domain" then "search": the last one wins, as in the resolver.
    pst = bed.write("run/resolvconf/interfaces/mif0.vpn",
                    "domain d.example\nsearch vpn.example\nnameserver 198.51.100.38\n"
                    "nameserver fd6d:6966:a::38\noptions edns0\n")
    s4, s6 = m.expect_phase([
        file_element(idx, "mif0", "ipv4", "static", pst, ["198.51.100.38"], ["vpn.example"]),
        file_element(idx, "mif0", "ipv6", "static", pst, ["fd6d:6966:a::38"], ["vpn.example"]),
    ])
    m.expect_quiet()
    ids = [x["element_id"] for x in (d6, ra, d4, s4, s6)]
    check(len(set(ids)) == len(ids), f"element ids must differ: {ids}")

    data = bed.mifctl_config("--interface", "mif0")
    check_data(config_of(data, "mif0/ipv4"), ["198.51.100.37", "198.51.100.38"], ["vpn.example"], [], 1500)
    check_data(config_of(data, "mif0/ipv6"), ["fd6d:6966:a::36", "fd6d:6966:a::35", "fd6d:6966:a::38"],
               ["ra.example", "six.example", "vpn.example"], [], 1500)

    for rel, gone_ in (("run/resolvconf/interfaces/mif0.dhcp6", [d6]),
                       ("run/dhcpcd/hook-state/resolv.conf/mif0.ra", [ra]),
                       ("run/resolvconf/interface/mif0.udhcpc", [d4]),
                       ("run/resolvconf/interfaces/mif0.vpn", [s4, s6])):
        bed.remove(rel)
        m.expect_phase([gone(x) for x in gone_], what=f"withdrawal of {rel}")
        m.expect_quiet()


# ---------------------------------------------------------------- the static file

STATIC = """# libmif static configuration: one section per interface name
[mif0]
dns = 198.51.100.53 fd6d:6966:a::53
search = a.example b.example
routers = 198.51.100.1
mtu = 1400
"""


def test_config_static_file(bed):
    """etc/mif.conf: a static element on mif0/ipv4 (only the IPv4 server and router) and
    one on mif0/ipv6 (only the IPv6 server); changes and deletion."""
    bed.require_elements()
    idx, lo = bed.ifindex("mif0"), bed.ifindex("lo")
    path = bed.write("etc/mif.conf", STATIC)
    m = bed.start_mifctl()
    m.expect_initial(elements=[
        file_element(idx, "mif0", "ipv4", "static", path, ["198.51.100.53"], ["a.example", "b.example"],
                     ["198.51.100.1"], 1400),
        file_element(idx, "mif0", "ipv6", "static", path, ["fd6d:6966:a::53"], ["a.example", "b.example"],
                     [], 1400),
    ])
    e4 = m.elements(pvd_name="mif0/ipv4")[0]
    e6 = m.elements(pvd_name="mif0/ipv6")[0]

    # mif0 loses its section, lo gets one: in one rewrite.
    bed.write("etc/mif.conf", "[lo]\ndns = 198.18.0.53\n", how="inplace")
    got = m.expect_phase([gone(e4), gone(e6), file_element(lo, "lo", "ipv4", "static", path, ["198.18.0.53"])],
                         what="section moved from mif0 to lo")
    m.expect_quiet("an IPv4-only section gives nothing to lo/ipv6")
    bed.remove("etc/mif.conf")
    m.expect(gone(got[2]))
    m.expect_quiet()


def test_config_static_file_option(bed):
    """The static file: --config (relative and absolute, both under the root) and
    MIF_CONFIG choose it instead of etc/mif.conf; --config wins over MIF_CONFIG; only
    the subscribers reading a file hear about its changes."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    default = bed.write("etc/mif.conf", "[mif0]\ndns = 198.51.100.53\n")
    rel = bed.write("srv/mif.conf", "[mif0]\ndns = 198.51.100.54\n")
    absf = bed.write("srv/abs.conf", "[mif0]\ndns = 198.51.100.55\n")

    def static4(path, dns, **kw):
        return file_element(idx, "mif0", "ipv4", "static", path, [dns], **kw)

    m_default = bed.start_mifctl(label="default")
    m_default.expect_initial(elements=[static4(default, "198.51.100.53")])
    m_rel = bed.start_mifctl("--config", "srv/mif.conf", label="config-relative")
    m_rel.expect_initial(elements=[static4(rel, "198.51.100.54")])
    m_abs = bed.start_mifctl("--config", "/srv/abs.conf", label="config-absolute")
    m_abs.expect_initial(elements=[static4(absf, "198.51.100.55")])
    m_env = bed.start_mifctl(env={"MIF_CONFIG": "srv/abs.conf"}, label="MIF_CONFIG")
    m_env.expect_initial(elements=[static4(absf, "198.51.100.55")])
    m_both = bed.start_mifctl("--config", "srv/mif.conf", env={"MIF_CONFIG": "srv/abs.conf"}, label="both")
    m_both.expect_initial(elements=[static4(rel, "198.51.100.54")])

    data = bed.mifctl_config("--interface", "mif0", "--config", "srv/mif.conf")
    check_data(config_of(data, "mif0/ipv4"), ["198.51.100.54"], [], [], 1500)
    data = bed.mifctl_config("--interface", "mif0")
    check_data(config_of(data, "mif0/ipv4"), ["198.51.100.53"], [], [], 1500)

    eid = {mc.label: mc.elements(pvd_name="mif0/ipv4")[0]["element_id"] for mc in (m_rel, m_both)}
    bed.write("srv/mif.conf", "[mif0]\ndns = 198.51.100.56\n")
    for mc in (m_rel, m_both):
        mc.expect(static4(rel, "198.51.100.56", element_id=eid[mc.label]))
    for mc in (m_default, m_abs, m_env, m_rel, m_both):
        mc.expect_quiet(f"{mc.label}: nothing more")


# ---------------------------------------------------------------- /etc/resolv.conf

@bed_options(nets=2)
def test_config_system_element(bed):
    """etc/resolv.conf is a "system" element on the PvD(s) holding the default route of
    their family (lowest metric), each with the servers of its family that no link's
    subnet holds (198.18.0.0/15 and fd6d:6966:ff::/64 are on neither network here: see
    test_config_system_server_on_link for the others). Moving the
    default route moves it: No Configuration Element on the old PvD, then the element
    on the new one. A link going down drops its IPv4 routes without RTM_DELROUTE: the
    element goes back to the remaining default route anyway."""
    bed.require_elements()
    i0, i1 = bed.ifindex("mif0"), bed.ifindex("mif1")
    path = bed.write("etc/resolv.conf", "# test resolver\nnameserver 198.18.0.99\nnameserver fd6d:6966:ff::99\n"
                     "search sys.example\noptions ndots:1\n")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])      # no default route yet: no system element

    def system(idx, ifname, family, dns, **kw):
        return file_element(idx, ifname, family, "system", path, [dns], ["sys.example"], **kw)

    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0", "metric", 200)
    s0 = m.expect(system(i0, "mif0", "ipv4", "198.18.0.99"))
    m.expect_quiet()

    # A better default route on mif1: the element moves.
    bed.ip("host", "route", "add", "default", "via", "203.0.113.1", "dev", "mif1", "metric", 100)
    got = m.expect_sequence([gone(s0), system(i1, "mif1", "ipv4", "198.18.0.99")],
                            what="system element moving from mif0/ipv4 to mif1/ipv4")
    s1 = got[1]
    m.expect_quiet()

    # An IPv6 default route: the IPv6 server goes to mif0/ipv6.
    bed.ip("host", "-6", "route", "add", "default", "via", "fd6d:6966:a::1", "dev", "mif0")
    s6 = m.expect(system(i0, "mif0", "ipv6", "fd6d:6966:ff::99"))
    m.expect_quiet()

    # Changed (renamed into place): both re-announced with their ids.
    bed.write("etc/resolv.conf", "nameserver 198.18.0.98\nnameserver fd6d:6966:ff::98\nsearch sys.example\n")
    m.expect_phase([system(i1, "mif1", "ipv4", "198.18.0.98", element_id=s1["element_id"]),
                    system(i0, "mif0", "ipv6", "fd6d:6966:ff::98", element_id=s6["element_id"])])
    m.expect_quiet()

    # mif1 goes down: its PvDs go (No Address, No Configuration Element, No PvD; the
    # stream checker holds the order) and mif0/ipv4 has the best IPv4 default route again.
    bed.ip("host", "link", "set", "mif1", "down")
    p41, p61 = m.pvd_id("mif1/ipv4"), m.pvd_id("mif1/ipv6")
    got = m.expect_phase([
        dict(msg="no_address_announcement", ifindex=i1, pvd_name="mif1/ipv4", address="203.0.113.2"),
        dict(msg="no_address_announcement", ifindex=i1, pvd_name="mif1/ipv6", address="fd6d:6966:b::2"),
        dict(gone(s1), element_id=s1["element_id"]),
        dict(msg="no_pvd_announcement", ifindex=i1, pvd=p41),
        dict(msg="no_pvd_announcement", ifindex=i1, pvd=p61),
        system(i0, "mif0", "ipv4", "198.18.0.98"),
    ], what="mif1 down")
    order = [x["msg"] for x in m.msgs if x["ifindex"] == i1 and any(x is y for y in got)]
    check(order == ["no_address_announcement"] * 2 + ["no_config_element_announcement"] +
          ["no_pvd_announcement"] * 2, f"mif1 removal order: {order}")
    m.expect_quiet()

    bed.remove("etc/resolv.conf")
    m.expect_phase([gone(got[5]), gone(s6)])
    m.expect_quiet()


@bed_options(nets=2)
def test_config_system_server_on_link(bed):
    """A resolv.conf server on network B's subnet belongs to mif1's PvD even while mif0
    holds the default route: the system element on mif0/ipv4 keeps only the server the
    default route reaches (and the search domain), mif1/ipv4 gets B's server, and a
    translation on mif0/ipv4 never asks B's server (its dnsmasq logs no query from
    mif0's address). A loopback stub (127.0.0.53) is no PvD's server."""
    from dnsbed import DnsBed
    bed.require_elements()
    i0, i1 = bed.ifindex("mif0"), bed.ifindex("mif1")
    dns = DnsBed(bed)
    b = dns.dnsmasq("b", ["203.0.113.1"], hosts={"host.example.com": ["203.0.113.7"]})
    path = bed.write("etc/resolv.conf", "nameserver 127.0.0.53\nnameserver 203.0.113.1\nnameserver 198.18.0.99\n"
                     "search sys.example\n")
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0", "metric", 100)
    m = bed.start_mifctl()
    m.expect_initial(elements=[
        file_element(i0, "mif0", "ipv4", "system", path, ["198.18.0.99"], ["sys.example"]),
        file_element(i1, "mif1", "ipv4", "system", path, ["203.0.113.1"], []),
    ])
    conf = {x["pvd_name"]: x for x in bed.mifctl_config()}
    check(conf["mif1/ipv4"]["dns_server_sources"] == {"203.0.113.1": ["system"]}
          and conf["mif0/ipv4"]["dns_server_sources"] == {"198.18.0.99": ["system"]},
          f"mifctl config: each server with its element type: {conf}")
    r = dns.resolve("mif1", "host.example.com")
    check(r.done(1)["status"] == "done" and r.addresses(1) == {"203.0.113.7"},
          "mif1/ipv4 translates through B's server\n" + r.describe())
    r = dns.resolve("mif0", "host.example.com", timeout_ms=200, tries=1)
    check(r.done(1)["status"] in ("timeout", "server_failure"),
          "mif0/ipv4 asks only 198.18.0.99 (which nobody serves)\n" + r.describe())
    check(all(q[2] != "198.51.100.2" for q in b.queries()), f"B's server saw mif0's queries: {b.queries()}")


@bed_options(nets=2)
def test_config_system_server_routed(bed):
    """A resolv.conf server on no link's subnet, reached only through network B by a
    route to its prefix (198.18.53.0/24 via B's router), belongs to mif1's PvD while
    mif0 holds the default route: mif1/ipv4's System element has it, mif0/ipv4's keeps
    only the server behind the default route; a translation on mif0/ipv4 never asks it
    (its dnsmasq logs no query from mif0's address). Deleting the route moves it back
    to the default route's holder."""
    from dnsbed import DnsBed
    bed.require_elements()
    i0, i1 = bed.ifindex("mif0"), bed.ifindex("mif1")
    dns = DnsBed(bed)
    bed.ip("b", "addr", "add", "198.18.53.53/32", "dev", "lo")
    b = dns.dnsmasq("b", ["198.18.53.53"], hosts={"host.example.com": ["203.0.113.7"]})
    path = bed.write("etc/resolv.conf", "nameserver 198.18.53.53\nnameserver 198.18.0.99\nsearch sys.example\n")
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0", "metric", 100)
    bed.ip("host", "route", "add", "198.18.53.0/24", "via", "203.0.113.1", "dev", "mif1")
    m = bed.start_mifctl()
    m.expect_initial(elements=[
        file_element(i0, "mif0", "ipv4", "system", path, ["198.18.0.99"], ["sys.example"]),
        file_element(i1, "mif1", "ipv4", "system", path, ["198.18.53.53"], []),
    ])
    conf = {x["pvd_name"]: x for x in bed.mifctl_config()}
    check(conf["mif1/ipv4"]["dns_server_sources"] == {"198.18.53.53": ["system"]}
          and conf["mif0/ipv4"]["dns_server_sources"] == {"198.18.0.99": ["system"]},
          f"mifctl config: each server on the PvD that routes to it: {conf}")
    r = dns.resolve("mif1", "host.example.com")
    check(r.done(1)["status"] == "done" and r.addresses(1) == {"203.0.113.7"},
          "mif1/ipv4 translates through the routed server\n" + r.describe())
    r = dns.resolve("mif0", "host.example.com", timeout_ms=200, tries=1)
    check(r.done(1)["status"] in ("timeout", "server_failure"),
          "mif0/ipv4 asks only 198.18.0.99 (which nobody serves)\n" + r.describe())
    check(b.queries() and all(q[2] == "203.0.113.2" for q in b.queries()),
          f"the routed server saw only mif1's queries: {b.queries()}")

    # The route goes: both servers are behind mif0's default route again.
    s0 = m.elements(ifname="mif0", element="system")[0]
    s1 = m.elements(ifname="mif1", element="system")[0]
    bed.ip("host", "route", "del", "198.18.53.0/24", "via", "203.0.113.1", "dev", "mif1")
    m.expect_phase([gone(s1), file_element(i0, "mif0", "ipv4", "system", path, ["198.18.53.53", "198.18.0.99"],
                                           ["sys.example"], element_id=s0["element_id"])])
    m.expect_quiet()


# ---------------------------------------------------------------- Get Configuration Data

def test_config_data_merge(bed):
    """mifctl config (MIF_REQ_GET_CONFIGURATION_DATA, element any, info all): every
    element of the PvD merged in element order RA, DHCPv4, DHCPv6, Static, System,
    without duplicates; routers also from the kernel's default routes; the MTU from
    the first element that has one, else the interface's. The subscriber's elements,
    merged the same way, say the same."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ip("host", "addr", "add", "198.51.100.150/24", "dev", "mif0")   # the lease's address
    bed.write(f"run/systemd/netif/leases/{idx}",
              PRIVATE + "ADDRESS=198.51.100.150\nROUTER=198.51.100.1\nSERVER_ADDRESS=198.51.100.1\n"
              "DNS=198.51.100.1\nDOMAIN_SEARCH_LIST=lease.example\nMTU=1400\n")
    bed.write("run/dhcpcd/hook-state/resolv.conf/mif0.ra", "nameserver fd6d:6966:a::1\nsearch ra.example\n")
    bed.write("etc/mif.conf", "[mif0]\ndns = 198.51.100.53 198.51.100.1 fd6d:6966:a::53\n"
              "search = static.example lease.example\nrouters = 198.51.100.254\nmtu = 1300\n")
    bed.write("etc/resolv.conf", "nameserver 198.51.100.99\nnameserver fd6d:6966:a::99\nsearch sys.example\n")
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0")
    bed.ip("host", "-6", "route", "add", "default", "via", "fd6d:6966:a::1", "dev", "mif0")
    m = bed.start_mifctl()
    m.expect_initial()
    want = {
        "mif0/ipv4": dict(dns=["198.51.100.1", "198.51.100.53", "198.51.100.99"],
                          search=["lease.example", "static.example", "sys.example"],
                          routers=["198.51.100.1", "198.51.100.254"], mtu=1400),
        "mif0/ipv6": dict(dns=["fd6d:6966:a::1", "fd6d:6966:a::53", "fd6d:6966:a::99"],
                          search=["ra.example", "static.example", "lease.example", "sys.example"],
                          routers=["fd6d:6966:a::1"], mtu=1300),
    }
    kinds = {"mif0/ipv4": ["dhcpv4", "static", "system"], "mif0/ipv6": ["ra", "static", "system"]}
    order = {k: i for i, k in enumerate(("ra", "dhcpv4", "dhcpv6", "static", "system"))}
    for pname, w in want.items():
        els = sorted(m.elements(pvd_name=pname), key=lambda e: (order[e["element"]], e["origin"]))
        check([e["element"] for e in els] == kinds[pname], f"{pname}: elements {els}")
        merged = {"dns": [], "search": []}
        for e in els:
            for k, key in (("dns", "dns_servers"), ("search", "search_domains")):
                merged[k] += [v for v in e[key] if v not in merged[k]]
        check(merged["dns"] == w["dns"] and merged["search"] == w["search"],
              f"{pname}: elements merged {merged}, expected {w}")
    data = bed.mifctl_config("--interface", "mif0")
    for pname, w in want.items():
        check_data(config_of(data, pname), **w)
    data = bed.mifctl_config()
    check_data(config_of(data, "lo/ipv4"), [], [], [], 65536)
