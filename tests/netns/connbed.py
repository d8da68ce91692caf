"""Helpers for the connection end-to-end tests (test_connect_*.py), on top of bed.py.

    cb = ConnBed(bed)       # bed built with nets=2: servers up, shared address routed
    r = cb.run("mif1/ipv4", "198.18.0.80", 8080)        # runs c-tests/connect/mifconnect
    r.connected(1)["text"] == "net-b"; r.not_connected(2)["error_name"] == "ECONNREFUSED"

What ConnBed(bed) adds to the two-network bed:

    [host ns]  default route via 198.51.100.1 (mif0)
    [net A]    198.18.0.80/32 on lo; server "net-a": TCP 8080, UDP 7000 on [::] (dual stack)
    [net B]    198.18.0.80/32 on lo; server "net-b": TCP 8080, UDP 7000 on [::] (dual stack)
    with ipv6_shared=True also fd6d:6966:ff::80/128 on lo of both networks and two IPv6
    default routes in the host: via fd6d:6966:a::1 (mif0, metric 100) and via
    fd6d:6966:b::1 (mif1, metric 200)
    port 8081: nobody listens (RST); port 8082: free for blackholing with nftables

so that only the route decides which network 198.18.0.80 reaches: the host's default
goes to net A, a connect on mif1's PvD must reach net B.

Every command goes through the bed's guard. The one exception it cannot express: an
IPv6 link-local address (fe80::/10) as a driver argument; ConnBed.guard() lets exactly
those through (they cannot leave the link, which lies inside our namespaces) and hands
everything else to bed.guard().

Run as a script, this file is the test servers, started with bed.spawn() inside a
network namespace (they refuse to run anywhere but in /run/netns/NS):

    python3 connbed.py serve --netns NS --name NAME --tcp-port P [--udp-port Q] [--mptcp]
        TCP: accept, send NAME, close (listen backlog 4096); UDP: record each datagram.
        One JSON line per event: ready, accepted (peer), datagram (text, peer).
    python3 connbed.py serve --netns NS --name NAME --tcp-port P --echo [--hold-at N] [--mute]
        TCP only: each connection gets back every line it sends (the continuity
        example's server). --hold-at N: a connection that sends the line "N" gets
        nothing back from then on (lines are kept) until the server gets SIGUSR1,
        which sends what was kept and ends holding; a connection that never sends "N"
        is not held. --mute: accept and read, never answer (a network that lets TCP
        through and nothing else). Events: ready, accepted, hold (peer, line),
        released, closed (peer, lines read, lines echoed, last line echoed).
"""

import ipaddress
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DRIVER_SRC = os.path.join(ROOT, "c-tests", "connect", "mifconnect.c")
DRIVER = os.environ.get("MIFCONNECT", os.path.join(ROOT, "build", "connect", "mifconnect"))

SHARED = "198.18.0.80"      # on lo of both networks
SHARED6 = "fd6d:6966:ff::80"   # on lo of both networks with ConnBed(..., ipv6_shared=True)
TCP_PORT = 8080             # the servers
CLOSED_PORT = 8081          # nobody listens: RST
HOLE_PORT = 8082            # nobody listens; tests blackhole it with nftables
UDP_PORT = 7000
LINK_LOCAL = ipaddress.ip_network("fe80::/10")

# The valgrind command the brief asks for (definite and possible leaks are errors).
VALGRIND = ("valgrind", "--leak-check=full", "--error-exitcode=99", "--quiet")


# ====================================================================== servers

def _require_namespace(name):
    """Refuse to run anywhere but in the named test namespace /run/netns/NAME."""
    try:
        mine = os.stat("/proc/self/ns/net")
        theirs = os.stat(os.path.join("/run/netns", name))
    except OSError as e:
        sys.exit(f"connbed.py: cannot tell the network namespace: {e}")
    if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
        sys.exit(f"connbed.py: refusing to run outside the test namespace {name}")


def _emit(**kw):
    print(json.dumps(kw, sort_keys=True), flush=True)


