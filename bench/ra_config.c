/*
 * ra_config: a Router Advertisement with a new RDNSS server is sent -> the changed
 * configuration element is readable by the application.
 *
 * Two namespaces joined by a veth: this program runs in the host one (IFNAME, default
 * mif0, with an IPv6 global address so its IPv6 PvD exists; accept_ra=2) and opens a
 * raw ICMPv6 socket in the router one (-S NAME, i.e. /run/netns/NAME; interface -R, default gw0)
 * from a short-lived thread that joins that namespace: the socket stays there, and
 * this program's main thread sends on it. Each RA is hand-built: hop limit 255, from
 * the router's link-local address (the kernel picks it for ff02::1), router lifetime 0,
 * one RDNSS option with a fresh server fd6d:6966:a::N (lifetime 60).
 * For each of N RAs, t0 is taken just before sendto(), then two listeners of the same
 * event in this process are polled:
 *   - libmif: a context subscribed to the IPv6 PvD's configuration elements; mif_fd
 *     readable with the RA element's update whose DNS servers include the new one;
 *   - peer (the kernel floor): a plain NETLINK_ROUTE socket joined to
 *     RTNLGRP_ND_USEROPT, the RTM_NEWNDUSEROPT carrying that RDNSS option readable.
 * After each measured RA the server is withdrawn (the same option with lifetime 0),
 * also timed, and both listeners must see that before the next RA, so the element
 * keeps a steady size: one baseline server fd6d:6966:a::ffff (lifetime 3600, sent once
 * before the measurement) plus the server being measured.
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: ra_config -S ROUTER_NETNS [-R gw0] [-i mif0] [-n N]   (N default 500)
 */
#include "bench_util.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>

#define WAIT_MS 10000
#define RDNSS_LIFETIME 60
#define BASELINE_INDEX 0xffff

enum { L_MIF, L_NL, L_COUNT };

static const char *router_ifname = "gw0";
static char root[] = "/tmp/mif-bench-ra.XXXXXX";

static void remove_root(void)
{
    rmdir(root);
}

struct router_sock {
    int fd;
    int ifindex;
};

/* Runs in the router namespace: the raw ICMPv6 socket used to send RAs. */
static int open_router_socket(void *p)
{
    struct router_sock *rs = p;
    rs->ifindex = (int)if_nametoindex(router_ifname);
    if (rs->ifindex == 0)
        die("no interface %s in the router namespace", router_ifname);
    rs->fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (rs->fd < 0)
        die("raw ICMPv6 socket: %s", strerror(errno));
    int hops = 255;
    if (setsockopt(rs->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
        setsockopt(rs->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0 ||
        setsockopt(rs->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &rs->ifindex, sizeof rs->ifindex) != 0)
        die("raw socket options: %s", strerror(errno));
    int loop = 0;
    setsockopt(rs->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop);
    /* Never read: a filter that blocks every ICMPv6 type keeps its queue empty. */
    struct icmp6_filter filt;
    ICMP6_FILTER_SETBLOCKALL(&filt);
    setsockopt(rs->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof filt);
    return 0;
}

static struct in6_addr server_addr(int n)
{
    struct in6_addr a;
    inet_pton(AF_INET6, "fd6d:6966:a::", &a);
    a.s6_addr[14] = (uint8_t)(n >> 8);
    a.s6_addr[15] = (uint8_t)n;
    return a;
}

/* Sends one RA with one RDNSS option (server, lifetime). */
static void send_ra(const struct router_sock *rs, struct in6_addr server, uint32_t lifetime)
{
    unsigned char pkt[sizeof(struct nd_router_advert) + 24];
    memset(pkt, 0, sizeof pkt);
    struct nd_router_advert *ra = (struct nd_router_advert *)pkt;
    ra->nd_ra_type = ND_ROUTER_ADVERT;
    ra->nd_ra_code = 0;
    ra->nd_ra_curhoplimit = 64;
    ra->nd_ra_router_lifetime = 0; /* not a default router */
    unsigned char *opt = pkt + sizeof *ra;
    opt[0] = 25; /* RDNSS, RFC 8106 */
    opt[1] = 3;  /* 24 bytes */
    uint32_t lt = htonl(lifetime);
    memcpy(opt + 4, &lt, 4);
    memcpy(opt + 8, &server, 16);
    struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)rs->ifindex };
    inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
    if (sendto(rs->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&dst, sizeof dst) != (ssize_t)sizeof pkt)
        die("sendto RA: %s", strerror(errno));
}

/* Reads the ND user-option socket until it would block; returns 1 if one message
 * carried an RDNSS option listing `server` with a lifetime that is zero (want_zero)
 * or not. */
