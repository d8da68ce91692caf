"""Connections per provisioning domain (draft 3.2.7.21-3.2.7.25) through the C API:
c-tests/connect/mifconnect drives libmif in the host namespace (see connbed.py for the
topology: a shared address 198.18.0.80 in both networks, the host's default route to
net A, a server per network answering its name). Every run also checks that the
descriptor count after mif_close equals the one before mif_open and that no connection
got a second final message."""

import json
import re
import time

from bed import TIMEOUT, Failure, bed_options, check
from connbed import CLOSED_PORT, HOLE_PORT, SHARED, SHARED6, TCP_PORT, UDP_PORT, ConnBed

A_ROUTER, A_HOST, B_HOST = "198.51.100.1", "198.51.100.2", "203.0.113.2"
A_HOST6, B_HOST6 = "fd6d:6966:a::2", "fd6d:6966:b::2"

ECONNREFUSED, ETIMEDOUT, ENETDOWN, ECANCELED = 111, 110, 100, 125
MIF_E_BAD_SOURCE, MIF_E_NO_DEFAULT_PVD, MIF_E_UNKNOWN_CONNECTION = 208, 209, 207
SENTINEL = 1000000


def want(r, cond, text):
    if not cond:
        raise Failure(text + "\n" + r.describe())


def check_handed_over(r, m, pvd_name, local, remote, port, text):
    """A connected line: the right PvD, addresses, the peer's reply read through the fd,
    which was CLOEXEC and blocking as mif.h promises."""
    cid = m["connection_id"]
    want(r, m["pvd_name"] == pvd_name, f"connection {cid}: PvD {m['pvd_name']}, {pvd_name} expected")
    want(r, m["text"] == text, f"connection {cid}: read {m['text']!r} through the fd, {text!r} expected")
    want(r, m["fd"] >= 0 and m["read_error"] is None, f"connection {cid}: fd {m['fd']}, read error {m['read_error']}")
    if local is not None:
        want(r, m["local"] == local and m["sock_local"] == local,
             f"connection {cid}: local {m['local']} (socket: {m['sock_local']}), {local} expected")
    want(r, m["local_port"] == m["sock_local_port"] != 0,
         f"connection {cid}: local port {m['local_port']}, the socket's is {m['sock_local_port']}")
    if remote is not None:
        want(r, m["remote"] == remote and m["sock_remote"] == remote,
             f"connection {cid}: remote {m['remote']} (socket: {m['sock_remote']}), {remote} expected")
    want(r, m["remote_port"] == port, f"connection {cid}: remote port {m['remote_port']}, {port} expected")
    want(r, m["cloexec"] and not m["nonblocking"],
         f"connection {cid}: cloexec={m['cloexec']} nonblocking={m['nonblocking']} (CLOEXEC, blocking expected)")


def check_failed(r, cid, errno, name):
    m = r.not_connected(cid)
    want(r, m["error"] == errno, f"connection {cid}: error {m['error']} {m['error_name']}, {errno} {name} expected")
    want(r, m["fd"] == -1, f"connection {cid}: not_connected with fd {m['fd']} (-1 expected)")
    want(r, m["text"], f"connection {cid}: not_connected without a text")
    return m


EPERM = 1


