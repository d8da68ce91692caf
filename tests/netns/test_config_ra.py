"""Configuration elements from Router Advertisements (docs/configuration.md, source 1):
the kernel forwards RDNSS/DNSSL options over RTNLGRP_ND_USEROPT and installs the
default route; the library makes one "ra" element per router on the IPv6 PvD. radvd
and hand-made RAs (raw ICMPv6 socket in net A) as routers; expiry, lifetime-0
withdrawal, and the draft's order when the link goes away."""

import ipaddress
import signal
import sys
import threading

from bed import TIMEOUT, check, element, norm_addr, norm_addrs

PREFIX = ipaddress.ip_network("fd6d:6966:a::/64")
STATIC6 = "fd6d:6966:a::2"
S1, S2, S3 = "fd6d:6966:a::1", "fd6d:6966:a::11", "fd6d:6966:a::12"


def radvd_body(rdnss_life=None, dnssl_life=None, flush=True, max_interval=10, min_interval=3,
               prefix=True, default_lifetime=None):
    """What goes inside radvd's `interface gw0 { ... }`."""
    lines = ["AdvSendAdvert on;", f"MinRtrAdvInterval {min_interval};", f"MaxRtrAdvInterval {max_interval};"]
    if default_lifetime is not None:
        lines.append(f"AdvDefaultLifetime {default_lifetime};")
    if prefix:
        lines.append("prefix fd6d:6966:a::/64 { AdvValidLifetime 600; AdvPreferredLifetime 300; };")
    flush_opt = "" if flush else " FlushRDNSS off;"
    life = "" if rdnss_life is None else f" AdvRDNSSLifetime {rdnss_life};"
    lines.append(f"RDNSS {S1} {{{life}{flush_opt} }};")
    flush_opt = "" if flush else " FlushDNSSL off;"
    life = "" if dnssl_life is None else f" AdvDNSSLLifetime {dnssl_life};"
    lines.append(f"DNSSL a.example {{{life}{flush_opt} }};")
    return "\n".join(lines)


def is_slaac(m, idx):
    """An address announcement (or update) of a SLAAC address of mif0 in fd6d:6966:a::/64."""
    if m.get("msg") != "address_announcement" or m.get("ifindex") != idx or m.get("family") != "ipv6":
        return False
    a = ipaddress.ip_address(norm_addr(m["address"]))
    return a in PREFIX and str(a) != STATIC6


def withdrawn(m, idx):
    """Interface is going away for mif0/ipv6 because its router withdrew (3.2.7.26.4):
    the RA's default route went while the SLAAC address stays."""
    return (m.get("msg") == "interface_going_away" and m.get("ifindex") == idx
            and m.get("pvd_name") == "mif0/ipv6" and m.get("reason") == "router_withdrawn"
            and m.get("deadline_ms") == 0)


def withdrawn_matcher(idx):
    return {"msg": "interface_going_away", "ifindex": idx, "pvd_name": "mif0/ipv6", "reason": "router_withdrawn",
            "deadline_ms": 0}


def ra_msg(m, idx, ids=None, gone=None):
    """A message about an RA element of mif0/ipv6 (optionally: one of `ids`)."""
    kinds = {None: ("config_element_announcement", "no_config_element_announcement"),
             False: ("config_element_announcement",), True: ("no_config_element_announcement",)}[gone]
    return (m.get("msg") in kinds and m.get("ifindex") == idx and m.get("pvd_name") == "mif0/ipv6"
            and m.get("element") == "ra" and (ids is None or m.get("element_id") in ids))


def full(m, ll, dns=(S1,), search=("a.example",), routers=True):
    """The RA element with all the router's data (lists compared sorted)."""
    return (m.get("msg") == "config_element_announcement" and sorted(norm_addrs(m["dns_servers"])) == list(dns)
            and sorted(m["search_domains"]) == list(search)
            and norm_addrs(m["routers"]) == ([ll] if routers else []))


