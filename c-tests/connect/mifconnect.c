/*
 * mifconnect: a test driver for libmif's connections per provisioning domain
 * (draft 3.2.7.21-3.2.7.25), through <mif.h> only.
 *
 *   mifconnect --pvd-of IFNAME/ipv4|IFNAME/ipv6 [options] ADDRESS PORT [ADDRESS PORT ...]
 *
 * Counts the open descriptors in /proc/self/fd, opens a context, waits for the PvD
 * "IFNAME/FAMILY" (subscribing to interfaces and that interface's PvDs, both ended once
 * it is found), then posts MIF_REQ_CONNECT_TO_ADDRESS (MIF_REQ_CONNECT_FROM_ADDRESS with
 * --from) --count times per target, connection ids 1, 2, 3, ... in target order, and
 * prints one JSON line per event:
 *
 *   {"event":"pvd","pvd":3,"pvd_name":"mif0/ipv4"}
 *   {"event":"posted","request":"connect_to_address","connection_id":1,"pvd":3,
 *    "address":"198.51.100.1","port":8080,"result":0,"result_name":"..."}
 *   {"event":"all_posted","accepted":1}
 *   {"event":"connected","connection_id":1,"pvd":3,"pvd_name":"mif0/ipv4","fd":7,
 *    "local":"198.51.100.2","local_port":40000,"remote":"198.51.100.1","remote_port":8080,
 *    "elapsed_us":812,"text":"net-a","cloexec":true,"nonblocking":false,
 *    "sock_local":"198.51.100.2","sock_remote":"198.51.100.1","bound_dev":"mif0","unicast_if":0}
 *   {"event":"not_connected","connection_id":1,"pvd":3,"pvd_name":"mif0/ipv4","fd":-1,
 *    "remote":"198.51.100.1","remote_port":8081,"error":111,"error_name":"ECONNREFUSED",
 *    "text":"...","elapsed_us":95}
 *   {"event":"cancel_posted","connection_id":1,"result":0,"result_name":"..."}
 *   {"event":"queued","result":0,...}  {"event":"closing_untaken"}   (--c*-when-queued)
 *   {"event":"end","connected":1,"not_connected":0,"outstanding":0,"extra":0}
 *   {"event":"fds","before":3,"after":3}      (last line, after mif_close)
 *
 * "text" of a connected line is what the peer sent before closing, read through the
 * handed-over descriptor (SO_RCVTIMEO --read-timeout-ms); "bound_dev" its
 * SO_BINDTODEVICE, "unicast_if" its IP(V6)_UNICAST_IF (host byte order); the
 * descriptor is closed right after. A connection message for an id that already had
 * its final message is printed with "extra":true (and counted in end.extra).
 *
 * Options:
 *   --root DIR              mif_options.root_dir
 *   --attempt-delay-ms N    mif_options.connect_attempt_delay_ms
 *   --timeout-ms N          mif_options.connect_timeout_ms
 *   --no-bindtodevice       mif_options.test_flags |= MIF_TEST_NO_BINDTODEVICE
 *   --from SRC              MIF_REQ_CONNECT_FROM_ADDRESS from SRC
 *   --count N               N connects per target (default 1)
 *   --default-pvd           first a connect naming pvd 0 (printed with "probe":true; no
 *                           default chosen yet, so MIF_E_NO_DEFAULT_PVD is expected), then
 *                           MIF_REQ_CONNECT_TO_PVD with the PvD, then every connect with pvd 0
 *   --cancel-after-ms N     N ms after the posts, MIF_REQ_CANCEL_CONNECT for every connect
 *                           still outstanding, then once more for each, its result not
 *                           taken yet (printed as "cancel_again_posted")
 *   --sentinel ADDR PORT    after those cancels, one more connect (id 1000000) that the
 *                           run waits for too: a failure of a cancelled connect that was
 *                           wrongly kept would be queued before the sentinel's own
 *   --cancel-when-queued    as soon as a message waits (the first result is queued, not
 *                           yet taken), cancel every posted connect like --cancel-after-ms
 *   --close-when-queued     as soon as a message waits, mif_close without taking anything
 *                           ("closing_untaken" line): queued sockets and attempts still in
 *                           flight are the library's to close
 *   --udp-send TEXT         instead of connecting: per target a UDP socket of the PvD's
 *                           family pinned with mif_bind_socket(pvd or 0 with --default-pvd,
 *                           bind_source 1) sends TEXT ("udp_sent" lines)
 *   --udp-control TEXT      after --udp-send: an unpinned UDP socket sends TEXT to each target
 *   --read-timeout-ms N     SO_RCVTIMEO on handed-over sockets (default 10000)
 *   --hold-ms N             after the last result, keep the context open N ms more
 *                           (taking messages) before mif_close, so that what the library
 *                           still holds (attempts given up) has its chance
 *   --wait-ms N             give up (exit 3) after N ms (default 60000): a guard against
 *                           hanging, not a timing assertion
 *
 * Exit status: 0 fine, 2 usage or setup error, 3 gave up waiting.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mif.h"
#include "../driver.h"

#ifndef IPV6_UNICAST_IF
#define IPV6_UNICAST_IF 76
#endif
#ifndef IP_UNICAST_IF
#define IP_UNICAST_IF 50
#endif

#define MAX_TARGETS 16
#define SENTINEL_ID 1000000u

static void json_str(const char *s)
{
    if (s)
        json_quoted(s);
    else
        fputs("null", stdout);
}

static const char *errno_name(int e)
{
    const char *n = e ? strerrorname_np(e) : "0";
    return n ? n : "unknown";
}

static void fail_setup(const char *what, mif_result r)
{
    json_setup_error("event", what, r);
}

/* Entries of /proc/self/fd, less the one opendir itself holds. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* ------------------------------------------------------------------ addresses */

