"""Name translation end to end (draft 3.2.7.18-3.2.7.20, src/dns.rs) through the C API:
c-tests/dns/mifresolve (built by dnsbed.build_driver) asks the library to translate
names on one PvD whose DNS servers come from the static file ROOT/etc/mif.conf; the
servers are dnsmasq (one per network, --log-queries to a file), small Python responders
and an on-path spoofer (dnsbed.py). DNS data such as 14.15.16.17 only appears in
answers; every address configured or contacted is in the test ranges."""

import json
import os
import sys
import time

from bed import TIMEOUT, bed_options, check
from dnsbed import FORGERIES, DnsBed

HOST_A = {"host.example.com": ["14.15.16.17", "2001:192:321::1"]}
HOST_B = {"host.example.com": ["192.168.1.1"]}
A_ANSWERS = {"14.15.16.17", "2001:192:321::1"}
B_ANSWERS = {"192.168.1.1"}


def check_done(r, tid, status, name=None, pvd_name=None):
    d = r.done(tid)
    check(d["status"] == status, f"translation {tid}: status {d['status']!r}, {status!r} expected\n{r.describe()}")
    if name is not None:
        check(d["name"] == name, f"translation {tid}: name {d['name']!r}, {name!r} expected\n{r.describe()}")
    if pvd_name is not None:
        check(d["pvd_name"] == pvd_name, f"translation {tid}: pvd_name {d['pvd_name']!r}\n{r.describe()}")
    return d


def check_answers(r, tid, want, source="dns", name=None, pvd_name=None, ttl=None):
    """Translation tid ended "done" with exactly the addresses `want` (each once)."""
    check_done(r, tid, "done", name, pvd_name)
    got = r.translations(tid)
    check(r.addresses(tid) == set(want) and len(got) == len(set(want)),
          f"translation {tid}: addresses {sorted(m['address'] for m in got)}, {sorted(want)} expected\n"
          f"{r.describe()}")
    sources = source if isinstance(source, tuple) else (source,)
    for m in got:
        check(m["source"] in sources, f"translation {tid}: source {m['source']!r}, {source!r} expected: {m}")
        if name is not None:
            check(m["name"] == name, f"translation {tid}: name {m['name']!r}, {name!r} expected: {m}")
        if pvd_name is not None:
            check(m["pvd_name"] == pvd_name, f"translation {tid}: pvd_name {m['pvd_name']!r}: {m}")
        if ttl is not None:
            check(m["ttl"] == ttl, f"translation {tid}: ttl {m['ttl']}, {ttl} expected: {m}")


def check_no_answers(r, tid, status):
    check_done(r, tid, status)
    check(not r.translations(tid), f"translation {tid}: no address expected\n{r.describe()}")


def clients(server):
    return {q[2] for q in server.queries()}


# ---------------------------------------------------------------- isolation

@bed_options(nets=2)
def test_dns_two_networks(bed):
    """Net A and net B answer host.example.com differently: mif0's PvDs (IPv4 and IPv6
    transport) get only net A's answers, mif1's only net B's, and neither network's
    server ever sees the other PvD's queries. TTLs pass through."""
    dns = DnsBed(bed)
    dns.conf({"mif0": {"dns": "198.51.100.1 fd6d:6966:a::1"}, "mif1": {"dns": "203.0.113.1"}})
    a = dns.dnsmasq("a", ["198.51.100.1", "fd6d:6966:a::1"], hosts=HOST_A)
    b = dns.dnsmasq("b", ["203.0.113.1"], hosts=HOST_B)

    r0 = dns.resolve("mif0", "host.example.com")
    check_answers(r0, 1, A_ANSWERS, name="host.example.com", pvd_name="mif0/ipv4", ttl=300)
    a.wait_queries(lambda q: q[1] == "host.example.com" and q[2] == "198.51.100.2", "A+AAAA from mif0/ipv4", 2)
    check(b.queries() == [], f"net B saw mif0's queries: {b.queries()}")

    r1 = dns.resolve("mif1", "host.example.com")
    check_answers(r1, 1, B_ANSWERS, name="host.example.com", pvd_name="mif1/ipv4", ttl=300)
    b.wait_queries(lambda q: q[1] == "host.example.com" and q[2] == "203.0.113.2", "A+AAAA from mif1/ipv4", 2)

    r6 = dns.resolve("mif0/ipv6", "host.example.com")
    check_answers(r6, 1, A_ANSWERS, name="host.example.com", pvd_name="mif0/ipv6", ttl=300)
    a.wait_queries(lambda q: q[1] == "host.example.com" and q[2] == "fd6d:6966:a::2", "A+AAAA from mif0/ipv6", 2)

    check(clients(a) == {"198.51.100.2", "fd6d:6966:a::2"}, f"net A's server saw {a.queries()}")
    check(clients(b) == {"203.0.113.2"}, f"net B's server saw {b.queries()}")


