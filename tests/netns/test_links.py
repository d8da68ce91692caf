"""Links going down and up (either end), deleted, renamed; two networks; Wants to connect."""

import json
import os
import subprocess
import time

from bed import (MIFCTL, addr, bed_options, check, diff_views, going_up, iface, is_going_up, pvd, stream_problems,
                 subscriber_view)

V4, V6 = ("198.51.100.2", 24), ("fd6d:6966:a::2", 64)


def removal_phases(idx, name, p4, p6, interface_too=False):
    """Draft order for an interface losing its PvDs: every No Address, then every
    No PvD (then No Interface if the interface itself goes)."""
    phases = [
        [addr(idx, name, *V4, gone=True, pvd=p4), addr(idx, name, *V6, gone=True, pvd=p6)],
        [pvd(idx, name, "ipv4", gone=True, pvd=p4), pvd(idx, name, "ipv6", gone=True, pvd=p6)],
    ]
    if interface_too:
        phases.append([iface(idx, name, gone=True)])
    return phases


def start(bed):
    m = bed.start_mifctl()
    m.expect_initial()
    return m, bed.ifindex("mif0"), m.pvd_id("mif0/ipv4"), m.pvd_id("mif0/ipv6")


def test_link_down_up(bed):
    """Host side admin down: No Address for each address, No PvD for each PvD, and
    no No Interface (it still exists). Up again (+ the IPv6 address re-added, since
    keep_addr_on_down=0 deleted it): the PvDs come back with the same ids."""
    m, idx, p4, p6 = start(bed)
    bed.ip("host", "link", "set", "mif0", "down")
    m.expect_phases(removal_phases(idx, "mif0", p4, p6), what="mif0 down")
    m.expect_quiet("no No Interface for a link that is only down")
    bed.ip("host", "link", "set", "mif0", "up")
    m.expect_sequence([pvd(idx, "mif0", "ipv4", pvd=p4),
                     addr(idx, "mif0", *V4, pvd=p4)],
                    what="mif0 up (IPv4 address kept)", ignore=is_going_up)
    m.expect_quiet("no IPv6 PvD: its address was deleted by the link going down")
    bed.ip("host", "addr", "add", "%s/%d" % V6, "dev", "mif0", "nodad")
    m.expect_sequence([pvd(idx, "mif0", "ipv6", pvd=p6),
                     addr(idx, "mif0", *V6, pvd=p6)],
                    what="IPv6 address re-added")
    m.expect_quiet()


def going_away(idx, ifname, reason, pvd=None, deadline_ms=None, cancelled=False):
    m = {"msg": "interface_going_away_cancelled" if cancelled else "interface_going_away",
         "ifindex": idx, "ifname": ifname, "pvd": pvd, "reason": reason}
    if deadline_ms is not None:
        m["deadline_ms"] = deadline_ms
    return m


def test_far_end_down_up(bed):
    """The far end goes down (carrier lost on mif0 while it stays up): Interface is
    going away (draft 3.2.7.26.4, deadline 0, reason carrier_lost) first, then the same
    removal sequence; far end up: the warning is cancelled, then both PvDs come back with
    the same ids, then their addresses."""
    m, idx, p4, p6 = start(bed)
    bed.ip("a", "link", "set", "gw0", "down")
    m.expect(going_away(idx, "mif0", "carrier_lost", deadline_ms=0))
    m.expect_phases(removal_phases(idx, "mif0", p4, p6), what="carrier lost")
    m.expect_quiet("no No Interface for a link without carrier")
    bed.ip("a", "link", "set", "gw0", "up")
    m.expect(going_away(idx, "mif0", "carrier_lost", cancelled=True))
    m.expect_phases([
        [pvd(idx, "mif0", "ipv4", pvd=p4), pvd(idx, "mif0", "ipv6", pvd=p6)],
        [addr(idx, "mif0", *V4, pvd=p4), addr(idx, "mif0", *V6, pvd=p6)],
    ], what="carrier back")
    m.expect_quiet()