struct target {
    struct mif_address addr;
    uint16_t port;
    const char *text;
};

static bool parse_address(const char *s, struct mif_address *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = MIF_FAMILY_IPV4;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = MIF_FAMILY_IPV6;
        return true;
    }
    return false;
}

static bool parse_target(const char *addr, const char *port, struct target *t)
{
    uint64_t p;
    if (!parse_address(addr, &t->addr) || !parse_u64(port, &p) || p > 65535)
        return false;
    t->port = (uint16_t)p;
    t->text = addr;
    return true;
}

static void print_addr(const char *key, const struct mif_address *a)
{
    char buf[MIF_ADDRESS_TEXT_SIZE];
    printf(",\"%s\":", key);
    if (a->family == 0)
        fputs("null", stdout);
    else if (mif_address_format(a, buf, sizeof buf) == MIF_OK)
        json_str(buf);
    else
        json_str("?");
}

/* "addr" of a sockaddr (getsockname/getpeername), without the port. */
static void print_sockaddr(const char *key, const struct sockaddr_storage *ss, bool ok)
{
    char buf[INET6_ADDRSTRLEN + 16] = "?";
    printf(",\"%s\":", key);
    if (!ok) {
        fputs("null", stdout);
        return;
    }
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, sizeof buf);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
        if (s6->sin6_scope_id) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, "%%%u", (unsigned)s6->sin6_scope_id);
        }
    }
    json_str(buf);
}

/* ------------------------------------------------------------------ connections */

struct conn {
    bool posted;     /* accepted by mif_post_message */
    bool finished;   /* its final message was seen */
    bool cancelled;
};

static struct conn *conns;      /* index = connection id; SENTINEL kept apart */
static size_t nconns;           /* ids 1..nconns */
static struct conn sentinel;
static size_t n_connected, n_not_connected, n_extra;
static int read_timeout_ms = 10000;

static struct conn *conn_of(uint64_t id)
{
    if (id == SENTINEL_ID)
        return &sentinel;
    if (id >= 1 && id <= nconns)
        return &conns[id];
    return NULL;
}

static size_t outstanding(void)
{
    size_t n = 0;
    for (size_t i = 1; i <= nconns; i++)
        n += conns[i].posted && !conns[i].finished;
    n += sentinel.posted && !sentinel.finished;
    return n;
}

