"""The session-continuity example (examples-c/continuity.c, build/continuity) end to end,
and `make demo`'s script (examples-c/demo.py).

The bed: connbed's two networks (198.18.0.80 on lo of both, the host's default route via
mif0), a dnsmasq per network answering NAME with 198.18.0.80 (ROOT/etc/mif.conf names
each interface's server), and connbed's echo server (`serve --echo`) on ECHO_PORT in
each network. continuity runs with --json --prefer mif0,mif1.

Nothing depends on timing: a network the stream must leave holds its echoes from a
given line on (`--hold-at N`: that connection gets nothing back from line N), so the
stream cannot end there whatever the machine's speed, and the test acts once it has
seen the hold or continuity's message. Waits time out only to fail instead of hanging."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

from bed import TIMEOUT, VALGRIND, Failure, bed_options, check
from connbed import SHARED, ConnBed
from dnsbed import DnsBed
from test_examples import VALGRIND_NOTE, example_path

NAME = "svc.example.com"
ECHO_PORT = 8083
HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "examples-c", "demo.py")


class Continuity:
    """build/examples/continuity --json in the bed's host namespace (a child of ours,
    stopped by PID at teardown; under valgrind with valgrind=True); a reader thread
    collects its JSON lines."""

    def __init__(self, bed, *args, count=40, interval=20, valgrind=False):
        self.argv = ["ip", "netns", "exec", bed.ns["host"]] + (list(VALGRIND) if valgrind else []) + [
                     example_path("continuity"), NAME, str(ECHO_PORT),
                     "--prefer", "mif0,mif1", "--count", str(count), "--interval", str(interval), "--json",
                     "--root", bed.root] + [str(a) for a in args]
        bed.guard(self.argv)
        env = dict(os.environ)
        env.pop("MIF_CONFIG", None)
        self.label = "continuity"
        self.lines, self.stderr = [], []
        self.cond = threading.Condition()
        self.eof = self.killed = False
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid = self.proc.pid
        bed.daemons.append(self)
        self.threads = [threading.Thread(target=self._read, args=(s, o), daemon=True)
                        for s, o in ((self.proc.stdout, self.lines), (self.proc.stderr, self.stderr))]
        for t in self.threads:
            t.start()

    def _read(self, stream, out):
        for raw in stream:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if out is self.lines:
                try:
                    text = json.loads(text)
                except ValueError:
                    text = {"msg": "__bad_json__", "raw": text}
            with self.cond:
                out.append(text)
                self.cond.notify_all()
        if out is self.lines:
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def describe(self):
        with self.cond:
            lines, err = list(self.lines), list(self.stderr)
        return "\n".join([f"  $ {' '.join(self.argv)}  (exit status {self.proc.poll()})"]
                         + [f"    {json.dumps(m)}" for m in lines] + [f"  stderr: {e}" for e in err])

    def wait(self, pred, what):
        """The first line satisfying pred (any line printed so far counts)."""
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while True:
                for m in self.lines:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    raise Failure(f"continuity: no {what}\n{self.describe()}")
                self.cond.wait(left)

    def wait_msg(self, msg, **kw):
        return self.wait(lambda m: m.get("msg") == msg and all(m.get(k) == v for k, v in kw.items()),
                         f"{msg} {kw}")

    def finish(self, expect_rc=0):
        """Waits for the exit (the timeout only catches a hang); the JSON lines."""
        try:
            self.proc.wait(TIMEOUT * 3)
        except subprocess.TimeoutExpired:
            self.stop()
            raise Failure(f"continuity: still running after {TIMEOUT * 3:g} s (killed)\n{self.describe()}")
        for t in self.threads:
            t.join(TIMEOUT)
        printed = [x for x in self.stderr if not VALGRIND_NOTE.match(x)]
        if self.proc.returncode != expect_rc or printed:
            raise Failure(f"continuity: exit status {self.proc.returncode} ({expect_rc} expected"
                          + ("; 99: valgrind found errors" if self.proc.returncode == 99 else "")
                          + f"), or it printed on stderr\n{self.describe()}")
        bad = [m for m in self.lines if m.get("msg") == "__bad_json__"]
        check(not bad, f"continuity printed lines that are not JSON: {bad}\n{self.describe()}")
        return list(self.lines)

    def stop(self, sig=None, timeout=None):
        from bed import stop_child
        return stop_child(self, sig, timeout)


def continuity_bed(bed, hold_a=None, hold_b=None):
    """The bed described above; returns (ConnBed, {ns: echo server})."""
    cb = ConnBed(bed, servers=False)
    dns = DnsBed(bed)
    dns.conf({"mif0": {"dns": "198.51.100.1"}, "mif1": {"dns": "203.0.113.1"}})
    for ns, listen in (("a", "198.51.100.1"), ("b", "203.0.113.1")):
        dns.dnsmasq(ns, [listen], hosts={NAME: [SHARED]})
    echo = {"a": cb.echo_server("a", ECHO_PORT, hold_at=hold_a), "b": cb.echo_server("b", ECHO_PORT, hold_at=hold_b)}
    return cb, echo


def server_event(proc, event, what):
    """Waits until the echo server `proc` printed an event line of this kind."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        for line in proc.output().splitlines():
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if m.get("event") == event:
                return m
        if time.monotonic() > deadline or not proc.alive():
            raise Failure(f"{proc.label}: no {what}:\n{proc.output()}")
        time.sleep(0.02)


