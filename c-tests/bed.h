/*
 * bed.h: the test bed of libmif's C tests (c-tests/test_*.c): what several tests share
 * to set up and drive their cases.  It includes check.h, whose assertions it uses.
 *
 * - the environment: check_now_ms(), check_sleep_ms(), check_sh() / SH() (run a shell
 *   command), and check_private_netns() / check_require_private_netns() (tests that
 *   run `ip` must run inside the private network namespace run.sh makes);
 * - descriptor snapshots (check_fds, check_fds_equal), a loopback TCP listener
 *   (check_tcp_listener, check_accept_all), a scratch root directory for
 *   mif_options.root_dir (check_make_root, check_remove_root);
 * - the "blackhole" bed (check_blackhole_bed: a veth whose DNS server / destination
 *   never answers, so translations and connects stay outstanding);
 * - a far end in a network namespace of its own (check_far_end_start / _stop: a child
 *   holding the peers of the test's veths, with a TCP or MPTCP listener that keeps its
 *   connections or echoes);
 * - when mif.h was included first, message helpers: waits (check_wait_for,
 *   check_wait_want), discards and drains that close the socket of a discarded
 *   Connected message (check_discard, check_drain), requests (check_post,
 *   check_address), PvD lookup (check_pvd_of), check_wait_dns_element() and
 *   check_engine_sync().
 *
 * The names keep check.h's check_ prefix.  Everything is static (inline), so each
 * test is one translation unit.
 */
#ifndef MIF_BED_H
#define MIF_BED_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* ---- environment: time, shell commands, the private network namespace ---------- */

static inline long long check_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void check_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/*
 * Runs a shell command (through system()); returns 1 when it exited 0, else prints it
 * and returns 0.  Only for `ip` inside the private namespace: see check_private_netns().
 */
static inline int check_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int check_sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    int rc;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(stdout);
    rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        check_note("command failed (status %d): %s", rc, cmd);
        return 0;
    }
    return 1;
}

#define SH(...) CHECK(check_sh(__VA_ARGS__))

/*
 * Tests that change the kernel's network state (`ip link add`, `ip addr add`) must run
 * only in the fresh, empty network namespace run.sh gives each binary (unshare --net).
 * This returns 1 when the process's network namespace differs from PID 1's and holds no
 * interface but `lo`; otherwise it says why and returns 0.  Call it before any change.
 */
static inline int check_private_netns(void)
{
    char self[64] = "", init[64] = "";
    ssize_t n;
    struct if_nameindex *ifs, *i;
    int others = 0;

    n = readlink("/proc/self/ns/net", self, sizeof self - 1);
    if (n <= 0) {
        check_note("cannot read /proc/self/ns/net: %s", strerror(errno));
        return 0;
    }
    self[n] = '\0';
    n = readlink("/proc/1/ns/net", init, sizeof init - 1);
    if (n > 0) {
        init[n] = '\0';
        if (strcmp(self, init) == 0) {
            check_note("refusing to run: this process shares PID 1's network namespace (%s); "
                       "run it through c-tests/run.sh (unshare --net)", self);
            return 0;
        }
    } else if (errno != EACCES && errno != EPERM) {
        check_note("cannot read /proc/1/ns/net: %s", strerror(errno));
        return 0;
    }
    ifs = if_nameindex();
    if (ifs == NULL) {
        check_note("if_nameindex: %s", strerror(errno));
        return 0;
    }
    for (i = ifs; i->if_index != 0; i++) {
        if (strcmp(i->if_name, "lo") != 0) {
            check_note("refusing to run: interface %s exists, so this is not a fresh private "
                       "namespace; run it through c-tests/run.sh (unshare --net)", i->if_name);
            others++;
        }
    }
    if_freenameindex(ifs);
    return others == 0;
}

/* Exits with a failure (not a skip) when check_private_netns() says no. */
static inline void check_require_private_netns(void)
{
    if (!check_private_netns()) {
        printf("not ok - private network namespace required\n");
        fflush(stdout);
        exit(2);
    }
}

/* ---- descriptors, sockets, a scratch root directory ------------------------------ */

#define CHECK_MAX_FDS 1024

/* The open descriptors of this process, ascending (without the listing's own). */
struct check_fdset {
    int n;
    int fd[CHECK_MAX_FDS];
    char what[CHECK_MAX_FDS][48]; /* the link's target, to name a descriptor that went away */
};

