/*
 * continuity: how long a line stream stops when its network goes, four ways, in one run:
 * libmif's follow mode on an announced loss and on an unannounced one, Multipath TCP
 * with a subflow endpoint on the second network, and a naive TCP connection (the peer).
 *
 * Runs in the host namespace of bench/run.sh's four-namespace bed:
 *
 *   [host]  mif0 198.51.100.2/24 ==veth== gw0 198.51.100.1 [net A] ==veth== [server]
 *           mif1 203.0.113.2/24  ==veth== gw1 203.0.113.1  [net B] ==veth== [server]
 *
 * The server namespace (-S) holds 198.18.0.80 on its lo, routed back to 198.51.100.0/24
 * through A and to 203.0.113.0/24 through B; the host has two default routes, via A
 * (metric 100) and via B (metric 200). So one server, one address, two paths: only the
 * route decides which network carries a connection. The echo server is a thread of this
 * process working in the server namespace (one clock for everything): TCP on 9101,
 * MPTCP (IPPROTO_MPTCP) on 9102; each connection gets back every byte it sends. The
 * library's root directory has etc/hosts naming 198.18.0.80 echo.bench.
 *
 * The stream: the client sends the numbered line "N\n" every LINE_MS (5) ms and reads the
 * echoes (in order, each checked). When it moves to another connection it resends every
 * line not echoed yet. A trial: connect (over A), stream 200 ms, the event, stream until
 * the stream works again plus 100 ms, stop sending and wait (2 s at most) for the
 * echoes; "lost" = lines sent and never echoed. The event is sent over rtnetlink by a
 * helper thread, so the stream goes on meanwhile; t_loss = just before its sendto().
 *
 *   1. announced loss, follow mode: Connect to Name echo.bench:9101 with
 *      MIF_CONNECT_FOLLOW; the event: mif0's address changed to preferred 0, valid 3 s
 *      (RTM_NEWADDR, NLM_F_REPLACE); the library races the name again over B and delivers
 *      a replacement MIF_MSG_CONNECTED (replacement 1) for the same id while the old
 *      address still works; the client switches at once (closes the old socket, resends).
 *      gap = last echo on the old connection -> first echo on the new. Target: no line
 *      lost, gap <= RTT + LINE_MS. Afterwards the lifetimes are made forever again.
 *   2. unannounced loss, follow mode: the same connect; the event: network A's end of the
 *      link (gw0) deleted in A (RTM_DELLINK; the veth pair goes, mif0 with it). Printed:
 *      loss -> this process's own rtnetlink socket reads mif0's RTM_DELLINK (or NEWLINK
 *      without carrier), that event -> replacement Connected taken, the replacement's
 *      attempt (start in its race and duration, from its establishment report),
 *      replacement -> first echo. Target: gap <= detection + attempt start + RTT + 10 ms.
 *      The link is made again afterwards (`ip link add ...`).
 *   3. MPTCP with an endpoint present: `ip mptcp endpoint add 203.0.113.2 dev mif1
 *      subflow` here, limits subflow 2 / add_addr_accepted 2 here and in the server, a
 *      policy route (from 203.0.113.2 lookup 102: via B). Connect to Name with
 *      MIF_CONNECT_MPTCP to 9102 (falls back to a plain MPTCP socket routed by the host
 *      if the library's gets no second subflow); the trial starts once MPTCP_INFO shows
 *      the extra subflow. The event: as in 2. No reconnect: gap = the longest pause
 *      between consecutive echoes after the loss. Printed with the kernel's MPTcpExt
 *      counters (client and server). Then again (3b) with net.mptcp.stale_loss_cnt 1 in
 *      this and the server namespace (put back afterwards): how much of the gap is the
 *      kernel waiting to call the dead subflow stale. Skipped, saying why, when MPTCP
 *      cannot work here (net.mptcp.enabled 0, no IPPROTO_MPTCP socket, no endpoint).
 *   4. naive TCP: a plain socket routed by the host (over A), TCP_USER_TIMEOUT 5000 ms
 *      (the real default: about 15 minutes of retransmissions); the event: as in 2. The
 *      kernel reports an error (ETIMEDOUT, or the last soft error it saw) after the user
 *      timeout; the client then reconnects (now routed over B) and resends. gap = last echo -> first echo on the new connection.
 * Ratios: each case's gap against the naive one. Measured, never asserted. Must run
 * inside a private network namespace.
 *
 * usage: continuity -A NETNS_A -S NETNS_SERVER [-n N] [-v]
 *   N: trials per case (default 3); -v: each trial's phases on stderr.
 */
#include "bench_util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <sys/ioctl.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; net/if.h (glibc) does not define it */
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#define MPTCP_INFO_OPT 1 /* linux/mptcp.h MPTCP_INFO */

#define NAME "echo.bench"
#define SERVER_ADDR "198.18.0.80"
#define PORT_TCP 9101
#define PORT_MPTCP 9102
#define LINE_MS 5
#define WARMUP_MS 200
#define AFTER_MS 100
#define DRAIN_MS 2000
#define VALID_S 3
#define USER_TIMEOUT_MS 5000
#define RECOVER_LIMIT_MS 12000
#define MAX_LINES 20000
#define MAX_CONNS 64

static const char *ns_a, *ns_s;
static int verbose;

/* -v: a line on stderr per phase of each trial, with the time since the last one. */
static void phase(const char *what)
{
    static int64_t last;
    int64_t t = now_ns();
    if (verbose)
        fprintf(stderr, "  [%8.1f ms] %s\n", last ? (double)(t - last) / 1e6 : 0.0, what);
    last = t;
}
static char root[] = "/tmp/mif-bench-cont.XXXXXX";
static mif_ctx *ctx;
static uint64_t next_id = 1;

static char hosts_path[300], etc_path[300];

static void cleanup(void)
{
    unlink(hosts_path);
    rmdir(etc_path);
    rmdir(root);
}

/* SIGINT, SIGTERM, SIGHUP: the same removal (async-signal-safe calls only), then the
 * signal's own end. */
static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void usage(void)
{
    usage_exit("usage: continuity -A NETNS_A -S NETNS_SERVER [-n N] [-v]\n");
}

static struct in_addr ip4(const char *text)
{
    struct in_addr a;
    if (inet_pton(AF_INET, text, &a) != 1)
        die("bad address %s", text);
    return a;
}

/* Runs `sh -c CMD`; returns its exit status (0 = success). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *argv[] = { "sh", "-c", cmd, NULL };
    struct child c = spawn(argv, 0);
    int status = wait_child(c.pid);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static void print_stats_ms(const char *label, struct stats s)
{
    printf("  %-36s n=%-3zu median %8.2f ms  p90 %8.2f  max %8.2f ms\n", label, s.n, s.median / 1e6, s.p90 / 1e6,
           s.max / 1e6);
}

/* ---- the echo server (a thread; its sockets live in the server namespace) ---- */