def per_pvd(bed, no_bindtodevice, family="ipv4"):
    v6 = family == "ipv6"
    cb = ConnBed(bed, ipv6_shared=v6)
    shared, a_host, b_host = (SHARED6, A_HOST6, B_HOST6) if v6 else (SHARED, A_HOST, B_HOST)
    # The premise: without pinning, the shared address is net A.
    plain = cb.plain_connect(shared, TCP_PORT)
    check(plain == "net-a", f"a plain connect to {shared} read {plain!r}: the default route should go to net A")
    # Counts TCP packets from mif1's address that arrive in net A (through mif0).
    cb.rule("a", f"{'ip6' if v6 else 'ip'} saddr {b_host} tcp dport {TCP_PORT}", "accept", "leak")
    for pvd_name, net, local in ((f"mif1/{family}", "net-b", b_host), (f"mif0/{family}", "net-a", a_host)):
        # (timeout 5 s: a connect that leaves through the wrong link gets no answer)
        r = cb.run(pvd_name, shared, TCP_PORT, no_bindtodevice=no_bindtodevice, timeout_ms=5000)
        want(r, r.posted(1)["result"] == 0, "post refused")
        leaked = cb.packets("a", "leak")
        want(r, leaked == 0, f"{leaked} TCP packets from {b_host} (mif1's address) arrived in net A: "
             f"the connect on {pvd_name} left through mif0, the default route"
             + (" (IP(V6)_UNICAST_IF does not pin a TCP connect)" if no_bindtodevice else ""))
        m = r.connected(1)
        check_handed_over(r, m, pvd_name, local, shared, TCP_PORT, net)
        ifname = pvd_name.split("/")[0]
        if no_bindtodevice:
            want(r, m["bound_dev"] == "" and m["unicast_if"] == bed.ifindex(ifname),
                 f"MIF_TEST_NO_BINDTODEVICE: SO_BINDTODEVICE {m['bound_dev']!r}, IP_UNICAST_IF "
                 f"{m['unicast_if']} ({ifname} = {bed.ifindex(ifname)} expected)")
        else:
            want(r, m["bound_dev"] == ifname, f"SO_BINDTODEVICE {m['bound_dev']!r}, {ifname} expected")
        cb.wait_server_event(net[-1], lambda e: e.get("event") == "accepted" and e.get("peer") == local,
                             f"connection from {local}")
    # From Address with the PvD's own source: the same network.
    r = cb.run(f"mif1/{family}", shared, TCP_PORT, source=b_host, no_bindtodevice=no_bindtodevice, timeout_ms=5000)
    want(r, r.posted(1)["request"] == "connect_from_address" and r.posted(1)["result"] == 0, "post refused")
    check_handed_over(r, r.connected(1), f"mif1/{family}", b_host, shared, TCP_PORT, "net-b")


@bed_options(nets=2)
def test_connect_per_pvd_bindtodevice(bed):
    """A connect to 198.18.0.80 on mif1's PvD answers "net-b" although the host's
    default route goes to net A (SO_BINDTODEVICE); on mif0's PvD "net-a"; From Address
    with mif1's own address also net B. The reply is read through the handed-over fd."""
    per_pvd(bed, no_bindtodevice=False)


def no_tcp_without_bindtodevice(bed, family):
    """IP(V6)_UNICAST_IF does not steer a TCP connect, so without SO_BINDTODEVICE the
    library must refuse (EPERM) rather than let the SYN leave through the default route."""
    v6 = family == "ipv6"
    cb = ConnBed(bed, ipv6_shared=v6)
    shared, b_host = (SHARED6, B_HOST6) if v6 else (SHARED, B_HOST)
    cb.rule("a", f"{'ip6' if v6 else 'ip'} saddr {b_host} tcp dport {TCP_PORT}", "accept", "leak")
    r = cb.run(f"mif1/{family}", shared, TCP_PORT, no_bindtodevice=True, timeout_ms=5000)
    want(r, r.posted(1)["result"] == 0, "post refused")
    check_failed(r, 1, EPERM, "EPERM")
    leaked = cb.packets("a", "leak")
    want(r, leaked == 0, f"{leaked} TCP packets from {b_host} (mif1's address) arrived in net A")


@bed_options(nets=2)
def test_connect_refused_without_bindtodevice(bed):
    """MIF_TEST_NO_BINDTODEVICE (a kernel refusing SO_BINDTODEVICE): not_connected EPERM, no leak."""
    no_tcp_without_bindtodevice(bed, "ipv4")


@bed_options(nets=2)
def test_connect_per_pvd_ipv6_bindtodevice(bed):
    """IPv6: fd6d:6966:ff::80 in both networks, the host's preferred default route via
    mif0: a connect on mif1/ipv6 answers "net-b", on mif0/ipv6 "net-a" (SO_BINDTODEVICE)."""
    per_pvd(bed, no_bindtodevice=False, family="ipv6")


@bed_options(nets=2)
def test_connect_ipv6_refused_without_bindtodevice(bed):
    """The same for IPv6."""
    no_tcp_without_bindtodevice(bed, "ipv6")