/* Reads what the peer sends until EOF into buf; returns the errno of a failed read or 0. */
static int read_all(int fd, char *buf, size_t cap)
{
    struct timeval tv = {.tv_sec = read_timeout_ms / 1000, .tv_usec = (read_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = 0;
    buf[0] = '\0';
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            buf[len] = '\0';
            return errno;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return 0;
}

static void on_connected(const mif_message *m, struct conn *c)
{
    int fd = m->fd;
    char text[256] = "";
    int read_err = 0;
    int fdflags = -1, flflags = -1;
    struct sockaddr_storage sl, sr;
    socklen_t ll = sizeof sl, lr = sizeof sr;
    bool have_l = false, have_r = false;
    char dev[IFNAMSIZ + 1] = "";
    socklen_t devlen = sizeof dev;
    int ucif = 0;
    socklen_t uclen = sizeof ucif;
    bool have_dev = false, have_uc = false;
    if (fd >= 0) {
        fdflags = fcntl(fd, F_GETFD);
        flflags = fcntl(fd, F_GETFL);
        have_l = getsockname(fd, (struct sockaddr *)&sl, &ll) == 0;
        have_r = getpeername(fd, (struct sockaddr *)&sr, &lr) == 0;
        have_dev = getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &devlen) == 0;
        if (have_dev)
            dev[devlen < sizeof dev ? devlen : sizeof dev - 1] = '\0';
        if (have_l && sl.ss_family == AF_INET)
            have_uc = getsockopt(fd, IPPROTO_IP, IP_UNICAST_IF, &ucif, &uclen) == 0;
        else if (have_l)
            have_uc = getsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_IF, &ucif, &uclen) == 0;
        read_err = read_all(fd, text, sizeof text);
    }
    printf("{\"event\":\"connected\",\"connection_id\":%" PRIu64 ",\"pvd\":%" PRIu64 ",\"pvd_name\":",
           m->connection_id, m->pvd);
    json_str(m->pvd_name);
    printf(",\"fd\":%d", (int)fd);
    print_addr("local", &m->local);
    printf(",\"local_port\":%u", (unsigned)m->local_port);
    print_addr("remote", &m->remote);
    printf(",\"remote_port\":%u,\"elapsed_us\":%" PRIu64 ",\"text\":", (unsigned)m->remote_port, m->elapsed_us);
    json_str(fd >= 0 ? text : NULL);
    printf(",\"read_error\":");
    json_str(read_err ? errno_name(read_err) : NULL);
    printf(",\"cloexec\":%s,\"nonblocking\":%s", fdflags >= 0 && (fdflags & FD_CLOEXEC) ? "true" : "false",
           flflags >= 0 && (flflags & O_NONBLOCK) ? "true" : "false");
    print_sockaddr("sock_local", &sl, have_l);
    printf(",\"sock_local_port\":%u",
           !have_l ? 0u
           : sl.ss_family == AF_INET ? (unsigned)ntohs(((struct sockaddr_in *)&sl)->sin_port)
                                     : (unsigned)ntohs(((struct sockaddr_in6 *)&sl)->sin6_port));
    print_sockaddr("sock_remote", &sr, have_r);
    printf(",\"bound_dev\":");
    json_str(have_dev ? dev : NULL);
    printf(",\"unicast_if\":");
    if (have_uc)
        printf("%u", (unsigned)ntohl((uint32_t)ucif));
    else
        fputs("null", stdout);
    if (!c || c->finished)
        printf(",\"extra\":true");
    if (fd >= 0 && close(fd) != 0)
        printf(",\"close_error\":\"%s\"", errno_name(errno));
    printf("}\n");
}

static void on_not_connected(const mif_message *m, struct conn *c)
{
    printf("{\"event\":\"not_connected\",\"connection_id\":%" PRIu64 ",\"pvd\":%" PRIu64 ",\"pvd_name\":",
           m->connection_id, m->pvd);
    json_str(m->pvd_name);
    printf(",\"fd\":%d", (int)m->fd);
    print_addr("remote", &m->remote);
    printf(",\"remote_port\":%u,\"error\":%d,\"error_name\":\"%s\",\"text\":", (unsigned)m->remote_port,
           (int)m->error, errno_name(m->error));
    json_str(m->text);
    printf(",\"elapsed_us\":%" PRIu64, m->elapsed_us);
    if (!c || c->finished)
        printf(",\"extra\":true");
    printf("}\n");
}

