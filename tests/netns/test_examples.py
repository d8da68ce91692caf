"""The example programs of examples-c/ (poll.c, epoll.c, libuv.c, glib.c, cxx.cpp,
translate_all.c, connect_via.c, dns_servers.c), built by examples-c/examples.mk into
build/examples/ (`make examples`; MIF_EXAMPLES=DIR looks elsewhere), run against the
real kernel in the bed's host namespace with `--root ROOT`, under valgrind
(--error-exitcode=99: a memory error or a definite leak fails the test).

Monitors: the initial interfaces, PvDs and addresses (those of the namespace, any
order), then an IPv4 and an IPv6 address added and removed and a veth link added and
deleted, each line awaited before the next change; SIGTERM or SIGINT; exit status 0
and exactly the lines expected. Tasks: translate_all against a dnsmasq per network,
connect_via against a TCP server per network (a shared address only routing tells
apart), dns_servers against radvd (an RDNSS option) and the static file."""

import os
import re
import signal
import subprocess
import threading
import time

from bed import ROOT, TIMEOUT, VALGRIND, Failure, bed_options, check, norm_addr, stop_child
from connbed import ConnBed

EXAMPLES_DIR = os.environ.get("MIF_EXAMPLES", os.path.join(ROOT, "build", "examples"))

# Valgrind's own notes ("--PID-- WARNING: unhandled amd64-linux syscall: 437" for openat2)
# are not findings; its findings are "==PID==" lines and exit status 99.
VALGRIND_NOTE = re.compile(r"\s*--\d+-- ")


def example_path(name):
    path = os.path.join(EXAMPLES_DIR, name)
    if not os.access(path, os.X_OK):
        raise Failure(f"{path} is missing: build the examples first (`make examples`, "
                      "rules in examples-c/examples.mk)")
    return path


