/*
 * event_latency: an IPv4 address is added in the namespace -> the change is
 * readable by the application.
 *
 * For each of N events this process sends RTM_NEWADDR (198.18.x.y/32 on the
 * veth) itself over rtnetlink and, from just before the send, times three
 * listeners of the same event:
 *   - libmif:        mif_fd readable with the matching Address Announcement
 *                    (context subscribed to interfaces, the veth's PvDs and its
 *                    ipv4 PvD's addresses);
 *   - ip monitor:    `ip -o monitor address` (a child process), the matching line
 *                    readable on its stdout pipe (ip flushes after every event);
 *   - kernel floor:  a plain NETLINK_ROUTE socket in this process joined to
 *                    RTNLGRP_IPV4_IFADDR, the RTM_NEWADDR readable.
 * Each address is removed again (RTM_DELADDR, untimed) once every listener has
 * seen the removal, so the interface keeps a steady size (pass 1). Pass 2 repeats
 * without ip monitor running; pass 3 lets A addresses accumulate on the interface
 * to show how the cost grows with the size of a PvD (then removes them); pass 4 is
 * pass 2's counterpart for the peer: the libmif context closed, a fresh ip monitor,
 * N/2 events, so that each is also measured without the other competing for the two
 * CPUs (in pass 1 three listeners wake for every event).
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: event_latency [-i IFNAME] [-n N] [-a A]   (defaults: mlat0, 2000, A = N)
 *   N: events in pass 1 (passes 2 and 4 have N/2); A: addresses accumulated in pass 3.
 */
#include "bench_util.h"


#define TARGET_MEDIAN_US 150.0
#define WAIT_MS 10000

enum { L_MIF, L_IP, L_FLOOR, L_COUNT };

struct line_reader {
    char buf[65536];
    size_t len;
};

/* Reads what the pipe holds; returns 1 if a complete line mentions `needle` and
 * is (deleted=1) or is not (deleted=0) a "Deleted ..." line. Complete lines are
 * consumed, a partial one is kept. Dies on EOF. */
static int pipe_has_line(int fd, struct line_reader *lr, const char *needle, int deleted)
{
    int found = 0;
    for (;;) {
        if (lr->len == sizeof lr->buf)
            lr->len = 0; /* a line this long is not ours */
        ssize_t n = read(fd, lr->buf + lr->len, sizeof lr->buf - lr->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            die("read ip monitor pipe: %s", strerror(errno));
        }
        if (n == 0)
            die("ip monitor exited");
        lr->len += (size_t)n;
    }
    size_t start = 0;
    for (size_t i = 0; i < lr->len; i++) {
        if (lr->buf[i] != '\n')
            continue;
        lr->buf[i] = '\0';
        const char *line = lr->buf + start;
        if (strstr(line, needle) && (strncmp(line, "Deleted", 7) == 0) == deleted)
            found = 1;
        start = i + 1;
    }
    memmove(lr->buf, lr->buf + start, lr->len - start);
    lr->len -= start;
    return found;
}

/* Reads the raw socket until it would block; returns 1 if it saw `type` for addr. */
static int floor_has_addr(int fd, int type, struct in_addr addr)
{
    static char buf[65536];
    int found = 0;
    ssize_t n;
    while ((n = nl_recv_nowait(fd, buf, sizeof buf, "kernel-floor socket")) >= 0)
        found |= nl_has_addr4(buf, n, type, addr);
    return found;
}

/* Takes every waiting message; returns 1 if one is `msg_type` for addr (IPv4). */
static int mif_has_addr(mif_ctx *ctx, mif_message_type msg_type, struct in_addr addr)
{
    int found = 0;
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        check_engine(m);
        if (m->msg_type == msg_type && m->address.family == MIF_FAMILY_IPV4 &&
            memcmp(m->address.bytes, &addr, 4) == 0)
            found = 1;
        mif_message_free(m);
    }
    return found;
}

/* 198.18.1.1 ... 198.18.250.200 for i < 50000; warm-up addresses above. */
static struct in_addr bench_addr(int i)
{
    struct in_addr a;
    char text[32];
    snprintf(text, sizeof text, "198.18.%d.%d", 1 + i / 200, 1 + i % 200);
    inet_pton(AF_INET, text, &a);
    return a;
}
#define WARM_BASE 50000

