"""Address lifetimes and flags: finite lifetimes reported, deprecation announced as an
update, lifetimes counting down between two subscriptions."""

import time

from bed import addr, check

A = "fd6d:6966:a::10"


def test_lifetimes(bed):
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial()
    p6 = m.pvd_id("mif0/ipv6")

    bed.ip("host", "addr", "add", f"{A}/64", "dev", "mif0", "valid_lft", 300, "preferred_lft", 200, "nodad")
    first = m.expect(addr(idx, "mif0", A, 64, pvd=p6))
    vl, pl = first["valid_lifetime"], first["preferred_lifetime"]
    check(isinstance(vl, int) and 0 < vl <= 300, f"valid_lifetime must be in 1..300: {first}")
    check(isinstance(pl, int) and 0 < pl <= 200, f"preferred_lifetime must be in 1..200: {first}")
    check(pl <= vl, f"preferred_lifetime > valid_lifetime: {first}")
    check(not {"deprecated", "tentative", "permanent"} & set(first["flags"]),
          f"a fresh address with finite lifetimes: no deprecated/tentative/permanent flag: {first}")
    m.expect_quiet()

    # Preferred lifetime 0: the address is deprecated, announced again as an update.
    # (The kernel may report the change in more than one step: earlier updates of the
    # same address are allowed, the last one must be deprecated with preferred 0.)
    bed.ip("host", "addr", "change", f"{A}/64", "dev", "mif0", "valid_lft", 300, "preferred_lft", 0)
    same = addr(idx, "mif0", A, 64, pvd=p6)
    upd = m.expect(lambda x: all(x.get(k) == v for k, v in same.items() if k != "address")
                   and x.get("address") == A and "deprecated" in x["flags"],
                   skip=lambda x: x.get("msg") == "address_announcement" and x.get("address") == A,
                   what=f"an update of {A} with the deprecated flag")
    check(upd["preferred_lifetime"] == 0, f"deprecated address: preferred_lifetime 0 expected: {upd}")
    check(isinstance(upd["valid_lifetime"], int) and 0 < upd["valid_lifetime"] <= 300,
          f"valid_lifetime must be in 1..300: {upd}")
    m.expect_quiet()

    # The lifetimes count down: a fresh subscription some seconds later reports less.
    # (The sleep only makes the kernel's clock move; the assertion compares values.)
    time.sleep(3)
    m2 = bed.start_mifctl(label="mifctl2")
    m2.expect_initial()
    later = [x for x in m2.messages() if x.get("msg") == "address_announcement" and x.get("address") == A]
    check(len(later) == 1, f"second subscription: one announcement of {A} expected: {later}")
    later = later[0]
    check("deprecated" in later["flags"] and later["preferred_lifetime"] == 0,
          f"second subscription: still deprecated with preferred 0: {later}")
    check(isinstance(later["valid_lifetime"], int) and later["valid_lifetime"] < upd["valid_lifetime"],
          f"valid_lifetime must have counted down: first report {upd['valid_lifetime']}, "
          f"a later subscription {later['valid_lifetime']}")
    m.expect_quiet("no further message on the first subscription")


def test_lifetimes_expire(bed):
    """The kernel's own timers: preferred lifetime over -> an update with "deprecated"
    and preferred 0; valid lifetime over -> No Address. IPv4 and IPv6."""
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial()
    cases = {"fd6d:6966:a::11": 64, "198.51.100.11": 24}
    for a, plen in cases.items():
        bed.ip("host", "addr", "add", f"{a}/{plen}", "dev", "mif0", "valid_lft", 4, "preferred_lft", 2,
               *(["nodad"] if ":" in a else []))
    # Wait for both removals (the kernel's timers; generous timeout only to fail).
    for a, plen in cases.items():
        m._wait_index(m.pos, addr(idx, "mif0", a, plen, gone=True), f"{a} to expire",
                      timeout=30, skip=lambda x: True)
    m.sync()
    for a, plen in cases.items():
        seq = [x for x in m.messages()[m.pos:] if x.get("address") == a]
        kinds = [("-" if x["msg"].startswith("no_") else "+") +
                 ("D" if "deprecated" in x.get("flags", []) else "") for x in seq]
        check(kinds in (["+", "+D", "-"], ["+", "+D", "-D"]),
              f"{a}: expected announcement, deprecated update, No Address; got "
              + "; ".join(str(x) for x in seq))
        check(seq[1]["preferred_lifetime"] == 0 and seq[1]["prefix_len"] == plen,
              f"{a}: the deprecated update must have preferred_lifetime 0: {seq[1]}")
        check(0 <= seq[1]["valid_lifetime"] <= 4, f"{a}: valid_lifetime out of range: {seq[1]}")
    others = [x for x in m.pending() if x.get("address") not in cases]
    check(not others, f"unexpected messages: {others}")
    with m.cond:
        m.pos = len(m.msgs)