class Example:
    """One example program in the bed's host namespace, a child of ours (stopped by
    PID at the bed's teardown); reader threads collect its stdout and stderr lines."""

    def __init__(self, bed, name, *args, valgrind=True):
        self.label = name
        self.argv = (["ip", "netns", "exec", bed.ns["host"]] + (list(VALGRIND) if valgrind else [])
                     + [example_path(name), "--root", bed.root] + [str(a) for a in args])
        bed.guard(self.argv)
        env = dict(os.environ)
        env.pop("MIF_LOG", None)
        env.pop("MIF_CONFIG", None)
        self.lines, self.stderr = [], []
        self.cond = threading.Condition()
        self.eof = False
        self.killed = False
        self.pos = 0          # the next line a wait looks at
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid = self.proc.pid   # ip netns exec and valgrind exec the program: same PID
        bed.daemons.append(self)
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self, stream, out):
        try:
            for raw in stream:
                with self.cond:
                    out.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    self.cond.notify_all()
        finally:
            if out is self.lines:
                with self.cond:
                    self.eof = True
                    self.cond.notify_all()

    def describe(self):
        with self.cond:
            lines, err = list(self.lines), list(self.stderr)
        out = [f"  [{self.label}] $ {' '.join(self.argv)}  (exit status {self.proc.poll()})",
               f"  [{self.label}] stdout ({len(lines)} lines):"] + [f"    {x}" for x in lines]
        if err:
            out += [f"  [{self.label}] stderr:"] + [f"    {x}" for x in err[-40:]]
        return "\n".join(out)

    def fail(self, text):
        raise Failure(f"{self.label}: {text}\n{self.describe()}")

    def wait_lines(self, wanted, what):
        """Waits until every line of `wanted` (a set) has been printed at or after the
        current position; returns the lines up to the last of them and moves past it."""
        wanted = set(wanted)
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while True:
                seen = set()
                for i in range(self.pos, len(self.lines)):
                    if self.lines[i] in wanted:
                        seen.add(self.lines[i])
                        if seen == wanted:
                            got = self.lines[self.pos:i + 1]
                            self.pos = i + 1
                            return got
                if self.eof:
                    self.fail(f"exited while waiting for {what}: {sorted(wanted - seen)}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail(f"no {what} within {TIMEOUT:g} s: missing {sorted(wanted - seen)}")
                self.cond.wait(left)

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def finish(self, expect_rc, timeout=TIMEOUT * 3):
        """Waits for the exit (the timeout only catches a hang); checks the status and
        that nothing but valgrind's notes went to stderr. Returns the stdout lines."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            self.fail(f"still running after {timeout:g} s (killed)")
        for t in self._threads:
            t.join(TIMEOUT)
        rc = self.proc.returncode
        if rc != expect_rc:
            self.fail(f"exit status {rc}, {expect_rc} expected" + (" (99: valgrind found errors)" if rc == 99 else ""))
        printed = [x for x in self.stderr if not VALGRIND_NOTE.match(x)]
        if printed:
            self.fail("printed on stderr: " + " | ".join(printed[-20:]))
        with self.cond:
            return list(self.lines)

    def stop(self, sig=None, timeout=None):
        """For the bed's teardown (bed.stop_child)."""
        return stop_child(self, sig, timeout)


# ---------------------------------------------------------------- the monitors

def initial_lines(bed):
    """What a monitor prints for the host namespace as it is now: every interface, the
    PvDs of running interfaces with a non-link-local address, those addresses."""
    out = set()
    for idx, name, running, addrs in bed.kernel_state():
        out.add(f"interface {idx} {name}")
        if not running:
            continue
        for fam, a, plen, scope in addrs:
            if scope == "link":
                continue
            out.add(f"pvd {name}/{fam} on {name}")
            out.add(f"address {a}/{plen} on {name} ({name}/{fam})")
    return out


def monitor(bed, name, stop_signal):
    ex = Example(bed, name)
    initial = initial_lines(bed)
    check({"interface 1 lo", "address 198.51.100.2/24 on mif0 (mif0/ipv4)",
           "address fd6d:6966:a::2/64 on mif0 (mif0/ipv6)"} <= initial, f"the bed's host namespace: {initial}")
    got = ex.wait_lines(initial, "initial interfaces, PvDs and addresses")
    check(len(got) == len(initial), f"{name}: the initial lines {got}, exactly {sorted(initial)} expected")
    events = []

    def change(ns, args, line):
        bed.ip(ns, *args)
        ex.wait_lines({line}, repr(line))
        events.append(line)

    change("host", ["addr", "add", "198.18.7.7/24", "dev", "mif0"], "address 198.18.7.7/24 on mif0 (mif0/ipv4)")
    change("host", ["addr", "add", "fd6d:6966:7::7/64", "dev", "mif0", "nodad"],
           "address fd6d:6966:7::7/64 on mif0 (mif0/ipv6)")
    change("host", ["addr", "del", "198.18.7.7/24", "dev", "mif0"], "address gone 198.18.7.7/24 on mif0 (mif0/ipv4)")
    change("host", ["addr", "del", "fd6d:6966:7::7/64", "dev", "mif0"],
           "address gone fd6d:6966:7::7/64 on mif0 (mif0/ipv6)")
    bed.ip("host", "link", "add", "mif2", "type", "veth", "peer", "name", "gw2", "netns", bed.ns["a"])
    idx = bed.ifindex("mif2")
    ex.wait_lines({f"interface {idx} mif2"}, "the new veth link")
    events.append(f"interface {idx} mif2")
    change("host", ["link", "del", "mif2"], f"interface gone {idx} mif2")

    ex.signal(stop_signal)
    lines = ex.finish(0)
    check(lines[len(initial):] == events,
          f"{name}: after the initial lines {lines[len(initial):]}, exactly {events} expected")


def monitor_test(name, stop_signal):
    def test(bed):
        monitor(bed, name, stop_signal)
    test.__name__ = f"test_example_{name}"
    test.__doc__ = (f"build/examples/{name} prints the initial state, an address of each family "
                    f"coming and going and a veth link coming and going, one line each; "
                    f"{signal.Signals(stop_signal).name}: exit status 0, no valgrind finding.")
    return test


test_example_poll = monitor_test("poll", signal.SIGTERM)
test_example_epoll = monitor_test("epoll", signal.SIGINT)
test_example_libuv = monitor_test("libuv", signal.SIGTERM)
test_example_glib = monitor_test("glib", signal.SIGINT)
test_example_cxx = monitor_test("cxx", signal.SIGTERM)


# ---------------------------------------------------------------- the tasks

def write_conf(bed, sections):
    """ROOT/etc/mif.conf (the static file) from {"mif0": {"dns": "..."}}."""
    bed.write("etc/mif.conf", "".join(f"[{sec}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items())
                                      for sec, kv in sections.items()))


def wait_listening(bed, ns, addr, port, proto, what):
    """Polls `ss` in namespace ns until addr:port is bound (proto "-u" or "-t")."""
    want = f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"
    deadline = time.monotonic() + TIMEOUT
    while True:
        out = bed.ns_exec(ns, "ss", "-Hln", proto).stdout
        if any(want in line.split() for line in out.splitlines()):
            return
        if time.monotonic() > deadline:
            raise Failure(f"{what} not listening on {want} in {ns} after {TIMEOUT:g} s")
        time.sleep(0.02)


def start_dnsmasq(bed, ns, listen, hosts):
    """dnsmasq in namespace ns answering on `listen` from a hosts file made of `hosts`
    ({name: [addresses]}), authoritative for example.com; waits until it listens."""
    hosts_file = os.path.join(bed.tmp, f"hosts-{ns}")
    with open(hosts_file, "w") as f:
        f.write("".join(f"{a} {name}\n" for name, addrs in hosts.items() for a in addrs))
    argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--bind-interfaces", "--user=root", "--pid-file", "--port=53", "--local=/example.com/",
            "--local-ttl=300", f"--addn-hosts={hosts_file}"] + [f"--listen-address={a}" for a in listen]
    proc = bed.spawn(ns, argv, label=f"dnsmasq-{ns}")
    for a in listen:
        wait_listening(bed, ns, a, 53, "-u", f"dnsmasq in {ns} ({proc.output().strip()})")
    return proc


