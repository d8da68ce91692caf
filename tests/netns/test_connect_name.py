"""Connect to Name (our addition; the draft's 3.3 flow as one request) end to end:
`mifctl connect NAME PORT --json` (examples-c/mifctl, through mif.h) in the host
namespace of the two-network bed of connbed.py: both networks carry 198.18.0.80 (and
with IPv6 fd6d:6966:ff::80) on lo with a TCP server on 8080 that sends its network's
name ("net-a", "net-b") and closes; each network has its own dnsmasq answering
svc.example.com, named by ROOT/etc/mif.conf as that interface's server. Which network a
connection went through is read from the server's reply (--send) and from the
establishment report. Timing is never asserted beyond what the racer guarantees by
construction (a network that starts after the network delay starts no earlier)."""

import json
import os
import signal
import subprocess
import time

from bed import MIFCTL, TIMEOUT, Failure, bed_options, check
from connbed import CLOSED_PORT, HOLE_PORT, SHARED, SHARED6, TCP_PORT, ConnBed
from dnsbed import DnsBed

NAME = "svc.example.com"
NETWORK_DELAY_MS = 300
ECONNREFUSED, ENOENT, ECANCELED = 111, 2, 125


def name_bed(bed, answers_a=(SHARED,), answers_b=(SHARED,), ipv6=False):
    """ConnBed plus one dnsmasq per network: net A's at 198.51.100.1 answers NAME with
    answers_a, net B's at 203.0.113.1 with answers_b (an empty list: NXDOMAIN there)."""
    cb = ConnBed(bed, ipv6_shared=ipv6)
    dns = DnsBed(bed)
    dns.conf({"mif0": {"dns": "198.51.100.1"}, "mif1": {"dns": "203.0.113.1"}})
    servers = {}
    for ns, listen, answers in (("a", "198.51.100.1", answers_a), ("b", "203.0.113.1", answers_b)):
        servers[ns] = dns.dnsmasq(ns, [listen], hosts={NAME: list(answers)} if answers else None)
    return cb, dns, servers


def connect(bed, *args, expect_rc=0, name=NAME, port=TCP_PORT, send="hello"):
    """`mifctl connect NAME PORT --json --root ROOT [--send TEXT] ARGS`: (connected or
    not_connected line, received line or None, the process)."""
    argv = ["ip", "netns", "exec", bed.ns["host"], MIFCTL, "connect", name, str(port), "--json",
            "--root", bed.root]
    if send is not None:
        argv += ["--send", send]
    argv += [str(a) for a in args]
    bed.guard(argv)
    env = dict(os.environ)
    env.pop("MIF_CONFIG", None)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT * 3, env=env)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    text = f"$ {' '.join(argv)}\nexit {p.returncode}\n{p.stdout}{p.stderr}"
    if p.returncode != expect_rc:
        raise Failure(f"exit status {p.returncode}, {expect_rc} expected\n{text}")
    result = [m for m in lines if m.get("msg") in ("connected", "not_connected")]
    received = [m for m in lines if m.get("msg") == "received"]
    if expect_rc == 2:
        return None, None, p
    if len(result) != 1:
        raise Failure(f"{len(result)} results (1 expected)\n{text}")
    return result[0], (received[0] if received else None), p


def attempts(m):
    return m["report"]["attempts"]


def resolutions(m, network=None):
    return [r for r in m["report"]["resolutions"] if network is None or r["network"] == network]


def show(m):
    return json.dumps(m, indent=1, sort_keys=True)


@bed_options(nets=2)
def test_connect_name_default_order(bed):
    """No selection: the network with the default route (mif0) first; its server's answer
    is connected through mif0's PvD and the reply is net A's. The report has mif0's A and
    AAAA rows with its server, and the winning attempt with a local address."""
    name_bed(bed)
    m, got, _ = connect(bed)
    check(m["msg"] == "connected" and m["pvd_name"] == "mif0/ipv4", f"expected mif0/ipv4:\n{show(m)}")
    check(got is not None and got["text"] == "net-a", f"read {got}: net-a expected")
    check(m["mptcp"] is False and m["name"] == NAME, show(m))
    check(not resolutions(m, "lo"), f"loopback takes part only when a selection names it:\n{show(m)}")
    rows = resolutions(m, "mif0")
    check(sorted(r["type"] for r in rows) == ["A", "AAAA"], f"mif0's resolutions: {rows}")
    a_row = [r for r in rows if r["type"] == "A"][0]
    check(a_row["answers"] == 1 and a_row["error"] is None and a_row["server"] == "198.51.100.1", show(m))
    aaaa = [r for r in rows if r["type"] == "AAAA"][0]
    check(aaaa["answers"] == 0 and aaaa["error"] in ("no_data", "no_such_name"), f"AAAA row: {aaaa}")
    won = [a for a in attempts(m) if a["outcome"] == "connected"]
    check(len(won) == 1 and won[0]["pvd_name"] == "mif0/ipv4" and won[0]["remote"] == f"{SHARED}:{TCP_PORT}"
          and won[0]["local"] is not None and won[0]["local"].startswith("198.51.100.2:"), show(m))


