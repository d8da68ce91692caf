"""Helpers for the DNS end-to-end tests (test_dns_resolution.py), on top of bed.py.

    dns = DnsBed(bed)                       # one per test, after the Bed is built
    dns.conf({"mif0": {"dns": "198.51.100.1"}})          # ROOT/etc/mif.conf
    a = dns.dnsmasq("a", ["198.51.100.1"], hosts={"host.example.com": ["14.15.16.17"]})
    r = dns.resolve("mif0", "host.example.com")           # runs c-tests/dns/mifresolve
    r.addresses(1) == {"14.15.16.17"}; r.done(1)["status"] == "done"
    a.queries() -> [("A", "host.example.com", "198.51.100.2"), ...]   (dnsmasq --log-queries)

Everything runs inside the bed's namespaces through bed.run()/bed.spawn() (the guard
applies); daemons are the bed's children and stopped by PID at teardown. Addresses
given to commands are in the test ranges; the DNS *data* some tests serve
(14.15.16.17, 192.168.1.1, 2001:192:321::1) only ever appears inside files and DNS
answers and is never contacted.

Run as a script, this file is also the test bed's small DNS helpers, started with
bed.spawn() inside a network namespace (they refuse to run in the initial one):

    python3 dnsbed.py --refuse-netns INODE rcode-server --listen ADDR --rcode N
        answers every query with rcode N (2 SERVFAIL, 5 REFUSED) and no records
        (--garbage: only the 12-byte header, unparsable);
    python3 dnsbed.py --refuse-netns INODE late-server --listen ADDR --answer-a A --delay-ms N [--copies K]
        answers every query at once, then K more times N ms later from port 53 and from
        another port (late duplicates: the client has closed its query by then);
    python3 dnsbed.py --refuse-netns INODE slow-aaaa-server --listen ADDR --answer-a A --answer-aaaa AAAA --delay-ms N
        answers A queries at once and AAAA queries N ms later (an IPv6 answer that lags);
    python3 dnsbed.py --refuse-netns INODE racer --iface gw0 --server S --client C --upstream U --name NAME
            --answer-a A --answer-aaaa AAAA
        an on-path spoofer racing the real server: an AF_PACKET socket on IFACE sees each
        query C -> S:53 for NAME, and forged replies (wrong ID, wrong port, wrong
        question, wrong source address, ...) are sent at once through a raw IP socket
        (IP_HDRINCL); it is also the real server's upstream at U:53 (dnsmasq
        --server=/NAME/U), answering NAME only after the forgeries for that query type
        have gone out, so the genuine reply always arrives last. One JSON line per event.
"""

import ipaddress
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DRIVER_SRC = os.path.join(ROOT, "c-tests", "dns", "mifresolve.c")
DRIVER = os.environ.get("MIFRESOLVE", os.path.join(ROOT, "build", "dns", "mifresolve"))

QTYPES = {1: "A", 28: "AAAA", 16: "TXT", 5: "CNAME"}