def wait_full_ra(bed, m, idx, ll, dns=(S1,), search=("a.example",),
                 what="the RA element with servers, domains and router"):
    """Waits (passing over partial element states and SLAAC address updates) until the
    RA element of router `ll` has its RDNSS, DNSSL and default route; returns it and
    checks what every RA element message said on the way."""
    got = m.collect_until(lambda g: any(full(x, ll, dns, search) for x in g),
                          lambda x: ra_msg(x, idx, gone=False) or is_slaac(x, idx), what,
                          timeout=TIMEOUT * 2)
    els = [x for x in got if ra_msg(x, idx)]
    check(len({x["element_id"] for x in els}) == 1, f"one router, one element id: {els}")
    for x in els:
        check(norm_addr(x["source"]) == ll and x["origin"] == "rtnetlink",
              f"RA element: source {ll} (the router's link-local), origin rtnetlink: {x}")
        check(isinstance(x["lifetime"], int) and x["lifetime"] > 0, f"RA element: finite lifetime: {x}")
    return els[-1], got


def test_config_ra_elements(bed):
    """radvd (prefix, RDNSS, DNSSL): mif0/ipv6 gets an "ra" element with the server,
    the domain and the router (its link-local, also the source), origin rtnetlink,
    a finite lifetime; a SLAAC address with finite lifetimes; nothing on mif0/ipv4.
    radvd stopping (its final RA: router lifetime 0, RDNSS and DNSSL flushed with
    lifetime 0) withdraws the element at once."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    p6 = m.pvd_id("mif0/ipv6")
    r = bed.start_radvd(radvd_body())
    e, got = wait_full_ra(bed, m, idx, ll)
    check(e["pvd"] == p6 and e["mtu"] is None, f"RA element: pvd {p6}, no MTU: {e}")
    if not any(is_slaac(x, idx) for x in got):
        m.collect_until(lambda g: any(is_slaac(x, idx) for x in g),
                        lambda x: ra_msg(x, idx, gone=False) or is_slaac(x, idx), "a SLAAC address")
    slaac = [x for x in m.messages() if is_slaac(x, idx)][-1]
    check(isinstance(slaac["valid_lifetime"], int) and 0 < slaac["valid_lifetime"] <= 600
          and isinstance(slaac["preferred_lifetime"], int) and 0 < slaac["preferred_lifetime"] <= 300
          and "permanent" not in slaac["flags"], f"SLAAC address with finite lifetimes: {slaac}")
    check(not m.elements(pvd_name="mif0/ipv4"), "nothing on mif0/ipv4")

    check(r.stop() == 0, f"radvd:\n{r.output()}")
    got = m.collect_until(lambda g: any(ra_msg(x, idx, gone=True) for x in g),
                          lambda x: ra_msg(x, idx, ids=[e["element_id"]], gone=False) or is_slaac(x, idx)
                          or ra_msg(x, idx, ids=[e["element_id"]], gone=True) or withdrawn(x, idx),
                          "the element's withdrawal by radvd's final RA")
    check(sum(withdrawn(x, idx) for x in got) == 1, f"one router-withdrawn warning expected: {got}")
    m.expect_quiet("nothing after the withdrawal")


def test_config_ra_fresh_context(bed):
    """A context opened after the RA (`mifctl config`, a second `mifctl monitor`) must
    know the RA's servers and domains like the context that was open when it came:
    Get Configuration Data for mif0/ipv6 = the element's servers, domains and router.
    (The kernel keeps no RDNSS/DNSSL state that could be dumped; a library that only
    listens learns them at the router's next unsolicited RA, up to
    MaxRtrAdvInterval later: 600 s by default in radvd.)"""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    # After its first few RAs, radvd advertises only every 150-200 s.
    bed.start_radvd(radvd_body(max_interval=200, min_interval=150))
    e, _ = wait_full_ra(bed, m, idx, ll)
    data = [x for x in bed.mifctl_config("--interface", "mif0") if x.get("pvd_name") == "mif0/ipv6"]
    check(len(data) == 1, f"mifctl config: one line for mif0/ipv6: {data}")
    d = data[0]
    check(d["msg"] == "configuration_data" and d["element"] == "any"
          and norm_addrs(d["dns_servers"]) == [S1] and d["search_domains"] == ["a.example"]
          and norm_addrs(d["routers"]) == [ll] and d["mtu"] == 1500,
          f"mifctl config (a context opened after the RA) for mif0/ipv6: expected servers [{S1}], "
          f"domains [a.example], routers [{ll}], mtu 1500 like the open context's element {e}; got {d}")
    m2 = bed.start_mifctl(label="after-the-RA")
    m2.expect_initial()
    m2.collect_until(lambda g: any(full(x, ll) for x in m2.elements(element="ra")),
                     lambda x: ra_msg(x, idx, gone=False) or is_slaac(x, idx),
                     "a subscriber opened after the RA: the RA element with its servers and domains")


def test_config_ra_expiry(bed):
    """radvd with 4 s RDNSS/DNSSL lifetimes (not flushed on exit), then stopped: its
    final RA (router lifetime 0) removes the default route (update without the
    router), the DNS entries expire by themselves, and the element is withdrawn
    (No Configuration Element); nothing comes back."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    r = bed.start_radvd(radvd_body(rdnss_life=4, dnssl_life=4, flush=False, max_interval=4, min_interval=3))
    e, _ = wait_full_ra(bed, m, idx, ll)
    eid = e["element_id"]
    rc = r.stop()
    check(rc == 0, f"radvd exit status {rc}:\n{r.output()}")
    got = m.collect_until(lambda g: any(ra_msg(x, idx, gone=True) for x in g),
                          lambda x: ra_msg(x, idx, ids=[eid]) or is_slaac(x, idx) or withdrawn(x, idx),
                          "the RA element's withdrawal after radvd stopped", timeout=TIMEOUT + 20)
    check(sum(withdrawn(x, idx) for x in got) == 1, f"one router-withdrawn warning expected: {got}")
    upd = [x for x in got if ra_msg(x, idx, gone=False)]
    lost_router = [i for i, x in enumerate(upd) if not x["routers"]]
    check(lost_router, f"an update without the router (route gone) before the withdrawal: {upd}")
    check(all(not x["routers"] for x in upd[lost_router[0]:]), f"the router came back: {upd}")
    m.expect_quiet("nothing after the withdrawal")
    d = [x for x in bed.mifctl_config("--interface", "mif0") if x.get("pvd_name") == "mif0/ipv6"][0]
    check(d["dns_servers"] == [] and d["search_domains"] == [] and d["routers"] == [],
          f"mifctl config: no RA data left on mif0/ipv6: {d}")