def test_going_away_when_every_address_is_deprecated(bed):
    """Every address of mif0's IPv4 PvD deprecated (preferred lifetime 0) and valid for
    30 s more: its PvD is going away (reason addresses_deprecated) with a deadline near
    30 s (a generous bound: within 25-30 s), before anything is removed; the lifetimes
    refreshed: the warning is cancelled. The IPv6 PvD is untouched."""
    m, idx, p4, p6 = start(bed)
    bed.ip("host", "addr", "change", "%s/%d" % V4, "dev", "mif0", "valid_lft", "30", "preferred_lft", "0")
    got = m.expect_phases([[going_away(idx, "mif0", "addresses_deprecated", pvd=p4),
                            addr(idx, "mif0", *V4, pvd=p4)]], what="deprecated")
    warning = [g for g in got[0] if g.get("msg") == "interface_going_away"][0]
    check(25000 <= warning["deadline_ms"] <= 30000, f"deadline {warning['deadline_ms']} ms for a 30 s valid lifetime")
    check(warning.get("pvd_name") == "mif0/ipv4", f"the IPv4 PvD: {warning}")
    m.expect_quiet("nothing removed yet, nothing about the IPv6 PvD")
    bed.ip("host", "addr", "change", "%s/%d" % V4, "dev", "mif0", "valid_lft", "forever", "preferred_lft", "forever")
    m.expect_phases([[going_away(idx, "mif0", "addresses_deprecated", pvd=p4, cancelled=True),
                      addr(idx, "mif0", *V4, pvd=p4)]], what="refreshed")
    m.expect_quiet()


def test_going_away_when_the_last_lifetime_ends_within_the_horizon(bed):
    """mif0's only IPv4 address still preferred but valid for 50 s only (preferred as
    long as valid, as a DHCP lease's), within the 60 s horizon: its PvD is going away
    (reason lifetime_ending) with a deadline near 50 s (generous bound: 45-50 s);
    renewed to an hour: cancelled."""
    m, idx, p4, p6 = start(bed)
    bed.ip("host", "addr", "change", "%s/%d" % V4, "dev", "mif0", "valid_lft", "50", "preferred_lft", "50")
    got = m.expect_phases([[going_away(idx, "mif0", "lifetime_ending", pvd=p4),
                            addr(idx, "mif0", *V4, pvd=p4)]], what="lifetime ending")
    warning = [g for g in got[0] if g.get("msg") == "interface_going_away"][0]
    check(45000 <= warning["deadline_ms"] <= 50000, f"deadline {warning['deadline_ms']} ms for a 50 s valid lifetime")
    m.expect_quiet("nothing removed yet")
    bed.ip("host", "addr", "change", "%s/%d" % V4, "dev", "mif0", "valid_lft", "3600", "preferred_lft", "3600")
    m.expect_phases([[going_away(idx, "mif0", "lifetime_ending", pvd=p4, cancelled=True),
                      addr(idx, "mif0", *V4, pvd=p4)]], what="renewed")
    m.expect_quiet()


def test_link_deleted(bed):
    """`ip -n net link del gw0` deletes mif0 too: every No Address, every No PvD, then
    No Interface; nothing about that ifindex afterwards."""
    m, idx, p4, p6 = start(bed)
    bed.ip("a", "link", "del", "gw0")
    m.expect_phases(removal_phases(idx, "mif0", p4, p6, interface_too=True), what="mif0 deleted")
    m.expect_quiet(f"nothing more about ifindex {idx}")
    after = [x for x in m.messages() if x.get("ifindex") == idx][-1]
    check(after.get("msg") == "no_interface_announcement", f"last message about {idx}: {after}")


def test_rename(bed):
    """down, rename mif0 -> wan0, up: Interface Announcement with the new name for the
    same ifindex; the PvDs come back with the same ids under the new name."""
    m, idx, p4, p6 = start(bed)
    bed.ip("host", "link", "set", "mif0", "down")
    m.expect_phases(removal_phases(idx, "mif0", p4, p6), what="mif0 down")
    bed.ip("host", "link", "set", "mif0", "name", "wan0")
    m.expect(iface(idx, "wan0"))
    m.expect_quiet("one Interface Announcement for the rename")
    bed.ip("host", "link", "set", "wan0", "up")
    m.expect_sequence([pvd(idx, "wan0", "ipv4", pvd=p4),
                     addr(idx, "wan0", *V4, pvd=p4)],
                    what="wan0 up", ignore=is_going_up)
    bed.ip("host", "addr", "add", "%s/%d" % V6, "dev", "wan0", "nodad")
    m.expect_sequence([pvd(idx, "wan0", "ipv6", pvd=p6),
                     addr(idx, "wan0", *V6, pvd=p6)],
                    what="IPv6 address on wan0")
    m.expect_quiet()


