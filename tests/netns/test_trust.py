"""Trust boundaries (issue 15): the library takes only the kernel's word on its
rtnetlink sockets. Another local process (root can send to any netlink port) that
forges an RTM_NEWNDUSEROPT message with an RDNSS option must not make its server a
PvD's DNS server."""

import json
import os
import re
import sys

from bed import check

# Sends one forged RTM_NEWNDUSEROPT (RDNSS fd6d:6966:a::66, lifetime 600, "from"
# router fe80::66 on ifindex IDX) to each netlink port id given; run in the host
# namespace.
FORGER = r"""
import socket, struct, sys
idx, ports = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
server = socket.inet_pton(socket.AF_INET6, "fd6d:6966:a::66")
router = socket.inet_pton(socket.AF_INET6, "fe80::66")
option = struct.pack("!BBHI", 25, 3, 0, 600) + server                 # RDNSS, 24 bytes
body = struct.pack("=BBHiBBHI", 10, 0, len(option), idx, 134, 0, 0, 0) + option
body += struct.pack("=HH", 20, 1) + router                            # NDUSEROPT_SRCADDR
message = struct.pack("=IHHII", 16 + len(body), 68, 0, 1, 0) + body   # RTM_NEWNDUSEROPT
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.bind((0, 0))
delivered = 0
for port in ports:
    try:
        s.sendto(message, (port, 0))
        delivered += 1
    except ConnectionRefusedError:
        pass   # a socket connected to the kernel (the dump socket) refuses others
print(delivered)
"""


def netlink_ports(bed, pid):
    """The netlink port ids of process `pid`'s NETLINK_ROUTE sockets."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports = []
    for line in bed.ns_exec("host", "cat", "/proc/net/netlink").stdout.splitlines()[1:]:
        f = line.split()
        # sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        if len(f) >= 10 and f[1] == "0" and f[9] in inodes:
            ports.append(int(f[2]))
    return ports


def test_trust_forged_rtnetlink_ignored(bed):
    """A forged RDNSS option sent to the library's own rtnetlink sockets by another
    process: no configuration element appears (the messages come from a port other
    than 0, the kernel's, and are dropped)."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ports = netlink_ports(bed, m.pid)
    check(len(ports) >= 1, f"mifctl's rtnetlink sockets: {ports}")
    sent = bed.ns_exec("host", sys.executable, "-c", FORGER, idx, *ports).stdout.strip()
    check(int(sent) >= 1, f"the forger reached one of {ports} (the event socket): {sent}")
    m.expect_quiet("nothing after forged rtnetlink messages")
    check(not m.elements(element="ra"), f"a forged RA element: {m.elements(element='ra')}")


def test_trust_setuid_ignores_mif_config(bed):
    """In a set-user-ID program (secure execution) the MIF_CONFIG environment variable,
    chosen by whoever runs it, does not choose the static file: a set-user-ID copy of
    mifctl run by user nobody with MIF_CONFIG pointing at another file reads the default
    etc/mif.conf. (The same copy without the set-user-ID bit, run by root, honours it.)"""
    import shutil
    bed.require_elements()
    bed.write("etc/mif.conf", "[mif0]\ndns = 198.51.100.53\n")
    bed.write("srv/attack.conf", "[mif0]\ndns = 198.51.100.66\n")
    here = os.path.join(bed.tmp, "suid")
    os.makedirs(here)
    os.chmod(bed.tmp, 0o711)
    os.chmod(here, 0o755)
    from bed import MIFCTL
    plain, suid = os.path.join(here, "mifctl-plain"), os.path.join(here, "mifctl-suid")
    shutil.copy(MIFCTL, plain)
    shutil.copy(MIFCTL, suid)
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)

    def servers(*argv):
        out = bed.ns_exec("host", *argv, "config", "--json", "--root", bed.root, "--interface", "mif0",
                          "--learning", "100").stdout
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        return [x.get("dns_servers") for x in lines if x.get("pvd_name") == "mif0/ipv4"]

    honoured = servers("env", "MIF_CONFIG=srv/attack.conf", plain)
    check(honoured == [["198.51.100.66"]], f"an ordinary program honours MIF_CONFIG: {honoured}")
    ignored = servers("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "env", "MIF_CONFIG=srv/attack.conf", suid)
    check(ignored == [["198.51.100.53"]], f"a set-user-ID program ignores MIF_CONFIG: {ignored}")