def restore_link(bed, key="a"):
    """Makes net `key`'s veth link again after `ip link del` (as bed.setup does): the
    host gets a new mif interface with a new index and the same name and addresses."""
    n = [n for n in bed.nets if n["key"] == key][0]
    bed.ip("host", "link", "add", n["mif"], "type", "veth", "peer", "name", n["gw"], "netns", bed.ns[key])
    bed.ip(key, "addr", "add", f"{n['router4']}/24", "dev", n["gw"])
    bed.ip(key, "addr", "add", f"{n['router6']}/64", "dev", n["gw"], "nodad")
    bed.ns_exec(key, "sysctl", "-qw", f"net.ipv6.conf.{n['gw']}.accept_dad=0")
    bed.ip(key, "link", "set", n["gw"], "up")
    bed.ip("host", "addr", "add", f"{n['host4']}/24", "dev", n["mif"])
    bed.ip("host", "addr", "add", f"{n['host6']}/64", "dev", n["mif"], "nodad")
    bed.ip("host", "link", "set", n["mif"], "up")


def msgs(lines, *kinds):
    return [m for m in lines if m.get("msg") in kinds]


def check_done(c, lines, count=40):
    done = msgs(lines, "done")
    check(len(done) == 1 and lines[-1] is done[0] and done[0]["echoed"] == count and done[0]["lost"] == 0
          and done[0]["sent"] == count, f"done with all {count} lines echoed expected\n{c.describe()}")


@bed_options(nets=2)
def test_continuity_link_deleted(bed):
    """Unannounced loss: net A holds its echoes from line 10; its link is deleted
    (`ip -n A link del gw0`, which takes mif0 with it). continuity switches to mif1
    (connected there, switched from mif0 to mif1 with the lines A never echoed
    resent) and every line comes back, in order (continuity checks the order). Under
    valgrind: no memory error, no leak."""
    _cb, echo = continuity_bed(bed, hold_a=10)
    c = Continuity(bed, valgrind=True)
    c.wait_msg("connected", network="mif0")
    server_event(echo["a"], "hold", "hold at line 10")
    bed.ip("a", "link", "del", "gw0")
    lines = c.finish()
    check_done(c, lines)
    sw = msgs(lines, "switched")
    check(len(sw) == 1 and sw[0]["from"] == "mif0" and sw[0]["to"] == "mif1" and sw[0]["resent"] >= 1,
          f"one switch from mif0 to mif1 with the held lines resent expected\n{c.describe()}")
    check([m["network"] for m in msgs(lines, "connected")] == ["mif0", "mif1"], c.describe())
    check(not msgs(lines, "check_failed"), c.describe())


@bed_options(nets=2)
def test_continuity_carrier_lost(bed):
    """The far end goes down (`ip -n A link set gw0 down`): the library warns that mif0
    is going away (carrier_lost, deadline 0: now) and its PvDs go with it; continuity
    moves to mif1 and every line comes back (net A holds from line 10)."""
    _cb, echo = continuity_bed(bed, hold_a=10)
    c = Continuity(bed)
    c.wait_msg("connected", network="mif0")
    server_event(echo["a"], "hold", "hold at line 10")
    bed.ip("a", "link", "set", "gw0", "down")
    lines = c.finish()
    check_done(c, lines)
    away = msgs(lines, "going_away")
    check(len(away) == 1 and away[0]["reason"] == "carrier_lost" and away[0]["deadline_ms"] == 0,
          f"one going_away (carrier_lost, deadline 0) expected\n{c.describe()}")
    check([(m["from"], m["to"]) for m in msgs(lines, "switched")] == [("mif0", "mif1")], c.describe())