@bed_options(nets=2)
def test_two_networks(bed):
    """mif0 (net A) and mif1 (net B): deleting mif1 produces its removal sequence and
    not a single message about mif0."""
    m = bed.start_mifctl()
    m.expect_initial()
    i0, i1 = bed.ifindex("mif0"), bed.ifindex("mif1")
    q4, q6 = m.pvd_id("mif1/ipv4"), m.pvd_id("mif1/ipv6")
    start_at = m.pos
    bed.ip("host", "link", "del", "mif1")
    m.expect_phases([
        [addr(i1, "mif1", "203.0.113.2", 24, gone=True, pvd=q4),
         addr(i1, "mif1", "fd6d:6966:b::2", 64, gone=True, pvd=q6)],
        [pvd(i1, "mif1", "ipv4", gone=True, pvd=q4), pvd(i1, "mif1", "ipv6", gone=True, pvd=q6)],
        [iface(i1, "mif1", gone=True)],
    ], what="mif1 deleted")
    m.expect_quiet("nothing about mif0")
    about_mif0 = [x for x in m.messages()[start_at:] if x.get("ifindex") == i0]
    check(not about_mif0, f"messages about mif0 after deleting mif1: {about_mif0}")


def test_rename_while_up(bed):
    """Renaming an up link (kernels since 6.x allow it for veth): Interface
    Announcement with the new name, and afterwards the subscriber must know what a
    fresh subscription reports (PvD names follow the interface name) and every later
    message must carry names it was told about. If the kernel refuses the rename,
    nothing may be announced."""
    m, idx, p4, _p6 = start(bed)
    res = bed.ip("host", "link", "set", "mif0", "name", "wan0", check=False)
    if res.returncode != 0:
        m.expect_quiet("nothing for a rename the kernel refused")
        return
    m.expect(iface(idx, "wan0"))
    bed.ip("host", "addr", "add", "198.51.100.9/24", "dev", "wan0")
    m.expect(addr(idx, "wan0", "198.51.100.9", 24, pvd=p4),
             skip=lambda x: x.get("msg") == "pvd_announcement" and x.get("ifindex") == idx,
             what="the new address (PvD re-announcements with the new name allowed before it)")
    m.sync()
    probs = stream_problems(m.messages())
    fresh = bed.start_mifctl(label="fresh")
    fresh.expect_initial()
    diff = diff_views(subscriber_view(m.messages(), bed.is_noise),
                      subscriber_view(fresh.messages(), bed.is_noise))
    check(not probs and not diff, "after renaming an up link:\n  " + "\n  ".join(probs + diff))
    m.expect_quiet()


@bed_options(nets=2)
def test_enobufs_links(bed):
    """Overrun while links change: mif1 deleted, mif2 created and configured, plus an
    address flood on mif0 to overflow the 4096-byte buffer. After the resync: mif1's
    No Address / No PvD / No Interface in that order, mif2's Interface / PvDs /
    addresses, and (final checks) exactly the kernel's state."""
    m = bed.start_mifctl("--test-rcvbuf", "4096", env={"MIF_LOG": "info"})
    m.expect_initial()
    i1 = bed.ifindex("mif1")
    before = m.stderr_text().count("rtnetlink overrun")
    m.pause()
    bed.ip("host", "link", "del", "mif1")
    bed.ip("host", "link", "add", "mif2", "type", "veth", "peer", "name", "gw2", "netns", bed.ns["a"])
    bed.ip("host", "addr", "add", "198.18.2.2/24", "dev", "mif2")
    bed.ip("host", "addr", "add", "fd6d:6966:2::2/64", "dev", "mif2", "nodad")
    bed.ip("a", "link", "set", "gw2", "up")
    bed.ip("host", "link", "set", "mif2", "up")
    bed.ip_batch("host", [f"addr add 198.18.{200 + i // 250}.{1 + i % 250}/32 dev mif0" for i in range(600)])
    bed.wait_running("mif2")
    i2 = bed.ifindex("mif2")
    m.resume()
    m.sync()
    check(m.stderr_text().count("rtnetlink overrun") > before,
          "no overrun reported: the test did not test the resync")
    msgs = m.messages()
    probs = stream_problems(msgs)
    check(not probs, "stream problems:\n  " + "\n  ".join(probs[:20]))
    gone = [x["msg"] for x in msgs if x.get("ifindex") == i1][-5:]
    check(gone == ["no_address_announcement"] * 2 + ["no_pvd_announcement"] * 2 + ["no_interface_announcement"],
          f"mif1's last messages: {gone}")
    new = [(x["msg"], x.get("pvd_name"), x.get("address")) for x in msgs if x.get("ifindex") == i2]
    check(sorted(new) == sorted([("interface_announcement", None, None),
                                 ("pvd_announcement", "mif2/ipv4", None), ("pvd_announcement", "mif2/ipv6", None),
                                 ("address_announcement", "mif2/ipv4", "198.18.2.2"),
                                 ("address_announcement", "mif2/ipv6", "fd6d:6966:2::2")]),
          f"mif2 after the resync: {new}")
    with m.cond:
        m.pos = len(m.msgs)