def test_config_ra_lifetime0(bed):
    """radvd with 600 s RDNSS/DNSSL lifetimes, stopped without flushing (the router
    goes, the servers stay), then a radvd advertising RDNSS and DNSSL with lifetime 0
    (and no default router): the servers are withdrawn at once, long before their
    600 s (updates without them, then No Configuration Element)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    r1 = bed.start_radvd(radvd_body(rdnss_life=600, dnssl_life=600, flush=False), label="radvd1")
    e, _ = wait_full_ra(bed, m, idx, ll)
    eid = e["element_id"]
    check(e["lifetime"] <= 600, f"lifetime at most 600 s: {e}")
    check(r1.stop() == 0, f"radvd1:\n{r1.output()}")
    got = m.collect_until(lambda g: any(full(x, ll, routers=False) for x in g) and any(withdrawn(x, idx) for x in g),
                          lambda x: ra_msg(x, idx, ids=[eid], gone=False) or is_slaac(x, idx) or withdrawn(x, idx),
                          "an update without the router, servers and domains kept, and the warning")
    m.expect_quiet()

    bed.start_radvd(radvd_body(rdnss_life=0, dnssl_life=0, prefix=False, default_lifetime=0), label="radvd0")
    got = m.collect_until(lambda g: any(ra_msg(x, idx, gone=True) for x in g),
                          lambda x: ra_msg(x, idx, ids=[eid]), "withdrawal by lifetime 0")
    for x in got[:-1]:
        check(S1 not in norm_addrs(x["dns_servers"]), f"the server must be gone: {x}")
    m.expect_quiet("nothing after the withdrawal")
    d = [x for x in bed.mifctl_config("--interface", "mif0") if x.get("pvd_name") == "mif0/ipv6"][0]
    check(d["dns_servers"] == [] and d["search_domains"] == [], f"mifctl config: no RA data left: {d}")


def test_config_ra_handmade(bed):
    """Hand-made RAs from two routers (gw0 and a macvlan on it): one element per
    router; RDNSS/DNSSL entries withdrawn one by one with lifetime 0 (each an update
    of the same element, at once: their lifetime was 3600 s), the router going with
    router lifetime 0, the element withdrawn when nothing is left; an infinite
    lifetime is reported as infinite; a withdrawal of unknown entries says nothing."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    bed.ip("a", "link", "add", "gw0r2", "link", "gw0", "type", "macvlan", "mode", "bridge")
    bed.ns_exec("a", "sysctl", "-qw", "net.ipv6.conf.gw0r2.accept_dad=0")
    bed.ip("a", "link", "set", "gw0r2", "up")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll1, ll2 = bed.router_ll(), bed.router_ll(ifname="gw0r2")
    check(ll1 != ll2, f"two routers, two link-local addresses: {ll1} {ll2}")

    def ra_el(ll, dns, search, routers, **kw):
        return element(idx, "mif0", "ipv6", "ra", source=ll, origin="rtnetlink", dns_servers=dns,
                       search_domains=search, routers=routers, mtu=None, **kw)

    bed.send_ra(router_lifetime=1800, rdnss=(3600, [S1, S2]), dnssl=(3600, ["a.example", "b.example"]))
    # Within one RA element, servers and domains come in no order the draft fixes.
    e1, _ = wait_full_ra(bed, m, idx, ll1, sorted([S1, S2]), ["a.example", "b.example"])
    m.expect_quiet()
    id1 = e1["element_id"]
    rest = [s for s in norm_addrs(e1["dns_servers"]) if s != S1]
    doms = list(e1["search_domains"])

    bed.send_ra(ifname="gw0r2", router_lifetime=0, rdnss=(0xffffffff, [S3]))
    e2 = m.expect(ra_el(ll2, [S3], [], [], lifetime=None))
    check(e2["element_id"] != id1, f"a second router, a second element id: {e1} {e2}")
    m.expect_quiet()

    bed.send_ra(router_lifetime=1800, rdnss=(0, [S1]))
    m.expect(ra_el(ll1, rest, doms, [ll1], element_id=id1))
    m.expect_quiet("one update for one withdrawn server")
    bed.send_ra(router_lifetime=1800, dnssl=(0, ["a.example"]))
    m.expect(ra_el(ll1, rest, ["b.example"], [ll1], element_id=id1))
    m.expect_quiet()
    bed.send_ra(router_lifetime=0)
    # The only router withdrew: the warning first (3.2.7.26.4), then the update.
    m.expect(withdrawn_matcher(idx))
    m.expect(ra_el(ll1, rest, ["b.example"], [], element_id=id1))
    m.expect_quiet()
    # RDNSS first, then DNSSL (the kernel forwards them in packet order): an update
    # without the server, then the element goes.
    bed.send_ra(router_lifetime=0, rdnss=(0, [S2]), dnssl=(0, ["b.example"]))
    m.expect_sequence([ra_el(ll1, [], ["b.example"], [], element_id=id1),
                       element(idx, "mif0", "ipv6", "ra", gone=True, element_id=id1, source=ll1)])
    m.expect_quiet()
    bed.send_ra(router_lifetime=0, rdnss=(0, [S1]), dnssl=(0, ["a.example"]))
    m.expect_quiet("withdrawing what is not there says nothing")
    bed.send_ra(ifname="gw0r2", router_lifetime=0, rdnss=(0, [S3]))
    m.expect(element(idx, "mif0", "ipv6", "ra", gone=True, element_id=e2["element_id"], source=ll2))
    m.expect_quiet()