B_ONLY = "198.18.0.81"   # net B's own answer for the name (on its lo)


@bed_options(nets=2)
def test_connect_name_prefer_and_prohibit(bed):
    """The two networks answer the name differently (A: 198.18.0.80, B: 198.18.0.81, an
    address only net B has). --prefer mif1 puts net B first: its own answer, through
    mif1; --prohibit mif0 means no packet at all to net A (an nftables counter of
    everything from the host's mif0 address stays 0), not even a DNS query."""
    cb, _, servers = name_bed(bed, answers_b=(B_ONLY,))
    bed.ip("b", "addr", "add", f"{B_ONLY}/32", "dev", "lo")
    m, got, _ = connect(bed, "--prefer", "mif1")
    check(m["pvd_name"] == "mif1/ipv4" and m["remote"] == f"{B_ONLY}:{TCP_PORT}" and got["text"] == "net-b",
          f"--prefer mif1:\n{show(m)}\n{got}")
    m, got, _ = connect(bed)
    check(m["pvd_name"] == "mif0/ipv4" and m["remote"] == f"{SHARED}:{TCP_PORT}" and got["text"] == "net-a",
          f"no selection: net A's answer through mif0 expected:\n{show(m)}")
    cb.rule("a", "ip saddr 198.51.100.2", "accept", "seen")
    before_queries = len(servers["a"].queries())
    m, got, _ = connect(bed, "--prohibit", "mif0")
    check(m["pvd_name"] == "mif1/ipv4" and got["text"] == "net-b", f"--prohibit mif0:\n{show(m)}")
    check(not resolutions(m, "mif0") and all(a["pvd_name"].startswith("mif1/") for a in attempts(m)), show(m))
    seen = cb.packets("a", "seen")
    check(seen == 0, f"{seen} packets from the host reached net A with mif0 prohibited")
    check(len(servers["a"].queries()) == before_queries, f"net A's server was asked: {servers['a'].queries()}")
    # --require mif1: only mif1, whatever the default route says.
    m, got, _ = connect(bed, "--require", "mif1")
    check(m["pvd_name"] == "mif1/ipv4" and not resolutions(m, "mif0"), f"--require mif1:\n{show(m)}")


@bed_options(nets=2)
def test_connect_name_first_network_blackholed(bed):
    """Net A drops the SYNs (nftables): its attempt never completes, net B starts after
    the network delay and wins; net A's attempt is abandoned (its socket closed)."""
    cb, _, _ = name_bed(bed)
    cb.blackhole("a", f"tcp dport {TCP_PORT}")
    m, got, _ = connect(bed)
    check(m["pvd_name"] == "mif1/ipv4" and got["text"] == "net-b", f"net B expected:\n{show(m)}")
    a_rows = [a for a in attempts(m) if a["pvd_name"] == "mif0/ipv4"]
    b_rows = [a for a in attempts(m) if a["pvd_name"] == "mif1/ipv4"]
    check(len(a_rows) == 1 and a_rows[0]["outcome"] == "abandoned", f"net A's attempt: {a_rows}")
    check(len(b_rows) == 1 and b_rows[0]["outcome"] == "connected", f"net B's attempt: {b_rows}")
    b_dns = resolutions(m, "mif1")
    check(b_dns and min(r["start_ms"] for r in b_dns) >= NETWORK_DELAY_MS - 1,
          f"net B asked before the network delay ({NETWORK_DELAY_MS} ms): {b_dns}")
    check(cb.hole_packets("a") >= 1, "no SYN reached net A's blackhole")


@bed_options(nets=2)
def test_connect_name_only_on_second_network(bed):
    """Net A's server does not know the name (NXDOMAIN): net A has failed, so net B is
    asked and connected through without anything of net A's in the attempts."""
    name_bed(bed, answers_a=())
    m, got, _ = connect(bed)
    check(m["pvd_name"] == "mif1/ipv4" and got["text"] == "net-b", show(m))
    check(all(r["error"] == "no_such_name" for r in resolutions(m, "mif0")), f"net A: {resolutions(m, 'mif0')}")
    check(all(a["pvd_name"] == "mif1/ipv4" for a in attempts(m)), show(m))