static int nl_has_rdnss(int fd, int ifindex, struct in6_addr server, int want_zero)
{
    static char buf[65536];
    int found = 0;
    ssize_t n;
    while ((n = nl_recv_nowait(fd, buf, sizeof buf, "ND user-option socket")) >= 0) {
        ssize_t len = n;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
            if (nh->nlmsg_type != RTM_NEWNDUSEROPT || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nduseroptmsg)))
                continue;
            struct nduseroptmsg *nd = NLMSG_DATA(nh);
            if (nd->nduseropt_family != AF_INET6 || nd->nduseropt_ifindex != ifindex ||
                nd->nduseropt_icmp_type != ND_ROUTER_ADVERT)
                continue;
            size_t olen = nd->nduseropt_opts_len;
            if (NLMSG_LENGTH(sizeof *nd) + olen > nh->nlmsg_len)
                continue;
            const unsigned char *o = (const unsigned char *)(nd + 1);
            if (olen < 24 || o[0] != 25 || o[1] < 3 || (size_t)o[1] * 8 > olen)
                continue;
            uint32_t lt;
            memcpy(&lt, o + 4, 4);
            if ((ntohl(lt) == 0) != want_zero)
                continue;
            for (size_t off = 8; off + 16 <= (size_t)o[1] * 8; off += 16)
                if (memcmp(o + off, &server, 16) == 0)
                    found = 1;
        }
    }
    return found;
}

static int has_server(const mif_message *m, struct in6_addr server)
{
    for (size_t i = 0; i < m->dns_server_count; i++)
        if (m->dns_servers[i].family == MIF_FAMILY_IPV6 && memcmp(m->dns_servers[i].bytes, &server, 16) == 0)
            return 1;
    return 0;
}

/* Takes every waiting message; returns 1 if one is the RA element's (re-)announcement
 * whose DNS servers include `server` (want_present) or do not. */
static int mif_has_rdnss(mif_ctx *ctx, struct in6_addr server, int want_present, uint64_t *element_id)
{
    int found = 0;
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        check_engine(m);
        if (m->msg_type == MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT && m->element_type == MIF_ELEMENT_RA &&
            has_server(m, server) == want_present) {
            found = 1;
            if (element_id)
                *element_id = m->element_id;
        }
        if (m->msg_type == MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT && !want_present)
            found = 1;
        mif_message_free(m);
    }
    return found;
}

/* What one_ra() waits for, for seen_ra(). */
struct ra_want {
    mif_ctx *ctx;
    int nlfd, ifindex, withdraw;
    struct in6_addr server;
};

/* time_listeners()'s test: listener k's readable fd held the RA's change. */
static int seen_ra(int k, void *arg)
{
    struct ra_want *w = arg;
    return k == L_MIF ? mif_has_rdnss(w->ctx, w->server, !w->withdraw, NULL)
                      : nl_has_rdnss(w->nlfd, w->ifindex, w->server, w->withdraw);
}

/* Sends one RA and times both listeners; returns 0, or -1 if one did not see it
 * within WAIT_MS (out[] keeps -1 for it). */
static int one_ra(const struct router_sock *rs, mif_ctx *ctx, int nlfd, int ifindex, struct in6_addr server,
                  uint32_t lifetime, int64_t out[L_COUNT], int64_t *sent)
{
    static const int both[L_COUNT] = { 1, 1 };
    struct ra_want w = { ctx, nlfd, ifindex, lifetime == 0, server };
    int fds[L_COUNT];
    fds[L_MIF] = mif_fd(ctx);
    fds[L_NL] = nlfd;
    int64_t t0 = now_ns();
    send_ra(rs, server, lifetime);
    if (sent)
        *sent = now_ns() - t0;
    return time_listeners(L_COUNT, fds, both, seen_ra, &w, t0, t0 + (int64_t)WAIT_MS * 1000000, out);
}

static void usage(void)
{
    usage_exit("usage: ra_config -S ROUTER_NETNS [-R ROUTER_IF] [-i IFNAME] [-n N]\n");
}