static inline int check_fd_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static inline int check_fds_once(struct check_fdset *s)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    s->n = 0;
    if (d == NULL)
        return CHECK(d != NULL);
    while ((e = readdir(d)) != NULL) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (e->d_name[0] == '.' || *end != '\0' || v == dirfd(d))
            continue;
        if (s->n < CHECK_MAX_FDS)
            s->fd[s->n++] = (int)v;
    }
    closedir(d);
    qsort(s->fd, (size_t)s->n, sizeof s->fd[0], check_fd_cmp);
    for (int i = 0; i < s->n; i++) {
        char path[64];
        ssize_t len;
        snprintf(path, sizeof path, "/proc/self/fd/%d", s->fd[i]);
        len = readlink(path, s->what[i], sizeof s->what[i] - 1);
        s->what[i][len > 0 ? len : 0] = '\0';
    }
    return 1;
}

static inline int check_fdsets_same(const struct check_fdset *a, const struct check_fdset *b)
{
    return a->n == b->n && memcmp(a->fd, b->fd, (size_t)a->n * sizeof a->fd[0]) == 0;
}

/*
 * The open descriptors once they hold still: two listings 100 ms apart that agree (at
 * most 50 tries).  The engine thread opens descriptors for a moment now and then (a
 * file it re-reads, the raw socket of a Router Solicitation); one listing can catch
 * such a descriptor open, and a later one then finds it "closed".  A descriptor leaked
 * or closed for good shows in every listing.
 */
static inline int check_fds(struct check_fdset *s)
{
    static struct check_fdset previous; /* static: 53 KB; the tests list from one thread */
    int tries;
    if (!check_fds_once(s))
        return 0;
    for (tries = 0; tries < 50; tries++) {
        previous = *s;
        usleep(100 * 1000);
        if (!check_fds_once(s))
            return 0;
        if (check_fdsets_same(&previous, s))
            return 1;
    }
    check_note("the open descriptors kept changing for 5 s");
    return 1;
}

/* CHECKs that two snapshots hold the same descriptors; names the differences. */
static inline int check_fds_equal(const struct check_fdset *before, const struct check_fdset *after)
{
    int i, j, ok = 1;
    for (i = 0; i < after->n; i++) {
        for (j = 0; j < before->n && before->fd[j] != after->fd[i]; j++) {
        }
        if (j == before->n) {
            check_note("descriptor %d (%s) is open now and was not before", after->fd[i], after->what[i]);
            ok = 0;
        }
    }
    for (i = 0; i < before->n; i++) {
        for (j = 0; j < after->n && after->fd[j] != before->fd[i]; j++) {
        }
        if (j == after->n) {
            check_note("descriptor %d (%s) was open before and is closed now", before->fd[i],
                       before->what[i]);
            ok = 0;
        }
    }
    return ok ? 1 : check_fail();
}

/*
 * A TCP listener (non-blocking: poll it before accept) on `ip` (IPv4 or IPv6 text),
 * kernel-chosen port; -1 on failure.
 */
static inline int check_tcp_listener(const char *ip, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;
    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        len = sizeof(struct sockaddr_in6);
    } else {
        check_note("check_tcp_listener: bad address %s", ip);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        check_note("socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 512) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        check_note("listener on %s: %s", ip, strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* Accepts and closes every connection waiting on a listener (without waiting); returns how many. */
static inline int check_accept_all(int listener)
{
    int n = 0, fd;
    while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        close(fd);
        n++;
    }
    return n;
}

/* Writes `text` to dir/rel (creating dir/etc first); 1 on success. */
static inline int check_write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/etc", dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    f = fopen(path, "w");
    if (f == NULL)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/*
 * Makes a scratch root directory (for mif_options.root_dir) holding etc/hosts and
 * etc/mif.conf with the given texts (NULL: no such file).  `dir` receives its path.
 */
static inline int check_make_root(char *dir, size_t len, const char *hosts, const char *conf)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/mif-ctest.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        check_note("mkdtemp %s: %s", dir, strerror(errno));
        return 0;
    }
    if ((hosts && !check_write_file(dir, "etc/hosts", hosts)) ||
        (conf && !check_write_file(dir, "etc/mif.conf", conf))) {
        check_note("cannot write under %s: %s", dir, strerror(errno));
        return 0;
    }
    return 1;
}

/* Removes what check_make_root made. */
static inline void check_remove_root(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/etc/hosts", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/etc/mif.conf", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/etc", dir);
    rmdir(path);
    rmdir(dir);
}

/* ---- the blackhole bed ----------------------------------------------------------- */

