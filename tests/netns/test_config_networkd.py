"""The real systemd-networkd (not a hand-written file) as a source of configuration
elements (docs/configuration.md, source 2): it manages mif0 in a private mount
namespace (/sys read-only, so it does not wait for udev; its state directory is the
bed's ROOT/run/systemd, so the library reads it under its root), with dnsmasq serving
DHCPv4 and radvd advertising on net A. Its per-link file merges every DNS server into
one line; the library works out the sources from the files it names: the .network
file's servers are "static", the lease's are the lease's own "dhcpv4" element (which
lives and counts down with the leased address), the IPv6 servers networkd learned
from the RA are "ra"."""

import os
import pwd
import signal
import time

from bed import TIMEOUT, Failure, check, norm_addr
from test_config_ra import S1, radvd_body

NETWORKD = "/lib/systemd/systemd-networkd"
NETWORK_FILE = """[Match]
Name=mif0

[Network]
DHCP=ipv4
IPv6AcceptRA=yes
DNS=198.18.0.53
DNS=fd6d:6966:ff::53
Domains=static.example

[DHCPv4]
UseHostname=no
"""

# What `mifctl config` must say once networkd has configured mif0: each PvD's servers,
# each with the element type it comes from.
WANT = {
    "mif0/ipv4": {"198.18.0.53": ["static"], "198.51.100.1": ["dhcpv4"]},
    "mif0/ipv6": {"fd6d:6966:ff::53": ["static"], S1: ["ra"]},
}


def start_networkd(bed, network_file=NETWORK_FILE):
    """systemd-networkd in the host namespace, in a private mount namespace whose
    /run/systemd is the bed's ROOT/run/systemd and whose /etc/systemd/network is the
    bed's ROOT/etc/systemd/network (holding NETWORK_FILE only): the paths networkd
    writes in its files name what the library reads under ROOT."""
    if not os.access(NETWORKD, os.X_OK):
        raise Failure(f"{NETWORKD} is not installed (Debian package systemd)")
    netconf = bed.path("etc/systemd/network")
    os.makedirs(netconf, exist_ok=True)
    with open(os.path.join(netconf, "10-mif0.network"), "w") as f:
        f.write(network_file)
    state = bed.path("run/systemd")
    os.makedirs(os.path.join(state, "netif"), exist_ok=True)
    user = pwd.getpwnam("systemd-network")
    os.chown(os.path.join(state, "netif"), user.pw_uid, user.pw_gid)
    resolv = os.path.join(bed.tmp, "resolv.networkd")
    open(resolv, "w").close()
    script = f"""set -e
mount --make-rprivate /
mount --bind {state} /run/systemd
mount --bind {netconf} /etc/systemd/network
mount --bind {resolv} /etc/resolv.conf
umount -l /sys
mount -t sysfs -o ro sysfs /sys
exec {NETWORKD}
"""
    env = dict(os.environ, SYSTEMD_LOG_TARGET="console", SYSTEMD_LOG_LEVEL="info")
    return bed.spawn("host", ["unshare", "--mount", "--uts", "sh", "-c", script], label="networkd", env=env)


def sources(bed, drop_net_raw=False):
    """{pvd_name: {server: [element types]}} from `mifctl config --interface mif0`."""
    out = {}
    for x in bed.mifctl_config("--interface", "mif0", "--learning", "500", drop_net_raw=drop_net_raw):
        out[x["pvd_name"]] = {norm_addr(k): v for k, v in x.get("dns_server_sources", {}).items()}
    return out


def wait_sources(bed, want, what, daemon):
    """Asks `mifctl config` again until it says `want` (networkd writes its files
    several times while it configures a link); TIMEOUT * 2 at most."""
    deadline = time.monotonic() + TIMEOUT * 2
    got = None
    while time.monotonic() < deadline:
        got = sources(bed)
        if all(got.get(p) == w for p, w in want.items()):
            return got
        time.sleep(0.2)
    raise Failure(f"{what}: mifctl config says {got}, expected {want}\nnetworkd:\n{daemon.output()}")