@bed_options(nets=2)
def test_example_translate_all(bed):
    """translate_all www.example.com: net A's dnsmasq and net B's answer differently;
    each network's lines carry only its own answers and end with its status: mif0's
    two PvDs (IPv4 and IPv6 servers) "done" with net A's addresses, mif1/ipv4 "done"
    with net B's, mif1/ipv6 (no server) "no_servers"; no loopback line; exit status 0."""
    write_conf(bed, {"mif0": {"dns": "198.51.100.1 fd6d:6966:a::1"}, "mif1": {"dns": "203.0.113.1"}})
    a_answers = {"198.18.10.10", "fd6d:6966:10::10"}
    b_answers = {"198.18.20.20"}
    start_dnsmasq(bed, "a", ["198.51.100.1", "fd6d:6966:a::1"], {"www.example.com": sorted(a_answers)})
    start_dnsmasq(bed, "b", ["203.0.113.1"], {"www.example.com": sorted(b_answers)})
    ex = Example(bed, "translate_all", "www.example.com")
    lines = ex.finish(0)
    per_pvd = {}
    for line in lines:
        m = re.fullmatch(r"(\S+): (\S+)(?: \(ttl (\d+)\))?", line)
        if not m:
            ex.fail(f"unexpected line {line!r}")
        per_pvd.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
    want = {"mif0/ipv4": (a_answers, "done"), "mif0/ipv6": (a_answers, "done"),
            "mif1/ipv4": (b_answers, "done"), "mif1/ipv6": (set(), "no_servers")}
    check(set(per_pvd) == set(want), f"networks {sorted(per_pvd)}, {sorted(want)} expected\n{ex.describe()}")
    for pvd_name, (addrs, status) in want.items():
        got = per_pvd[pvd_name]
        answers = [norm_addr(a) for a, ttl in got[:-1]]
        check(sorted(answers) == sorted(addrs) and all(ttl == "300" for _a, ttl in got[:-1]),
              f"{pvd_name}: answers {got[:-1]}, {sorted(addrs)} (ttl 300) expected\n{ex.describe()}")
        check(got[-1] == (status, None), f"{pvd_name}: last line {got[-1]}, status {status} expected\n{ex.describe()}")


@bed_options(nets=2)
def test_example_connect_via(bed):
    """Both networks answer on 198.18.0.80 and the host's default route goes to net A:
    connect_via mif1 198.18.0.80 8080 reaches net B's server from mif1's address
    (exit status 0); through mif0 over IPv6 to net A's router; a closed port is
    "not connected ... Connection refused" with exit status 1."""
    # connbed's two-network bed: that default route, 198.18.0.80 on both networks' lo,
    # a TCP server on port 8080 in each.
    cb = ConnBed(bed)

    lines = Example(bed, "connect_via", "mif1", "198.18.0.80", "8080").finish(0)
    check(len(lines) == 1 and re.fullmatch(r"connected from 203\.0\.113\.2:\d+ to 198\.18\.0\.80:8080 via mif1/ipv4",
                                           lines[0]), f"connect_via mif1: printed {lines}")
    cb.wait_server_event("b", lambda m: m.get("event") == "accepted", "connection from connect_via")
    accepted_from = lambda ns: [m["peer"] for m in cb.server_events(ns, "accepted")]
    check(accepted_from("b") == ["203.0.113.2"], f"net B's server: {cb.servers['b'].output()}")
    check(accepted_from("a") == [], f"net A's server saw the connection: {cb.servers['a'].output()}")

    lines = Example(bed, "connect_via", "mif0", "fd6d:6966:a::1", "8080").finish(0)
    check(len(lines) == 1 and re.fullmatch(r"connected from \[fd6d:6966:a::2\]:\d+ to \[fd6d:6966:a::1\]:8080 "
                                           r"via mif0/ipv6", lines[0]), f"connect_via mif0 over IPv6: printed {lines}")

    lines = Example(bed, "connect_via", "mif0", "198.18.0.80", "8081").finish(1)
    check(lines == ["not connected to 198.18.0.80:8081 via mif0/ipv4: Connection refused"],
          f"connect_via to a closed port: printed {lines}")