@bed_options(nets=2)
def test_connect_from_foreign_source(bed):
    """From Address with mif1's address (or mif0's own IPv6 address) on mif0's IPv4 PvD:
    the post is refused with MIF_E_BAD_SOURCE and nothing follows for that id."""
    cb = ConnBed(bed)
    for src in (B_HOST, "fd6d:6966:a::2"):
        r = cb.run("mif0/ipv4", SHARED, TCP_PORT, source=src)
        p = r.posted(1)
        want(r, p["request"] == "connect_from_address" and p["result"] == MIF_E_BAD_SOURCE,
             f"From Address {src} on mif0/ipv4: result {p['result']} ({p['result_name']}), "
             f"MIF_E_BAD_SOURCE ({MIF_E_BAD_SOURCE}) expected")
        want(r, r.results(1) == [] and r.one("all_posted")["accepted"] == 0, "a result for a refused post")


@bed_options(nets=2)
def test_connect_refused(bed):
    """A closed port: not_connected with ECONNREFUSED, fd -1, the PvD and remote named."""
    cb = ConnBed(bed)
    r = cb.run("mif0/ipv4", A_ROUTER, CLOSED_PORT)
    m = check_failed(r, 1, ECONNREFUSED, "ECONNREFUSED")
    want(r, m["pvd_name"] == "mif0/ipv4" and m["remote"] == A_ROUTER and m["remote_port"] == CLOSED_PORT,
         "not_connected names the wrong PvD or remote")


@bed_options(nets=2)
def test_connect_timeout(bed):
    """Net A drops the SYNs (nftables): not_connected ETIMEDOUT with --timeout-ms 1500."""
    cb = ConnBed(bed)
    cb.blackhole("a", f"tcp dport {HOLE_PORT}")
    r = cb.run("mif0/ipv4", A_ROUTER, HOLE_PORT, timeout_ms=1500)
    check_failed(r, 1, ETIMEDOUT, "ETIMEDOUT")
    check(cb.hole_packets("a") >= 1, "no SYN reached net A's blackhole")


@bed_options(nets=2)
def test_connect_second_source_after_delay(bed):
    """Two sources in mif0's PvD, net A drops everything from the first (198.51.100.2):
    connected from 198.51.100.3, and the elapsed time is at least the attempt delay
    (100 ms): the second attempt started only after the delay (RFC 8305 pacing; an
    ordering fact, not a speed check)."""
    cb = ConnBed(bed)
    bed.ip("host", "addr", "add", "198.51.100.3/24", "dev", "mif0")
    cb.blackhole("a", f"ip saddr {A_HOST} tcp dport {TCP_PORT}")
    r = cb.run("mif0/ipv4", A_ROUTER, TCP_PORT, attempt_delay_ms=100)
    m = r.connected(1)
    check_handed_over(r, m, "mif0/ipv4", "198.51.100.3", A_ROUTER, TCP_PORT, "net-a")
    want(r, m["elapsed_us"] >= 100_000, f"connected after {m['elapsed_us']} us, less than the 100 ms attempt delay")
    check(cb.hole_packets("a") >= 1, "the first attempt (from 198.51.100.2) never reached net A")


@bed_options(nets=2)
def test_connect_abandoned_attempt_leaves_nothing_on_another_link(bed):
    """Two sources in mif1's PvD (203.0.113.2, .3); net B drops the first SYN-ACK to .2, so
    that attempt is still connecting when the one from .3 wins; the server sends its
    SYN-ACK again about 1 s later. The host's default route is through mif0 (net A).
    Nothing from mif1's addresses may reach net A. Before, the losing attempt was closed
    at once and the late SYN-ACK found no socket: the kernel answered with a reset routed
    by the main table, out of mif0 with 203.0.113.2. Now the attempt stays open until it
    connects (then closes with a FIN through mif1) or 4 s pass; the application holds the
    context open 3 s after its result (--hold-ms)."""
    cb = ConnBed(bed)
    bed.ip("host", "addr", "add", "203.0.113.3/24", "dev", "mif1")
    cb.nft("b", "table inet synack {\n chain out {\n  type filter hook output priority 0; policy accept;\n"
                f"  ip daddr {B_HOST} tcp flags & (syn | ack) == syn | ack counter comment \"synacks\"\n"
                f"  ip daddr {B_HOST} tcp flags & (syn | ack) == syn | ack quota until 60 bytes counter drop"
                " comment \"first synack\"\n }\n}\n")
    cb.nft("a", "table inet leak {\n chain pre {\n  type filter hook prerouting priority -300; policy accept;\n"
                "  ip saddr 203.0.113.0/24 counter comment \"from mif1\"\n }\n}\n")
    r = cb.run("mif1/ipv4", SHARED, TCP_PORT, attempt_delay_ms=100, hold_ms=3000)
    m = r.connected(1)
    check_handed_over(r, m, "mif1/ipv4", "203.0.113.3", SHARED, TCP_PORT, "net-b")
    def counters(ns, table):
        out = json.loads(bed.ns_exec(ns, "nft", "-j", "list", "table", "inet", table).stdout)
        return {item["rule"].get("comment"): e["counter"]["packets"] for item in out.get("nftables", [])
                if "rule" in item for e in item["rule"].get("expr", []) if "counter" in e}
    synacks = counters("b", "synack").get("synacks", 0)
    check(synacks >= 2, f"the SYN-ACK to {B_HOST} was not sent again while the context was open ({synacks}):"
                        " the test proved nothing")
    leaked = counters("a", "leak")
    check(leaked == {"from mif1": 0}, f"packets from mif1's addresses reached net A: {leaked}")