struct listeners {
    mif_ctx *ctx;
    int fds[L_COUNT];
    struct line_reader *lr;
};

/* What one_event() waits for, for seen_event(). */
struct event_want {
    struct listeners *l;
    int type, deleted;
    mif_message_type want;
    struct in_addr addr;
    const char *needle;
};

/* time_listeners()'s test: listener k's readable fd held the event. */
static int seen_event(int k, void *arg)
{
    struct event_want *e = arg;
    switch (k) {
    case L_MIF:
        return mif_has_addr(e->l->ctx, e->want, e->addr);
    case L_IP:
        return pipe_has_line(e->l->fds[L_IP], e->l->lr, e->needle, e->deleted);
    case L_FLOOR:
        return floor_has_addr(e->l->fds[L_FLOOR], e->type, e->addr);
    }
    return 0;
}

/* Sends `type` (RTM_NEWADDR / RTM_DELADDR) for addr and records, per listener in
 * `active`, when it saw the event (ns after t0, taken just before the send; -1 for
 * listeners not active). Returns 0, or -1 if a listener did not see it within
 * `wait_ms`. The ack is read after the measurement. */
static int one_event(struct listeners *l, int nlfd, int ifindex, int type, struct in_addr addr, uint32_t seq,
                     const int active[L_COUNT], int64_t out[L_COUNT], int wait_ms, int64_t *sent)
{
    char needle[40];
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr, text, sizeof text);
    snprintf(needle, sizeof needle, "inet %s/32 ", text);
    int deleted = type == RTM_DELADDR;
    struct event_want e = { l, type, deleted, deleted ? MIF_MSG_NO_ADDRESS_ANNOUNCEMENT : MIF_MSG_ADDRESS_ANNOUNCEMENT,
                            addr, needle };

    int64_t t0 = now_ns();
    nl_send_addr4(nlfd, type, ifindex, addr, seq);
    if (sent)
        *sent = now_ns() - t0;
    int rc = time_listeners(L_COUNT, l->fds, active, seen_event, &e, t0, t0 + (int64_t)wait_ms * 1000000, out);
    nl_read_ack(nlfd, seq);
    return rc;
}

/* Lets stragglers arrive, then discards whatever every listener holds. */
static void settle_and_drain(struct listeners *l)
{
    sleep_ms(50);
    if (l->ctx)
        mif_drain(l->ctx);
    if (l->fds[L_IP] >= 0)
        pipe_has_line(l->fds[L_IP], l->lr, "\x01", 0);
    if (l->fds[L_FLOOR] >= 0)
        floor_has_addr(l->fds[L_FLOOR], 0, (struct in_addr){ 0 });
}

/* Syncs with a freshly started ip monitor, which may not have joined its groups yet:
 * adds and removes warm-up addresses until it reports one (a start-up wait, not a
 * measurement). `on_add` / `on_del`: the listeners that must see each. */
static void sync_ip_monitor(struct listeners *l, int nlfd, int ifindex, uint32_t *seq, const int on_add[L_COUNT],
                            const int on_del[L_COUNT], const char *what)
{
    int64_t o[L_COUNT];
    for (int w = 0; w < 100; w++) {
        struct in_addr a = bench_addr(WARM_BASE + w);
        int synced = one_event(l, nlfd, ifindex, RTM_NEWADDR, a, (*seq)++, on_add, o, w < 50 ? 200 : 1000, NULL) == 0;
        if (one_event(l, nlfd, ifindex, RTM_DELADDR, a, (*seq)++, on_del, o, WAIT_MS, NULL) != 0)
            die("warm-up removal (%s) not seen within %d ms", what, WAIT_MS);
        if (synced)
            return;
    }
    die("ip monitor (%s) never reported an event", what);
}

/* `n` events, each address added (timed: listener k's latency into lat[k][i] where
 * lat[k] is not NULL, sendto()'s return into sent[i] if not NULL) and removed again
 * (untimed), with the listeners in `active`. */