def _shared_server(bed, no_bindtodevice):
    """Both networks answer on 198.18.0.53 (their lo); the host reaches it through mif0 by
    default (default route and a /32 with metric 100) and through mif1 by a /32 with
    metric 200. Only the pinning of the query socket to the PvD's link can take mif1's
    PvD to net B."""
    dns = DnsBed(bed)
    for ns in ("a", "b"):
        dns.lo_addr(ns, "198.18.0.53/32")
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0")
    bed.ip("host", "route", "add", "198.18.0.53/32", "via", "198.51.100.1", "dev", "mif0", "metric", "100")
    bed.ip("host", "route", "add", "198.18.0.53/32", "via", "203.0.113.1", "dev", "mif1", "metric", "200")
    # Replies from 198.18.0.53 arrive on mif1 although the best route back is mif0.
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                "net.ipv4.conf.mif0.rp_filter=0", "net.ipv4.conf.mif1.rp_filter=0")
    route = bed.ip_json("host", "route", "get", "198.18.0.53")
    check(route and route[0].get("dev") == "mif0", f"unpinned traffic must go through mif0: {route}")
    dns.conf({"mif0": {"dns": "198.18.0.53"}, "mif1": {"dns": "198.18.0.53"}})
    a = dns.dnsmasq("a", ["198.18.0.53"], hosts=HOST_A)
    b = dns.dnsmasq("b", ["198.18.0.53"], hosts=HOST_B)

    r1 = dns.resolve("mif1", "host.example.com", no_bindtodevice=no_bindtodevice)
    check_answers(r1, 1, B_ANSWERS, pvd_name="mif1/ipv4")
    b.wait_queries(lambda q: q[1] == "host.example.com" and q[2] == "203.0.113.2", "mif1's A+AAAA", 2)
    check(a.queries() == [], f"mif1's queries leaked to net A: {a.queries()}")

    r0 = dns.resolve("mif0", "host.example.com", no_bindtodevice=no_bindtodevice)
    check_answers(r0, 1, A_ANSWERS, pvd_name="mif0/ipv4")
    a.wait_queries(lambda q: q[1] == "host.example.com" and q[2] == "198.51.100.2", "mif0's A+AAAA", 2)
    check(clients(a) == {"198.51.100.2"}, f"net A's server saw {a.queries()}")
    check(clients(b) == {"203.0.113.2"}, f"net B's server saw {b.queries()}")
    return a, b


@bed_options(nets=2)
def test_dns_late_answers_leave_nothing_on_another_link(bed):
    """mif0's server (198.18.0.53, behind net A's router) answers each query at once, and
    twice more 300 ms later from port 53 and from another port; the host's default route
    is through net B (mif1). Nothing of mif0's may leave through mif1 (counted in net B).
    Before, each late datagram found its query socket closed, and one from another port
    found a socket connected to port 53: the kernel answered both with ICMP port
    unreachable, routed by the main table out of mif1 with mif0's address. Now the
    socket is not connected (what comes from elsewhere is read and dropped) and stays
    open one DNS timeout after its query ended; the application (--linger-ms) keeps the
    context open meanwhile."""
    dns = DnsBed(bed)
    dns.lo_addr("a", "198.18.0.53/32")
    bed.ip("host", "route", "add", "default", "via", "203.0.113.1", "dev", "mif1", "metric", "100")
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0", "metric", "200")
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                "net.ipv4.conf.mif0.rp_filter=0", "net.ipv4.conf.mif1.rp_filter=0")
    route = bed.ip_json("host", "route", "get", "198.18.0.53")
    check(route and route[0].get("dev") == "mif1", f"unpinned traffic must go through mif1: {route}")
    dns.nft("b", "table inet leak {\n  chain pre {\n    type filter hook prerouting priority -300; policy accept;\n"
                 "    ip saddr 198.51.100.0/24 counter comment \"from mif0\"\n  }\n}\n")
    late = dns.helper("a", "late-server", "--listen", "198.18.0.53", "--answer-a", "198.18.7.7",
                      "--delay-ms", "300", label="late")
    dns.conf({"mif0": {"dns": "198.18.0.53"}})
    r = dns.resolve("mif0", "host.example.com", timeout_ms=8000, tries=1, linger_ms=5000)
    check_answers(r, 1, {"198.18.7.7"})
    sent = late.output().count('"event": "late"')
    check(sent >= 2, f"the late answers (A and AAAA) were not all sent while the context was open:\n{late.output()}")
    counts = dns.nft_counters("b", "inet", "leak")
    check(counts.get("from mif0") == 0, f"packets from mif0's address left through mif1: {counts}")


def test_dns_a_fresh_port_for_each_name(bed):
    """Five names, one after the other, on one PvD; the server (late-server, nothing
    sent late: --copies 0) logs each query's source port. The A and the AAAA query of a
    name leave from one port, and every name from a port no earlier name used, although
    each name's socket is opened ahead, while the previous name's answers travel (the
    spare, docs/name-translation.md). Both ways of waiting: in mif_check_message (the
    post takes the spare) and on mif_fd."""
    dns = DnsBed(bed)
    dns.lo_addr("a", "198.18.0.53/32")
    dns.conf({"mif0": {"dns": "198.18.0.53"}})
    names = [f"n{i}.example.com" for i in range(5)]
    for wait_fd in (False, True):
        label = "fresh-fd" if wait_fd else "fresh"
        server = dns.helper("a", "late-server", "--listen", "198.18.0.53", "--answer-a", "198.18.7.7",
                            "--delay-ms", "1", "--copies", "0", label=label)
        saved, DnsBed.wait_fd = DnsBed.wait_fd, wait_fd
        try:
            r = dns.resolve("mif0", *names, one_by_one=True)
        finally:
            DnsBed.wait_fd = saved
        for tid in range(1, len(names) + 1):
            check_answers(r, tid, {"198.18.7.7"}, name=names[tid - 1])
        queries = [json.loads(line) for line in server.output().splitlines()
                   if '"event": "query"' in line]
        ports = {}
        for q in queries:
            check(q["client"] == "198.51.100.2", f"query from {q['client']}: {q}")
            ports.setdefault(q["name"].rstrip(".").lower(), set()).add((q["qtype"], q["port"]))
        check(sorted(ports) == names, f"queried names {sorted(ports)}:\n{server.output()}")
        per_name = []
        for name in names:
            got = ports[name]
            check(sorted(t for t, _ in got) == ["A", "AAAA"] and len({p for _, p in got}) == 1,
                  f"{name}: A and AAAA expected from one port, got {sorted(got)}")
            per_name.append(next(iter(got))[1])
        check(len(set(per_name)) == len(names), f"a port was used for two names ({label}): {per_name}")
        server.stop()


