/*
 * dns_vs_cares: name translation through libmif next to c-ares, against the same
 * dnsmasq, the same names, the same concurrency, in one run.
 *
 * This program runs in the host namespace (IFNAME, default mif0, 198.51.100.2/24); it
 * starts dnsmasq in the server namespace (-S NAME, through `ip netns exec`, as its own
 * child, stopped by PID, also from an atexit handler) listening on SERVER (default
 * 198.51.100.1) and serving N names hNNNNN.bench.test from an --addn-hosts file, each
 * with an A (198.18.x.y) and an AAAA (fd6d:6966:e::x:y) record; big cache, big
 * --dns-forward-max, no logging. dnsmasq's UDP socket gets a 16 MiB receive buffer
 * (SO_RCVBUFFORCE through pidfd_getfd: dnsmasq has no option for it and rmem_default is
 * not writable here), so that the server never drops a burst of 512 queries.
 *   - libmif: a context with root_dir = a private directory holding etc/mif.conf
 *     ("[mif0] dns = SERVER": a static element on mif0's IPv4 PvD) and a two-line
 *     etc/hosts (localhost), which libmif looks up at every request; MIF_REQ_TRANSLATE_NAME
 *     on that PvD, at most C outstanding; a name is done at its
 *     MIF_MSG_NAME_TRANSLATION_DONE (status done, 2 addresses expected).
 *   - c-ares (the peer): ares_getaddrinfo(AF_UNSPEC, ARES_AI_NOSORT: libmif does not
 *     sort either), channel made with ARES_OPT_SERVERS + ares_set_servers_ports_csv
 *     (SERVER:53) before any query and checked with ares_get_servers_ports,
 *     ARES_FLAG_NOSEARCH|NOALIASES|EDNS (1232, as libmif), no search domains, ndots 1,
 *     lookups "fb" (its default: /etc/hosts, then DNS), timeout 1000 ms x 2 tries (as
 *     libmif); LOCALDOMAIN/RES_OPTIONS unset. Event loop: ARES_OPT_SOCK_STATE_CB + poll +
 *     ares_process_fd; at most C outstanding; a name is done when its callback runs.
 *   - c-ares with ARES_OPT_SOCK_RCVBUF 4 MiB: the same channel otherwise. c-ares sends
 *     every query over one UDP socket; with the default buffer it drops replies at
 *     C = 256 (counted: Udp RcvbufErrors of this namespace) and waits 1 s to retry.
 *   - a diagnostic: libmif's per-name work (the hosts file's watch read, a fresh pinned and bound
 *     UDP socket per name for its A and AAAA queries, epoll registration, pooled
 *     getrandom IDs) done inline in this thread, at most C outstanding, to split
 *     libmif's extra latency into "engine thread hand-off and messages" and "per-name
 *     socket work"; its ratio to c-ares (printed as "floor") is what any resolver with
 *     a fresh socket per name reaches here.
 *   - a second diagnostic, the floor of the mif_fd case: the same per-name work started
 *     by this thread, the answers read by a second thread, which queues each completed
 *     name and writes an eventfd that this thread waits on in its own epoll (the shape
 *     of an application waiting on mif_fd before fd mode, without the library; since
 *     session 13 an application waiting on mif_fd with up to 4 translations out reads
 *     the answers itself, so libmif can go below this floor).
 * Latency of a name: just before its post / ares_getaddrinfo() -> its completion seen
 * by the loop. Throughput: names / wall time of the round. For each concurrency, R
 * rounds of all N names, alternating the order; latencies pooled, throughput = all
 * names / summed time. One untimed warm-up round each first.
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: dns_vs_cares -S SERVER_NETNS [-i mif0] [-d 198.51.100.1] [-n 2000] [-r 3] [-c 1,256]
 *        [-O mif|cares|wait|inline]   (one side only, for profiling; no ratio then: wait is libmif
 *        waiting in mif_check_message alone, inline its per-name work done inline alone)
 */
#include "bench_util.h"

#include <ares.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>

#define WAIT_MS 10000
#define MAX_CONC 4096
#define MAX_SOCKS 64

static const char *ifname = "mif0";
static const char *server = "198.51.100.1";
static int n_names = 2000;
static char **names;
static struct child dnsmasq = { -1, -1 };

static char dir[] = "/tmp/mif-bench-dns.XXXXXX";

/* The private files, also on die(). */
static void remove_files(void)
{
    static const char *const rel[] = { "etc/mif.conf", "etc/hosts", "names.hosts", "etc", "" };
    char path[300];
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, rel[i]);
        if (unlink(path) != 0)
            rmdir(path);
    }
}

/* Also on die() (and PR_SET_PDEATHSIG covers a killed program: dnsmasq runs with
 * --user=root --group=root, since a change of user or group would clear it). */
static void stop_dnsmasq(void)
{
    stop_child(&dnsmasq);
}

/* ---- the server ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die("write %s: %s", path, strerror(errno));
}

static void make_names(const char *hosts_path)
{
    names = calloc((size_t)n_names, sizeof *names);
    FILE *f = fopen(hosts_path, "w");
    if (!names || !f)
        die("names: %s", strerror(errno));
    for (int i = 0; i < n_names; i++) {
        if (asprintf(&names[i], "h%05d.bench.test", i) < 0)
            die("out of memory");
        fprintf(f, "198.18.%d.%d %s\n", i / 250, 1 + i % 250, names[i]);
        fprintf(f, "fd6d:6966:e::%x:%x %s\n", i / 250, 1 + i % 250, names[i]);
    }
    if (fclose(f) != 0)
        die("write %s: %s", hosts_path, strerror(errno));
}

/* Writes a DNS query (RD set; with an EDNS0 OPT record of 1232 bytes if edns) into q;
 * returns its length. */
static size_t build_query(unsigned char *q, uint16_t id, const char *name, uint16_t qtype, int edns)
{
    size_t len = 0;
    q[len++] = (unsigned char)(id >> 8);
    q[len++] = (unsigned char)id;
    const unsigned char hdr[] = { 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, (unsigned char)(edns ? 1 : 0) };
    memcpy(q + len, hdr, sizeof hdr);
    len += sizeof hdr;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        q[len++] = (unsigned char)l;
        memcpy(q + len, p, l);
        len += l;
        p += l + (dot ? 1 : 0);
    }
    q[len++] = 0;
    const unsigned char tail[] = { (unsigned char)(qtype >> 8), (unsigned char)qtype, 0, 1 };
    memcpy(q + len, tail, 4);
    len += 4;
    if (edns) {
        const unsigned char opt[] = { 0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0 };
        memcpy(q + len, opt, sizeof opt);
        len += sizeof opt;
    }
    return len;
}

