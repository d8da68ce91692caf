"""Configuration readiness (docs/configuration.md, "Readiness"; our addition to draft
3.2.7.7 and 3.2.7.17): a PvD's configuration is "learning" after a context opens or
its link comes up, until its routers answered, it is configured otherwise, or the
learning window passed; Translate Name on a learning PvD waits for it instead of
ending "no_servers", and mifctl config asks each PvD once it is complete.

Net A's router (gw0) runs radvd (RDNSS fd6d:6966:a::1, DNSSL a.example) and a DNS
server on fd6d:6966:a::1 that answers www.a.example. The host's mif0 keeps the static
fd6d:6966:a::2 (nodad), so mif0/ipv6 exists before any RA; the RA brings only its DNS
configuration (and SLAAC)."""

import time

from bed import check, norm_addrs
from dnsbed import DnsBed
from test_config_ra import S1, STATIC6, radvd_body, wait_full_ra

NAME = "www.a.example"
ANSWER6 = "fd6d:6966:a::80"
ANSWER4 = "198.51.100.80"


def dns_on_router(bed):
    dns = DnsBed(bed)
    server = dns.dnsmasq("a", [S1], hosts={NAME: [ANSWER6, ANSWER4]}, local=("a.example",))
    return dns, server


def answered(r, what):
    done = r.done(1)
    check(done["status"] == "done" and done["pvd_name"] == "mif0/ipv6",
          f"{what}: the translation on mif0/ipv6 ends done, not {done['status']}\n" + r.describe())
    check(r.addresses(1) == {ANSWER6, ANSWER4}, f"{what}: both addresses through the RA's server\n" + r.describe())


def block_router_advertisements(dns):
    """Net A's router stops advertising to the host (its RAs are dropped on the way
    out) and counts the Router Solicitations it receives."""
    dns.nft("a", """table ip6 ready {
  chain out {
    type filter hook output priority 0;
    icmpv6 type nd-router-advert counter drop comment "ra"
  }
  chain in {
    type filter hook input priority 0;
    icmpv6 type nd-router-solicit counter comment "rs"
  }
}
""")