def _udp_sockets_of(bed, ns, address):
    """Local ports of the UDP sockets in namespace ns bound to IPv4 `address`
    (/proc/net/udp, read inside the namespace)."""
    want = "%08X" % int.from_bytes(bytes(int(x) for x in address.split("."))[::-1], "big")
    text = bed.ns_exec(ns, "cat", "/proc/net/udp").stdout
    ports = set()
    for line in text.splitlines()[1:]:
        local = line.split()[1]
        addr, port = local.split(":")
        if addr == want:
            ports.add(int(port, 16))
    return ports


def test_dns_spare_socket_used_only_if_nothing_reached_it(bed):
    """Three names, one after the other; the server answers A at once and AAAA a while
    later (slow-aaaa-server: at least 3 s, half of TIMEOUT), logging each query's port. While a name's AAAA answer is held,
    the next name's spare socket is open (the one socket bound to the host's address
    besides the name's own). Name 1's spare is left alone: name 2 leaves from it. A
    datagram is sent to name 2's spare: name 3 leaves from another, fresh port (a spare
    that received anything is closed unused, docs/name-translation.md), and every
    name is answered."""
    dns = DnsBed(bed)
    dns.lo_addr("a", "198.18.0.53/32")
    dns.conf({"mif0": {"dns": "198.18.0.53"}})
    # The test reads /proc and sends its datagram while an AAAA answer is held.
    delay_ms = max(3000, int(TIMEOUT * 500))
    server = dns.helper("a", "slow-aaaa-server", "--listen", "198.18.0.53", "--answer-a", "198.18.7.7",
                        "--answer-aaaa", "fd6d:6966:7::7", "--delay-ms", delay_ms, label="slow")
    names = ["s1.example.com", "s2.example.com", "s3.example.com"]
    running = dns.start("mif0", *names, one_by_one=True, timeout_ms=4 * delay_ms, tries=1,
                        wait_ms=int(TIMEOUT * 3000) + 3 * delay_ms)
    try:
        ports, spares = {}, {}
        for name in names[:2]:
            deadline = time.monotonic() + TIMEOUT
            while True:
                got = [json.loads(line) for line in server.output().splitlines() if '"event": "query"' in line]
                mine = [q for q in got if q["name"].rstrip(".").lower() == name]
                if len(mine) >= 2:
                    break
                check(time.monotonic() < deadline, f"no A and AAAA query for {name}:\n{server.output()}")
                time.sleep(0.01)
            ports[name] = {q["port"] for q in mine}
            check(len(ports[name]) == 1, f"{name}: A and AAAA from one port expected: {mine}")
            # The sockets of earlier names linger (one DNS timeout): not spares.
            used = {q["port"] for q in got}
            deadline = time.monotonic() + TIMEOUT
            while True:
                others = _udp_sockets_of(bed, "host", "198.51.100.2") - used
                if len(others) == 1:
                    break
                check(time.monotonic() < deadline, f"after {name}: one spare expected, other sockets {others}")
                time.sleep(0.01)
            spares[name] = others.pop()
            if name == names[1]:
                bed.ns_exec("a", sys.executable, "-c",
                            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                            "s.bind(('198.18.0.53', 0)); "
                            f"s.sendto(b'not an answer', ('198.51.100.2', {spares[name]}))")
        r = running.finish()
    finally:
        running.kill()
        server.stop()
    for tid, name in enumerate(names, 1):
        check_answers(r, tid, {"198.18.7.7", "fd6d:6966:7::7"}, name=name)
    got = [json.loads(line) for line in server.output().splitlines() if '"event": "query"' in line]
    port3 = {q["port"] for q in got if q["name"].rstrip(".").lower() == names[2]}
    check(ports[names[1]] == {spares[names[0]]},
          f"name 2 should leave from name 1's spare {spares[names[0]]}: {ports[names[1]]}")
    check(len(port3) == 1 and spares[names[1]] not in port3,
          f"name 3 left from the spare that received a datagram ({spares[names[1]]}): {port3}")


def test_dns_post_gives_the_sockets_back_to_the_engine(bed):
    """Name 1 is answered to a thread waiting in mif_check_message (its AAAA answer
    comes 300 ms late, so that thread is waiting, with the query sockets out of the
    engine's poll, when it comes); no query is out afterwards, so the sockets stay out.
    Name 2 is posted alone and waited for by calling mif_get_message every 10 ms, never
    waiting on the library (nor asking for mif_fd, which would make the application
    read its answers), so the engine must read them: the post has to give the sockets
    back. The DNS timeout is 6 x TIMEOUT,
    the driver gives up after TIMEOUT: were the sockets not given back, the answer
    would be read only when the engine next wakes for another reason, the query's
    deadline at the latest, and the driver would give up (exit 3). IPv6 is off on mif0
    first, so that no address settling wakes the engine meanwhile (the PvD used is
    mif0's IPv4 one)."""
    bed.ns_exec("host", "sysctl", "-qw", "net.ipv6.conf.mif0.disable_ipv6=1")
    dns = DnsBed(bed)
    dns.lo_addr("a", "198.18.0.53/32")
    dns.conf({"mif0": {"dns": "198.18.0.53"}})
    server = dns.helper("a", "slow-aaaa-server", "--listen", "198.18.0.53", "--answer-a", "198.18.7.7",
                        "--answer-aaaa", "fd6d:6966:7::7", "--delay-ms", "300", label="slow")
    try:
        r = dns.resolve("mif0", "g.example.com", "g.example.com", one_by_one=True, get_after_first=True,
                        no_cache=True, timeout_ms=int(TIMEOUT * 6000), tries=1, wait_ms=int(TIMEOUT * 1000))
    finally:
        server.stop()
    for tid in (1, 2):
        check_answers(r, tid, {"198.18.7.7", "fd6d:6966:7::7"}, source="dns")