/*
 * The "blackhole" bed, inside the private namespace only: veth mt0 (198.51.100.10/24)
 * with its peer mt1 up (so mt0 has carrier and an IPv4 PvD), and a permanent neighbour
 * entry for CHECK_BLACKHOLE (198.51.100.77) with a MAC nobody has: whatever is sent
 * to it leaves mt0 and is dropped by mt1, with no answer and no ICMP error.  DNS
 * queries to it and TCP connects to it stay outstanding until their timeouts.
 */
#define CHECK_BLACKHOLE "198.51.100.77"
#define CHECK_BED_IF "mt0"
#define CHECK_BED_ADDR "198.51.100.10"

static inline int check_blackhole_bed(void)
{
    if (!check_private_netns())
        return 0;
    return check_sh("ip link add " CHECK_BED_IF " type veth peer name mt1") &&
           check_sh("ip addr add " CHECK_BED_ADDR "/24 dev " CHECK_BED_IF) &&
           check_sh("ip link set mt1 up && ip link set " CHECK_BED_IF " up") &&
           check_sh("ip neigh replace " CHECK_BLACKHOLE " lladdr 02:00:5e:00:00:77 dev " CHECK_BED_IF
                    " nud permanent");
}

/* ---- a far end in a network namespace of its own ---------------------------------- */

/* A child process in a network namespace of its own, with a TCP listener there. */
struct check_far_end {
    pid_t pid;       /* its namespace: `nsenter -t PID -n ...` */
    int keep;        /* closing this ends it */
    uint16_t port;   /* its listener's */
};

/* The far end's service: keep every connection open, or echo each byte back (one
 * connection at a time), until `stop` polls readable (the test closed its end). */
