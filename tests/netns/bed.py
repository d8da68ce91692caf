"""Test bed for libmif's network-namespace end-to-end tests (python3 stdlib only).

A Bed is a context manager that builds, for one test:

    [host ns]  lo + mif0 ==veth== gw0 [net A ns]  198.51.100.0/24  fd6d:6966:a::/64
                    mif1 ==veth== gw1 [net B ns]  203.0.113.0/24   fd6d:6966:b::/64
               (router .1 / ::1, host .2 / ::2 nodad)

with a unique per-run prefix, runs `build/mifctl monitor --json` in the host namespace
as a child process (a reader thread parses its JSON lines), and on exit kills every
process it started (by PID, then waits) and deletes every namespace it created, also on
exceptions, Ctrl-C, SIGTERM (see run.py) and at interpreter exit.

Safety: every command that can change network state goes through Bed.run(), which
refuses (raises Refused) anything that is not `ip netns exec <ours> ...`, `ip -n <ours> ...`
or `ip netns add|del <ours>`, any `netns NAME` argument naming a namespace that is not
ours, and any IP address outside the allowed test ranges (also inside -batch files).
"""

import atexit
import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MIFCTL = os.environ.get("MIFCTL", os.path.join(ROOT, "build", "mifctl"))

# Every wait uses this only to fail instead of hanging; nothing asserts on durations.
TIMEOUT = float(os.environ.get("NETNS_TIMEOUT", "10"))

ALLOWED_NETS = tuple(ipaddress.ip_network(n) for n in (
    "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "fd6d:6966::/32"))
# This machine's real uplink: never, whatever else is allowed.
FORBIDDEN_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "fd00::/64"))

# Barrier addresses (added to and removed from the host's lo by Mifctl.sync()).
BARRIER_NET = ipaddress.ip_network("198.19.255.0/24")

NETWORKS = (
    dict(key="a", v4="198.51.100.0/24", router4="198.51.100.1", host4="198.51.100.2",
         v6="fd6d:6966:a::/64", router6="fd6d:6966:a::1", host6="fd6d:6966:a::2"),
    dict(key="b", v4="203.0.113.0/24", router4="203.0.113.1", host4="203.0.113.2",
         v6="fd6d:6966:b::/64", router6="fd6d:6966:b::1", host6="fd6d:6966:b::2"),
)

ADDR_MSGS = ("address_announcement", "no_address_announcement")
PVD_MSGS = ("pvd_announcement", "no_pvd_announcement")
IF_MSGS = ("interface_announcement", "no_interface_announcement")


class Refused(Exception):
    """The guard refused a command or an address plan."""


class Failure(AssertionError):
    """A test expectation did not hold."""


def bed_options(**kw):
    """Decorator: options for the Bed a test runs in, e.g. @bed_options(nets=2)."""
    def deco(fn):
        fn.bed_options = kw
        return fn
    return deco


# ---------------------------------------------------------------- addresses

def norm_addr(text):
    """Canonical text of an address ("fe80::1%3" -> "fe80::1"); None stays None."""
    if text is None:
        return None
    try:
        return ipaddress.ip_address(str(text).split("%")[0]).compressed
    except ValueError:
        return str(text)


def check_allowed(token):
    """Raise Refused if token is an IP address/prefix outside the allowed ranges."""
    t = str(token)
    if "/" in t:
        try:
            net = ipaddress.ip_interface(t).network
            addr = ipaddress.ip_interface(t).ip
        except ValueError:
            return
    else:
        try:
            addr = ipaddress.ip_address(t)
        except ValueError:
            return
        net = ipaddress.ip_network(addr)
    for bad in FORBIDDEN_NETS:
        if addr.version == bad.version and (addr in bad or net.overlaps(bad)):
            raise Refused(f"address {t} is in the forbidden range {bad}")
    for ok in ALLOWED_NETS:
        if addr.version == ok.version and addr in ok:
            return
    raise Refused(f"address {t} is outside the allowed test ranges "
                  f"{', '.join(str(n) for n in ALLOWED_NETS)}")


def is_link_scope(m):
    s = m.get("scope")
    return s in ("link", 2)


# ---------------------------------------------------------------- message formatting