def test_dns_fd_waiter_reads_its_answers(bed):
    """An application waiting on mif_fd (asked for before its first post, as an event
    loop does) with up to 4 translations out reads their answers itself, in
    mif_get_message after mif_fd woke it (fd mode, docs/engine.md). The engine is told
    to leave DNS alone (MIF_TEST_ENGINE_LEAVES_DNS), so nobody else reads them: without
    fd mode the driver would give up (exit 3). Four names one at a time, then four at
    once (those posts also read answers, as posts with 2 to 4 out do). Every wake of
    mif_fd brings a message, give or take a few: a readable descriptor that
    mif_get_message does not make unreadable would spin, thousands of empty wakes.
    (Whether mif_fd wakes for these depends on the answers' timing: the driver calls
    mif_get_message before each poll, which reads answers already there.) Then two
    names whose AAAA answers come 300 ms late: each wakes mif_fd."""
    dns = DnsBed(bed)
    dns.lo_addr("a", "198.18.0.53/32")
    dns.conf({"mif0": {"dns": "198.18.0.53"}})
    names = [f"fd{i}.example.com" for i in range(4)]
    for one_by_one in (True, False):
        server = dns.helper("a", "late-server", "--listen", "198.18.0.53", "--answer-a", "198.18.7.7",
                            "--delay-ms", "1", "--copies", "0", label=f"fdmode-{one_by_one}")
        try:
            r = dns.resolve("mif0", *names, one_by_one=one_by_one, no_cache=True, wait_fd=True,
                            engine_leaves_dns=True)
        finally:
            server.stop()
        for tid in range(1, len(names) + 1):
            check_answers(r, tid, {"198.18.7.7"}, name=names[tid - 1])
        ends = [m for m in r.lines if m.get("msg") == "end"]
        check(len(ends) == 1, f"one end line expected:\n{r.describe()}")
        end = ends[0]
        check(end["fd_wakes_empty"] <= 8,
              f"mif_fd woke {end['fd_wakes']} times, {end['fd_wakes_empty']} with no message:\n{r.describe()}")
    # The AAAA answers come 300 ms late, when the driver certainly sits in poll() on
    # mif_fd (in slices of at most 1 s): each must wake it. Were the query sockets not
    # in the descriptor, the driver would find them only after its poll() timed out.
    server = dns.helper("a", "slow-aaaa-server", "--listen", "198.18.0.53", "--answer-a", "198.18.7.7",
                        "--answer-aaaa", "fd6d:6966:7::7", "--delay-ms", "300", label="fdmode-slow")
    try:
        r = dns.resolve("mif0", "s1.example.com", "s2.example.com", one_by_one=True, no_cache=True, wait_fd=True,
                        engine_leaves_dns=True)
    finally:
        server.stop()
    for tid in (1, 2):
        check_answers(r, tid, {"198.18.7.7", "fd6d:6966:7::7"}, source="dns")
    end = [m for m in r.lines if m.get("msg") == "end"][0]
    check(end["fd_wakes"] >= 2, f"mif_fd woke {end['fd_wakes']} times for two late answers:\n{r.describe()}")


@bed_options(nets=2)
def test_dns_shared_server_bindtodevice(bed):
    """One server address in both networks, SO_BINDTODEVICE (root): each PvD reaches its
    own network's server. Control: an unpinned query from mif1's address (dig -b)
    leaks to net A, so the topology does discriminate."""
    a, _b = _shared_server(bed, no_bindtodevice=False)
    # "-bADDR" in one word: bed.guard reads a separate "-b" as ip's -batch FILE.
    bed.ns_exec("host", "dig", "@198.18.0.53", "-b203.0.113.2", "+tries=1", "+time=1",
                "control.example.com", check=False)
    a.wait_queries(lambda q: q[1] == "control.example.com" and q[2] == "203.0.113.2",
                   "the unpinned control query (the bed must be able to leak)")


@bed_options(nets=2)
def test_dns_shared_server_unicast_if(bed):
    """The same with MIF_TEST_NO_BINDTODEVICE: the IP_UNICAST_IF pinning path."""
    _shared_server(bed, no_bindtodevice=True)


# ---------------------------------------------------------------- spoofing