# ====================================================================== wire format
# (used by the helper processes; stdlib only)

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def parse_query(data):
    """(id, flags, qname lowercased without the final dot, qtype) of a DNS message with
    one uncompressed question, or None."""
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if qd < 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(data):
            return None
        n = data[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0 or pos + n > len(data):
            return None
        labels.append(data[pos:pos + n].decode("ascii", "replace").lower())
        pos += n
    if pos + 4 > len(data):
        return None
    qtype = struct.unpack("!H", data[pos:pos + 2])[0]
    return qid, flags, ".".join(labels), qtype


def rr(name, qtype, rdata, ttl=300):
    return encode_name(name) + struct.pack("!HHIH", qtype, 1, ttl, len(rdata)) + rdata


def rdata_of(qtype, text):
    return socket.inet_pton(socket.AF_INET if qtype == 1 else socket.AF_INET6, text)


def message(qid, flags, questions, answers=()):
    """questions: [(name, qtype)]; answers: encoded records."""
    head = struct.pack("!HHHHHH", qid, flags, len(questions), len(answers), 0, 0)
    body = b"".join(encode_name(n) + struct.pack("!HH", t, 1) for n, t in questions)
    return head + body + b"".join(answers)


RESPONSE = 0x8180          # QR, RD, RA, rcode 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_udp(src, sport, dst, dport, payload):
    """A whole IPv4/UDP packet with correct checksums (for an IP_HDRINCL socket)."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    pseudo = s + d + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, random.randrange(1, 65536), 0, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp


# ====================================================================== helper processes

def _refuse_outside_test_namespace(runner_netns):
    """The helpers send forged packets and bind DNS ports: only inside a test namespace,
    never in the namespace of the test runner (--refuse-netns, its inode) nor in PID 1's."""
    mine = os.stat("/proc/self/ns/net").st_ino
    if mine == runner_netns:
        sys.exit("dnsbed.py: refusing to run in the test runner's network namespace")
    try:
        if mine == os.stat("/proc/1/ns/net").st_ino:
            sys.exit("dnsbed.py: refusing to run in the initial network namespace")
    except OSError:
        pass    # PID 1's namespace may be unreadable here; the runner's check stands


def _emit(**kw):
    print(json.dumps(kw, sort_keys=True), flush=True)


def rcode_server(listen, rcode, garbage=False):
    fam = socket.AF_INET6 if ":" in listen else socket.AF_INET
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.bind((listen, 53))
    _emit(event="ready", listen=listen, rcode=rcode)
    while True:
        data, peer = udp.recvfrom(4096)
        q = parse_query(data)
        if q is None:
            continue
        qid, flags, qname, qtype = q
        _emit(event="query", name=qname, qtype=QTYPES.get(qtype, qtype), client=peer[0])
        reply = message(qid, 0x8180 | (flags & 0x0100) | rcode, [(qname, qtype)])
        if garbage:
            # The header (right ID, QR, one question announced) and nothing after it.
            reply = reply[:12]
        udp.sendto(reply, peer)


def _serve_queries(udp, on_query, on_due):
    """The delaying responders' loop: each query read on `udp` (parsed, see
    parse_query; unparsable ones are dropped) goes to on_query(query, peer, now), which
    answers what it answers at once and returns [(when, item)] to do later; on_due(item)
    runs when an item's time comes."""
    late = []  # (when, item)
    while True:
        wait = max(0.0, min(w for w, _ in late) - time.monotonic()) if late else None
        ready, _, _ = select.select([udp], [], [], wait)
        now = time.monotonic()
        for due in [x for x in late if x[0] <= now]:
            late.remove(due)
            on_due(due[1])
        if not ready:
            continue
        data, peer = udp.recvfrom(4096)
        q = parse_query(data)
        if q is not None:
            late.extend(on_query(q, peer, now))


def _udp_on(listen, port):
    udp = socket.socket(socket.AF_INET6 if ":" in listen else socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((listen, port))
    return udp


def late_server(listen, answer_a, delay_ms, copies):
    """Answers every A query with answer_a (other types: no records) at once, then
    `copies` more times after delay_ms: the same answer again from port 53 (a late
    duplicate) and from another port of the same address."""
    udp, other = _udp_on(listen, 53), _udp_on(listen, 0)
    _emit(event="ready", listen=listen, other_port=other.getsockname()[1])

    def on_query(q, peer, now):
        qid, flags, qname, qtype = q
        answers = [rr(qname, 1, rdata_of(1, answer_a))] if qtype == 1 else []
        reply = message(qid, RESPONSE | (flags & 0x0100), [(qname, qtype)], answers)
        udp.sendto(reply, peer)
        _emit(event="query", name=qname, qtype=QTYPES.get(qtype, qtype), client=peer[0], port=peer[1])
        return [(now + delay_ms / 1000.0, (reply, peer))]

    def on_due(item):
        reply, peer = item
        for _ in range(copies):
            udp.sendto(reply, peer)
            other.sendto(reply, peer)
        _emit(event="late", client=peer[0], port=peer[1], copies=copies)

    _serve_queries(udp, on_query, on_due)


def slow_aaaa_server(listen, answer_a, answer_aaaa, delay_ms):
    """Answers A queries with answer_a at once and AAAA queries with answer_aaaa only
    delay_ms later (other types: no records): a network whose IPv6 answer lags."""
    udp = _udp_on(listen, 53)
    _emit(event="ready", listen=listen)

    def on_query(q, peer, now):
        qid, flags, qname, qtype = q
        answers = {1: [rr(qname, 1, rdata_of(1, answer_a))], 28: [rr(qname, 28, rdata_of(28, answer_aaaa))]}
        reply = message(qid, RESPONSE | (flags & 0x0100), [(qname, qtype)], answers.get(qtype, []))
        _emit(event="query", name=qname, qtype=QTYPES.get(qtype, qtype), client=peer[0], port=peer[1])
        if qtype == 28:
            return [(now + delay_ms / 1000.0, (reply, peer))]
        udp.sendto(reply, peer)
        return []

    def on_due(item):
        udp.sendto(*item)
        _emit(event="answered_late", client=item[1][0])

    _serve_queries(udp, on_query, on_due)


# The forgeries sent for each query, in this order; each carries a record of its own
# (198.18.66.K / fd6d:6966:66::K) so a leak would show which one got through.
FORGERIES = ("wrong_id", "wrong_port", "wrong_question_name", "wrong_question_type",
             "not_a_response", "wrong_opcode", "two_questions", "wrong_source_address")


def racer(iface, server, client, upstream, name, answer_a, answer_aaaa):
    name = name.lower().rstrip(".")
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    sniff.bind((iface, 0x0800))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind((upstream, 53))
    _emit(event="ready")
    raced = {}                     # qtype -> number of host queries raced
    held = []                      # (arrival, data, peer, qid, qtype) from the real server
    while True:
        r, _, _ = select.select([sniff, up], [], [], 0.2)
        if sniff in r:
            pkt, meta = sniff.recvfrom(65535)
            if meta[2] != socket.PACKET_OUTGOING and len(pkt) >= 28 and pkt[9] == 17:
                ihl = (pkt[0] & 0x0F) * 4
                src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
                sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
                q = parse_query(pkt[ihl + 8:]) if (src, dst, dport) == (client, server, 53) else None
                if q is not None and q[2] == name and not q[1] & 0x8000:
                    qid, _flags, qname, qtype = q
                    other = 28 if qtype == 1 else 1
                    for k, kind in enumerate(FORGERIES, 1):
                        fake = f"198.18.66.{k}" if qtype == 1 else f"fd6d:6966:66::{k}"
                        ans = [rr(qname, qtype, rdata_of(qtype, fake))]
                        fid, fflags, questions = qid, RESPONSE, [(qname, qtype)]
                        fsrc, fsport = server, 53
                        if kind == "wrong_id":
                            fid = qid ^ 0x5A5A
                        elif kind == "wrong_port":
                            fsport = 5353
                        elif kind == "wrong_question_name":
                            questions = [("evil.example.com", qtype)]
                        elif kind == "wrong_question_type":
                            questions = [(qname, other)]
                        elif kind == "not_a_response":
                            fflags = RESPONSE & ~0x8000
                        elif kind == "wrong_opcode":
                            fflags = RESPONSE | (2 << 11)
                        elif kind == "two_questions":
                            questions = [(qname, qtype), ("evil.example.com", qtype)]
                        elif kind == "wrong_source_address":
                            fsrc = "198.51.100.99"
                        payload = message(fid, fflags, questions, ans)
                        raw.sendto(ipv4_udp(fsrc, fsport, client, sport, payload), (client, 0))
                        _emit(event="forged", kind=kind, qtype=QTYPES.get(qtype), id=qid, port=sport,
                              address=fake)
                    raced[qtype] = raced.get(qtype, 0) + 1
                    _emit(event="raced", qtype=QTYPES.get(qtype), id=qid, port=sport)
        if up in r:
            data, peer = up.recvfrom(4096)
            q = parse_query(data)
            if q is not None:
                held.append((time.monotonic(), data, peer, q[0], q[3], q[2]))
                _emit(event="upstream_query", qtype=QTYPES.get(q[3], q[3]), name=q[2])
        keep = []
        for item in held:
            arrival, data, peer, qid, qtype, qname = item
            ready = qname == name and raced.get(qtype, 0) > 0
            if qname != name or ready or time.monotonic() - arrival > 5:
                if qname == name and qtype in (1, 28):
                    addr = answer_a if qtype == 1 else answer_aaaa
                    reply = message(qid, RESPONSE, [(qname, qtype)], [rr(qname, qtype, rdata_of(qtype, addr))])
                else:
                    reply = message(qid, RESPONSE | 3, [(qname, qtype)])
                up.sendto(reply, peer)
                _emit(event="released" if ready else "released_unraced", qtype=QTYPES.get(qtype, qtype),
                      name=qname)
                if ready and qname == name:
                    raced[qtype] -= 1
            else:
                keep.append(item)
        held = keep


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="dnsbed.py")
    ap.add_argument("--refuse-netns", type=int, required=True,
                    help="inode of the test runner's network namespace: never run there")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("rcode-server")
    p.add_argument("--listen", required=True)
    p.add_argument("--rcode", type=int, required=True)
    p.add_argument("--garbage", action="store_true", help="send only the 12-byte header (unparsable)")
    p = sub.add_parser("late-server")
    p.add_argument("--listen", required=True)
    p.add_argument("--answer-a", required=True)
    p.add_argument("--delay-ms", type=int, required=True)
    p.add_argument("--copies", type=int, default=2)
    p = sub.add_parser("slow-aaaa-server")
    p.add_argument("--listen", required=True)
    p.add_argument("--answer-a", required=True)
    p.add_argument("--answer-aaaa", required=True)
    p.add_argument("--delay-ms", type=int, required=True)
    p = sub.add_parser("racer")
    for opt in ("iface", "server", "client", "upstream", "name", "answer-a", "answer-aaaa"):
        p.add_argument(f"--{opt}", required=True)
    a = ap.parse_args(argv)
    _refuse_outside_test_namespace(a.refuse_netns)
    if a.cmd == "rcode-server":
        rcode_server(a.listen, a.rcode, a.garbage)
    elif a.cmd == "late-server":
        late_server(a.listen, a.answer_a, a.delay_ms, a.copies)
    elif a.cmd == "slow-aaaa-server":
        slow_aaaa_server(a.listen, a.answer_a, a.answer_aaaa, a.delay_ms)
    else:
        racer(a.iface, a.server, a.client, a.upstream, a.name, a.answer_a, a.answer_aaaa)


# ====================================================================== test-side helpers

def build_driver():
    """Compile c-tests/dns/mifresolve.c when it is out of date (bed.build_driver).
    Returns its path."""
    if "MIFRESOLVE" in os.environ:
        return DRIVER
    import bed
    return bed.build_driver(DRIVER_SRC, DRIVER)


class Result:
    """What one mifresolve run printed."""

    def __init__(self, argv, proc):
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.lines = []
        for line in proc.stdout.splitlines():
            if line.strip():
                try:
                    self.lines.append(json.loads(line))
                except ValueError:
                    self.lines.append({"msg": "__bad_json__", "raw": line})

    def describe(self):
        return (f"$ {' '.join(self.argv)}\n  exit status {self.rc}\n  stdout:\n    "
                + "\n    ".join(self.stdout.splitlines()) + "\n  stderr (last 40 lines):\n    "
                + "\n    ".join(self.stderr.splitlines()[-40:]))

    def of(self, tid, msg=None):
        return [m for m in self.lines if m.get("translation_id") == tid and (msg is None or m.get("msg") == msg)]

    def addresses(self, tid=1):
        return {str(ipaddress.ip_address(m["address"])) for m in self.of(tid, "name_translation")}

    def translations(self, tid=1):
        return self.of(tid, "name_translation")

    def done(self, tid=1):
        """The single name_translation_done of tid, which must be its last message."""
        from bed import Failure
        dones = self.of(tid, "name_translation_done")
        if len(dones) != 1:
            raise Failure(f"translation {tid}: {len(dones)} name_translation_done lines (1 expected)\n"
                          + self.describe())
        mine = [m for m in self.lines if m.get("translation_id") == tid
                and m.get("msg") in ("name_translation", "name_translation_done")]
        if mine[-1] is not dones[0]:
            raise Failure(f"translation {tid}: a message after its name_translation_done\n" + self.describe())
        return dones[0]


class Dnsmasq:
    def __init__(self, proc, log, listen):
        self.proc = proc
        self.log = log
        self.listen = listen

    def text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def queries(self):
        """[(qtype, name, client)] from the --log-queries lines, in order."""
        out = []
        for line in self.text().splitlines():
            _, sep, rest = line.partition(": query[")
            if not sep:
                continue
            qtype, _, rest = rest.partition("] ")
            words = rest.split()
            if len(words) >= 3 and words[1] == "from":
                out.append((qtype, words[0].lower(), str(ipaddress.ip_address(words[2]))))
        return out

    def wait_queries(self, pred, what, count=1):
        """Wait (TIMEOUT at most) until `count` logged queries satisfy pred."""
        from bed import TIMEOUT, Failure
        deadline = time.monotonic() + TIMEOUT
        while True:
            got = [q for q in self.queries() if pred(q)]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise Failure(f"dnsmasq on {self.listen}: no {what} in its log:\n{self.text()}")
            time.sleep(0.02)


class DnsBed:
    # True: mifresolve waits with poll() on mif_fd (up to 4 out, mif_get_message reads
    # the answers: fd mode; with more, the engine); False: in mif_check_message (the
    # waiting thread reads them). See _on_fd().
    wait_fd = False

    def __init__(self, bed):
        self.bed = bed
        self.driver = build_driver()
        self._n = 0

    # -- files under the bed's root
    def conf(self, sections):
        """ROOT/etc/mif.conf from {"mif0": {"dns": "...", "search": "..."}}."""
        text = "".join(f"[{sec}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items()) + "\n"
                       for sec, kv in sections.items())
        return self.bed.write("etc/mif.conf", text)

    def hosts_file(self, text):
        return self.bed.write("etc/hosts", text)

    def tmpfile(self, stem, text):
        self._n += 1
        p = os.path.join(self.bed.tmp, f"{stem}{self._n}")
        with open(p, "w") as f:
            f.write(text)
        return p

    # -- network pieces
    def lo_addr(self, ns, addr):
        self.bed.ip(ns, "addr", "add", addr, "dev", "lo")

    def wait_listening(self, ns, addr, port=53, tcp=True, what="server"):
        """Poll `ss` in namespace ns until addr:port is bound (UDP, and TCP if tcp)."""
        from bed import TIMEOUT, Failure
        want = f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"
        deadline = time.monotonic() + TIMEOUT
        while True:
            ok = True
            for flag in (["-u"] + (["-t"] if tcp else [])):
                out = self.bed.ns_exec(ns, "ss", "-Hln", flag).stdout
                if not any(want in line.split() for line in out.splitlines()):
                    ok = False
            if ok:
                return
            if time.monotonic() > deadline:
                raise Failure(f"{what} not listening on {want} in {ns} after {TIMEOUT:g} s")
            time.sleep(0.02)

    def dnsmasq(self, ns, listen, hosts=None, extra=(), local=("example.com",), label=None):
        """dnsmasq answering on the addresses `listen` in namespace ns, from a hosts file
        made of `hosts` ({name: [addresses]}), authoritative (--local) for `local`, logging
        every query to its own file. Waits until it listens."""
        label = label or f"dnsmasq-{ns}{self._n}"
        log = os.path.join(self.bed.tmp, f"{label}.queries")
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--bind-interfaces", "--user=root", "--pid-file", "--port=53", "--log-queries", "--local-ttl=300",
                f"--log-facility={log}", "--no-negcache"]
        argv += [f"--listen-address={a}" for a in listen]
        if hosts:
            lines = "".join(f"{a} {name}\n" for name, addrs in hosts.items() for a in addrs)
            argv.append(f"--addn-hosts={self.tmpfile('hosts-' + ns, lines)}")
        argv += [f"--local=/{d}/" for d in local]
        argv += list(extra)
        proc = self.bed.spawn(ns, argv, label=label)
        for a in listen:
            self.wait_listening(ns, a, what=f"{label} ({proc.output().strip()})")
        return Dnsmasq(proc, log, listen)

    def helper(self, ns, *args, label):
        """Start `python3 dnsbed.py ARGS` in namespace ns; waits for its "ready" line."""
        from bed import TIMEOUT, Failure
        runner_netns = os.stat("/proc/self/ns/net").st_ino
        proc = self.bed.spawn(ns, [sys.executable, os.path.abspath(__file__), "--refuse-netns", runner_netns]
                              + [str(a) for a in args], label=label)
        deadline = time.monotonic() + TIMEOUT
        while '"event": "ready"' not in proc.output():
            if not proc.alive() or time.monotonic() > deadline:
                raise Failure(f"{label} did not start:\n{proc.output()}")
            time.sleep(0.02)
        return proc

    def nft(self, ns, ruleset):
        self.bed.ns_exec(ns, "nft", "-f", self.tmpfile(f"nft-{ns}", ruleset))

    def nft_counters(self, ns, family, table):
        """{rule comment: packets} of the commented rules with counters in one table."""
        out = json.loads(self.bed.ns_exec(ns, "nft", "-j", "list", "table", family, table).stdout)
        res = {}
        for item in out.get("nftables", []):
            rule = item.get("rule")
            if not rule or "comment" not in rule:
                continue
            for e in rule.get("expr", []):
                if "counter" in e:
                    res[rule["comment"]] = e["counter"]["packets"]
        return res

    # -- the driver
    def _argv(self, pvd_of, names, root=True, timeout_ms=None, tries=None, no_bindtodevice=False,
              stop_after_ms=None, stop_when_file=None, linger_ms=None, self_test=False, valgrind=False,
              learning_ms=None, drop_net_raw=False, one_by_one=False, no_cache=False, get_after_first=False,
              wait_fd=False, engine_leaves_dns=False, ask_fd=False, wait_forever=False,
              wait_ms=None):
        from bed import TIMEOUT, VALGRIND
        args = [self.driver, "--pvd-of", pvd_of, "--wait-ms", str(wait_ms or int(TIMEOUT * 3000))]
        if root:
            args += ["--root", self.bed.root]
        for opt, val in (("--timeout-ms", timeout_ms), ("--tries", tries), ("--stop-after-ms", stop_after_ms),
                         ("--stop-when-file", stop_when_file), ("--linger-ms", linger_ms),
                         ("--learning-ms", learning_ms)):
            if val is not None:
                args += [opt, str(val)]
        for opt, on in (("--no-bindtodevice", no_bindtodevice), ("--wait-fd", DnsBed.wait_fd or wait_fd),
                        ("--engine-leaves-dns", engine_leaves_dns), ("--get-after-first", get_after_first),
                        ("--ask-fd", ask_fd), ("--wait-forever", wait_forever), ("--self-test", self_test),
                        ("--one-by-one", one_by_one), ("--no-cache", no_cache)):
            if on:
                args.append(opt)
        args += list(names)
        # Without CAP_NET_RAW (as an unprivileged application): out of the bounding set,
        # so the driver runs without it although started by root.
        drop = ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"] if drop_net_raw else []
        argv = ["ip", "netns", "exec", self.bed.ns["host"]] + drop + (list(VALGRIND) if valgrind else []) + args
        self.bed.guard(argv)
        return argv

    def start(self, pvd_of, *names, env=None, expect_rc=0, **kw):
        """Start mifresolve in the host namespace without waiting; `.finish()` on the
        returned object waits for it and gives its Result (checked like resolve())."""
        from bed import TIMEOUT
        argv = self._argv(pvd_of, names, **kw)
        full_env = dict(os.environ)
        full_env.pop("MIF_CONFIG", None)
        full_env.update(env or {})
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=full_env)
        valgrind = kw.get("valgrind", False)

        class Running:
            def finish(_self):
                try:
                    out, err = proc.communicate(timeout=TIMEOUT * 6)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, err = proc.communicate()
                return self._check(argv, subprocess.CompletedProcess(argv, proc.returncode, out, err),
                                   expect_rc, valgrind)

            def kill(_self):
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()

        return Running()

    def resolve(self, pvd_of, *names, env=None, expect_rc=0, **kw):
        """Run mifresolve in the host namespace and return its Result (fails unless it
        exits with expect_rc and printed nothing unexpected)."""
        running = self.start(pvd_of, *names, env=env, expect_rc=expect_rc, **kw)
        try:
            return running.finish()
        finally:
            running.kill()

    def _check(self, argv, p, expect_rc, valgrind):
        from bed import Failure
        res = Result(argv, p)
        if p.returncode != expect_rc:
            raise Failure(f"mifresolve exit status {p.returncode} ({expect_rc} expected)"
                          + (" (99: valgrind found errors)" if valgrind and p.returncode == 99 else "")
                          + "\n" + res.describe())
        bad = [m for m in res.lines if m.get("msg") in ("__bad_json__", "engine_failed", "error")]
        if bad:
            raise Failure(f"mifresolve printed {bad}\n" + res.describe())
        return res

if __name__ == "__main__":
    main(sys.argv[1:])
