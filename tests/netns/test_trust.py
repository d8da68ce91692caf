"""Trust boundaries (issue 15): the library takes only the kernel's word on its
rtnetlink sockets. Another local process (root can send to any netlink port) that
forges an RTM_NEWNDUSEROPT message with an RDNSS option must not make its server a
PvD's DNS server."""

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
