"""Configuration elements from real DHCP clients: dnsmasq serves net A; the client runs
in the host namespace inside a private mount namespace (its own /run, /etc/resolv.conf,
/var/lib/dhcp*, UTS) and its hook writes a resolv.conf fragment under the test's root,
which the library follows (docs/configuration.md, source 2)."""

import ipaddress
import os
import signal
import time

from bed import TIMEOUT, Failure, check, element, matches

# Mounts for a DHCP client: never the machine's /run, /etc/resolv.conf, /var/lib/dhcp*.
PRIVATE_MOUNTS = """set -e
mount --make-rprivate /
: > {tmp}/resolv.conf.private
mount --bind {tmp}/resolv.conf.private /etc/resolv.conf
mount -t tmpfs -o mode=755 tmpfs /run
for d in /var/lib/dhcp /var/lib/dhcpcd; do if [ -d $d ]; then mount -t tmpfs tmpfs $d; fi; done
"""

# busybox udhcpc script: the leased address with `ip addr`, the servers and domains in
# a Debian-resolvconf fragment <root>/run/resolvconf/interface/<if>.dhcp (written to a
# .new file, renamed into place); deconfig (start, release) takes both back.
UDHCPC_SCRIPT = """#!/bin/sh
frag="{root}/run/resolvconf/interface/$interface.dhcp"
lease="{tmp}/udhcpc.$interface.lease"
case "$1" in
deconfig)
    if [ -f "$lease" ]; then ip addr del "$(cat "$lease")" dev "$interface" || true; rm -f "$lease"; fi
    rm -f "$frag"
    ;;
bound|renew)
    if [ -f "$lease" ] && [ "$(cat "$lease")" != "$ip/$mask" ]; then ip addr del "$(cat "$lease")" dev "$interface" || true; fi
    ip addr replace "$ip/$mask" dev "$interface"
    echo "$ip/$mask" > "$lease"
    mkdir -p "$(dirname "$frag")"
    {{
        echo "# udhcpc lease of $ip from $serverid"
        if [ -n "$search" ]; then echo "search $search"; fi
        for s in $dns; do echo "nameserver $s"; done
    }} > "$frag.new"
    mv "$frag.new" "$frag"
    ;;
esac
exit 0
"""

DHCP_RANGE = ipaddress.ip_network("198.51.100.0/24")


def leased(m, idx):
    """An address announcement of mif0 from the DHCP range .100-.199."""
    if m.get("msg") not in ("address_announcement", "no_address_announcement") or m.get("ifindex") != idx:
        return False
    a = ipaddress.ip_address(m["address"].split("%")[0])
    return a.version == 4 and 100 <= int(a) - int(DHCP_RANGE.network_address) <= 199


