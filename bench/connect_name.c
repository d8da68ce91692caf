/*
 * connect_name: Connect to Name across two networks, next to its ideal, libcurl's own
 * Happy Eyeballs and a naive sequential application, measured in one run.
 *
 * Runs in the host namespace of bench/run.sh's three-namespace bed: mif0
 * (198.51.100.2/24) to network A (-A NS: 198.51.100.1, the default route, and
 * 198.18.0.80 on its lo), mif1 (203.0.113.2/24) to network B (-B NS: 203.0.113.1, and
 * 198.18.0.81 on its lo, reached by a host route through mif1). Each network runs its
 * own dnsmasq (started here through `ip netns exec`) answering svc.bench with its own
 * address (A: 198.18.0.80, B: 198.18.0.81); ROOT/etc/mif.conf names each interface's
 * server. Listeners on ports 9003 and 9004 in both networks are opened by a thread that
 * joins each namespace; the kernel completes the handshakes, and the main thread
 * accepts and closes what waits between measurements (untimed).
 *
 * (b) the first network blackholed (nftables in A drops TCP to 9003), J iterations:
 *     - libmif: MIF_REQ_CONNECT_TO_NAME svc.bench 9003 (answer cache off, so each
 *       iteration asks both networks' servers): post -> MIF_MSG_CONNECTED taken; it must
 *       be through mif1;
 *     - the ideal: the network delay (300 ms) + a translation of svc.bench on mif1's
 *       PvD (median, cache off) + a plain connect to 198.18.0.81:9003 pinned to mif1
 *       (median): what the race cannot beat by its own rules;
 *     - libcurl (CURLOPT_RESOLVE svc.bench:9003:198.18.0.80,198.18.0.81,
 *       CURLOPT_CONNECT_ONLY): curl's Happy Eyeballs with the same two addresses, routed
 *       by the host (.80 through mif0, .81 through mif1);
 *     - naive sequential: connect to .80 with TCP_SYNCNT = 1 (the kernel gives up after
 *       one retransmission, ~3 s), then to .81.
 * (a) nothing blackholed, port 9004, I iterations: libmif's Connect to Name (through
 *     network A) next to an application doing it by hand on the network it knows: one
 *     A query over UDP to 198.51.100.1 and a plain connect to the answer. Wall time and
 *     CPU (getrusage of the whole process: the engine thread counts) per connect.
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: connect_name -A NETNS_A -B NETNS_B [-I 200] [-J 5]
 */
#include "bench_util.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>

#define WAIT_MS 15000
#define PORT_HOLE 9003
#define PORT_OPEN 9004
#define NETWORK_DELAY_MS 300
#define NAME "svc.bench"

static const char *ns_a, *ns_b;
static char root[] = "/tmp/mif-bench-name.XXXXXX";
static struct child dns_a = { -1, -1 }, dns_b = { -1, -1 };
static int listeners[4];

static void cleanup(void)
{
    char path[256];
    stop_child(&dns_a);
    stop_child(&dns_b);
    snprintf(path, sizeof path, "%s/etc/mif.conf", root);
    unlink(path);
    snprintf(path, sizeof path, "%s/etc", root);
    rmdir(path);
    rmdir(root);
}

static void usage(void)
{
    usage_exit("usage: connect_name -A NETNS_A -B NETNS_B [-I 200] [-J 5]\n");
}

static struct in_addr ip4(const char *text)
{
    struct in_addr a;
    if (inet_pton(AF_INET, text, &a) != 1)
        die("bad address %s", text);
    return a;
}

/* ---- the networks ---- */

struct listen_arg {
    const char *addr;
    int *fds;
};

static int open_listeners(void *p)
{
    struct listen_arg *a = p;
    const uint16_t ports[2] = { PORT_HOLE, PORT_OPEN };
    for (int i = 0; i < 2; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(ports[i]), .sin_addr = ip4(a->addr) };
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4096) != 0)
            die("listen on %s:%u: %s", a->addr, ports[i], strerror(errno));
        a->fds[i] = fd;
    }
    return 0;
}