@bed_options(nets=2)
def test_connect_link_deleted(bed):
    """A connect pending on a blackholed destination (timeout 20 s); the link is deleted
    (`ip -n A link del gw0`, which also removes mif0): not_connected ENETDOWN at once
    (a timeout would say ETIMEDOUT)."""
    cb = ConnBed(bed)
    cb.blackhole("a", f"tcp dport {HOLE_PORT}")
    d = cb.start("mif0/ipv4", A_ROUTER, HOLE_PORT, timeout_ms=20000)
    d.wait_line(lambda m: m.get("event") == "all_posted", "all_posted line")
    cb.wait_hole_packets("a")        # the SYN is out: the connect is in flight
    bed.ip("a", "link", "del", "gw0")
    r = d.finish(TIMEOUT * 3)
    m = check_failed(r, 1, ENETDOWN, "ENETDOWN")
    want(r, m["pvd_name"] == "mif0/ipv4", "not_connected names the wrong PvD")


@bed_options(nets=2)
def test_connect_cancel(bed):
    """Cancel a connect pending on a blackholed destination: not_connected ECANCELED and
    nothing else for that id; a second cancel, before that message is taken, is accepted
    too (it replaces the message: still exactly one). A sentinel
    connect posted after the cancel, to the same blackhole with the same timeout, fails
    with ETIMEDOUT after the cancelled connect's own deadline: a result the cancelled
    connect wrongly kept would have been queued by then."""
    cb = ConnBed(bed)
    cb.blackhole("a", f"tcp dport {HOLE_PORT}")
    r = cb.run("mif0/ipv4", A_ROUTER, HOLE_PORT, timeout_ms=2000, cancel_after_ms=200,
               sentinel=(A_ROUTER, HOLE_PORT))
    want(r, r.one("cancel_posted", 1)["result"] == 0, "cancel refused")
    want(r, r.one("cancel_again_posted", 1)["result"] == 0,
         "a second cancel of the same id, its result not taken, should be accepted (idempotent)")
    m = check_failed(r, 1, ECANCELED, "ECANCELED")
    want(r, m["pvd_name"] == "mif0/ipv4", "the cancel's not_connected names the wrong PvD")
    check_failed(r, SENTINEL, ETIMEDOUT, "ETIMEDOUT")
    # mif.h: elapsed_us is the time "from the request ... to the failure"; the cancel
    # was posted 200 ms after the request (an ordering fact, not a speed check).
    want(r, m["elapsed_us"] >= 200_000,
         f"the cancel's not_connected says elapsed_us {m['elapsed_us']}, but the cancel came 200 ms "
         "after the request")


@bed_options(nets=2)
def test_connect_cancel_when_queued(bed):
    """Three connects to the server; as soon as the first result is queued (not yet
    taken), each is cancelled, twice. A cancel never races the result: whether the
    connect was still running or its Connected waited in the queue, both cancels are
    accepted and each id ends exactly once, with ECANCELED; a withdrawn Connected's
    socket is closed by the library (descriptors balanced)."""
    cb = ConnBed(bed)
    r = cb.run("mif0/ipv4", A_ROUTER, TCP_PORT, count=3, cancel_when_queued=True)
    want(r, r.one("queued")["result"] == 0, "no message was queued")
    for cid in (1, 2, 3):
        want(r, r.one("cancel_posted", cid)["result"] == 0, f"connection {cid}: cancel refused")
        want(r, r.one("cancel_again_posted", cid)["result"] == 0, f"connection {cid}: second cancel refused")
        check_failed(r, cid, ECANCELED, "ECANCELED")