struct echo_conn {
    int fd;
    char pend[65536];
    size_t plen;
};

static int listeners[2] = { -1, -1 }; /* TCP, MPTCP */
static int mptcp_listen_errno;
static struct echo_conn *conns[MAX_CONNS];

static int open_listener(int proto, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), one = 1;
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip4(SERVER_ADDR) };
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int open_listeners(void *unused)
{
    (void)unused;
    listeners[0] = open_listener(0, PORT_TCP);
    if (listeners[0] < 0)
        die("echo server: listen on %s:%d: %s", SERVER_ADDR, PORT_TCP, strerror(-listeners[0]));
    listeners[1] = open_listener(IPPROTO_MPTCP, PORT_MPTCP);
    if (listeners[1] < 0) {
        mptcp_listen_errno = -listeners[1];
        listeners[1] = -1;
    }
    return 0;
}

static void conn_close(int i)
{
    close(conns[i]->fd);
    free(conns[i]);
    conns[i] = NULL;
}

/* Sends what waits; 0 while the connection is fine, -1 when it failed. */
static int conn_flush(struct echo_conn *c)
{
    while (c->plen > 0) {
        ssize_t n = send(c->fd, c->pend, c->plen, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        memmove(c->pend, c->pend + n, c->plen - (size_t)n);
        c->plen -= (size_t)n;
    }
    return 0;
}

static void *echo_main(void *unused)
{
    (void)unused;
    for (;;) {
        struct pollfd p[2 + MAX_CONNS];
        int map[2 + MAX_CONNS], np = 0;
        for (int l = 0; l < 2; l++) {
            if (listeners[l] >= 0) {
                p[np] = (struct pollfd){ listeners[l], POLLIN, 0 };
                map[np++] = -1 - l;
            }
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            if (conns[i]) {
                short ev = conns[i]->plen < sizeof conns[i]->pend ? POLLIN : 0;
                if (conns[i]->plen)
                    ev |= POLLOUT;
                p[np] = (struct pollfd){ conns[i]->fd, ev, 0 };
                map[np++] = i;
            }
        }
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("echo server: poll: %s", strerror(errno));
        }
        for (int j = 0; j < np; j++) {
            if (!p[j].revents)
                continue;
            if (map[j] < 0) {
                int fd;
                while ((fd = accept4(p[j].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    /* A peer that vanished (cases 2-4) is dropped after 5 s, not 15 min. */
                    unsigned ut = USER_TIMEOUT_MS;
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    int i = 0;
                    while (i < MAX_CONNS && conns[i])
                        i++;
                    struct echo_conn *c = i < MAX_CONNS ? malloc(sizeof *c) : NULL;
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    c->plen = 0;
                    conns[i] = c;
                }
                continue;
            }
            struct echo_conn *c = conns[map[j]];
            if (p[j].revents & POLLIN) {
                ssize_t n = recv(c->fd, c->pend + c->plen, sizeof c->pend - c->plen, MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    conn_close(map[j]);
                    continue;
                }
                if (n > 0)
                    c->plen += (size_t)n;
            }
            if (conn_flush(c) < 0 || (p[j].revents & (POLLERR | POLLNVAL)))
                conn_close(map[j]);
        }
    }
    return NULL;
}

/* ---- rtnetlink events, sent by a helper thread ---- */

struct nl_big_req {
    _Alignas(struct nlmsghdr) char buf[256];
};

enum event_kind { EV_DEPRECATE, EV_RESTORE, EV_DELLINK };

struct event {
    enum event_kind kind;
    int fd;        /* rtnetlink socket (in the namespace the request is for) */
    int ifindex;   /* EV_DEPRECATE / EV_RESTORE: mif0 */
    _Atomic int64_t t_sent;
    int error;     /* from the ack */
    pthread_t thread;
};

static void *event_main(void *p)
{
    struct event *e = p;
    struct nl_big_req req;
    memset(&req, 0, sizeof req);
    struct nlmsghdr *nh = (struct nlmsghdr *)req.buf;
    nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nh->nlmsg_seq = 1;
    if (e->kind == EV_DELLINK) {
        nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
        nh->nlmsg_type = RTM_DELLINK;
        nl_add_attr(nh, IFLA_IFNAME, "gw0", 4);
    } else {
        nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
        nh->nlmsg_type = RTM_NEWADDR;
        nh->nlmsg_flags |= NLM_F_REPLACE;
        struct ifaddrmsg *ifa = NLMSG_DATA(nh);
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = 24;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned)e->ifindex;
        struct in_addr a = ip4("198.51.100.2"), brd = ip4("198.51.100.255");
        nl_add_attr(nh, IFA_LOCAL, &a, 4);
        nl_add_attr(nh, IFA_ADDRESS, &a, 4);
        nl_add_attr(nh, IFA_BROADCAST, &brd, 4);
        struct ifa_cacheinfo ci = { .ifa_prefered = 0xffffffffu, .ifa_valid = 0xffffffffu };
        if (e->kind == EV_DEPRECATE)
            ci = (struct ifa_cacheinfo){ .ifa_prefered = 0, .ifa_valid = VALID_S };
        nl_add_attr(nh, IFA_CACHEINFO, &ci, sizeof ci);
    }
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    e->t_sent = now_ns();
    if (sendto(e->fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)nh->nlmsg_len) {
        e->error = errno;
        return NULL;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = recv(e->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e->error = errno;
            return NULL;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == 1) {
                e->error = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
                return NULL;
            }
        }
    }
}

static void event_start(struct event *e)
{
    e->t_sent = 0;
    e->error = 0;
    if (pthread_create(&e->thread, NULL, event_main, e) != 0)
        die("pthread_create failed");
}

static void event_join(struct event *e, const char *what)
{
    pthread_join(e->thread, NULL);
    if (e->error)
        die("%s: %s", what, strerror(e->error));
}

static int open_nl_plain(void *unused)
{
    (void)unused;
    return nl_open(0);
}

/* ---- the raw rtnetlink watcher (a thread, so that its stamp is its own) ---- */

static struct {
    int fd;                  /* joined to RTNLGRP_LINK and RTNLGRP_IPV4_IFADDR */
    _Atomic int ifindex;     /* mif0's */
    _Atomic int64_t armed;   /* the event's start; 0: not watching */
    _Atomic int64_t seen;    /* the first event about mif0 after `armed` was read; 0: none */
} watch = { .fd = -1 };