static inline void check_far_end_serve(int listener, int stop, int echo)
{
    int conn = -1;
    for (;;) {
        struct pollfd p[3] = { { listener, POLLIN, 0 }, { stop, POLLIN, 0 }, { conn, POLLIN, 0 } };
        char buf[4096];
        if (poll(p, conn >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
            _exit(1);
        if (p[1].revents)
            _exit(0);
        if (p[0].revents) {
            int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            /* Kept open (the child exits at the end) unless echoing replaces it. */
            if (c >= 0 && echo) {
                if (conn >= 0)
                    close(conn);
                conn = c;
            }
        }
        if (conn >= 0 && p[2].revents) {
            ssize_t n = read(conn, buf, sizeof buf);
            if (n <= 0) {
                close(conn);
                conn = -1;
                continue;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(conn, buf + off, (size_t)(n - off));
                if (w <= 0)
                    break;
                off += w;
            }
        }
    }
}

/*
 * Starts a far end: a child that unshares a network namespace, receives the links named
 * in `links` (space-separated; moving a link drops its addresses), runs `setup` there
 * (a shell command: addresses, routes, limits) and listens on IPv4 `ip`, kernel-chosen
 * port, with `protocol` (0 for TCP, IPPROTO_MPTCP for an MPTCP listener), serving as
 * check_far_end_serve() says.  Returns 1 when it is ready; check_far_end_stop() ends it.
 */
static inline int check_far_end_start(struct check_far_end *f, const char *links, const char *setup,
                                      const char *ip, int protocol, int echo)
{
    int ready[2], go[2];
    char c, cmd[512], list[128], *save = NULL, *link;
    f->pid = -1;
    f->keep = -1;
    f->port = 0;
    if (!CHECK(pipe2(ready, O_CLOEXEC) == 0) || !CHECK(pipe2(go, O_CLOEXEC) == 0))
        return 0;
    f->pid = fork();
    if (f->pid == 0) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof a;
        uint16_t port;
        int listener;
        close(ready[0]);
        close(go[1]);
        if (unshare(CLONE_NEWNET) != 0 || write(ready[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        if (system("ip link set lo up") != 0 || system(setup) != 0)
            _exit(1);
        inet_pton(AF_INET, ip, &a.sin_addr);
        listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, protocol);
        if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 512) != 0 ||
            getsockname(listener, (struct sockaddr *)&a, &len) != 0)
            _exit(1);
        port = ntohs(a.sin_port);
        if (write(ready[1], &port, sizeof port) != (ssize_t)sizeof port)
            _exit(1);
        check_far_end_serve(listener, go[0], echo);
    }
    close(ready[1]);
    close(go[0]);
    f->keep = go[1];
    if (!CHECK(f->pid > 0) || !CHECK(read(ready[0], &c, 1) == 1)) {
        close(ready[0]);
        return 0;
    }
    snprintf(list, sizeof list, "%s", links);
    for (link = strtok_r(list, " ", &save); link != NULL; link = strtok_r(NULL, " ", &save)) {
        snprintf(cmd, sizeof cmd, "ip link set %s netns %d", link, (int)f->pid);
        if (!CHECK(check_sh("%s", cmd))) {
            close(ready[0]);
            return 0;
        }
    }
    if (!CHECK(write(go[1], "g", 1) == 1) || !CHECK(read(ready[0], &f->port, sizeof f->port) == (ssize_t)sizeof f->port) ||
        !CHECK(f->port != 0)) {
        close(ready[0]);
        return 0;
    }
    close(ready[0]);
    return 1;
}

/* Ends a far end (also one that failed to start) and reaps it. */
static inline void check_far_end_stop(struct check_far_end *f)
{
    if (f->keep >= 0)
        close(f->keep);
    if (f->pid > 0)
        waitpid(f->pid, NULL, 0);
    f->keep = -1;
    f->pid = -1;
}

/* ---- libmif helpers (include mif.h before bed.h) --------------------------------- */
#ifdef MIF_H

/*
 * Frees a message the test does not want.  A Connected message's socket is the
 * application's (mif_message_free does not close it), so it is closed here.
 */
static inline void check_discard(mif_message *m)
{
    if (m != NULL && m->msg_type == MIF_MSG_CONNECTED && m->fd >= 0)
        close(m->fd);
    mif_message_free(m);
}

/*
 * Waits (at most timeout_ms in all; the limit only turns a hang into a failure) for a
 * message for which match(m, arg) is true.  Other messages are checked for form and
 * discarded (check_discard).  Returns the message (the caller frees it) or NULL.
 */
static inline mif_message *check_wait_for(mif_ctx *ctx, int (*match)(const mif_message *, const void *),
                                          const void *arg, int timeout_ms)
{
    long long deadline = check_now_ms() + timeout_ms;
    for (;;) {
        mif_message *m = NULL;
        mif_result rc = mif_get_message(ctx, &m);
        if (rc == MIF_OK) {
            check_message_well_formed(m);
            if (match(m, arg))
                return m;
            check_discard(m);
            continue;
        }
        if (!CHECK_RC(rc, MIF_NO_MESSAGE))
            return NULL;
        long long left = deadline - check_now_ms();
        if (left <= 0)
            return NULL;
        rc = mif_check_message(ctx, (int)left);
        if (rc != MIF_OK && rc != MIF_NO_MESSAGE && rc != MIF_E_INTERRUPTED) {
            CHECK_RC(rc, MIF_OK);
            return NULL;
        }
    }
}

/* Matchers for check_wait_for(). */
struct check_want {
    mif_message_type type;
    const char *ifname;    /* NULL: any */
    int family;            /* 0: any */
    const char *address;   /* text as mif_address_format writes it; NULL: any */
};

static inline int check_match(const mif_message *m, const void *arg)
{
    const struct check_want *w = (const struct check_want *)arg;
    char text[MIF_ADDRESS_TEXT_SIZE];
    if (m->msg_type != w->type)
        return 0;
    if (w->ifname != NULL && strncmp(m->ifname, w->ifname, sizeof m->ifname) != 0)
        return 0;
    if (w->family != 0 && m->family != w->family)
        return 0;
    if (w->address != NULL) {
        if (mif_address_format(&m->address, text, sizeof text) != MIF_OK)
            return 0;
        if (strcmp(text, w->address) != 0)
            return 0;
    }
    return 1;
}

/* check_wait_for() with a struct check_want. */
static inline mif_message *check_wait_want(mif_ctx *ctx, mif_message_type type, const char *ifname,
                                           int family, const char *address, int timeout_ms)
{
    struct check_want w;
    w.type = type;
    w.ifname = ifname;
    w.family = family;
    w.address = address;
    mif_message *m = check_wait_for(ctx, check_match, &w, timeout_ms);
    if (m == NULL)
        check_note("no %s for %s fam=%d addr=%s within %d ms", mif_message_type_name(type),
                   ifname ? ifname : "*", family, address ? address : "*", timeout_ms);
    return m;
}

/* Takes and discards (check_discard) every waiting message without waiting; returns how many. */
static inline int check_drain(mif_ctx *ctx)
{
    int n = 0;
    mif_message *m = NULL;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        check_discard(m);
        n++;
    }
    return n;
}

/* Posts a request of `type` with `ifindex` / `pvd`; returns the result. */
static inline mif_result check_post(mif_ctx *ctx, mif_request_type type, uint32_t ifindex, uint64_t pvd)
{
    mif_request req;
    mif_request_init(&req, type);
    req.ifindex = ifindex;
    req.pvd = pvd;
    return mif_post_message(ctx, &req);
}