@bed_options(nets=2)
def test_connect_close_untaken(bed):
    """mif_close while connected sockets wait untaken in the queue and other connects
    (blackholed, 20 s timeout) are still in flight: the library closes them all (the
    descriptor count after mif_close equals the one before mif_open)."""
    cb = ConnBed(bed)
    cb.blackhole("a", f"tcp dport {HOLE_PORT}")
    r = cb.run("mif0/ipv4", A_ROUTER, TCP_PORT, A_ROUTER, HOLE_PORT, count=5, timeout_ms=20000,
               close_when_queued=True)
    want(r, r.one("queued")["result"] == 0 and r.all("closing_untaken"), "did not close with a message waiting")


@bed_options(nets=2)
def test_connect_default_pvd(bed):
    """pvd 0 before any Connect to PvD: MIF_E_NO_DEFAULT_PVD; after Connect to PvD
    (mif1/ipv4), a connect naming pvd 0 goes through mif1: "net-b"."""
    cb = ConnBed(bed)
    r = cb.run("mif1/ipv4", SHARED, TCP_PORT, default_pvd=True)
    probe = r.one("posted", SENTINEL + 1)
    want(r, probe["result"] == MIF_E_NO_DEFAULT_PVD,
         f"pvd 0 with no default: {probe['result']} ({probe['result_name']}), MIF_E_NO_DEFAULT_PVD expected")
    want(r, r.one("connect_to_pvd_posted")["result"] == 0, "Connect to PvD refused")
    want(r, r.posted(1)["pvd"] == 0 and r.posted(1)["result"] == 0, "connect with pvd 0 refused")
    check_handed_over(r, r.connected(1), "mif1/ipv4", B_HOST, SHARED, TCP_PORT, "net-b")


@bed_options(nets=2)
def test_connect_1000_concurrent(bed):
    """1000 concurrent connects to net A's server: each answered exactly once (connected,
    reading "net-a", or a failure with an errno and a text); descriptors balanced."""
    cb = ConnBed(bed)
    n = 1000
    r = cb.run("mif0/ipv4", A_ROUTER, TCP_PORT, count=n, timeout_ms=30000)
    want(r, r.one("all_posted")["accepted"] == n, "not every post accepted")
    failed = {}
    for cid in range(1, n + 1):
        m = r.result(cid)
        if m["event"] == "connected":
            want(r, m["text"] == "net-a" and m["local"] == A_HOST and m["pvd_name"] == "mif0/ipv4",
                 f"connection {cid}: {m}")
        else:
            want(r, m["error"] > 0 and m["error_name"] not in ("0", "unknown") and m["text"] and m["fd"] == -1,
                 f"connection {cid}: an unclear failure {m}")
            failed[m["error_name"]] = failed.get(m["error_name"], 0) + 1
    end = r.one("end")
    want(r, end["connected"] + end["not_connected"] == n and end["outstanding"] == 0, f"end line {end}")
    print(f"    1000 concurrent: {end['connected']} connected, failures {failed or 'none'}", flush=True)