def test_dns_spoofed_replies_ignored(bed):
    """An on-path spoofer in net A sees each query on gw0 and at once sends forged
    replies from the server's address and port: wrong ID, wrong question (name, type,
    two questions), QR clear, wrong opcode; and from a wrong port (5353) and a wrong
    source address (198.51.100.99). The real server (dnsmasq, forwarding to the
    spoofer's upstream half, which answers only after the forgeries are out) answers
    last. Only the real answer may come out; the host must have received the forgeries."""
    dns = DnsBed(bed)
    dns.lo_addr("a", "198.51.100.54/32")
    racer = dns.helper("a", "racer", "--iface", "gw0", "--server", "198.51.100.1", "--client", "198.51.100.2",
                       "--upstream", "198.51.100.54", "--name", "race.example.com",
                       "--answer-a", "198.18.7.7", "--answer-aaaa", "fd6d:6966:7::7", label="racer")
    dns.dnsmasq("a", ["198.51.100.1"], local=(), extra=["--server=/race.example.com/198.51.100.54"])
    dns.nft("host", """table inet dnsspoof {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr 198.51.100.99 udp sport 53 counter comment "wrong_source_address"
    ip saddr 198.51.100.1 udp sport 5353 counter comment "wrong_port"
    ip saddr 198.51.100.1 udp sport 53 counter comment "from_server"
  }
}
""")
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "race.example.com", timeout_ms=5000, tries=1)
    events = [json.loads(line) for line in racer.output().splitlines() if line.startswith("{")]
    check_answers(r, 1, {"198.18.7.7", "fd6d:6966:7::7"}, name="race.example.com")
    for qtype in ("A", "AAAA"):
        mine = [e for e in events if e.get("qtype") == qtype]
        kinds = [e["kind"] for e in mine if e["event"] == "forged"]
        check(sorted(kinds) == sorted(FORGERIES), f"{qtype}: forgeries sent {kinds}, {FORGERIES} expected:\n"
              + "\n".join(map(str, events)))
        order = [e["event"] for e in mine if e["event"] in ("raced", "released", "released_unraced")]
        check(order == ["raced", "released"], f"{qtype}: the real answer must follow the forgeries: {order}")
    counts = dns.nft_counters("host", "inet", "dnsspoof")
    # Per query type: 6 forgeries from the server's address and port, then the real answer.
    check(counts.get("wrong_source_address", 0) >= 2 and counts.get("wrong_port", 0) >= 2
          and counts.get("from_server", 0) >= 2 * (len(FORGERIES) - 2) + 2,
          f"the forged replies did not all reach the host: {counts}")


# ---------------------------------------------------------------- server selection and failures

def _drop(dns, *addrs):
    rules = "\n".join(f'    ip daddr {a} udp dport 53 counter drop comment "{a}"' for a in addrs)
    dns.nft("a", "table inet dnsdrop {\n  chain input {\n    type filter hook input priority 0; policy accept;\n"
            + rules + "\n  }\n}\n")


def test_dns_first_server_silent(bed):
    """Two servers; the first one's queries are dropped in net A: the second answers."""
    dns = DnsBed(bed)
    bed.ip("a", "addr", "add", "198.51.100.53/24", "dev", "gw0")
    a = dns.dnsmasq("a", ["198.51.100.53", "198.51.100.1"], hosts=HOST_A)
    _drop(dns, "198.51.100.53")
    dns.conf({"mif0": {"dns": "198.51.100.53 198.51.100.1"}})
    r = dns.resolve("mif0", "host.example.com", timeout_ms=300, tries=1)
    check_answers(r, 1, A_ANSWERS)
    counts = dns.nft_counters("a", "inet", "dnsdrop")
    check(counts.get("198.51.100.53", 0) >= 2, f"the first server was not asked first (A and AAAA): {counts}")
    a.wait_queries(lambda q: q[1] == "host.example.com", "queries at the second server", 2)


def test_dns_first_server_refused_on_this_host(bed):
    """This host's own firewall drops the queries to the first server, so the post's
    send fails at once (EPERM): both lookups move on to the second server at once, which
    answers. The first server's timeout is longer than the driver waits: only the
    immediate move on can answer in time."""
    dns = DnsBed(bed)
    bed.ip("a", "addr", "add", "198.51.100.53/24", "dev", "gw0")
    dns.dnsmasq("a", ["198.51.100.53", "198.51.100.1"], hosts=HOST_A)
    dns.nft("host", "table inet outdrop {\n  chain output {\n    type filter hook output priority 0; policy accept;\n"
            '    ip daddr 198.51.100.53 udp dport 53 counter drop comment "198.51.100.53"\n  }\n}\n')
    dns.conf({"mif0": {"dns": "198.51.100.53 198.51.100.1"}})
    wait_ms = int(TIMEOUT * 3000)
    r = dns.resolve("mif0", "host.example.com", timeout_ms=4 * wait_ms, tries=1, wait_ms=wait_ms)
    check_answers(r, 1, A_ANSWERS)
    # The pair's sendmmsg, then each lookup on its own to the same server, all refused.
    counts = dns.nft_counters("host", "inet", "outdrop")
    check(counts.get("198.51.100.53", 0) >= 3, f"the first server was not tried as a pair and then by each lookup: {counts}")


def test_dns_all_servers_silent(bed):
    """Every server silent: "timeout" (--timeout-ms 300 --tries 1), no address."""
    dns = DnsBed(bed)
    bed.ip("a", "addr", "add", "198.51.100.53/24", "dev", "gw0")
    dns.dnsmasq("a", ["198.51.100.53", "198.51.100.1"], hosts=HOST_A)
    _drop(dns, "198.51.100.53", "198.51.100.1")
    dns.conf({"mif0": {"dns": "198.51.100.53 198.51.100.1"}})
    r = dns.resolve("mif0", "host.example.com", timeout_ms=300, tries=1)
    check_no_answers(r, 1, "timeout")
    counts = dns.nft_counters("a", "inet", "dnsdrop")
    check(counts.get("198.51.100.53", 0) >= 2 and counts.get("198.51.100.1", 0) >= 2,
          f"both servers must have been asked: {counts}")


