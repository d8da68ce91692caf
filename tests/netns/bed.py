"""Test bed for libmif's network-namespace end-to-end tests (python3 stdlib only).

A Bed is a context manager that builds, for one test:

    [host ns]  lo + mif0 ==veth== gw0 [net A ns]  198.51.100.0/24  fd6d:6966:a::/64
                    mif1 ==veth== gw1 [net B ns]  203.0.113.0/24   fd6d:6966:b::/64
               (router .1 / ::1, host .2 / ::2 nodad)

with a unique per-run prefix, runs `build/mifctl monitor --json` in the host namespace
as a child process (a reader thread parses its JSON lines), and on exit kills every
process it started (by PID, then waits) and deletes every namespace it created, also on
exceptions, Ctrl-C, SIGTERM (see run.py) and at interpreter exit.

Each bed also has its own root directory (`bed.root`, a temp dir removed at teardown)
that mifctl gets with `--root` (when it has that option), so the library reads its
state files, static file and resolv.conf there and never the machine's /run or /etc;
`bed.write()`/`bed.remove()` change files only under it. Daemons (radvd, dnsmasq,
udhcpc...) are started with `bed.spawn()` as our children inside our namespaces and
stopped by PID at teardown.

Safety: every command that can change network state goes through Bed.run(), which
refuses (raises Refused) anything that is not `ip netns exec <ours> ...`, `ip -n <ours> ...`
or `ip netns add|del <ours>`, any `netns NAME` argument naming a namespace that is not
ours, and any IP address outside the allowed test ranges (also inside -batch files).
"""

import atexit
import glob
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
ELEM_MSGS = ("config_element_announcement", "no_config_element_announcement")
DATA_MSGS = ("configuration_data", "no_configuration_data")
ELEMENT_TYPES = ("ra", "dhcpv4", "dhcpv6", "static", "system")
# Element types tied to one family (docs/configuration.md); static and system go to both.
ELEMENT_FAMILY = {"ra": "ipv6", "dhcpv6": "ipv6", "dhcpv4": "ipv4"}
# Keys of an element message compared as lists of addresses.
ADDR_LIST_KEYS = ("dns_servers", "routers")
# The resolv.conf fragment directory the file barrier (Mifctl.sync) writes lo.sync<N> into.
FILE_BARRIER_DIR = "run/resolvconf/interface"


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
    if t in ELEM_MSGS or t in DATA_MSGS:
        parts.append(f"pvd={m.get('pvd')}:{m.get('pvd_name')} {m.get('element')}"
                     + (f"#{m.get('element_id')} src={m.get('source')} origin={m.get('origin')} "
                        f"life={m.get('lifetime')}" if t in ELEM_MSGS else "")
                     + f" dns={m.get('dns_servers')} search={m.get('search_domains')} "
                     f"routers={m.get('routers')} mtu={m.get('mtu')}")
    extra = {k: v for k, v in m.items() if k not in (
        "msg", "ifindex", "ifname", "pvd", "pvd_name", "family", "address", "prefix_len",
        "scope", "flags", "valid_lifetime", "preferred_lifetime", "link_flags")
        and not ((t in ELEM_MSGS or t in DATA_MSGS) and k in (
            "element", "element_id", "source", "origin", "lifetime", "dns_servers",
            "search_domains", "routers", "mtu"))}
    if extra:
        parts.append(json.dumps(extra, sort_keys=True))
    return " ".join(parts)


def fmt_matcher(x):
    if callable(x):
        return getattr(x, "__doc__", None) or getattr(x, "__name__", "predicate")
    return " ".join(f"{k}={v}" for k, v in x.items())


def norm_addrs(seq):
    """Canonical texts of a list of addresses (order kept); None stays None."""
    if seq is None:
        return None
    return [norm_addr(a) for a in seq]


def matches(m, matcher):
    """A matcher is a dict (every key must be present and equal; "address" and
    "source" compared canonically, "dns_servers" and "routers" as ordered lists of
    canonical addresses) or a callable predicate."""
    if callable(matcher):
        return bool(matcher(m))
    for k, v in matcher.items():
        if k not in m:
            return False
        if k in ("address", "source"):
            if norm_addr(m[k]) != norm_addr(v):
                return False
        elif k in ADDR_LIST_KEYS:
            if not isinstance(m[k], list) or norm_addrs(m[k]) != norm_addrs(v):
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
    if t not in IF_MSGS and "pvd_name" not in x:
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


def element_ident(m):
    """What identifies an element (docs/configuration.md): (PvD, type, origin, source)."""
    return (m.get("pvd"), m.get("element"), m.get("origin"), norm_addr(m.get("source")))


def element_data(m):
    """The data of an element or configuration data message, comparable."""
    return (tuple(norm_addrs(m.get("dns_servers")) or ()), tuple(m.get("search_domains") or ()),
            tuple(norm_addrs(m.get("routers")) or ()), m.get("mtu"), m.get("captive_portal"), m.get("pref64"))