/* Stamps the first RTM_DELLINK of mif0, RTM_NEWLINK of mif0 without carrier, or IPv4
 * RTM_NEWADDR on mif0, read after the watcher was armed. */
static void *watch_main(void *unused)
{
    (void)unused;
    char buf[16384];
    for (;;) {
        struct pollfd p = { watch.fd, POLLIN, 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            die("watcher poll: %s", strerror(errno));
        int64_t t = now_ns();
        ssize_t n;
        while ((n = nl_recv_nowait(watch.fd, buf, sizeof buf, "rtnetlink watcher")) >= 0) {
            int64_t armed = watch.armed;
            int ifindex = watch.ifindex;
            if (!armed || watch.seen || t < armed)
                continue;
            for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
                int hit = 0;
                if (h->nlmsg_type == RTM_DELLINK || h->nlmsg_type == RTM_NEWLINK) {
                    const struct ifinfomsg *ifi = NLMSG_DATA(h);
                    hit = ifi->ifi_index == ifindex &&
                          (h->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_LOWER_UP));
                } else if (h->nlmsg_type == RTM_NEWADDR) {
                    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
                    hit = (int)ifa->ifa_index == ifindex && ifa->ifa_family == AF_INET;
                }
                if (hit && !watch.seen)
                    watch.seen = t;
            }
        }
    }
    return NULL;
}

static void watch_arm(int ifindex, int64_t t)
{
    watch.seen = 0;
    watch.ifindex = ifindex;
    watch.armed = t;
}

/* The stamp, or 0; disarms. */
static int64_t watch_take(void)
{
    int64_t t = watch.seen;
    watch.armed = 0;
    return t;
}

/* ---- the bed between trials ---- */

/* mif0/gw0 made again after a deletion (cases 2-4), with the addresses and route of
 * bench/run.sh's mk_continuity; then, once mif0 has its carrier, a fresh libmif context.
 * A context that sees a link come up holds translations on its PvDs for the learning
 * window (4 s), even of a name its hosts file knows (docs/configuration.md,
 * "Readiness"), so the next trial's Connect to Name would win over B for 4 s; one opened
 * after the link came up finds the IPv4 PvD complete (no DHCP or RA in this bed). The
 * measured replacements go over mif1, up all along, in either case. */
static void remake_link(void)
{
    phase("remaking mif0");
    if (sh("ip link add mif0 type veth peer name gw0 netns %s && "
           "ip -n %s addr add 198.51.100.1/24 dev gw0 && ip -n %s link set gw0 up && "
           "ip addr add 198.51.100.2/24 dev mif0 && ip link set mif0 up && "
           "ip route add default via 198.51.100.1 dev mif0 metric 100",
           ns_a, ns_a, ns_a) != 0)
        die("cannot make mif0/gw0 again");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "mif0");
    for (int i = 0; i < 2000; i++) {
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_RUNNING))
            break;
        sleep_ms(1);
    }
    close(s);
    phase("mif0 made, carrier up");
    mif_close(ctx);
    ctx = mif_open_root(root);
    phase("context opened again");
}

/* ---- the stream ---- */

static int64_t sent_at[MAX_LINES + 2];

struct run {
    uint64_t id;          /* the follow connection's id (0: none) */
    int fd;               /* the stream's connection; -1 while it has none */
    int sending;
    long next, echoed;    /* next line to send; lines echoed (in order) */
    int64_t next_tick;
    char buf[4096];
    size_t len;
    int64_t t_ev;         /* the event was started (0 before) */
    int64_t last_echo, max_gap;
    int64_t last_echo_old, t_switch, first_echo_new;
    int awaiting_new;
    long resent, resent_upto, disorder;
    int64_t rtt[MAX_LINES];
    size_t nrtt;
    /* the library's replacement */
    int64_t t_rep;
    int rep_failed;
    char rep_if[16];
    uint64_t rep_start_us, rep_elapsed_us;
    int64_t spacing[MAX_LINES]; /* between echoes before the event */
    size_t nspacing;
    /* the old connection's own error */
    int64_t t_err;
    int err;
};

static void run_init(struct run *r, int fd)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->next = 1;
    r->sending = 1;
    r->next_tick = now_ns();
}

static void old_failed(struct run *r, int err, int64_t t)
{
    if (r->fd < 0)
        return;
    r->t_err = t;
    r->err = err;
    close(r->fd);
    r->fd = -1;
    r->last_echo_old = r->last_echo;
}

static void send_due(struct run *r, int64_t t)
{
    if (!r->sending || r->fd < 0 || t < r->next_tick || r->next > MAX_LINES)
        return;
    char b[24];
    int k = snprintf(b, sizeof b, "%ld\n", r->next);
    ssize_t n = send(r->fd, b, (size_t)k, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == k) {
        sent_at[r->next++] = t;
    } else if (n >= 0 || errno != EAGAIN) {
        old_failed(r, n >= 0 ? EPIPE : errno, t); /* a line sent in part breaks the stream */
        return;
    }
    r->next_tick += (int64_t)LINE_MS * 1000000;
    if (r->next_tick < t)
        r->next_tick = t; /* no bursts after a stall */
}

/* The stream moves to `fd`: the old connection closes, every line not echoed is resent. */
static void switch_to(struct run *r, int fd, int64_t t)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->last_echo_old = r->last_echo;
    }
    r->fd = fd;
    r->len = 0;
    r->t_switch = t;
    r->awaiting_new = 1;
    r->first_echo_new = 0;
    r->resent = r->next - 1 - r->echoed;
    r->resent_upto = r->next - 1;
    r->nrtt = 0; /* from now on the new path's */
    for (long n = r->echoed + 1; n < r->next; n++) {
        char b[24];
        int k = snprintf(b, sizeof b, "%ld\n", n);
        if (send(fd, b, (size_t)k, MSG_DONTWAIT | MSG_NOSIGNAL) != k) {
            old_failed(r, errno, t);
            return;
        }
    }
}

static void read_stream(struct run *r, int64_t t)
{
    ssize_t n = recv(r->fd, r->buf + r->len, sizeof r->buf - r->len, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        old_failed(r, n == 0 ? ECONNRESET : errno, t);
        return;
    }
    if (n < 0)
        return;
    r->len += (size_t)n;
    char *nl;
    while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
        *nl = '\0';
        long v = strtol(r->buf, NULL, 10);
        r->len -= (size_t)(nl + 1 - r->buf);
        memmove(r->buf, nl + 1, r->len);
        if (v != r->echoed + 1) {
            r->disorder++;
            continue;
        }
        r->echoed = v;
        if (r->t_ev && t > r->t_ev && r->last_echo && t - r->last_echo > r->max_gap)
            r->max_gap = t - r->last_echo;
        if (!r->t_ev && r->last_echo && r->nspacing < MAX_LINES)
            r->spacing[r->nspacing++] = t - r->last_echo;
        r->last_echo = t;
        /* RTT samples: the new path's after a switch (resent lines left out), else
         * those echoed before the event. */
        int sample = r->t_switch ? v > r->resent_upto : !r->t_ev || t < r->t_ev;
        if (r->awaiting_new) {
            r->awaiting_new = 0;
            r->first_echo_new = t;
        } else if (sample && r->nrtt < MAX_LINES) {
            r->rtt[r->nrtt++] = t - sent_at[v];
        }
    }
}

