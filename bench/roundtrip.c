/*
 * roundtrip: the cost of talking to libmif, and of a large initial announcement.
 *
 * Mode 1 (default), on a quiet namespace with a few interfaces:
 *   M times: post MIF_REQ_ANNOUNCE_PVDS for lo, get until that iteration's
 *   messages are taken, post the matching STOP. Times post -> first message
 *   gettable and post -> all taken. The same again with ANNOUNCE_INTERFACES.
 *   Peer: M round trips of an in-process pipe (write -> poll -> read) and of an
 *   eventfd, in the same thread.
 * Mode 2 (-D), on a namespace with many interfaces (bench/run.sh makes 300 veth
 *   pairs, 4 addresses on each end):
 *   mif_open + subscribe to everything (interfaces; on each Interface
 *   Announcement its PvDs; on each PvD Announcement its addresses and its
 *   configuration elements) + drain until
 *   nothing waits; messages/s and total ms. Peer: `ip -j addr show` (a child
 *   process, stdout to /dev/null) on the same host. Each is repeated R times,
 *   alternating; medians are compared.
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: roundtrip [-m M]        (default 10000)
 *        roundtrip -D [-r R]     (default 7)
 */
#include "bench_util.h"

#include <sys/eventfd.h>

#define WAIT_MS 10000

/* Waits (generously) until mif_fd is readable. Dies if nothing comes. */
static void wait_readable(mif_ctx *ctx)
{
    if (!mif_wait(ctx, WAIT_MS))
        die("no message within %d ms", WAIT_MS);
}

/* One request type's round trips. Returns the number of messages per iteration. */
static size_t mif_roundtrips(mif_ctx *ctx, mif_request_type start, mif_request_type stop, uint32_t ifindex, int m,
                             int64_t *first, int64_t *all)
{
    /* Learn how many messages one iteration yields. */
    check_mif(mif_post(ctx, start, ifindex, 0), mif_request_type_name(start));
    size_t k = mif_drain(ctx);
    check_mif(mif_post(ctx, stop, ifindex, 0), mif_request_type_name(stop));
    if (k == 0)
        return 0;
    for (int i = 0; i < m; i++) {
        int64_t t0 = now_ns(), t1 = 0;
        check_mif(mif_post(ctx, start, ifindex, 0), mif_request_type_name(start));
        size_t got = 0;
        while (got < k) {
            mif_message *msg;
            mif_result r = mif_get_message(ctx, &msg);
            if (r == MIF_NO_MESSAGE) {
                wait_readable(ctx);
                continue;
            }
            check_mif(r, "mif_get_message");
            if (got == 0)
                t1 = now_ns();
            if (msg->msg_type == MIF_MSG_ENGINE_FAILED)
                die("engine failed: %s", msg->text ? msg->text : "?");
            mif_message_free(msg);
            got++;
        }
        int64_t t2 = now_ns();
        check_mif(mif_post(ctx, stop, ifindex, 0), mif_request_type_name(stop));
        first[i] = t1 - t0;
        all[i] = t2 - t0;
    }
    mif_drain(ctx);
    return k;
}

static void fd_roundtrips(int wfd, int rfd, size_t len, int m, int64_t *out)
{
    uint64_t one = 1, buf;
    for (int i = 0; i < m; i++) {
        int64_t t0 = now_ns();
        if (write(wfd, &one, len) != (ssize_t)len)
            die("write: %s", strerror(errno));
        struct pollfd p = { rfd, POLLIN, 0 };
        if (poll(&p, 1, WAIT_MS) != 1)
            die("poll: %s", strerror(errno));
        if (read(rfd, &buf, sizeof buf) != (ssize_t)len)
            die("read: %s", strerror(errno));
        out[i] = now_ns() - t0;
    }
}