def test_config_link_deleted(bed):
    """Elements on both PvDs (static file, networkd lease, an RA); the link goes away
    (`ip link del gw0` in net A): No Address for each address, then No Configuration
    Element for each element, then No PvD for each, then No Interface (draft order)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    bed.write("etc/mif.conf", "[mif0]\ndns = 198.51.100.53 fd6d:6966:a::53\n")
    bed.write(f"run/systemd/netif/leases/{idx}", "DNS=198.51.100.1\nROUTER=198.51.100.1\n")
    m = bed.start_mifctl()
    m.expect_initial()
    ll = bed.router_ll()
    bed.send_ra(router_lifetime=1800, rdnss=(3600, [S1]), dnssl=(3600, ["a.example"]))
    wait_full_ra(bed, m, idx, ll)
    m.expect_quiet()
    p4, p6 = m.pvd_id("mif0/ipv4"), m.pvd_id("mif0/ipv6")
    els = m.elements(ifindex=idx)
    check(sorted((x["pvd_name"], x["element"]) for x in els) ==
          [("mif0/ipv4", "dhcpv4"), ("mif0/ipv4", "static"), ("mif0/ipv6", "ra"), ("mif0/ipv6", "static")],
          f"elements before the deletion: {els}")

    bed.ip("a", "link", "del", "gw0")
    m.expect_phases([
        [dict(msg="no_address_announcement", ifindex=idx, pvd_name="mif0/ipv4", pvd=p4, address="198.51.100.2"),
         dict(msg="no_address_announcement", ifindex=idx, pvd_name="mif0/ipv6", pvd=p6, address=STATIC6)],
        [dict(msg="no_config_element_announcement", ifindex=idx, pvd_name=x["pvd_name"], pvd=x["pvd"],
              element=x["element"], element_id=x["element_id"]) for x in els],
        [dict(msg="no_pvd_announcement", ifindex=idx, pvd_name="mif0/ipv4", pvd=p4),
         dict(msg="no_pvd_announcement", ifindex=idx, pvd_name="mif0/ipv6", pvd=p6)],
        [dict(msg="no_interface_announcement", ifindex=idx, ifname="mif0")],
    ], what="removal order")
    m.expect_quiet("nothing about mif0 after its No Interface")


def test_config_ra_pref64_and_captive_portal(bed):
    """A hand-made RA (the kernel forwards options 37 and 38; radvd 2.19 and networkd 252
    send neither) with a NAT64 prefix (RFC 8781, /96, 600 s) and a captive portal URI
    (RFC 8910): the router's RA element carries both, and mifctl config (Get
    Configuration Data through mif.h, a fresh context that hears the router repeat its RA
    while it learns) lists them for mif0/ipv6. A PREF64 option with lifetime 0 withdraws
    the prefix, the URI stays, until the link goes (it has no lifetime)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    uri = "https://portal.example/api"
    bed.send_ra(router_lifetime=0, rdnss=(600, [S1]), pref64=("64:ff9b::", 0, 600), portal=uri)
    m.collect_until(lambda g: any(x.get("captive_portal") == uri and x.get("pref64") == "64:ff9b::/96" for x in g),
                    lambda x: ra_msg(x, idx, gone=False),
                    "the RA element with the portal URI and the NAT64 prefix")
    e = m.elements(element="ra")[0]
    check(norm_addr(e["source"]) == ll and norm_addrs(e["dns_servers"]) == [S1], f"the RA element: {e}")

    def config6(**ra):
        # Nothing answers the fresh context's Router Solicitation: the router repeats
        # its RA until mifctl config is done (its learning window is 3 s).
        stop = threading.Event()

        def advertise():
            while not stop.is_set():
                bed.send_ra(router_lifetime=0, portal=uri, **ra)
                stop.wait(0.2)

        t = threading.Thread(target=advertise, daemon=True)
        t.start()
        try:
            data = [x for x in bed.mifctl_config("--interface", "mif0", "--learning", "3000")
                    if x.get("pvd_name") == "mif0/ipv6"]
        finally:
            stop.set()
            t.join(TIMEOUT)
        check(len(data) == 1, f"mifctl config: one line for mif0/ipv6: {data}")
        return data[0]

    d = config6(pref64=("64:ff9b::", 0, 600))
    check(d["captive_portal"] == uri and d["pref64"] == "64:ff9b::/96",
          f"mifctl config for mif0/ipv6: portal {uri} and NAT64 prefix 64:ff9b::/96: {d}")
    bed.send_ra(router_lifetime=0, pref64=("64:ff9b::", 0, 0))
    m.expect(lambda x: ra_msg(x, idx, gone=False) and x.get("pref64") is None and x.get("captive_portal") == uri,
             what="the RA element without the NAT64 prefix")
    d = config6(pref64=("64:ff9b::", 0, 0))
    check(d["captive_portal"] == uri and d["pref64"] is None, f"after the withdrawal: {d}")
    bed.send_ra(router_lifetime=0, rdnss=(0, [S1]))
    m.expect(lambda x: ra_msg(x, idx, gone=False) and x["dns_servers"] == [] and x.get("captive_portal") == uri,
             what="the RA element without its server: the URI keeps it")
    bed.ip("a", "link", "del", "gw0")
    m.collect_until(lambda g: any(ra_msg(x, idx, gone=True) and x["element_id"] == e["element_id"] for x in g),
                    lambda x: x.get("ifindex") == idx and x["msg"].startswith("no_"),
                    "the RA element withdrawn with the link")