def test_config_networkd_real(bed):
    """networkd configures mif0 by DHCPv4 and the RA: mifctl config lists each server
    with its true source (static from the .network file, dhcpv4 from the lease, ra from
    the RA networkd processed); the dhcpv4 element's lifetime is the leased address's
    valid lifetime; networkd restarting (its files deleted, then written again several
    times) withdraws and restores the elements with no duplicate announcement (the
    stream checker holds that) and ends in the same state."""
    bed.require_elements()
    # networkd handles RAs itself and turns the kernel's RA processing off: off from
    # the start, so no context ever hears an RA through the kernel here.
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_ra=0")
    bed.start_radvd(radvd_body(max_interval=10, min_interval=3))
    bed.start_dhcp_server()
    m = bed.start_mifctl()
    m.expect_initial()
    daemon = start_networkd(bed)
    wait_sources(bed, WANT, "networkd configured mif0", daemon)
    lease = [e for e in m.elements(element="dhcpv4") if e.get("ifname") == "mif0"]
    check(len(lease) == 1 and isinstance(lease[0]["lifetime"], int) and 0 < lease[0]["lifetime"] <= 600
          and lease[0]["origin"].endswith(f"/run/systemd/netif/leases/{bed.ifindex('mif0')}"),
          f"the lease element: finite lifetime (the leased address's), origin the lease file: {lease}")

    daemon.proc.send_signal(signal.SIGTERM)
    daemon.proc.wait(timeout=TIMEOUT)
    # networkd deletes its files on exit: the elements they gave go.
    deadline = time.monotonic() + TIMEOUT
    while m.elements(ifname="mif0", element="static") or m.elements(ifname="mif0", element="dhcpv4"):
        if time.monotonic() > deadline:
            raise Failure(f"networkd stopped: its elements stay {m.elements(ifname='mif0')}")
        time.sleep(0.1)
    daemon = start_networkd(bed)
    wait_sources(bed, WANT, "networkd restarted", daemon)


def test_config_networkd_lease_ending(bed):
    """The real systemd-networkd takes mif0's IPv4 address by DHCP from dnsmasq (a
    ten-minute lease) and writes its lease file; with the horizon at its largest (an hour),
    mif0/ipv4 — its only address leased — is going away with reason lease_ending and a
    deadline no later than the lease's end (3.2.7.26.4)."""
    bed.require_elements()
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_ra=0")
    bed.ip("host", "addr", "del", "198.51.100.2/24", "dev", "mif0")
    bed.start_dhcp_server()
    m = bed.start_mifctl("--horizon", "3600000")
    m.expect_initial()
    daemon = start_networkd(bed)
    ending = lambda x: (x.get("msg") == "interface_going_away" and x.get("pvd_name") == "mif0/ipv4"
                        and x.get("reason") == "lease_ending")
    got = m.collect_until(lambda g: any(ending(x) for x in g), lambda x: True,
                          "mif0/ipv4 going away at the end of its lease", timeout=TIMEOUT * 4)
    warning = [x for x in got if ending(x)][0]
    check(500_000 <= warning["deadline_ms"] <= 600_000, f"the deadline is the ten-minute lease's end: {warning}")
    check(daemon.proc.poll() is None, f"networkd still runs:\n{daemon.output()}")