/* A mif_address from text ("198.51.100.7", "fd6d:6966::1"); family 0 if not an address. */
static inline mif_address check_address(const char *text)
{
    mif_address a;
    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, text, a.bytes) == 1)
        a.family = MIF_FAMILY_IPV4;
    else if (inet_pton(AF_INET6, text, a.bytes) == 1)
        a.family = MIF_FAMILY_IPV6;
    return a;
}

/*
 * The id of interface `ifname`'s PvD of `family` in this context, waiting (10 s at
 * most) until it is announced; 0 if it is not.  Leaves no subscription and drains
 * the queue.
 */
static inline uint64_t check_pvd_of(mif_ctx *ctx, const char *ifname, int family)
{
    uint64_t id = 0;
    unsigned ifindex = if_nametoindex(ifname);
    mif_request req;
    mif_message *m;
    if (!CHECK(ifindex != 0))
        return 0;
    mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
    req.ifindex = ifindex;
    if (!CHECK_RC(mif_post_message(ctx, &req), MIF_OK))
        return 0;
    m = check_wait_want(ctx, MIF_MSG_PVD_ANNOUNCEMENT, ifname, family, NULL, 10000);
    if (CHECK(m != NULL)) {
        id = m->pvd;
        mif_message_free(m);
    }
    req.request_type = MIF_REQ_STOP_ANNOUNCING_PVDS;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    check_drain(ctx);
    return id;
}

static inline int check_match_element_with_dns(const mif_message *m, const void *arg)
{
    (void)arg;
    return m->msg_type == MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT && m->dns_server_count > 0;
}

/*
 * Waits (10 s at most) until PvD `pvd` has a configuration element with a DNS server,
 * so that a translation on it goes to DNS.  Leaves no subscription; drains the queue.
 */
static inline int check_wait_dns_element(mif_ctx *ctx, uint64_t pvd)
{
    mif_message *m;
    if (!CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, 0, pvd), MIF_OK))
        return 0;
    m = check_wait_for(ctx, check_match_element_with_dns, NULL, 10000);
    CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, 0, pvd), MIF_OK);
    check_drain(ctx);
    if (!CHECK(m != NULL)) {
        check_note("PvD %llu got no configuration element with a DNS server", (unsigned long long)pvd);
        return 0;
    }
    mif_message_free(m);
    return 1;
}

static inline int check_match_translation_done(const mif_message *m, const void *arg)
{
    if (m->msg_type == MIF_MSG_NAME_TRANSLATION)
        (*(int *)arg)++;
    return m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE;
}

/*
 * How many addresses lo's IPv4 PvD finds for `name` in this context (lo has no DNS
 * server: the hosts file alone; a name not in it waits until lo's DNS configuration is
 * learned), waiting 30 s at most for the translation's Done; -1 if the post failed.
 * Other messages meanwhile are discarded.
 */
static inline int check_hosts_addresses(mif_ctx *ctx, const char *name)
{
    static uint64_t next_id = 1;
    int addresses = 0;
    mif_request req;
    mif_message *m;
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    req.translation_id = next_id++;
    req.name = name;
    if (!CHECK_RC(mif_post_message(ctx, &req), MIF_OK))
        return -1;
    m = check_wait_for(ctx, check_match_translation_done, &addresses, 30000);
    CHECK(m != NULL);
    mif_message_free(m);
    return addresses;
}

#define CHECK_SYNC_TID UINT64_C(0xFFFFFFFFFFFF5EC0)

static inline int check_match_sync_done(const mif_message *m, const void *arg)
{
    (void)arg;
    return m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE && m->translation_id == CHECK_SYNC_TID;
}

/*
 * Waits (10 s at most) until the context's engine thread has handled everything posted
 * so far (and finished its start-up work, such as Router Solicitations on a raw socket):
 * posts a translation on `pvd` (one without a DNS server, e.g. lo's, so it ends at
 * once) and waits for its Done.  Other messages meanwhile are discarded.
 */
static inline int check_engine_sync(mif_ctx *ctx, uint64_t pvd)
{
    mif_request req;
    mif_message *m;
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = pvd;
    req.translation_id = CHECK_SYNC_TID;
    req.name = "engine-sync.invalid";
    if (!CHECK_RC(mif_post_message(ctx, &req), MIF_OK))
        return 0;
    m = check_wait_for(ctx, check_match_sync_done, NULL, 10000);
    if (!CHECK(m != NULL))
        return 0;
    mif_message_free(m);
    return 1;
}

#endif /* MIF_H */

#endif /* MIF_BED_H */
