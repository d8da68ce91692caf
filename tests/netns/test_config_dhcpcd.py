"""dhcpcd's lease files: the real dhcpcd 9 against dnsmasq with two-minute leases, in a
private mount namespace whose /var/lib/dhcpcd is the test root's (so the library,
reading under that root, finds the lease dhcpcd wrote) and whose --script writes
dhcpcd's hook state under the test's root. The element of the hook-state fragment takes
its lifetime from the lease (docs/configuration.md, source 2): finite, at most the
lease time the server gave."""

import ipaddress
import os

from bed import TIMEOUT, Failure, check, element, matches
from test_config_dhcp import DHCPCD6_CONF, release_dhcpcd, start_dhcp6_server, start_dhcpcd

LEASE_SECS = 120

def in_pool(m, idx, pool):
    """An address announcement of mif0 in the server's range `pool` = (first, last)."""
    if m.get("msg") not in ("address_announcement", "no_address_announcement") or m.get("ifindex") != idx:
        return False
    a = ipaddress.ip_address(m["address"].split("%")[0])
    first, last = (ipaddress.ip_address(x) for x in pool)
    return a.version == first.version and first <= a <= last


def lease_element(bed, m, idx, family, kind, frag, servers, pool, client, server):
    """Waits for the leased address and the element; returns (element, address)."""
    want = element(idx, "mif0", family, kind, origin=frag, source=None,
                   dns_servers=servers, search_domains=["a.example"], routers=[], mtu=None)
    try:
        got = m.collect_until(
            lambda g: any(matches(x, want) for x in g) and any(in_pool(x, idx, pool) for x in g),
            lambda x: (x.get("msg") == "address_announcement" and in_pool(x, idx, pool))
            or (x.get("msg") == "config_element_announcement" and x.get("pvd_name") == f"mif0/{family}"),
            f"the leased address and the {kind} element", timeout=TIMEOUT * 2)
    except Failure as e:
        raise Failure(f"{e}\ndhcpcd:\n{client.output()}\ndnsmasq:\n{server.output()}")
    return [x for x in got if matches(x, want)][-1], [x for x in got if in_pool(x, idx, pool)][-1]


def test_config_dhcpcd_v4_lease_lifetime(bed):
    """dhcpcd -4 leases an address for 120 s and writes <root>/var/lib/dhcpcd/mif0.lease;
    its hook-state fragment mif0.dhcp gives a "dhcpv4" element on mif0/ipv4 whose
    lifetime is finite and at most the lease time (the leased address's valid
    lifetime); dhcpcd releasing (SIGALRM) withdraws the element and the address."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    server = bed.start_dhcp_server(lease=f"{LEASE_SECS // 60}m")
    client = start_dhcpcd(bed, "-4 --nodelay --noarp --noipv4ll",
                          "ipv4only\noption domain_name_servers, domain_search\n", "dhcpcd4", leases_in_root=True)
    frag = bed.path("run/dhcpcd/hook-state/resolv.conf/mif0.dhcp")
    e, a = lease_element(bed, m, idx, "ipv4", "dhcpv4", frag, ["198.51.100.1"],
                         ("198.51.100.100", "198.51.100.199"), client, server)
    check(isinstance(e["lifetime"], int) and 0 < e["lifetime"] <= LEASE_SECS,
          f"the dhcpv4 element's lifetime is the lease's (finite, at most {LEASE_SECS} s): {e}")
    check(isinstance(a["valid_lifetime"], int) and a["valid_lifetime"] <= LEASE_SECS,
          f"dhcpcd set the leased address's lifetime from the lease: {a}")
    lease = bed.path("var/lib/dhcpcd/mif0.lease")
    check(os.path.getsize(lease) > 240, f"dhcpcd wrote its lease under the test root: {lease}")
    m.expect_quiet(allow=lambda x: x.get("msg") in ("address_announcement", "config_element_announcement"))

    check(release_dhcpcd(client) == 0, f"dhcpcd exit status {client.proc.returncode}:\n{client.output()}")
    m.expect_phase([
        element(idx, "mif0", "ipv4", "dhcpv4", gone=True, element_id=e["element_id"], origin=frag),
        dict(msg="no_address_announcement", ifindex=idx, pvd_name="mif0/ipv4", address=a["address"]),
    ], what="release: the element and the address withdrawn",
        ignore=lambda x: x.get("msg") in ("address_announcement", "config_element_announcement"))
    m.expect_quiet()


def test_config_dhcpcd_v6_lease_lifetime(bed):
    """dhcpcd -6 (IA_NA) against dnsmasq's DHCPv6 server with 120 s leases writes
    <root>/var/lib/dhcpcd/mif0.lease6; the "dhcpv6" element of mif0.dhcp6 on mif0/ipv6
    has a finite lifetime, at most the lease's valid lifetime."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_dad=0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    server = start_dhcp6_server(bed, lease=f"{LEASE_SECS // 60}m")
    client = start_dhcpcd(bed, "-6", DHCPCD6_CONF, "dhcpcd6", leases_in_root=True)
    frag = bed.path("run/dhcpcd/hook-state/resolv.conf/mif0.dhcp6")
    e, a = lease_element(bed, m, idx, "ipv6", "dhcpv6", frag, ["fd6d:6966:a::1"],
                         ("fd6d:6966:a::100", "fd6d:6966:a::1ff"), client, server)
    check(isinstance(e["lifetime"], int) and 0 < e["lifetime"] <= LEASE_SECS,
          f"the dhcpv6 element's lifetime is the lease's (finite, at most {LEASE_SECS} s): {e}")
    check(os.path.getsize(bed.path("var/lib/dhcpcd/mif0.lease6")) > 4, "dhcpcd wrote mif0.lease6 under the root")
    check(release_dhcpcd(client) == 0, f"dhcpcd exit status {client.proc.returncode}:\n{client.output()}")
    m.expect_phase([
        element(idx, "mif0", "ipv6", "dhcpv6", gone=True, element_id=e["element_id"], origin=frag),
        dict(msg="no_address_announcement", ifindex=idx, pvd_name="mif0/ipv6", address=a["address"]),
    ], what="release: the element and the address withdrawn",
        ignore=lambda x: x.get("msg") in ("address_announcement", "config_element_announcement"))
    m.expect_quiet()