def test_dns_server_failure(bed):
    """SERVFAIL, REFUSED and an ICMP port unreachable (nothing listening) from the only
    server: "server_failure". A SERVFAIL from the first server moves on to the second."""
    dns = DnsBed(bed)
    for a in ("198.51.100.77", "198.51.100.78", "198.51.100.79"):
        bed.ip("a", "addr", "add", f"{a}/24", "dev", "gw0")
    servfail = dns.helper("a", "rcode-server", "--listen", "198.51.100.77", "--rcode", "2", label="servfail")
    dns.helper("a", "rcode-server", "--listen", "198.51.100.78", "--rcode", "5", label="refused")
    dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    for server in ("198.51.100.77", "198.51.100.78", "198.51.100.79"):
        dns.conf({"mif0": {"dns": server}})
        r = dns.resolve("mif0", "host.example.com", timeout_ms=2000, tries=1)
        check_no_answers(r, 1, "server_failure")
    check('"name": "host.example.com"' in servfail.output(), f"the SERVFAIL server was not asked:\n{servfail.output()}")
    dns.conf({"mif0": {"dns": "198.51.100.77 198.51.100.1"}})
    r = dns.resolve("mif0", "host.example.com", timeout_ms=2000, tries=1)
    check_answers(r, 1, A_ANSWERS)


def test_dns_garbage_reply(bed):
    """The only server answers every query with an unparsable datagram (its 12-byte
    header: right ID, QR set, one question announced, nothing after). A reply that does
    not parse or match the query is ignored like a forgery (mif.h, docs/name-translation.md),
    so that junk cannot fail a lookup: the attempt runs into its timeout."""
    dns = DnsBed(bed)
    bed.ip("a", "addr", "add", "198.51.100.77/24", "dev", "gw0")
    garbage = dns.helper("a", "rcode-server", "--listen", "198.51.100.77", "--rcode", "0", "--garbage",
                         label="garbage")
    dns.conf({"mif0": {"dns": "198.51.100.77"}})
    r = dns.resolve("mif0", "host.example.com", timeout_ms=500, tries=1)
    check('"name": "host.example.com"' in garbage.output(), f"the server was not asked:\n{garbage.output()}")
    check_no_answers(r, 1, "timeout")


# ---------------------------------------------------------------- answers

def test_dns_truncated_answer_over_tcp(bed):
    """big.example.com has 100 A records: the UDP answer (EDNS0 1232) is truncated and
    the library asks again over TCP: all 100 addresses arrive, each once, and net A saw
    TCP packets to port 53. Run under valgrind."""
    dns = DnsBed(bed)
    big = [f"198.18.100.{i}" for i in range(1, 101)]
    dns.dnsmasq("a", ["198.51.100.1"], hosts={"big.example.com": big})
    dns.nft("a", """table inet dnstcp {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 53 counter comment "tcp"
    udp dport 53 counter comment "udp"
  }
}
""")
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "big.example.com", valgrind=True)
    check_answers(r, 1, big, name="big.example.com")
    counts = dns.nft_counters("a", "inet", "dnstcp")
    check(counts.get("tcp", 0) > 0 and counts.get("udp", 0) >= 2, f"no TCP query seen: {counts}")


def test_dns_nxdomain_nodata(bed):
    """dnsmasq authoritative (--local) for example.com: an unknown name is
    "no_such_name"; a name with only a TXT record is "no_data"; a name with only an A
    record is "done" with that address (its empty AAAA answer does not spoil it)."""
    dns = DnsBed(bed)
    a = dns.dnsmasq("a", ["198.51.100.1"], hosts={"v4only.example.com": ["198.18.4.4"]},
                    extra=["--txt-record=txtonly.example.com,hello"])
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "nothere.example.com", "txtonly.example.com", "v4only.example.com")
    check_no_answers(r, 1, "no_such_name")
    check_no_answers(r, 2, "no_data")
    check_answers(r, 3, {"198.18.4.4"}, name="v4only.example.com")
    a.wait_queries(lambda q: q[1] == "txtonly.example.com", "A+AAAA for txtonly", 2)


def test_dns_cname(bed):
    """alias.example.com is a CNAME of host.example.com (dnsmasq --cname): the chain in
    the answer is followed; the messages name the asked name."""
    dns = DnsBed(bed)
    dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A, extra=["--cname=alias.example.com,host.example.com"])
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "alias.example.com")
    check_answers(r, 1, A_ANSWERS, name="alias.example.com")


def test_dns_cache_answers_a_repeated_name(bed):
    """One context translates host.example.com three times, one after the other (the
    third in capitals): the first asks dnsmasq (A and AAAA), the second and third are
    answered from the PvD's cache (source "cache", TTL what is left of dnsmasq's 300 s),
    and dnsmasq saw no other query. With MIF_OPTION_NO_DNS_CACHE every translation asks
    again. (That a PvD's cache serves no other PvD is a unit test, core::dns::cache: this
    driver translates on one PvD.)"""
    dns = DnsBed(bed)
    a = dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "host.example.com", "host.example.com", "HOST.example.com", one_by_one=True)
    check_answers(r, 1, A_ANSWERS, source="dns", name="host.example.com")
    check_answers(r, 2, A_ANSWERS, source="cache", name="host.example.com")
    check_answers(r, 3, A_ANSWERS, source="cache", name="host.example.com")
    for m in r.translations(2) + r.translations(3):
        check(1 <= m["ttl"] <= 300, f"cached TTL out of range: {m}")
    asked = lambda q: q[1].lower() == "host.example.com"
    a.wait_queries(asked, "A+AAAA for host.example.com", 2)
    check(len([q for q in a.queries() if asked(q)]) == 2,
          f"with the cache, dnsmasq must see one A and one AAAA query: {a.queries()}")
    r = dns.resolve("mif0", "host.example.com", "host.example.com", one_by_one=True, no_cache=True)
    check_answers(r, 1, A_ANSWERS, source="dns")
    check_answers(r, 2, A_ANSWERS, source="dns")
    a.wait_queries(asked, "2 more A+AAAA for host.example.com", 6)