def test_config_dhcpv4_udhcpc(bed):
    """busybox udhcpc against dnsmasq: the lease's address on mif0/ipv4 and a "dhcpv4"
    element there (server 198.51.100.1, domain a.example, origin = the fragment's
    path); `mifctl config` shows it; a DHCP release (SIGUSR2: the script's deconfig
    removes the fragment and the address) withdraws both."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    server = bed.start_dhcp_server()
    frag = bed.path("run/resolvconf/interface/mif0.dhcp")
    script = os.path.join(bed.tmp, "udhcpc.sh")
    with open(script, "w") as f:
        f.write(UDHCPC_SCRIPT.format(root=bed.root, tmp=bed.tmp))
    os.chmod(script, 0o755)
    client = bed.spawn("host", ["unshare", "--mount", "--uts", "sh", "-c",
                                PRIVATE_MOUNTS.format(tmp=bed.tmp) +
                                f"exec busybox udhcpc -i mif0 -f -n -t 5 -T 1 -O search -s {script}\n"],
                       label="udhcpc")
    want = element(idx, "mif0", "ipv4", "dhcpv4", origin=frag, source=None, lifetime=None,
                   dns_servers=["198.51.100.1"], search_domains=["a.example"], routers=[], mtu=None)
    try:
        got = m.collect_until(
            lambda g: any(matches(x, want) for x in g) and any(leased(x, idx) for x in g),
            lambda x: (x.get("msg") == "address_announcement" and leased(x, idx))
            or (x.get("msg") == "config_element_announcement" and x.get("pvd_name") == "mif0/ipv4"),
            "the lease's address and the dhcpv4 element", timeout=TIMEOUT * 2)
    except Failure as e:
        raise Failure(f"{e}\nudhcpc:\n{client.output()}\ndnsmasq:\n{server.output()}")
    e = [x for x in got if matches(x, want)][0]
    a = [x for x in got if leased(x, idx)][0]
    check(a["prefix_len"] == 24 and a["pvd_name"] == "mif0/ipv4", f"leased address: {a}")
    m.expect_quiet()
    d = [x for x in bed.mifctl_config("--interface", "mif0") if x.get("pvd_name") == "mif0/ipv4"][0]
    check(d["dns_servers"] == ["198.51.100.1"] and d["search_domains"] == ["a.example"],
          f"mifctl config for mif0/ipv4: {d}")

    client.signal(signal.SIGUSR2)      # DHCP release: the script's deconfig
    m.expect_phase([
        element(idx, "mif0", "ipv4", "dhcpv4", gone=True, element_id=e["element_id"], origin=frag),
        dict(msg="no_address_announcement", ifindex=idx, pvd_name="mif0/ipv4", address=a["address"]),
    ], what="release: the element and the address withdrawn")
    m.expect_quiet()
    check(not os.path.exists(frag), "the fragment is gone")
    client.stop()


# dhcpcd --script: what dhcpcd's own 20-resolv.conf hook keeps (<if>.dhcp, <if>.dhcp6),
# written under the test's root (dhcpcd's hook state,
# <root>/run/dhcpcd/hook-state/resolv.conf/<if>.<protocol>) instead of the real /run;
# dhcpcd's stock hooks are not run (they would touch /etc).
DHCPCD_SCRIPT = """#!/bin/sh
frag="{root}/run/dhcpcd/hook-state/resolv.conf/$interface.$protocol"
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
    servers="$new_domain_name_servers"; search="$new_domain_search" ;;
BOUND6|RENEW6|REBIND6|REBOOT6|INFORM6)
    servers="$new_dhcp6_name_servers"; search="$new_dhcp6_domain_search" ;;
EXPIRE|EXPIRE6|RELEASE|RELEASE6|NAK|STOP|STOP6|DEPARTED|NOCARRIER)
    rm -f "$frag"; exit 0 ;;
*)
    exit 0 ;;
esac
mkdir -p "$(dirname "$frag")"
{{
    echo "# Generated by dhcpcd from $interface.$protocol"
    if [ -n "$search" ]; then echo "search $search"; fi
    for s in $servers; do echo "nameserver $s"; done
}} > "$frag.tmp"
mv "$frag.tmp" "$frag"
exit 0
"""

# DHCPv6 only, no router solicitation: ask for an address at once.
DHCPCD6_CONF = "ipv6only\nnoipv6rs\nia_na 1\noption domain_name_servers, domain_search\n"


def start_dhcpcd(bed, args, conf_body, label, leases_in_root=False):
    """dhcpcd ARGS on mif0 in a private mount namespace (PRIVATE_MOUNTS), with
    `conf_body` and DHCPCD_SCRIPT as its script; with `leases_in_root` its lease
    directory is the test root's var/lib/dhcpcd, where the library reads it."""
    mounts = PRIVATE_MOUNTS.format(tmp=bed.tmp)
    if leases_in_root:
        os.makedirs(bed.path("var/lib/dhcpcd"), exist_ok=True)
        mounts += f"mkdir -p /var/lib/dhcpcd\nmount --bind {bed.root}/var/lib/dhcpcd /var/lib/dhcpcd\n"
    script = os.path.join(bed.tmp, f"{label}.sh")
    with open(script, "w") as f:
        f.write(DHCPCD_SCRIPT.format(root=bed.root))
    os.chmod(script, 0o755)
    conf = os.path.join(bed.tmp, f"{label}.conf")
    with open(conf, "w") as f:
        f.write(conf_body + f"script {script}\n")
    return bed.spawn("host", ["unshare", "--mount", "--uts", "sh", "-c",
                              mounts + f"exec dhcpcd {args} -B -d -f {conf} mif0\n"], label=label)