def fmt(m):
    """One line describing a mifctl message."""
    t = m.get("msg")
    if t == "__bad_json__":
        return f"BAD LINE {m.get('raw')!r}"
    parts = [str(t)]
    if "ifindex" in m or "ifname" in m:
        parts.append(f"if={m.get('ifindex')}:{m.get('ifname')}")
    if t in PVD_MSGS or t in ADDR_MSGS:
        parts.append(f"pvd={m.get('pvd')}:{m.get('pvd_name')}")
    if t in ADDR_MSGS:
        parts.append(f"{m.get('address')}/{m.get('prefix_len')} {m.get('family')} "
                     f"scope={m.get('scope')} flags={m.get('flags')} "
                     f"valid={m.get('valid_lifetime')} pref={m.get('preferred_lifetime')}")
    if t in IF_MSGS and "link_flags" in m:
        parts.append(f"link_flags={m.get('link_flags')}")
    extra = {k: v for k, v in m.items() if k not in (
        "msg", "ifindex", "ifname", "pvd", "pvd_name", "family", "address", "prefix_len",
        "scope", "flags", "valid_lifetime", "preferred_lifetime", "link_flags")}
    if extra:
        parts.append(json.dumps(extra, sort_keys=True))
    return " ".join(parts)


def fmt_matcher(x):
    if callable(x):
        return getattr(x, "__doc__", None) or getattr(x, "__name__", "predicate")
    return " ".join(f"{k}={v}" for k, v in x.items())


def matches(m, matcher):
    """A matcher is a dict (every key must be present and equal; "address" compared
    canonically) or a callable predicate."""
    if callable(matcher):
        return bool(matcher(m))
    for k, v in matcher.items():
        if k not in m:
            return False
        if k == "address":
            if norm_addr(m[k]) != norm_addr(v):
                return False
        elif m[k] != v:
            return False
    return True


def _bucket(m):
    return (m.get("msg"), m.get("ifindex"), m.get("pvd_name"), norm_addr(m.get("address")))


def _matcher_bucket(x):
    """The bucket a dict matcher can only match in, or None (then: look everywhere)."""
    if callable(x) or "msg" not in x or "ifindex" not in x:
        return None
    t = x["msg"]
    if (t in PVD_MSGS or t in ADDR_MSGS) and "pvd_name" not in x:
        return None
    if t in ADDR_MSGS and "address" not in x:
        return None
    return _bucket(x)


def multiset_match(got, expected):
    """Assign each expected matcher to a distinct message (bipartite matching, Kuhn's
    augmenting paths, iterative); return the messages in matcher order, or None."""
    n = len(expected)
    if len(got) != n:
        return None
    buckets = {}
    for j, m in enumerate(got):
        buckets.setdefault(_bucket(m), []).append(j)
    cand = []
    for x in expected:
        b = _matcher_bucket(x)
        pool = buckets.get(b, []) if b is not None else range(n)
        cand.append([j for j in pool if matches(got[j], x)])
    owner = [None] * n          # message j -> matcher i
    for i0 in range(n):
        if not cand[i0]:
            return None
        # DFS for an augmenting path from matcher i0, with an explicit stack.
        seen = set()
        stack = [(i0, iter(cand[i0]))]
        path = []               # (matcher, message) edges taken
        found = False
        while stack and not found:
            i, it = stack[-1]
            for j in it:
                if j in seen:
                    continue
                seen.add(j)
                path.append((i, j))
                if owner[j] is None:
                    found = True
                else:
                    stack.append((owner[j], iter(cand[owner[j]])))
                break
            else:
                stack.pop()
                if path:
                    path.pop()
        if not found:
            return None
        for i, j in path:
            owner[j] = i
    pick = [None] * n
    for j, i in enumerate(owner):
        pick[i] = j
    return [got[pick[i]] for i in range(n)]


# ---------------------------------------------------------------- stream checks

def addr_attrs(m):
    return (m.get("family"), m.get("prefix_len"), m.get("scope"),
            tuple(sorted(m.get("flags") or [])), m.get("valid_lifetime"),
            m.get("preferred_lifetime"))