def test_readiness_fresh_context_translates_at_once(bed):
    """The network has been up for a while (the host heard the RA); a new context opened
    now (mifresolve, and mifctl config) knows no RA DNS options yet, since the kernel keeps
    none. Posted at once, the translation on mif0/ipv6 waits for the answer to the
    context's Router Solicitation instead of ending "no_servers"; mifctl config, with no
    sleep, lists the RA's server."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    dns, server = dns_on_router(bed)
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    ll = bed.router_ll()
    # After its first RAs, radvd advertises only every 150-200 s: a context opened
    # later learns the options only by asking.
    bed.start_radvd(radvd_body(max_interval=200, min_interval=150))
    wait_full_ra(bed, m, idx, ll)
    r = dns.resolve("mif0/ipv6", NAME)
    answered(r, "a context opened after the RA")
    server.wait_queries(lambda q: q[1] == NAME and q[2] == STATIC6, "the queries from mif0/ipv6", 2)
    data = [x for x in bed.mifctl_config("--interface", "mif0") if x.get("pvd_name") == "mif0/ipv6"]
    check(len(data) == 1 and data[0]["msg"] == "configuration_data" and data[0]["config_state"] == "complete"
          and norm_addrs(data[0]["dns_servers"]) == [S1],
          f"mifctl config (no fixed wait) for mif0/ipv6: the RA's server {S1}, complete: {data}")
    sources = {norm_addrs([a])[0]: v for a, v in data[0]["dns_server_sources"].items()}
    check(sources == {S1: ["ra"]}, f"mifctl config: the server's provenance is the RA: {data[0]}")


def link_comes_up_on_ra_network(bed):
    """mif0 goes down and up again on an RA-only network whose router advertises only
    every 150-200 s after its first RAs; returns the DnsBed once the kernel reports the
    link running."""
    bed.accept_ra("mif0")
    dns, _ = dns_on_router(bed)
    bed.start_radvd(radvd_body(max_interval=200, min_interval=150))
    bed.ip("host", "link", "set", "mif0", "down")
    # An admin down deletes the static IPv6 address (keep_addr_on_down=0): put it back.
    bed.ip("host", "-6", "addr", "add", f"{STATIC6}/64", "dev", "mif0", "nodad")
    bed.ip("host", "link", "set", "mif0", "up")
    bed.wait_running("mif0")
    return dns


def test_readiness_link_up_translates_at_once(bed):
    """mif0 comes up on an RA-only network; as soon as the kernel reports it running, a
    context is opened and translates on mif0/ipv6: it gets the answer (the router's RA,
    asked for by the kernel and by the context, brings the DNS server)."""
    dns = link_comes_up_on_ra_network(bed)
    r = dns.resolve("mif0/ipv6", NAME)
    answered(r, "a context opened as the link came up")


def test_readiness_fd_mode_waiter_reads_queries_started_later(bed):
    """The same, by an application that asked for mif_fd (fd mode) but waits in
    mif_check_message(-1), with the engine told to leave DNS alone
    (MIF_TEST_ENGINE_LEAVES_DNS): the translation waits for mif0/ipv6's configuration,
    so no query is out when the wait begins; the engine starts the queries when the RA
    comes, and in fd mode leaves their answers to the application's threads. The
    waiting thread must watch the query sockets although none was out when it began,
    or it would sleep until the test's own timeout. (radvd answers the context's
    Router Solicitation after a random delay of up to 500 ms, so the RA comes after
    the post in practice; should it come before, the queries are out when the wait
    begins and the case passes without the path it is for: it hung with that path
    removed, tried.)"""
    dns = link_comes_up_on_ra_network(bed)
    r = dns.resolve("mif0/ipv6", NAME, ask_fd=True, wait_forever=True, engine_leaves_dns=True)
    answered(r, "fd mode, waiting in mif_check_message(-1)")


def test_readiness_window_passes_without_router(bed):
    """No router on the link: the translation on mif0/ipv6 ends "no_servers" once the
    learning window (here 700 ms) passed: not at once, and not never. mifctl config
    answers after the window too, with the PvD complete."""
    dns = DnsBed(bed)
    start = time.monotonic()
    r = dns.resolve("mif0/ipv6", NAME, learning_ms=700)
    elapsed = time.monotonic() - start
    done = r.done(1)
    check(done["status"] == "no_servers", f"no router: no_servers after the window, not {done}\n" + r.describe())
    check(elapsed >= 0.7, f"the translation waited for the learning window (700 ms): it took {elapsed:.3f} s")
    start = time.monotonic()
    data = [x for x in bed.mifctl_config("--interface", "mif0", "--learning", "700")
            if x.get("pvd_name") == "mif0/ipv6"]
    elapsed = time.monotonic() - start
    check(len(data) == 1 and data[0]["config_state"] == "complete" and data[0].get("dns_servers", []) == [],
          f"mifctl config: mif0/ipv6 complete, without DNS servers: {data}")
    check(elapsed >= 0.7, f"mifctl config asked once the window passed: it took {elapsed:.3f} s")


def test_readiness_without_cap_net_raw(bed):
    """An application without CAP_NET_RAW sends no Router Solicitation (the router counts
    none) and so learns RA DNS options only from the router's next periodic RA; with the
    router's RAs held back, its translation on mif0/ipv6 ends "no_servers" after the
    learning window, as documented. The same with the capability: a solicitation is
    sent (counted), and with no RA coming back the outcome is the same."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    bed.accept_ra("mif0")
    dns, server = dns_on_router(bed)
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    bed.start_radvd(radvd_body(max_interval=200, min_interval=150))
    wait_full_ra(bed, m, idx, bed.router_ll())
    block_router_advertisements(dns)
    start = time.monotonic()
    r = dns.resolve("mif0/ipv6", NAME, learning_ms=700, drop_net_raw=True)
    elapsed = time.monotonic() - start
    check(r.done(1)["status"] == "no_servers" and elapsed >= 0.7,
          f"without CAP_NET_RAW: no_servers after the window ({elapsed:.3f} s)\n" + r.describe())
    check(dns.nft_counters("a", "ip6", "ready").get("rs") == 0,
          f"without CAP_NET_RAW no Router Solicitation reached the router: {dns.nft_counters('a', 'ip6', 'ready')}")
    r = dns.resolve("mif0/ipv6", NAME, learning_ms=700)
    check(r.done(1)["status"] == "no_servers", "with CAP_NET_RAW but no RA: no_servers\n" + r.describe())
    check(dns.nft_counters("a", "ip6", "ready").get("rs", 0) >= 1,
          f"with CAP_NET_RAW the context solicited: {dns.nft_counters('a', 'ip6', 'ready')}")
    check(server.queries() == [], f"no query left without a server: {server.queries()}")
    # The router advertises again (for the final comparison with a fresh context).
    bed.ns_exec("a", "nft", "delete", "table", "ip6", "ready")