@bed_options(nets=2)
def test_connect_name_ipv6_first(bed):
    """Both families answered on both networks: IPv6 first (RFC 8305) through mif0's IPv6
    PvD; --family ipv4 keeps to IPv4."""
    name_bed(bed, answers_a=(SHARED, SHARED6), answers_b=(SHARED, SHARED6), ipv6=True)
    m, got, _ = connect(bed)
    check(m["pvd_name"] == "mif0/ipv6" and m["remote"] == f"[{SHARED6}]:{TCP_PORT}" and got["text"] == "net-a",
          f"IPv6 through mif0 expected:\n{show(m)}")
    m, got, _ = connect(bed, "--family", "ipv4")
    check(m["pvd_name"] == "mif0/ipv4" and all(a["remote"].startswith(SHARED) for a in attempts(m)), show(m))


@bed_options(nets=2)
def test_connect_name_all_fail(bed):
    """Nobody listens on the port anywhere: Not Connected with the last errno
    (ECONNREFUSED), every attempt failed with its errno, both networks tried; exit 1."""
    name_bed(bed)
    m, got, _ = connect(bed, port=CLOSED_PORT, send=None, expect_rc=1)
    check(m["msg"] == "not_connected" and m["errno"] == ECONNREFUSED, show(m))
    rows = attempts(m)
    check({a["pvd_name"] for a in rows} == {"mif0/ipv4", "mif1/ipv4"}, f"both networks expected: {rows}")
    check(all(a["outcome"] == "failed" and a["errno"] == "ECONNREFUSED" for a in rows), show(m))


@bed_options(nets=2)
def test_connect_name_nowhere(bed):
    """No network knows the name: Not Connected, ENOENT, no attempt."""
    name_bed(bed, answers_a=(), answers_b=())
    m, _, _ = connect(bed, name="nowhere.example.com", send=None, expect_rc=1)
    check(m["msg"] == "not_connected" and m["errno"] == ENOENT and not attempts(m), show(m))
    mine = [r for r in resolutions(m) if r["network"] in ("mif0", "mif1")]
    check(len(mine) == 4 and all(r["error"] == "no_such_name" for r in mine), show(m))


@bed_options(nets=2)
def test_connect_name_refused_selections(bed):
    """Selections wrong on their face are refused at post time (exit 2 and the
    library's reason); --require lo keeps to lo, which has no DNS server: the name is
    found nowhere (ENOENT) and mif0 and mif1 are never asked."""
    name_bed(bed)
    _, _, p = connect(bed, "--prefer", "mif0", "--avoid", "mif0", expect_rc=2)
    check("a selection is malformed or contradicts another" in p.stderr, p.stderr)
    m, _, _ = connect(bed, "--require", "lo", send=None, expect_rc=1)
    check(m["msg"] == "not_connected" and m["errno"] == ENOENT and not attempts(m), show(m))
    check({r["network"] for r in resolutions(m)} == {"lo"}, show(m))


@bed_options(nets=2)
def test_connect_name_cancel_mid_race(bed):
    """Both networks blackholed: SIGINT while the race runs cancels it (Cancel Connect):
    Not Connected, ECANCELED; the library closes every attempt."""
    cb, _, _ = name_bed(bed)
    cb.blackhole("a", f"tcp dport {HOLE_PORT}")
    cb.rule("b", f"tcp dport {HOLE_PORT}", "drop", "holeb")
    argv = ["ip", "netns", "exec", bed.ns["host"], MIFCTL, "connect", NAME, str(HOLE_PORT), "--json",
            "--root", bed.root, "--timeout", "60000"]
    bed.guard(argv)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while cb.packets("b", "holeb") < 1:
            check(time.monotonic() < deadline and p.poll() is None, "no SYN reached net B")
            time.sleep(0.02)
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    check(len(lines) == 1 and lines[0]["msg"] == "not_connected" and lines[0]["errno"] == ECANCELED,
          f"{lines}\n{err}")
    check(p.returncode == 1, f"exit status {p.returncode}")


@bed_options(nets=2)
def test_connect_name_network_lost_mid_race(bed):
    """--avoid mif1: net B is tried only once net A has failed. Net A drops the SYNs, so
    its attempt would hang until the timeout; deleting mif0 mid-race fails it (ENETDOWN)
    and net B starts at once and wins."""
    cb, _, _ = name_bed(bed)
    cb.blackhole("a", f"tcp dport {TCP_PORT}")
    argv = ["ip", "netns", "exec", bed.ns["host"], MIFCTL, "connect", NAME, str(TCP_PORT), "--json",
            "--root", bed.root, "--avoid", "mif1", "--send", "hello", "--timeout", "60000"]
    bed.guard(argv)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while cb.hole_packets("a") < 1:
            check(time.monotonic() < deadline and p.poll() is None, "no SYN reached net A")
            time.sleep(0.02)
        check(p.poll() is None, "mifctl ended before mif0 went away")
        bed.ip("host", "link", "del", "mif0")
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    result = [m for m in lines if m.get("msg") in ("connected", "not_connected")]
    check(p.returncode == 0 and len(result) == 1, f"exit {p.returncode}:\n{out}{err}")
    m = result[0]
    got = [l for l in lines if l.get("msg") == "received"]
    check(m["pvd_name"] == "mif1/ipv4" and got and got[0]["text"] == "net-b", show(m))
    a_rows = [a for a in attempts(m) if a["pvd_name"] == "mif0/ipv4"]
    check(len(a_rows) == 1 and a_rows[0]["outcome"] == "failed" and a_rows[0]["errno"] == "ENETDOWN",
          f"net A's attempt should have failed with ENETDOWN:\n{show(m)}")