def stream_problems(msgs):
    """Protocol invariants of one mifctl stream (a list of messages). Returns a list of
    strings (empty = fine):
    - interfaces: announced again only with a new name (rename); No Interface only for
      an announced interface whose PvDs are all gone; nothing about it afterwards;
    - every message carries the interface's announced name, and PvD and address messages
      the PvD's announced name;
    - PvDs: only on an announced interface; announced again only with a new name; No
      PvD only for an announced PvD whose addresses are all gone; a PvD id always
      belongs to the same (ifindex, family), and that pair always has the same id;
    - addresses: only for an announced PvD, of the PvD's family, never link scope;
      no announcement identical to the one already standing (updates must change
      something); No Address only for an announced address;
    - no engine_failed, no unparsable lines."""
    probs = []
    ifaces = {}        # ifindex -> name
    gone = set()       # ifindex with a No Interface
    pvds = {}          # pvd id -> (ifindex, family, name)
    pvd_owner = {}     # pvd id -> (ifindex, family), over the whole stream
    owner_pvd = {}     # (ifindex, family) -> pvd id
    addrs = {}         # (pvd, addr) -> attrs

    for i, m in enumerate(msgs):
        t = m.get("msg")
        where = f"#{i} {fmt(m)}"
        idx = m.get("ifindex")
        if t == "__bad_json__":
            probs.append(f"{where}: not a JSON object")
            continue
        if t == "engine_failed":
            probs.append(f"{where}: engine failed")
            continue
        if idx in gone:
            probs.append(f"{where}: message about ifindex {idx} after its No Interface")
        if t != "interface_announcement" and idx in ifaces and m.get("ifname") != ifaces[idx]:
            probs.append(f"{where}: ifname differs from the interface's announced name {ifaces[idx]!r}")
        p = m.get("pvd")
        if t in ("no_pvd_announcement",) + ADDR_MSGS and p in pvds and m.get("pvd_name") != pvds[p][2]:
            probs.append(f"{where}: pvd_name differs from the PvD's announced name {pvds[p][2]!r}")
        if t == "interface_announcement":
            if idx in ifaces and ifaces[idx] == m.get("ifname"):
                probs.append(f"{where}: interface announced again with the same name")
            ifaces[idx] = m.get("ifname")
        elif t == "no_interface_announcement":
            if idx not in ifaces:
                probs.append(f"{where}: No Interface for an interface not announced")
            left = [p for p, v in pvds.items() if v[0] == idx]
            if left:
                probs.append(f"{where}: No Interface while its PvDs {left} are still announced")
            ifaces.pop(idx, None)
            gone.add(idx)
        elif t in PVD_MSGS:
            p = m.get("pvd")
            key = (idx, m.get("family"))
            if pvd_owner.setdefault(p, key) != key:
                probs.append(f"{where}: pvd id {p} was first used for {pvd_owner[p]}")
            if owner_pvd.setdefault(key, p) != p:
                probs.append(f"{where}: {key} had pvd id {owner_pvd[key]} before")
            if t == "pvd_announcement":
                if idx not in ifaces:
                    probs.append(f"{where}: PvD on an interface not announced")
                if p in pvds and pvds[p][2] == m.get("pvd_name"):
                    probs.append(f"{where}: PvD announced again with the same name")
                pvds[p] = (idx, m.get("family"), m.get("pvd_name"))
            else:
                if p not in pvds:
                    probs.append(f"{where}: No PvD for a PvD not announced")
                left = [a for (q, a) in addrs if q == p]
                if left:
                    probs.append(f"{where}: No PvD while addresses {left} are still announced")
                pvds.pop(p, None)
        elif t in ADDR_MSGS:
            p = m.get("pvd")
            key = (p, norm_addr(m.get("address")))
            if t == "address_announcement":
                if p not in pvds:
                    probs.append(f"{where}: address of a PvD not announced")
                elif pvds[p][1] != m.get("family") or pvds[p][0] != idx:
                    probs.append(f"{where}: address family/ifindex differs from its PvD {pvds[p]}")
                if is_link_scope(m) or (norm_addr(m.get("address")) or "").startswith("fe80:"):
                    probs.append(f"{where}: link-local address announced")
                if addrs.get(key) == addr_attrs(m):
                    probs.append(f"{where}: duplicate announcement (identical attributes)")
                addrs[key] = addr_attrs(m)
            else:
                if key not in addrs:
                    probs.append(f"{where}: No Address for an address not announced")
                addrs.pop(key, None)
        else:
            probs.append(f"{where}: unknown message type")
    return probs


def subscriber_view(msgs, ignore=None):
    """What a subscriber knows after these messages, keyed so that two contexts (whose
    PvD ids may differ) compare: interfaces {ifindex: name}, PvDs {(ifindex, family):
    name}, addresses {(ifindex, address): (prefix_len, scope, flags)}. Lifetimes are
    left out (they count down)."""
    ifaces, pvds, addrs = {}, {}, {}
    for m in msgs:
        if ignore is not None and ignore(m):
            continue
        t, idx = m.get("msg"), m.get("ifindex")
        if t == "interface_announcement":
            ifaces[idx] = m.get("ifname")
        elif t == "no_interface_announcement":
            ifaces.pop(idx, None)
        elif t == "pvd_announcement":
            pvds[(idx, m.get("family"))] = m.get("pvd_name")
        elif t == "no_pvd_announcement":
            pvds.pop((idx, m.get("family")), None)
        elif t == "address_announcement":
            addrs[(idx, norm_addr(m.get("address")))] = (
                m.get("prefix_len"), m.get("scope"), tuple(sorted(m.get("flags") or [])))
        elif t == "no_address_announcement":
            addrs.pop((idx, norm_addr(m.get("address"))), None)
    return {"interfaces": ifaces, "pvds": pvds, "addresses": addrs}