/* The library's messages during a trial: the replacement Connected of r->id. */
static void read_mif(struct run *r, int64_t t)
{
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        check_engine(m);
        if (m->msg_type == MIF_MSG_CONNECTED && r->id && m->connection_id == r->id && m->replacement == 1 &&
            !r->t_rep) {
            r->t_rep = t;
            snprintf(r->rep_if, sizeof r->rep_if, "%.15s", m->ifname);
            if (m->report) {
                for (size_t i = 0; i < m->report->attempt_count; i++) {
                    if (m->report->attempts[i].outcome == MIF_ATTEMPT_CONNECTED) {
                        r->rep_start_us = m->report->attempts[i].start_us;
                        r->rep_elapsed_us = m->report->attempts[i].elapsed_us;
                    }
                }
            }
            switch_to(r, m->fd, t);
        } else if (m->msg_type == MIF_MSG_CONNECTED) {
            close(m->fd); /* not ours */
        } else if (m->msg_type == MIF_MSG_NOT_CONNECTED && r->id && m->connection_id == r->id) {
            r->rep_failed = m->error ? m->error : -1;
        }
        mif_message_free(m);
    }
}

/* One wait of the loop, until `deadline` at most, then what it brought. */
static void step(struct run *r, int64_t deadline)
{
    struct pollfd p[2];
    int np = 0, i_mif = -1, i_fd = -1;
    i_mif = np;
    p[np++] = (struct pollfd){ mif_fd(ctx), POLLIN, 0 };
    if (r->fd >= 0) {
        i_fd = np;
        p[np++] = (struct pollfd){ r->fd, POLLIN, 0 };
    }
    int64_t until = deadline;
    if (r->sending && r->fd >= 0 && r->next_tick < until)
        until = r->next_tick;
    int64_t left = until - now_ns();
    if (left < 0)
        left = 0;
    struct timespec ts = { (time_t)(left / 1000000000), (long)(left % 1000000000) };
    if (ppoll(p, (nfds_t)np, &ts, NULL) < 0 && errno != EINTR)
        die("ppoll: %s", strerror(errno));
    int64_t t = now_ns();
    if (i_fd >= 0 && p[i_fd].revents)
        read_stream(r, t);
    if (i_mif >= 0 && p[i_mif].revents)
        read_mif(r, t);
    send_due(r, t);
}

static void run_for(struct run *r, int64_t ms)
{
    int64_t end = now_ns() + ms * 1000000;
    while (now_ns() < end)
        step(r, end);
}

/* After recovery: AFTER_MS more, then no more lines and the echoes awaited; returns the
 * lines lost (sent, never echoed). */
static long finish(struct run *r)
{
    phase("finishing");
    run_for(r, AFTER_MS);
    r->sending = 0;
    int64_t end = now_ns() + (int64_t)DRAIN_MS * 1000000;
    while (r->fd >= 0 && r->echoed < r->next - 1 && now_ns() < end)
        step(r, end);
    phase("finished");
    return r->next - 1 - r->echoed;
}

static int64_t median_rtt(const struct run *r)
{
    return r->nrtt ? (int64_t)stats_of(r->rtt, r->nrtt).median : 0;
}

/* The stream's own spacing: the median time between echoes before the event. */
static int64_t median_spacing(const struct run *r)
{
    return r->nspacing ? (int64_t)stats_of(r->spacing, r->nspacing).median : 0;
}

/* ---- connecting ---- */

static void cancel(uint64_t id)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = id;
    mif_post_message(ctx, &req); /* refused once following ended: harmless */
}

/* Connect to Name echo.bench:port with flags, until it goes through mif0 (the library
 * may not know a remade mif0 yet); the Connected message (the caller frees it). */
static mif_message *connect_over_mif0(uint16_t port, uint32_t flags)
{
    phase("connecting");
    for (int tries = 0; tries < 100; tries++) {
        uint64_t id = next_id++;
        mif_request req;
        mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
        req.name = NAME;
        req.remote_port = port;
        req.connection_id = id;
        req.family_preference = MIF_FAMILY_PREFERENCE_IPV4_ONLY;
        req.connect_flags = flags;
        check_mif(mif_post_message(ctx, &req), "post connect_to_name");
        int64_t deadline = now_ns() + 15 * (int64_t)1000000000;
        mif_message *got = NULL;
        while (!got) {
            mif_message *m;
            if (mif_get_message(ctx, &m) == MIF_OK) {
                check_engine(m);
                if ((m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) &&
                    m->connection_id == id) {
                    got = m;
                } else {
                    if (m->msg_type == MIF_MSG_CONNECTED)
                        close(m->fd);
                    mif_message_free(m);
                }
                continue;
            }
            int64_t left = (deadline - now_ns()) / 1000000;
            if (left <= 0)
                die("connect_to_name %s:%u: no result", NAME, port);
            mif_check_message(ctx, (int)left);
        }
        if (got->msg_type == MIF_MSG_CONNECTED && strcmp(got->ifname, "mif0") == 0) {
            phase("connected over mif0");
            return got;
        }
        if (verbose)
            fprintf(stderr, "  try %d: %s over %s\n", tries, got->msg_type == MIF_MSG_CONNECTED ? "connected" : "not connected",
                    got->ifname);
        if (got->msg_type == MIF_MSG_CONNECTED)
            close(got->fd);
        mif_message_free(got);
        if (flags & MIF_CONNECT_FOLLOW)
            cancel(id);
        sleep_ms(50);
    }
    die("connect_to_name %s never went through mif0", NAME);
}

/* A plain nonblocking connect to the server, routed by the host; the socket or -errno. */
static int plain_connect(int proto, uint16_t port, int user_timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), err = 0;
    if (fd < 0)
        return -errno;
    if (user_timeout_ms > 0) {
        unsigned ut = (unsigned)user_timeout_ms;
        if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut) != 0)
            die("TCP_USER_TIMEOUT: %s", strerror(errno));
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip4(SERVER_ADDR) };
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            struct pollfd p = { fd, POLLOUT, 0 };
            if (poll(&p, 1, 3000) != 1) {
                err = ETIMEDOUT;
            } else {
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            }
        }
    }
    if (err) {
        close(fd);
        return -err;
    }
    return fd;
}