def serve(name, tcp_port, udp_port, mptcp=False):
    # IPPROTO_MPTCP (262) with --mptcp: an MPTCP server, which also accepts plain TCP.
    tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 262 if mptcp else 0)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    tcp.bind(("::", tcp_port))
    tcp.listen(4096)
    socks = [tcp]
    udp = None
    if udp_port:
        udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        udp.bind(("::", udp_port))
        socks.append(udp)
    _emit(event="ready", name=name, tcp_port=tcp_port, udp_port=udp_port)
    reply = name.encode()
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            if s is tcp:
                c, peer = tcp.accept()
                try:
                    c.sendall(reply)
                except OSError as e:
                    _emit(event="send_error", peer=_peer(peer), error=str(e))
                c.close()
                _emit(event="accepted", peer=_peer(peer))
            else:
                data, peer = udp.recvfrom(65535)
                _emit(event="datagram", text=data.decode("utf-8", "replace"), peer=_peer(peer))


def serve_echo(name, tcp_port, hold_at=None, mute=False):
    """The echo server (see the module's docstring): one select() loop, no threads."""
    import signal
    lsock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)   # CLOEXEC, as every Python fd
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    lsock.bind(("::", tcp_port))
    lsock.listen(64)
    # SIGUSR1 (release) reaches the loop as a byte on this pipe.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGUSR1, lambda *_: None)
    conns = {}      # socket -> {peer, buf, held (bytes or None), read, echoed, last}
    released = False
    _emit(event="ready", name=name, tcp_port=tcp_port, echo=True, hold_at=hold_at, mute=mute)
    while True:
        ready, _, _ = select.select([lsock, wake_r] + list(conns), [], [])
        for s in ready:
            if s is lsock:
                c, peer = lsock.accept()
                conns[c] = dict(peer=_peer(peer), buf=b"", held=None, read=0, echoed=0, last=None)
                _emit(event="accepted", peer=_peer(peer))
                continue
            if s is wake_r:
                os.read(wake_r, 64)
                released = True
                for c, st in conns.items():
                    if st["held"] is not None:
                        _send(c, st, st["held"])
                        st["held"] = None
                _emit(event="released")
                continue
            st = conns[s]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                s.close()
                del conns[s]
                _emit(event="closed", peer=st["peer"], read=st["read"], echoed=st["echoed"], last=st["last"])
                continue
            st["buf"] += data
            while b"\n" in st["buf"]:
                line, st["buf"] = st["buf"].split(b"\n", 1)
                st["read"] += 1
                if mute:
                    continue
                if st["held"] is None and not released and hold_at is not None and line == str(hold_at).encode():
                    st["held"] = b""
                    _emit(event="hold", peer=st["peer"], line=hold_at)
                if st["held"] is not None:
                    st["held"] += line + b"\n"
                else:
                    _send(s, st, line + b"\n")


def _send(c, st, data):
    """Echo `data` (whole lines) on connection c; a peer gone meanwhile is left to recv."""
    try:
        c.sendall(data)
    except OSError:
        return
    lines = data.split(b"\n")[:-1]
    st["echoed"] += len(lines)
    if lines:
        st["last"] = lines[-1].decode("utf-8", "replace")


def _peer(peer):
    a = peer[0]
    if a.startswith("::ffff:"):
        a = a[7:]
    return a


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="connbed.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--name", required=True)
    p.add_argument("--tcp-port", type=int, required=True)
    p.add_argument("--udp-port", type=int, default=0)
    p.add_argument("--mptcp", action="store_true", help="an MPTCP listening socket")
    p.add_argument("--echo", action="store_true", help="echo each line back (TCP only)")
    p.add_argument("--hold-at", type=int, help="with --echo: hold a connection at this line until SIGUSR1")
    p.add_argument("--mute", action="store_true", help="with --echo: accept, read, never answer")
    p.add_argument("--netns", required=True, help="the test namespace it must run in")
    a = ap.parse_args(argv)
    _require_namespace(a.netns)
    if a.echo:
        serve_echo(a.name, a.tcp_port, a.hold_at, a.mute)
    else:
        serve(a.name, a.tcp_port, a.udp_port, a.mptcp)


# ====================================================================== test side

def build_driver():
    """`make lib` (once per run), then compile c-tests/connect/mifconnect.c when it is
    out of date (bed.build_driver). Returns its path."""
    if "MIFCONNECT" in os.environ:
        return DRIVER
    import bed
    return bed.build_driver(DRIVER_SRC, DRIVER, make_lib=not os.environ.get("MIFCONNECT_NO_MAKE"))