MPTCP_PORT = 8083


@bed_options(nets=2)
def test_connect_name_mptcp(bed):
    """--mptcp (MIF_CONNECT_MPTCP): to an MPTCP server in net A the connection runs MPTCP
    (the kernel says so: TCP_IS_MPTCP), the data goes through; to the plain TCP server it
    falls back to TCP and the result says so; without the flag it is not asked."""
    cb, _, _ = name_bed(bed)
    cb.server("a", "net-a-mptcp", tcp_port=MPTCP_PORT, udp_port=0, mptcp=True)
    m, got, _ = connect(bed, "--mptcp", port=MPTCP_PORT)
    check(m["msg"] == "connected" and m["mptcp"] is True and m["mptcp_status"] == "active", show(m))
    check(got is not None and got["text"] == "net-a-mptcp", f"read {got}")
    m, got, _ = connect(bed, "--mptcp")
    check(m["mptcp"] is False and m["mptcp_status"] == "fallback" and got["text"] == "net-a", show(m))
    m, _, _ = connect(bed, port=MPTCP_PORT)
    check(m["mptcp"] is False and m["mptcp_status"] == "not_asked", show(m))


@bed_options(nets=2)
def test_connect_name_text_report(bed):
    """--report without --json: the result line, the resolutions (one row per record type
    and network asked) and one timeline row per attempt with its bar and outcome."""
    cb, _, _ = name_bed(bed)
    cb.blackhole("a", f"tcp dport {TCP_PORT}")
    argv = ["ip", "netns", "exec", bed.ns["host"], MIFCTL, "connect", NAME, str(TCP_PORT), "--report",
            "--root", bed.root]
    bed.guard(argv)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT * 3)
    lines = p.stdout.splitlines()
    text = f"exit {p.returncode}\n{p.stdout}{p.stderr}"
    check(p.returncode == 0 and lines and lines[0].startswith(f"Connected to {NAME} ({SHARED}:{TCP_PORT})")
          and "via mif1/ipv4" in lines[0], text)
    check("resolutions (ms from the request):" in lines, text)
    rows = [l for l in lines if "|" in l]
    check(len(rows) == 2, f"two attempt rows expected:\n{text}")
    check(rows[0].lstrip().startswith("mif0/ipv4") and "abandoned" in rows[0] and rows[0].count("|") == 2, text)
    check(rows[1].lstrip().startswith("mif1/ipv4") and "connected" in rows[1] and "C|" in rows[1], text)
    check(sum(1 for l in lines if " A " in l or " AAAA " in l) == 4, f"4 resolution rows expected:\n{text}")


@bed_options(nets=2)
def test_connect_name_slow_aaaa(bed):
    """Net A's server answers A at once and AAAA only 200 ms later (a responder that
    delays, dnsbed.py slow-aaaa-server): after the Resolution Delay (50 ms, RFC 8305
    section 3) the IPv4 answer is tried and connects, without waiting for the AAAA,
    whose lookup the end of the race stops."""
    cb = ConnBed(bed, ipv6_shared=True)
    dns = DnsBed(bed)
    dns.conf({"mif0": {"dns": "198.51.100.1"}, "mif1": {"dns": "203.0.113.1"}})
    dns.helper("a", "slow-aaaa-server", "--listen", "198.51.100.1", "--answer-a", SHARED, "--answer-aaaa", SHARED6,
               "--delay-ms", 200, label="slow-aaaa")
    dns.dnsmasq("b", ["203.0.113.1"], hosts={NAME: [SHARED]})
    m, got, _ = connect(bed)
    check(m["pvd_name"] == "mif0/ipv4" and got["text"] == "net-a", f"IPv4 through mif0 expected:\n{show(m)}")
    first = attempts(m)[0]
    check(first["remote"] == f"{SHARED}:{TCP_PORT}" and first["start_ms"] >= 50,
          f"the first attempt should be IPv4, after the 50 ms resolution delay:\n{show(m)}")
    aaaa = [r for r in resolutions(m, "mif0") if r["type"] == "AAAA"]
    check(len(aaaa) == 1 and aaaa[0]["answers"] == 0 and aaaa[0]["error"] == "cancelled",
          f"the late AAAA should have been stopped by the end of the race:\n{show(m)}")
