#!/usr/bin/env python3
"""`make demo`: figure2 and continuity on two throwaway networks (needs root).

    python3 examples-c/demo.py [--interval MS]

Builds, in network namespaces of its own (tests/netns/bed.py: unique names, every
command confined to them, everything removed at the end, also on Ctrl-C or failure):

    [host ns]  mif0 ==veth== net A  198.51.100.0/24   dnsmasq: demo.example.com is 198.18.0.80
               mif1 ==veth== net B  203.0.113.0/24    (on lo of both networks), servers on it:
                                                      8080 says its network's name, 8083 echoes
    ROOT/etc/mif.conf: mif0's DNS server is 198.51.100.1, mif1's 203.0.113.1

then runs build/figure2 demo.example.com 8080, and build/continuity demo.example.com
8083 --prefer mif0,mif1 while it deletes mif0's link, makes it again, and deprecates
its address. The last line says "demo done: ..." (exit status 0) or "demo failed: ...".
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "netns"))
sys.dont_write_bytecode = True   # keep the source tree clean

import bed as bedmod  # noqa: E402

NAME = "demo.example.com"
SHARED = "198.18.0.80"
COUNT = 80   # at 100 ms a line: time for every step with seconds to spare
CONNBED = os.path.join(ROOT, "tests", "netns", "connbed.py")


def say(text):
    print(f"demo: {text}", flush=True)


class Child:
    """A program of ours in the host namespace, its output read line by line; stopped
    by PID at the bed's teardown like the daemons."""

    def __init__(self, bed, label, argv):
        self.label, self.killed = label, False
        self.argv = ["ip", "netns", "exec", bed.ns["host"]] + argv
        bed.guard(self.argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.pid = self.proc.pid
        bed.daemons.append(self)

    def lines(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            print(f"    {self.label}| {line}", flush=True)
            yield line

    def stop(self, sig=None, timeout=None):
        return bedmod.stop_child(self, sig, timeout)


def wait_ready(bed, proc, ns, port, proto):
    """Until `proc` listens on `port` in namespace ns (`ss`), so nothing races it."""
    deadline = time.monotonic() + bedmod.TIMEOUT
    while not re.search(rf":{port}\b", bed.ns_exec(ns, "ss", "-Hln", proto).stdout):
        if not proc.alive() or time.monotonic() > deadline:
            raise bedmod.Failure(f"{proc.label} did not start:\n{proc.output()}")
        time.sleep(0.02)


def networks(bed):
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0")
    bed.write("etc/mif.conf", "[mif0]\ndns = 198.51.100.1\n\n[mif1]\ndns = 203.0.113.1\n")
    for n in bed.nets:
        ns = n["key"]
        bed.ip(ns, "addr", "add", f"{SHARED}/32", "dev", "lo")
        hosts = os.path.join(bed.tmp, f"hosts-{ns}")
        with open(hosts, "w") as f:
            f.write(f"{SHARED} {NAME}\n")
        # Nothing written outside the bed's temp dir: no pid file, no lease file.
        d = bed.spawn(ns, ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                           "--no-hosts", "--bind-interfaces", "--user=root", "--pid-file", "--port=53",
                           f"--listen-address={n['router4']}", f"--addn-hosts={hosts}", "--local=/example.com/"],
                      label=f"dnsmasq-{ns}")
        wait_ready(bed, d, ns, 53, "-u")
        for argv, port in ((["--name", f"net-{ns}", "--tcp-port", "8080"], 8080),
                           (["--name", f"echo-{ns}", "--tcp-port", "8083", "--echo"], 8083)):
            s = bed.spawn(ns, [sys.executable, CONNBED, "serve", "--netns", bed.ns[ns]] + argv,
                          label=f"server-{ns}-{port}")
            wait_ready(bed, s, ns, port, "-t")


def restore_mif0(bed):
    """mif0's veth link made again, as the bed first made it (a new interface index)."""
    bed.ip("host", "link", "add", "mif0", "type", "veth", "peer", "name", "gw0", "netns", bed.ns["a"])
    bed.ip("a", "addr", "add", "198.51.100.1/24", "dev", "gw0")
    bed.ip("a", "link", "set", "gw0", "up")
    bed.ip("host", "addr", "add", "198.51.100.2/24", "dev", "mif0")
    bed.ip("host", "link", "set", "mif0", "up")


def demo(bed, interval):
    say(f"namespaces {bed.prefix}-host, -a and -b: mif0 leads to net A (198.51.100.0/24), "
        "mif1 to net B (203.0.113.0/24)")
    networks(bed)
    say(f"each network's dnsmasq answers {NAME} = {SHARED}; behind it, port 8080 says the network's "
        "name and port 8083 echoes lines")

    say(f"figure2 {NAME} 8080: the draft's example flow, the name asked and connected on every network")
    fig = Child(bed, "figure2", [os.path.join(ROOT, "build", "figure2"), NAME, "8080", "--root", bed.root])
    via = [m.group(1) for line in fig.lines() for m in [re.match(r"done: connected via (\S+)", line)] if m]
    if fig.proc.wait() != 0 or not via:
        raise bedmod.Failure("figure2 did not connect")

    say(f"continuity: {COUNT} lines, one every {interval} ms, over mif0 while it lasts, else mif1")
    cont = Child(bed, "continuity", [os.path.join(ROOT, "build", "continuity"), NAME, "8083", "--prefer",
                                     "mif0,mif1", "--count", str(COUNT), "--interval", str(interval),
                                     "--root", bed.root])
    # Only against a hang: the steps below take a few seconds.
    watchdog = threading.Timer(60, cont.stop)
    watchdog.daemon = True   # never keeps the demo from exiting
    watchdog.start()
    steps = ["delete", "restore", "deprecate", "leave", ""]   # what to do next; "": all done
    done = None
    for line in cont.lines():
        if steps[0] == "delete" and line == "mif0: 10 lines echoed":
            say("deleting mif0's link (ip link del gw0 in net A): the network is gone, unannounced")
            bed.ip("a", "link", "del", "gw0")
            steps.pop(0)
        elif steps[0] == "restore" and line.startswith("switched from mif0 to mif1"):
            say("making mif0's link again: the preferred network is back")
            restore_mif0(bed)
            steps.pop(0)
        elif steps[0] == "deprecate" and re.fullmatch(r"mif0: \d+ lines echoed", line):
            say("deprecating mif0's address, valid 3 s more: the library warns before it goes")
            bed.ip("host", "addr", "change", "198.51.100.2/24", "dev", "mif0", "valid_lft", "3", "preferred_lft", "0")
            steps.pop(0)
        elif steps[0] == "leave" and line.startswith("switched from mif0 to mif1"):
            steps.pop(0)
        elif line.startswith("done: "):
            done = line
    watchdog.cancel()
    if cont.proc.wait() != 0 or steps != [""] or done is None:
        raise bedmod.Failure(f"continuity exited with status {cont.proc.returncode} before the steps "
                             f"{steps[:-1]} were done")
    return f"figure2 connected via {via[0]}; continuity: {done[len('done: '):]} through a deleted, " \
           "restored and deprecated mif0"


def main():
    ap = argparse.ArgumentParser(description="figure2 and continuity on two throwaway networks (root)")
    ap.add_argument("--interval", type=int, default=100, help="continuity's milliseconds between lines")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("demo: needs root, to make network namespaces and veth links: run `sudo make demo`", flush=True)
        return 1
    for prog in ("figure2", "continuity"):
        if not os.access(os.path.join(ROOT, "build", prog), os.X_OK):
            print(f"demo: build/{prog} is missing: run `make` first", flush=True)
            return 1

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    try:
        with bedmod.Bed(nets=2) as bed:   # its exit stops every process and deletes the namespaces
            summary = demo(bed, args.interval)
    except KeyboardInterrupt as e:
        print(f"demo failed: interrupted ({str(e) or 'Ctrl-C'}); cleaned up", flush=True)
        return 1
    except Exception as e:   # the bed's exit has cleaned up by now
        print(f"demo failed: {e}; cleaned up", flush=True)
        return 1
    print(f"demo done: {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
