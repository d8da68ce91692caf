/*
 * Helpers shared by the libmif benchmarks (the bench programs): options and set-up,
 * clock, percentiles and the RATIO line, the wait that times the listeners of one event,
 * the private-namespace guard, child processes, plain rtnetlink requests and group
 * sockets, entering another namespace, libmif requests (a PvD's id, waiting).
 *
 * Everything is `static inline` so that a benchmark that uses only part of it
 * still builds with -Wall -Wextra -Werror.
 */
#ifndef MIF_BENCH_UTIL_H
#define MIF_BENCH_UTIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mif.h"

/* ---- failure ---- */

static inline void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static inline void check_mif(mif_result r, const char *what)
{
    if (r != MIF_OK)
        die("%s: %s (%d)", what, mif_strerror(r), (int)r);
}

/* Prints the usage text to stderr and exits with status 2. */
static inline void usage_exit(const char *text) __attribute__((noreturn));
static inline void usage_exit(const char *text)
{
    fputs(text, stderr);
    exit(2);
}

static inline int64_t *alloc_i64(size_t n)
{
    int64_t *p = calloc(n ? n : 1, sizeof *p);
    if (!p)
        die("out of memory");
    return p;
}

/* One command-line option for parse_options(): its letter, and where it goes. */
enum bench_opt_kind {
    OPT_TEXT, /* takes a value: *(const char **)dest = the value */
    OPT_INT,  /* takes a value: *(int *)dest = atoi(the value) */
    OPT_FLAG, /* takes none: *(int *)dest = 1 */
};

struct bench_opt {
    char letter;
    enum bench_opt_kind kind;
    void *dest;
};

/* getopt() over the n options of `opts`; calls usage() (which must not return) on an
 * option not among them. */
static inline void parse_options(int argc, char **argv, const struct bench_opt *opts, size_t n, void (*usage)(void))
{
    char spec[64];
    size_t len = 0;
    for (size_t i = 0; i < n && len + 3 <= sizeof spec; i++) {
        spec[len++] = opts[i].letter;
        if (opts[i].kind != OPT_FLAG)
            spec[len++] = ':';
    }
    spec[len] = '\0';
    int opt;
    while ((opt = getopt(argc, argv, spec)) != -1) {
        size_t i = 0;
        while (i < n && opts[i].letter != opt)
            i++;
        if (i == n) {
            usage();
            exit(2);
        }
        if (opts[i].kind == OPT_TEXT)
            *(const char **)opts[i].dest = optarg;
        else if (opts[i].kind == OPT_INT)
            *(int *)opts[i].dest = atoi(optarg);
        else
            *(int *)opts[i].dest = 1;
    }
}

/* mkdtemp(tmpl), or die; `cleanup` (which removes it) runs at exit, also after die(). */
static inline void make_temp_dir(char *tmpl, void (*cleanup)(void))
{
    if (!mkdtemp(tmpl))
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);
}

/* ---- time ---- */

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- statistics (values in ns) ---- */

struct stats {
    size_t n;
    double median, p90, p99, max, min, mean;
};

static inline int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static inline double pct_sorted(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1];
}

/* Sorts a copy; the input keeps its order. */
static inline struct stats stats_of(const int64_t *values, size_t n)
{
    struct stats s = { 0 };
    s.n = n;
    if (n == 0)
        return s;
    int64_t *v = malloc(n * sizeof *v);
    if (!v)
        die("out of memory");
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    s.mean = sum / (double)n;
    s.min = (double)v[0];
    s.max = (double)v[n - 1];
    s.median = pct_sorted(v, n, 50);
    s.p90 = pct_sorted(v, n, 90);
    s.p99 = pct_sorted(v, n, 99);
    free(v);
    return s;
}

/* One line of statistics in microseconds, with `prec` decimals. */
static inline void print_stats_us_prec(const char *label, struct stats s, int prec)
{
    printf("  %-26s n=%-6zu median %8.*f us  p90 %8.*f us  p99 %8.*f us  max %9.*f us\n", label, s.n, prec,
           s.median / 1e3, prec, s.p90 / 1e3, prec, s.p99 / 1e3, prec, s.max / 1e3);
}

static inline void print_stats_us(const char *label, struct stats s)
{
    print_stats_us_prec(label, s, 1);
}