def _check_cancelled(r, tids):
    for tid in tids:
        check_no_answers(r, tid, "cancelled")
        mine = [m["msg"] for m in r.of(tid) if m["msg"] != "posted"]
        check(mine == ["stop_posted", "name_translation_done"], f"translation {tid}: {mine}\n{r.describe()}")
        stop = r.of(tid, "stop_posted")[0]
        check(stop["result"] == 0, f"stop of {tid}: {stop}")


def test_dns_stop_mid_flight(bed):
    """Server silent; two names; stopped while their queries are out: each translation
    gets exactly one name_translation_done "cancelled", after its stop returned, and
    nothing about it after that, also once its queries would have timed out (linger >
    timeout). First with --stop-after-ms 100; then stopped only once the test has seen
    all four queries (A, AAAA for each name) reach net A, so "mid-flight" is certain."""
    dns = DnsBed(bed)
    dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    _drop(dns, "198.51.100.1")
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "host.example.com", "other.example.com", timeout_ms=1000, tries=1,
                    stop_after_ms=100, linger_ms=1300)
    _check_cancelled(r, (1, 2))

    before = dns.nft_counters("a", "inet", "dnsdrop").get("198.51.100.1", 0)
    trigger = os.path.join(bed.tmp, "stop-now")
    running = dns.start("mif0", "host.example.com", "other.example.com", timeout_ms=1000, tries=1,
                        stop_when_file=trigger, linger_ms=1300)
    try:
        deadline = time.monotonic() + TIMEOUT
        while dns.nft_counters("a", "inet", "dnsdrop").get("198.51.100.1", 0) < before + 4:
            check(time.monotonic() < deadline, "the four queries never reached net A")
            time.sleep(0.01)
        open(trigger, "w").close()
        r = running.finish()
    finally:
        running.kill()
    _check_cancelled(r, (1, 2))


def test_dns_pvd_gone_mid_flight(bed):
    """Server silent (long timeout); once the queries have reached net A, mif0 is taken
    down: the PvD goes away and the translation ends at once with "no_servers" (the
    documented status for a PvD gone during a translation), long before its queries
    could time out (timeout 20 s, tries 1: only an answer driven by the link change can
    come within the test's wait)."""
    dns = DnsBed(bed)
    dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    _drop(dns, "198.51.100.1")
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    before = dns.nft_counters("a", "inet", "dnsdrop").get("198.51.100.1", 0)
    running = dns.start("mif0", "host.example.com", timeout_ms=20000, tries=1)
    try:
        deadline = time.monotonic() + TIMEOUT
        while dns.nft_counters("a", "inet", "dnsdrop").get("198.51.100.1", 0) < before + 2:
            check(time.monotonic() < deadline, "the two queries never reached net A")
            time.sleep(0.01)
        bed.ip("host", "link", "set", "mif0", "down")
        r = running.finish()
    finally:
        running.kill()
    check_no_answers(r, 1, "no_servers")


def test_dns_hosts_file(bed):
    """ROOT/etc/hosts answers first: source "hosts", TTL 0, every address of the name
    (IPv4 and IPv6), and the DNS server never sees the name; a name not in the file
    still goes to DNS."""
    dns = DnsBed(bed)
    dns.hosts_file("# test hosts\n198.18.5.5 hosted.example.com hosted\nfd6d:6966:5::5\thosted.example.com\n"
                   "198.18.5.6 other.example.com # hosted.example.com in a comment\n")
    a = dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "hosted.example.com", "host.example.com", "HOSTED.example.com.")
    check_answers(r, 1, {"198.18.5.5", "fd6d:6966:5::5"}, source="hosts", name="hosted.example.com", ttl=0)
    check_answers(r, 2, A_ANSWERS, source="dns")
    check_answers(r, 3, {"198.18.5.5", "fd6d:6966:5::5"}, source="hosts")
    a.wait_queries(lambda q: q[1] == "host.example.com", "the DNS control queries", 2)
    check(not [q for q in a.queries() if "hosted" in q[1]], f"a hosts-file name reached DNS: {a.queries()}")


def test_dns_hosts_file_not_a_file(bed):
    """ROOT/etc/hosts as a FIFO (no writer ever comes) and as a symlink to /dev/zero:
    the translate post does not block on it, memory does not run away, and DNS
    answers as if there were no hosts file."""
    dns = DnsBed(bed)
    dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    hosts = bed.path("etc/hosts")
    os.mkfifo(hosts)
    r = dns.resolve("mif0", "host.example.com")
    check_answers(r, 1, A_ANSWERS, source="dns")
    os.remove(hosts)
    os.symlink("/dev/zero", hosts)
    r = dns.resolve("mif0", "host.example.com")
    check_answers(r, 1, A_ANSWERS, source="dns")