def test_config_ra_router_lifetime_ends(bed):
    """A real radvd with a 12 s router lifetime, advertising at most every 4 s: no
    warning while it runs. Killed without its final RA (SIGKILL: a router that
    vanished), its lifetime runs on: two thirds of it later the PvD is going away with
    reason router_lifetime_ending and a deadline no later than what was left (3.2.7.26.4);
    a new radvd cancels the warning."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    body = radvd_body(max_interval=4, min_interval=3, default_lifetime=12)
    r1 = bed.start_radvd(body, label="radvd1")
    wait_full_ra(bed, m, idx, ll)
    # A live router: for a while (one of its RAs, its SLAAC address updated) no warning.
    m.collect_until(lambda g: any(is_slaac(x, idx) for x in g), lambda x: ra_msg(x, idx) or is_slaac(x, idx),
                    "the router re-advertising without a warning")
    m.expect_quiet("a live router: no warning", allow=lambda x: ra_msg(x, idx) or is_slaac(x, idx))
    r1.stop(signal.SIGKILL)
    ending = lambda x: (x.get("msg") == "interface_going_away" and x.get("pvd_name") == "mif0/ipv6"
                        and x.get("reason") == "router_lifetime_ending")
    got = m.collect_until(lambda g: any(ending(x) for x in g),
                          lambda x: ra_msg(x, idx) or is_slaac(x, idx) or ending(x),
                          "router_lifetime_ending after the router vanished", timeout=TIMEOUT * 3)
    warning = [x for x in got if ending(x)][0]
    check(warning["deadline_ms"] <= 12000, f"the deadline is within the router lifetime: {warning}")
    bed.start_radvd(body, label="radvd2")
    m.collect_until(lambda g: any(x.get("msg") == "interface_going_away_cancelled" and x.get("reason") in
                                  ("router_lifetime_ending", "router_withdrawn") for x in g),
                    lambda x: True, "cancelled by a new router's RA", timeout=TIMEOUT * 3)


def test_config_ra_own_router_ignored(bed):
    """The host itself advertises on mif0 (radvd in the host namespace: it routes for
    that link) while the kernel processes no RA there (accept_ra=0), so the library's
    own RA listener hears both the host's RAs (multicast loops back) and net A's
    router's. The host's own are no router of its, as the kernel's
    accept_ra_from_local=0 says: mif0/ipv6 gets net A's router's element (S1, source
    its link-local) and nothing from the host's (S2)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_ra=0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    own = "AdvSendAdvert on;\nMinRtrAdvInterval 3;\nMaxRtrAdvInterval 4;\nRDNSS " + S2 + " { };"
    bed.start_radvd(own, ns="host", ifname="mif0", label="radvd-own")
    ll = bed.router_ll()
    bed.start_radvd(radvd_body(max_interval=4, min_interval=3))
    m.collect_until(lambda g: any(x.get("msg") == "config_element_announcement" and x.get("element") == "ra"
                                  and norm_addrs(x["dns_servers"]) == [S1] for x in g),
                    lambda x: ra_msg(x, idx, gone=False) or is_slaac(x, idx) or x.get("msg") == "address_announcement",
                    "net A's router's element, heard by the library's listener")
    # The host's own RA reaches a raw socket in the host namespace (so the library's
    # listener has it too) before the comparison.
    own_ll = bed.router_ll(ns="host", ifname="mif0")
    probe = f"""
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.settimeout({TIMEOUT * 2})
while True:
    data, addr = s.recvfrom(2000)
    if data[:1] == bytes([134]) and addr[0].split("%")[0] == "{own_ll}":
        print("heard")
        break
"""
    heard = bed.ns_exec("host", sys.executable, "-c", probe, check=False).stdout
    check("heard" in heard, f"the host's own RA looped back to a raw socket: {heard!r}")
    m.sync()
    ra = m.elements(element="ra")
    check(len(ra) == 1 and norm_addr(ra[0]["source"].split("%")[0]) == ll and S2 not in norm_addrs(ra[0]["dns_servers"]),
          f"only net A's router ({ll}) gives an ra element, the host's own RAs ({own_ll}) none: {ra}")