static void local_addr(int fd, char *out, size_t size)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &l) != 0 || !inet_ntop(AF_INET, &sa.sin_addr, out, (socklen_t)size))
        snprintf(out, size, "?");
}

/* MPTCP_INFO's mptcpi_subflows (the subflows beyond the first), -1 if not MPTCP. */
static int mptcp_subflows(int fd)
{
    struct {
        uint8_t subflows, add_addr_signal, add_addr_accepted, subflows_max;
        uint8_t rest[60];
    } info;
    memset(&info, 0, sizeof info);
    socklen_t l = sizeof info;
    if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO_OPT, &info, &l) != 0)
        return -1;
    return info.subflows;
}

/* ---- the cases ---- */

struct result {
    int64_t gap, lost, resent, disorder;
    int64_t to_raw, raw_to_rep, ev_to_rep, rep_start, rep_elapsed, switch_to_echo, rtt, spacing;
    int64_t to_err, reconnect;
    int err, ok;
};

static int nl_host_ev = -1, nl_a = -1;

/* Cases 1 and 2. */
static struct result follow_trial(enum event_kind kind)
{
    struct result res = { 0 };
    mif_message *m = connect_over_mif0(PORT_TCP, MIF_CONNECT_FOLLOW);
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        die("out of memory");
    int mif0 = ifindex_of("mif0");
    run_init(r, m->fd);
    r->id = m->connection_id;
    mif_message_free(m);
    run_for(r, WARMUP_MS);
    struct event ev = { .kind = kind, .fd = kind == EV_DELLINK ? nl_a : nl_host_ev, .ifindex = mif0 };
    r->t_ev = now_ns();
    watch_arm(mif0, r->t_ev);
    event_start(&ev);
    int64_t end = r->t_ev + (int64_t)RECOVER_LIMIT_MS * 1000000;
    while (!r->first_echo_new && !r->rep_failed && now_ns() < end)
        step(r, end);
    event_join(&ev, kind == EV_DELLINK ? "delete gw0" : "deprecate mif0's address");
    int64_t t_raw = watch_take();
    if (r->first_echo_new) {
        res.ok = 1;
        res.lost = finish(r);
        res.gap = r->first_echo_new - r->last_echo_old;
        res.ev_to_rep = r->t_rep - ev.t_sent;
        res.to_raw = t_raw ? t_raw - ev.t_sent : -1;
        res.raw_to_rep = t_raw ? r->t_rep - t_raw : -1;
        res.spacing = median_spacing(r);
        res.rep_start = (int64_t)r->rep_start_us * 1000;
        res.rep_elapsed = (int64_t)r->rep_elapsed_us * 1000;
        res.switch_to_echo = r->first_echo_new - r->t_switch;
        res.rtt = median_rtt(r);
        res.resent = r->resent;
        res.disorder = r->disorder;
        if (strcmp(r->rep_if, "mif1") != 0)
            printf("  note: the replacement went through %s, not mif1\n", r->rep_if);
    } else {
        printf("  trial failed: %s\n", r->rep_failed ? "the replacement race failed (Not Connected)"
                                                     : "no replacement within the limit");
        res.lost = r->next - 1 - r->echoed;
    }
    cancel(r->id);
    if (r->fd >= 0)
        close(r->fd);
    mif_drain(ctx);
    if (kind == EV_DEPRECATE) {
        struct event restore = { .kind = EV_RESTORE, .fd = nl_host_ev, .ifindex = mif0 };
        event_start(&restore);
        event_join(&restore, "restore mif0's address");
    } else {
        remake_link();
    }
    free(r);
    return res;
}

/* Case 3. `use_lib`: the library's MPTCP connect, else a plain MPTCP socket. Returns
 * ok 0 with err set when the connection got no second subflow. */
static struct result mptcp_trial(int use_lib)
{
    struct result res = { 0 };
    int fd;
    if (use_lib) {
        mif_message *m = connect_over_mif0(PORT_MPTCP, MIF_CONNECT_MPTCP);
        if (m->mptcp != MIF_MPTCP_ACTIVE)
            printf("  note: the library's connection is not MPTCP (mptcp status %u)\n", (unsigned)m->mptcp);
        fd = m->fd;
        mif_message_free(m);
    } else {
        fd = plain_connect(IPPROTO_MPTCP, PORT_MPTCP, 0);
        if (fd < 0)
            die("MPTCP connect: %s", strerror(-fd));
    }
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        die("out of memory");
    int mif0 = ifindex_of("mif0");
    run_init(r, fd);
    /* The extra subflow comes once the connection is fully established (data went). */
    int64_t t0 = now_ns();
    while (mptcp_subflows(r->fd) < 1 && now_ns() - t0 < 2000000000)
        run_for(r, 10);
    phase("second subflow waited for");
    if (mptcp_subflows(r->fd) < 1) {
        res.err = mptcp_subflows(r->fd) < 0 ? EPROTONOSUPPORT : ENOLINK;
        close(r->fd);
        free(r);
        return res;
    }
    run_for(r, WARMUP_MS);
    struct event ev = { .kind = EV_DELLINK, .fd = nl_a };
    r->t_ev = now_ns();
    watch_arm(mif0, r->t_ev);
    event_start(&ev);
    int64_t end = r->t_ev + (int64_t)RECOVER_LIMIT_MS * 1000000;
    /* Recovered: the stream flows again (all but the last two lines echoed) and the
     * longest pause ended at least 100 ms ago. */
    while (now_ns() < end && r->fd >= 0) {
        step(r, end);
        int64_t t = now_ns();
        if (t - r->t_ev > 300000000 && r->echoed >= r->next - 3 && r->max_gap && t - r->last_echo < 20000000 &&
            t - r->t_ev > r->max_gap + 100000000)
            break;
    }
    event_join(&ev, "delete gw0");
    phase("recovered (or not)");
    int64_t t_raw = watch_take();
    res.to_raw = t_raw ? t_raw - ev.t_sent : -1;
    if (r->fd >= 0 && r->echoed >= r->next - 3) {
        res.ok = 1;
        res.gap = r->max_gap;
        res.spacing = median_spacing(r);
        res.rtt = median_rtt(r);
        res.lost = finish(r);
        res.disorder = r->disorder;
    } else {
        printf("  trial failed: the stream did not recover within %d s (%s)\n", RECOVER_LIMIT_MS / 1000,
               r->fd < 0 ? strerror(r->err) : "stalled");
        res.lost = r->next - 1 - r->echoed;
    }
    if (r->fd >= 0)
        close(r->fd);
    remake_link();
    free(r);
    return res;
}