def wait_ll_ready(bed, ifname="mif0"):
    """The host's link-local address on ifname, once DAD is over (not tentative)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        for link in bed.ip_json("host", "-6", "addr", "show", "dev", ifname, "scope", "link"):
            for a in link.get("addr_info", []):
                if a.get("local", "").startswith("fe80:") and not a.get("tentative") and not a.get("dadfailed"):
                    return a["local"]
        if time.monotonic() > deadline:
            raise Failure(f"{ifname}: no usable link-local address after {TIMEOUT:g} s")
        time.sleep(0.05)


@bed_options(nets=2)
def test_connect_ipv6(bed):
    """mif0/ipv6: a connect to fd6d:6966:a::1 from fd6d:6966:a::2, and to the router's
    link-local address (no scope given: the library scopes it to the PvD's interface),
    both reading "net-a" (SO_BINDTODEVICE; without it TCP is refused, see
    test_connect_ipv6_refused_without_bindtodevice)."""
    cb = ConnBed(bed)
    wait_ll_ready(bed)
    ll = bed.router_ll()
    idx = bed.ifindex("mif0")
    for no_btd in (False,):
        r = cb.run("mif0/ipv6", "fd6d:6966:a::1", TCP_PORT, ll, TCP_PORT, no_bindtodevice=no_btd)
        check_handed_over(r, r.connected(1), "mif0/ipv6", "fd6d:6966:a::2", "fd6d:6966:a::1", TCP_PORT, "net-a")
        m = r.connected(2)
        check_handed_over(r, m, "mif0/ipv6", None, f"{ll}%{idx}", TCP_PORT, "net-a")
        want(r, m["local"].startswith("fe80:") and m["local"] == m["sock_local"],
             f"link-local connect from {m['local']} (socket: {m['sock_local']}), a fe80:: source expected")


@bed_options(nets=2)
def test_bind_socket_udp(bed):
    """mif_bind_socket: a UDP socket pinned to mif1's PvD (bind_source 1) sends to
    198.18.0.80 and the datagram arrives in net B, not net A. An unpinned control
    datagram sent after it goes to net A (the default route); once net A has the control,
    the pinned one, had it gone there, would have arrived before it."""
    cb = ConnBed(bed)
    for no_btd in (False, True):
        tag = "unicast-if" if no_btd else "bindtodevice"
        r = cb.run("mif1/ipv4", SHARED, UDP_PORT, udp_send=f"pinned-{tag}", udp_control=f"control-{tag}",
                   no_bindtodevice=no_btd)
        pinned = [m for m in r.all("udp_sent") if m["pinned"]]
        control = [m for m in r.all("udp_sent") if not m["pinned"]]
        want(r, len(pinned) == 1 and len(control) == 1, "one pinned and one control datagram expected")
        p = pinned[0]
        want(r, p["bind_result"] == 0, f"mif_bind_socket: {p['bind_result']} {p['bind_result_name']}")
        want(r, p["send_error"] is None and p["sent"] == len(f"pinned-{tag}"), f"sendto failed: {p}")
        want(r, p["sock_local"] == B_HOST, f"the pinned socket is bound to {p['sock_local']}, {B_HOST} expected")
        want(r, control[0]["send_error"] is None, f"control sendto failed: {control[0]}")
        cb.wait_server_event("b", lambda e: e.get("text") == f"pinned-{tag}", f"pinned datagram ({tag}) in net B")
        cb.wait_server_event("a", lambda e: e.get("text") == f"control-{tag}", f"control datagram ({tag}) in net A")
        got_a = [e["text"] for e in cb.server_events("a", "datagram")]
        got_b = [e for e in cb.server_events("b", "datagram")]
        check(f"pinned-{tag}" not in got_a, f"the pinned datagram also reached net A: {got_a}")
        check(all(e["text"] != f"control-{tag}" for e in got_b), f"the control datagram reached net B: {got_b}")
        check([e["peer"] for e in got_b if e["text"] == f"pinned-{tag}"] == [B_HOST],
              f"net B got the pinned datagram from {got_b}, from {B_HOST} expected")


@bed_options(nets=2)
def test_connect_valgrind(bed):
    """Under valgrind --leak-check=full --error-exitcode=99: two connects that succeed, two
    refused, two timed out (blackhole): no error, no leak, descriptors balanced."""
    cb = ConnBed(bed)
    cb.blackhole("a", f"tcp dport {HOLE_PORT}")
    d = cb.start("mif0/ipv4", A_ROUTER, TCP_PORT, A_ROUTER, CLOSED_PORT, A_ROUTER, HOLE_PORT,
                 count=2, timeout_ms=4000, valgrind=True)
    r = d.finish(TIMEOUT * 12)
    for cid in (1, 2):
        check_handed_over(r, r.connected(cid), "mif0/ipv4", A_HOST, A_ROUTER, TCP_PORT, "net-a")
    for cid in (3, 4):
        check_failed(r, cid, ECONNREFUSED, "ECONNREFUSED")
    for cid in (5, 6):
        check_failed(r, cid, ETIMEDOUT, "ETIMEDOUT")
    # Valgrind's own notes ("--PID-- WARNING: unhandled amd64-linux syscall: 437": valgrind
    # 3.19 does not know openat2, and the library then resolves paths itself) are not
    # findings; its findings are "==PID==" lines and exit status 99.
    printed = [line for line in d.stderr if not re.match(r"\s*--\d+-- ", line)]
    if printed:
        raise Failure("valgrind printed:\n  " + "\n  ".join(printed[-60:]))