def family_of(text):
    try:
        return "ipv4" if ipaddress.ip_address(norm_addr(text)).version == 4 else "ipv6"
    except ValueError:
        return None


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
    - configuration elements: only for an announced PvD (and its interface), of a type
      that fits the PvD's family (ra/dhcpv6: IPv6, dhcpv4: IPv4), every DNS server and
      router of that family, never without any data; an element id always names the
      same (PvD, type, origin, source), and a standing element keeps its id; an update
      of an element with an infinite lifetime must change its data; No Configuration
      Element only for a standing element (same id, same PvD); No PvD only after its
      elements are gone;
    - readiness: a PvD announcement says "learning" or "complete"; Configuration
      Complete only for an announced PvD (a PvD announced learning gets one; learning
      may also restart silently, after an overrun, and end with one: see
      docs/configuration.md, "Readiness");
    - no engine_failed, no unparsable lines, no message of another kind."""
    probs = []
    ifaces = {}        # ifindex -> name
    gone = set()       # ifindex with a No Interface
    pvds = {}          # pvd id -> (ifindex, family, name)
    pvd_owner = {}     # pvd id -> (ifindex, family), over the whole stream
    owner_pvd = {}     # (ifindex, family) -> pvd id
    addrs = {}         # (pvd, addr) -> attrs
    elems = {}         # element id -> (ident, data, lifetime) of standing elements
    elem_owner = {}    # element id -> ident, over the whole stream
    elem_live = {}     # ident -> id of the standing element
    learning = set()   # announced PvDs whose configuration is being learned

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
        if t in ("no_pvd_announcement",) + ADDR_MSGS + ELEM_MSGS and p in pvds and m.get("pvd_name") != pvds[p][2]:
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
                if m.get("config_state") not in ("learning", "complete"):
                    probs.append(f"{where}: config_state neither learning nor complete")
                (learning.add if m.get("config_state") == "learning" else learning.discard)(p)
            else:
                if p not in pvds:
                    probs.append(f"{where}: No PvD for a PvD not announced")
                left = [a for (q, a) in addrs if q == p]
                if left:
                    probs.append(f"{where}: No PvD while addresses {left} are still announced")
                left = [e for e, v in elems.items() if v[0][0] == p]
                if left:
                    probs.append(f"{where}: No PvD while elements {left} are still announced")
                pvds.pop(p, None)
                learning.discard(p)
        elif t == "pvd_configuration_complete":
            if p not in pvds:
                probs.append(f"{where}: Configuration Complete for a PvD not announced")
            learning.discard(p)
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
                # Finite lifetimes refreshed by a router (an RA every few seconds) move
                # the deadline with the same whole seconds shown: an update, not a duplicate.
                finite = m.get("valid_lifetime") is not None
                if addrs.get(key) == addr_attrs(m) and not finite:
                    probs.append(f"{where}: duplicate announcement (identical attributes)")
                addrs[key] = addr_attrs(m)
            else:
                if key not in addrs:
                    probs.append(f"{where}: No Address for an address not announced")
                addrs.pop(key, None)
        elif t in ELEM_MSGS:
            eid = m.get("element_id")
            ident = element_ident(m)
            if t == "config_element_announcement":
                if p not in pvds:
                    probs.append(f"{where}: element of a PvD not announced")
                else:
                    fam = pvds[p][1]
                    if pvds[p][0] != idx:
                        probs.append(f"{where}: element ifindex differs from its PvD {pvds[p]}")
                    if m.get("element") not in ELEMENT_TYPES:
                        probs.append(f"{where}: unknown element type")
                    elif ELEMENT_FAMILY.get(m.get("element"), fam) != fam:
                        probs.append(f"{where}: a {m.get('element')} element on an {fam} PvD")
                    for k in ADDR_LIST_KEYS:
                        bad = [a for a in (m.get(k) or []) if family_of(a) != fam]
                        if bad:
                            probs.append(f"{where}: {k} {bad} not of the PvD's family {fam}")
                data = element_data(m)
                if data == ((), (), (), None, None, None):
                    probs.append(f"{where}: element announced without any data")
                if elem_owner.setdefault(eid, ident) != ident:
                    probs.append(f"{where}: element id {eid} was first used for {elem_owner[eid]}")
                if elem_live.get(ident, eid) != eid:
                    probs.append(f"{where}: {ident} is standing with id {elem_live[ident]}")
                old = elems.get(eid)
                if old is not None and old[1] == data and old[2] is None and m.get("lifetime") is None:
                    probs.append(f"{where}: duplicate announcement (same data, infinite lifetime)")
                elems[eid] = (ident, data, m.get("lifetime"))
                elem_live[ident] = eid
            else:
                old = elems.get(eid)
                if old is None:
                    probs.append(f"{where}: No Configuration Element for an element not announced")
                else:
                    if old[0][0] != p:
                        probs.append(f"{where}: No Configuration Element with pvd {p}, "
                                     f"announced with {old[0][0]}")
                    elem_live.pop(old[0], None)
                elems.pop(eid, None)
        elif t in ("interface_going_away", "interface_going_away_cancelled"):
            if idx not in ifaces:
                probs.append(f"{where}: going-away message for an interface not announced")
            if m.get("pvd") is not None and m.get("pvd") not in pvds:
                probs.append(f"{where}: going-away message for a PvD not announced")
            if m.get("reason") not in ("carrier_lost", "addresses_deprecated", "lifetime_ending", "router_withdrawn",
                                       "router_lifetime_ending", "lease_ending"):
                probs.append(f"{where}: unknown going-away reason")
            if t == "interface_going_away" and not isinstance(m.get("deadline_ms"), int):
                probs.append(f"{where}: going-away message without deadline_ms")
        elif t == "interface_going_up":
            if idx not in ifaces:
                probs.append(f"{where}: going-up message for an interface not announced")
            if m.get("reason") not in ("no_carrier", "no_address", "configuring"):
                probs.append(f"{where}: unknown going-up reason")
        else:
            probs.append(f"{where}: unknown message type")
    return probs


def subscriber_view(msgs, ignore=None):
    """What a subscriber knows after these messages, keyed so that two contexts (whose
    PvD and element ids may differ) compare: interfaces {ifindex: name}, PvDs
    {(ifindex, family): name}, addresses {(ifindex, address): (prefix_len, scope,
    flags)}, elements {(ifindex, family, type, origin, source): (dns, search, routers,
    mtu)}. Lifetimes are left out (they count down)."""
    ifaces, pvds, addrs, elems = {}, {}, {}, {}
    pvd_family = {}     # pvd id -> family
    elem_key = {}       # element id -> key in elems
    for m in msgs:
        if ignore is not None and ignore(m):
            continue
        t, idx = m.get("msg"), m.get("ifindex")
        if t in PVD_MSGS:
            pvd_family[m.get("pvd")] = m.get("family")
        if t == "config_element_announcement":
            key = (idx, pvd_family.get(m.get("pvd")), m.get("element"), m.get("origin"),
                   norm_addr(m.get("source")))
            elem_key[m.get("element_id")] = key
            elems[key] = element_data(m)
        elif t == "no_config_element_announcement":
            elems.pop(elem_key.pop(m.get("element_id"), None), None)
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
    return {"interfaces": ifaces, "pvds": pvds, "addresses": addrs, "elements": elems}


def diff_views(have, want):
    out = []
    for part in ("interfaces", "pvds", "addresses", "elements"):
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


def replay_elements(msgs, ignore=None):
    """element id -> the last announcement of every element still standing."""
    live = {}
    for m in msgs:
        if ignore is not None and ignore(m):
            continue
        t = m.get("msg")
        if t == "config_element_announcement":
            live[m.get("element_id")] = m
        elif t == "no_config_element_announcement":
            live.pop(m.get("element_id"), None)
    return live


# ---------------------------------------------------------------- child output

def read_json_lines(owner, stream, out, bad_key):
    """Body of a reader thread: each non-blank line of `stream` (a child's stdout), a JSON
    object, is appended to `out` under owner.cond (notifying); a line that is not one as
    {bad_key: "__bad_json__", "raw": line}. At EOF sets owner.eof (notifying)."""
    try:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            try:
                m = json.loads(line)
                if not isinstance(m, dict):
                    raise ValueError
            except ValueError:
                m = {bad_key: "__bad_json__", "raw": line}
            with owner.cond:
                out.append(m)
                owner.cond.notify_all()
    finally:
        with owner.cond:
            owner.eof = True
            owner.cond.notify_all()


# ---------------------------------------------------------------- C test drivers

# How the Makefile compiles and links C programs (WARN, CFLAGS, LINK_MIF).
LIBDIR = os.path.join(ROOT, "build", "lib")
CFLAGS = ["-O2", "-g", "-Wall", "-Wextra", "-Werror", "-std=c11", "-D_GNU_SOURCE"]
# What every driver includes besides <mif.h> (as "../driver.h").
DRIVER_H = os.path.join(ROOT, "c-tests", "driver.h")

_BUILT = {}


def build_driver(src, out, make_lib=False):
    """Compiles the C test driver `src` into `out` (as the Makefile compiles C programs)
    when `out` is older than `src`, c-tests/driver.h, include/mif.h or libmif.so; with
    make_lib, runs `make lib` first (once per run). Returns `out`."""
    if make_lib and "make" not in _BUILT:
        p = subprocess.run(["make", "-C", ROOT, "lib"], capture_output=True, text=True)
        if p.returncode != 0:
            raise Failure(f"make lib failed:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
        _BUILT["make"] = True
    lib = os.path.join(LIBDIR, "libmif.so")
    if not os.path.exists(lib):
        raise Failure(f"{lib} missing: run `make lib` first")
    deps = [src, DRIVER_H, os.path.join(ROOT, "include", "mif.h"), lib]
    newest = max(os.stat(d).st_mtime_ns for d in deps)
    if _BUILT.get(out) == newest and os.path.exists(out):
        return out
    if not (os.path.exists(out) and os.stat(out).st_mtime_ns >= newest):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cmd = [os.environ.get("CC", "cc")] + CFLAGS + ["-I" + os.path.join(ROOT, "include"), "-o", out,
                                                       src, "-L" + LIBDIR, "-lmif",
                                                       "-Wl,-rpath," + LIBDIR, "-lpthread"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise Failure(f"building the driver failed: {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    _BUILT[out] = newest
    return out


# ---------------------------------------------------------------- mifctl child

class Mifctl:
    """build/mifctl monitor --json running in the bed's host namespace, with the bed's
    root directory (--root) when mifctl has that option; `prefix` is a command put
    before mifctl (e.g. valgrind), executed in the same process."""

    def __init__(self, bed, args, env, label, prefix=()):
        self.bed = bed
        self.label = label
        self.args = [str(a) for a in args]
        self.env = dict(env or {})
        self.prefix = [str(a) for a in prefix]
        # Whether this mifctl follows configuration elements under the bed's root: then
        # sync() also runs a file barrier.
        self.follows_files = bed.elements_supported()
        root = ["--root", bed.root] if self.follows_files else []
        self.argv = (["ip", "netns", "exec", bed.ns["host"]] + self.prefix +
                     [MIFCTL, "monitor", "--json"] + root + self.args)
        bed.guard(self.argv)
        full_env = dict(os.environ)
        full_env.pop("MIF_LOG", None)
        full_env.pop("MIF_CONFIG", None)    # never the machine's, only what a test sets
        full_env.update(self.env)
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
        self.pid = self.proc.pid   # `ip netns exec` (and valgrind) exec mifctl: same PID
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out.start()
        self._t_err.start()

    # -- readers
    def _read_out(self):
        read_json_lines(self, self.proc.stdout, self.msgs, "msg")

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

    def take(self, n, timeout=None, what="messages", ignore=None):
        """The next n messages (barriers and messages satisfying `ignore` aside), consumed."""
        out = []
        timeout = TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = max(0.0, deadline - time.monotonic())
            i = self._wait_index(self.pos, lambda m: not self.bed.is_noise(m)
                                 and not (ignore is not None and ignore(m)),
                                 lambda: f"{what} ({len(out)} of {n} received: "
                                 f"{[fmt(x) for x in out]})", left, skip=ignore)
            out.append(self.msgs[i])
            self.pos = i + 1
        return out

    def collect_until(self, done, allowed, what, timeout=None):
        """Consumes messages one by one (barriers aside) until done(consumed) is true;
        each must satisfy allowed(m) (else this fails). Returns the consumed messages.
        For changes whose messages come in an order no rule fixes."""
        timeout = TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        got = []
        while not done(got):
            left = max(0.0, deadline - time.monotonic())
            i = self._wait_index(self.pos, lambda m: not self.bed.is_noise(m),
                                 lambda: f"{what} (so far: {[fmt(x) for x in got]})", left)
            m = self.msgs[i]
            if not allowed(m):
                self._fail(f"while waiting for {what}: unexpected message #{i} {fmt(m)}")
            got.append(m)
            self.pos = i + 1
        return got

    def skip_while(self, pred, timeout=None, what="the next message"):
        """Passes over messages satisfying pred until one that does not arrives (it is
        left unconsumed). Returns the messages passed over (barriers aside)."""
        start = self.pos
        i = self._wait_index(self.pos, lambda m: not pred(m) and not self.bed.is_noise(m),
                             what, timeout, skip=pred)
        self.pos = i
        with self.cond:
            return [m for m in self.msgs[start:i] if not self.bed.is_noise(m)]

    def expect_phase(self, expected, timeout=None, what="phase", ignore=None):
        """The next len(expected) messages (those satisfying `ignore` aside), in any
        order, must match the matchers one to one. Returns the messages in matcher order."""
        got = self.take(len(expected), timeout, what=what, ignore=ignore)
        res = multiset_match(got, expected)
        if res is None:
            self._fail(f"{what}: got\n    " + "\n    ".join(fmt(m) for m in got) +
                       "\n  expected (any order)\n    " +
                       "\n    ".join(fmt_matcher(e) for e in expected))
        return res

    def expect_phases(self, phases, timeout=None, what="sequence", ignore=None):
        """Phases in this order; inside a phase any order (see expect_phase)."""
        out = []
        for k, ph in enumerate(phases):
            out.append(self.expect_phase(ph, timeout, what=f"{what}, phase {k + 1}/{len(phases)}",
                                         ignore=ignore))
        return out

    def expect_sequence(self, matchers, timeout=None, what="sequence", ignore=None):
        """The next messages must match these matchers, in this exact order."""
        return [ph[0] for ph in self.expect_phases([[x] for x in matchers], timeout, what, ignore)]

    def sync(self, rounds=2):
        """Barrier: every message caused by a change made before this call (and the
        cascade of subscriptions mifctl posts for them, two levels deep) has been
        received when this returns. Adds then removes a barrier address on lo,
        `rounds` times, waiting for each message; barrier messages are noise.

        Kernel events and file events reach the engine through different descriptors,
        so when mifctl follows the bed's root each round also writes then deletes a
        resolv.conf fragment `lo.sync<N>` (a static element on lo/ipv4) and waits for
        its announcement and withdrawal: inotify reports in order, and the engine
        queues everything one read of its inotify descriptor implies at once, so after
        two rounds every earlier file change has been reported too."""
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
            if self.follows_files:
                rel = f"{FILE_BARRIER_DIR}/lo.sync{a.rsplit('.', 1)[1]}"
                path = self.bed.write(rel, f"nameserver {a}\n")
                self._wait_index(self.pos, lambda m, p=path: m.get("msg") == "config_element_announcement"
                                 and m.get("origin") == p, f"file barrier {rel}",
                                 skip=lambda m: True)
                self.bed.remove(rel)
                self._wait_index(self.pos, lambda m, p=path: m.get("msg") == "no_config_element_announcement"
                                 and m.get("origin") == p, f"file barrier {rel} removal",
                                 skip=lambda m: True)

    def pending(self):
        """Unconsumed non-barrier messages."""
        with self.cond:
            return [m for m in self.msgs[self.pos:] if not self.bed.is_noise(m)]

    def expect_quiet(self, what="nothing more", allow=None):
        """After a barrier, no unconsumed message (but those satisfying `allow`) may be left."""
        self.sync()
        left = [m for m in self.pending() if not (allow is not None and allow(m))]
        if left:
            self._fail(f"expected {what}, but got\n    " + "\n    ".join(fmt(m) for m in left))
        with self.cond:
            self.pos = len(self.msgs)

    def expect_initial(self, elements=None):
        """The initial iteration must be exactly what the host namespace holds now
        (interfaces; PvDs of up+running interfaces; their non-link-local addresses),
        in an order that respects interface -> PvD -> address, then quiet.
        Configuration element announcements are passed over when `elements` is None;
        otherwise they must match the matchers in `elements` one to one (any order).
        Returns the interface, PvD and address messages in expected_initial order."""
        exp = self.bed.expected_initial()
        start = self.pos
        is_el = lambda m: m.get("msg") in ELEM_MSGS   # noqa: E731
        got = self.expect_phase(exp, what="initial iteration", ignore=is_el)
        probs = stream_problems(self.msgs[:self.pos])
        if probs:
            self._fail("initial iteration: " + "; ".join(probs))
        self.expect_quiet("nothing after the initial iteration", allow=is_el)
        if elements is not None:
            with self.cond:
                els = [m for m in self.msgs[start:] if is_el(m) and not self.bed.is_noise(m)]
            if multiset_match(els, elements) is None:
                self._fail("initial configuration elements: got\n    " +
                           "\n    ".join(fmt(m) for m in els) + "\n  expected (any order)\n    " +
                           "\n    ".join(fmt_matcher(e) for e in elements))
        return got

    def config_key(self):
        """The options that decide which static file this mifctl reads."""
        args, i = [], 0
        while i < len(self.args):
            if self.args[i] == "--config" and i + 1 < len(self.args):
                args += self.args[i:i + 2]
                i += 2
            else:
                i += 1
        return (tuple(args), self.env.get("MIF_CONFIG"))

    def elements(self, **match):
        """The standing elements (last announcement of each) matching the dict `match`."""
        live = replay_elements(self.messages(), self.bed.is_noise)
        return [m for m in live.values() if matches(m, match)]

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


# ---------------------------------------------------------------- daemons

def stop_child(owner, sig=None, timeout=None):
    """Stops `owner`'s child (`owner.proc`, `owner.pid`): SIGCONT and `sig` (default
    SIGTERM) by PID, wait, SIGKILL if it does not exit (then `owner.killed`). Returns
    the exit status."""
    sig = signal.SIGTERM if sig is None else sig
    p = owner.proc
    if p.poll() is None:
        try:
            os.kill(owner.pid, signal.SIGCONT)
            os.kill(owner.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(TIMEOUT if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            owner.killed = True
            p.kill()
            p.wait()
    return p.returncode


class Proc:
    """A daemon (radvd, dnsmasq, udhcpc, ...) started as our child inside one of the
    bed's namespaces; its output goes to a log file in the bed's temp dir. Stopped by
    PID (SIGTERM, then SIGKILL) by stop() and at teardown."""

    def __init__(self, bed, ns, argv, label, env=None):
        self.label = label
        self.argv = ["ip", "netns", "exec", bed.ns[ns]] + [str(a) for a in argv]
        bed.guard(self.argv)
        self.log = os.path.join(bed.tmp, f"{label}.log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(self.log, "wb") as f:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT, env=full_env,
                                         start_new_session=True)
        self.pid = self.proc.pid
        self.killed = False

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def wait_catches(self, sig):
        """Waits until the process has a handler for `sig` (SigCgt in /proc/PID/status):
        a daemon signalled before it installed its handler dies without its exit
        actions (radvd's final RA, for one)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    cgt = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
            except (OSError, StopIteration):
                cgt = 0
            if cgt & (1 << (int(sig) - 1)):
                return
            if not self.alive():
                raise Failure(f"{self.label} exited (status {self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise Failure(f"{self.label} has no handler for signal {int(sig)} after {TIMEOUT:g} s")
            time.sleep(0.01)

    def wait(self, timeout=None):
        """Exit status; fails if it is still running after the timeout."""
        try:
            return self.proc.wait(TIMEOUT if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"{self.label} (pid {self.pid}) still running after "
                          f"{TIMEOUT if timeout is None else timeout:g} s:\n{self.output()}")

    def stop(self, sig=None, timeout=None):
        """Signal (default SIGTERM), wait, SIGKILL if it does not exit. Returns the exit status."""
        return stop_child(self, sig, timeout)

    def output(self):
        """What it printed, and what it logged in files named <log>.*.log (radvd)."""
        out = []
        for path in [self.log] + sorted(glob.glob(self.log[:-len(".log")] + ".*.log")):
            try:
                with open(path, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)


# Sends one Router Advertisement from a raw ICMPv6 socket (run with `python3 -c` inside
# a namespace): argv[1] = JSON {ifname, router_lifetime, rdnss: [lifetime, [addr...]],
# dnssl: [lifetime, [domain...]], mtu}. The kernel fills in the checksum and picks the
# interface's link-local address as source; hop limit 255 as RFC 4861 requires.
_RA_SENDER = r"""
import json, socket, struct, sys
a = json.loads(sys.argv[1])
ifindex = socket.if_nametoindex(a["ifname"])
def opt(kind, body):
    body += b"\0" * (-(len(body) + 2) % 8)
    return struct.pack("!BB", kind, (len(body) + 2) // 8) + body
opts = b""
if a.get("mtu"):
    opts += opt(5, struct.pack("!HI", 0, a["mtu"]))
if a.get("rdnss"):
    life, addrs = a["rdnss"]
    opts += opt(25, struct.pack("!HI", 0, life) + b"".join(socket.inet_pton(socket.AF_INET6, x) for x in addrs))
if a.get("dnssl"):
    life, names = a["dnssl"]
    enc = b"".join(b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0" for n in names)
    opts += opt(31, struct.pack("!HI", 0, life) + enc)
if a.get("pref64"):                      # RFC 8781: [prefix, length code, lifetime s]
    prefix, plc, life = a["pref64"]
    opts += struct.pack("!BBH", 38, 2, (life // 8) << 3 | plc) + socket.inet_pton(socket.AF_INET6, prefix)[:12]
if a.get("portal"):                      # RFC 8910: the URI, NUL-padded
    opts += opt(37, a["portal"].encode())
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, a["router_lifetime"], 0, 0) + opts
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a["ifname"].encode())
s.sendto(ra, ("ff02::1", 0, 0, ifindex))
"""


_SUPPORT = {}


def mifctl_features(bed):
    """What the mifctl binary offers, from `mifctl monitor --help` (cached per binary
    version): {"root": has --root/--config and follows configuration elements}."""
    try:
        key = (MIFCTL, os.stat(MIFCTL).st_mtime_ns)
    except OSError:
        return {"root": False}
    if key not in _SUPPORT:
        p = bed.run(["ip", "netns", "exec", bed.ns["host"], MIFCTL, "monitor", "--help"], check=False)
        text = p.stdout + p.stderr
        _SUPPORT[key] = {"root": "--root" in text and "--config" in text}
    return _SUPPORT[key]


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
        self.daemons = []
        self.root = None
        # Readiness messages are noise unless a test asks for them (is_noise).
        self.readiness_messages = False
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
        # The library's root directory for this test: empty at first.
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
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
        for d in reversed(self.daemons):
            try:
                d.stop()
            except Exception as e:
                errors.append(f"stopping {d.label} (pid {d.pid}): {e}")
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
    def start_mifctl(self, *args, env=None, label=None, prefix=()):
        """mifctl monitor --json [--root ROOT] ARGS in the host namespace; `prefix`: a
        command run before it in the same process, e.g. VALGRIND."""
        if not os.access(MIFCTL, os.X_OK):
            raise Failure(f"{MIFCTL} does not exist or is not executable (run `make build/mifctl`)")
        mc = Mifctl(self, args, env, label or f"mifctl{len(self.procs) + 1}", prefix)
        self.procs.append(mc)
        return mc

    def elements_supported(self):
        return mifctl_features(self)["root"]

    def require_elements(self):
        """Fail unless mifctl follows configuration elements and has --root/--config."""
        if not self.elements_supported():
            raise Failure(f"{MIFCTL} has no --root/--config (configuration elements): "
                          "rebuild it with `make build/mifctl`")

    def mifctl_config(self, *args, env=None, drop_net_raw=False):
        """`mifctl config --json --root ROOT ARGS` in the host namespace: its messages
        (without CAP_NET_RAW with drop_net_raw)."""
        self.require_elements()
        drop = ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"] if drop_net_raw else []
        argv = ["ip", "netns", "exec", self.ns["host"]] + drop + [MIFCTL, "config", "--json",
                                                                  "--root", self.root] + [str(a) for a in args]
        self.guard(argv)
        full_env = dict(os.environ)
        full_env.pop("MIF_LOG", None)
        full_env.pop("MIF_CONFIG", None)
        full_env.update(env or {})
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=TIMEOUT * 3, env=full_env)
        if p.returncode != 0:
            raise Failure(f"{' '.join(argv)}: exit status {p.returncode}\n{p.stdout}{p.stderr}".rstrip())
        out = []
        for line in p.stdout.splitlines():
            if not line.strip():
                continue
            try:
                m = json.loads(line)
            except ValueError:
                raise Failure(f"mifctl config: not JSON: {line!r}")
            out.append(m)
        return out

    def spawn(self, ns, argv, label=None, env=None):
        """Start a daemon in namespace key `ns` ("host", "a", "b") as our child."""
        d = Proc(self, ns, argv, label or f"{os.path.basename(str(argv[0]))}{len(self.daemons) + 1}", env)
        self.daemons.append(d)
        return d

    def accept_ra(self, ifname="mif0"):
        """Host side: process Router Advertisements on `ifname` (accept_ra=2) and skip
        DAD there, so SLAAC addresses are usable at once."""
        self.ns_exec("host", "sysctl", "-qw", f"net.ipv6.conf.{ifname}.accept_ra=2",
                     f"net.ipv6.conf.{ifname}.accept_dad=0")

    def router_ll(self, ns="a", ifname="gw0"):
        """The link-local address of a router-side interface."""
        for link in self.ip_json(ns, "-6", "addr", "show", "dev", ifname):
            for a in link.get("addr_info", []):
                if a.get("scope") == "link":
                    return norm_addr(a["local"])
        raise Failure(f"{ifname} in {ns} has no link-local address")

    def start_radvd(self, body, ns="a", ifname="gw0", label=None):
        """radvd in namespace `ns` advertising on `ifname`: `body` is what goes inside
        `interface IF { ... };` (addresses in it are checked against the allowed ranges)."""
        label = label or f"radvd{len(self.daemons) + 1}"
        for tok in body.replace(";", " ").replace("{", " ").replace("}", " ").split():
            check_allowed(tok)
        conf = os.path.join(self.tmp, f"{label}.conf")
        with open(conf, "w") as f:
            f.write(f"interface {ifname} {{\n{body}\n}};\n")
        d = self.spawn(ns, ["radvd", "-n", "-C", conf, "-p", os.path.join(self.tmp, f"{label}.pid"),
                            "-m", "logfile", "-l", os.path.join(self.tmp, f"{label}.radvd.log")], label)
        # Returned once radvd catches SIGTERM, so that stop() gets its final RA.
        d.wait_catches(signal.SIGTERM)
        return d

    def start_dhcp_server(self, *extra, ns="a", ifname="gw0", label="dnsmasq", lease="10m"):
        """dnsmasq as a DHCPv4 server on `ifname` (no DNS, no ping, lease and pid files
        in the bed's temp dir): range 198.51.100.100-199, leases of `lease` (dnsmasq's
        shortest is 2m), router and DNS 198.51.100.1, domain-search a.example, plus
        `extra` options."""
        return self.spawn(ns, [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--port=0", f"--interface={ifname}", "--bind-interfaces",
            f"--dhcp-range=198.51.100.100,198.51.100.199,255.255.255.0,{lease}",
            "--dhcp-option=option:router,198.51.100.1", "--dhcp-option=option:dns-server,198.51.100.1",
            "--dhcp-option=option:domain-search,a.example", "--no-ping",
            f"--dhcp-leasefile={os.path.join(self.tmp, label + '.leases')}",
            f"--pid-file={os.path.join(self.tmp, label + '.pid')}", "--log-dhcp", "--log-facility=-",
            *extra], label)

    def send_ra(self, ns="a", ifname="gw0", router_lifetime=0, rdnss=None, dnssl=None, mtu=None,
                pref64=None, portal=None):
        """Send one hand-made Router Advertisement from `ifname` in namespace `ns` to
        ff02::1: router lifetime (0 = not a default router), rdnss=(lifetime, [servers]),
        dnssl=(lifetime, [domains]), mtu, pref64=(prefix, length code, lifetime) (RFC
        8781), portal=URI (RFC 8910). Lifetime 0 withdraws (RFC 8106)."""
        for x in (rdnss or (0, []))[1]:
            check_allowed(x)
        args = dict(ifname=ifname, router_lifetime=router_lifetime, rdnss=rdnss, dnssl=dnssl, mtu=mtu,
                    pref64=pref64, portal=portal)
        self.ns_exec(ns, sys.executable, "-c", _RA_SENDER, json.dumps(args))

    def path(self, rel):
        """Absolute path of `rel` under the bed's root (refuses anything outside it)."""
        p = os.path.normpath(os.path.join(self.root, rel))
        if not p.startswith(self.root + os.sep):
            raise Refused(f"{rel!r} is outside the test root {self.root}")
        return p

    def write(self, rel, data, how="atomic"):
        """Write a file under the root: "atomic" = a dot-named temporary file in the
        same directory renamed into place (what state-file writers do), "inplace" =
        truncate and rewrite the existing file, "append". Parent directories are
        created. Returns the absolute path (the element origin the library reports)."""
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        raw = data if isinstance(data, bytes) else data.encode()
        if how == "atomic":
            tmp = os.path.join(os.path.dirname(p), f".{os.path.basename(p)}.{random.randrange(1 << 30)}")
            with open(tmp, "wb") as f:
                f.write(raw)
            os.rename(tmp, p)
        elif how in ("inplace", "append"):
            with open(p, "ab" if how == "append" else "r+b" if os.path.exists(p) else "wb") as f:
                if how == "inplace":
                    f.truncate(0)
                f.write(raw)
        else:
            raise ValueError(how)
        return p

    def remove(self, rel):
        p = self.path(rel)
        os.unlink(p)
        return p

    def next_barrier(self):
        self._barrier += 1
        if self._barrier > 250:
            raise Failure("too many barriers in one test")
        return str(BARRIER_NET.network_address + self._barrier)

    def is_noise(self, m):
        """A barrier message (see Mifctl.sync), or a readiness message (the library says
        when a PvD's configuration is complete, seconds after open or a link coming up)
        in tests that do not ask for them (`bed.readiness_messages = True`)."""
        if m.get("msg") == "pvd_configuration_complete" and not self.readiness_messages:
            return True
        if m.get("msg") in ELEM_MSGS and m.get("ifname") == "lo" and self.root:
            return str(m.get("origin")).startswith(os.path.join(self.root, FILE_BARRIER_DIR, "lo.sync"))
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
        invariants, the replayed address set equal to the kernel's, and its view
        (configuration elements included) equal to that of a fresh mifctl started now
        with the same static-file options; then each must exit with status 0 on SIGTERM
        (no crash, no SIGKILL, no valgrind error)."""
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
        # Each subscriber must know what a fresh subscription reports now. Subscribers
        # with other static-file options (--config, MIF_CONFIG) get their own fresh one.
        groups = {}
        for mc in running:
            groups.setdefault(mc.config_key(), []).append(mc)
        for k, (key, group) in enumerate(sorted(groups.items(), key=str)):
            args, mif_config = key
            fresh = self.start_mifctl(*args, env={"MIF_CONFIG": mif_config} if mif_config else None,
                                      label="fresh" if k == 0 else f"fresh{k + 1}")
            try:
                fresh.expect_initial()
                want = subscriber_view(fresh.messages(), self.is_noise)
                for mc in group:
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
                problems.append(f"{mc.label}: exit status {rc} after SIGTERM (0 expected)"
                                + (f"; {' '.join(mc.prefix)} stderr:\n    " +
                                   "\n    ".join(mc.stderr_text().splitlines()[-40:])
                                   if mc.prefix else ""))
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


def going_up(ifindex, ifname, reason):
    return dict(msg="interface_going_up", ifindex=ifindex, ifname=ifname, reason=reason)


def is_going_up(m):
    """An Interface is going up message (3.2.7.26.5): a link taken up reports "no
    carrier" until its carrier is there, for as long as the kernel takes."""
    return m.get("msg") == "interface_going_up"


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


def element(ifindex, ifname, family, kind, gone=False, **kw):
    """Configuration element matcher; pass dns_servers=[...], origin=..., element_id=... to pin them."""
    return dict(msg="no_config_element_announcement" if gone else "config_element_announcement",
                ifindex=ifindex, ifname=ifname, pvd_name=f"{ifname}/{family}", element=kind, **kw)


VALGRIND = ("valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite", "--track-fds=no", "--quiet")


def check(cond, text):
    if not cond:
        raise Failure(text)