/* One A query for `name` over UDP; 1 if a reply with our ID came within `ms`. */
static int dns_probe(const char *name, int ms)
{
    unsigned char q[512], r[1500];
    size_t len = build_query(q, (uint16_t)(getpid() ^ now_ns()), name, 1, 0);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
    inet_pton(AF_INET, server, &sa.sin_addr);
    int ok = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && send(fd, q, len, 0) == (ssize_t)len) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        if (poll(&pfd, 1, ms) == 1) {
            ssize_t n = recv(fd, r, sizeof r, 0);
            ok = n >= 12 && r[0] == q[0] && r[1] == q[1];
        }
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Raises the receive buffer of dnsmasq's UDP socket on SERVER:53 to `bytes`
 * (SO_RCVBUFFORCE on a duplicate taken with pidfd_getfd: same socket). dnsmasq has no
 * option for it and net.core.rmem_default cannot be written here; with the default
 * (~208 KiB) a burst of 512 queries overflows it. Returns the new SO_RCVBUF or -1. */
static int raise_server_rcvbuf(pid_t pid, int bytes)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return -1;
    char dirpath[64];
    snprintf(dirpath, sizeof dirpath, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dirpath);
    int result = -1;
    struct sockaddr_in want = { .sin_family = AF_INET, .sin_port = htons(53) };
    inet_pton(AF_INET, server, &want.sin_addr);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
        if (fd < 0)
            continue;
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int type = 0;
        socklen_t tl = sizeof type;
        if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 && sa.sin_family == AF_INET &&
            sa.sin_port == want.sin_port && sa.sin_addr.s_addr == want.sin_addr.s_addr &&
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM &&
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) {
            tl = sizeof result;
            getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &result, &tl);
        }
        close(fd);
    }
    if (d)
        closedir(d);
    close(pidfd);
    return result;
}

/* UDP receive-buffer drops in this namespace so far (/proc/net/snmp, Udp RcvbufErrors). */
static long long udp_rcvbuf_errors(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return -1;
    char head[1024], vals[1024];
    long long v = -1;
    while (fgets(head, sizeof head, f)) {
        if (strncmp(head, "Udp:", 4) != 0 || !fgets(vals, sizeof vals, f))
            continue;
        char *hs, *vs;
        char *h = strtok_r(head, " \n", &hs), *x = strtok_r(vals, " \n", &vs);
        while (h && x) {
            if (strcmp(h, "RcvbufErrors") == 0)
                v = strtoll(x, NULL, 10);
            h = strtok_r(NULL, " \n", &hs);
            x = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    fclose(f);
    return v;
}

/* CPU time of the calling thread, ns. */
static int64_t self_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User time of the calling thread, ns: the kernel's split of its CPU time, sampled at
 * each timer tick (CONFIG_HZ; 250 on the test VM, where a few microseconds per name
 * over 6000 names are a few ticks: read the smallest figures as rough), but without a
 * profiler's own cost. */
static int64_t self_user_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        die("getrusage: %s", strerror(errno));
    return (int64_t)ru.ru_utime.tv_sec * 1000000000 + (int64_t)ru.ru_utime.tv_usec * 1000;
}

/* ---- libmif ---- */

struct run {
    int conc;
    int64_t *lat; /* per name, ns */
    int64_t wall; /* ns */
    int failures; /* not done, or not 2 addresses */
    long long drops; /* UDP receive-buffer drops in this namespace during the run */
    char first_failure[160];
};

static uint64_t next_translation_id = 1;

static void note_failure(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_failure(struct run *r, const char *fmt, ...)
{
    if (r->failures++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first_failure, sizeof r->first_failure, fmt, ap);
        va_end(ap);
    }
}

struct mif_slot {
    uint64_t id;
    int name;
    int addrs;
    int64_t t0;
};

/* on_fd: wait with poll() on mif_fd (an application's own event loop; the engine thread
 * then reads every answer) instead of mif_check_message (where the waiting thread reads
 * the answers itself while few are outstanding). */
static void run_mif(mif_ctx *ctx, uint64_t pvd, struct run *r, int on_fd)
{
    struct mif_slot *slots = calloc((size_t)r->conc, sizeof *slots);
    int *free_slots = calloc((size_t)r->conc, sizeof *free_slots);
    if (!slots || !free_slots)
        die("out of memory");
    int nfree = r->conc;
    for (int i = 0; i < r->conc; i++)
        free_slots[i] = r->conc - 1 - i;
    /* translation ids are consecutive per round: id - base = slot lookup through a map */
    uint64_t base = next_translation_id;
    int *slot_of = malloc((size_t)n_names * sizeof *slot_of);
    if (!slot_of)
        die("out of memory");
    next_translation_id += (uint64_t)n_names;
    int next = 0, done = 0;
    long long drops0 = udp_rcvbuf_errors();
    int64_t start = now_ns();
    while (done < n_names) {
        while (nfree > 0 && next < n_names) {
            int s = free_slots[--nfree];
            mif_request req;
            mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
            req.pvd = pvd;
            req.name = names[next];
            req.translation_id = base + (uint64_t)next;
            slots[s] = (struct mif_slot){ req.translation_id, next, 0, now_ns() };
            slot_of[next] = s;
            check_mif(mif_post_message(ctx, &req), "translate name");
            next++;
        }
        if (on_fd) {
            struct pollfd pfd = { .fd = mif_fd(ctx), .events = POLLIN };
            int n = poll(&pfd, 1, WAIT_MS);
            if (n == 0)
                die("libmif: mif_fd not readable within %d ms (%d of %d names done)", WAIT_MS, done, n_names);
            if (n < 0 && errno != EINTR)
                die("poll: %s", strerror(errno));
        } else if (!mif_wait(ctx, WAIT_MS))
            die("libmif: no message within %d ms (%d of %d names done)", WAIT_MS, done, n_names);
        mif_message *m;
        while (mif_get_message(ctx, &m) == MIF_OK) {
            int64_t t = now_ns();
            check_engine(m);
            if ((m->msg_type == MIF_MSG_NAME_TRANSLATION || m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE) &&
                m->translation_id >= base && m->translation_id < base + (uint64_t)n_names) {
                int name = (int)(m->translation_id - base);
                struct mif_slot *sl = &slots[slot_of[name]];
                if (m->msg_type == MIF_MSG_NAME_TRANSLATION) {
                    sl->addrs++;
                } else {
                    r->lat[name] = t - sl->t0;
                    if (m->translation_status != MIF_TRANSLATION_DONE || sl->addrs != 2)
                        note_failure(r, "libmif %s: %s, %d addresses", names[name],
                                     mif_translation_status_name(m->translation_status), sl->addrs);
                    free_slots[nfree++] = slot_of[name];
                    done++;
                }
            }
            mif_message_free(m);
        }
    }
    r->wall = now_ns() - start;
    r->drops = udp_rcvbuf_errors() - drops0;
    free(slots);
    free(free_slots);
    free(slot_of);
}

/* ---- c-ares ---- */

struct cares_state {
    ares_channel ch;
    struct pollfd socks[MAX_SOCKS];
    int nsocks;
    struct run *r;
    int64_t *t0;
    int outstanding, done;
};

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    struct cares_state *st = data;
    int i;
    for (i = 0; i < st->nsocks; i++)
        if (st->socks[i].fd == fd)
            break;
    if (!readable && !writable) {
        if (i < st->nsocks)
            st->socks[i] = st->socks[--st->nsocks];
        return;
    }
    if (i == st->nsocks) {
        if (st->nsocks == MAX_SOCKS)
            die("c-ares: more than %d sockets", MAX_SOCKS);
        st->nsocks++;
    }
    st->socks[i] = (struct pollfd){ fd, (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0)), 0 };
}