def test_dns_idna(bed):
    """bücher.example (and BÜCHER.EXAMPLE) is asked as xn--bcher-kva.example."""
    dns = DnsBed(bed)
    a = dns.dnsmasq("a", ["198.51.100.1"], hosts={"xn--bcher-kva.example": ["198.18.9.9"]}, local=("example",))
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", "bücher.example", "BÜCHER.EXAMPLE")
    check_answers(r, 1, {"198.18.9.9"}, name="xn--bcher-kva.example")
    # The same name again: from the answer cache when the first translation ended first.
    check_answers(r, 2, {"198.18.9.9"}, name="xn--bcher-kva.example", source=("dns", "cache"))
    a.wait_queries(lambda q: q[1] == "xn--bcher-kva.example", "the punycode query", 2)


def test_dns_search_domain(bed):
    """A single label with `search = example.com` is asked as host.example.com, and the
    messages name it. With `search = a.test example.com` the first candidate gets
    NXDOMAIN and the second answers."""
    dns = DnsBed(bed)
    a = dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A, local=("example.com", "a.test"))
    dns.conf({"mif0": {"dns": "198.51.100.1", "search": "example.com"}})
    r = dns.resolve("mif0", "host")
    check_answers(r, 1, A_ANSWERS, name="host.example.com")
    check(not [q for q in a.queries() if q[1] == "host"], f"the bare label was asked: {a.queries()}")
    dns.conf({"mif0": {"dns": "198.51.100.1", "search": "a.test example.com"}})
    r = dns.resolve("mif0", "host")
    check_answers(r, 1, A_ANSWERS, name="host.example.com")
    a.wait_queries(lambda q: q[1] == "host.a.test", "the first search candidate", 2)


def test_dns_no_servers(bed):
    """A PvD without DNS servers: "no_servers" (no static file; a file with only a search
    domain; IPv4 servers only, asked on the IPv6 PvD)."""
    dns = DnsBed(bed)
    r = dns.resolve("mif0", "host.example.com")
    check_no_answers(r, 1, "no_servers")
    dns.conf({"mif0": {"search": "example.com"}})
    r = dns.resolve("mif0", "host.example.com")
    check_no_answers(r, 1, "no_servers")
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0/ipv6", "host.example.com")
    check_no_answers(r, 1, "no_servers")


# ---------------------------------------------------------------- the C API's refusals

def test_dns_bad_names_self_test(bed):
    """mifresolve --self-test under valgrind: bad names (empty, ".", "a..b", a 64-octet
    label, 254-octet names, invalid UTF-8, an IDNA label over 63 octets) are
    MIF_E_BAD_NAME while the 63/253-octet limits are accepted; NULL name; unknown PvDs;
    a duplicate outstanding id; stops of unknown, refused and already stopped ids; reuse
    of a stopped id. Every accepted translation (server silent) is stopped and gets
    exactly one "cancelled"."""
    dns = DnsBed(bed)
    dns.dnsmasq("a", ["198.51.100.1"], hosts=HOST_A)
    _drop(dns, "198.51.100.1")
    dns.conf({"mif0": {"dns": "198.51.100.1"}})
    r = dns.resolve("mif0", self_test=True, timeout_ms=60000, tries=1, linger_ms=300, valgrind=True)
    cases = [m for m in r.lines if m.get("msg") == "self_test"]
    bad = [c for c in cases if not c["ok"]]
    check(len(cases) >= 30 and not bad, f"{len(cases)} cases, failing: {bad}\n{r.describe()}")
    accepted = {m["translation_id"] for m in r.lines if m.get("msg") == "name_translation_done"}
    check(len(accepted) == 6, f"accepted translations: {sorted(accepted)}\n{r.describe()}")
    for tid in accepted:
        dones = r.of(tid, "name_translation_done")
        # The hold id (7) was used twice: one "cancelled" per use.
        check(all(d["status"] == "cancelled" for d in dones) and len(dones) == (2 if tid == 7 else 1),
              f"translation {tid}: {dones}")
    check(not [m for m in r.lines if m.get("msg") == "name_translation"], f"an address arrived:\n{r.describe()}")


# The tests above run mifresolve waiting in mif_check_message, where the waiting thread
# reads the DNS answers itself. These run the same bodies with mifresolve waiting in
# poll() on mif_fd: with up to 4 translations out, mif_get_message reads the answers
# that woke it (fd mode), with more the engine thread does; the engine keeps every
# timeout (docs/name-translation.md, "Who does what").
def _on_fd(body):
    def run(bed):
        DnsBed.wait_fd = True
        try:
            body(bed)
        finally:
            DnsBed.wait_fd = False
    run.__doc__ = (body.__doc__ or "") + " (waiting on mif_fd: fd mode up to 4 out, else the engine)"
    if hasattr(body, "bed_options"):
        run.bed_options = body.bed_options
    return run


test_dns_two_networks_fd = _on_fd(test_dns_two_networks)
test_dns_spoofed_replies_ignored_fd = _on_fd(test_dns_spoofed_replies_ignored)
test_dns_first_server_silent_fd = _on_fd(test_dns_first_server_silent)
test_dns_all_servers_silent_fd = _on_fd(test_dns_all_servers_silent)
test_dns_truncated_answer_over_tcp_fd = _on_fd(test_dns_truncated_answer_over_tcp)
test_dns_stop_mid_flight_fd = _on_fd(test_dns_stop_mid_flight)
test_dns_pvd_gone_mid_flight_fd = _on_fd(test_dns_pvd_gone_mid_flight)