/* Prints a message; returns false on engine failure. */
static bool handle(const mif_message *m)
{
    struct conn *c = NULL;
    switch (m->msg_type) {
    case MIF_MSG_CONNECTED:
        c = conn_of(m->connection_id);
        on_connected(m, c);
        break;
    case MIF_MSG_NOT_CONNECTED:
        c = conn_of(m->connection_id);
        on_not_connected(m, c);
        break;
    case MIF_MSG_ENGINE_FAILED:
        printf("{\"event\":\"engine_failed\",\"status\":%d,\"text\":", (int)m->status);
        json_str(m->text);
        printf("}\n");
        fflush(stdout);
        return false;
    default:
        printf("{\"event\":\"message\",\"msg\":\"%s\",\"ifname\":", mif_message_type_name(m->msg_type));
        json_str(m->ifname);
        printf(",\"pvd\":%" PRIu64 "}\n", m->pvd);
        break;
    }
    if (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) {
        if (!c || c->finished) {
            n_extra++;
        } else {
            c->finished = true;
            if (m->msg_type == MIF_MSG_CONNECTED)
                n_connected++;
            else
                n_not_connected++;
        }
    }
    fflush(stdout);
    return true;
}

/* Waits (at most until give_up) for PvD pvd_name on interface ifname; its id or 0. */
static uint64_t find_pvd(mif_ctx *ctx, const char *ifname, const char *pvd_name, int64_t give_up)
{
    uint32_t ifindex = 0;
    uint64_t pvd = 0;
    mif_result r = post_simple(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0);
    if (r != MIF_OK) {
        fail_setup("announce_interfaces", r);
        return 0;
    }
    while (pvd == 0) {
        mif_message *m;
        while (pvd == 0 && mif_get_message(ctx, &m) == MIF_OK) {
            if (m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT && strncmp(m->ifname, ifname, sizeof m->ifname) == 0
                && ifindex == 0) {
                ifindex = m->ifindex;
                r = post_simple(ctx, MIF_REQ_ANNOUNCE_PVDS, ifindex);
                if (r != MIF_OK)
                    fail_setup("announce_pvds", r);
            } else if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && m->ifindex == ifindex
                       && strncmp(m->pvd_name, pvd_name, sizeof m->pvd_name) == 0) {
                pvd = m->pvd;
            } else if (m->msg_type == MIF_MSG_ENGINE_FAILED) {
                handle(m);
                mif_message_free(m);
                return 0;
            }
            mif_message_free(m);
        }
        if (pvd != 0)
            break;
        int64_t left = give_up - now_ms();
        if (left <= 0)
            break;
        mif_check_message(ctx, (int)(left > 1000 ? 1000 : left));
    }
    if (ifindex != 0)
        post_simple(ctx, MIF_REQ_STOP_ANNOUNCING_PVDS, ifindex);
    post_simple(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0);
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK)
        mif_message_free(m);
    return pvd;
}

static mif_result post_connect(mif_ctx *ctx, uint64_t pvd, uint64_t id, const struct target *t,
                               const struct mif_address *from, bool probe)
{
    mif_request req;
    mif_request_init(&req, from ? MIF_REQ_CONNECT_FROM_ADDRESS : MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = pvd;
    req.connection_id = id;
    req.remote = t->addr;
    req.remote_port = t->port;
    if (from)
        req.local = *from;
    mif_result r = mif_post_message(ctx, &req);
    printf("{\"event\":\"posted\",\"request\":\"%s\",\"connection_id\":%" PRIu64 ",\"pvd\":%" PRIu64 ",\"address\":",
           mif_request_type_name(req.request_type), id, pvd);
    json_str(t->text);
    printf(",\"port\":%u,", (unsigned)t->port);
    json_result(r);
    if (probe)
        printf(",\"probe\":true");
    printf("}\n");
    fflush(stdout);
    return r;
}

static mif_result post_cancel(mif_ctx *ctx, uint64_t id, const char *event)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = id;
    mif_result r = mif_post_message(ctx, &req);
    printf("{\"event\":\"%s\",\"connection_id\":%" PRIu64 ",", event, id);
    json_result(r);
    printf("}\n");
    fflush(stdout);
    return r;
}