static inline double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* " RATIO NAME: median R  p99 R", then, with `diff` (e.g. "libmif - plain"),
 * ";  DIFF: median D us" (a's median minus b's). */
static inline void print_ratio(const char *name, struct stats a, struct stats b, const char *diff)
{
    printf(" RATIO %s: median %.2f  p99 %.2f", name, ratio(a.median, b.median), ratio(a.p99, b.p99));
    if (diff)
        printf(";  %s: median %.1f us", diff, (a.median - b.median) / 1e3);
    printf("\n");
}

/* ---- timing listeners of one event ---- */

#define MAX_LISTENERS 8

/* The wait of the latency benchmarks, once the event is caused at t0: polls fds[k] of
 * each listener k < n that is active[k] and has not seen the event yet, until
 * `deadline` (now_ns() clock); when fds[k] is readable, seen(k, arg) takes what it holds
 * and says whether the event was among it, and then out[k] = (when poll() returned) - t0.
 * Returns 0 once every active listener has seen it, -1 at the deadline. out[k] is -1
 * for a listener that is not active or has not seen it. */
static inline int time_listeners(int n, const int fds[], const int active[], int (*seen)(int k, void *arg),
                                 void *arg, int64_t t0, int64_t deadline, int64_t out[])
{
    int pending = 0, done[MAX_LISTENERS] = { 0 };
    if (n > MAX_LISTENERS)
        die("time_listeners: more than %d listeners", MAX_LISTENERS);
    for (int k = 0; k < n; k++) {
        out[k] = -1;
        pending += active[k] != 0;
    }
    while (pending > 0) {
        struct pollfd pfd[MAX_LISTENERS];
        int map[MAX_LISTENERS], np = 0;
        for (int k = 0; k < n; k++) {
            if (active[k] && !done[k]) {
                pfd[np] = (struct pollfd){ fds[k], POLLIN, 0 };
                map[np++] = k;
            }
        }
        int64_t left_ms = (deadline - now_ns()) / 1000000;
        int rc = poll(pfd, (nfds_t)np, left_ms > 0 ? (int)left_ms : 0);
        int64_t t = now_ns();
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (rc == 0)
            return -1;
        for (int j = 0; j < np; j++) {
            if (!(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int k = map[j];
            if (seen(k, arg)) {
                done[k] = 1;
                out[k] = t - t0;
                pending--;
            }
        }
    }
    return 0;
}

/* ---- the private-namespace guard ---- */

/* Exits unless this process runs in a network namespace other than PID 1's.
 * Where PID 1's namespace links are unreadable (some sandboxes deny them even to
 * root), kthreadd's (PID 2) serve instead: kernel threads live in the initial
 * network namespace. With neither readable the benchmark refuses to run. */
static inline void require_private_netns(const char *prog)
{
    struct stat self, init;
    if (stat("/proc/self/ns/net", &self) != 0)
        die("%s: cannot stat /proc/self/ns/net: %s", prog, strerror(errno));
    const char *ref = "/proc/1/ns/net";
    if (stat(ref, &init) != 0) {
        int err1 = errno;
        char comm[32] = "";
        FILE *f = fopen("/proc/2/comm", "r");
        if (f) {
            if (!fgets(comm, sizeof comm, f))
                comm[0] = '\0';
            fclose(f);
        }
        ref = "/proc/2/ns/net";
        if (strcmp(comm, "kthreadd\n") != 0 || stat(ref, &init) != 0)
            die("%s: cannot stat /proc/1/ns/net (%s) nor kthreadd's: refusing to run without proof of a "
                "private network namespace", prog, strerror(err1));
    }
    if (self.st_ino == init.st_ino && self.st_dev == init.st_dev)
        die("%s: refusing to run in the host's network namespace (same as %s); run it through "
            "bench/run.sh (ip netns exec NS %s)", prog, ref, prog);
}

/* The start of every benchmark: line-buffered stdout, then the guard above. */
static inline void bench_begin(const char *prog)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    require_private_netns(prog);
}

/* The index of interface `ifname` in this namespace, or die. */
static inline int ifindex_of(const char *ifname)
{
    int ifindex = (int)if_nametoindex(ifname);
    if (ifindex == 0)
        die("no interface %s in this namespace", ifname);
    return ifindex;
}

/* ---- child processes ---- */

struct child {
    pid_t pid;
    int out_fd; /* read end of the child's stdout, or -1 */
};

/* Starts argv with stdout on a pipe (if want_pipe) or /dev/null, stderr kept,
 * stdin /dev/null. The child dies with us (PR_SET_PDEATHSIG). */
static inline struct child spawn(char *const argv[], int want_pipe)
{
    struct child c = { -1, -1 };
    int p[2] = { -1, -1 };
    if (want_pipe && pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            if (!want_pipe)
                dup2(devnull, 1);
        }
        if (want_pipe)
            dup2(p[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (want_pipe) {
        close(p[1]);
        c.out_fd = p[0];
    }
    c.pid = pid;
    return c;
}

static inline int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

/* Runs `nft -f FILE` with `rules` inside network namespace `netns` (ip netns exec), or
 * dies. */
static inline void nft_in_netns(const char *netns, const char *rules)
{
    char path[] = "/tmp/mif-bench-nft.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, rules, strlen(rules)) != (ssize_t)strlen(rules))
        die("nft rules file: %s", strerror(errno));
    close(fd);
    char *argv[] = { "ip", "netns", "exec", (char *)netns, "nft", "-f", path, NULL };
    struct child c = spawn(argv, 0);
    int status = wait_child(c.pid);
    unlink(path);
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("nft -f in %s failed (status %d)", netns, status);
}

static inline void stop_child(struct child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGTERM);
        wait_child(c->pid);
        c->pid = -1;
    }
    if (c->out_fd >= 0) {
        close(c->out_fd);
        c->out_fd = -1;
    }
}

/* Runs argv to completion with stdout on /dev/null; returns elapsed ns or -1. */
static inline int64_t time_command(char *const argv[])
{
    int64_t t0 = now_ns();
    struct child c = spawn(argv, 0);
    int status = wait_child(c.pid);
    int64_t t1 = now_ns();
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return t1 - t0;
}

/* A field such as "voluntary_ctxt_switches" or "VmRSS" from a /proc status file
 * (the number only; kB for Vm*). -1 if absent. */
static inline long long proc_status_field(const char *path, const char *field)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    size_t flen = strlen(field);
    long long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = strtoll(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* A task's context switches so far, from its /proc status file (dies if unreadable). */
struct switches {
    long long vol, nonvol;
};

static inline struct switches switches_of(const char *status_path)
{
    struct switches s = { proc_status_field(status_path, "voluntary_ctxt_switches"),
                          proc_status_field(status_path, "nonvoluntary_ctxt_switches") };
    if (s.vol < 0 || s.nonvol < 0)
        die("cannot read context switches from %s", status_path);
    return s;
}

/* ---- the engine thread ---- */

/* The TID of this process's thread named "mif-engine" (from /proc/self/task/TID/comm),
 * or -1. Dies if there are several. */
static inline long engine_tid_now(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        die("opendir /proc/self/task: %s", strerror(errno));
    long found = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        if (strcmp(comm, "mif-engine\n") == 0) {
            if (found != -1)
                die("more than one mif-engine thread");
            found = strtol(e->d_name, NULL, 10);
        }
    }
    closedir(d);
    return found;
}

/* Like engine_tid_now(), but waits up to 10 s for the name: the thread names itself
 * once it runs, which can be just after mif_open() has returned. */
static inline long engine_tid(void)
{
    for (int i = 0; i < 10000; i++) {
        long tid = engine_tid_now();
        if (tid >= 0)
            return tid;
        sleep_ms(1);
    }
    return -1;
}

/* engine_tid(), or die. */
static inline long engine_tid_or_die(void)
{
    long tid = engine_tid();
    if (tid < 0)
        die("no mif-engine thread");
    return tid;
}

/* CPU time (ns) consumed so far by thread `tid` of this process: the kernel's
 * per-thread CPU clock, MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) as in
 * include/linux/posix-timers.h (valid for threads of the calling process). */
static inline int64_t thread_cpu_ns(long tid)
{
    clockid_t clk = (clockid_t)((~(unsigned)tid << 3) | 6u);
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        die("clock_gettime(thread %ld CPU clock): %s", tid, strerror(errno));
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- rtnetlink ---- */

struct nl_req {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    char attrs[64];
};

static inline int nl_open(unsigned groups)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        die("netlink socket: %s", strerror(errno));
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("netlink bind: %s", strerror(errno));
    return fd;
}

/* A NETLINK_ROUTE socket joined to the rtnetlink multicast group `group` (RTNLGRP_*),
 * with a 4 MiB receive buffer (SO_RCVBUFFORCE; kept as it is if that fails). */
static inline int nl_open_group(int group)
{
    int fd = nl_open(0);
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
        die("NETLINK_ADD_MEMBERSHIP: %s", strerror(errno));
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    return fd;
}

/* One datagram from fd without blocking: its length, or -1 if nothing waits. Dies on
 * an error ("NAME overran (ENOBUFS)", "recv NAME: ..."). */
static inline ssize_t nl_recv_nowait(int fd, char *buf, size_t size, const char *name)
{
    for (;;) {
        ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return -1;
        if (errno == ENOBUFS)
            die("%s overran (ENOBUFS)", name);
        die("recv %s: %s", name, strerror(errno));
    }
}

static inline void nl_add_attr(struct nlmsghdr *nh, unsigned short type, const void *data, unsigned short len)
{
    struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), data, len);
    nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends RTM_NEWADDR / RTM_DELADDR for IPv4 addr/32 on ifindex, with NLM_F_ACK.
 * The ack is read separately with nl_read_ack(). */