static int mode_roundtrip(int m)
{
    uint32_t lo = if_nametoindex("lo");
    if (lo == 0)
        die("no lo in this namespace");
    mif_ctx *ctx;
    check_mif(mif_open(NULL, &ctx), "mif_open");
    int64_t *pv_first = alloc_i64((size_t)m), *pv_all = alloc_i64((size_t)m);
    int64_t *if_first = alloc_i64((size_t)m), *if_all = alloc_i64((size_t)m);
    int64_t *pipe_rt = alloc_i64((size_t)m), *efd_rt = alloc_i64((size_t)m);

    /* Warm-up (untimed). */
    mif_roundtrips(ctx, MIF_REQ_ANNOUNCE_INTERFACES, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, m / 10 + 1, if_first,
                   if_all);
    size_t k_pv = mif_roundtrips(ctx, MIF_REQ_ANNOUNCE_PVDS, MIF_REQ_STOP_ANNOUNCING_PVDS, lo, m, pv_first, pv_all);
    size_t k_if = mif_roundtrips(ctx, MIF_REQ_ANNOUNCE_INTERFACES, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, m,
                                 if_first, if_all);
    if (k_if == 0)
        die("ANNOUNCE_INTERFACES gave no message");
    mif_close(ctx);

    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    fd_roundtrips(p[1], p[0], 1, m / 10 + 1, pipe_rt); /* warm-up */
    fd_roundtrips(p[1], p[0], 1, m, pipe_rt);
    close(p[0]);
    close(p[1]);
    int efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0)
        die("eventfd: %s", strerror(errno));
    fd_roundtrips(efd, efd, 8, m / 10 + 1, efd_rt);
    fd_roundtrips(efd, efd, 8, m, efd_rt);
    close(efd);

    struct stats s_pipe = stats_of(pipe_rt, (size_t)m), s_efd = stats_of(efd_rt, (size_t)m);
    struct stats s_if_first = stats_of(if_first, (size_t)m), s_if_all = stats_of(if_all, (size_t)m);
    printf("roundtrip: %d round trips each, one thread, a quiet namespace\n", m);
    struct stats s_pv_first = { 0 }, s_pv_all = { 0 };
    if (k_pv > 0) {
        s_pv_first = stats_of(pv_first, (size_t)m);
        s_pv_all = stats_of(pv_all, (size_t)m);
        printf(" ANNOUNCE_PVDS(lo) -> %zu messages, then STOP_ANNOUNCING_PVDS\n", k_pv);
        print_stats_us_prec("post -> first message", s_pv_first, 2);
        print_stats_us_prec("post -> all taken", s_pv_all, 2);
    } else {
        printf(" ANNOUNCE_PVDS(lo): lo has no PvD here (is it up?); skipped\n");
    }
    printf(" ANNOUNCE_INTERFACES -> %zu messages, then STOP_ANNOUNCING_INTERFACES\n", k_if);
    print_stats_us_prec("post -> first message", s_if_first, 2);
    print_stats_us_prec("post -> all taken", s_if_all, 2);
    printf(" peer: in-process byte round trip, same thread\n");
    print_stats_us_prec("pipe write->poll->read", s_pipe, 2);
    print_stats_us_prec("eventfd write->poll->read", s_efd, 2);
    struct stats s_main = k_pv > 0 ? s_pv_first : s_if_first;
    const char *main_name = k_pv > 0 ? "ANNOUNCE_PVDS(lo)" : "ANNOUNCE_INTERFACES";
    printf(" RATIO libmif %s post->first / pipe round trip: median %.2f  p99 %.2f\n", main_name,
           ratio(s_main.median, s_pipe.median), ratio(s_main.p99, s_pipe.p99));
    printf("SUMMARY roundtrip: %s post->first median %.2f us p99 %.2f us | interfaces (%zu msgs) post->all median "
           "%.2f us | pipe median %.2f us p99 %.2f us | eventfd median %.2f us | ratio median %.2f p99 %.2f\n",
           main_name, s_main.median / 1e3, s_main.p99 / 1e3, k_if, s_if_all.median / 1e3, s_pipe.median / 1e3,
           s_pipe.p99 / 1e3, s_efd.median / 1e3, ratio(s_main.median, s_pipe.median), ratio(s_main.p99, s_pipe.p99));
    free(pv_first);
    free(pv_all);
    free(if_first);
    free(if_all);
    free(pipe_rt);
    free(efd_rt);
    return 0;
}

struct drain_result {
    int64_t open_ns, total_ns;
    size_t msgs, ifaces, pvds, addrs, elements;
};

/* mif_open + subscribe to everything + drain until nothing waits. */
static struct drain_result drain_once(void)
{
    struct drain_result d = { 0 };
    int64_t t0 = now_ns();
    mif_ctx *ctx;
    check_mif(mif_open(NULL, &ctx), "mif_open");
    d.open_ns = now_ns() - t0;
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), "announce interfaces");
    mif_message *m;
    mif_result r;
    while ((r = mif_get_message(ctx, &m)) == MIF_OK) {
        d.msgs++;
        switch (m->msg_type) {
        case MIF_MSG_INTERFACE_ANNOUNCEMENT:
            d.ifaces++;
            check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_PVDS, m->ifindex, 0), "announce pvds");
            break;
        case MIF_MSG_PVD_ANNOUNCEMENT:
            d.pvds++;
            check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, m->pvd), "announce addresses");
            check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, 0, m->pvd), "announce config elements");
            break;
        case MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT:
            d.elements++;
            break;
        case MIF_MSG_ADDRESS_ANNOUNCEMENT:
            d.addrs++;
            break;
        case MIF_MSG_ENGINE_FAILED:
            die("engine failed: %s", m->text ? m->text : "?");
        default:
            break;
        }
        mif_message_free(m);
    }
    check_mif(r == MIF_NO_MESSAGE ? MIF_OK : r, "mif_get_message");
    d.total_ns = now_ns() - t0;
    mif_close(ctx);
    return d;
}