struct cares_query {
    struct cares_state *st;
    int name;
};

static struct cares_query *cq_pool;

static void gai_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct cares_query *q = arg;
    struct cares_state *st = q->st;
    int64_t t = now_ns();
    st->r->lat[q->name] = t - st->t0[q->name];
    int addrs = 0;
    if (res)
        for (struct ares_addrinfo_node *n = res->nodes; n; n = n->ai_next)
            addrs++;
    if (status != ARES_SUCCESS || addrs != 2)
        note_failure(st->r, "c-ares %s: %s, %d addresses, %d timeouts", names[q->name], ares_strerror(status),
                     addrs, timeouts);
    if (res)
        ares_freeaddrinfo(res);
    st->outstanding--;
    st->done++;
}

static void run_cares(struct cares_state *st, struct run *r)
{
    st->r = r;
    st->outstanding = st->done = 0;
    struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC, .ai_flags = ARES_AI_NOSORT };
    int next = 0;
    long long drops0 = udp_rcvbuf_errors();
    int64_t start = now_ns();
    while (st->done < n_names) {
        while (st->outstanding < r->conc && next < n_names) {
            cq_pool[next] = (struct cares_query){ st, next };
            st->outstanding++;
            st->t0[next] = now_ns();
            ares_getaddrinfo(st->ch, names[next], NULL, &hints, gai_cb, &cq_pool[next]);
            next++;
        }
        if (st->done >= n_names)
            break;
        struct timeval maxtv = { WAIT_MS / 1000, 0 }, tv;
        struct timeval *tvp = ares_timeout(st->ch, &maxtv, &tv);
        int ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
        struct pollfd pfd[MAX_SOCKS];
        int np = st->nsocks;
        memcpy(pfd, st->socks, (size_t)np * sizeof *pfd);
        int rc = poll(pfd, (nfds_t)np, ms);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (rc == 0) {
            ares_process_fd(st->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (int i = 0; i < np; i++) {
            if (!pfd[i].revents)
                continue;
            ares_socket_t rfd = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_socket_t wfd = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_process_fd(st->ch, rfd, wfd);
        }
    }
    r->wall = now_ns() - start;
    r->drops = udp_rcvbuf_errors() - drops0;
}

static void cares_open(struct cares_state *st, int rcvbuf)
{
    /* Nothing from the environment may add search domains or options. */
    unsetenv("LOCALDOMAIN");
    unsetenv("RES_OPTIONS");
    check_mif(ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? MIF_OK : MIF_E_SYSTEM, "ares_library_init");
    struct ares_options o;
    memset(&o, 0, sizeof o);
    int mask = 0;
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
    mask |= ARES_OPT_FLAGS;
    o.ednspsz = 1232;
    mask |= ARES_OPT_EDNSPSZ;
    struct in_addr srv;
    if (inet_pton(AF_INET, server, &srv) != 1)
        die("bad server address %s", server);
    o.servers = &srv;
    o.nservers = 1;
    mask |= ARES_OPT_SERVERS;
    o.domains = NULL;
    o.ndomains = 0;
    mask |= ARES_OPT_DOMAINS;
    o.ndots = 1;
    mask |= ARES_OPT_NDOTS;
    o.lookups = (char *)"fb";
    mask |= ARES_OPT_LOOKUPS;
    o.timeout = 1000;
    mask |= ARES_OPT_TIMEOUTMS;
    o.tries = 2;
    mask |= ARES_OPT_TRIES;
    if (rcvbuf > 0) {
        o.socket_receive_buffer_size = rcvbuf;
        mask |= ARES_OPT_SOCK_RCVBUF;
    }
    o.sock_state_cb = sock_state_cb;
    o.sock_state_cb_data = st;
    mask |= ARES_OPT_SOCK_STATE_CB;
    int rc = ares_init_options(&st->ch, &o, mask);
    if (rc != ARES_SUCCESS)
        die("ares_init_options: %s", ares_strerror(rc));
    char csv[64];
    snprintf(csv, sizeof csv, "%s:53", server);
    rc = ares_set_servers_ports_csv(st->ch, csv);
    if (rc != ARES_SUCCESS)
        die("ares_set_servers_ports_csv: %s", ares_strerror(rc));
    /* Prove the channel holds exactly our server. */
    struct ares_addr_port_node *servers = NULL;
    if (ares_get_servers_ports(st->ch, &servers) != ARES_SUCCESS || !servers || servers->next ||
        servers->family != AF_INET || memcmp(&servers->addr.addr4, &srv, 4) != 0 ||
        (servers->udp_port != 53 && servers->udp_port != 0))
        die("c-ares does not hold exactly the server %s", server);
    ares_free_data(servers);
}

/* ---- diagnostic: libmif's per-name work, in the calling thread ---- */

/* What libmif does for one name (docs/name-translation.md), done inline in this thread
 * with no engine thread and no message queue: read the hosts file's inotify watch (libmif
 * stats the file only when that reports something); one fresh nonblocking UDP socket for the name's A and AAAA
 * queries (as libmif since issue 14), SO_BINDTODEVICE, bind to the PvD's address,
 * connect to the server, an ID per query from a getrandom pool (as libmif), EDNS0
 * queries, registered in an epoll set; the replies read until EAGAIN (IDs checked); the
 * socket closed (which leaves the epoll set) once both are answered; at most C names
 * outstanding. No retries: a lost reply ends the program (WAIT_MS).
 * The difference to libmif is what the engine thread hand-off and messages cost; its
 * ratio to c-ares is the floor of any resolver that opens a fresh socket per name. */
struct replica_slot {
    int name;
    int fd;
    uint16_t ids[2];
    int got[2];
    int64_t t0, done_at; /* started; completed (inline) or taken (reader thread) */
};

/* One name's start as libmif's post does it: the hosts file's watch read, a fresh socket, its
 * A and AAAA queries sent, the socket added to `ep` (the set whoever reads answers
 * waits on). */
static void replica_start(struct replica_slot *sl, int si, int ep, const char *hosts_path,
                          const struct sockaddr_in *local, const struct sockaddr_in *srv, uint16_t *id_pool,
                          size_t *ids_used)
{
    unsigned char q[512];
    struct stat st;
    /* libmif (session 15) follows the hosts file with inotify, armed once, and stats it
     * only when the watch reports something: one nonblocking read per name. */
    static int hosts_watch = -1;
    char events[4096];
    if (hosts_watch < 0) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s", hosts_path);
        char *slash = strrchr(dir, '/');
        if (slash != NULL)
            *slash = '\0';
        hosts_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (hosts_watch < 0 ||
            inotify_add_watch(hosts_watch, dir, IN_MODIFY | IN_ATTRIB | IN_MOVE | IN_CREATE | IN_DELETE) < 0 ||
            inotify_add_watch(hosts_watch, hosts_path, IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE) < 0)
            die("inotify on %s: %s", hosts_path, strerror(errno));
    }
    if ((read(hosts_watch, events, sizeof events) >= 0 || errno != EAGAIN) && stat(hosts_path, &st) != 0)
        die("stat %s: %s", hosts_path, strerror(errno));
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0 ||
        bind(fd, (const struct sockaddr *)local, sizeof *local) != 0 ||
        connect(fd, (const struct sockaddr *)srv, sizeof *srv) != 0)
        die("replica socket: %s", strerror(errno));
    sl->fd = fd;
    for (int k = 0; k < 2; k++) {
        if (*ids_used == 128) {
            if (getrandom(id_pool, 128 * sizeof *id_pool, 0) != (ssize_t)(128 * sizeof *id_pool))
                die("getrandom: %s", strerror(errno));
            *ids_used = 0;
        }
        sl->ids[k] = id_pool[(*ids_used)++];
        size_t len = build_query(q, sl->ids[k], names[sl->name], k == 0 ? 1 : 28, 1);
        if (send(fd, q, len, 0) != (ssize_t)len)
            die("replica send: %s", strerror(errno));
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)si };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