def diff_views(have, want):
    out = []
    for part in ("interfaces", "pvds", "addresses"):
        h, w = have[part], want[part]
        for k in sorted(set(h) | set(w), key=str):
            if h.get(k) != w.get(k):
                out.append(f"{part} {k}: subscriber has {h.get(k)!r}, a fresh subscription {w.get(k)!r}")
    return out


def replay_addresses(msgs):
    """ifindex -> {(address, prefix_len)} after applying every address message."""
    live = {}
    for m in msgs:
        t = m.get("msg")
        if t not in ADDR_MSGS:
            continue
        key = (m.get("ifindex"), norm_addr(m.get("address")))
        if t == "address_announcement":
            live[key] = m.get("prefix_len")
        else:
            live.pop(key, None)
    out = {}
    for (idx, a), plen in live.items():
        out.setdefault(idx, set()).add((a, plen))
    return out


# ---------------------------------------------------------------- mifctl child

class Mifctl:
    """build/mifctl monitor --json running in the bed's host namespace."""

    def __init__(self, bed, args, env, label):
        self.bed = bed
        self.label = label
        self.argv = ["ip", "netns", "exec", bed.ns["host"], MIFCTL, "monitor", "--json"] + list(args)
        bed.guard(self.argv)
        full_env = dict(os.environ)
        full_env.pop("MIF_LOG", None)
        full_env.update(env or {})
        self.msgs = []
        self.stderr = []
        self.cond = threading.Condition()
        self.eof = False
        self.pos = 0          # next message the test has not consumed
        self.killed = False   # needed SIGKILL at stop
        self.stopped = False
        # start_new_session: a Ctrl-C in the terminal reaches only the runner, which
        # then stops this child itself (by PID).
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env, start_new_session=True)
        self.pid = self.proc.pid   # `ip netns exec` execs mifctl: same PID
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out.start()
        self._t_err.start()

    # -- readers
    def _read_out(self):
        try:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if not line.strip():
                    continue
                try:
                    m = json.loads(line)
                    if not isinstance(m, dict):
                        raise ValueError
                except ValueError:
                    m = {"msg": "__bad_json__", "raw": line}
                with self.cond:
                    self.msgs.append(m)
                    self.cond.notify_all()
        finally:
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def _read_err(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.stderr.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self.cond.notify_all()

    def stderr_text(self):
        with self.cond:
            return "\n".join(self.stderr)

    # -- process control
    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def state(self):
        """Process state letter from /proc (R, S, T, Z, ...)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "?"

    def pause(self):
        """SIGSTOP and wait until the whole process is stopped."""
        self.signal(signal.SIGSTOP)
        deadline = time.monotonic() + TIMEOUT
        while self.state() != "T":
            if time.monotonic() > deadline:
                raise Failure(f"{self.label}: not stopped after SIGSTOP (state {self.state()})")
            time.sleep(0.01)

    def resume(self):
        self.signal(signal.SIGCONT)

    def stop(self, timeout=TIMEOUT):
        """SIGCONT + SIGTERM, wait; SIGKILL if it does not exit. Idempotent."""
        if self.stopped:
            return
        p = self.proc
        if p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGCONT)
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                p.kill()
                p.wait()
        self.stopped = True
        self._t_out.join(5)
        self._t_err.join(5)
        for f in (p.stdout, p.stderr):
            try:
                f.close()
            except OSError:
                pass

    # -- waiting
    def _fail(self, text):
        raise Failure(f"{self.label}: {text}")

    def _wait_index(self, start, pred, what, timeout=None, skip=None):
        """Index of the first message at or after `start` matching pred. Barrier
        messages are passed over; any other non-matching message before it must
        satisfy `skip`, else this fails."""
        timeout = TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        i = start
        def desc():             # `what` may be a callable: built only on failure
            return what() if callable(what) else what
        with self.cond:
            while True:
                while i < len(self.msgs):
                    m = self.msgs[i]
                    if matches(m, pred):
                        return i
                    if not (self.bed.is_noise(m) or (skip is not None and skip(m))):
                        self._fail(f"while waiting for {desc()}: unexpected message #{i} {fmt(m)}")
                    i += 1
                if self.eof:
                    rc = self.proc.poll()
                    self._fail(f"mifctl closed its output (exit status {rc}) while waiting for {desc()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"no {desc()} within {timeout:g} s")
                self.cond.wait(left)

    def expect(self, matcher, timeout=None, skip=None, what=None):
        """The next message (barriers aside; messages satisfying `skip` passed over)
        must match. Returns it and consumes it."""
        what = what or fmt_matcher(matcher)
        i = self._wait_index(self.pos, matcher, what, timeout, skip)
        self.pos = i + 1
        return self.msgs[i]

    def take(self, n, timeout=None, what="messages"):
        """The next n messages (barriers aside), consumed."""
        out = []
        timeout = TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = max(0.0, deadline - time.monotonic())
            try:
                i = self._wait_index(self.pos, lambda m: not self.bed.is_noise(m),
                                     lambda: f"{what} ({len(out)} of {n} received: "
                                     f"{[fmt(x) for x in out]})", left)
            except Failure:
                raise
            out.append(self.msgs[i])
            self.pos = i + 1
        return out

    def expect_phase(self, expected, timeout=None, what="phase"):
        """The next len(expected) messages, in any order, must match the matchers
        one to one. Returns the messages in matcher order."""
        got = self.take(len(expected), timeout, what=what)
        res = multiset_match(got, expected)
        if res is None:
            self._fail(f"{what}: got\n    " + "\n    ".join(fmt(m) for m in got) +
                       "\n  expected (any order)\n    " +
                       "\n    ".join(fmt_matcher(e) for e in expected))
        return res

    def expect_phases(self, phases, timeout=None, what="sequence"):
        """Phases in this order; inside a phase any order (see expect_phase)."""
        out = []
        for k, ph in enumerate(phases):
            out.append(self.expect_phase(ph, timeout, what=f"{what}, phase {k + 1}/{len(phases)}"))
        return out

    def expect_sequence(self, matchers, timeout=None, what="sequence"):
        """The next messages must match these matchers, in this exact order."""
        return [ph[0] for ph in self.expect_phases([[x] for x in matchers], timeout, what)]

    def sync(self, rounds=2):
        """Barrier: every message caused by a change made before this call (and the
        cascade of subscriptions mifctl posts for them, two levels deep) has been
        received when this returns. Adds then removes a barrier address on lo,
        `rounds` times, waiting for each message; barrier messages are noise."""
        for _ in range(rounds):
            a = self.bed.next_barrier()
            self.bed.ip("host", "addr", "add", f"{a}/32", "dev", "lo")
            self._wait_index(self.pos, lambda m, a=a: m.get("msg") == "address_announcement"
                             and norm_addr(m.get("address")) == a, f"barrier {a}",
                             skip=lambda m: True)
            self.bed.ip("host", "addr", "del", f"{a}/32", "dev", "lo")
            self._wait_index(self.pos, lambda m, a=a: m.get("msg") == "no_address_announcement"
                             and norm_addr(m.get("address")) == a, f"barrier {a} removal",
                             skip=lambda m: True)

    def pending(self):
        """Unconsumed non-barrier messages."""
        with self.cond:
            return [m for m in self.msgs[self.pos:] if not self.bed.is_noise(m)]

    def expect_quiet(self, what="nothing more"):
        """After a barrier, no unconsumed message may be left."""
        self.sync()
        left = self.pending()
        if left:
            self._fail(f"expected {what}, but got\n    " + "\n    ".join(fmt(m) for m in left))
        with self.cond:
            self.pos = len(self.msgs)

    def expect_initial(self):
        """The initial iteration must be exactly what the host namespace holds now
        (interfaces; PvDs of up+running interfaces; their non-link-local addresses),
        in an order that respects interface -> PvD -> address, then quiet."""
        exp = self.bed.expected_initial()
        got = self.expect_phase(exp, what="initial iteration")
        probs = stream_problems(self.msgs[:self.pos])
        if probs:
            self._fail("initial iteration: " + "; ".join(probs))
        self.expect_quiet("nothing after the initial iteration")
        return got

    def pvd_id(self, pvd_name):
        """The id of the last PvD announcement with this name."""
        with self.cond:
            for m in reversed(self.msgs):
                if m.get("msg") == "pvd_announcement" and m.get("pvd_name") == pvd_name:
                    return m.get("pvd")
        self._fail(f"no pvd_announcement for {pvd_name}")

    def messages(self):
        with self.cond:
            return list(self.msgs)

    def describe(self, limit=120):
        """Failure detail: command, status, messages (head and tail), stderr tail."""
        with self.cond:
            msgs = list(self.msgs)
            err = list(self.stderr)
        rc = self.proc.poll()
        lines = [f"  [{self.label}] {' '.join(self.argv)}  (pid {self.pid}, "
                 f"{'running' if rc is None else 'exit status ' + str(rc)}"
                 f"{', needed SIGKILL' if self.killed else ''}), "
                 f"{len(msgs)} messages, {self.pos} consumed:"]
        shown = list(enumerate(msgs))
        if len(shown) > limit:
            head, tail = shown[:limit // 3], shown[-(limit - limit // 3):]
            shown = head + [(None, f"... {len(msgs) - len(head) - len(tail)} more ...")] + tail
        for i, m in shown:
            lines.append(f"    {m}" if i is None else
                         f"    {'>' if i == self.pos else ' '}#{i} {fmt(m)}"
                         f"{'  (barrier)' if self.bed.is_noise(m) else ''}")
        if err:
            lines.append(f"  [{self.label}] stderr ({len(err)} lines, last 30):")
            lines += [f"    {e}" for e in err[-30:]]
        return "\n".join(lines)


# ---------------------------------------------------------------- the bed

_LIVE = set()
_SEQ = [0]


def _cleanup_all():
    for bed in list(_LIVE):
        try:
            bed.close()
        except Exception as e:  # at exit: report, go on
            print(f"netns cleanup: {e}", file=sys.stderr)


atexit.register(_cleanup_all)


class Bed:
    def __init__(self, nets=1):
        if not 0 <= nets <= len(NETWORKS):
            raise Refused(f"at most {len(NETWORKS)} networks")
        _SEQ[0] += 1
        self.prefix = f"mif{os.getpid()}{random.randrange(16 ** 4):04x}{_SEQ[0]}"
        self.nets = [dict(n, index=i, mif=f"mif{i}", gw=f"gw{i}") for i, n in enumerate(NETWORKS[:nets])]
        self.ns = {"host": f"{self.prefix}-host"}
        for n in self.nets:
            self.ns[n["key"]] = f"{self.prefix}-{n['key']}"
        self._ours = set(self.ns.values())
        self._created = []
        self.procs = []
        self._barrier = 0
        self._closed = False
        self.tmp = None
        # Refuse to start if any address in the plan is outside the allowed ranges.
        for n in self.nets:
            for k in ("v4", "router4", "host4", "v6", "router6", "host6"):
                check_allowed(n[k])
        check_allowed(str(BARRIER_NET))

    # -- context manager
    def __enter__(self):
        _LIVE.add(self)
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- guard and commands
    def guard(self, argv):
        """Raise Refused unless argv is `ip netns exec OURS ...`, `ip -n OURS ...` or
        `ip netns add|del OURS`, every `netns X` names one of ours, and every address
        (also in a -batch file) is in the allowed ranges."""
        argv = [str(a) for a in argv]
        if len(argv) < 3 or os.path.basename(argv[0]) != "ip":
            raise Refused(f"not an ip command: {argv}")
        if argv[1:3] == ["netns", "exec"] and len(argv) > 4:
            ns, rest = argv[3], argv[4:]
        elif argv[1] == "-n" and len(argv) > 3:
            ns, rest = argv[2], argv[3:]
        elif argv[1:3] in (["netns", "add"], ["netns", "del"]) and len(argv) == 4:
            ns, rest = argv[3], []
        else:
            raise Refused(f"command not confined to a test namespace: {' '.join(argv)}")
        if ns not in self._ours:
            raise Refused(f"namespace {ns!r} is not one of this bed's {sorted(self._ours)}")
        self._check_tokens(rest)
        if "-batch" in rest or "-b" in rest:
            k = rest.index("-batch") if "-batch" in rest else rest.index("-b")
            with open(rest[k + 1]) as f:
                for line in f:
                    toks = line.split()
                    if toks and toks[0] == "netns":
                        raise Refused(f"netns command in a batch file: {line.strip()}")
                    self._check_tokens(toks)

    def _check_tokens(self, toks):
        for i, tok in enumerate(toks):
            if i > 0 and toks[i - 1] == "netns" and tok not in self._ours:
                raise Refused(f"netns {tok!r} is not one of ours")
            check_allowed(tok)

    def run(self, argv, check=True, timeout=120):
        """Run a guarded command; raise Failure on a non-zero status if check."""
        argv = [str(a) for a in argv]
        self.guard(argv)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise Failure(f"command failed (status {p.returncode}): {' '.join(argv)}\n"
                          f"{p.stdout}{p.stderr}".rstrip())
        return p

    def ip(self, ns, *args, check=True):
        """`ip -n <our namespace ns> args...`; ns is a key ("host", "a", "b")."""
        return self.run(["ip", "-n", self.ns[ns]] + [str(a) for a in args], check=check)

    def ns_exec(self, ns, *cmd, check=True):
        return self.run(["ip", "netns", "exec", self.ns[ns]] + [str(c) for c in cmd], check=check)

    def ip_json(self, ns, *args):
        return json.loads(self.run(["ip", "-n", self.ns[ns], "-j"] + [str(a) for a in args]).stdout or "[]")

    def ip_batch(self, ns, lines):
        """Run `ip -n NS -batch FILE` with these command lines (checked like commands)."""
        path = os.path.join(self.tmp, f"batch{self._barrier}_{random.randrange(1 << 30)}")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.run(["ip", "-n", self.ns[ns], "-batch", path])

    # -- setup / teardown
    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix=self.prefix + "-")
        for key in ["host"] + [n["key"] for n in self.nets]:
            name = self.ns[key]
            self._created.append(name)   # recorded first: deleted even if add half-failed
            self.run(["ip", "netns", "add", name])
            self.ip(key, "link", "set", "lo", "up")
        for n in self.nets:
            k, mif, gw = n["key"], n["mif"], n["gw"]
            plen4 = ipaddress.ip_network(n["v4"]).prefixlen
            plen6 = ipaddress.ip_network(n["v6"]).prefixlen
            # Both ends placed in one step; the command itself runs inside the host ns.
            self.ip("host", "link", "add", mif, "type", "veth", "peer", "name", gw, "netns", self.ns[k])
            self.ip(k, "addr", "add", f"{n['router4']}/{plen4}", "dev", gw)
            self.ip(k, "addr", "add", f"{n['router6']}/{plen6}", "dev", gw, "nodad")
            self.ns_exec(k, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
                         f"net.ipv6.conf.{gw}.accept_dad=0", f"net.ipv6.conf.{gw}.keep_addr_on_down=1")
            self.ip(k, "link", "set", gw, "up")
            self.ip("host", "addr", "add", f"{n['host4']}/{plen4}", "dev", mif)
            self.ip("host", "addr", "add", f"{n['host6']}/{plen6}", "dev", mif, "nodad")
            self.ip("host", "link", "set", mif, "up")
        for n in self.nets:
            self.wait_running(n["mif"])

    def close(self):
        """Stop every process we started (by PID), delete every namespace we created."""
        if self._closed:
            return
        errors = []
        for mc in self.procs:
            try:
                mc.stop()
            except Exception as e:
                errors.append(f"stopping {mc.label} (pid {mc.pid}): {e}")
        # Each step is idempotent: if interrupted, atexit finishes the job.
        while self._created:
            name = self._created[-1]
            if os.path.exists(f"/run/netns/{name}"):
                try:
                    self.run(["ip", "netns", "del", name])
                except Exception as e:
                    errors.append(f"deleting namespace {name}: {e}")
            self._created.pop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._closed = True
        _LIVE.discard(self)
        if errors:
            raise Failure("teardown: " + "; ".join(errors))

    # -- helpers for tests
    def start_mifctl(self, *args, env=None, label=None):
        if not os.access(MIFCTL, os.X_OK):
            raise Failure(f"{MIFCTL} does not exist or is not executable (run `make build/mifctl`)")
        mc = Mifctl(self, args, env, label or f"mifctl{len(self.procs) + 1}")
        self.procs.append(mc)
        return mc

    def next_barrier(self):
        self._barrier += 1
        if self._barrier > 250:
            raise Failure("too many barriers in one test")
        return str(BARRIER_NET.network_address + self._barrier)

    def is_noise(self, m):
        """A barrier message (see Mifctl.sync)."""
        if m.get("msg") not in ADDR_MSGS or m.get("ifname") != "lo":
            return False
        try:
            return ipaddress.ip_address(norm_addr(m.get("address"))) in BARRIER_NET
        except ValueError:
            return False

    def link(self, ifname, ns="host"):
        """`ip -j link show` entry of one interface."""
        res = self.ip_json(ns, "link", "show", "dev", ifname)
        if not res:
            raise Failure(f"no interface {ifname} in {ns}")
        return res[0]

    def ifindex(self, ifname, ns="host"):
        return self.link(ifname, ns)["ifindex"]

    def wait_running(self, ifname, ns="host"):
        """Poll until operstate is UP (carrier; RUNNING), TIMEOUT at most."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.link(ifname, ns).get("operstate") == "UP":
                return
            if time.monotonic() > deadline:
                raise Failure(f"{ifname} in {ns} not running after {TIMEOUT:g} s: {self.link(ifname, ns)}")
            time.sleep(0.02)

    def kernel_state(self, ns="host"):
        """[(ifindex, ifname, running, [(family, address, prefixlen, scope)])] from ip -j."""
        out = []
        for link in self.ip_json(ns, "addr", "show"):
            flags = link.get("flags", [])
            running = "UP" in flags and link.get("operstate") in ("UP", "UNKNOWN")
            addrs = [("ipv4" if a["family"] == "inet" else "ipv6", norm_addr(a["local"]),
                      a["prefixlen"], a.get("scope"))
                     for a in link.get("addr_info", []) if a.get("family") in ("inet", "inet6")]
            out.append((link["ifindex"], link["ifname"], running, addrs))
        return out

    def kernel_addresses(self, ns="host"):
        """ifindex -> {(address, prefixlen)}: what mifctl should have announced
        (non-link-scope addresses of up+running interfaces)."""
        res = {}
        for idx, _name, running, addrs in self.kernel_state(ns):
            if not running:
                continue
            s = {(a, p) for _f, a, p, scope in addrs if scope != "link"}
            if s:
                res[idx] = s
        return res

    def expected_initial(self, ns="host"):
        """Matchers for a full initial iteration of the host namespace as it is now."""
        exp = []
        for idx, name, running, addrs in self.kernel_state(ns):
            exp.append(dict(msg="interface_announcement", ifindex=idx, ifname=name))
            if not running:
                continue
            for fam in ("ipv4", "ipv6"):
                mine = [a for a in addrs if a[0] == fam and a[3] != "link"]
                if not mine:
                    continue
                pname = f"{name}/{fam}"
                exp.append(dict(msg="pvd_announcement", ifindex=idx, ifname=name,
                                pvd_name=pname, family=fam))
                for _f, a, p, _s in mine:
                    exp.append(dict(msg="address_announcement", ifindex=idx, ifname=name,
                                    pvd_name=pname, family=fam, address=a, prefix_len=p))
        return exp

    def final_checks(self):
        """Run after a test passed: for each mifctl still running, a barrier, the stream
        invariants, the replayed address set equal to the kernel's, and its view equal
        to that of a fresh mifctl started now; then each
        must exit with status 0 on SIGTERM (no crash, no SIGKILL)."""
        problems = []
        running = []
        for mc in self.procs:
            if mc.stopped:
                continue
            if mc.proc.poll() is not None:
                problems.append(f"{mc.label}: exited early with status {mc.proc.returncode}")
                continue
            running.append(mc)
            mc.sync()
            msgs = mc.messages()
            problems += [f"{mc.label}: {p}" for p in stream_problems(msgs)]
            want = self.kernel_addresses()
            have = replay_addresses(msgs)
            if want != have:
                problems.append(f"{mc.label}: announced addresses differ from the kernel's: "
                                f"{diff_sets(have, want)}")
        if running:
            # Each subscriber must know what a fresh subscription reports now.
            fresh = self.start_mifctl(label="fresh")
            try:
                fresh.expect_initial()
                want = subscriber_view(fresh.messages(), self.is_noise)
                for mc in running:
                    d = diff_views(subscriber_view(mc.messages(), self.is_noise), want)
                    if d:
                        problems.append(f"{mc.label}: view differs from a fresh subscription's:\n    "
                                        + "\n    ".join(d[:20]))
            except Failure as e:
                problems.append(f"fresh subscription: {e}")
        for mc in self.procs:
            if mc.stopped:
                continue
            mc.stop()
            rc = mc.proc.returncode
            if mc.killed:
                problems.append(f"{mc.label}: did not exit on SIGTERM (killed)")
            elif rc != 0:
                problems.append(f"{mc.label}: exit status {rc} after SIGTERM (0 expected)")
        if problems:
            raise Failure("final checks:\n  " + "\n  ".join(problems))


def diff_sets(have, want):
    """Readable difference of two ifindex -> set dicts."""
    out = []
    for idx in sorted(set(have) | set(want)):
        h, w = have.get(idx, set()), want.get(idx, set())
        missing, extra = sorted(w - h), sorted(h - w)
        if missing or extra:
            out.append(f"ifindex {idx}: missing {missing[:10]}{'...' if len(missing) > 10 else ''}"
                       f" ({len(missing)}), extra {extra[:10]}{'...' if len(extra) > 10 else ''}"
                       f" ({len(extra)})")
    return "; ".join(out) or "(none)"


# ---------------------------------------------------------------- matchers for tests

def iface(ifindex, ifname, gone=False):
    return dict(msg="no_interface_announcement" if gone else "interface_announcement",
                ifindex=ifindex, ifname=ifname)


def pvd(ifindex, ifname, family, gone=False, **kw):
    """PvD matcher; pass pvd=ID to pin the id."""
    return dict(msg="no_pvd_announcement" if gone else "pvd_announcement", ifindex=ifindex,
                ifname=ifname, pvd_name=f"{ifname}/{family}", family=family, **kw)


def addr(ifindex, ifname, address, prefix_len, gone=False, **kw):
    """Address matcher; the family and PvD name follow from the address."""
    fam = "ipv4" if ipaddress.ip_address(address).version == 4 else "ipv6"
    return dict(msg="no_address_announcement" if gone else "address_announcement",
                ifindex=ifindex, ifname=ifname, pvd_name=f"{ifname}/{fam}", family=fam,
                address=address, prefix_len=prefix_len, **kw)


def check(cond, text):
    if not cond:
        raise Failure(text)
