"""ENOBUFS: a tiny rtnetlink receive buffer, mifctl stopped while thousands of
address changes happen; the library must notice the overrun, resync, and leave the
subscriber with exactly the kernel's addresses, without bogus messages."""

import ipaddress

from bed import addr, check, diff_sets, replay_addresses, stream_problems

N4 = 1000        # IPv4 /32 in 198.18.1.0 .. 198.18.4.231
N6 = 1000        # IPv6 /128 in fd6d:6966:f::/64
DEL_EVERY = 7    # then delete every 7th of each (~285 deletions)
NPRE = 100       # announced before the stop, deleted during it (each family)
DEPR = "fd6d:6966:a::d0"   # announced before the stop, deprecated during it


def pre_lines():
    v4 = [str(ipaddress.ip_address("198.18.100.0") + i) for i in range(NPRE)]
    v6 = [str(ipaddress.ip_address("fd6d:6966:e::") + 1 + i) for i in range(NPRE)]
    return ([f"addr add {a}/32 dev mif0" for a in v4] +
            [f"addr add {a}/128 dev mif0 nodad" for a in v6] +
            [f"addr add {DEPR}/64 dev mif0 valid_lft 600 preferred_lft 600 nodad"],
            [f"addr del {a}/32 dev mif0" for a in v4] + [f"addr del {a}/128 dev mif0" for a in v6])


def flood_lines():
    """The first events queued are adds of addresses deleted later in the flood: an
    engine that applied events left in its socket after the re-dump would announce
    them (stale) and never take them back."""
    v4 = [str(ipaddress.ip_address("198.18.0.0") + 256 + i) for i in range(N4)]
    v6 = [str(ipaddress.ip_address("fd6d:6966:f::") + 1 + i) for i in range(N6)]
    lines = [f"addr add {a}/32 dev mif0" for a in v4]
    lines += [f"addr add {a}/128 dev mif0 nodad" for a in v6]
    lines += [f"addr del {a}/32 dev mif0" for a in v4[::DEL_EVERY]]
    lines += [f"addr del {a}/128 dev mif0" for a in v6[::DEL_EVERY]]
    return lines


def test_enobufs_flood(bed):
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl("--test-rcvbuf", "4096", env={"MIF_LOG": "info"})
    m.expect_initial()
    p4, p6 = m.pvd_id("mif0/ipv4"), m.pvd_id("mif0/ipv6")

    # Addresses announced before the stop, then removed or changed while stopped.
    adds, dels = pre_lines()
    bed.ip_batch("host", adds)
    m.sync()
    with m.cond:
        m.pos = len(m.msgs)
    check(replay_addresses(m.messages()) == bed.kernel_addresses(),
          "before the flood: " + diff_sets(replay_addresses(m.messages()), bed.kernel_addresses()))
    overruns_before = m.stderr_text().count("rtnetlink overrun")

    m.pause()                               # SIGSTOP: the whole process, engine included
    bed.ip_batch("host", flood_lines() + dels +
                 [f"addr change {DEPR}/64 dev mif0 valid_lft 600 preferred_lft 0"])
    m.resume()                              # SIGCONT
    m.sync()                                # wait until the engine has caught up
    with m.cond:
        m.pos = len(m.msgs)

    # (a) the overrun really happened and was reported
    err = m.stderr_text()
    check(err.count("rtnetlink overrun") > overruns_before,
          "no (new) 'rtnetlink overrun' on stderr: the flood did not overrun the 4096-byte "
          f"buffer, or it went unnoticed. stderr:\n{err[-2000:]}")

    msgs = m.messages()
    # (b) the replayed stream equals the kernel's addresses, per interface
    want, have = bed.kernel_addresses(), replay_addresses(msgs)
    check(len(want.get(idx, ())) > N4 + N6 - 2 * (N4 // DEL_EVERY + 1),
          f"the flood did not leave the expected addresses in the kernel: {len(want.get(idx, ()))}")
    check(want == have, f"replayed messages differ from the kernel after the resync: {diff_sets(have, want)}")

    # (c) no No Address for an address not announced, no identical re-announcement
    probs = stream_problems(msgs)
    check(not probs, f"{len(probs)} stream problems, first ones:\n  " + "\n  ".join(probs[:20]))

    last = [x for x in msgs if x.get("address") == DEPR][-1]
    check(last["msg"] == "address_announcement" and "deprecated" in last["flags"]
          and last["preferred_lifetime"] == 0,
          f"{DEPR} deprecated during the stop: the resync must announce the update: {last}")

    # (d) still following changes after the flood
    for a, plen, p in (("fd6d:6966:a::abcd", 128, p6), ("198.51.100.222", 24, p4)):
        bed.ip("host", "addr", "add", f"{a}/{plen}", "dev", "mif0", *(["nodad"] if ":" in a else []))
        m.expect(addr(idx, "mif0", a, plen, pvd=p), what=f"{a} added after the flood")
        bed.ip("host", "addr", "del", f"{a}/{plen}", "dev", "mif0")
        m.expect(addr(idx, "mif0", a, plen, gone=True, pvd=p), what=f"{a} removed after the flood")
    m.expect_quiet()


def test_enobufs_solicitations_paced(bed):
    """Overrun after overrun (a 4096-byte buffer, mifctl stopped during bursts of address
    changes): the library re-reads after each, but sends at most 3 Router
    Solicitations on the link (RFC 4861's count, 4 s apart), counted by the router."""
    from dnsbed import DnsBed
    dns = DnsBed(bed)
    dns.nft("a", """table ip6 rs {
  chain in {
    type filter hook input priority 0;
    icmpv6 type nd-router-solicit counter comment "rs"
  }
}
""")
    m = bed.start_mifctl("--test-rcvbuf", "4096", env={"MIF_LOG": "info"})
    m.expect_initial()
    for burst in range(5):
        v4 = [str(ipaddress.ip_address("198.18.0.0") + 256 + 1000 * burst + i) for i in range(600)]
        m.pause()
        bed.ip_batch("host", [f"addr add {a}/32 dev mif0" for a in v4])
        m.resume()
        m.sync()
    overruns = m.stderr_text().count("rtnetlink overrun")
    check(overruns >= 3, f"the bursts overran the buffer ({overruns} overruns)")
    rs = dns.nft_counters("a", "ip6", "rs").get("rs")
    check(rs is not None and 1 <= rs <= 3, f"{overruns} overruns: {rs} Router Solicitations reached the router (1 to 3)")