/* Reads a slot's replies until EAGAIN; 1 once both are in (its socket then closed). */
static int replica_read(struct replica_slot *sl)
{
    unsigned char buf[1500];
    ssize_t len;
    while (!(sl->got[0] && sl->got[1]) && (len = recv(sl->fd, buf, sizeof buf, 0)) >= 0) {
        for (int k = 0; k < 2; k++)
            if (len >= 12 && buf[0] == (sl->ids[k] >> 8) && buf[1] == (sl->ids[k] & 0xff))
                sl->got[k] = 1;
    }
    if (!(sl->got[0] && sl->got[1]))
        return 0;
    close(sl->fd);
    return 1;
}

/* ---- diagnostic: the same work, answers read by a second thread ---- */

/* The shape libmif has when the application waits on mif_fd: the application thread
 * starts each name (replica_start, as libmif's post), a reader thread waits on the
 * socket set, reads the replies and, when a name is complete, queues it and writes an
 * eventfd; the application thread waits on that eventfd in its own epoll (as on
 * mif_fd), reads it and takes the completed names. No messages, no library: what any
 * design pays where a background thread reads the answers and wakes the application
 * through one descriptor. */
struct handoff {
    int ep, efd, quit;
    struct replica_slot *slots;
    pthread_mutex_t lock;
    int *done_list;
    int ndone;
    int64_t reader_cpu_ns; /* the reader's CPU time, set as it ends */
};

#define HANDOFF_QUIT UINT32_MAX

static void *handoff_reader(void *arg)
{
    struct handoff *h = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(h->ep, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("reader epoll_wait: %s", strerror(errno));
        int finished = 0;
        for (int e = 0; e < n; e++) {
            if (evs[e].data.u32 == HANDOFF_QUIT) {
                struct timespec ts;
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
                h->reader_cpu_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
                return NULL;
            }
            int si = (int)evs[e].data.u32;
            struct replica_slot *sl = &h->slots[si];
            if (!(sl->got[0] && sl->got[1]) && replica_read(sl)) {
                pthread_mutex_lock(&h->lock);
                h->done_list[h->ndone++] = si;
                pthread_mutex_unlock(&h->lock);
                finished = 1;
            }
        }
        uint64_t one = 1;
        if (finished && write(h->efd, &one, sizeof one) != (ssize_t)sizeof one)
            die("reader write: %s", strerror(errno));
    }
}

/* Returns the reader thread's CPU time. */
/* The inline replica's wait: the names completed by the replies that came, into
 * `ready`; returns how many. */
static int wait_inline(int ep, struct replica_slot *slots, struct epoll_event *evs, int conc, int *ready)
{
    int n = epoll_wait(ep, evs, conc, WAIT_MS), k = 0;
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0)
        die("replica: no reply within %d ms", WAIT_MS);
    for (int e = 0; e < n; e++) {
        int si = (int)evs[e].data.u32;
        struct replica_slot *sl = &slots[si];
        if (!(sl->got[0] && sl->got[1]) && replica_read(sl)) {
            sl->done_at = now_ns();
            ready[k++] = si;
        }
    }
    return k;
}

/* The reader-thread replica's wait: the eventfd in this thread's own epoll, then the
 * names the reader completed meanwhile, into `ready`; returns how many. */
static int wait_reader(struct handoff *h, int app_ep, int *ready)
{
    struct epoll_event ev;
    int n = epoll_wait(app_ep, &ev, 1, WAIT_MS);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0)
        die("reader-thread replica: no reply within %d ms", WAIT_MS);
    uint64_t count;
    if (read(h->efd, &count, sizeof count) != (ssize_t)sizeof count)
        die("handoff read: %s", strerror(errno));
    pthread_mutex_lock(&h->lock);
    int k = h->ndone;
    memcpy(ready, h->done_list, (size_t)k * sizeof *ready);
    h->ndone = 0;
    pthread_mutex_unlock(&h->lock);
    int64_t now = now_ns();
    for (int i = 0; i < k; i++)
        h->slots[ready[i]].done_at = now;
    return k;
}