def parse_blocks(ex, lines):
    """dns_servers' output: {pvd name: {"dns servers": [...], "search domains": [...],
    "routers": [...]}}."""
    blocks, cur = {}, None
    for line in lines:
        m = re.fullmatch(r"  (dns servers|search domains|routers) +(.*)", line)
        if m and cur is not None:
            cur[m.group(1)] = [] if m.group(2) == "-" else m.group(2).split()
        elif re.fullmatch(r"\S+/ipv[46]", line) and line not in blocks:
            cur = blocks[line] = {}
        else:
            ex.fail(f"unexpected line {line!r}")
    return blocks


def test_example_dns_servers(bed):
    """radvd in net A advertising only an RDNSS option (fd6d:6966:a::1; no prefix, no
    DNSSL, router lifetime 0) and the static file ([mif0] dns = 198.51.100.53, search
    = a.example, routers = 198.51.100.1): dns_servers prints one block per PvD of mif0
    (no loopback): mif0/ipv6 with the RA's server (learned after mif_open from the
    answer to the library's Router Solicitation) and the static domain, mif0/ipv4 with
    the static server, domain and router; exit status 0.

    The RA carries nothing else on purpose: a PvD's learning ends 20 ms after the
    first RA option or RA default route the library sees (docs/configuration.md,
    "Readiness"), and a subscriber slowed down enough (valgrind on a loaded machine)
    can see a later option of the same RA after that: measured once, a DNSSL domain
    missing. With the RDNSS the only thing the RA gives, it is what ends learning."""
    bed.accept_ra("mif0")
    write_conf(bed, {"mif0": {"dns": "198.51.100.53", "search": "a.example", "routers": "198.51.100.1"}})
    bed.start_radvd("AdvSendAdvert on;\nMinRtrAdvInterval 3;\nMaxRtrAdvInterval 10;\nAdvDefaultLifetime 0;\n"
                    "RDNSS fd6d:6966:a::1 { };")
    ex = Example(bed, "dns_servers")
    blocks = parse_blocks(ex, ex.finish(0))
    check(set(blocks) == {"mif0/ipv4", "mif0/ipv6"}, f"blocks {sorted(blocks)}\n{ex.describe()}")
    for pvd_name, b in blocks.items():
        check(set(b) == {"dns servers", "search domains", "routers"}, f"{pvd_name}: {b}\n{ex.describe()}")
    v6, v4 = blocks["mif0/ipv6"], blocks["mif0/ipv4"]
    check([norm_addr(a) for a in v6["dns servers"]] == ["fd6d:6966:a::1"] and v6["search domains"] == ["a.example"]
          and v6["routers"] == [],
          f"mif0/ipv6: the RA's server and the static domain expected: {v6}\n{ex.describe()}")
    check(v4 == {"dns servers": ["198.51.100.53"], "search domains": ["a.example"], "routers": ["198.51.100.1"]},
          f"mif0/ipv4: the static server, domain and router expected: {v4}\n{ex.describe()}")


@bed_options(nets=2)
def test_example_figure2(bed):
    """figure2 (the draft's section 3.3 flow with Connect to Name), under valgrind: net A
    drops the SYNs, so the narration shows net A's attempt closed and net B's connected,
    and the server that answered is net B's."""
    from dnsbed import DnsBed
    cb = ConnBed(bed)
    dns = DnsBed(bed)
    dns.conf({"mif0": {"dns": "198.51.100.1"}, "mif1": {"dns": "203.0.113.1"}})
    for ns, listen in (("a", "198.51.100.1"), ("b", "203.0.113.1")):
        dns.dnsmasq(ns, [listen], hosts={"svc.example.com": ["198.18.0.80"]})
    cb.blackhole("a", "tcp dport 8080")
    ex = Example(bed, "figure2", "svc.example.com", "8080")
    lines = ex.finish(0)
    text = "\n".join(lines)
    check(any(l.strip().startswith("mif0") and "PvD mif0/ipv4" in l for l in lines), f"networks not listed:\n{text}")
    check(any("tried 198.18.0.80" in l and "via mif0/ipv4" in l and "closed (another won)" in l for l in lines),
          f"net A's attempt should be closed:\n{text}")
    check(any("tried 198.18.0.80" in l and "via mif1/ipv4" in l and l.endswith("connected") for l in lines),
          f"net B's attempt should have connected:\n{text}")
    check(any(l.startswith("done: connected via mif1/ipv4 from 203.0.113.2") for l in lines), text)
    check(lines[-1] == "the server says: net-b", text)