def test_config_networkd_going_up_configuring(bed):
    """Interface is going up (3.2.7.26.5) because the link manager says so: mif0 taken
    down and stripped of its addresses; the real systemd-networkd takes it up and
    starts its DHCPv4 (no server answers yet): mif0 is going up with reason
    configuring, from networkd's own per-link state. A DHCP server comes: the PvD and
    its address follow."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_ra=0")
    bed.ip("host", "link", "set", "mif0", "down")
    bed.ip("host", "addr", "flush", "dev", "mif0", "scope", "global")
    m = bed.start_mifctl()
    m.expect_initial()
    daemon = start_networkd(bed)
    configuring = lambda x: (x.get("msg") == "interface_going_up" and x.get("ifindex") == idx
                             and x.get("reason") == "configuring")
    m.collect_until(lambda g: any(configuring(x) for x in g),
                    lambda x: x.get("ifindex") in (idx, None) or x.get("ifname") == "lo",
                    "mif0 going up: networkd configuring it", timeout=TIMEOUT * 4)
    bed.start_dhcp_server()
    m.collect_until(lambda g: any(x.get("msg") == "pvd_announcement" and x.get("pvd_name") == "mif0/ipv4" for x in g),
                    lambda x: True, "mif0/ipv4 once the lease came", timeout=TIMEOUT * 4)
    check(daemon.proc.poll() is None, f"networkd still runs:\n{daemon.output()}")


def test_config_networkd_lease_expiry(bed):
    """The real systemd-networkd holds a two-minute DHCPv4 lease (dnsmasq's shortest)
    as mif0's only IPv4 address; the DHCP server then goes away, so nothing renews it.
    With the default 60 s horizon, mif0/ipv4 is announced going away with reason
    lease_ending and a deadline within the lease; when the lease runs out, networkd
    drops the address and the dhcpv4 element is withdrawn (No Configuration Element),
    after the warning. About two minutes: the lease's own length."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_ra=0")
    bed.ip("host", "addr", "del", "198.51.100.2/24", "dev", "mif0")
    server = bed.start_dhcp_server(lease="2m")
    m = bed.start_mifctl()
    m.expect_initial()
    start_networkd(bed)
    leased = lambda x: (x.get("msg") == "config_element_announcement" and x.get("ifindex") == idx
                        and x.get("element") == "dhcpv4")
    m.collect_until(lambda g: any(leased(x) for x in g), lambda x: True, "the dhcpv4 element", timeout=TIMEOUT * 4)
    check(server.stop() is not None, "dnsmasq stopped")
    ending = lambda x: (x.get("msg") == "interface_going_away" and x.get("pvd_name") == "mif0/ipv4"
                        and x.get("reason") == "lease_ending")
    gone = lambda x: (x.get("msg") == "no_config_element_announcement" and x.get("ifindex") == idx
                      and x.get("element") == "dhcpv4")
    got = m.collect_until(lambda g: any(gone(x) for x in g), lambda x: True,
                          "the lease ending, then its element withdrawn", timeout=200)
    warned = [i for i, x in enumerate(got) if ending(x)]
    withdrawn = [i for i, x in enumerate(got) if gone(x)]
    check(warned and warned[0] < withdrawn[0], f"warned before the withdrawal: {[x.get('msg') for x in got]}")
    check(got[warned[0]]["deadline_ms"] <= 120_000, f"within the two-minute lease: {got[warned[0]]}")




def test_config_networkd_dhcpv6_and_ra(bed):
    """networkd with DHCP=yes on a network whose router advertises RDNSS S1 with the M
    and O flags and whose dnsmasq serves DHCPv4 and DHCPv6 (DNS fd6d:6966:a::53):
    networkd's file lists both IPv6 servers in one line and names no DHCPv6 lease, and
    the kernel forwards no RA option (networkd set accept_ra=0). A context that hears
    the RA itself (a raw ICMPv6 socket: CAP_NET_RAW) has S1 in the RA's "ra" element
    and ::53 alone in networkd's "dhcpv6" element. Without CAP_NET_RAW it cannot tell
    them apart: both count as networkd's DHCPv6 (documented in docs/configuration.md),
    and this asserts that outcome."""
    bed.require_elements()
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_ra=0")
    # No prefix to autoconfigure (DHCPv6 gives the address): networkd refreshing a SLAAC
    # address at each RA would race the bed's closing comparison of a fresh subscription.
    bed.start_radvd(radvd_body(max_interval=10, min_interval=3, prefix=False)
                    + "\nAdvManagedFlag on;\nAdvOtherConfigFlag on;")
    bed.start_dhcp_server("--dhcp-range=fd6d:6966:a::100,fd6d:6966:a::1ff,64,10m",
                          "--dhcp-option=option6:dns-server,[fd6d:6966:a::53]")
    m = bed.start_mifctl()
    m.expect_initial()
    daemon = start_networkd(bed, NETWORK_FILE.replace("DHCP=ipv4", "DHCP=yes"))
    links = bed.path(f"run/systemd/netif/links/{bed.ifindex('mif0')}")

    def ipv6_elements():
        return sorted((e["element"], tuple(norm_addr(a) for a in e["dns_servers"]))
                      for e in m.elements(pvd_name="mif0/ipv6"))
    want = [("dhcpv6", ("fd6d:6966:a::53",)), ("ra", (S1,)), ("static", ("fd6d:6966:ff::53",))]
    deadline = time.monotonic() + TIMEOUT * 2
    while ipv6_elements() != want:
        if time.monotonic() > deadline:
            text = open(links).read() if os.path.exists(links) else "(no file)"
            raise Failure(f"mif0/ipv6 elements {ipv6_elements()}, expected {want}\nnetworkd's file:\n{text}\n"
                          f"networkd:\n{daemon.output()}")
        time.sleep(0.1)
    text = open(links).read()
    check("DHCP6_CLIENT_IAID=" in text and f"fd6d:6966:a::53 {S1}" in text,
          f"networkd's file: both IPv6 servers on one line, a DHCPv6 client named:\n{text}")
    got = sources(bed, drop_net_raw=True)
    unprivileged = {"fd6d:6966:ff::53": ["static"], S1: ["dhcpv6"], "fd6d:6966:a::53": ["dhcpv6"]}
    check(got.get("mif0/ipv6") == unprivileged,
          f"without CAP_NET_RAW (no RA heard; complete at once with networkd's static server): {got}")