/* Runs the replica, inline or (`reader_thread`) with the replies read by a second
 * thread; returns that thread's CPU time (0 inline). */
static int64_t run_replica(const char *hosts_path, struct in_addr src, struct run *r, int reader_thread)
{
    struct handoff h = { .ep = epoll_create1(EPOLL_CLOEXEC), .efd = -1, .quit = -1 };
    h.slots = calloc((size_t)r->conc, sizeof *h.slots);
    h.done_list = calloc((size_t)r->conc, sizeof *h.done_list);
    int *free_slots = calloc((size_t)r->conc, sizeof *free_slots);
    int *ready = calloc((size_t)r->conc, sizeof *ready);
    struct epoll_event *evs = calloc((size_t)r->conc, sizeof *evs);
    if (!h.slots || !h.done_list || !free_slots || !ready || !evs)
        die("out of memory");
    if (h.ep < 0)
        die("epoll_create1: %s", strerror(errno));
    int app_ep = -1;
    pthread_t reader;
    if (reader_thread) {
        h.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        h.quit = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        app_ep = epoll_create1(EPOLL_CLOEXEC);
        if (h.efd < 0 || h.quit < 0 || app_ep < 0)
            die("handoff setup: %s", strerror(errno));
        struct epoll_event qev = { .events = EPOLLIN, .data.u32 = HANDOFF_QUIT };
        struct epoll_event aev = { .events = EPOLLIN, .data.u32 = 0 };
        if (epoll_ctl(h.ep, EPOLL_CTL_ADD, h.quit, &qev) != 0 || epoll_ctl(app_ep, EPOLL_CTL_ADD, h.efd, &aev) != 0)
            die("handoff epoll_ctl: %s", strerror(errno));
        pthread_mutex_init(&h.lock, NULL);
        if (pthread_create(&reader, NULL, handoff_reader, &h) != 0)
            die("pthread_create failed");
    }
    struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(53) };
    inet_pton(AF_INET, server, &srv.sin_addr);
    struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = src };
    uint16_t id_pool[128];
    size_t ids_used = 128;
    int nfree = r->conc;
    for (int i = 0; i < r->conc; i++)
        free_slots[i] = r->conc - 1 - i;
    int next = 0, done = 0;
    long long drops0 = udp_rcvbuf_errors();
    int64_t start = now_ns();
    while (done < n_names) {
        while (nfree > 0 && next < n_names) {
            int si = free_slots[--nfree];
            h.slots[si] = (struct replica_slot){ .name = next++, .t0 = now_ns() };
            replica_start(&h.slots[si], si, h.ep, hosts_path, &local, &srv, id_pool, &ids_used);
        }
        int k = reader_thread ? wait_reader(&h, app_ep, ready) : wait_inline(h.ep, h.slots, evs, r->conc, ready);
        for (int i = 0; i < k; i++) {
            struct replica_slot *sl = &h.slots[ready[i]];
            r->lat[sl->name] = sl->done_at - sl->t0;
            free_slots[nfree++] = ready[i];
            done++;
        }
    }
    r->wall = now_ns() - start;
    r->drops = udp_rcvbuf_errors() - drops0;
    int64_t reader_cpu = 0;
    if (reader_thread) {
        uint64_t one = 1;
        if (write(h.quit, &one, sizeof one) != (ssize_t)sizeof one)
            die("handoff quit: %s", strerror(errno));
        pthread_join(reader, NULL);
        pthread_mutex_destroy(&h.lock);
        reader_cpu = h.reader_cpu_ns;
        close(h.efd);
        close(h.quit);
        close(app_ep);
    }
    free(h.slots);
    free(h.done_list);
    free(free_slots);
    free(ready);
    free(evs);
    close(h.ep);
    return reader_cpu;
}

/* ---- main ---- */

static void usage(void)
{
    usage_exit("usage: dns_vs_cares -S SERVER_NETNS [-i IFNAME] [-d SERVER] [-n N] [-r R] [-c C1,C2,...] "
               "[-O mif|cares|wait|inline|fd|reader]\n");
}