static inline void nl_send_addr4(int fd, int type, int ifindex, struct in_addr addr, uint32_t seq)
{
    struct nl_req req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.nh.nlmsg_type = (unsigned short)type;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    if (type == RTM_NEWADDR)
        req.nh.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
    req.nh.nlmsg_seq = seq;
    req.ifa.ifa_family = AF_INET;
    req.ifa.ifa_prefixlen = 32;
    req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    req.ifa.ifa_index = (unsigned)ifindex;
    nl_add_attr(&req.nh, IFA_LOCAL, &addr, 4);
    nl_add_attr(&req.nh, IFA_ADDRESS, &addr, 4);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t n = sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (n != (ssize_t)req.nh.nlmsg_len)
        die("netlink sendto: %s", strerror(errno));
}

/* Reads the ack for seq; dies on an error ack. */
static inline void nl_read_ack(int fd, uint32_t seq)
{
    char buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("netlink recv ack: %s", strerror(errno));
        }
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
            if (nh->nlmsg_type == NLMSG_ERROR && nh->nlmsg_seq == seq) {
                struct nlmsgerr *e = NLMSG_DATA(nh);
                if (e->error != 0)
                    die("netlink request %u failed: %s", seq, strerror(-e->error));
                return;
            }
        }
    }
}