static void steady_pass(struct listeners *l, int nlfd, int ifindex, uint32_t *seq, const int active[L_COUNT], int n,
                        int64_t *lat[L_COUNT], int64_t *sent, const char *what)
{
    int64_t o[L_COUNT];
    for (int i = 0; i < n; i++) {
        struct in_addr a = bench_addr(i);
        if (one_event(l, nlfd, ifindex, RTM_NEWADDR, a, (*seq)++, active, o, WAIT_MS, sent ? &sent[i] : NULL) != 0)
            die("event %d (%s): not every listener saw it within %d ms (mif %lld, ip %lld, floor %lld ns)", i, what,
                WAIT_MS, (long long)o[L_MIF], (long long)o[L_IP], (long long)o[L_FLOOR]);
        for (int k = 0; k < L_COUNT; k++)
            if (lat[k])
                lat[k][i] = o[k];
        if (one_event(l, nlfd, ifindex, RTM_DELADDR, a, (*seq)++, active, o, WAIT_MS, NULL) != 0)
            die("removal %d (%s) not seen within %d ms", i, what, WAIT_MS);
    }
}

static void usage(void)
{
    usage_exit("usage: event_latency [-i IFNAME] [-n N] [-a A]\n");
}

int main(int argc, char **argv)
{
    const char *ifname = "mlat0";
    int n = 2000, acc = -1;
    const struct bench_opt opts[] = { { 'i', OPT_TEXT, &ifname }, { 'n', OPT_INT, &n }, { 'a', OPT_INT, &acc } };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (acc < 0)
        acc = n;
    if (n < 1 || n > 50000 || acc < 1 || acc > 50000)
        usage();
    bench_begin("event_latency");
    signal(SIGPIPE, SIG_IGN);

    int ifindex = ifindex_of(ifname);

    /* Peer: ip monitor, started first so it is listening by the time we measure. */
    char *ip_argv[] = { "ip", "-o", "monitor", "address", NULL };
    struct child ipmon = spawn(ip_argv, 1);
    fcntl(ipmon.out_fd, F_SETFL, O_NONBLOCK);

    /* Kernel floor: a plain socket joined to RTNLGRP_IPV4_IFADDR. */
    int floor_fd = nl_open_group(RTNLGRP_IPV4_IFADDR);

    /* libmif: interfaces, the veth's PvDs, its ipv4 PvD's addresses. */
    mif_ctx *ctx;
    check_mif(mif_open(NULL, &ctx), "mif_open");
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), "announce interfaces");
    uint64_t pvd4 = mif_find_pvd(ctx, (uint32_t)ifindex, MIF_FAMILY_IPV4);
    if (pvd4 == 0)
        die("%s has no ipv4 PvD (is it up, with carrier and an IPv4 address?)", ifname);
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, pvd4), "announce addresses");
    mif_drain(ctx);
    long tid = engine_tid_or_die();

    int nlfd = nl_open(0);
    struct line_reader *lr = calloc(1, sizeof *lr);
    if (!lr)
        die("out of memory");
    struct listeners l = { ctx, { mif_fd(ctx), ipmon.out_fd, floor_fd }, lr };
    uint32_t seq = 1;
    const int all[L_COUNT] = { 1, 1, 1 };
    const int no_ip[L_COUNT] = { 1, 0, 1 };
    int64_t o[L_COUNT];

    sync_ip_monitor(&l, nlfd, ifindex, &seq, all, no_ip, "start");
    settle_and_drain(&l);
    for (int w = 0; w < 50; w++) {
        struct in_addr a = bench_addr(WARM_BASE + w);
        if (one_event(&l, nlfd, ifindex, RTM_NEWADDR, a, seq++, all, o, WAIT_MS, NULL) != 0 ||
            one_event(&l, nlfd, ifindex, RTM_DELADDR, a, seq++, all, o, WAIT_MS, NULL) != 0)
            die("warm-up event not seen within %d ms", WAIT_MS);
    }
    settle_and_drain(&l);

    /* Pass 1: every listener, steady state (each address removed again, untimed,
     * once all three have seen the removal). */
    int64_t *lat[L_COUNT];
    for (int k = 0; k < L_COUNT; k++)
        lat[k] = alloc_i64((size_t)n);
    int64_t *sent = alloc_i64((size_t)n);
    int64_t t_start = now_ns();
    int64_t cpu_p1 = thread_cpu_ns(tid);
    steady_pass(&l, nlfd, ifindex, &seq, all, n, lat, sent, "pass 1");
    int64_t t_end = now_ns();
    cpu_p1 = thread_cpu_ns(tid) - cpu_p1;

    /* Pass 2: ip monitor stopped, so no peer process competes for the 2 cores. */
    stop_child(&ipmon);
    l.fds[L_IP] = -1;
    int n2 = n / 2 ? n / 2 : 1;
    int64_t *alone_mif = alloc_i64((size_t)n2), *alone_floor = alloc_i64((size_t)n2);
    int64_t *alone_sent = alloc_i64((size_t)n2);
    int64_t cpu_p2 = thread_cpu_ns(tid);
    steady_pass(&l, nlfd, ifindex, &seq, no_ip, n2, (int64_t *[L_COUNT]){ alone_mif, NULL, alone_floor }, alone_sent,
                "pass 2");

    cpu_p2 = thread_cpu_ns(tid) - cpu_p2;

    /* Pass 3: the addresses accumulate (`acc` of them on one interface), to show how the
     * cost grows with the size of the PvD. */
    int64_t *acc_mif = alloc_i64((size_t)acc), *acc_floor = alloc_i64((size_t)acc);
    size_t dec = (size_t)acc / 10 ? (size_t)acc / 10 : 1;
    int64_t cpu_first = 0, cpu_last = 0;
    for (int i = 0; i < acc; i++) {
        if ((size_t)i == 0)
            cpu_first = -thread_cpu_ns(tid);
        if ((size_t)i == dec)
            cpu_first += thread_cpu_ns(tid);
        if ((size_t)i == (size_t)acc - dec)
            cpu_last = -thread_cpu_ns(tid);
        if (one_event(&l, nlfd, ifindex, RTM_NEWADDR, bench_addr(i), seq++, no_ip, o, WAIT_MS, NULL) != 0)
            die("event %d (pass 3) not seen within %d ms", i, WAIT_MS);
        acc_mif[i] = o[L_MIF];
        acc_floor[i] = o[L_FLOOR];
    }
    cpu_last += thread_cpu_ns(tid);
    if ((size_t)acc == dec)
        cpu_first = cpu_last;
    /* Remove them again (untimed). */
    close(floor_fd);
    l.fds[L_FLOOR] = -1;
    for (int i = 0; i < acc; i++) {
        nl_send_addr4(nlfd, RTM_DELADDR, ifindex, bench_addr(i), seq);
        nl_read_ack(nlfd, seq++);
        if (i % 64 == 0)
            mif_drain(ctx);
    }
    sleep_ms(50);
    mif_drain(ctx);

    /* Pass 4: ip monitor alone (pass 2's counterpart): the context closed, a fresh ip
     * monitor synced as at the start, the same add (timed) + remove (untimed) events. */
    mif_close(ctx);
    ctx = NULL;
    char *ip_argv2[] = { "ip", "-o", "monitor", "address", NULL };
    struct child ipmon2 = spawn(ip_argv2, 1);
    fcntl(ipmon2.out_fd, F_SETFL, O_NONBLOCK);
    memset(lr, 0, sizeof *lr);
    l = (struct listeners){ NULL, { -1, ipmon2.out_fd, nl_open_group(RTNLGRP_IPV4_IFADDR) }, lr };
    const int ip_only[L_COUNT] = { 0, 1, 1 };
    const int floor_only[L_COUNT] = { 0, 0, 1 };
    sync_ip_monitor(&l, nlfd, ifindex, &seq, ip_only, floor_only, "pass 4");
    settle_and_drain(&l);
    int64_t *alone_ip = alloc_i64((size_t)n2), *alone_ip_floor = alloc_i64((size_t)n2);
    steady_pass(&l, nlfd, ifindex, &seq, ip_only, n2, (int64_t *[L_COUNT]){ NULL, alone_ip, alone_ip_floor }, NULL,
                "pass 4");
    stop_child(&ipmon2);
    close(l.fds[L_FLOOR]);

    struct stats s_mif = stats_of(lat[L_MIF], (size_t)n);
    struct stats s_ip = stats_of(lat[L_IP], (size_t)n);
    struct stats s_floor = stats_of(lat[L_FLOOR], (size_t)n);
    struct stats s_sent = stats_of(sent, (size_t)n);
    struct stats s_alone = stats_of(alone_mif, (size_t)n2);
    struct stats s_alone_floor = stats_of(alone_floor, (size_t)n2);
    struct stats s_ip_alone = stats_of(alone_ip, (size_t)n2);
    struct stats s_ip_alone_floor = stats_of(alone_ip_floor, (size_t)n2);
    struct stats a_mif_first = stats_of(acc_mif, dec), a_mif_last = stats_of(acc_mif + (size_t)acc - dec, dec);
    struct stats a_fl_first = stats_of(acc_floor, dec), a_fl_last = stats_of(acc_floor + (size_t)acc - dec, dec);

    printf("event_latency: RTM_NEWADDR (198.18.x.y/32 on %s, sent in-process) -> readable\n", ifname);
    printf(" pass 1: %d events, all three listeners on the same events, each address removed "
           "again (untimed); %.2f s\n", n, (double)(t_end - t_start) / 1e9);
    print_stats_us("libmif (mif_fd)", s_mif);
    print_stats_us("ip -o monitor address", s_ip);
    print_stats_us("kernel floor (raw socket)", s_floor);
    print_stats_us("(sendto() returned)", s_sent);
    printf("  libmif engine thread CPU: %.1f us per add+remove\n", (double)cpu_p1 / n / 1e3);
    printf(" pass 2: %d events, ip monitor stopped (no peer process competing for the CPUs)\n", n2);
    print_stats_us("libmif (mif_fd)", s_alone);
    print_stats_us("kernel floor (raw socket)", s_alone_floor);
    print_stats_us("(sendto() returned)", stats_of(alone_sent, (size_t)n2));
    printf("  libmif engine thread CPU: %.1f us per add+remove\n", (double)cpu_p2 / n2 / 1e3);
    printf(" pass 3: %d addresses accumulate on %s (ip monitor stopped); first vs last %zu events\n", acc, ifname,
           dec);
    print_stats_us("libmif, first", a_mif_first);
    print_stats_us("libmif, last", a_mif_last);
    print_stats_us("kernel floor, first", a_fl_first);
    print_stats_us("kernel floor, last", a_fl_last);
    printf("  libmif engine thread CPU per added address: %.1f us with ~%zu addresses, %.1f us with ~%d\n",
           (double)cpu_first / (double)dec / 1e3, dec / 2 + 1, (double)cpu_last / (double)dec / 1e3,
           acc - (int)dec / 2);
    printf(" pass 4: %d events, the libmif context closed, ip monitor alone\n", n2);
    print_stats_us("ip -o monitor address", s_ip_alone);
    print_stats_us("kernel floor (raw socket)", s_ip_alone_floor);
    printf(" kernel floor: median %.1f us\n", s_floor.median / 1e3);
    print_ratio("libmif/ip-monitor", s_mif, s_ip, NULL);
    print_ratio("libmif alone (pass 2)/ip-monitor alone (pass 4)", s_alone, s_ip_alone, NULL);
    printf(" target: libmif median <= %.0f us: %s (pass 1 %.1f us, pass 2 %.1f us)\n", TARGET_MEDIAN_US,
           s_mif.median / 1e3 <= TARGET_MEDIAN_US ? "met" : "NOT met", s_mif.median / 1e3, s_alone.median / 1e3);
    printf("SUMMARY event_latency: libmif median %.1f us p99 %.1f us | ip monitor median %.1f us p99 %.1f us | "
           "ratio median %.2f p99 %.2f | kernel floor median %.1f us | libmif alone median %.1f us p99 %.1f us, "
           "ip monitor alone median %.1f us p99 %.1f us, ratio median %.2f p99 %.2f | "
           "with %d addresses: libmif %.1f us, floor %.1f us, engine CPU %.1f us/event\n",
           s_mif.median / 1e3, s_mif.p99 / 1e3, s_ip.median / 1e3, s_ip.p99 / 1e3, ratio(s_mif.median, s_ip.median),
           ratio(s_mif.p99, s_ip.p99), s_floor.median / 1e3, s_alone.median / 1e3, s_alone.p99 / 1e3,
           s_ip_alone.median / 1e3, s_ip_alone.p99 / 1e3, ratio(s_alone.median, s_ip_alone.median),
           ratio(s_alone.p99, s_ip_alone.p99), acc,
           a_mif_last.median / 1e3, a_fl_last.median / 1e3, (double)cpu_last / (double)dec / 1e3);

    close(nlfd);
    for (int k = 0; k < L_COUNT; k++)
        free(lat[k]);
    free(alone_mif);
    free(alone_floor);
    free(alone_ip);
    free(alone_ip_floor);
    free(acc_mif);
    free(acc_floor);
    free(sent);
    free(alone_sent);
    free(lr);
    return 0;
}