@bed_options(nets=2)
def test_continuity_addresses_deprecated(bed):
    """Announced loss: every address of mif0's IPv4 PvD (the stream's) deprecated with
    20 s of valid lifetime left: continuity is told (going_away, addresses_deprecated,
    deadline_ms), connects over mif1 first, then moves the stream (make before break):
    switched with nothing lost, the gap below the deadline, and the old address still
    there when it is over (before the deadline). Net A holds from line 30 so the stream
    cannot end there."""
    _cb, echo = continuity_bed(bed, hold_a=30)
    c = Continuity(bed)
    c.wait_msg("connected", network="mif0")
    bed.ip("host", "addr", "change", "198.51.100.2/24", "dev", "mif0", "valid_lft", "20", "preferred_lft", "0")
    lines = c.finish()
    check_done(c, lines)
    kinds = [m["msg"] for m in lines if m["msg"] != "progress"]
    check(kinds == ["connected", "going_away", "connected", "switched", "done"],
          f"connected, going_away, connected (mif1), switched, done expected: {kinds}\n{c.describe()}")
    away, sw = msgs(lines, "going_away")[0], msgs(lines, "switched")[0]
    check(away["network"] == "mif0" and away["reason"] == "addresses_deprecated"
          and 0 < away["deadline_ms"] <= 20000, f"going_away: {away}")
    check(sw["from"] == "mif0" and sw["to"] == "mif1" and sw["gap_ms"] < away["deadline_ms"], f"switched: {sw}")
    still = [a["local"] for link in bed.ip_json("host", "-4", "addr", "show", "dev", "mif0")
             for a in link.get("addr_info", [])]
    check("198.51.100.2" in still, f"mif0's address should still be valid: {still}")


@bed_options(nets=2)
def test_continuity_switches_back(bed):
    """The preferred network returns: mif0's link deleted while A holds from line 10,
    continuity moves to mif1 (which holds from line 30, so the stream cannot end
    there); the link is made again (a new interface named mif0): continuity checks it
    (connected over mif0, the probe echoed) and moves the stream back: switched from
    mif1 to mif0, every line echoed."""
    _cb, echo = continuity_bed(bed, hold_a=10, hold_b=30)
    c = Continuity(bed)
    c.wait_msg("connected", network="mif0")
    server_event(echo["a"], "hold", "hold at line 10")
    bed.ip("a", "link", "del", "gw0")
    c.wait_msg("switched", to="mif1")
    restore_link(bed)
    lines = c.finish()
    check_done(c, lines)
    check([(m["from"], m["to"]) for m in msgs(lines, "switched")] == [("mif0", "mif1"), ("mif1", "mif0")],
          f"switched to mif1 and back expected\n{c.describe()}")
    check([m["network"] for m in msgs(lines, "connected")] == ["mif0", "mif1", "mif0"], c.describe())
    check(not msgs(lines, "check_failed"), c.describe())


@bed_options(nets=2)
def test_continuity_check_fails(bed):
    """A returning network that accepts TCP but never echoes: after the switch to mif1
    (which holds from line 30 until released), net A's echo server is replaced by a
    mute one and its link made again. continuity checks mif0, gets no echo of its
    probe: check_failed for mif0, and the stream stays on mif1 (released once the
    check failed), every line echoed, no switch back."""
    cb, echo = continuity_bed(bed, hold_a=10, hold_b=30)
    c = Continuity(bed)
    c.wait_msg("connected", network="mif0")
    server_event(echo["a"], "hold", "hold at line 10")
    bed.ip("a", "link", "del", "gw0")
    c.wait_msg("switched", to="mif1")
    echo["a"].stop()
    cb.echo_server("a", ECHO_PORT, mute=True, label="mute-a")
    restore_link(bed)
    failed = c.wait_msg("check_failed", network="mif0")
    echo["b"].signal(signal.SIGUSR1)
    lines = c.finish()
    check_done(c, lines)
    check("echo" in failed["reason"], f"check_failed: no echo expected: {failed}")
    check([(m["from"], m["to"]) for m in msgs(lines, "switched")] == [("mif0", "mif1")],
          f"no switch back expected\n{c.describe()}")
    check([m["network"] for m in msgs(lines, "connected")] == ["mif0", "mif1", "mif0"], c.describe())


@bed_options(nets=0)
def test_continuity_demo(bed):
    """`make demo`'s script, examples-c/demo.py (lines every 50 ms instead of 100), runs to its
    end: exit status 0, its last line "demo done: ...", and it left no namespace of
    its own behind."""
    p = subprocess.run([sys.executable, DEMO, "--interval", "50"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=TIMEOUT * 9)
    text = f"exit status {p.returncode}\n{p.stdout}{p.stderr}"
    out = p.stdout.splitlines()
    check(p.returncode == 0 and out and out[-1].startswith("demo done: "), text)
    named = [l.split()[2] for l in out if l.startswith("demo: namespaces ")]
    check(named, f"the demo names its namespaces\n{text}")
    prefix = named[0].split("-")[0]
    left = [n for n in os.listdir("/run/netns") if n.startswith(prefix + "-")]
    check(not left, f"the demo left namespaces behind: {left}")
