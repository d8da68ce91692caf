/*
 * idle: what an idle libmif context costs while nothing changes.
 *
 * Opens a context subscribed to everything (interfaces, every PvD, every PvD's
 * addresses and configuration elements), drains it, then sleeps T seconds (default 10) doing nothing. The
 * engine thread (the task whose comm is "mif-engine") has its voluntary and
 * nonvoluntary context switches read from /proc/self/task/TID/status before and
 * after: the target is 0 wake-ups. Also the process's VmRSS / VmHWM.
 * Peer: `ip monitor all`, a child started before the window and left running
 * through the same T seconds; its context switches from /proc/PID/status.
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: idle [-t SECONDS]
 */
#include "bench_util.h"

/* PvDs announced while their configuration was still being learned, less those
 * announced complete since (MIF_MSG_PVD_CONFIGURATION_COMPLETE). */
static int learning_pvds;

static void count_learning(const mif_message *m)
{
    if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && m->config_state == MIF_CONFIG_STATE_LEARNING)
        learning_pvds++;
    else if (m->msg_type == MIF_MSG_PVD_CONFIGURATION_COMPLETE)
        learning_pvds--;
}

/* Subscribes to everything and drains; returns the number of messages. */
static size_t subscribe_everything(mif_ctx *ctx)
{
    size_t n = 0;
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), "announce interfaces");
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        n++;
        count_learning(m);
        if (m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT)
            check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_PVDS, m->ifindex, 0), "announce pvds");
        else if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT) {
            check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, m->pvd), "announce addresses");
            check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, 0, m->pvd), "announce config elements");
        }
        mif_message_free(m);
    }
    return n;
}

static void usage(void)
{
    usage_exit("usage: idle [-t SECONDS]\n");
}

int main(int argc, char **argv)
{
    int secs = 10;
    const struct bench_opt opts[] = { { 't', OPT_INT, &secs } };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (secs < 1 || secs > 3600)
        usage();
    bench_begin("idle");

    long long rss_before = proc_status_field("/proc/self/status", "VmRSS");
    char *ip_argv[] = { "ip", "monitor", "all", NULL };
    struct child ipmon = spawn(ip_argv, 1); /* its output is read after the window */
    fcntl(ipmon.out_fd, F_SETFL, O_NONBLOCK);
    char ip_status[64];
    snprintf(ip_status, sizeof ip_status, "/proc/%d/status", (int)ipmon.pid);

    mif_ctx *ctx;
    check_mif(mif_open(NULL, &ctx), "mif_open");
    size_t initial = subscribe_everything(ctx);
    long tid = engine_tid();
    if (tid < 0)
        die("no thread named mif-engine in /proc/self/task");
    char eng_status[64];
    snprintf(eng_status, sizeof eng_status, "/proc/self/task/%ld/status", tid);

    /* Let both settle (ip monitor start-up, the engine's first wait), and the PvDs'
     * configuration learning end: a new context's IPv6 PvDs are learning until a router
     * answered or the learning window (4 s) passed, and that one timer is not idle cost. */
    int64_t settle0 = now_ns();
    while (learning_pvds > 0 && now_ns() - settle0 < 20 * 1000000000LL) {
        mif_message *m;
        if (mif_check_message(ctx, 1000) != MIF_OK)
            continue;
        while (mif_get_message(ctx, &m) == MIF_OK) {
            count_learning(m);
            mif_message_free(m);
        }
    }
    double settle_s = (double)(now_ns() - settle0) / 1e9;
    sleep_ms(500);
    size_t late = mif_drain(ctx);
    char ipout[4096];
    while (read(ipmon.out_fd, ipout, sizeof ipout) > 0) {
    }
    struct switches e0 = switches_of(eng_status), i0 = switches_of(ip_status);
    int64_t cpu0 = thread_cpu_ns(tid);
    int64_t t0 = now_ns();
    sleep_ms((long)secs * 1000);
    double elapsed = (double)(now_ns() - t0) / 1e9;
    struct switches e1 = switches_of(eng_status), i1 = switches_of(ip_status);
    int64_t cpu1 = thread_cpu_ns(tid);
    size_t during = mif_drain(ctx);
    /* What ip monitor printed during the window (what woke it, if anything). */
    ssize_t got = 0, r;
    while (got < (ssize_t)sizeof ipout - 1 && (r = read(ipmon.out_fd, ipout + got, sizeof ipout - 1 - (size_t)got)) > 0)
        got += r;
    ipout[got > 0 ? got : 0] = '\0';
    int ip_lines = 0;
    for (ssize_t k = 0; k < got; k++)
        ip_lines += ipout[k] == '\n';
    char *nl = strchr(ipout, '\n');
    if (nl)
        *nl = '\0';
    long long rss = proc_status_field("/proc/self/status", "VmRSS");
    long long hwm = proc_status_field("/proc/self/status", "VmHWM");
    long long ip_rss = proc_status_field(ip_status, "VmRSS");
    int ip_pid = (int)ipmon.pid;
    stop_child(&ipmon);
    mif_close(ctx);

    long long e_vol = e1.vol - e0.vol, e_non = e1.nonvol - e0.nonvol;
    long long i_vol = i1.vol - i0.vol, i_non = i1.nonvol - i0.nonvol;
    long long e_tot = e_vol + e_non, i_tot = i_vol + i_non;
    printf("idle: context subscribed to everything (%zu initial messages), its PvDs' configuration learning over "
           "after %.1f s (%d still learning), then %.1f s of nothing\n", initial, settle_s, learning_pvds, elapsed);
    printf("  libmif engine thread (tid %ld): %lld voluntary + %lld nonvoluntary context switches = %lld "
           "wake-ups (%.2f/s)\n", tid, e_vol, e_non, e_tot, (double)e_tot / elapsed);
    printf("  libmif engine thread CPU time during the window: %lld ns\n", (long long)(cpu1 - cpu0));
    printf("  ip monitor all (pid %d):        %lld voluntary + %lld nonvoluntary context switches = %lld "
           "wake-ups (%.2f/s)\n", ip_pid, i_vol, i_non, i_tot, (double)i_tot / elapsed);
    printf("  ip monitor printed %d line(s) during the window%s%s\n", ip_lines, ip_lines ? ", first: " : "",
           ip_lines ? ipout : "");
    printf("  messages that arrived while idle: %zu (plus %zu during the settle time)\n", during, late);
    printf("  memory: this process VmRSS %lld kB (before mif_open %lld kB), VmHWM %lld kB; ip monitor VmRSS %lld kB\n",
           rss, rss_before, hwm, ip_rss);
    printf("  target: 0 engine wake-ups while nothing changes: %s\n", e_tot == 0 ? "met" : "NOT met");
    char ratio_text[64];
    if (e_tot == 0 && i_tot == 0)
        snprintf(ratio_text, sizeof ratio_text, "n/a (both 0)");
    else if (i_tot == 0)
        snprintf(ratio_text, sizeof ratio_text, "n/a (ip monitor 0, libmif %lld)", e_tot);
    else
        snprintf(ratio_text, sizeof ratio_text, "%.2f", (double)e_tot / (double)i_tot);
    printf(" RATIO libmif/ip-monitor wake-ups: %s\n", ratio_text);
    printf("SUMMARY idle: %.0f s: engine %lld wake-ups (%lld vol + %lld nonvol) | ip monitor all %lld | ratio %s | "
           "VmRSS %lld kB VmHWM %lld kB (before open %lld kB)\n",
           elapsed, e_tot, e_vol, e_non, i_tot, ratio_text, rss, hwm, rss_before);
    return 0;
}