static void drain_accepts(void)
{
    for (int i = 0; i < 4; i++) {
        int c;
        while ((c = accept4(listeners[i], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
            close(c);
    }
}

static struct child start_dnsmasq(const char *ns, const char *listen, const char *answer)
{
    char listen_arg[64], address_arg[96];
    snprintf(listen_arg, sizeof listen_arg, "--listen-address=%s", listen);
    snprintf(address_arg, sizeof address_arg, "--address=/" NAME "/%s", answer);
    char *argv[] = { "ip", "netns", "exec", (char *)ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                     "--no-resolv", "--no-hosts", "--bind-interfaces", "--user=root", "--pid-file", "--port=53",
                     "--no-negcache", listen_arg, address_arg, NULL };
    return spawn(argv, 0);
}

/* ---- libmif ---- */

static mif_ctx *ctx;

static mif_message *wait_connection(uint64_t id)
{
    int64_t deadline = now_ns() + (int64_t)WAIT_MS * 1000000;
    for (;;) {
        mif_message *m = NULL;
        if (mif_get_message(ctx, &m) == MIF_OK) {
            if ((m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) && m->connection_id == id)
                return m;
            if (m->msg_type == MIF_MSG_CONNECTED && m->fd >= 0)
                close(m->fd);
            mif_message_free(m);
            continue;
        }
        int64_t left = (deadline - now_ns()) / 1000000;
        if (left <= 0)
            die("no result for connection %llu", (unsigned long long)id);
        mif_check_message(ctx, (int)left);
    }
}

/* post -> Connected taken, in ns; the winner's PvD must be `want_pvd`. */
static int64_t mif_by_name(uint64_t id, uint16_t port, const char *want_pvd)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = NAME;
    req.remote_port = port;
    req.connection_id = id;
    int64_t t0 = now_ns();
    check_mif(mif_post_message(ctx, &req), "post connect_to_name");
    mif_message *m = wait_connection(id);
    int64_t t = now_ns() - t0;
    if (m->msg_type != MIF_MSG_CONNECTED)
        die("connect_to_name %s:%u: not connected: %s", NAME, port, m->text ? m->text : "?");
    if (strncmp(m->pvd_name, want_pvd, sizeof m->pvd_name) != 0)
        die("connect_to_name won through %.32s, %s expected", m->pvd_name, want_pvd);
    close(m->fd);
    mif_message_free(m);
    return t;
}

static uint64_t pvd_of(const char *ifname)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
    req.ifindex = (uint32_t)ifindex_of(ifname);
    check_mif(mif_post_message(ctx, &req), "announce_pvds");
    for (;;) {
        mif_message *m = NULL;
        if (mif_get_message(ctx, &m) != MIF_OK)
            die("no IPv4 PvD on %s", ifname);
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && m->family == MIF_FAMILY_IPV4) {
            uint64_t pvd = m->pvd;
            mif_message_free(m);
            return pvd;
        }
        mif_message_free(m);
    }
}

/* Translate svc.bench on a PvD -> its Done message, in ns (the cache is off). */
static int64_t mif_translate(uint64_t pvd, uint64_t id)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = pvd;
    req.translation_id = id;
    req.name = NAME;
    int64_t t0 = now_ns();
    check_mif(mif_post_message(ctx, &req), "translate");
    int64_t deadline = t0 + (int64_t)WAIT_MS * 1000000;
    for (;;) {
        mif_message *m = NULL;
        if (mif_get_message(ctx, &m) == MIF_OK) {
            int done = m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE && m->translation_id == id;
            uint32_t status = m->translation_status;
            mif_message_free(m);
            if (done) {
                if (status != MIF_TRANSLATION_DONE)
                    return -1;
                return now_ns() - t0;
            }
            continue;
        }
        if (now_ns() > deadline)
            die("translation %llu did not end", (unsigned long long)id);
        mif_check_message(ctx, 100);
    }
}

/* ---- peers ---- */

/* A plain nonblocking connect (pinned to `dev` when given), in ns, or -errno. */
static int64_t plain_connect(const char *dev, struct in_addr dst, uint16_t port)
{
    int64_t t0 = now_ns();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = dst };
    if (fd < 0 || (dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) != 0))
        die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            struct pollfd p = { fd, POLLOUT, 0 };
            if (poll(&p, 1, WAIT_MS) != 1) {
                err = ETIMEDOUT;
            } else {
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            }
        }
    }
    int64_t t = now_ns() - t0;
    close(fd);
    return err ? -(int64_t)err : t;
}