/* Cancels every posted connect (those without a final message, or all with `every`),
 * then cancels each once more (MIF_E_UNKNOWN_CONNECTION expected). */
static void cancel_all(mif_ctx *ctx, bool every)
{
    for (size_t i = 1; i <= nconns; i++) {
        if (conns[i].posted && (every || !conns[i].finished)) {
            conns[i].cancelled = true;
            post_cancel(ctx, i, "cancel_posted");
        }
    }
    for (size_t i = 1; i <= nconns; i++)
        if (conns[i].cancelled)
            post_cancel(ctx, i, "cancel_again_posted");
}

/* --udp-send / --udp-control: one datagram per target. */
static void udp_send(mif_ctx *ctx, uint64_t pvd, const struct target *t, const char *text, bool pinned)
{
    int af = t->addr.family == MIF_FAMILY_IPV4 ? AF_INET : AF_INET6;
    int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    printf("{\"event\":\"udp_sent\",\"pinned\":%s,\"address\":", pinned ? "true" : "false");
    json_str(t->text);
    printf(",\"port\":%u,\"payload\":", (unsigned)t->port);
    json_str(text);
    if (fd < 0) {
        printf(",\"socket_error\":\"%s\"}\n", errno_name(errno));
        fflush(stdout);
        return;
    }
    if (pinned) {
        mif_result r = mif_bind_socket(ctx, fd, pvd, 1);
        printf(",\"bind_result\":%d,\"bind_result_name\":", (int)r);
        json_str(mif_strerror(r));
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (af == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(t->port);
        memcpy(&s4->sin_addr, t->addr.bytes, 4);
        sl = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(t->port);
        memcpy(&s6->sin6_addr, t->addr.bytes, 16);
        sl = sizeof *s6;
    }
    ssize_t n = sendto(fd, text, strlen(text), 0, (struct sockaddr *)&ss, sl);
    int e = n < 0 ? errno : 0;
    struct sockaddr_storage loc;
    socklen_t ll = sizeof loc;
    bool have = getsockname(fd, (struct sockaddr *)&loc, &ll) == 0;
    print_sockaddr("sock_local", &loc, have);
    printf(",\"sent\":%zd,\"send_error\":", n);
    json_str(e ? errno_name(e) : NULL);
    printf("}\n");
    fflush(stdout);
    close(fd);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr,
            "usage: mifconnect --pvd-of IF/ipv4|IF/ipv6 [--root DIR] [--attempt-delay-ms N] [--timeout-ms N]\n"
            "       [--no-bindtodevice] [--from SRC] [--count N] [--default-pvd] [--cancel-after-ms N]\n"
            "       [--sentinel ADDR PORT] [--cancel-when-queued] [--close-when-queued] [--udp-send TEXT [--udp-control TEXT]] [--read-timeout-ms N]\n"
            "       [--wait-ms N] ADDRESS PORT [ADDRESS PORT ...]\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, 0, 'r'},
        {"pvd-of", required_argument, 0, 'p'},
        {"attempt-delay-ms", required_argument, 0, 'a'},
        {"timeout-ms", required_argument, 0, 't'},
        {"no-bindtodevice", no_argument, 0, 'B'},
        {"from", required_argument, 0, 'f'},
        {"count", required_argument, 0, 'n'},
        {"default-pvd", no_argument, 0, 'D'},
        {"cancel-after-ms", required_argument, 0, 'c'},
        {"sentinel", required_argument, 0, 's'},
        {"cancel-when-queued", no_argument, 0, 'q'},
        {"close-when-queued", no_argument, 0, 'Q'},
        {"udp-send", required_argument, 0, 'u'},
        {"udp-control", required_argument, 0, 'U'},
        {"read-timeout-ms", required_argument, 0, 'R'},
        {"wait-ms", required_argument, 0, 'w'},
        {"hold-ms", required_argument, 0, 'H'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    /* Before anything of ours is open. */
    int fds_before = count_fds();

    const char *root = NULL, *pvd_of = NULL, *from_text = NULL, *udp_text = NULL, *udp_control = NULL;
    uint64_t delay = 0, timeout = 0, count = 1, cancel_after = 0, wait_ms = 60000, rto = 10000, hold_ms = 0;
    bool no_btd = false, default_pvd = false, have_cancel = false, have_sentinel = false;
    bool cancel_when_queued = false, close_when_queued = false;
    struct target sentinel_target;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        uint64_t *num = NULL;
        switch (c) {
        case 'r': root = optarg; break;
        case 'p': pvd_of = optarg; break;
        case 'a': num = &delay; break;
        case 't': num = &timeout; break;
        case 'B': no_btd = true; break;
        case 'f': from_text = optarg; break;
        case 'n': num = &count; break;
        case 'D': default_pvd = true; break;
        case 'c': num = &cancel_after; have_cancel = true; break;
        case 'H': num = &hold_ms; break;
        case 's':
            if (optind >= argc || !parse_target(optarg, argv[optind], &sentinel_target)) {
                usage();
                return 2;
            }
            optind++;
            have_sentinel = true;
            break;
        case 'q': cancel_when_queued = true; break;
        case 'Q': close_when_queued = true; break;
        case 'u': udp_text = optarg; break;
        case 'U': udp_control = optarg; break;
        case 'R': num = &rto; break;
        case 'w': num = &wait_ms; break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
        if (num && !parse_u64(optarg, num)) {
            fprintf(stderr, "mifconnect: bad number %s\n", optarg);
            return 2;
        }
    }
    int npos = argc - optind;
    if (!pvd_of || npos < 2 || npos % 2 || npos / 2 > MAX_TARGETS || delay > UINT32_MAX || timeout > UINT32_MAX
        || count == 0 || count > 100000 || rto > 600000) {
        usage();
        return 2;
    }
    read_timeout_ms = (int)rto;
    struct target targets[MAX_TARGETS];
    size_t ntargets = (size_t)npos / 2;
    for (size_t i = 0; i < ntargets; i++) {
        if (!parse_target(argv[optind + 2 * i], argv[optind + 2 * i + 1], &targets[i])) {
            fprintf(stderr, "mifconnect: bad target %s %s\n", argv[optind + 2 * i], argv[optind + 2 * i + 1]);
            return 2;
        }
    }
    struct mif_address from;
    if (from_text && !parse_address(from_text, &from)) {
        fprintf(stderr, "mifconnect: bad source %s\n", from_text);
        return 2;
    }
    char ifname[MIF_IFNAME_SIZE + 1];
    const char *slash = strchr(pvd_of, '/');
    size_t iflen = slash ? (size_t)(slash - pvd_of) : 0;
    if (!slash || iflen == 0 || iflen >= MIF_IFNAME_SIZE || (strcmp(slash, "/ipv4") && strcmp(slash, "/ipv6"))) {
        usage();
        return 2;
    }
    memcpy(ifname, pvd_of, iflen);
    ifname[iflen] = '\0';

    /* Every connect holds a socket inside the library until it is handed over. */
    nconns = ntargets * (size_t)count;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nconns * 2 + 256) {
        rlim_t want = nconns * 2 + 256;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "mifconnect: setrlimit: %s\n", strerror(errno));
    }
    conns = calloc(nconns + 1, sizeof *conns);
    if (!conns)
        return 2;

    mif_options opts;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.connect_attempt_delay_ms = (uint32_t)delay;
    opts.connect_timeout_ms = (uint32_t)timeout;
    mif_ctx *ctx = driver_open(&opts, no_btd, "event");
    if (!ctx) {
        free(conns);
        return 2;
    }
    mif_result r;
    int64_t start = now_ms();
    int64_t give_up = start + (int64_t)wait_ms;
    uint64_t pvd = find_pvd(ctx, ifname, pvd_of, give_up);
    if (pvd == 0) {
        printf("{\"event\":\"error\",\"what\":\"no such PvD\",\"pvd_name\":");
        json_str(pvd_of);
        printf("}\n");
        fflush(stdout);
        mif_close(ctx);
        free(conns);
        return 2;
    }
    printf("{\"event\":\"pvd\",\"pvd\":%" PRIu64 ",\"pvd_name\":", pvd);
    json_str(pvd_of);
    printf("}\n");
    fflush(stdout);

    uint64_t use_pvd = pvd;
    if (default_pvd) {
        /* No default chosen yet: a connect naming pvd 0 must be refused. */
        post_connect(ctx, 0, SENTINEL_ID + 1, &targets[0], from_text ? &from : NULL, true);
        mif_request req;
        mif_request_init(&req, MIF_REQ_CONNECT_TO_PVD);
        req.pvd = pvd;
        r = mif_post_message(ctx, &req);
        printf("{\"event\":\"connect_to_pvd_posted\",\"pvd\":%" PRIu64 ",", pvd);
        json_result(r);
        printf("}\n");
        fflush(stdout);
        use_pvd = 0;
    }

    int status = 0;
    if (udp_text) {
        for (size_t i = 0; i < ntargets; i++)
            udp_send(ctx, use_pvd, &targets[i], udp_text, true);
        if (udp_control)
            for (size_t i = 0; i < ntargets; i++)
                udp_send(ctx, use_pvd, &targets[i], udp_control, false);
        nconns = 0;
    } else {
        uint64_t id = 1;
        for (size_t i = 0; i < ntargets; i++)
            for (uint64_t k = 0; k < count; k++, id++)
                conns[id].posted = post_connect(ctx, use_pvd, id, &targets[i], from_text ? &from : NULL, false) == MIF_OK;
    }
    size_t accepted = outstanding();
    printf("{\"event\":\"all_posted\",\"accepted\":%zu}\n", accepted);
    fflush(stdout);

    int64_t posted_at = now_ms();
    /* now_ms() truncates: the posts ended before posted_at + 1, so a cancel at or after
     * posted_at + N + 1 comes at least N ms after them (tests rely on that ordering). */
    int64_t cancel_at = have_cancel ? posted_at + (int64_t)cancel_after + 1 : -1;
    if ((cancel_when_queued || close_when_queued) && accepted > 0) {
        int64_t left = give_up - posted_at;
        r = mif_check_message(ctx, (int)(left > INT32_MAX ? INT32_MAX : left));
        printf("{\"event\":\"queued\",");
        json_result(r);
        printf("}\n");
        fflush(stdout);
        if (close_when_queued) {
            printf("{\"event\":\"closing_untaken\"}\n");
            goto out;
        }
        /* Post every cancel before taking anything. */
        cancel_all(ctx, true);
        if (have_sentinel)
            sentinel.posted = post_connect(ctx, use_pvd, SENTINEL_ID, &sentinel_target, NULL, false) == MIF_OK;
    }
    for (;;) {
        if (!drain_with(ctx, handle)) {
            status = 2;
            break;
        }
        int64_t now = now_ms();
        if (cancel_at >= 0 && now >= cancel_at) {
            cancel_at = -1;
            cancel_all(ctx, false);
            if (have_sentinel)
                sentinel.posted = post_connect(ctx, use_pvd, SENTINEL_ID, &sentinel_target, NULL, false) == MIF_OK;
            continue;
        }
        if (outstanding() == 0 && cancel_at < 0)
            break;
        if (now >= give_up) {
            printf("{\"event\":\"error\",\"what\":\"gave up waiting\",\"outstanding\":%zu}\n", outstanding());
            status = 3;
            break;
        }
        int64_t until = give_up;
        if (cancel_at >= 0 && cancel_at < until)
            until = cancel_at;
        if (!wait_message(ctx, now, until, &r)) {
            fail_setup("mif_check_message", r);
            status = 2;
            break;
        }
    }
    /* Whatever is queued already (a message that should not exist would be here). */
    if (status == 0 && !drain_with(ctx, handle))
        status = 2;
    if (status == 0 && hold_ms > 0) {
        int64_t hold_until = now_ms() + (int64_t)hold_ms;
        while (status == 0 && now_ms() < hold_until) {
            mif_check_message(ctx, (int)(hold_until - now_ms()));
            if (!drain_with(ctx, handle))
                status = 2;
        }
    }
out:
    printf("{\"event\":\"end\",\"connected\":%zu,\"not_connected\":%zu,\"outstanding\":%zu,\"extra\":%zu}\n",
           n_connected, n_not_connected, outstanding(), n_extra);
    fflush(stdout);
    mif_close(ctx);
    free(conns);
    printf("{\"event\":\"fds\",\"before\":%d,\"after\":%d}\n", fds_before, count_fds());
    fflush(stdout);
    return status;
}