int main(int argc, char **argv)
{
    const char *ifname = "mif0", *router_ns = NULL;
    int n = 500;
    const struct bench_opt opts[] = { { 'S', OPT_TEXT, &router_ns }, { 'R', OPT_TEXT, &router_ifname },
                                      { 'i', OPT_TEXT, &ifname },    { 'n', OPT_INT, &n } };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (!router_ns || strchr(router_ns, '/') || n < 1 || n > 60000)
        usage();
    bench_begin("ra_config");
    int ifindex = ifindex_of(ifname);

    struct router_sock rs = { -1, 0 };
    in_named_netns(router_ns, open_router_socket, &rs);

    /* Peer: the kernel's own delivery, a plain socket joined to RTNLGRP_ND_USEROPT. */
    int nlfd = nl_open_group(RTNLGRP_ND_USEROPT);

    /* libmif, with an empty root directory so no file of this host adds elements. */
    make_temp_dir(root, remove_root);
    mif_ctx *ctx = mif_open_root(root);
    uint64_t pvd6 = mif_find_pvd(ctx, (uint32_t)ifindex, MIF_FAMILY_IPV6);
    if (pvd6 == 0)
        die("%s has no ipv6 PvD (up, carrier, a global IPv6 address?)", ifname);
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, 0, pvd6), "announce config elements");

    int64_t o2[L_COUNT];
    /* The baseline server, so the element never empties (untimed, but it must arrive). */
    if (one_ra(&rs, ctx, nlfd, ifindex, server_addr(BASELINE_INDEX), 3600, o2, NULL) != 0)
        die("the first RA was not seen within %d ms (mif %lld ns, netlink %lld ns): accept_ra on %s?", WAIT_MS,
            (long long)o2[L_MIF], (long long)o2[L_NL], ifname);
    /* Warm-up. */
    for (int i = 0; i < 20; i++) {
        struct in6_addr s = server_addr(60000 + i);
        if (one_ra(&rs, ctx, nlfd, ifindex, s, RDNSS_LIFETIME, o2, NULL) != 0 ||
            one_ra(&rs, ctx, nlfd, ifindex, s, 0, o2, NULL) != 0)
            die("warm-up RA not seen within %d ms", WAIT_MS);
    }
    sleep_ms(20);
    mif_drain(ctx);
    nl_has_rdnss(nlfd, ifindex, in6addr_any, 0);

    long tid = engine_tid_or_die();
    int64_t *add[L_COUNT], *del[L_COUNT], *sent = alloc_i64((size_t)n);
    for (int k = 0; k < L_COUNT; k++) {
        add[k] = alloc_i64((size_t)n);
        del[k] = alloc_i64((size_t)n);
    }
    int64_t cpu = thread_cpu_ns(tid), t_start = now_ns();
    for (int i = 0; i < n; i++) {
        struct in6_addr s = server_addr(1 + i);
        if (one_ra(&rs, ctx, nlfd, ifindex, s, RDNSS_LIFETIME, o2, &sent[i]) != 0)
            die("RA %d not seen within %d ms (mif %lld ns, netlink %lld ns)", i, WAIT_MS, (long long)o2[L_MIF],
                (long long)o2[L_NL]);
        add[L_MIF][i] = o2[L_MIF];
        add[L_NL][i] = o2[L_NL];
        if (one_ra(&rs, ctx, nlfd, ifindex, s, 0, o2, NULL) != 0)
            die("withdrawal %d not seen within %d ms (mif %lld ns, netlink %lld ns)", i, WAIT_MS,
                (long long)o2[L_MIF], (long long)o2[L_NL]);
        del[L_MIF][i] = o2[L_MIF];
        del[L_NL][i] = o2[L_NL];
    }
    int64_t t_end = now_ns();
    cpu = thread_cpu_ns(tid) - cpu;

    struct stats a_mif = stats_of(add[L_MIF], (size_t)n), a_nl = stats_of(add[L_NL], (size_t)n);
    struct stats d_mif = stats_of(del[L_MIF], (size_t)n), d_nl = stats_of(del[L_NL], (size_t)n);
    printf("ra_config: RA with a new RDNSS server sent (raw ICMPv6 in the router namespace) -> readable in the "
           "host namespace\n");
    printf(" %d RAs with a new server, each withdrawn again (lifetime 0) before the next; %.2f s\n", n,
           (double)(t_end - t_start) / 1e9);
    print_stats_us("libmif element update", a_mif);
    print_stats_us("raw netlink ND_USEROPT", a_nl);
    print_stats_us("(sendto() returned)", stats_of(sent, (size_t)n));
    printf(" withdrawal of that server (lifetime 0):\n");
    print_stats_us("libmif element update", d_mif);
    print_stats_us("raw netlink ND_USEROPT", d_nl);
    printf("  libmif engine thread CPU: %.1f us per RA (add + withdrawal averaged)\n", (double)cpu / (2.0 * n) / 1e3);
    print_ratio("libmif/raw-netlink (new server)", a_mif, a_nl, "libmif - netlink");
    printf("SUMMARY ra_config: new RDNSS server: libmif median %.1f us p99 %.1f us | raw netlink median %.1f us p99 "
           "%.1f us | ratio median %.2f p99 %.2f | withdrawal: libmif median %.1f us, netlink %.1f us | engine CPU "
           "%.1f us/RA\n",
           a_mif.median / 1e3, a_mif.p99 / 1e3, a_nl.median / 1e3, a_nl.p99 / 1e3, ratio(a_mif.median, a_nl.median),
           ratio(a_mif.p99, a_nl.p99), d_mif.median / 1e3, d_nl.median / 1e3, (double)cpu / (2.0 * n) / 1e3);

    mif_close(ctx);
    close(nlfd);
    close(rs.fd);
    for (int k = 0; k < L_COUNT; k++) {
        free(add[k]);
        free(del[k]);
    }
    free(sent);
    return 0;
}