def test_going_up(bed):
    """Interface is going up (draft 3.2.7.26.5): a new veth taken up while its far end
    is down says it waits for a carrier; the far end up, it waits for an address (only
    fe80:: so far); an address added, its PvD comes and nothing more is said of going
    up. A subscriber arriving while it is going up is told with the interface."""
    m = bed.start_mifctl()
    m.expect_initial()
    bed.ip("host", "link", "add", "mif3", "type", "veth", "peer", "name", "gw3", "netns", bed.ns["a"])
    idx = bed.ifindex("mif3")
    m.expect(iface(idx, "mif3"))
    bed.ip("host", "link", "set", "mif3", "up")
    m.expect(going_up(idx, "mif3", "no_carrier"))
    m.expect_quiet("said once")
    bed.ip("a", "link", "set", "gw3", "up")
    m.expect(going_up(idx, "mif3", "no_address"))
    late = bed.start_mifctl(label="late")
    late.expect_phase([iface(idx, "mif3"), going_up(idx, "mif3", "no_address")], ignore=lambda x: x.get("ifindex") != idx,
                      what="a late subscriber's view of mif3")
    bed.ip("host", "addr", "add", "198.18.3.2/24", "dev", "mif3")
    m.expect_sequence([pvd(idx, "mif3", "ipv4"), addr(idx, "mif3", "198.18.3.2", 24)], what="mif3 usable")
    m.expect_quiet()
    probs = stream_problems(m.messages()[:m.pos])
    check(not probs, "; ".join(probs))


def _want_connect(bed):
    """`mifctl want-connect --json --root ROOT` in the host namespace: its one message."""
    argv = ["ip", "netns", "exec", bed.ns["host"], MIFCTL, "want-connect", "--json", "--root", bed.root]
    bed.guard(argv)
    env = {k: v for k, v in os.environ.items() if k not in ("MIF_LOG", "MIF_CONFIG")}
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env)
    check(p.returncode == 0, f"mifctl want-connect: exit status {p.returncode}\n{p.stdout}{p.stderr}")
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    check(len(lines) == 1 and lines[0]["msg"] == "want_connect_outcome", f"expected one outcome: {lines}")
    return lines[0]


def test_want_connect(bed):
    """Wants to connect (draft 3.2.7.26.1) through mifctl: a no-op while every up
    interface has a PvD; with a link up but unconfigured, the library solicits its
    routers; with the operator's hook configured, the hook runs with the interface
    named in its environment, and its exit status is the answer."""
    out = _want_connect(bed)
    check(out["outcome"] == "no_op", f"every interface configured: {out}")
    bed.ip("host", "link", "add", "mif3", "type", "veth", "peer", "name", "gw3", "netns", bed.ns["a"])
    bed.ip("a", "link", "set", "gw3", "up")
    bed.ip("host", "link", "set", "mif3", "up")
    # Its link-local address, DAD done (the kernel takes a moment): 30 s at most.
    for _ in range(300):
        shown = bed.ip("host", "-6", "addr", "show", "dev", "mif3").stdout
        if "fe80:" in shown and "tentative" not in shown:
            break
        time.sleep(0.1)
    out = _want_connect(bed)
    check(out["outcome"] == "solicited" and out["solicitations"] >= 1, f"mif3 up without an address: {out}")
    marker = os.path.join(bed.tmp, "hook-ran")
    hook = os.path.join(bed.tmp, "hook.sh")
    with open(hook, "w") as f:
        f.write(f"#!/bin/sh\necho \"$MIF_EVENT $MIF_INTERFACES\" > {marker}\nexit 7\n")
    os.chmod(hook, 0o755)
    bed.write("etc/mif.conf", f"want_connect_hook = {hook}\nhook_timeout_ms = 20000\n")
    out = _want_connect(bed)
    check(out["outcome"] == "hook_ran" and out["hook_status"] == 7, f"the hook's status: {out}")
    with open(marker) as f:
        check(f.read().strip() == "want-connect mif3", "the hook's environment")