/* One A query for svc.bench over UDP to `server`; the answer's address. */
static struct in_addr dns_by_hand(struct in_addr server)
{
    unsigned char q[64], r[512];
    size_t n = 0;
    static uint16_t id = 1;
    id++;
    q[n++] = (unsigned char)(id >> 8), q[n++] = (unsigned char)id;
    q[n++] = 1, q[n++] = 0, q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 0, q[n++] = 0, q[n++] = 0, q[n++] = 0,
    q[n++] = 0;
    q[n++] = 3, memcpy(q + n, "svc", 3), n += 3;
    q[n++] = 5, memcpy(q + n, "bench", 5), n += 5;
    q[n++] = 0, q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = server };
    if (fd < 0 || sendto(fd, q, n, 0, (struct sockaddr *)&sa, sizeof sa) != (ssize_t)n)
        die("dns query: %s", strerror(errno));
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, WAIT_MS) != 1)
        die("no DNS answer from the server");
    ssize_t got = recv(fd, r, sizeof r, 0);
    close(fd);
    /* The answer's RDATA is its last 4 bytes (one A record, no additional section). */
    if (got < (ssize_t)n + 16 || r[0] != q[0] || r[1] != q[1] || (r[7] == 0))
        die("unexpected DNS answer (%zd bytes)", got);
    struct in_addr a;
    memcpy(&a, r + got - 4, 4);
    return a;
}

static int64_t naive_sequential(void)
{
    int64_t t0 = now_ns();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), syncnt = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT_HOLE), .sin_addr = ip4("198.18.0.80") };
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof syncnt) != 0)
        die("socket: %s", strerror(errno));
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == EINTR) {
    }
    close(fd);
    if (plain_connect(NULL, ip4("198.18.0.81"), PORT_HOLE) < 0)
        die("naive: 198.18.0.81 failed too");
    return now_ns() - t0;
}

static int64_t curl_he(void)
{
    CURL *c = curl_easy_init();
    struct curl_slist *resolve = curl_slist_append(NULL, NAME ":9003:198.18.0.80,198.18.0.81");
    if (!c || !resolve)
        die("curl_easy_init");
    curl_easy_setopt(c, CURLOPT_URL, "http://" NAME ":9003/");
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)WAIT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    int64_t t0 = now_ns();
    CURLcode rc = curl_easy_perform(c);
    int64_t t = now_ns() - t0;
    char *ip = NULL;
    curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip);
    if (rc != CURLE_OK || !ip || strcmp(ip, "198.18.0.81") != 0)
        die("curl: %s (connected to %s)", curl_easy_strerror(rc), ip ? ip : "nothing");
    curl_easy_cleanup(c);
    curl_slist_free_all(resolve);
    return t;
}

static int64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