class Driver:
    """One mifconnect run in the host namespace (a child of ours, stopped by PID at the
    bed's teardown). A reader thread collects its JSON lines."""

    def __init__(self, bed, argv, label):
        self.argv = argv
        self.label = label
        self.lines = []
        self.stderr = []
        self.cond = threading.Condition()
        self.eof = False
        self.killed = False
        full_env = dict(os.environ)
        full_env.pop("MIF_CONFIG", None)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env, start_new_session=True)
        self.pid = self.proc.pid
        bed.daemons.append(self)     # stopped by PID at teardown, also on failure
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        from bed import read_json_lines
        read_json_lines(self, self.proc.stdout, self.lines, "event")

    def _read_err(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.stderr.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def wait_line(self, pred, what, timeout=None):
        """The first line satisfying pred (waits TIMEOUT at most, only to fail)."""
        from bed import TIMEOUT, Failure
        deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
        with self.cond:
            while True:
                for m in self.lines:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    raise Failure(f"{self.label}: no {what}\n" + self.describe())
                self.cond.wait(left)

    def stop(self, sig=None, timeout=None):
        """For the bed's teardown (bed.stop_child)."""
        from bed import stop_child
        return stop_child(self, sig, timeout)

    def finish(self, timeout, expect_rc=0):
        """Wait for the exit; a Result. Fails unless the exit status is expect_rc, the
        output is clean (no error, engine failure, message for a finished id) and the
        descriptor count after mif_close equals the one before mif_open."""
        from bed import Failure
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise Failure(f"{self.label}: still running after {timeout:g} s (killed)\n" + self.describe())
        with self.cond:
            while not self.eof:
                self.cond.wait(1)
        res = Result(self)
        if self.proc.returncode != expect_rc:
            raise Failure(f"{self.label}: exit status {self.proc.returncode} ({expect_rc} expected)"
                          + (" (99: valgrind found errors)" if self.proc.returncode == 99 else "")
                          + "\n" + self.describe())
        bad = [m for m in res.lines if m.get("event") in ("__bad_json__", "engine_failed", "error")
               or m.get("extra")]
        if bad:
            raise Failure(f"{self.label}: printed {bad}\n" + self.describe())
        fds = res.one("fds")
        if fds["before"] != fds["after"] or fds["before"] < 0:
            raise Failure(f"{self.label}: {fds['before']} descriptors open before mif_open, "
                          f"{fds['after']} after mif_close\n" + self.describe())
        return res

    def describe(self, limit=60):
        with self.cond:
            lines, err = list(self.lines), list(self.stderr)
        out = [f"  [{self.label}] $ {' '.join(self.argv)}",
               f"  [{self.label}] exit status {self.proc.poll()}; {len(lines)} lines"
               + (f" (first {limit // 2} and last {limit // 2})" if len(lines) > limit else "") + ":"]
        shown = lines if len(lines) <= limit else lines[:limit // 2] + [{"event": "..."}] + lines[-limit // 2:]
        out += [f"    {json.dumps(m, sort_keys=True)}" for m in shown]
        if err:
            out.append(f"  [{self.label}] stderr ({len(err)} lines, last 40):")
            out += [f"    {e}" for e in err[-40:]]
        return "\n".join(out)


class Result:
    """What one mifconnect run printed."""

    def __init__(self, driver):
        self.driver = driver
        self.lines = list(driver.lines)
        self.rc = driver.proc.returncode

    def describe(self):
        return self.driver.describe()

    def all(self, event, cid=None):
        return [m for m in self.lines if m.get("event") == event
                and (cid is None or m.get("connection_id") == cid)]

    def one(self, event, cid=None):
        from bed import Failure
        got = self.all(event, cid)
        if len(got) != 1:
            raise Failure(f"{len(got)} {event} lines" + (f" for connection {cid}" if cid is not None else "")
                          + " (1 expected)\n" + self.describe())
        return got[0]

    def results(self, cid):
        return [m for m in self.lines if m.get("connection_id") == cid
                and m.get("event") in ("connected", "not_connected")]

    def result(self, cid):
        """The single connected / not_connected line of connection cid."""
        from bed import Failure
        got = self.results(cid)
        if len(got) != 1:
            raise Failure(f"connection {cid}: {len(got)} results (exactly 1 expected)\n" + self.describe())
        return got[0]

    def connected(self, cid):
        from bed import Failure
        m = self.result(cid)
        if m["event"] != "connected":
            raise Failure(f"connection {cid}: not connected ({m.get('error_name')}: {m.get('text')})\n"
                          + self.describe())
        return m

    def not_connected(self, cid):
        from bed import Failure
        m = self.result(cid)
        if m["event"] != "not_connected":
            raise Failure(f"connection {cid}: connected, a failure was expected\n" + self.describe())
        return m

    def posted(self, cid):
        return self.one("posted", cid)


class ConnBed:
    def __init__(self, bed, servers=True, ipv6_shared=False):
        from bed import Failure
        if len(bed.nets) != 2:
            raise Failure("ConnBed needs a bed with nets=2")
        self.bed = bed
        self.driver = build_driver()
        self.servers = {}
        self._n = 0
        bed.ip("host", "route", "add", "default", "via", bed.nets[0]["router4"], "dev", "mif0")
        for n in bed.nets:
            bed.ip(n["key"], "addr", "add", f"{SHARED}/32", "dev", "lo")
        if ipv6_shared:
            # As with a Router Advertisement on each link: a default route per
            # interface, mif0's preferred.
            for n, metric in zip(bed.nets, (100, 200)):
                bed.ip(n["key"], "addr", "add", f"{SHARED6}/128", "dev", "lo", "nodad")
                bed.ip("host", "-6", "route", "add", "default", "via", n["router6"], "dev", n["mif"],
                       "metric", metric)
        if servers:
            for n in bed.nets:
                self.servers[n["key"]] = self.server(n["key"], f"net-{n['key']}")

    # -- guard
    def guard(self, argv):
        """bed.guard, except that IPv6 link-local addresses are allowed as arguments."""
        masked = []
        for a in argv:
            try:
                ip = ipaddress.ip_address(str(a))
            except ValueError:
                masked.append(a)
                continue
            masked.append("link-local" if ip.version == 6 and ip in LINK_LOCAL else a)
        self.bed.guard(masked)

    # -- servers
    def server(self, ns, name, tcp_port=TCP_PORT, udp_port=UDP_PORT, mptcp=False):
        """Start the test server in namespace ns (an MPTCP one with mptcp=True); wait for
        its ready line."""
        from bed import TIMEOUT, Failure
        proc = self.bed.spawn(ns, [sys.executable, os.path.abspath(__file__), "serve", "--netns", self.bed.ns[ns], "--name", name,
                                   "--tcp-port", tcp_port, "--udp-port", udp_port]
                              + (["--mptcp"] if mptcp else []), label=f"server-{ns}-{tcp_port}")
        deadline = time.monotonic() + TIMEOUT
        while '"event": "ready"' not in proc.output():
            if not proc.alive() or time.monotonic() > deadline:
                raise Failure(f"server {name} in {ns} did not start:\n{proc.output()}")
            time.sleep(0.02)
        return proc

    def echo_server(self, ns, port, hold_at=None, mute=False, label=None):
        """Start the echo server (serve --echo) in namespace ns on TCP `port`; wait for its
        ready line. The events it printed: server_lines(proc)."""
        from bed import TIMEOUT, Failure
        extra = (["--hold-at", hold_at] if hold_at is not None else []) + (["--mute"] if mute else [])
        proc = self.bed.spawn(ns, [sys.executable, os.path.abspath(__file__), "serve", "--netns", self.bed.ns[ns],
                                   "--name", f"echo-{ns}", "--tcp-port", port, "--echo"] + extra,
                              label=label or f"echo-{ns}-{port}")
        deadline = time.monotonic() + TIMEOUT
        while '"event": "ready"' not in proc.output():
            if not proc.alive() or time.monotonic() > deadline:
                raise Failure(f"echo server in {ns} did not start:\n{proc.output()}")
            time.sleep(0.02)
        return proc

    def server_events(self, ns, event):
        out = []
        for line in self.servers[ns].output().splitlines():
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if m.get("event") == event:
                out.append(m)
        return out

    def wait_server_event(self, ns, pred, what):
        from bed import TIMEOUT, Failure
        deadline = time.monotonic() + TIMEOUT
        while True:
            for m in self.server_events(ns, "accepted") + self.server_events(ns, "datagram"):
                if pred(m):
                    return m
            if time.monotonic() > deadline:
                raise Failure(f"server in {ns}: no {what}:\n{self.servers[ns].output()}")
            time.sleep(0.02)

    # -- nftables
    def nft(self, ns, ruleset):
        self._n += 1
        p = os.path.join(self.bed.tmp, f"nft-{ns}{self._n}")
        with open(p, "w") as f:
            f.write(ruleset)
        self.bed.ns_exec(ns, "nft", "-f", p)

    def rule(self, ns, match, verdict, comment):
        """An input chain in ns (its own table inet conn_COMMENT): `match` (nft syntax),
        counted, then `verdict`."""
        self.nft(ns, f"table inet conn_{comment} {{\n chain input {{\n"
                     f"  type filter hook input priority 0; policy accept;\n"
                     f"  {match} counter {verdict} comment \"{comment}\"\n }}\n}}\n")

    def packets(self, ns, comment):
        """Packets counted by rule(ns, ..., comment) so far."""
        out = json.loads(self.bed.ns_exec(ns, "nft", "-j", "list", "table", "inet", f"conn_{comment}").stdout)
        for item in out.get("nftables", []):
            r = item.get("rule")
            if r and r.get("comment") == comment:
                for e in r.get("expr", []):
                    if "counter" in e:
                        return e["counter"]["packets"]
        return 0

    def blackhole(self, ns, match):
        """Drop `match` in ns's input (counted as "hole")."""
        self.rule(ns, match, "drop", "hole")

    def hole_packets(self, ns):
        return self.packets(ns, "hole")

    def wait_hole_packets(self, ns, n=1):
        from bed import TIMEOUT, Failure
        deadline = time.monotonic() + TIMEOUT
        while self.hole_packets(ns) < n:
            if time.monotonic() > deadline:
                raise Failure(f"no packet reached the blackhole in {ns} after {TIMEOUT:g} s")
            time.sleep(0.02)

    # -- plain sockets in the host namespace (no library)
    def plain_connect(self, addr, port):
        """What a plain connect() from the host namespace (default route) reads."""
        code = ("import socket,sys\ns=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=10)\n"
                "b=b''\nwhile True:\n d=s.recv(256)\n if not d: break\n b+=d\nprint(b.decode())")
        return self.bed.ns_exec("host", sys.executable, "-c", code, addr, port).stdout.strip()

    # -- the driver
    def start(self, pvd_of, *targets, attempt_delay_ms=None, timeout_ms=None, no_bindtodevice=False,
              source=None, count=None, cancel_after_ms=None, sentinel=None, default_pvd=False,
              udp_send=None, udp_control=None, valgrind=False, wait_ms=None,
              cancel_when_queued=False, close_when_queued=False, hold_ms=None):
        """Start mifconnect in the host namespace; targets are address, port, address, port..."""
        from bed import TIMEOUT
        args = [self.driver, "--pvd-of", pvd_of, "--root", self.bed.root,
                "--wait-ms", str(int(wait_ms if wait_ms is not None else TIMEOUT * 6000))]
        for opt, val in (("--attempt-delay-ms", attempt_delay_ms), ("--timeout-ms", timeout_ms),
                         ("--from", source), ("--count", count), ("--cancel-after-ms", cancel_after_ms),
                         ("--udp-send", udp_send), ("--udp-control", udp_control), ("--hold-ms", hold_ms)):
            if val is not None:
                args += [opt, str(val)]
        if sentinel is not None:
            args += ["--sentinel", str(sentinel[0]), str(sentinel[1])]
        if no_bindtodevice:
            args.append("--no-bindtodevice")
        if default_pvd:
            args.append("--default-pvd")
        if cancel_when_queued:
            args.append("--cancel-when-queued")
        if close_when_queued:
            args.append("--close-when-queued")
        args += [str(t) for t in targets]
        prefix = list(VALGRIND) if valgrind else []
        argv = ["ip", "netns", "exec", self.bed.ns["host"]] + prefix + args
        self.guard(argv)
        self._n += 1
        return Driver(self.bed, argv, f"mifconnect{self._n}")

    def run(self, pvd_of, *targets, expect_rc=0, **kw):
        """start() and finish(): the Result of a clean run."""
        from bed import TIMEOUT
        d = self.start(pvd_of, *targets, **kw)
        return d.finish(TIMEOUT * 9, expect_rc=expect_rc)


if __name__ == "__main__":
    main(sys.argv[1:])