def release_dhcpcd(client):
    """SIGALRM (dhcpcd: release and exit) until dhcpcd logs that it received it, then
    its exit status. dhcpcd 9.4.1 was seen to lose a SIGALRM sent just as the element
    appeared, i.e. while its hook script (which writes the element's file) was still
    running: the signal was delivered (nothing pending, the handler installed), yet
    dhcpcd logged nothing and slept in poll() for good (about 1 run in 4). A lost
    SIGALRM has no effect, so sending it again is safe; once dhcpcd logs it, no more."""
    deadline = time.monotonic() + TIMEOUT
    while "received SIGALRM" not in client.output():
        if not client.alive():
            break
        if time.monotonic() > deadline:
            raise Failure(f"dhcpcd never received SIGALRM:\n{client.output()}")
        client.signal(signal.SIGALRM)
        settle = time.monotonic() + 2
        while time.monotonic() < settle and "received SIGALRM" not in client.output():
            time.sleep(0.02)
    return client.wait()


def start_dhcp6_server(bed, lease="10m", label="dnsmasq6"):
    """dnsmasq as a DHCPv6 server on net A's gw0: addresses fd6d:6966:a::100-1ff for
    `lease`, DNS fd6d:6966:a::1, domain-search a.example."""
    return bed.spawn("a", [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--port=0", "--interface=gw0", "--bind-interfaces",
        f"--dhcp-range=fd6d:6966:a::100,fd6d:6966:a::1ff,64,{lease}",
        "--dhcp-option=option6:dns-server,[fd6d:6966:a::1]", "--dhcp-option=option6:domain-search,a.example",
        f"--dhcp-leasefile={os.path.join(bed.tmp, label + '.leases')}",
        f"--pid-file={os.path.join(bed.tmp, label + '.pid')}", "--log-dhcp", "--log-facility=-"], label=label)


def test_config_dhcpv6_dhcpcd(bed):
    """dhcpcd -6 against dnsmasq's DHCPv6 server (ia_na, DNS fd6d:6966:a::1, domain
    a.example), in a private mount namespace, its script writing dhcpcd's hook state
    under the test's root: the leased address on mif0/ipv6 and a "dhcpv6" element
    there (origin = the hook-state file); dhcpcd releasing (SIGALRM) withdraws both."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.accept_dad=0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    server = start_dhcp6_server(bed)
    client = start_dhcpcd(bed, "-6", DHCPCD6_CONF, "dhcpcd")
    frag = bed.path("run/dhcpcd/hook-state/resolv.conf/mif0.dhcp6")
    want = element(idx, "mif0", "ipv6", "dhcpv6", origin=frag, source=None, lifetime=None,
                   dns_servers=["fd6d:6966:a::1"], search_domains=["a.example"], routers=[], mtu=None)
    pool = ipaddress.ip_network("fd6d:6966:a::100/120")

    def leased6(x):
        return (x.get("msg") in ("address_announcement", "no_address_announcement") and x.get("ifindex") == idx
                and ipaddress.ip_address(x["address"].split("%")[0]) in pool)
    try:
        got = m.collect_until(
            lambda g: any(matches(x, want) for x in g) and any(leased6(x) for x in g),
            lambda x: (x.get("msg") == "address_announcement" and leased6(x))
            or (x.get("msg") == "config_element_announcement" and x.get("pvd_name") == "mif0/ipv6"),
            "the DHCPv6 address and the dhcpv6 element", timeout=TIMEOUT * 2)
    except Failure as e:
        raise Failure(f"{e}\ndhcpcd:\n{client.output()}\ndnsmasq:\n{server.output()}")
    e = [x for x in got if matches(x, want)][0]
    a = [x for x in got if leased6(x)][-1]
    check(a["prefix_len"] == 128 and isinstance(a["valid_lifetime"], int), f"DHCPv6 address: {a}")
    m.expect_quiet()

    check(release_dhcpcd(client) == 0, f"dhcpcd exit status {client.proc.returncode}:\n{client.output()}")
    m.expect_phase([
        element(idx, "mif0", "ipv6", "dhcpv6", gone=True, element_id=e["element_id"], origin=frag),
        dict(msg="no_address_announcement", ifindex=idx, pvd_name="mif0/ipv6", address=a["address"]),
    ], what="release: the element and the address withdrawn")
    m.expect_quiet()