/* Case 4. */
static struct result naive_trial(void)
{
    struct result res = { 0 };
    int fd = plain_connect(0, PORT_TCP, USER_TIMEOUT_MS);
    if (fd < 0)
        die("naive connect: %s", strerror(-fd));
    char local[INET_ADDRSTRLEN];
    local_addr(fd, local, sizeof local);
    if (strcmp(local, "198.51.100.2") != 0)
        printf("  note: the naive connection left from %s, not mif0's 198.51.100.2\n", local);
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        die("out of memory");
    int mif0 = ifindex_of("mif0");
    run_init(r, fd);
    run_for(r, WARMUP_MS);
    struct event ev = { .kind = EV_DELLINK, .fd = nl_a };
    r->t_ev = now_ns();
    watch_arm(mif0, r->t_ev);
    event_start(&ev);
    int64_t end = r->t_ev + ((int64_t)USER_TIMEOUT_MS + RECOVER_LIMIT_MS) * 1000000;
    while (r->fd >= 0 && now_ns() < end)
        step(r, end);
    event_join(&ev, "delete gw0");
    int64_t t_raw = watch_take();
    res.to_raw = t_raw ? t_raw - ev.t_sent : -1;
    if (r->fd < 0) {
        res.to_err = r->t_err - ev.t_sent;
        res.err = r->err;
        int64_t t0 = now_ns();
        int nfd = plain_connect(0, PORT_TCP, USER_TIMEOUT_MS);
        res.reconnect = now_ns() - t0;
        if (nfd < 0)
            die("naive reconnect: %s", strerror(-nfd));
        switch_to(r, nfd, now_ns());
        end = now_ns() + 3 * (int64_t)1000000000;
        while (!r->first_echo_new && r->fd >= 0 && now_ns() < end)
            step(r, end);
    }
    if (r->first_echo_new) {
        res.ok = 1;
        res.gap = r->first_echo_new - r->last_echo_old;
        res.resent = r->resent;
        res.rtt = median_rtt(r);
        res.spacing = median_spacing(r);
        res.lost = finish(r);
    } else {
        printf("  trial failed: %s\n", r->fd >= 0 ? "the kernel never gave up" : "no echo after the reconnect");
        res.lost = r->next - 1 - r->echoed;
    }
    if (r->fd >= 0)
        close(r->fd);
    remake_link();
    free(r);
    return res;
}

/* ---- printing ---- */

struct series {
    int64_t *v;
    size_t n;
};

static struct series series_new(size_t cap)
{
    return (struct series){ alloc_i64(cap), 0 };
}

static void add(struct series *s, int64_t v)
{
    if (v >= 0)
        s->v[s->n++] = v;
}

/* Also a negative value (a gap shorter than the stream's usual spacing). */
static void add_any(struct series *s, int64_t v)
{
    s->v[s->n++] = v;
}

static struct stats st(struct series s)
{
    return stats_of(s.v, s.n);
}

static void print_ratio_gap(const char *name, struct stats a, struct stats naive)
{
    if (a.n && naive.n)
        printf(" RATIO %s gap / naive TCP gap: median %.4f  max %.4f\n", name, ratio(a.median, naive.median),
               ratio(a.max, naive.max));
}

/* MPTcpExt counters of the calling thread's namespace (/proc/thread-self/net/netstat). */
enum { MC_RETRANS, MC_STALE, MC_RECOVER, MC_DUP, MC_COUNT };
static const char *const mc_name[MC_COUNT] = { "MPTCPRetrans", "SubflowStale", "SubflowRecover", "DuplicateData" };

struct mcounters {
    long long v[MC_COUNT];
};

static int read_mcounters(void *p)
{
    struct mcounters *c = p;
    memset(c, 0, sizeof *c);
    FILE *f = fopen("/proc/thread-self/net/netstat", "re");
    if (!f)
        return -1;
    char names[8192], values[8192];
    while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
        if (strncmp(names, "MPTcpExt:", 9) != 0)
            continue;
        char *sn, *sv;
        char *n = strtok_r(names, " \n", &sn), *v = strtok_r(values, " \n", &sv);
        while ((n = strtok_r(NULL, " \n", &sn)) != NULL && (v = strtok_r(NULL, " \n", &sv)) != NULL) {
            for (int k = 0; k < MC_COUNT; k++)
                if (strcmp(n, mc_name[k]) == 0)
                    c->v[k] = atoll(v);
        }
    }
    fclose(f);
    return 0;
}