/* True if the datagram holds a message of `type` (RTM_NEWADDR/RTM_DELADDR) for IPv4 `addr`. */
static inline int nl_has_addr4(const char *buf, ssize_t len, int type, struct in_addr addr)
{
    for (const struct nlmsghdr *nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
         nh = NLMSG_NEXT(nh, len)) {
        if (nh->nlmsg_type != type)
            continue;
        const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
        if (ifa->ifa_family != AF_INET)
            continue;
        int alen = (int)IFA_PAYLOAD(nh);
        for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
            if ((rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS) && RTA_PAYLOAD(rta) == 4 &&
                memcmp(RTA_DATA(rta), &addr, 4) == 0)
                return 1;
        }
    }
    return 0;
}

/* ---- working in another namespace ---- */

#include <pthread.h>
#include <sched.h>

struct netns_call {
    const char *nspath;
    int (*fn)(void *);
    void *arg;
    int result;
    char err[200];
};

static inline void *netns_call_thread(void *p)
{
    struct netns_call *c = p;
    int fd = open(c->nspath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(c->err, sizeof c->err, "open %s: %s", c->nspath, strerror(errno));
        return NULL;
    }
    struct stat want, now;
    if (fstat(fd, &want) != 0 || setns(fd, CLONE_NEWNET) != 0) {
        snprintf(c->err, sizeof c->err, "setns %s: %s", c->nspath, strerror(errno));
        close(fd);
        return NULL;
    }
    close(fd);
    /* This thread (only) now lives in that namespace: prove it is the one asked for. */
    if (stat("/proc/thread-self/ns/net", &now) != 0 || now.st_ino != want.st_ino || now.st_dev != want.st_dev) {
        snprintf(c->err, sizeof c->err, "setns %s: the thread is not in that namespace", c->nspath);
        return NULL;
    }
    c->result = c->fn(c->arg);
    return NULL;
}