int main(int argc, char **argv)
{
    int iters = 200, holes = 5;
    const struct bench_opt opts[] = {
        { 'A', OPT_TEXT, &ns_a }, { 'B', OPT_TEXT, &ns_b }, { 'I', OPT_INT, &iters }, { 'J', OPT_INT, &holes },
    };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (!ns_a || !ns_b || iters < 1 || holes < 1)
        usage();
    bench_begin("connect_name");
    make_temp_dir(root, cleanup);
    char path[256], nspath[256];
    snprintf(path, sizeof path, "%s/etc", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/etc/mif.conf", root);
    FILE *f = fopen(path, "w");
    if (!f || fputs("[mif0]\ndns = 198.51.100.1\n[mif1]\ndns = 203.0.113.1\n", f) < 0 || fclose(f) != 0)
        die("cannot write %s", path);
    dns_a = start_dnsmasq(ns_a, "198.51.100.1", "198.18.0.80");
    dns_b = start_dnsmasq(ns_b, "203.0.113.1", "198.18.0.81");
    struct listen_arg la = { "198.18.0.80", listeners }, lb = { "198.18.0.81", listeners + 2 };
    snprintf(nspath, sizeof nspath, "/run/netns/%s", ns_a);
    in_netns(nspath, open_listeners, &la);
    snprintf(nspath, sizeof nspath, "/run/netns/%s", ns_b);
    in_netns(nspath, open_listeners, &lb);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    mif_options o;
    mif_options_init(&o);
    o.root_dir = root;
    o.flags = MIF_OPTION_NO_DNS_CACHE;
    check_mif(mif_open(&o, &ctx), "mif_open");
    uint64_t pvd_b = pvd_of("mif1"), id = 1;
    /* dnsmasq is up once a translation through it answers. */
    for (int i = 0; mif_translate(pvd_b, id++) < 0; i++) {
        if (i > 100)
            die("dnsmasq in %s does not answer", ns_b);
        sleep_ms(50);
    }
    printf("connect_name: 2 networks (A: mif0, the default route; B: mif1), dnsmasq in each, %d + %d iterations\n",
           iters, holes);

    /* (a) nothing blackholed: through network A. */
    int64_t *lib_a = alloc_i64((size_t)iters), *hand_a = alloc_i64((size_t)iters);
    int64_t lib_cpu = 0, hand_cpu = 0;
    for (int i = 0; i < iters; i++) {
        int64_t c0 = cpu_ns();
        lib_a[i] = mif_by_name(id++, PORT_OPEN, "mif0/ipv4");
        int64_t c1 = cpu_ns();
        int64_t t0 = now_ns();
        struct in_addr a = dns_by_hand(ip4("198.51.100.1"));
        int64_t tc = plain_connect(NULL, a, PORT_OPEN);
        hand_a[i] = now_ns() - t0;
        if (tc < 0)
            die("by hand: connect failed: %s", strerror((int)-tc));
        hand_cpu += cpu_ns() - c1;
        lib_cpu += c1 - c0;
        drain_accepts();
    }
    struct stats sa = stats_of(lib_a, (size_t)iters), sh = stats_of(hand_a, (size_t)iters);
    printf("(a) nothing blackholed, port %d (libmif through network A):\n", PORT_OPEN);
    print_stats_us("libmif connect_to_name", sa);
    print_stats_us("by hand (A query+connect)", sh);
    print_ratio("connect_to_name / by hand", sa, sh, "libmif - by hand");
    printf("  CPU per connect: libmif %.1f us (process, engine included), by hand %.1f us\n",
           (double)lib_cpu / iters / 1e3, (double)hand_cpu / iters / 1e3);

    /* (b) network A blackholed. */
    nft_in_netns(ns_a, "table inet bench_hole {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
                 "  tcp dport 9003 drop\n }\n}\n");
    int64_t *lib_b = alloc_i64((size_t)holes), *curl_b = alloc_i64((size_t)holes), *naive_b = alloc_i64((size_t)holes);
    int64_t *res_b = alloc_i64((size_t)holes * 5), *rtt_b = alloc_i64((size_t)holes * 5);
    for (int i = 0; i < holes; i++) {
        lib_b[i] = mif_by_name(id++, PORT_HOLE, "mif1/ipv4");
        for (int k = 0; k < 5; k++) {
            res_b[i * 5 + k] = mif_translate(pvd_b, id++);
            rtt_b[i * 5 + k] = plain_connect("mif1", ip4("198.18.0.81"), PORT_HOLE);
            if (res_b[i * 5 + k] < 0 || rtt_b[i * 5 + k] < 0)
                die("the ideal's parts failed");
        }
        curl_b[i] = curl_he();
        naive_b[i] = naive_sequential();
        drain_accepts();
    }
    struct stats sl = stats_of(lib_b, (size_t)holes), sc = stats_of(curl_b, (size_t)holes),
                 sn = stats_of(naive_b, (size_t)holes), sr = stats_of(res_b, (size_t)holes * 5),
                 st = stats_of(rtt_b, (size_t)holes * 5);
    int64_t ideal_ns = (int64_t)NETWORK_DELAY_MS * 1000000 + (int64_t)sr.median + (int64_t)st.median;
    struct stats si = stats_of(&ideal_ns, 1);
    printf("(b) network A blackholed (TCP %d dropped), port %d:\n", PORT_HOLE, PORT_HOLE);
    print_stats_us("libmif connect_to_name", sl);
    print_stats_us("  B's translation (part)", sr);
    print_stats_us("  B's plain connect (part)", st);
    print_stats_us("ideal (300 ms + parts)", si);
    print_stats_us("libcurl happy eyeballs", sc);
    print_stats_us("naive sequential", sn);
    print_ratio("connect_to_name / ideal", sl, si, "libmif - ideal");
    print_ratio("connect_to_name / libcurl", sl, sc, NULL);
    print_ratio("connect_to_name / naive", sl, sn, NULL);
    printf("SUMMARY connect_name: blackholed first network %.1f ms (ideal %.1f, +%.2f ms; libcurl %.0f ms, naive "
           "%.0f ms); open: %.2fx by hand, CPU %.0f us/connect\n",
           sl.median / 1e6, si.median / 1e6, (sl.median - si.median) / 1e6, sc.median / 1e6, sn.median / 1e6,
           ratio(sa.median, sh.median), (double)lib_cpu / iters / 1e3);
    mif_close(ctx);
    curl_global_cleanup();
    return 0;
}