int main(int argc, char **argv)
{
    const char *server_ns = NULL, *conc_list = "1,256";
    const char *only_side = NULL;
    /* -O: one side only (profiling): libmif both ways, c-ares both ways, libmif waiting in
     * mif_check_message, the inline replica, libmif waiting on mif_fd, the reader-thread
     * replica. */
    enum { ALL, ONLY_MIF, ONLY_CARES, ONLY_WAIT, ONLY_INLINE, ONLY_FD, ONLY_READER } only = ALL;
    int rounds = 3;
    const struct bench_opt opts[] = { { 'S', OPT_TEXT, &server_ns }, { 'i', OPT_TEXT, &ifname },
                                      { 'd', OPT_TEXT, &server },    { 'n', OPT_INT, &n_names },
                                      { 'r', OPT_INT, &rounds },     { 'c', OPT_TEXT, &conc_list },
                                      { 'O', OPT_TEXT, &only_side } };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (only_side) {
        if (strcmp(only_side, "mif") == 0)
            only = ONLY_MIF;
        else if (strcmp(only_side, "cares") == 0)
            only = ONLY_CARES;
        else if (strcmp(only_side, "wait") == 0)
            only = ONLY_WAIT;
        else if (strcmp(only_side, "inline") == 0)
            only = ONLY_INLINE;
        else if (strcmp(only_side, "fd") == 0)
            only = ONLY_FD;
        else if (strcmp(only_side, "reader") == 0)
            only = ONLY_READER;
        else
            usage();
    }
    if (!server_ns || n_names < 1 || n_names > 60000 || rounds < 1)
        usage();
    bench_begin("dns_vs_cares");
    signal(SIGPIPE, SIG_IGN);
    int ifindex = ifindex_of(ifname);

    int concs[16], nconc = 0;
    for (const char *p = conc_list; *p && nconc < 16;) {
        concs[nconc] = atoi(p);
        if (concs[nconc] < 1 || concs[nconc] > MAX_CONC)
            usage();
        nconc++;
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }

    /* Files: the root directory for libmif, the hosts file for dnsmasq (readable by the
     * user dnsmasq drops to). */
    make_temp_dir(dir, remove_files);
    chmod(dir, 0755);
    char path[256], hosts[256], text[256];
    snprintf(path, sizeof path, "%s/etc", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/etc/mif.conf", dir);
    snprintf(text, sizeof text, "# dns_vs_cares\n[%s]\ndns = %s\n", ifname, server);
    write_file(path, text);
    snprintf(path, sizeof path, "%s/etc/hosts", dir);
    write_file(path, "127.0.0.1 localhost\n::1 localhost\n");
    snprintf(hosts, sizeof hosts, "%s/names.hosts", dir);
    make_names(hosts);
    chmod(hosts, 0644);

    char a_hosts[300], a_listen[64];
    snprintf(a_hosts, sizeof a_hosts, "--addn-hosts=%s", hosts);
    snprintf(a_listen, sizeof a_listen, "--listen-address=%s", server);
    char *dm_argv[] = { "ip", "netns", "exec", (char *)server_ns, "dnsmasq", "--keep-in-foreground",
                        "--conf-file=/dev/null", "--no-resolv", "--no-hosts", a_hosts, a_listen, "--bind-interfaces",
                        "--except-interface=lo", "--cache-size=10000", "--dns-forward-max=10000", "--pid-file",
                        "--log-facility=/dev/null", "--port=53", "--local-ttl=300",
                        /* No change of user or group: that would clear PR_SET_PDEATHSIG. */
                        "--user=root", "--group=root", NULL };
    dnsmasq = spawn(dm_argv, 0);
    atexit(stop_dnsmasq);
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        int status;
        if (waitpid(dnsmasq.pid, &status, WNOHANG) == dnsmasq.pid) {
            dnsmasq.pid = -1;
            die("dnsmasq exited (status %d)", status);
        }
        up = dns_probe(names[0], 100);
    }
    if (!up)
        die("dnsmasq did not answer within 10 s");
    int server_rcvbuf = raise_server_rcvbuf(dnsmasq.pid, 8 << 20);

    /* libmif */
    /* Compared with c-ares, which keeps no answers: without libmif's cache (every round
     * asks the same names again). The cache has its own row at the end. */
    mif_ctx *ctx = mif_open_root_flags(dir, MIF_OPTION_NO_DNS_CACHE);
    uint64_t pvd = mif_find_pvd(ctx, (uint32_t)ifindex, MIF_FAMILY_IPV4);
    mif_message *m;
    if (!pvd)
        die("%s has no ipv4 PvD", ifname);
    int have_server = 0;
    for (int i = 0; i < 1000 && !have_server; i++) {
        mif_request req;
        mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
        req.pvd = pvd;
        req.element_type = MIF_ELEMENT_ANY;
        req.info_id = MIF_INFO_DNS_SERVERS;
        check_mif(mif_post_message(ctx, &req), "get configuration data");
        while (mif_get_message(ctx, &m) == MIF_OK) {
            if (m->msg_type == MIF_MSG_CONFIGURATION_DATA && m->dns_server_count == 1)
                have_server = 1;
            mif_message_free(m);
        }
        if (!have_server)
            sleep_ms(10);
    }
    if (!have_server)
        die("libmif: %s/ipv4 does not have exactly the DNS server %s from %s/etc/mif.conf", ifname, server, dir);

    long tid = engine_tid_or_die();
    char engine_status[64];
    snprintf(engine_status, sizeof engine_status, "/proc/self/task/%ld/status", tid);

    /* mif0's IPv4 address, for the inline replica. */
    struct in_addr src = { 0 };
    struct ifaddrs *ifa_list;
    if (getifaddrs(&ifa_list) == 0) {
        for (struct ifaddrs *a = ifa_list; a; a = a->ifa_next)
            if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && strcmp(a->ifa_name, ifname) == 0 && !src.s_addr)
                src = ((struct sockaddr_in *)a->ifa_addr)->sin_addr;
        freeifaddrs(ifa_list);
    }
    if ((only == ONLY_INLINE || only == ONLY_READER) && !src.s_addr)
        die("-O %s: %s has no IPv4 address for the replica", only_side, ifname);
    char mif_hosts[300];
    snprintf(mif_hosts, sizeof mif_hosts, "%s/etc/hosts", dir);

    /* c-ares: as configured by default (the peer), and with a 4 MiB SO_RCVBUF (its one
     * UDP socket carries every reply; with the default buffer it drops some at high
     * concurrency and then waits for its retry timeout). */
    struct cares_state st[2];
    memset(st, 0, sizeof st);
    cares_open(&st[0], 0);
    cares_open(&st[1], 4 << 20);
    st[0].t0 = alloc_i64((size_t)n_names);
    st[1].t0 = alloc_i64((size_t)n_names);
    cq_pool = calloc((size_t)n_names, sizeof *cq_pool);
    if (!cq_pool)
        die("out of memory");

    printf("dns_vs_cares: %d names x (A + AAAA) from dnsmasq at %s (another namespace, over a veth); libmif %s, "
           "c-ares %s\n", n_names, server, mif_version(), ares_version(NULL));
    if (server_rcvbuf > 0)
        printf(" dnsmasq's UDP socket: SO_RCVBUF raised to %d bytes (the fixture, so that the server does not drop)\n",
               server_rcvbuf);
    else
        printf(" dnsmasq's UDP socket: SO_RCVBUF could not be raised (%s): at high concurrency the server may drop "
               "queries, and every client then waits for its retry timeouts\n", strerror(errno));
    enum { W_MIF, W_CA, W_CABIG, W_REPLICA, W_MIFFD, W_HANDOFF, W_COUNT };
    static const char *const label[W_COUNT] = { "libmif", "c-ares", "c-ares 4MiB rcvbuf",
                                                "(libmif's work inline)", "libmif waiting on mif_fd",
                                                "(that work, reader thread)" };
    int64_t t_begin = now_ns();
    char summary[2048];
    size_t slen = (size_t)snprintf(summary, sizeof summary, "SUMMARY dns_vs_cares:");
    for (int c = 0; c < nconc; c++) {
        int conc = concs[c];
        int mif = only == ALL || only == ONLY_MIF, cares = only == ALL || only == ONLY_CARES;
        int active[W_COUNT] = { mif || only == ONLY_WAIT, cares, cares,
                                (only == ALL || only == ONLY_INLINE) && src.s_addr != 0, mif || only == ONLY_FD,
                                (only == ALL || only == ONLY_READER) && src.s_addr != 0 };
        /* Warm-up, untimed: every name once through each. */
        struct run w = { conc, alloc_i64((size_t)n_names), 0, 0, 0, "" };
        if (active[W_MIF])
            run_mif(ctx, pvd, &w, 0);
        if (active[W_CA]) {
            run_cares(&st[0], &w);
            run_cares(&st[1], &w);
        }
        free(w.lat);

        int64_t *lat[W_COUNT], wall[W_COUNT] = { 0 }, engine_cpu[W_COUNT] = { 0 }, app_cpu[W_COUNT] = { 0 };
        long long engine_wakes[W_COUNT] = { 0 };
        int64_t app_user[W_COUNT] = { 0 };
        int fails[W_COUNT] = { 0 };
        long long drops[W_COUNT] = { 0 };
        char first_fail[W_COUNT][160];
        for (int x = 0; x < W_COUNT; x++) {
            lat[x] = alloc_i64((size_t)n_names * (size_t)rounds);
            first_fail[x][0] = '\0';
        }
        for (int k = 0; k < rounds; k++) {
            for (int j = 0; j < W_COUNT; j++) {
                /* Even rounds: libmif, c-ares, c-ares 4MiB, replica, libmif on mif_fd, the reader-thread
                 * replica; odd rounds the other way round. */
                int x = k % 2 == 0 ? j : W_COUNT - 1 - j;
                if (!active[x])
                    continue;
                struct run r = { conc, lat[x] + (size_t)k * (size_t)n_names, 0, 0, 0, "" };
                long long w0 = switches_of(engine_status).vol;
                int64_t a0 = self_cpu_ns(), u0 = self_user_ns();
                if (x == W_MIF || x == W_MIFFD) {
                    int64_t c0 = thread_cpu_ns(tid);
                    run_mif(ctx, pvd, &r, x == W_MIFFD);
                    engine_cpu[x] += thread_cpu_ns(tid) - c0;
                } else if (x == W_REPLICA)
                    run_replica(mif_hosts, src, &r, 0);
                else if (x == W_HANDOFF)
                    engine_cpu[x] += run_replica(mif_hosts, src, &r, 1);
                else
                    run_cares(&st[x - W_CA], &r);
                app_cpu[x] += self_cpu_ns() - a0;
                app_user[x] += self_user_ns() - u0;
                engine_wakes[x] += switches_of(engine_status).vol - w0;
                wall[x] += r.wall;
                if (r.failures && !fails[x])
                    snprintf(first_fail[x], sizeof first_fail[x], "%s", r.first_failure);
                fails[x] += r.failures;
                drops[x] += r.drops;
            }
        }
        size_t total = (size_t)n_names * (size_t)rounds;
        struct stats s[W_COUNT];
        double tp[W_COUNT];
        printf(" concurrency %d: %d rounds x %d names each, alternating the order\n", conc, rounds, n_names);
        for (int x = 0; x < W_COUNT; x++) {
            s[x] = stats_of(lat[x], total);
            tp[x] = wall[x] > 0 ? (double)total / ((double)wall[x] / 1e9) : 0;
            if (!active[x])
                continue;
            char l[64];
            snprintf(l, sizeof l, "%s latency", label[x]);
            printf("  %-26s %9.0f names/s  (%zu names in %.3f s; %d failed; %lld UDP receive-buffer drops in this "
                   "namespace)\n", label[x], tp[x], total, (double)wall[x] / 1e9, fails[x], drops[x]);
            print_stats_us(l, s[x]);
            if (x == W_MIF || x == W_MIFFD || x == W_HANDOFF)
                printf("  CPU per name: %.1f us = %s thread %.1f us + application thread %.1f us (both include "
                       "kernel work done on the server's behalf: a veth send runs the receiver's stack)\n",
                       (double)(engine_cpu[x] + app_cpu[x]) / (double)total / 1e3, x == W_HANDOFF ? "reader" : "engine",
                       (double)engine_cpu[x] / (double)total / 1e3, (double)app_cpu[x] / (double)total / 1e3);
            else
                printf("  CPU per name: %.1f us (its one thread)\n", (double)app_cpu[x] / (double)total / 1e3);
            printf("  application thread's user time per name: %.1f us (the rest of its CPU time is system time)\n",
                   (double)app_user[x] / (double)total / 1e3);
            if (x == W_MIF || x == W_MIFFD)
                printf("  engine thread wake-ups per name: %.2f (its voluntary context switches: a wait for a "
                       "lock counts too)\n", (double)engine_wakes[x] / (double)total);
            if (fails[x])
                printf("  first %s failure: %s\n", label[x], first_fail[x]);
        }
        for (int x = 0; x < W_COUNT; x++)
            free(lat[x]);
        if (only != ALL)
            continue;
        double r_tp = ratio(tp[W_MIF], tp[W_CA]), r_med = ratio(s[W_MIF].median, s[W_CA].median);
        double r_p99 = ratio(s[W_MIF].p99, s[W_CA].p99);
        double b_tp = ratio(tp[W_MIF], tp[W_CABIG]), b_med = ratio(s[W_MIF].median, s[W_CABIG].median);
        double b_p99 = ratio(s[W_MIF].p99, s[W_CABIG].p99);
        printf(" RATIO libmif/c-ares at concurrency %d: throughput %.2f (target >= 1.0: %s)  median latency %.2f "
               "(target <= 1.1: %s)  p99 latency %.2f\n",
               conc, r_tp, r_tp >= 1.0 ? "met" : "NOT met", r_med, r_med <= 1.1 ? "met" : "NOT met", r_p99);
        printf(" RATIO libmif/(c-ares 4MiB rcvbuf) at concurrency %d: throughput %.2f (%s)  median latency %.2f (%s)  "
               "p99 latency %.2f\n",
               conc, b_tp, b_tp >= 1.0 ? "met" : "NOT met", b_med, b_med <= 1.1 ? "met" : "NOT met", b_p99);
        if (active[W_REPLICA]) {
            printf(" diagnostic: libmif - (its per-name work done inline in one thread): median %.1f us, i.e. the "
                   "engine hand-off and messages; (that work) - c-ares: median %.1f us, i.e. the per-name "
                   "sockets, binding, hosts file\n",
                   (s[W_MIF].median - s[W_REPLICA].median) / 1e3, (s[W_REPLICA].median - s[W_CA].median) / 1e3);
            printf(" floor: (libmif's per-name work inline)/c-ares median latency %.2f, throughput %.2f; "
                   "/(c-ares 4MiB rcvbuf) %.2f, %.2f: what a resolver opening a fresh socket per name achieves "
                   "with no thread hand-off at all\n",
                   s[W_REPLICA].median / s[W_CA].median, tp[W_REPLICA] / tp[W_CA],
                   s[W_REPLICA].median / s[W_CABIG].median, tp[W_REPLICA] / tp[W_CABIG]);
        }
        double f_tp = ratio(tp[W_MIFFD], tp[W_CA]), f_med = ratio(s[W_MIFFD].median, s[W_CA].median);
        double fb_tp = ratio(tp[W_MIFFD], tp[W_CABIG]), fb_med = ratio(s[W_MIFFD].median, s[W_CABIG].median);
        if (active[W_MIFFD])
            printf(" RATIO (libmif waiting on mif_fd)/c-ares at concurrency %d: throughput %.2f  median latency %.2f  "
                   "p99 latency %.2f; /(c-ares 4MiB rcvbuf): %.2f  %.2f  %.2f\n",
                   conc, f_tp, f_med, ratio(s[W_MIFFD].p99, s[W_CA].p99), fb_tp, fb_med,
                   ratio(s[W_MIFFD].p99, s[W_CABIG].p99));
        if (active[W_MIFFD] && active[W_HANDOFF])
            printf(" floor on mif_fd: (that work, answers read by a second thread that wakes the waiting one through "
                   "an eventfd)/c-ares median latency %.2f, throughput %.2f; libmif on mif_fd - that: median %.1f "
                   "us, i.e. the library's own machinery (messages, locks, the resolver)\n",
                   ratio(s[W_HANDOFF].median, s[W_CA].median), ratio(tp[W_HANDOFF], tp[W_CA]),
                   (s[W_MIFFD].median - s[W_HANDOFF].median) / 1e3);
        int any_fail = fails[W_MIF] || fails[W_CA] || fails[W_CABIG] || fails[W_REPLICA] || fails[W_MIFFD] ||
                       fails[W_HANDOFF];
        slen += (size_t)snprintf(summary + slen, slen < sizeof summary ? sizeof summary - slen : 0,
                                 "%s c=%d: libmif %.0f/s median %.1f us p99 %.1f us, c-ares %.0f/s median %.1f us "
                                 "p99 %.1f us (4MiB: %.0f/s, %.1f us, %.1f us), ratio tput %.2f median %.2f p99 %.2f "
                                 "(vs 4MiB: %.2f %.2f %.2f); on mif_fd %.0f/s median %.1f us, ratio tput %.2f "
                                 "median %.2f (vs 4MiB: %.2f %.2f); floors vs c-ares (median, tput): inline %.2f %.2f "
                                 "(vs 4MiB: %.2f %.2f), reader thread %.2f %.2f%s",
                                 c ? " |" : "", conc, tp[W_MIF], s[W_MIF].median / 1e3, s[W_MIF].p99 / 1e3, tp[W_CA],
                                 s[W_CA].median / 1e3, s[W_CA].p99 / 1e3, tp[W_CABIG], s[W_CABIG].median / 1e3,
                                 s[W_CABIG].p99 / 1e3, r_tp, r_med, r_p99, b_tp, b_med, b_p99, tp[W_MIFFD],
                                 s[W_MIFFD].median / 1e3, f_tp, f_med, fb_tp, fb_med,
                                 ratio(s[W_REPLICA].median, s[W_CA].median), ratio(tp[W_REPLICA], tp[W_CA]),
                                 ratio(s[W_REPLICA].median, s[W_CABIG].median), ratio(tp[W_REPLICA], tp[W_CABIG]),
                                 ratio(s[W_HANDOFF].median, s[W_CA].median), ratio(tp[W_HANDOFF], tp[W_CA]),
                                 any_fail ? " (FAILURES)" : "");
    }
    /* The cache: the same names again on one context with its cache on, concurrency 1:
     * post -> Done of a repeated name (answered before anything is sent) next to the
     * same names asked fresh in the same run (the first pass, which fills the cache). */
    if (only == ALL || only == ONLY_MIF) {
        /* At most 1000 names: the cache keeps 1024 per context, and a scan over more
         * names than it keeps would find each evicted before it is asked again. */
        int all_names = n_names;
        if (n_names > 1000)
            n_names = 1000;
        mif_ctx *cctx = mif_open_root_flags(dir, 0);
        uint64_t cpvd = mif_find_pvd(cctx, (uint32_t)ifindex, MIF_FAMILY_IPV4);
        if (!cpvd)
            die("%s has no ipv4 PvD (cache context)", ifname);
        struct run fresh = { 1, alloc_i64((size_t)n_names), 0, 0, 0, "" };
        struct run cached = { 1, alloc_i64((size_t)n_names), 0, 0, 0, "" };
        run_mif(cctx, cpvd, &fresh, 1);
        run_mif(cctx, cpvd, &cached, 1);
        struct stats sf = stats_of(fresh.lat, (size_t)n_names), sc = stats_of(cached.lat, (size_t)n_names);
        double tpf = (double)n_names / ((double)fresh.wall / 1e9), tpc = (double)n_names / ((double)cached.wall / 1e9);
        printf(" cache (waiting on mif_fd, concurrency 1, %d names): fresh %.0f names/s median %.1f us p99 %.1f us (%d failed); "
               "repeated %.0f names/s median %.1f us p99 %.1f us (%d failed)\n",
               n_names, tpf, sf.median / 1e3, sf.p99 / 1e3, fresh.failures, tpc, sc.median / 1e3, sc.p99 / 1e3,
               cached.failures);
        printf(" RATIO repeated/fresh (cache): median latency %.3f  throughput %.1f\n", ratio(sc.median, sf.median),
               ratio(tpc, tpf));
        slen += (size_t)snprintf(summary + slen, slen < sizeof summary ? sizeof summary - slen : 0,
                                 " | cache: repeated median %.1f us vs fresh %.1f us (ratio %.3f), %.0f vs %.0f names/s%s",
                                 sc.median / 1e3, sf.median / 1e3, ratio(sc.median, sf.median), tpc, tpf,
                                 fresh.failures || cached.failures ? " (FAILURES)" : "");
        free(fresh.lat);
        free(cached.lat);
        mif_close(cctx);
        n_names = all_names;
    }
    printf(" (%.1f s)\n%s\n", (double)(now_ns() - t_begin) / 1e9, summary);

    ares_destroy(st[0].ch);
    ares_destroy(st[1].ch);
    ares_library_cleanup();
    mif_close(ctx);
    stop_dnsmasq();
    for (int i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(st[0].t0);
    free(st[1].t0);
    free(cq_pool);
    return 0;
}
