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


def start_networkd(bed):
    """systemd-networkd in the host namespace, in a private mount namespace whose
    /run/systemd is the bed's ROOT/run/systemd and whose /etc/systemd/network is the
    bed's ROOT/etc/systemd/network (holding NETWORK_FILE only): the paths networkd
    writes in its files name what the library reads under ROOT."""
    if not os.access(NETWORKD, os.X_OK):
        raise Failure(f"{NETWORKD} is not installed (Debian package systemd)")
    netconf = bed.path("etc/systemd/network")
    os.makedirs(netconf, exist_ok=True)
    with open(os.path.join(netconf, "10-mif0.network"), "w") as f:
        f.write(NETWORK_FILE)
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


def sources(bed):
    """{pvd_name: {server: [element types]}} from `mifctl config --interface mif0`."""
    out = {}
    for x in bed.mifctl_config("--interface", "mif0", "--learning", "500"):
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