/* The number in a /proc/sys file of this namespace, or -1 when absent. */
static int read_int_file(const char *path)
{
    FILE *f = fopen(path, "re");
    int v = -1;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* One run of case 3: its series and counters. */
struct mptcp_case {
    struct series g, x, raw, rtt;
    long lost, fail, dis;
    struct mcounters h0, h1, s0, s1;
};

static struct mptcp_case mptcp_case_new(int n)
{
    struct mptcp_case c;
    memset(&c, 0, sizeof c);
    c.g = series_new((size_t)n), c.x = series_new((size_t)n), c.raw = series_new((size_t)n);
    c.rtt = series_new((size_t)n);
    return c;
}

/* n trials; NULL, or why MPTCP cannot work here (written to why). */
static const char *mptcp_case_run(struct mptcp_case *c, int n, int *use_lib, char *why, size_t why_size)
{
    read_mcounters(&c->h0);
    in_named_netns(ns_s, read_mcounters, &c->s0);
    for (int i = 0; i < n; i++) {
        struct result x = mptcp_trial(*use_lib);
        if (!x.ok && x.err && *use_lib) {
            printf("  the library's MPTCP connection got no second subflow within 2 s (%s): using a plain MPTCP "
                   "socket routed by the host instead\n",
                   strerror(x.err));
            *use_lib = 0;
            x = mptcp_trial(*use_lib);
        }
        if (!x.ok && x.err) {
            snprintf(why, why_size, "no second subflow came up (%s)", strerror(x.err));
            return why;
        }
        c->lost += x.lost;
        if (!x.ok) {
            c->fail++;
            continue;
        }
        add(&c->g, x.gap), add_any(&c->x, x.gap - x.spacing), add(&c->raw, x.to_raw), add(&c->rtt, x.rtt);
        c->dis += x.disorder;
    }
    read_mcounters(&c->h1);
    in_named_netns(ns_s, read_mcounters, &c->s1);
    return NULL;
}

static void mptcp_case_print(const struct mptcp_case *c)
{
    print_stats_ms("gap: longest pause after the loss", st(c->g));
    print_stats_ms("  gap - the stream's own spacing", st(c->x));
    print_stats_ms("  loss -> raw netlink (mif0 gone)", st(c->raw));
    print_stats_ms("  echo RTT before the loss", st(c->rtt));
    printf("  lines lost %ld, out of order %ld; failed trials %ld (no reconnect: the kernel moved the stream to the "
           "second subflow)\n",
           c->lost, c->dis, c->fail);
    printf("  kernel MPTcpExt counters over these %zu trials, client / server:", c->g.n);
    for (int k = 0; k < MC_COUNT; k++)
        printf(" %s %lld/%lld", mc_name[k], c->h1.v[k] - c->h0.v[k], c->s1.v[k] - c->s0.v[k]);
    printf("\n");
}

int main(int argc, char **argv)
{
    int n = 3;
    const struct bench_opt opts[] = { { 'A', OPT_TEXT, &ns_a }, { 'S', OPT_TEXT, &ns_s }, { 'n', OPT_INT, &n },
                                      { 'v', OPT_FLAG, &verbose } };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (!ns_a || !ns_s || n < 1 || n > 1000)
        usage();
    bench_begin("continuity");
    make_temp_dir(root, cleanup);
    snprintf(etc_path, sizeof etc_path, "%s/etc", root);
    snprintf(hosts_path, sizeof hosts_path, "%s/etc/hosts", root);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    mkdir(etc_path, 0755);
    FILE *f = fopen(hosts_path, "we");
    if (!f || fputs(SERVER_ADDR " " NAME "\n", f) < 0 || fclose(f) != 0)
        die("cannot write %s", hosts_path);

    in_named_netns(ns_s, open_listeners, NULL);
    pthread_t echo;
    if (pthread_create(&echo, NULL, echo_main, NULL) != 0)
        die("pthread_create failed");
    pthread_detach(echo);
    nl_a = in_named_netns(ns_a, open_nl_plain, NULL);
    nl_host_ev = nl_open(0);
    watch.fd = nl_open((1u << (RTNLGRP_LINK - 1)) | (1u << (RTNLGRP_IPV4_IFADDR - 1)));
    int rcvbuf = 4 << 20;
    setsockopt(watch.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watch_main, NULL) != 0)
        die("pthread_create failed");
    pthread_detach(watcher);

    ctx = mif_open_root(root);

    printf("continuity: %d trials per case; a line every %d ms; 2 CPUs shared with other work: noisy\n", n,
           LINE_MS);

    /* ---- case 1 ---- */
    int64_t tc = now_ns();
    struct series g1 = series_new((size_t)n), x1 = series_new((size_t)n), rep1 = series_new((size_t)n),
                  raw1 = series_new((size_t)n), sw1 = series_new((size_t)n), rtt1 = series_new((size_t)n),
                  att1 = series_new((size_t)n);
    long lost1 = 0, resent1 = 0, met1 = 0, before1 = 0, fail1 = 0, dis1 = 0;
    for (int i = 0; i < n; i++) {
        struct result x = follow_trial(EV_DEPRECATE);
        lost1 += x.lost;
        if (!x.ok) {
            fail1++;
            continue;
        }
        add(&g1, x.gap), add_any(&x1, x.gap - x.spacing), add(&rep1, x.ev_to_rep), add(&raw1, x.to_raw);
        add(&sw1, x.switch_to_echo), add(&rtt1, x.rtt), add(&att1, x.rep_elapsed);
        resent1 += x.resent, dis1 += x.disorder;
        met1 += x.gap <= x.rtt + (int64_t)LINE_MS * 1000000;
        before1 += x.ev_to_rep < (int64_t)VALID_S * 1000000000;
    }
    struct stats s1 = st(g1);
    printf("(1) announced loss, follow mode: mif0's address deprecated, valid %d s more [%.1f s]\n", VALID_S,
           (double)(now_ns() - tc) / 1e9);
    tc = now_ns();
    print_stats_ms("gap: last echo old -> first new", s1);
    print_stats_ms("  gap - the stream's own spacing", st(x1));
    print_stats_ms("  deprecation -> raw RTM_NEWADDR", st(raw1));
    print_stats_ms("  deprecation -> replacement taken", st(rep1));
    print_stats_ms("  replacement's connect (report)", st(att1));
    print_stats_ms("  switch -> first echo on new", st(sw1));
    print_stats_ms("  echo RTT on the new path", st(rtt1));
    printf("  lines lost %ld, resent %ld, out of order %ld; failed trials %ld; replacement before the address "
           "ended %ld/%zu; target (gap <= RTT + %d ms) met %ld/%zu\n",
           lost1, resent1, dis1, fail1, before1, g1.n, LINE_MS, met1, g1.n);

    /* ---- case 2 ---- */
    struct series g2 = series_new((size_t)n), x2 = series_new((size_t)n), raw2 = series_new((size_t)n),
                  r2r = series_new((size_t)n), ast2 = series_new((size_t)n), att2 = series_new((size_t)n),
                  sw2 = series_new((size_t)n), rtt2 = series_new((size_t)n), tgt2 = series_new((size_t)n);
    long lost2 = 0, resent2 = 0, met2 = 0, fail2 = 0, dis2 = 0;
    for (int i = 0; i < n; i++) {
        struct result x = follow_trial(EV_DELLINK);
        lost2 += x.lost;
        if (!x.ok) {
            fail2++;
            continue;
        }
        add(&g2, x.gap), add_any(&x2, x.gap - x.spacing), add(&raw2, x.to_raw);
        if (x.to_raw >= 0)
            add_any(&r2r, x.raw_to_rep); /* < 0: the library was faster than our watcher */
        add(&ast2, x.rep_start), add(&att2, x.rep_elapsed), add(&sw2, x.switch_to_echo), add(&rtt2, x.rtt);
        int64_t target = (x.to_raw > 0 ? x.to_raw : 0) + x.rep_start + x.rtt + 10000000;
        add(&tgt2, target);
        met2 += x.gap <= target;
        resent2 += x.resent, dis2 += x.disorder;
    }
    struct stats s2 = st(g2);
    printf("(2) unannounced loss, follow mode: network A's end of the link deleted [%.1f s]\n",
           (double)(now_ns() - tc) / 1e9);
    tc = now_ns();
    print_stats_ms("gap: last echo old -> first new", s2);
    print_stats_ms("  gap - the stream's own spacing", st(x2));
    print_stats_ms("  loss -> raw netlink (mif0 gone)", st(raw2));
    print_stats_ms("  raw event -> replacement taken", st(r2r));
    print_stats_ms("  replacement attempt start (race)", st(ast2));
    print_stats_ms("  replacement's connect (report)", st(att2));
    print_stats_ms("  switch -> first echo on new", st(sw2));
    print_stats_ms("  echo RTT on the new path", st(rtt2));
    print_stats_ms("  target per trial", st(tgt2));
    printf("  lines lost %ld, resent %ld, out of order %ld; failed trials %ld; target (gap <= detection + attempt "
           "start + RTT + 10 ms) met %ld/%zu\n",
           lost2, resent2, dis2, fail2, met2, g2.n);

    /* ---- case 3, then again with net.mptcp.stale_loss_cnt 1 (in the test namespaces) ---- */
    struct mptcp_case c3 = mptcp_case_new(n), c3b = mptcp_case_new(n);
    const char *skip3 = NULL;
    char why3[200] = "";
    int en = read_int_file("/proc/sys/net/mptcp/enabled"), use_lib = 1;
    if (en != 1) {
        snprintf(why3, sizeof why3, "net.mptcp.enabled is %s in this namespace", en == 0 ? "0" : "absent");
        skip3 = why3;
    } else if (listeners[1] < 0) {
        snprintf(why3, sizeof why3, "no MPTCP listener in the server namespace: %s", strerror(mptcp_listen_errno));
        skip3 = why3;
    } else if (sh("ip mptcp limits set subflow 2 add_addr_accepted 2 && "
                  "ip -n %s mptcp limits set subflow 2 add_addr_accepted 2 && "
                  "ip mptcp endpoint add 203.0.113.2 dev mif1 subflow && "
                  "ip rule add from 203.0.113.2 lookup 102 && "
                  "ip route add default via 203.0.113.1 dev mif1 table 102",
                  ns_s) != 0) {
        snprintf(why3, sizeof why3, "cannot set the MPTCP limits, endpoint or policy route (ip mptcp failed)");
        skip3 = why3;
    }
    int stale_default = read_int_file("/proc/sys/net/mptcp/stale_loss_cnt");
    if (!skip3)
        skip3 = mptcp_case_run(&c3, n, &use_lib, why3, sizeof why3);
    if (!skip3 && sh("sysctl -qw net.mptcp.stale_loss_cnt=1 && ip netns exec %s sysctl -qw net.mptcp.stale_loss_cnt=1",
                     ns_s) == 0) {
        mptcp_case_run(&c3b, n, &use_lib, why3, sizeof why3);
        sh("sysctl -qw net.mptcp.stale_loss_cnt=%d && ip netns exec %s sysctl -qw net.mptcp.stale_loss_cnt=%d",
           stale_default, ns_s, stale_default);
    }
    if (en == 1)
        sh("ip mptcp endpoint flush; ip rule del from 203.0.113.2 lookup 102; ip route flush table 102");
    struct stats s3 = st(c3.g);
    if (skip3) {
        printf("(3) MPTCP with a subflow endpoint: SKIPPED: %s\n", skip3);
    } else {
        printf("(3) MPTCP (%s), subflow endpoint 203.0.113.2 on mif1, network A's link deleted, "
               "net.mptcp.stale_loss_cnt %d [3 and 3b: %.1f s]\n",
               use_lib ? "the library's MIF_CONNECT_MPTCP" : "a plain MPTCP socket", stale_default,
               (double)(now_ns() - tc) / 1e9);
        mptcp_case_print(&c3);
        if (c3b.g.n) {
            printf("(3b) the same with net.mptcp.stale_loss_cnt 1 (client and server namespaces)\n");
            mptcp_case_print(&c3b);
        }
    }

    /* ---- case 4 ---- */
    tc = now_ns();
    struct series g4 = series_new((size_t)n), x4 = series_new((size_t)n), err4 = series_new((size_t)n),
                  rc4 = series_new((size_t)n), raw4 = series_new((size_t)n);
    long lost4 = 0, resent4 = 0, fail4 = 0;
    int errs[8] = { 0 }, errn[8] = { 0 }, nerr = 0;
    for (int i = 0; i < n; i++) {
        struct result x = naive_trial();
        lost4 += x.lost;
        if (!x.ok) {
            fail4++;
            continue;
        }
        add(&g4, x.gap), add_any(&x4, x.gap - x.spacing), add(&err4, x.to_err), add(&rc4, x.reconnect);
        add(&raw4, x.to_raw);
        resent4 += x.resent;
        int k = 0;
        while (k < nerr && errs[k] != x.err)
            k++;
        if (k < 8) {
            errs[k] = x.err;
            errn[k]++;
            nerr += k == nerr;
        }
    }
    struct stats s4 = st(g4);
    printf("(4) naive TCP (the peer): plain socket over A, TCP_USER_TIMEOUT %d ms (the default is ~15 min of "
           "retransmissions), network A's link deleted [%.1f s]\n",
           USER_TIMEOUT_MS, (double)(now_ns() - tc) / 1e9);
    print_stats_ms("gap: last echo -> first after reconnect", s4);
    print_stats_ms("  gap - the stream's own spacing", st(x4));
    print_stats_ms("  loss -> raw netlink (mif0 gone)", st(raw4));
    print_stats_ms("  loss -> the kernel gives up", st(err4));
    print_stats_ms("  reconnect (now over B)", st(rc4));
    printf("  the kernel's error:");
    for (int k = 0; k < nerr; k++)
        printf("%s %s x%d", k ? "," : "", strerror(errs[k]), errn[k]);
    printf("; lines sent into the dead connection and resent after the reconnect: %ld; lost %ld; failed trials "
           "%ld\n",
           resent4, lost4, fail4);

    print_ratio_gap("(1) announced, follow", s1, s4);
    print_ratio_gap("(2) unannounced, follow", s2, s4);
    if (!skip3)
        print_ratio_gap("(3) MPTCP", s3, s4);
    if (!skip3 && c3b.g.n)
        print_ratio_gap("(3b) MPTCP stale 1", st(c3b.g), s4);
    char mp[96];
    if (skip3)
        snprintf(mp, sizeof mp, "MPTCP skipped");
    else if (c3b.g.n)
        snprintf(mp, sizeof mp, "MPTCP %.0f ms (stale_loss_cnt 1: %.0f ms)", s3.median / 1e6, st(c3b.g).median / 1e6);
    else
        snprintf(mp, sizeof mp, "MPTCP %.0f ms", s3.median / 1e6);
    printf("SUMMARY continuity: gap median (a line every %d ms): announced+follow %.2f ms (target met %ld/%zu), "
           "unannounced+follow %.2f ms (met %ld/%zu), %s, naive TCP %.0f ms (user timeout %d s); lines lost "
           "%ld/%ld/%ld/%ld\n",
           LINE_MS, s1.median / 1e6, met1, g1.n, s2.median / 1e6, met2, g2.n, mp, s4.median / 1e6,
           USER_TIMEOUT_MS / 1000, lost1, lost2, c3.lost, lost4);
    mif_close(ctx);
    return 0;
}