static int mode_drain(int reps)
{
    char *ip_argv[] = { "ip", "-j", "addr", "show", NULL };
    int64_t *mif_total = alloc_i64((size_t)reps), *mif_open_t = alloc_i64((size_t)reps);
    int64_t *ip_total = alloc_i64((size_t)reps), *ip_start = alloc_i64((size_t)reps);
    char *ipv_argv[] = { "ip", "-V", NULL };
    struct drain_result first = { 0 };
    /* Warm-up: page cache, the library's and ip's pages. */
    drain_once();
    if (time_command(ip_argv) < 0)
        die("ip -j addr show failed");
    for (int i = 0; i < reps; i++) {
        struct drain_result d = drain_once();
        if (i == 0)
            first = d;
        else if (d.msgs != first.msgs)
            die("repetition %d announced %zu messages, the first %zu: the namespace changed", i, d.msgs, first.msgs);
        mif_total[i] = d.total_ns;
        mif_open_t[i] = d.open_ns;
        ip_total[i] = time_command(ip_argv);
        if (ip_total[i] < 0)
            die("ip -j addr show failed");
        ip_start[i] = time_command(ipv_argv);
        if (ip_start[i] < 0)
            die("ip -V failed");
    }
    struct stats s_mif = stats_of(mif_total, (size_t)reps), s_open = stats_of(mif_open_t, (size_t)reps);
    struct stats s_ip = stats_of(ip_total, (size_t)reps), s_ipv = stats_of(ip_start, (size_t)reps);
    double rate = (double)first.msgs / (s_mif.median / 1e9);
    printf("drain: mif_open + subscribe to everything + drain, %d repetitions (median, min, max)\n", reps);
    printf("  messages: %zu (%zu interfaces, %zu PvDs, %zu addresses, %zu configuration elements)\n", first.msgs,
           first.ifaces, first.pvds, first.addrs, first.elements);
    printf("  libmif total             median %8.2f ms  min %8.2f ms  max %8.2f ms  (%.0f messages/s)\n",
           s_mif.median / 1e6, s_mif.min / 1e6, s_mif.max / 1e6, rate);
    printf("    of which mif_open      median %8.2f ms\n", s_open.median / 1e6);
    printf("  ip -j addr show >/dev/null median %6.2f ms  min %8.2f ms  max %8.2f ms  (fork+exec included)\n",
           s_ip.median / 1e6, s_ip.min / 1e6, s_ip.max / 1e6);
    printf("    (ip -V, i.e. fork+exec+exit alone: median %.2f ms)\n", s_ipv.median / 1e6);
    printf(" RATIO libmif/ip-j-addr-show: median %.2f\n", ratio(s_mif.median, s_ip.median));
    printf("SUMMARY drain: %zu messages (%zu ifaces, %zu PvDs, %zu addrs) in %.2f ms median (%.0f msg/s; mif_open %.2f "
           "ms) | ip -j addr show %.2f ms | ratio %.2f\n",
           first.msgs, first.ifaces, first.pvds, first.addrs, s_mif.median / 1e6, rate, s_open.median / 1e6,
           s_ip.median / 1e6, ratio(s_mif.median, s_ip.median));
    free(mif_total);
    free(mif_open_t);
    free(ip_total);
    free(ip_start);
    return 0;
}

static void usage(void)
{
    usage_exit("usage: roundtrip [-m M] | roundtrip -D [-r R]\n");
}

int main(int argc, char **argv)
{
    int m = 10000, reps = 7, drain = 0;
    const struct bench_opt opts[] = { { 'm', OPT_INT, &m }, { 'D', OPT_FLAG, &drain }, { 'r', OPT_INT, &reps } };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (m < 1 || m > 10000000 || reps < 1 || reps > 1000)
        usage();
    bench_begin("roundtrip");
    return drain ? mode_drain(reps) : mode_roundtrip(m);
}