/* Runs fn(arg) in a short-lived thread that has joined the network namespace `nspath`
 * (e.g. /run/netns/NAME, which must not be the host's); returns fn's result. Sockets
 * fn opens stay in that namespace and can be used by any thread afterwards. Dies if
 * the namespace cannot be entered. This process's other threads are not moved. */
static inline int in_netns(const char *nspath, int (*fn)(void *), void *arg)
{
    struct stat target, init;
    if (stat(nspath, &target) != 0)
        die("%s: %s", nspath, strerror(errno));
    if ((stat("/proc/1/ns/net", &init) == 0 || stat("/proc/2/ns/net", &init) == 0) &&
        target.st_ino == init.st_ino && target.st_dev == init.st_dev)
        die("%s is the host's network namespace: refusing", nspath);
    struct netns_call c = { nspath, fn, arg, -1, "" };
    pthread_t t;
    if (pthread_create(&t, NULL, netns_call_thread, &c) != 0)
        die("pthread_create failed");
    pthread_join(t, NULL);
    if (c.err[0])
        die("%s", c.err);
    return c.result;
}

/* in_netns() for the namespace `ip netns` names NAME (/run/netns/NAME). */
static inline int in_named_netns(const char *name, int (*fn)(void *), void *arg)
{
    char nspath[300];
    snprintf(nspath, sizeof nspath, "/run/netns/%s", name);
    return in_netns(nspath, fn, arg);
}

/* ---- libmif ---- */

/* Dies if m is the engine's final failure message. */
static inline void check_engine(const mif_message *m)
{
    if (m->msg_type == MIF_MSG_ENGINE_FAILED)
        die("libmif engine failed: %s", m->text ? m->text : "?");
}

/* mif_check_message(ctx, ms): 1 if a message waits (or the wait was interrupted), 0 if
 * none came within ms; dies on an error. */
static inline int mif_wait(mif_ctx *ctx, int ms)
{
    mif_result r = mif_check_message(ctx, ms);
    if (r == MIF_NO_MESSAGE)
        return 0;
    if (r != MIF_OK && r != MIF_E_INTERRUPTED)
        check_mif(r, "mif_check_message");
    return 1;
}

/* Takes and frees every waiting message; returns how many. */
static inline size_t mif_drain(mif_ctx *ctx)
{
    size_t n = 0;
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        mif_message_free(m);
        n++;
    }
    return n;
}

/* Posts a request of `type` with ifindex/pvd. */
static inline mif_result mif_post(mif_ctx *ctx, mif_request_type type, uint32_t ifindex, uint64_t pvd)
{
    mif_request req;
    mif_request_init(&req, type);
    req.ifindex = ifindex;
    req.pvd = pvd;
    return mif_post_message(ctx, &req);
}

/* Subscribes to ifindex's PvDs (MIF_REQ_ANNOUNCE_PVDS, left on) and takes every waiting
 * message; returns the id of its PvD of `family` (MIF_FAMILY_IPV4/6), 0 if it has none. */
static inline uint64_t mif_find_pvd(mif_ctx *ctx, uint32_t ifindex, uint8_t family)
{
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_PVDS, ifindex, 0), "announce pvds");
    uint64_t pvd = 0;
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && m->ifindex == ifindex && m->family == family)
            pvd = m->pvd;
        mif_message_free(m);
    }
    return pvd;
}

/* mif_open() with root_dir (the other options at their defaults), or die. */
/* mif_open with root_dir and mif_options.flags (MIF_OPTION_*). */
static inline mif_ctx *mif_open_root_flags(const char *root_dir, mif_option_flags flags)
{
    mif_options o;
    mif_options_init(&o);
    o.root_dir = root_dir;
    o.flags = flags;
    mif_ctx *ctx;
    check_mif(mif_open(&o, &ctx), "mif_open");
    return ctx;
}

static inline mif_ctx *mif_open_root(const char *root_dir)
{
    return mif_open_root_flags(root_dir, 0);
}

#endif
